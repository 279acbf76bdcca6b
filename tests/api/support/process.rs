//! The real `hktia-portal` binary, for what only a process shows: its log
//! lines, its response to signals and its exit status.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The binary under test, as Cargo built it.
pub const BINARY: &str = env!("CARGO_BIN_EXE_hktia-portal");

/// How long a server may take to start or to stop before the test fails.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a one-shot command on `database`, writing `stdin` to its standard
/// input, and returns its output once it exits.
pub fn cli(database: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BINARY)
        .arg("--database")
        .arg(database)
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

/// Runs a command that must succeed, and returns its standard output.
pub fn cli_ok(database: &str, args: &[&str], stdin: &str) -> String {
    let output = cli(database, args, stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Registers the web client `web` and the member `alice` with `password`,
/// through the commands an operator would run.
pub fn prepare_database(database: &str, password: &str) {
    let client = cli(
        database,
        &["client", "add", "web", "--kind", "web", "--redirect-uri", super::REDIRECT_URI],
        "",
    );
    assert!(client.status.success(), "client add failed: {client:?}");
    let member = cli(database, &["user", "add", "alice", "--password-stdin"], password);
    assert!(member.status.success(), "user add failed: {member:?}");
}

/// A `serve` process on `127.0.0.1` with an ephemeral port.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<String>>,
    lines: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `serve` on `database` with the extra environment `env`, and
    /// waits until it logs the address it listens on.
    pub fn start(database: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BINARY);
        command
            .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .env_remove("PORTAL_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command.envs(env.iter().copied());
        let mut child = command.spawn().unwrap();

        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (sender, lines) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
                drop(log);
                let _ = sender.send(line);
            }
        });

        let mut server = Self { child, base: String::new(), log, lines };
        let line = server.wait_for_line("listening");
        server.base = format!("http://{}", listening_address(&line));
        server
    }

    /// Waits until the server logs a line containing `needle`, and returns
    /// that line. Fails the test if the process ends or takes too long.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(PROCESS_TIMEOUT) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(error) => panic!("no log line with {needle:?} ({error}); log:\n{}", self.log()),
            }
        }
    }

    /// Returns everything the server wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Returns the full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends SIGTERM, as systemd does to stop a service.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        self.signal("-INT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args([name, &self.child.id().to_string()]).status();
        assert!(status.unwrap().success(), "kill {name} failed");
    }

    /// Kills the process with SIGKILL, as a crash would, and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the process to exit and returns its status.
    pub fn wait(&mut self) -> ExitStatus {
        for _ in 0..PROCESS_TIMEOUT.as_millis() / 50 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit; log:\n{}", self.log());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the address from the `listening` line, in text or JSON format.
fn listening_address(line: &str) -> String {
    let start = line
        .find("address=")
        .map(|i| i + "address=".len())
        .or_else(|| line.find("\"address\":\"").map(|i| i + "\"address\":\"".len()))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    line[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect()
}
