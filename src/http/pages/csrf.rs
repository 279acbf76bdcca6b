//! The sign-in form's anti-forgery token, as a double-submit cookie. The
//! page sets a random token in an `HttpOnly`, `SameSite=Lax` cookie and
//! puts the same token in a hidden field, and a submission counts only when
//! both arrive and match. Another site can neither read the cookie nor
//! make the browser send it with a cross-site POST, so it cannot forge a
//! sign-in, which would sign the member in as the attacker.
//!
//! Nothing is stored on the server, so any number of servers on one
//! database accept each other's forms.

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

/// Name of the cookie.
pub const COOKIE_NAME: &str = "hktia_csrf";
/// Name of the hidden form field.
pub const FIELD_NAME: &str = "csrf_token";
/// How long a page's form stays valid, in seconds.
const MAX_AGE_SECS: u32 = 3600;
/// Length of a token: 128 random bits in base64url.
const TOKEN_LEN: usize = 22;

/// The token a page carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AntiForgeryToken(String);

impl AntiForgeryToken {
    /// Returns the browser's current token, so that several open tabs
    /// share one, or a new token when it has none.
    pub fn for_page(headers: &HeaderMap) -> Self {
        match cookie(headers) {
            Some(token) if well_formed(token) => Self(token.to_owned()),
            _ => Self(crate::tokens::random_id()),
        }
    }

    /// Returns the token, for the hidden field.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds the `Set-Cookie` value. `Secure` is left out only for a
    /// loopback host, which browsers treat as secure without TLS; anywhere
    /// else the portal must be served over HTTPS.
    pub fn set_cookie(&self, headers: &HeaderMap) -> HeaderValue {
        let secure = if is_loopback_host(headers) { "" } else { "; Secure" };
        let value = format!(
            "{COOKIE_NAME}={}; Path=/oauth2/auth; Max-Age={MAX_AGE_SECS}; HttpOnly; \
             SameSite=Lax{secure}",
            self.0
        );
        // The token is base64url, so the value is always a valid header.
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Tells whether a submitted form's token matches the browser's cookie.
pub fn verify(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (cookie(headers), submitted) {
        (Some(expected), Some(submitted)) if well_formed(expected) => {
            expected.as_bytes().ct_eq(submitted.as_bytes()).into()
        }
        _ => false,
    }
}

fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Returns the value of our cookie from the `Cookie` headers. A browser
/// sends more than one only for different paths; the first one wins.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == COOKIE_NAME).then_some(value))
}

/// Tells whether the request's `Host` is `localhost` or a loopback address.
fn is_loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_static(value));
        }
        headers
    }

    const TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn verify_needs_cookie_and_field_to_match() {
        let with_cookie = headers(&[(header::COOKIE, "a=b; hktia_csrf=AAAAAAAAAAAAAAAAAAAAAA")]);
        assert!(verify(&with_cookie, Some(TOKEN)));
        assert!(!verify(&with_cookie, Some("AAAAAAAAAAAAAAAAAAAAAB")));
        assert!(!verify(&with_cookie, None));
        assert!(!verify(&HeaderMap::new(), Some(TOKEN)));
    }

    #[test]
    fn verify_rejects_malformed_cookie() {
        let empty = headers(&[(header::COOKIE, "hktia_csrf=")]);
        assert!(!verify(&empty, Some("")));
    }

    #[test]
    fn for_page_reuses_well_formed_cookie() {
        let with_cookie = headers(&[(header::COOKIE, "hktia_csrf=AAAAAAAAAAAAAAAAAAAAAA")]);
        assert_eq!(AntiForgeryToken::for_page(&with_cookie).as_str(), TOKEN);
        let bad = headers(&[(header::COOKIE, "hktia_csrf=<script>")]);
        assert_ne!(AntiForgeryToken::for_page(&bad).as_str(), "<script>");
    }

    #[test]
    fn set_cookie_is_secure_except_on_loopback() {
        let token = AntiForgeryToken(TOKEN.to_owned());
        for host in ["127.0.0.1:8080", "localhost", "[::1]:80", "app.localhost:1"] {
            let value = token.set_cookie(&headers(&[(header::HOST, host)]));
            assert!(!value.to_str().unwrap().contains("Secure"), "{host}");
        }
        for host in ["portal.example", "portal.example:443", "10.0.0.1", "[2001:db8::1]"] {
            let value = token.set_cookie(&headers(&[(header::HOST, host)]));
            assert!(value.to_str().unwrap().ends_with("; Secure"), "{host}");
        }
    }
}
