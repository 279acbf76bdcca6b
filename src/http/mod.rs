//! The HTTP edge: routes, the body extractor, the request context and the
//! one place where errors become responses. Handlers read the clock once,
//! call the rules in `oauth` or `accounts`, and turn the result into JSON.

pub mod api;
pub mod bearer;
pub mod error;
pub mod middleware;
pub mod oauth;
pub mod pages;
pub mod params;
pub mod rate_limit;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;
use error::ApiError;

/// Path of the authorization endpoint.
pub const AUTH_PATH: &str = "/oauth2/auth";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// Path of the token information endpoint.
pub const TOKENINFO_PATH: &str = "/oauth2/tokeninfo";
/// Path of the member's own record.
pub const ME_PATH: &str = "/api/v1/me";
/// Path of the revocation endpoint (RFC 7009).
pub const REVOKE_PATH: &str = "/oauth2/revoke";
/// Path of the authorization server metadata (RFC 8414 section 3).
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// Path of the member's sessions.
pub const SESSIONS_PATH: &str = "/api/v1/me/sessions";
/// Path of one of the member's sessions.
pub const SESSION_PATH: &str = "/api/v1/me/sessions/{id}";

/// Builds the router with every endpoint and layer.
pub fn router(state: AppState) -> Router {
    // Token responses must never be cached (RFC 6749 section 5.1), and
    // neither may answers about tokens; errors included.
    let no_store = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ));

    let token_routes = Router::new()
        .route(AUTH_PATH, get(pages::consent::get).post(oauth::auth::post))
        .route(TOKEN_PATH, post(oauth::token::post))
        .route(TOKENINFO_PATH, get(oauth::tokeninfo::get))
        .route(REVOKE_PATH, post(oauth::revoke::post))
        .layer(no_store);
    let rate_limits = Arc::new(rate_limit::RateLimits::new(&state.config));

    let mut routes = Router::new()
        .merge(token_routes)
        .route(ME_PATH, get(api::me::get))
        .route(METADATA_PATH, get(oauth::metadata::get))
        .route(SESSIONS_PATH, get(api::sessions::list))
        .route(SESSION_PATH, delete(api::sessions::delete))
        .route(pages::STYLESHEET_PATH, get(pages::stylesheet));
    if state.demo.is_some() {
        routes = routes.route(pages::demo::CALLBACK_PATH, get(pages::demo::callback));
    }

    routes
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(rate_limits, rate_limit::limit_rate))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn(middleware::request_context))
        .with_state(state)
}
