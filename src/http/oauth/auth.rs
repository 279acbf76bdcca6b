//! `POST /oauth2/auth`: the password grant returns a code as JSON; the
//! consent grant, the default, is the browser flow of
//! [`crate::http::pages::consent`].

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::pages;
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::OauthError;
use crate::oauth::authorize::{self, PasswordGrantRequest};
use crate::state::AppState;

/// The password grant's response.
#[derive(Debug, Serialize)]
pub struct CodeResponse {
    /// The authorization code.
    pub code: String,
    /// Always empty: scopes are not supported.
    pub scope: &'static str,
}

/// Handles `POST /oauth2/auth`.
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
