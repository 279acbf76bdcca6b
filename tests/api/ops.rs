//! `GET /healthz`, `GET /readyz`, `GET /metrics`, and the request id in a
//! 500 body.

use std::time::Duration;

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestDb, assert_error, postgres_url};

backend_tests!(
    healthz_returns_ok,
    readyz_returns_ok_with_database,
    readyz_fails_while_tables_are_missing,
    metrics_count_requests_sign_ins_and_tokens,
    server_error_body_names_request_id,
);

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).send().await.unwrap()
}

async fn healthz_returns_ok(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = get(&app, "/healthz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
}

async fn readyz_returns_ok_with_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = get(&app, "/readyz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
}

async fn readyz_fails_while_tables_are_missing(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    app.db.execute("ALTER TABLE members RENAME TO members_moved").await;
    let missing = get(&app, "/readyz").await;
    let healthy = get(&app, "/healthz").await;
    app.db.execute("ALTER TABLE members_moved RENAME TO members").await;
    let restored = get(&app, "/readyz").await;

    assert_error(missing, 503, "temporarily_unavailable").await;
    assert_eq!(healthy.status(), 200);
    assert_eq!(restored.status(), 200);
}

/// A SQLite file deleted under the running server is not ready, since no
/// later process could open what the server writes.
#[tokio::test]
async fn readyz_fails_when_sqlite_file_is_deleted() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let path = app.db.sqlite_path.clone().unwrap();

    std::fs::remove_file(&path).unwrap();
    let response = get(&app, "/readyz").await;

    assert_error(response, 503, "temporarily_unavailable").await;
}

async fn metrics_count_requests_sign_ins_and_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;
    let failed = app.password_grant(json!({"password": "wrong password"})).await;
    assert_eq!(failed.status(), 400);
    let tokens = app.exchange(&code, json!({})).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    let refreshed = app.refresh(tokens["refresh_token"].as_str().unwrap(), json!({})).await;
    assert_eq!(refreshed.status(), 200);
    let reused = app.exchange(&code, json!({})).await;
    assert_eq!(reused.status(), 400);

    let response = get(&app, "/metrics").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = response.text().await.unwrap();
    let expected = [
        r#"portal_sign_ins_total{outcome="succeeded"} 1"#,
        r#"portal_sign_ins_total{outcome="failed"} 1"#,
        r#"portal_tokens_issued_total{kind="code"} 1"#,
        r#"portal_tokens_issued_total{kind="access"} 2"#,
        r#"portal_tokens_issued_total{kind="refresh"} 2"#,
        r#"portal_sessions_revoked_total{reason="code_reused"} 1"#,
        r#"portal_http_requests_total{method="POST",route="/oauth2/auth",status="200"} 1"#,
        r#"portal_http_requests_total{method="POST",route="/oauth2/auth",status="400"} 1"#,
        r#"portal_http_requests_total{method="POST",route="/oauth2/token",status="200"} 2"#,
        r#"portal_http_requests_total{method="POST",route="/oauth2/token",status="400"} 1"#,
        r#"portal_http_request_duration_seconds_count{method="POST",route="/oauth2/token"} 3"#,
        r#"portal_http_request_duration_seconds_bucket{method="POST",route="/oauth2/token",le="+Inf"} 3"#,
        "# TYPE portal_http_request_duration_seconds histogram",
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    let pool = if backend == Backend::Sqlite { "writer" } else { "main" };
    let gauge = format!(r#"portal_db_pool_max_connections{{pool="{pool}"}}"#);
    assert!(text.contains(&gauge), "missing {gauge:?} in\n{text}");

    let again = get(&app, "/metrics").await.text().await.unwrap();
    let scrape = r#"portal_http_requests_total{method="GET",route="/metrics",status="200"} 1"#;
    assert!(again.lines().any(|l| l == scrape), "missing {scrape:?} in\n{again}");
}

async fn server_error_body_names_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    app.db.execute("ALTER TABLE members RENAME TO members_moved").await;
    let response = app.password_grant(json!({})).await;
    app.db.execute("ALTER TABLE members_moved RENAME TO members").await;

    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = assert_error(response, 500, "server_error").await;
    assert_eq!(body["request_id"], request_id.as_str());
    assert_eq!(body["error_description"], "an unexpected error occurred");
    assert!(!body.to_string().contains("members"), "the body names a table: {body}");
}

/// A PostgreSQL server that stops answering: a TCP relay between the portal
/// and PostgreSQL that the test can pause, holding every byte in both
/// directions without closing anything, as a hung host or a dropped route
/// would.
mod relay {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;

    /// A running relay; pausing and resuming it applies to every
    /// connection, open or new.
    pub struct Relay {
        pub address: std::net::SocketAddr,
        open: watch::Sender<bool>,
    }

    impl Relay {
        pub async fn start(target: String) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let (open, _) = watch::channel(true);
            let gate = open.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(&target).await else { continue };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(pump(client_read, server_write, gate.subscribe()));
                    tokio::spawn(pump(server_read, client_write, gate.subscribe()));
                }
            });
            Self { address, open }
        }

        pub fn pause(&self) {
            self.open.send_replace(false);
        }

        pub fn resume(&self) {
            self.open.send_replace(true);
        }
    }

    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        mut open: watch::Receiver<bool>,
    ) {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let Ok(read) = from.read(&mut buffer).await else { return };
            if read == 0 || open.wait_for(|open| *open).await.is_err() {
                return;
            }
            if to.write_all(&buffer[..read]).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_recovers_after_postgres_stops_answering() {
    let Some(server) = postgres_url() else {
        eprintln!("skipped: PORTAL_TEST_POSTGRES_URL is not set");
        return;
    };
    let target = url::Url::parse(&server).unwrap();
    let target = format!("{}:{}", target.host_str().unwrap(), target.port().unwrap_or(5432));
    let relay = relay::Relay::start(target).await;
    let mut db = TestDb::create(Backend::Postgres).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(relay.address.port())).unwrap();
    db.url = url.to_string();
    let app = TestApp::start(std::sync::Arc::new(db), Default::default()).await;
    assert_eq!(get(&app, "/readyz").await.status(), 200);

    relay.pause();
    let paused = get(&app, "/readyz").await;
    let healthy = get(&app, "/healthz").await;
    relay.resume();
    let mut recovered = None;
    for _ in 0..50 {
        let response = get(&app, "/readyz").await;
        if response.status() == 200 {
            recovered = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_error(paused, 503, "temporarily_unavailable").await;
    assert_eq!(healthy.status(), 200);
    let recovered = recovered.expect("readyz did not return to 200 after the database came back");
    let body: Value = recovered.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
}
