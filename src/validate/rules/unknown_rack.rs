//! Rule `unknown-rack`: a node or switch placed in a rack that is not
//! declared.
//!
//! **What it does.** Reports (SC0201) a `rack` that names no declared rack,
//! with the closest declared name as a hint.
//!
//! **Why it matters.** The rack decides where technicians mount the
//! machine, which rack elevation diagram shows it, and which unit overlaps
//! are checked; a typo would put a machine nowhere.
//!
//! **Example.**
//! ```kdl
//! rack r01 { height 42; }
//! node r01n01 { rack r1; position 3; }   // SC0201: did you mean `r01`?
//! ```

use super::super::{Ctx, Rule};
use super::Suggester;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Placement;

pub static RULE: Rule = Rule {
    name: "unknown-rack",
    codes: &[Code::UnknownRack],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut hints = Suggester::new(cx.index.racks.keys().map(|k| k.as_str()));
    let site = cx.site;
    let placed = site
        .switches
        .iter()
        .map(|s| ("switch", &s.name.value, &s.placement))
        .chain(
            site.nodes
                .iter()
                .map(|n| ("node", &n.name.value, &n.placement)),
        );
    for (kind, name, placement) in placed {
        let Some(Placement { rack, .. }) = placement else {
            continue;
        };
        if cx.index.racks.contains_key(rack.as_str()) {
            continue;
        }
        let help = hints.hint(rack, || {
            format!("declare it: `rack {} {{ height 42; }}`", rack.value)
        });
        diags.push(
            Diagnostic::error(
                Code::UnknownRack,
                format!(
                    "{kind} `{name}` is placed in rack `{}`, which is not declared",
                    rack.value
                ),
            )
            .label(rack.span, "no such rack")
            .help(help),
        );
    }
}
