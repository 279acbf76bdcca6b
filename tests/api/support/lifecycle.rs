//! Helpers for revocation, metadata, sessions and the command line.

use std::process::Output;

use reqwest::Response;
use serde_json::{Value, json};

use super::{PASSWORD, TestApp};

impl TestApp {
    /// Revokes `token` as `client_id`.
    pub async fn revoke(&self, token: &str, client_id: &str) -> Response {
        let body = json!({ "token": token, "client_id": client_id });
        self.post_json("/oauth2/revoke", &body).await
    }

    /// Calls `GET /api/v1/me/sessions` with a bearer token.
    pub async fn sessions(&self, access_token: &str) -> Response {
        let url = self.url("/api/v1/me/sessions");
        self.http.get(url).bearer_auth(access_token).send().await.unwrap()
    }

    /// Calls `DELETE /api/v1/me/sessions/{id}` with a bearer token.
    pub async fn delete_session(&self, access_token: &str, id: &str) -> Response {
        let url = self.url(&format!("/api/v1/me/sessions/{id}"));
        self.http.delete(url).bearer_auth(access_token).send().await.unwrap()
    }

    /// Signs `username` in with the password grant; `extra` adds or
    /// replaces fields.
    pub async fn sign_in_as(&self, username: &str, password: &str, extra: Value) -> Response {
        let mut fields = json!({ "username": username, "password": password });
        super::merge(&mut fields, extra);
        self.password_grant(fields).await
    }

    /// Signs `username` in on `client_id` and returns the token response.
    pub async fn tokens_for(&self, username: &str, client_id: &str, device: Option<&str>) -> Value {
        let extra = json!({ "client_id": client_id, "device_id": device });
        let response = self.sign_in_as(username, PASSWORD, extra).await;
        assert_eq!(response.status(), 200, "password grant failed");
        let code: Value = response.json().await.unwrap();
        let code = code["code"].as_str().unwrap();
        let extra = json!({ "client_id": client_id, "device_id": device });
        let response = self.exchange(code, extra).await;
        assert_eq!(response.status(), 200, "code exchange failed");
        response.json().await.unwrap()
    }

    /// Runs the built binary against this server's database with `args`,
    /// and `stdin` as its standard input.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        run_cli(&self.db.url, args, stdin)
    }
}

/// Runs the built binary against the database at `url`.
pub fn run_cli(url: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_hktia-portal"))
        .arg("--database")
        .arg(url)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Returns a token response's field as a string.
pub fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}"))
}
