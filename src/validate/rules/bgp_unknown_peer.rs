//! Rule `bgp-unknown-peer`: a node's BGP session to a switch that is not
//! declared.
//!
//! **What it does.** Reports (SC0601) a `session NAME` whose far end is not
//! a declared switch, in every layer it is written in (site defaults,
//! profiles, nodes), with the closest switch name as a hint. Sessions name
//! switches only: a session to another node is reported too.
//!
//! This is SC0601 rather than SC0202 (unknown switch) so that every BGP
//! finding sits in the SC06xx range a network engineer filters on.
//!
//! **Why it matters.** The far end of every node session is rendered into
//! the switch's FRR configuration; with no such switch the session is
//! configured on one side only and never comes up.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { bgp asn=auto { session r01-tor3 interface=eno1; } }   // SC0601
//! ```

use super::super::{Ctx, Rule};
use super::{layers, switch_index, Suggester};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "bgp-unknown-peer",
    codes: &[Code::BgpUnknownPeer],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let switches = switch_index(cx.site);
    let mut hints = Suggester::new(cx.index.switches.keys().map(|k| k.as_str()));
    for (what, s) in layers(cx.site) {
        let Some(bgp) = &s.bgp else { continue };
        for sess in &bgp.sessions {
            let peer = &sess.peer;
            if switches.contains_key(peer.as_str()) {
                continue;
            }
            let (label, help) = if cx.index.nodes.contains_key(peer.as_str()) {
                (
                    "a node, not a switch",
                    "sessions from nodes go to their top-of-rack switches; name a switch"
                        .to_string(),
                )
            } else {
                (
                    "no such switch",
                    hints.hint(peer, || {
                        "a session is keyed by the name of the switch at its far end".to_string()
                    }),
                )
            };
            diags.push(
                Diagnostic::error(
                    Code::BgpUnknownPeer,
                    format!(
                        "BGP session of {what} goes to `{}`, which is not a declared switch",
                        peer.value
                    ),
                )
                .label(peer.span, label)
                .help(help),
            );
        }
    }
}
