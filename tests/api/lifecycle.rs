//! What ends sessions everywhere at once, and the cleanup of expired rows.

use std::time::Duration;

use hktia_portal::accounts::{self, Password};
use hktia_portal::cleanup::cleanup;
use hktia_portal::config::Config;
use hktia_portal::store::Removed;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::lifecycle::field;
use crate::support::{Backend, PASSWORD, TestApp, assert_error};

backend_tests!(
    lifecycle_disable_ends_sessions_everywhere,
    lifecycle_password_change_ends_sessions,
    lifecycle_client_removal_ends_sessions,
    lifecycle_cleanup_keeps_live_rows,
);

/// Starts a second server over the same database.
async fn second_server(app: &TestApp) -> TestApp {
    TestApp::start(app.db.clone(), Config::default()).await
}

async fn assert_ended(servers: [&TestApp; 2], tokens: &Value) {
    for server in servers {
        let info = server.tokeninfo(field(tokens, "access_token")).await;
        assert_error(info, 400, "invalid_token").await;
        let refreshed = server.refresh(field(tokens, "refresh_token"), json!({})).await;
        assert_error(refreshed, 400, "invalid_grant").await;
    }
}

async fn lifecycle_disable_ends_sessions_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = second_server(&app).await;
    let tokens = app.tokens().await;
    assert_eq!(other.tokeninfo(field(&tokens, "access_token")).await.status(), 200);

    let now = app.state.now();
    accounts::set_disabled(&other.state.store, "alice", true, now).await.unwrap();

    assert_ended([&app, &other], &tokens).await;
    let me = other.me(field(&tokens, "access_token")).await;
    assert_error(me, 401, "invalid_token").await;
    accounts::set_disabled(&app.state.store, "alice", false, now).await.unwrap();
    let info = app.tokeninfo(field(&tokens, "access_token")).await;
    assert_error(info, 400, "invalid_token").await;
    assert_eq!(app.tokens().await["token_type"], "Bearer", "enabled again, alice signs in");
}

async fn lifecycle_password_change_ends_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = second_server(&app).await;
    let tokens = app.tokens().await;

    let password = Password::new("a brand new password".to_owned()).unwrap();
    let (store, hasher) = (&other.state.store, &other.state.hasher);
    accounts::set_password(store, hasher, "alice", &password, other.state.now()).await.unwrap();

    assert_ended([&app, &other], &tokens).await;
    let old = app.sign_in_as("alice", PASSWORD, json!({})).await;
    assert_error(old, 400, "invalid_grant").await;
    let new = app.sign_in_as("alice", "a brand new password", json!({})).await;
    assert_eq!(new.status(), 200);
}

async fn lifecycle_client_removal_ends_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = second_server(&app).await;
    let tokens = app.tokens().await;

    assert!(other.state.store.remove_client("web").await.unwrap());

    for server in [&app, &other] {
        let info = server.tokeninfo(field(&tokens, "access_token")).await;
        assert_error(info, 400, "invalid_token").await;
        let refreshed = server.refresh(field(&tokens, "refresh_token"), json!({})).await;
        assert_error(refreshed, 401, "invalid_client").await;
    }
}

async fn lifecycle_cleanup_keeps_live_rows(backend: Backend) {
    let config = Config { audit_retention: Duration::from_secs(86_400), ..Config::default() };
    let app = TestApp::spawn_with(backend, config.clone()).await;
    let store = &app.state.store;
    let revoked = app.tokens().await;
    app.revoke(field(&revoked, "refresh_token"), "web").await;
    let _unused_code = app.code(json!({})).await;
    let online = app.code(json!({ "access_type": "online" })).await;
    let online: Value = app.exchange(&online, json!({})).await.json().await.unwrap();
    app.sign_in_as("nobody", "wrong password!", json!({})).await;

    app.clock.advance(86_401);
    let live = app.tokens().await;
    let now = app.state.now();
    let removed = cleanup(store, now, config.audit_retention).await.unwrap();

    // The revoked session and the expired online one go, each with its
    // tokens and code. The unused code, the audit events and the unknown
    // username of the first day go too.
    assert_eq!(removed.sessions, 2);
    assert_eq!(removed.codes, 1);
    assert_eq!(removed.tokens, 0, "expired tokens of ended sessions go with them");
    assert!(removed.audit_events >= 5, "{removed:?}");
    assert_eq!(removed.unknown_signins, 1);
    assert_eq!(app.tokeninfo(field(&live, "access_token")).await.status(), 200);
    assert_eq!(app.refresh(field(&live, "refresh_token"), json!({})).await.status(), 200);
    let info = app.tokeninfo(field(&online, "access_token")).await;
    assert_error(info, 400, "invalid_token").await;

    app.clock.advance(3600);
    let removed = cleanup(store, app.state.now(), config.audit_retention).await.unwrap();
    assert_eq!(removed.tokens, 2, "the expired access tokens of the live session go");
    assert_eq!(removed.sessions, 0);
    let again = cleanup(store, app.state.now(), config.audit_retention).await.unwrap();
    assert_eq!(again, Removed::default());
}
