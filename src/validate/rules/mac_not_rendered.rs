//! Rule `mac-not-rendered`: a `mac` on a bond or a VLAN interface.
//!
//! **What it does.** On every resolved node, reports (SC0512, a warning)
//! a `mac` on an interface of `kind bond` or `kind vlan`, unless it is
//! the MAC of one of its members or of its parent (written to record
//! what the interface has).
//!
//! **Why it matters.** The MAC of a node interface is used twice: netplan
//! matches the physical interface by it (and renames it), and Kea's
//! reservation for an address is keyed by the MAC its DHCP request comes
//! from — the parent's for a VLAN, each member's for a bond (whichever
//! port PXE-boots before the bond exists). A `mac` on a bond or a
//! VLAN is neither: the template writes it nowhere, so it looks like
//! configuration and does nothing (a bond keeps the MAC networkd gives
//! it). Usually it was meant for a member or the parent.
//!
//! **Example.**
//! ```kdl
//! node r01n03 {
//!     interface bond0 { kind bond; members ens1f0 ens1f1; mac "52:54:00:01:03:99"; }  // SC0512
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::InterfaceKind;

pub static RULE: Rule = Rule {
    name: "mac-not-rendered",
    codes: &[Code::MacNotRendered],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        for i in &rn.settings.interfaces {
            let Some(mac) = &i.mac else { continue };
            // The MAC of a member or the parent, written again to say what
            // the bond or VLAN has: no effect, and none meant.
            let same = i
                .members
                .iter()
                .chain(i.link.iter())
                .filter_map(|m| interface(rn, m))
                .any(|m| m.mac.as_ref().is_some_and(|x| x.value == mac.value));
            if same {
                continue;
            }
            let n = i.name.as_str();
            let (what, help) = match i.kind.as_ref().map(|k| k.value) {
                Some(InterfaceKind::Bond) => (
                    "bond",
                    match i.members.first() {
                        Some(m) => format!(
                            "siteconf does not set a bond's MAC, and DHCP (PXE) asks with a member's (Kea reserves the address for each, `{}` first): if this is a member's MAC, write it on that member; else remove it",
                            m.value
                        ),
                        None => "if this is a member's MAC, write it on that member; else remove it".to_string(),
                    },
                ),
                Some(InterfaceKind::Vlan) => (
                    "VLAN interface",
                    format!(
                        "a VLAN interface has its parent's MAC{}: if this is a physical interface's MAC, write it on that interface; else remove it",
                        i.link.as_ref().map(|l| format!(" (`{}`)", l.value)).unwrap_or_default()
                    ),
                ),
                _ => continue,
            };
            out.push(
                name,
                Diagnostic::warning(
                    Code::MacNotRendered,
                    format!(
                        "{what} `{n}` has a `mac`, which reaches neither netplan nor Kea{}",
                        set_in(rn, &format!("interfaces.{n}.mac"))
                    ),
                )
                .label(mac.span, "has no effect here")
                .help(help),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_mac_on_a_bond_or_vlan_warns() {
        let site = r#"
site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
node r01n01 {
    rack r01; position 3
    interface eno1 { mac "52:54:00:01:01:01"; }
    interface eno2 { mac "52:54:00:01:01:02"; }
    interface bond0 { kind bond; members eno1 eno2; mac "52:54:00:01:01:99"; }
    interface bond0.200 { kind vlan; link bond0; vlan 200; mac "52:54:00:01:01:98"; }
}
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0512").count(), 2, "{c:?}");
        // A member's MAC, written again on the bond, is no mistake.
        let c = codes(&site.replace("52:54:00:01:01:99", "52:54:00:01:01:02"));
        assert_eq!(c.iter().filter(|c| **c == "SC0512").count(), 1, "{c:?}");
    }
}
