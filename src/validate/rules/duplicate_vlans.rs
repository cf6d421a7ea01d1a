//! Rule `duplicate-vlans`: two networks with the same VLAN id.
//!
//! **What it does.** Reports (SC0105) every network whose `vlan` was
//! already given to an earlier network, showing both.
//!
//! **Why it matters.** A VLAN is one L2 segment: two networks on one VLAN
//! share broadcast domain and DHCP, so a node on one would answer ARP and
//! DHCP for the other.
//!
//! **Example.**
//! ```kdl
//! network mgmt    { purpose management; vlan 100; ipv4 "10.0.0.0/22"; }
//! network storage { purpose storage;    vlan 100; ipv4 "10.1.0.0/22"; }   // SC0105
//! ```

use std::collections::HashMap;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Network;

pub static RULE: Rule = Rule {
    name: "duplicate-vlans",
    codes: &[Code::DuplicateVlan],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut first: HashMap<u16, &Network> = HashMap::new();
    for n in &cx.site.networks {
        let Some(v) = &n.vlan else { continue };
        let Some(f) = first.get(&v.value) else {
            first.insert(v.value, n);
            continue;
        };
        let fv = f.vlan.as_ref().map(|x| x.span).unwrap_or(f.name.span);
        diags.push(
            Diagnostic::error(
                Code::DuplicateVlan,
                format!(
                    "VLAN {} is used by both network `{}` and network `{}`",
                    v.value, f.name.value, n.name.value
                ),
            )
            .label(v.span, "used again here")
            .label(fv, format!("first used here, by `{}`", f.name.value))
            .help(format!(
                "each network is its own L2 segment; give `{}` a VLAN id of its own",
                n.name.value
            )),
        );
    }
}
