//! Rule `vlan-mismatch`: a VLAN interface carrying another VLAN's network.
//!
//! **What it does.** Reports (SC0503) an address on a VLAN interface whose
//! `vlan` differs from the `vlan` of the address's network.
//!
//! **Why it matters.** The interface tags its frames with its own VLAN id;
//! the switch delivers them to that VLAN's segment, not to the network the
//! address belongs to. The address is configured and nothing answers.
//!
//! **Example.**
//! ```kdl
//! network storage { purpose storage; vlan 300; ipv4 "10.3.0.0/22"; }
//! node r01n01 {
//!     interface eno1.200 { kind vlan; link eno1; vlan 200; }
//!     address storage interface=eno1.200 ipv4=auto   // SC0503
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "vlan-mismatch",
    codes: &[Code::VlanMismatch],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        for a in &rn.settings.addresses {
            let (Some(ifname), Some(net)) =
                (&a.interface, cx.site.network(cx.index, a.network.as_str()))
            else {
                continue;
            };
            let Some(i) = interface(rn, ifname) else {
                continue;
            };
            let (Some(iv), Some(nv)) = (&i.vlan, &net.vlan) else {
                continue;
            };
            if iv.value == nv.value {
                continue;
            }
            out.push(
                name,
                Diagnostic::error(
                    Code::VlanMismatch,
                    format!(
                        "VLAN interface `{}` is VLAN {} but carries network `{}`, which is VLAN {}{}",
                        i.name.value,
                        iv.value,
                        net.name.value,
                        nv.value,
                        set_in(rn, &format!("interfaces.{}.vlan", i.name.value))
                    ),
                )
                .label(iv.span, format!("VLAN {}", iv.value))
                .label(nv.span, format!("`{}` is VLAN {}", net.name.value, nv.value))
                .help(format!(
                    "frames tagged {} reach another segment than `{}`: use `vlan {}`, or put the address on the interface for VLAN {}",
                    iv.value, net.name.value, nv.value, nv.value
                )),
            );
        }
    }
    out.finish(diags);
}
