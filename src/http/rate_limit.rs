//! Rate limits per client address, with `governor`: sign-in attempts
//! (`POST /oauth2/auth`, both the password grant and the consent form) per
//! minute, and every request per second when that limit is set. The client
//! address is the peer's, or the one a trusted proxy names in
//! `X-Forwarded-For`; handlers read it as [`ClientAddress`].

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AUTH_PATH;
use super::error::ApiError;
use crate::config::Config;
use crate::oauth::OauthError;

/// Seconds between two sweeps of addresses whose limit has fully
/// recovered. Between sweeps the limiters hold at most the addresses seen
/// in that time, which bounds their memory by the request rate.
const RETAIN_EVERY_SECS: u64 = 60;

/// The address of the client that sent a request, when known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<ClientAddress>().copied().unwrap_or_default())
    }
}

/// The limiters and the proxies whose `X-Forwarded-For` is believed.
pub struct RateLimits {
    signin: Option<DefaultKeyedRateLimiter<IpAddr>>,
    every_request: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
    started: Instant,
    last_retain_secs: AtomicU64,
}

impl RateLimits {
    /// Builds the limiters of `config`; a rate of 0 turns its limit off.
    pub fn new(config: &Config) -> Self {
        let signin = NonZeroU32::new(config.signin_rate).map(Quota::per_minute);
        let every_request = NonZeroU32::new(config.rate_limit).map(Quota::per_second);
        Self {
            signin: signin.map(RateLimiter::keyed),
            every_request: every_request.map(RateLimiter::keyed),
            trusted_proxies: config.trusted_proxies.clone(),
            started: Instant::now(),
            last_retain_secs: AtomicU64::new(0),
        }
    }

    /// Returns the client address: the peer's, unless the peer is a trusted
    /// proxy. Then `X-Forwarded-For` is read from the right, skipping
    /// trusted proxies, and the first other address is the client's.
    /// IPv4-mapped IPv6 addresses are read as IPv4.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        peer.map(|peer| super::client_addr::client_addr(peer, headers, &self.trusted_proxies))
    }

    /// Counts one request from `address`. Returns the whole seconds to wait,
    /// at least 1, when it is over a limit.
    fn check(&self, address: IpAddr, signin: bool) -> Result<(), u64> {
        self.retain_recent_now_and_then();
        let key = limit_key(address);
        let limiters = [self.every_request.as_ref(), self.signin.as_ref().filter(|_| signin)];
        for limiter in limiters.into_iter().flatten() {
            if let Err(not_until) = limiter.check_key(&key) {
                let wait = not_until.wait_time_from(limiter.clock().now());
                return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        Ok(())
    }

    /// Forgets the addresses whose limit has fully recovered, at most once
    /// every [`RETAIN_EVERY_SECS`].
    fn retain_recent_now_and_then(&self) {
        let elapsed = self.started.elapsed().as_secs();
        let last = self.last_retain_secs.load(Ordering::Relaxed);
        if elapsed < last + RETAIN_EVERY_SECS {
            return;
        }
        let swapped = self.last_retain_secs.compare_exchange(
            last,
            elapsed,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        if swapped.is_ok() {
            for limiter in [&self.signin, &self.every_request].into_iter().flatten() {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
    }
}

/// Returns the key a client address is limited under: an IPv4 address as
/// it is (also when written as an IPv4-mapped IPv6 address), and an IPv6
/// address by its /64 network, because one subscriber usually has a
/// whole /64 and could otherwise change address at every request.
fn limit_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Tells whether the client asks for HTML, as a browser submitting the
/// sign-in form does.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/html"))
}

/// Middleware: finds the client address, returns `429 too_many_requests`
/// with `Retry-After` over a limit, and otherwise passes the request on
/// with its [`ClientAddress`].
pub async fn limit_rate(
    State(limits): State<Arc<RateLimits>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let address = limits.client_address(peer, request.headers());
    if let Some(address) = address {
        let signin = request.method() == Method::POST && request.uri().path() == AUTH_PATH;
        if let Err(retry_after) = limits.check(address, signin) {
            tracing::info!(%address, signin, retry_after, "rate limit reached");
            // A member's browser gets a page it can show, not JSON.
            if signin && accepts_html(request.headers()) {
                return super::pages::consent::too_many_requests_page(
                    request.headers(),
                    retry_after,
                );
            }
            return ApiError::Oauth(OauthError::TooManyRequests { retry_after }).into_response();
        }
    }
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn limits(trusted: &[&str]) -> RateLimits {
        let config = Config {
            trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
            ..Config::default()
        };
        RateLimits::new(&config)
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    fn ip(value: &str) -> Option<IpAddr> {
        Some(value.parse().unwrap())
    }

    #[test]
    fn untrusted_peer_ignores_forwarded_for() {
        let limits = limits(&[]);
        let address = limits.client_address(ip("10.0.0.1"), &forwarded("203.0.113.9"));
        assert_eq!(address, ip("10.0.0.1"));
    }

    #[test]
    fn trusted_peer_names_the_client() {
        let limits = limits(&["10.0.0.1", "10.0.0.2"]);
        let headers = forwarded("198.51.100.7, 203.0.113.9, 10.0.0.2");
        assert_eq!(limits.client_address(ip("10.0.0.1"), &headers), ip("203.0.113.9"));
    }

    #[test]
    fn malformed_hop_stops_the_walk() {
        let limits = limits(&["10.0.0.1"]);
        let headers = forwarded("203.0.113.9, garbage");
        assert_eq!(limits.client_address(ip("10.0.0.1"), &headers), ip("10.0.0.1"));
    }

    #[test]
    fn mapped_peer_matches_trusted_ipv4() {
        let limits = limits(&["127.0.0.1"]);
        let headers = forwarded("203.0.113.9");
        assert_eq!(limits.client_address(ip("::ffff:127.0.0.1"), &headers), ip("203.0.113.9"));
    }

    #[test]
    fn hop_with_port_is_read() {
        let limits = limits(&["10.0.0.1"]);
        let headers = forwarded("[2001:db8::1]:4711");
        assert_eq!(limits.client_address(ip("10.0.0.1"), &headers), ip("2001:db8::1"));
    }

    #[test]
    fn ipv6_is_limited_by_its_64_network() {
        let first = limit_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        assert_eq!(first, limit_key("2001:db8:1:2:bbbb::2".parse().unwrap()));
        assert_ne!(first, limit_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(limit_key("::ffff:192.0.2.1".parse().unwrap()), ip("192.0.2.1").unwrap());
    }

    #[test]
    fn signin_limit_applies_only_to_signin() {
        let limits = RateLimits::new(&Config { signin_rate: 1, ..Config::default() });
        let address = "192.0.2.1".parse().unwrap();
        assert_eq!(limits.check(address, true), Ok(()));
        assert!(limits.check(address, true).is_err_and(|wait| wait >= 1));
        assert_eq!(limits.check(address, false), Ok(()));
    }
}
