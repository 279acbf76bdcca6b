//! `deploy/nginx.conf` in front of the real binary: TLS ends at nginx, and
//! the portal believes the `X-Forwarded-For` that nginx sets, because
//! `PORTAL_TRUSTED_PROXIES` names it. Skipped when nginx is not installed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::process::{ServerProcess, prepare_database};
use crate::support::{Backend, PASSWORD, TestDb};

const SITE: &str = include_str!("../../deploy/nginx.conf");

/// The address the test client connects from. nginx receives requests
/// from it and must pass it on, while the portal's peer is nginx on
/// 127.0.0.1.
const CLIENT_ADDRESS: &str = "127.0.0.2";

fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Replaces `from` in `text`, failing the test unless it occurs exactly
/// `count` times, so that a change to the shipped file cannot slip past.
fn replace(text: &str, from: &str, to: &str, count: usize) -> String {
    assert_eq!(text.matches(from).count(), count, "deploy/nginx.conf: expected {from:?}");
    text.replace(from, to)
}

fn make_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (certificate, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .unwrap();
    assert!(output.status.success(), "openssl failed: {output:?}");
    (certificate, key)
}

/// An nginx master process running the shipped site on loopback ports.
struct Nginx {
    child: Child,
    https_port: u16,
    dir: PathBuf,
}

impl Nginx {
    fn start(binary: &Path, dir: &Path, portal: &str) -> Self {
        let (certificate, key) = make_certificate(dir);
        let (http_port, https_port) = (free_port(), free_port());
        let access_log = dir.join("access.log");
        let mut site = replace(SITE, "server 127.0.0.1:8080;", &format!("server {portal};"), 1);
        site = replace(&site, "listen 80;", &format!("listen 127.0.0.1:{http_port};"), 1);
        site = replace(&site, "listen 443 ssl;", &format!("listen 127.0.0.1:{https_port} ssl;"), 1);
        site = replace(&site, "listen [::]:80;", "", 1);
        site = replace(&site, "listen [::]:443 ssl;", "", 1);
        let live = "/etc/letsencrypt/live/portal.example.org";
        site = replace(&site, &format!("{live}/fullchain.pem"), &certificate.to_string_lossy(), 1);
        site = replace(&site, &format!("{live}/privkey.pem"), &key.to_string_lossy(), 1);
        let log_path = access_log.to_string_lossy();
        site = replace(&site, "/var/log/nginx/hktia-portal.access.log", &log_path, 2);
        std::fs::write(dir.join("site.conf"), site).unwrap();

        // Responses stay in memory: nginx's workers may run as another user
        // who cannot write temporary files in the test's folder.
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  proxy_max_temp_file_size 0;\n  \
             client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n  \
             fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  \
             scgi_temp_path {dir}/scgi;\n  include {dir}/site.conf;\n}}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();

        let child = Command::new(binary)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Self { child, https_port, dir: dir.to_owned() };
        nginx.wait_until_listening();
        nginx
    }

    fn wait_until_listening(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.https_port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let errors = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        panic!("nginx did not start listening:\n{errors}");
    }

    /// Sends a request through nginx over TLS with curl, from
    /// [`CLIENT_ADDRESS`], and returns the status, headers and body.
    fn curl(&self, method: &str, path: &str, extra: &[&str]) -> (u16, String, String) {
        let url = format!("https://localhost:{}{path}", self.https_port);
        let output: Output = Command::new("curl")
            .args(["--silent", "--show-error", "--include", "--max-time", "30"])
            .args(["--interface", CLIENT_ADDRESS])
            .arg("--resolve")
            .arg(format!("localhost:{}:127.0.0.1", self.https_port))
            .arg("--cacert")
            .arg(self.dir.join("cert.pem"))
            .args(["--request", method])
            .args(extra)
            .arg(url)
            .output()
            .unwrap();
        assert!(output.status.success(), "curl failed: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_owned(), body.to_owned())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its workers; SIGKILL would orphan them.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn request_id(head: &str) -> String {
    let line = head
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("x-request-id:"))
        .expect("no x-request-id");
    line["x-request-id:".len()..].trim().to_owned()
}

/// Returns the client address the portal logged for `request_id`.
fn logged_client(log: &str, request_id: &str) -> String {
    let line = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| {
            line["message"] == "request served" && line["span"]["request_id"] == request_id
        })
        .unwrap_or_else(|| panic!("no log line for request {request_id}:\n{log}"));
    line["span"]["client"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_passes_client_address_over_tls() {
    let Some(nginx_binary) = find_nginx() else {
        eprintln!("skipped: nginx is not installed");
        return;
    };
    let db = TestDb::create(Backend::Sqlite).await;
    prepare_database(&db.url, &format!("{PASSWORD}\n"));
    let trusted = [("PORTAL_TRUSTED_PROXIES", "127.0.0.1"), ("PORTAL_LOG_FORMAT", "json")];
    let portal = ServerProcess::start(&db.url, &trusted);
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(&nginx_binary, dir.path(), portal.base.trim_start_matches("http://"));

    let (health_status, health_head, health_body) = nginx.curl("GET", "/healthz", &[]);
    let grant = json!({
        "response_type": "code", "access_type": "online", "client_id": "web",
        "grant_type": "password", "username": "alice", "password": PASSWORD,
    })
    .to_string();
    let spoofed = ["--header", "X-Forwarded-For: 203.0.113.9", "--json", grant.as_str()];
    let (grant_status, grant_head, grant_body) = nginx.curl("POST", "/oauth2/auth", &spoofed);
    let (metrics_status, _, metrics_body) = nginx.curl("GET", "/metrics", &[]);
    let log = portal.log();

    assert_eq!(health_status, 200);
    assert_eq!(serde_json::from_str::<Value>(&health_body).unwrap(), json!({"status": "ok"}));
    let hsts = "strict-transport-security: max-age=63072000";
    assert!(health_head.to_ascii_lowercase().contains(hsts), "no HSTS in {health_head}");
    assert_eq!(logged_client(&log, &request_id(&health_head)), CLIENT_ADDRESS);
    assert_eq!(grant_status, 200, "password grant through nginx failed: {grant_body}");
    assert!(serde_json::from_str::<Value>(&grant_body).unwrap()["code"].is_string());
    assert_eq!(logged_client(&log, &request_id(&grant_head)), CLIENT_ADDRESS);
    assert_eq!(metrics_status, 404);
    assert_eq!(serde_json::from_str::<Value>(&metrics_body).unwrap()["error"], "not_found");
}
