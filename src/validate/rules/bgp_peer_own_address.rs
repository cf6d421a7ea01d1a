//! Rule `bgp-peer-own-address`: an external BGP peer at an address of a
//! switch that holds its session.
//!
//! **What it does.** Reports (SC0614) a `bgp-peer` whose `address` equals
//! an address one of its `switches` has: its `loopback4` or `loopback6`,
//! the address of one of its routed ports (`interface swp51 { address
//! "192.0.2.2/29" }`, where the peer is usually `.1`; for a single-hop
//! peer that is SC0632), or the switch's end of a numbered session a node declares to it
//! (`session r01-tor1 { peer-address … }`). Both places are shown. The
//! same address on any other node or switch is a duplicate (SC0102).
//!
//! **Why it matters.** bgpd refuses a local address as a neighbour
//! ("Can not configure the local system as neighbor", checked against the
//! addresses zebra knows, so a dry run without zebra does not see it): the
//! session to the provider is never configured and the fabric has no way
//! out, with `check` green.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { loopback4 "10.255.0.1"; … }
//! bgp-peer transit-a { asn 64496; address "10.255.0.1"; switches r01-tor1 }   // SC0614
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "bgp-peer-own-address",
    codes: &[Code::BgpPeerOwnAddress],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    // The switch ends of numbered sessions, as declared (in the site
    // defaults, a profile or a node): (switch, address) → where and whose.
    let mut session_ends: BTreeMap<(&str, IpAddr), (Span, String)> = BTreeMap::new();
    for (what, st) in layers(cx.site) {
        let Some(bgp) = &st.bgp else { continue };
        for sess in &bgp.sessions {
            if let Some(a) = &sess.peer_address {
                session_ends
                    .entry((sess.peer.value.as_str(), a.value))
                    .or_insert_with(|| (a.span, what.to_string()));
            }
        }
    }
    for p in &cx.site.bgp_peers {
        for sw in &p.switches {
            // A loopback is reported below, with the switch's own line.
            let is_loopback = cx.site.switch(cx.index, &sw.value).is_some_and(|s| {
                s.loopback4.as_ref().map(|l| IpAddr::V4(l.value)) == Some(p.address.value)
                    || s.loopback6.as_ref().map(|l| IpAddr::V6(l.value)) == Some(p.address.value)
            });
            if is_loopback {
                continue;
            }
            if let Some((span, what)) = session_ends.get(&(sw.value.as_str(), p.address.value)) {
                diags.push(
                    Diagnostic::error(
                        Code::BgpPeerOwnAddress,
                        format!(
                            "external BGP peer `{}` is at {}, the address switch `{}` has on a session of {what}",
                            p.name.value, p.address.value, sw.value
                        ),
                    )
                    .label(p.address.span, "the peer's address")
                    .label(*span, format!("`{}`'s end of this session", sw.value))
                    .help("the peer's address is the provider's end of the link, not the switch's: FRR refuses its own address as a neighbour, so the session would never be configured"),
                );
            }
        }
    }
    for p in &cx.site.bgp_peers {
        for sw in &p.switches {
            let Some(s) = cx.site.switch(cx.index, &sw.value) else {
                continue; // SC0202
            };
            let own = [
                s.loopback4
                    .as_ref()
                    .map(|l| (IpAddr::V4(l.value), l.span, "loopback4")),
                s.loopback6
                    .as_ref()
                    .map(|l| (IpAddr::V6(l.value), l.span, "loopback6")),
            ];
            // A single-hop peer at a port's address is SC0632's, which
            // says what a single-hop session needs.
            let ports = s
                .interfaces
                .iter()
                .filter(|_| p.multihop.is_some())
                .flat_map(|i| {
                    i.addresses.iter().map(move |a| {
                        (
                            a.value.addr(),
                            a.span,
                            format!("address of port `{}`", i.port.value),
                        )
                    })
                });
            let own = own
                .into_iter()
                .flatten()
                .map(|(ip, span, what)| (ip, span, what.to_string()))
                .chain(ports);
            for (ip, span, what) in own {
                if ip != p.address.value {
                    continue;
                }
                diags.push(
                    Diagnostic::error(
                        Code::BgpPeerOwnAddress,
                        format!(
                            "external BGP peer `{}` is at {ip}, the {what} of switch `{}` that holds its session",
                            p.name.value, s.name.value
                        ),
                    )
                    .label(p.address.span, "the peer's address")
                    .label(span, format!("the {what} of `{}`", s.name.value))
                    .help("the peer's address is the provider's end of the link, not the switch's: FRR refuses its own address as a neighbour, so the session would never be configured"),
                );
            }
        }
    }
}
