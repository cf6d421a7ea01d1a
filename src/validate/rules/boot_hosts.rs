//! Rule `boot-hosts`: hosts of boot URLs that booting machines may not
//! reach or cannot resolve.
//!
//! **What it does.**
//! - SC1213 (error): the host of `base-url`, or of an image URL, is a name
//!   inside the site's own `domain` that the site's zone does not hold:
//!   the zone (`site/dns/<domain>.zone`) has the nodes (`<node>`,
//!   `<node>.<network>`, `<node>.lo`), the switches and the name servers
//!   (`nsN`), nothing else.
//! - SC1212 (warning): an image URL whose host is neither the base URL's
//!   host nor one of the boot `servers`; or that is on the boot service's
//!   host (the base URL's host or a boot server) at a port that is not the
//!   base URL's, where the boot service's nginx does not listen
//!   (`http://10.0.0.2:8080/images/…` with nginx on port 80; or
//!   `https://10.0.0.2/images/…`, port 443 whether written or not: a TLS
//!   proxy in front, say). The base URL's own scheme at its default port
//!   under the service's paths, while the base URL has another port, is
//!   the base URL's port left out: SC1210's error.
//!
//! **Why it matters.** Kea gives booting machines the site's
//! `dns-servers`, which serve the generated zone: a name in the domain
//! that the zone lacks is NXDOMAIN, and iPXE fetches no script, image or
//! seed — the whole fleet stops at iPXE. An image on another host is
//! fetched by every booting machine from there: it must be reachable from
//! the boot network and stay up. That is fine for a mirror the site
//! trusts, and a typo or a test leftover otherwise: a warning. The same
//! for another port on a boot server: nothing siteconf builds answers
//! there, so unless another server the site runs does, every kernel fetch
//! is refused and each machine reboots every 60 s (the script's `failed`
//! label); the base URL's port left out is SC1210's. One URL gets one
//! finding however it is written (`https://h/` and `https://h:443/`).
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.example.net"
//!     boot { servers "10.0.0.2"; base-url "http://boot.dc1.example.net"   // SC1213: no such record
//!            image debian { kernel "http://10.0.9.9/images/vmlinuz"; } } }  // SC1212
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::url_parts;
use crate::model::{Site, Sp};

pub static RULE: Rule = Rule {
    name: "boot-hosts",
    codes: &[Code::BootForeignHost, Code::BootHostNoRecord],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(info) = cx.site.site.as_ref() else {
        return;
    };
    let Some(boot) = info.boot.as_ref() else {
        return;
    };
    if let Some(u) = &boot.base_url {
        no_record(
            cx.site,
            diags,
            u,
            "`base-url`",
            "no script, seed or image can be fetched",
        );
    }
    let base = boot.base_url();
    let base_parts = base.as_deref().and_then(url_parts);
    let base_host = base_parts.as_ref().map(|p| p.host.to_ascii_lowercase());
    let base_port = base_parts.as_ref().map(|p| p.port);
    for i in &boot.images {
        let urls = std::iter::once((&i.kernel, "kernel"))
            .chain(i.initrds.iter().map(|u| (u, "initrd")))
            .chain(i.root.iter().map(|u| (u, "root")));
        let mut foreign: Vec<String> = Vec::new();
        let mut other_ports: Vec<(String, u16)> = Vec::new();
        for (u, field) in urls {
            let what = format!("the `{field}` of image `{}`", i.name.value);
            if no_record(cx.site, diags, u, &what, "the image cannot be fetched") {
                continue;
            }
            let Some(p) = url_parts(&u.value) else {
                continue;
            };
            let host = p.host.to_ascii_lowercase();
            let ours = Some(&host) == base_host.as_ref()
                || boot.servers.iter().any(|s| s.value.to_string() == host);
            if host.contains('$') {
                continue;
            }
            if ours {
                // nginx listens only on the base URL's port; another port
                // is another server on the boot service's host, which the
                // site does not build (the base URL's port left out is
                // SC1210's).
                let Some(listen) = base_port else { continue };
                let key = (host.clone(), p.port);
                let missed = base.as_deref().is_some_and(|b| {
                    super::boot_served::missed_base_port(&u.value, b)
                        && super::boot_served::under_service(b, p.path)
                });
                if p.port == listen || missed || other_ports.contains(&key) {
                    continue;
                }
                diags.push(
                    Diagnostic::warning(
                        Code::BootForeignHost,
                        format!(
                            "{what} is fetched from `{}` port {}{}, but the boot service's nginx on that host listens only on the base URL's port {listen}: unless another server there serves it, every fetch is refused, iPXE's `kernel` line fails and each machine reboots every 60 s",
                            p.host,
                            p.port,
                            match super::boot_served::port_written(&u.value) {
                                true => "",
                                false => " (its scheme's default: no port written)",
                            }
                        ),
                    )
                    .label(u.span, format!("port {}, where siteconf's boot service does not listen", p.port))
                    .help(format!(
                        "write the URL under `{}/images/` (the base URL's port, served from `images-dir`); if another server on `{}` really serves port {}, make sure it stays up and reachable from the boot network",
                        base.as_deref().unwrap_or("<base-url>"),
                        p.host,
                        p.port
                    )),
                );
                other_ports.push(key);
                continue;
            }
            if foreign.contains(&host) {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    Code::BootForeignHost,
                    format!(
                        "image `{}` is fetched from `{}`, which is neither the base URL's host nor a boot server",
                        i.name.value, p.host
                    ),
                )
                .label(u.span, "every booting machine fetches this from another host")
                .help(format!(
                    "if `{}` is a mirror the site trusts, make sure the boot network can reach it (route, firewall, DNS); otherwise serve the image from `images-dir` as `{}/images/…`",
                    p.host,
                    base.as_deref().unwrap_or("<base-url>")
                )),
            );
            foreign.push(host);
        }
    }
}

/// SC1213 for a URL whose host is a name in the site's domain that its
/// zone does not have; whether it reported.
fn no_record(
    site: &Site,
    diags: &mut Diagnostics,
    u: &Sp<String>,
    what: &str,
    fails: &str,
) -> bool {
    let Some(info) = site.site.as_ref() else {
        return false;
    };
    let Some(p) = url_parts(&u.value) else {
        return false;
    };
    let domain = info.domain.value.trim_end_matches('.').to_ascii_lowercase();
    let host = p.host.trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || host.contains('$') {
        return false;
    }
    let rel = if host == domain {
        ""
    } else {
        match host.strip_suffix(&format!(".{domain}")) {
            Some(r) => r,
            None => return false,
        }
    };
    if in_zone(site, rel) {
        return false;
    }
    let (message, label) = if rel.is_empty() {
        (
            format!(
                "{what} names the site's domain `{domain}` itself, which has no address record"
            ),
            "the zone's apex has no A record".to_string(),
        )
    } else {
        (
            format!("{what} names `{host}`, in the site's domain `{domain}`, but the site's zone has no `{rel}`"),
            format!("NXDOMAIN from the site's DNS servers: {fails}"),
        )
    };
    diags.push(
        Diagnostic::error(Code::BootHostNoRecord, message)
            .label(u.span, label)
            .label(info.domain.span, "the site's zone, served by its `dns-servers`")
            .help("booting machines resolve it through the site's DNS, which serves only the generated zone (nodes, switches, `nsN`): use a boot server's address (`http://10.0.0.2`) or a name the zone has"),
    );
    true
}

/// Whether the site's forward zone has name `rel` (relative to the
/// domain): a node (`<node>`, `<node>.<network>`, `<node>.lo`), a switch,
/// a name server `nsN`. A name that may be declared in a file that did not
/// parse counts as present.
fn in_zone(site: &Site, rel: &str) -> bool {
    if rel.is_empty() {
        return false;
    }
    let mut labels = rel.splitn(2, '.');
    let first = labels.next().unwrap_or("");
    let rest = labels.next();
    let node = site
        .nodes
        .iter()
        .any(|n| n.name.value.eq_ignore_ascii_case(first));
    let switch = site
        .switches
        .iter()
        .any(|s| s.name.value.eq_ignore_ascii_case(first));
    let ns = first
        .strip_prefix("ns")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        && site
            .site
            .as_ref()
            .is_some_and(|s| !s.dns_servers.is_empty());
    match rest {
        None => node || switch || ns || site.lost.may_declare(first),
        Some(r) => {
            node && (r == "lo"
                || site
                    .networks
                    .iter()
                    .any(|n| n.name.value.eq_ignore_ascii_case(r))
                || site.lost.may_declare(r))
                || site.lost.may_declare(first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn hosts(boot: &str) -> Vec<(&'static str, String)> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; images-dir "/srv/images"; {boot} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}
            rack r01 {{ height 42; }}
            node r01n01 {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; }}
                address mgmt interface=eno1 ipv4="10.0.0.101" }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| matches!(d.code.as_str(), "SC1212" | "SC1213"))
            .map(|d| (d.code.as_str(), d.message))
            .collect()
    }

    #[test]
    fn images_from_elsewhere_are_a_warning_once_per_host() {
        assert!(hosts(r#"image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#).is_empty());
        let d = hosts(
            r#"image debian { kernel "https://deb.debian.org/linux"; initrd "https://deb.debian.org/initrd.gz"; }"#,
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC1212");
    }

    #[test]
    fn another_port_on_a_boot_server_is_a_warning() {
        let d = hosts(
            r#"image debian { kernel "http://10.0.0.2:8080/images/vmlinuz"; initrd "http://10.0.0.2/images/initrd.gz"; }"#,
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC1212");
        assert!(d[0].1.contains("port 8080"), "{d:?}");
        // The base URL's own port written out is the boot service.
        assert!(
            hosts(r#"image debian { kernel "http://10.0.0.2:80/images/vmlinuz"; }"#).is_empty()
        );
        assert!(hosts(
            r#"base-url "http://10.0.0.2:8080"; image debian { kernel "http://10.0.0.2:8080/images/vmlinuz"; }"#
        )
        .is_empty());
    }

    #[test]
    fn names_in_the_site_domain_need_a_record() {
        let img = r#"image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#;
        assert!(hosts(&format!(
            r#"base-url "http://r01n01.dc1.example.net"; {img}"#
        ))
        .is_empty());
        assert!(hosts(&format!(
            r#"base-url "http://R01N01.mgmt.dc1.example.net."; {img}"#
        ))
        .is_empty());
        assert!(hosts(&format!(r#"base-url "http://ns1.dc1.example.net"; {img}"#)).is_empty());
        assert!(hosts(&format!(r#"base-url "http://boot.example.org"; {img}"#)).is_empty());
        let d = hosts(&format!(r#"base-url "http://boot.dc1.example.net"; {img}"#));
        assert_eq!(d[0].0, "SC1213", "{d:?}");
        let d = hosts(&format!(r#"base-url "http://dc1.example.net"; {img}"#));
        assert_eq!(d[0].0, "SC1213", "{d:?}");
        // Reported as missing, not also as foreign.
        let d = hosts(r#"image debian { kernel "http://images.dc1.example.net/vmlinuz"; }"#);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC1213");
    }
}
