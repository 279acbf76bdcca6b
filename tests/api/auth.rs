//! `POST /oauth2/auth` with the password grant.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, DEVICE, PASSWORD, TestApp, assert_error};

backend_tests!(
    auth_password_grant_returns_code,
    auth_form_body_is_accepted,
    auth_wrong_credentials_share_one_error,
    auth_missing_parameters_are_invalid_request,
    auth_bad_response_type_is_unsupported,
    auth_bad_access_type_is_invalid_request,
    auth_unknown_client_is_invalid_client,
    auth_mobile_without_device_is_invalid_request,
    auth_unknown_grant_type_is_unsupported,
    auth_username_spellings_are_one_member,
    auth_scope_is_ignored,
);

async fn auth_password_grant_returns_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    let code = body["code"].as_str().unwrap();
    assert!(code.starts_with("hkc_"));
    assert_eq!(body["scope"], "");
    assert_eq!(body.as_object().unwrap().len(), 2);
}

async fn auth_form_body_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .post_form(
            "/oauth2/auth",
            &[
                ("response_type", "code"),
                ("access_type", "online"),
                ("client_id", "mobile"),
                ("device_id", DEVICE),
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["code"].is_string());
}

async fn auth_wrong_credentials_share_one_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("bob", PASSWORD).await;
    let now = app.state.now();
    hktia_portal::accounts::set_disabled(&app.state.store, "bob", true, now).await.unwrap();

    let wrong_password = app.password_grant(json!({"password": "not the password"})).await;
    let unknown = app.password_grant(json!({"username": "nobody"})).await;
    let disabled = app.password_grant(json!({"username": "bob"})).await;
    let too_long = app.password_grant(json!({"password": "x".repeat(1025)})).await;

    let mut bodies = Vec::new();
    for response in [wrong_password, unknown, disabled, too_long] {
        bodies.push(assert_error(response, 400, "invalid_grant").await);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");
}

async fn auth_missing_parameters_are_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for missing in ["response_type", "access_type", "client_id", "username", "password"] {
        let response = app.password_grant(json!({ missing: null })).await;
        let body = assert_error(response, 400, "invalid_request").await;
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(missing), "{missing}: {description}");
    }
}

async fn auth_bad_response_type_is_unsupported(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"response_type": "token"})).await;

    assert_error(response, 400, "unsupported_response_type").await;
}

async fn auth_bad_access_type_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"access_type": "forever"})).await;

    assert_error(response, 400, "invalid_request").await;
}

async fn auth_unknown_client_is_invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"client_id": "nobody"})).await;

    assert_error(response, 401, "invalid_client").await;
}

async fn auth_mobile_without_device_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"client_id": "mobile"})).await;

    let body = assert_error(response, 400, "invalid_request").await;
    assert!(body["error_description"].as_str().unwrap().contains("device_id"));
}

async fn auth_unknown_grant_type_is_unsupported(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"grant_type": "client_credentials"})).await;

    assert_error(response, 400, "unsupported_grant_type").await;
}

async fn auth_username_spellings_are_one_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for spelling in ["ALICE", "  alice  ", "ａｌｉｃｅ"] {
        let response = app.password_grant(json!({"username": spelling})).await;
        assert_eq!(response.status(), 200, "spelling {spelling:?}");
    }
}

async fn auth_scope_is_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"scope": "openid email"})).await;

    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "");
}
