//! The `audit_events` table.

use super::sqlite::from_sqlite_row;
use super::{Store, StoreError, args};
use crate::audit::AuditEntry;
use crate::clock::UnixTime;

/// A stored audit event.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRecord {
    /// When it happened.
    pub occurred_at: UnixTime,
    /// The event name, such as `signin_failed`.
    pub event: String,
    /// The member concerned, if any.
    pub member_id: Option<i64>,
    /// The member's username when the event happened, if any.
    pub username: Option<String>,
    /// The application concerned, if any.
    pub client_id: Option<String>,
    /// The session concerned, if any.
    pub grant_id: Option<String>,
    /// The client address, if the event came from a request.
    pub address: Option<String>,
    /// A short reason, if any.
    pub detail: Option<String>,
}

/// A filter on audit events.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditFilter {
    /// Only events of this member.
    pub member_id: Option<i64>,
    /// Only events at or after this time.
    pub since: Option<UnixTime>,
}

from_sqlite_row!(AuditRecord {
    occurred_at,
    event,
    member_id,
    username,
    client_id,
    grant_id,
    address,
    detail,
});

impl Store {
    /// Stores an audit event that happened at `now`.
    pub async fn insert_audit_event(
        &self,
        entry: &AuditEntry<'_>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let address = entry.address.map(|address| address.to_string());
        self.execute(
            "INSERT INTO audit_events (occurred_at, event, member_id, username, client_id, \
             grant_id, address, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                now,
                entry.event.as_str(),
                entry.member_id,
                entry.username,
                entry.client_id,
                entry.grant_id,
                address.as_deref(),
                entry.detail,
            ],
        )
        .await?;
        Ok(())
    }

    /// Lists the audit events that match `filter`, oldest first.
    pub async fn list_audit_events(
        &self,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.fetch_all(
            "SELECT occurred_at, event, member_id, username, client_id, grant_id, address, \
             detail FROM audit_events \
             WHERE ($1 IS NULL OR member_id = $1) AND ($2 IS NULL OR occurred_at >= $2) \
             ORDER BY occurred_at, id",
            args![filter.member_id, filter.since],
        )
        .await
    }
}
