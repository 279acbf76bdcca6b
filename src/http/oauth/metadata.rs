//! `GET /.well-known/oauth-authorization-server`: the authorization server
//! metadata of RFC 8414, built from the router's own paths.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header, uri::Authority};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::{AUTH_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::oauth::OauthError;
use crate::state::AppState;

/// The metadata document (RFC 8414 section 2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Metadata {
    /// The server's base URL.
    pub issuer: String,
    /// `POST /oauth2/auth` and the browser flow.
    pub authorization_endpoint: String,
    /// `POST /oauth2/token`.
    pub token_endpoint: String,
    /// `POST /oauth2/revoke`.
    pub revocation_endpoint: String,
    /// Only `code`.
    pub response_types_supported: [&'static str; 1],
    /// The grant types of the token endpoint.
    pub grant_types_supported: [&'static str; 2],
    /// Only `S256`: `plain` is rejected.
    pub code_challenge_methods_supported: [&'static str; 1],
    /// Only `none`: every client is public.
    pub token_endpoint_auth_methods_supported: [&'static str; 1],
    /// Only `none`: every client is public.
    pub revocation_endpoint_auth_methods_supported: [&'static str; 1],
    /// Empty: scopes are accepted and ignored.
    pub scopes_supported: [&'static str; 0],
}

/// Authorization server metadata (RFC 8414).
#[utoipa::path(
    get,
    path = crate::http::METADATA_PATH,
    operation_id = "metadata",
    tag = "oauth",
    responses(
        (status = 200, description = "The server's endpoints and what they support",
            body = Metadata),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 429, response = crate::http::openapi::TooManyRequests),
        (status = 500, response = crate::http::openapi::ServerError),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Metadata>, ApiError> {
    let issuer = match &state.config.issuer {
        Some(issuer) => issuer.clone(),
        None => format!("http://{}", request_host(&headers)?),
    };
    Ok(Json(Metadata {
        authorization_endpoint: format!("{issuer}{AUTH_PATH}"),
        token_endpoint: format!("{issuer}{TOKEN_PATH}"),
        revocation_endpoint: format!("{issuer}{REVOKE_PATH}"),
        issuer,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["none"],
        revocation_endpoint_auth_methods_supported: ["none"],
        scopes_supported: [],
    }))
}

/// Returns the `Host` header when it is a plain `host[:port]`, without
/// user information, so that it cannot smuggle another URL into the
/// document.
fn request_host(headers: &HeaderMap) -> Result<Authority, OauthError> {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<Authority>().ok())
        .filter(|authority| !authority.as_str().contains('@'));
    host.ok_or_else(|| OauthError::invalid_request("missing or malformed Host header"))
}
