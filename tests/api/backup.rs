//! Backup and restore as `docs/deploy.md` describes them: SQLite with
//! `VACUUM INTO`, PostgreSQL with `pg_dump` and `psql`, taken while the
//! server runs. Tokens issued before the backup work on the restored copy.

use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestDb, assert_error, postgres_url};

backend_tests!(backup_restore_keeps_tokens_valid);

/// Restores a backup of `source` into a new database and returns it, or
/// `None` when the tools the backend needs are missing.
async fn back_up_and_restore(source: &TestDb, dir: &std::path::Path) -> Option<RestoredDb> {
    match &source.sqlite_path {
        Some(_) => Some(back_up_sqlite(source, dir).await),
        None => back_up_postgres(source, dir).await,
    }
}

async fn back_up_sqlite(source: &TestDb, dir: &std::path::Path) -> RestoredDb {
    let backup = dir.join("backup.db");
    let connection = rusqlite::Connection::open(source.sqlite_path.as_ref().unwrap()).unwrap();
    connection.execute("VACUUM INTO ?1", [backup.to_string_lossy()]).unwrap();
    drop(connection);

    let restored = dir.join("restored.db");
    std::fs::copy(&backup, &restored).unwrap();
    let db = TestDb::existing(format!("sqlite://{}", restored.display()), Some(restored));
    RestoredDb { db: Arc::new(db), postgres: None }
}

async fn back_up_postgres(source: &TestDb, dir: &std::path::Path) -> Option<RestoredDb> {
    let tools = ["pg_dump", "psql"].map(|tool| Command::new(tool).arg("--version").output());
    if tools.iter().any(|output| output.as_ref().map_or(true, |o| !o.status.success())) {
        eprintln!("skipped: pg_dump or psql is not installed");
        return None;
    }
    let server = postgres_url().unwrap();
    let schema = source.url.split("search_path%3D").nth(1).unwrap().to_owned();
    let dump = dir.join("backup.sql");
    let dumped = Command::new("pg_dump")
        .args(["--no-owner", "--schema", &schema, "--file"])
        .arg(&dump)
        .arg(&server)
        .output()
        .unwrap();
    assert!(dumped.status.success(), "pg_dump failed: {dumped:?}");

    let database = format!("{schema}_restored");
    let mut admin = PgConnectOptions::from_str(&server).unwrap().connect().await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
    let mut target = url::Url::parse(&server).unwrap();
    target.set_path(&format!("/{database}"));
    let restored = Command::new("psql")
        .args(["--quiet", "--set", "ON_ERROR_STOP=1", "--file"])
        .arg(&dump)
        .arg(target.as_str())
        .output()
        .unwrap();
    assert!(restored.status.success(), "psql failed: {restored:?}");

    let url = format!("{target}?options=-c%20search_path%3D{schema}");
    let postgres = Some((server, database));
    Some(RestoredDb { db: Arc::new(TestDb::existing(url, None)), postgres })
}

/// A restored database, dropped with the test when it is on PostgreSQL.
struct RestoredDb {
    db: Arc<TestDb>,
    postgres: Option<(String, String)>,
}

impl RestoredDb {
    async fn remove(self) {
        let Some((server, database)) = self.postgres else { return };
        let mut admin = PgConnectOptions::from_str(&server).unwrap().connect().await.unwrap();
        let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        sqlx::query(&drop).execute(&mut admin).await.unwrap();
    }
}

async fn backup_restore_keeps_tokens_valid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tokens = app.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let Some(restored) = back_up_and_restore(&app.db, dir.path()).await else { return };
    app.stop().await;

    let copy = TestApp::start(restored.db.clone(), Default::default()).await;
    let info = copy.tokeninfo(access).await;
    let me = copy.me(access).await;
    let refreshed = copy.refresh(refresh, json!({})).await;
    copy.clock.advance(3600);
    let expired = copy.tokeninfo(access).await;

    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["issued_to"], "web");
    assert_eq!(info["expires_in"], 3600);
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(refreshed.status(), 200);
    assert_error(expired, 400, "invalid_token").await;
    copy.stop().await;
    restored.remove().await;
}
