//! Rule `group-names`: group names Ansible would not take as they are.
//!
//! **What it does.** Warns (SC0059) about a group — in `groups` of any
//! layer, a `group` block or its `children` — whose name is not an Ansible
//! group name: letters, digits and `_`, not starting with a digit. It
//! says what the inventory calls it instead (every other character
//! becomes `_`), and warns about `all`, which every host is in already.
//!
//! **Why it matters.** The inventory cannot use such a name as written:
//! siteconf replaces the characters, so `web-tier` and `web_tier` become
//! one group, and `ansible-inventory` warns about a leading digit. A
//! playbook that says `hosts: web-tier` then matches nothing. Warning at
//! `check` shows it where the name is written.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { groups "web-tier" "2024_batch"; }   // SC0059 (warning) twice
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::group_name;
use crate::model::names::is_group_name;
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "group-names",
    codes: &[Code::GroupNameRewritten],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut warn = |name: &Sp<String>, whose: String| {
        let n = name.value.as_str();
        let d = if n == "all" {
            Diagnostic::warning(
                Code::GroupNameRewritten,
                format!("{whose} `all`, which every host is in already"),
            )
            .label(name.span, "`all` is Ansible's own group")
            .help("leave it out, or give the group `all` its vars in a `group all { vars { … } }` block")
        } else if is_group_name(n) {
            return;
        } else {
            let as_written = group_name(n);
            let outcome = if as_written == n {
                "ansible-inventory warns about it".to_string()
            } else {
                format!("the inventory calls it `{as_written}`")
            };
            Diagnostic::warning(
                Code::GroupNameRewritten,
                format!("{whose} {n:?}, which is not an Ansible group name; {outcome}"),
            )
            .label(name.span, "not an Ansible group name")
            .help("use letters, digits and `_`, not starting with a digit, so playbooks can name the group as it is written")
        };
        diags.push(d);
    };
    for (what, s) in layers(cx.site) {
        for g in &s.groups {
            warn(g, format!("{what} is in the group"));
        }
    }
    for g in &cx.site.groups {
        if g.name.value != "all" {
            warn(&g.name, "a `group` block is named".to_string());
        }
        for c in &g.children {
            warn(c, format!("group {:?} has the child group", g.name.value));
        }
    }
}
