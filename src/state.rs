//! The state every request handler shares.

use std::sync::Arc;

use crate::accounts::PasswordHasher;
use crate::clock::{Clock, UnixTime};
use crate::config::Config;
use crate::http::pages::demo::DemoFlow;
use crate::store::Store;
use crate::telemetry::metrics::Metrics;

/// The server's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: Arc<Config>,
    /// The time source; read once per request.
    pub clock: Arc<dyn Clock>,
    /// The bounded Argon2id pool.
    pub hasher: PasswordHasher,
    /// The browser flow of `serve --demo`, whose callback the server then
    /// serves itself; `None` otherwise.
    pub demo: Option<Arc<DemoFlow>>,
    /// This server's Prometheus metrics.
    pub metrics: Metrics,
}

impl AppState {
    /// Builds the state for `store` and `config`.
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>) -> Self {
        let hasher = PasswordHasher::new(config.argon2);
        Self { store, config: Arc::new(config), clock, hasher, demo: None, metrics: Metrics::new() }
    }

    /// Serves `flow`'s callback page as well.
    pub fn with_demo(self, flow: DemoFlow) -> Self {
        Self { demo: Some(Arc::new(flow)), ..self }
    }

    /// Reads the clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }
}
