//! `GET /oauth2/tokeninfo` and `GET /api/v1/me`.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, assert_error};

backend_tests!(
    tokeninfo_returns_documented_fields,
    tokeninfo_accepts_bearer_in_any_case,
    tokeninfo_both_or_neither_is_invalid_request,
    tokeninfo_other_scheme_is_invalid_request,
    tokeninfo_client_id_must_match,
    tokeninfo_expired_token_is_invalid,
    tokeninfo_unknown_token_is_invalid,
    tokeninfo_repeated_parameter_is_invalid_request,
    me_returns_member_record,
    me_without_token_is_challenged,
    me_bad_token_is_invalid_token,
    me_other_scheme_is_challenged,
);

async fn access_token(app: &TestApp) -> String {
    app.tokens().await["access_token"].as_str().unwrap().to_owned()
}

async fn tokeninfo_returns_documented_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;
    app.clock.advance(600);

    let response = app.tokeninfo(&token).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "issued_to": "web",
            "audience": "web",
            "scope": "",
            "expires_in": 3000,
            "access_type": "offline",
        })
    );
}

async fn tokeninfo_accepts_bearer_in_any_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;

    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .http
            .get(app.url("/oauth2/tokeninfo"))
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "scheme {scheme}");
    }
}

async fn tokeninfo_both_or_neither_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;

    let both = app
        .http
        .get(app.url("/oauth2/tokeninfo"))
        .query(&[("access_token", &token)])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(both, 400, "invalid_request").await;

    let neither = app.http.get(app.url("/oauth2/tokeninfo")).send().await.unwrap();
    let body = assert_error(neither, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("access_token"));
}

async fn tokeninfo_other_scheme_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .get(app.url("/oauth2/tokeninfo"))
        .header("Authorization", "Basic d2ViOnNlY3JldA==")
        .send()
        .await
        .unwrap();

    assert_error(response, 400, "invalid_request").await;
}

async fn tokeninfo_client_id_must_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;
    let with_client = |client_id: &str| {
        app.http
            .get(app.url("/oauth2/tokeninfo"))
            .query(&[("access_token", token.as_str()), ("client_id", client_id)])
            .send()
    };

    assert_eq!(with_client("web").await.unwrap().status(), 200);
    assert_error(with_client("mobile").await.unwrap(), 400, "invalid_token").await;
}

async fn tokeninfo_expired_token_is_invalid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;

    app.clock.advance(3599);
    let last_second: Value = app.tokeninfo(&token).await.json().await.unwrap();
    assert_eq!(last_second["expires_in"], 1);
    app.clock.advance(1);

    assert_error(app.tokeninfo(&token).await, 400, "invalid_token").await;
}

async fn tokeninfo_unknown_token_is_invalid(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    assert_error(app.tokeninfo("hka_nothing").await, 400, "invalid_token").await;
}

async fn tokeninfo_repeated_parameter_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;

    let url = app.url(&format!("/oauth2/tokeninfo?access_token={token}&access_token={token}"));
    let response = app.http.get(url).send().await.unwrap();

    assert_error(response, 400, "invalid_request").await;
}

async fn me_returns_member_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = access_token(&app).await;

    let response = app.me(&token).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "username": "alice",
            "display_name": "alice",
            "email": null,
            "created_at": "2026-12-04T08:15:00Z",
        })
    );
}

async fn me_without_token_is_challenged(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.http.get(app.url("/api/v1/me")).send().await.unwrap();

    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"hktia-portal\"");
    assert_error(response, 401, "invalid_request").await;
}

async fn me_bad_token_is_invalid_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.me("hka_nothing").await;

    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_error(response, 401, "invalid_token").await;
}

async fn me_other_scheme_is_challenged(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .get(app.url("/api/v1/me"))
        .header("Authorization", "Basic d2ViOnNlY3JldA==")
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"hktia-portal\"");
    assert_error(response, 401, "invalid_request").await;
}
