//! `GET /api/v1/me/sessions` and `DELETE /api/v1/me/sessions/{id}`.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::lifecycle::field;
use crate::support::{Backend, DEVICE, PASSWORD, TestApp, assert_error};

backend_tests!(
    sessions_list_marks_current,
    sessions_delete_ends_session_at_once,
    sessions_delete_current_signs_out,
    sessions_other_members_session_is_not_found,
    sessions_require_a_live_token,
);

async fn session_list(app: &TestApp, access_token: &str) -> Vec<Value> {
    let response = app.sessions(access_token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "unexpected fields in {body}");
    body["sessions"].as_array().unwrap().clone()
}

async fn sessions_list_marks_current(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.tokens().await;
    app.clock.advance(30);
    let mobile = app.tokens_for("alice", "mobile", Some(DEVICE)).await;
    app.clock.advance(30);
    let online = app.code(json!({ "access_type": "online" })).await;
    let online = app.exchange(&online, json!({})).await.json::<Value>().await.unwrap();
    app.revoke(field(&online, "access_token"), "web").await;

    let sessions = session_list(&app, field(&mobile, "access_token")).await;

    assert_eq!(sessions.len(), 2, "the revoked session must not be listed: {sessions:?}");
    let (newest, oldest) = (&sessions[0], &sessions[1]);
    assert_eq!(newest["client_id"], "mobile");
    assert_eq!(newest["client_name"], "mobile");
    assert_eq!(newest["device_id"], DEVICE);
    assert_eq!(newest["access_type"], "offline");
    assert_eq!(newest["created_at"], "2026-12-04T08:15:30Z");
    assert_eq!(newest["last_used_at"], "2026-12-04T08:15:30Z");
    assert_eq!(newest["current"], true);
    assert_eq!(newest.as_object().unwrap().len(), 8);
    assert_eq!(oldest["client_id"], "web");
    assert_eq!(oldest["device_id"], Value::Null);
    assert_eq!(oldest["created_at"], "2026-12-04T08:15:00Z");
    assert_eq!(oldest["current"], false);
    assert_ne!(newest["id"], oldest["id"]);

    let refreshed = app.refresh(field(&web, "refresh_token"), json!({})).await;
    let refreshed: Value = refreshed.json().await.unwrap();
    let sessions = session_list(&app, field(&refreshed, "access_token")).await;
    let web_session = sessions.iter().find(|s| s["client_id"] == "web").unwrap();
    assert_eq!(web_session["current"], true);
    assert_eq!(web_session["created_at"], "2026-12-04T08:15:00Z");
    assert_eq!(web_session["last_used_at"], "2026-12-04T08:16:00Z");
}

async fn sessions_delete_ends_session_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.tokens().await;
    let mobile = app.tokens_for("alice", "mobile", Some(DEVICE)).await;
    let sessions = session_list(&app, field(&web, "access_token")).await;
    let mobile_id = sessions.iter().find(|s| s["client_id"] == "mobile").unwrap()["id"].clone();

    let response =
        app.delete_session(field(&web, "access_token"), mobile_id.as_str().unwrap()).await;

    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let info = app.tokeninfo(field(&mobile, "access_token")).await;
    assert_error(info, 400, "invalid_token").await;
    let refreshed = app
        .refresh(
            field(&mobile, "refresh_token"),
            json!({ "client_id": "mobile", "device_id": DEVICE }),
        )
        .await;
    assert_error(refreshed, 400, "invalid_grant").await;
    assert_eq!(app.tokeninfo(field(&web, "access_token")).await.status(), 200);
    assert_eq!(session_list(&app, field(&web, "access_token")).await.len(), 1);

    let again = app.delete_session(field(&web, "access_token"), mobile_id.as_str().unwrap()).await;
    assert_error(again, 404, "not_found").await;
}

async fn sessions_delete_current_signs_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.tokens().await;
    let access = field(&web, "access_token");
    let id = session_list(&app, access).await[0]["id"].as_str().unwrap().to_owned();

    assert_eq!(app.delete_session(access, &id).await.status(), 204);

    let after = app.sessions(access).await;
    assert_error(after, 401, "invalid_token").await;
}

async fn sessions_other_members_session_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("bob", PASSWORD).await;
    let alice = app.tokens().await;
    let bob = app.tokens_for("bob", "web", None).await;
    let bob_id = session_list(&app, field(&bob, "access_token")).await[0]["id"].clone();

    let alice_token = field(&alice, "access_token");
    let theirs = app.delete_session(alice_token, bob_id.as_str().unwrap()).await;
    assert_error(theirs, 404, "not_found").await;
    for id in ["unknown", "a%00b", "%FF", "..%2F..", &"x".repeat(300)] {
        let response = app.delete_session(alice_token, id).await;
        assert_error(response, 404, "not_found").await;
    }

    assert_eq!(app.tokeninfo(field(&bob, "access_token")).await.status(), 200);
}

async fn sessions_require_a_live_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;

    let none = app.http.get(app.url("/api/v1/me/sessions")).send().await.unwrap();
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"hktia-portal\"");
    assert_eq!(none.status(), 401);
    let bad = app.sessions("hka_unknown").await;
    assert_eq!(bad.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_error(bad, 401, "invalid_token").await;
    let delete = app.delete_session("hka_unknown", "x").await;
    assert_error(delete, 401, "invalid_token").await;

    app.clock.advance(3600);
    let expired = app.sessions(field(&tokens, "access_token")).await;
    assert_error(expired, 401, "invalid_token").await;
}
