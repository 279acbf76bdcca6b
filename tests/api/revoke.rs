//! `POST /oauth2/revoke` (RFC 7009).

use hktia_portal::store::Store;
use hktia_portal::tokens::Secret;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::lifecycle::field;
use crate::support::{Backend, DEVICE, TestApp, assert_error};

backend_tests!(
    revoke_refresh_token_ends_session,
    revoke_access_token_ends_session,
    revoke_form_body_is_accepted,
    revoke_unknown_token_returns_ok,
    revoke_other_clients_token_is_unauthorized,
    revoke_rejects_bad_requests,
    revoke_unreachable_database_is_503,
);

async fn assert_revoked(app: &TestApp, tokens: &Value) {
    assert_error(app.tokeninfo(field(tokens, "access_token")).await, 400, "invalid_token").await;
    let refreshed = app.refresh(field(tokens, "refresh_token"), json!({})).await;
    assert_error(refreshed, 400, "invalid_grant").await;
}

async fn revoke_refresh_token_ends_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let other = app.tokens().await;

    let response = app.revoke(field(&tokens, "refresh_token"), "web").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_revoked(&app, &tokens).await;
    let untouched = app.tokeninfo(field(&other, "access_token")).await;
    assert_eq!(untouched.status(), 200, "another session of the member must survive");
}

async fn revoke_access_token_ends_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;

    let body = json!({
        "token": field(&tokens, "access_token"),
        "client_id": "web",
        "token_type_hint": "access_token",
    });
    let response = app.post_json("/oauth2/revoke", &body).await;

    assert_eq!(response.status(), 200);
    assert_revoked(&app, &tokens).await;
}

async fn revoke_form_body_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens_for("alice", "mobile", Some(DEVICE)).await;

    let pairs = [
        ("token", field(&tokens, "refresh_token")),
        ("client_id", "mobile"),
        ("token_type_hint", "refresh_token"),
    ];
    let response = app.post_form("/oauth2/revoke", &pairs).await;

    assert_eq!(response.status(), 200);
    let info = app.tokeninfo(field(&tokens, "access_token")).await;
    assert_error(info, 400, "invalid_token").await;
}

async fn revoke_unknown_token_returns_ok(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let unknown = app.revoke("hkr_not-a-token", "web").await;
    assert_eq!(unknown.status(), 200);
    assert_eq!(unknown.json::<Value>().await.unwrap(), json!({}));

    let tokens = app.tokens().await;
    let first = app.revoke(field(&tokens, "refresh_token"), "web").await;
    assert_eq!(first.status(), 200);
    let again = app.revoke(field(&tokens, "refresh_token"), "web").await;
    assert_eq!(again.status(), 200, "revoking twice is still well-formed");
}

async fn revoke_other_clients_token_is_unauthorized(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;

    let response = app.revoke(field(&tokens, "refresh_token"), "mobile").await;

    assert_error(response, 400, "unauthorized_client").await;
    let info = app.tokeninfo(field(&tokens, "access_token")).await;
    assert_eq!(info.status(), 200, "the token of another client must be left alone");
    let refreshed = app.refresh(field(&tokens, "refresh_token"), json!({})).await;
    assert_eq!(refreshed.status(), 200);
}

async fn revoke_rejects_bad_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let refresh = field(&tokens, "refresh_token");

    let no_token = app.post_json("/oauth2/revoke", &json!({ "client_id": "web" })).await;
    assert_error(no_token, 400, "invalid_request").await;
    let no_client = app.post_json("/oauth2/revoke", &json!({ "token": refresh })).await;
    assert_error(no_client, 400, "invalid_request").await;
    let unknown_client = app.revoke(refresh, "nobody").await;
    assert_error(unknown_client, 401, "invalid_client").await;
    let text = app
        .http
        .post(app.url("/oauth2/revoke"))
        .header("content-type", "text/plain")
        .body("token=x&client_id=web")
        .send()
        .await
        .unwrap();
    assert_error(text, 415, "unsupported_media_type").await;
    let get = app.http.get(app.url("/oauth2/revoke")).send().await.unwrap();
    assert_error(get, 405, "method_not_allowed").await;

    let info = app.tokeninfo(field(&tokens, "access_token")).await;
    assert_eq!(info.status(), 200, "a rejected request must revoke nothing");
}

async fn revoke_unreachable_database_is_503(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let refresh = field(&tokens, "refresh_token");

    app.state.store.close().await;
    let response = app.revoke(refresh, "web").await;

    let body = assert_error(response, 503, "temporarily_unavailable").await;
    assert!(!body.to_string().contains(refresh));
    let store = Store::connect(&app.db.url).await.unwrap();
    let digest = Secret::new(field(&tokens, "access_token").to_owned()).digest();
    let access = store.find_access(&digest).await.unwrap().unwrap();
    assert_eq!(access.revoked_at, None, "a 503 must leave the session as it was");
    store.close().await;
}
