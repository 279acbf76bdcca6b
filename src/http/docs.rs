//! `GET /openapi.json`, and `GET /docs`, which renders it for a person.
//!
//! The page is static HTML with a script and a style sheet served from
//! here, so it loads nothing from elsewhere and its Content Security Policy
//! allows only this origin. The script builds the page with DOM calls and
//! `textContent`, never HTML strings, so nothing in the description can
//! inject markup.

use std::sync::LazyLock;

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::openapi::ServerError;

/// Path of the OpenAPI description.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Path of the documentation page.
pub const DOCS_PATH: &str = "/docs";
/// Path of the documentation page's script.
pub const DOCS_SCRIPT_PATH: &str = "/docs/docs.js";
/// Path of the documentation page's style sheet.
pub const DOCS_STYLE_PATH: &str = "/docs/docs.css";

const PAGE: &str = include_str!("docs/index.html");
const SCRIPT: &str = include_str!("docs/docs.js");
const STYLE: &str = include_str!("docs/docs.css");

/// Only this origin's scripts, styles and fetches; no frames, no forms.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The description, serialized once: it is fixed when the binary is built.
static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    let openapi = super::openapi_description();
    openapi.to_pretty_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialize the OpenAPI description");
        "{}".to_owned()
    })
});

/// The OpenAPI 3.1 description of every endpoint.
#[utoipa::path(
    get,
    path = OPENAPI_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "An OpenAPI 3.1 document", body = Object,
            content_type = "application/json"),
        (status = 500, response = ServerError),
    )
)]
pub async fn openapi_json() -> Response {
    asset("application/json", OPENAPI_JSON.as_str())
}

/// The API documentation for a person to read in a browser.
#[utoipa::path(
    get,
    path = DOCS_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "An HTML page", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 500, response = ServerError),
    )
)]
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

/// The script that renders the documentation page.
#[utoipa::path(
    get,
    path = DOCS_SCRIPT_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "JavaScript", body = String,
            content_type = "text/javascript; charset=utf-8"),
        (status = 500, response = ServerError),
    )
)]
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// The style sheet of the documentation page.
#[utoipa::path(
    get,
    path = DOCS_STYLE_PATH,
    tag = "operations",
    responses(
        (status = 200, description = "CSS", body = String,
            content_type = "text/css; charset=utf-8"),
        (status = 500, response = ServerError),
    )
)]
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer")),
    ];
    (headers, body).into_response()
}
