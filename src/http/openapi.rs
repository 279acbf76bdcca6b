//! The OpenAPI 3.1 description served at `/openapi.json`. Paths come from
//! the `#[utoipa::path]` attribute on each handler, collected by the router
//! in [`super::routes`]. This module contains what they share: the
//! document's header, the bearer scheme and the error responses.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use super::error::ErrorBody;

/// The name under which operations refer to the bearer token scheme. The
/// `security` attributes of the handlers repeat it as a literal, because
/// the macro accepts nothing else there.
pub const BEARER: &str = "bearer";

/// The document's fixed parts; [`super::routes`] adds every path.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hktia-portal",
        description = "The association's OAuth 2.0 authorization server: members sign in, \
            applications exchange codes for tokens and read the member's record with them. \
            Every error body is {\"error\": CODE, \"error_description\": SENTENCE}.",
    ),
    components(
        schemas(ErrorBody),
        responses(
            BadRequest,
            Unauthorized,
            PayloadTooLarge,
            UnsupportedMediaType,
            TooManyRequests,
            NotFound,
            ServerError,
            Unavailable
        )
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "oauth", description = "OAuth 2.0 endpoints (RFC 6749, RFC 6750)"),
        (name = "member", description = "The member's own data, for bearers of an access token"),
        (name = "operations", description = "Health, readiness, metrics and this description"),
        (name = "pages", description = "The HTML pages of the browser flow"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer token security scheme (RFC 6750).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer));
        components.add_security_scheme(BEARER, scheme);
    }
}

/// A parameter is missing, repeated or malformed (`invalid_request`), or
/// the request is refused by an OAuth rule: `unsupported_response_type`,
/// `unsupported_grant_type`, `invalid_grant`, `unauthorized_client`, or
/// `invalid_token` at `/oauth2/tokeninfo`.
#[derive(ToResponse)]
pub struct BadRequest(pub ErrorBody);

/// The client is unknown (`invalid_client`), or the bearer token is missing
/// or not live (`invalid_request`, `invalid_token`).
#[derive(ToResponse)]
#[response(headers(
    ("WWW-Authenticate" = String, description = "The Bearer challenge, on the member API")
))]
pub struct Unauthorized(pub ErrorBody);

/// The body is over 64 KiB (`request_too_large`).
#[derive(ToResponse)]
pub struct PayloadTooLarge(pub ErrorBody);

/// The body is neither `application/json` nor
/// `application/x-www-form-urlencoded` (`unsupported_media_type`).
#[derive(ToResponse)]
pub struct UnsupportedMediaType(pub ErrorBody);

/// Too many requests from one address, or too many failed sign-ins of one
/// member (`too_many_requests`).
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))]
pub struct TooManyRequests(pub ErrorBody);

/// No such path, or no such session of the caller's (`not_found`).
#[derive(ToResponse)]
pub struct NotFound(pub ErrorBody);

/// Anything unexpected (`server_error`); the body adds `request_id`, under
/// which the cause was logged.
#[derive(ToResponse)]
pub struct ServerError(pub ErrorBody);

/// The database cannot be reached (`temporarily_unavailable`); nothing was
/// changed.
#[derive(ToResponse)]
pub struct Unavailable(pub ErrorBody);
