//! `GET /api/v1/me/sessions` and `DELETE /api/v1/me/sessions/{id}`: a
//! member's own sessions, one per grant.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::me::authorize_bearer;
use crate::audit::{AuditEntry, Event};
use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::http::openapi::{NotFound, ServerError, TooManyRequests, Unauthorized, Unavailable};
use crate::http::rate_limit::ClientAddress;
use crate::oauth::OauthError;
use crate::state::AppState;
use crate::store::SessionRecord;

/// The list of sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Sessions {
    /// Every live session of the member, newest first.
    pub sessions: Vec<Session>,
}

/// One live session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// The id to end it with.
    pub id: String,
    /// The application.
    pub client_id: String,
    /// The application's name.
    pub client_name: String,
    /// The device, or `null`.
    pub device_id: Option<String>,
    /// `online` or `offline`.
    pub access_type: String,
    /// When it started, RFC 3339 in UTC.
    pub created_at: String,
    /// When it last received tokens, RFC 3339 in UTC.
    pub last_used_at: String,
    /// Whether the calling token belongs to it.
    pub current: bool,
}

/// The member's live sessions.
#[utoipa::path(
    get,
    path = crate::http::SESSIONS_PATH,
    operation_id = "list_sessions",
    tag = "member",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every live session of the member, newest first",
            body = Sessions),
        (status = 401, response = Unauthorized),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Sessions>, ApiError> {
    let now = state.now();
    let access = authorize_bearer(&state, &headers, now).await?;
    let records =
        state.store.list_sessions(access.member_id, now).await.map_err(OauthError::from)?;
    let sessions = records.into_iter().map(|record| session(record, &access.grant_id)).collect();
    Ok(Json(Sessions { sessions }))
}

fn session(record: SessionRecord, current_grant: &str) -> Session {
    Session {
        current: record.id == current_grant,
        id: record.id,
        client_id: record.client_id,
        client_name: record.client_name,
        device_id: record.device_id,
        access_type: record.access_type,
        created_at: rfc3339(record.created_at),
        last_used_at: rfc3339(record.last_used_at),
    }
}

/// End one of the member's sessions.
///
/// Its access and refresh tokens stop working at once. An id that is not a
/// live session of the caller's is `404`.
#[utoipa::path(
    delete,
    path = crate::http::SESSION_PATH,
    operation_id = "end_session",
    tag = "member",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id, from the list")),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    let access = authorize_bearer(&state, &headers, now).await?;
    // Session ids are base64url; anything else, including text PostgreSQL
    // cannot store, names no session.
    let Ok(Path(id)) = id else { return Err(ApiError::SessionNotFound) };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::SessionNotFound);
    }

    let ended = state.store.end_member_session(access.member_id, &id, now).await;
    if !ended.map_err(OauthError::from)? {
        return Err(ApiError::SessionNotFound);
    }
    state.metrics.session_revoked(Event::SessionEnded.as_str());
    AuditEntry::new(Event::SessionEnded)
        .member_id(access.member_id)
        .grant(&id)
        .address(address)
        .detail("ended by the member")
        .record(&state.store, now)
        .await;
    Ok(StatusCode::NO_CONTENT)
}
