//! The test harness: [`TestApp::spawn`] starts the real server on
//! `127.0.0.1:0` over a fresh database, with a clock the test moves, and
//! offers one helper per endpoint.

pub mod db;
pub mod lifecycle;
pub mod process;

use std::sync::Arc;

use hktia_portal::accounts::{self, MemberDetails, Password};
use hktia_portal::clock::ManualClock;
use hktia_portal::config::Config;
use hktia_portal::http::pages::demo::DemoFlow;
use hktia_portal::state::AppState;
use hktia_portal::store::{ClientKind, NewClient, Store};
use reqwest::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use db::{Backend, TestDb, postgres_url};

/// The time the test clock starts at: 2026-12-04T08:15:00Z.
pub const START_TIME: i64 = 1_796_372_100;
/// The password every test member gets unless a test sets another.
pub const PASSWORD: &str = "correct horse battery";
/// A device id as in the API reference.
pub const DEVICE: &str = "68753A44-4D6F-1226-9C60-0050E4C00067";
/// The registered redirect URI of the test web client.
pub const REDIRECT_URI: &str = "https://app.example/callback";

/// Declares each listed `async fn name(backend: Backend)` as a test on
/// SQLite and a test on PostgreSQL. The PostgreSQL tests print that they
/// were skipped when `PORTAL_TEST_POSTGRES_URL` is not set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::support::postgres_url().is_none() {
                        eprintln!("skipped: PORTAL_TEST_POSTGRES_URL is not set");
                        return;
                    }
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// A running server over its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client without redirects or cookies.
    pub http: reqwest::Client,
    /// The clock the server reads.
    pub clock: Arc<ManualClock>,
    /// The server's state, for setting up members and clients.
    pub state: AppState,
    /// The database; dropped after the server stops.
    pub db: Arc<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl TestApp {
    /// Starts a server with the default settings on `backend`, with the
    /// clients `web` (redirect URI [`REDIRECT_URI`]) and `mobile`, and the
    /// member `alice` with [`PASSWORD`].
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Config::default()).await
    }

    /// Like [`TestApp::spawn`], with `config`.
    pub async fn spawn_with(backend: Backend, config: Config) -> Self {
        let db = Arc::new(TestDb::create(backend).await);
        let app = Self::start(db, config).await;
        app.add_client("web", ClientKind::Web, &[REDIRECT_URI]).await;
        app.add_client("mobile", ClientKind::Mobile, &[]).await;
        app.add_member("alice", PASSWORD).await;
        app
    }

    /// Like [`TestApp::spawn`], as `serve --demo` runs it: the server also
    /// serves the demo callback, for the client `demo-web` registered with
    /// its redirect URI.
    pub async fn spawn_demo(backend: Backend) -> Self {
        let db = Arc::new(TestDb::create(backend).await);
        let app = Self::launch(db, Config::default(), Some("demo-web")).await;
        let flow = app.state.demo.clone().unwrap();
        app.add_client("demo-web", ClientKind::Web, &[&flow.redirect_uri()]).await;
        app.add_member("alice", PASSWORD).await;
        app
    }

    /// Starts a server over an existing database, without adding anything.
    pub async fn start(db: Arc<TestDb>, config: Config) -> Self {
        Self::launch(db, config, None).await
    }

    async fn launch(db: Arc<TestDb>, config: Config, demo_client: Option<&str>) -> Self {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(START_TIME));
        let mut state = AppState::new(store, config, clock.clone());

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        if let Some(client_id) = demo_client {
            state = state.with_demo(DemoFlow::new(&base, client_id));
        }
        let (shutdown, stop) = oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let stop = async move {
                let _ = stop.await;
            };
            hktia_portal::server::run(listener, server_state, stop).await.unwrap();
        });

        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base, http, clock, state, db, shutdown: Some(shutdown), server: Some(server) }
    }

    /// Stops the server and waits for it, keeping the database.
    pub async fn stop(mut self) -> Arc<TestDb> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self.state.store.close().await;
        self.db.clone()
    }

    /// Returns the full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Adds a member with `password`.
    pub async fn add_member(&self, username: &str, password: &str) {
        let details = MemberDetails { username, display_name: None, email: None };
        let password = Password::new(password.to_owned()).unwrap();
        let now = self.state.now();
        accounts::add_member(&self.state.store, &self.state.hasher, &details, &password, now)
            .await
            .unwrap();
    }

    /// Registers a client.
    pub async fn add_client(&self, id: &str, kind: ClientKind, redirect_uris: &[&str]) {
        let uris: Vec<String> = redirect_uris.iter().map(|u| u.to_string()).collect();
        let client = NewClient { id, kind, name: id, redirect_uris: &uris, now: self.state.now() };
        self.state.store.insert_client(&client).await.unwrap();
    }

    /// Sends a JSON body to `path`.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.http.post(self.url(path)).json(body).send().await.unwrap()
    }

    /// Sends a form body to `path`.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        self.http.post(self.url(path)).form(pairs).send().await.unwrap()
    }

    /// Requests a code with the password grant; `extra` fields are added to
    /// or replace the defaults (web client `web`, member `alice`, offline).
    pub async fn password_grant(&self, extra: Value) -> Response {
        let mut body = json!({
            "response_type": "code",
            "access_type": "offline",
            "client_id": "web",
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
        });
        merge(&mut body, extra);
        self.post_json("/oauth2/auth", &body).await
    }

    /// Requests a code with the password grant and returns it.
    pub async fn code(&self, extra: Value) -> String {
        let response = self.password_grant(extra).await;
        assert_eq!(response.status(), 200, "password grant failed");
        let body: Value = response.json().await.unwrap();
        body["code"].as_str().unwrap().to_owned()
    }

    /// Exchanges `code` for the `web` client; `extra` adds or replaces fields.
    pub async fn exchange(&self, code: &str, extra: Value) -> Response {
        let mut body = json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "web",
        });
        merge(&mut body, extra);
        self.post_json("/oauth2/token", &body).await
    }

    /// Signs `alice` in on `web` with `offline` access and returns the token
    /// response.
    pub async fn tokens(&self) -> Value {
        let code = self.code(json!({})).await;
        let response = self.exchange(&code, json!({})).await;
        assert_eq!(response.status(), 200, "code exchange failed");
        response.json().await.unwrap()
    }

    /// Refreshes with `refresh_token` for the `web` client.
    pub async fn refresh(&self, refresh_token: &str, extra: Value) -> Response {
        let mut body = json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "web",
        });
        merge(&mut body, extra);
        self.post_json("/oauth2/token", &body).await
    }

    /// Calls `tokeninfo` with the token in the query.
    pub async fn tokeninfo(&self, access_token: &str) -> Response {
        self.http
            .get(self.url("/oauth2/tokeninfo"))
            .query(&[("access_token", access_token)])
            .send()
            .await
            .unwrap()
    }

    /// Calls `GET /api/v1/me` with a bearer token.
    pub async fn me(&self, access_token: &str) -> Response {
        self.http.get(self.url("/api/v1/me")).bearer_auth(access_token).send().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Copies every field of `extra` into `body`; a `null` removes the field.
pub fn merge(body: &mut Value, extra: Value) {
    let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) else { return };
    for (key, value) in extra {
        if value.is_null() {
            body.remove(&key);
        } else {
            body.insert(key, value);
        }
    }
}

/// Reads an error response and checks its status and code.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "unexpected error code in {body}");
    assert!(body["error_description"].is_string(), "missing error_description in {body}");
    body
}
