//! All the SQL, and nothing else. One [`Store`] serves SQLite or PostgreSQL;
//! each method contains the statement for both, written once where the two
//! dialects agree (both read PostgreSQL's `$1` parameters here).
//!
//! SQLite runs in WAL mode with `synchronous=NORMAL`: a committed
//! transaction survives a crash of the process, but a power loss may take
//! the last few commits with it. [`sqlite`] describes how its reads and
//! writes are run.

mod audit;
mod cleanup;
mod clients;
mod grants;
mod members;
mod sessions;
mod signins;
mod sqlite;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Arguments, ConnectOptions, PgPool};

pub use clients::{ClientKind, ClientRecord, NewClient};
pub use grants::{
    AccessRecord, CodeRecord, IssuedTokens, NewCode, NewGrant, RefreshRecord, Rotation,
};
pub use members::{MemberRecord, NewMember};

pub use audit::{AuditFilter, AuditRecord};
pub use cleanup::Removed;
pub use sessions::{SessionRecord, TokenOwner};
pub use signins::{LockoutPolicy, Reservation};

use sqlite::{FromSqlite, Sqlite};

/// How long a request waits for a PostgreSQL connection before the
/// database counts as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The database, SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

/// The connections of one pool at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// `reader`, `writer` or `main`.
    pub name: &'static str,
    /// Open connections, idle or in use.
    pub size: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// Maximum connections the pool may open, or for SQLite's readers,
    /// keep idle.
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

/// The cause of a database failure, from either driver.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A failed database operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or did not respond, and nothing
    /// was changed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// A row with the same unique key already exists.
    #[error("duplicate row")]
    Conflict,
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] Cause),
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
            return StoreError::Unavailable(error.into());
        }
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return StoreError::Conflict;
        }
        StoreError::Database(error.into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let Some(code) = error.sqlite_error() else {
            return StoreError::Database(error.into());
        };
        match code.code {
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen => StoreError::Unavailable(error.into()),
            ErrorCode::ConstraintViolation
                if matches!(
                    code.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                StoreError::Conflict
            }
            _ => StoreError::Database(error.into()),
        }
    }
}

/// Tells whether `error` means PostgreSQL is unreachable or overloaded,
/// rather than that a statement was wrong.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // Class 08 is a connection exception, 28 a rejected login,
            // 3D000 a missing database, 53 lack of resources, 55000 a
            // database not accepting connections, 57P0x a server shutting
            // down, 25006 a read-only transaction.
            let code = db.code().unwrap_or_default();
            ["08", "28", "3D000", "53", "55000", "57P0", "25006"]
                .iter()
                .any(|prefix| code.starts_with(prefix))
        }
        _ => false,
    }
}

/// A statement parameter, bound alike on both backends.
#[derive(Clone, Debug)]
enum Arg<'a> {
    Int(Option<i64>),
    Bool(bool),
    Text(Option<Cow<'a, str>>),
    Bytes(Cow<'a, [u8]>),
}

/// Copies what `args` borrow, for a write that runs on another thread.
fn owned(args: Vec<Arg<'_>>) -> Vec<Arg<'static>> {
    args.into_iter().map(Arg::into_owned).collect()
}

impl Arg<'_> {
    fn into_owned(self) -> Arg<'static> {
        match self {
            Arg::Int(value) => Arg::Int(value),
            Arg::Bool(value) => Arg::Bool(value),
            Arg::Text(value) => Arg::Text(value.map(|text| Cow::Owned(text.into_owned()))),
            Arg::Bytes(value) => Arg::Bytes(Cow::Owned(value.into_owned())),
        }
    }
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}

impl From<bool> for Arg<'_> {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(value)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Arg::Text(value.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(value: &'a [u8]) -> Self {
        Arg::Bytes(Cow::Borrowed(value))
    }
}

impl<'a> From<&'a crate::tokens::TokenDigest> for Arg<'a> {
    fn from(value: &'a crate::tokens::TokenDigest) -> Self {
        Arg::Bytes(Cow::Borrowed(&value.0))
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Arg::Int(value) => value.to_sql(),
            Arg::Bool(value) => value.to_sql(),
            Arg::Text(Some(text)) => text.as_ref().to_sql(),
            Arg::Text(None) => rusqlite::types::Null.to_sql(),
            Arg::Bytes(value) => value.as_ref().to_sql(),
        }
    }
}

/// Builds a statement's parameters: `args![a, b]` binds `a` as `$1` and
/// `b` as `$2`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::store::Arg::from($value)),*]
    };
}
use args;

fn pg_arguments(args: &[Arg<'_>]) -> Result<PgArguments, StoreError> {
    let mut bound = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Int(value) => bound.add(*value),
            Arg::Bool(value) => bound.add(*value),
            Arg::Text(value) => bound.add(value.as_deref()),
            Arg::Bytes(value) => bound.add(value.as_ref()),
        }
        .map_err(StoreError::Database)?;
    }
    Ok(bound)
}

/// One statement of a [`Store::transaction`].
struct Step<'a> {
    sql: &'static str,
    args: Vec<Arg<'a>>,
    /// When the statement changes no row, the transaction stops and rolls
    /// back.
    required: bool,
}

impl<'a> Step<'a> {
    fn new(sql: &'static str, args: Vec<Arg<'a>>) -> Self {
        Self { sql, args, required: false }
    }

    fn required(sql: &'static str, args: Vec<Arg<'a>>) -> Self {
        Self { sql, args, required: true }
    }

    fn into_owned(self) -> Step<'static> {
        Step { sql: self.sql, args: owned(self.args), required: self.required }
    }
}

/// The end of a [`Store::transaction`].
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Every step ran and the transaction committed.
    Committed,
    /// The required step at this index changed no row, so nothing is
    /// stored.
    Stopped(usize),
}

/// A row type both drivers decode.
trait Record: FromSqlite + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}
impl<T: FromSqlite + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin> Record for T {}

impl Store {
    /// Runs a statement that writes, and returns how many rows it changed.
    async fn execute(&self, sql: &'static str, args: Vec<Arg<'_>>) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let args = owned(args);
                db.write(move |savepoint| sqlite::execute(savepoint, sql, &args)).await
            }
            Backend::Postgres(pool) => {
                let done = sqlx::query_with(sql, pg_arguments(&args)?).execute(pool).await?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Runs a statement that writes and returns at most one row.
    async fn execute_returning<T: Record + 'static>(
        &self,
        sql: &'static str,
        args: Vec<Arg<'_>>,
    ) -> Result<Option<T>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let args = owned(args);
                db.write(move |savepoint| sqlite::fetch_optional(savepoint, sql, &args)).await
            }
            Backend::Postgres(pool) => {
                let query = sqlx::query_as_with(sql, pg_arguments(&args)?);
                Ok(query.fetch_optional(pool).await?)
            }
        }
    }

    /// Runs a query and returns its first row, if any.
    async fn fetch_optional<T: Record>(
        &self,
        sql: &str,
        args: Vec<Arg<'_>>,
    ) -> Result<Option<T>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                db.read(|connection| sqlite::fetch_optional(connection, sql, &args))
            }
            Backend::Postgres(pool) => {
                let query = sqlx::query_as_with(sql, pg_arguments(&args)?);
                Ok(query.fetch_optional(pool).await?)
            }
        }
    }

    /// Runs a query and returns every row.
    async fn fetch_all<T: Record>(
        &self,
        sql: &str,
        args: Vec<Arg<'_>>,
    ) -> Result<Vec<T>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.read(|connection| sqlite::fetch_all(connection, sql, &args)),
            Backend::Postgres(pool) => {
                let query = sqlx::query_as_with(sql, pg_arguments(&args)?);
                Ok(query.fetch_all(pool).await?)
            }
        }
    }

    /// Runs `steps` in order in one transaction, and rolls it back at the
    /// first required step that changes no row.
    async fn transaction(&self, steps: Vec<Step<'_>>) -> Result<Outcome, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let steps: Vec<_> = steps.into_iter().map(Step::into_owned).collect();
                db.write(move |savepoint| {
                    for (index, step) in steps.iter().enumerate() {
                        let changed = sqlite::execute(savepoint, step.sql, &step.args)?;
                        if step.required && changed == 0 {
                            savepoint.rollback()?;
                            return Ok(Outcome::Stopped(index));
                        }
                    }
                    Ok(Outcome::Committed)
                })
                .await
            }
            Backend::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                for (index, step) in steps.iter().enumerate() {
                    let query = sqlx::query_with(step.sql, pg_arguments(&step.args)?);
                    let changed = query.execute(&mut *transaction).await?.rows_affected();
                    if step.required && changed == 0 {
                        transaction.rollback().await?;
                        return Ok(Outcome::Stopped(index));
                    }
                }
                transaction.commit().await?;
                Ok(Outcome::Committed)
            }
        }
    }
}

/// Returns the file a `sqlite://PATH` or `sqlite:PATH` URL names.
fn sqlite_path(url: &str) -> Result<&std::path::Path, StoreError> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or("");
    // Readers and the writer are separate connections, so they must share
    // a file. URL options such as `?mode=` are rejected, not ignored, and
    // so are `file:` names, which SQLite would read as URIs.
    if path.is_empty() || path.starts_with(':') || path.starts_with("file:") || path.contains('?') {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    Ok(std::path::Path::new(path))
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
        let db = Sqlite::open(sqlite_path(url)?)?;
        Ok(Self { backend: Backend::Sqlite(db) })
    }

    async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
        // sqlx pings a connection each time it returns to the pool, so a
        // second ping before each use would only add a round trip.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self { backend: Backend::Postgres(pool) })
    }

    /// Applies every pending migration. Safe to run from several processes
    /// at once: both backends take a lock while migrating.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.migrate().await?,
            Backend::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database responds to a query on one of this server's
    /// tables, so that a database that lost its schema does not count as
    /// ready, nor a SQLite file that was deleted or replaced.
    pub async fn ping(&self) -> Result<(), StoreError> {
        if let Backend::Sqlite(db) = &self.backend {
            db.check_file()?;
        }
        let _: Option<(i64,)> =
            self.fetch_optional("SELECT id FROM members LIMIT 1", args![]).await?;
        Ok(())
    }

    /// Returns how many connections each pool has open and may open, for
    /// the metrics. SQLite has a `reader` and a `writer` pool, PostgreSQL one
    /// `main` pool.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        match &self.backend {
            Backend::Sqlite(db) => db.pool_use().to_vec(),
            Backend::Postgres(pool) => vec![PoolUse::of("main", pool)],
        }
    }

    /// Closes the database. PostgreSQL's pool waits for the connections in
    /// use to be returned, and SQLite's writer commits the writes queued.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
