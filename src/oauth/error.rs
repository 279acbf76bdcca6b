//! The errors of the OAuth rules, one variant per error code of RFC 6749
//! and RFC 6750 that this server returns.

use std::borrow::Cow;

use crate::accounts::SignInError;
use crate::store::StoreError;

/// An OAuth failure. The HTTP edge turns each variant into its status and
/// body; the reason behind an `InvalidGrant` is logged where it is raised.
#[derive(Debug, thiserror::Error)]
pub enum OauthError {
    /// A parameter is missing, repeated or malformed.
    #[error("{0}")]
    InvalidRequest(Cow<'static, str>),
    /// `response_type` is not `code`.
    #[error("response_type must be \"code\"")]
    UnsupportedResponseType,
    /// This endpoint does not take the `grant_type` given.
    #[error("grant_type is not supported here")]
    UnsupportedGrantType,
    /// The `client_id` is unknown or removed.
    #[error("unknown client")]
    InvalidClient,
    /// Credentials, code or refresh token not accepted.
    #[error("the grant is invalid, expired or revoked")]
    InvalidGrant,
    /// The client may not do this.
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    /// The access token is unknown, expired or revoked.
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    /// Too many attempts; try again after `retry_after` seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The database cannot be reached; nothing was changed.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// Anything unexpected; the cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl OauthError {
    /// An `invalid_request` error with a description for the client.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        OauthError::InvalidRequest(description.into())
    }

    /// Logs why a grant was rejected and returns the one error the client
    /// sees for every such reason.
    pub fn invalid_grant(reason: &str) -> Self {
        tracing::warn!(reason, "grant rejected");
        OauthError::InvalidGrant
    }

    /// Logs why a token was rejected and returns `invalid_token`.
    pub fn invalid_token(reason: &str) -> Self {
        tracing::info!(reason, "token rejected");
        OauthError::InvalidToken
    }
}

impl From<StoreError> for OauthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                OauthError::Unavailable
            }
            other => OauthError::Internal(other.to_string()),
        }
    }
}

impl From<SignInError> for OauthError {
    fn from(error: SignInError) -> Self {
        match error {
            // The audit trail has already logged the reason.
            SignInError::UnknownMember | SignInError::WrongPassword | SignInError::Disabled => {
                OauthError::InvalidGrant
            }
            SignInError::Paused { retry_after } => OauthError::TooManyRequests { retry_after },
            SignInError::Store(store) => store.into(),
            SignInError::Hash(hash) => OauthError::Internal(hash.to_string()),
        }
    }
}
