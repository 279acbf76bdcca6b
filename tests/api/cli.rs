//! The admin commands, run as the built binary against both backends.

use std::process::Output;

use crate::backend_tests;
use crate::support::process::{cli, cli_ok};
use crate::support::{Backend, TestDb};

backend_tests!(
    cli_migrate_succeeds_twice,
    cli_migrate_refuses_newer_schema,
    cli_user_add_and_list,
    cli_duplicate_username_fails,
    cli_missing_password_line_fails,
    cli_bad_password_fails,
    cli_unknown_user_fails,
    cli_user_disable_and_enable,
    cli_client_add_list_remove,
    cli_client_errors,
    cli_redirect_uri_rules,
    cli_invalid_email_fails,
    cli_closed_pipe_ends_quietly,
    cli_parallel_migrations_succeed,
);

const PASSWORD_LINE: &str = "correct horse battery\n";

/// Checks that a command failed with exactly one line on standard error.
fn assert_fails_with(output: &Output, message: &str) {
    assert!(!output.status.success(), "the command succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert_eq!(stderr.trim_end(), format!("error: {message}"));
}

async fn cli_migrate_succeeds_twice(backend: Backend) {
    let db = TestDb::create(backend).await;

    assert_eq!(cli_ok(&db.url, &["migrate"], ""), "migrations applied\n");
    assert_eq!(cli_ok(&db.url, &["migrate"], ""), "migrations applied\n");
}

/// A SQLite file whose migrations an earlier release recorded in sqlx's
/// `_sqlx_migrations` table is taken as migrated, and keeps its members.
#[tokio::test]
async fn cli_migrate_adopts_sqlx_history() {
    let db = TestDb::create(Backend::Sqlite).await;
    let path = db.sqlite_path.as_ref().unwrap();
    let connection = rusqlite::Connection::open(path).unwrap();
    for migration in ["0001_initial.sql", "0002_audit_and_throttle.sql"] {
        let sql = std::fs::read_to_string(format!("migrations/sqlite/{migration}")).unwrap();
        connection.execute_batch(&sql).unwrap();
    }
    connection
        .execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, success BOOLEAN NOT NULL);
             INSERT INTO _sqlx_migrations VALUES (1, TRUE), (2, TRUE);
             INSERT INTO members (username, username_key, display_name, password_hash, created_at)
             VALUES ('alice', 'alice', 'alice', 'x', 0);",
        )
        .unwrap();
    drop(connection);

    assert_eq!(cli_ok(&db.url, &["migrate"], ""), "migrations applied\n");

    let list = cli_ok(&db.url, &["user", "list"], "");
    assert!(list.lines().any(|line| line.starts_with("alice")), "{list}");
    let connection = rusqlite::Connection::open(path).unwrap();
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(version, 2);
}

/// A database that a later release migrated further is refused, instead of
/// being served with a schema this release does not know.
async fn cli_migrate_refuses_newer_schema(backend: Backend) {
    let db = TestDb::create(backend).await;
    cli_ok(&db.url, &["migrate"], "");
    let record_later_migration = match backend {
        Backend::Sqlite => "PRAGMA user_version = 3",
        Backend::Postgres => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (3, 'later', TRUE, '\\x00', 0)"
        }
    };
    db.execute(record_later_migration).await;

    let output = cli(&db.url, &["migrate"], "");

    assert_fails_with(
        &output,
        "cannot migrate database: migration failed: migration 3 was previously applied but is \
         missing in the resolved migrations",
    );
}

/// SQLite URLs that would not name one shared file are rejected.
#[tokio::test]
async fn cli_rejects_unshared_sqlite_urls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portal.db");
    let urls = [
        "sqlite::memory:".to_owned(),
        "sqlite://file::memory:".to_owned(),
        format!("sqlite://file:{}", file.display()),
        format!("sqlite://{}?mode=ro", file.display()),
    ];
    for url in urls {
        let output = cli(&url, &["migrate"], "");

        let message = format!(
            "cannot open database: unsupported database URL {url:?}: \
             expected sqlite://PATH or postgres://..."
        );
        assert_fails_with(&output, &message);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

async fn cli_user_add_and_list(backend: Backend) {
    let db = TestDb::create(backend).await;

    let args = [
        "user",
        "add",
        "alice",
        "--email",
        "alice@example.org",
        "--display-name",
        "Alice Chan",
        "--password-stdin",
    ];
    assert_eq!(cli_ok(&db.url, &args, PASSWORD_LINE), "user \"alice\" added\n");
    cli_ok(&db.url, &["user", "add", "bob", "--password-stdin"], "another password\r\n");

    let list = cli_ok(&db.url, &["user", "list"], "");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("USERNAME"));
    assert!(lines[1].starts_with("alice"));
    assert!(lines[1].contains("Alice Chan"));
    assert!(lines[1].contains("alice@example.org"));
    assert!(lines[1].contains("active"));
    assert!(lines[2].starts_with("bob"));
    assert!(!list.contains("horse"), "the list shows a password");
}

async fn cli_duplicate_username_fails(backend: Backend) {
    let db = TestDb::create(backend).await;
    cli_ok(&db.url, &["user", "add", "alice", "--password-stdin"], PASSWORD_LINE);

    // The message names the username as normalised: fullwidth letters
    // fold to ASCII under NFKC.
    for (spelling, shown) in [("alice", "alice"), ("ALICE", "ALICE"), ("ａｌｉｃｅ", "alice")]
    {
        let output = cli(&db.url, &["user", "add", spelling, "--password-stdin"], PASSWORD_LINE);
        assert_fails_with(&output, &format!("user {shown:?} already exists"));
    }
}

async fn cli_missing_password_line_fails(backend: Backend) {
    let db = TestDb::create(backend).await;

    let output = cli(&db.url, &["user", "add", "alice", "--password-stdin"], "");

    assert_fails_with(&output, "no password on standard input: send it as the first line");
    let list = cli_ok(&db.url, &["user", "list"], "");
    assert_eq!(list.lines().count(), 1, "a member was added: {list}");
}

async fn cli_bad_password_fails(backend: Backend) {
    let db = TestDb::create(backend).await;

    let short = cli(&db.url, &["user", "add", "alice", "--password-stdin"], "short\n");
    assert_fails_with(&short, "password is shorter than 8 bytes");
    let long = format!("{}\n", "x".repeat(1025));
    let long = cli(&db.url, &["user", "add", "alice", "--password-stdin"], &long);
    assert_fails_with(&long, "password is longer than 1024 bytes");
}

async fn cli_unknown_user_fails(backend: Backend) {
    let db = TestDb::create(backend).await;

    for command in ["disable", "enable"] {
        let output = cli(&db.url, &["user", command, "bob"], "");
        assert_fails_with(&output, "user \"bob\" not found");
    }
    let output = cli(&db.url, &["user", "set-password", "bob", "--password-stdin"], PASSWORD_LINE);
    assert_fails_with(&output, "user \"bob\" not found");
}

async fn cli_user_disable_and_enable(backend: Backend) {
    let db = TestDb::create(backend).await;
    cli_ok(&db.url, &["user", "add", "alice", "--password-stdin"], PASSWORD_LINE);

    assert_eq!(cli_ok(&db.url, &["user", "disable", "Alice"], ""), "user \"Alice\" disabled\n");
    assert!(cli_ok(&db.url, &["user", "list"], "").contains("disabled"));
    assert_eq!(cli_ok(&db.url, &["user", "enable", "alice"], ""), "user \"alice\" enabled\n");
    assert!(cli_ok(&db.url, &["user", "list"], "").contains("active"));
    let output =
        cli_ok(&db.url, &["user", "set-password", "alice", "--password-stdin"], "a new password\n");
    assert_eq!(output, "password of user \"alice\" replaced\n");
}

async fn cli_client_add_list_remove(backend: Backend) {
    let db = TestDb::create(backend).await;

    let args = [
        "client",
        "add",
        "web",
        "--kind",
        "web",
        "--redirect-uri",
        "https://app.example/cb",
        "--redirect-uri",
        "http://127.0.0.1:9000/cb",
        "--name",
        "Members' Web",
    ];
    assert_eq!(cli_ok(&db.url, &args, ""), "client \"web\" added\n");
    cli_ok(&db.url, &["client", "add", "phone", "--kind", "mobile"], "");

    let list = cli_ok(&db.url, &["client", "list"], "");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[1].starts_with("phone"), "{list}");
    assert!(lines[1].contains("mobile"), "{list}");
    assert!(lines[2].starts_with("web"), "{list}");
    assert!(lines[2].contains("Members' Web"), "{list}");
    assert!(lines[2].contains("https://app.example/cb"), "{list}");

    assert_eq!(cli_ok(&db.url, &["client", "remove", "phone"], ""), "client \"phone\" removed\n");
    assert_eq!(cli_ok(&db.url, &["client", "list"], "").lines().count(), 2);
}

async fn cli_client_errors(backend: Backend) {
    let db = TestDb::create(backend).await;
    cli_ok(&db.url, &["client", "add", "web", "--kind", "web"], "");

    let duplicate = cli(&db.url, &["client", "add", "web", "--kind", "mobile"], "");
    assert_fails_with(&duplicate, "client \"web\" already exists");
    let unknown = cli(&db.url, &["client", "remove", "nobody"], "");
    assert_fails_with(&unknown, "client \"nobody\" not found");
    let fragment = cli(
        &db.url,
        &["client", "add", "x", "--kind", "web", "--redirect-uri", "https://a.example/cb#frag"],
        "",
    );
    assert_fails_with(
        &fragment,
        "invalid redirect URI \"https://a.example/cb#frag\": expected an absolute URI without a fragment",
    );
    let relative =
        cli(&db.url, &["client", "add", "x", "--kind", "web", "--redirect-uri", "/cb"], "");
    assert!(!relative.status.success());
    let bad_kind = cli(&db.url, &["client", "add", "x", "--kind", "desktop"], "");
    assert!(!bad_kind.status.success());
}

async fn cli_redirect_uri_rules(backend: Backend) {
    let db = TestDb::create(backend).await;

    for accepted in [
        "https://app.example/cb",
        "http://127.0.0.1:9000/cb",
        "http://localhost/cb",
        "http://[::1]/cb",
        "com.example.app:/oauth2redirect",
    ] {
        let output = cli(
            &db.url,
            &["client", "add", "x", "--kind", "mobile", "--redirect-uri", accepted],
            "",
        );
        assert!(output.status.success(), "{accepted}: {}", String::from_utf8_lossy(&output.stderr));
        cli_ok(&db.url, &["client", "remove", "x"], "");
    }
    let plain = cli(
        &db.url,
        &["client", "add", "x", "--kind", "web", "--redirect-uri", "http://app.example/cb"],
        "",
    );
    assert_fails_with(
        &plain,
        "invalid redirect URI \"http://app.example/cb\": use https, or http only on a loopback address",
    );
    let wildcard = cli(
        &db.url,
        &["client", "add", "x", "--kind", "web", "--redirect-uri", "https://*.example/cb"],
        "",
    );
    assert_fails_with(
        &wildcard,
        "invalid redirect URI \"https://*.example/cb\": wildcards are not supported; register each URI",
    );
}

async fn cli_invalid_email_fails(backend: Backend) {
    let db = TestDb::create(backend).await;

    for email in ["notanemail", "a@", "@b", "a b@c", "a@b@c"] {
        let output = cli(
            &db.url,
            &["user", "add", "alice", "--email", email, "--password-stdin"],
            PASSWORD_LINE,
        );
        assert_fails_with(
            &output,
            &format!("invalid email address {email:?}: expected local@domain"),
        );
    }
}

async fn cli_closed_pipe_ends_quietly(backend: Backend) {
    let db = TestDb::create(backend).await;
    for i in 0..50 {
        cli_ok(&db.url, &["client", "add", &format!("client-{i}"), "--kind", "web"], "");
    }

    let binary = crate::support::process::BINARY;
    let script = format!("'{binary}' --database '{}' client list | true", db.url);
    let output = std::process::Command::new("sh").args(["-c", &script]).output().unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr, "");
}

async fn cli_parallel_migrations_succeed(backend: Backend) {
    let db = TestDb::create(backend).await;

    let runs: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || cli(&url, &["migrate"], ""))
        })
        .collect();

    for run in runs {
        let output = run.join().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
}
