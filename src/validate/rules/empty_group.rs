//! Rule `empty-group`: a declared group with no hosts.
//!
//! **What it does.** Reports (SC0704, a warning) a `group` that no node is
//! in — through `groups` in a node, a profile or the site defaults, or as
//! one of the groups every node gets (`role_<role>`, `rack_<rack>`,
//! `profile_<profile>`) — and that has no `children`. Names are compared
//! as the inventory writes them (`-` becomes `_`); `all` is Ansible's own
//! and is not reported.
//!
//! **Why it matters.** Its `vars` apply to nobody, and a playbook that
//! targets it runs on nothing, successfully. Usually the nodes join it
//! under another spelling (`groups computes`), or the profile that put
//! them in it lost its `groups` line.
//!
//! **Example.**
//! ```kdl
//! group compute { vars { nova_virt_type kvm; } }   // SC0704
//! profile compute { groups computes; }
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::render::context::group_name;

pub static RULE: Rule = Rule {
    name: "empty-group",
    codes: &[Code::EmptyGroup],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    // With a file that failed to parse, the nodes may be in it.
    if site.groups.is_empty() || !site.lost.is_empty() {
        return;
    }
    let mut joined: BTreeSet<String> = BTreeSet::new();
    for (_, st) in layers(site) {
        joined.extend(st.groups.iter().map(|g| group_name(g)));
    }
    for n in &site.nodes {
        if let Some(r) = &n.role {
            joined.insert(format!("role_{}", group_name(r)));
        }
        if let Some(p) = &n.placement {
            joined.insert(format!("rack_{}", group_name(&p.rack)));
        }
        for p in &n.profiles {
            joined.insert(format!("profile_{}", group_name(p)));
        }
    }
    for g in &site.groups {
        let name = group_name(&g.name);
        if name == "all" || !g.children.is_empty() || joined.contains(&name) {
            continue;
        }
        // Only the first declaration (a second one is SC0101's).
        if cx
            .index
            .groups
            .get(g.name.as_str())
            .map(|&i| &site.groups[i].name.span)
            != Some(&g.name.span)
        {
            continue;
        }
        let help = suggest(&name, joined.iter().map(|s| s.as_str()), || {
            format!(
                "put nodes in it (`groups {}` in their profile or block), or remove it",
                g.name.value
            )
        });
        let help = if help.starts_with("did you mean") {
            format!("nodes join a group with a similar name: {help}")
        } else {
            help
        };
        diags.push(
            Diagnostic::warning(
                Code::EmptyGroup,
                format!(
                    "group `{}` has no hosts: no node is in it and it has no children",
                    g.name.value
                ),
            )
            .label(g.name.span, "an empty group")
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_group_nobody_joins_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile c { groups computes; }
group compute { vars { a 1; }; }
group computes { }
group fleet { children computes; }
group all { vars { b 2; }; }
node r01n01 { rack r01; position 1; profiles c; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0704").count(), 1, "{c:?}");
    }
}
