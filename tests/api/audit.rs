//! The audit trail records every security event, without secrets.

use std::time::Duration;

use hktia_portal::accounts::{self, Password};
use hktia_portal::config::Config;
use hktia_portal::store::AuditFilter;
use serde_json::json;

use crate::backend_tests;
use crate::support::lifecycle::field;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(audit_records_every_security_event);

async fn audit_records_every_security_event(backend: Backend) {
    let config = Config {
        login_max_failures: 1,
        login_lockout: Duration::from_secs(60),
        refresh_grace: Duration::ZERO,
        ..Config::default()
    };
    let app = TestApp::spawn_with(backend, config).await;
    let (store, now) = (&app.state.store, app.state.now());

    let code = app.code(json!({})).await;
    let tokens: serde_json::Value = app.exchange(&code, json!({})).await.json().await.unwrap();
    app.exchange(&code, json!({})).await;
    let tokens_two = app.tokens().await;
    let refresh = field(&tokens_two, "refresh_token");
    app.refresh(refresh, json!({})).await;
    app.refresh(refresh, json!({})).await;
    let tokens_three = app.tokens().await;
    app.revoke(field(&tokens_three, "refresh_token"), "web").await;
    let tokens_four = app.tokens().await;
    let sessions: serde_json::Value =
        app.sessions(field(&tokens_four, "access_token")).await.json().await.unwrap();
    let id = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    app.delete_session(field(&tokens_four, "access_token"), &id).await;
    app.sign_in_as("alice", "wrong password!", json!({})).await;
    app.sign_in_as("alice", PASSWORD, json!({})).await;
    accounts::set_disabled(store, "alice", true, now).await.unwrap();
    accounts::set_disabled(store, "alice", false, now).await.unwrap();
    let password = Password::new("another password".to_owned()).unwrap();
    accounts::set_password(store, &app.state.hasher, "alice", &password, now).await.unwrap();

    let events = store.list_audit_events(AuditFilter::default()).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "signin_succeeded",
            "code_reused",
            "signin_succeeded",
            "refresh_token_reused",
            "signin_succeeded",
            "token_revoked",
            "signin_succeeded",
            "session_ended",
            "signin_failed",
            "signin_paused",
            "member_disabled",
            "member_enabled",
            "password_changed",
        ]
    );
    assert!(events.iter().all(|e| e.member_id.is_some()), "every event names the member");
    let code_reused = &events[1];
    assert_eq!(code_reused.client_id.as_deref(), Some("web"));
    assert!(code_reused.grant_id.is_some());
    assert_eq!(events[9].detail.as_deref(), Some("too many failures"));
    let access = field(&tokens, "access_token");
    let secrets = [PASSWORD, "wrong password!", "another password", &code, refresh, access];
    let stored = format!("{events:?}");
    for secret in secrets {
        assert!(!stored.contains(secret), "the audit trail holds a secret");
    }

    // The SQLite file and its write-ahead log hold no secret either.
    if let Some(path) = &app.db.sqlite_path {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        for secret in secrets {
            let found = bytes.windows(secret.len()).any(|window| window == secret.as_bytes());
            assert!(!found, "the database file holds a secret");
        }
    }
}
