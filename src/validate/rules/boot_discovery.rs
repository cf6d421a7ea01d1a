//! Rule `boot-discovery`: an unknown-MAC setup that cannot work or is unsafe.
//!
//! **What it does.** Reports (SC1203):
//! - `unknown "discover"` without a `discovery-image`;
//! - a `discovery-range` that is not IPv4, or not inside the IPv4 prefix
//!   of a network Kea serves (`dhcp`, default: management networks);
//! - a `discovery-range` not inside that network's `reserved` ranges;
//! - two discovery ranges that overlap;
//! - a discovery range that holds the network's `gateway4`, a boot server
//!   or a DNS server.
//!
//! A node's address inside a discovery range is inside a `reserved` range
//! (or the range is reported as not reserved): `addressing` reports it
//! (SC0304), fixed or allocated.
//!
//! **Why it matters.** Kea leases discovery addresses to machines no node
//! declares. A range outside every DHCP subnet is never offered, so
//! unknown machines get nothing; a range that is not reserved is also
//! where `auto` addresses are allocated, so an unknown machine could hold
//! the address of a node that is about to boot. Kea refuses to start on
//! pools that overlap ("pool overlaps with an existing pool"); and an
//! unknown machine leased the gateway's, a boot server's or a resolver's
//! address takes it over on the network (duplicate address, ARP fights).
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/24"; reserved "10.0.0.1-10.0.0.19"; }
//! site dc1 { boot { servers "10.0.0.2"; discovery-range "10.0.0.20-10.0.0.29"; } }   // SC1203: not reserved
//! ```

use std::net::{IpAddr, Ipv4Addr};

use super::super::{Ctx, Rule};
use super::Order;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Boot, IpRange, Sp, UnknownPolicy};

pub static RULE: Rule = Rule {
    name: "boot-discovery",
    codes: &[Code::BootDiscovery],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    if let Some(u) = &boot.unknown {
        if u.value == UnknownPolicy::Discover && boot.discovery_image.is_none() {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    "`unknown \"discover\"` needs a `discovery-image`",
                )
                .label(u.span, "boot which image?")
                .help("add `discovery-image NAME` naming an image of `boot`, or use `unknown \"report\"`"),
            );
        }
    }
    overlaps(cx, boot, diags);
    for r in &boot.discovery_ranges {
        let (IpAddr::V4(a), IpAddr::V4(b)) = (r.value.start, r.value.end) else {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!("discovery range `{}` is not IPv4", r.value),
                )
                .label(r.span, "Kea (DHCPv4) leases IPv4 addresses")
                .help("give an IPv4 range such as `10.0.0.240-10.0.0.250`"),
            );
            continue;
        };
        let net = cx.site.networks.iter().find(|n| {
            n.dhcp()
                && n.ipv4
                    .as_ref()
                    .is_some_and(|p| p.value.contains(&a) && p.value.contains(&b))
        });
        let Some(net) = net else {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!("discovery range `{}` is in no network Kea serves", r.value),
                )
                .label(r.span, "outside every DHCP network")
                .help("put it inside the IPv4 prefix of a management network (or one with `dhcp #true`)"),
            );
            continue;
        };
        let reserved = net
            .reserved
            .iter()
            .any(|x| x.value.contains(IpAddr::V4(a)) && x.value.contains(IpAddr::V4(b)));
        if !reserved {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!(
                        "discovery range `{}` is not inside a `reserved` range of network `{}`",
                        r.value, net.name.value
                    ),
                )
                .label(r.span, "nodes could be allocated these addresses")
                .help(format!(
                    "add `reserved \"{}\"` to network `{}` so that no node is given them",
                    r.value, net.name.value
                )),
            );
        }
        // Addresses that are taken on the network although no node holds
        // them: Kea would lease them to an unknown machine.
        let dns = cx.site.site.iter().flat_map(|s| &s.dns_servers);
        let taken = net
            .gateway4
            .iter()
            .map(|g| {
                (
                    IpAddr::V4(g.value),
                    g.span,
                    format!("the gateway of network `{}`", net.name.value),
                )
            })
            .chain(
                boot.servers
                    .iter()
                    .map(|s| (IpAddr::V4(s.value), s.span, "a boot server".to_string())),
            )
            .chain(dns.map(|d| (d.value, d.span, "a DNS server".to_string())));
        for (ip, span, what) in taken {
            if !r.value.contains(ip) {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!("discovery range `{}` holds {ip}, {what}", r.value),
                )
                .label(r.span, "Kea leases these addresses to unknown machines")
                .label(span, what)
                .help(format!(
                    "an unknown machine could be given {ip} and take it over: keep the discovery range clear of it"
                )),
            );
        }
    }
}

/// Discovery ranges that overlap: each Kea pool must be disjoint from the
/// others, or Kea refuses the whole configuration.
fn overlaps(cx: &Ctx, boot: &Boot, diags: &mut Diagnostics) {
    let order = Order::new(cx);
    let mut v4: Vec<(Ipv4Addr, Ipv4Addr, &Sp<IpRange>)> = boot
        .discovery_ranges
        .iter()
        .filter_map(|r| match (r.value.start, r.value.end) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Some((a, b, r)),
            _ => None,
        })
        .collect();
    // In order of declaration, so the later range is the one reported.
    v4.sort_by_key(|(_, _, r)| order.key(r.span));
    for (i, &(a, b, r)) in v4.iter().enumerate() {
        let Some(&(_, _, first)) = v4[..i].iter().find(|&&(c, d, _)| a <= d && c <= b) else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::BootDiscovery,
                format!(
                    "discovery range `{}` overlaps discovery range `{}`",
                    r.value, first.value
                ),
            )
            .label(r.span, "overlaps")
            .label(first.span, "this range")
            .help("Kea refuses pools that overlap (\"pool overlaps with an existing pool\"): merge them into one range, or make them disjoint"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn found(ranges: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3" "2001:db8::3"
                boot {{ servers "10.0.0.2"; discovery-range {ranges}
                        image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"
                            reserved "10.0.0.1-10.0.0.63"; }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1203")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn disjoint_ranges_clear_of_servers_pass() {
        assert!(found(r#""10.0.0.20-10.0.0.29" "10.0.0.30-10.0.0.39""#).is_empty());
    }

    #[test]
    fn overlapping_ranges_are_reported_once() {
        let m = found(r#""10.0.0.20-10.0.0.29" "10.0.0.29-10.0.0.39" "10.0.0.40-10.0.0.49""#);
        assert_eq!(
            m,
            ["discovery range `10.0.0.29-10.0.0.39` overlaps discovery range `10.0.0.20-10.0.0.29`"]
        );
        let m = found(r#""10.0.0.20-10.0.0.49" "10.0.0.30-10.0.0.31""#);
        assert_eq!(m.len(), 1, "{m:?}");
    }

    #[test]
    fn ranges_holding_the_gateway_or_a_server() {
        let m = found(r#""10.0.0.1-10.0.0.9""#);
        assert_eq!(
            m,
            [
                "discovery range `10.0.0.1-10.0.0.9` holds 10.0.0.1, the gateway of network `mgmt`",
                "discovery range `10.0.0.1-10.0.0.9` holds 10.0.0.2, a boot server",
                "discovery range `10.0.0.1-10.0.0.9` holds 10.0.0.3, a DNS server",
            ]
        );
    }

    #[test]
    fn a_node_in_a_range_is_in_a_reserved_range() {
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot { servers "10.0.0.2"; discovery-range "10.0.0.20-10.0.0.29"; images-dir "/srv/images"
                       image debian { kernel "http://10.0.0.2/images/vmlinuz"; } }
                defaults { boot-image debian; } }
            network mgmt { purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; reserved "10.0.0.1-10.0.0.63"; }
            rack r01 { height 42; }
            node r01n01 { rack r01; position 1; interface eno1 { mac "52:54:00:01:01:01"; }
                          address mgmt interface=eno1 ipv4="10.0.0.25"; }"#;
        assert_eq!(super::super::testing::codes(text), ["SC0304"]);
    }
}
