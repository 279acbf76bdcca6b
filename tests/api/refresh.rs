//! Refresh rotation, its grace window and reuse detection, on a fixed clock.

use hktia_portal::config::Config;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, assert_error};

backend_tests!(
    refresh_rotates_both_tokens,
    refresh_replaced_token_works_within_grace,
    refresh_reuse_after_grace_revokes_session,
    refresh_without_grace_reuse_revokes_at_once,
    refresh_expired_token_is_invalid_grant,
    refresh_rotation_restarts_lifetime,
    refresh_other_client_is_invalid_grant,
    refresh_online_grant_has_nothing_to_refresh,
);

async fn refresh_token(app: &TestApp, refresh: &str) -> Value {
    let response = app.refresh(refresh, json!({})).await;
    assert_eq!(response.status(), 200, "refresh failed");
    response.json().await.unwrap()
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap().to_owned()
}

async fn refresh_rotates_both_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.tokens().await;

    let response = app.refresh(&text(&first, "refresh_token"), json!({})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: Value = response.json().await.unwrap();
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 3600);
    assert_eq!(second["scope"], "");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    // The earlier access token is not revoked by a rotation.
    assert_eq!(app.tokeninfo(&text(&first, "access_token")).await.status(), 200);
    assert_eq!(app.tokeninfo(&text(&second, "access_token")).await.status(), 200);
}

async fn refresh_replaced_token_works_within_grace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.tokens().await;
    let replaced = text(&first, "refresh_token");
    let second = refresh_token(&app, &replaced).await;

    app.clock.advance(10);
    let retry = refresh_token(&app, &replaced).await;

    // Both branches stay alive: a retry must not sign the member out.
    assert_eq!(app.tokeninfo(&text(&retry, "access_token")).await.status(), 200);
    assert_eq!(app.tokeninfo(&text(&second, "access_token")).await.status(), 200);
    assert_eq!(app.refresh(&text(&second, "refresh_token"), json!({})).await.status(), 200);
}

async fn refresh_reuse_after_grace_revokes_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.tokens().await;
    let replaced = text(&first, "refresh_token");
    let second = refresh_token(&app, &replaced).await;
    let third = refresh_token(&app, &text(&second, "refresh_token")).await;

    app.clock.advance(11);
    let reuse = app.refresh(&replaced, json!({})).await;

    assert_error(reuse, 400, "invalid_grant").await;
    for tokens in [&first, &second, &third] {
        let info = app.tokeninfo(&text(tokens, "access_token")).await;
        assert_error(info, 400, "invalid_token").await;
    }
    let latest = app.refresh(&text(&third, "refresh_token"), json!({})).await;
    assert_error(latest, 400, "invalid_grant").await;
}

async fn refresh_without_grace_reuse_revokes_at_once(backend: Backend) {
    let config = Config { refresh_grace: std::time::Duration::ZERO, ..Config::default() };
    let app = TestApp::spawn_with(backend, config).await;
    let first = app.tokens().await;
    let replaced = text(&first, "refresh_token");
    let second = refresh_token(&app, &replaced).await;

    let reuse = app.refresh(&replaced, json!({})).await;

    assert_error(reuse, 400, "invalid_grant").await;
    let info = app.tokeninfo(&text(&second, "access_token")).await;
    assert_error(info, 400, "invalid_token").await;
}

async fn refresh_expired_token_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.tokens().await;

    app.clock.advance(90 * 24 * 3600);

    let response = app.refresh(&text(&first, "refresh_token"), json!({})).await;
    assert_error(response, 400, "invalid_grant").await;
}

async fn refresh_rotation_restarts_lifetime(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.tokens().await;

    app.clock.advance(89 * 24 * 3600);
    let second = refresh_token(&app, &text(&first, "refresh_token")).await;
    app.clock.advance(89 * 24 * 3600);

    assert_eq!(app.refresh(&text(&second, "refresh_token"), json!({})).await.status(), 200);
}

async fn refresh_other_client_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_client("other", hktia_portal::store::ClientKind::Web, &[]).await;
    let first = app.tokens().await;

    let response = app.refresh(&text(&first, "refresh_token"), json!({"client_id": "other"})).await;

    assert_error(response, 400, "invalid_grant").await;
    let unknown = app.refresh(&text(&first, "refresh_token"), json!({"client_id": "nobody"})).await;
    assert_error(unknown, 401, "invalid_client").await;
}

async fn refresh_online_grant_has_nothing_to_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({"access_type": "online"})).await;
    let tokens: Value = app.exchange(&code, json!({})).await.json().await.unwrap();

    // An access token is not a refresh token.
    let response = app.refresh(&text(&tokens, "access_token"), json!({})).await;

    assert_error(response, 400, "invalid_grant").await;
}
