//! Rule `bond-legs-not-paired`: an aggregating bond split over switches
//! that cannot aggregate together, and a bond over a switch pair that
//! gets no `mode`.
//!
//! **What it does.** For each bond of a resolved node whose mode needs the
//! switch side to aggregate (`802.3ad`, `balance-rr` — the kernel's
//! default when no mode is given — `balance-xor`, `broadcast`), takes the
//! switches its members are cabled to. When they are two or more, every
//! two of them must be a *pair*. siteconf writes no MLAG configuration
//! (and renders every `link`, a pair's peer link too, as a BGP FABRIC
//! session), so what is a pair is what the site says:
//!
//! - two switches one of which names the other in `mlag-peer` are a pair,
//!   whatever their racks and roles; a switch that has such a declaration
//!   (either side) is paired with that switch only;
//! - two switches without any declaration are taken for a pair by
//!   convention when they have the same `role`, are in the same rack and
//!   have a `link` between them (either side), as a rack's two ToRs and
//!   their peer link are in the sites `siteconf init` writes.
//!
//! Findings:
//!
//! - Legs on switches of different roles (a ToR and a spine, border or
//!   management switch) not declared a pair are an error (SC0514): the
//!   aggregate surely cannot form over both (see below).
//! - Otherwise legs on switches that are not a pair are a warning
//!   (SC0507): the pair may only be undeclared (`mlag-peer` is missing,
//!   or the convention's `link` is), or a member is cabled to the wrong
//!   switch. A leg on another rack's ToR with no link and no declaration
//!   is left to SC0506.
//! - A bond without `mode`, or with a static aggregating mode
//!   (`balance-rr`, `balance-xor`, `broadcast`), whose legs are on a pair
//!   is a warning (SC0513): netplan writes no `mode` (the kernel runs
//!   balance-rr) or the static one, and the pair (which site-format.md
//!   says to run as `802.3ad`) sees no LACP. A bond
//!   without `mode` on one switch is not reported: balance-rr towards one
//!   switch works with a static LAG on its ports, which the site files
//!   cannot describe either way, and a pair is where the documented
//!   contract (`802.3ad` behind an MLAG pair) is known to be broken.
//!
//! Modes that need nothing from the switches (`active-backup`,
//! `balance-tlb`, `balance-alb`) are not checked.
//!
//! **Why it matters.** Two independent switches each see half of an LACP
//! bond as a separate partner (different system ids): the Linux bond puts
//! the legs in two aggregators and uses one, and the other switch's LACP
//! port stays down, so the bond has no redundancy and the loss goes
//! unnoticed until that switch reboots. With static modes (balance-rr,
//! balance-xor, broadcast) frames go out of both legs: between a ToR and a
//! spine, whose ports are routed fabric ports that carry none of the
//! node's VLANs, a share of every flow is dropped; between two unpaired
//! ToRs the MAC tables flap. Usually a member is cabled to the wrong
//! switch, or the pair was never declared. And a pair that expects
//! LACP drops a balance-rr bond's frames or keeps its ports down: every
//! network on the bond is lost.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { link swp55 { peer r01-tor2; peer-port swp55; } … }
//! node r01n01 {
//!     interface ens1f0 { switch r01-tor1; port swp57; … }
//!     interface ens1f1 { switch spine1; port swp10; … }   // SC0514: a spine is no ToR's pair
//!     interface bond0 { kind bond; members ens1f0 ens1f1; mode "802.3ad"; }
//! }
//! node r01n02 {
//!     interface ens1f0 { switch r01-tor1; port swp58; … }
//!     interface ens1f1 { switch r01-tor2; port swp58; … }
//!     interface bond0 { kind bond; members ens1f0 ens1f1; }   // SC0513: no `mode`
//! }
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::mlag_peer::Pairs;
use super::{closest, interface, set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{InterfaceKind, Sp, Switch, SwitchRole};

pub static RULE: Rule = Rule {
    name: "bond-legs-not-paired",
    codes: &[
        Code::BondLegsNotPaired,
        Code::BondLegsAcrossRoles,
        Code::BondNoModeOnPair,
    ],
    check,
    resolved: true,
};

/// Bond modes in which the switches need not know of the bond.
const INDEPENDENT: &[&str] = &["active-backup", "balance-tlb", "balance-alb"];

/// Aggregating modes without LACP: the switches must bond the ports
/// statically (balance-rr is also the kernel's default).
const STATIC: &[&str] = &["balance-rr", "balance-xor", "broadcast"];

fn rack_of(sw: &Switch) -> Option<&str> {
    sw.placement.as_ref().map(|p| p.rack.as_str())
}

fn role_name(r: SwitchRole) -> &'static str {
    SwitchRole::ALL
        .iter()
        .find(|(_, x)| *x == r)
        .map(|(n, _)| *n)
        .unwrap_or("tor")
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let switches = switch_index(site);
    // Switches with a link between them, by name (smaller first).
    let mut linked: BTreeSet<(&str, &str)> = BTreeSet::new();
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
            linked.insert(if a <= b { (a, b) } else { (b, a) });
        }
    }
    let sw = |n: &str| &site.switches[switches[n]];
    let is_linked = |a: &str, b: &str| linked.contains(&if a <= b { (a, b) } else { (b, a) });
    // Same rack (unknown placement counts as the same: that is another
    // finding), same role, and a link between them: an MLAG pair.
    let same_rack = |a: &str, b: &str| match (rack_of(sw(a)), rack_of(sw(b))) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let same_role = |a: &str, b: &str| sw(a).role.value == sw(b).role.value;
    // Declared pairs (`mlag-peer`) first; the convention only between two
    // switches neither of which has a declaration.
    let declared = Pairs::new(site);
    let paired = |a: &str, b: &str| {
        a == b
            || declared.paired(a, b)
            || (!declared.declared(a)
                && !declared.declared(b)
                && is_linked(a, b)
                && same_rack(a, b)
                && same_role(a, b))
    };
    // Why two switches are no pair, in words that are true of the site.
    let why_not = |a: &str, b: &str| -> String {
        for (x, y) in [(a, b), (b, a)] {
            if let Some((p, _)) = declared.of(x).first() {
                return format!("`{x}`'s MLAG pair is `{p}` (`mlag-peer`), not `{y}`");
            }
        }
        match (rack_of(sw(a)), rack_of(sw(b))) {
            (Some(x), Some(y)) if x != y => format!(
                "they are in different racks ({x} and {y}) and no `mlag-peer` declares them a pair"
            ),
            _ if !same_role(a, b) => {
                "they have different roles and no `mlag-peer` declares them a pair".to_string()
            }
            _ => "no `mlag-peer` declares them a pair, and no `link` joins them".to_string(),
        }
    };
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
            let legs: Vec<(&str, &Sp<String>)> = bond
                .members
                .iter()
                .filter_map(|m| interface(rn, m))
                .filter_map(|m| m.switch.as_ref().map(|s| (m.name.as_str(), s)))
                .filter(|(_, s)| switches.contains_key(s.as_str()))
                .collect();
            let unpaired: Vec<(usize, usize)> = (0..legs.len())
                .flat_map(|a| (a + 1..legs.len()).map(move |b| (a, b)))
                .filter(|&(a, b)| !paired(legs[a].1.as_str(), legs[b].1.as_str()))
                .collect();
            let mode = bond
                .bond_mode
                .as_ref()
                .map(|m| format!("`{}`", m.value))
                .unwrap_or_else(|| "`balance-rr` (no `mode`)".to_string());
            let members_at = set_in(rn, &format!("interfaces.{}.members", bond.name.value));
            let Some(&(a, b)) = unpaired.first() else {
                // Every two legs are a pair: a bond without `mode` over
                // two switches is balance-rr where the pair expects LACP;
                // so is a static mode written out (no LACPDU either).
                let two = legs.iter().any(|(_, s)| s.value != legs[0].1.value);
                let static_mode = bond
                    .bond_mode
                    .as_ref()
                    .is_none_or(|m| STATIC.contains(&m.as_str()));
                if static_mode && two {
                    let (ma, sa) = legs[0];
                    let (mb, sb) = *legs
                        .iter()
                        .find(|(_, s)| s.value != sa.value)
                        .expect("two switches");
                    let (has, runs, label) = match &bond.bond_mode {
                        None => (
                            "has no `mode`".to_string(),
                            "netplan writes no mode, so the kernel runs balance-rr".to_string(),
                            "no `mode`: the kernel's balance-rr".to_string(),
                        ),
                        Some(m) => (
                            format!("is `{}`", m.value),
                            format!("`{}` is a static mode that sends no LACPDU", m.value),
                            format!("`{}`: no LACP", m.value),
                        ),
                    };
                    let label_at = bond.bond_mode.as_ref().map_or(bond.name.span, |m| m.span);
                    out.push(
                        name,
                        Diagnostic::warning(
                            Code::BondNoModeOnPair,
                            format!(
                                "bond `{}` {has}, and its members are on the switch pair `{}` and `{}` ({}): {runs}, while an MLAG pair expects LACP (802.3ad): the pair keeps the ports out of its port-channel (or, on ports not bonded, the bond's MAC flaps between the two switches); the bond and every network on it are lost{members_at}",
                                bond.name.value,
                                sa.value,
                                sb.value,
                                if declared.paired(sa.as_str(), sb.as_str()) {
                                    "declared with `mlag-peer`"
                                } else {
                                    "taken for a pair: same role, same rack, a `link` between them"
                                }
                            ),
                        )
                        .label(label_at, label)
                        .label(sa.span, format!("`{ma}` on `{}`", sa.value))
                        .label(sb.span, format!("`{mb}` on `{}`", sb.value))
                        .help(format!(
                            "write `mode \"802.3ad\"` on `{}` for an MLAG (LACP) pair, or `mode \"active-backup\"` if the switch ports are not bonded",
                            bond.name.value
                        )),
                    );
                }
                continue;
            };
            // Legs on switches of different roles: surely no pair.
            if let Some(&(a, b)) = unpaired
                .iter()
                .find(|&&(a, b)| !same_role(legs[a].1.as_str(), legs[b].1.as_str()))
            {
                let (ma, sa) = legs[a];
                let (mb, sb) = legs[b];
                let (ra, rb) = (sw(sa.as_str()).role.value, sw(sb.as_str()).role.value);
                out.push(
                    name,
                    Diagnostic::error(
                        Code::BondLegsAcrossRoles,
                        format!(
                            "bond `{}` ({mode}) has members on `{}` (role {}) and `{}` (role {}), which no `mlag-peer` declares a pair: switches of different roles (a ToR and a spine, border or management switch) do not aggregate together, so the bond cannot aggregate over both{members_at}",
                            bond.name.value,
                            sa.value,
                            role_name(ra),
                            sb.value,
                            role_name(rb)
                        ),
                    )
                    .label(sb.span, format!("`{mb}` on `{}` ({})", sb.value, role_name(rb)))
                    .label(sa.span, format!("`{ma}` on `{}` ({})", sa.value, role_name(ra)))
                    .label(bond.name.span, "one aggregate over two unrelated switches")
                    .help(format!(
                        "cable `{mb}` to `{}`'s pair (its `mlag-peer`, or the other switch of its rack with the same role and a `link` to it), or use `mode \"active-backup\"`",
                        sa.value
                    )),
                );
                continue;
            }
            let (ma, sa) = legs[a];
            let (mb, sb) = legs[b];
            // A leg cabled to another rack's ToR, with neither a link nor
            // a declaration to explain it, is SC0506's finding.
            let explained = is_linked(sa.as_str(), sb.as_str())
                || declared.declared(sa.as_str())
                || declared.declared(sb.as_str());
            let node_rack = site.nodes[rn.index]
                .placement
                .as_ref()
                .map(|p| p.rack.as_str());
            let elsewhere = legs.iter().any(|(_, s)| {
                let s = sw(s.as_str());
                s.role.value == SwitchRole::Tor && rack_of(s).is_some_and(|r| Some(r) != node_rack)
            });
            if !explained && elsewhere && node_rack.is_some() {
                continue;
            }
            let why = why_not(sa.as_str(), sb.as_str());
            let help = format!(
                "if `{a}` and `{b}` are an MLAG pair, declare it: `mlag-peer {b}` on `{a}`; else cable both members to one switch or to one pair, or use `mode \"active-backup\"`",
                a = sa.value,
                b = sb.value
            );
            out.push(
                name,
                Diagnostic::warning(
                    Code::BondLegsNotPaired,
                    format!(
                        "bond `{}` ({mode}) has members on switches `{}` and `{}`, which are not a pair: {why}; two switches that are not an MLAG pair cannot form one aggregate{members_at}",
                        bond.name.value, sa.value, sb.value,
                    ),
                )
                .label(sb.span, format!("`{mb}` on `{}`", sb.value))
                .label(sa.span, format!("`{ma}` on `{}`", sa.value))
                .label(bond.name.span, "one aggregate over two unrelated switches")
                .help(help),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(link: &str, mode: &str) -> String {
        site_with(link, "rack r01;", mode)
    }

    /// r01-tor1, and a second switch placed and given a role by `tor2`.
    fn site_with(link: &str, tor2: &str, mode: &str) -> String {
        format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
rack r02 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-56; {link} }}
switch r01-tor2 {{ {tor2} position 41; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor2; port swp1; }}
    interface bond0 {{ kind bond; members eno1 eno2; {mode} }}
}}
"#
        )
    }

    fn n(s: String, code: &str) -> usize {
        codes(&s).iter().filter(|c| **c == code).count()
    }

    #[test]
    fn lacp_over_unpaired_switches_warns() {
        let lacp = r#"mode "802.3ad";"#;
        assert_eq!(n(site("", lacp), "SC0507"), 1);
        assert_eq!(n(site("", ""), "SC0507"), 1);
        assert_eq!(n(site("", r#"mode "active-backup";"#), "SC0507"), 0);
        let link = "link swp55 { peer r01-tor2; peer-port swp55; }";
        assert_eq!(n(site(link, lacp), "SC0507"), 0);
        // Switches of two racks are no pair by convention, link or not.
        let other_rack = site_with(link, "rack r02;", lacp);
        assert_eq!(n(other_rack.clone(), "SC0507"), 1);
        assert_eq!(n(other_rack, "SC0514"), 0);
    }

    #[test]
    fn a_declared_pair_is_a_pair_whatever_its_racks() {
        let lacp = r#"mode "802.3ad";"#;
        // Across racks, with or without a link, declared on either side.
        for (l, t2) in [
            ("mlag-peer r01-tor2;", "rack r02;"),
            ("", "rack r02; mlag-peer r01-tor1;"),
            (
                "mlag-peer r01-tor2; link swp55 { peer r01-tor2; peer-port swp55; }",
                "rack r02;",
            ),
        ] {
            let s = site_with(l, t2, lacp);
            assert_eq!(n(s.clone(), "SC0507"), 0, "{l} / {t2}");
            assert_eq!(n(s, "SC0506"), 0, "{l} / {t2}");
        }
        // A declared pair without `mode` is SC0513.
        assert_eq!(
            n(site_with("mlag-peer r01-tor2;", "rack r02;", ""), "SC0513"),
            1
        );
        // r01-tor1 declares another pair: the same-rack link no longer
        // makes r01-tor2 its pair.
        let s = format!(
            "{}switch r01-tor3 {{ rack r01; position 40; ports swp1-56; }}\n",
            site_with(
                "mlag-peer r01-tor3; link swp55 { peer r01-tor2; peer-port swp55; }",
                "rack r01;",
                lacp
            )
        );
        assert_eq!(n(s, "SC0507"), 1);
    }

    #[test]
    fn legs_on_switches_of_different_roles_are_an_error() {
        let lacp = r#"mode "802.3ad";"#;
        let link = "link swp55 { peer r01-tor2; peer-port swp55; }";
        for l in [link, ""] {
            let s = site_with(l, "rack r01; role spine;", lacp);
            assert_eq!(n(s.clone(), "SC0514"), 1, "{l}");
            assert_eq!(n(s, "SC0507"), 0, "{l}");
        }
        let backup = r#"mode "active-backup";"#;
        assert_eq!(
            n(site_with(link, "rack r01; role spine;", backup), "SC0514"),
            0
        );
    }

    #[test]
    fn no_mode_on_a_pair_warns() {
        let link = "link swp55 { peer r01-tor2; peer-port swp55; }";
        assert_eq!(n(site(link, ""), "SC0513"), 1);
        assert_eq!(n(site(link, r#"mode "802.3ad";"#), "SC0513"), 0);
        // Not a pair: SC0507 says so, not SC0513 too.
        assert_eq!(n(site("", ""), "SC0513"), 0);
        // A static mode written out is the same balance without LACP;
        // the modes that need nothing from the switches are not.
        for (mode, want) in [
            ("balance-rr", 1),
            ("balance-xor", 1),
            ("broadcast", 1),
            ("active-backup", 0),
            ("balance-alb", 0),
            ("balance-tlb", 0),
        ] {
            let s = site(link, &format!("mode \"{mode}\";"));
            assert_eq!(n(s, "SC0513"), want, "{mode}");
        }
    }
}
