//! All the SQL, and nothing else. One [`Store`] serves SQLite or PostgreSQL;
//! each method contains the statement for both, written once where the two
//! dialects agree (SQLite accepts PostgreSQL's `$1` parameters).
//!
//! SQLite runs in WAL mode with `synchronous=NORMAL`: a committed
//! transaction survives a crash of the process, but a power loss may take
//! the last few commits with it. Writes go through a pool of one connection,
//! so they queue in the server instead of spinning on SQLite's busy lock.

mod audit;
mod cleanup;
mod clients;
mod grants;
mod members;
mod sessions;
mod signins;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

pub use clients::{ClientKind, ClientRecord, NewClient};
pub use grants::{
    AccessRecord, CodeRecord, IssuedTokens, NewCode, NewGrant, RefreshRecord, Rotation,
};
pub use members::{MemberRecord, NewMember};

pub use audit::{AuditFilter, AuditRecord};
pub use cleanup::Removed;
pub use sessions::{SessionRecord, TokenOwner};
pub use signins::{LockoutPolicy, Reservation};

/// How long a request waits for a database connection before the database
/// counts as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The database, SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite { reader: SqlitePool, writer: SqlitePool },
    Postgres(PgPool),
}

/// Runs `$body` once for each backend, with `$pool` bound to the PostgreSQL
/// pool or to the SQLite pool named by `$role` (`reader` or `writer`).
macro_rules! on_pool {
    ($store:expr, $role:ident, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { $role: $pool, .. } => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The connections of one pool at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// `reader`, `writer` or `main`.
    pub name: &'static str,
    /// Open connections, idle or in use.
    pub size: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// Most connections the pool may open.
    pub max: u32,
}

impl PoolUse {
    fn of<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> Self {
        Self {
            name,
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}

/// A failed database operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or did not respond, and nothing
    /// was changed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A row with the same unique key already exists.
    #[error("duplicate row")]
    Conflict,
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            return StoreError::Unavailable(error);
        }
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return StoreError::Conflict;
        }
        StoreError::Database(error)
    }
}

/// Tells whether `error` means the database is unreachable or overloaded,
/// rather than that a statement was wrong.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: class 08 is a connection exception, 28 a rejected
            // login, 3D000 a missing database, 53 lack of resources, 55000 a
            // database not accepting connections, 57P0x a server shutting
            // down, 25006 a read-only transaction. SQLite: 5 BUSY, 6 LOCKED,
            // 8 READONLY, 10 IOERR, 13 FULL, 14 CANTOPEN (extended codes keep
            // the primary code in the low byte).
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                ["08", "28", "3D000", "53", "55000", "57P0", "25006"]
                    .iter()
                    .any(|prefix| code.starts_with(prefix))
            } else {
                let primary = code.parse::<u32>().ok().map(|c| c & 0xff);
                matches!(primary, Some(5 | 6 | 8 | 10 | 13 | 14))
            }
        }
        _ => false,
    }
}

/// Applies SQLite's migrations. sqlx takes no lock across processes on
/// SQLite, so two processes opening a new file at once may both start the
/// same migration. The loser's transaction fails and rolls back, and a
/// retry finds that migration applied.
async fn migrate_sqlite(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    let migrator = sqlx::migrate!("migrations/sqlite");
    let mut attempts = 0;
    loop {
        match migrator.run(pool).await {
            Err(_) if attempts < 3 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempts)).await;
            }
            result => return result,
        }
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://...`),
    /// creating a SQLite file when missing. Migrations are not applied.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(url).await
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(ACQUIRE_TIMEOUT)
            .disable_statement_logging();
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get().max(4));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { backend: Backend::Sqlite { reader, writer } })
    }

    async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self { backend: Backend::Postgres(pool) })
    }

    /// Applies every pending migration. Safe to run from several processes
    /// at once: both backends take a lock while migrating.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => migrate_sqlite(writer).await?,
            Backend::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database responds to a query on one of this server's
    /// tables, so that a database that lost its schema does not count as
    /// ready.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, reader, |pool| {
            sqlx::query("SELECT 1 FROM members LIMIT 1").fetch_optional(pool).await?;
        });
        Ok(())
    }

    /// Returns how many connections each pool has open and may open, for
    /// the metrics. SQLite has a `reader` and a `writer` pool, PostgreSQL one
    /// `main` pool.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                vec![PoolUse::of("reader", reader), PoolUse::of("writer", writer)]
            }
            Backend::Postgres(pool) => vec![PoolUse::of("main", pool)],
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
