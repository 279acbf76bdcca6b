//! The sign-in pause after repeated failures, per member and username.

use std::time::Duration;

use hktia_portal::config::Config;
use reqwest::Response;
use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, DEVICE, PASSWORD, TestApp, assert_error};

backend_tests!(
    lockout_pauses_and_doubles,
    lockout_pause_stops_at_an_hour,
    lockout_success_resets_count,
    lockout_counts_every_spelling_and_path,
    lockout_parallel_attempts_stay_bounded,
    lockout_unknown_username_pauses_alike,
);

const WRONG: &str = "wrong password!";

fn lockout(max_failures: u32) -> Config {
    Config {
        login_max_failures: max_failures,
        login_lockout: Duration::from_secs(60),
        signin_rate: 0,
        ..Config::default()
    }
}

async fn assert_paused(response: Response, retry_after: u64) {
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(retry, Some(retry_after.to_string()));
    assert_error(response, 429, "too_many_requests").await;
}

async fn fail(app: &TestApp, username: &str) {
    let response = app.sign_in_as(username, WRONG, json!({})).await;
    assert_error(response, 400, "invalid_grant").await;
}

async fn lockout_pauses_and_doubles(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(3)).await;
    for _ in 0..3 {
        fail(&app, "alice").await;
    }

    assert_paused(app.sign_in_as("alice", PASSWORD, json!({})).await, 60).await;
    app.clock.advance(59);
    assert_paused(app.sign_in_as("alice", WRONG, json!({})).await, 1).await;

    app.clock.advance(1);
    fail(&app, "alice").await;
    assert_paused(app.sign_in_as("alice", WRONG, json!({})).await, 120).await;
    app.clock.advance(120);
    fail(&app, "alice").await;
    assert_paused(app.sign_in_as("alice", PASSWORD, json!({})).await, 240).await;

    app.clock.advance(240);
    assert_eq!(app.sign_in_as("alice", PASSWORD, json!({})).await.status(), 200);
}

async fn lockout_pause_stops_at_an_hour(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(1)).await;

    for pause in [60, 120, 240, 480, 960, 1920, 3600, 3600] {
        fail(&app, "alice").await;
        assert_paused(app.sign_in_as("alice", WRONG, json!({})).await, pause).await;
        app.clock.advance(pause as i64);
    }
}

async fn lockout_success_resets_count(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(3)).await;
    for _ in 0..2 {
        fail(&app, "alice").await;
    }

    assert_eq!(app.sign_in_as("alice", PASSWORD, json!({})).await.status(), 200);

    for _ in 0..2 {
        fail(&app, "alice").await;
    }
    assert_eq!(app.sign_in_as("alice", PASSWORD, json!({})).await.status(), 200);
    let member = app.state.store.find_member("alice").await.unwrap().unwrap();
    assert_eq!(member.failed_logins, 0);
    assert_eq!(member.locked_until, None);
}

async fn lockout_counts_every_spelling_and_path(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(3)).await;

    fail(&app, "ALICE").await;
    fail(&app, " \u{ff41}lice ").await;
    let mobile = json!({ "client_id": "mobile", "device_id": DEVICE });
    let response = app.sign_in_as("Alice", WRONG, mobile).await;
    assert_error(response, 400, "invalid_grant").await;

    assert_paused(app.sign_in_as("alice", PASSWORD, json!({})).await, 60).await;
}

async fn lockout_parallel_attempts_stay_bounded(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(5)).await;
    let verified_before = app.state.hasher.verifications();

    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = app.http.post(app.url("/oauth2/auth")).json(&json!({
            "response_type": "code",
            "access_type": "online",
            "client_id": "web",
            "grant_type": "password",
            "username": "alice",
            "password": WRONG,
        }));
        attempts.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = attempts.join_all().await;

    let checked = statuses.iter().filter(|&&s| s == 400).count();
    let paused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + paused, 20, "unexpected statuses {statuses:?}");
    assert!(checked <= 5, "{checked} passwords were checked, at most 5 allowed");
    let verified = app.state.hasher.verifications() - verified_before;
    assert!(verified <= 5, "{verified} Argon2 verifications ran, at most 5 allowed");
    assert_paused(app.sign_in_as("alice", PASSWORD, json!({})).await, 60).await;
}

async fn lockout_unknown_username_pauses_alike(backend: Backend) {
    let app = TestApp::spawn_with(backend, lockout(3)).await;
    for _ in 0..3 {
        fail(&app, "nobody").await;
    }

    let response = app.sign_in_as("nobody", WRONG, json!({})).await;

    assert_paused(response, 60).await;
    assert_eq!(app.sign_in_as("alice", PASSWORD, json!({})).await.status(), 200);
}
