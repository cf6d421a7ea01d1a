//! Rule `unknown-profile`: a node or profile that names a profile that is
//! not declared.
//!
//! **What it does.** Reports (SC0205) an entry of a node's `profiles` or a
//! profile's `include` that names no declared profile, with the closest
//! profile name as a hint.
//!
//! **Why it matters.** Resolution skips a profile it cannot find, so the
//! node would silently lack every setting of it — groups, repos, SSH keys,
//! interfaces.
//!
//! **Example.**
//! ```kdl
//! profile compute { groups compute; }
//! node r01n01 { rack r01; position 3; profiles compte; }   // SC0205: did you mean `compute`?
//! ```

use super::super::{Ctx, Rule};
use super::Suggester;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "unknown-profile",
    codes: &[Code::UnknownProfile],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut hints = Suggester::new(cx.index.profiles.keys().map(|k| k.as_str()));
    let known = |p: &Sp<String>| cx.index.profiles.contains_key(p.as_str());
    for n in &cx.site.nodes {
        for p in n.profiles.iter().filter(|p| !known(p)) {
            let what = format!("node `{}` uses", n.name.value);
            unknown(&mut hints, diags, p, what);
        }
    }
    for p in &cx.site.profiles {
        for inc in p.includes.iter().filter(|p| !known(p)) {
            let what = format!("profile `{}` includes", p.name.value);
            unknown(&mut hints, diags, inc, what);
        }
    }
}

fn unknown(hints: &mut Suggester, diags: &mut Diagnostics, p: &Sp<String>, what: String) {
    let help = hints.hint(p, || format!("declare it: `profile {} {{ … }}`", p.value));
    diags.push(
        Diagnostic::error(
            Code::UnknownProfile,
            format!("{what} profile `{}`, which is not declared", p.value),
        )
        .label(p.span, "no such profile")
        .help(help),
    );
}
