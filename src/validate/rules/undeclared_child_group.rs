//! Rule `undeclared-child-group`: a group's child that is no group at all.
//!
//! **What it does.** Reports (SC0702, a warning) a name in a group's
//! `children` that is neither a declared `group` nor a group any node is
//! in: joined with `groups` in a node, a profile or the site defaults, or
//! one of the groups every node gets (`role_<role>`, `rack_<rack>`,
//! `profile_<profile>`). Names are compared as the inventory writes them
//! (`-` becomes `_`). The hint names the closest group that does exist.
//!
//! **Why it matters.** The inventory renders such a child as an empty
//! group, so a playbook run against the parent silently skips the hosts
//! that were meant: `group fleet { children control compute storge }`
//! leaves every storage node out of `fleet`.
//!
//! **Example.**
//! ```kdl
//! group fleet { children compute storge; }   // SC0702: did you mean `storage`?
//! profile storage { groups storage; }
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::group_name;

pub static RULE: Rule = Rule {
    name: "undeclared-child-group",
    codes: &[Code::UndeclaredChildGroup],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    if site.groups.iter().all(|g| g.children.is_empty()) {
        return;
    }
    let mut known: BTreeSet<String> = site.groups.iter().map(|g| group_name(&g.name)).collect();
    for (_, st) in layers(site) {
        known.extend(st.groups.iter().map(|g| group_name(g)));
    }
    for n in &site.nodes {
        if let Some(r) = &n.role {
            known.insert(format!("role_{}", group_name(r)));
        }
        if let Some(p) = &n.placement {
            known.insert(format!("rack_{}", group_name(&p.rack)));
        }
    }
    for p in &site.profiles {
        known.insert(format!("profile_{}", group_name(&p.name)));
    }
    for g in &site.groups {
        for c in &g.children {
            let name = group_name(c);
            // `all` is Ansible's own (left out of the inventory's children).
            if name == "all" || name == "ungrouped" || known.contains(&name) {
                continue;
            }
            let help = suggest(&name, known.iter().map(|s| s.as_str()), || {
                format!(
                    "declare it (`group {} {{ vars {{ … }} }}`), put nodes in it (`groups {}` in a profile), or remove it",
                    c.value, c.value
                )
            });
            diags.push(
                Diagnostic::warning(
                    Code::UndeclaredChildGroup,
                    format!(
                        "group `{}` has the child group `{}`, which is not declared and which no node is in",
                        g.name.value, c.value
                    ),
                )
                .label(c.span, "an empty group in the inventory")
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_child_nobody_joins_warns_and_joined_or_declared_ones_do_not() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile st { groups storage; }
group compute { }
group fleet { children compute storage role_db rack_r01 storge; }
node r01n01 { rack r01; position 1; role db; profiles st; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0702").count(), 1, "{c:?}");
    }
}
