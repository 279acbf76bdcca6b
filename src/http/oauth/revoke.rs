//! `POST /oauth2/revoke`.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::http::error::ApiError;
use crate::http::openapi::{
    BadRequest, PayloadTooLarge, ServerError, TooManyRequests, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::revoke::{self, RevokeRequest};
use crate::state::AppState;

/// The parameters of `POST /oauth2/revoke`, as JSON or as a form. Only the
/// description uses this type: the handler reads [`Params`].
#[derive(Debug, utoipa::ToSchema)]
pub struct RevokeParameters {
    /// The access or refresh token to revoke.
    pub token: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// `access_token` or `refresh_token`; a hint only.
    pub token_type_hint: Option<String>,
}

/// Revoke a token (RFC 7009).
///
/// Ends the token's whole session: every access and refresh token of that
/// grant. Returns `200 {}` whether or not the token existed.
#[utoipa::path(
    post,
    path = crate::http::REVOKE_PATH,
    operation_id = "revoke",
    tag = "oauth",
    request_body(content(
        (RevokeParameters = "application/json"),
        (RevokeParameters = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The session has ended, or the token was unknown",
            body = Object),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn post(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    params: Params,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let now = state.now();
    let request = RevokeRequest {
        token: params.secret("token"),
        client_id: params.string("client_id"),
        token_type_hint: params.string("token_type_hint"),
        address,
    };
    revoke::revoke(&state, &request, now).await?;
    Ok(Json(Map::new()))
}
