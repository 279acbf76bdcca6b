//! `POST /oauth2/revoke`.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::rate_limit::ClientAddress;
use crate::oauth::revoke::{self, RevokeRequest};
use crate::state::AppState;

/// Handles `POST /oauth2/revoke`: `200 {}` once the token's session has
/// ended or when the token was unknown.
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
