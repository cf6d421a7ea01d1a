//! Rule `unknown-switch`: cabling, a switch link or an external BGP peer
//! that names a switch that is not declared.
//!
//! **What it does.** Reports (SC0202) an interface's `switch`, a switch
//! link's `peer` and a `bgp-peer`'s `switches` entry that name no declared
//! switch, with the closest switch name as a hint. Interfaces are checked
//! in every layer where they are written (site defaults, profiles, nodes),
//! once each. A node's BGP session to an unknown switch is SC0601, reported
//! by `bgp-unknown-peer`, so that all BGP findings share the SC06xx range.
//!
//! **Why it matters.** The switch side of every cable is rendered into the
//! switch's configuration and checked against LLDP; a typo would leave the
//! port unconfigured and the node unreachable.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { rack r01; position 42; ports "swp1-48"; }
//! node r01n01 { interface eno1 { switch r01-tor; port swp1; } }   // SC0202: did you mean `r01-tor1`?
//! ```

use super::super::{Ctx, Rule};
use super::{layers, switch_index, Suggester};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "unknown-switch",
    codes: &[Code::UnknownSwitch],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let switches = switch_index(site);
    let known = |sw: &Sp<String>| switches.contains_key(sw.as_str());
    let mut hints = Suggester::new(cx.index.switches.keys().map(|k| k.as_str()));
    for (what, s) in layers(site) {
        for i in &s.interfaces {
            if let Some(sw) = i.switch.as_ref().filter(|sw| !known(sw)) {
                let what = format!("interface `{}` of {what} is cabled to", i.name.value);
                unknown(cx, &mut hints, diags, sw, what);
            }
        }
    }
    for sw in &site.switches {
        for l in sw.links.iter().filter(|l| !known(&l.peer)) {
            let what = format!(
                "link `{}` of switch `{}` goes to",
                l.port.value, sw.name.value
            );
            unknown(cx, &mut hints, diags, &l.peer, what);
        }
        if let Some(p) = sw.mlag_peer.as_ref().filter(|p| !known(p)) {
            let what = format!("the MLAG pair of switch `{}` is", sw.name.value);
            // The switch itself is no hint for its pair (SC0515).
            let mut others = Suggester::new(
                cx.index
                    .switches
                    .keys()
                    .map(|k| k.as_str())
                    .filter(|k| *k != sw.name.as_str()),
            );
            unknown(cx, &mut others, diags, p, what);
        }
    }
    for p in &site.bgp_peers {
        for sw in p.switches.iter().filter(|sw| !known(sw)) {
            unknown(
                cx,
                &mut hints,
                diags,
                sw,
                format!("BGP peer `{}` is held by", p.name.value),
            );
        }
    }
}

/// Reports a switch name that is not declared.
fn unknown(
    cx: &Ctx,
    hints: &mut Suggester,
    diags: &mut Diagnostics,
    sw: &Sp<String>,
    what: String,
) {
    let (label, help) = if cx.index.nodes.contains_key(sw.as_str()) {
        (
            "a node, not a switch",
            format!("`{}` is a node; name the switch here", sw.value),
        )
    } else {
        (
            "no such switch",
            hints.hint(sw, || {
                format!(
                    "declare it: `switch {} {{ rack …; position …; ports \"swp1-48\"; }}`",
                    sw.value
                )
            }),
        )
    };
    diags.push(
        Diagnostic::error(
            Code::UnknownSwitch,
            format!("{what} switch `{}`, which is not declared", sw.value),
        )
        .label(sw.span, label)
        .help(help),
    );
}
