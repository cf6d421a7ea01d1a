//! Rule `bond-single-member`: a bond of one interface.
//!
//! **What it does.** Reports (SC0508, a warning) a bond of a resolved
//! node whose `members` name a single interface while the node has another
//! interface cabled to a switch that is in no bond: the leg left out,
//! named in the help. A bond of one on a node with no other cabled leg
//! (one uplink, bonded for a uniform configuration) is not reported.
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
            // A cabled interface no bond takes: the leg left out.
            let spare = interfaces.iter().find(|i| {
                i.switch.is_some()
                    && i.name.value != member.value
                    && !is_bond(i)
                    && !interfaces
                        .iter()
                        .any(|b| is_bond(b) && b.members.iter().any(|m| m.value == i.name.value))
            });
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
