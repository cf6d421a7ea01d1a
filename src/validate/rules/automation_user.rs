//! Rule `automation-user`: the user automation logs in as must be able to.
//!
//! **What it does.** For the site's `automation-user NAME`:
//! - reports (SC0911) a NAME that `useradd` (which cloud-init runs to
//!   create it) refuses, or `root`;
//! - reports (SC0910) nodes that end up with no `ssh-key` for NAME (once,
//!   at `automation-user`, naming the nodes);
//! - warns (SC0912) when a group's `ansible_user` variable names another
//!   user, or sets `ansible_user` while the site has no `automation-user`
//!   (that user gets no sudo at first boot).
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
//! ```

use super::super::{Ctx, Rule};
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

#[cfg(test)]
mod tests {
    use super::valid_user_name;

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
