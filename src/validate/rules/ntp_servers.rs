//! Rule `ntp-servers`: an NTP server that is neither a host name nor an
//! IP address.
//!
//! **What it does.** Reports (SC0050) an entry of the site's
//! `ntp-servers` that is not an IP address or a host name (labels of 1–63
//! letters, digits and hyphens, 253 characters at most, an optional final
//! dot): a URL (`ntp://…`), a port (`ntp1:123`), white space; an IP
//! address no host has: unspecified, loopback, multicast, broadcast, IPv6
//! link-local (SC0050), or the network or IPv4 broadcast address of a
//! declared network (SC0302). Warns (SC0055) about a server listed twice
//! (host names compared without case and final dot).
//!
//! **Why it matters.** The list goes into cloud-init's `ntp.servers`,
//! written as `server NAME iburst` lines for chrony: chrony refuses to
//! start on a line it cannot parse, and a name that cannot resolve leaves
//! the node without time, which breaks TLS and Kerberos on the first day.
//! A server listed twice is one source counted as two: no fallback, and
//! chrony's source selection weighs it twice.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.example.net"; ntp-servers "ntp://ntp1.example.net" }   // SC0050
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::dns_servers::{not_host, unusable};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{is_hostname_label, Sp};

pub static RULE: Rule = Rule {
    name: "ntp-servers",
    codes: &[
        Code::InvalidNtpServer,
        Code::AddressIsNetworkOrBroadcast,
        Code::ServerListIgnored,
    ],
    check,
    resolved: false,
};

/// Whether `s` is a host name: dot-separated labels, 253 characters at most.
pub(crate) fn is_host_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_hostname_label)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else { return };
    let mut seen: Vec<String> = Vec::new();
    for n in &site.ntp_servers {
        let key = match n.value.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => n.value.trim_end_matches('.').to_ascii_lowercase(),
        };
        if seen.contains(&key) {
            diags.push(
                Diagnostic::warning(
                    Code::ServerListIgnored,
                    format!("NTP server `{}` is listed twice", n.value),
                )
                .label(n.span, "listed again")
                .help("remove the repeat: chrony would count one source as two"),
            );
        }
        seen.push(key);
        if let Ok(ip) = n.value.parse::<IpAddr>() {
            ip_literal(cx, diags, n, ip);
            continue;
        }
        if is_host_name(&n.value) {
            continue;
        }
        let hint = if let Some((_, rest)) = n.value.split_once("://") {
            format!(
                "give the host alone: `{}`",
                rest.split(['/', ':']).next().unwrap_or(rest)
            )
        } else if let Some((h, _)) = n.value.rsplit_once(':').filter(|(h, _)| is_host_name(h)) {
            format!("give the host alone (NTP uses port 123): `{h}`")
        } else {
            "give a host name (`ntp1.example.net`) or an IP address".into()
        };
        diags.push(
            Diagnostic::error(
                Code::InvalidNtpServer,
                format!(
                    "NTP server `{}` is neither a host name nor an IP address",
                    n.value
                ),
            )
            .label(n.span, "chrony cannot use this server")
            .help(hint),
        );
    }
}

/// An NTP server given as an IP address that no time server can have.
fn ip_literal(cx: &Ctx, diags: &mut Diagnostics, n: &Sp<String>, ip: IpAddr) {
    if let Some(what) = unusable(ip) {
        diags.push(
            Diagnostic::error(Code::InvalidNtpServer, format!("NTP server {ip} is {what}"))
                .label(n.span, "chrony cannot reach a time server here")
                .help("give the unicast address or the host name of a time server"),
        );
    } else if let Some((net, which, prefix)) = not_host(cx.site, ip) {
        diags.push(
            Diagnostic::error(
                Code::AddressIsNetworkOrBroadcast,
                format!(
                    "NTP server {ip} is the {which} address of network `{}` ({prefix})",
                    net.name.value
                ),
            )
            .label(n.span, "not a host address")
            .help("give the address or the host name of the time server"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::is_host_name;

    fn ntp(list: &str) -> Vec<&'static str> {
        codes(&format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; ntp-servers {list}; }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        ))
    }

    #[test]
    fn ip_literals_of_no_host_are_errors() {
        assert!(ntp(r#""10.0.0.5" "ntp1.example.net" "2001:db8::5""#).is_empty());
        for a in [
            "0.0.0.0",
            "::",
            "127.0.0.1",
            "::1",
            "224.0.1.1",
            "ff05::101",
            "fe80::5",
        ] {
            assert_eq!(ntp(&format!("\"{a}\"")), ["SC0050"], "{a}");
        }
        assert_eq!(ntp(r#""10.0.0.0""#), ["SC0302"]);
        assert_eq!(ntp(r#""10.0.0.255""#), ["SC0302"]);
    }

    #[test]
    fn a_server_listed_twice_is_a_warning() {
        assert_eq!(ntp(r#""10.0.0.5" "10.0.0.5""#), ["SC0055"]);
        assert_eq!(ntp(r#""ntp1.example.net" "NTP1.example.net.""#), ["SC0055"]);
        assert!(ntp(r#""ntp1.example.net" "ntp2.example.net""#).is_empty());
    }

    #[test]
    fn host_names() {
        assert!(is_host_name("ntp1.dc1.example.net"));
        assert!(is_host_name("pool.ntp.org."));
        assert!(is_host_name("ntp"));
        assert!(!is_host_name("ntp://x"));
        assert!(!is_host_name("a b"));
        assert!(!is_host_name("-x.example"));
        assert!(!is_host_name(""));
    }
}
