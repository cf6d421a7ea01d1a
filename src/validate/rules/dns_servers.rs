//! Rule `dns-servers`: the site block names no DNS servers, or servers no
//! resolver can use.
//!
//! **What it does.** Reports a `site` block without `dns-servers` (SC0005);
//! a DNS server that is the unspecified address (`0.0.0.0`, `::`), a
//! multicast, loopback or broadcast address, or an IPv6 link-local address
//! (which needs a zone, `%eth0`, that none of its consumers can carry)
//! (SC0054); one that is the network or IPv4 broadcast address of a
//! declared network (SC0302). Warns (SC0055) about a server listed twice,
//! and (SC0038) about a well-known public resolver (8.8.8.8, 1.1.1.1,
//! 9.9.9.10, 94.140.14.14…: the list in `data/public-dns-resolvers.txt`,
//! which names its sources): the list is also the name servers of the zones siteconf
//! builds, which a public resolver does not serve, so the site's own names
//! do not resolve on its nodes.
//!
//! **Why it matters.** Every DNS zone siteconf builds (the forward zone of
//! the site's domain and a reverse zone per network) needs name servers for
//! its SOA and NS records, and nodes get their resolvers from the same list
//! (netplan, DHCP). Without it `check` would pass and `build` would fail on
//! the first zone; CI that runs only `check` must see it.
//!
//! The list is written as is into netplan's `nameservers`, Kea's
//! `domain-name-servers` and the zones' NS glue: an address that is no
//! host's sends every lookup nowhere (a loopback address asks the node
//! itself, where nothing answers). A repeated server is a fallback that
//! falls back to itself.
//!
//! **What it leaves alone: a fourth and later server.** This rule used to
//! warn that only the first three are used, after glibc's resolver, which
//! reads at most three `nameserver` lines (`MAXNS`) of resolv.conf. No
//! consumer siteconf feeds has that limit: netplan's `nameservers` become
//! systemd-networkd's `DNS=`, which systemd-resolved uses, all of them (the
//! node's resolv.conf names only resolved's stub, 127.0.0.53); Kea's
//! `domain-name-servers` carries every IPv4 server; the zones get one NS
//! record and glue per server (`ns4`…). Only a DHCP client that writes
//! resolv.conf itself (a live or installer image at boot) reads three, and
//! there the first three still answer: a fourth is an unused fallback
//! during boot, not a fault. A dual-stack site listing two IPv4 and two
//! IPv6 resolvers is the common case, so the warning is gone.
//!
//! **Example.**
//! ```kdl
//! site dc1 {
//!     domain "dc1.example.net"
//!     // dns-servers "10.0.0.2" "10.0.0.3"   ← missing
//! }
//! site dc2 { domain "dc2.example.net"; dns-servers "127.0.0.1" "10.0.0.2" "10.0.0.2"; }   // SC0054, SC0055
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Network, Site, SiteInfo};

pub static RULE: Rule = Rule {
    name: "dns-servers",
    codes: &[
        Code::MissingField,
        Code::InvalidDnsServer,
        Code::AddressIsNetworkOrBroadcast,
        Code::ServerListIgnored,
    ],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else {
        // `missing-site` reports that.
        return;
    };
    if !site.dns_servers.is_empty() {
        servers(cx, site, diags);
        return;
    }
    diags.push(
        Diagnostic::error(
            Code::MissingField,
            format!("site `{}` declares no `dns-servers`", site.name.value),
        )
        .label(site.name.span, "this site block has no `dns-servers`")
        .help("the DNS zones need name servers for their NS records, and nodes use them as resolvers: add e.g. `dns-servers \"10.0.0.2\" \"10.0.0.3\"` to the site block"),
    );
}

/// What keeps `ip` from being a server's address: the unspecified,
/// multicast, loopback, broadcast or (IPv6) link-local addresses.
pub(super) fn unusable(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) if a.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(a) if a.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(a) if a.is_broadcast() => Some("the broadcast address"),
        IpAddr::V4(a) if a.is_loopback() => Some("a loopback address"),
        IpAddr::V6(a) if a.is_loopback() => Some("the loopback address"),
        IpAddr::V4(a) if a.is_multicast() => Some("a multicast address"),
        IpAddr::V6(a) if a.is_multicast() => Some("a multicast address"),
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => {
            Some("an IPv6 link-local address, reachable only with a zone (`%eth0`)")
        }
        _ => None,
    }
}

/// The public resolvers' service addresses, from each service's own page
/// (the file names them).
const PUBLIC_RESOLVERS: &str = include_str!("../../../data/public-dns-resolvers.txt");

/// The operator of a well-known public recursive resolver at `ip`, and the
/// variant of its service when there is one (`Quad9`, `unsecured`): the big
/// public services' published addresses (Google, Cloudflare with its
/// families service, Quad9's variants, OpenDNS, AdGuard, CleanBrowsing,
/// Yandex), as data in `data/public-dns-resolvers.txt`.
fn public_resolver(ip: IpAddr) -> Option<(&'static str, Option<&'static str>)> {
    PUBLIC_RESOLVERS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|l| {
            let (addr, who) = l.split_once(' ')?;
            if addr.parse::<IpAddr>().ok()? != ip {
                return None;
            }
            let who = who.trim();
            Some(match who.split_once(" (") {
                Some((name, variant)) => (name, Some(variant.trim_end_matches(')'))),
                None => (who, None),
            })
        })
}

/// The declared network whose network or IPv4 broadcast address `ip` is,
/// with which of the two it is and the prefix.
pub(super) fn not_host(site: &Site, ip: IpAddr) -> Option<(&Network, &'static str, String)> {
    site.networks.iter().find_map(|n| match ip {
        IpAddr::V4(a) => n.ipv4.as_ref().and_then(|p| {
            let p = p.value;
            if p.prefix_len() >= 31 {
                None
            } else if a == p.network() {
                Some((n, "network", p.to_string()))
            } else if a == p.broadcast() {
                Some((n, "broadcast", p.to_string()))
            } else {
                None
            }
        }),
        IpAddr::V6(a) => n
            .ipv6
            .as_ref()
            .filter(|p| p.value.prefix_len() < 127 && a == p.value.network())
            .map(|p| (n, "network", p.value.to_string())),
    })
}

fn servers(cx: &Ctx, site: &SiteInfo, diags: &mut Diagnostics) {
    let mut seen: Vec<IpAddr> = Vec::new();
    for d in &site.dns_servers {
        let ip = d.value;
        if let Some(what) = unusable(ip) {
            diags.push(
                Diagnostic::error(Code::InvalidDnsServer, format!("DNS server {ip} is {what}"))
                    .label(d.span, "no resolver answers here")
                    .help("give the unicast address of a host that answers DNS queries"),
            );
        } else if let Some((n, which, prefix)) = not_host(cx.site, ip) {
            diags.push(
                Diagnostic::error(
                    Code::AddressIsNetworkOrBroadcast,
                    format!(
                        "DNS server {ip} is the {which} address of network `{}` ({prefix})",
                        n.name.value
                    ),
                )
                .label(d.span, "not a host address")
                .help("give the address of the host that answers DNS queries"),
            );
        }
        if let Some((who, variant)) = public_resolver(ip) {
            let variant = variant.map(|v| format!(" ({v})")).unwrap_or_default();
            diags.push(
                Diagnostic::warning(
                    Code::DnsServerPublicResolver,
                    format!(
                        "DNS server {ip} is {who}'s public resolver{variant}: it cannot answer for `{}`, the zone siteconf builds for the site, whose NS records and glue name each DNS server; nodes that ask it get no answer for the site's own names (its hosts, and any NTP server or repository named under the domain)",
                        site.domain.value
                    ),
                )
                .label(d.span, "a public resolver, not the site's name server")
                .help("list the site's own DNS servers, the hosts that serve the zones `siteconf build` writes (they may forward other names to a public resolver)"),
            );
        }
        if seen.contains(&ip) {
            diags.push(
                Diagnostic::warning(
                    Code::ServerListIgnored,
                    format!("DNS server {ip} is listed twice"),
                )
                .label(d.span, "listed again")
                .help("remove the repeat: a second resolver is a fallback only when it is another host"),
            );
        }
        seen.push(ip);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn dns(list: &str) -> Vec<&'static str> {
        codes(&format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers {list}; }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; ipv6 "2001:db8::/64"; }}"#
        ))
    }

    #[test]
    fn the_list_parses() {
        let mut n = 0;
        for l in super::PUBLIC_RESOLVERS.lines().map(str::trim) {
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (a, who) = l.split_once(' ').expect("ADDRESS SERVICE");
            assert!(a.parse::<std::net::IpAddr>().is_ok(), "{l}");
            assert!(!who.trim().is_empty(), "{l}");
            n += 1;
        }
        assert!(n > 60);
    }

    #[test]
    fn a_public_resolver_serves_not_the_site_zone() {
        assert_eq!(dns(r#""8.8.8.8""#), ["SC0038"]);
        assert_eq!(dns(r#""10.0.0.2" "2606:4700:4700::1111""#), ["SC0038"]);
        // Every service and variant of the list, IPv4 and IPv6.
        for ip in [
            "9.9.9.10",
            "1.1.1.2",
            "1.1.1.3",
            "94.140.14.14",
            "94.140.15.15",
            "149.112.112.112",
            "208.67.220.220",
            "2620:fe::10",
            "2606:4700:4700::1113",
            "2a10:50c0::ad1:ff",
            "185.228.168.9",
            "77.88.8.8",
            "2a02:6b8::feed:0ff",
        ] {
            assert_eq!(dns(&format!("\"10.0.0.2\" \"{ip}\"")), ["SC0038"], "{ip}");
        }
        // 8.8.8.9 is nobody's well-known resolver.
        assert!(dns(r#""10.0.0.2" "8.8.8.9""#).is_empty());
    }

    #[test]
    fn host_addresses_pass() {
        assert!(dns(r#""10.0.0.2" "2001:db8::2" "192.0.2.53""#).is_empty());
        // AWS's resolver is IPv4 link-local: reachable without a zone.
        assert!(dns(r#""169.254.169.253""#).is_empty());
    }

    #[test]
    fn addresses_of_no_host_are_errors() {
        for a in [
            "0.0.0.0",
            "::",
            "127.0.0.53",
            "::1",
            "224.0.0.251",
            "ff02::fb",
            "fe80::1",
            "255.255.255.255",
        ] {
            assert_eq!(dns(&format!("\"{a}\"")), ["SC0054"], "{a}");
        }
        assert_eq!(dns(r#""10.0.0.0""#), ["SC0302"]);
        assert_eq!(dns(r#""10.0.0.255""#), ["SC0302"]);
        assert_eq!(dns(r#""2001:db8::""#), ["SC0302"]);
    }

    #[test]
    fn repeats_are_warnings() {
        assert_eq!(dns(r#""10.0.0.2" "10.0.0.3" "10.0.0.2""#), ["SC0055"]);
    }

    #[test]
    fn a_fourth_server_is_used() {
        // Two IPv4 and two IPv6 resolvers: systemd-resolved asks them all.
        assert!(dns(r#""10.0.0.2" "10.0.0.3" "2001:db8::2" "2001:db8::3""#).is_empty());
        assert!(dns(r#""10.0.0.2" "10.0.0.3" "10.0.0.4" "10.0.0.5" "10.0.0.6""#).is_empty());
    }
}
