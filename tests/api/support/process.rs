//! The real binary: one-shot commands, and `serve` as a child process that
//! a test can kill and start again.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary that Cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_hktia-portal");

/// Runs `hktia-portal --database URL ARGS…` with `stdin` as its input.
pub fn run_cli(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BINARY)
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env_remove("PORTAL_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command that must succeed, and returns its standard output.
pub fn run_cli_ok(database_url: &str, args: &[&str], stdin: &str) -> String {
    let output = run_cli(database_url, args, stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// A `serve` process on a free loopback port.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ServerProcess {
    /// Starts `serve` on `database_url` and waits until it answers.
    pub async fn start(database_url: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(BINARY)
            .args(["--database", database_url, "serve", "--listen", &listen])
            .env_remove("PORTAL_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, base: format!("http://{listen}") };
        server.wait_until_answering().await;
        server
    }

    async fn wait_until_answering(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/oauth2/tokeninfo", self.base);
        while reqwest::get(&url).await.is_err() {
            assert!(Instant::now() < deadline, "server did not start within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Returns the full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Kills the process with SIGKILL, as a crash would, and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
