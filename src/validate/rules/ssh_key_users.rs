//! Rule `ssh-key-users`: SSH keys sshd accepts but that never let anyone in.
//!
//! **What it does.** For each `ssh-key` of the site defaults, a profile or
//! a node whose `options` parse (SC0042 reports those that do not):
//! - an `expiry-time="…"` in the past: a warning (SC0075), or an error
//!   (SC0914) on a key of the site's `automation-user`;
//! - a `command="…"` on a key of the automation user: a warning (SC0915);
//! - a key for a Debian system user of base-passwd (`daemon`, `www-data`,
//!   `nobody`…) whose shell is `/usr/sbin/nologin`: a warning (SC0917);
//! - on a node where every key of the automation user has a `from="…"` of
//!   only addresses and CIDR blocks none of which overlaps a network the
//!   site declares (or another site of the project, whose machines may be
//!   where logins come from): SC0085, a warning (Ansible locked out; but a
//!   bastion outside every declared network is legal). One usable key of
//!   the automation user on the node (no `from=`, or one that overlaps) is
//!   enough: a key beside it for a machine outside the site (a CI runner)
//!   is no finding. A host-name pattern or a wildcard in the list
//!   (`*.example.net`, `10.0.*`) may match anything: not judged. Other
//!   users' `from=` lists are not judged at all: people log in from
//!   outside the site (an office VPN) as a rule.
//!
//! **Why it matters.** sshd says "entry expired" and refuses an expired
//! key. A forced command replaces whatever the client asks to run, and
//! Ansible runs every module (and its file transfers) as a command. A
//! system user already exists when cloud-init runs, so cloud-init does
//! not create it with a shell: its key logs in to `nologin`, which closes
//! the session at once. sshd refuses a key whose `from=` does not match the
//! client's address, and a `from=` written for a network's old prefix
//! (`siteconf init` writes the management prefix into the automation key)
//! matches no machine of the site once the network is renumbered. The key
//! looks installed and does not work.
//!
//! **Example.**
//! ```kdl
//! ssh-key ansible { user ansible; key "ssh-ed25519 AAAA…"; options "expiry-time=\"20200101\"" }   // SC0914
//! ssh-key d { user daemon; key "ssh-ed25519 AAAA…" }                                           // SC0917
//! ```

use super::super::{Ctx, Rule};
use super::{layers, narrow, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ssh-key-users",
    codes: &[
        Code::SshKeyExpired,
        Code::AutomationKeyExpired,
        Code::AutomationKeyCommand,
        Code::SshKeySystemUser,
        Code::AutomationKeyFromNowhere,
    ],
    check,
    // SC0085 judges the keys each node ends up with.
    resolved: true,
};

/// The users of Debian 12's base-passwd 3.6.1 (/usr/share/base-passwd/
/// passwd.master) whose shell is `/usr/sbin/nologin` (`sync`'s is
/// `/bin/sync`, which is no login either).
const SYSTEM_USERS: &[&str] = &[
    "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "_apt", "nobody",
];

/// The `name="value"` options of a string that parses (quotes as sshd
/// reads them), lower-cased names; the value with `\"` unescaped.
pub(super) fn valued(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        if b.get(i) == Some(&b'=') && b.get(i + 1) == Some(&b'"') {
            i += 2;
            let mut v = String::new();
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && b.get(i + 1) == Some(&b'"') {
                    v.push('"');
                    i += 2;
                    continue;
                }
                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                v.push(c);
                i += c.len_utf8();
            }
            i += 1;
            out.push((name, v));
        }
        // Past the comma.
        while i < b.len() && b[i] != b',' {
            i += 1;
        }
        i += 1;
    }
    out
}

/// Seconds since the epoch of an `expiry-time` (`YYYYMMDD[HHMM[SS]][Z]`),
/// read as UTC; `None` if it is not one.
fn expiry_secs(v: &str) -> Option<i64> {
    let t = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    if !matches!(t.len(), 8 | 12 | 14) || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| t.get(a..b).map_or(0, |x| x.parse::<i64>().unwrap_or(0));
    let (y, m, d) = (n(0, 4), n(4, 6), n(6, 8));
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + n(8, 10) * 3600 + n(10, 12) * 60 + n(12, 14))
}

/// The positive entries of a `from="…"` list that parses, as networks
/// (an address is its own /32 or /128); `None` when an entry is a host-name
/// pattern or a wildcard (it may match anything), or there is no positive
/// entry. Negated entries (`!10.0.0.5`) only take addresses away.
pub(super) fn from_nets(v: &str) -> Option<Vec<ipnet::IpNet>> {
    let mut out = Vec::new();
    for e in v
        .split(',')
        .filter(|e| !e.is_empty() && !e.starts_with('!'))
    {
        let net = match e.parse::<ipnet::IpNet>() {
            Ok(n) => n,
            Err(_) => ipnet::IpNet::from(e.parse::<std::net::IpAddr>().ok()?),
        };
        out.push(net);
    }
    (!out.is_empty()).then_some(out)
}

pub(super) fn overlaps(a: &ipnet::IpNet, b: &ipnet::IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The prefixes of the site's networks, and of the other sites' in a
/// project of several.
fn declared(cx: &Ctx) -> Option<Vec<ipnet::IpNet>> {
    let mut out = cx.other_networks?.to_vec();
    for n in &cx.site.networks {
        out.extend(n.ipv4.as_ref().map(|p| ipnet::IpNet::V4(p.value)));
        out.extend(n.ipv6.as_ref().map(|p| ipnet::IpNet::V6(p.value)));
    }
    Some(out)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let automation = cx
        .site
        .site
        .as_ref()
        .and_then(|s| s.automation_user.as_ref());
    // A time without `Z` is the node's local time: a day's margin keeps a
    // key that expires today from being reported anywhere on Earth.
    let now = now_secs();
    // A network whose prefix did not parse (already reported) may be the
    // one the list names: stay quiet, as when a site of the project did not
    // load.
    let networks = declared(cx)
        .filter(|_| {
            cx.site
                .networks
                .iter()
                .all(|n| n.prefix_invalid == [false; 2])
        })
        .unwrap_or_default();
    for (what, s) in layers(cx.site) {
        for k in &s.ssh_keys {
            let user = k.user.value.as_str();
            let is_auto = automation.is_some_and(|u| u.value == user);
            if SYSTEM_USERS.contains(&user) {
                diags.push(
                    Diagnostic::warning(
                        Code::SshKeySystemUser,
                        format!(
                            "SSH key `{}` of {what} is for `{user}`, a system user whose shell is nologin: the key never gives a shell",
                            k.name.value
                        ),
                    )
                    .label(k.user.span, format!("`{user}` exists already, with /usr/sbin/nologin"))
                    .help("cloud-init does not create a user that exists, so it keeps its shell: give the key to a user of its own (a new name), or leave it out"),
                );
            }
            let Some(o) = &k.options else { continue };
            if super::ssh_key_options::parse(&o.value).is_err() {
                continue;
            }
            for (name, v) in valued(&o.value) {
                match name.as_str() {
                    "expiry-time" => {
                        let Some(t) = expiry_secs(&v) else { continue };
                        if t + 86400 >= now {
                            continue;
                        }
                        let span = narrow(cx, o.span, &v);
                        let d = if let (true, Some(u)) = (is_auto, automation) {
                            Diagnostic::error(
                                Code::AutomationKeyExpired,
                                format!(
                                    "SSH key `{}` of {what}, the automation user's, expired on {v}: sshd refuses it (\"entry expired\") and Ansible cannot log in",
                                    k.name.value
                                ),
                            )
                            .label(span, "in the past")
                            .label(u.span, "the automation user")
                        } else {
                            Diagnostic::warning(
                                Code::SshKeyExpired,
                                format!(
                                    "SSH key `{}` of {what} (user `{user}`) expired on {v}: sshd refuses it (\"entry expired\")",
                                    k.name.value
                                ),
                            )
                            .label(span, "in the past")
                        };
                        diags.push(d.help(
                            "give a date in the future (`expiry-time=\"YYYYMMDD\"`), or replace the key and take the option out",
                        ));
                    }
                    "command" if is_auto => {
                        let span = narrow(cx, o.span, "command=");
                        diags.push(
                            Diagnostic::warning(
                                Code::AutomationKeyCommand,
                                format!(
                                    "SSH key `{}` of {what} forces a command on the automation user `{user}`: sshd runs it instead of Ansible's modules, so every task fails",
                                    k.name.value
                                ),
                            )
                            .label(span, "every login runs only this")
                            .help("take `command=` out of the automation user's key; restrict it with `from=\"…\"` and `no-agent-forwarding`, `no-port-forwarding`, `no-X11-forwarding` instead"),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    if let (Some(u), Some(rs), false) = (automation, cx.resolved, networks.is_empty()) {
        automation_from_nowhere(cx, rs, u, &networks, diags);
    }
}

/// The networks a key's `from=` limits it to when none of them overlaps
/// `networks`: `Some((value, entries))`; `None` when the key has no
/// `from=`, its options do not parse, or its list may match a machine of
/// the site (an overlapping prefix, a host-name pattern, a wildcard).
fn from_nowhere(
    k: &crate::model::SshKey,
    networks: &[ipnet::IpNet],
    use_dns: bool,
) -> Option<String> {
    let o = k.options.as_ref()?;
    super::ssh_key_options::parse(&o.value).ok()?;
    let (_, v) = valued(&o.value).into_iter().find(|(n, _)| n == "from")?;
    let nets = from_addresses(&v, use_dns)?;
    (!nets.iter().any(|f| networks.iter().any(|n| overlaps(f, n)))).then_some(v)
}

/// The addresses a `from=` list lets in, when that is known: its CIDR
/// blocks and addresses; a host name (`bastion.corp.example`,
/// `localhost`) lets nothing in unless sshd resolves client names
/// (`use-dns yes`; OpenSSH's default and Debian's is `no`: sshd then
/// compares the list with the client's address, which a name never
/// equals). `None` (not judged): a wildcard pattern (`10.0.*`), a name
/// with `use-dns yes`, or no positive entry.
fn from_addresses(v: &str, use_dns: bool) -> Option<Vec<ipnet::IpNet>> {
    let mut out = Vec::new();
    let mut positive = false;
    for e in v
        .split(',')
        .filter(|e| !e.is_empty() && !e.starts_with('!'))
    {
        positive = true;
        if let Some(n) = from_nets(e) {
            out.extend(n);
        } else if use_dns || !is_host_name(e) {
            return None;
        }
    }
    // Only negations (`!10.8.0.5`): they take addresses away from nothing
    // sshd would match; SC0042's parser judges such a list, not this.
    positive.then_some(out)
}

/// A host name, not an address pattern: no wildcard, and a letter that
/// is no hexadecimal digit (`fe80::*` is an address pattern).
fn is_host_name(e: &str) -> bool {
    !e.contains(['*', '?'])
        && e.chars()
            .any(|c| c.is_ascii_alphabetic() && !c.is_ascii_hexdigit())
}

/// Whether a node's effective sshd settings resolve client names.
fn uses_dns(settings: &crate::model::Settings) -> bool {
    settings
        .sshd
        .iter()
        .rev()
        .find(|o| crate::model::names::same_sshd_keyword(&o.key.value, "use-dns"))
        .is_some_and(|o| o.value.value.trim().eq_ignore_ascii_case("yes"))
}

/// SC0085: on a node, every key of the automation user has a `from=` that
/// no machine of the site (or of another site of the project) satisfies.
/// One usable key (no `from=`, or one that overlaps a network) is enough
/// for Ansible: a key kept for a machine outside the site (a CI runner)
/// beside it is not a finding.
fn automation_from_nowhere(
    cx: &Ctx,
    rs: &crate::resolve::Resolved,
    u: &crate::model::Sp<String>,
    networks: &[ipnet::IpNet],
    diags: &mut Diagnostics,
) {
    let current = cx
        .site
        .networks
        .iter()
        .find(|n| n.purpose.value == crate::model::Purpose::Management)
        .and_then(|n| n.ipv4.as_ref())
        .map(|p| format!(" (the management network is `{}` now)", p.value))
        .unwrap_or_default();
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        let keys: Vec<&crate::model::SshKey> = rn
            .settings
            .ssh_keys
            .iter()
            .filter(|k| k.user.value == u.value)
            .map(|k| &**k)
            .collect();
        let use_dns = uses_dns(&rn.settings);
        let mut nowhere = Vec::new();
        for k in &keys {
            match from_nowhere(k, networks, use_dns) {
                Some(v) => nowhere.push((*k, v)),
                None => break,
            }
        }
        if keys.is_empty() || nowhere.len() < keys.len() {
            continue;
        }
        let (first, v) = &nowhere[0];
        let what = if nowhere.len() == 1 {
            format!(
                "the automation user `{}` has one SSH key here, `{}`, limited to `from=\"{v}\"`, which overlaps no network of the site",
                u.value, first.name.value
            )
        } else {
            format!(
                "every SSH key of the automation user `{}` here ({}) is limited by `from=` to addresses outside every network of the site",
                u.value,
                nowhere
                    .iter()
                    .map(|(k, _)| format!("`{}`", k.name.value))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut d = Diagnostic::warning(
            Code::AutomationKeyFromNowhere,
            format!(
                "{what}: sshd refuses {} from every machine of the site, so Ansible cannot log in to the node unless it runs outside every declared network",
                if nowhere.len() == 1 { "it" } else { "each of them" }
            ),
        );
        for (k, v) in &nowhere {
            let o = k.options.as_ref().expect("from= is in the options");
            d = d.label(
                narrow(cx, o.span, v),
                "no network of the site is in this list",
            );
        }
        found.push(
            cx.site.nodes[rn.index].name.value.as_str(),
            d.label(u.span, "the automation user").help(format!(
                "a list written for a network's old prefix matches nothing after a renumber: put the prefix Ansible connects from in `from=`{current}; if the automation host is outside every network of the site (a bastion on the corporate network), declare its network in the site (`network corp {{ purpose other; ipv4 \"…\" }}`: siteconf then knows it, and writes its reverse zone too). A host name in `from=` matches only with `sshd {{ use-dns yes }}`: sshd compares the list with the client's address otherwise"
            )),
        );
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    #[test]
    fn option_values() {
        assert_eq!(
            valued("from=\"10.0.0.0/8,10.1.0.0/16\",no-pty,command=\"echo \\\"a\\\"\""),
            [
                ("from".to_string(), "10.0.0.0/8,10.1.0.0/16".to_string()),
                ("command".to_string(), "echo \"a\"".to_string())
            ]
        );
    }

    #[test]
    fn expiry_times() {
        assert_eq!(expiry_secs("19700101"), Some(0));
        assert_eq!(expiry_secs("20000301Z"), Some(951868800));
        assert_eq!(expiry_secs("202001011200"), Some(1577880000));
        assert_eq!(expiry_secs("tomorrow"), None);
    }

    fn site(user: &str, options: &str) -> String {
        format!(
            "site s {{ domain \"s.example\"; automation-user ansible; defaults {{ ssh-key k {{ user {user}; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 k@example\"; options \"{options}\" }} }} }}"
        )
    }

    fn found(user: &str, options: &str) -> Vec<&'static str> {
        codes(&site(user, options))
            .into_iter()
            .filter(|c| matches!(*c, "SC0075" | "SC0914" | "SC0915" | "SC0917" | "SC0042"))
            .collect()
    }

    #[test]
    fn keys_that_never_work() {
        assert_eq!(found("alice", "expiry-time=\\\"20200101\\\""), ["SC0075"]);
        assert_eq!(found("ansible", "expiry-time=\\\"20200101\\\""), ["SC0914"]);
        assert!(found("ansible", "expiry-time=\\\"29991231Z\\\"").is_empty());
        assert_eq!(
            found("ansible", "command=\\\"/usr/bin/true\\\""),
            ["SC0915"]
        );
        assert!(found("alice", "command=\\\"/usr/bin/true\\\"").is_empty());
        assert_eq!(found("daemon", "no-pty"), ["SC0917"]);
    }

    fn with_net(user: &str, from: &str) -> Vec<&'static str> {
        let text = site(user, &format!("from=\\\"{from}\\\",no-pty")).replace(
            "site s {",
            "network mgmt { purpose management; ipv4 \"10.8.0.0/16\"; ipv6 \"2001:db8::/64\" }\nrack r01 { }\nnode n1 { rack r01; position 1 }\nsite s {",
        );
        codes(&text)
            .into_iter()
            .filter(|c| matches!(*c, "SC0085" | "SC0042"))
            .collect()
    }

    #[test]
    fn from_lists_no_network_satisfies() {
        assert_eq!(with_net("ansible", "10.0.0.0/16"), ["SC0085"]);
        // People's keys limited to an office VPN are normal hardening.
        assert!(with_net("alice", "10.0.0.0/16").is_empty());
        assert!(with_net("alice", "192.0.2.7,!10.8.0.5").is_empty());
        assert!(with_net("ansible", "10.8.0.0/16").is_empty());
        assert!(with_net("ansible", "10.0.0.0/8").is_empty());
        assert!(with_net("ansible", "10.8.3.4").is_empty());
        assert!(with_net("ansible", "10.0.0.0/16,2001:db8::/48").is_empty());
        // Patterns may match anything.
        assert!(with_net("ansible", "10.0.0.0/16,*.example.net").is_empty());
        assert!(with_net("ansible", "10.0.*").is_empty());
        assert!(with_net("ansible", "!10.8.0.5").is_empty());
        assert!(found("alice", "no-pty").is_empty());
    }

    /// A host name in `from=` never equals the client's address that sshd
    /// compares the list with, unless sshd resolves names (`use-dns yes`).
    #[test]
    fn host_names_match_only_with_use_dns() {
        assert_eq!(with_net("ansible", "localhost"), ["SC0085"]);
        assert_eq!(with_net("ansible", "bastion.corp.example"), ["SC0085"]);
        assert_eq!(with_net("ansible", "10.0.0.0/16,bastion"), ["SC0085"]);
        assert!(with_net("ansible", "10.8.0.0/16,bastion").is_empty());
        // Address patterns, whatever their letters, are not judged.
        assert!(with_net("ansible", "fe80::*").is_empty());
        let dns = |from: &str| -> Vec<&'static str> {
            let text = site("ansible", &format!("from=\\\"{from}\\\",no-pty"))
                .replace("defaults {", "defaults { sshd { use-dns #true; };")
                .replace(
                    "site s {",
                    "network mgmt { purpose management; ipv4 \"10.8.0.0/16\" }\nrack r01 { }\nnode n1 { rack r01; position 1 }\nsite s {",
                );
            codes(&text)
                .into_iter()
                .filter(|c| matches!(*c, "SC0085" | "SC0042"))
                .collect()
        };
        assert!(dns("bastion.corp.example").is_empty());
        assert_eq!(dns("10.0.0.0/16"), ["SC0085"]);
    }

    /// A node with the keys `extra` (KDL) beside the profile's automation
    /// key limited to `from`.
    fn node_keys(from: &str, extra: &str) -> Vec<&'static str> {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 k@example";
        let text = format!(
            "site s {{ domain \"s.example\"; automation-user ansible }}
network mgmt {{ purpose management; ipv4 \"10.0.0.0/16\" }}
rack r01 {{ }}
profile base {{ ssh-key ansible {{ user ansible; key \"{key}\"; options \"from=\\\"{from}\\\"\" }} }}
node n1 {{ rack r01; position 1; profiles base; address mgmt ipv4=\"10.0.1.5\"
  {extra} }}"
        );
        codes(&text)
            .into_iter()
            .filter(|c| matches!(*c, "SC0085" | "SC0042"))
            .collect()
    }

    #[test]
    fn another_automation_key_works() {
        let ci = "ssh-key deploy { user ansible; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA8AZYLPuZiLzCEOCEinI+uuC3aNaGQqsUtmVhJ4ju0b ci\"; options \"from=\\\"192.168.0.0/24\\\"\" }";
        // The profile's key works from the site: the CI runner's is extra.
        assert!(node_keys("10.0.0.0/16", ci).is_empty());
        // Both from outside: locked out.
        assert_eq!(node_keys("10.9.0.0/16", ci), ["SC0085"]);
        // A key without from= works from anywhere.
        let plain = ci.replace("; options \"from=\\\"192.168.0.0/24\\\"\"", "");
        assert!(node_keys("10.9.0.0/16", &plain).is_empty());
    }
}
