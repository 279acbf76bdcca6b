//! `POST /oauth2/token`: code exchange, single-use codes and device binding.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, DEVICE, TestApp, assert_error};

backend_tests!(
    token_exchange_returns_documented_fields,
    token_online_code_has_no_refresh_token,
    token_every_offline_exchange_has_refresh_token,
    token_exchange_sets_no_store_headers,
    token_framework_errors_set_no_store,
    token_reused_code_revokes_grant,
    token_reused_code_revokes_refreshed_tokens,
    token_expired_code_is_invalid_grant,
    token_code_of_other_client_is_invalid_grant,
    token_unknown_code_is_invalid_grant,
    token_unknown_client_is_invalid_client,
    token_missing_parameters_are_invalid_request,
    token_unsupported_grant_type,
    token_mobile_code_requires_same_device,
    token_web_code_with_device_requires_it,
    token_web_code_without_device_rejects_one,
    token_pkce_verifier_is_checked,
    token_simultaneous_redemptions_one_wins,
);

async fn token_exchange_returns_documented_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let response = app.exchange(&code, json!({})).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("hka_"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("hkr_"));
    assert_eq!(body.as_object().unwrap().len(), 5);
}

async fn token_online_code_has_no_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({"access_type": "online"})).await;

    let body: Value = app.exchange(&code, json!({})).await.json().await.unwrap();

    assert!(body["access_token"].is_string());
    assert!(body.get("refresh_token").is_none());
}

async fn token_every_offline_exchange_has_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let first = app.tokens().await;
    let second = app.tokens().await;

    assert!(first["refresh_token"].is_string());
    assert!(second["refresh_token"].is_string());
    assert_ne!(first["refresh_token"], second["refresh_token"]);
}

async fn token_exchange_sets_no_store_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let ok = app.exchange(&code, json!({})).await;
    let failed = app.exchange("hkc_unknown", json!({})).await;

    for response in [ok, failed] {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
    }
}

async fn token_reused_code_revokes_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;
    let tokens: Value = app.exchange(&code, json!({})).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(app.tokeninfo(access).await.status(), 200);

    assert_error(app.exchange(&code, json!({})).await, 400, "invalid_grant").await;

    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_error(app.refresh(refresh, json!({})).await, 400, "invalid_grant").await;
}

async fn token_reused_code_revokes_refreshed_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;
    let first: Value = app.exchange(&code, json!({})).await.json().await.unwrap();
    let second: Value = app
        .refresh(first["refresh_token"].as_str().unwrap(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let third: Value = app
        .refresh(second["refresh_token"].as_str().unwrap(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let latest_access = third["access_token"].as_str().unwrap();
    assert_eq!(app.tokeninfo(latest_access).await.status(), 200);

    assert_error(app.exchange(&code, json!({})).await, 400, "invalid_grant").await;

    assert_error(app.tokeninfo(latest_access).await, 400, "invalid_token").await;
    let latest_refresh = third["refresh_token"].as_str().unwrap();
    assert_error(app.refresh(latest_refresh, json!({})).await, 400, "invalid_grant").await;
}

async fn token_expired_code_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;
    let fresh = app.code(json!({})).await;

    app.clock.advance(300);

    assert_error(app.exchange(&code, json!({})).await, 400, "invalid_grant").await;
    // One second short of the limit a code still works.
    app.clock.advance(-1);
    assert_eq!(app.exchange(&fresh, json!({})).await.status(), 200);
}

async fn token_code_of_other_client_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_client("other", hktia_portal::store::ClientKind::Web, &[]).await;
    let code = app.code(json!({})).await;

    let response = app.exchange(&code, json!({"client_id": "other"})).await;

    assert_error(response, 400, "invalid_grant").await;
    // The rightful client can still use it.
    assert_eq!(app.exchange(&code, json!({})).await.status(), 200);
}

async fn token_unknown_code_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.exchange("hkc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", json!({})).await;

    assert_error(response, 400, "invalid_grant").await;
}

async fn token_unknown_client_is_invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let response = app.exchange(&code, json!({"client_id": "nobody"})).await;

    assert_error(response, 401, "invalid_client").await;
}

async fn token_missing_parameters_are_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    for missing in ["grant_type", "code", "client_id"] {
        let response = app.exchange(&code, json!({ missing: null })).await;
        let body = assert_error(response, 400, "invalid_request").await;
        assert!(body["error_description"].as_str().unwrap().contains(missing), "{body}");
    }
    let response = app.refresh("", json!({})).await;
    assert_error(response, 400, "invalid_request").await;
}

async fn token_unsupported_grant_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for grant_type in ["password", "client_credentials", "implicit"] {
        let response = app.exchange("x", json!({"grant_type": grant_type})).await;
        assert_error(response, 400, "unsupported_grant_type").await;
    }
}

async fn token_mobile_code_requires_same_device(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({"client_id": "mobile", "device_id": DEVICE})).await;
    let mobile = |extra: Value| {
        let mut body = json!({"client_id": "mobile"});
        crate::support::merge(&mut body, extra);
        body
    };

    let without = app.exchange(&code, mobile(json!({}))).await;
    assert_error(without, 400, "invalid_request").await;
    let other = app.exchange(&code, mobile(json!({"device_id": "another-device"}))).await;
    assert_error(other, 400, "invalid_grant").await;
    let same = app.exchange(&code, mobile(json!({"device_id": DEVICE}))).await;
    assert_eq!(same.status(), 200);
    let tokens: Value = same.json().await.unwrap();

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = app.refresh(refresh, mobile(json!({"device_id": "another-device"}))).await;
    assert_error(refreshed, 400, "invalid_grant").await;
    let refreshed = app.refresh(refresh, mobile(json!({"device_id": DEVICE}))).await;
    assert_eq!(refreshed.status(), 200);
}

async fn token_web_code_with_device_requires_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({"device_id": DEVICE})).await;

    assert_error(app.exchange(&code, json!({})).await, 400, "invalid_grant").await;
    let other = app.exchange(&code, json!({"device_id": "another-device"})).await;
    assert_error(other, 400, "invalid_grant").await;
    assert_eq!(app.exchange(&code, json!({"device_id": DEVICE})).await.status(), 200);
}

async fn token_web_code_without_device_rejects_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let response = app.exchange(&code, json!({"device_id": DEVICE})).await;

    assert_error(response, 400, "invalid_grant").await;
}

async fn token_pkce_verifier_is_checked(backend: Backend) {
    // The example of RFC 7636 appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let app = TestApp::spawn(backend).await;
    let pkce = json!({"code_challenge": challenge, "code_challenge_method": "S256"});
    let code = app.code(pkce.clone()).await;

    let missing = app.exchange(&code, json!({})).await;
    assert_error(missing, 400, "invalid_grant").await;
    let wrong = app.exchange(&code, json!({"code_verifier": "a".repeat(43)})).await;
    assert_error(wrong, 400, "invalid_grant").await;
    let short = app.exchange(&code, json!({"code_verifier": "a".repeat(42)})).await;
    assert_error(short, 400, "invalid_request").await;
    let right = app.exchange(&code, json!({"code_verifier": verifier})).await;
    assert_eq!(right.status(), 200);

    let plain = app
        .password_grant(json!({"code_challenge": challenge, "code_challenge_method": "plain"}))
        .await;
    assert_error(plain, 400, "invalid_request").await;
    let unprotected = app.code(json!({})).await;
    let downgrade = app.exchange(&unprotected, json!({"code_verifier": verifier})).await;
    assert_error(downgrade, 400, "invalid_grant").await;
}

async fn token_simultaneous_redemptions_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let attempts = (0..20).map(|_| app.exchange(&code, json!({})));
    let responses = futures::future::join_all(attempts).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 400).count(), 19, "{statuses:?}");
}

async fn token_framework_errors_set_no_store(backend: Backend) {
    let config = hktia_portal::config::Config { rate_limit: 1, ..Default::default() };
    let app = TestApp::spawn_with(backend, config).await;

    let wrong_method = app.http.get(app.url("/oauth2/token")).send().await.unwrap();
    let limited = app.tokeninfo("hka_unknown").await;

    assert_eq!(wrong_method.status(), 405);
    assert_eq!(limited.status(), 429);
    for response in [wrong_method, limited] {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
    }
}
