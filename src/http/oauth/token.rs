//! `POST /oauth2/token`.

use axum::Json;
use axum::extract::State;

use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::openapi::{
    BadRequest, PayloadTooLarge, ServerError, TooManyRequests, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::token::{self, TokenRequest, TokenResponse};
use crate::state::AppState;

/// The parameters of `POST /oauth2/token`, as JSON or as a form. Only the
/// description uses this type; the handler reads [`Params`].
#[derive(Debug, ToSchema)]
pub struct TokenForm {
    /// `authorization_code` or `refresh_token`.
    #[schema(pattern = "^(authorization_code|refresh_token)$", example = "authorization_code")]
    pub grant_type: String,
    /// The application the code or refresh token was issued to.
    pub client_id: String,
    /// The code, for `authorization_code`.
    pub code: Option<String>,
    /// The refresh token, for `refresh_token`.
    pub refresh_token: Option<String>,
    /// The device the grant is bound to, as sent with the authorization
    /// request.
    pub device_id: Option<String>,
    /// The PKCE verifier, when the code was requested with a challenge.
    pub code_verifier: Option<String>,
    /// The browser flow's `redirect_uri`, repeated.
    pub redirect_uri: Option<String>,
}

/// Exchange a code, or refresh.
///
/// A code works once: presenting it again revokes every token that came from
/// it. Each refresh replaces the refresh token; the replaced one still works
/// for a short grace window, and its use after that revokes the session.
#[utoipa::path(
    post,
    path = crate::http::TOKEN_PATH,
    operation_id = "token",
    tag = "oauth",
    request_body(content(
        (TokenForm = "application/json"),
        (TokenForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "New tokens; never cached", body = TokenResponse),
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
) -> Result<Json<TokenResponse>, ApiError> {
    let now = state.now();
    let request = TokenRequest {
        grant_type: params.string("grant_type"),
        code: params.secret("code"),
        refresh_token: params.secret("refresh_token"),
        client_id: params.string("client_id"),
        device_id: params.string("device_id"),
        code_verifier: params.string("code_verifier"),
        redirect_uri: params.string("redirect_uri"),
        address,
    };
    Ok(Json(token::token(&state, &request, now).await?))
}
