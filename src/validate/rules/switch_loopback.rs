//! Rule `switch-loopback`: a switch that runs BGP without an IPv4 loopback.
//!
//! **What it does.** Reports (SC0610) a switch with an `asn` but no
//! `loopback4`.
//!
//! **Why it matters.** A switch with an `asn` gets an FRR configuration
//! and an entry in `fabric.json`. FRR takes the BGP router-id from
//! `loopback4`; without one it picks an interface address, or none at all
//! on an IPv6-only fabric, and sessions do not come up. `fabric.json`
//! would carry `loopback4: null`, which its schema refuses.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { rack r01; position 42; asn 4201000011; ports swp1-48 }   // SC0610
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "switch-loopback",
    codes: &[Code::SwitchNoLoopback],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for s in &cx.site.switches {
        let (Some(asn), None) = (&s.asn, &s.loopback4) else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::SwitchNoLoopback,
                format!("switch `{}` runs BGP (asn {}) but has no `loopback4`", s.name.value, asn.value),
            )
            .label(asn.span, "an ASN, so FRR runs BGP here")
            .label(s.name.span, "no `loopback4` in this switch")
            .help("add `loopback4 \"10.255.0.N\"`: it is the switch's BGP router-id and the address the fabric reaches it at"),
        );
    }
}
