//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use hktia_portal::config::Config;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, assert_error};

backend_tests!(
    metadata_issuer_follows_host,
    metadata_uses_configured_issuer,
    metadata_rejects_malformed_host,
);

fn expected(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/auth"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": [],
    })
}

async fn metadata_issuer_follows_host(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response =
        app.http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.json::<Value>().await.unwrap(), expected(&app.base));
}

async fn metadata_uses_configured_issuer(backend: Backend) {
    let config =
        Config { issuer: Some("https://login.example.org".to_owned()), ..Config::default() };
    let app = TestApp::spawn_with(backend, config).await;

    let response = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, expected("https://login.example.org"));
}

async fn metadata_rejects_malformed_host(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("host", "user@evil.example")
        .send()
        .await
        .unwrap();

    assert_error(response, 400, "invalid_request").await;
}
