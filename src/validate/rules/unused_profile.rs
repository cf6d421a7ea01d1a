//! Rule `unused-profile`: a profile no node uses.
//!
//! **What it does.** Reports (SC0703, a warning) a profile that no node
//! names in `profiles`, directly or through a chain of `include`s from a
//! profile a node names.
//!
//! **Why it matters.** Its settings reach no machine. Usually the nodes
//! that were meant to use it name something else (a typo would be an
//! error; a similar profile is not), or it was left behind when its nodes
//! moved on, and edits to it are silently without effect.
//!
//! **Example.**
//! ```kdl
//! profile compute-v2 { … }   // SC0703: the nodes still say `profiles compute`
//! ```

use super::super::{Ctx, Rule};
use super::closest;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "unused-profile",
    codes: &[Code::UnusedProfile],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    // With a file that failed to parse, the nodes that use a profile may
    // be in it: the syntax error is the finding.
    // A site without nodes yet (being written) has every profile unused.
    if !site.lost.is_empty() || site.nodes.is_empty() {
        return;
    }
    // A name that is not declared (SC0205) counts as a use of the profile
    // it most likely means (`compte` → `compute`): that profile is not
    // unused, it is misspelt where it is used.
    let names: Vec<&str> = cx.index.profiles.keys().map(|k| k.as_str()).collect();
    let resolve = |p: &str| -> Option<usize> {
        cx.index.profiles.get(p).copied().or_else(|| {
            closest(p, names.iter().copied()).and_then(|c| cx.index.profiles.get(c).copied())
        })
    };
    let mut used = vec![false; site.profiles.len()];
    let mut stack: Vec<usize> = site
        .nodes
        .iter()
        .flat_map(|n| &n.profiles)
        .filter_map(|p| resolve(p.as_str()))
        .collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut used[i], true) {
            continue;
        }
        stack.extend(
            site.profiles[i]
                .includes
                .iter()
                .filter_map(|p| resolve(p.as_str())),
        );
    }
    for (i, p) in site.profiles.iter().enumerate() {
        // A second declaration of a name is SC0101's.
        if used[i] || cx.index.profiles.get(p.name.as_str()) != Some(&i) {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                Code::UnusedProfile,
                format!("profile `{}` is used by no node", p.name.value),
            )
            .label(p.name.span, "its settings reach no machine")
            .help(format!(
                "add `profiles {}` to the nodes meant to use it (or `include {}` in their profile), or remove it",
                p.name.value, p.name.value
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn only_profiles_no_node_reaches_warn() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile base { }
profile compute { include base; }
profile old { }
node r01n01 { rack r01; position 1; profiles compute; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0703").count(), 1, "{c:?}");
    }
}
