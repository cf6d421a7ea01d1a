//! Rule `undeclared-child-group`: a group's child that is no group at all.
//!
//! **What it does.** Reports (SC0702, a warning) a name in a group's
//! `children` that is neither a declared `group` nor a group any node is
//! in: joined with `groups` in a node, a profile or the site defaults, or
//! one of the groups every node gets (`role_<role>`, `rack_<rack>`,
//! `profile_<profile>`). Names are compared as the inventory writes them
//! (`-` becomes `_`). The hint names the closest group that does exist.
//!
//! **Why it matters.** A node in a misspelt group is in a new top-level
//! group of its own and out of the declared one and its parents: with
//! `groups contrl`, the control nodes leave `control` and `fleet`, and
//! with them `fleet`'s `ansible_user`, so Ansible logs in as the wrong
//! user. The inventory renders such a child as an empty
//! group, so a playbook run against the parent silently skips the hosts
//! that were meant: `group fleet { children control compute storge }`
//! leaves every storage node out of `fleet`.
//!
//! The other way round, it warns (SC0918) about a `groups` entry of the
//! site defaults, a profile or a node that is neither a declared `group`
//! nor any group's child, but close to a declared group (`contrl` beside
//! `group control`): a typo that takes the nodes out of the group they
//! were meant for. A group of its own that resembles no declared one is
//! left alone: joining a group nobody declares is how ad-hoc groups are
//! made.
//!
//! **Example.**
//! ```kdl
//! group fleet { children compute storge; }   // SC0702: did you mean `storage`?
//! profile storage { groups storage; }
//! profile control { groups contrl; }         // SC0918: did you mean `control`?
//! group control { }
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::group_name;

pub static RULE: Rule = Rule {
    name: "undeclared-child-group",
    codes: &[Code::UndeclaredChildGroup, Code::UndeclaredGroup],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    joined_groups(cx, diags);
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

/// SC0918: a `groups` entry close to a declared group it is not.
fn joined_groups(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    if site.groups.is_empty() {
        return;
    }
    // As the inventory writes them: declared groups and every child named.
    let declared: BTreeSet<String> = site
        .groups
        .iter()
        .flat_map(|g| std::iter::once(&g.name).chain(g.children.iter()))
        .map(|n| group_name(n))
        .collect();
    let names: Vec<String> = site.groups.iter().map(|g| group_name(&g.name)).collect();
    let mut hints = super::Suggester::new(names.iter().map(|s| s.as_str()));
    for (what, st) in layers(site) {
        for g in &st.groups {
            let name = group_name(g);
            if declared.contains(&name)
                || ["role_", "rack_", "profile_"]
                    .iter()
                    .any(|p| name.starts_with(p))
            {
                continue;
            }
            let hint = hints.hint(&name, String::new);
            if hint.is_empty() {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    Code::UndeclaredGroup,
                    format!(
                        "{what} puts its nodes in the group `{}`, which is not declared and no group's child: they are left out of the declared groups and their variables",
                        g.value
                    ),
                )
                .label(g.span, "a new top-level group in the inventory")
                .help(format!(
                    "{hint} (or declare `group {}` if a group of its own is meant)",
                    g.value
                )),
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
        // `storage` is no declared group, but no declared one is like it.
        assert!(!c.contains(&"SC0918"), "{c:?}");
    }

    #[test]
    fn a_joined_group_close_to_a_declared_one_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile ctl { groups contrl; }
profile web { groups web-tier; }
group control { }
group fleet { children control web_tier; }
node r01n01 { rack r01; position 1; profiles ctl web; groups adhoc; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0918").count(), 1, "{c:?}");
    }
}
