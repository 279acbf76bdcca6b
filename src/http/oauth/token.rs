//! `POST /oauth2/token`.

use axum::Json;
use axum::extract::State;

use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::token::{self, TokenRequest, TokenResponse};
use crate::state::AppState;

/// Handles `POST /oauth2/token` for both grant types.
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
