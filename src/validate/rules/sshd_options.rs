//! Rule `sshd-options`: `sshd` keywords and values the targeted sshd refuses.
//!
//! **What it does.** Reports (SC0040) an `sshd { … }` keyword of the site
//! defaults, a profile or a node that OpenSSH 9.2p1's sshd does not know
//! (`permit-root-logon`), with the closest keyword as a hint, and the
//! keywords a drop-in must not carry (`match`, `include`). Reports (SC0041)
//! a value sshd refuses for its keyword: a word outside the keyword's set
//! (`permit-root-login maybe`), a value that is not an integer, a port or a
//! time where sshd wants one, several words where it wants one (a keyword
//! sshd takes on several lines, `ListenAddress`, `HostKey`,
//! `HostCertificate`, `Port`, takes several values, written one line per
//! value: each is checked), an empty
//! value, or a line break or other control character (which would write a
//! second line into the drop-in).
//!
//! Reports (SC0052) an `authorized-keys-file` without
//! `/etc/ssh/authorized_keys/%u` in a site that has SSH keys: that is where
//! siteconf writes them, and the template adds it only when the keyword is
//! not set.
//!
//! The keywords and their values are data: `data/openssh-9.2p1-sshd-keywords.txt`,
//! generated from `sshd -T` and sshd_config(5) of 9.2p1 (the file's header
//! says how), and proven against the real sshd by `tests/sshd_keywords.rs`.
//!
//! **Why it matters.** The keywords are written as they are into
//! `/etc/ssh/sshd_config.d/50-siteconf.conf`. sshd refuses to start on an
//! unknown keyword or a bad value, so a typo in a profile takes SSH away
//! from every node of that profile at its next restart.
//!
//! **Example.**
//! ```kdl
//! profile base { sshd { permit-root-logon no } }   // SC0040: did you mean `permit-root-login`?
//! ```

use std::sync::OnceLock;

use super::super::{Ctx, Rule};
use super::{closest, layers, narrow};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "sshd-options",
    codes: &[
        Code::SshdUnknownKeyword,
        Code::SshdInvalidValue,
        Code::SshdIgnoresKeys,
        Code::SshdLocksOutAutomationUser,
        Code::SshdHostKeyAbsent,
    ],
    check,
    resolved: false,
};

/// The keyword table, as shipped.
const DATA: &str = include_str!("../../../data/openssh-9.2p1-sshd-keywords.txt");

/// What a keyword accepts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Accepts {
    /// One of these alternatives.
    Values(Vec<Alt>),
    /// sshd knows it, but a siteconf drop-in must not carry it.
    Refused,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Alt {
    Word(String),
    Int,
    Port,
    Time,
    Text,
}

#[derive(Debug)]
pub(crate) struct Keyword {
    /// As sshd_config(5) spells it: `PermitRootLogin`.
    pub name: String,
    /// As a site file spells it: `permit-root-login`.
    pub site: String,
    pub accepts: Accepts,
    pub example: String,
}

/// Every keyword of the data file, in file order.
pub(crate) fn keywords() -> &'static [Keyword] {
    static TABLE: OnceLock<Vec<Keyword>> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

fn parse(text: &str) -> Vec<Keyword> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (name, values, example) = (f.next()?, f.next()?, f.next()?);
            let accepts = if values == "-" {
                Accepts::Refused
            } else {
                Accepts::Values(
                    values
                        .split('|')
                        .map(|a| match a {
                            "<int>" => Alt::Int,
                            "<port>" => Alt::Port,
                            "<time>" => Alt::Time,
                            "<text>" => Alt::Text,
                            w => Alt::Word(w.to_string()),
                        })
                        .collect(),
                )
            };
            Some(Keyword {
                name: name.to_string(),
                site: site_spelling(name),
                accepts,
                example: example.to_string(),
            })
        })
        .collect()
}

/// `PermitRootLogin` → `permit-root-login`, `GSSAPIAuthentication` →
/// `gssapi-authentication`, `X11Forwarding` → `x11-forwarding`. The
/// rendered keyword drops the hyphens again and sshd compares keywords
/// without regard to case, so any spelling that differs only in hyphens and
/// case names the same keyword; this one is what hints show.
pub(crate) fn site_spelling(name: &str) -> String {
    // Words sshd_config(5) writes in mixed case that are one word.
    match name {
        "MACs" => return "macs".into(),
        "IPQoS" => return "ipqos".into(),
        _ => {}
    }
    let c: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &ch) in c.iter().enumerate() {
        if i > 0 && ch.is_ascii_uppercase() {
            let prev = c[i - 1];
            let next_lower = c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// The keyword a site file's key names: sshd's own comparison (case
/// ignored) after the renderer drops the hyphens.
pub(crate) fn lookup(key: &str) -> Option<&'static Keyword> {
    if key.contains(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        return None;
    }
    let want: String = key.chars().filter(|&c| c != '-').collect();
    keywords()
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(&want))
}

/// Keywords sshd takes on several lines, one value each (a second value
/// on the line is "bad ListenAddress syntax" or "extra arguments at end of
/// line"): several values in a site file are written one line per value
/// ([`value_lines`]).
pub(crate) const MULTI_LINE: &[&str] = &["ListenAddress", "HostKey", "HostCertificate", "Port"];

/// The drop-in lines a value of keyword `name` (as sshd_config(5) spells
/// it) is written as: one per value for [`MULTI_LINE`] keywords
/// (`10.0.0.5 2001:db8::5` → two `ListenAddress` lines; `rdomain NAME`
/// stays with its address), the value as it is otherwise, or when it holds
/// a quote (a quoted path may hold spaces).
pub fn value_lines(name: &str, value: &str) -> Vec<String> {
    if !MULTI_LINE.iter().any(|k| k.eq_ignore_ascii_case(name)) || value.contains(['"', '\'']) {
        return vec![value.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut words = value.split_whitespace();
    while let Some(w) = words.next() {
        match lines.last_mut() {
            Some(last) if w == "rdomain" && name.eq_ignore_ascii_case("ListenAddress") => {
                last.push_str(" rdomain");
                if let Some(d) = words.next() {
                    last.push(' ');
                    last.push_str(d);
                }
            }
            _ => lines.push(w.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(value.to_string());
    }
    lines
}

/// The port Ansible reaches a node's sshd on, from the drop-in's lines
/// (`(keyword, one value)`, as [`value_lines`] writes them): the port of
/// the first `ListenAddress` when it has one (`0.0.0.0:2222`,
/// `[2001:db8::5]:2222`), else the first `Port`; `None` when the lines
/// name no port (sshd's 22, unless the image's sshd_config says
/// otherwise). sshd listens on each ListenAddress at its own port or,
/// without one, at every Port.
pub fn sshd_port<'a>(lines: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<u16> {
    let mut port: Option<u16> = None;
    let mut listen: Option<Option<u16>> = None;
    for (k, v) in lines {
        let v = v.trim().trim_matches(['"', '\'']);
        if k.eq_ignore_ascii_case("Port") && port.is_none() {
            port = v.parse().ok();
        } else if k.eq_ignore_ascii_case("ListenAddress") && listen.is_none() {
            let addr = v.split_whitespace().next().unwrap_or("");
            let p = match addr.strip_prefix('[') {
                Some(rest) => rest.split_once("]:").map(|(_, p)| p),
                None if addr.matches(':').count() == 1 => addr.split_once(':').map(|(_, p)| p),
                None => None,
            };
            listen = Some(p.and_then(|p| p.parse().ok()));
        }
    }
    listen.flatten().or(port)
}

/// Why sshd refuses `value` for `kw`, if it does: (label, hint). A value
/// of a [`MULTI_LINE`] keyword is checked line by line, as written.
pub(crate) fn check_value(kw: &Keyword, value: &str) -> Result<(), (String, String)> {
    let lines = value_lines(&kw.name, value);
    if lines.len() > 1 {
        return lines.iter().try_for_each(|l| check_line(kw, l));
    }
    check_line(kw, value)
}

fn check_line(kw: &Keyword, value: &str) -> Result<(), (String, String)> {
    let Accepts::Values(alts) = &kw.accepts else {
        return Ok(());
    };
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err((
            format!("contains a control character ({:?})", c),
            "a value is one line: a line break would write another keyword into the drop-in".into(),
        ));
    }
    if value.trim().is_empty() {
        return Err((
            "empty value".into(),
            format!(
                "sshd needs a value for {}, e.g. `{} {}`",
                kw.name, kw.site, kw.example
            ),
        ));
    }
    if !quotes_balanced(value) {
        return Err((
            "a quote is not closed".into(),
            "sshd reads `\"` and `'` as quotes and refuses the line (\"invalid quotes\") unless each is closed; write `\\\"` for a literal quote".into(),
        ));
    }
    if kw.name == "MaxStartups" {
        return max_startups(value.trim());
    }
    let words: Vec<&str> = value.split_whitespace().collect();
    let one = words.len() == 1;
    let fits = |a: &Alt| match a {
        Alt::Text => true,
        Alt::Word(w) => one && w.eq_ignore_ascii_case(words[0]),
        Alt::Int => one && parse_int(words[0]).is_some(),
        Alt::Port => one && parse_int(words[0]).is_some_and(|n| (1..=65535).contains(&n)),
        Alt::Time => one && is_time(words[0]),
    };
    if alts.iter().any(fits) {
        return Ok(());
    }
    let what: Vec<String> = alts
        .iter()
        .map(|a| match a {
            Alt::Word(w) => format!("`{w}`"),
            Alt::Int => "an integer".into(),
            Alt::Port => "a port number (1-65535)".into(),
            Alt::Time => "a time (`30`, `2m`, `1h30m`)".into(),
            Alt::Text => "text".into(),
        })
        .collect();
    let expected = match what.len() {
        1 => what[0].clone(),
        n => format!("{} or {}", what[..n - 1].join(", "), what[n - 1]),
    };
    let label = if !one && alts.iter().all(|a| !matches!(a, Alt::Text)) {
        format!("{} takes one value, not {}", kw.name, words.len())
    } else {
        format!("not a value {} accepts", kw.name)
    };
    let hint = match alts.iter().find_map(|a| match a {
        Alt::Word(w) if one && words[0].eq_ignore_ascii_case(bool_word(w)) => Some(w),
        _ => None,
    }) {
        Some(w) => format!(
            "sshd's booleans are words: write `{w}` (or KDL `#{}`); {} accepts {expected}",
            bool_word(w),
            kw.name
        ),
        None => format!("{} accepts {expected}", kw.name),
    };
    Err((label, hint))
}

/// `MaxStartups start[:rate:full]` as servconf.c of 9.2p1 reads it
/// (`sscanf("%d:%d:%d")`): one number, or three; start and full at least
/// 1, start not above full, rate from 1 to 100. Anything else is
/// "Invalid MaxStartups spec" and sshd does not start.
fn max_startups(value: &str) -> Result<(), (String, String)> {
    let hint = "MaxStartups is `start` or `start:rate:full` (the default is `10:30:100`): start and full at least 1, start not above full, rate a percentage from 1 to 100".to_string();
    // sscanf's `%d`: an optional sign and digits; it stops at the first
    // field that does not parse.
    let mut fields: Vec<i64> = Vec::new();
    for (i, f) in value.split(':').enumerate() {
        let digits = f.strip_prefix(['-', '+']).unwrap_or(f);
        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || i >= 3 {
            break;
        }
        let v: i64 = digits[..n].parse().unwrap_or(i64::MAX);
        fields.push(if f.starts_with('-') { -v } else { v });
        if n < digits.len() {
            break;
        }
    }
    let ok = match fields[..] {
        [start] => start >= 1,
        [start, rate, full] => {
            start >= 1 && full >= 1 && start <= full && (1..=100).contains(&rate)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(("sshd stops with \"Invalid MaxStartups spec\"".into(), hint))
    }
}

/// The host keys Debian 12's openssh-server creates at its installation
/// (and cloud-init regenerates at first boot): the only ones a node has
/// unless something else puts a key there.
pub(crate) const DEBIAN_HOST_KEYS: &[&str] = &[
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
];

/// Whether every quote is closed, as sshd's argv_split (misc.c) wants:
/// `"` and `'` open a quoted part that the same character closes, and a
/// backslash takes the next character as it is.
fn quotes_balanced(s: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                chars.next();
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    quote.is_none()
}

/// `true`/`false` as people write them for sshd's `yes`/`no`.
fn bool_word(w: &str) -> &'static str {
    match w {
        "yes" => "true",
        "no" => "false",
        _ => "\u{0}",
    }
}

/// sshd's integers (strtonum within 0..INT_MAX).
fn parse_int(s: &str) -> Option<u32> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32)
}

/// sshd's time format (misc.c convtime): one or more `NUMBER[smhdwSMHDW]`.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i < b.len() && b"smhdwSMHDW".contains(&b[i]) {
            i += 1;
        } else if i < b.len() {
            return false;
        }
    }
    s.len() <= 18
}

/// The algorithm names sshd knows, as shipped: `ssh -Q` of the targeted
/// OpenSSH (the file's header says how it was made).
const ALGORITHMS: &str = include_str!("../../../data/openssh-9.2p1-algorithms.txt");

/// What an algorithm-list keyword accepts (servconf.c of 9.2p1).
struct AlgoList {
    /// The `ssh -Q` list of the data file.
    query: &'static str,
    /// What one name is, in messages: "cipher".
    what: &'static str,
    /// A name may be a pattern (`ssh-rsa*`) that matches a known name
    /// (sshkey_names_valid2 with wildcards allowed).
    patterns: bool,
    /// The list may start with `+`, `-` or `^`.
    prefixes: bool,
}

fn algo_list(kw: &str) -> Option<AlgoList> {
    let (query, what, patterns, prefixes) = match kw {
        "Ciphers" => ("cipher", "cipher", false, true),
        "MACs" => ("mac", "MAC", false, true),
        "KexAlgorithms" => ("kex", "key exchange algorithm", false, true),
        "GSSAPIKexAlgorithms" => ("kex-gss", "GSSAPI key exchange algorithm", false, false),
        "HostKeyAlgorithms"
        | "PubkeyAcceptedAlgorithms"
        | "PubkeyAcceptedKeyTypes"
        | "HostbasedAcceptedAlgorithms"
        | "HostbasedAcceptedKeyTypes" => ("key-sig", "key algorithm", true, true),
        "CASignatureAlgorithms" => ("sig", "signature algorithm", true, true),
        _ => return None,
    };
    Some(AlgoList {
        query,
        what,
        patterns,
        prefixes,
    })
}

/// The names of one `ssh -Q` list, in file order.
pub(crate) fn algorithms(query: &str) -> Vec<&'static str> {
    ALGORITHMS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(q, _)| *q == query)
        .map(|(_, n)| n)
        .collect()
}

/// One name of an algorithm list that sshd refuses (or, after `-`, that
/// removes nothing): the name to point at (empty: the whole value), the
/// label and the hint.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AlgoProblem {
    /// What a name of this list is: "cipher".
    pub what: &'static str,
    pub name: String,
    pub label: String,
    pub hint: String,
}

/// The names of an algorithm-list value (`Ciphers`, `MACs` …) that sshd
/// does not know. The value is one comma-separated list, optionally
/// prefixed by `+` (append to the defaults), `-` (remove) or `^` (put
/// first) — sshd_config(5). sshd refuses an unknown name ("Bad SSH2 cipher
/// spec") except after `-`, where it silently removes nothing: a misspelt
/// removal leaves the weak algorithm enabled, so it is reported too.
pub(crate) fn check_algorithms(kw: &Keyword, value: &str) -> Vec<AlgoProblem> {
    let Some(list) = algo_list(&kw.name) else {
        return Vec::new();
    };
    let known = algorithms(list.query);
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() > 1 {
        return vec![AlgoProblem {
            what: list.what,
            name: String::new(),
            label: format!("{} takes one list, not {} words", kw.name, words.len()),
            hint: format!(
                "separate the names by commas only, without spaces: `{}`",
                words.join(",").replace(",,", ",")
            ),
        }];
    }
    let value = words.first().copied().unwrap_or("");
    let (prefix, names) = match value.chars().next() {
        Some(c @ ('+' | '-' | '^')) => (Some(c), &value[1..]),
        _ => (None, value),
    };
    if let (Some(c), false) = (prefix, list.prefixes) {
        return vec![AlgoProblem {
            what: list.what,
            name: String::new(),
            label: format!("{} takes no `{c}`", kw.name),
            hint: format!(
                "{} takes the whole list, without `+`, `-` or `^`; it knows {}",
                kw.name,
                super::name_list(known.iter().copied(), 20)
            ),
        }];
    }
    let removing = prefix == Some('-');
    let names: Vec<&str> = names.split(',').filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return vec![AlgoProblem {
            what: list.what,
            name: String::new(),
            label: format!("no {} in the list", list.what),
            hint: format!(
                "name at least one, e.g. `{} {}`",
                kw.site,
                known.first().copied().unwrap_or("")
            ),
        }];
    }
    let mut out = Vec::new();
    for name in names {
        if known.contains(&name) {
            continue;
        }
        let pattern = name.contains(['*', '?']) || name.starts_with('!');
        if pattern && (list.patterns || removing) {
            let p = name.trim_start_matches('!');
            if known.iter().any(|k| glob(p.as_bytes(), k.as_bytes())) {
                continue;
            }
        }
        let label = if pattern && (list.patterns || removing) {
            format!("matches no {} OpenSSH 9.2p1 knows", list.what)
        } else if pattern {
            format!("{} takes names, not patterns (except after `-`)", kw.name)
        } else if removing {
            format!("no {} is named so: `-` removes nothing", list.what)
        } else {
            format!("not a {} OpenSSH 9.2p1 knows", list.what)
        };
        let hint = match closest(name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "{} accepts {}",
                kw.name,
                super::name_list(known.iter().copied(), 24)
            ),
        };
        out.push(AlgoProblem {
            what: list.what,
            name: name.to_string(),
            label,
            hint,
        });
    }
    out
}

/// OpenSSH's match_pattern: `*` any run of characters, `?` one.
pub(crate) fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Where the authorized_keys template writes each user's keys (see
/// templates/node/etc/ssh/authorized_keys/).
const KEYS_FILE: &str = "/etc/ssh/authorized_keys/%u";

/// SC0057: an `AllowUsers` that leaves out the automation user, or a
/// `DenyUsers` that names it. sshd then refuses Ansible on every node the
/// layer reaches. A pattern with a host part (`ansible@10.0.0.0/24`) is
/// judged against `origins`, the networks the automation user's keys are
/// limited to by `from=` (every one of its keys has such a list; else
/// `None`, and the address Ansible comes from is not known here): an
/// AllowUsers whose every pattern for the user names only addresses and
/// CIDR blocks none of which overlaps them, or a DenyUsers pattern whose
/// addresses cover them all, leaves no source address sshd accepts with
/// the key. A host-name pattern or a wildcard in the host part may match
/// anything: not judged.
fn locks_out(
    kw: &Keyword,
    value: &crate::model::Sp<String>,
    automation: Option<&crate::model::Sp<String>>,
    origins: Option<&[ipnet::IpNet]>,
    what: &str,
) -> Option<Diagnostic> {
    let user = automation?;
    let name = user.value.as_bytes();
    let words: Vec<&str> = value
        .value
        .split_whitespace()
        .map(|p| p.trim_matches(['"', '\'']))
        .collect();
    // (user part matches, host part)
    let split = |p: &str| -> (bool, Option<String>) {
        match p.split_once('@') {
            Some((u, h)) => (glob(u.as_bytes(), name), Some(h.to_string())),
            None => (glob(p.as_bytes(), name), None),
        }
    };
    let origins_text = || {
        origins
            .unwrap_or_default()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (label, why, help) = match kw.name.as_str() {
        "AllowUsers" => {
            let mine: Vec<Option<String>> = words
                .iter()
                .map(|p| split(p))
                .filter(|(m, _)| *m)
                .map(|(_, h)| h)
                .collect();
            if mine.is_empty() {
                (
                    format!("`{}` is not among these", user.value),
                    "AllowUsers lets in only the users it lists".to_string(),
                    format!("add `{}` to the list", user.value),
                )
            } else {
                let origins = origins?;
                let outside = mine.iter().all(|h| {
                    h.as_deref()
                        .and_then(super::ssh_key_users::from_nets)
                        .is_some_and(|nets| {
                            !nets.iter().any(|n| {
                                origins.iter().any(|o| super::ssh_key_users::overlaps(n, o))
                            })
                        })
                });
                if !outside {
                    return None;
                }
                (
                    format!("lets `{}` in only from these addresses", user.value),
                    format!(
                        "AllowUsers lets it in only from addresses none of which is in the `from=` of its keys ({}), and sshd refuses the key from anywhere else",
                        origins_text()
                    ),
                    format!(
                        "give `{}` a host part that includes where Ansible connects from (or none)",
                        user.value
                    ),
                )
            }
        }
        "DenyUsers" => {
            let plain = words
                .iter()
                .any(|p| !p.contains('@') && glob(p.as_bytes(), name));
            if plain {
                (
                    format!("this denies `{}`", user.value),
                    "DenyUsers refuses the users it matches".to_string(),
                    format!(
                        "take the pattern that matches `{}` out of the list",
                        user.value
                    ),
                )
            } else {
                let origins = origins?;
                // A negated entry (`!10.0.1.0/24`) takes addresses back:
                // not judged.
                let covers = words.iter().map(|p| split(p)).any(|(m, h)| {
                    m && h.as_deref().is_some_and(|h| {
                        !h.contains('!')
                            && super::ssh_key_users::from_nets(h).is_some_and(|nets| {
                                origins.iter().all(|o| nets.iter().any(|n| n.contains(o)))
                            })
                    })
                });
                if !covers {
                    return None;
                }
                (
                    format!("this denies `{}` from where its keys work", user.value),
                    format!(
                        "DenyUsers refuses it from every address the `from=` of its keys allows ({})",
                        origins_text()
                    ),
                    format!(
                        "narrow the host part so that it leaves out where Ansible connects from, or take the pattern that matches `{}` out",
                        user.value
                    ),
                )
            }
        }
        _ => return None,
    };
    Some(
        Diagnostic::error(
            Code::SshdLocksOutAutomationUser,
            format!(
                "{} of {what} locks out the automation user `{}`: {why}, so Ansible cannot log in to these nodes",
                kw.name, user.value
            ),
        )
        .label(value.span, label)
        .label(user.span, "the automation user")
        .help(format!(
            "{help}, or leave the keyword out (siteconf already allows only key logins)"
        )),
    )
}

/// The networks the automation user's keys are limited to: the union of
/// the `from=` lists of its keys in every layer, when each of them has a
/// list of addresses and CIDR blocks; `None` when one has none (it works
/// from anywhere), or a host-name pattern or wildcard.
fn automation_origins(cx: &Ctx, user: &str) -> Option<Vec<ipnet::IpNet>> {
    let mut out = Vec::new();
    let mut any = false;
    for (_, s) in layers(cx.site) {
        for k in s.ssh_keys.iter().filter(|k| k.user.value == user) {
            any = true;
            let o = k.options.as_ref()?;
            super::ssh_key_options::parse(&o.value).ok()?;
            let (_, v) = super::ssh_key_users::valued(&o.value)
                .into_iter()
                .find(|(n, _)| n == "from")?;
            out.extend(super::ssh_key_users::from_nets(&v)?);
        }
    }
    any.then_some(out)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let has_keys = layers(cx.site).any(|(_, s)| !s.ssh_keys.is_empty());
    let automation = cx
        .site
        .site
        .as_ref()
        .and_then(|s| s.automation_user.as_ref());
    let origins = automation.and_then(|u| automation_origins(cx, &u.value));
    for (what, s) in layers(cx.site) {
        for o in &s.sshd {
            let key = o.key.value.as_str();
            let Some(kw) = lookup(key) else {
                let hint = match closest(key, keywords().iter().map(|k| k.site.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "the keywords are those of sshd_config(5) of OpenSSH 9.2p1, written in lower case with hyphens between words (`permit-root-login`, `password-authentication`)".into(),
                };
                diags.push(
                    Diagnostic::error(
                        Code::SshdUnknownKeyword,
                        format!("sshd has no keyword `{key}` (in {what})"),
                    )
                    .label(o.key.span, "unknown sshd keyword")
                    .help(hint),
                );
                continue;
            };
            if kw.accepts == Accepts::Refused {
                diags.push(
                    Diagnostic::error(
                        Code::SshdUnknownKeyword,
                        format!("`{key}` cannot be used in the sshd drop-in (in {what})"),
                    )
                    .label(o.key.span, format!("{} is not allowed here", kw.name))
                    .help("siteconf's drop-in is included at the top of Debian's sshd_config: a Match or Include there would capture the settings that follow. Set the keywords directly"),
                );
                continue;
            }
            if kw.name == "AuthorizedKeysFile"
                && has_keys
                && !o
                    .value
                    .value
                    .split_whitespace()
                    .any(|w| w.trim_matches(['"', '\'']) == KEYS_FILE)
            {
                diags.push(
                    Diagnostic::error(
                        Code::SshdIgnoresKeys,
                        format!("AuthorizedKeysFile of {what} leaves out the keys siteconf writes"),
                    )
                    .label(o.value.span, format!("no `{KEYS_FILE}` here"))
                    .help(format!(
                        "siteconf writes each `ssh-key` to {KEYS_FILE}: add it, e.g. `authorized-keys-file \".ssh/authorized_keys {KEYS_FILE}\"`, or leave the keyword out (that is the default siteconf writes)"
                    )),
                );
            }
            if let Some(d) = locks_out(
                kw,
                &o.value,
                automation,
                origins.as_deref(),
                &what.to_string(),
            ) {
                diags.push(d);
            }
            if let Err((label, hint)) = check_value(kw, &o.value.value) {
                diags.push(
                    Diagnostic::error(
                        Code::SshdInvalidValue,
                        format!(
                            "sshd refuses `{}` for {} (in {what})",
                            o.value.value.escape_debug(),
                            kw.name
                        ),
                    )
                    .label(o.value.span, label)
                    .help(hint),
                );
                continue;
            }
            if kw.name == "Subsystem"
                && o.value
                    .value
                    .split_whitespace()
                    .next()
                    .map(|w| w.trim_matches(['"', '\'']))
                    == Some("sftp")
            {
                diags.push(
                    Diagnostic::error(
                        Code::SshdInvalidValue,
                        format!("`subsystem \"sftp …\"` cannot be set in the drop-in (in {what}): Debian's sshd_config defines `Subsystem sftp` itself, after the Include of the drop-in, and sshd refuses to start (\"Subsystem 'sftp' already defined\")"),
                    )
                    .label(o.value.span, "sftp is already defined by Debian's sshd_config")
                    .help("leave `subsystem sftp` out: Debian's sshd_config already serves SFTP with /usr/lib/openssh/sftp-server. A subsystem of another name can be set here"),
                );
            }
            if kw.name == "HostKey" {
                for line in value_lines(&kw.name, &o.value.value) {
                    let path = line.trim().trim_matches(['"', '\'']);
                    if DEBIAN_HOST_KEYS.contains(&path) {
                        continue;
                    }
                    diags.push(
                        Diagnostic::warning(
                            Code::SshdHostKeyAbsent,
                            format!("host key `{path}` (in {what}) is not one Debian 12 creates, and siteconf does not deploy it: sshd logs \"Unable to load host key\", and when no host key it is given loads, stops with \"no hostkeys available\" and the node has no SSH"),
                        )
                        .label(narrow(cx, o.value.span, path), "no such key on a fresh node")
                        .help(format!(
                            "name the keys a Debian node has ({}), or leave `host-key` out (sshd then loads those three); a key put in place by other means (the image) must be there before sshd restarts at first boot",
                            DEBIAN_HOST_KEYS.join(", ")
                        )),
                    );
                }
            }
            for p in check_algorithms(kw, &o.value.value) {
                let (message, span) = if p.name.is_empty() {
                    (
                        format!(
                            "sshd refuses `{}` for {} (in {what})",
                            o.value.value, kw.name
                        ),
                        o.value.span,
                    )
                } else {
                    (
                        format!(
                            "OpenSSH 9.2p1 has no {} `{}` ({}, in {what})",
                            p.what, p.name, kw.name
                        ),
                        narrow(cx, o.value.span, &p.name),
                    )
                };
                diags.push(
                    Diagnostic::error(Code::SshdInvalidValue, message)
                        .label(span, p.label)
                        .help(p.hint),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    #[test]
    fn the_table_is_complete_and_well_formed() {
        let k = keywords();
        assert!(k.len() > 90, "{} keywords", k.len());
        let mut seen = std::collections::BTreeSet::new();
        for kw in k {
            assert!(
                seen.insert(kw.name.to_ascii_lowercase()),
                "{} twice",
                kw.name
            );
            assert_eq!(lookup(&kw.site).map(|x| &x.name), Some(&kw.name));
            // What the drop-in will say is the keyword, to sshd (which
            // ignores case): check and render agree.
            let rendered = crate::model::names::sshd_keyword(&kw.site);
            assert!(
                rendered.eq_ignore_ascii_case(&kw.name),
                "{} renders as {rendered}",
                kw.site
            );
            if kw.accepts != Accepts::Refused {
                assert_eq!(check_value(kw, &kw.example), Ok(()), "{}", kw.name);
                assert_eq!(check_algorithms(kw, &kw.example), [], "{}", kw.name);
            }
        }
    }

    #[test]
    fn spellings() {
        assert_eq!(site_spelling("PermitRootLogin"), "permit-root-login");
        assert_eq!(
            site_spelling("GSSAPIAuthentication"),
            "gssapi-authentication"
        );
        assert_eq!(site_spelling("X11UseLocalhost"), "x11-use-localhost");
        assert_eq!(site_spelling("TCPKeepAlive"), "tcp-keep-alive");
        assert_eq!(site_spelling("PermitTTY"), "permit-tty");
        assert_eq!(
            site_spelling("CASignatureAlgorithms"),
            "ca-signature-algorithms"
        );
        assert_eq!(site_spelling("MACs"), "macs");
        assert!(lookup("permit-root-logon").is_none());
        assert!(lookup("PermitRootLogin").is_some());
        assert!(lookup("permit_root_login").is_none());
    }

    #[test]
    fn values() {
        let v = |k: &str, v: &str| check_value(lookup(k).unwrap(), v).is_ok();
        assert!(v("permit-root-login", "prohibit-password"));
        assert!(v("permit-root-login", "Prohibit-Password"));
        assert!(!v("permit-root-login", "maybe"));
        assert!(!v("password-authentication", "true"));
        assert!(v("password-authentication", "no"));
        assert!(!v("password-authentication", "no yes"));
        assert!(v("max-auth-tries", "3"));
        assert!(!v("max-auth-tries", "-1"));
        assert!(!v("max-auth-tries", "three"));
        assert!(!v("max-auth-tries", "99999999999"));
        assert!(v("login-grace-time", "1h30m"));
        assert!(!v("login-grace-time", "2x"));
        assert!(!v("port", "0"));
        assert!(!v("port", "70000"));
        assert!(v("unused-connection-timeout", "none"));
        assert!(v("banner", "/etc/issue.net"));
        assert!(!v("banner", "none\nPermitRootLogin yes"));
        assert!(!v("banner", ""));
        assert!(!v("banner", "\"/etc/issue"));
        assert!(!v("banner", "/etc/is\"sue"));
        assert!(v("banner", "\"/etc/issue net\""));
        assert!(v("accept-env", "LANG LC_*"));
        // Keywords sshd takes once per value: one line each.
        assert!(v("port", "22 2222"));
        assert!(!v("port", "22 0"));
        assert!(v("listen-address", "10.0.0.5 2001:db8::5"));
        assert!(v("host-key", "/etc/ssh/a /etc/ssh/b"));
        // What `sshd -t` of 9.2p1 says of MaxStartups.
        for ok in ["1", "10:30:100", "10:100:100", "10:30:10", "3:100:3", "10:"] {
            assert!(v("max-startups", ok), "{ok}");
        }
        for bad in [
            "0",
            "0:30:100",
            "10:0:100",
            "10:101:100",
            "10:30:5",
            "10:30",
            "5:30:0",
            "x",
        ] {
            assert!(!v("max-startups", bad), "{bad}");
        }
    }

    #[test]
    fn the_port_ansible_uses() {
        let p = |l: &[(&str, &str)]| sshd_port(l.iter().copied());
        assert_eq!(p(&[]), None);
        assert_eq!(p(&[("ListenAddress", "::")]), None);
        assert_eq!(p(&[("Port", "2222"), ("Port", "22")]), Some(2222));
        assert_eq!(p(&[("ListenAddress", "0.0.0.0:2222")]), Some(2222));
        assert_eq!(p(&[("ListenAddress", "[2001:db8::5]:2200")]), Some(2200));
        assert_eq!(p(&[("ListenAddress", "::"), ("Port", "2022")]), Some(2022));
        assert_eq!(
            p(&[("ListenAddress", "10.0.0.5"), ("Port", "2022")]),
            Some(2022)
        );
        assert_eq!(
            p(&[("ListenAddress", "10.0.0.5:2300"), ("Port", "2022")]),
            Some(2300)
        );
    }

    #[test]
    fn several_values_are_several_lines() {
        assert_eq!(
            value_lines("ListenAddress", "10.40.1.10 2001:db8:40:100::102"),
            ["10.40.1.10", "2001:db8:40:100::102"]
        );
        assert_eq!(
            value_lines("ListenAddress", "10.0.0.5 rdomain 2 10.0.0.6"),
            ["10.0.0.5 rdomain 2", "10.0.0.6"]
        );
        assert_eq!(
            value_lines("HostKey", "/etc/ssh/a /etc/ssh/b"),
            ["/etc/ssh/a", "/etc/ssh/b"]
        );
        assert_eq!(
            value_lines("HostKey", "\"/etc/ssh/a b\""),
            ["\"/etc/ssh/a b\""]
        );
        assert_eq!(value_lines("AcceptEnv", "LANG LC_*"), ["LANG LC_*"]);
    }

    #[test]
    fn a_keyword_given_twice_in_one_block() {
        use super::super::testing::check_kdl;
        let site = |sshd: &str| {
            format!("site s {{ domain \"s.example\"; defaults {{ sshd {{ {sshd} }} }} }}")
        };
        let found = |sshd: &str| -> Vec<(&'static str, String)> {
            check_kdl(&site(sshd))
                .into_iter()
                .filter(|d| d.code.as_str() == "SC0006")
                .map(|d| (d.code.as_str(), d.message))
                .collect()
        };
        for twice in [
            "permit-root-login yes; PermitRootLogin prohibit-password",
            "permit-root-login yes; permit-root-login no",
            "PermitRootLogin yes; permitrootlogin no",
        ] {
            let f = found(twice);
            assert_eq!(f.len(), 1, "{twice}: {f:?}");
            assert!(f[0].1.contains("is given twice"), "{f:?}");
        }
        assert!(found("permit-root-login no; password-authentication no").is_empty());
        let d = check_kdl(&site("permit-root-login yes; PermitRootLogin no"));
        let d = d.iter().find(|d| d.code.as_str() == "SC0006").unwrap();
        assert_eq!(d.labels.len(), 2);
    }

    #[test]
    fn algorithm_lists() {
        let bad = |k: &str, v: &str| -> Vec<String> {
            check_algorithms(lookup(k).unwrap(), v)
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        let none: Vec<String> = Vec::new();
        assert_eq!(bad("ciphers", "aes256-gcm@openssh.com,aes128-ctr"), none);
        assert_eq!(
            bad("ciphers", "aes256-gcm@openssh.com,3des-cbc-typo"),
            ["3des-cbc-typo"]
        );
        let p = &check_algorithms(
            lookup("ciphers").unwrap(),
            "aes256-gcm@openssh.com,3des-cbc-typo",
        )[0];
        assert_eq!(p.hint, "did you mean `3des-cbc`?");
        // sshd compares names exactly.
        assert_eq!(bad("ciphers", "AES256-ctr"), ["AES256-ctr"]);
        assert_eq!(bad("ciphers", "+aes128-cbc"), none);
        assert_eq!(bad("ciphers", "^chacha20-poly1305@openssh.com"), none);
        assert_eq!(bad("ciphers", "-3des-cbc,aes*"), none);
        assert_eq!(bad("ciphers", "-3des-cbx"), ["3des-cbx"]);
        assert_eq!(bad("ciphers", "aes*"), ["aes*"]);
        assert_eq!(bad("ciphers", "aes256-ctr,"), none);
        assert_eq!(bad("ciphers", ","), [""]);
        assert_eq!(bad("ciphers", "aes256-ctr aes128-ctr"), [""]);
        assert_eq!(
            bad("macs", "hmac-sha2-512-etm@openssh.com,hmac-sha3"),
            ["hmac-sha3"]
        );
        assert_eq!(bad("kex-algorithms", "-diffie-hellman-group1-sha1"), none);
        assert_eq!(bad("kex-algorithms", "curve25519"), ["curve25519"]);
        assert_eq!(bad("host-key-algorithms", "+ssh-rsa*"), none);
        assert_eq!(bad("pubkey-accepted-algorithms", "+foo*"), ["foo*"]);
        assert_eq!(bad("pubkey-accepted-key-types", "ssh-ed25519,foo"), ["foo"]);
        assert_eq!(bad("hostbased-accepted-algorithms", "rsa-sha2-512"), none);
        assert_eq!(
            bad("ca-signature-algorithms", "ssh-ed25519,rsa-sha2-256"),
            none
        );
        assert_eq!(bad("gssapi-kex-algorithms", "gss-group14-sha256-"), none);
        assert_eq!(bad("gssapi-kex-algorithms", "+gss-group14-sha256-"), [""]);
        assert_eq!(bad("gssapi-kex-algorithms", "gss-foo-"), ["gss-foo-"]);
        // Other keywords are not lists of algorithms.
        assert_eq!(bad("banner", "foo,bar"), none);
        assert!(glob(b"ssh-rsa*", b"ssh-rsa-cert-v01@openssh.com"));
        assert!(glob(b"?sa-sha2-256", b"rsa-sha2-256"));
        assert!(!glob(b"rsa", b"rsa-sha2-256"));
    }

    /// `USER@HOST` patterns against the automation key's `from=`.
    #[test]
    fn user_at_host_patterns() {
        let site = |sshd: &str, from: &str| {
            format!(
                "site s {{ domain \"s.example\"; automation-user ansible; defaults {{ ssh-key a {{ user ansible; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 k@example\"{from} }}; sshd {{ {sshd} }} }} }}"
            )
        };
        let from = "; options \"from=\\\"10.0.0.0/16\\\"\"";
        let f = |sshd: &str, from: &str| -> Vec<&str> {
            codes(&site(sshd, from))
                .into_iter()
                .filter(|c| *c == "SC0057")
                .collect()
        };
        assert_eq!(
            f("allow-users \"ansible@192.168.0.0/24 alice\"", from),
            ["SC0057"]
        );
        assert!(f("allow-users \"ansible@10.0.1.0/24 alice\"", from).is_empty());
        assert!(f("allow-users \"ansible@192.168.0.0/24 ansible alice\"", from).is_empty());
        assert!(f("allow-users \"ansible@*.example.net\"", from).is_empty());
        // A key without from= may be used from anywhere.
        assert!(f("allow-users \"ansible@192.168.0.0/24\"", "").is_empty());
        assert_eq!(f("deny-users \"*@10.0.0.0/8\"", from), ["SC0057"]);
        assert!(f("deny-users \"*@10.0.5.0/24\"", from).is_empty());
        assert!(f("deny-users \"*@10.0.0.0/8,!10.0.1.0/24\"", from).is_empty());
        assert!(f("deny-users \"alice@10.0.0.0/8\"", from).is_empty());
        assert!(f("deny-users \"*@10.0.0.0/8\"", "").is_empty());
    }

    #[test]
    fn reports_keywords_and_values() {
        let site = |sshd: &str| {
            format!("site s {{ domain \"s.example\"; defaults {{ sshd {{ {sshd} }} }} }}")
        };
        let codes = |t: &str| -> Vec<&str> {
            codes(t)
                .into_iter()
                .filter(|c| c.starts_with("SC004") || *c == "SC0052")
                .collect()
        };
        assert_eq!(codes(&site("permit-root-logon no")), ["SC0040"]);
        assert_eq!(codes(&site("match \"User x\"")), ["SC0040"]);
        let key = "ssh-key k { user root; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 k@example\"; }";
        let with_key = |sshd: &str| {
            format!("site s {{ domain \"s.example\"; defaults {{ {key}; sshd {{ {sshd} }} }} }}")
        };
        assert_eq!(
            codes(&with_key("authorized-keys-file \".ssh/authorized_keys\"")),
            ["SC0052"]
        );
        assert!(codes(&with_key(
            "authorized-keys-file \".ssh/authorized_keys /etc/ssh/authorized_keys/%u\""
        ))
        .is_empty());
        assert!(codes(&site("authorized-keys-file \".ssh/authorized_keys\"")).is_empty());
        assert_eq!(codes(&site("permit-root-login maybe")), ["SC0041"]);
        assert_eq!(
            codes(&site("ciphers \"aes256-gcm@openssh.com,3des-cbc-typo\"")),
            ["SC0041"]
        );
        assert_eq!(
            codes(&site("ciphers \"aes256-gcm@openssh.com\"")),
            Vec::<&str>::new()
        );
        assert_eq!(codes(&site("max-startups 0")), ["SC0041"]);
        assert_eq!(codes(&site("subsystem \"sftp internal-sftp\"")), ["SC0041"]);
        assert!(codes(&site("subsystem \"backup /usr/lib/backup\"")).is_empty());
        let hk = |v: &str| -> Vec<&str> {
            super::super::testing::codes(&site(&format!("host-key {v}")))
                .into_iter()
                .filter(|c| *c == "SC0066")
                .collect()
        };
        assert_eq!(hk("\"/etc/ssh/ssh_host_dsa_key\""), ["SC0066"]);
        assert!(hk("\"/etc/ssh/ssh_host_ed25519_key\" \"/etc/ssh/ssh_host_rsa_key\"").is_empty());
        assert_eq!(
            codes(&site("max-auth-tries 3; x11-forwarding #false")),
            Vec::<&str>::new()
        );
    }
}
