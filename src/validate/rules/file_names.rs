//! Rule `file-names`: names that become file names on the machine but
//! cannot be one.
//!
//! **What it does.** Reports (SC0007) a `repo` whose name is not 1–128
//! letters, digits, `_`, `-` and `.` starting with a letter or digit, and an
//! `ssh-key` whose `user` is not 1–32 letters, digits, `_`, `-` and `.`
//! starting with a letter, digit or `_`. Entity names (nodes, switches,
//! racks…) are host name labels, checked when they are read (SC0016);
//! these two are the other names that end up in output paths:
//! `etc/apt/sources.list.d/<repo>.sources` and
//! `etc/ssh/authorized_keys/<user>`. Checked in every layer, once each.
//!
//! **Why it matters.** A `/` in such a name puts the file in a
//! subdirectory that apt or sshd never reads (apt also silently skips a
//! sources file whose name has other characters), and `..`, a NUL or a
//! 300-character name cannot be written at all: `build` refuses the path
//! (SC0903). Reporting it here lets `check` and the pre-commit hook catch
//! it at the name.
//!
//! **Example.**
//! ```kdl
//! repo "vendor/tools" { uris "https://apt.example.net"; suites stable; }   // SC0007
//! ssh-key ops { user "../root"; key "ssh-ed25519 AAAA…"; }                  // SC0007
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "file-names",
    codes: &[Code::InvalidValue],
    check,
    resolved: false,
};

/// Longest repo name: apt has no limit of its own, but the file name
/// (`<repo>.sources`) must stay well under the filesystems' 255 bytes.
const REPO_MAX: usize = 128;
/// Longest user name `useradd` accepts.
const USER_MAX: usize = 32;

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for r in &s.repos {
            if !repo_name_ok(&r.name.value) {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!(
                            "repo {:?} of {what} cannot be a file name: it names etc/apt/sources.list.d/<repo>.sources",
                            r.name.value
                        ),
                    )
                    .label(r.name.span, "not a plain file name")
                    .help(format!(
                        "use 1–{REPO_MAX} letters, digits, `_`, `-` and `.`, starting with a letter or digit (apt skips sources files with other names)"
                    )),
                );
            }
        }
        for k in &s.ssh_keys {
            if !user_name_ok(&k.user.value) {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!(
                            "SSH key `{}` of {what} has user {:?}, which is not a user name: it names etc/ssh/authorized_keys/<user>",
                            k.name.value, k.user.value
                        ),
                    )
                    .label(k.user.span, "not a user name")
                    .help(format!(
                        "use 1–{USER_MAX} letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`"
                    )),
                );
            }
        }
    }
}

fn plain(s: &str, max: usize, first: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && first(b[0])
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn repo_name_ok(s: &str) -> bool {
    plain(s, REPO_MAX, |c| c.is_ascii_alphanumeric())
}

fn user_name_ok(s: &str) -> bool {
    plain(s, USER_MAX, |c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    #[test]
    fn plain_names_pass_and_paths_do_not() {
        for ok in ["debian", "debian-security", "docker.ce_2", "0ubuntu"] {
            assert!(repo_name_ok(ok), "{ok}");
        }
        for ok in ["root", "ops", "_svc", "deploy.bot", "a-b"] {
            assert!(user_name_ok(ok), "{ok}");
        }
        let long = "a".repeat(300);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/x",
            "a\0b",
            "a b",
            "-x",
            ".hidden",
            "a\\b",
            "é",
            long.as_str(),
        ] {
            assert!(!repo_name_ok(bad), "{bad:?}");
            assert!(!user_name_ok(bad), "{bad:?}");
        }
        assert!(repo_name_ok(&"a".repeat(REPO_MAX)));
        assert!(!user_name_ok(&"a".repeat(USER_MAX + 1)));
    }

    #[test]
    fn reported_in_the_layer_that_writes_them() {
        let site = "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\n\
            rack r01 { height 42; }\n\
            profile p { repo \"a/b\" { uris \"https://x.example\"; suites s; components main; } }\n\
            node r01n01 { rack r01; position 1; profiles p\n\
              ssh-key k { user \"../root\"; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUh/byqEvhj7x04R/xs6P3Ldn2nkW9Icr1GVAj5FJXR a@b\"; }\n\
            }\n";
        assert_eq!(codes(site), vec!["SC0007", "SC0007"]);
    }
}
