//! Rule `ssh-keys`: SSH public keys that sshd would not accept.
//!
//! **What it does.** Reports (SC0018) an `ssh-key … key "…"` that is not
//! `TYPE BASE64 [comment]` with a known key type, a body that decodes as
//! base64, and a key blob whose embedded type string equals the declared
//! type (a key pasted under the wrong type, or truncated, fails here). A
//! pasted private key gets its own message, which never repeats the key.
//! Also reported (SC0018): an `ssh-rsa` key whose modulus has fewer than
//! 1024 bits, which OpenSSH refuses (sshd skips the line), and two keys
//! pasted into one `key` string (`ssh-ed25519 AAAA… alice@x ssh-ed25519
//! AAAA… bob@y`), where the second is read as the first one's comment and
//! never authorized. Warns (SC0053) about an `ssh-rsa` key of 1024 up to
//! 2047 bits: OpenSSH 9.2p1 accepts it, but it is weak.
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
    codes: &[Code::InvalidSshKey, Code::WeakSshKey],
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
            // A private key is SC0086's, reported wherever it is.
            if crate::syntax::redact::is_private_key(&k.key.value) {
                continue;
            }
            if let Err((message, help)) = validate(&k.key.value) {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidSshKey,
                        format!("SSH key `{}` of {what}: {message}", k.name.value),
                    )
                    .label(k.key.span, "not a valid public key")
                    .help(help),
                );
            } else if let Some(bits) = rsa_bits(&k.key.value).filter(|&b| b < STRONG_RSA_BITS) {
                diags.push(
                    Diagnostic::warning(
                        Code::WeakSshKey,
                        format!(
                            "SSH key `{}` of {what} is a {bits}-bit RSA key",
                            k.name.value
                        ),
                    )
                    .label(k.key.span, format!("RSA with {bits} bits is weak"))
                    .help("OpenSSH 9.2p1 still accepts it, but RSA keys under 2048 bits are weak (NIST SP 800-131A) and newer releases tighten the floor: replace it with an Ed25519 key (`ssh-keygen -t ed25519`)"),
                );
            }
        }
    }
}

/// Checks one public key line; the error is (message, hint). Messages
/// describe the problem without quoting the key.
pub(crate) fn validate(line: &str) -> Result<(), (String, String)> {
    let line = line.trim();
    // A line break at either end is dropped when the key is written (a
    // pasted `cat id.pub`); one inside would write a second line into
    // authorized_keys.
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err((
            "the key holds a line break or another control character".into(),
            "an authorized_keys entry is one line: give the key as `ssh-keygen` writes it in the `.pub` file, on one line".into(),
        ));
    }
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
        Some(f) if well_formed(ty, f) => {
            if let Some(bits) = rsa_modulus_bits(ty, f).filter(|&b| b < MIN_RSA_BITS) {
                return Err((
                    format!("a {bits}-bit RSA key, which OpenSSH refuses (the minimum is {MIN_RSA_BITS} bits)"),
                    "sshd skips the line and the user is locked out: generate an Ed25519 key (`ssh-keygen -t ed25519`) and give its `.pub` line".into(),
                ));
            }
            let rest: Vec<&str> = words.collect();
            if let Some(second) = second_key(&rest) {
                return Err((
                    format!("two keys in one string: the second (`{second}`) would be read as the first one's comment and never authorized"),
                    "give each key its own `ssh-key` block".into(),
                ));
            }
            Ok(())
        }
        _ => Err((
            "the key body is truncated or not an SSH key".into(),
            "the key was probably cut when it was copied; copy the whole `.pub` line again".into(),
        )),
    }
}

/// OpenSSH refuses RSA keys with a smaller modulus (SSH_RSA_MINIMUM_MODULUS_SIZE).
const MIN_RSA_BITS: usize = 1024;

/// RSA keys with a smaller modulus are weak (NIST SP 800-131A).
const STRONG_RSA_BITS: usize = 2048;

/// The bit length of an `ssh-rsa` key's modulus: the blob is the strings
/// "ssh-rsa", mpint e, mpint n (RFC 4253 §6.6); an mpint may start with a
/// zero byte that keeps it positive.
fn rsa_modulus_bits(ty: &str, f: &[&[u8]]) -> Option<usize> {
    let ("ssh-rsa", [_, _, n]) = (ty, f) else {
        return None;
    };
    let at = n.iter().position(|&b| b != 0)?;
    Some((n.len() - at) * 8 - n[at].leading_zeros() as usize)
}

/// [`rsa_modulus_bits`] of a whole key line, if it is a valid `ssh-rsa` key.
fn rsa_bits(line: &str) -> Option<usize> {
    let mut words = line.split_whitespace();
    let ty = words.next()?;
    let blob = base64_decode(words.next()?)?;
    rsa_modulus_bits(ty, &ssh_strings(&blob)?)
}

/// The type of a second key in the comment words of a key line: a key
/// type word followed by base64, or a word that decodes as a key blob
/// (its type word left out).
fn second_key(comment: &[&str]) -> Option<String> {
    let is_type = |w: &str| KNOWN.contains(&w) || w == "ssh-dss";
    let typed = comment
        .windows(2)
        // A key blob starts with the length of its type string, under 2^24:
        // three zero bytes, `AAAA` in base64.
        .find(|p| is_type(p[0]) && p[1].starts_with("AAAA") && base64_decode(p[1]).is_some())
        .map(|p| p[0].to_string());
    typed.or_else(|| {
        comment.iter().find_map(|w| {
            let blob = base64_decode(w)?;
            let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
            let inner = std::str::from_utf8(blob.get(4..4usize.checked_add(len)?)?).ok()?;
            is_type(inner).then(|| inner.to_string())
        })
    })
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

    // Generated for these tests: `ssh-keygen -t rsa -b 1024` and
    // `openssl genrsa 768` converted with `ssh-keygen -i -m PKCS8` (modern
    // ssh-keygen refuses to make one); `ssh-keygen -lf` says 1024 and
    // `openssl rsa -text` 768.
    const RSA1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDR58u004MXy3rWXX1JiVwEocjQz43S85LhOePxmKDpxbvHzTexESjEDRdtF/weAJvrDBmIvWJTjDeZ08W8UxLuHV13JZGFijTGtBfJ9F1j+ms3hzqHOjw9qatpf67+0o1JGmJCtd62n5vafA8rEeQSdtJpWTbQ8FjPFIjGYh8iUw== k1024@example";
    const RSA768: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAYQDH54qUBkiPQGB7rRn9ItGf+m8gPPMeBevN2kCTY5D3dCoKyQjuN4BqD1YFevpZZelIHl7nor3wvT22vZg5bZsc3YTuPaoQC4ovrfqpi+Q1DvAkBuj8Wgw1zyxeDheCKJk= k768@example";
    const RSA2048: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQChYI8qA9QfZRma+ujITF9Dn7frSHFnEHlmECUoToYxIJoCuLK24zyzhachdMDey4n7SL8CYSdvVstR+BrXXqE61avVraSSpfsb5RjEqRnB3mMzkWY2MQr7cknb8AcAlvgceeYx++d4hh+EMKTuInWpCBdbWCbk+eRCd6jAmkdtqUV74doRrPKMPL7CplGIKC5YuzmrLfkebvuFXQ3232CdKSvGh+3aUEk1Sk/AO9P1ZFF4mYbtEFpHHHLLicS0w/m6GhxezhRnYHJB25dL5LTrXwO7GQ8uDysm178CeK71cLDjRF7b632fDGMTRW6vc6xE8mJWM4mD5J+pCD/kmfKJ k2048@example";

    #[test]
    fn line_breaks() {
        // `cat id.pub` pasted: the break at the end is dropped on render.
        assert_eq!(validate(&format!("{ED25519}\n")), Ok(()));
        assert_eq!(validate(&format!("{ED25519}\r\n")), Ok(()));
        let inner = ED25519.replacen(' ', "\n", 1);
        assert!(validate(&inner).is_err());
        assert!(validate(&format!("{ED25519}\nssh-ed25519")).is_err());
    }

    #[test]
    fn rsa_key_sizes() {
        assert_eq!(rsa_bits(RSA768), Some(768));
        assert_eq!(rsa_bits(RSA1024), Some(1024));
        assert_eq!(rsa_bits(RSA2048), Some(2048));
        assert_eq!(rsa_bits(ED25519), None);
        let (m, _) = validate(RSA768).unwrap_err();
        assert_eq!(
            m,
            "a 768-bit RSA key, which OpenSSH refuses (the minimum is 1024 bits)"
        );
        assert_eq!(validate(RSA1024), Ok(()));
        assert_eq!(validate(RSA2048), Ok(()));
        // The leading zero byte of the mpint does not count, and a modulus
        // whose top byte is small has fewer bits.
        let f: [&[u8]; 3] = [b"ssh-rsa", &[1, 0, 1], &[0, 0x01, 0xff]];
        assert_eq!(rsa_modulus_bits("ssh-rsa", &f), Some(9));
        let f: [&[u8]; 3] = [b"ssh-rsa", &[3], &[0x80; 128]];
        assert_eq!(rsa_modulus_bits("ssh-rsa", &f), Some(1024));
    }

    #[test]
    fn rsa_key_sizes_in_a_site() {
        let site = |key: &str| {
            format!("site s {{ domain \"s.example\"; defaults {{ ssh-key k {{ user root; key \"{key}\"; }} }} }}")
        };
        let codes = |k: &str| -> Vec<&str> {
            super::super::testing::codes(&site(k))
                .into_iter()
                .filter(|c| *c == "SC0018" || *c == "SC0053")
                .collect()
        };
        assert_eq!(codes(RSA768), ["SC0018"]);
        assert_eq!(codes(RSA1024), ["SC0053"]);
        assert_eq!(codes(RSA2048), Vec::<&str>::new());
    }

    #[test]
    fn rejects_two_keys_in_one_string() {
        let two = format!("{ED25519} {ECDSA}");
        let (m, h) = validate(&two).unwrap_err();
        assert_eq!(
            m,
            "two keys in one string: the second (`ecdsa-sha2-nistp256`) would be read as the first one's comment and never authorized"
        );
        assert!(h.contains("own `ssh-key`"));
        // Without the second key's type word, and with it cut short.
        let body = ECDSA.split(' ').nth(1).unwrap();
        assert!(validate(&format!("{ED25519} {body}")).is_err());
        assert!(validate(&format!("{ED25519} ssh-ed25519 AAAA")).is_err());
        // Comments that merely mention a key type are fine.
        assert_eq!(validate(&format!("{ED25519} ssh-rsa key of ops")), Ok(()));
        assert_eq!(validate(&format!("{ED25519} alice laptop")), Ok(()));
        assert_eq!(validate(&format!("{ED25519} ssh-rsa test")), Ok(()));
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
