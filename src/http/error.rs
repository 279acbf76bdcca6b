//! The one place where errors become HTTP responses. Every error body is
//! `{"error": CODE, "error_description": SENTENCE}`; a 500 adds the request
//! id under which its cause was logged.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::middleware::current_request_id;
use crate::oauth::OauthError;

/// An error on its way to the client.
#[derive(Debug)]
pub enum ApiError {
    /// A failure of the OAuth rules.
    Oauth(OauthError),
    /// No bearer token on a protected resource (RFC 6750 section 3.1).
    BearerMissing,
    /// A bearer token that is unknown, expired or revoked.
    BearerRejected,
    /// A body that is neither JSON nor a form.
    UnsupportedMediaType,
    /// A body over the limit.
    TooLarge,
    /// An unknown path.
    NotFound,
    /// A known path with another method.
    MethodNotAllowed,
    /// A session id that names no live session of the caller's.
    SessionNotFound,
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error code.
    #[schema(example = "invalid_request")]
    pub error: &'static str,
    /// A sentence for the developer reading it.
    pub error_description: String,
    /// Only on `server_error`: the id under which the cause was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub request_id: Option<String>,
}

/// The realm named in `WWW-Authenticate` challenges.
const REALM_CHALLENGE: &str = "Bearer realm=\"hktia-portal\"";
const INVALID_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\"";

impl From<OauthError> for ApiError {
    fn from(error: OauthError) -> Self {
        ApiError::Oauth(error)
    }
}

impl ApiError {
    /// Returns the status, the error code and the description.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Oauth(error) => oauth_parts(error),
            ApiError::BearerMissing => (
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "send an access token as Authorization: Bearer TOKEN".to_owned(),
            ),
            ApiError::BearerRejected => {
                let (_, code, description) = oauth_parts(&OauthError::InvalidToken);
                (StatusCode::UNAUTHORIZED, code, description)
            }
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json or application/x-www-form-urlencoded".to_owned(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "the request body is over 64 KiB".to_owned(),
            ),
            ApiError::NotFound => {
                (StatusCode::NOT_FOUND, "not_found", "no such endpoint".to_owned())
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see the Allow header".to_owned(),
            ),
            ApiError::SessionNotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "you have no live session with that id".to_owned(),
            ),
        }
    }
}

/// Returns the error code and description a client is shown for `error`,
/// as in a JSON error body, for responses that are not JSON.
pub fn error_code_and_description(error: &OauthError) -> (&'static str, String) {
    let (_, code, description) = oauth_parts(error);
    (code, description)
}

fn oauth_parts(error: &OauthError) -> (StatusCode, &'static str, String) {
    let description = error.to_string();
    match error {
        OauthError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request", description),
        OauthError::UnsupportedResponseType => {
            (StatusCode::BAD_REQUEST, "unsupported_response_type", description)
        }
        OauthError::UnsupportedGrantType => {
            (StatusCode::BAD_REQUEST, "unsupported_grant_type", description)
        }
        OauthError::InvalidClient => (StatusCode::UNAUTHORIZED, "invalid_client", description),
        OauthError::InvalidGrant => (StatusCode::BAD_REQUEST, "invalid_grant", description),
        OauthError::UnauthorizedClient(_) => {
            (StatusCode::BAD_REQUEST, "unauthorized_client", description)
        }
        OauthError::InvalidToken => (StatusCode::BAD_REQUEST, "invalid_token", description),
        OauthError::TooManyRequests { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many requests; retry after the time in Retry-After".to_owned(),
        ),
        OauthError::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", description)
        }
        OauthError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "an unexpected error occurred".to_owned(),
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, error_description) = self.parts();
        let request_id = if let ApiError::Oauth(OauthError::Internal(cause)) = &self {
            tracing::error!(%cause, "request failed");
            Some(current_request_id())
        } else {
            None
        };

        let body = ErrorBody { error, error_description, request_id };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::BearerMissing => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM_CHALLENGE));
            }
            ApiError::BearerRejected => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(INVALID_TOKEN_CHALLENGE),
                );
            }
            ApiError::Oauth(OauthError::TooManyRequests { retry_after }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

/// The body for a request whose handler panicked: the cause is logged and
/// the client gets only the request id.
pub fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = cause
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::Oauth(OauthError::Internal(format!("panic: {cause}"))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_and_code(error: ApiError) -> (u16, &'static str) {
        let (status, code, _) = error.parts();
        (status.as_u16(), code)
    }

    #[test]
    fn every_error_maps_to_the_documented_status() {
        let cases = [
            (ApiError::Oauth(OauthError::invalid_request("x")), 400, "invalid_request"),
            (ApiError::UnsupportedMediaType, 415, "unsupported_media_type"),
            (ApiError::TooLarge, 413, "request_too_large"),
            (
                ApiError::Oauth(OauthError::UnsupportedResponseType),
                400,
                "unsupported_response_type",
            ),
            (ApiError::Oauth(OauthError::UnsupportedGrantType), 400, "unsupported_grant_type"),
            (ApiError::Oauth(OauthError::InvalidClient), 401, "invalid_client"),
            (ApiError::Oauth(OauthError::InvalidGrant), 400, "invalid_grant"),
            (ApiError::Oauth(OauthError::UnauthorizedClient("x")), 400, "unauthorized_client"),
            (ApiError::Oauth(OauthError::InvalidToken), 400, "invalid_token"),
            (ApiError::BearerRejected, 401, "invalid_token"),
            (ApiError::BearerMissing, 401, "invalid_request"),
            (
                ApiError::Oauth(OauthError::TooManyRequests { retry_after: 1 }),
                429,
                "too_many_requests",
            ),
            (ApiError::NotFound, 404, "not_found"),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
            (ApiError::SessionNotFound, 404, "not_found"),
            (ApiError::Oauth(OauthError::Unavailable), 503, "temporarily_unavailable"),
            (ApiError::Oauth(OauthError::Internal("x".into())), 500, "server_error"),
        ];
        for (error, status, code) in cases {
            assert_eq!(status_and_code(error), (status, code));
        }
    }

    #[test]
    fn internal_cause_stays_out_of_the_body() {
        let (_, _, description) =
            ApiError::Oauth(OauthError::Internal("SELECT secret".into())).parts();
        assert!(!description.contains("SELECT"));
    }
}
