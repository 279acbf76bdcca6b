//! `hktia-portal serve`: runs the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio::net::TcpListener;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::AppState;
use crate::store::Store;

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PORTAL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Create the demo clients and member, print ready-to-paste calls and a
    /// link that starts the browser flow, and serve its callback page.
    #[arg(long)]
    pub demo: bool,
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn run(args: ServeArgs, store: Store, config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let shutdown = crate::server::shutdown_signal();
    let mut state = AppState::new(store, config, Arc::new(SystemClock));

    if args.demo {
        let flow = super::demo::prepare(&state, address).await?;
        state = state.with_demo(flow);
    }
    tracing::info!(%address, "listening");
    let cleanup = tokio::spawn(crate::cleanup::run_periodically(state.clone()));
    let served = crate::server::run(listener, state, shutdown).await;
    cleanup.abort();
    served?;
    tracing::info!("server stopped");
    Ok(())
}
