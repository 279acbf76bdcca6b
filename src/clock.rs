//! The time source. Handlers read it once per request and pass the instant
//! down, so that expiry and grace windows can be tested with a fixed clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the Unix epoch, UTC. Every stored time uses this unit.
pub type UnixTime = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Returns the current time in whole seconds since the Unix epoch.
    fn now(&self) -> UnixTime;
}

/// The operating system's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> UnixTime {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs().try_into().unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when a test advances it.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// Creates a clock stopped at `now`.
    pub fn new(now: UnixTime) -> Self {
        Self { now: AtomicI64::new(now) }
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.now.load(Ordering::SeqCst)
    }
}

/// Formats a stored time as RFC 3339 in UTC, such as `2026-12-04T08:15:00Z`.
pub fn rfc3339(time: UnixTime) -> String {
    OffsetDateTime::from_unix_timestamp(time)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_z() {
        assert_eq!(rfc3339(1_796_372_100), "2026-12-04T08:15:00Z");
    }

    #[test]
    fn manual_clock_advances() {
        let clock = ManualClock::new(100);
        clock.advance(5);
        assert_eq!(clock.now(), 105);
    }
}
