//! Deleting what can no longer be used, so that tables stay bounded.

use super::{Store, StoreError, args};
use crate::clock::UnixTime;

/// How many rows one cleanup deleted, by table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Expired codes never exchanged. Exchanged codes stay with their
    /// session, to detect their reuse, and go when it goes.
    pub codes: u64,
    /// Expired access and refresh tokens of live sessions.
    pub tokens: u64,
    /// Ended or expired sessions, with their codes and tokens.
    pub sessions: u64,
    /// Audit events older than the retention.
    pub audit_events: u64,
    /// Failed sign-ins of unknown usernames, unpaused and older than the
    /// retention.
    pub unknown_signins: u64,
}

impl Store {
    /// Deletes what has expired or ended at `now`, and the audit events and
    /// unknown sign-ins from before `retained_since`. Each table is one
    /// statement, so another server may run the same cleanup at once.
    pub async fn delete_expired(
        &self,
        now: UnixTime,
        retained_since: UnixTime,
    ) -> Result<Removed, StoreError> {
        // Sessions go first, so that the counts of codes and tokens are
        // those of live sessions.
        let statements: [(&'static str, UnixTime); 5] = [
            ("DELETE FROM grants WHERE expires_at <= $1 OR revoked_at IS NOT NULL", now),
            ("DELETE FROM codes WHERE expires_at <= $1 AND used_at IS NULL", now),
            ("DELETE FROM tokens WHERE expires_at <= $1", now),
            ("DELETE FROM audit_events WHERE occurred_at < $1", retained_since),
            (
                "DELETE FROM unknown_signins WHERE last_failed_at < $1 \
                 AND (locked_until IS NULL OR locked_until < $1)",
                retained_since,
            ),
        ];
        let mut counts = [0u64; 5];
        for (count, (sql, time)) in counts.iter_mut().zip(statements) {
            *count = self.execute(sql, args![time]).await?;
        }
        let [sessions, codes, tokens, audit_events, unknown_signins] = counts;
        Ok(Removed { codes, tokens, sessions, audit_events, unknown_signins })
    }
}
