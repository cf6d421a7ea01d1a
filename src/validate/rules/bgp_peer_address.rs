//! Rule `bgp-peer-address`: numbered sessions whose addresses do not fit.
//!
//! **What it does.** For every numbered BGP session of a resolved node,
//! reports a `peer-address` that is not an address of the switch it goes
//! to — its `loopback4` or `loopback6`, or the address of one of its
//! routed ports (`interface swp1 address=…`) — and a `local-address` that is not
//! an address of the node itself, fixed or allocated (SC0603); and a
//! `local-address` of another family than the `peer-address` (SC0604).
//!
//! **Why it matters.** FRR opens the session to the peer address: if the
//! switch does not own it, nothing answers (or worse, something else
//! does). FRR cannot source a session from an address the node does not
//! have, and an IPv4 local address cannot source a session to an IPv6
//! peer.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { loopback4 "10.255.255.1"; … }
//! node r01n01 { bgp asn=auto { session r01-tor1 peer-address="10.255.255.2"; } }   // SC0603
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{address_key, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Switch;
use crate::resolve::{AllocKey, IpFamily};
use crate::resolve::{Resolved, ResolvedNode};

pub static RULE: Rule = Rule {
    name: "bgp-peer-address",
    codes: &[Code::BgpAddressMismatch, Code::BgpFamilyMismatch],
    check,
    resolved: true,
};

fn switch_addresses(sw: &Switch) -> Vec<(IpAddr, crate::syntax::Span)> {
    let mut v = Vec::new();
    if let Some(l) = &sw.loopback4 {
        v.push((IpAddr::V4(l.value), l.span));
    }
    if let Some(l) = &sw.loopback6 {
        v.push((IpAddr::V6(l.value), l.span));
    }
    for i in &sw.interfaces {
        for a in &i.addresses {
            v.push((a.value.addr(), a.span));
        }
    }
    v
}

/// Every address of a node in effect: its addresses and loopbacks, fixed
/// or allocated.
fn node_addresses(rs: &Resolved, name: &str, rn: &ResolvedNode) -> Vec<IpAddr> {
    let st = &rn.settings;
    let mut v = Vec::new();
    for a in &st.addresses {
        let net = a.network.as_str();
        if let Some(e) = rs.value(name, address_key(net, IpFamily::V4), &a.ipv4) {
            v.push(IpAddr::V4(e.value));
        }
        if let Some(e) = rs.value(name, address_key(net, IpFamily::V6), &a.ipv6) {
            v.push(IpAddr::V6(e.value));
        }
    }
    if let Some(l) = &st.loopback {
        if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4) {
            v.push(IpAddr::V4(e.value));
        }
        if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6) {
            v.push(IpAddr::V6(e.value));
        }
    }
    v
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        for s in &bgp.sessions {
            let Some(pa) = &s.peer_address else { continue };
            let peer = s.peer.as_str();
            if let Some(la) = &s.local_address {
                if la.value.is_ipv4() != pa.value.is_ipv4() {
                    let fam = |ip: IpAddr| if ip.is_ipv4() { "IPv4" } else { "IPv6" };
                    out.push(
                        name,
                        Diagnostic::error(
                            Code::BgpFamilyMismatch,
                            format!(
                                "BGP session to `{peer}` goes from {} address {} to {} address {}{}",
                                fam(la.value),
                                la.value,
                                fam(pa.value),
                                pa.value,
                                set_in(rn, &format!("bgp.sessions.{peer}.local-address"))
                            ),
                        )
                        .label(la.span, format!("{} local address", fam(la.value)))
                        .label(pa.span, format!("{} peer address", fam(pa.value)))
                        .help("a TCP session has one address family: use a local address of the peer address's family"),
                    );
                }
            }
            if let Some(la) = &s.local_address {
                let own = node_addresses(rs, name, rn);
                if !own.contains(&la.value) {
                    let same: Vec<String> = own
                        .iter()
                        .filter(|ip| ip.is_ipv4() == la.value.is_ipv4())
                        .map(|ip| ip.to_string())
                        .collect();
                    out.push(
                        name,
                        Diagnostic::error(
                            Code::BgpAddressMismatch,
                            format!(
                                "BGP session to `{peer}` goes from {}, which is not an address of the node{}",
                                la.value,
                                set_in(rn, &format!("bgp.sessions.{peer}.local-address"))
                            ),
                        )
                        .label(la.span, "not one of the node's addresses")
                        .help(if same.is_empty() {
                            "the node has no address of that family; give it one, or leave `local-address` out".to_string()
                        } else {
                            format!("the node's addresses of that family: {}; or leave `local-address` out", same.join(", "))
                        }),
                    );
                }
            }
            let Some(sw) = cx.site.switch(cx.index, peer) else {
                continue;
            };
            let own = switch_addresses(sw);
            // A loopback that is not an address, or a routed port whose
            // address did not parse, is reported as such.
            if sw.loopback_invalid
                || own.iter().any(|(ip, _)| *ip == pa.value)
                || sw.interfaces.iter().any(|i| !i.complete)
            {
                continue;
            }
            let mut d = Diagnostic::error(
                Code::BgpAddressMismatch,
                format!(
                    "BGP session to `{peer}` goes to {}, which is not an address of the switch{}",
                    pa.value,
                    set_in(rn, &format!("bgp.sessions.{peer}.peer-address"))
                ),
            )
            .label(pa.span, "not the switch's address");
            let same_family: Vec<&(IpAddr, crate::syntax::Span)> = own
                .iter()
                .filter(|(ip, _)| ip.is_ipv4() == pa.value.is_ipv4())
                .collect();
            d = match same_family.first() {
                Some((ip, span)) => d.label(*span, format!("`{peer}` has {ip}")).help(format!(
                    "write `peer-address=\"{ip}\"`, or use an unnumbered session (`interface=…`)"
                )),
                None => d
                    .label(sw.name.span, "declared without an address of that family")
                    .help(format!(
                    "give `{peer}` a `loopback{}`, or use an unnumbered session (`interface=…`)",
                    if pa.value.is_ipv4() { 4 } else { 6 }
                )),
            };
            out.push(name, d);
        }
    }
    out.finish(diags);
}
