//! Rule `repo-signed-by`: a repo's `signed-by` apt does not accept.
//!
//! **What it does.** Reports (SC0043) a `signed-by` that is none of what
//! apt's deb822 sources take (sources.list(5)): one or more absolute paths
//! of keyrings ending in `.gpg` (binary) or `.asc` (armoured), or OpenPGP
//! fingerprints of 40 hex digits (a trailing `!` pins a subkey), separated
//! by commas or white space; or one armoured public key block
//! (`-----BEGIN PGP PUBLIC KEY BLOCK-----` … `-----END …`), embedded.
//! A relative path (`internal.gpg`), a short key id (`0123456789ABCDEF`)
//! or a keyring of another extension is reported.
//!
//! **Why it matters.** apt refuses the whole source list on a `Signed-By`
//! that is neither a path nor a fingerprint ("not a fingerprint"), so no
//! package installs on any node of the profile; and it ignores a keyring
//! file whose name does not end in `.gpg` or `.asc`, so the repository
//! then fails with NO_PUBKEY.
//!
//! **Example.**
//! ```kdl
//! repo internal { uris "https://apt.example.net/"; suites bookworm; signed-by "internal.gpg" }   // SC0043
//! ```

use super::super::{Ctx, Rule};
use super::{layers, narrow};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "repo-signed-by",
    codes: &[Code::RepoSignedBy],
    check,
    resolved: false,
};

const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// Checks one `signed-by` value; the error is (the part at fault, label, hint).
pub(crate) fn validate(v: &str) -> Result<(), (String, String, String)> {
    let t = v.trim();
    if t.starts_with("-----BEGIN") {
        if !t.starts_with(BEGIN) {
            return Err((
                String::new(),
                "an armoured block that is not a public key".into(),
                format!("an embedded key starts with `{BEGIN}`: export it with `gpg --armor --export KEYID`"),
            ));
        }
        if !t.ends_with(END) {
            return Err((
                String::new(),
                "the armoured key has no end line".into(),
                format!("paste the whole key, down to `{END}`"),
            ));
        }
        return Ok(());
    }
    let items: Vec<&str> = t
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err((
            String::new(),
            "empty".into(),
            "give the absolute path of the keyring, e.g. `/etc/apt/keyrings/internal.gpg`, or leave `signed-by` out".into(),
        ));
    }
    for it in items {
        if it.starts_with('/') {
            if !(it.ends_with(".gpg") || it.ends_with(".asc"))
                || it.ends_with("/.gpg")
                || it.ends_with("/.asc")
            {
                return Err((
                    it.to_string(),
                    "apt ignores keyrings not named `*.gpg` or `*.asc`".into(),
                    "name the keyring `….gpg` (binary, `gpg --dearmor`) or `….asc` (armoured)"
                        .into(),
                ));
            }
            continue;
        }
        let hex = it.strip_suffix('!').unwrap_or(it);
        if hex.len() == 40 && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let (label, hint) = if it.contains("://") {
            (
                "a URL: apt reads `signed-by` as a keyring's path or a fingerprint and never downloads a key".into(),
                "fetch the key once (`curl -fsSL URL`), check its fingerprint against the vendor's, and paste the armoured public key block into `signed-by` (or install it as `/etc/apt/keyrings/NAME.asc` and give that path)".to_string(),
            )
        } else if hex.bytes().all(|c| c.is_ascii_hexdigit()) && !hex.is_empty() {
            (
                format!("not a full fingerprint ({} hex digits, apt needs 40)", hex.len()),
                "give the whole fingerprint (`gpg --show-keys --with-fingerprint KEYFILE`), or the keyring's path".to_string(),
            )
        } else if it.contains('/') || it.contains('.') {
            (
                "a relative path: apt refuses the source list".into(),
                format!(
                    "give the keyring's absolute path, e.g. `/etc/apt/keyrings/{}`",
                    it.rsplit('/').next().unwrap_or(it)
                ),
            )
        } else {
            (
                "neither an absolute path nor a fingerprint".into(),
                "give the keyring's absolute path (`/etc/apt/keyrings/NAME.gpg`) or the key's 40-digit fingerprint".into(),
            )
        };
        return Err((it.to_string(), label, hint));
    }
    Ok(())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for r in &s.repos {
            let Some(sb) = &r.signed_by else { continue };
            // A private key is SC0086's, reported wherever it is.
            if crate::syntax::redact::is_private_key(&sb.value) {
                continue;
            }
            if let Err((at, label, hint)) = validate(&sb.value) {
                diags.push(
                    Diagnostic::error(
                        Code::RepoSignedBy,
                        format!(
                            "repo `{}` of {what}: apt does not accept this `signed-by`",
                            r.name.value
                        ),
                    )
                    .label(narrow(cx, sb.span, &at), label)
                    .help(hint),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    /// Against the real apt (tests/consumers/check-artifact.sh deb822):
    /// what `check` accepts, apt accepts; what apt refuses, `check`
    /// refuses. (`check` refuses more: a keyring not named `.gpg`/`.asc`
    /// passes apt's parser but is ignored when apt verifies.) Runs where
    /// apt-get is installed.
    #[test]
    fn agrees_with_apt() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/consumers/check-artifact.sh"
        );
        if !std::path::Path::new("/usr/bin/apt-get").exists() {
            eprintln!("skipped: needs apt-get");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.sources");
        let apt_accepts = |sb: &str| {
            std::fs::write(
                &file,
                format!("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: {sb}\n"),
            )
            .unwrap();
            let out = std::process::Command::new(script)
                .arg("deb822")
                .arg(&file)
                .output()
                .unwrap();
            assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
            out.status.code() == Some(0)
        };
        for ok in [
            "/usr/share/keyrings/debian-archive-keyring.gpg",
            "/etc/apt/keyrings/a.gpg,/etc/apt/keyrings/b.asc",
            "0123456789abcdef0123456789ABCDEF01234567",
            "0123456789ABCDEF0123456789ABCDEF01234567! /etc/apt/keyrings/a.gpg",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
            assert!(apt_accepts(ok), "apt refuses {ok:?}, which check accepts");
        }
        for bad in [
            "internal.gpg",
            "./internal.gpg",
            "~/internal.gpg",
            "0123456789ABCDEF",
            "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
            "nonsense",
        ] {
            assert!(!apt_accepts(bad), "apt accepts {bad:?}: the test is stale");
            assert!(
                validate(bad).is_err(),
                "check accepts {bad:?}, which apt refuses"
            );
        }
    }

    #[test]
    fn what_apt_accepts() {
        for ok in [
            "/usr/share/keyrings/debian-archive-keyring.gpg",
            "/etc/apt/keyrings/a.gpg,/etc/apt/keyrings/b.asc",
            "0123456789abcdef0123456789ABCDEF01234567",
            "0123456789ABCDEF0123456789ABCDEF01234567! /etc/apt/keyrings/a.gpg",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ…\n-----END PGP PUBLIC KEY BLOCK-----",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "internal.gpg",
            "./internal.gpg",
            "keyrings/internal.gpg",
            "/etc/apt/keyrings/internal.key",
            "0123456789ABCDEF",
            "nonsense",
            "",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        // A URL is named as one, not as a relative path.
        let (_, label, _) = validate("https://apt.example.net/key.gpg").unwrap_err();
        assert!(label.starts_with("a URL"), "{label}");
    }
}
