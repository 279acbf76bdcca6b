//! The request log of the real binary: one line per request with method,
//! route, status, latency and request id, in text or JSON, and never a
//! password, code or token.

use reqwest::Client;
use serde_json::{Value, json};

use crate::support::process::{ServerProcess, prepare_database};
use crate::support::{Backend, PASSWORD, TestDb};

const WRONG_PASSWORD: &str = "wrong horse battery";
const UNKNOWN_TOKEN: &str = "hka_0000000000000000000000000000000000000000000";

/// Every secret a test sent or received, to search the log for, and the
/// request id of every response.
#[derive(Default)]
struct Seen {
    secrets: Vec<String>,
    request_ids: Vec<String>,
}

impl Seen {
    async fn json(&mut self, response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        self.request_ids.push(response.headers()["x-request-id"].to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        for field in ["code", "access_token", "refresh_token"] {
            if let Some(secret) = body[field].as_str() {
                self.secrets.push(secret.to_owned());
            }
        }
        (status, body)
    }
}

fn password_grant(password: &str) -> Value {
    json!({
        "response_type": "code", "access_type": "offline", "client_id": "web",
        "grant_type": "password", "username": "alice", "password": password,
    })
}

/// Drives every flow against `server`: sign-in, exchange, refresh,
/// tokeninfo both ways, `/api/v1/me`, and their failures.
async fn drive_every_flow(server: &ServerProcess) -> Seen {
    let http = Client::new();
    let mut seen = Seen {
        secrets: vec![PASSWORD.to_owned(), WRONG_PASSWORD.to_owned(), UNKNOWN_TOKEN.to_owned()],
        ..Seen::default()
    };
    let post = |path: &str, body: Value| http.post(server.url(path)).json(&body).send();

    let (status, code) =
        seen.json(post("/oauth2/auth", password_grant(PASSWORD)).await.unwrap()).await;
    assert_eq!(status, 200);
    let code = code["code"].as_str().unwrap().to_owned();
    let (status, _) =
        seen.json(post("/oauth2/auth", password_grant(WRONG_PASSWORD)).await.unwrap()).await;
    assert_eq!(status, 400);
    let form = [
        ("response_type", "code"),
        ("access_type", "online"),
        ("client_id", "web"),
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let response = http.post(server.url("/oauth2/auth")).form(&form).send().await.unwrap();
    assert_eq!(seen.json(response).await.0, 200);
    let malformed = format!(r#"{{"password": "{PASSWORD}", "#);
    let response = http
        .post(server.url("/oauth2/auth"))
        .header("content-type", "application/json")
        .body(malformed)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.json(response).await.0, 400);

    let exchange = json!({"grant_type": "authorization_code", "client_id": "web", "code": code});
    let (status, tokens) = seen.json(post("/oauth2/token", exchange.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    let refresh = json!({
        "grant_type": "refresh_token", "client_id": "web", "refresh_token": tokens["refresh_token"],
    });
    let (status, tokens) = seen.json(post("/oauth2/token", refresh.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    let tokeninfo = server.url("/oauth2/tokeninfo");
    let by_query = http.get(&tokeninfo).query(&[("access_token", &access)]).send().await.unwrap();
    assert_eq!(seen.json(by_query).await.0, 200);
    let by_header = http.get(&tokeninfo).bearer_auth(&access).send().await.unwrap();
    assert_eq!(seen.json(by_header).await.0, 200);
    let unknown =
        http.get(&tokeninfo).query(&[("access_token", UNKNOWN_TOKEN)]).send().await.unwrap();
    assert_eq!(seen.json(unknown).await.0, 400);
    let both = http.get(&tokeninfo).query(&[("access_token", &access)]).bearer_auth(&access);
    assert_eq!(seen.json(both.send().await.unwrap()).await.0, 400);
    let misrouted = server.url("/oauth2/tokeninfo/");
    let misrouted = http.get(misrouted).query(&[("access_token", &access)]).send().await.unwrap();
    assert_eq!(seen.json(misrouted).await.0, 404);

    let me = server.url("/api/v1/me");
    assert_eq!(seen.json(http.get(&me).bearer_auth(&access).send().await.unwrap()).await.0, 200);
    let rejected = http.get(&me).bearer_auth(UNKNOWN_TOKEN).send().await.unwrap();
    assert_eq!(seen.json(rejected).await.0, 401);
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("alice:{PASSWORD}"),
    );
    seen.secrets.push(credentials);
    let basic = http.get(&me).basic_auth("alice", Some(PASSWORD)).send().await.unwrap();
    assert_eq!(seen.json(basic).await.0, 401);

    let (status, _) = seen.json(post("/oauth2/token", exchange).await.unwrap()).await;
    assert_eq!(status, 400, "a reused code must fail");
    let (status, _) = seen.json(post("/oauth2/token", refresh).await.unwrap()).await;
    assert_eq!(status, 400, "a revoked session's refresh token must fail");
    let (status, _) = seen.json(http.get(&me).bearer_auth(&access).send().await.unwrap()).await;
    assert_eq!(status, 401, "a revoked session's access token must fail");
    seen
}

/// Starts a server on a fresh database with `env`, drives every flow, stops
/// it with SIGTERM and returns its whole log with what was seen.
async fn run_flows(env: &[(&str, &str)]) -> (String, Seen) {
    let db = TestDb::create(Backend::Sqlite).await;
    prepare_database(&db.url, &format!("{PASSWORD}\n"));
    let mut server = ServerProcess::start(&db.url, env);

    let seen = drive_every_flow(&server).await;
    server.terminate();
    assert!(server.wait().success());
    (server.log(), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_has_request_lines_and_no_secrets() {
    let (log, seen) = run_flows(&[("PORTAL_LOG_FORMAT", "json"), ("RUST_LOG", "debug")]).await;

    for secret in &seen.secrets {
        assert!(!log.contains(secret.as_str()), "the log holds the secret {secret:?}:\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    for request_id in &seen.request_ids {
        let served: Vec<&Value> = lines
            .iter()
            .filter(|line| line["message"] == "request served")
            .filter(|line| line["span"]["request_id"] == request_id.as_str())
            .collect();
        assert_eq!(served.len(), 1, "request {request_id} has {} lines", served.len());
        let line = served[0];
        assert!(line["span"]["method"].is_string(), "no method in {line}");
        assert!(line["span"]["route"].is_string(), "no route in {line}");
        assert!(line["status"].is_u64(), "no status in {line}");
        assert!(line["latency_ms"].is_number(), "no latency in {line}");
    }
    let misrouted = lines.iter().find(|line| line["status"] == 404).unwrap();
    assert_eq!(misrouted["span"]["route"], "unmatched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_log_has_request_lines_and_no_secrets() {
    let (log, seen) = run_flows(&[]).await;

    for secret in &seen.secrets {
        assert!(!log.contains(secret.as_str()), "the log holds the secret {secret:?}:\n{log}");
    }
    assert!(!log.contains('\u{1b}'), "colour codes in a log that is not a terminal:\n{log}");
    let token_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("request served") && line.contains("route=/oauth2/token "))
        .collect();
    assert_eq!(token_lines.len(), 4, "one line per token request:\n{log}");
    for field in ["request_id=", "method=POST", "status=", "latency_ms=", "client=127.0.0.1"] {
        assert!(token_lines[0].contains(field), "no {field} in {}", token_lines[0]);
    }
    for request_id in &seen.request_ids {
        let needle = format!("request_id={request_id}");
        assert!(log.contains(&needle), "no line for request {request_id}");
    }
}
