//! The background task that deletes expired codes and tokens, ended and
//! expired sessions, and audit events past their retention, so that no
//! table grows without bound.

use std::time::Duration;

use crate::clock::UnixTime;
use crate::state::AppState;
use crate::store::{Removed, Store, StoreError};

/// Deletes everything that expired or ended before `now`, and the audit
/// events older than `retention`.
pub async fn cleanup(
    store: &Store,
    now: UnixTime,
    retention: Duration,
) -> Result<Removed, StoreError> {
    let retention = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    store.delete_expired(now, now.saturating_sub(retention)).await
}

/// Runs [`cleanup`] every `config.cleanup_interval`, the first time at
/// once, until the task is dropped. A failed run is logged and the next one
/// tried at the next interval.
pub async fn run_periodically(state: AppState) {
    let mut interval = tokio::time::interval(state.config.cleanup_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match cleanup(&state.store, state.now(), state.config.audit_retention).await {
            Ok(removed) => tracing::info!(?removed, "expired rows deleted"),
            Err(error) => tracing::warn!(%error, "cleanup failed; retrying at the next interval"),
        }
    }
}
