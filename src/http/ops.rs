//! The operator's endpoints: liveness, readiness and metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::openapi::{ServerError, Unavailable};
use crate::oauth::OauthError;
use crate::state::AppState;

/// Path of the liveness check.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Path of the readiness check.
pub const READYZ_PATH: &str = "/readyz";
/// Path of the Prometheus metrics.
pub const METRICS_PATH: &str = "/metrics";

/// How long the readiness check waits for the database. A load balancer
/// polls every few seconds, so a database that hangs must fail the check
/// well before the next poll rather than tie up a connection.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The media type of the Prometheus text exposition format, version 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The body of a passing check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

const OK: Status = Status { status: "ok" };

/// Liveness: the process runs and serves HTTP.
///
/// Touches nothing else, so a restart is the right fix when it fails.
#[utoipa::path(
    get,
    path = HEALTHZ_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "The process is running", body = Status),
        (status = 500, response = ServerError),
    )
)]
pub async fn healthz() -> Json<Status> {
    Json(OK)
}

/// Readiness: the database responds.
///
/// A server that fails it should get no traffic until it passes again; it
/// recovers by itself when the database returns, without a restart.
#[utoipa::path(
    get,
    path = READYZ_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "The database responds", body = Status),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(OK)),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            Err(OauthError::Unavailable.into())
        }
        Err(_) => {
            tracing::warn!(timeout_s = READY_TIMEOUT.as_secs(), "readiness check timed out");
            Err(OauthError::Unavailable.into())
        }
    }
}

/// Metrics in the Prometheus text format.
///
/// Requests by route and status, latency histograms, sign-ins, codes and
/// tokens issued, sessions revoked, and database pool use.
#[utoipa::path(
    get,
    path = METRICS_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 500, response = ServerError),
    )
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(&state.store.pool_use());
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], text)
}
