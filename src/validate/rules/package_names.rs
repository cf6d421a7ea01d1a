//! Rule `package-names`: package names apt cannot install.
//!
//! **What it does.** Reports (SC0047) an entry of `packages` (site
//! defaults, profiles, nodes) that is not a Debian package name (Debian
//! Policy §5.6.1: lower-case letters, digits, `+`, `-` and `.`, at least
//! two characters, starting with a letter or digit), optionally followed by
//! `:ARCH` and by `=VERSION` or `/RELEASE`, as `apt-get install` takes
//! them. A name with an upper-case letter gets the lower-case name as a
//! hint; one with white space (`"vim git"`), as two entries.
//!
//! **Why it matters.** The list goes into cloud-init's `packages`, which
//! hands it to one `apt-get install`: a single bad name fails the whole
//! install on first boot, so the node comes up without any of its
//! packages (FRR included).
//!
//! **Example.**
//! ```kdl
//! profile base { packages "openssh-server" "Chrony" }   // SC0047: did you mean `chrony`?
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "package-names",
    codes: &[Code::InvalidPackageName],
    check,
    resolved: false,
};

/// Debian Policy §5.6.1.
pub(crate) fn is_package_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')
        })
}

/// Debian Policy §5.6.12: [epoch:]upstream[-revision], as far as apt's
/// command line is concerned (it takes any of these characters).
fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.as_bytes()[0].is_ascii_digit()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-' | b'~' | b':'))
}

/// Checks `name[:arch][=version|/release]`; the error is (label, hint).
pub(crate) fn validate(spec: &str) -> Result<(), (String, String)> {
    if spec.chars().any(char::is_whitespace) {
        return Err((
            "contains white space".into(),
            "one package per entry: `packages vim git`".into(),
        ));
    }
    let (rest, version) = match spec.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    let (rest, release) = match (version, rest.split_once('/')) {
        (None, Some((n, r))) => (n, Some(r)),
        _ => (rest, None),
    };
    let (name, arch) = match rest.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (rest, None),
    };
    if !is_package_name(name) {
        let lower = name.to_ascii_lowercase();
        let hint = if lower != name && is_package_name(&lower) {
            format!("package names are lower case: did you mean `{lower}`?")
        } else {
            "a Debian package name is lower-case letters, digits, `+`, `-` and `.`, at least two characters, starting with a letter or digit".into()
        };
        return Err((format!("`{name}` is not a Debian package name"), hint));
    }
    if let Some(a) = arch {
        if a.is_empty()
            || !a
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            return Err((
                format!("`{a}` is not an architecture"),
                "write `NAME:ARCH`, e.g. `libc6:i386`".into(),
            ));
        }
    }
    if let Some(v) = version {
        if !is_version(v) {
            return Err((
                format!("`{v}` is not a Debian version"),
                "write `NAME=VERSION`, e.g. `frr=8.4.4-1.1~deb12u1`".into(),
            ));
        }
    }
    if let Some(r) = release {
        if r.is_empty()
            || !r
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'+'))
        {
            return Err((
                format!("`{r}` is not a release name"),
                "write `NAME/RELEASE`, e.g. `frr/bookworm-backports`".into(),
            ));
        }
    }
    Ok(())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for p in &s.packages {
            if let Err((label, hint)) = validate(&p.value) {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidPackageName,
                        format!("package `{}` of {what} cannot be installed by apt", p.value),
                    )
                    .label(p.span, label)
                    .help(hint),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn package_specs() {
        for ok in [
            "openssh-server",
            "g++",
            "libstdc++6",
            "python3.11",
            "0ad",
            "frr=8.4.4-1.1~deb12u1",
            "frr=1:8.4",
            "frr/bookworm-backports",
            "libc6:i386",
            "libc6:i386=2.36-9",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "Chrony",
            "a",
            "-x",
            "vim git",
            "frr=",
            "frr=latest",
            "frr/",
            "lib_x",
            "",
            "pkg:",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(validate("Chrony").unwrap_err().1.contains("`chrony`"));
    }
}
