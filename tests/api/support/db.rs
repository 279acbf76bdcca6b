//! A fresh database for each test: a SQLite file in a temporary folder, or
//! a PostgreSQL schema in the database `PORTAL_TEST_POSTGRES_URL` names.
//! Both are removed when the test ends.

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tempfile::TempDir;

/// The variable that points the tests at a PostgreSQL server.
pub const POSTGRES_URL_VARIABLE: &str = "PORTAL_TEST_POSTGRES_URL";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A schema on the PostgreSQL server of `PORTAL_TEST_POSTGRES_URL`.
    Postgres,
}

/// Returns the PostgreSQL server URL, or `None` when the tests that need it
/// are to be skipped.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VARIABLE).ok().filter(|url| !url.is_empty())
}

/// A database that exists for one test.
pub struct TestDb {
    /// The URL the server and the CLI connect with.
    pub url: String,
    /// The SQLite file, for tests that read it directly.
    pub sqlite_path: Option<std::path::PathBuf>,
    _dir: Option<TempDir>,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// Creates an empty database on `backend`.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("portal.db");
                Self {
                    url: format!("sqlite://{}", path.display()),
                    sqlite_path: Some(path),
                    _dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let server = postgres_url().expect("PORTAL_TEST_POSTGRES_URL is not set");
                let schema = format!("portal_test_{}", hktia_portal::tokens::random_id())
                    .to_lowercase()
                    .replace('-', "_");
                let mut admin =
                    PgConnectOptions::from_str(&server).unwrap().connect().await.unwrap();
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut admin).await.unwrap();
                let separator = if server.contains('?') { '&' } else { '?' };
                Self {
                    url: format!("{server}{separator}options=-c%20search_path%3D{schema}"),
                    sqlite_path: None,
                    _dir: None,
                    schema: Some((server, schema)),
                }
            }
        }
    }
}

impl TestDb {
    /// Wraps a database that the test itself created and removes, such as
    /// one restored from a backup.
    pub fn existing(url: String, sqlite_path: Option<std::path::PathBuf>) -> Self {
        Self { url, sqlite_path, _dir: None, schema: None }
    }

    /// Runs one statement on the database, beside any server using it.
    pub async fn execute(&self, sql: &str) {
        match &self.sqlite_path {
            Some(path) => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
            }
            None => {
                let mut connection =
                    PgConnectOptions::from_str(&self.url).unwrap().connect().await.unwrap();
                sqlx::query(sql).execute(&mut connection).await.unwrap();
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, schema)) = self.schema.take() else { return };
        // Drop runs outside any async context, so the schema is removed on
        // a thread of its own with a small runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnectOptions::from_str(&server)?.connect().await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut admin)
                    .await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: a test schema could not be dropped");
        }
    }
}
