//! `GET /oauth2/tokeninfo`: the token comes as `?access_token=` or as
//! `Authorization: Bearer`, never both.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};

use crate::http::bearer::{BearerError, bearer_token};
use crate::http::error::ApiError;
use crate::http::openapi::{BadRequest, ServerError, TooManyRequests, Unavailable};
use crate::http::params::Params;
use crate::oauth::OauthError;
use crate::oauth::tokeninfo::{self, TokenInfo};
use crate::state::AppState;

/// Describe an access token.
///
/// The token comes either as `access_token` in the query or as
/// `Authorization: Bearer`, not both. Unknown, expired or revoked tokens, and
/// tokens of another client when `client_id` is given, are `invalid_token`.
#[utoipa::path(
    get,
    path = crate::http::TOKENINFO_PATH,
    operation_id = "tokeninfo",
    tag = "oauth",
    params(
        ("access_token" = Option<String>, Query, description = "The access token"),
        ("client_id" = Option<String>, Query,
            description = "The client the token must have been issued to"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The token is live; never cached", body = TokenInfo),
        (status = 400, response = BadRequest),
        (status = 429, response = TooManyRequests),
        (status = 500, response = ServerError),
        (status = 503, response = Unavailable),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<TokenInfo>, ApiError> {
    let now = state.now();
    let query = Params::from_query(uri.query())?;
    let header_token = bearer_token(&headers).map_err(|error| match error {
        BearerError::OtherScheme => {
            OauthError::invalid_request("the Authorization header must use the Bearer scheme")
        }
        BearerError::Malformed => OauthError::invalid_request("malformed Authorization header"),
    })?;

    let token = match (query.secret("access_token"), header_token) {
        (Some(token), None) | (None, Some(token)) => token,
        (Some(_), Some(_)) => {
            return Err(OauthError::invalid_request(
                "send the token either as access_token or in the Authorization header, not both",
            )
            .into());
        }
        (None, None) => return Err(crate::oauth::missing("access_token").into()),
    };
    let info = tokeninfo::token_info(&state, &token, query.get("client_id"), now).await?;
    Ok(Json(info))
}
