//! Rule `bond-mode`: a bond mode netplan does not know.
//!
//! **What it does.** Reports (SC0051) an interface's `mode` (the bonding
//! mode, rendered as netplan's `parameters: mode:`) that is not one of
//! netplan's modes for Linux bonds: `balance-rr`, `active-backup`,
//! `balance-xor`, `broadcast`, `802.3ad`, `balance-tlb`, `balance-alb`
//! (netplan.yaml(5), "Properties for device type bonds"), with the closest
//! as a hint (`lacp` → `802.3ad`). Checked in every layer, once each.
//!
//! **Why it matters.** `netplan generate` refuses the whole file on an
//! unknown mode: the node comes up without any network.
//!
//! **Example.**
//! ```kdl
//! interface bond0 { kind bond; members ens1f0 ens1f1; mode "lacp" }   // SC0051: did you mean `802.3ad`?
//! ```

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "bond-mode",
    codes: &[Code::InvalidBondMode],
    check,
    resolved: false,
};

/// netplan's bond modes for the networkd and NetworkManager renderers.
pub(crate) const MODES: &[&str] = &[
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
];

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for i in &s.interfaces {
            let Some(m) = &i.bond_mode else { continue };
            if MODES.contains(&m.value.as_str()) {
                continue;
            }
            let hint = match m.value.to_ascii_lowercase().as_str() {
                "lacp" | "802.3ad-lacp" | "4" => "did you mean `802.3ad`? (LACP)".to_string(),
                "active-passive" | "failover" | "1" => "did you mean `active-backup`?".to_string(),
                _ => suggest(&m.value, MODES.iter().copied(), || {
                    format!("netplan's bond modes: {}", MODES.join(", "))
                }),
            };
            diags.push(
                Diagnostic::error(
                    Code::InvalidBondMode,
                    format!(
                        "interface `{}` of {what} has bond mode `{}`, which netplan does not know",
                        i.name.value, m.value
                    ),
                )
                .label(m.span, "netplan refuses this mode")
                .help(hint),
            );
        }
    }
}
