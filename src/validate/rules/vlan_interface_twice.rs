//! Rule `vlan-interface-twice`: two VLAN interfaces of one id on one parent.
//!
//! **What it does.** On every resolved node, reports (SC0510) a VLAN
//! interface whose `link` and `vlan` are those of another VLAN interface
//! of the node declared before it.
//!
//! **Why it matters.** A parent carries a VLAN id once: netplan writes
//! both netdevs (two `Id=200` on `bond0`), and the kernel refuses the
//! second with EEXIST. Which of the two exists after boot depends on the
//! order networkd creates them, so either one's networks may be the ones
//! lost.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     interface storage0 { kind vlan; link bond0; vlan 200; }
//!     interface backup0 { kind vlan; link bond0; vlan 200; }   // SC0510
//! }
//! ```

use std::collections::HashMap;

use super::super::{Ctx, Rule};
use super::{set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Interface, InterfaceKind};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "vlan-interface-twice",
    codes: &[Code::VlanInterfaceTwice],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        node(rn, &mut |d| out.push(name, d));
    }
    out.finish(diags);
}

fn node(rn: &ResolvedNode, emit: &mut dyn FnMut(Diagnostic)) {
    // (parent, id) → the first VLAN interface with them.
    let mut first: HashMap<(&str, u16), &Interface> = HashMap::new();
    for i in &rn.settings.interfaces {
        if i.kind.as_ref().map(|k| k.value) != Some(InterfaceKind::Vlan) {
            continue;
        }
        let (Some(link), Some(vlan)) = (&i.link, &i.vlan) else {
            continue;
        };
        let Some(&f) = first.get(&(link.as_str(), vlan.value)) else {
            first.insert((link.as_str(), vlan.value), i);
            continue;
        };
        let fspan = f.vlan.as_ref().map(|v| v.span).unwrap_or(f.name.span);
        emit(
            Diagnostic::error(
                Code::VlanInterfaceTwice,
                format!(
                    "VLAN interfaces `{}` and `{}` are both VLAN {} on `{}`{}",
                    f.name.value,
                    i.name.value,
                    vlan.value,
                    link.value,
                    set_in(rn, &format!("interfaces.{}.vlan", i.name.value))
                ),
            )
            .label(vlan.span, format!("`{}`: VLAN {} again", i.name.value, vlan.value))
            .label(fspan, format!("`{}` is VLAN {} on `{}`", f.name.value, vlan.value, link.value))
            .help(format!(
                "the kernel creates one VLAN {} on `{}` and refuses the other (EEXIST), so one of them is missing after boot: carry every network of VLAN {} on one interface, or give this one the id it was meant to have",
                vlan.value, link.value, vlan.value
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(second: &str) -> String {
        format!(
            r#"
site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network storage {{ purpose storage; vlan 200; ipv4 "10.3.0.0/24"; }}
network backup {{ purpose storage; vlan 300; ipv4 "10.4.0.0/24"; }}
rack r01 {{ height 42; }}
node r01n01 {{
    rack r01; position 3
    interface eno1 {{ mac "52:54:00:01:01:01"; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; }}
    interface storage0 {{ kind vlan; link eno1; vlan 200; }}
    interface backup0 {{ kind vlan; {second} }}
    address storage interface=storage0 ipv4=auto
}}
"#
        )
    }

    #[test]
    fn one_id_twice_on_one_parent_is_refused() {
        assert!(codes(&site("link eno1; vlan 200;")).contains(&"SC0510"));
        assert!(!codes(&site("link eno1; vlan 300;")).contains(&"SC0510"));
        assert!(!codes(&site("link eno2; vlan 200;")).contains(&"SC0510"));
    }
}
