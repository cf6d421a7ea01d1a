//! Rule `bond-legs-not-paired`: an aggregating bond split over switches
//! that cannot aggregate together.
//!
//! **What it does.** For each bond of a resolved node whose mode needs the
//! switch side to aggregate (`802.3ad`, `balance-rr` — the kernel's
//! default when no mode is given — `balance-xor`, `broadcast`), takes the
//! switches its members are cabled to. When they are two or more, every
//! two of them must be a *pair*: switches with a `link` declared between
//! them (either side), as the MLAG peer link of two ToRs is. Otherwise it
//! reports (SC0507, a warning) at the cable of the first member on an
//! unpaired switch, with the other member's and the bond. A leg on another
//! rack's switch is left to SC0506.
//! Modes that need nothing from the switches (`active-backup`,
//! `balance-tlb`, `balance-alb`) are not checked.
//!
//! **Why it matters.** Two independent switches each see half of an LACP
//! bond as a separate partner: LACP never bundles the links (or, with
//! static modes, frames arrive on both and MAC tables flap). The bond
//! "works" on one leg, so the loss of redundancy goes unnoticed until that
//! switch reboots. Usually a member is cabled to the wrong switch (another
//! rack's ToR), or the peer link was never declared.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { link swp55 { peer r01-tor2; peer-port swp55; } … }
//! node r01n01 {
//!     interface ens1f0 { switch r01-tor1; port swp57; … }
//!     interface ens1f1 { switch r02-tor2; port swp57; … }   // not r01-tor1's pair
//!     interface bond0 { kind bond; members ens1f0 ens1f1; mode "802.3ad"; }   // SC0507
//! }
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::{closest, interface, set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::InterfaceKind;

pub static RULE: Rule = Rule {
    name: "bond-legs-not-paired",
    codes: &[Code::BondLegsNotPaired],
    check,
    resolved: true,
};

/// Bond modes in which the switches need not know of the bond.
const INDEPENDENT: &[&str] = &["active-backup", "balance-tlb", "balance-alb"];

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let switches = switch_index(site);
    // Pairs of switches with a link between them, by name (smaller first).
    let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    // A link to a switch that is not declared (SC0202) counts as a link to
    // the switch its name is closest to: that typo is the finding.
    let names: Vec<&str> = site.switches.iter().map(|s| s.name.as_str()).collect();
    for sw in &site.switches {
        for l in &sw.links {
            let a = sw.name.as_str();
            let b = if switches.contains_key(l.peer.as_str()) {
                l.peer.as_str()
            } else {
                match closest(l.peer.as_str(), names.iter().copied()) {
                    Some(c) => c,
                    None => continue,
                }
            };
            pairs.insert(if a <= b { (a, b) } else { (b, a) });
        }
    }
    let paired = |a: &str, b: &str| a == b || pairs.contains(&if a <= b { (a, b) } else { (b, a) });
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        for bond in &rn.settings.interfaces {
            if bond.kind.as_ref().map(|k| k.value) != Some(InterfaceKind::Bond) {
                continue;
            }
            if bond
                .bond_mode
                .as_ref()
                .is_some_and(|m| INDEPENDENT.contains(&m.as_str()))
            {
                continue;
            }
            // Each member's switch, in member order (declared switches only:
            // an unknown one is SC0202's).
            let legs: Vec<(&str, &crate::model::Sp<String>)> = bond
                .members
                .iter()
                .filter_map(|m| interface(rn, m))
                .filter_map(|m| m.switch.as_ref().map(|s| (m.name.as_str(), s)))
                .filter(|(_, s)| switches.contains_key(s.as_str()))
                .collect();
            let mut bad: Option<(usize, usize)> = None;
            'outer: for a in 0..legs.len() {
                for b in a + 1..legs.len() {
                    if !paired(legs[a].1.as_str(), legs[b].1.as_str()) {
                        bad = Some((a, b));
                        break 'outer;
                    }
                }
            }
            let Some((a, b)) = bad else { continue };
            // A leg cabled to another rack's switch is SC0506's finding.
            let node_rack = site.nodes[rn.index]
                .placement
                .as_ref()
                .map(|p| p.rack.as_str());
            let elsewhere = legs.iter().any(|(_, s)| {
                switches
                    .get(s.as_str())
                    .and_then(|&i| site.switches[i].placement.as_ref())
                    .is_some_and(|p| Some(p.rack.as_str()) != node_rack)
            });
            if elsewhere && node_rack.is_some() {
                continue;
            }
            let (ma, sa) = legs[a];
            let (mb, sb) = legs[b];
            let mode = bond
                .bond_mode
                .as_ref()
                .map(|m| format!("`{}`", m.value))
                .unwrap_or_else(|| "`balance-rr` (no `mode`)".to_string());
            out.push(
                name,
                Diagnostic::warning(
                    Code::BondLegsNotPaired,
                    format!(
                        "bond `{}` ({mode}) has members on switches `{}` and `{}`, which are not a pair{}",
                        bond.name.value,
                        sa.value,
                        sb.value,
                        set_in(rn, &format!("interfaces.{}.members", bond.name.value))
                    ),
                )
                .label(sb.span, format!("`{mb}` on `{}`", sb.value))
                .label(sa.span, format!("`{ma}` on `{}`", sa.value))
                .label(bond.name.span, "one aggregate over two unrelated switches")
                .help(format!(
                    "cable both members to one switch or to a pair (declare the peer link: `link swpN {{ peer {}; peer-port swpN; }}` on `{}`), or use `mode \"active-backup\"`",
                    sb.value, sa.value
                )),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(link: &str, mode: &str) -> String {
        format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-56; {link} }}
switch r01-tor2 {{ rack r01; position 41; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor2; port swp1; }}
    interface bond0 {{ kind bond; members eno1 eno2; {mode} }}
}}
"#
        )
    }

    #[test]
    fn lacp_over_unpaired_switches_warns() {
        let n = |s: String| codes(&s).iter().filter(|c| **c == "SC0507").count();
        assert_eq!(n(site("", r#"mode "802.3ad";"#)), 1);
        assert_eq!(n(site("", "")), 1);
        assert_eq!(n(site("", r#"mode "active-backup";"#)), 0);
        let link = "link swp55 { peer r01-tor2; peer-port swp55; }";
        assert_eq!(n(site(link, r#"mode "802.3ad";"#)), 0);
    }
}
