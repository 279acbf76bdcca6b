//! The portal as `serve --demo` runs it, on a loopback port over a fresh
//! SQLite file: the web client `demo-web`, named "Events Calendar", whose
//! redirect URI is the server's own demo callback, and one member.

use std::sync::Arc;

use axum::response::Html;
use hktia_portal::accounts::{self, MemberDetails, Password};
use hktia_portal::clock::SystemClock;
use hktia_portal::config::Config;
use hktia_portal::http::pages::demo::DemoFlow;
use hktia_portal::state::AppState;
use hktia_portal::store::{ClientKind, NewClient, Store};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The member's username.
pub const MEMBER: &str = "alice";
/// The member's password.
pub const PASSWORD: &str = "correct horse battery";

/// A running portal; dropping it stops the server.
pub struct Portal {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The demo flow, whose link opens the consent page.
    pub flow: DemoFlow,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Portal {
    /// Starts the portal with its client and member.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("portal.db").display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let flow = DemoFlow::new(&base, "demo-web");
        let state =
            AppState::new(store, Config::default(), Arc::new(SystemClock)).with_demo(flow.clone());
        register(&state, &flow).await;

        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stop.await;
            };
            hktia_portal::server::run(listener, state, stop).await.unwrap();
        });
        Self { base, flow, shutdown: Some(shutdown), _dir: dir }
    }

    /// Exchanges `code` as the demo application would, and returns the
    /// token response.
    pub async fn exchange(&self, code: &str) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.flow.client_id.as_str()),
                ("code", code),
                ("redirect_uri", &self.flow.redirect_uri()),
                ("code_verifier", &self.flow.code_verifier),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the code exchange failed");
        response.json().await.unwrap()
    }

    /// Serves, on another loopback port, a page whose form posts the
    /// member's credentials and Allow to the portal without the
    /// anti-forgery token, and returns its URL. The button has id `forged`.
    pub async fn start_forger(&self) -> String {
        let link = self.flow.authorization_url();
        let query = link.split_once('?').unwrap().1;
        let mut fields: String = form_urlencoded::parse(query.as_bytes())
            .map(|(name, value)| hidden(&name, &value))
            .collect();
        for (name, value) in [("username", MEMBER), ("password", PASSWORD), ("decision", "allow")] {
            fields.push_str(&hidden(name, value));
        }
        let page = format!(
            "<!doctype html><title>Win a prize</title>\
             <form method=post action=\"{}/oauth2/auth\">{fields}\
             <button id=forged>Claim</button></form>",
            self.base
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/", axum::routing::get(move || async { Html(page) }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn register(state: &AppState, flow: &DemoFlow) {
    let uris = [flow.redirect_uri()];
    let client = NewClient {
        id: &flow.client_id,
        kind: ClientKind::Web,
        name: "Events Calendar",
        redirect_uris: &uris,
        now: state.now(),
    };
    state.store.insert_client(&client).await.unwrap();

    let details = MemberDetails { username: MEMBER, display_name: None, email: None };
    let password = Password::new(PASSWORD.to_owned()).unwrap();
    accounts::add_member(&state.store, &state.hasher, &details, &password, state.now())
        .await
        .unwrap();
}

/// Builds a hidden input. The values here are URL parameters and fixed
/// words, with no character that needs escaping in a quoted attribute.
fn hidden(name: &str, value: &str) -> String {
    assert!(!value.contains(['"', '<', '&']), "{value}");
    format!("<input type=hidden name=\"{name}\" value=\"{value}\">")
}
