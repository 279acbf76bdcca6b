//! A standard OAuth client library against the token endpoint: it sends
//! form bodies and reads the RFC 6749 response.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, PkceCodeChallenge, RefreshToken, TokenResponse,
    TokenUrl,
};
use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, TestApp, assert_error};

backend_tests!(
    standard_client_exchanges_and_refreshes,
    database_unreachable_is_temporarily_unavailable,
    unexpected_fault_is_server_error_with_request_id,
);

async fn standard_client_exchanges_and_refreshes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = app
        .code(json!({"code_challenge": challenge.as_str(), "code_challenge_method": "S256"}))
        .await;
    let client = BasicClient::new(ClientId::new("web".to_owned()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth2/auth")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth2/token")).unwrap())
        .set_auth_type(AuthType::RequestBody);
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();

    assert_eq!(tokens.token_type().as_ref(), "bearer");
    assert_eq!(tokens.expires_in(), Some(std::time::Duration::from_secs(3600)));
    let access = tokens.access_token().secret().clone();
    assert_eq!(app.tokeninfo(&access).await.status(), 200);

    let refresh = tokens.refresh_token().unwrap().secret().clone();
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(refreshed.refresh_token().unwrap().secret(), &refresh);
    assert_eq!(app.tokeninfo(refreshed.access_token().secret()).await.status(), 200);
}

async fn database_unreachable_is_temporarily_unavailable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let code = app.code(json!({})).await;

    app.state.store.close().await;

    let exchange = app.exchange(&code, json!({})).await;
    assert_error(exchange, 503, "temporarily_unavailable").await;
    let refresh = app.refresh(tokens["refresh_token"].as_str().unwrap(), json!({})).await;
    assert_error(refresh, 503, "temporarily_unavailable").await;
    let info = app.tokeninfo(tokens["access_token"].as_str().unwrap()).await;
    assert_error(info, 503, "temporarily_unavailable").await;
    assert_error(app.password_grant(json!({})).await, 503, "temporarily_unavailable").await;
}

async fn unexpected_fault_is_server_error_with_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A stored hash that is not a PHC string can only come from a fault.
    let member = hktia_portal::store::NewMember {
        username: "broken",
        username_key: "broken",
        display_name: "broken",
        email: None,
        password_hash: "not a hash",
        now: app.state.now(),
    };
    app.state.store.insert_member(&member).await.unwrap();

    let response = app.password_grant(json!({"username": "broken"})).await;

    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = assert_error(response, 500, "server_error").await;
    assert_eq!(body["request_id"], request_id);
    assert_eq!(body["error_description"], "an unexpected error occurred");
}

/// A PostgreSQL database that stops accepting connections is unreachable:
/// every endpoint returns 503 and changes nothing, and the service
/// recovers when connections are allowed again. The test needs a database
/// of its own, because it switches connections off for the whole database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_refusing_connections_is_unavailable() {
    let Some(server) = crate::support::postgres_url() else {
        eprintln!("skipped: PORTAL_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("portal_refusing_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{name}"));
    let db = std::sync::Arc::new(crate::support::TestDb::existing(url.to_string(), None));
    let app = TestApp::start(db, hktia_portal::config::Config::default()).await;
    app.add_client("web", hktia_portal::store::ClientKind::Web, &[]).await;
    app.add_member("alice", crate::support::PASSWORD).await;
    let tokens = app.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();

    assert_error(app.tokeninfo(access).await, 503, "temporarily_unavailable").await;
    assert_error(app.refresh(refresh, json!({})).await, 503, "temporarily_unavailable").await;
    let revocation = json!({"token": refresh, "client_id": "web"});
    let revoke = app.post_json("/oauth2/revoke", &revocation).await;
    assert_error(revoke, 503, "temporarily_unavailable").await;

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(app.tokeninfo(access).await.status(), 200);
    assert_eq!(app.refresh(refresh, json!({})).await.status(), 200);

    app.stop().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await.unwrap();
}
