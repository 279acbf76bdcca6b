//! The benchmark's own client, for what a general HTTP load generator
//! cannot do: single-use codes, refresh chains and sign-ins. `scripts/bench`
//! drives it; see `BENCHMARKS.md`.
//!
//! - `seed` fills a database with members, codes, refresh chains and filler
//!   tokens, writing the secrets it made into a folder.
//! - `load` runs one scenario over HTTP for a fixed time and prints one
//!   JSON line: requests per second, p50 and p99 latency.
//! - `verify` checks that every access token a run received is stored.
//! - `argon2` measures the raw Argon2id rate of this machine.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use hktia_portal::accounts::{Password, PasswordHasher};
use hktia_portal::clock::{Clock, SystemClock};
use hktia_portal::config::Argon2Params;
use hktia_portal::store::{
    ClientKind, IssuedTokens, NewClient, NewCode, NewGrant, NewMember, Store,
};
use hktia_portal::tokens::{self, Secret, TokenKind};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The password of every benchmark member.
const PASSWORD: &str = "benchmark password";
/// The benchmark's web client.
const CLIENT: &str = "bench-web";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fill a migrated database and write the secrets into `--out`.
    Seed {
        #[arg(long)]
        database: String,
        #[arg(long)]
        out: PathBuf,
        /// Members `bench-0` … to sign in.
        #[arg(long, default_value_t = 200)]
        members: usize,
        /// Single-use codes for the `code` scenario.
        #[arg(long, default_value_t = 60_000)]
        codes: usize,
        /// Refresh chains for the `refresh` scenario.
        #[arg(long, default_value_t = 64)]
        chains: usize,
    },
    /// Add live access tokens that no client has, so lookups search a big table.
    Filler {
        #[arg(long)]
        database: String,
        #[arg(long)]
        tokens: u64,
    },
    /// Run one scenario and print one JSON line.
    Load {
        #[arg(long)]
        base: String,
        #[arg(long, value_enum)]
        scenario: Scenario,
        #[arg(long)]
        seeds: PathBuf,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// File for the access tokens received.
        #[arg(long)]
        issued: Option<PathBuf>,
    },
    /// Count how many of the access tokens in `--issued` are stored.
    Verify {
        #[arg(long)]
        database: String,
        #[arg(long)]
        issued: PathBuf,
    },
    /// Measure raw Argon2id hashes per second on every core.
    Argon2 {
        /// Seconds to run.
        #[arg(long, default_value_t = 5)]
        duration: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    /// One code exchange per request.
    Code,
    /// Refresh chains, one per connection.
    Refresh,
    /// The password grant, cycling over the members.
    Signin,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Seed { database, out, members, codes, chains } => {
            seed(&database, &out, members, codes, chains).await
        }
        Command::Filler { database, tokens } => filler(&database, tokens).await,
        Command::Load { base, scenario, seeds, connections, duration, issued } => {
            let load = Load::new(base, &seeds, scenario, connections).await?;
            let report = load.run(Duration::from_secs(duration)).await;
            if let Some(path) = issued {
                std::fs::write(path, load.issued.lock().await.join("\n"))?;
            }
            println!("{report}");
            Ok(())
        }
        Command::Verify { database, issued } => verify(&database, &issued).await,
        Command::Argon2 { duration } => argon2_rate(Duration::from_secs(duration)).await,
    }
}

async fn seed(
    url: &str,
    out: &Path,
    members: usize,
    codes: usize,
    chains: usize,
) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let now = SystemClock.now();
    std::fs::create_dir_all(out)?;

    let client =
        NewClient { id: CLIENT, kind: ClientKind::Web, name: "Benchmark", redirect_uris: &[], now };
    store.insert_client(&client).await?;
    // Every member shares one hash: the work measured is the server's, not
    // the seeding's.
    let hasher = PasswordHasher::new(Argon2Params::MINIMUM);
    let hash = hasher.hash(&Password::new(PASSWORD.to_owned())?).await?;
    let mut first_member = 0;
    let usernames: Vec<String> = (0..members).map(|i| format!("bench-{i}")).collect();
    std::fs::write(out.join("members.txt"), usernames.join("\n"))?;
    for i in 0..members {
        let username = format!("bench-{i}");
        let member = NewMember {
            username: &username,
            username_key: &username,
            display_name: &username,
            email: None,
            password_hash: &hash,
            now,
        };
        store.insert_member(&member).await?;
        if i == 0 {
            first_member = store.find_member(&username).await?.context("member missing")?.id;
        }
    }

    let mut code_lines = Vec::with_capacity(codes);
    for _ in 0..codes {
        code_lines.push(insert_code(&store, first_member, now).await?);
    }
    std::fs::write(out.join("codes.txt"), code_lines.join("\n"))?;

    let mut refresh_lines = Vec::new();
    let mut access_token = String::new();
    for _ in 0..chains.max(1) {
        let (access, refresh) = open_session(&store, first_member, now).await?;
        refresh_lines.push(refresh);
        access_token = access;
    }
    std::fs::write(out.join("refresh.txt"), refresh_lines.join("\n"))?;
    std::fs::write(out.join("access.txt"), access_token)?;
    store.close().await;
    Ok(())
}

async fn insert_code(store: &Store, member_id: i64, now: i64) -> anyhow::Result<String> {
    let code = tokens::generate(TokenKind::Code);
    store
        .insert_code(&NewCode {
            digest: &code.digest(),
            member_id,
            client_id: CLIENT,
            device_id: None,
            access_type: "offline",
            redirect_uri: None,
            code_challenge: None,
            now,
            expires_at: now + 600,
        })
        .await?;
    Ok(code.expose().to_owned())
}

/// Redeems a fresh code in the store and returns the access and refresh
/// tokens of the new session.
async fn open_session(store: &Store, member_id: i64, now: i64) -> anyhow::Result<(String, String)> {
    let code = Secret::new(insert_code(store, member_id, now).await?);
    let (access, refresh) =
        (tokens::generate(TokenKind::Access), tokens::generate(TokenKind::Refresh));
    let grant_id = tokens::random_id();
    let grant = NewGrant {
        id: &grant_id,
        member_id,
        client_id: CLIENT,
        device_id: None,
        access_type: "offline",
    };
    let issued = IssuedTokens {
        access: &access.digest(),
        access_expires_at: now + 24 * 3600,
        refresh: Some((&refresh.digest(), now + 24 * 3600)),
        now,
    };
    store.redeem_code(&code.digest(), &grant, &issued).await?;
    Ok((access.expose().to_owned(), refresh.expose().to_owned()))
}

/// Inserts live access tokens of random digests in one statement per
/// backend; they belong to the first session in the database.
async fn filler(url: &str, count: u64) -> anyhow::Result<()> {
    let expires_at = SystemClock.now() + 24 * 3600;
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        rusqlite::Connection::open(path)?.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
             SELECT randomblob(32), (SELECT id FROM grants LIMIT 1), 'access', 0, ?2 FROM n",
            (count as i64, expires_at),
        )?;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query(
            "INSERT INTO tokens (digest, grant_id, kind, created_at, expires_at) \
             SELECT decode(md5(random()::text) || md5(random()::text), 'hex'), \
             (SELECT id FROM grants LIMIT 1), 'access', 0, $2 FROM generate_series(1, $1)",
        )
        .bind(count as i64)
        .bind(expires_at)
        .execute(&pool)
        .await?;
        sqlx::query("ANALYZE tokens").execute(&pool).await?;
    }
    Ok(())
}

/// One scenario's shared state.
struct Load {
    base: String,
    http: reqwest::Client,
    scenario: Scenario,
    connections: usize,
    codes: Vec<String>,
    next_code: AtomicUsize,
    members: Vec<String>,
    chains: Mutex<Vec<String>>,
    issued: Mutex<Vec<String>>,
}

impl Load {
    async fn new(
        base: String,
        seeds: &Path,
        scenario: Scenario,
        connections: usize,
    ) -> anyhow::Result<Arc<Self>> {
        let lines = |name: &str| -> anyhow::Result<Vec<String>> {
            let text = std::fs::read_to_string(seeds.join(name))
                .with_context(|| format!("cannot read {name}"))?;
            Ok(text.lines().map(str::to_owned).collect())
        };
        Ok(Arc::new(Self {
            base,
            http: reqwest::Client::builder().pool_max_idle_per_host(connections).build()?,
            scenario,
            connections,
            codes: lines("codes.txt")?,
            next_code: AtomicUsize::new(0),
            members: lines("members.txt")?,
            chains: Mutex::new(lines("refresh.txt")?),
            issued: Mutex::new(Vec::new()),
        }))
    }

    /// Runs the scenario on every connection until `duration` has passed,
    /// and returns the report.
    async fn run(self: &Arc<Self>, duration: Duration) -> Value {
        let started = Instant::now();
        let deadline = started + duration;
        let workers: Vec<_> = (0..self.connections)
            .map(|worker| {
                let load = self.clone();
                tokio::spawn(async move { load.worker(worker, deadline).await })
            })
            .collect();

        let mut latencies = Histogram::<u64>::new(3).unwrap_or_else(|_| unreachable!());
        let mut errors = 0u64;
        for worker in workers {
            if let Ok((histogram, failed)) = worker.await {
                latencies.add(histogram).ok();
                errors += failed;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        json!({
            "requests": latencies.len(),
            "errors": errors,
            "rps": (latencies.len() as f64 / elapsed).round(),
            "p50_ms": latencies.value_at_quantile(0.50) as f64 / 1000.0,
            "p99_ms": latencies.value_at_quantile(0.99) as f64 / 1000.0,
        })
    }

    async fn worker(&self, worker: usize, deadline: Instant) -> (Histogram<u64>, u64) {
        let mut latencies = Histogram::<u64>::new(3).unwrap_or_else(|_| unreachable!());
        let mut errors = 0;
        let mut refresh = self.chains.lock().await.get(worker % self.connections).cloned();
        let mut member = worker;
        while Instant::now() < deadline {
            let body = match self.scenario {
                Scenario::Code => {
                    let index = self.next_code.fetch_add(1, Ordering::Relaxed);
                    let Some(code) = self.codes.get(index) else { break };
                    json!({"grant_type": "authorization_code", "code": code, "client_id": CLIENT})
                }
                Scenario::Refresh => {
                    let Some(token) = &refresh else { break };
                    json!({"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT})
                }
                Scenario::Signin => {
                    member = (member + self.connections) % self.members.len().max(1);
                    let username = self.members.get(member).cloned().unwrap_or_default();
                    json!({"grant_type": "password", "response_type": "code", "access_type": "online",
                           "client_id": CLIENT, "username": username, "password": PASSWORD})
                }
            };
            let path = if matches!(self.scenario, Scenario::Signin) {
                "/oauth2/auth"
            } else {
                "/oauth2/token"
            };
            let sent = Instant::now();
            let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await;
            let answer: Option<Value> = match response {
                Ok(response) if response.status().is_success() => response.json().await.ok(),
                _ => None,
            };
            latencies.record(sent.elapsed().as_micros() as u64).ok();
            let Some(answer) = answer else {
                errors += 1;
                continue;
            };
            if let Some(token) = answer["access_token"].as_str() {
                self.issued.lock().await.push(token.to_owned());
            }
            if let Some(token) = answer["refresh_token"].as_str() {
                refresh = Some(token.to_owned());
            }
        }
        (latencies, errors)
    }
}

async fn verify(url: &str, issued: &Path) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    let text = std::fs::read_to_string(issued)?;
    let (mut stored, mut total) = (0, 0);
    for token in text.lines().filter(|line| !line.is_empty()) {
        total += 1;
        if store.find_access(&Secret::new(token.to_owned()).digest()).await?.is_some() {
            stored += 1;
        }
    }
    println!("{}", json!({"issued": total, "stored": stored}));
    store.close().await;
    Ok(())
}

/// Hashes on every core with the argon2 crate directly, at the server's
/// default cost, and prints the rate.
async fn argon2_rate(duration: Duration) -> anyhow::Result<()> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let minimum = Argon2Params::MINIMUM;
    let params = Params::new(minimum.memory_kib, minimum.passes, minimum.lanes, None)
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
    let deadline = Instant::now() + duration;
    let hashes = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (hashes, params) = (hashes.clone(), params.clone());
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                while Instant::now() < deadline {
                    if argon2.hash_password(PASSWORD.as_bytes(), &salt).is_ok() {
                        hashes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().ok();
    }
    let rate = hashes.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("{}", json!({"cores": cores, "hashes_per_second": (rate * 10.0).round() / 10.0}));
    Ok(())
}
