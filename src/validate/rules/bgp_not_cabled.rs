//! Rule `bgp-not-cabled`: an unnumbered session over an interface that does
//! not lead to the session's switch.
//!
//! **What it does.** Reports (SC0606) an unnumbered BGP session (`session
//! SWITCH interface=IF`) where `IF` is not cabled to `SWITCH`: neither the
//! interface itself, nor — for a bond — any of its members, nor — for a
//! VLAN — its parent. The hint names the interface that is cabled to that
//! switch, if there is one.
//!
//! **Why it matters.** An unnumbered session talks IPv6 link-local over
//! the wire: over a cable to another switch it reaches the wrong router or
//! nothing at all, and the session stays down.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     interface eno1 { switch r01-tor1; port swp1; }
//!     interface eno2 { switch r01-tor2; port swp1; }
//!     bgp asn=auto { session r01-tor1 interface=eno2; }   // SC0606: eno2 goes to r01-tor2
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{interface, set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::routing::{unnumbered_port, NoPort};
use crate::model::{Interface, InterfaceKind, Sp};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "bgp-not-cabled",
    codes: &[Code::BgpNotCabled, Code::BgpSessionNotAPort],
    check,
    resolved: true,
};

/// VLAN-on-bond-on-member is three steps; anything deeper is not real.
const MAX_DEPTH: usize = 8;

/// Whether an interface reaches `switch` over a cable: directly, through a
/// bond member, or through a VLAN's parent.
fn reaches(rn: &ResolvedNode, i: &Interface, switch: &str, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if i.switch.as_ref().is_some_and(|s| s.value == switch) {
        return true;
    }
    let kind = i
        .kind
        .as_ref()
        .map(|k| k.value)
        .unwrap_or(InterfaceKind::Ethernet);
    match kind {
        InterfaceKind::Bond => i
            .members
            .iter()
            .filter_map(|m| interface(rn, m))
            .any(|m| reaches(rn, m, switch, depth + 1)),
        InterfaceKind::Vlan => i
            .link
            .as_ref()
            .and_then(|l| interface(rn, l))
            .is_some_and(|p| reaches(rn, p, switch, depth + 1)),
        InterfaceKind::Ethernet => false,
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let switches = switch_index(cx.site);
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        for s in &bgp.sessions {
            let Some(ifname) = &s.interface else { continue };
            let peer = s.peer.as_str();
            // Unknown switches and interfaces are reported by their own rules.
            if !switches.contains_key(peer) {
                continue;
            }
            let Some(i) = interface(rn, ifname) else {
                continue;
            };
            // Its `kind` is a typo (reported): a bond is cabled through
            // its members, which are unknown until it is fixed.
            if i.kind_invalid {
                continue;
            }
            // Cabled to a switch that is not declared: SC0202 names the
            // typo; whether this session is wrong is known once it is fixed.
            if i.switch
                .as_ref()
                .is_some_and(|s| !switches.contains_key(s.as_str()))
            {
                continue;
            }
            if s.peer_address.is_none() {
                // The decision rendering takes: the switch's end of an
                // unnumbered session is the port the interface's own cable
                // ends on.
                match unnumbered_port(&rn.settings.interfaces, &ifname.value, peer) {
                    Ok(_) | Err(NoPort::Unknown) => continue,
                    Err(NoPort::NotAPort(kind)) => {
                        out.push(name, not_a_port(rn, i, kind, ifname, peer));
                        continue;
                    }
                    Err(NoPort::NotCabled) => {}
                }
            }
            if reaches(rn, i, peer, 0) {
                continue;
            }
            let mut d = Diagnostic::error(
                Code::BgpNotCabled,
                format!(
                    "unnumbered BGP session to `{peer}` runs over `{}`, which is not cabled to `{peer}`{}",
                    ifname.value,
                    set_in(rn, &format!("bgp.sessions.{peer}.interface"))
                ),
            );
            d = match &i.switch {
                Some(other) => d
                    .label(ifname.span, format!("`{}` leads elsewhere", ifname.value))
                    .label(
                        other.span,
                        format!("`{}` is cabled to `{}`", ifname.value, other.value),
                    ),
                None => d.label(
                    ifname.span,
                    format!("`{}` is not cabled to any switch", ifname.value),
                ),
            };
            let right = rn
                .settings
                .interfaces
                .iter()
                .find(|x| x.switch.as_ref().is_some_and(|s| s.value == peer));
            d = d.help(match right {
                Some(r) => format!("`{}` is the interface cabled to `{peer}`: write `interface={}`", r.name.value, r.name.value),
                None => format!("no interface of this node is cabled to `{peer}`: fix the cabling, or the session's switch"),
            });
            out.push(name, d);
        }
    }
    out.finish(diags);
}

/// The Ethernet interfaces under a bond or VLAN (members, parent, a
/// parent's members) cabled to `switch`.
fn ports_under<'a>(
    rn: &'a ResolvedNode,
    i: &'a Interface,
    switch: &str,
    depth: usize,
    out: &mut Vec<&'a str>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let kind = i
        .kind
        .as_ref()
        .map(|k| k.value)
        .unwrap_or(InterfaceKind::Ethernet);
    let under: Vec<&Sp<String>> = match kind {
        InterfaceKind::Bond => i.members.iter().collect(),
        InterfaceKind::Vlan => i.link.iter().collect(),
        InterfaceKind::Ethernet => {
            if i.switch.as_ref().is_some_and(|s| s.value == switch)
                && !out.contains(&i.name.as_str())
            {
                out.push(i.name.as_str());
            }
            return;
        }
    };
    for u in under {
        if let Some(x) = interface(rn, u) {
            ports_under(rn, x, switch, depth + 1, out);
        }
    }
}

/// SC0635: an unnumbered session over a bond or VLAN.
fn not_a_port(
    rn: &ResolvedNode,
    i: &Interface,
    kind: InterfaceKind,
    ifname: &Sp<String>,
    peer: &str,
) -> Diagnostic {
    let what = match kind {
        InterfaceKind::Bond => "a bond",
        _ => "a VLAN",
    };
    let n = &ifname.value;
    let mut d = Diagnostic::error(
        Code::BgpSessionNotAPort,
        format!(
            "unnumbered BGP session to `{peer}` runs over `{n}`, {what}, not a cabled port: `{peer}` names an unnumbered \
             neighbour by the port it is cabled on, and {what} has none, so the switch gets no session for this node and \
             its BGP stays down{}",
            set_in(rn, &format!("bgp.sessions.{peer}.interface"))
        ),
    )
    .label(ifname.span, format!("{what}, not a port"));
    if let Some(k) = &i.kind {
        d = d.label(k.span, format!("`{n}` is {what}"));
    }
    let mut ports = Vec::new();
    ports_under(rn, i, peer, 0, &mut ports);
    let alt = format!("or make the session numbered (`peer-address` of `{peer}`'s loopback, or of a routed port of it)");
    // A VLAN on a bond is carried by the bond's members.
    let bonded = kind == InterfaceKind::Bond
        || i.link
            .as_ref()
            .and_then(|l| interface(rn, l))
            .is_some_and(|p| {
                p.kind
                    .as_ref()
                    .is_some_and(|k| k.value == InterfaceKind::Bond)
            });
    d.help(match (bonded, ports.as_slice()) {
        (_, []) => format!(
            "run the session over the Ethernet interface cabled to `{peer}` (`interface=IF`), {alt}"
        ),
        (true, [p, ..]) => format!(
            "unnumbered BGP runs on each uplink on its own, and a bond member has no address: take the uplinks out of the \
             bond and run one session per uplink, each to the switch it is cabled to (`session {peer} interface={p}`), {alt}"
        ),
        (_, [p, ..]) => format!(
            "run the session over the port itself (`session {peer} interface={p}`: the switch's end is an untagged \
             port), {alt}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(node: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; reserved "10.255.0.1-10.255.0.255"; }}
network storage {{ purpose storage; ipv4 "10.1.0.0/24"; vlan 200; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; mlag-peer r01-tor2; }}
switch r01-tor2 {{ rack r01; position 41; asn 4201000012; loopback4 "10.255.0.2"; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1; loopback ipv4=auto
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor2; port swp1; }}
    {node}
}}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| *c == "SC0635" || *c == "SC0606")
            .collect()
    }

    #[test]
    fn a_session_over_a_bond_or_vlan_is_no_port() {
        let bond = site(
            r#"interface up0 { kind bond; members eno1 eno2; mode "802.3ad"; }
    bgp asn=auto { session r01-tor1 interface=up0; }"#,
        );
        assert_eq!(bond, ["SC0635"]);
        let vlan = site(
            r#"interface v200 { kind vlan; link eno1; vlan 200; }
    bgp asn=auto { session r01-tor1 interface=v200; session r01-tor2 interface=eno2; }"#,
        );
        assert_eq!(vlan, ["SC0635"]);
        // A VLAN on the bond: the same.
        let both = site(
            r#"interface up0 { kind bond; members eno1 eno2; mode "802.3ad"; }
    interface v200 { kind vlan; link up0; vlan 200; }
    bgp asn=auto { session r01-tor1 interface=v200; }"#,
        );
        assert_eq!(both, ["SC0635"]);
    }

    #[test]
    fn sessions_on_cabled_ports_are_quiet() {
        let ok = site(
            "bgp asn=auto { session r01-tor1 interface=eno1; session r01-tor2 interface=eno2; }",
        );
        assert!(ok.is_empty(), "{ok:?}");
        let swapped = site(
            "bgp asn=auto { session r01-tor1 interface=eno2; session r01-tor2 interface=eno1; }",
        );
        assert_eq!(swapped, ["SC0606", "SC0606"]);
    }
}
