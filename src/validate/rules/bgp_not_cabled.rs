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
use crate::model::{Interface, InterfaceKind};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "bgp-not-cabled",
    codes: &[Code::BgpNotCabled],
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
