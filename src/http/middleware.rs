//! The request context: an id for every request, returned as
//! `X-Request-Id`, one log line and one count in the metrics when the
//! response is ready. The line names the matched route, never the URI,
//! because a query may contain a token. It names no header either, because
//! `Authorization` contains one.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::client_addr;
use crate::state::AppState;

/// The header that carries the request id.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of a request that matched no route.
const UNMATCHED: &str = "unmatched";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Returns the id of the request being served, or `"-"` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_owned())
}

/// Gives the request an id, serves it inside a span that carries the id
/// and the client address, logs one line with method, route, status and
/// latency, and counts the request in the metrics.
pub async fn request_context(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = crate::tokens::random_id();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let client = client_addr::of_request(&request, &state.config.trusted_proxies)
        .map_or_else(|| "-".to_owned(), |address| address.to_string());

    let span = tracing::info_span!("request", request_id = %id, %method, %route, %client);
    let mut response =
        REQUEST_ID.scope(id.clone(), next.run(request)).instrument(span.clone()).await;

    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    // Whole microseconds, so the line shows 2.604 rather than 2.6040859…
    let latency_ms = (elapsed * 1_000_000.0).round() / 1000.0;
    span.in_scope(|| tracing::info!(status, latency_ms, "request served"));
    state.metrics.request_served(method.as_str(), &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}

/// Paths none of whose responses may be cached: they carry codes, tokens,
/// or information about tokens (RFC 6749 section 5.1).
const NO_STORE_PATHS: [&str; 4] =
    [super::AUTH_PATH, super::TOKEN_PATH, super::TOKENINFO_PATH, super::REVOKE_PATH];

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` to every response
/// on [`NO_STORE_PATHS`], errors included: a 405 or a 429 from the layers
/// inside as much as a token.
pub async fn no_store(request: Request, next: Next) -> Response {
    let applies = NO_STORE_PATHS.contains(&request.uri().path());
    let mut response = next.run(request).await;
    if applies {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}
