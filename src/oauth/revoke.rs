//! `POST /oauth2/revoke` (RFC 7009). Revoking an access or a refresh token
//! ends its whole session, as Google's endpoint does: every access and
//! refresh token of the grant stops working.

use std::net::IpAddr;

use super::authorize::find_client;
use super::{OauthError, required};
use crate::audit::{AuditEntry, Event};
use crate::clock::UnixTime;
use crate::state::AppState;
use crate::tokens::Secret;

/// The parameters of a revocation request, as received.
#[derive(Debug, Default)]
pub struct RevokeRequest {
    /// The access or refresh token.
    pub token: Option<Secret>,
    /// The application the token was issued to.
    pub client_id: Option<String>,
    /// `access_token` or `refresh_token`. Both kinds are looked up in one
    /// query, so the hint is accepted and not needed (RFC 7009 section
    /// 2.1 lets a server ignore it).
    pub token_type_hint: Option<String>,
    /// The address of the client that sent the request, for the audit
    /// trail.
    pub address: Option<IpAddr>,
}

/// Ends the session of the token. An unknown, expired or already revoked
/// token succeeds too (RFC 7009 section 2.2), so that a client cannot learn
/// which tokens exist. A token of another client is left alone, and the
/// request fails with `unauthorized_client`.
pub async fn revoke(
    state: &AppState,
    request: &RevokeRequest,
    now: UnixTime,
) -> Result<(), OauthError> {
    let token = request.token.as_ref().ok_or_else(|| super::missing("token"))?;
    let client = find_client(state, required(request.client_id.as_deref(), "client_id")?).await?;

    let Some(owner) = state.store.find_token_owner(&token.digest()).await? else {
        tracing::info!(client_id = %client.id, "revocation of an unknown token");
        return Ok(());
    };
    if owner.client_id != client.id {
        tracing::warn!(
            client_id = %client.id,
            grant_id = owner.grant_id,
            "revocation of a token issued to another client"
        );
        return Err(OauthError::UnauthorizedClient("the token was issued to another client"));
    }

    if state.store.revoke_grant(&owner.grant_id, now).await? {
        state.metrics.session_revoked(Event::TokenRevoked.as_str());
        let detail = format!("{} token presented", owner.kind);
        AuditEntry::new(Event::TokenRevoked)
            .member(owner.member_id, &owner.username)
            .client(&client.id)
            .grant(&owner.grant_id)
            .address(request.address)
            .detail(&detail)
            .record(&state.store, now)
            .await;
    }
    Ok(())
}
