//! The address a request comes from, for sign-in throttling (and logs). The
//! peer address of the connection, unless that peer is one of the configured
//! `trusted_proxies`: then the client is the rightmost hop of
//! `X-Forwarded-For` (or, without that header, of `Forwarded: for=`) that is
//! not itself a trusted proxy. A client can write anything into those headers,
//! but only the hops a trusted proxy appended are believed.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed (setting `trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: &[crate::config::ProxyNet]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.0).collect())
    }

    /// Parses addresses (`10.0.0.5`, `::1`) and networks (`10.0.0.0/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let nets = entries
            .iter()
            .map(|e| e.as_ref().parse::<crate::config::ProxyNet>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies::new(&nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client address of `req` as text (`203.0.113.9`, `2001:db8::1`), or
/// `unknown` when the connection has no peer address (only in unit tests).
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    match req.peer_addr() {
        Some(peer) => client_ip(peer.ip(), req.headers(), trusted).to_string(),
        None => "unknown".to_string(),
    }
}

/// The client behind `peer`: see the module comment.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    // Walk back from the hop nearest to us; each trusted hop vouches for the
    // one before it. A hop that is not an address (`unknown`, an obfuscated
    // name) ends the walk at the last address we could vouch for.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted.contains(*ip) => client = *ip,
            Some(ip) => return *ip,
            None => return client,
        }
    }
    client
}

/// The hops of `X-Forwarded-For` (all of its lines, in order) or, when there
/// is none, the `for=` values of `Forwarded`; `None` for a hop that is not an
/// address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    };
    let xff = lines("x-forwarded-for");
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .map(parse_hop)
            .collect();
    }
    lines("forwarded")
        .iter()
        .flat_map(|line| line.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim()))
            })
        })
        .collect()
}

/// One hop: an address, possibly quoted, bracketed (IPv6) or with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim_matches('"');
    let bare = if let Some(rest) = hop.strip_prefix('[') {
        rest.split(']').next()?
    } else if hop.matches(':').count() == 1 {
        // IPv4 with a port; IPv6 has at least two colons.
        hop.split(':').next()?
    } else {
        hop
    };
    IpAddr::from_str(bare).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_str(k).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &TrustedProxies::default()),
            ip("203.0.113.9")
        );
        // A peer not in the list is not believed either.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.7:5555"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        // Every hop trusted: the farthest one.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.2",
        )]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=\"198.51.100.7:80\"")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_hop_that_is_no_address_stops_at_the_last_vouched_one() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.1.1.1")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.1.1.1"));
    }

    #[test]
    fn mapped_ipv4_addresses_match_ipv4_networks() {
        let trusted = proxies(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example"]).is_err());
        assert!(TrustedProxies::parse(&["::1", "fd00::/8", " 10.0.0.1 "]).is_ok());
    }
}
