//! Rule `bond-single-member`: a bond of one interface.
//!
//! **What it does.** Reports (SC0508, a warning) a bond of a resolved
//! node whose `members` name a single interface while the node has another
//! Ethernet interface cabled to a switch that is idle: in no bond, the
//! parent (`link`) of no VLAN, with no address and no BGP session over it.
//! That is the leg left out, named in the help. A bond of one on a node
//! with no other idle cabled leg (one uplink, bonded for a uniform
//! configuration; the other cables are BGP uplinks or the management NIC)
//! is not reported: an interface in use is never suggested as a member,
//! since moving it into the bond would take its session or address down.
//!
//! **Why it matters.** A bond of one has no redundancy: when its switch
//! or cable fails the node is gone from that network. Usually the second
//! member was left out of `members`: its cable is plugged, and the
//! interface comes up on its own outside the bond, so nothing looks
//! wrong until the one leg fails.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     interface ens1f0 { switch r01-tor1; port swp1; … }
//!     interface ens1f1 { switch r01-tor2; port swp1; … }
//!     interface bond0 { kind bond; members ens1f0; }   // SC0508
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::InterfaceKind;

pub static RULE: Rule = Rule {
    name: "bond-single-member",
    codes: &[Code::BondSingleMember],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let interfaces = &rn.settings.interfaces;
        let is_bond = |i: &crate::model::Interface| {
            i.kind.as_ref().map(|k| k.value) == Some(InterfaceKind::Bond)
        };
        for bond in interfaces.iter().filter(|i| is_bond(i)) {
            let [member] = bond.members.as_slice() else {
                continue;
            };
            // A cabled Ethernet interface nothing uses: the leg left out.
            let spare = interfaces
                .iter()
                .find(|i| i.switch.is_some() && i.name.value != member.value && idle(rn, i));
            let Some(spare) = spare else { continue };
            let help = format!(
                "`{}` is cabled to `{}` and in no bond: add it (`members {} {}`)",
                spare.name.value,
                spare.switch.as_ref().map(|s| s.as_str()).unwrap_or(""),
                member.value,
                spare.name.value
            );
            out.push(
                name,
                Diagnostic::warning(
                    Code::BondSingleMember,
                    format!(
                        "bond `{}` has a single member, `{}`{}",
                        bond.name.value,
                        member.value,
                        set_in(rn, &format!("interfaces.{}.members", bond.name.value))
                    ),
                )
                .label(member.span, "the only member: no redundancy")
                .label(spare.name.span, "cabled, and up outside the bond")
                .help(help),
            );
        }
    }
    out.finish(diags);
}

/// Whether `i` is a plain Ethernet interface that nothing else uses: no
/// bond takes it, no VLAN runs over it, no address and no BGP session is
/// on it. Only such an interface can join a bond without breaking what
/// runs over it.
fn idle(rn: &crate::resolve::ResolvedNode, i: &crate::model::Interface) -> bool {
    let st = &rn.settings;
    let name = i.name.value.as_str();
    let kind = i.kind.as_ref().map(|k| k.value);
    matches!(kind, None | Some(InterfaceKind::Ethernet))
        && !i.kind_invalid
        && i.members.is_empty()
        && i.link.is_none()
        && !st.interfaces.iter().any(|o| {
            o.members.iter().any(|m| m.value == name)
                || o.link.as_ref().is_some_and(|l| l.value == name)
        })
        && !st
            .addresses
            .iter()
            .any(|a| a.interface.as_ref().is_some_and(|n| n.value == name))
        && !st.bgp.as_ref().is_some_and(|b| {
            b.sessions
                .iter()
                .any(|s| s.interface.as_ref().is_some_and(|n| n.as_str() == name))
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(members: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-56; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor1; port swp2; }}
    interface bond0 {{ kind bond; members {members}; mode "active-backup"; }}
}}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0508").count()
    }

    #[test]
    fn single_member_bond_warns() {
        assert_eq!(n("eno1 eno2"), 0);
        assert_eq!(n("eno1"), 1);
    }

    /// A bond of one beside a cabled `eno2` that `use_eno2` puts to use.
    fn beside(use_eno2: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; defaults {{ loopback ipv4=auto; }} }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}
network lo {{ purpose loopback; ipv4 "10.255.0.0/24"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-56; asn 4200000001; loopback4 "10.255.0.1"; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor1; port swp2; }}
    interface bond0 {{ kind bond; members eno1; }}
    {use_eno2}
}}
"#
        );
        let d = super::super::testing::check_kdl(&text);
        assert!(
            !d.iter().any(|d| d.severity == crate::diag::Severity::Error),
            "{use_eno2}: {d:?}"
        );
        d.into_iter()
            .filter(|d| d.code.as_str() == "SC0508")
            .map(|d| d.help.unwrap_or_default())
            .collect()
    }

    #[test]
    fn an_interface_in_use_is_never_the_leg_left_out() {
        let idle = beside("");
        assert_eq!(idle.len(), 1, "{idle:?}");
        assert!(idle[0].contains("`members eno1 eno2`"), "{idle:?}");
        for used in [
            "bgp asn=4200000101 { session r01-tor1 interface=eno2; }",
            r#"address mgmt interface=eno2 ipv4="10.0.0.101""#,
            "interface vlan20 { kind vlan; link eno2; vlan 20; }",
            "interface bond1 { kind bond; members eno2; }",
        ] {
            let found = beside(used);
            assert!(found.is_empty(), "{used}: {found:?}");
        }
    }

    #[test]
    fn single_uplink_bond_is_fine() {
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1-56; }
node r01n01 {
    rack r01; position 1
    interface eno1 { mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }
    interface eno2 { mac "52:54:00:01:01:02"; }
    interface bond0 { kind bond; members eno1; }
}
"#;
        assert!(!codes(text).contains(&"SC0508"));
    }
}
