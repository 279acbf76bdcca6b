//! `POST /oauth2/token`: exchanging a code, and rotating refresh tokens.
//!
//! A code works once, and presenting it again revokes the session it
//! opened. A refresh token is replaced at each use. The replaced one keeps
//! working for the grace window, so that parallel requests and retries
//! after a lost response do not sign the member out. After that window its
//! use counts as theft and revokes the session.

use std::net::IpAddr;

use serde::Serialize;
use utoipa::ToSchema;

use super::authorize::{device_id_for, find_client};
use super::{AccessType, OauthError, pkce, required};
use crate::audit::{AuditEntry, Event};
use crate::clock::UnixTime;
use crate::state::AppState;
use crate::store::{IssuedTokens, NewGrant, Rotation};
use crate::tokens::{self, Secret, TokenKind};

/// The parameters of a token request, as received.
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The code, for `authorization_code`.
    pub code: Option<Secret>,
    /// The refresh token, for `refresh_token`.
    pub refresh_token: Option<Secret>,
    /// The application.
    pub client_id: Option<String>,
    /// The device the grant is bound to.
    pub device_id: Option<String>,
    /// The PKCE verifier, when the code was issued with a challenge.
    pub code_verifier: Option<String>,
    /// The browser flow's redirect URI, repeated.
    pub redirect_uri: Option<String>,
    /// The address of the client that sent the request, for the audit
    /// trail.
    pub address: Option<IpAddr>,
}

/// A successful token response (RFC 6749 section 5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The new access token.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Always empty: scopes are not supported.
    #[schema(example = "")]
    pub scope: &'static str,
    /// A new refresh token, for `offline` grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Handles a token request of either grant type.
pub async fn token(
    state: &AppState,
    request: &TokenRequest,
    now: UnixTime,
) -> Result<TokenResponse, OauthError> {
    match required(request.grant_type.as_deref(), "grant_type")? {
        "authorization_code" => exchange_code(state, request, now).await,
        "refresh_token" => refresh(state, request, now).await,
        _ => Err(OauthError::UnsupportedGrantType),
    }
}

async fn exchange_code(
    state: &AppState,
    request: &TokenRequest,
    now: UnixTime,
) -> Result<TokenResponse, OauthError> {
    let code = request.code.as_ref().ok_or_else(|| super::missing("code"))?;
    let client = find_client(state, required(request.client_id.as_deref(), "client_id")?).await?;
    let device_id = device_id_for(&client, request.device_id.as_deref())?;
    if let Some(verifier) = &request.code_verifier {
        pkce::check_verifier(verifier)?;
    }

    let digest = code.digest();
    let Some(record) = state.store.find_code(&digest).await? else {
        return Err(OauthError::invalid_grant("unknown code"));
    };
    if record.used_at.is_some() {
        let reuse = Reuse { event: Event::CodeReused, member_id: record.member_id, request };
        return Err(reuse.revoke(state, record.grant_id.as_deref(), now).await);
    }
    if record.expires_at <= now {
        return Err(OauthError::invalid_grant("code expired"));
    }
    if record.client_id != client.id {
        return Err(OauthError::invalid_grant("code issued to another client"));
    }
    if record.device_id.as_deref() != device_id {
        return Err(OauthError::invalid_grant("code bound to another device"));
    }
    if record.redirect_uri.is_some() && record.redirect_uri != request.redirect_uri {
        return Err(OauthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&record.code_challenge, &request.code_verifier) {
        (None, None) => {}
        (Some(challenge), Some(verifier)) if pkce::verify(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(OauthError::invalid_grant("wrong code_verifier")),
        (Some(_), None) => return Err(OauthError::invalid_grant("missing code_verifier")),
        // A verifier for a code issued without a challenge is a downgrade
        // attempt (RFC 9700 section 2.1.1).
        (None, Some(_)) => {
            return Err(OauthError::invalid_grant("code_verifier without challenge"));
        }
    }

    let access_type = AccessType::parse(Some(&record.access_type))?;
    let grant_id = tokens::random_id();
    let pair = TokenPair::generate(state, access_type, now);
    let grant = NewGrant {
        id: &grant_id,
        member_id: record.member_id,
        client_id: &client.id,
        device_id,
        access_type: access_type.as_str(),
    };
    if !state.store.redeem_code(&digest, &grant, &pair.issued()).await? {
        // Another request spent the code between the lookup and now.
        let grant_id = state.store.find_code(&digest).await?.and_then(|code| code.grant_id);
        let reuse = Reuse { event: Event::CodeReused, member_id: record.member_id, request };
        return Err(reuse.revoke(state, grant_id.as_deref(), now).await);
    }
    tracing::info!(grant_id, client_id = %client.id, "code exchanged");
    Ok(pair.response(state))
}

/// A spent code or a replaced refresh token presented again, which ends
/// the session it belongs to.
struct Reuse<'a> {
    event: Event,
    member_id: i64,
    request: &'a TokenRequest,
}

impl Reuse<'_> {
    /// Revokes the session, records the event, and returns the error for
    /// the request.
    async fn revoke(&self, state: &AppState, grant_id: Option<&str>, now: UnixTime) -> OauthError {
        if let Some(grant_id) = grant_id {
            match state.store.revoke_grant(grant_id, now).await {
                Ok(revoked) => count_revocation(state, revoked, self.event.as_str()),
                Err(error) => return error.into(),
            }
        }
        let mut entry = AuditEntry::new(self.event)
            .member_id(self.member_id)
            .address(self.request.address)
            .detail("session revoked");
        if let Some(client_id) = &self.request.client_id {
            entry = entry.client(client_id);
        }
        if let Some(grant_id) = grant_id {
            entry = entry.grant(grant_id);
        }
        entry.record(&state.store, now).await;
        OauthError::InvalidGrant
    }
}

async fn refresh(
    state: &AppState,
    request: &TokenRequest,
    now: UnixTime,
) -> Result<TokenResponse, OauthError> {
    let presented =
        request.refresh_token.as_ref().ok_or_else(|| super::missing("refresh_token"))?;
    let client = find_client(state, required(request.client_id.as_deref(), "client_id")?).await?;
    let device_id = device_id_for(&client, request.device_id.as_deref())?;

    let digest = presented.digest();
    let Some(record) = state.store.find_refresh(&digest).await? else {
        return Err(OauthError::invalid_grant("unknown refresh token"));
    };
    if record.client_id != client.id {
        return Err(OauthError::invalid_grant("refresh token issued to another client"));
    }
    if record.device_id.as_deref() != device_id {
        return Err(OauthError::invalid_grant("refresh token bound to another device"));
    }
    if record.revoked_at.is_some() {
        return Err(OauthError::invalid_grant("session revoked"));
    }
    if record.disabled {
        return Err(OauthError::invalid_grant("member disabled"));
    }
    if record.expires_at <= now {
        return Err(OauthError::invalid_grant("refresh token expired"));
    }

    let grace = state.config.refresh_grace.as_secs() as i64;
    let window_start = (grace > 0).then_some(now - grace);
    let outside_window = |replaced_at| window_start.is_none_or(|start| replaced_at < start);
    if record.replaced_at.is_some_and(outside_window) {
        let reuse = Reuse { event: Event::RefreshReused, member_id: record.member_id, request };
        return Err(reuse.revoke(state, Some(&record.grant_id), now).await);
    }

    let pair = TokenPair::generate(state, AccessType::Offline, now);
    match state
        .store
        .rotate_refresh(&digest, &record.grant_id, window_start, &pair.issued())
        .await?
    {
        Rotation::Rotated => Ok(pair.response(state)),
        Rotation::Reused => {
            let reuse = Reuse { event: Event::RefreshReused, member_id: record.member_id, request };
            Err(reuse.revoke(state, Some(&record.grant_id), now).await)
        }
        Rotation::SessionEnded => Err(OauthError::invalid_grant("session revoked")),
    }
}

/// Counts a revocation that ended a session still live until now.
fn count_revocation(state: &AppState, revoked: bool, reason: &'static str) {
    if revoked {
        state.metrics.session_revoked(reason);
    }
}

/// A new access token, and a refresh token for `offline` grants.
struct TokenPair {
    access: Secret,
    access_expires_at: UnixTime,
    refresh: Option<(Secret, UnixTime)>,
    now: UnixTime,
    access_digest: tokens::TokenDigest,
    refresh_digest: Option<tokens::TokenDigest>,
}

impl TokenPair {
    fn generate(state: &AppState, access_type: AccessType, now: UnixTime) -> Self {
        let access = tokens::generate(TokenKind::Access);
        let refresh = (access_type == AccessType::Offline).then(|| {
            let ttl = state.config.refresh_token_ttl.as_secs() as i64;
            (tokens::generate(TokenKind::Refresh), now + ttl)
        });
        Self {
            access_digest: access.digest(),
            refresh_digest: refresh.as_ref().map(|(token, _)| token.digest()),
            access,
            access_expires_at: now + state.config.access_token_ttl.as_secs() as i64,
            refresh,
            now,
        }
    }

    fn issued(&self) -> IssuedTokens<'_> {
        IssuedTokens {
            access: &self.access_digest,
            access_expires_at: self.access_expires_at,
            refresh: self
                .refresh_digest
                .as_ref()
                .zip(self.refresh.as_ref().map(|(_, expires_at)| *expires_at)),
            now: self.now,
        }
    }

    fn response(self, state: &AppState) -> TokenResponse {
        state.metrics.token_issued("access");
        if self.refresh.is_some() {
            state.metrics.token_issued("refresh");
        }
        TokenResponse {
            access_token: self.access.expose().to_owned(),
            token_type: "Bearer",
            expires_in: state.config.access_token_ttl.as_secs(),
            scope: "",
            refresh_token: self.refresh.map(|(token, _)| token.expose().to_owned()),
        }
    }
}
