//! Rule `bgp-numbered-path`: numbered sessions that nothing declared lets
//! come up.
//!
//! **What it does.** For every numbered session (`peer-address`) of a
//! resolved node, decides how it reaches the switch the way rendering does
//! (`crate::model::routing`) and reports what the site lacks:
//!
//! - SC0630: the peer address is the switch's loopback, but the node has
//!   no unnumbered session to learn the fabric's routes from, or none of
//!   its unnumbered sessions' switches is joined to that switch by declared
//!   links, or one of the two loopbacks is in no `loopback` network (the
//!   fabric's route-maps carry only those; SC0617 reports that once per
//!   loopback when the site has a loopback prefix of the family); or it is the address of a
//!   routed switch port (`interface swp1 address=…`) that no node
//!   interface with an address on its subnet is cabled to.
//! - SC0631: the session's source does not fit: a loopback session needs
//!   the node's loopback of that family (the only node address the switch
//!   learns a route to) and `local-address`, if written, must be it; a
//!   session on a routed port goes from the node's address on that link.
//!
//! - SC0636 (a warning): a loopback session to a switch none of the
//!   node's unnumbered sessions ends on, in another rack or more than one
//!   switch away (the other ToR of the node's rack, reached over the pair's
//!   link, is normal and stays quiet). It comes up, but it pins the routes behind that switch to
//!   one session (no ECMP over the node's uplinks), and its exact
//!   `ebgp-multihop` drops it when a link on the shortest path fails.
//!
//! A peer address that is not the switch's at all (SC0603), a family
//! mismatch (SC0604), a local address the node does not have (SC0603) or
//! a session with both `interface` and `peer-address` are left to their
//! rules.
//!
//! **Why it matters.** Without a route to the far end's address and a
//! source it can answer, both ends stay in Active forever while `check`
//! is green: the node loses the uplink redundancy nobody sees missing.
//!
//! **Example.**
//! ```kdl
//! node r01n07 {
//!     loopback ipv4="10.255.1.7"
//!     bgp {
//!         // SC0630: no unnumbered session brings the route to 10.255.0.2
//!         session r01-tor2 peer-address="10.255.0.2" local-address="10.255.1.7"
//!     }
//! }
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{address_key, set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::routing::{
    numbered_path, switch_port_address, FabricGraph, NodeAddr, NumberedPath, NumberedSession,
    Unreachable,
};
use crate::model::{Sp, Switch};
use crate::resolve::{AllocKey, IpFamily};
use crate::resolve::{Resolved, ResolvedNode};

pub static RULE: Rule = Rule {
    name: "bgp-numbered-path",
    codes: &[
        Code::BgpNumberedUnreachable,
        Code::BgpNumberedSource,
        Code::BgpSessionRemoteSwitch,
    ],
    check,
    resolved: true,
};

/// The node's addresses in effect with their networks' prefix lengths,
/// and its loopbacks.
fn node_addresses(
    cx: &Ctx,
    rs: &Resolved,
    name: &str,
    rn: &ResolvedNode,
) -> (Vec<NodeAddr>, Vec<IpAddr>) {
    let st = &rn.settings;
    let mut addrs = Vec::new();
    for a in &st.addresses {
        let net = a.network.as_str();
        let Some(n) = cx.site.network(cx.index, net) else {
            continue;
        };
        let iface = a.interface.as_ref().map(|i| i.value.clone());
        if let (Some(e), Some(p)) = (
            rs.value(name, address_key(net, IpFamily::V4), &a.ipv4),
            &n.ipv4,
        ) {
            addrs.push(NodeAddr {
                ip: IpAddr::V4(e.value),
                prefix_len: p.value.prefix_len(),
                interface: iface.clone(),
            });
        }
        if let (Some(e), Some(p)) = (
            rs.value(name, address_key(net, IpFamily::V6), &a.ipv6),
            &n.ipv6,
        ) {
            addrs.push(NodeAddr {
                ip: IpAddr::V6(e.value),
                prefix_len: p.value.prefix_len(),
                interface: iface,
            });
        }
    }
    let mut loopbacks = Vec::new();
    if let Some(l) = &st.loopback {
        if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4) {
            loopbacks.push(IpAddr::V4(e.value));
        }
        if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6) {
            loopbacks.push(IpAddr::V6(e.value));
        }
    }
    (addrs, loopbacks)
}

/// Whether the switch sits in another rack than the node (both placed).
fn other_rack(node_rack: Option<&str>, sw: &Switch) -> bool {
    match (node_rack, &sw.placement) {
        (Some(n), Some(p)) => p.rack.as_str() != n,
        _ => false,
    }
}

/// SC0636: a loopback session `hops` links long.
fn remote_switch(rn: &ResolvedNode, peer: &str, pa: &Sp<IpAddr>, hops: u32) -> Diagnostic {
    Diagnostic::warning(
        Code::BgpSessionRemoteSwitch,
        format!(
            "numbered BGP session to `{peer}`, a switch this node has no unnumbered session with, is {hops} links long \
             (`ebgp-multihop {hops}`): `{peer}` announces the routes behind it with a shorter AS path than the \
             node's own switches, so the node sends that traffic over this one session, through whichever uplink \
             leads to {}, with no ECMP across its uplinks; and the TTL is exactly the shortest path, so the session \
             drops when a link on it fails{}",
            pa.value,
            set_in(rn, &format!("bgp.sessions.{peer}.peer-address"))
        ),
    )
    .label(pa.span, format!("`{peer}`'s loopback, {hops} links away"))
    .help(
        "peer with the switches the node is cabled to: their unnumbered sessions already bring every route of \
         the fabric over every uplink; drop this session, or accept the warning if it is needed",
    )
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let switches = switch_index(cx.site);
    let graph = FabricGraph::new(cx.site);
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        if !bgp.sessions.iter().any(|s| s.peer_address.is_some()) {
            continue;
        }
        let (addrs, loopbacks) = node_addresses(cx, rs, name, rn);
        let node_rack = cx.site.nodes[rn.index]
            .placement
            .as_ref()
            .map(|p| p.rack.as_str());
        let unnumbered: Vec<&str> = bgp
            .sessions
            .iter()
            .filter(|s| s.interface.is_some() && s.peer_address.is_none())
            .map(|s| s.peer.as_str())
            .collect();
        for s in &bgp.sessions {
            let Some(pa) = &s.peer_address else { continue };
            if s.interface.is_some() {
                continue; // both kinds at once: `node-required` reports it
            }
            let peer = s.peer.as_str();
            let Some(&si) = switches.get(peer) else {
                continue;
            };
            let sw = &cx.site.switches[si];
            if let Some(la) = &s.local_address {
                let own = addrs.iter().any(|a| a.ip == la.value) || loopbacks.contains(&la.value);
                if la.value.is_ipv4() != pa.value.is_ipv4() || !own {
                    continue; // SC0604 / SC0603
                }
            }
            let want = NumberedSession {
                peer,
                peer_address: pa.value,
                local_address: s.local_address.as_ref().map(|a| a.value),
            };
            let why = match numbered_path(
                sw,
                &graph,
                &rn.settings.interfaces,
                &addrs,
                &loopbacks,
                &unnumbered,
                &want,
            ) {
                // Over more than one switch, or to another rack: beyond
                // the node's own switches and their neighbours in its rack
                // (the other ToR of the pair, which is normal).
                Ok(NumberedPath::Fabric { hops, .. })
                    if hops > 2 || (hops > 1 && other_rack(node_rack, sw)) =>
                {
                    out.push(name, remote_switch(rn, peer, pa, hops));
                    continue;
                }
                Ok(_) => continue,
                Err(why) => why,
            };
            let at = set_in(rn, &format!("bgp.sessions.{peer}.peer-address"));
            let fam = if pa.value.is_ipv4() { 4 } else { 6 };
            let d = match why {
                Unreachable::NotSwitchAddress => continue, // SC0603
                Unreachable::NoUnnumbered => Diagnostic::error(
                    Code::BgpNumberedUnreachable,
                    format!(
                        "numbered BGP session to `{peer}` goes to its loopback {}, but nothing routes there{at}",
                        pa.value
                    ),
                )
                .label(pa.span, "a loopback, reached only over learnt routes")
                .help(format!(
                    "the node learns the fabric's loopbacks over its unnumbered sessions, and it has none: add one \
                     (`session SWITCH interface=IF` over a cabled interface), or make this one unnumbered \
                     (`session {peer} interface=IF`), or number it on a routed port of `{peer}` \
                     (`interface PORT address=…` on the switch) cabled to this node"
                )),
                Unreachable::NoPath { via } => Diagnostic::error(
                    Code::BgpNumberedUnreachable,
                    format!(
                        "numbered BGP session to `{peer}` goes to its loopback {}, but no declared link joins {} to `{peer}`{at}",
                        pa.value,
                        via.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .label(pa.span, "no route to this loopback")
                .help(format!(
                    "the node learns loopbacks from the switches of its unnumbered sessions; declare the switch-to-switch \
                     `link` that joins them to `{peer}`, or add an unnumbered session to `{peer}`"
                )),
                Unreachable::PortNotConnected { port, cidr } => {
                    let mut d = Diagnostic::error(
                        Code::BgpNumberedUnreachable,
                        format!(
                            "numbered BGP session to `{peer}` goes to {} on its port `{port}`, but no interface of the node \
                             cabled to that port has an address in {}{at}",
                            pa.value,
                            cidr.trunc()
                        ),
                    )
                    .label(pa.span, format!("on `{peer}` {port}"));
                    if let Some((_, a)) = switch_port_address(sw, pa.value) {
                        d = d.label(a.span, format!("`{peer}` {port}'s subnet"));
                    }
                    d.help(format!(
                        "cable an interface of the node to `{peer}` port `{port}` and give it an address in {} \
                         (an `address` on a network with that prefix)",
                        cidr.trunc()
                    ))
                }
                // A loopback outside the loopback networks of a family the
                // site has is SC0617's, once per loopback.
                Unreachable::NotAnnounced { addr }
                    if graph
                        .announced
                        .iter()
                        .any(|n| n.addr().is_ipv4() == addr.is_ipv4()) =>
                {
                    continue
                }
                Unreachable::NotAnnounced { addr } => {
                    let (span, whose) = match &s.local_address {
                        Some(la) if la.value == addr => (la.span, "the node's loopback"),
                        _ if addr != pa.value => (pa.span, "the node's loopback"),
                        _ => (pa.span, "this loopback"),
                    };
                    Diagnostic::error(
                        Code::BgpNumberedUnreachable,
                        format!(
                            "numbered BGP session to `{peer}` needs a route to {addr}, which is in no `loopback` network: the fabric carries host routes of loopback networks only{at}"
                        ),
                    )
                    .label(span, format!("{whose} {addr} is never announced"))
                    .help(format!(
                        "put {addr} inside a network with `purpose loopback` (or widen that network's prefix), or use an unnumbered session"
                    ))
                }
                Unreachable::NoLoopback => Diagnostic::error(
                    Code::BgpNumberedSource,
                    format!(
                        "numbered BGP session to `{peer}`'s loopback {} needs an IPv{fam} loopback on the node to start from{at}",
                        pa.value
                    ),
                )
                .label(pa.span, format!("the node has no IPv{fam} loopback"))
                .help(format!(
                    "give the node `loopback ipv{fam}=auto` (or a fixed address): the switch reaches the node's loopback \
                     over the fabric's routes, and no other node address"
                )),
                Unreachable::LocalNotLoopback { loopback } => {
                    let Some(la) = &s.local_address else { continue };
                    Diagnostic::error(
                        Code::BgpNumberedSource,
                        format!(
                            "numbered BGP session to `{peer}`'s loopback goes from {}, which the switch has no route to{}",
                            la.value,
                            set_in(rn, &format!("bgp.sessions.{peer}.local-address"))
                        ),
                    )
                    .label(la.span, "not the node's loopback")
                    .help(format!(
                        "a session between loopbacks starts from the node's loopback, the address the fabric announces: \
                         write `local-address \"{loopback}\"`, or leave it out"
                    ))
                }
                Unreachable::LocalNotOnLink { local, on_link } => {
                    let Some(la) = &s.local_address else { continue };
                    Diagnostic::error(
                        Code::BgpNumberedSource,
                        format!(
                            "BGP session to `{peer}` on a routed port goes from {local}, not from the node's address on that link{}",
                            set_in(rn, &format!("bgp.sessions.{peer}.local-address"))
                        ),
                    )
                    .label(la.span, "not on the link")
                    .help(format!(
                        "a single-hop session starts from the node's address on the link: write `local-address \"{on_link}\"`, or leave it out"
                    ))
                }
            };
            out.push(name, d);
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    /// r01-tor1 — r01-tor2 (the rack's pair), r01-tor1 — r02-tor1 —
    /// r03-tor1 (a chain of racks); the node is on r01-tor1 only.
    fn site(session: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; reserved "10.255.0.1-10.255.0.255"; }}
rack r01 {{ height 42; }}
rack r02 {{ height 42; }}
rack r03 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; link swp55 {{ peer r01-tor2; peer-port swp55; }}; link swp49 {{ peer r02-tor1; peer-port swp49; }} }}
switch r01-tor2 {{ rack r01; position 41; asn 4201000012; loopback4 "10.255.0.2"; ports swp1-56; }}
switch r02-tor1 {{ rack r02; position 42; asn 4201000021; loopback4 "10.255.0.3"; ports swp1-56; link swp50 {{ peer r03-tor1; peer-port swp50; }} }}
switch r03-tor1 {{ rack r03; position 42; asn 4201000031; loopback4 "10.255.0.4"; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1; loopback ipv4=auto
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    bgp asn=auto {{ session r01-tor1 interface=eno1; {session} }}
}}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| c.starts_with("SC063"))
            .collect()
    }

    #[test]
    fn a_session_to_another_rack_is_reported() {
        assert_eq!(
            site(r#"session r02-tor1 peer-address="10.255.0.3";"#),
            ["SC0636"]
        );
        assert_eq!(
            site(r#"session r03-tor1 peer-address="10.255.0.4";"#),
            ["SC0636"]
        );
    }

    #[test]
    fn the_own_switch_and_the_rack_pair_are_quiet() {
        assert!(site(r#"session r01-tor1 peer-address="10.255.0.1";"#)
            .iter()
            .all(|c| *c != "SC0636"));
        assert!(site(r#"session r01-tor2 peer-address="10.255.0.2";"#).is_empty());
    }
}
