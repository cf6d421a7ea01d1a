//! Rule `ansible-connection-vars`: connection variables in `vars` that
//! take plays off the nodes or off root.
//!
//! **What it does.** Warns (SC0087) about, as a top-level key of `vars`
//! of the site defaults, a profile, a node, a switch or a group:
//!
//! - `ansible_connection` with a value other than an SSH connection
//!   (`ssh`, `smart`, `paramiko`, their `ansible.builtin.` names): `local`,
//!   `docker`, `winrm` …;
//! - `ansible_become` (or its old spelling `ansible_sudo`) false (`#false`,
//!   `"no"`, `"false"`, `"off"`, `0`).
//!
//! A Jinja expression (`"{{ … }}"`) is not judged.
//!
//! **Why it matters.** siteconf's inventory is for hosts reached over SSH
//! as the automation user, with root through `become`. Inventory variables
//! outrank a play's keywords (Ansible's variable precedence): with
//! `ansible_connection local` every play for the hosts that get the vars
//! runs on the controller — a `reboot` or a package upgrade hits the
//! Ansible host, once per node, while the nodes are never touched; with
//! `ansible_become` false a play's `become: true` is overridden and every
//! root task fails with "Permission denied".
//!
//! **Example.**
//! ```kdl
//! group compute { vars { ansible_connection local; } }   // SC0087
//! node r01n01 { vars { ansible_become #false; } }         // SC0087
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ansible-connection-vars",
    codes: &[Code::AnsibleConnectionVar],
    check,
    resolved: false,
};

/// Connection plugins that reach the host over SSH.
const SSH: &[&str] = &[
    "ssh",
    "smart",
    "paramiko",
    "paramiko_ssh",
    "ansible.builtin.ssh",
    "ansible.builtin.paramiko_ssh",
    "ansible.netcommon.network_cli",
    "ansible.netcommon.netconf",
    "network_cli",
    "netconf",
];

/// A value Ansible reads as false (its `boolean` filter's words).
fn is_false(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0" | "n" | "f"
        ),
        _ => false,
    }
}

fn templated(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.contains("{{") || s.contains("{%"))
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (owner, _, vars) in super::inventory_vars::owners(cx) {
        let reach = if owner.starts_with("group ") {
            "the group's hosts"
        } else {
            "the hosts that get these vars"
        };
        for name in ["ansible_connection"] {
            let Some((v, span)) = vars.entries.get(name) else {
                continue;
            };
            if templated(v) {
                continue;
            }
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            if SSH.contains(&shown.trim()) {
                continue;
            }
            let effect = if shown.trim() == "local" {
                format!("plays for {reach} run on the Ansible controller itself (a `reboot` or an upgrade hits the controller, once per host), and those hosts are never touched")
            } else {
                format!("Ansible reaches {reach} with the `{shown}` connection plugin instead of SSH, and the plays fail or act elsewhere")
            };
            diags.push(
                Diagnostic::warning(
                    Code::AnsibleConnectionVar,
                    format!(
                        "variable `{name}` `{shown}` of {owner}: inventory variables outrank a play's `connection`, so {effect}"
                    ),
                )
                .label(*span, format!("`{shown}`: not SSH"))
                .help(format!(
                    "remove `{name}`: siteconf's inventory reaches every host over SSH at the address it writes; a play meant for the controller says `hosts: localhost` or `delegate_to: localhost`"
                )),
            );
        }
        for name in ["ansible_become", "ansible_sudo"] {
            let Some((v, span)) = vars.entries.get(name) else {
                continue;
            };
            if templated(v) || !is_false(v) {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    Code::AnsibleConnectionVar,
                    format!(
                        "variable `{name}` is false in {owner}: inventory variables outrank a play's `become: true`, so every task that needs root fails on {reach} (\"Permission denied\")"
                    ),
                )
                .label(*span, "outranks `become: true` in plays")
                .help(format!(
                    "remove `{name}` and say `become` in the plays or tasks that need (or must not have) root"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(vars: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
group fleet {{ vars {{ {vars} }} }}
node r01n01 {{ rack r01; position 1; groups fleet; }}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0087").count()
    }

    #[test]
    fn connection_vars_that_leave_ssh_or_root_warn() {
        assert_eq!(n("ansible_connection local"), 1);
        assert_eq!(n("ansible_connection winrm"), 1);
        assert_eq!(n("ansible_connection ssh"), 0);
        assert_eq!(n("ansible_connection \"ansible.builtin.ssh\""), 0);
        assert_eq!(n("ansible_connection \"{{ conn }}\""), 0);
        assert_eq!(n("ansible_become #false"), 1);
        assert_eq!(n("ansible_become no"), 1);
        assert_eq!(n("ansible_become 0"), 1);
        assert_eq!(n("ansible_become #true"), 0);
        assert_eq!(n("ansible_become_user postgres"), 0);
        assert_eq!(n("ansible_connection local; ansible_sudo \"false\""), 2);
    }
}
