//! Rule `bgp-node-no-session`: a node with a loopback and uplinks to BGP
//! switches, but no BGP session at all, among nodes like it that route.
//!
//! **What it does.** Reports (SC0634, a warning) a resolved node that
//! - has a loopback (`loopback` with an address, fixed or `auto`),
//! - has no BGP session (no `bgp` block, or one without `session`),
//! - has an *uplink*: an Ethernet interface cabled to a switch with an
//!   `asn` that carries no address, no VLAN and is in no bond (SC0621's
//!   notion of an idle uplink),
//! - and shares its `role` (a node without a role: one of its profiles)
//!   with another node that has BGP sessions.
//!
//! The last condition keeps a valid design quiet: a site whose nodes of
//! that kind do not route (a loopback for local services, static routing
//! done elsewhere) has no node of the same role or profile with sessions.
//! SC0621 covers the node with sessions and an idle uplink; this rule the
//! node with none.
//!
//! **Why it matters.** The `loopback` block gives the addresses announced
//! in BGP. A node with no session announces nothing: its loopback is
//! unreachable from the rest of the site and the node learns no fabric
//! route over its uplinks, while `check` is green. The usual cause is a
//! `bgp` block left out: a stub pasted for an adopted machine, a node
//! moved off the profile that carried it.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { role compute; loopback ipv4=auto; interface eno1 { switch r01-tor1; port swp1; }
//!               bgp { session r01-tor1 interface=eno1; } }
//! node r01n02 { role compute; loopback ipv4=auto; interface eno1 { switch r01-tor1; port swp2; } }   // SC0634
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::{switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{InterfaceKind, Settings};

pub static RULE: Rule = Rule {
    name: "bgp-node-no-session",
    codes: &[Code::BgpNodeNoSession],
    check,
    resolved: true,
};

fn has_sessions(st: &Settings) -> bool {
    st.bgp.as_ref().is_some_and(|b| !b.sessions.is_empty())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let switches = switch_index(site);
    // Roles and profiles of nodes that route, with one such node each (for
    // the message).
    let mut routing_roles: BTreeMap<&str, &str> = BTreeMap::new();
    let mut routing_profiles: BTreeMap<&str, &str> = BTreeMap::new();
    for rn in &rs.nodes {
        if !has_sessions(&rn.settings) {
            continue;
        }
        let node = &site.nodes[rn.index];
        if let Some(r) = &node.role {
            routing_roles
                .entry(r.as_str())
                .or_insert(node.name.as_str());
        }
        for p in &rn.profiles {
            routing_profiles
                .entry(p.as_str())
                .or_insert(node.name.as_str());
        }
    }
    if routing_roles.is_empty() && routing_profiles.is_empty() {
        return;
    }
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let st = &rn.settings;
        if has_sessions(st) {
            continue;
        }
        let Some(lo) = &st.loopback else { continue };
        if lo.ipv4.is_none() && lo.ipv6.is_none() {
            continue;
        }
        let node = &site.nodes[rn.index];
        // Why this node should route: a node of its role, else of one of
        // its profiles, that does.
        let like = match &node.role {
            Some(r) => routing_roles
                .get(r.as_str())
                .map(|n| (format!("role `{}`", r.value), *n)),
            None => rn.profiles.iter().find_map(|p| {
                routing_profiles
                    .get(p.as_str())
                    .map(|n| (format!("profile `{p}`"), *n))
            }),
        };
        let Some((kind, other)) = like else { continue };
        let uplink = st.interfaces.iter().find(|i| {
            let kind = i.kind.as_ref().map(|k| k.value);
            if !matches!(kind, None | Some(InterfaceKind::Ethernet)) || i.kind_invalid {
                return false;
            }
            let Some(sw) = &i.switch else { return false };
            let bgp_switch = switches
                .get(sw.as_str())
                .is_some_and(|&k| site.switches[k].asn.is_some());
            let name = i.name.as_str();
            let carries = st
                .addresses
                .iter()
                .any(|a| a.interface.as_ref().is_some_and(|x| x.value == name))
                || st.interfaces.iter().any(|o| {
                    o.link.as_ref().is_some_and(|l| l.value == name)
                        || o.members.iter().any(|m| m.value == name)
                });
            bgp_switch && !carries
        });
        let Some(up) = uplink else { continue };
        let sw = up.switch.as_ref().expect("cabled");
        let lo_span = lo
            .ipv4
            .as_ref()
            .map(|a| a.span)
            .or(lo.ipv6.as_ref().map(|a| a.span))
            .expect("an address");
        out.push(
            node.name.as_str(),
            Diagnostic::warning(
                Code::BgpNodeNoSession,
                format!(
                    "the node has a loopback and an uplink `{}` cabled to BGP switch `{}`, but no BGP session, while `{other}`, of the same {kind}, has sessions: it announces nothing, so its loopback is unreachable from the rest of the site and it learns no route into the fabric",
                    up.name.value, sw.value
                ),
            )
            .label(lo_span, "announced by nothing")
            .label(sw.span, format!("`{}` is cabled to `{}` here, with no session", up.name.value, sw.value))
            .help(format!(
                "add a `bgp` block with its sessions (`bgp asn=auto {{ session {} interface={}; }}`), as `{other}` has; if this node is not meant to route, remove its `loopback`",
                sw.value, up.name.value
            )),
        );
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(n2: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; reserved "10.255.0.1-10.255.0.255"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1; role compute; loopback ipv4=auto
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    bgp asn=auto {{ session r01-tor1 interface=eno1; }}
}}
node r01n02 {{
    rack r01; position 2; loopback ipv4=auto
    interface eno1 {{ mac "52:54:00:01:02:01"; switch r01-tor1; port swp2; }}
    {n2}
}}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0634").count()
    }

    #[test]
    fn a_node_like_routing_ones_without_a_session() {
        assert_eq!(site("role compute;"), 1);
        // It routes.
        assert_eq!(
            site("role compute; bgp asn=auto { session r01-tor1 interface=eno1; }"),
            0
        );
        // No node of its role routes: a design, not a slip.
        assert_eq!(site("role storage;"), 0);
        assert_eq!(site(""), 0);
        // The cable carries its management address: not an uplink.
        assert_eq!(
            site(r#"role compute; address mgmt interface=eno1 ipv4="10.0.0.10";"#),
            0
        );
    }
}
