//! Rule `group-cycle`: groups that are each other's children.
//!
//! **What it does.** Reports (SC0703) every cycle of `children` among the
//! declared groups once, as "group cycle: compute → fleet → compute",
//! with a label on each child in the cycle. Names are compared as the
//! inventory writes them (`-` becomes `_`). The search is the one
//! `profile-cycle` uses (iterative, so a long chain costs a loop).
//!
//! **Why it matters.** The inventory writes the children as they are, and
//! Ansible refuses an inventory whose groups contain themselves
//! ("recursive dependency loop"): no play runs at all.
//!
//! **Example.**
//! ```kdl
//! group compute { children fleet; }
//! group fleet   { children compute; }   // SC0703: group cycle: compute → fleet → compute
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::super::{Ctx, Rule};
use super::profile_cycle::{cycle_path, cycles};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::group_name;

pub static RULE: Rule = Rule {
    name: "group-cycle",
    codes: &[Code::GroupCycle],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let groups = &cx.site.groups;
    if groups.iter().all(|g| g.children.is_empty()) {
        return;
    }
    // A group declared twice is SC0101's: the first declaration stands for
    // the name, and the children of both are its edges.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        index.entry(group_name(&g.name)).or_insert(i);
    }
    let mut edges = vec![Vec::new(); groups.len()];
    for g in groups {
        let from = index[&group_name(&g.name)];
        for c in &g.children {
            if let Some(&to) = index.get(&group_name(c)) {
                edges[from].push((to, c.span));
            }
        }
    }
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for cycle in cycles(&edges) {
        if !seen.insert(cycle.iter().map(|(g, _)| *g).collect()) {
            continue;
        }
        let name = |i: usize| groups[i].name.value.as_str();
        let names: Vec<&str> = cycle
            .iter()
            .map(|(g, _)| name(*g))
            .chain(std::iter::once(name(cycle[0].0)))
            .collect();
        let mut d = Diagnostic::error(
            Code::GroupCycle,
            format!("group cycle: {}", cycle_path(&names)),
        );
        let last = cycle.len() - 1;
        for (k, (g, span)) in cycle.iter().enumerate() {
            let next = name(cycle[(k + 1) % cycle.len()].0);
            let msg = if k == last && last == 0 {
                format!("`{}` is its own child", name(*g))
            } else if k == last {
                format!("`{}` has the child `{next}`, closing the cycle", name(*g))
            } else {
                format!("`{}` has the child `{next}`", name(*g))
            };
            d = d.label(*span, msg);
        }
        diags.push(d.help(
            "Ansible refuses an inventory whose groups contain themselves (\"recursive dependency loop\"); remove one of these children",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_kdl, codes};

    const SITE: &str = "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\n";

    #[test]
    fn a_cycle_through_children_is_reported_once() {
        let text = format!(
            "{SITE}group compute {{ children fleet; }}\ngroup fleet {{ children control compute; }}\ngroup control {{ }}\n"
        );
        let d = check_kdl(&text);
        let msgs: Vec<&str> = d
            .iter()
            .filter(|d| d.code.as_str() == "SC0703")
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(msgs, ["group cycle: compute → fleet → compute"], "{d:?}");
    }

    #[test]
    fn a_group_that_is_its_own_child_and_spellings_that_meet() {
        let text = format!("{SITE}group web-tier {{ children web_tier; }}\n");
        let d = check_kdl(&text);
        let c: Vec<_> = d.iter().filter(|d| d.code.as_str() == "SC0703").collect();
        assert_eq!(c.len(), 1, "{d:?}");
        assert_eq!(c[0].labels[0].message, "`web-tier` is its own child");
    }

    #[test]
    fn nested_groups_without_a_cycle_are_fine() {
        let text = format!(
            "{SITE}group a {{ children b c; }}\ngroup b {{ children c; }}\ngroup c {{ }}\n"
        );
        assert!(!codes(&text).contains(&"SC0703"));
    }
}
