//! The `grants`, `codes` and `tokens` tables. A grant is one session; its
//! code and tokens point to it, so that revoking the grant ends them all.

use super::sqlite::from_sqlite_row;
use super::{Outcome, Step, Store, StoreError, args};
use crate::clock::UnixTime;
use crate::tokens::TokenDigest;

/// Stores the access token of a pair without a refresh token.
const INSERT_ACCESS: &str = "INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
     VALUES ($1, $2, 'access', $3, $4)";

/// Stores an access and a refresh token in one statement.
const INSERT_PAIR: &str = "INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
     VALUES ($1, $2, 'access', $3, $4), ($5, $2, 'refresh', $3, $6)";

/// An authorization code to store.
#[derive(Debug)]
pub struct NewCode<'a> {
    /// Digest of the code.
    pub digest: &'a TokenDigest,
    /// The member who signed in.
    pub member_id: i64,
    /// The client the code is issued to.
    pub client_id: &'a str,
    /// The device the code was requested for, if any.
    pub device_id: Option<&'a str>,
    /// `online` or `offline`.
    pub access_type: &'a str,
    /// The redirect URI of the browser flow, which the exchange must repeat.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE S256 challenge, if the client sent one.
    pub code_challenge: Option<&'a str>,
    /// Issue time.
    pub now: UnixTime,
    /// Expiry time.
    pub expires_at: UnixTime,
}

/// A stored authorization code.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CodeRecord {
    /// The member who signed in.
    pub member_id: i64,
    /// The client the code was issued to.
    pub client_id: String,
    /// The device the code was requested for, if any.
    pub device_id: Option<String>,
    /// `online` or `offline`.
    pub access_type: String,
    /// The redirect URI of the browser flow, if any.
    pub redirect_uri: Option<String>,
    /// The PKCE S256 challenge, if any.
    pub code_challenge: Option<String>,
    /// Expiry time.
    pub expires_at: UnixTime,
    /// When the code was redeemed, if it was.
    pub used_at: Option<UnixTime>,
    /// The grant the code was redeemed for, if it was.
    pub grant_id: Option<String>,
}

/// A new session, created when a code is redeemed.
#[derive(Debug)]
pub struct NewGrant<'a> {
    /// Session id.
    pub id: &'a str,
    /// The member.
    pub member_id: i64,
    /// The client.
    pub client_id: &'a str,
    /// The device, if any.
    pub device_id: Option<&'a str>,
    /// `online` or `offline`.
    pub access_type: &'a str,
}

/// Digests and expiry times of a token pair to store.
#[derive(Debug)]
pub struct IssuedTokens<'a> {
    /// Digest of the access token.
    pub access: &'a TokenDigest,
    /// Expiry of the access token.
    pub access_expires_at: UnixTime,
    /// Digest and expiry of the refresh token, for `offline` grants.
    pub refresh: Option<(&'a TokenDigest, UnixTime)>,
    /// Issue time.
    pub now: UnixTime,
}

impl IssuedTokens<'_> {
    /// Returns the statement that stores the pair in session `grant_id`.
    fn insert<'s>(&'s self, grant_id: &'s str) -> Step<'s> {
        match self.refresh {
            Some((refresh, refresh_expires_at)) => Step::new(
                INSERT_PAIR,
                args![
                    self.access,
                    grant_id,
                    self.now,
                    self.access_expires_at,
                    refresh,
                    refresh_expires_at
                ],
            ),
            None => Step::new(
                INSERT_ACCESS,
                args![self.access, grant_id, self.now, self.access_expires_at],
            ),
        }
    }

    fn latest_expiry(&self) -> UnixTime {
        self.refresh.map_or(self.access_expires_at, |(_, expires_at)| {
            expires_at.max(self.access_expires_at)
        })
    }
}

/// The grant behind an access token, for `tokeninfo` and the API.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccessRecord {
    /// The session the token belongs to.
    pub grant_id: String,
    /// The member.
    pub member_id: i64,
    /// The client the token was issued to.
    pub client_id: String,
    /// `online` or `offline`.
    pub access_type: String,
    /// Expiry time.
    pub expires_at: UnixTime,
    /// When the session was ended, if it was.
    pub revoked_at: Option<UnixTime>,
    /// Whether the member is disabled.
    pub disabled: bool,
}

/// A stored refresh token with its session.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RefreshRecord {
    /// The session.
    pub grant_id: String,
    /// The member.
    pub member_id: i64,
    /// The client the token was issued to.
    pub client_id: String,
    /// The device the session is bound to, if any.
    pub device_id: Option<String>,
    /// Expiry time.
    pub expires_at: UnixTime,
    /// When a newer refresh token replaced this one, if one did.
    pub replaced_at: Option<UnixTime>,
    /// When the session was ended, if it was.
    pub revoked_at: Option<UnixTime>,
    /// Whether the member is disabled.
    pub disabled: bool,
}

/// The outcome of [`Store::rotate_refresh`].
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The new pair is stored.
    Rotated,
    /// The presented token was replaced before the grace window; nothing
    /// was stored.
    Reused,
    /// The session ended meanwhile; nothing was stored.
    SessionEnded,
}

from_sqlite_row!(CodeRecord {
    member_id,
    client_id,
    device_id,
    access_type,
    redirect_uri,
    code_challenge,
    expires_at,
    used_at,
    grant_id,
});
from_sqlite_row!(AccessRecord {
    grant_id,
    member_id,
    client_id,
    access_type,
    expires_at,
    revoked_at,
    disabled,
});
from_sqlite_row!(RefreshRecord {
    grant_id,
    member_id,
    client_id,
    device_id,
    expires_at,
    replaced_at,
    revoked_at,
    disabled,
});

impl Store {
    /// Stores a new authorization code.
    pub async fn insert_code(&self, code: &NewCode<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO codes (digest, member_id, client_id, device_id, access_type, \
             redirect_uri, code_challenge, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            args![
                code.digest,
                code.member_id,
                code.client_id,
                code.device_id,
                code.access_type,
                code.redirect_uri,
                code.code_challenge,
                code.now,
                code.expires_at,
            ],
        )
        .await?;
        Ok(())
    }

    /// Finds an authorization code by digest.
    pub async fn find_code(&self, digest: &TokenDigest) -> Result<Option<CodeRecord>, StoreError> {
        self.fetch_optional(
            "SELECT member_id, client_id, device_id, access_type, redirect_uri, \
             code_challenge, expires_at, used_at, grant_id FROM codes WHERE digest = $1",
            args![digest],
        )
        .await
    }

    /// Spends a code and opens its session with a first token pair, in one
    /// transaction. The code is spent by a conditional update, so of any
    /// number of concurrent calls, on any number of servers, exactly one
    /// returns `true`. The others store nothing and return `false`.
    pub async fn redeem_code(
        &self,
        code: &TokenDigest,
        grant: &NewGrant<'_>,
        tokens: &IssuedTokens<'_>,
    ) -> Result<bool, StoreError> {
        let steps = vec![
            Step::new(
                "INSERT INTO grants (id, member_id, client_id, device_id, access_type, \
                 created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
                args![
                    grant.id,
                    grant.member_id,
                    grant.client_id,
                    grant.device_id,
                    grant.access_type,
                    tokens.now,
                    tokens.latest_expiry(),
                ],
            ),
            Step::required(
                "UPDATE codes SET used_at = $1, grant_id = $2 \
                 WHERE digest = $3 AND used_at IS NULL",
                args![tokens.now, grant.id, code],
            ),
            tokens.insert(grant.id),
        ];
        Ok(self.transaction(steps).await? == Outcome::Committed)
    }

    /// Finds a refresh token by digest, with its session and member.
    pub async fn find_refresh(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        self.fetch_optional(
            "SELECT g.id AS grant_id, g.member_id, g.client_id, g.device_id, t.expires_at, \
             t.replaced_at, g.revoked_at, m.disabled \
             FROM tokens t JOIN grants g ON g.id = t.grant_id \
             JOIN members m ON m.id = g.member_id \
             WHERE t.digest = $1 AND t.kind = 'refresh'",
            args![digest],
        )
        .await
    }

    /// Replaces refresh token `old` with a new pair, in one transaction. The
    /// old token may already have been replaced at or after `replaced_since`
    /// (the start of the grace window). If it was replaced earlier, or the
    /// session has ended, nothing is stored.
    pub async fn rotate_refresh(
        &self,
        old: &TokenDigest,
        grant_id: &str,
        replaced_since: Option<UnixTime>,
        tokens: &IssuedTokens<'_>,
    ) -> Result<Rotation, StoreError> {
        // Without a grace window no earlier replacement is acceptable.
        let replaced_since = replaced_since.unwrap_or(UnixTime::MAX);
        let steps = vec![
            Step::required(
                "UPDATE grants SET last_used_at = $1, \
                 expires_at = CASE WHEN expires_at > $2 THEN expires_at ELSE $2 END \
                 WHERE id = $3 AND revoked_at IS NULL",
                args![tokens.now, tokens.latest_expiry(), grant_id],
            ),
            Step::required(
                "UPDATE tokens SET replaced_at = COALESCE(replaced_at, $1) \
                 WHERE digest = $2 AND (replaced_at IS NULL OR replaced_at >= $3)",
                args![tokens.now, old, replaced_since],
            ),
            tokens.insert(grant_id),
        ];
        Ok(match self.transaction(steps).await? {
            Outcome::Committed => Rotation::Rotated,
            Outcome::Stopped(0) => Rotation::SessionEnded,
            Outcome::Stopped(_) => Rotation::Reused,
        })
    }

    /// Finds an access token by digest, with its session and member.
    pub async fn find_access(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AccessRecord>, StoreError> {
        self.fetch_optional(
            "SELECT g.id AS grant_id, g.member_id, g.client_id, g.access_type, t.expires_at, \
             g.revoked_at, m.disabled \
             FROM tokens t JOIN grants g ON g.id = t.grant_id \
             JOIN members m ON m.id = g.member_id \
             WHERE t.digest = $1 AND t.kind = 'access'",
            args![digest],
        )
        .await
    }

    /// Ends a session: every access and refresh token of the grant stops
    /// working. Returns `false` when it was already ended or does not exist.
    pub async fn revoke_grant(&self, grant_id: &str, now: UnixTime) -> Result<bool, StoreError> {
        let revoked = self
            .execute(
                "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                args![now, grant_id],
            )
            .await?;
        Ok(revoked > 0)
    }
}
