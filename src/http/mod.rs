//! The HTTP edge: routes, the body extractor, the request context and the
//! one place where errors become responses. Handlers read the clock once,
//! call the rules in `oauth` or `accounts`, and turn the result into JSON.

pub mod api;
pub mod bearer;
pub mod client_addr;
pub mod docs;
pub mod error;
pub mod middleware;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod params;
pub mod rate_limit;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Every route, each with its OpenAPI description. This list is the one
/// place routes are declared: the router and `/openapi.json` are both built
/// from it, so they cannot disagree. Adding an endpoint is one
/// `.routes(routes!(handler))` line, with `#[utoipa::path]` on the handler.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(pages::consent::get, oauth::auth::post))
        .routes(routes!(oauth::token::post))
        .routes(routes!(oauth::tokeninfo::get))
        .routes(routes!(oauth::revoke::post))
        .routes(routes!(api::me::get))
        .routes(routes!(api::sessions::list))
        .routes(routes!(api::sessions::delete))
        .routes(routes!(oauth::metadata::get))
        .routes(routes!(pages::stylesheet))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(docs::openapi_json))
        .routes(routes!(docs::page))
        .routes(routes!(docs::script))
        .routes(routes!(docs::style))
}

/// Returns the OpenAPI 3.1 description of every route.
pub fn openapi_description() -> utoipa::openapi::OpenApi {
    let mut description = routes().into_openapi();
    // utoipa fills the license from Cargo.toml, which names none; an empty
    // license object would tell readers nothing.
    description.info.license = None;
    description
}

/// Builds the router with every endpoint and layer.
pub fn router(state: AppState) -> Router {
    let rate_limits = Arc::new(rate_limit::RateLimits::new(&state.config));
    let mut router = Router::from(routes());
    // The demo's callback exists only under `serve --demo`, so it is not
    // part of the API description.
    if state.demo.is_some() {
        router = router.route(pages::demo::CALLBACK_PATH, get(pages::demo::callback));
    }

    router
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(rate_limits, rate_limit::limit_rate))
        .layer(axum::middleware::from_fn(middleware::no_store))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::request_context))
        .with_state(state)
}
