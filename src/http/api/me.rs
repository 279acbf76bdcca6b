//! `GET /api/v1/me`: the member's own record.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::rfc3339;
use crate::http::bearer::bearer_token;
use crate::http::error::ApiError;
use crate::http::openapi::{ServerError, TooManyRequests, Unauthorized, Unavailable};
use crate::oauth::OauthError;
use crate::oauth::tokeninfo::authenticate;
use crate::state::AppState;
use crate::store::AccessRecord;

/// The member's own record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The username as registered.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Email address, or `null`.
    pub email: Option<String>,
    /// When the member was added, RFC 3339 in UTC.
    #[schema(format = DateTime, example = "2026-12-04T08:15:00Z")]
    pub created_at: String,
}

/// The member's own record.
///
/// Without a token the response is 401 with
/// `WWW-Authenticate: Bearer realm="hktia-portal"`; with a bad one, 401
/// `invalid_token` with `WWW-Authenticate: Bearer error="invalid_token"`.
#[utoipa::path(
    get,
    path = crate::http::ME_PATH,
    operation_id = "me",
    tag = "member",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member who owns the token", body = Me),
        (status = 401, response = Unauthorized),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let now = state.now();
    let access = authorize_bearer(&state, &headers, now).await?;
    let member = state
        .store
        .member_by_id(access.member_id)
        .await
        .map_err(OauthError::from)?
        .ok_or(ApiError::BearerRejected)?;
    Ok(Json(Me {
        username: member.username,
        display_name: member.display_name,
        email: member.email,
        created_at: rfc3339(member.created_at),
    }))
}

/// Returns the live grant of the request's bearer token. No token, or a
/// header of another scheme, is [`ApiError::BearerMissing`]; a token that is
/// not live is [`ApiError::BearerRejected`].
pub async fn authorize_bearer(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<AccessRecord, ApiError> {
    let Ok(Some(token)) = bearer_token(headers) else { return Err(ApiError::BearerMissing) };
    authenticate(state, &token, now).await.map_err(|error| match error {
        OauthError::InvalidToken => ApiError::BearerRejected,
        other => ApiError::Oauth(other),
    })
}
