//! Serving the router on a listener until shutdown.
//!
//! On shutdown the server stops accepting at once, closes idle
//! connections, and lets the requests in flight finish, for at most
//! [`SHUTDOWN_DEADLINE`]; after that it returns anyway, dropping what is
//! left. Every change a request makes is one transaction, so a request cut
//! short leaves either all of its change or none of it.
//!
//! NOTE: the server sets no deadline for a client to finish sending its
//! headers or body, so a client that stalls keeps its connection open.
//! Run it behind the reverse proxy of `deploy/nginx.conf`, which does.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::state::AppState;

/// How long requests in flight may take to finish once shutdown starts.
/// Process supervisors wait about this long before they kill (systemd's
/// default `TimeoutStopSec` is 90 s, Kubernetes' grace period 30 s), so the
/// server gives up a little before them and still exits cleanly.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(25);

/// How often recorded latencies are drained into the metrics' histograms.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Builds the application: every route and layer over `state`.
pub fn app(state: AppState) -> Router {
    crate::http::router(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then stops
/// accepting and waits up to [`SHUTDOWN_DEADLINE`] for the requests in
/// flight to finish.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with_deadline(listener, state, shutdown, SHUTDOWN_DEADLINE).await
}

/// Like [`run`], with `deadline` in place of [`SHUTDOWN_DEADLINE`].
pub async fn run_with_deadline(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    deadline: Duration,
) -> std::io::Result<()> {
    let (stopping, mut stop_started) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    let upkeep = tokio::spawn(run_metrics_upkeep(state.clone()));
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);

    let result = tokio::select! {
        result = server.into_future() => result,
        () = async {
            let _ = stop_started.wait_for(|started| *started).await;
            tokio::time::sleep(deadline).await;
        } => {
            tracing::warn!(
                deadline_s = deadline.as_secs(),
                "requests still in flight at the shutdown deadline; closing them"
            );
            Ok(())
        }
    };
    upkeep.abort();
    result
}

async fn run_metrics_upkeep(state: AppState) {
    let mut interval = tokio::time::interval(METRICS_UPKEEP_INTERVAL);
    loop {
        interval.tick().await;
        state.metrics.run_upkeep();
    }
}

/// Returns a future that completes on Ctrl-C (SIGINT) or SIGTERM. The
/// handlers are installed by this call rather than when the future is
/// first polled, so a signal sent right after the server logs that it
/// listens still starts a graceful shutdown instead of killing the process.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};

    let interrupt = signal(SignalKind::interrupt())
        .inspect_err(|error| tracing::warn!(%error, "cannot listen for Ctrl-C"))
        .ok();
    let terminate = signal(SignalKind::terminate())
        .inspect_err(|error| tracing::warn!(%error, "cannot listen for SIGTERM"))
        .ok();
    async move {
        tokio::select! {
            () = receive(interrupt) => {}
            () = receive(terminate) => {}
        }
        tracing::info!("shutdown requested; finishing requests in flight");
    }
}

/// Completes when `signal` arrives; never, without a handler.
#[cfg(unix)]
async fn receive(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Returns a future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown requested; finishing requests in flight");
    }
}
