//! Rule `automation-user`: the user automation logs in as must be able to.
//!
//! **What it does.** For the site's `automation-user NAME`:
//! - reports (SC0911) a NAME that `useradd` (which cloud-init runs to
//!   create it) refuses, or `root`;
//! - reports (SC0910) nodes that end up with no `ssh-key` for NAME (once,
//!   at `automation-user`, naming the nodes);
//! - warns (SC0912) when a group's `ansible_user` variable names another
//!   user, or sets `ansible_user` while the site has no `automation-user`
//!   (that user gets no sudo at first boot);
//! - warns (SC0912), per node, when its host vars (the site defaults', a
//!   profile's or its own `vars`, which outrank every group's) set
//!   `ansible_user` to a user other than the one holding the automation
//!   key on the node: a user with no `ssh-key` there (`root` above all,
//!   which siteconf gives no key and sshd lets in by key only) cannot log
//!   in at all, and the node is unreachable; one with a key gets no sudo
//!   (root with a key of its own is a choice, not reported).
//!
//! **Why it matters.** The automation user is created at first boot with
//! passwordless sudo (unless `automation-sudo #false`) so that Ansible can
//! `become` root. Without a key nobody can log in as it; with another
//! `ansible_user`, Ansible logs in as a user that cannot become root, and
//! every play that needs root fails on every node.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.example.net"; automation-user deploy; }   // SC0910 if no node has
//! group fleet { vars { ansible_user ansible } }                    // SC0912: not `deploy`
//! profile ops-debug { vars { ansible_user root } }                 // SC0912: root has no key
//! ```

use super::super::{Ctx, Rule};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "automation-user",
    codes: &[
        Code::AutomationUserNoKey,
        Code::AutomationUserInvalid,
        Code::AnsibleUserMismatch,
    ],
    check,
    resolved: true,
};

/// Nodes named in the SC0910 message before "and N more".
const SHOWN: usize = 5;

/// What `useradd` of Debian 12 (shadow 4.13, libmisc/chkname.c) accepts,
/// which is how cloud-init creates the user: a letter, digit, `_` or `.`,
/// then letters, digits, `_`, `.` and `-`, with an optional final `$`; not
/// only digits, not `.` or `..`; at most 32 characters (utmp's user
/// field). Upper case is allowed: only `adduser`'s NAME_REGEX refuses it,
/// and cloud-init does not use adduser.
pub(crate) fn valid_user_name(n: &str) -> bool {
    let b = n.as_bytes();
    let body = b.strip_suffix(b"$").unwrap_or(b);
    let ok = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.');
    !body.is_empty()
        && b.len() <= 32
        && n != "."
        && n != ".."
        && ok(&body[0])
        && body[1..].iter().all(|c| ok(c) || *c == b'-')
        && !b.iter().all(u8::is_ascii_digit)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let user = cx
        .site
        .site
        .as_ref()
        .and_then(|s| s.automation_user.as_ref());
    // An automation user that cannot be created is SC0911's one finding:
    // no hint should propose it as `ansible_user`.
    let user_ok = user.is_none_or(|u| u.value != "root" && valid_user_name(&u.value));
    // Groups that set `ansible_user` to a plain string.
    for g in &cx.site.groups {
        let Some((serde_json::Value::String(v), span)) = g.vars.entries.get("ansible_user") else {
            continue;
        };
        match user {
            Some(u) if u.value != *v && user_ok => diags.push(
                Diagnostic::warning(
                    Code::AnsibleUserMismatch,
                    format!(
                        "group `{}` makes Ansible log in as `{v}`, but the site's automation user (the one with sudo) is `{}`",
                        g.name.value, u.value
                    ),
                )
                .label(*span, format!("`ansible_user` is `{v}`, who gets no sudo at first boot"))
                .label(u.span, "the automation user")
                .help(format!(
                    "set `ansible_user {}` here, or change `automation-user` to `{v}`",
                    u.value
                )),
            ),
            Some(_) => {}
            None => diags.push(
                Diagnostic::warning(
                    Code::AnsibleUserMismatch,
                    format!(
                        "group `{}` makes Ansible log in as `{v}`, but the site has no `automation-user`: `{v}` gets no sudo at first boot",
                        g.name.value
                    ),
                )
                .label(*span, format!("`ansible_user` is `{v}`: Ansible cannot `become` root as this user"))
                .help(format!(
                    "add `automation-user {v}` to the site block (it gets passwordless sudo; `automation-sudo #false` turns that off)"
                )),
            ),
        }
    }
    host_vars(
        cx,
        user.filter(|_| user_ok).map(|u| u.value.as_str()),
        diags,
    );
    let Some(u) = user else { return };
    let name = u.value.as_str();
    if name == "root" || !valid_user_name(name) {
        diags.push(
            Diagnostic::error(
                Code::AutomationUserInvalid,
                if name == "root" {
                    "the automation user cannot be `root`".to_string()
                } else {
                    format!("`{name}` is not a user name `useradd` accepts: cloud-init cannot create the automation user")
                },
            )
            .label(u.span, "automation user")
            .help("name a dedicated user such as `ansible`: up to 32 letters, digits, `_`, `.` and `-`, not starting with `-` and not only digits"),
        );
        return;
    }
    let Some(resolved) = cx.resolved else { return };
    let missing: Vec<&str> = resolved
        .nodes
        .iter()
        .filter(|rn| !rn.settings.ssh_keys.iter().any(|k| k.user.value == name))
        .map(|rn| cx.site.nodes[rn.index].name.value.as_str())
        .collect();
    if missing.is_empty() {
        return;
    }
    let all = missing.len() == resolved.nodes.len();
    let mut listed = missing[..missing.len().min(SHOWN)].join(", ");
    if missing.len() > SHOWN {
        listed.push_str(&format!(" and {} more", missing.len() - SHOWN));
    }
    diags.push(
        Diagnostic::error(
            Code::AutomationUserNoKey,
            if all {
                format!("the automation user `{name}` has no SSH key on any node")
            } else {
                format!(
                    "the automation user `{name}` has no SSH key on {} node(s): {listed}",
                    missing.len()
                )
            },
        )
        .label(u.span, "nobody can log in as this user")
        .help(format!(
            "add `ssh-key NAME {{ user {name}; key \"ssh-ed25519 …\" }}` to the site's `defaults` or to a profile {} use",
            if all { "all nodes" } else { "these nodes" }
        )),
    );
}

/// SC0912 for `ansible_user` in a node's host vars (the site defaults, a
/// profile, the node), which Ansible prefers to any group's: judged against
/// the user holding the automation key on that node.
fn host_vars(cx: &Ctx, auto: Option<&str>, diags: &mut Diagnostics) {
    let Some(resolved) = cx.resolved else { return };
    let mut found = PerNode::new();
    for rn in &resolved.nodes {
        let Some((serde_json::Value::String(v), span)) =
            rn.settings.vars.entries.get("ansible_user")
        else {
            continue;
        };
        if crate::model::names::ansible_templated(v) || auto == Some(v.as_str()) {
            continue;
        }
        let owner = super::layers(cx.site)
            .find(|(_, s)| s.vars.entries.get("ansible_user").map(|(_, sp)| sp) == Some(span))
            .map_or_else(|| "the node's vars".to_string(), |(l, _)| l.to_string());
        let keyed: Vec<&str> = {
            let mut k: Vec<&str> = rn
                .settings
                .ssh_keys
                .iter()
                .map(|k| k.user.value.as_str())
                .collect();
            k.sort_unstable();
            k.dedup();
            k
        };
        let has_key = keyed.contains(&v.as_str());
        // Root with a key of its own logs in and needs no sudo: a choice.
        if has_key && v == "root" {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.value.as_str();
        let d = if !has_key {
            let who = if v == "root" {
                "`root`, who has no `ssh-key` on it (sshd lets root in by key only)".to_string()
            } else {
                format!("`{v}`, who has no `ssh-key` on it")
            };
            let help = match auto {
                Some(a) => format!(
                    "remove `ansible_user` from {owner} (Ansible then logs in as `{a}`, the automation user, who holds the key and has sudo); for root, keep `become: true` in the plays"
                ),
                None if !keyed.is_empty() => format!(
                    "remove `ansible_user` from {owner}, or set it to a user with a key on the node ({}), and make that user the site's `automation-user` so it gets sudo",
                    keyed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
                None => format!(
                    "remove `ansible_user` from {owner}; declare an `automation-user` with an `ssh-key` on every node"
                ),
            };
            Diagnostic::warning(
                Code::AnsibleUserMismatch,
                format!(
                    "`ansible_user` in {owner} (a host var, which outranks every group's) makes Ansible log in as {who}: Ansible cannot log in and the node is unreachable"
                ),
            )
            .label(*span, format!("`{v}` has no key on the node"))
            .help(help)
        } else {
            let why = match auto {
                Some(a) => format!("but the automation user (the one with sudo) is `{a}`"),
                None => "but the site has no `automation-user`".to_string(),
            };
            Diagnostic::warning(
                Code::AnsibleUserMismatch,
                format!(
                    "`ansible_user` in {owner} (a host var, which outranks every group's) makes Ansible log in as `{v}`, {why}: `{v}` gets no sudo at first boot and cannot `become` root"
                ),
            )
            .label(*span, format!("`ansible_user` is `{v}`"))
            .help(match auto {
                Some(a) => format!("remove `ansible_user` from {owner} (Ansible then logs in as `{a}`), or change `automation-user` to `{v}`"),
                None => format!("add `automation-user {v}` to the site block (it gets passwordless sudo)"),
            })
        };
        found.push(name, d);
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::valid_user_name;

    fn sc0912(vars: &str, group: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; automation-user deploy
    defaults {{ ssh-key d {{ user deploy; key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 deploy@ci"; }} }} }}
rack r01 {{ height 42; }}
group fleet {{ vars {{ {group} }} }}
profile p {{ {vars} }}
node r01n01 {{ rack r01; position 1; groups fleet; profiles p; }}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0912").count()
    }

    #[test]
    fn host_vars_ansible_user() {
        assert_eq!(sc0912("vars { ansible_user root }", "x 1"), 1);
        assert_eq!(sc0912("vars { ansible_user ops }", "x 1"), 1);
        assert_eq!(sc0912("vars { ansible_user deploy }", "x 1"), 0);
        assert_eq!(sc0912("vars { ansible_user root; }; ssh-key r { user root; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 r@x\"; }", "x 1"), 0);
        assert_eq!(sc0912("vars { ansible_user \"{{ u }}\" }", "x 1"), 0);
        assert_eq!(sc0912("", "ansible_user deploy"), 0);
        // The group's value is its own finding.
        assert_eq!(
            sc0912("vars { ansible_user root }", "ansible_user deploy"),
            1
        );
    }

    #[test]
    fn user_names() {
        // What Debian 12's `useradd -R` accepts.
        for ok in [
            "ansible",
            "_svc",
            "deploy-1",
            "a_b",
            "Ansible",
            "1carol",
            "carol.smith",
            "host$",
            &"a".repeat(32),
        ] {
            assert!(valid_user_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "a b",
            "ä",
            "123",
            ".",
            "..",
            "a$b",
            "$",
            &"a".repeat(33),
        ] {
            assert!(!valid_user_name(bad), "{bad}");
        }
    }
}
