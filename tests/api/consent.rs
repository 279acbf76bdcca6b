//! The consent flow of `/oauth2/auth` over HTTP: the sign-in page, Allow
//! and Deny, every redirect and error page, the anti-forgery check, the
//! exact match of `redirect_uri`, and PKCE at the exchange.

use hktia_portal::accounts;
use hktia_portal::store::{ClientKind, NewClient};
use reqwest::Response;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, DEVICE, PASSWORD, REDIRECT_URI, TestApp, assert_error};

backend_tests!(
    consent_page_names_client,
    consent_page_sets_security_headers,
    consent_page_escapes_client_text,
    consent_post_without_grant_type_shows_page,
    consent_allow_redirects_with_code,
    consent_code_needs_verifier_and_redirect_uri,
    consent_deny_redirects_access_denied,
    consent_state_is_echoed_exactly,
    consent_wrong_password_shows_page_again,
    consent_failures_look_alike,
    consent_paused_signin_shows_page_429,
    consent_malformed_query_redirects_when_verified,
    consent_rate_limit_shows_page_to_browsers,
    consent_and_password_grant_share_count,
    consent_missing_credentials_shows_page_again,
    consent_unverified_client_gets_error_page,
    consent_redirect_uri_near_misses_get_error_page,
    consent_near_miss_decision_is_not_redirected,
    consent_request_errors_redirect,
    consent_decision_is_checked_again,
    consent_mobile_client_needs_device_id,
    consent_form_without_token_is_rejected,
    consent_cookie_is_secure_off_loopback,
    consent_page_speaks_traditional_chinese,
    consent_stylesheet_is_served,
    consent_unknown_grant_type_is_rejected,
    demo_callback_shows_code_and_command,
    demo_callback_absent_without_demo,
);

/// The PKCE example of RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "xyz";
const CSP: &str = "default-src 'self'; frame-ancestors 'none'";
const WRONG_CREDENTIALS: &str = "The username or password is incorrect. Try again.";
const FORM_EXPIRED: &str = "This page had expired, so nothing was sent. Sign in again.";

/// Parameters to replace, or with `None` to remove, in [`request`].
type Changes<'a> = &'a [(&'a str, Option<&'a str>)];

/// Builds the parameters of a valid request for the `web` client. Each of
/// `changes` replaces a parameter, or removes it when its value is `None`.
fn request(changes: Changes) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", REDIRECT_URI),
        ("access_type", "offline"),
        ("state", STATE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    for (name, value) in changes {
        params.retain(|(existing, _)| existing != name);
        if let Some(value) = value {
            params.push((name.to_string(), value.to_string()));
        }
    }
    params
}

/// A sign-in page as the browser received it.
struct Page {
    body: String,
    token: String,
    cookie: String,
}

async fn get_auth(app: &TestApp, params: &[(String, String)]) -> Response {
    app.http.get(app.url("/oauth2/auth")).query(params).send().await.unwrap()
}

/// Fetches the sign-in page and reads its token and cookie.
async fn open_page(app: &TestApp, params: &[(String, String)]) -> Page {
    let response = get_auth(app, params).await;
    assert_eq!(response.status(), 200, "the sign-in page did not open");
    let cookie = set_cookie(&response).split(';').next().unwrap().to_owned();
    let body = response.text().await.unwrap();
    let token = hidden_value(&body, "csrf_token").expect("no csrf_token field");
    Page { body, token, cookie }
}

/// Posts the page's form back with `decision` and the credentials.
async fn submit(
    app: &TestApp,
    page: &Page,
    params: &[(String, String)],
    decision: &str,
    username: &str,
    password: &str,
) -> Response {
    let mut form = params.to_vec();
    form.push(("csrf_token".into(), page.token.clone()));
    form.push(("decision".into(), decision.into()));
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    post_decision(app, &form, Some(&page.cookie)).await
}

async fn post_decision(app: &TestApp, form: &[(String, String)], cookie: Option<&str>) -> Response {
    let mut request = app.http.post(app.url("/oauth2/auth")).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// Signs `alice` in and allows, returning the `Location` of the redirect.
async fn allow(app: &TestApp, params: &[(String, String)]) -> String {
    let page = open_page(app, params).await;
    let response = submit(app, &page, params, "allow", "alice", PASSWORD).await;
    assert_eq!(response.status(), 303, "allow did not redirect");
    location(&response).expect("no Location").to_owned()
}

fn location(response: &Response) -> Option<&str> {
    response.headers().get("location").map(|v| v.to_str().unwrap())
}

fn set_cookie(response: &Response) -> &str {
    response.headers()["set-cookie"].to_str().unwrap()
}

fn hidden_value(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}

/// Returns the value of `name` in the query of `url`, decoded.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Checks that `response` is the HTML error page and not a redirect.
async fn assert_error_page(response: Response, case: &str) -> String {
    assert_eq!(response.status(), 400, "{case}: unexpected status");
    assert!(location(&response).is_none(), "{case}: redirected");
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8", "{case}");
    assert_eq!(response.headers()["content-security-policy"], CSP, "{case}");
    let body = response.text().await.unwrap();
    assert!(body.contains("This sign-in link does not work"), "{case}: {body}");
    body
}

async fn add_named_client(app: &TestApp, id: &str, name: &str, kind: ClientKind, uris: &[&str]) {
    let uris: Vec<String> = uris.iter().map(|u| u.to_string()).collect();
    let client = NewClient { id, kind, name, redirect_uris: &uris, now: app.state.now() };
    app.state.store.insert_client(&client).await.unwrap();
}

async fn consent_page_names_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_named_client(&app, "calendar", "Events Calendar", ClientKind::Web, &[REDIRECT_URI]).await;

    let page = open_page(&app, &request(&[("client_id", Some("calendar"))])).await;

    assert!(page.body.contains("<span class=\"app-name\">Events Calendar</span>"));
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("<strong class=\"host\">app.example</strong>"));
    assert!(page.body.contains("<label for=\"username\">Username</label>"));
    assert!(page.body.contains("<label for=\"password\">Password</label>"));
    assert!(page.body.contains("name=\"decision\" value=\"allow\""));
    assert!(page.body.contains("name=\"decision\" value=\"deny\""));
    assert!(page.body.contains("<link rel=\"stylesheet\" href=\"/static/consent.css\">"));
    assert_eq!(hidden_value(&page.body, "client_id").as_deref(), Some("calendar"));
    assert_eq!(hidden_value(&page.body, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(hidden_value(&page.body, "state").as_deref(), Some(STATE));
    assert_eq!(hidden_value(&page.body, "code_challenge").as_deref(), Some(CHALLENGE));
    assert_eq!(page.token.len(), 22);
    assert_eq!(page.cookie, format!("hktia_csrf={}", page.token));
}

async fn consent_page_sets_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = get_auth(&app, &request(&[])).await;

    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = set_cookie(&response);
    let token = cookie.split(';').next().unwrap().strip_prefix("hktia_csrf=").unwrap();
    assert_eq!(
        cookie,
        format!("hktia_csrf={token}; Path=/oauth2/auth; Max-Age=3600; HttpOnly; SameSite=Lax")
    );
    let body = response.text().await.unwrap();
    assert!(!body.contains("<script"), "the page must work without scripts");
    assert!(!body.contains("style="), "inline styles would break the policy");
    assert!(!body.contains(" src="), "the page loads nothing but its stylesheet");

    // The redirects carry the same headers: no Referer follows them.
    let page = open_page(&app, &request(&[])).await;
    let response = submit(&app, &page, &request(&[]), "deny", "", "").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert_eq!(response.headers()["content-security-policy"], CSP);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

async fn consent_page_escapes_client_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = "<script>alert(1)</script>";
    add_named_client(&app, "evil", name, ClientKind::Web, &[REDIRECT_URI]).await;
    let state = "\"><script>alert(2)</script>";

    let params = request(&[("client_id", Some("evil")), ("state", Some(state))]);
    let page = open_page(&app, &params).await;

    assert!(!page.body.contains("<script>"), "unescaped markup in {}", page.body);
    assert!(page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(page.body.contains("value=\"&#34;&#62;&#60;script&#62;alert(2)&#60;/script&#62;\""));

    // What the member typed comes back escaped too.
    let response = submit(&app, &page, &params, "allow", "<b>alice</b>", "wrong password").await;
    let body = response.text().await.unwrap();
    assert!(body.contains("value=\"&#60;b&#62;alice&#60;/b&#62;\""));
    assert!(!body.contains("<b>"));
}

async fn consent_post_without_grant_type_shows_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let form = request(&[]);
    let response = app.http.post(app.url("/oauth2/auth")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-security-policy"], CSP);
    let body = response.text().await.unwrap();
    assert!(body.contains("Sign in to continue to <span class=\"app-name\">web</span>"));

    let form = request(&[("grant_type", Some("consent"))]);
    let response = app.http.post(app.url("/oauth2/auth")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("set-cookie"));

    let body: serde_json::Map<String, Value> =
        request(&[]).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let response = app.post_json("/oauth2/auth", &Value::Object(body)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
}

async fn consent_allow_redirects_with_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let location = allow(&app, &request(&[])).await;

    let code = query_value(&location, "code").unwrap();
    assert!(code.starts_with("hkc_"), "{code}");
    assert_eq!(location, format!("{REDIRECT_URI}?code={code}&state={STATE}"));

    let response =
        app.exchange(&code, json!({"redirect_uri": REDIRECT_URI, "code_verifier": VERIFIER})).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("hkr_"));
    let access_token = tokens["access_token"].as_str().unwrap();
    let me: Value = app.me(access_token).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
}

async fn consent_code_needs_verifier_and_redirect_uri(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = query_value(&allow(&app, &request(&[])).await, "code").unwrap();
    let other_verifier = "a".repeat(43);

    let cases = [
        (json!({"redirect_uri": REDIRECT_URI}), 400, "invalid_grant"),
        (
            json!({"redirect_uri": REDIRECT_URI, "code_verifier": other_verifier}),
            400,
            "invalid_grant",
        ),
        (json!({"redirect_uri": REDIRECT_URI, "code_verifier": "short"}), 400, "invalid_request"),
        (
            json!({"redirect_uri": REDIRECT_URI, "code_verifier": format!("{VERIFIER}+")}),
            400,
            "invalid_request",
        ),
        (json!({"code_verifier": VERIFIER}), 400, "invalid_grant"),
        (
            json!({"redirect_uri": format!("{REDIRECT_URI}/"), "code_verifier": VERIFIER}),
            400,
            "invalid_grant",
        ),
    ];
    for (extra, status, error) in cases {
        let case = extra.to_string();
        let body = assert_error(app.exchange(&code, extra).await, status, error).await;
        assert_eq!(body["error"], error, "{case}");
    }

    // None of the failures spent the code.
    let response =
        app.exchange(&code, json!({"redirect_uri": REDIRECT_URI, "code_verifier": VERIFIER})).await;
    assert_eq!(response.status(), 200);
}

async fn consent_deny_redirects_access_denied(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let params = request(&[]);
    let page = open_page(&app, &params).await;
    let response = submit(&app, &page, &params, "deny", "", "").await;

    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        Some("https://app.example/callback?error=access_denied&state=xyz")
    );

    let params = request(&[("state", None)]);
    let page = open_page(&app, &params).await;
    let response = submit(&app, &page, &params, "deny", "alice", PASSWORD).await;
    assert_eq!(location(&response), Some("https://app.example/callback?error=access_denied"));
}

async fn consent_state_is_echoed_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = "a b&c=d/é+%20#frag?";

    let location = allow(&app, &request(&[("state", Some(state))])).await;
    assert_eq!(query_value(&location, "state").as_deref(), Some(state));
    assert!(location.ends_with("&state=a+b%26c%3Dd%2F%C3%A9%2B%2520%23frag%3F"), "{location}");

    let location = allow(&app, &request(&[("state", None)])).await;
    assert!(query_value(&location, "state").is_none(), "{location}");
    assert!(!location.contains('&'), "{location}");
}

async fn consent_wrong_password_shows_page_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let params = request(&[]);
    let page = open_page(&app, &params).await;
    let response = submit(&app, &page, &params, "allow", "alice", "wrong password").await;

    assert_eq!(response.status(), 200);
    assert!(location(&response).is_none());
    assert_eq!(response.headers()["content-security-policy"], CSP);
    let body = response.text().await.unwrap();
    assert!(body.contains(&format!(
        "<p class=\"notice\" id=\"notice\" role=\"alert\">{WRONG_CREDENTIALS}</p>"
    )));
    assert!(body.contains("value=\"alice\""), "the username is kept");
    assert!(!body.contains("wrong password"), "the password is never written back");
    assert!(body.contains("required autofocus aria-describedby=\"notice\""));
    assert_eq!(hidden_value(&body, "csrf_token"), Some(page.token.clone()));

    // The page still works after a failure.
    let response = submit(&app, &page, &params, "allow", "alice", PASSWORD).await;
    assert_eq!(response.status(), 303);
}

async fn consent_failures_look_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("bob", PASSWORD).await;
    accounts::set_disabled(&app.state.store, "bob", true, app.state.now()).await.unwrap();
    let params = request(&[]);
    let page = open_page(&app, &params).await;

    let wrong = submit(&app, &page, &params, "allow", "bob", "wrong password").await;
    let disabled = submit(&app, &page, &params, "allow", "bob", PASSWORD).await;
    let unknown = submit(&app, &page, &params, "allow", "nobody", PASSWORD).await;
    let too_short = submit(&app, &page, &params, "allow", "bob", "short").await;

    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains(WRONG_CREDENTIALS));
    assert_eq!(disabled.status(), 200);
    assert_eq!(disabled.text().await.unwrap(), wrong);
    assert_eq!(unknown.status(), 200);
    assert_eq!(unknown.text().await.unwrap().replace("nobody", "bob"), wrong);
    assert_eq!(too_short.status(), 200);
    assert_eq!(too_short.text().await.unwrap(), wrong);
}

async fn consent_missing_credentials_shows_page_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let params = request(&[]);
    let page = open_page(&app, &params).await;
    for (username, password) in [("alice", ""), ("", PASSWORD), ("", "")] {
        let response = submit(&app, &page, &params, "allow", username, password).await;
        assert_eq!(response.status(), 200, "{username:?} {password:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains("Enter your username and password, then choose Allow."));
    }
}

async fn consent_unverified_client_gets_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let cases = [
        ("unknown client", request(&[("client_id", Some("nobody"))]), "invalid_client"),
        ("missing client", request(&[("client_id", None)]), "invalid_request"),
        ("missing redirect", request(&[("redirect_uri", None)]), "invalid_request"),
        (
            "unregistered redirect",
            request(&[("redirect_uri", Some("https://evil.example/callback"))]),
            "invalid_request",
        ),
        (
            "client without redirect URIs",
            request(&[("client_id", Some("mobile")), ("device_id", Some(DEVICE))]),
            "invalid_request",
        ),
    ];
    for (case, params, code) in cases {
        let body = assert_error_page(get_auth(&app, &params).await, case).await;
        assert!(body.contains(&format!("<code>Error 400: {code}</code>")), "{case}: {body}");
    }

    // A malformed query cannot be trusted either.
    let url = format!("{}?client_id=web&client_id=web", app.url("/oauth2/auth"));
    let response = app.http.get(url).send().await.unwrap();
    assert_error_page(response, "repeated client_id").await;
}

/// Near misses of [`REDIRECT_URI`]: each must be rejected without a
/// redirect.
const NEAR_MISSES: &[&str] = &[
    "https://app.example/callback/",
    "https://APP.example/callback",
    "https://app.example/Callback",
    "https://app.example/callback/extra",
    "https://app.example/x/../callback",
    "https://app.example/callback?next=https://evil.example",
    "https://app.example:8443/callback",
    "https://app.example:443/callback",
    "https://app.example/callback#fragment",
    "https://app.example@evil.example/callback",
    "https://evil.example@app.example/callback",
    "https://app.example/%63allback",
    "https://app.example%2Fcallback",
    "https%3A%2F%2Fapp.example%2Fcallback",
    "http://app.example/callback",
    "https://app.example/callback ",
    " https://app.example/callback",
    "javascript:alert(document.cookie)//https://app.example/callback",
    "data:text/html,<script>alert(1)</script>",
    "//app.example/callback",
];

async fn consent_redirect_uri_near_misses_get_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for near_miss in NEAR_MISSES {
        let params = request(&[("redirect_uri", Some(near_miss))]);
        let body = assert_error_page(get_auth(&app, &params).await, near_miss).await;
        assert!(body.contains("redirect_uri is not registered"), "{near_miss}: {body}");

        let response = app.http.post(app.url("/oauth2/auth")).form(&params).send().await.unwrap();
        assert_error_page(response, near_miss).await;
    }
}

async fn consent_near_miss_decision_is_not_redirected(backend: Backend) {
    // Forty form posts from one address: more than the sign-in rate allows.
    let config = hktia_portal::config::Config { signin_rate: 0, ..Default::default() };
    let app = TestApp::spawn_with(backend, config).await;
    let page = open_page(&app, &request(&[])).await;

    for near_miss in NEAR_MISSES {
        let params = request(&[("redirect_uri", Some(near_miss))]);
        for decision in ["allow", "deny"] {
            let response = submit(&app, &page, &params, decision, "alice", PASSWORD).await;
            assert_error_page(response, near_miss).await;
        }
    }
}

async fn consent_request_errors_redirect(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let cases: &[(Changes, &str)] = &[
        (&[("response_type", None)], "invalid_request"),
        (&[("response_type", Some("token"))], "unsupported_response_type"),
        (&[("response_type", Some("code id_token"))], "unsupported_response_type"),
        (&[("access_type", None)], "invalid_request"),
        (&[("access_type", Some("forever"))], "invalid_request"),
        (&[("code_challenge", None), ("code_challenge_method", None)], "invalid_request"),
        (&[("code_challenge", None)], "invalid_request"),
        (&[("code_challenge_method", None)], "invalid_request"),
        (&[("code_challenge_method", Some("plain"))], "invalid_request"),
        (
            &[("code_challenge", Some(VERIFIER)), ("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (&[("code_challenge", Some("too-short"))], "invalid_request"),
    ];
    for (changes, error) in cases {
        let response = get_auth(&app, &request(changes)).await;
        assert_eq!(response.status(), 303, "{changes:?}");
        assert_eq!(
            location(&response).unwrap(),
            format!("{REDIRECT_URI}?error={error}&state={STATE}"),
            "{changes:?}"
        );
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    }

    let response = get_auth(&app, &request(&[("access_type", None), ("state", None)])).await;
    assert_eq!(location(&response), Some("https://app.example/callback?error=invalid_request"));
}

async fn consent_decision_is_checked_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = open_page(&app, &request(&[])).await;

    // The form's parameters are checked again: an edited one fails as it
    // would have at the start, before any credentials are looked at.
    let edited = request(&[("code_challenge", None)]);
    let response = submit(&app, &page, &edited, "allow", "alice", PASSWORD).await;
    assert_eq!(
        location(&response),
        Some("https://app.example/callback?error=invalid_request&state=xyz")
    );

    let response = submit(&app, &page, &request(&[]), "maybe", "alice", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        Some("https://app.example/callback?error=invalid_request&state=xyz")
    );
}

async fn consent_mobile_client_needs_device_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let redirect = "com.example.app:/oauth2redirect";
    app.add_client("phone", ClientKind::Mobile, &[redirect]).await;
    let base = [("client_id", Some("phone")), ("redirect_uri", Some(redirect))];

    let response = get_auth(&app, &request(&base)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        Some("com.example.app:/oauth2redirect?error=invalid_request&state=xyz")
    );

    let params = request(&[base[0], base[1], ("device_id", Some(DEVICE))]);
    let location = allow(&app, &params).await;
    assert!(location.starts_with("com.example.app:/oauth2redirect?code=hkc_"), "{location}");
    let code = query_value(&location, "code").unwrap();

    let exchange = |device: &str| {
        json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "phone",
            "device_id": device,
            "redirect_uri": redirect,
            "code_verifier": VERIFIER,
        })
    };
    let response = app.post_json("/oauth2/token", &exchange("another-device")).await;
    assert_error(response, 400, "invalid_grant").await;
    let response = app.post_json("/oauth2/token", &exchange(DEVICE)).await;
    assert_eq!(response.status(), 200);
}

async fn consent_form_without_token_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let params = request(&[]);
    let page = open_page(&app, &params).await;
    let mut form = params.clone();
    form.push(("decision".into(), "allow".into()));
    form.push(("username".into(), "alice".into()));
    form.push(("password".into(), PASSWORD.into()));
    let with_token = |token: &str| {
        let mut form = form.clone();
        form.push(("csrf_token".into(), token.into()));
        form
    };
    let other_token = "B".repeat(22);

    let cases = [
        ("no token", form.clone(), Some(page.cookie.as_str())),
        ("no cookie", with_token(&page.token), None),
        ("other token", with_token(&other_token), Some(page.cookie.as_str())),
        ("forged pair", with_token("<x>"), Some("hktia_csrf=<x>")),
        ("empty cookie", with_token(&page.token), Some("hktia_csrf=")),
    ];
    for (case, form, cookie) in cases {
        let response = post_decision(&app, &form, cookie).await;
        assert_eq!(response.status(), 403, "{case}");
        assert!(location(&response).is_none(), "{case}");
        assert_eq!(response.headers()["content-security-policy"], CSP, "{case}");
        assert!(response.headers().contains_key("set-cookie"), "{case}: a new token is set");
        let body = response.text().await.unwrap();
        assert!(body.contains(FORM_EXPIRED), "{case}");
        assert!(!body.contains("value=\"alice\""), "{case}");
    }

    // A forged Deny is rejected too.
    let mut deny = params.clone();
    deny.push(("decision".into(), "deny".into()));
    assert_eq!(post_decision(&app, &deny, Some(&page.cookie)).await.status(), 403);

    let response = post_decision(&app, &with_token(&page.token), Some(&page.cookie)).await;
    assert_eq!(response.status(), 303);
}

async fn consent_cookie_is_secure_off_loopback(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .get(app.url("/oauth2/auth"))
        .query(&request(&[]))
        .header("host", "portal.example")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response);
    assert!(cookie.ends_with("; HttpOnly; SameSite=Lax; Secure"), "{cookie}");
}

async fn consent_page_speaks_traditional_chinese(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let get = |accept: &'static str, params: Vec<(String, String)>| {
        app.http
            .get(app.url("/oauth2/auth"))
            .query(&params)
            .header("accept-language", accept)
            .send()
    };

    let response = get("zh-HK,zh;q=0.9,en;q=0.8", request(&[])).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("<html lang=\"zh-Hant\">"));
    assert!(body.contains("登入以繼續使用 <span class=\"app-name\">web</span>"));
    assert!(body.contains("<label for=\"username\">用戶名稱</label>"));
    assert!(body.contains(">允許</button>"));
    assert!(body.contains(">拒絕</button>"));
    assert!(body.contains("lang=\"en\" hreflang=\"en\">English</a>"));
    assert!(body.contains("&#38;hl=en\""), "the switch links to the English page");
    assert_eq!(hidden_value(&body, "hl").as_deref(), Some("zh-Hant"));

    let response = get("zh-TW", request(&[("hl", Some("en"))])).await.unwrap();
    let body = response.text().await.unwrap();
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("lang=\"zh-Hant\" hreflang=\"zh-Hant\">繁體中文</a>"));

    // The language stays through a failed sign-in, and on the error page.
    let params = request(&[("hl", Some("zh-Hant"))]);
    let page = open_page(&app, &params).await;
    let response = submit(&app, &page, &params, "allow", "alice", "wrong password").await;
    let body = response.text().await.unwrap();
    assert!(body.contains("用戶名稱或密碼不正確，請再試一次。"));

    let response = get("zh-HK", request(&[("client_id", Some("nobody"))])).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("此登入連結無法使用"));
}

async fn consent_stylesheet_is_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.http.get(app.url("/static/consent.css")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body = response.text().await.unwrap();
    assert!(body.contains(".allow"));
}

async fn consent_unknown_grant_type_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"grant_type": "implicit"})).await;

    assert_error(response, 400, "unsupported_grant_type").await;
}

async fn demo_callback_shows_code_and_command(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let flow = app.state.demo.clone().unwrap();
    let link = flow.authorization_url();
    let params: Vec<(String, String)> =
        form_urlencoded::parse(link.split_once('?').unwrap().1.as_bytes()).into_owned().collect();

    let location = allow(&app, &params).await;
    assert!(location.starts_with(&format!("{}/demo/callback?code=hkc_", app.base)), "{location}");
    let code = query_value(&location, "code").unwrap();
    let response = app.http.get(location.as_str()).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-security-policy"], CSP);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let body = response.text().await.unwrap();
    assert!(body.contains(&format!("<pre><code>{code}</code></pre>")));
    assert!(body.contains("The returned <code>state</code> matches the one in the link."));
    assert!(body.contains(&format!("-d code={code} \\")));
    assert!(body.contains(&format!("-d code_verifier={}", flow.code_verifier)));

    // The command's parameters exchange the code.
    let response = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "demo-web"),
                ("code", &code),
                ("redirect_uri", &flow.redirect_uri()),
                ("code_verifier", &flow.code_verifier),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);

    // Anything else in the query is shown as text, and never in a command.
    let url = format!("{}/demo/callback?code=%3Cb%3E%3B+rm&state=other", app.base);
    let body = app.http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("&#60;b&#62;; rm"));
    assert!(!body.contains("curl"));
    assert!(body.contains("does not match"));
}

async fn demo_callback_absent_without_demo(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.http.get(app.url("/demo/callback?code=x")).send().await.unwrap();

    assert_error(response, 404, "not_found").await;
}

async fn consent_paused_signin_shows_page_429(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let params = request(&[]);
    let page = open_page(&app, &params).await;

    for _ in 0..5 {
        let response = submit(&app, &page, &params, "allow", "alice", "wrong password").await;
        assert_eq!(response.status(), 200);
    }
    let paused = submit(&app, &page, &params, "allow", "alice", PASSWORD).await;

    assert_eq!(paused.status(), 429);
    assert!(location(&paused).is_none(), "a paused sign-in was redirected");
    assert_eq!(paused.headers()["retry-after"], "60");
    assert_eq!(paused.headers()["content-type"], "text/html; charset=utf-8");
}

async fn consent_and_password_grant_share_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let params = request(&[]);
    let page = open_page(&app, &params).await;

    for _ in 0..3 {
        let response = submit(&app, &page, &params, "allow", "ALICE", "wrong password").await;
        assert_eq!(response.status(), 200);
    }
    for _ in 0..2 {
        let response = app.password_grant(json!({"password": "wrong password"})).await;
        assert_error(response, 400, "invalid_grant").await;
    }

    let paused = submit(&app, &page, &params, "allow", "alice", PASSWORD).await;
    assert_eq!(paused.status(), 429);
    let response = app.password_grant(json!({})).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "too_many_requests").await;
}

async fn consent_malformed_query_redirects_when_verified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let base = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(request(&[]).iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();

    let cases = [
        ("repeated access_type", format!("{base}&access_type=online"), Some(STATE)),
        ("repeated state", format!("{base}&state=other"), None),
        ("NUL in a parameter", format!("{base}&hl=%00"), Some(STATE)),
        ("invalid UTF-8", format!("{base}&scope=%FF"), Some(STATE)),
    ];
    for (case, query, state) in cases {
        let response = app.http.get(format!("{}?{query}", app.url("/oauth2/auth"))).send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), 303, "{case}");
        let location = location(&response).unwrap().to_owned();
        assert!(location.starts_with(REDIRECT_URI), "{case}: {location}");
        assert_eq!(query_value(&location, "error").as_deref(), Some("invalid_request"), "{case}");
        assert_eq!(query_value(&location, "state").as_deref(), state, "{case}");
    }
}

async fn consent_rate_limit_shows_page_to_browsers(backend: Backend) {
    let config = hktia_portal::config::Config { signin_rate: 1, ..Default::default() };
    let app = TestApp::spawn_with(backend, config).await;
    let form = |accept: &'static str| {
        app.http.post(app.url("/oauth2/auth")).header("accept", accept).form(&request(&[])).send()
    };

    assert_eq!(form("text/html").await.unwrap().status(), 200);
    let browser = form("text/html,application/xhtml+xml").await.unwrap();
    let client = form("application/json").await.unwrap();

    assert_eq!(browser.status(), 429);
    assert!(browser.headers().contains_key("retry-after"));
    assert_eq!(browser.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(browser.headers()["content-security-policy"], CSP);
    let body = browser.text().await.unwrap();
    assert!(body.contains("<h1>Too many sign-in attempts</h1>"), "{body}");
    assert!(client.headers().contains_key("retry-after"));
    assert_error(client, 429, "too_many_requests").await;
}
