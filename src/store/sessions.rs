//! Sessions as members and clients see them: listing and ending a member's
//! grants, and finding the grant of a token for revocation.

use super::sqlite::from_sqlite_row;
use super::{Store, StoreError, args};
use crate::clock::UnixTime;
use crate::tokens::TokenDigest;

/// A live session of a member.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRecord {
    /// The grant id.
    pub id: String,
    /// The application.
    pub client_id: String,
    /// The application's name.
    pub client_name: String,
    /// The device, if the application named one.
    pub device_id: Option<String>,
    /// `online` or `offline`.
    pub access_type: String,
    /// When the code was exchanged.
    pub created_at: UnixTime,
    /// When the session last received tokens: the code exchange or the
    /// latest refresh. Calls that only present an access token do not
    /// change it, so that reading an API costs no write.
    pub last_used_at: UnixTime,
}

/// The session an access or refresh token belongs to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenOwner {
    /// `access` or `refresh`.
    pub kind: String,
    /// The session.
    pub grant_id: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The member.
    pub member_id: i64,
    /// The member's username.
    pub username: String,
}

from_sqlite_row!(SessionRecord {
    id,
    client_id,
    client_name,
    device_id,
    access_type,
    created_at,
    last_used_at,
});
from_sqlite_row!(TokenOwner { kind, grant_id, client_id, member_id, username });

impl Store {
    /// Lists the member's sessions that have neither ended nor expired at
    /// `now`, newest first.
    pub async fn list_sessions(
        &self,
        member_id: i64,
        now: UnixTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.fetch_all(
            "SELECT g.id, g.client_id, c.name AS client_name, g.device_id, g.access_type, \
             g.created_at, g.last_used_at \
             FROM grants g JOIN clients c ON c.id = g.client_id \
             WHERE g.member_id = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 \
             ORDER BY g.created_at DESC, g.id",
            args![member_id, now],
        )
        .await
    }

    /// Ends the member's live session `grant_id`. Returns `false` when the
    /// member has no such live session: unknown, another member's, ended or
    /// expired.
    pub async fn end_member_session(
        &self,
        member_id: i64,
        grant_id: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let ended = self
            .execute(
                "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND member_id = $3 \
                 AND revoked_at IS NULL AND expires_at > $1",
                args![now, grant_id, member_id],
            )
            .await?;
        Ok(ended > 0)
    }

    /// Finds the session of an access or refresh token, live or not.
    pub async fn find_token_owner(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<TokenOwner>, StoreError> {
        self.fetch_optional(
            "SELECT t.kind, g.id AS grant_id, g.client_id, g.member_id, m.username \
             FROM tokens t JOIN grants g ON g.id = t.grant_id \
             JOIN members m ON m.id = g.member_id WHERE t.digest = $1",
            args![digest],
        )
        .await
    }
}
