//! `POST /oauth2/auth` with the password grant.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, DEVICE, PASSWORD, TestApp, assert_error};

backend_tests!(auth_password_grant_returns_code, auth_form_body_is_accepted,);

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
    let _ = assert_error;
}
