//! The request context: an id for every request, returned as
//! `X-Request-Id`, and one log line when the response is ready. The line
//! names the matched route, never the URI, whose query may hold a token.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header that carries the request id.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Returns the id of the request being served, or `"-"` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_owned())
}

/// Gives the request an id, serves it inside a span that carries the id,
/// and logs one line with method, route, status and latency.
pub async fn request_context(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = crate::tokens::random_id();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());

    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let mut response =
        REQUEST_ID.scope(id.clone(), next.run(request)).instrument(span.clone()).await;

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, latency_ms, "request served"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}
