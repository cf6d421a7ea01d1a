//! Rule `inventory-vars`: variables the inventory cannot carry as written.
//!
//! **What it does.** Warns (SC0081) about a top-level key of `vars` — of
//! the site defaults, a profile, a node, a switch or a group — that the
//! inventory leaves out or that collides with siteconf's own facts:
//! - a name Ansible refuses as a variable name (`my-var`, `with space`,
//!   `1st`, `true`): left out of hosts.yml, host_vars, group_vars and
//!   `siteconf inventory` alike;
//! - the facts of its owner (`siteconf_node` of a node, a profile or the
//!   site defaults; `siteconf_switch` of a switch; `siteconf_site` of the
//!   group `all`): left out, the facts win;
//! - another facts name (`siteconf_site` of a node, `siteconf_node` of a
//!   group): kept, and it shadows siteconf's facts or is shadowed by them.
//!
//! Whether the inventory keeps a variable is decided by one function,
//! [`inventory_keeps_var`], which the inventory itself uses.
//!
//! **Why it matters.** Until now only `siteconf inventory` said so, on
//! stderr, where Ansible hides it: `check` and `build` passed, and a play
//! silently ran without the variable.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { vars { "my-var" 1; siteconf_node "x"; } }   // SC0081 twice
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{
    group_name, inventory_keeps_var, is_var_name, NODE_FACTS, SITE_FACTS, SWITCH_FACTS,
};
use crate::model::Vars;

pub static RULE: Rule = Rule {
    name: "inventory-vars",
    codes: &[Code::InventoryVarName],
    check,
    resolved: false,
};

/// Every `vars` of the site with its owner's name in messages and the
/// facts variable the inventory gives that owner (`""` for none). Node
/// layers (site defaults, profiles, nodes) end up in a node's host_vars.
pub(super) fn owners<'a>(cx: &Ctx<'a>) -> impl Iterator<Item = (String, &'static str, &'a Vars)> {
    let site = cx.site;
    let layers = super::layers(site).map(|(layer, s)| (layer.to_string(), NODE_FACTS, &s.vars));
    let switches = site
        .switches
        .iter()
        .map(|s| (format!("switch `{}`", s.name.value), SWITCH_FACTS, &s.vars));
    let groups = site.groups.iter().map(|g| {
        let facts = if group_name(&g.name) == "all" {
            SITE_FACTS
        } else {
            ""
        };
        (format!("group `{}`", g.name.value), facts, &g.vars)
    });
    layers.chain(switches).chain(groups)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (owner, facts, vars) in owners(cx) {
        for (key, (_, span)) in &vars.entries {
            let is_facts = [NODE_FACTS, SWITCH_FACTS, SITE_FACTS].contains(&key.as_str());
            if inventory_keeps_var(key, facts) && !is_facts {
                continue;
            }
            let d = if !is_var_name(key) {
                let fixed = group_name(key);
                let help = if is_var_name(&fixed) {
                    format!(
                        "use letters, digits and `_`, not starting with a digit, e.g. `{fixed}`"
                    )
                } else {
                    "use letters, digits and `_`, not starting with a digit, and not `true`, `false`, `none` or `not`".to_string()
                };
                Diagnostic::warning(
                    Code::InventoryVarName,
                    format!(
                        "variable {key:?} of {owner} is not a valid Ansible variable name; the inventory leaves it out"
                    ),
                )
                .label(*span, "not an Ansible variable name")
                .help(help)
            } else if !inventory_keeps_var(key, facts) {
                Diagnostic::warning(
                    Code::InventoryVarName,
                    format!(
                        "variable `{key}` of {owner} is the name of siteconf's own facts; the inventory leaves it out"
                    ),
                )
                .label(*span, "siteconf's facts always win")
                .help(format!("rename it, e.g. `site_{}`", key.trim_start_matches("siteconf_")))
            } else {
                Diagnostic::warning(
                    Code::InventoryVarName,
                    format!(
                        "variable `{key}` of {owner} has the name of siteconf's own facts; it shadows them or is shadowed by them"
                    ),
                )
                .label(*span, "a name siteconf's facts use")
                .help(format!(
                    "plays and templates read `{key}` as siteconf's facts: rename it, e.g. `site_{}`",
                    key.trim_start_matches("siteconf_")
                ))
            };
            diags.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    #[test]
    fn dropped_and_shadowing_names_warn_and_good_ones_do_not() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; defaults { vars { "my-var" 1; } } }
rack r01 { height 42; }
group all { vars { siteconf_site x; ok_var 1; } }
group fleet { vars { "with space" 1; siteconf_node x; } }
node r01n01 { rack r01; position 1; vars { siteconf_node x; siteconf_site y; "true" 1; release "2024"; nested { "a-b" 1; }; } }
"#;
        let d = check_kdl(site);
        let mut msgs: Vec<&str> = d
            .iter()
            .filter(|d| d.code.as_str() == "SC0081")
            .map(|d| d.message.as_str())
            .collect();
        msgs.sort();
        assert_eq!(
            msgs,
            [
                "variable \"my-var\" of the site defaults is not a valid Ansible variable name; the inventory leaves it out",
                "variable \"true\" of node `r01n01` is not a valid Ansible variable name; the inventory leaves it out",
                "variable \"with space\" of group `fleet` is not a valid Ansible variable name; the inventory leaves it out",
                "variable `siteconf_node` of group `fleet` has the name of siteconf's own facts; it shadows them or is shadowed by them",
                "variable `siteconf_node` of node `r01n01` is the name of siteconf's own facts; the inventory leaves it out",
                "variable `siteconf_site` of group `all` is the name of siteconf's own facts; the inventory leaves it out",
                "variable `siteconf_site` of node `r01n01` has the name of siteconf's own facts; it shadows them or is shadowed by them",
            ],
            "{d:?}"
        );
    }
}
