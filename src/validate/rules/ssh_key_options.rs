//! Rule `ssh-key-options`: authorized_keys options sshd cannot parse.
//!
//! **What it does.** Reads an `ssh-key … options "…"` string the way sshd
//! does (OpenSSH 9.2p1, auth-options.c): options separated by commas,
//! names without regard to case, values as `name="…"` with `\"` for a
//! quote. Reports (SC0042) an unknown option (`no-agent-forwading`, with
//! the closest option as a hint), a value on an option that takes none
//! (`no-pty="yes"`), an option that needs a value written without one
//! (`command`), a value not in double quotes or without its closing quote,
//! white space (which ends the
//! options for sshd, so the rest would be read as the key), a line break,
//! and values sshd refuses on their own: `environment` without `NAME=`,
//! `tunnel` that is not a number, `expiry-time` that is not
//! `YYYYMMDD[HHMM[SS]][Z]`, `permitopen` without `host:port`. In a
//! `from="…"` list: a CIDR block with host bits set (`10.0.0.1/16`), which
//! sshd 9.2p1 takes as "invalid from criteria" and refuses the key for,
//! and an entry with a space after its comma (`a, b`), which sshd reads as
//! a host name pattern that never matches.
//!
//! The options are data: `data/openssh-9.2p1-authorized-keys-options.txt`,
//! from sshd(8) AUTHORIZED_KEYS FILE FORMAT of 9.2p1.
//!
//! **Why it matters.** sshd rejects the whole key line when its options do
//! not parse: the key is ignored and its user (often the automation user)
//! is locked out of every node that has it.
//!
//! **Example.**
//! ```kdl
//! ssh-key ansible { user ansible; key "ssh-ed25519 AAAA…"; options "no-agent-forwading" }   // SC0042
//! ```

use std::sync::OnceLock;

use super::super::{Ctx, Rule};
use super::{closest, layers, narrow};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ssh-key-options",
    codes: &[Code::AuthorizedKeysOption],
    check,
    resolved: false,
};

const DATA: &str = include_str!("../../../data/openssh-9.2p1-authorized-keys-options.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Flag,
    Negatable,
    Value,
}

/// Every option spelling sshd accepts (lower case), with its kind:
/// `no-pty` as well as `pty`.
fn options() -> &'static [(String, Kind)] {
    static TABLE: OnceLock<Vec<(String, Kind)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = Vec::new();
        for l in DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let Some((name, kind)) = l.split_once('\t') else {
                continue;
            };
            let kind = match kind {
                "flag" => Kind::Flag,
                "negatable" => Kind::Negatable,
                _ => Kind::Value,
            };
            out.push((name.to_string(), kind));
            if kind == Kind::Negatable {
                out.push((format!("no-{name}"), kind));
            }
        }
        out.sort();
        out
    })
}

/// A problem in an options string: the text to point at (if it can be
/// found in the source), the label and the hint.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub at: String,
    pub label: String,
    pub help: String,
    /// What to say at the place, when sshd does not refuse the whole key.
    pub here: Option<&'static str>,
}

fn problem(at: &str, label: impl Into<String>, help: impl Into<String>) -> Problem {
    Problem {
        at: at.to_string(),
        label: label.into(),
        help: help.into(),
        here: None,
    }
}

/// Parses `s` as sshd would; the first problem, if any.
pub(crate) fn parse(s: &str) -> Result<(), Problem> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(problem(
            "",
            format!("contains a control character ({c:?})"),
            "the options are part of one authorized_keys line",
        ));
    }
    if s.is_empty() {
        return Err(problem(
            "",
            "empty options",
            "leave `options` out when the key has none",
        ));
    }
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'_')) {
            i += 1;
        }
        let name = &s[start..i];
        if name.is_empty() {
            // sshd skips empty options (`a,,b`, a trailing comma).
            match b.get(i) {
                None => return Ok(()),
                Some(b',') => {
                    i += 1;
                    continue;
                }
                Some(_) => {}
            }
            let what = if b[i].is_ascii_whitespace() {
                "white space ends the options"
            } else {
                "not an option name"
            };
            return Err(problem(
                &s[start..],
                what,
                "options are `name` or `name=\"value\"`, separated by commas, with no white space outside quotes",
            ));
        }
        let lower = name.to_ascii_lowercase();
        let Some(&(_, kind)) = options().iter().find(|(n, _)| *n == lower) else {
            let hint = match closest(&lower, options().iter().map(|(n, _)| n.as_str())) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "sshd(8) lists: {}",
                    options()
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(problem(name, format!("unknown option `{name}`"), hint));
        };
        let has_value = b.get(i) == Some(&b'=');
        match (kind, has_value) {
            (Kind::Value, false) => {
                return Err(problem(
                    name,
                    format!("`{name}` needs a value"),
                    format!("write `{lower}=\"…\"`"),
                ))
            }
            (Kind::Flag | Kind::Negatable, true) => {
                return Err(problem(
                    name,
                    format!("`{name}` takes no value"),
                    format!("write `{lower}` alone"),
                ))
            }
            _ => {}
        }
        if has_value {
            i += 1;
            if b.get(i) != Some(&b'"') {
                return Err(problem(
                    name,
                    format!("the value of `{name}` is not in double quotes"),
                    format!("write `{lower}=\"…\"` (in KDL: `\"{lower}=\\\"…\\\"\"`)"),
                ));
            }
            i += 1;
            let mut value = String::new();
            loop {
                match b.get(i) {
                    None => {
                        return Err(problem(
                            name,
                            format!("the value of `{name}` has no closing quote"),
                            "close it with `\"`; a quote inside a value is written `\\\"`",
                        ))
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if b.get(i + 1) == Some(&b'"') => {
                        value.push('"');
                        i += 2;
                    }
                    Some(_) => {
                        let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                        value.push(c);
                        i += c.len_utf8();
                    }
                }
            }
            check_value(&lower, name, &value)?;
        }
        match b.get(i) {
            None => return Ok(()),
            Some(b',') => i += 1,
            Some(c) if c.is_ascii_whitespace() => {
                return Err(problem(
                    &s[i..],
                    "white space ends the options",
                    "sshd would read what follows as the key: separate options with commas only, and quote values that contain spaces",
                ))
            }
            Some(_) => {
                return Err(problem(
                    name,
                    format!("`{name}` is not followed by a comma"),
                    "options are `name` or `name=\"value\"`, separated by single commas",
                ))
            }
        }
    }
}

/// What sshd checks of a value while parsing the line.
fn check_value(option: &str, name: &str, v: &str) -> Result<(), Problem> {
    let bad = |label: String, help: &str| Err(problem(name, label, help));
    match option {
        "environment" => {
            let n = v
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(v.len());
            if n == 0 || !v[n..].starts_with('=') {
                return bad(
                    format!("`{v}` is not `NAME=value`"),
                    "environment=\"NAME=value\", NAME of letters, digits and `_`",
                );
            }
        }
        "tunnel" if v != "any" && (v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit())) => {
            return bad(
                format!("`{v}` is not a tunnel device number"),
                "tunnel=\"N\": the number of the tun device",
            );
        }
        "expiry-time" => {
            let t = v.strip_suffix(['Z', 'z']).unwrap_or(v);
            if !matches!(t.len(), 8 | 12 | 14) || !t.bytes().all(|c| c.is_ascii_digit()) {
                return bad(
                    format!("`{v}` is not a time sshd reads"),
                    "expiry-time=\"YYYYMMDD[HHMM[SS]]\", with a trailing `Z` for UTC",
                );
            }
        }
        "permitopen" | "permitlisten" => {
            let need_colon = option == "permitopen";
            let port = v.rsplit_once(':').map(|(_, p)| p);
            let ok = match port {
                Some(p) => p == "*" || (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())),
                None => !need_colon && (v == "*" || v.bytes().all(|c| c.is_ascii_digit())),
            };
            if v.is_empty() || !ok {
                return bad(
                    format!(
                        "`{v}` is not `{}`",
                        if need_colon {
                            "host:port"
                        } else {
                            "[host:]port"
                        }
                    ),
                    "the port is a number or `*`",
                );
            }
        }
        "from" if !v.is_empty() => return check_from(name, v),
        "command" | "from" | "principals" if v.is_empty() => {
            return bad(
                format!("`{name}` has an empty value"),
                "give a value or leave the option out",
            );
        }
        _ => {}
    }
    Ok(())
}

/// What sshd makes of a `from="…"` pattern list (addrmatch.c,
/// `addr_match_list`): entries split at commas, each an address or CIDR
/// block (else a host name pattern), `!` negating one. A CIDR block with
/// host bits set (`10.0.0.1/16`) makes the whole list "invalid from
/// criteria" and the key is refused; an entry with white space around it
/// (`a, b`) is no address to sshd and matches no host, so only the entries
/// before it work.
fn check_from(name: &str, v: &str) -> Result<(), Problem> {
    for entry in v.split(',') {
        if entry.is_empty() {
            continue;
        }
        if entry.trim() != entry {
            return Err(Problem {
                here: Some("never matches: logins from here are refused"),
                ..problem(
                    entry,
                    format!("`{entry}` has white space around it and never matches"),
                    format!(
                        "sshd splits `from` at commas only: write `{}` with no space after the commas",
                        v.split(',').map(str::trim).collect::<Vec<_>>().join(",")
                    ),
                )
            });
        }
        let e = entry.strip_prefix('!').unwrap_or(entry);
        let Some((addr, len)) = e.split_once('/') else {
            continue;
        };
        let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
            continue;
        };
        let net = len
            .parse::<u8>()
            .ok()
            .and_then(|l| ipnet::IpNet::new(ip, l).ok());
        match net {
            Some(n) if n.network() == ip => {}
            Some(n) => {
                return Err(problem(
                    e,
                    format!("`{e}` has host bits set: sshd refuses the key (\"invalid from criteria\")"),
                    format!("write the network, `{}/{}`", n.network(), n.prefix_len()),
                ))
            }
            None => {
                return Err(problem(
                    e,
                    format!("`{e}` has no valid prefix length: sshd refuses the key (\"invalid from criteria\")"),
                    format!("the length of `{name}` blocks is 0-32 for IPv4, 0-128 for IPv6"),
                ))
            }
        }
    }
    Ok(())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for k in &s.ssh_keys {
            let Some(o) = &k.options else { continue };
            if let Err(p) = parse(&o.value) {
                diags.push(
                    Diagnostic::error(
                        Code::AuthorizedKeysOption,
                        format!(
                            "the options of SSH key `{}` of {what}: {}",
                            k.name.value, p.label
                        ),
                    )
                    .label(
                        narrow(cx, o.span, &p.at),
                        match p.here {
                            Some(h) => h.to_string(),
                            None => format!("sshd ignores this key of `{}`", k.user.value),
                        },
                    )
                    .help(p.help),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s).unwrap_err().label
    }

    #[test]
    fn accepts_what_sshd_accepts() {
        for ok in [
            "from=\"10.0.0.0/16\",no-agent-forwarding",
            "restrict,pty",
            "NO-PTY,No-X11-Forwarding",
            "command=\"echo \\\"hi there\\\"\",no-user-rc",
            "environment=\"LANG=C\"",
            "tunnel=\"0\",expiry-time=\"20301231Z\"",
            "permitopen=\"localhost:8080\",permitlisten=\"9000\"",
            "no-touch-required,verify-required,cert-authority,principals=\"a,b\"",
        ] {
            assert_eq!(parse(ok), Ok(()), "{ok}");
        }
    }

    /// The parser against the real sshd: each string is offered to sshd
    /// 9.2p1 through tests/consumers/check-artifact.sh (which parses the
    /// line with sshd's own key-option parser), and `parse` must agree.
    /// Runs only as root with sshd installed; elsewhere it says so.
    #[test]
    fn agrees_with_the_real_sshd() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/consumers/check-artifact.sh"
        );
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if !root || !std::path::Path::new("/usr/sbin/sshd").exists() {
            eprintln!("skipped: needs root and /usr/sbin/sshd");
            return;
        }
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 t@example";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("authorized_keys");
        for opts in [
            "from=\"10.0.0.0/16\",no-agent-forwarding",
            "NO-PTY,No-X11-Forwarding",
            "command=\"echo \\\"hi there\\\"\",no-user-rc",
            "environment=\"LANG=C\"",
            "tunnel=\"any\",expiry-time=\"20301231Z\"",
            "permitopen=\"localhost:8080\",permitlisten=\"9000\"",
            "no-touch-required,verify-required,principals=\"a,b\"",
            "restrict,,pty",
            "restrict,",
            "no-agent-forwading",
            "no-pty=\"yes\"",
            "command",
            "from=10.0.0.1",
            "restrict, pty",
            "restrict;pty",
            "no-cert-authority",
            "tunnel=\"eth0\"",
            "expiry-time=\"tomorrow\"",
            "permitopen=\"8080\"",
            "environment=\"=x\"",
        ] {
            std::fs::write(&file, format!("{opts} {key}\n")).unwrap();
            let st = std::process::Command::new(script)
                .arg("authorized_keys")
                .arg(&file)
                .output()
                .unwrap();
            let code = st.status.code();
            assert!(
                matches!(code, Some(0 | 1)),
                "{opts}: check-artifact failed to run: {st:?}"
            );
            assert_eq!(
                parse(opts).is_ok(),
                code == Some(0),
                "siteconf and sshd disagree on {opts:?}: {}",
                String::from_utf8_lossy(&st.stdout)
            );
        }
    }

    #[test]
    fn refuses_what_sshd_refuses() {
        assert_eq!(
            err("no-agent-forwading"),
            "unknown option `no-agent-forwading`"
        );
        assert_eq!(
            parse("no-agent-forwading").unwrap_err().help,
            "did you mean `no-agent-forwarding`?"
        );
        assert_eq!(err("no-pty=\"yes\""), "`no-pty` takes no value");
        assert_eq!(err("command"), "`command` needs a value");
        assert_eq!(
            err("from=\"10.0.0.1/16\",no-agent-forwarding"),
            "`10.0.0.1/16` has host bits set: sshd refuses the key (\"invalid from criteria\")"
        );
        assert_eq!(
            parse("from=\"10.0.0.1/16\"").unwrap_err().help,
            "write the network, `10.0.0.0/16`"
        );
        assert_eq!(
            err("from=\"192.168.0.0/24, 10.0.0.0/16\""),
            "` 10.0.0.0/16` has white space around it and never matches"
        );
        assert!(err("from=\"10.0.0.0/33\"").contains("no valid prefix length"));
        assert_eq!(
            parse("from=\"!10.0.9.0/24,10.0.0.0/16,*.example.net,10.1.*\""),
            Ok(())
        );
        assert_eq!(
            err("from=10.0.0.1"),
            "the value of `from` is not in double quotes"
        );
        assert_eq!(
            err("from=\"10.0.0.1"),
            "the value of `from` has no closing quote"
        );
        // sshd skips empty options.
        assert_eq!(parse("restrict,,pty"), Ok(()));
        assert_eq!(parse("restrict,"), Ok(()));
        assert_eq!(err("restrict, pty"), "white space ends the options");
        assert_eq!(err("restrict;pty"), "`restrict` is not followed by a comma");
        assert_eq!(err("restrict pty"), "white space ends the options");
        assert_eq!(
            err("no-cert-authority"),
            "unknown option `no-cert-authority`"
        );
        assert!(err("environment=\"=x\"").contains("NAME=value"));
        assert!(err("tunnel=\"eth0\"").contains("tunnel device"));
        assert!(err("expiry-time=\"tomorrow\"").contains("time"));
        assert!(err("permitopen=\"8080\"").contains("host:port"));
        assert!(err("restrict\n,pty").contains("control character"));
    }
}
