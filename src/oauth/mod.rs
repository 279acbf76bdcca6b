//! The OAuth 2.0 rules: issuing codes, exchanging and refreshing them, and
//! describing access tokens. No HTTP and no SQL; handlers pass requests in
//! with the time they read, and the store keeps the records.
//!
//! - [`authorize`]: the password grant of `POST /oauth2/auth`, and issuing
//!   codes for both grants.
//! - [`consent`]: the browser flow: checking an authorization request in
//!   two stages, and the code a member's Allow issues.
//! - [`token`]: `POST /oauth2/token`, with single-use codes, PKCE, refresh
//!   rotation, its grace window and reuse detection.
//! - [`tokeninfo`]: what a live access token grants.
//! - [`revoke`]: `POST /oauth2/revoke`, which ends a token's session.

pub mod authorize;
pub mod consent;
mod error;
pub mod pkce;
pub mod revoke;
pub mod token;
pub mod tokeninfo;

pub use error::OauthError;

/// Whether a grant includes a refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessType {
    /// Access tokens only.
    Online,
    /// Access tokens and a refresh token.
    Offline,
}

impl AccessType {
    /// Parses the `access_type` parameter, which is required.
    pub fn parse(value: Option<&str>) -> Result<Self, OauthError> {
        match value {
            Some("online") => Ok(AccessType::Online),
            Some("offline") => Ok(AccessType::Offline),
            Some(_) => Err(OauthError::invalid_request("access_type must be online or offline")),
            None => Err(missing("access_type")),
        }
    }

    /// Returns the parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::Online => "online",
            AccessType::Offline => "offline",
        }
    }
}

/// The `invalid_request` error for a missing parameter.
pub fn missing(name: &str) -> OauthError {
    OauthError::invalid_request(format!("missing required parameter: {name}"))
}

/// Returns `value`, or `invalid_request` naming the missing parameter.
pub fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OauthError> {
    value.ok_or_else(|| missing(name))
}
