//! The threads that run Argon2id: one per core, fed through a queue.
//!
//! Dedicated threads rather than Tokio's blocking pool, because each hash
//! allocates its 19 MiB or more on the thread that runs it, and the C
//! allocator keeps freed memory in a per-thread arena. Tokio's pool may run
//! each hash on a different thread, so each of its arenas keeps a block of
//! its own: `scripts/bench` measured over 400 MB. A fixed set of threads
//! keeps the memory to about one block per core.
//!
//! The threads run at a lower scheduling priority than the rest of the
//! server. Requests that need no hash, such as `tokeninfo`, are then
//! served first when a core is contended, and hashing still takes every
//! idle core.

use std::fmt;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The `nice` value of the hashing threads: 10 steps below the server's
/// other threads, so that the scheduler gives them a small share of a
/// contended core.
const HASH_THREAD_NICE: i32 = 10;

/// A fixed set of hashing threads. They end once every clone of the pool is
/// dropped.
#[derive(Clone)]
pub struct HashPool {
    jobs: Sender<Job>,
    threads: usize,
}

/// The pool has no thread left to run the work.
#[derive(Debug, thiserror::Error)]
#[error("the password hashing threads have stopped")]
pub struct PoolStopped;

impl HashPool {
    /// Starts one thread per core.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = 0;
        for index in 0..cores {
            let queue = queue.clone();
            let started = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&queue));
            match started {
                Ok(_) => threads += 1,
                Err(error) => tracing::error!(%error, "cannot start a password hashing thread"),
            }
        }
        Self { jobs, threads }
    }

    /// Runs `work` on a hashing thread inside the caller's span, once one is
    /// free, and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolStopped> {
        let (reply, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = reply.send(span.in_scope(work));
        });
        self.jobs.send(job).map_err(|_| PoolStopped)?;
        result.await.map_err(|_| PoolStopped)
    }
}

impl Default for HashPool {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HashPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPool").field("threads", &self.threads).finish()
    }
}

/// Runs jobs from `queue` until every sender is gone. The lock is held only
/// while waiting for the next job, never while running one.
fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Lowers the calling thread's priority by [`HASH_THREAD_NICE`]. On Linux
/// `nice` applies to one thread; other systems keep the default priority.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority takes plain integers and touches no memory of
    // ours; on Linux, `who` 0 with PRIO_PROCESS names the calling thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASH_THREAD_NICE) };
    if result != 0 {
        let error = std::io::Error::last_os_error();
        tracing::warn!(%error, "cannot lower the priority of a password hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_and_returns_result() {
        let pool = HashPool::new();
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn threads_run_at_lower_priority() {
        let pool = HashPool::new();
        // SAFETY: getpriority only reads the calling thread's nice value.
        let nice = pool.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }).await.unwrap();
        assert!(nice >= HASH_THREAD_NICE, "nice {nice}");
    }

    #[tokio::test]
    async fn runs_on_named_threads() {
        let pool = HashPool::new();
        let name = pool.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert!(name.unwrap().starts_with("argon2-"));
    }
}
