//! The grant behind a live access token: `GET /oauth2/tokeninfo`, and the
//! bearer check of the member API.

use serde::Serialize;
use utoipa::ToSchema;

use super::OauthError;
use crate::clock::UnixTime;
use crate::state::AppState;
use crate::store::AccessRecord;
use crate::tokens::Secret;

/// The `tokeninfo` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    /// The client the token was issued to.
    pub issued_to: String,
    /// The client the token is meant for; the same client here.
    pub audience: String,
    /// Always empty: scopes are not supported.
    #[schema(example = "")]
    pub scope: &'static str,
    /// Whole seconds the token has left.
    pub expires_in: i64,
    /// `online` or `offline`.
    #[schema(example = "offline")]
    pub access_type: String,
}

/// Returns the live grant behind `token`, or `invalid_token` when the token
/// is unknown, expired or revoked, or its member is disabled.
pub async fn authenticate(
    state: &AppState,
    token: &Secret,
    now: UnixTime,
) -> Result<AccessRecord, OauthError> {
    let Some(record) = state.store.find_access(&token.digest()).await? else {
        return Err(OauthError::invalid_token("unknown access token"));
    };
    if record.expires_at <= now {
        return Err(OauthError::invalid_token("access token expired"));
    }
    if record.revoked_at.is_some() {
        return Err(OauthError::invalid_token("session revoked"));
    }
    if record.disabled {
        return Err(OauthError::invalid_token("member disabled"));
    }
    Ok(record)
}

/// Describes a live access token. When `client_id` is given, a token issued
/// to another client is `invalid_token`.
pub async fn token_info(
    state: &AppState,
    token: &Secret,
    client_id: Option<&str>,
    now: UnixTime,
) -> Result<TokenInfo, OauthError> {
    let record = authenticate(state, token, now).await?;
    if client_id.is_some_and(|client_id| client_id != record.client_id) {
        return Err(OauthError::invalid_token("token issued to another client"));
    }
    Ok(TokenInfo {
        audience: record.client_id.clone(),
        issued_to: record.client_id,
        scope: "",
        expires_in: record.expires_at - now,
        access_type: record.access_type,
    })
}
