//! The consent flow of `/oauth2/auth` (RFC 6749 section 4.1): checking an
//! authorization request, and issuing a code once the member signs in and
//! allows it.
//!
//! A request is checked in two stages. Until the client and its redirect
//! URI are known good, an error must never be sent to the redirect URI,
//! which could belong to anyone (RFC 6749 section 4.1.2.1), so those errors
//! are [`ConsentError::Unverified`]. Every later error goes back to the
//! application as [`ConsentError::Redirect`].

use std::net::IpAddr;

use super::authorize::{self, CodeGrant, SignIn};
use super::{AccessType, OauthError, pkce, required};
use crate::clock::UnixTime;
use crate::state::AppState;
use crate::store::ClientRecord;
use crate::tokens::Secret;

/// The parameters of an authorization request, as received.
#[derive(Clone, Debug, Default)]
pub struct AuthorizationRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The application.
    pub client_id: Option<String>,
    /// The URI the response is sent to, which must equal a registered one.
    pub redirect_uri: Option<String>,
    /// `online` or `offline`.
    pub access_type: Option<String>,
    /// Opaque value returned to the application unchanged.
    pub state: Option<String>,
    /// Required for mobile clients.
    pub device_id: Option<String>,
    /// The PKCE S256 challenge; required on this flow.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
}

/// A verified redirect URI and the `state` to return with every response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// A redirect URI registered for the client, exactly as registered.
    pub redirect_uri: String,
    /// The request's `state`, if it had one.
    pub state: Option<String>,
}

impl Callback {
    /// Builds the URL that sends `params`, then `state`, back to the
    /// application. They are added form-encoded to the registered URI's
    /// query, which is kept (RFC 6749 section 3.1.2). A fragment is
    /// dropped, because a redirect URI must not have one.
    pub fn url(&self, params: &[(&str, &str)]) -> String {
        let base = self.redirect_uri.split('#').next().unwrap_or_default();
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(params);
        if let Some(state) = &self.state {
            query.append_pair("state", state);
        }
        let separator = match base.find('?') {
            None => "?",
            Some(_) if base.ends_with('?') || base.ends_with('&') => "",
            Some(_) => "&",
        };
        format!("{base}{separator}{}", query.finish())
    }
}

/// Reason an authorization request cannot proceed.
#[derive(Debug)]
pub enum ConsentError {
    /// The client or the redirect URI is not known good: the member gets an
    /// error page and is never redirected.
    Unverified(OauthError),
    /// Anything else: the error goes back to the application.
    Redirect(Callback, OauthError),
}

/// An authorization request whose every parameter passed the checks.
#[derive(Clone, Debug)]
pub struct VerifiedRequest {
    /// The application.
    pub client: ClientRecord,
    /// The redirect URI and `state` of every response.
    pub callback: Callback,
    /// Whether a refresh token will follow.
    pub access_type: AccessType,
    /// The device, if the client named one.
    pub device_id: Option<String>,
    /// The PKCE S256 challenge to store with the code.
    pub code_challenge: String,
}

/// Checks an authorization request: first the client and its redirect
/// URI, then every other parameter.
pub async fn verify(
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<VerifiedRequest, ConsentError> {
    let (client, callback) =
        verify_client(state, request).await.map_err(ConsentError::Unverified)?;

    match check_parameters(&client, request) {
        Ok((access_type, device_id, code_challenge)) => {
            Ok(VerifiedRequest { client, callback, access_type, device_id, code_challenge })
        }
        Err(error) => {
            tracing::info!(client_id = %client.id, %error, "authorization request rejected");
            Err(ConsentError::Redirect(callback, error))
        }
    }
}

/// Sends `error`, found before the request could be read whole, back to
/// the application when the request's client and redirect URI are known
/// good, and to the error page otherwise.
pub async fn reject_malformed(
    state: &AppState,
    request: &AuthorizationRequest,
    error: OauthError,
) -> ConsentError {
    match verify_client(state, request).await {
        Ok((_, callback)) => ConsentError::Redirect(callback, error),
        Err(fault @ (OauthError::Unavailable | OauthError::Internal(_))) => {
            ConsentError::Unverified(fault)
        }
        Err(_) => ConsentError::Unverified(error),
    }
}

/// Finds the client and checks that `redirect_uri` equals one registered
/// for it, character for character: no decoding or normalising first, so
/// that no variant can smuggle in another destination.
async fn verify_client(
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<(ClientRecord, Callback), OauthError> {
    let client_id = required(request.client_id.as_deref(), "client_id")?;
    let redirect_uri = required(request.redirect_uri.as_deref(), "redirect_uri")?;
    let client = authorize::find_client(state, client_id).await?;

    if !client.redirect_uris.iter().any(|registered| registered == redirect_uri) {
        tracing::warn!(client_id, "redirect_uri is not registered for the client");
        return Err(OauthError::invalid_request(format!(
            "redirect_uri is not registered for client {client_id:?}"
        )));
    }
    let callback = Callback { redirect_uri: redirect_uri.to_owned(), state: request.state.clone() };
    Ok((client, callback))
}

/// Checks the parameters other than the client and the redirect URI.
fn check_parameters(
    client: &ClientRecord,
    request: &AuthorizationRequest,
) -> Result<(AccessType, Option<String>, String), OauthError> {
    match request.response_type.as_deref() {
        Some("code") => {}
        Some(_) => return Err(OauthError::UnsupportedResponseType),
        None => return Err(super::missing("response_type")),
    }
    let access_type = AccessType::parse(request.access_type.as_deref())?;
    let device_id = authorize::device_id_for(client, request.device_id.as_deref())?;

    // Every client here is public, so a code without PKCE could be
    // redeemed by anyone who intercepts it (RFC 9700 section 2.1.1).
    let challenge = pkce::parse_challenge(
        request.code_challenge.as_deref(),
        request.code_challenge_method.as_deref(),
    )?
    .ok_or_else(|| {
        OauthError::invalid_request("code_challenge is required, with code_challenge_method=S256")
    })?;
    Ok((access_type, device_id.map(str::to_owned), challenge))
}

/// Signs the member in and issues a code bound to the request's client,
/// device, redirect URI and PKCE challenge. Wrong credentials, an unknown
/// member and a disabled member are all `invalid_grant`.
pub async fn allow(
    state: &AppState,
    request: &VerifiedRequest,
    username: &str,
    password: &Secret,
    address: Option<IpAddr>,
    now: UnixTime,
) -> Result<Secret, OauthError> {
    let attempt = SignIn { client_id: &request.client.id, username, password, address, now };
    let member = authorize::sign_in(state, &attempt).await?;
    tracing::info!(member_id = member.id, client_id = %request.client.id, "consent given");

    let grant = CodeGrant {
        member: &member,
        client: &request.client,
        device_id: request.device_id.as_deref(),
        access_type: request.access_type,
        redirect_uri: Some(&request.callback.redirect_uri),
        code_challenge: Some(&request.code_challenge),
    };
    authorize::issue_code(state, &grant, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(redirect_uri: &str, state: Option<&str>) -> Callback {
        Callback { redirect_uri: redirect_uri.to_owned(), state: state.map(str::to_owned) }
    }

    #[test]
    fn callback_url_appends_params_then_state() {
        let url = callback("https://app.example/cb", Some("a b&c")).url(&[("code", "hkc_x")]);
        assert_eq!(url, "https://app.example/cb?code=hkc_x&state=a+b%26c");
    }

    #[test]
    fn callback_url_omits_missing_state() {
        let url = callback("https://app.example/cb", None).url(&[("error", "access_denied")]);
        assert_eq!(url, "https://app.example/cb?error=access_denied");
    }

    #[test]
    fn callback_url_keeps_registered_query() {
        let url = callback("https://app.example/cb?tenant=1", None).url(&[("code", "c")]);
        assert_eq!(url, "https://app.example/cb?tenant=1&code=c");
        let url = callback("https://app.example/cb?", None).url(&[("code", "c")]);
        assert_eq!(url, "https://app.example/cb?code=c");
    }

    #[test]
    fn callback_url_drops_fragment() {
        let url = callback("https://app.example/cb#top", None).url(&[("code", "c")]);
        assert_eq!(url, "https://app.example/cb?code=c");
    }

    #[test]
    fn callback_url_works_for_private_schemes() {
        let url = callback("com.example.app:/oauth", Some("s")).url(&[("code", "c")]);
        assert_eq!(url, "com.example.app:/oauth?code=c&state=s");
    }
}
