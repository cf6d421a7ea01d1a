//! Rule `ssh-keys`: SSH public keys that sshd would not accept.
//!
//! **What it does.** Reports (SC0018) an `ssh-key … key "…"` that is not
//! `TYPE BASE64 [comment]` with a known key type, a body that decodes as
//! base64, and a key blob whose embedded type string equals the declared
//! type (a key pasted under the wrong type, or truncated, fails here). A
//! pasted private key gets its own message, which never repeats the key.
//! Keys are checked in every layer they are written in, once each.
//!
//! **Why it matters.** sshd skips a line of authorized_keys it cannot
//! parse, without saying so: the operator finds out at 3 a.m. that the
//! break-glass key never worked.
//!
//! **Example.**
//! ```kdl
//! ssh-key ops { user root; key "ssh-ed25519 AAAAB3NzaC1yc2E ops@example"; }   // SC0018: the blob is ssh-rsa
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ssh-keys",
    codes: &[Code::InvalidSshKey],
    check,
    resolved: false,
};

/// Key types OpenSSH accepts in authorized_keys (ssh-dss is gone since
/// OpenSSH 9.8 and reported with its own hint).
const KNOWN: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for k in &s.ssh_keys {
            if let Err((message, help)) = validate(&k.key.value) {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidSshKey,
                        format!("SSH key `{}` of {what}: {message}", k.name.value),
                    )
                    .label(k.key.span, "not a valid public key")
                    .help(help),
                );
            }
        }
    }
}

/// Checks one public key line; the error is (message, hint). Messages
/// describe the problem without quoting the key.
pub(crate) fn validate(line: &str) -> Result<(), (String, String)> {
    let line = line.trim();
    if line.starts_with("-----BEGIN") {
        return Err((
            "this is a PEM block, not an OpenSSH public key".into(),
            if line.contains("PRIVATE") {
                "this looks like a PRIVATE key: remove it from the repository (and its history) and rotate it; give the `.pub` line instead".into()
            } else {
                "give the one-line OpenSSH form (`ssh-keygen -i -f key.pem` converts it)".into()
            },
        ));
    }
    let mut words = line.split_whitespace();
    let ty = words.next().unwrap_or("");
    // A body without its type word: say which type it is.
    if let Some(inner) = base64_decode(ty)
        .as_deref()
        .and_then(ssh_strings)
        .and_then(|f| f.first().map(|t| t.to_vec()))
    {
        if KNOWN.contains(&String::from_utf8_lossy(&inner).as_ref()) {
            let inner = String::from_utf8_lossy(&inner);
            return Err((
                format!("the key type word is missing (the key is `{inner}`)"),
                format!(
                    "write `{inner} {}…`: authorized_keys needs the type first",
                    &ty[..ty.len().min(12)]
                ),
            ));
        }
    }
    let Some(body) = words.next() else {
        return Err((
            "expected `TYPE BASE64 [comment]`".into(),
            "copy the whole line of the `.pub` file, e.g. `ssh-ed25519 AAAAC3Nza… user@host`"
                .into(),
        ));
    };
    if ty == "ssh-dss" {
        return Err((
            "DSA keys (`ssh-dss`) are no longer accepted by OpenSSH".into(),
            "generate an Ed25519 key: `ssh-keygen -t ed25519`".into(),
        ));
    }
    if !KNOWN.contains(&ty) {
        return Err((
            format!("unknown key type `{}`", shorten(ty)),
            format!("known types: {}", KNOWN.join(", ")),
        ));
    }
    let Some(blob) = base64_decode(body) else {
        return Err((
            "the key body is not valid base64".into(),
            "the key was probably cut or wrapped when it was copied; copy the `.pub` line again"
                .into(),
        ));
    };
    let fields = ssh_strings(&blob);
    match fields.as_deref() {
        Some([inner, ..]) if *inner != ty.as_bytes() => Err((
            format!(
                "declared as `{ty}` but the key itself is `{}`",
                shorten(&String::from_utf8_lossy(inner))
            ),
            "the type word and the key body come from different keys; copy the `.pub` line again"
                .into(),
        )),
        Some(f) if well_formed(ty, f) => Ok(()),
        _ => Err((
            "the key body is truncated or not an SSH key".into(),
            "the key was probably cut when it was copied; copy the whole `.pub` line again".into(),
        )),
    }
}

/// A key blob is a sequence of SSH strings (big-endian u32 length, then
/// the bytes); `None` unless the blob is exactly that, so a truncated key
/// fails here.
fn ssh_strings(mut blob: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !blob.is_empty() {
        let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
        let end = len.checked_add(4)?;
        out.push(blob.get(4..end)?);
        blob = &blob[end..];
    }
    Some(out)
}

/// The fields each key type has after its type string (RFC 4253 §6.6,
/// RFC 5656 §3.1, RFC 8709 §4, OpenSSH PROTOCOL.u2f).
fn well_formed(ty: &str, f: &[&[u8]]) -> bool {
    let curve = |name: &[u8]| ty.contains(std::str::from_utf8(name).unwrap_or("-"));
    match (ty, f) {
        ("ssh-ed25519", [_, pk]) => pk.len() == 32,
        ("ssh-rsa", [_, e, n]) => !e.is_empty() && !n.is_empty(),
        ("sk-ssh-ed25519@openssh.com", [_, pk, _app]) => pk.len() == 32,
        ("sk-ecdsa-sha2-nistp256@openssh.com", [_, c, q, _app]) => curve(c) && !q.is_empty(),
        (t, [_, c, q]) if t.starts_with("ecdsa-sha2-") => curve(c) && !q.is_empty(),
        _ => false,
    }
}

/// Long garbage is cut so a message stays one line.
fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Standard base64 (RFC 4648 §4) with `=` padding, as in `.pub` files.
/// Small enough to keep here rather than add a dependency for one use.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let b = s.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return None;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let data = &b[..b.len() - pad];
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                // 18 bits, the last 2 are padding and must be zero.
                if acc & 0b11 != 0 {
                    return None;
                }
                out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            }
            2 => {
                if acc & 0b1111 != 0 {
                    return None;
                }
                out.push((acc >> 4) as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real public keys, generated for these tests (private halves discarded).
    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 test@example";

    #[test]
    fn base64_round_trips_known_vectors() {
        assert_eq!(base64_decode("Zm9vYmFy").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base64_decode("Zm9vYg==").as_deref(), Some(&b"foob"[..]));
        assert_eq!(base64_decode("Zm9vYmE=").as_deref(), Some(&b"fooba"[..]));
        assert_eq!(base64_decode("Zg==").as_deref(), Some(&b"f"[..]));
        assert_eq!(base64_decode("Zm9vYmF"), None, "length not a multiple of 4");
        assert_eq!(base64_decode("Zm9v!mFy"), None, "invalid character");
        assert_eq!(base64_decode("Zh=="), None, "non-zero padding bits");
        assert_eq!(base64_decode("Z==="), None, "too much padding");
        assert_eq!(base64_decode(""), None);
    }

    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMxSoH5JoDX6S0Vu3ZkXqtONqop251SJsdrm8A8vNlAAdg1HiZBTpQjae34rybOzBqk12KRRNi59D44FtFcKWcI= ec@example";

    #[test]
    fn accepts_real_keys() {
        assert_eq!(validate(ED25519), Ok(()));
        assert_eq!(validate(ECDSA), Ok(()));
        assert_eq!(validate(&ED25519.replace(" test@example", "")), Ok(()));
    }

    #[test]
    fn rejects_wrong_declared_type() {
        let wrong = ED25519.replace("ssh-ed25519", "ssh-rsa");
        let (m, _) = validate(&wrong).unwrap_err();
        assert_eq!(
            m,
            "declared as `ssh-rsa` but the key itself is `ssh-ed25519`"
        );
    }

    #[test]
    fn rejects_truncated_unknown_and_private() {
        // The type string alone, and the key with its last bytes cut.
        assert!(validate("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5").is_err());
        let body = ED25519.split(' ').nth(1).unwrap();
        let cut = &body[..body.len() - 4];
        assert_eq!(base64_decode(cut).map(|b| b.len()), Some(48));
        let (m, _) = validate(&format!("ssh-ed25519 {cut}")).unwrap_err();
        assert_eq!(m, "the key body is truncated or not an SSH key");
        assert!(validate("ssh-ed25519").is_err());
        let body = ED25519.split(' ').nth(1).unwrap();
        let (m, _) = validate(body).unwrap_err();
        assert_eq!(m, "the key type word is missing (the key is `ssh-ed25519`)");
        let (m, _) = validate("ssh-foo AAAA").unwrap_err();
        assert_eq!(m, "unknown key type `ssh-foo`");
        let (_, h) =
            validate("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAA").unwrap_err();
        assert!(h.contains("PRIVATE key"));
        let (m, _) = validate("ssh-dss AAAAB3NzaC1kc3MAAACBAP").unwrap_err();
        assert!(m.contains("DSA"));
    }
}
