//! The HTML pages: the consent flow's sign-in page and error page
//! ([`consent`]), and the demo's callback ([`demo`]). Templates live under
//! `templates/` and escape every value; the one stylesheet is served from
//! this server, so that the pages load nothing from elsewhere.

pub mod consent;
mod csrf;
pub mod demo;
mod lang;
mod text;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Path of the pages' stylesheet.
pub const STYLESHEET_PATH: &str = "/static/consent.css";

/// The pages allow nothing from elsewhere and may not be framed, which
/// stops clickjacking of the Allow button.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; frame-ancestors 'none'";

/// The stylesheet of the sign-in pages, compiled into the binary.
#[utoipa::path(
    get,
    path = STYLESHEET_PATH,
    operation_id = "consent_stylesheet",
    tag = "pages",
    responses(
        (status = 200, description = "The stylesheet", content_type = "text/css"),
        (status = 500, response = crate::http::openapi::ServerError),
    ),
)]
pub async fn stylesheet() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, include_str!("../../../static/consent.css")).into_response()
}

/// Renders `page` as an HTML response with `status` and the pages'
/// security headers. A template that fails to render is logged and the
/// client gets a plain 500.
fn html(status: StatusCode, page: &impl Template) -> Response {
    let response = match page.render() {
        Ok(body) => {
            let content_type = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
            (status, content_type, body).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "server error").into_response()
        }
    };
    with_security_headers(response)
}

/// Builds a `303 See Other` to `location`, for responses sent back to the
/// application.
fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => with_security_headers(
            (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        ),
        Err(_) => {
            tracing::error!("a redirect URI is not a valid header value");
            (StatusCode::INTERNAL_SERVER_ERROR, "server error").into_response()
        }
    }
}

/// Adds the headers every page and redirect carries. The pages contain
/// anti-forgery tokens and codes, so no cache may keep them. `no-referrer`
/// keeps the page's query, which contains the request's `state`, from
/// reaching another site in a `Referer` header, also when the browser
/// follows a redirect.
fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
