//! Rate limits per client address.

use hktia_portal::config::Config;
use reqwest::Response;
use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, PASSWORD, TestApp, assert_error};

backend_tests!(
    rate_limit_signin_per_address,
    rate_limit_believes_only_trusted_proxies,
    rate_limit_every_request_when_set,
);

async fn assert_limited(response: Response) {
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After must be at least 1 s, got {retry}");
    assert_error(response, 429, "too_many_requests").await;
}

async fn signin_from(app: &TestApp, forwarded_for: Option<&str>) -> Response {
    let mut request = app.http.post(app.url("/oauth2/auth")).json(&json!({
        "response_type": "code",
        "access_type": "online",
        "client_id": "web",
        "grant_type": "password",
        "username": "alice",
        "password": PASSWORD,
    }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

async fn rate_limit_signin_per_address(backend: Backend) {
    let config = Config { signin_rate: 3, ..Config::default() };
    let app = TestApp::spawn_with(backend, config).await;
    for _ in 0..3 {
        assert_eq!(signin_from(&app, None).await.status(), 200);
    }

    assert_limited(signin_from(&app, None).await).await;
    let consent_form = app.post_form("/oauth2/auth", &[("client_id", "web")]).await;
    assert_limited(consent_form).await;

    let tokeninfo = app.tokeninfo("hka_unknown").await;
    assert_error(tokeninfo, 400, "invalid_token").await;
}

async fn rate_limit_believes_only_trusted_proxies(backend: Backend) {
    let trusted = Config {
        signin_rate: 1,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Config::default()
    };
    let app = TestApp::spawn_with(backend, trusted).await;
    assert_eq!(signin_from(&app, Some("203.0.113.1")).await.status(), 200);
    assert_eq!(signin_from(&app, Some("203.0.113.2")).await.status(), 200);
    assert_limited(signin_from(&app, Some("198.51.100.9, 203.0.113.1")).await).await;

    let untrusted = Config { signin_rate: 1, ..Config::default() };
    let app = TestApp::spawn_with(backend, untrusted).await;
    assert_eq!(signin_from(&app, Some("203.0.113.1")).await.status(), 200);
    assert_limited(signin_from(&app, Some("203.0.113.2")).await).await;
}

async fn rate_limit_every_request_when_set(backend: Backend) {
    let config = Config { rate_limit: 2, ..Config::default() };
    let app = TestApp::spawn_with(backend, config).await;

    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = app.tokeninfo("hka_unknown").await;
        let status = response.status().as_u16();
        if status == 429 {
            assert_limited(response).await;
        }
        statuses.push(status);
    }

    assert!(statuses.contains(&429), "20 quick requests at 2 per second: {statuses:?}");
    assert!(statuses.iter().all(|&s| s == 400 || s == 429), "unexpected {statuses:?}");
}
