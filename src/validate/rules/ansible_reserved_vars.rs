//! Rule `ansible-reserved-vars`: a variable named like an Ansible keyword.
//!
//! **What it does.** Warns (SC0080) about a top-level key of `vars` — of
//! the site defaults, a profile, a node, a switch or a group — that is one
//! of the names Ansible reserves for play keywords and templating (`tags`,
//! `port`, `name`, `environment`, `when`, …). The list is data,
//! `data/ansible-core-2.19.14-reserved-names.txt`, taken from ansible-core
//! itself (its header says how).
//!
//! **Why it matters.** `vars` reach Ansible unchanged, as `host_vars` and
//! `group_vars`. A variable with a reserved name makes Ansible print "Found
//! variable using reserved name" on every run, and a play that uses the
//! keyword of that name does not see the variable the way the author meant
//! (a `port` var against the `port` keyword of a play). It is legal, so a
//! warning, which CI turns into an error with `--deny warnings`.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { vars { tags "canary" } }   // SC0080: rename it, e.g. `deploy_tags`
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Vars;

pub static RULE: Rule = Rule {
    name: "ansible-reserved-vars",
    codes: &[Code::AnsibleReservedVar],
    check,
    resolved: false,
};

const DATA: &str = include_str!("../../../data/ansible-core-2.19.14-reserved-names.txt");

/// Whether Ansible reserves `name` (a play keyword or a templating name).
pub(crate) fn is_reserved(name: &str) -> bool {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .any(|r| r == name)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let layers = super::layers(site).map(|(layer, s)| (layer.to_string(), &s.vars));
    let switches = site
        .switches
        .iter()
        .map(|s| (format!("switch `{}`", s.name.value), &s.vars));
    let groups = site
        .groups
        .iter()
        .map(|g| (format!("group `{}`", g.name.value), &g.vars));
    for (owner, vars) in layers.chain(switches).chain(groups) {
        check_vars(&owner, vars, diags);
    }
}

fn check_vars(owner: &str, vars: &Vars, diags: &mut Diagnostics) {
    for (key, (_, span)) in &vars.entries {
        if !is_reserved(key) {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                Code::AnsibleReservedVar,
                format!("variable `{key}` of {owner} has a name Ansible reserves"),
            )
            .label(*span, "a play keyword or templating name in Ansible")
            .help(format!(
                "Ansible warns \"Found variable using reserved name '{key}'\" on every run and a play may not see it: rename it, e.g. `app_{key}`"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_reserved;

    #[test]
    fn the_list_is_ansibles_own() {
        // Play keywords and templating names from ansible-core 2.19, and
        // ordinary names that are not reserved.
        for name in [
            "tags",
            "port",
            "name",
            "environment",
            "when",
            "vars",
            "omit",
        ] {
            assert!(is_reserved(name), "{name} is reserved");
        }
        for name in ["ansible_user", "nova", "app_port", "#", ""] {
            assert!(!is_reserved(name), "{name} is not reserved");
        }
    }
}
