//! Rule `ansible-host-var`: `ansible_host` set in `vars`.
//!
//! **What it does.** Warns (SC0082) about `ansible_host`, or its old
//! spelling `ansible_ssh_host`, as a top-level key of `vars` of the site
//! defaults, a profile, a node, a switch or a group.
//!
//! **Why it matters.** siteconf writes each host's `ansible_host` into
//! hosts.yml itself: a node's management address (else its loopback), a
//! switch's loopback. A node's, profile's, the site defaults' or a
//! switch's vars go to host_vars, which outrank hosts.yml, so Ansible
//! connects to the address in `vars` instead: from the site defaults or a
//! profile, every node of it to one machine, and plays meant for one node
//! run on another. In a group's vars (group_vars, below hosts.yml) it
//! reaches only hosts siteconf has no address for.
//!
//! **Example.**
//! ```kdl
//! profile compute { vars { ansible_host "10.0.0.41"; } }   // SC0082
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ansible-host-var",
    codes: &[Code::AnsibleHostVar],
    check,
    resolved: false,
};

const NAMES: [&str; 2] = ["ansible_host", "ansible_ssh_host"];

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (owner, _, vars) in super::inventory_vars::owners(cx) {
        for name in NAMES {
            let Some((_, span)) = vars.entries.get(name) else {
                continue;
            };
            let (label, effect) = if owner.starts_with("group ") {
                (
                    "group_vars: given to every host of the group without an address",
                    "it reaches only the group's hosts siteconf has no address for, and gives them all this one",
                )
            } else {
                (
                    "host_vars outrank hosts.yml",
                    "host_vars outrank hosts.yml, so Ansible connects to this address instead, for every node that has these vars",
                )
            };
            diags.push(
                Diagnostic::warning(
                    Code::AnsibleHostVar,
                    format!(
                        "variable `{name}` of {owner} overrides the address siteconf gives each host in hosts.yml"
                    ),
                )
                .label(*span, label)
                .help(format!(
                    "siteconf writes `ansible_host` from the management address (a switch's loopback); {effect}: give the node the address on its management network instead, and remove `{name}`"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn ansible_host_in_vars_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
profile p { vars { ansible_host "10.0.0.9"; } }
group fleet { vars { ansible_ssh_host "10.0.0.8"; ansible_user ops; } }
node r01n01 { rack r01; position 1; profiles p; vars { ansible_host "10.0.0.7"; ansible_port 22; } }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0082").count(), 3, "{c:?}");
    }
}
