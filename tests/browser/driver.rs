//! Debian's `chromedriver`, started on a free loopback port for one test
//! and killed by its process id when the test ends, and headless Chromium
//! sessions on it, each with a profile folder of its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Where Debian's `chromium-driver` package installs the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `chromium` package installs the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Maximum time chromedriver may take to start responding.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Returns why the browser tests cannot run here, if they cannot.
pub fn missing() -> Option<String> {
    [CHROMEDRIVER, CHROMIUM]
        .into_iter()
        .find(|path| !Path::new(path).exists())
        .map(|path| format!("{path} is missing (apt-get install chromium chromium-driver)"))
}

/// The screen a session emulates.
#[derive(Clone, Copy, Debug)]
pub enum Screen {
    /// A desktop window, 1280 by 1100 pixels with the browser's frame.
    Desktop,
    /// A phone held upright: 390 by 844 CSS pixels at twice the density,
    /// with touch, as Chromium's mobile emulation gives it.
    Phone,
}

/// A running chromedriver; dropping it kills the process.
pub struct Chromedriver {
    child: Child,
    url: String,
    profiles: Vec<TempDir>,
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits until its
    /// status endpoint responds.
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver failed to start");
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), profiles: Vec::new() };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&self) {
        let started = Instant::now();
        let status = format!("{}/status", self.url);
        while started.elapsed() < STARTUP_TIMEOUT {
            if reqwest::get(&status).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not respond within {STARTUP_TIMEOUT:?}");
    }

    /// Opens a headless Chromium session on `screen` whose
    /// `Accept-Language` is `languages`, with a fresh profile.
    pub async fn session(&mut self, screen: Screen, languages: &str) -> Client {
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--accept-lang={languages}"),
        ];
        let mut options = json!({
            "binary": CHROMIUM,
            "prefs": {"intl.accept_languages": languages},
        });
        match screen {
            Screen::Desktop => args.push("--window-size=1280,1100".to_owned()),
            Screen::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true}
                });
            }
        }
        options["args"] = json!(args);
        self.profiles.push(profile);

        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), Value::from("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver did not open a session")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Kills this process only, by its id; the sessions' browsers end
        // when their clients close them.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns a loopback port that is free at the time of the call.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
