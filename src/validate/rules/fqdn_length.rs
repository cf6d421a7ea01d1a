//! Rule `fqdn-length`: names the output would hold that are too long for
//! DNS or for a file name.
//!
//! **What it does.** Reports (SC0017) a node or switch whose fully
//! qualified name, `NAME.DOMAIN`, is longer than 253 characters. Each
//! label is already checked as a host name (1–63 letters, digits and
//! hyphens, SC0016) when the name is read; only the whole name's length
//! needs the site's domain, so it is checked here. It also reports the
//! longer names the build makes from a host's name, one finding per host
//! (the longest): the forward zone's `<node>.<network>.<domain>` for every
//! address of a node and `<node>.lo.<domain>` for its loopback, and the
//! inventory's file `host_vars/<fqdn>.yml` (a file name of at most 255
//! bytes); and a domain too long for the zone's own names
//! (`hostmaster.<domain>`, `nsN.<domain>`).
//!
//! **Why it matters.** A name over 253 characters cannot be put in DNS:
//! `named` refuses the whole forward zone ("ran out of space"), so no
//! machine of the site resolves, and the machine would have no FQDN at
//! first boot. A `host_vars` file name over 255 bytes cannot be written,
//! so `build` fails (SC0903) after `check` passed.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "a-very-long-domain…(240 characters)….example.net"; }
//! node r01n01-with-a-long-name { … }   // SC0017: 268 characters
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "fqdn-length",
    codes: &[Code::InvalidFqdn],
    check,
    // The zone's names need each node's merged addresses and loopback.
    resolved: true,
};

/// The most characters a DNS name may have, written without the root dot.
const MAX: usize = 253;
/// The most bytes of one file name component (ext4, xfs, tmpfs: NAME_MAX).
const FILE_MAX: usize = 255;
/// The inventory's per-host file: `host_vars/<fqdn>.yml`.
const HOST_VARS_SUFFIX: &str = ".yml";
/// The SOA's mailbox, the longest fixed name of every forward zone.
const HOSTMASTER: &str = "hostmaster";

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else { return };
    let domain = site.domain.value.trim_end_matches('.');
    if domain.is_empty() {
        return;
    }
    if HOSTMASTER.len() + 1 + domain.len() > MAX {
        let len = HOSTMASTER.len() + 1 + domain.len();
        diags.push(
            Diagnostic::error(
                Code::InvalidFqdn,
                format!(
                    "domain `{domain}` is {} characters long: the forward zone's `{HOSTMASTER}.{domain}` (its SOA mailbox) would be {len}; DNS allows {MAX}, and `named` refuses the zone",
                    domain.len()
                ),
            )
            .label(site.domain.span, format!("{} characters", domain.len()))
            .help(format!(
                "shorten the domain to at most {} characters",
                MAX - HOSTMASTER.len() - 1
            )),
        );
        // Every host's names are longer still: this finding says it.
        return;
    }
    // Per node, the zone's names of its addresses and loopback.
    let mut extra: Vec<Vec<String>> = vec![Vec::new(); cx.site.nodes.len()];
    if let Some(rs) = cx.resolved {
        for rn in &rs.nodes {
            let s = &rn.settings;
            let names = &mut extra[rn.index];
            for a in s
                .addresses
                .iter()
                .filter(|a| a.ipv4.is_some() || a.ipv6.is_some())
            {
                names.push(a.network.value.clone());
            }
            if s.loopback
                .as_ref()
                .is_some_and(|l| l.ipv4.is_some() || l.ipv6.is_some())
            {
                names.push("lo".to_string());
            }
        }
    }
    let none = Vec::new();
    let hosts = cx
        .site
        .switches
        .iter()
        .map(|s| ("switch", &s.name, &none))
        .chain(
            cx.site
                .nodes
                .iter()
                .zip(&extra)
                .map(|(n, e)| ("node", &n.name, e)),
        );
    for (kind, name, subs) in hosts {
        let fqdn = name.value.len() + 1 + domain.len();
        if fqdn > MAX {
            diags.push(
                Diagnostic::error(
                    Code::InvalidFqdn,
                    format!(
                        "the FQDN of {kind} `{}` is {fqdn} characters long; DNS allows {MAX}",
                        name.value
                    ),
                )
                .label(name.span, format!("{fqdn} characters with the domain"))
                .label(site.domain.span, "the site's domain")
                .help(format!(
                    "shorten the host name to at most {} characters, or the domain",
                    MAX.saturating_sub(1 + domain.len())
                )),
            );
            continue;
        }
        // The longest zone name made from this host's name.
        let longest = subs.iter().max_by_key(|s| s.len());
        let zone_len = longest.map_or(0, |s| fqdn + 1 + s.len());
        let file_len = fqdn + HOST_VARS_SUFFIX.len();
        // The most characters the host name may have with all its names.
        let room = |limit: usize, extra: usize| limit.saturating_sub(1 + domain.len() + extra);
        let fit = room(FILE_MAX, HOST_VARS_SUFFIX.len())
            .min(longest.map_or(usize::MAX, |s| room(MAX, s.len() + 1)));
        let (message, label) = if let (Some(sub), true) = (longest, zone_len > MAX) {
            (
                format!(
                    "{kind} `{}` gets the DNS name `{}.{sub}.<domain>` in the forward zone, {zone_len} characters long; DNS allows {MAX}, and `named` refuses the whole zone",
                    name.value, name.value
                ),
                format!("`{}.{sub}` is {zone_len} characters with the domain", name.value),
            )
        } else if file_len > FILE_MAX {
            (
                format!(
                    "the FQDN of {kind} `{}` is {fqdn} characters long: the inventory's file `host_vars/<fqdn>{HOST_VARS_SUFFIX}` would have a name of {file_len} bytes, and a file name may have {FILE_MAX}, so `build` fails",
                    name.value
                ),
                format!("{fqdn} characters with the domain"),
            )
        } else {
            continue;
        };
        diags.push(
            Diagnostic::error(Code::InvalidFqdn, message)
                .label(name.span, label)
                .label(
                    site.domain.span,
                    format!("the site's domain, {} characters", domain.len()),
                )
                .help(format!(
                    "shorten the host name to at most {fit} characters, or the domain"
                )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use crate::diag::Code;

    /// The FQDN findings of a site whose domain is `domain_len` characters
    /// and whose one node, named `node`, has a management address and a
    /// loopback.
    fn found(domain_len: usize, node: &str) -> Vec<String> {
        // Labels of at most 63 characters: `ddd….ddd….example.net`.
        let mut domain = String::from("example.net");
        while domain.len() < domain_len {
            let take = (domain_len - domain.len() - 1).clamp(1, 63);
            domain = format!("{}.{domain}", "d".repeat(take));
        }
        assert_eq!(domain.len(), domain_len);
        let site = format!(
            r#"site dc1 {{ domain "{domain}"; dns-servers "10.0.0.2"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/24"; }}
rack r01 {{ height 42; }}
node {node} {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; }}; address mgmt interface=eno1 ipv4="10.0.0.10"; loopback ipv4="10.255.0.10" }}
"#
        );
        check_kdl(&site)
            .into_iter()
            .filter(|d| d.code == Code::InvalidFqdn)
            .map(|d| format!("{} | {}", d.message, d.help.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn names_the_zone_and_the_inventory_make_are_checked_with_the_domain() {
        let n = |len: usize| "n".repeat(len);
        // 189 + 1 + 50 = 240: `<node>.mgmt.<domain>` is 245. Fine.
        assert!(found(189, &n(50)).is_empty());
        // FQDN 251: `<node>.mgmt.<domain>` is 256 (what named refused).
        let f = found(189, &n(61));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains(".mgmt.<domain>` in the forward zone, 256 characters"),
            "{f:?}"
        );
        assert!(f[0].contains("at most 58 characters"), "{f:?}");
        // FQDN 253: one finding, for the longest name (the zone's).
        let f = found(189, &n(63));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("258 characters"), "{f:?}");
        // The FQDN itself too long: that finding alone.
        let f = found(200, &n(63));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("the FQDN of node"), "{f:?}");
        // The domain leaves no room for `hostmaster.<domain>`.
        let f = found(245, "r01n01");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("hostmaster"), "{f:?}");
    }

    #[test]
    fn a_fqdn_of_252_characters_is_a_file_name_too_long() {
        // No address, no loopback: only the inventory's file is too long.
        let domain = format!("{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(61));
        let site = format!(
            r#"site dc1 {{ domain "{domain}"; }}
rack r01 {{ height 42; }}
node {} {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; }} }}
"#,
            "n".repeat(62)
        );
        let f: Vec<String> = check_kdl(&site)
            .into_iter()
            .filter(|d| d.code == Code::InvalidFqdn)
            .map(|d| d.message)
            .collect();
        assert_eq!(
            f,
            [format!(
                "the FQDN of node `{}` is 252 characters long: the inventory's file `host_vars/<fqdn>.yml` would have a name of 256 bytes, and a file name may have 255, so `build` fails",
                "n".repeat(62)
            )]
        );
    }
}
