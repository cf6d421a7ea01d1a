//! Rule `network-ranges`: a network's own gateway, reserved ranges and pool
//! ranges outside its prefix.
//!
//! **What it does.** For every network: a gateway outside the prefix
//! (SC0301) or equal to the network or IPv4 broadcast address (SC0302); a
//! reserved or pool range not inside the prefix (SC0301); a gateway or
//! range of a family the network has no prefix for (SC0305); a prefix in
//! a special-purpose range (SC0012): IPv4 `0.0.0.0/8`, loopback
//! `127.0.0.0/8`, link-local `169.254.0.0/16`, multicast `224.0.0.0/4`,
//! reserved `240.0.0.0/4`; IPv6 unspecified and loopback (`::/128`,
//! `::1/128`), IPv4-mapped `::ffff:0:0/96`, link-local `fe80::/10`,
//! multicast `ff00::/8`.
//!
//! An IPv6 link-local `gateway6` (`fe80::1`, what routers announce in
//! router advertisements) is not outside the prefix: it is on every link.
//! netplan writes it as the route's `via` on the interface that holds the
//! network's address (networkd: `Gateway=fe80::1` in that link's
//! `[Route]`), where the kernel reaches it.
//!
//! **Why it matters.** A gateway outside the subnet is unreachable, so
//! every node on the network loses its default route; a reserved range
//! outside the prefix protects nothing, and a pool outside it hands out
//! addresses that are not on the network. No interface can be given an
//! address of the special ranges: the kernel or netplan drops or refuses
//! them (a loopback address outside `lo`, a multicast address as a host
//! address), and link-local addresses are made per link by the kernel.
//!
//! **Example.**
//! ```kdl
//! network mgmt {
//!     purpose management; ipv4 "10.0.0.0/22"
//!     gateway4 "10.0.4.1"          // SC0301: outside 10.0.0.0/22
//!     reserved "10.0.0.1-10.0.9.9" // SC0301: ends outside
//! }
//! network lab { purpose other; ipv4 "169.254.0.0/24"; }   // SC0012: link-local
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{IpRange, Network, Sp};
use ipnet::{Ipv4Net, Ipv6Net};

pub static RULE: Rule = Rule {
    name: "network-ranges",
    codes: &[
        Code::InvalidPrefix,
        Code::AddressOutsideNetwork,
        Code::AddressIsNetworkOrBroadcast,
        Code::MissingAddressFamily,
    ],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for n in &cx.site.networks {
        if let Some(p) = &n.ipv4 {
            let special = special_v4(&p.value);
            special_prefix(diags, n, &p.value.to_string(), p.span, special);
        }
        if let Some(p) = &n.ipv6 {
            let special = special_v6(&p.value);
            special_prefix(diags, n, &p.value.to_string(), p.span, special);
        }
        if let Some(g) = &n.gateway4 {
            gateway(diags, n, IpAddr::V4(g.value), g.span);
        }
        if let Some(g) = &n.gateway6 {
            gateway(diags, n, IpAddr::V6(g.value), g.span);
        }
        for r in &n.reserved {
            range(diags, n, r, "reserved range");
        }
        for r in &n.pool {
            range(diags, n, r, "pool range");
        }
    }
}

/// The prefix of the family of `ip`: its text, whether it contains `ip`,
/// and its span.
fn prefix_for(n: &Network, ip: IpAddr) -> Option<(String, bool, crate::syntax::Span)> {
    match ip {
        IpAddr::V4(a) => n
            .ipv4
            .as_ref()
            .map(|p| (p.value.to_string(), p.contains(&a), p.span)),
        IpAddr::V6(a) => n
            .ipv6
            .as_ref()
            .map(|p| (p.value.to_string(), p.contains(&a), p.span)),
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

fn no_family(
    diags: &mut Diagnostics,
    n: &Network,
    what: &str,
    ip: IpAddr,
    text: &str,
    span: crate::syntax::Span,
) {
    if n.prefix_invalid[ip.is_ipv6() as usize] {
        return;
    }
    let f = family(ip);
    diags.push(
        Diagnostic::error(
            Code::MissingAddressFamily,
            format!(
                "{what} {text} of network `{}` is {f}, but the network has no {f} prefix",
                n.name.value
            ),
        )
        .label(span, format!("{f} {what}"))
        .label(
            n.name.span,
            format!("no `{}` prefix here", f.to_ascii_lowercase()),
        )
        .help(format!(
            "add `{} \"…\"` to the network, or remove the {what}",
            f.to_ascii_lowercase()
        )),
    );
}

fn gateway(diags: &mut Diagnostics, n: &Network, ip: IpAddr, span: crate::syntax::Span) {
    let Some((text, inside, pspan)) = prefix_for(n, ip) else {
        no_family(diags, n, "gateway", ip, &ip.to_string(), span);
        return;
    };
    // A link-local gateway is on every link (router advertisements give
    // one): netplan routes through it on the interface.
    let link_local6 = matches!(ip, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80);
    if !inside && !link_local6 {
        diags.push(
            Diagnostic::error(
                Code::AddressOutsideNetwork,
                format!("gateway {ip} of network `{}` is outside its prefix {text}", n.name.value),
            )
            .label(span, "outside the prefix")
            .label(pspan, "the network's prefix")
            .help("a gateway must be on the subnet to be reachable; every node on the network would lose its default route"),
        );
        return;
    }
    let not_host = match ip {
        IpAddr::V4(a) => n
            .ipv4
            .as_ref()
            .is_some_and(|p| p.prefix_len() < 31 && (a == p.network() || a == p.broadcast())),
        IpAddr::V6(a) => n
            .ipv6
            .as_ref()
            .is_some_and(|p| p.prefix_len() < 127 && a == p.network()),
    };
    if not_host {
        diags.push(
            Diagnostic::error(
                Code::AddressIsNetworkOrBroadcast,
                format!(
                    "gateway {ip} of network `{}` is the network or broadcast address of {text}",
                    n.name.value
                ),
            )
            .label(span, "not a host address")
            .label(pspan, "the network's prefix")
            .help("the gateway is a router's interface address, usually the first host address of the prefix"),
        );
    }
}

/// IPv4 ranges no interface can be given an address of.
const SPECIAL_V4: &[(&str, &str)] = &[
    (
        "0.0.0.0/8",
        "\"this network\" (RFC 1122): never an address on a link",
    ),
    ("127.0.0.0/8", "loopback: the kernel keeps it on `lo`"),
    ("169.254.0.0/16", "link-local: made per link, never routed"),
    ("224.0.0.0/4", "multicast: not a host address"),
    (
        "240.0.0.0/4",
        "reserved (with the broadcast address 255.255.255.255): not a host address",
    ),
];

/// IPv6 ranges no interface can be given an address of.
const SPECIAL_V6: &[(&str, &str)] = &[
    ("::/128", "the unspecified address"),
    ("::1/128", "loopback: the kernel keeps it on `lo`"),
    (
        "::ffff:0:0/96",
        "IPv4-mapped addresses: IPv4 written as IPv6, never on a link",
    ),
    ("fe80::/10", "link-local: the kernel makes one per link"),
    ("ff00::/8", "multicast: not a host address"),
];

/// The special range a prefix lies in or overlaps, why no interface can
/// use it, and whether the prefix lies inside it.
fn special_v4(p: &Ipv4Net) -> Option<(&'static str, &'static str, bool)> {
    SPECIAL_V4.iter().find_map(|&(r, why)| {
        let rn: Ipv4Net = r.parse().expect("special range");
        let inside = rn.contains(p);
        (inside || p.contains(&rn)).then_some((r, why, inside))
    })
}

fn special_v6(p: &Ipv6Net) -> Option<(&'static str, &'static str, bool)> {
    SPECIAL_V6.iter().find_map(|&(r, why)| {
        let rn: Ipv6Net = r.parse().expect("special range");
        let inside = rn.contains(p);
        (inside || p.contains(&rn)).then_some((r, why, inside))
    })
}

fn special_prefix(
    diags: &mut Diagnostics,
    n: &Network,
    text: &str,
    span: crate::syntax::Span,
    special: Option<(&str, &str, bool)>,
) {
    let Some((range, why, inside)) = special else {
        return;
    };
    let verb = if inside { "lies in" } else { "overlaps" };
    diags.push(
        Diagnostic::error(
            Code::InvalidPrefix,
            format!("prefix {text} of network `{}` {verb} {range}", n.name.value),
        )
        .label(span, why)
        .help("no interface can hold such an address: give the network a unicast prefix (RFC 1918, such as `10.0.0.0/8`, for IPv4; a global or ULA `fd00::/8` one for IPv6)"),
    );
}

fn range(diags: &mut Diagnostics, n: &Network, r: &Sp<IpRange>, what: &str) {
    let Some((text, start_in, pspan)) = prefix_for(n, r.start) else {
        no_family(diags, n, what, r.start, &r.value.to_string(), r.span);
        return;
    };
    let end_in = prefix_for(n, r.end).is_some_and(|(_, inside, _)| inside);
    if start_in && end_in {
        return;
    }
    let which = match (start_in, end_in) {
        (true, false) => "ends",
        (false, true) => "starts",
        _ => "lies",
    };
    diags.push(
        Diagnostic::error(
            Code::AddressOutsideNetwork,
            format!(
                "{what} {} of network `{}` {which} outside its prefix {text}",
                r.value, n.name.value
            ),
        )
        .label(r.span, "not inside the prefix")
        .label(pspan, "the network's prefix")
        .help(format!("keep the {what} within {text}")),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn net(fields: &str) -> Vec<&'static str> {
        codes(&format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
            network n {{ purpose other; {fields}; }}"#
        ))
    }

    #[test]
    fn special_prefixes_are_refused() {
        for p in [
            r#"ipv4 "127.0.0.0/8""#,
            r#"ipv4 "127.1.0.0/24""#,
            r#"ipv4 "169.254.0.0/16""#,
            r#"ipv4 "224.0.0.0/24""#,
            r#"ipv4 "0.0.0.0/8""#,
            r#"ipv4 "240.0.0.0/4""#,
            r#"ipv4 "192.0.0.0/2""#,
            r#"ipv6 "ff00::/8""#,
            r#"ipv6 "ff02::/64""#,
            r#"ipv6 "fe80::/64""#,
            r#"ipv6 "::ffff:0:0/96""#,
            r#"ipv6 "::1/128""#,
            r#"ipv6 "::/64""#,
        ] {
            assert_eq!(net(p), ["SC0012"], "{p}");
        }
    }

    #[test]
    fn unicast_prefixes_pass() {
        for p in [
            r#"ipv4 "10.0.0.0/8""#,
            r#"ipv4 "100.64.0.0/10""#,
            r#"ipv4 "126.255.255.0/24""#,
            r#"ipv4 "223.255.255.0/24""#,
            r#"ipv6 "2001:db8::/64""#,
            r#"ipv6 "fd00:1::/64""#,
            r#"ipv6 "fec0::/64""#,
        ] {
            assert!(net(p).is_empty(), "{p}: {:?}", net(p));
        }
    }

    #[test]
    fn a_link_local_gateway6_is_on_the_link() {
        assert!(net(r#"ipv6 "2001:db8::/64"; gateway6 "fe80::1""#).is_empty());
        assert_eq!(
            net(r#"ipv6 "2001:db8::/64"; gateway6 "2001:db8:1::1""#),
            ["SC0301"]
        );
        assert_eq!(
            net(r#"ipv6 "2001:db8::/64"; gateway6 "fec0::1""#),
            ["SC0301"]
        );
        // Two networks may share one: it is an address of each link.
        let two = codes(
            r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
            network a { purpose other; vlan 10; ipv6 "2001:db8:a::/64"; gateway6 "fe80::1"; }
            network b { purpose other; vlan 11; ipv6 "2001:db8:b::/64"; gateway6 "fe80::1"; }"#,
        );
        assert!(two.is_empty(), "{two:?}");
    }
}
