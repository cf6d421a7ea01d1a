//! Rule `bgp-peer-link`: external peers that no switch holding them can
//! reach in one hop.
//!
//! **What it does.** Reports (SC0632) an external peer (`bgp-peer`) whose
//! `address` is on no subnet of a routed port (`interface PORT address=…`)
//! of a switch in its `switches`, or is that port's own address, unless
//! the peer declares `multihop N`. One finding per peer, with a label on
//! each switch that lacks the link.
//!
//! Also reports (SC0302) a peer whose IPv4 address is the network or
//! broadcast address of the routed port's subnet it is on (`192.0.2.7` on
//! `192.0.2.2/29`): no host has it, so no session comes up either.
//!
//! **Why it matters.** eBGP to an external peer is single-hop: the switch
//! must have an address on the peer's subnet, on the port cabled to it.
//! Without one the generated config has no route to the peer and the
//! session stays in Active.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { …; interface swp48 address="192.0.2.2/29"; }
//! switch r01-tor2 { … }                       // no routed port towards the peer
//! bgp-peer transit-a {
//!     address "192.0.2.1"
//!     switches r01-tor1 r01-tor2              // SC0632 at r01-tor2
//! }
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::switch_index;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::routing::{switch_port_address, switch_subnet_of};

pub static RULE: Rule = Rule {
    name: "bgp-peer-link",
    codes: &[Code::BgpPeerUnreachable, Code::AddressIsNetworkOrBroadcast],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let switches = switch_index(cx.site);
    not_host(cx, &switches, diags);
    for p in &cx.site.bgp_peers {
        if p.multihop.is_some() {
            continue;
        }
        let ip = p.address.value;
        let mut lacking = Vec::new();
        let mut own = Vec::new();
        for w in &p.switches {
            // An unknown switch is SC0202's.
            let Some(&si) = switches.get(w.as_str()) else {
                continue;
            };
            let sw = &cx.site.switches[si];
            // A routed port whose address did not parse is reported as such.
            if switch_subnet_of(sw, ip).is_some() || sw.interfaces.iter().any(|i| !i.complete) {
                continue;
            }
            match switch_port_address(sw, ip) {
                Some((i, a)) => own.push((w, i.port.value.clone(), a.span)),
                None => lacking.push(w),
            }
        }
        if !own.is_empty() {
            let mut d = Diagnostic::error(
                Code::BgpPeerUnreachable,
                format!(
                    "BGP peer `{}` has address {ip}, which is the address of a switch port holding the session",
                    p.name.value
                ),
            )
            .label(p.address.span, "the peer's address");
            for (w, port, span) in &own {
                d = d.label(*span, format!("`{}` {port} has it", w.value));
            }
            diags.push(d.help(
                "the switch's port and the peer need two different addresses on one subnet: fix the peer's `address` or the port's",
            ));
        }
        if lacking.is_empty() {
            continue;
        }
        let names: Vec<String> = lacking.iter().map(|w| format!("`{}`", w.value)).collect();
        let mut d = Diagnostic::error(
            Code::BgpPeerUnreachable,
            format!(
                "BGP peer `{}` at {ip} is on no subnet of {}: the single-hop session cannot come up",
                p.name.value,
                names.join(", ")
            ),
        )
        .label(p.address.span, "on no routed port of these switches");
        for w in &lacking {
            d = d.label(
                w.span,
                format!("`{}` has no port on {ip}'s subnet", w.value),
            );
        }
        let example = if ip.is_ipv4() {
            "ADDRESS/30"
        } else {
            "ADDRESS/64"
        };
        diags.push(d.help(format!(
            "declare the port cabled to the peer on each switch holding it, with an address on the peer's subnet \
             (`interface PORT address=\"{example}\"` in the switch), or write `multihop N` on the peer if it is N hops away"
        )));
    }
}

/// Peers at the network or broadcast address of a routed port's IPv4
/// subnet: one finding per peer, at the first switch's port.
fn not_host(cx: &Ctx, switches: &super::FxMap<&str, usize>, diags: &mut Diagnostics) {
    for p in &cx.site.bgp_peers {
        let IpAddr::V4(ip) = p.address.value else {
            continue;
        };
        let found = p.switches.iter().find_map(|w| {
            let sw = &cx.site.switches[*switches.get(w.as_str())?];
            let (i, a) = switch_subnet_of(sw, IpAddr::V4(ip))?;
            let ipnet::IpNet::V4(net) = a.value else {
                return None;
            };
            let what = if net.prefix_len() >= 31 {
                return None;
            } else if ip == net.network() {
                "network"
            } else if ip == net.broadcast() {
                "broadcast"
            } else {
                return None;
            };
            Some((w, i, a, net.trunc(), what))
        });
        let Some((w, i, a, net, what)) = found else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::AddressIsNetworkOrBroadcast,
                format!(
                    "BGP peer `{}` has address {ip}, the {what} address of {net}",
                    p.name.value
                ),
            )
            .label(p.address.span, format!("the {what} address"))
            .label(
                a.span,
                format!("`{}` {} is on {net}", w.value, i.port.value),
            )
            .help("no host may use it, so the session never comes up: write the address the provider gave its end of the link"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(peer: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{
    rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports "swp1-56"
    interface swp51 {{ address "192.0.2.2/29" "2001:db8:ffff::2/64"; }}
    interface swp52 address="198.51.100.0/31"
}}
bgp-peer transit-a {{ asn 64496; address "{peer}"; switches r01-tor1; }}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| matches!(*c, "SC0302" | "SC0632"))
            .collect()
    }

    #[test]
    fn peer_at_network_or_broadcast() {
        assert!(site("192.0.2.1").is_empty());
        assert!(site("192.0.2.6").is_empty());
        assert_eq!(site("192.0.2.7"), ["SC0302"]);
        assert_eq!(site("192.0.2.0"), ["SC0302"]);
        // A /31 has no network or broadcast address.
        assert!(site("198.51.100.1").is_empty());
        assert!(site("2001:db8:ffff::1").is_empty());
    }
}
