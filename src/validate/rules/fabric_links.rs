//! Rule `fabric-links`: switch-to-switch links that leave the fabric
//! broken.
//!
//! **What it does.**
//! - SC0618: a switch `link` whose `peer` is the switch itself.
//! - SC0637: a link between a switch with an `asn` and one without: once
//!   per switch without `asn`, at its first such link, naming the BGP
//!   switches it is linked to.
//! - SC0619: BGP switches (those with an `asn`) that no chain of declared
//!   switch-to-switch links joins to a switch holding an external BGP peer
//!   (`bgp-peer … switches`): each such island is named, once.
//!
//! A site without external peers is not weighed: there, nodes cabled to
//! two groups of switches carry their traffic between them (a rack's two
//! ToRs without a link between them is a common layer-3 design).
//!
//! A link declared at one end only still joins (SC0203 and friends speak
//! of the missing end); a link to an undeclared switch is SC0202's. Nodes
//! never join two islands: a node announces only its own loopback. The
//! islands are a union-find over the links, linear in the site's links.
//!
//! **Why it matters.** A BGP switch opens an unnumbered FABRIC session on
//! every port it has a `link` on; a peer without `asn` gets no FRR config
//! at all (no output for it), so those sessions never come up and nothing
//! is routed across the link, while `check` was green.
//! A self-link puts FRR neighbours on both ports that
//! are the switch itself, and the cable is an L2 loop. An island learns no
//! default route and none of the fabric's loopbacks, and nothing outside
//! reaches its loopbacks or nodes, while `check` is green: usually the
//! `link` lines between two racks were deleted or mistyped.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { link swp53 { peer r01-tor1; peer-port swp54 } }   // SC0618
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::name_list;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "fabric-links",
    codes: &[
        Code::SwitchLinkToSelf,
        Code::FabricNoExit,
        Code::SwitchLinkNoBgp,
    ],
    check,
    resolved: false,
};

/// Union-find over switch indices, with path halving and union by size.
struct Islands {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Islands {
    fn new(n: usize) -> Islands {
        Islands {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let n = site.switches.len();
    // The first declaration of each name (a second is SC0101's).
    let first = |i: usize| cx.index.switches.get(site.switches[i].name.as_str()) == Some(&i);
    let mut islands = Islands::new(n);
    // Switch without `asn` → its links to BGP switches: (span of the
    // `peer` written, the BGP switch, its port), the first declaration of
    // each cable.
    let mut no_bgp: BTreeMap<usize, Vec<(Span, usize, &str)>> = BTreeMap::new();
    for (i, s) in site.switches.iter().enumerate() {
        if !first(i) {
            continue;
        }
        // A cable from the switch to itself, declared at both ends, is one
        // finding.
        let mut selfs: Vec<(&str, &str)> = Vec::new();
        for l in &s.links {
            if l.peer.value == s.name.value {
                let (p, q) = (l.port.as_str(), l.peer_port.as_str());
                if selfs.contains(&(q, p)) {
                    continue;
                }
                selfs.push((p, q));
                diags.push(
                    Diagnostic::error(
                        Code::SwitchLinkToSelf,
                        format!(
                            "switch `{}` port `{}` is linked to the switch itself (port `{}`)",
                            s.name.value, l.port.value, l.peer_port.value
                        ),
                    )
                    .label(l.peer.span, "the switch's own name")
                    .help("FRR would open a fabric session from the switch to itself, which never establishes, and the cable is an L2 loop: name the switch at the other end of the cable"),
                );
                continue;
            }
            if let Some(&j) = cx.index.switches.get(l.peer.as_str()) {
                islands.union(i, j);
                // One end runs BGP, the other does not (an `asn` that is
                // not one is already reported).
                let (a, b) = (&site.switches[i], &site.switches[j]);
                if a.asn_invalid || b.asn_invalid || a.asn.is_some() == b.asn.is_some() {
                    continue;
                }
                let (quiet, bgp, bgp_port) = if a.asn.is_none() {
                    (i, j, l.peer_port.as_str())
                } else {
                    (j, i, l.port.as_str())
                };
                // A cable declared on both ends is pointed at on the
                // switch without `asn`, where the fix goes.
                let seen = no_bgp.entry(quiet).or_default();
                match seen
                    .iter_mut()
                    .find(|(_, k, p)| *k == bgp && *p == bgp_port)
                {
                    Some(e) if quiet == i => e.0 = l.peer.span,
                    Some(_) => {}
                    None => seen.push((l.peer.span, bgp, bgp_port)),
                }
            }
        }
    }
    for (quiet, mut links) in no_bgp {
        links.sort_by_key(|&(_, k, p)| (k, p));
        no_bgp_links(cx, quiet, &links, diags);
    }
    // BGP switches only: a switch without `asn` routes nothing.
    let bgp: Vec<usize> = (0..n)
        .filter(|&i| first(i) && site.switches[i].asn.is_some())
        .collect();
    if bgp.len() < 2 {
        return;
    }
    // Island root → its BGP switches, in declaration order.
    let mut members: BTreeMap<usize, Vec<usize>> = Default::default();
    for &i in &bgp {
        let r = islands.find(i);
        members.entry(r).or_default().push(i);
    }
    if members.len() < 2 {
        return;
    }
    let holders: Vec<usize> = site
        .bgp_peers
        .iter()
        .flat_map(|p| &p.switches)
        .filter_map(|w| cx.index.switches.get(w.as_str()).copied())
        .filter(|&i| site.switches[i].asn.is_some())
        .collect();
    let names = |v: &[usize]| name_list(v.iter().map(|&i| site.switches[i].name.as_str()), 5);
    let mut islands_list: Vec<&Vec<usize>> = members.values().collect();
    islands_list.sort_by_key(|v| v[0]);
    if holders.is_empty() {
        return;
    }
    {
        let mut exits: Vec<usize> = holders.clone();
        exits.sort_unstable();
        exits.dedup();
        let exit_roots: Vec<usize> = exits.iter().map(|&i| islands.find(i)).collect();
        for isl in islands_list {
            if exit_roots.contains(&islands.find(isl[0])) {
                continue;
            }
            let s = &site.switches[isl[0]];
            let mut d = Diagnostic::error(
                Code::FabricNoExit,
                format!(
                    "{} {} joined by no chain of switch-to-switch `link`s to the switches holding the external BGP peers ({}): an island with no default route, whose loopbacks and nodes nothing else reaches",
                    if isl.len() == 1 { "switch" } else { "switches" },
                    if isl.len() == 1 { format!("{} is", names(isl)) } else { format!("{} are", names(isl)) },
                    names(&exits)
                ),
            )
            .label(s.name.span, "in the island");
            for &i in isl.iter().skip(1).take(2) {
                d = d.label(site.switches[i].name.span, "in the island");
            }
            // Name switches of this site: one of the island's, one it
            // should reach.
            let to = exits
                .first()
                .map(|&i| site.switches[i].name.value.as_str())
                .unwrap_or("SWITCH");
            diags.push(d.help(format!(
                "declare the `link` (on both ends) that cables this island to the rest of the fabric, e.g. in switch `{}`: `link PORT {{ peer {to}; peer-port PEER-PORT }}`, and the matching `link` in `{to}`",
                s.name.value
            )));
        }
    }
}

/// SC0637: switch `quiet` has no `asn` and is linked to the BGP switches
/// of `links`.
fn no_bgp_links(cx: &Ctx, quiet: usize, links: &[(Span, usize, &str)], diags: &mut Diagnostics) {
    let site = cx.site;
    let sw = &site.switches[quiet];
    let name = sw.name.as_str();
    let ends: Vec<String> = links
        .iter()
        .map(|&(_, k, p)| format!("`{}` (port `{p}`)", site.switches[k].name.value))
        .collect();
    let (first_bgp, first_port) = (site.switches[links[0].1].name.as_str(), links[0].2);
    let mut d = Diagnostic::error(
        Code::SwitchLinkNoBgp,
        format!(
            "switch `{name}` has no `asn`, so it runs no BGP, but it is `link`ed to BGP {} {}: {} an unnumbered fabric session on its port (`neighbor {first_port} interface peer-group FABRIC` on `{first_bgp}`) that `{name}`, which gets no FRR configuration at all, never answers, so {} down and no route crosses {}",
            if links.len() == 1 { "switch" } else { "switches" },
            crate::diag::and_list(&ends, 4),
            if links.len() == 1 { "it opens" } else { "each opens" },
            if links.len() == 1 { "the session stays" } else { "the sessions stay" },
            if links.len() == 1 { "the link" } else { "these links" },
        ),
    )
    .label(sw.name.span, "declared without `asn`")
    .label(
        links[0].0,
        format!("the `link` between `{name}` and BGP switch `{first_bgp}`"),
    );
    if let Some(&(span, k, _)) = links.get(1) {
        d = d.label(
            span,
            format!(
                "and the one to BGP switch `{}`",
                site.switches[k].name.value
            ),
        );
    }
    let needs = if sw.loopback4.is_some() {
        "an `asn` (unique in the site and outside `asn-pool`); its `loopback4` becomes its router-id"
    } else {
        "an `asn` (unique in the site and outside `asn-pool`) and a `loopback4` in the loopback network (its router-id, announced in the fabric)"
    };
    diags.push(d.help(format!(
        "give switch `{name}` {needs}; a switch that is not meant to route must not be `link`ed to BGP switches: remove those `link`s (on both ends)"
    )));
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(links: &str, peers: bool) -> Vec<&'static str> {
        let peer = if peers {
            "bgp-peer transit-a { asn 64496; address \"10.9.9.1\"; multihop 2; switches r01-tor1; }"
        } else {
            ""
        };
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; {links} }}
switch r02-tor1 {{ rack r01; position 41; asn 4201000021; loopback4 "10.255.0.2"; ports swp1-56; }}
switch r03-tor1 {{ rack r01; position 40; asn 4201000031; loopback4 "10.255.0.3"; ports swp1-56; link swp49 {{ peer r02-tor1; peer-port swp50; }} }}
{peer}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| matches!(*c, "SC0618" | "SC0619"))
            .collect()
    }

    #[test]
    fn islands_and_self_links() {
        let joined = "link swp49 { peer r02-tor1; peer-port swp50; }";
        assert!(site(joined, true).is_empty());
        // r02-tor1 and r03-tor1 form one island, named once.
        assert_eq!(site("", true), ["SC0619"]);
        // The hint names switches of the site: the island's and an exit.
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network loopback { purpose loopback; ipv4 "10.255.0.0/16"; }
rack r01 { height 42; }
switch a-tor { rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; }
switch b-tor { rack r01; position 41; asn 4201000021; loopback4 "10.255.0.2"; ports swp1-56; }
bgp-peer transit-a { asn 64496; address "10.9.9.1"; multihop 2; switches a-tor; }
"#;
        let d = super::super::testing::check_kdl(text);
        let help = d
            .iter()
            .find(|d| d.code.as_str() == "SC0619")
            .and_then(|d| d.help.clone())
            .unwrap();
        assert!(
            help.contains("switch `b-tor`") && help.contains("peer a-tor;"),
            "{help}"
        );
        assert!(!help.contains("r03"), "{help}");
        // Without external peers, nothing is weighed.
        assert!(site("", false).is_empty());
        let me = "link swp53 { peer r01-tor1; peer-port swp54; }";
        assert_eq!(site(&format!("{joined}; {me}"), true), ["SC0618"]);
    }

    #[test]
    fn a_link_to_a_switch_without_asn_is_named_once_per_switch() {
        let text = |spine_asn: &str, tor2_link: &str| {
            format!(
                r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; }}
switch r01-tor2 {{ rack r01; position 41; asn 4201000012; loopback4 "10.255.0.2"; ports swp1-56; {tor2_link} }}
switch spine1 {{ rack r01; position 40; {spine_asn} loopback4 "10.255.0.10"; ports swp1-32; link swp1 {{ peer r01-tor1; peer-port swp53; }}; link swp2 {{ peer r01-tor2; peer-port swp53; }} }}
"#
            )
        };
        let n = |t: &str| codes(t).into_iter().filter(|c| *c == "SC0637").count();
        // Linked from the spine only, and from both ends: one finding.
        assert_eq!(n(&text("", "")), 1);
        let back = "link swp53 { peer spine1; peer-port swp2; }";
        assert_eq!(n(&text("", back)), 1);
        let d = super::super::testing::check_kdl(&text("", back));
        let d = d.iter().find(|d| d.code.as_str() == "SC0637").unwrap();
        assert!(
            d.message
                .contains("`r01-tor1` (port `swp53`) and `r01-tor2` (port `swp53`)"),
            "{}",
            d.message
        );
        // Pointed at the switch declared without `asn`, the links after.
        let t = text("", back);
        let at = t.find("switch spine1 {").unwrap() + "switch ".len();
        assert_eq!(d.labels[0].span.start as usize, at);
        assert_eq!(d.labels[0].message, "declared without `asn`");
        // With an `asn`, the fabric is whole.
        assert_eq!(n(&text("asn 4201000100;", back)), 0);
        // Two switches without BGP linked to each other: nothing to say.
        let l2 = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
switch a { rack r01; position 42; ports swp1-4; link swp1 { peer b; peer-port swp1; } }
switch b { rack r01; position 41; ports swp1-4; }
"#;
        assert_eq!(n(l2), 0);
    }
}
