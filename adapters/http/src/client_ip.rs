//! The client's IP address, for rate limiting and logs.
//!
//! `X-Forwarded-For` is believed only when the connection comes from a configured trusted
//! proxy; then the client is the right-most address in the chain that is not itself a
//! trusted proxy (the left part of the header is whatever the client chose to send).

use std::net::IpAddr;

use domain::ClientInfo;
use ipnet::IpNet;
use poem::{FromRequest, Request, RequestBody};

/// The client's address as the rate limiter resolved it, left in the request's extensions
/// for the handlers that record it (sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

/// The client as a session records it: its resolved address and its `User-Agent`.
pub(crate) struct Client(pub(crate) ClientInfo);

impl<'a> FromRequest<'a> for Client {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let user_agent = request
            .headers()
            .get(poem::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok());
        let address = request
            .extensions()
            .get::<ClientAddress>()
            .map(|address| address.0.to_string());
        Ok(Self(ClientInfo::new(user_agent, address)))
    }
}

/// Which peers may tell us the client's address.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(pub(crate) Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client address of `request`, or `None` when the peer address is unknown.
    pub(crate) fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        let peer = request
            .remote_addr()
            .as_socket_addr()
            .map(std::net::SocketAddr::ip)?;
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Some(self.resolve(peer, forwarded))
    }

    /// The client behind `peer`, given the `X-Forwarded-For` header values it sent.
    fn resolve<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain: Vec<IpAddr> = forwarded
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        chain
            .iter()
            .rev()
            .copied()
            .find(|address| !self.trusts(*address))
            .or_else(|| chain.first().copied())
            .unwrap_or(peer)
    }
}

/// IPv4 addresses arriving as IPv4-mapped IPv6 are compared as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(
            list.iter()
                .map(|network| network.parse().unwrap())
                .collect(),
        )
    }

    fn resolve(trusted: &[&str], peer: &str, forwarded: &[&str]) -> IpAddr {
        proxies(trusted).resolve(peer.parse().unwrap(), forwarded.iter().copied())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            resolve(&["10.0.0.0/8"], "203.0.113.9", &["1.2.3.4"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        assert_eq!(
            resolve(
                &["10.0.0.0/8"],
                "10.0.0.2",
                &["6.6.6.6, 198.51.100.7", "10.0.0.3"]
            ),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_forwarded_header_is_the_client() {
        assert_eq!(resolve(&["10.0.0.0/8"], "10.0.0.2", &[]), ip("10.0.0.2"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_proxies() {
        assert_eq!(
            resolve(&["127.0.0.1/32"], "::ffff:127.0.0.1", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
    }
}
