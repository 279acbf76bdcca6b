//! `/oauth2/auth` in a member's browser: the sign-in page that names the
//! application, and the member's Allow or Deny.
//!
//! `GET`, and a `POST` without `decision`, check the request and show the
//! page. The page's form posts every parameter back with `decision`, the
//! credentials and the anti-forgery token, and the request is checked again
//! from the start, so the server keeps nothing between the two steps.

use std::net::IpAddr;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;

use super::csrf::{self, AntiForgeryToken};
use super::lang::Lang;
use super::text::Text;
use super::{html, see_other};
use crate::http::AUTH_PATH;
use crate::http::error::error_code_and_description;
use crate::http::params::Params;
use crate::oauth::consent::{self, AuthorizationRequest, Callback, ConsentError, VerifiedRequest};
use crate::oauth::{AccessType, OauthError};
use crate::state::AppState;

/// The form field that carries the member's choice: `allow` or `deny`.
const DECISION_FIELD: &str = "decision";
/// The parameter that chooses the page language.
const LANGUAGE_FIELD: &str = "hl";

/// The sign-in and consent page of the browser flow.
///
/// Shows the application's name, the member's username and password, and
/// Allow or Deny. An unknown client or an unregistered `redirect_uri` gets
/// an error page (400) and is never redirected to. Every later error goes
/// back to the application as a `303` with `error` and `state`.
#[utoipa::path(
    get,
    path = AUTH_PATH,
    operation_id = "consent_page",
    tag = "pages",
    params(
        ("response_type" = String, Query, description = "Must be `code`"),
        ("client_id" = String, Query, description = "The application"),
        ("redirect_uri" = String, Query, description = "A redirect URI registered for the client, character for character"),
        ("access_type" = String, Query, description = "`online` or `offline`"),
        ("code_challenge" = String, Query, description = "The PKCE S256 challenge"),
        ("code_challenge_method" = String, Query, description = "Must be `S256`"),
        ("state" = Option<String>, Query, description = "Returned to the application unchanged"),
        ("device_id" = Option<String>, Query, description = "Required for mobile clients"),
        ("hl" = Option<String>, Query, description = "Page language: `en` or `zh-Hant`"),
    ),
    responses(
        (status = 200, description = "The sign-in page", content_type = "text/html"),
        (status = 303, description = "An error sent back to the application",
            headers(("Location" = String, description = "redirect_uri with error and state"))),
        (status = 400, description = "An error page: unknown client or unregistered redirect_uri",
            content_type = "text/html"),
        (status = 429, response = crate::http::openapi::TooManyRequests),
        (status = 500, description = "An error page", content_type = "text/html"),
        (status = 503, description = "An error page", content_type = "text/html"),
    )
)]
pub async fn get(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    match Params::from_query(uri.query()) {
        Ok(params) => show(&state, &headers, &params).await,
        Err(error) => {
            let salvaged = salvage(uri.query());
            let lang = Lang::choose(None, &headers);
            reject(lang, consent::reject_malformed(&state, &salvaged, error).await)
        }
    }
}

/// Reads the client, redirect URI and state of a query that failed to
/// parse, each only when it appears once with a clean value, so that the
/// error can still go back to a known-good redirect URI.
fn salvage(query: Option<&str>) -> AuthorizationRequest {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let single = |name: &str| {
        let mut values = pairs.iter().filter(|(key, _)| key == name).map(|(_, value)| value);
        match (values.next(), values.next()) {
            (Some(value), None) if !value.is_empty() && !value.contains(['\0', '\u{FFFD}']) => {
                Some(value.clone())
            }
            _ => None,
        }
    };
    AuthorizationRequest {
        client_id: single("client_id"),
        redirect_uri: single("redirect_uri"),
        state: single("state"),
        ..AuthorizationRequest::default()
    }
}

/// Handles `POST /oauth2/auth` with `grant_type` `consent` or none. A plain
/// HTML form that starts the flow gets the page, and the page's own form
/// brings the member's decision. `address` is the client's, for the sign-in
/// count and the audit trail.
pub async fn post(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    address: Option<IpAddr>,
) -> Response {
    match params.get(DECISION_FIELD) {
        None => show(state, headers, params).await,
        Some(decision) => decide(state, headers, params, decision, address).await,
    }
}

async fn show(state: &AppState, headers: &HeaderMap, params: &Params) -> Response {
    let lang = Lang::choose(params.get(LANGUAGE_FIELD), headers);
    let request = authorization_request(params);
    match consent::verify(state, &request).await {
        Ok(verified) => SignInForm { lang, request: &request, verified: &verified, headers }
            .render(None, "", StatusCode::OK),
        Err(error) => reject(lang, error),
    }
}

async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    decision: &str,
    address: Option<IpAddr>,
) -> Response {
    let lang = Lang::choose(params.get(LANGUAGE_FIELD), headers);
    let request = authorization_request(params);
    let verified = match consent::verify(state, &request).await {
        Ok(verified) => verified,
        Err(error) => return reject(lang, error),
    };
    let form = SignInForm { lang, request: &request, verified: &verified, headers };

    if !csrf::verify(headers, params.get(csrf::FIELD_NAME)) {
        tracing::warn!(client_id = %verified.client.id, "sign-in form without a valid token");
        return form.render(Some(Notice::FormExpired), "", StatusCode::FORBIDDEN);
    }
    match decision {
        "allow" => allow(state, &form, params, address).await,
        "deny" => {
            tracing::info!(client_id = %verified.client.id, "consent denied");
            see_other(&verified.callback.url(&[("error", "access_denied")]))
        }
        _ => redirect_error(
            &verified.callback,
            &OauthError::invalid_request("decision must be allow or deny"),
        ),
    }
}

async fn allow(
    state: &AppState,
    form: &SignInForm<'_>,
    params: &Params,
    address: Option<IpAddr>,
) -> Response {
    let username = params.get("username").unwrap_or_default();
    let Some(password) = params.secret("password").filter(|_| !username.is_empty()) else {
        return form.render(Some(Notice::MissingCredentials), username, StatusCode::OK);
    };

    let now = state.now();
    match consent::allow(state, form.verified, username, &password, address, now).await {
        Ok(code) => see_other(&form.verified.callback.url(&[("code", code.expose())])),
        Err(error) => sign_in_failed(form, username, &error),
    }
}

/// Builds the response to a failed Allow. Wrong credentials get the page
/// again, with nothing that reveals which part was wrong. While sign-in is
/// paused, the page comes with `429` and `Retry-After`. Any other error goes
/// back to the application.
fn sign_in_failed(form: &SignInForm<'_>, username: &str, error: &OauthError) -> Response {
    match *error {
        OauthError::InvalidGrant => {
            form.render(Some(Notice::WrongCredentials), username, StatusCode::OK)
        }
        OauthError::TooManyRequests { retry_after } => {
            let notice = Some(Notice::RetryAfter(retry_after));
            let mut response = form.render(notice, username, StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        _ => redirect_error(&form.verified.callback, error),
    }
}

fn authorization_request(params: &Params) -> AuthorizationRequest {
    AuthorizationRequest {
        response_type: params.string("response_type"),
        client_id: params.string("client_id"),
        redirect_uri: params.string("redirect_uri"),
        access_type: params.string("access_type"),
        state: params.string("state"),
        device_id: params.string("device_id"),
        code_challenge: params.string("code_challenge"),
        code_challenge_method: params.string("code_challenge_method"),
    }
}

fn reject(lang: Lang, error: ConsentError) -> Response {
    match error {
        ConsentError::Unverified(error) => error_page(lang, &error),
        ConsentError::Redirect(callback, error) => redirect_error(&callback, &error),
    }
}

/// Sends `error` back to the application (RFC 6749 section 4.1.2.1).
fn redirect_error(callback: &Callback, error: &OauthError) -> Response {
    if let OauthError::Internal(cause) = error {
        tracing::error!(%cause, "authorization request failed");
    }
    let (code, _) = error_code_and_description(error);
    see_other(&callback.url(&[("error", code)]))
}

/// Renders the error page for a request that cannot be sent back to the
/// application, with `400`, or with `503` or `500` when the server is at
/// fault.
fn error_page(lang: Lang, error: &OauthError) -> Response {
    let status = match error {
        OauthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        OauthError::Internal(cause) => {
            tracing::error!(%cause, "authorization request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let t = lang.text();
    let (code, description) = error_code_and_description(error);
    let message = if status.is_server_error() { t.error_server } else { t.error_request };
    let page = ErrorPage {
        t,
        lang: lang.tag(),
        title: t.error_title,
        message: message.to_owned(),
        status: status.as_u16(),
        code,
        description,
    };
    html(status, &page)
}

/// Renders the page for a browser whose address went over the sign-in
/// rate, with `429` and `Retry-After`, in the language `headers` ask for.
pub fn too_many_requests_page(headers: &HeaderMap, retry_after: u64) -> Response {
    let lang = Lang::choose(None, headers);
    let t = lang.text();
    let error = OauthError::TooManyRequests { retry_after };
    let (code, description) = error_code_and_description(&error);
    let page = ErrorPage {
        t,
        lang: lang.tag(),
        title: t.busy_title,
        message: format!("{}{retry_after}{}", t.retry_before, t.retry_after),
        status: StatusCode::TOO_MANY_REQUESTS.as_u16(),
        code,
        description,
    };
    let mut response = html(StatusCode::TOO_MANY_REQUESTS, &page);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// Reason the sign-in page is shown again.
#[derive(Clone, Copy, Debug)]
enum Notice {
    WrongCredentials,
    MissingCredentials,
    FormExpired,
    RetryAfter(u64),
}

impl Notice {
    fn message(self, t: &Text) -> String {
        match self {
            Notice::WrongCredentials => t.wrong_credentials.to_owned(),
            Notice::MissingCredentials => t.missing_credentials.to_owned(),
            Notice::FormExpired => t.form_expired.to_owned(),
            Notice::RetryAfter(seconds) => format!("{}{seconds}{}", t.retry_before, t.retry_after),
        }
    }
}

/// Everything a rendering of the sign-in page depends on.
struct SignInForm<'a> {
    lang: Lang,
    request: &'a AuthorizationRequest,
    verified: &'a VerifiedRequest,
    headers: &'a HeaderMap,
}

impl SignInForm<'_> {
    /// Renders the page with a fresh cookie for its anti-forgery token.
    /// The password is never written back; the username is, after a
    /// failed sign-in, and the focus then goes to the password.
    fn render(&self, notice: Option<Notice>, username: &str, status: StatusCode) -> Response {
        let token = AntiForgeryToken::for_page(self.headers);
        let t = self.lang.text();
        let other = self.lang.other();
        let mut hidden = self.request_fields();
        hidden.push((LANGUAGE_FIELD, self.lang.tag()));
        hidden.push((csrf::FIELD_NAME, token.as_str()));

        let page = ConsentPage {
            t,
            lang: self.lang.tag(),
            other_lang: other.tag(),
            other_name: other.text().language_name,
            switch_href: self.switch_href(other),
            client_name: &self.verified.client.name,
            return_to: return_destination(&self.verified.callback.redirect_uri),
            offline: self.verified.access_type == AccessType::Offline,
            hidden,
            username,
            notice: notice.map(|notice| notice.message(t)),
            focus_password: !username.is_empty(),
        };
        let mut response = html(status, &page);
        response.headers_mut().insert(header::SET_COOKIE, token.set_cookie(self.headers));
        response
    }

    /// Returns the request's parameters, which the form posts back.
    fn request_fields(&self) -> Vec<(&'static str, &str)> {
        let r = self.request;
        let fields = [
            ("response_type", &r.response_type),
            ("client_id", &r.client_id),
            ("redirect_uri", &r.redirect_uri),
            ("access_type", &r.access_type),
            ("state", &r.state),
            ("device_id", &r.device_id),
            ("code_challenge", &r.code_challenge),
            ("code_challenge_method", &r.code_challenge_method),
        ];
        fields.into_iter().filter_map(|(name, value)| Some((name, value.as_deref()?))).collect()
    }

    /// Builds the language switch's link: the same request in `lang`.
    fn switch_href(&self, lang: Lang) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(self.request_fields());
        query.append_pair(LANGUAGE_FIELD, lang.tag());
        format!("{AUTH_PATH}?{}", query.finish())
    }
}

/// Returns where Allow and Deny lead, as the member should see it: the
/// redirect URI's host and port, or its scheme for an app's own scheme.
fn return_destination(redirect_uri: &str) -> String {
    let Ok(url) = url::Url::parse(redirect_uri) else { return redirect_uri.to_owned() };
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => url.scheme().to_owned(),
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    t: &'static Text,
    lang: &'static str,
    other_lang: &'static str,
    other_name: &'static str,
    switch_href: String,
    client_name: &'a str,
    return_to: String,
    offline: bool,
    hidden: Vec<(&'static str, &'a str)>,
    username: &'a str,
    notice: Option<String>,
    focus_password: bool,
}

/// The page for a request that cannot be sent back to the application.
#[derive(Template)]
#[template(path = "consent_error.html")]
struct ErrorPage {
    t: &'static Text,
    lang: &'static str,
    title: &'static str,
    message: String,
    status: u16,
    code: &'static str,
    description: String,
}

#[cfg(test)]
mod tests {
    use crate::store::{ClientKind, ClientRecord};

    use super::*;

    fn verified() -> VerifiedRequest {
        VerifiedRequest {
            client: ClientRecord {
                id: "web".into(),
                kind: ClientKind::Web,
                name: "Web".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                created_at: 0,
            },
            callback: Callback { redirect_uri: "https://app.example/cb".into(), state: None },
            access_type: AccessType::Online,
            device_id: None,
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        }
    }

    fn sign_in_failure(error: OauthError) -> Response {
        let verified = verified();
        let request = AuthorizationRequest::default();
        let headers = HeaderMap::new();
        let form = SignInForm {
            lang: Lang::En,
            request: &request,
            verified: &verified,
            headers: &headers,
        };
        sign_in_failed(&form, "alice", &error)
    }

    #[tokio::test]
    async fn sign_in_paused_shows_page_with_retry_after() {
        let response = sign_in_failure(OauthError::TooManyRequests { retry_after: 120 });

        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "120");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        assert!(response.headers().get(header::LOCATION).is_none());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Too many sign-in attempts. Try again in 120 seconds."));
        assert!(body.contains("value=\"alice\""));
    }

    #[test]
    fn sign_in_server_failures_go_back_to_application() {
        let response = sign_in_failure(OauthError::Unavailable);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = &response.headers()[header::LOCATION];
        assert_eq!(location, "https://app.example/cb?error=temporarily_unavailable");

        let response = sign_in_failure(OauthError::Internal("boom".into()));
        let location = &response.headers()[header::LOCATION];
        assert_eq!(location, "https://app.example/cb?error=server_error");
    }

    #[test]
    fn sign_in_wrong_credentials_shows_page() {
        let response = sign_in_failure(OauthError::InvalidGrant);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::LOCATION).is_none());
    }

    #[test]
    fn return_destination_shows_host_and_port() {
        assert_eq!(return_destination("https://app.example/cb?x=1"), "app.example");
        assert_eq!(return_destination("http://127.0.0.1:8080/demo/callback"), "127.0.0.1:8080");
        assert_eq!(return_destination("com.example.app:/oauth"), "com.example.app");
    }
}
