//! Rule `ssh-key-users`: SSH keys sshd accepts but that never let anyone in.
//!
//! **What it does.** For each `ssh-key` of the site defaults, a profile or
//! a node whose `options` parse (SC0042 reports those that do not):
//! - an `expiry-time="…"` in the past: a warning (SC0075), or an error
//!   (SC0914) on a key of the site's `automation-user`;
//! - a `command="…"` on a key of the automation user: a warning (SC0915);
//! - a key for a Debian system user of base-passwd (`daemon`, `www-data`,
//!   `nobody`…) whose shell is `/usr/sbin/nologin`: a warning (SC0917);
//! - a `from="…"` of only addresses and CIDR blocks none of which overlaps
//!   a network the site declares (or another site of the project, whose
//!   machines may be where logins come from): a warning (SC0084), or
//!   SC0085, a warning too, on a key of the automation user (Ansible
//!   locked out; but a bastion outside every declared network is legal). A host-name pattern or a wildcard in
//!   the list (`*.example.net`, `10.0.*`) may match anything: not judged.
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
use super::{layers, narrow};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "ssh-key-users",
    codes: &[
        Code::SshKeyExpired,
        Code::AutomationKeyExpired,
        Code::AutomationKeyCommand,
        Code::SshKeySystemUser,
        Code::SshKeyFromNowhere,
        Code::AutomationKeyFromNowhere,
    ],
    check,
    resolved: false,
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
fn valued(s: &str) -> Vec<(String, String)> {
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
fn from_nets(v: &str) -> Option<Vec<ipnet::IpNet>> {
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

fn overlaps(a: &ipnet::IpNet, b: &ipnet::IpNet) -> bool {
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
                    "from" if !networks.is_empty() => {
                        let Some(nets) = from_nets(&v) else { continue };
                        if nets.iter().any(|f| networks.iter().any(|n| overlaps(f, n))) {
                            continue;
                        }
                        let span = narrow(cx, o.span, &v);
                        let label = "no network of the site is in this list";
                        let d = if let (true, Some(u)) = (is_auto, automation) {
                            // A warning, not an error: the automation host may
                            // sit on a network no site declares (an office
                            // bastion), and that site is valid.
                            Diagnostic::warning(
                                Code::AutomationKeyFromNowhere,
                                format!(
                                    "SSH key `{}` of {what}, the automation user's, is limited to `from=\"{v}\"`, which overlaps no network of the site: sshd refuses it from every machine of the site and Ansible is locked out of every node that has it",
                                    k.name.value
                                ),
                            )
                            .label(span, label)
                            .label(u.span, "the automation user")
                        } else {
                            Diagnostic::warning(
                                Code::SshKeyFromNowhere,
                                format!(
                                    "SSH key `{}` of {what} (user `{user}`) is limited to `from=\"{v}\"`, which overlaps no network of the site: sshd refuses it from every machine of the site",
                                    k.name.value
                                ),
                            )
                            .label(span, label)
                        };
                        let current = cx
                            .site
                            .networks
                            .iter()
                            .find(|n| n.purpose.value == crate::model::Purpose::Management)
                            .and_then(|n| n.ipv4.as_ref())
                            .map(|p| format!(" (the management network is `{}` now)", p.value))
                            .unwrap_or_default();
                        diags.push(d.help(format!(
                            "a list written for a network's old prefix matches nothing after a renumber: put the prefix the logins come from in `from=`{current}, or a host-name pattern of the machine outside the site they come from"
                        )));
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
            "network mgmt { purpose management; ipv4 \"10.8.0.0/16\"; ipv6 \"2001:db8::/64\" }\nsite s {",
        );
        codes(&text)
            .into_iter()
            .filter(|c| matches!(*c, "SC0084" | "SC0085" | "SC0042"))
            .collect()
    }

    #[test]
    fn from_lists_no_network_satisfies() {
        assert_eq!(with_net("ansible", "10.0.0.0/16"), ["SC0085"]);
        assert_eq!(with_net("alice", "10.0.0.0/16"), ["SC0084"]);
        assert_eq!(with_net("alice", "192.0.2.7,!10.8.0.5"), ["SC0084"]);
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
}
