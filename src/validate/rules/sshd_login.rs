//! Rule `sshd-login`: sshd settings that each pass on their own but leave
//! a node without a working SSH login.
//!
//! **What it does.** Looks at the `sshd` keywords in effect on each node
//! (the site defaults, profiles and node merged, as the drop-in is
//! written), with what Debian's own sshd_config and sshd's defaults give
//! the keywords siteconf does not write (`KbdInteractiveAuthentication no`
//! in Debian's file; `PasswordAuthentication` and `PubkeyAuthentication`
//! `yes`, `HostbasedAuthentication` and `GSSAPIAuthentication` `no`).
//! - Reports (SC0072) an `authentication-methods` that names a method
//!   turned off (`publickey,password` with `password-authentication no`),
//!   or a method sshd does not know.
//! - Reports (SC0073) a `listen-address` whose addresses are none of the
//!   node's (those of its networks, its loopback; the unspecified and
//!   loopback addresses always bind). A host name is not checked.
//! - Reports (SC0069) a `listen-address` none of whose addresses accepts
//!   connections to the node's `ansible_host` (its management address,
//!   IPv4 else IPv6, else its loopback, as hosts.yml writes it): the
//!   address itself or the wildcard of its family (`0.0.0.0`; `::` only
//!   for IPv6, sshd's IPv6 sockets being IPV6_V6ONLY). Not judged when a
//!   value is a host name or the node's `vars` set `ansible_host`.
//! - Reports (SC0041) an `authorized-keys-command` or
//!   `authorized-principals-command` (not `none`) without its
//!   `…-command-user`: sshd refuses to start.
//! - Reports (SC0074) public-key, password and keyboard-interactive
//!   authentication all turned off; and (SC0057, as the `allow-users`
//!   check does) `pubkey-authentication no` in a site with an
//!   `automation-user`, whose only way in is its key.
//!
//! - Warns (SC0916) about an `ssh-key` for `root` on a node whose
//!   `permit-root-login` is `no`: the key is never accepted.
//!
//! Findings are reported at the value the operator wrote, once for all
//! the nodes that share it.
//!
//! **Why it matters.** The drop-in is written to every node of the
//! profile, and cloud-init restarts sshd at first boot. With an
//! unsatisfiable AuthenticationMethods, `sshd -t` fails ("AuthenticationMethods
//! cannot be satisfied by enabled authentication methods") and sshd does
//! not come back; with an address the node does not have, sshd stops
//! with "Cannot bind any address"; with no method left, every login gets
//! "Permission denied ()". Each leaves the fleet unreachable.
//!
//! **Example.**
//! ```kdl
//! profile base { sshd { password-authentication #false; authentication-methods "publickey,password" } }   // SC0072
//! profile base { sshd { listen-address "10.0.0.5" } }                                                     // SC0073
//! profile base { sshd { listen-address "127.0.0.1" "::1" } }                                               // SC0069
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::sshd_options::{glob, lookup, value_lines};
use super::{closest, narrow, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SshdOption;
use crate::resolve::{AllocKey, IpFamily};

pub static RULE: Rule = Rule {
    name: "sshd-login",
    codes: &[
        Code::SshdAuthMethodDisabled,
        Code::SshdListenAddressAbsent,
        Code::SshdListenMissesAnsibleHost,
        Code::SshdInvalidValue,
        Code::SshdNoLoginMethod,
        Code::SshdLocksOutAutomationUser,
        Code::RootKeyUnused,
        Code::SshdSessionForced,
    ],
    check,
    resolved: true,
};

/// The authentication methods of sshd 9.2p1 (auth2.c `authmethods`), with
/// the keyword that turns each on and its value when no layer sets it.
const METHODS: &[(&str, &str, bool)] = &[
    ("publickey", "PubkeyAuthentication", true),
    ("password", "PasswordAuthentication", true),
    // Debian's /etc/ssh/sshd_config says `KbdInteractiveAuthentication no`
    // after the `Include` of the drop-in: that is the value in effect
    // unless the drop-in sets it first.
    (
        "keyboard-interactive",
        "KbdInteractiveAuthentication",
        false,
    ),
    ("hostbased", "HostbasedAuthentication", false),
    ("gssapi-with-mic", "GSSAPIAuthentication", false),
];

/// A node's effective sshd keywords: the first value of each (what sshd
/// keeps), by sshd's name of the keyword.
struct Effective<'a> {
    opts: Vec<(&'static str, &'a SshdOption)>,
}

impl<'a> Effective<'a> {
    fn new(sshd: &'a [SshdOption]) -> Effective<'a> {
        let mut opts: Vec<(&'static str, &'a SshdOption)> = Vec::new();
        for o in sshd {
            let Some(kw) = lookup(&o.key.value) else {
                continue;
            };
            // ChallengeResponseAuthentication is sshd's old name of
            // KbdInteractiveAuthentication: one setting, the first wins.
            let name = match kw.name.as_str() {
                "ChallengeResponseAuthentication" => "KbdInteractiveAuthentication",
                "PubkeyAcceptedKeyTypes" => "PubkeyAcceptedAlgorithms",
                n => n,
            };
            if !opts.iter().any(|(n, _)| *n == name) {
                opts.push((name, o));
            }
        }
        Effective { opts }
    }

    fn get(&self, name: &str) -> Option<&'a SshdOption> {
        self.opts.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }

    /// Whether the method turned on by `keyword` is on.
    fn enabled(&self, keyword: &str, default: bool) -> bool {
        match self.get(keyword) {
            Some(o) => o.value.value.trim().eq_ignore_ascii_case("yes"),
            None => default,
        }
    }

    fn method_enabled(&self, method: &str) -> Option<bool> {
        let base = method.split(':').next().unwrap_or(method);
        METHODS
            .iter()
            .find(|(m, _, _)| *m == base)
            .map(|(_, kw, d)| self.enabled(kw, *d))
    }
}

/// The address of a `ListenAddress` value (`10.0.0.5`, `10.0.0.5:22`,
/// `[2001:db8::1]:22`, `::1`), or `None` for a host name.
fn listen_ip(v: &str) -> Option<IpAddr> {
    let w = v.split_whitespace().next()?.trim_matches(['"', '\'']);
    if let Ok(ip) = w.parse() {
        return Some(ip);
    }
    if let Some(rest) = w.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    w.rsplit_once(':')?.0.parse().ok()
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let automation = cx
        .site
        .site
        .as_ref()
        .and_then(|s| s.automation_user.as_ref());
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        if rn.settings.sshd.is_empty() {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.value.as_str();
        let eff = Effective::new(&rn.settings.sshd);
        if let Some(am) = eff.get("AuthenticationMethods") {
            auth_methods(cx, rn, &eff, am, &mut |d| found.push(name, d));
        }
        let mut listen_judged = false;
        if let Some(la) = eff.get("ListenAddress") {
            listen_judged = true;
            // Several addresses are several ListenAddress lines: sshd
            // stops only when it can bind none of them.
            let ips: Vec<IpAddr> = value_lines("ListenAddress", &la.value.value)
                .iter()
                .filter_map(|l| listen_ip(l))
                .collect();
            let absent: Vec<String> = ips
                .iter()
                .filter(|ip| {
                    !(ip.is_unspecified() || ip.is_loopback() || node_has(rs, name, rn, **ip))
                })
                .map(|ip| ip.to_string())
                .collect();
            let all_ips = ips.len() == value_lines("ListenAddress", &la.value.value).len();
            if !absent.is_empty() && absent.len() == ips.len() && all_ips {
                found.push(
                    name,
                    Diagnostic::error(
                        Code::SshdListenAddressAbsent,
                        format!(
                            "sshd is told to listen on {}{}, which {} not an address of the node: sshd stops with \"Cannot bind any address\" and the node has no SSH",
                            absent.join(" and "),
                            set_in(rn, &format!("sshd.{}", la.key.value)),
                            if absent.len() == 1 { "is" } else { "are" }
                        ),
                    )
                    .label(la.value.span, "no such address on the node")
                    .help("leave `listen-address` out (sshd listens on every address), or give an address every node of this layer has (a node's own address belongs in the node's `sshd` block)"),
                );
            } else if all_ips {
                if let Some((target, kind)) = ansible_host(cx, rs, name, rn) {
                    if !ips.iter().any(|ip| covers(*ip, target)) {
                        let family = if target.is_ipv4() { "IPv4" } else { "IPv6" };
                        let v6only = target.is_ipv4()
                            && ips.iter().any(|ip| ip.is_ipv6() && ip.is_unspecified());
                        found.push(
                            name,
                            Diagnostic::error(
                                Code::SshdListenMissesAnsibleHost,
                                format!(
                                    "sshd listens only on {}{}, not on the node's {family} {kind}, which hosts.yml gives Ansible as `ansible_host`: {}Ansible (and anyone on the management network) cannot reach sshd on the node",
                                    ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>().join(", "),
                                    set_in(rn, &format!("sshd.{}", la.key.value)),
                                    if v6only {
                                        "`::` is IPv6 only (sshd sets IPV6_V6ONLY on its IPv6 sockets), so nothing listens on IPv4 and "
                                    } else {
                                        ""
                                    },
                                ),
                            )
                            .label(la.value.span, format!("does not cover the node's {family} {kind}"))
                            .help(format!(
                                "add {} (or the node's own {kind}, in the node's `sshd` block) to `listen-address`, or leave `listen-address` out (sshd listens on every address)",
                                if target.is_ipv4() { "`0.0.0.0`" } else { "`::`" }
                            )),
                        );
                    }
                }
            }
        }
        // `address-family inet` with an IPv6 `listen-address` (or inet6
        // with IPv4): sshd resolves each ListenAddress in that family only
        // and refuses the file ("bad addr or host: 0.0.0.0 (Address family
        // for hostname not supported)"): no sshd at all.
        if let (Some(af), Some(la)) = (eff.get("AddressFamily"), eff.get("ListenAddress")) {
            let only = af.value.value.trim().to_ascii_lowercase();
            let other: Vec<String> = value_lines("ListenAddress", &la.value.value)
                .iter()
                .filter_map(|l| listen_ip(l))
                .filter(|ip| (only == "inet" && ip.is_ipv6()) || (only == "inet6" && ip.is_ipv4()))
                .map(|ip| ip.to_string())
                .collect();
            if !other.is_empty() {
                let family = if only == "inet" { "IPv6" } else { "IPv4" };
                found.push(
                    name,
                    Diagnostic::error(
                        Code::SshdInvalidValue,
                        format!(
                            "sshd is told to listen on the {family} address {}{}, but `address-family {only}`{} excludes {family}: sshd refuses its configuration (\"bad addr or host: {} (Address family for hostname not supported)\") and does not start, so the node has no SSH",
                            other.join(" and "),
                            set_in(rn, &format!("sshd.{}", la.key.value)),
                            set_in(rn, &format!("sshd.{}", af.key.value)),
                            other[0],
                        ),
                    )
                    .label(la.value.span, format!("{family}, which `address-family {only}` excludes"))
                    .help("leave `address-family` out (or set `any`), or listen only on addresses of its family"),
                );
            }
        }
        // `address-family inet6` (or `inet`) leaves sshd no socket of the
        // other family, whatever it listens on: Ansible connecting to an
        // address of that family is refused.
        if let (Some(af), false) = (eff.get("AddressFamily"), listen_judged) {
            let only = af.value.value.trim().to_ascii_lowercase();
            let keeps_v4 = only != "inet6";
            let keeps_v6 = only != "inet";
            if let Some((target, kind)) = ansible_host(cx, rs, name, rn) {
                if (target.is_ipv4() && !keeps_v4) || (target.is_ipv6() && !keeps_v6) {
                    let (family, kept) = if target.is_ipv4() {
                        ("IPv4", "IPv6")
                    } else {
                        ("IPv6", "IPv4")
                    };
                    found.push(
                        name,
                        Diagnostic::error(
                            Code::SshdListenMissesAnsibleHost,
                            format!(
                                "sshd is told to use {kept} only (`address-family {only}`{}), but hosts.yml gives Ansible the node's {family} {kind} as `ansible_host`: Ansible (and anyone on the management network) cannot reach sshd on the node",
                                set_in(rn, &format!("sshd.{}", af.key.value)),
                            ),
                        )
                        .label(af.value.span, format!("no {family} socket"))
                        .help("leave `address-family` out (sshd listens on both families), or set `any`"),
                    );
                }
            }
        }
        // sshd refuses a command without the user to run it as.
        for (command, user) in [
            ("AuthorizedKeysCommand", "AuthorizedKeysCommandUser"),
            (
                "AuthorizedPrincipalsCommand",
                "AuthorizedPrincipalsCommandUser",
            ),
        ] {
            let Some(c) = eff.get(command) else { continue };
            if c.value.value.trim().eq_ignore_ascii_case("none") || eff.get(user).is_some() {
                continue;
            }
            let user_site = super::sshd_options::site_spelling(user);
            found.push(
                name,
                Diagnostic::error(
                    Code::SshdInvalidValue,
                    format!(
                        "{command} is set{} without {user}: sshd refuses to start (\"{command} set without {user}\") and the node has no SSH",
                        set_in(rn, &format!("sshd.{}", c.key.value)),
                    ),
                )
                .label(c.key.span, format!("needs `{user_site}`"))
                .help(format!(
                    "add `{user_site}` with an unprivileged user the command runs as (e.g. `{user_site} nobody`), in this layer or one every node of it inherits"
                )),
            );
        }
        if let Some(prl) = eff.get("PermitRootLogin") {
            if prl.value.value.trim().eq_ignore_ascii_case("no") {
                for k in rn
                    .settings
                    .ssh_keys
                    .iter()
                    .filter(|k| k.user.value == "root")
                {
                    found.push(
                        name,
                        Diagnostic::warning(
                            Code::RootKeyUnused,
                            format!(
                                "SSH key `{}` is for `root`, but `permit-root-login` is `no`{}: sshd never accepts the key",
                                k.name.value,
                                set_in(rn, &format!("sshd.{}", prl.key.value))
                            ),
                        )
                        .label(k.user.span, "root may not log in")
                        .label(prl.value.span, "root logins are off")
                        .help("take the key out, give it to a user that may log in (and `sudo`), or allow key logins for root with `permit-root-login prohibit-password`"),
                    );
                }
            }
        }
        automation_user_lockout(rn, &eff, automation, &mut |d| found.push(name, d));
        for kw in ["MaxAuthTries", "MaxSessions"] {
            let Some(o) = eff.get(kw) else { continue };
            if o.value.value.trim() != "0" {
                continue;
            }
            let (what, site_kw) = match kw {
                "MaxAuthTries" => (
                    "sshd disconnects at the first key offered (\"Too many authentication failures\")",
                    "max-auth-tries",
                ),
                _ => (
                    "sshd accepts the key, then opens no session (\"no more sessions\")",
                    "max-sessions",
                ),
            };
            let who = match automation {
                Some(u) => format!(
                    "; the automation user `{}` is refused too, so Ansible cannot reach the node",
                    u.value
                ),
                None => String::new(),
            };
            found.push(
                name,
                Diagnostic::error(
                    Code::SshdNoLoginMethod,
                    format!(
                        "{kw} is 0{}: {what}, for every user{who}",
                        set_in(rn, &format!("sshd.{}", o.key.value))
                    ),
                )
                .label(o.value.span, "no login can succeed")
                .help(format!(
                    "leave `{site_kw}` out (the default is {}), or give it at least 1",
                    if kw == "MaxAuthTries" { 6 } else { 10 }
                )),
            );
        }
        for kw in ["ForceCommand", "ChrootDirectory"] {
            let Some(o) = eff.get(kw) else { continue };
            if o.value.value.trim().eq_ignore_ascii_case("none") {
                continue;
            }
            let Some(u) = automation else { continue };
            let site_kw = super::sshd_options::site_spelling(kw);
            found.push(
                name,
                Diagnostic::warning(
                    Code::SshdSessionForced,
                    format!(
                        "{kw} is set for every user{}, the automation user `{}` included: its key is accepted, then {}, so Ansible's modules never run on the node",
                        set_in(rn, &format!("sshd.{}", o.key.value)),
                        u.value,
                        if kw == "ForceCommand" {
                            "every session runs this command instead of what Ansible asks"
                        } else {
                            "every session is confined to this directory (or fails when it is missing)"
                        }
                    ),
                )
                .label(o.value.span, "applies to every user")
                .label(u.span, "the automation user")
                .help(format!(
                    "leave `{site_kw}` out of the drop-in (it cannot carry Match); restrict the users who need it by other means, e.g. `command=` in their `ssh-key` options"
                )),
            );
        }
        if !eff.enabled("PubkeyAuthentication", true) {
            let pk = eff
                .get("PubkeyAuthentication")
                .expect("set: not the default");
            let others = !eff.enabled("PasswordAuthentication", true)
                && !eff.enabled("KbdInteractiveAuthentication", false);
            if others {
                found.push(
                    name,
                    Diagnostic::error(
                        Code::SshdNoLoginMethod,
                        format!(
                            "public-key authentication is off{} and password and keyboard-interactive authentication are off too: sshd refuses every login (\"Permission denied ()\")",
                            set_in(rn, &format!("sshd.{}", pk.key.value))
                        ),
                    )
                    .label(pk.value.span, "the last login method left")
                    .help("leave `pubkey-authentication` out (it is on by default): siteconf's `ssh-key`s are how people and automation log in"),
                );
            } else if let Some(u) = automation {
                found.push(
                    name,
                    Diagnostic::error(
                        Code::SshdLocksOutAutomationUser,
                        format!(
                            "public-key authentication is off{}: the automation user `{}` logs in only with its key, so Ansible cannot log in",
                            set_in(rn, &format!("sshd.{}", pk.key.value)),
                            u.value
                        ),
                    )
                    .label(pk.value.span, "keys are refused")
                    .label(u.span, "the automation user")
                    .help("leave `pubkey-authentication` out (it is on by default)"),
                );
            }
        }
    }
    found.finish(diags);
}

/// The signature algorithms a key of type `ty` can log in with (an RSA
/// key signs with rsa-sha2-512 or rsa-sha2-256; OpenSSH 9.2's client no
/// longer offers ssh-rsa signatures).
fn key_signatures(ty: &str) -> Vec<&str> {
    match ty {
        "ssh-rsa" => vec!["rsa-sha2-512", "rsa-sha2-256"],
        t => vec![t],
    }
}

/// sshd's match_pattern_list of one name against a comma-separated list
/// of patterns: `Some(true)` when a pattern matches and no negated one
/// (`!pat`) does, `Some(false)` when a negated one matches, `None` when
/// none matches.
fn pattern_list(name: &str, list: &str) -> Option<bool> {
    let mut got = None;
    for p in list.split(',').filter(|p| !p.is_empty()) {
        match p.strip_prefix('!') {
            Some(neg) if glob(neg.as_bytes(), name.as_bytes()) => return Some(false),
            Some(_) => {}
            None if glob(p.as_bytes(), name.as_bytes()) => got = Some(true),
            None => {}
        }
    }
    got
}

/// Whether a PubkeyAcceptedAlgorithms value lets in signature algorithm
/// `alg` (kex_assemble_names of 9.2p1): `+list` and `^list` add to the
/// default list, `-list` removes what its patterns match from it, a
/// plain list is what is accepted (a pattern in it is taken to match, so
/// that only a certain refusal is reported).
fn accepts_algorithm(value: &str, alg: &str) -> bool {
    let value = value.trim().trim_matches(['"', '\'']);
    let default = || {
        lookup("PubkeyAcceptedAlgorithms")
            .map(|k| k.example.split(',').any(|d| d == alg))
            .unwrap_or(true)
    };
    match value.chars().next() {
        Some('+' | '^') => default() || pattern_list(alg, &value[1..]) == Some(true),
        Some('-') => default() && pattern_list(alg, &value[1..]).is_none(),
        _ => pattern_list(alg, value) == Some(true),
    }
}

/// SC0057 for what shuts the automation user out beyond AllowUsers and
/// DenyUsers: its group (cloud-init creates it with only its own primary
/// group, named after it), `use-pam no` (its account is locked, as
/// cloud-init's `lock_passwd: true` leaves every user it creates), and a
/// PubkeyAcceptedAlgorithms that accepts none of its keys.
fn automation_user_lockout(
    rn: &crate::resolve::ResolvedNode,
    eff: &Effective,
    automation: Option<&crate::model::Sp<String>>,
    push: &mut dyn FnMut(Diagnostic),
) {
    let Some(u) = automation else { return };
    let user = u.value.as_str();
    // root is not created by cloud-init and keeps its own groups and
    // password field: only an ordinary automation user is judged here.
    if user == "root" {
        return;
    }
    let mut lock = |o: &SshdOption, label: String, why: String, help: String| {
        push(
            Diagnostic::error(
                Code::SshdLocksOutAutomationUser,
                format!(
                    "{}{} locks out the automation user `{user}`: {why}, so Ansible cannot log in to these nodes",
                    o.key.value,
                    set_in(rn, &format!("sshd.{}", o.key.value)),
                ),
            )
            .label(o.value.span, label)
            .label(u.span, "the automation user")
            .help(help),
        )
    };
    let words = |o: &SshdOption| -> Vec<String> {
        o.value
            .value
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_string())
            .collect()
    };
    if let Some(o) = eff.get("AllowGroups") {
        let verdicts: Vec<Option<bool>> = words(o).iter().map(|w| pattern_list(user, w)).collect();
        if !verdicts.contains(&Some(true)) {
            let (label, why, help) = if verdicts.contains(&Some(false)) {
                (
                    format!("this list excludes `{user}` (negated)"),
                    format!("AllowGroups refuses a user whose group a negated pattern (`!…`) matches, and the automation user's own group is `{user}` (cloud-init gives it no other)"),
                    format!("take the negated pattern that matches `{user}` out of the list, or leave the keyword out"),
                )
            } else {
                (
                    format!("none of these is `{user}`"),
                    format!("AllowGroups lets in only members of the groups it lists, and the automation user is only in its own group `{user}` (cloud-init gives it no other)"),
                    format!("add `{user}` to the list, or leave the keyword out"),
                )
            };
            lock(o, label, why, help);
        }
    }
    if let Some(o) = eff.get("DenyGroups") {
        if words(o).iter().any(|w| pattern_list(user, w) == Some(true)) {
            lock(
                o,
                format!("this matches the group `{user}`"),
                format!("DenyGroups refuses the members of the groups it matches, and the automation user's own group is `{user}`"),
                format!("take the pattern that matches `{user}` out of the list"),
            );
        }
    }
    if let Some(o) = eff.get("UsePAM") {
        if o.value.value.trim().eq_ignore_ascii_case("no") {
            lock(
                o,
                "sshd checks the password field itself".into(),
                "cloud-init creates every user with `lock_passwd: true`, and without PAM sshd refuses a locked account even with a valid key (\"User … not allowed because account is locked\")".into(),
                "leave `use-pam` out: Debian's sshd_config says `UsePAM yes`, and key logins to locked accounts work through PAM".into(),
            );
        }
    }
    if let Some(o) = eff.get("PubkeyAcceptedAlgorithms") {
        let types: Vec<&str> = rn
            .settings
            .ssh_keys
            .iter()
            .filter(|k| k.user.value == user)
            .filter_map(|k| k.key.value.split_whitespace().next())
            .collect();
        let refused = !types.is_empty()
            && !types.iter().any(|t| {
                key_signatures(t)
                    .iter()
                    .any(|a| accepts_algorithm(&o.value.value, a))
            });
        if !refused {
            return;
        }
        let mut shown: Vec<&str> = types.clone();
        shown.sort();
        shown.dedup();
        let shown = shown.join("`, `");
        lock(
            o,
            format!("leaves out `{shown}`"),
            format!("its keys on these nodes are `{shown}`, which this list does not accept (\"signature algorithm … not in PubkeyAcceptedAlgorithms\", \"Permission denied (publickey)\")"),
            format!("keep `{shown}` in the list (a `-` list removes only what it names), or leave the keyword out"),
        );
    }
}

fn auth_methods(
    cx: &Ctx,
    rn: &crate::resolve::ResolvedNode,
    eff: &Effective,
    am: &SshdOption,
    push: &mut dyn FnMut(Diagnostic),
) {
    let v = am.value.value.trim().trim_matches(['"', '\'']);
    if v.eq_ignore_ascii_case("any") || v.is_empty() {
        return;
    }
    let lists: Vec<&str> = v.split_whitespace().collect();
    let mut any_ok = false;
    // (method, whether it is known)
    let mut bad: Vec<(&str, bool)> = Vec::new();
    for l in &lists {
        let mut ok = true;
        for m in l.split(',').filter(|m| !m.is_empty()) {
            match eff.method_enabled(m) {
                Some(true) => {}
                Some(false) => {
                    ok = false;
                    if !bad.iter().any(|(b, _)| *b == m) {
                        bad.push((m, true));
                    }
                }
                None => {
                    ok = false;
                    if !bad.iter().any(|(b, _)| *b == m) {
                        bad.push((m, false));
                    }
                }
            }
        }
        any_ok |= ok;
    }
    let at = set_in(rn, &format!("sshd.{}", am.key.value));
    for (m, known) in bad {
        let span = narrow(cx, am.value.span, m);
        if !known {
            let hint = match closest(m, METHODS.iter().map(|(n, _, _)| *n)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "the methods are publickey, password, keyboard-interactive, hostbased and gssapi-with-mic".into(),
            };
            push(
                Diagnostic::error(
                    Code::SshdAuthMethodDisabled,
                    format!(
                        "AuthenticationMethods{at} names `{m}`, which is no authentication method of sshd: `sshd -t` fails and sshd does not start"
                    ),
                )
                .label(span, "unknown method")
                .help(hint),
            );
            continue;
        }
        let base = m.split(':').next().unwrap_or(m);
        let (_, kw, _) = METHODS
            .iter()
            .find(|(n, _, _)| *n == base)
            .expect("known method");
        let why = if any_ok {
            "the lists that name it can never succeed"
        } else {
            "no list can be satisfied, so `sshd -t` fails (\"AuthenticationMethods cannot be satisfied by enabled authentication methods\") and sshd does not start"
        };
        let site_kw = super::sshd_options::site_spelling(kw);
        push(
            Diagnostic::error(
                Code::SshdAuthMethodDisabled,
                format!("AuthenticationMethods{at} needs `{base}`, but {kw} is off: {why}"),
            )
            .label(span, format!("{kw} is off on these nodes"))
            .help(format!(
                "take `{base}` out of `authentication-methods`, or turn it on with `{site_kw} #true`"
            )),
        );
    }
}

/// The address Ansible connects to, as hosts.yml writes it
/// (`render::site::inventory`, `dns::canonical_addresses`): the node's
/// management address (IPv4, else IPv6), else its loopback; with what it
/// is. `None` when the node has neither, or its own `vars` set
/// `ansible_host` (SC0082 says that address wins).
fn ansible_host(
    cx: &Ctx,
    rs: &crate::resolve::Resolved,
    name: &str,
    rn: &crate::resolve::ResolvedNode,
) -> Option<(IpAddr, &'static str)> {
    let st = &rn.settings;
    if ["ansible_host", "ansible_ssh_host"]
        .iter()
        .any(|v| st.vars.entries.contains_key(*v))
    {
        return None;
    }
    let mgmt = st.addresses.iter().find(|a| {
        cx.site
            .network(cx.index, a.network.as_str())
            .is_some_and(|n| n.purpose.value == crate::model::Purpose::Management)
    });
    if let Some(a) = mgmt {
        let network = a.network.as_str();
        let key = |family| AllocKey::Address { network, family };
        let v4 = rs
            .value(name, key(IpFamily::V4), &a.ipv4)
            .map(|e| IpAddr::V4(e.value));
        let v6 = rs
            .value(name, key(IpFamily::V6), &a.ipv6)
            .map(|e| IpAddr::V6(e.value));
        if let Some(ip) = v4.or(v6) {
            return Some((ip, "management address"));
        }
    }
    let l = st.loopback.as_ref()?;
    let v4 = rs
        .value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4)
        .map(|e| IpAddr::V4(e.value));
    let v6 = rs
        .value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6)
        .map(|e| IpAddr::V6(e.value));
    v4.or(v6).map(|ip| (ip, "loopback address"))
}

/// Whether sshd listening on `listen` accepts connections to `target`:
/// the address itself, or the wildcard of its family (`0.0.0.0` for IPv4;
/// `::` for IPv6 only, since sshd sets IPV6_V6ONLY on its IPv6 sockets).
fn covers(listen: IpAddr, target: IpAddr) -> bool {
    listen == target || (listen.is_unspecified() && listen.is_ipv4() == target.is_ipv4())
}

/// Whether `ip` is one of the node's addresses in effect: on its networks
/// (fixed or allocated) or its loopback, as `resolve::effective` gives them.
fn node_has(
    rs: &crate::resolve::Resolved,
    name: &str,
    rn: &crate::resolve::ResolvedNode,
    ip: IpAddr,
) -> bool {
    let st = &rn.settings;
    let on_network = st.addresses.iter().any(|a| {
        let network = a.network.as_str();
        let key = |family| AllocKey::Address { network, family };
        match ip {
            IpAddr::V4(v4) => rs
                .value(name, key(IpFamily::V4), &a.ipv4)
                .is_some_and(|e| e.value == v4),
            IpAddr::V6(v6) => rs
                .value(name, key(IpFamily::V6), &a.ipv6)
                .is_some_and(|e| e.value == v6),
        }
    });
    on_network
        || st.loopback.as_ref().is_some_and(|l| match ip {
            IpAddr::V4(v4) => rs
                .value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4)
                .is_some_and(|e| e.value == v4),
            IpAddr::V6(v6) => rs
                .value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6)
                .is_some_and(|e| e.value == v6),
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    fn site(sshd: &str) -> String {
        format!(
            "site s {{ domain \"s.example\"; automation-user ansible }}
network mgmt {{ purpose management; ipv4 \"10.0.1.0/24\" }}
rack r01 {{ }}
node n1 {{ rack r01; position 1; sshd {{ {sshd} }}; address mgmt ipv4=\"10.0.1.5\"
  ssh-key a {{ user ansible; key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0WbpRKjZRhMaRClXAovb/ETf20kOM4MQndyxc5plc3 k@example\" }} }}"
        )
    }

    fn found(sshd: &str) -> Vec<&'static str> {
        codes(&site(sshd))
            .into_iter()
            .filter(|c| {
                matches!(
                    *c,
                    "SC0057" | "SC0067" | "SC0072" | "SC0073" | "SC0074" | "SC0916"
                )
            })
            .collect()
    }

    #[test]
    fn a_command_needs_its_user() {
        let c = |sshd: &str| -> Vec<&'static str> {
            codes(&site(sshd))
                .into_iter()
                .filter(|c| *c == "SC0041")
                .collect()
        };
        assert_eq!(
            c("authorized-keys-command \"/usr/bin/keys %u\""),
            ["SC0041"]
        );
        assert!(c(
            "authorized-keys-command \"/usr/bin/keys %u\"; authorized-keys-command-user nobody"
        )
        .is_empty());
        assert!(c("authorized-keys-command none").is_empty());
        assert_eq!(
            c("authorized-principals-command \"/usr/bin/p %u\""),
            ["SC0041"]
        );
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(listen_ip("10.0.0.5"), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(listen_ip("10.0.0.5:22"), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(
            listen_ip("[2001:db8::1]:22"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(listen_ip("::"), Some("::".parse().unwrap()));
        assert_eq!(listen_ip("host.example"), None);
        assert_eq!(found("listen-address \"10.0.0.5\""), ["SC0073"]);
        assert!(found("listen-address \"10.0.1.5\"").is_empty());
        assert!(found("listen-address \"10.0.1.5:2222\"").is_empty());
        assert!(found("listen-address \"0.0.0.0\"").is_empty());
        assert!(found("listen-address \"::\"").is_empty());
        // Several addresses: sshd stops only when it can bind none.
        assert!(found("listen-address \"10.0.1.5\" \"::1\"").is_empty());
        assert!(found("listen-address \"10.0.1.5\" \"10.0.0.9\"").is_empty());
        assert_eq!(
            found("listen-address \"10.0.0.8\" \"10.0.0.9\""),
            ["SC0073"]
        );
    }

    /// sshd must listen where hosts.yml sends Ansible: 10.0.1.5, the
    /// management address.
    #[test]
    fn listen_addresses_ansible_reaches() {
        let f = |sshd: &str| -> Vec<&'static str> {
            codes(&site(sshd))
                .into_iter()
                .filter(|c| matches!(*c, "SC0069" | "SC0073" | "SC0041"))
                .collect()
        };
        assert_eq!(f("listen-address \"127.0.0.1\" \"::1\""), ["SC0069"]);
        // IPV6_V6ONLY: no IPv4 listener.
        assert_eq!(f("listen-address \"[::]:2222\""), ["SC0069"]);
        assert_eq!(f("listen-address \"::\""), ["SC0069"]);
        assert!(f("listen-address \"0.0.0.0\"").is_empty());
        assert!(f("listen-address \"10.0.1.5:2222\"").is_empty());
        assert!(f("listen-address \"10.0.1.5\" \"[::]:2200\"").is_empty());
        assert!(f("listen-address \"127.0.0.1\" \"0.0.0.0:2222\"").is_empty());
        // A host name may be anything; the node's own ansible_host wins.
        assert!(f("listen-address \"127.0.0.1\" \"ssh.example\"").is_empty());
        let own = site("listen-address \"127.0.0.1\"").replace(
            "address mgmt",
            "vars { ansible_host \"127.0.0.1\" }; address mgmt",
        );
        assert!(!codes(&own).contains(&"SC0069"));
        assert!(covers(
            "::".parse().unwrap(),
            "2001:db8::1".parse().unwrap()
        ));
        assert!(!covers("::".parse().unwrap(), "10.0.1.5".parse().unwrap()));
        // No IPv4 socket at all, whatever sshd listens on.
        assert_eq!(f("address-family \"inet6\""), ["SC0069"]);
        assert!(f("address-family \"inet\"").is_empty());
        assert!(f("address-family \"any\"").is_empty());
        // An address of the family it excludes: sshd -t refuses the file.
        assert_eq!(
            f("address-family \"inet6\"; listen-address \"0.0.0.0\""),
            ["SC0041"]
        );
        assert!(f("address-family \"inet\"; listen-address \"0.0.0.0\"").is_empty());
        assert!(f("address-family \"any\"; listen-address \"0.0.0.0\"").is_empty());
    }

    /// What `sshd -t` of OpenSSH 9.2p1 says, with Debian's sshd_config
    /// (`KbdInteractiveAuthentication no`) after the drop-in.
    #[test]
    fn authentication_methods() {
        assert_eq!(
            found("password-authentication #false; authentication-methods \"publickey,password\""),
            ["SC0072"]
        );
        assert!(found("authentication-methods \"publickey,password\"").is_empty());
        assert_eq!(
            found("authentication-methods \"publickey,keyboard-interactive:pam\""),
            ["SC0072"]
        );
        assert!(found(
            "kbd-interactive-authentication #true; authentication-methods \"publickey,keyboard-interactive\""
        )
        .is_empty());
        assert_eq!(
            found("authentication-methods \"publickey,pasword\""),
            ["SC0072"]
        );
        assert!(found("authentication-methods any").is_empty());
        assert!(found("authentication-methods publickey").is_empty());
    }

    #[test]
    fn no_login_method() {
        assert_eq!(
            found("pubkey-authentication #false; password-authentication #false"),
            ["SC0074"]
        );
        // Password logins remain, but not for the automation user.
        assert_eq!(found("pubkey-authentication #false"), ["SC0057"]);
        assert_eq!(
            found("pubkey-authentication #false; password-authentication #false; kbd-interactive-authentication #true"),
            ["SC0057"]
        );
        assert!(found("pubkey-authentication #true; password-authentication #false").is_empty());
    }

    /// Each was a real login refused (sshd -i of 9.2p1 under Debian's
    /// sshd_config, the automation user's ed25519 key).
    #[test]
    fn automation_user_shut_out() {
        assert_eq!(found("use-pam #false"), ["SC0057"]);
        assert!(found("use-pam #true").is_empty());
        assert_eq!(found("allow-groups sudo"), ["SC0057"]);
        assert!(found("allow-groups \"sudo ansible\"").is_empty());
        assert!(found("allow-groups \"ans*\"").is_empty());
        assert_eq!(found("allow-groups \"*,!ansible\""), ["SC0057"]);
        assert_eq!(found("deny-groups ansible"), ["SC0057"]);
        assert!(found("deny-groups \"sudo wheel\"").is_empty());
        assert_eq!(
            found("pubkey-accepted-algorithms \"rsa-sha2-512,rsa-sha2-256\""),
            ["SC0057"]
        );
        assert_eq!(
            found("pubkey-accepted-algorithms \"-ssh-ed25519\""),
            ["SC0057"]
        );
        assert_eq!(found("pubkey-accepted-algorithms \"-ssh-ed*\""), ["SC0057"]);
        assert_eq!(
            found("pubkey-accepted-key-types \"ecdsa-sha2-nistp256\""),
            ["SC0057"]
        );
        assert!(found("pubkey-accepted-algorithms \"-ssh-rsa\"").is_empty());
        assert!(found("pubkey-accepted-algorithms \"+ssh-rsa\"").is_empty());
        assert!(found("pubkey-accepted-algorithms \"^rsa-sha2-512\"").is_empty());
        assert!(found("pubkey-accepted-algorithms \"ssh-ed25519,rsa-sha2-512\"").is_empty());
        assert!(found("pubkey-accepted-algorithms \"ssh-ed*\"").is_empty());
        assert_eq!(found("max-auth-tries 0"), ["SC0074"]);
        assert!(found("max-auth-tries 1").is_empty());
        assert_eq!(found("max-sessions 0"), ["SC0074"]);
        assert_eq!(found("force-command \"/usr/bin/false\""), ["SC0067"]);
        assert_eq!(found("chroot-directory \"/srv/jail\""), ["SC0067"]);
        assert!(found("chroot-directory none").is_empty());
        // An RSA key signs with rsa-sha2-*, not ssh-rsa.
        let rsa = |v: &str| {
            key_signatures("ssh-rsa")
                .iter()
                .any(|a| accepts_algorithm(v, a))
        };
        assert!(rsa("rsa-sha2-512"));
        assert!(rsa("-ssh-rsa"));
        assert!(!rsa("ssh-rsa,ssh-ed25519"));
        assert!(!rsa("-rsa-sha2-*"));
    }

    #[test]
    fn root_key_without_root_logins() {
        let root = site("permit-root-login no").replace("user ansible", "user root");
        assert!(codes(&root).contains(&"SC0916"));
        let ok = site("permit-root-login prohibit-password").replace("user ansible", "user root");
        assert!(!codes(&ok).contains(&"SC0916"));
    }
}
