//! The demo's browser flow: the link `serve --demo` prints, and
//! `GET /demo/callback`, where the server plays the application's part and
//! shows the code it received with a `curl` command that exchanges it.
//! The route exists only when the server runs with `--demo`.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;

use super::html;
use super::text::{self, Text};
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::{AUTH_PATH, TOKEN_PATH};
use crate::oauth::pkce;
use crate::state::AppState;

/// Path of the demo application's redirect URI.
pub const CALLBACK_PATH: &str = "/demo/callback";

/// The demo application's side of one browser flow: the values it put in
/// the link, which its callback needs to check and exchange the code.
#[derive(Clone, Debug)]
pub struct DemoFlow {
    /// The server's own address, such as `http://127.0.0.1:8080`.
    pub base_url: String,
    /// The demo web client.
    pub client_id: String,
    /// The `state` the link carries.
    pub state: String,
    /// The PKCE verifier whose S256 challenge the link carries.
    pub code_verifier: String,
}

impl DemoFlow {
    /// Creates a flow for `client_id` on the server at `base_url`, with a
    /// new random `state` and PKCE verifier.
    pub fn new(base_url: &str, client_id: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            client_id: client_id.to_owned(),
            state: crate::tokens::random_id(),
            code_verifier: new_verifier(),
        }
    }

    /// Returns the redirect URI registered for the demo client.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.base_url)
    }

    /// Builds the link that opens the consent page for this flow.
    pub fn authorization_url(&self) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("access_type", "offline")
            .append_pair("state", &self.state)
            .append_pair("code_challenge", &pkce::challenge(&self.code_verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("{}{AUTH_PATH}?{query}", self.base_url)
    }

    /// Builds the `curl` command that exchanges `code`, which must be a
    /// code of this server, so that nothing in it needs shell quoting.
    fn exchange_command(&self, code: &str) -> String {
        format!(
            "curl -sS {base}{TOKEN_PATH} \\\n  -d grant_type=authorization_code \\\n  \
             -d client_id={client} \\\n  -d code={code} \\\n  \
             --data-urlencode redirect_uri={redirect} \\\n  -d code_verifier={verifier}",
            base = self.base_url,
            client = self.client_id,
            redirect = self.redirect_uri(),
            verifier = self.code_verifier,
        )
    }
}

/// Handles `GET /demo/callback`.
pub async fn callback(State(state): State<AppState>, uri: Uri) -> Response {
    let Some(flow) = state.demo.as_deref() else { return ApiError::NotFound.into_response() };
    let params = Params::from_query(uri.query()).unwrap_or_default();

    // The code goes into a shell command only when it looks like one of
    // ours: the query is anybody's to write.
    let code = params.get("code");
    let command = code.filter(|code| is_code(code)).map(|code| flow.exchange_command(code));
    let page = DemoCallbackPage {
        t: &text::EN,
        lang: "en",
        client_id: &flow.client_id,
        code,
        command,
        error: params.get("error"),
        state_matches: params.get("state").map(|value| value == flow.state),
        start_url: flow.authorization_url(),
    };
    html(StatusCode::OK, &page)
}

/// Generates a PKCE verifier: 256 random bits in base64url, 43 characters
/// of the alphabet RFC 7636 section 4.1 allows.
fn new_verifier() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_code(value: &str) -> bool {
    value.strip_prefix("hkc_").is_some_and(|rest| {
        !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The demo application's callback page.
#[derive(Template)]
#[template(path = "demo_callback.html")]
struct DemoCallbackPage<'a> {
    t: &'static Text,
    lang: &'static str,
    client_id: &'a str,
    code: Option<&'a str>,
    command: Option<String>,
    error: Option<&'a str>,
    state_matches: Option<bool>,
    start_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_flow_has_valid_verifier() {
        let flow = DemoFlow::new("http://127.0.0.1:8080", "demo-web");
        assert!(pkce::check_verifier(&flow.code_verifier).is_ok());
        assert_eq!(flow.code_verifier.len(), 43);
    }

    #[test]
    fn authorization_url_carries_challenge() {
        let flow = DemoFlow::new("http://127.0.0.1:8080", "demo-web");
        let url = flow.authorization_url();
        assert!(url.starts_with("http://127.0.0.1:8080/oauth2/auth?response_type=code&"));
        assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fdemo%2Fcallback"));
        assert!(url.contains(&format!("code_challenge={}", pkce::challenge(&flow.code_verifier))));
        assert!(url.ends_with("&code_challenge_method=S256"));
    }

    #[test]
    fn is_code_accepts_only_our_codes() {
        assert!(is_code("hkc_abcDEF012-_"));
        assert!(!is_code("hkc_"));
        assert!(!is_code("hkc_a;rm -rf ~"));
        assert!(!is_code("abc"));
    }
}
