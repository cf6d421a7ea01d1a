//! Rule `node-loopback`: a node that runs BGP without an IPv4 loopback.
//!
//! **What it does.** Reports (SC0615) a node with BGP sessions whose
//! resolved settings give it no IPv4 loopback (`loopback ipv4=…`, fixed or
//! `auto`), typically an IPv6-only fabric (`loopback ipv6=auto` alone).
//! Folded per declaration: a site default or a profile that leaves it out
//! is one finding naming the nodes.
//!
//! **Why it matters.** FRR takes a node's BGP router-id from its IPv4
//! loopback. Without one it has no IPv4 address to pick on a BGP-only host,
//! uses 0.0.0.0, and its sessions never establish; `fabric.json` would
//! carry `loopback4: null`, which its schema refuses. The switches' side
//! is SC0610. (Found by the soundness property test: an IPv6-only fabric
//! passed `check` and built.)
//!
//! **Example.**
//! ```kdl
//! site dc1 { defaults { loopback ipv6=auto; bgp asn=auto } }   // SC0615 on every node with sessions
//! ```

use super::super::{Ctx, Rule};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "node-loopback",
    codes: &[Code::NodeNoLoopback],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    // A node whose profile is unknown, or whose defaults are in a broken
    // file or a second site block, may be missing the loopback only
    // because of that one finding.
    let gaps = super::Gaps::new(cx);
    for rn in &rs.nodes {
        let node = &cx.site.nodes[rn.index];
        if gaps.node(cx, node) {
            continue;
        }
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        if bgp.sessions.is_empty() {
            continue;
        }
        let lo = rn.settings.loopback.as_ref();
        if lo.is_some_and(|l| l.ipv4.is_some()) {
            continue;
        }
        // Point at the loopback that lacks IPv4 where there is one (the
        // site default or profile to fix), else at the BGP block.
        let d = match lo {
            Some(l) => Diagnostic::error(
                Code::NodeNoLoopback,
                "runs BGP but its loopback has no IPv4 address (the BGP router-id)",
            )
            .label(l.span, "no `ipv4` in this loopback"),
            None => Diagnostic::error(
                Code::NodeNoLoopback,
                "runs BGP but has no loopback: no IPv4 address for the BGP router-id",
            )
            .label(bgp.span, "BGP sessions, but no `loopback`"),
        };
        let d = d.help(
            "add `ipv4=auto` (or a fixed address) to the loopback, e.g. `loopback ipv4=auto ipv6=auto` in the site defaults: FRR takes the router-id from it, even on an IPv6-only fabric",
        );
        out.push(node.name.as_str(), d);
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use crate::diag::Code;

    #[test]
    fn a_node_with_sessions_needs_an_ipv4_loopback() {
        let site = |lo: &str| {
            format!(
                r#"site dc1 {{ domain "dc1.example.net"; dns-servers "2001:db8::53"; asn-pool "4200000000-4200999999"; defaults {{ {lo} bgp asn=auto }} }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; ipv6 "2001:db8:0:ff00::/64"; reserved "10.255.0.1-10.255.0.255" "2001:db8:0:ff00::1-2001:db8:0:ff00::ff" }}
rack r01 {{ position 1 }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; loopback6 "2001:db8:0:ff00::1"; ports swp1-48 }}
node r01n01 {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1 }}; bgp {{ session r01-tor1 interface=eno1 }} }}
node r01n02 {{ rack r01; position 2; interface eno1 {{ mac "52:54:00:01:02:01"; switch r01-tor1; port swp2 }}; bgp {{ session r01-tor1 interface=eno1 }} }}
"#
            )
        };
        let found = |lo: &str| {
            check_kdl(&site(lo))
                .into_iter()
                .filter(|d| d.code == Code::NodeNoLoopback)
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        assert!(found("loopback ipv4=auto ipv6=auto;").is_empty());
        let v6 = found("loopback ipv6=auto;");
        assert_eq!(v6.len(), 1, "one finding for the site default: {v6:?}");
        assert!(v6[0].starts_with("2 nodes"), "{v6:?}");
        let none = found("");
        assert_eq!(none.len(), 1, "folded at the inherited bgp block: {none:?}");
        assert!(none[0].contains("has no loopback"), "{none:?}");
    }
}
