//! Prometheus metrics. Each [`Metrics`] owns its own recorder instead of
//! installing the process-wide one that the `metrics` macros write to, so
//! that several servers in one process (as in the tests) keep separate
//! counts. Code that has the [`AppState`](crate::state::AppState) records
//! through `state.metrics`.

use std::sync::Arc;

use ::metrics::{Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use crate::store::PoolUse;

const REQUESTS: &str = "portal_http_requests_total";
const REQUEST_DURATION: &str = "portal_http_request_duration_seconds";
const SIGN_INS: &str = "portal_sign_ins_total";
const TOKENS_ISSUED: &str = "portal_tokens_issued_total";
const SESSIONS_REVOKED: &str = "portal_sessions_revoked_total";
const POOL_CONNECTIONS: &str = "portal_db_pool_connections";
const POOL_MAX_CONNECTIONS: &str = "portal_db_pool_max_connections";

/// Upper bounds of the latency histogram buckets, in seconds. A sign-in
/// spends tens of milliseconds in Argon2id, so the buckets are dense there.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// The outcome of a sign-in attempt, for [`Metrics::sign_in`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// The credentials were accepted.
    Succeeded,
    /// Wrong password, unknown or disabled member.
    Failed,
}

/// The server's metrics and their Prometheus rendering; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates an empty registry with every metric described.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Setting buckets fails only for an empty list; the fallback still
        // records latency, as a summary instead of a histogram.
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let metrics = Self { recorder: Arc::new(builder.build_recorder()) };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        let counters = [
            (REQUESTS, "HTTP requests served, by method, matched route and status"),
            (SIGN_INS, "Sign-ins with a username and password, by outcome"),
            (TOKENS_ISSUED, "Codes, access tokens and refresh tokens issued, by kind"),
            (SESSIONS_REVOKED, "Sessions revoked with all their tokens, by reason"),
        ];
        for (name, help) in counters {
            self.recorder.describe_counter(name.into(), None, help.into());
        }
        self.recorder.describe_histogram(
            REQUEST_DURATION.into(),
            Some(Unit::Seconds),
            "Time from request to response, by method and matched route".into(),
        );
        self.recorder.describe_gauge(
            POOL_CONNECTIONS.into(),
            None,
            "Open database connections, by pool and state (idle or in_use)".into(),
        );
        self.recorder.describe_gauge(
            POOL_MAX_CONNECTIONS.into(),
            None,
            "Maximum connections each database pool may open, or for SQLite's readers, keep idle"
                .into(),
        );
    }

    /// Counts one served request and its latency. `route` is the matched
    /// route pattern, never the URI, and methods outside the standard ones
    /// count as `other`, so that clients cannot grow the label set.
    pub fn request_served(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = standard_method(method);
        let labels = vec![Label::new("method", method), Label::new("route", route.to_owned())];
        let mut with_status = labels.clone();
        with_status.push(Label::new("status", status.to_string()));
        self.counter(REQUESTS, with_status).increment(1);
        let histogram = Key::from_parts(REQUEST_DURATION, labels);
        self.recorder.register_histogram(&histogram, &METADATA).record(seconds);
    }

    /// Counts one sign-in attempt that got as far as checking credentials.
    pub fn sign_in(&self, outcome: SignInOutcome) {
        let outcome = match outcome {
            SignInOutcome::Succeeded => "succeeded",
            SignInOutcome::Failed => "failed",
        };
        self.counter(SIGN_INS, vec![Label::new("outcome", outcome)]).increment(1);
    }

    /// Counts one issued code or token; `kind` is `code`, `access` or
    /// `refresh`.
    pub fn token_issued(&self, kind: &'static str) {
        self.counter(TOKENS_ISSUED, vec![Label::new("kind", kind)]).increment(1);
    }

    /// Counts one revoked session; `reason` is a short fixed word such as
    /// `code_reused`.
    pub fn session_revoked(&self, reason: &'static str) {
        self.counter(SESSIONS_REVOKED, vec![Label::new("reason", reason)]).increment(1);
    }

    /// Renders every metric in the Prometheus text format, with the
    /// database pools' use as it is now.
    pub fn render(&self, pools: &[PoolUse]) -> String {
        for pool in pools {
            let name = pool.name;
            let in_use = pool.size.saturating_sub(pool.idle);
            self.gauge(POOL_CONNECTIONS, name, Some("idle")).set(f64::from(pool.idle));
            self.gauge(POOL_CONNECTIONS, name, Some("in_use")).set(f64::from(in_use));
            self.gauge(POOL_MAX_CONNECTIONS, name, None).set(f64::from(pool.max));
        }
        self.recorder.handle().render()
    }

    /// Drains recorded latencies into their histograms, which bounds memory
    /// between scrapes; run it every few seconds.
    pub fn run_upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> ::metrics::Counter {
        self.recorder.register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(
        &self,
        name: &'static str,
        pool: &'static str,
        state: Option<&'static str>,
    ) -> ::metrics::Gauge {
        let mut labels = vec![Label::new("pool", pool)];
        if let Some(state) = state {
            labels.push(Label::new("state", state));
        }
        self.recorder.register_gauge(&Key::from_parts(name, labels), &METADATA)
    }
}

/// Returns `method` if HTTP defines it (RFC 9110 section 9, and PATCH from
/// RFC 5789), and `other` for anything else.
fn standard_method(method: &str) -> &'static str {
    const STANDARD: [&str; 9] =
        ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
    STANDARD.into_iter().find(|standard| *standard == method).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_counts_and_histogram() {
        let metrics = Metrics::new();
        metrics.request_served("GET", "/healthz", 200, 0.002);
        metrics.sign_in(SignInOutcome::Failed);

        let text = metrics.render(&[PoolUse { name: "main", size: 3, idle: 1, max: 16 }]);

        assert!(text.contains(
            r#"portal_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ));
        assert!(text.contains(
            r#"portal_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 1"#
        ));
        assert!(text.contains(r#"portal_sign_ins_total{outcome="failed"} 1"#));
        assert!(text.contains(r#"portal_db_pool_connections{pool="main",state="in_use"} 2"#));
        assert!(text.contains(r#"portal_db_pool_max_connections{pool="main"} 16"#));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let metrics = Metrics::new();
        metrics.request_served("BREW", "unmatched", 405, 0.001);
        metrics.request_served("WHEN", "unmatched", 405, 0.001);

        let text = metrics.render(&[]);

        let other =
            r#"portal_http_requests_total{method="other",route="unmatched",status="405"} 2"#;
        assert!(text.contains(other), "{text}");
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn registries_are_separate() {
        let first = Metrics::new();
        let second = Metrics::new();
        first.token_issued("access");

        assert!(first.render(&[]).contains(r#"portal_tokens_issued_total{kind="access"} 1"#));
        assert!(!second.render(&[]).contains("portal_tokens_issued_total{"));
    }
}
