//! Rule `unknown-network`: an address on a network that is not declared.
//!
//! **What it does.** Reports (SC0204) an `address NETWORK …` whose network
//! is not declared, in every layer it is written in (site defaults,
//! profiles, nodes), with the closest network name as a hint.
//!
//! **Why it matters.** The network gives the address its prefix, gateway,
//! VLAN and MTU; without it no address can be checked or allocated and the
//! node's netplan would miss an interface address.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/22"; }
//! node r01n01 { address mgnt interface=eno3 ipv4=auto; }   // SC0204: did you mean `mgmt`?
//! ```

use super::super::{Ctx, Rule};
use super::{layers, Suggester};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "unknown-network",
    codes: &[Code::UnknownNetwork],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut hints = Suggester::new(cx.index.networks.keys().map(|k| k.as_str()));
    for (what, s) in layers(cx.site) {
        for a in &s.addresses {
            let net = &a.network;
            if cx.index.networks.contains_key(net.as_str()) {
                continue;
            }
            let help = hints.hint(net, || {
                format!(
                    "declare it: `network {} {{ purpose …; ipv4 \"…\"; }}`",
                    net.value
                )
            });
            diags.push(
                Diagnostic::error(
                    Code::UnknownNetwork,
                    format!(
                        "{what} has an address on network `{}`, which is not declared",
                        net.value
                    ),
                )
                .label(net.span, "no such network")
                .help(help),
            );
        }
    }
}
