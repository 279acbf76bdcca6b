//! SQLite through rusqlite, on connections and a thread this module owns.
//!
//! Reads run on the calling thread, on a connection taken from a small set
//! of idle read-only ones. Every read made while serving a request is a
//! lookup by key, which SQLite usually serves from its page cache for less
//! than waking another thread would cost (BENCHMARKS.md has the figures).
//!
//! NOTE: a read that waits for a lock holds one of the runtime's threads
//! meanwhile, for at most `READ_BUSY_TIMEOUT`.
//!
//! Writes go to one writer thread. It takes every write waiting in its
//! queue, runs each in its own savepoint of one transaction, and commits
//! once. Only then does it send each caller its result, so a write that
//! fails rolls back alone and no caller learns of a write before it is
//! committed. Under load this commits many writes at the cost of one.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{
    CachedStatement, Connection, OpenFlags, Savepoint, Transaction, TransactionBehavior,
};
use tokio::sync::oneshot;

use super::{Arg, PoolUse, StoreError};

/// How long a write waits for another process's write lock.
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read waits for a lock SQLite takes while it recovers the
/// write-ahead log. A read waits on a thread that also serves requests, so
/// it waits less than a write.
const READ_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// Maximum number of writes committed in one transaction.
const MAX_BATCH: usize = 256;

/// Maximum number of writes waiting for the writer thread. Past it a write
/// fails at once as unavailable, so an overloaded server returns 503
/// instead of queueing without bound.
const MAX_QUEUED: usize = 4096;

/// Prepared statements cached per connection, more than the server uses.
const STATEMENT_CACHE: usize = 64;

/// The migrations, applied in order. `PRAGMA user_version` counts those
/// applied.
const MIGRATIONS: [&str; 2] = [
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_audit_and_throttle.sql"),
];

/// A SQLite database file.
#[derive(Clone)]
pub(super) struct Sqlite {
    shared: Arc<Shared>,
}

/// The state that every clone of a [`Sqlite`] shares.
struct Shared {
    file: DatabaseFile,
    /// Read-only connections waiting for work.
    idle_readers: Mutex<Vec<Connection>>,
    /// Read-only connections open, idle or in use.
    open_readers: AtomicU32,
    /// Maximum number of idle read-only connections kept.
    max_idle_readers: u32,
    /// The writer thread's queue; `None` once closed.
    jobs: Mutex<Option<mpsc::SyncSender<Box<dyn Job>>>>,
    /// The writer thread, until it is joined on close.
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Whether the writer thread is running a batch, for the metrics.
    writing: Arc<AtomicBool>,
    /// Set by [`Sqlite::close`], after which reads and writes fail.
    closed: AtomicBool,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.shared.file.path).finish_non_exhaustive()
    }
}

impl Sqlite {
    /// Opens the file at `path`, creating it when missing, and starts the
    /// writer thread.
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = open_writer(path)?;
        let file = DatabaseFile { path: path.to_owned(), id: file_id(path) };
        let writing = Arc::new(AtomicBool::new(false));
        let (jobs, queue) = mpsc::sync_channel(MAX_QUEUED);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn({
                let writing = Arc::clone(&writing);
                let file = file.clone();
                move || run_writer(writer, &file, &queue, &writing)
            })
            .map_err(|error| StoreError::Unavailable(error.into()))?;
        let max_idle_readers =
            std::thread::available_parallelism().map_or(4, |n| n.get().max(4)) as u32;
        Ok(Self {
            shared: Arc::new(Shared {
                file,
                idle_readers: Mutex::new(Vec::new()),
                open_readers: AtomicU32::new(0),
                max_idle_readers,
                jobs: Mutex::new(Some(jobs)),
                writer: Mutex::new(Some(thread)),
                writing,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// Runs `read` on a read-only connection, on the calling thread.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let shared = &*self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let idle = lock(&shared.idle_readers).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => {
                shared.file.check()?;
                let connection = open_reader(&shared.file.path)?;
                shared.open_readers.fetch_add(1, Ordering::Relaxed);
                connection
            }
        };
        let result = read(&connection);
        let mut idle = lock(&shared.idle_readers);
        if idle.len() < shared.max_idle_readers as usize && !shared.closed.load(Ordering::Acquire) {
            idle.push(connection);
        } else {
            drop(idle);
            shared.open_readers.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(result?)
    }

    /// Runs `write` on the writer thread in a savepoint of its own, and
    /// returns once its transaction is committed. When `write` fails, what
    /// it did is rolled back; it may also roll back itself and succeed.
    pub(super) async fn write<T, W>(&self, write: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&mut Savepoint<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending { write: Some(write), outcome: None, reply });
        let sent = lock(&self.shared.jobs).as_ref().map(|jobs| jobs.try_send(job));
        match sent {
            Some(Ok(())) => {}
            Some(Err(mpsc::TrySendError::Full(_))) => {
                return Err(StoreError::Unavailable("too many writes are waiting".into()));
            }
            None | Some(Err(mpsc::TrySendError::Disconnected(_))) => return Err(closed()),
        }
        answer.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Applies every migration not yet applied, in one transaction that
    /// holds the write lock, so two processes cannot both apply one.
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        let latest = MIGRATIONS.len();
        let applied = self
            .write(move |savepoint| {
                let mut applied: usize =
                    savepoint.query_row("PRAGMA user_version", [], |row| row.get(0))?;
                if applied == 0 && has_table(savepoint, "_sqlx_migrations")? {
                    // Earlier releases recorded the same migrations in
                    // sqlx's table, by version number.
                    applied = savepoint.query_row(
                        "SELECT count(*) FROM _sqlx_migrations WHERE success",
                        [],
                        |row| row.get(0),
                    )?;
                }
                if applied > latest {
                    return Ok(applied);
                }
                for sql in &MIGRATIONS[applied..] {
                    savepoint.execute_batch(sql)?;
                }
                savepoint.pragma_update(None, "user_version", latest)?;
                Ok(applied)
            })
            .await?;
        if applied > latest {
            // A later release migrated this file: its schema is unknown here.
            let missing = sqlx::migrate::MigrateError::VersionMissing(applied as i64);
            return Err(StoreError::Migrate(missing));
        }
        Ok(())
    }

    /// Checks that the path still names the file opened, so that a
    /// database deleted or replaced under a running server is not ready.
    pub(super) fn check_file(&self) -> Result<(), StoreError> {
        Ok(self.shared.file.check()?)
    }

    /// Returns the use of the reader and writer connections, for the metrics.
    pub(super) fn pool_use(&self) -> [PoolUse; 2] {
        let shared = &*self.shared;
        let idle_readers = lock(&shared.idle_readers).len() as u32;
        let writing = u32::from(shared.writing.load(Ordering::Relaxed));
        [
            PoolUse {
                name: "reader",
                size: shared.open_readers.load(Ordering::Relaxed),
                idle: idle_readers,
                max: shared.max_idle_readers,
            },
            PoolUse { name: "writer", size: 1, idle: 1 - writing, max: 1 },
        ]
    }

    /// Stops taking reads and writes, waits for the writes queued to be
    /// committed, and closes every idle connection.
    pub(super) async fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        lock(&self.shared.jobs).take();
        let writer = lock(&self.shared.writer).take();
        if let Some(writer) = writer {
            // The thread ends once the queue is empty.
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        let idle = std::mem::take(&mut *lock(&self.shared.idle_readers));
        self.shared.open_readers.fetch_sub(idle.len() as u32, Ordering::Relaxed);
    }
}

/// The database file as opened, so that its deletion or replacement under a
/// running server is noticed: writes would go to a file no process can
/// open again, and new readers would open another file.
#[derive(Clone, Debug)]
struct DatabaseFile {
    path: PathBuf,
    /// Device and inode.
    id: Option<(u64, u64)>,
}

impl DatabaseFile {
    /// Fails as SQLite does for a file it cannot open when the path no
    /// longer names the file opened.
    fn check(&self) -> rusqlite::Result<()> {
        if self.id.is_some() && file_id(&self.path) == self.id {
            return Ok(());
        }
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("{} was removed or replaced", self.path.display())),
        ))
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|metadata| (metadata.dev(), metadata.ino()))
}

fn has_table(connection: &Connection, name: &str) -> rusqlite::Result<bool> {
    connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |row| row.get(0),
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn closed() -> StoreError {
    StoreError::Unavailable("the database is closed".into())
}

fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(WRITE_BUSY_TIMEOUT)?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    connection.pragma_update(None, "synchronous", "normal")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(READ_BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// A write waiting for the writer thread.
trait Job: Send {
    /// Runs the write in a savepoint of `transaction`, unless its caller
    /// has stopped waiting.
    fn run(&mut self, transaction: &mut Transaction<'_>);
    /// Returns a copy of the write's error, if it ran and failed.
    fn error(&self) -> Option<rusqlite::Error>;
    /// Sends the caller its result once the transaction has ended: the
    /// write's outcome when `batch` committed, or else `batch`'s error.
    fn finish(self: Box<Self>, batch: &rusqlite::Result<()>);
}

struct Pending<T, W> {
    write: Option<W>,
    outcome: Option<rusqlite::Result<T>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, W> Job for Pending<T, W>
where
    T: Send,
    W: FnOnce(&mut Savepoint<'_>) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, transaction: &mut Transaction<'_>) {
        let Some(write) = self.write.take() else { return };
        // As on PostgreSQL, a caller that gave up (a client that hung up)
        // changes nothing, unless its write had already started.
        if self.reply.is_closed() {
            return;
        }
        self.outcome = Some(transaction.savepoint().and_then(|mut savepoint| {
            let value = write(&mut savepoint)?;
            savepoint.commit()?;
            Ok(value)
        }));
    }

    fn error(&self) -> Option<rusqlite::Error> {
        match &self.outcome {
            Some(Err(error)) => Some(copy_error(error)),
            _ => None,
        }
    }

    fn finish(self: Box<Self>, batch: &rusqlite::Result<()>) {
        let result = match (batch, self.outcome) {
            (Ok(()), Some(outcome)) => outcome.map_err(StoreError::from),
            (Err(error), _) => Err(StoreError::from(copy_error(error))),
            // A write whose caller left has no outcome and no one to send it
            // to. Otherwise only a write that panicked has none, and its
            // savepoint was rolled back as the panic unwound.
            (Ok(()), None) => Err(StoreError::Database("the write panicked".into())),
        };
        // The caller may have gone. The committed write is kept either way.
        let _ = self.reply.send(result);
    }
}

fn run_writer(
    mut connection: Connection,
    file: &DatabaseFile,
    queue: &mpsc::Receiver<Box<dyn Job>>,
    writing: &AtomicBool,
) {
    let mut waiting = VecDeque::new();
    loop {
        if waiting.is_empty() {
            let Ok(job) = queue.recv() else { return };
            waiting.push_back(job);
        }
        waiting.extend(queue.try_iter().take(MAX_BATCH.saturating_sub(waiting.len())));
        writing.store(true, Ordering::Relaxed);
        let (done, committed) = run_batch(&mut connection, file, &mut waiting);
        for job in done {
            job.finish(&committed);
        }
        // A failed rollback leaves the transaction open, and every later
        // BEGIN would fail.
        if !connection.is_autocommit() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        writing.store(false, Ordering::Relaxed);
    }
}

/// Runs writes from the front of `waiting` in one transaction, commits it,
/// and returns the writes run with the outcome of the commit.
///
/// Some errors, such as a full disk, make SQLite roll back the whole
/// transaction. The batch then ends at the write that caused it: the writes
/// run so far share its error, and the rest stay waiting for the next batch.
fn run_batch(
    connection: &mut Connection,
    file: &DatabaseFile,
    waiting: &mut VecDeque<Box<dyn Job>>,
) -> (Vec<Box<dyn Job>>, rusqlite::Result<()>) {
    let begun = file
        .check()
        .and_then(|()| connection.transaction_with_behavior(TransactionBehavior::Immediate));
    let mut transaction = match begun {
        Ok(transaction) => transaction,
        Err(error) => return (waiting.drain(..).collect(), Err(error)),
    };
    let mut done = Vec::with_capacity(waiting.len());
    while let Some(mut job) = waiting.pop_front() {
        // A panic fails its own write, not the thread.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut transaction)));
        let ended = transaction.is_autocommit();
        let error = job.error();
        done.push(job);
        if ended {
            let error = error.unwrap_or_else(|| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("the transaction was rolled back".into()),
                )
            });
            return (done, Err(error));
        }
    }
    (done, transaction.commit())
}

/// Copies an error that every write of a batch must report.
fn copy_error(error: &rusqlite::Error) -> rusqlite::Error {
    match error {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Prepares `sql`, or takes it from the connection's cache, and binds
/// `args`. Parameters are written `$1`, `$2`, … as in PostgreSQL, and `$n`
/// takes `args[n - 1]` wherever it appears.
fn prepare<'c>(
    connection: &'c Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<CachedStatement<'c>> {
    let mut statement = connection.prepare_cached(sql)?;
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|number| number.parse::<usize>().ok());
        let arg = number
            .and_then(|number| number.checked_sub(1))
            .and_then(|index| args.get(index))
            .ok_or(rusqlite::Error::InvalidParameterCount(index, args.len()))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    Ok(statement)
}

/// Runs one statement and returns how many rows it changed.
pub(super) fn execute(
    connection: &Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<u64> {
    Ok(prepare(connection, sql, args)?.raw_execute()? as u64)
}

/// Runs one query and decodes every row it returns.
pub(super) fn fetch_all<T: FromSqlite>(
    connection: &Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<Vec<T>> {
    let mut statement = prepare(connection, sql, args)?;
    let mut rows = statement.raw_query();
    let mut decoded = Vec::new();
    while let Some(row) = rows.next()? {
        decoded.push(T::from_sqlite(row)?);
    }
    Ok(decoded)
}

/// Runs one query and decodes its first row, if any.
pub(super) fn fetch_optional<T: FromSqlite>(
    connection: &Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<Option<T>> {
    let mut statement = prepare(connection, sql, args)?;
    let mut rows = statement.raw_query();
    rows.next()?.map(T::from_sqlite).transpose()
}

/// A type built from one row of a SQLite result.
pub(super) trait FromSqlite: Sized {
    /// Decodes `row`.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

impl<A: rusqlite::types::FromSql> FromSqlite for (A,) {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

impl<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql> FromSqlite for (A, B) {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

/// Decodes a struct from the SQLite columns named as its fields.
macro_rules! from_sqlite_row {
    ($type:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::store::sqlite::FromSqlite for $type {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(Self { $($field: row.get(stringify!($field))?),+ })
            }
        }
    };
}
pub(super) use from_sqlite_row;

#[cfg(test)]
mod tests {
    use super::*;

    async fn open_temp() -> (Sqlite, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("test.db")).unwrap();
        db.write(|savepoint| savepoint.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
            .await
            .unwrap();
        (db, dir)
    }

    async fn insert(db: &Sqlite, key: i64) -> Result<u64, StoreError> {
        db.write(move |savepoint| {
            execute(savepoint, "INSERT INTO t (k) VALUES ($1)", &[key.into()])
        })
        .await
    }

    fn count(db: &Sqlite) -> i64 {
        let rows: Option<(i64,)> = db
            .read(|connection| fetch_optional(connection, "SELECT count(*) FROM t", &[]))
            .unwrap();
        rows.unwrap().0
    }

    #[tokio::test]
    async fn parameters_bind_by_number() {
        let (db, _dir) = open_temp().await;

        let row: Option<(i64, i64)> = db
            .read(|connection| fetch_optional(connection, "SELECT $2, $1", &[1.into(), 2.into()]))
            .unwrap();

        assert_eq!(row, Some((2, 1)));
    }

    /// Queues a write that blocks the writer thread until the returned
    /// sender is dropped, so that the writes queued meanwhile share a
    /// batch.
    async fn hold_writer(db: &Sqlite) -> mpsc::Sender<()> {
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |_| {
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
        });
        running.await.unwrap();
        release
    }

    /// Spawns `write` and lets it reach the writer's queue.
    async fn queue<T: Send + 'static>(
        write: impl Future<Output = T> + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        let task = tokio::spawn(write);
        tokio::task::yield_now().await;
        task
    }

    #[tokio::test]
    async fn failed_write_leaves_batch_committed() {
        let (db, _dir) = open_temp().await;
        let release = hold_writer(&db).await;

        let mut tasks = Vec::new();
        for key in 0..50 {
            let db = db.clone();
            tasks.push(queue(async move { insert(&db, key % 40).await }).await);
        }
        drop(release);
        let mut conflicts = 0;
        for task in tasks {
            conflicts += usize::from(matches!(task.await.unwrap(), Err(StoreError::Conflict)));
        }

        assert_eq!(conflicts, 10);
        assert_eq!(count(&db), 40);
    }

    /// `INSERT OR ROLLBACK` ends the whole transaction, as a full disk
    /// does: the writes before it in the batch fail with it, and those
    /// after it are committed in the next batch.
    #[tokio::test]
    async fn transaction_rollback_ends_batch_early() {
        let (db, _dir) = open_temp().await;
        insert(&db, 0).await.unwrap();
        let release = hold_writer(&db).await;

        let before = queue({
            let db = db.clone();
            async move { insert(&db, 1).await }
        })
        .await;
        let failing = queue({
            let db = db.clone();
            async move {
                db.write(|savepoint| {
                    execute(savepoint, "INSERT OR ROLLBACK INTO t (k) VALUES (0)", &[])
                })
                .await
            }
        })
        .await;
        let after = queue({
            let db = db.clone();
            async move { insert(&db, 2).await }
        })
        .await;
        drop(release);

        assert!(before.await.unwrap().is_err());
        assert!(matches!(failing.await.unwrap(), Err(StoreError::Conflict)));
        assert_eq!(after.await.unwrap().unwrap(), 1);
        let keys: Vec<(i64,)> =
            db.read(|connection| fetch_all(connection, "SELECT k FROM t ORDER BY k", &[])).unwrap();
        assert_eq!(keys, [(0,), (2,)]);
    }

    #[tokio::test]
    async fn abandoned_write_changes_nothing() {
        let (db, _dir) = open_temp().await;
        let release = hold_writer(&db).await;

        let abandoned = queue({
            let db = db.clone();
            async move { insert(&db, 1).await }
        })
        .await;
        abandoned.abort();
        let _ = abandoned.await;
        drop(release);
        insert(&db, 2).await.unwrap();

        assert_eq!(count(&db), 1);
    }

    #[tokio::test]
    async fn full_queue_fails_write_at_once() {
        let (db, _dir) = open_temp().await;
        let release = hold_writer(&db).await;

        let mut queued = Vec::new();
        for key in 0..MAX_QUEUED as i64 {
            let db = db.clone();
            queued.push(queue(async move { insert(&db, key).await }).await);
        }
        let overflow = insert(&db, -1).await;
        drop(release);
        for task in queued {
            task.await.unwrap().unwrap();
        }

        let Err(StoreError::Unavailable(cause)) = overflow else { panic!("{overflow:?}") };
        assert_eq!(cause.to_string(), "too many writes are waiting");
        assert_eq!(count(&db), MAX_QUEUED as i64);
    }

    #[tokio::test]
    async fn deleted_file_fails_writes() {
        let (db, dir) = open_temp().await;

        std::fs::remove_file(dir.path().join("test.db")).unwrap();

        assert!(matches!(insert(&db, 1).await, Err(StoreError::Unavailable(_))));
        assert!(matches!(db.check_file(), Err(StoreError::Unavailable(_))));
    }

    #[tokio::test]
    async fn panicking_write_fails_alone() {
        let (db, _dir) = open_temp().await;

        let panicked = db
            .write(|savepoint| {
                execute(savepoint, "INSERT INTO t (k) VALUES (1)", &[])?;
                panic!("test panic");
                #[allow(unreachable_code)]
                Ok(())
            })
            .await;

        assert!(matches!(panicked, Err(StoreError::Database(_))), "{panicked:?}");
        assert_eq!(insert(&db, 2).await.unwrap(), 1);
        assert_eq!(count(&db), 1);
    }

    #[tokio::test]
    async fn closed_database_rejects_reads_and_writes() {
        let (db, _dir) = open_temp().await;
        insert(&db, 1).await.unwrap();

        db.close().await;

        assert!(matches!(insert(&db, 2).await, Err(StoreError::Unavailable(_))));
        let read = db.read(|connection| execute(connection, "SELECT 1", &[]));
        assert!(matches!(read, Err(StoreError::Unavailable(_))));
    }
}
