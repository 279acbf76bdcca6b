//! The address of the client behind a request. Behind a reverse proxy the
//! peer is the proxy, so the proxy's `X-Forwarded-For` header is believed,
//! but only when the peer is one of `PORTAL_TRUSTED_PROXIES`: anyone else
//! could write any address there.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};

/// The header in which proxies append the address they received a request
/// from.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// Returns the client address of `request`: its peer, or, when the peer is
/// a trusted proxy, the address that `X-Forwarded-For` names. `None` when
/// the server was started without peer addresses (as `Router::oneshot`
/// does).
pub fn of_request<B>(request: &Request<B>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    Some(client_addr(peer.ip(), request.headers(), trusted))
}

/// Returns the client address for a request from `peer`. When `peer` is
/// trusted, `X-Forwarded-For` is read from the right, the end the nearest
/// proxy wrote, and the first address that is not itself a trusted proxy is
/// the client. A malformed entry stops the walk at the last address read,
/// since nothing left of it can be believed.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = canonical(peer);
    if !trusted.contains(&client) {
        return client;
    }
    // Several headers count as one list joined in order (RFC 9110
    // section 5.3).
    let entries = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("!").split(','))
        .collect::<Vec<_>>();
    for entry in entries.into_iter().rev() {
        let Some(address) = parse_entry(entry) else { break };
        client = canonical(address);
        if !trusted.contains(&client) {
            break;
        }
    }
    client
}

/// Reads one `X-Forwarded-For` entry: an IP address, possibly with a port,
/// as some proxies write it.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Writes an IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`) as plain
/// IPv4, so that one client has one form in trust checks, logs and limits.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const PROXY: &str = "10.0.0.1";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(client_addr(ip("203.0.113.9"), &headers, &[ip(PROXY)]), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_peer_names_the_client() {
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(client_addr(ip(PROXY), &headers, &[ip(PROXY)]), ip("198.51.100.7"));
    }

    #[test]
    fn spoofed_entries_left_of_client_are_ignored() {
        let headers = forwarded(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(client_addr(ip(PROXY), &headers, &[ip(PROXY)]), ip("198.51.100.7"));
    }

    #[test]
    fn chain_of_trusted_proxies_is_skipped() {
        let trusted = [ip(PROXY), ip("10.0.0.2")];
        let headers = forwarded(&["198.51.100.7", "10.0.0.2"]);
        assert_eq!(client_addr(ip(PROXY), &headers, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn malformed_entry_stops_the_walk() {
        let trusted = [ip(PROXY), ip("10.0.0.2")];
        let headers = forwarded(&["198.51.100.7, unknown, 10.0.0.2"]);
        assert_eq!(client_addr(ip(PROXY), &headers, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn trusted_peer_without_header_is_the_client() {
        assert_eq!(client_addr(ip(PROXY), &HeaderMap::new(), &[ip(PROXY)]), ip(PROXY));
    }

    #[test]
    fn mapped_ipv4_is_written_as_ipv4() {
        let headers = forwarded(&["::ffff:198.51.100.7"]);
        assert_eq!(client_addr(ip("::ffff:10.0.0.1"), &headers, &[ip(PROXY)]), ip("198.51.100.7"));
    }
}
