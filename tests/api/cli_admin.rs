//! The `audit list` and `user unlock` commands, run as the built binary.

use std::time::Duration;

use hktia_portal::clock::{Clock, SystemClock};
use hktia_portal::config::Config;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::lifecycle::field;
use crate::support::{Backend, PASSWORD, TestApp, assert_error};

backend_tests!(cli_audit_list_filters_events, cli_user_unlock_lifts_pause,);

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

async fn cli_audit_list_filters_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("bob", PASSWORD).await;
    let tokens = app.tokens().await;
    app.sign_in_as("bob", "wrong password!", json!({})).await;
    app.sign_in_as("nobody", "typed by mistake", json!({})).await;
    app.clock.advance(60);
    app.revoke(field(&tokens, "refresh_token"), "web").await;

    let all: Value =
        serde_json::from_str(&stdout(&app.cli(&["audit", "list", "--json"], ""))).unwrap();
    let events: Vec<&str> =
        all.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["signin_succeeded", "signin_failed", "signin_failed", "token_revoked"]);
    let first = &all[0];
    assert_eq!(first["occurred_at"], "2026-12-04T08:15:00Z");
    assert_eq!(first["username"], "alice");
    assert_eq!(first["client_id"], "web");
    assert_eq!(first["address"], "127.0.0.1");
    assert_eq!(all[2]["detail"], "unknown member");
    assert_eq!(all[2]["username"], Value::Null, "a typed unknown name is never stored");
    assert_eq!(all[3]["grant_id"].as_str().map(str::len), Some(22));
    let text = all.to_string();
    for secret in [PASSWORD, "wrong password!", "typed by mistake", field(&tokens, "refresh_token")]
    {
        assert!(!text.contains(secret), "the audit trail holds a secret");
    }

    let bob = app.cli(&["audit", "list", "--member", "BOB", "--json"], "");
    let bob: Value = serde_json::from_str(&stdout(&bob)).unwrap();
    assert_eq!(bob.as_array().unwrap().len(), 1);
    assert_eq!(bob[0]["detail"], "wrong password");

    let since = app.cli(&["audit", "list", "--since", "2026-12-04T08:16:00Z"], "");
    let table = stdout(&since);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("TIME"));
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[..4], ["2026-12-04T08:16:00Z", "token_revoked", "alice", "web"]);

    let bad_time = app.cli(&["audit", "list", "--since", "yesterday"], "");
    assert!(!bad_time.status.success());
    assert!(String::from_utf8_lossy(&bad_time.stderr).contains("RFC 3339"));
    let unknown = app.cli(&["audit", "list", "--member", "nobody"], "");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("user \"nobody\" not found"));
}

async fn cli_user_unlock_lifts_pause(backend: Backend) {
    let config = Config {
        login_max_failures: 2,
        login_lockout: Duration::from_secs(600),
        ..Config::default()
    };
    let app = TestApp::spawn_with(backend, config).await;
    // `user list` reads the system clock, so the pause must last past it.
    app.clock.advance(SystemClock.now() - app.state.now());
    for _ in 0..2 {
        app.sign_in_as("alice", "wrong password!", json!({})).await;
    }
    let paused = app.sign_in_as("alice", PASSWORD, json!({})).await;
    assert_error(paused, 429, "too_many_requests").await;
    let listed = stdout(&app.cli(&["user", "list"], ""));
    assert!(listed.contains("paused until "), "{listed}");

    let output = app.cli(&["user", "unlock", "Alice"], "");

    assert_eq!(stdout(&output), "user \"Alice\" unlocked\n");
    assert_eq!(app.sign_in_as("alice", PASSWORD, json!({})).await.status(), 200);
    assert!(!stdout(&app.cli(&["user", "list"], "")).contains("paused"));
    let events = stdout(&app.cli(&["audit", "list", "--member", "alice", "--json"], ""));
    assert!(events.contains("member_unlocked"));
    let missing = app.cli(&["user", "unlock", "nobody"], "");
    assert!(!missing.status.success());
    assert_eq!(String::from_utf8_lossy(&missing.stderr), "error: user \"nobody\" not found\n");
}
