//! Rule `ssh-key-shared`: one public key given to two users.
//!
//! **What it does.** Warns (SC0089) about an `ssh-key` (of the site
//! defaults, a profile or a node) whose key — its type and base64 body —
//! is the key of an `ssh-key` of another user declared earlier, while its
//! comment names its own user as the holder (`bob@ops`, or a name and
//! mail address, `Bob Smith <bob@example.com>`, for user `bob`,
//! where the earlier entry's key is `alice@ops`'s): the key was pasted
//! and the comment edited, naming that key and user. Only that claim
//! counts: a person's key given to a shared or role account with no name
//! of its own in the comment (alice's key for `ops`, `root` or the
//! automation user, `breakglass@vault` on two accounts) is a deliberate
//! grant, and the same key twice for one user is not this rule's. A
//! `cert-authority` key is a CA that signs certificates, meant to be
//! trusted by several accounts (the certificate's principals say who logs
//! in as whom): not reported either.
//!
//! **Why it matters.** A key pasted from a colleague's entry (with the
//! comment edited, `bob@…`) lets the holder of that key's private half —
//! the colleague — log in as the other user too, while the user it was
//! meant for cannot log in at all: their own key is not there (when it is,
//! declared in another entry, the finding says so: the pasted entry only
//! lets the colleague in).
//!
//! **Example.**
//! ```kdl
//! ssh-key alice { user alice; key "ssh-ed25519 AAAAC3…Bww alice@ops" }
//! ssh-key bob { user bob; key "ssh-ed25519 AAAAC3…Bww bob@ops" }   // SC0089
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ssh-key-shared",
    codes: &[Code::SshKeySharedByUsers],
    check,
    resolved: false,
};

/// A key's identity (its type and body) and its comment.
fn body(key: &str) -> Option<((&str, &str), String)> {
    let mut w = key.split_whitespace();
    let (ty, b) = (w.next()?, w.next()?);
    let comment = w.collect::<Vec<_>>().join(" ");
    (b.len() >= 16).then_some(((ty, b), comment))
}

/// Whether the comment names `user` as the person holding the key: its
/// part before `@` (`bob@ops`), the whole comment (`bob`), or the local
/// part of a mail address in it (`Bob Smith <bob@example.com>`).
fn names_user(comment: &str, user: &str) -> bool {
    let who = comment.split('@').next().unwrap_or("").trim();
    if !who.is_empty() && who.eq_ignore_ascii_case(user) {
        return true;
    }
    comment
        .split_whitespace()
        .filter_map(|w| {
            let w = w.trim_matches(|c| matches!(c, '<' | '>' | '(' | ')' | ',' | '"' | '\''));
            w.split_once('@').map(|(local, _)| local)
        })
        .any(|local| !local.is_empty() && local.eq_ignore_ascii_case(user))
}

/// Whether the key's options make it a certificate authority.
fn cert_authority(options: Option<&str>) -> bool {
    options.is_some_and(|o| {
        o.split(',')
            .any(|x| x.trim().eq_ignore_ascii_case("cert-authority"))
    })
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    // Each user's keys (identity, entry name, owner): whether a user named
    // on another's key has a key of their own declared too.
    type Keyed<'a> = ((&'a str, &'a str), &'a str, String);
    let mut own: BTreeMap<&str, Vec<Keyed>> = BTreeMap::new();
    for (what, s) in layers(cx.site) {
        for k in &s.ssh_keys {
            if let Some((id, _)) = body(&k.key.value) {
                own.entry(k.user.value.as_str()).or_default().push((
                    id,
                    k.name.value.as_str(),
                    what.to_string(),
                ));
            }
        }
    }
    // The first entry of each key: (key name, user, comment, owner).
    type First<'a> = (&'a str, &'a str, String, String);
    let mut first: BTreeMap<(&str, &str), First> = BTreeMap::new();
    for (what, s) in layers(cx.site) {
        for k in &s.ssh_keys {
            let Some((id, comment)) = body(&k.key.value) else {
                continue;
            };
            if cert_authority(k.options.as_ref().map(|o| o.value.as_str())) {
                continue;
            }
            let user = k.user.value.as_str();
            match first.get(&id) {
                None => {
                    first.insert(id, (k.name.value.as_str(), user, comment, what.to_string()));
                }
                // The same key with its comment edited: pasted from the
                // other entry, meant as another person's key. The same
                // key and comment for two users is one holder given both
                // accounts (an admin's key for the automation user too).
                Some((name, other, c, owner))
                    if *other != user && names_user(&comment, user) && !names_user(c, user) =>
                {
                    // `user`'s own key, declared in another entry.
                    let theirs = own
                        .get(user)
                        .and_then(|ks| ks.iter().find(|(i, _, _)| *i != id));
                    let (tail, help) = match theirs {
                        Some((_, their_name, their_owner)) => (
                            format!(
                                "; `{user}`'s own key is declared as well (`{their_name}` of {their_owner}): this entry only lets `{other}` in"
                            ),
                            format!(
                                "delete this entry: `{user}` logs in with their own key, `{their_name}`; if `{other}` is meant to use the `{user}` account, say so in the comment (e.g. `{other}@…`)"
                            ),
                        ),
                        None => (
                            format!(", and `{user}`'s own key is not there"),
                            format!(
                                "paste `{user}`'s own public key (their `~/.ssh/id_ed25519.pub`); if one holder really uses both accounts, give them one key of their own per account"
                            ),
                        ),
                    };
                    diags.push(
                        Diagnostic::warning(
                            Code::SshKeySharedByUsers,
                            format!(
                                "SSH key `{}` of {what} for user `{user}` is the same key as `{name}` of {owner}, for user `{other}`: whoever holds `{other}`'s private key logs in as `{user}` too{tail}",
                                k.name.value
                            ),
                        )
                        .label(k.key.span, format!("the key of `{other}` (`{name}`)"))
                        .help(help),
                    );
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOEh7vWVlIpK764/iDpPhxl19+/8GFGcpa7rkBZYThC6";

    fn n(bob_key: &str, bob: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
profile base {{
    ssh-key alice {{ user alice; key "{A} alice@ops"; }}
    ssh-key b {{ user {bob}; key "{bob_key}"; }}
}}
node r01n01 {{ rack r01; position 1; profiles base; }}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0089").count()
    }

    #[test]
    fn one_key_for_two_users_warns() {
        assert_eq!(n(&format!("{A} bob@ops"), "bob"), 1);
        // The same key twice for one user is no finding of this rule,
        // nor one holder's key (its comment kept) for a second account.
        assert_eq!(n(&format!("{A} alice@laptop"), "alice"), 0);
        assert_eq!(n(&format!("{A} alice@ops"), "ansible"), 0);
        // alice's key given to a role account, with or without a comment
        // of its own: a grant, not a paste.
        assert_eq!(n(&format!("{A} breakglass@vault"), "root"), 0);
        assert_eq!(n(&format!("{A} ops"), "bob"), 0);
        assert_eq!(n(A, "ops"), 0);
        // bob named on alice's key: the entry claims to be bob's.
        assert_eq!(n(&format!("{A} Bob@laptop"), "bob"), 1);
        // A name and a mail address, as `ssh-keygen -C` is often given.
        assert_eq!(n(&format!("{A} Bob Smith <bob@example.com>"), "bob"), 1);
        assert_eq!(n(&format!("{A} Alice Doe <alice@example.com>"), "ops"), 0);
        assert_eq!(
            n(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMrG72uHP+AMbuuJt1FZLHRLsu06T4fGnlTzSTm0B9Ww bob@ops",
                "bob"
            ),
            0
        );
    }

    #[test]
    fn a_break_glass_key_or_a_certificate_authority_is_for_many_accounts() {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
profile base {{
    ssh-key bg-root {{ user root; key "{A} breakglass-root@vault"; }}
    ssh-key bg-admin {{ user admin; key "{A} breakglass-admin@vault"; }}
    ssh-key ca-alice {{ user alice; key "{A} ops-ca alice"; options "cert-authority,principals=\"alice\""; }}
    ssh-key ca-bob {{ user bob; key "{A} ops-ca bob"; options "cert-authority,principals=\"bob\""; }}
}}
node r01n01 {{ rack r01; position 1; profiles base; }}
"#
        );
        assert!(!codes(&site).contains(&"SC0089"));
    }
}
