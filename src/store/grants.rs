//! The `grants`, `codes` and `tokens` tables. A grant is one session; its
//! code and tokens point to it, so that revoking the grant ends them all.

use super::{Store, StoreError, on_pool};
use crate::clock::UnixTime;
use crate::tokens::TokenDigest;

/// Inserts the access token of `$tokens`, and its refresh token if any,
/// in one statement through `$executor`, returning early on error.
macro_rules! insert_tokens {
    ($executor:expr, $tokens:expr, $grant_id:expr) => {
        match $tokens.refresh {
            Some((refresh, refresh_expires_at)) => sqlx::query(
                "INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
                 VALUES ($1, $2, 'access', $3, $4), ($5, $2, 'refresh', $3, $6)",
            )
            .bind(&$tokens.access.0)
            .bind($grant_id)
            .bind($tokens.now)
            .bind($tokens.access_expires_at)
            .bind(&refresh.0)
            .bind(refresh_expires_at),
            None => sqlx::query(
                "INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
                 VALUES ($1, $2, 'access', $3, $4)",
            )
            .bind(&$tokens.access.0)
            .bind($grant_id)
            .bind($tokens.now)
            .bind($tokens.access_expires_at),
        }
        .execute($executor)
        .await?
    };
}

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

impl Store {
    /// Stores a new authorization code.
    pub async fn insert_code(&self, code: &NewCode<'_>) -> Result<(), StoreError> {
        on_pool!(self, writer, |pool| {
            sqlx::query(
                "INSERT INTO codes (digest, member_id, client_id, device_id, access_type, \
                 redirect_uri, code_challenge, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&code.digest.0)
            .bind(code.member_id)
            .bind(code.client_id)
            .bind(code.device_id)
            .bind(code.access_type)
            .bind(code.redirect_uri)
            .bind(code.code_challenge)
            .bind(code.now)
            .bind(code.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Finds an authorization code by digest.
    pub async fn find_code(&self, digest: &TokenDigest) -> Result<Option<CodeRecord>, StoreError> {
        let code = on_pool!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT member_id, client_id, device_id, access_type, redirect_uri, \
                 code_challenge, expires_at, used_at, grant_id FROM codes WHERE digest = $1",
            )
            .bind(&digest.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(code)
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
        let redeemed = on_pool!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO grants (id, member_id, client_id, device_id, access_type, \
                 created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
            )
            .bind(grant.id)
            .bind(grant.member_id)
            .bind(grant.client_id)
            .bind(grant.device_id)
            .bind(grant.access_type)
            .bind(tokens.now)
            .bind(tokens.latest_expiry())
            .execute(&mut *tx)
            .await?;
            let spent = sqlx::query(
                "UPDATE codes SET used_at = $1, grant_id = $2 WHERE digest = $3 AND used_at IS NULL",
            )
            .bind(tokens.now)
            .bind(grant.id)
            .bind(&code.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if spent == 1 {
                insert_tokens!(&mut *tx, tokens, grant.id);
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(redeemed)
    }

    /// Finds a refresh token by digest, with its session and member.
    pub async fn find_refresh(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let record = on_pool!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT g.id AS grant_id, g.member_id, g.client_id, g.device_id, t.expires_at, \
                 t.replaced_at, g.revoked_at, m.disabled \
                 FROM tokens t JOIN grants g ON g.id = t.grant_id \
                 JOIN members m ON m.id = g.member_id \
                 WHERE t.digest = $1 AND t.kind = 'refresh'",
            )
            .bind(&digest.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(record)
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
        let rotation = on_pool!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let live = sqlx::query(
                "UPDATE grants SET last_used_at = $1, \
                 expires_at = CASE WHEN expires_at > $2 THEN expires_at ELSE $2 END \
                 WHERE id = $3 AND revoked_at IS NULL",
            )
            .bind(tokens.now)
            .bind(tokens.latest_expiry())
            .bind(grant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let replaced = if live == 1 {
                sqlx::query(
                    "UPDATE tokens SET replaced_at = COALESCE(replaced_at, $1) \
                     WHERE digest = $2 AND (replaced_at IS NULL OR replaced_at >= $3)",
                )
                .bind(tokens.now)
                .bind(&old.0)
                .bind(replaced_since)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                0
            };
            if live == 1 && replaced == 1 {
                insert_tokens!(&mut *tx, tokens, grant_id);
                tx.commit().await?;
                Rotation::Rotated
            } else {
                tx.rollback().await?;
                if live == 1 { Rotation::Reused } else { Rotation::SessionEnded }
            }
        });
        Ok(rotation)
    }

    /// Finds an access token by digest, with its session and member.
    pub async fn find_access(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AccessRecord>, StoreError> {
        let record = on_pool!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT g.id AS grant_id, g.member_id, g.client_id, g.access_type, t.expires_at, \
                 g.revoked_at, m.disabled \
                 FROM tokens t JOIN grants g ON g.id = t.grant_id \
                 JOIN members m ON m.id = g.member_id \
                 WHERE t.digest = $1 AND t.kind = 'access'",
            )
            .bind(&digest.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(record)
    }

    /// Ends a session: every access and refresh token of the grant stops
    /// working. Returns `false` when it was already ended or does not exist.
    pub async fn revoke_grant(&self, grant_id: &str, now: UnixTime) -> Result<bool, StoreError> {
        let revoked = on_pool!(self, writer, |pool| {
            sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(grant_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(revoked > 0)
    }
}
