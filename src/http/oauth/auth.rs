//! `POST /oauth2/auth`: the password grant returns a code as JSON; the
//! consent grant, the default, is the browser flow of
//! [`crate::http::pages::consent`].

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::openapi::{PayloadTooLarge, Unauthorized, UnsupportedMediaType};
use crate::http::pages;
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::OauthError;
use crate::oauth::authorize::{self, PasswordGrantRequest};
use crate::state::AppState;

/// The password grant's response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeResponse {
    /// The authorization code, for `POST /oauth2/token`.
    pub code: String,
    /// Always empty: scopes are not supported.
    #[schema(example = "")]
    pub scope: &'static str,
}

/// The parameters of `POST /oauth2/auth`, as JSON or as a form. Only the
/// description uses this type: the handler reads [`Params`], so that
/// malformed bodies get this server's error format.
#[derive(Debug, ToSchema)]
pub struct AuthRequest {
    /// Must be `code`.
    #[schema(pattern = "^code$", example = "code")]
    pub response_type: String,
    /// `online` for access tokens only, `offline` to get a refresh token too.
    #[schema(pattern = "^(online|offline)$", example = "offline")]
    pub access_type: String,
    /// The application.
    pub client_id: String,
    /// `password` returns a code at once; `consent`, the default, is the
    /// browser flow.
    #[schema(pattern = "^(password|consent)$", example = "password")]
    pub grant_type: Option<String>,
    /// The device the grant is bound to; required for mobile clients.
    pub device_id: Option<String>,
    /// The member's username, for the password grant.
    pub username: Option<String>,
    /// The member's password, for the password grant.
    #[schema(format = Password)]
    pub password: Option<String>,
    /// Accepted and ignored.
    pub scope: Option<String>,
    /// A PKCE challenge (RFC 7636): base64url of the SHA-256 of the verifier.
    pub code_challenge: Option<String>,
    /// Must be `S256` when a challenge is sent.
    #[schema(pattern = "^S256$", example = "S256")]
    pub code_challenge_method: Option<String>,
}

/// Request an authorization code.
///
/// With `grant_type: password` and the member's credentials, returns a code
/// to exchange at `/oauth2/token`. Wrong password, unknown member and
/// disabled member all get the same `invalid_grant`.
#[utoipa::path(
    post,
    path = crate::http::AUTH_PATH,
    operation_id = "authorize",
    tag = "oauth",
    request_body(content(
        (AuthRequest = "application/json"),
        (AuthRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "With `grant_type: password`, a new authorization code \
            as JSON; otherwise the sign-in page of the browser flow",
            content((CodeResponse = "application/json"), (String = "text/html"))),
        (status = 303, description = "The browser flow's answer to the application: \
            `redirect_uri` with `code` or `error`, and `state`",
            headers(("Location" = String, description = "The registered redirect URI"))),
        (status = 400, description = "A JSON error, or the browser flow's error page for an \
            unknown client or an unregistered redirect_uri",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The sign-in page again: its anti-forgery token was \
            missing or stale", content_type = "text/html"),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, description = "Too many attempts, as JSON or as the sign-in page",
            content((ErrorBody = "application/json"), (String = "text/html")),
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        (status = 500, description = "Anything unexpected, as JSON or as the error page",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "The database cannot be reached, as JSON or as the \
            error page", content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn post(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let now = state.now();
    match params.get("grant_type") {
        Some("password") => password_grant(&state, &params, address, now).await,
        None | Some("consent") => {
            Ok(pages::consent::post(&state, &headers, &params, address).await)
        }
        Some(_) => Err(OauthError::UnsupportedGrantType.into()),
    }
}

async fn password_grant(
    state: &AppState,
    params: &Params,
    address: Option<IpAddr>,
    now: i64,
) -> Result<Response, ApiError> {
    let request = PasswordGrantRequest {
        response_type: params.string("response_type"),
        access_type: params.string("access_type"),
        client_id: params.string("client_id"),
        device_id: params.string("device_id"),
        username: params.string("username"),
        password: params.secret("password"),
        code_challenge: params.string("code_challenge"),
        code_challenge_method: params.string("code_challenge_method"),
        address,
    };
    let code = authorize::password_grant(state, &request, now).await?;
    let body = CodeResponse { code: code.expose().to_owned(), scope: "" };
    Ok(Json(body).into_response())
}
