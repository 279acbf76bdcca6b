//! Graceful shutdown: on SIGTERM the server stops accepting, finishes the
//! requests in flight and exits 0; a request that outlasts the deadline
//! does not keep it running.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::process::{ServerProcess, prepare_database};
use crate::support::{Backend, PASSWORD, TestDb};
use hktia_portal::clock::SystemClock;
use hktia_portal::config::Config;
use hktia_portal::state::AppState;
use hktia_portal::store::Store;

/// Opens a connection and has one request served on it, so that the
/// server has surely accepted it before the test goes on.
async fn served_connection(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !received.ends_with(br#"{"status":"ok"}"#) {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the connection closed early");
        received.extend_from_slice(&buffer[..read]);
    }
    stream
}

/// Sends, on a connection the server has accepted, the head and the first
/// half of a JSON `POST` to `path`, leaving the server waiting for the rest
/// of the body, as a slow client does.
async fn start_trickled_post(address: &str, path: &str, body: &str) -> (TcpStream, String) {
    let mut stream = served_connection(address).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_owned())
}

/// Tells whether connecting to `address` is refused, retrying for a while
/// since the listener closes a moment after the shutdown is logged.
async fn connections_refused(address: &str) -> bool {
    for _ in 0..100 {
        if TcpStream::connect(address).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_trickled_request() {
    let db = TestDb::create(Backend::Sqlite).await;
    prepare_database(&db.url, &format!("{PASSWORD}\n"));
    let mut server = ServerProcess::start(&db.url, &[]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let http = reqwest::Client::new();
    let code: Value = http
        .post(server.url("/oauth2/auth"))
        .json(&json!({
            "response_type": "code", "access_type": "online", "client_id": "web",
            "grant_type": "password", "username": "alice", "password": PASSWORD,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    drop(http);
    let exchange = json!({
        "grant_type": "authorization_code", "client_id": "web", "code": code["code"],
    })
    .to_string();
    let (mut slow, rest) = start_trickled_post(&address, "/oauth2/token", &exchange).await;

    server.terminate();
    server.wait_for_line("shutdown requested");
    let refused = connections_refused(&address).await;
    slow.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).await.unwrap();
    let status = server.wait();

    assert!(refused, "the server still accepts connections after SIGTERM");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "unexpected response: {response}");
    let body: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(body["access_token"].is_string(), "no access token in {body}");
    assert!(status.success(), "exit status {status:?}");
    assert!(server.log().contains("server stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_deadline_ends_stalled_request() {
    let db = Arc::new(TestDb::create(Backend::Sqlite).await);
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let state = AppState::new(store, Config::default(), Arc::new(SystemClock));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let deadline = Duration::from_secs(1);
    let server = tokio::spawn(hktia_portal::server::run_with_deadline(
        listener,
        state,
        async move {
            let _ = stopped.await;
        },
        deadline,
    ));
    let (stalled, _) = start_trickled_post(&address, "/oauth2/token", r#"{"a":"b"}"#).await;

    stop.send(()).unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(30), server).await;

    let result = finished.expect("the server outlived its shutdown deadline").unwrap();
    assert!(result.is_ok(), "the server failed: {result:?}");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_server_cleanly() {
    let db = TestDb::create(Backend::Sqlite).await;
    let mut server = ServerProcess::start(&db.url, &[]);

    server.interrupt();
    let status = server.wait();

    assert!(status.success(), "exit status {status:?}");
    assert!(server.log().contains("shutdown requested"));
    assert!(server.log().contains("server stopped"));
}
