//! Serving the router on a listener until shutdown.
//!
//! On shutdown the server stops accepting at once, closes idle
//! connections, and lets the requests in flight finish, for at most
//! [`SHUTDOWN_DEADLINE`]; after that it returns anyway, dropping what is
//! left. Every change a request makes is one transaction, so a request cut
//! short leaves either all of its change or none of it.

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

/// Completes on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
