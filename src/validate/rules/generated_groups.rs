//! Rule `generated-groups`: joining a group the inventory makes itself.
//!
//! **What it does.** Reports (SC0704) a name in `groups` — of the site
//! defaults, a profile or a node — that is a group the inventory makes
//! from the site: `switches` (every switch), `role_<role>`, `rack_<rack>`
//! or `profile_<profile>`, compared as the inventory writes names (`-`
//! becomes `_`). The names come from [`generated_group`], the list the
//! inventory's groups are made by.
//!
//! **Why it matters.** Such a group stands for what siteconf knows of its
//! hosts: a play for `switches` pushes switch configuration, a play for
//! `role_tor` or `rack_r02` expects those devices. A compute node joined
//! to `switches` by hand is treated as a switch by every such play. A
//! `group` block may still give these groups vars or list them as
//! `children`; only joining them is refused.
//!
//! **Example.**
//! ```kdl
//! profile compute { groups compute switches; }   // SC0704
//! node r01n01 { rack r01; groups rack_r02; }     // SC0704: set `rack` instead
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{generated_group, group_name};

pub static RULE: Rule = Rule {
    name: "generated-groups",
    codes: &[Code::GeneratedGroupJoined],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for g in &s.groups {
            let name = group_name(g);
            let Some(made_of) = generated_group(&name) else {
                continue;
            };
            let spelled = if name == g.value {
                String::new()
            } else {
                format!(" (`{name}` in the inventory)")
            };
            diags.push(
                Diagnostic::error(
                    Code::GeneratedGroupJoined,
                    format!(
                        "{what} joins the group `{}`{spelled}, which siteconf makes itself of {made_of}",
                        g.value
                    ),
                )
                .label(g.span, "a group of the inventory's own")
                .help(
                    "plays for this group would run on these hosts too: set the node's `role`, `rack` or `profiles` to put it there, \
                     or join a group of your own; a `group` block may still give this group vars or list it in `children`",
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn joining_a_generated_group_is_an_error() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile p { groups compute switches; }
profile x { }
group role_tor { vars { ntp_role edge; }; }
group fleet { children switches role_tor rack_r01 profile_x; }
node r01n01 { rack r01; position 1; profiles p; groups rack_r02 role-tor profile_x keep_me rackish; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0704").count(), 4, "{c:?}");
    }
}
