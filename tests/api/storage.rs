//! What the database keeps: tokens that outlive a crash, one service over
//! several processes, no secret in clear, and access that ends at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hktia_portal::store::ClientKind;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::process::{ServerProcess, cli_ok};
use crate::support::{Backend, DEVICE, PASSWORD, TestApp, TestDb, assert_error};

backend_tests!(
    storage_tokens_survive_kill_and_restart,
    storage_database_holds_no_secrets,
    storage_disabled_member_loses_access,
    storage_removed_client_loses_access,
    storage_password_change_ends_sessions,
    storage_tokeninfo_answers_during_signin_burst,
);

/// Adds the member `alice` and the client `web` through the CLI.
fn seed(database_url: &str) {
    cli_ok(database_url, &["user", "add", "alice", "--password-stdin"], &format!("{PASSWORD}\n"));
    cli_ok(database_url, &["client", "add", "web", "--kind", "web"], "");
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    http.post(url).json(&body).send().await.unwrap()
}

async fn sign_in(http: &reqwest::Client, server: &ServerProcess) -> String {
    let body = json!({
        "response_type": "code", "access_type": "offline", "client_id": "web",
        "grant_type": "password", "username": "alice", "password": PASSWORD,
    });
    let response: Value = post(http, server.url("/oauth2/auth"), body).await.json().await.unwrap();
    response["code"].as_str().unwrap().to_owned()
}

fn exchange_body(code: &str) -> Value {
    json!({"grant_type": "authorization_code", "code": code, "client_id": "web"})
}

fn refresh_body(refresh_token: &str) -> Value {
    json!({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "web"})
}

async fn tokeninfo_status(http: &reqwest::Client, server: &ServerProcess, token: &str) -> u16 {
    let url = server.url("/oauth2/tokeninfo");
    http.get(url).query(&[("access_token", token)]).send().await.unwrap().status().as_u16()
}

async fn storage_tokens_survive_kill_and_restart(backend: Backend) {
    let db = TestDb::create(backend).await;
    seed(&db.url);
    let http = reqwest::Client::new();
    let server = ServerProcess::start(&db.url, &[]);
    let code = sign_in(&http, &server).await;
    let first: Value =
        post(&http, server.url("/oauth2/token"), exchange_body(&code)).await.json().await.unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    let second: Value =
        post(&http, server.url("/oauth2/token"), refresh_body(refresh)).await.json().await.unwrap();

    server.kill();
    let server = ServerProcess::start(&db.url, &[]);

    for tokens in [&first, &second] {
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(tokeninfo_status(&http, &server, access).await, 200);
    }
    let latest = second["refresh_token"].as_str().unwrap();
    let refreshed = post(&http, server.url("/oauth2/token"), refresh_body(latest)).await;
    assert_eq!(refreshed.status(), 200);
    let reused = post(&http, server.url("/oauth2/token"), exchange_body(&code)).await;
    assert_error(reused, 400, "invalid_grant").await;
}

// Several servers share a PostgreSQL database; several processes on one
// SQLite file are not a supported deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_two_servers_act_as_one() {
    if crate::support::postgres_url().is_none() {
        eprintln!("skipped: PORTAL_TEST_POSTGRES_URL is not set");
        return;
    }
    let db = TestDb::create(Backend::Postgres).await;
    seed(&db.url);
    let http = reqwest::Client::new();
    let (one, two) = (ServerProcess::start(&db.url, &[]), ServerProcess::start(&db.url, &[]));

    let code = sign_in(&http, &one).await;
    let attempts = (0..20).map(|i| {
        let server = if i % 2 == 0 { &one } else { &two };
        post(&http, server.url("/oauth2/token"), exchange_body(&code))
    });
    let responses = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");

    // The reuse above revoked the winner's session at both servers.
    let code = sign_in(&http, &two).await;
    let tokens: Value =
        post(&http, one.url("/oauth2/token"), exchange_body(&code)).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(tokeninfo_status(&http, &two, access).await, 200);
    let reuse = post(&http, two.url("/oauth2/token"), exchange_body(&code)).await;
    assert_error(reuse, 400, "invalid_grant").await;
    assert_eq!(tokeninfo_status(&http, &one, access).await, 400);
    assert_eq!(tokeninfo_status(&http, &two, access).await, 400);
}

async fn storage_database_holds_no_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut secrets = vec![PASSWORD.to_owned()];
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let pkce = json!({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                      "code_challenge_method": "S256"});
    let code = app.code(pkce).await;
    let first: Value =
        app.exchange(&code, json!({"code_verifier": verifier})).await.json().await.unwrap();
    let second: Value = app
        .refresh(first["refresh_token"].as_str().unwrap(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let mobile_code = app.code(json!({"client_id": "mobile", "device_id": DEVICE})).await;
    secrets.extend([code, mobile_code, verifier.to_owned()]);
    for tokens in [&first, &second] {
        for field in ["access_token", "refresh_token"] {
            secrets.push(tokens[field].as_str().unwrap().to_owned());
        }
    }

    let db = app.stop().await;
    let stored = match backend {
        Backend::Sqlite => sqlite_bytes(&db),
        Backend::Postgres => postgres_rows(&db).await,
    };
    for secret in &secrets {
        let found = stored.windows(secret.len()).any(|window| window == secret.as_bytes());
        assert!(!found, "a secret of {} bytes is stored in clear", secret.len());
    }
}

/// Reads the SQLite database file with its write-ahead log.
fn sqlite_bytes(db: &TestDb) -> Vec<u8> {
    let path = db.sqlite_path.clone().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let extra = path.with_file_name(format!("portal.db{suffix}"));
        bytes.extend(std::fs::read(extra).unwrap_or_default());
    }
    bytes
}

/// Reads every row of every table of the PostgreSQL schema as text.
async fn postgres_rows(db: &TestDb) -> Vec<u8> {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.len() >= 6, "{tables:?}");
    let mut text = String::new();
    for (table,) in tables {
        let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&pool)
            .await
            .unwrap();
        rows.into_iter().for_each(|(row,)| text.push_str(&row));
    }
    pool.close().await;
    text.into_bytes()
}

async fn storage_disabled_member_loses_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let now = app.state.now();
    hktia_portal::accounts::set_disabled(&app.state.store, "alice", true, now).await.unwrap();

    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_error(app.me(access).await, 401, "invalid_token").await;
    assert_error(app.refresh(refresh, json!({})).await, 400, "invalid_grant").await;
    assert_error(app.password_grant(json!({})).await, 400, "invalid_grant").await;

    // Enabling restores sign-in, not the ended sessions.
    hktia_portal::accounts::set_disabled(&app.state.store, "alice", false, now).await.unwrap();
    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_eq!(app.password_grant(json!({})).await.status(), 200);
}

async fn storage_removed_client_loses_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let code = app.code(json!({})).await;

    assert!(app.state.store.remove_client("web").await.unwrap());

    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_error(app.me(access).await, 401, "invalid_token").await;
    assert_error(app.refresh(refresh, json!({})).await, 401, "invalid_client").await;
    assert_error(app.exchange(&code, json!({})).await, 401, "invalid_client").await;
    // The same id registered again starts with nothing.
    app.add_client("web", ClientKind::Web, &[]).await;
    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_error(app.exchange(&code, json!({})).await, 400, "invalid_grant").await;
}

async fn storage_password_change_ends_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();

    let password = hktia_portal::accounts::Password::new("a new password".into()).unwrap();
    let now = app.state.now();
    let state = &app.state;
    hktia_portal::accounts::set_password(&state.store, &state.hasher, "alice", &password, now)
        .await
        .unwrap();

    assert_error(app.tokeninfo(access).await, 400, "invalid_token").await;
    assert_error(app.password_grant(json!({})).await, 400, "invalid_grant").await;
    let signed_in = app.password_grant(json!({"password": "a new password"})).await;
    assert_eq!(signed_in.status(), 200);
}

async fn storage_tokeninfo_answers_during_signin_burst(backend: Backend) {
    // The burst comes from one address and is spread over several members,
    // so that neither the address limit nor a member's attempt count, only
    // the hash pool, slows it down.
    let config = hktia_portal::config::Config { signin_rate: 0, ..Default::default() };
    let app = Arc::new(TestApp::spawn_with(backend, config).await);
    let members: Vec<String> = (0..6).map(|i| format!("member{i}")).collect();
    for member in &members {
        app.add_member(member, PASSWORD).await;
    }
    let access = app.tokens().await["access_token"].as_str().unwrap().to_owned();
    let signins = 24;
    let finished = Arc::new(AtomicUsize::new(0));

    let burst: Vec<_> = (0..signins)
        .map(|i| {
            let (app, finished) = (app.clone(), finished.clone());
            let username = members[i % members.len()].clone();
            tokio::spawn(async move {
                let status = app.password_grant(json!({"username": username})).await.status();
                finished.fetch_add(1, Ordering::SeqCst);
                status
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let info = app.tokeninfo(&access).await;
    let finished_when_answered = finished.load(Ordering::SeqCst);

    assert_eq!(info.status(), 200);
    assert!(finished_when_answered < signins, "tokeninfo waited for every sign-in");
    for signin in burst {
        assert_eq!(signin.await.unwrap(), 200);
    }
}
