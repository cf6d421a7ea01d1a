//! Rule `boot-url`: boot URLs a booting machine cannot use.
//!
//! **What it does.** Reports (SC1200) a `base-url`, or an image's `kernel`,
//! `initrd` or `root`, that is not an absolute `http://HOST…` or
//! `https://HOST…` URL (no scheme, another scheme, no host, white space),
//! and a `base-url` so long that the iPXE boot-file URL Kea hands out
//! (`<base-url>/boot/${netX/mac:hexhyp}.ipxe`) would not fit the DHCP
//! packet's 128-byte file field.
//!
//! Reports (SC1217) an `https://` `base-url`, and an `https://` image URL
//! on the boot service (the base URL's host or a boot server, at the base
//! URL's port: one finding counting the others). The boot service is plain
//! HTTP: `templates/site/boot/nginx.conf.j2` writes `listen <port>;` with no
//! `ssl` and no certificate, so an https base URL makes it listen on 443
//! speaking HTTP, and every TLS handshake — iPXE's script, image and
//! firmware fetches, cloud-init's seed fetch — fails. `nginx -t` accepts
//! the file, so only `check` can tell. TLS, where wanted, belongs to a
//! proxy in front: the base URL stays the http URL siteconf serves.
//!
//! **Why it matters.** iPXE fetches these URLs on a machine that nobody
//! watches at that moment: a relative or mistyped URL is a machine that
//! sits at a boot prompt. Kea truncates nothing: an over-long file name
//! makes it drop the field.
//!
//! **Example.**
//! ```kdl
//! boot { servers "10.0.0.2"; image debian { kernel "10.0.0.2/vmlinuz"; } }   // SC1200: no scheme
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "boot-url",
    codes: &[Code::BootUrlInvalid, Code::BootUrlHttps],
    check,
    resolved: false,
};

/// The DHCP `file` field is 128 bytes, NUL-terminated.
const FILE_FIELD: usize = 127;
/// What Kea appends to the base URL for a known iPXE client.
const IPXE_SUFFIX: &str = "/boot/${netX/mac:hexhyp}.ipxe";

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    if let Some(u) = &boot.base_url {
        one(diags, u, "`base-url`");
        let len = u.value.trim_end_matches('/').len() + IPXE_SUFFIX.len();
        if validate(&u.value).is_ok() && len > FILE_FIELD {
            diags.push(
                Diagnostic::error(
                    Code::BootUrlInvalid,
                    format!("`base-url` is too long for DHCP: the iPXE boot-file URL would be {len} bytes"),
                )
                .label(u.span, "too long")
                .help(format!(
                    "the DHCP file field holds {FILE_FIELD} bytes; `<base-url>{IPXE_SUFFIX}` must fit: use a shorter host or path"
                )),
            );
        }
    }
    https(boot, diags);
    for i in &boot.images {
        let what = format!("image `{}`", i.name.value);
        one(diags, &i.kernel, &format!("the `kernel` of {what}"));
        for u in &i.initrds {
            one(diags, u, &format!("an `initrd` of {what}"));
        }
        if let Some(u) = &i.root {
            one(diags, u, &format!("the `root` of {what}"));
        }
    }
}

/// SC1217: TLS asked of the plain-HTTP boot service.
fn https(boot: &crate::model::Boot, diags: &mut Diagnostics) {
    use crate::model::names::url_parts;
    let is_https = |u: &str| {
        u.split_once("://")
            .is_some_and(|(s, _)| s.eq_ignore_ascii_case("https"))
    };
    let plain = |u: &str| match u.split_once("://") {
        Some((_, rest)) => format!("http://{rest}"),
        None => u.to_string(),
    };
    let help = |u: &str| {
        format!(
            "iPXE and cloud-init fetch from the boot service over http on the boot network: write `{}`; to use TLS, terminate it in a proxy in front of siteconf's nginx and keep here the http URL siteconf serves",
            plain(u)
        )
    };
    if let Some(u) = boot.base_url.as_ref().filter(|u| is_https(&u.value)) {
        if validate(&u.value).is_ok() {
            diags.push(
                Diagnostic::error(
                    Code::BootUrlHttps,
                    format!("`base-url` `{}` is https, but the boot service serves plain HTTP: its nginx (site/boot/nginx.conf) would listen on that port without TLS, so every iPXE script and image fetch and every cloud-init seed fetch fails its TLS handshake and no machine boots", u.value),
                )
                .label(u.span, "TLS to a plain-HTTP server")
                .help(help(&u.value)),
            );
        }
    }
    // Image URLs over TLS to the boot service's own nginx.
    let Some(base) = boot.base_url() else { return };
    let Some(bp) = url_parts(&base) else { return };
    let base_host = bp.host.to_ascii_lowercase();
    let mut found: Vec<&Sp<String>> = Vec::new();
    for i in &boot.images {
        let urls = std::iter::once(&i.kernel)
            .chain(i.initrds.iter())
            .chain(i.root.iter());
        for u in urls {
            let Some(p) = url_parts(&u.value).filter(|_| is_https(&u.value)) else {
                continue;
            };
            let host = p.host.to_ascii_lowercase();
            let on_service =
                host == base_host || boot.servers.iter().any(|s| s.value.to_string() == host);
            if on_service && p.port == bp.port {
                found.push(u);
            }
        }
    }
    let Some((u, more)) = found.split_first() else {
        return;
    };
    let also = match more.len() {
        0 => String::new(),
        1 => " (and 1 more image URL)".to_string(),
        n => format!(" (and {n} more image URLs)"),
    };
    diags.push(
        Diagnostic::error(
            Code::BootUrlHttps,
            format!("image URL `{}`{also} asks the boot service for TLS on port {}, where its nginx serves plain HTTP: iPXE's TLS handshake fails and the node stops at its `kernel` line", u.value, bp.port),
        )
        .label(u.span, "https to the boot service")
        .help(help(&u.value)),
    );
}

fn one(diags: &mut Diagnostics, u: &Sp<String>, what: &str) {
    if let Err(label) = validate(&u.value) {
        diags.push(
            Diagnostic::error(
                Code::BootUrlInvalid,
                format!("{what} is not a URL iPXE can fetch: `{}`", u.value),
            )
            .label(u.span, label)
            .help("write an absolute URL: `http://10.0.0.2/images/vmlinuz` (or https://)"),
        );
    }
}

/// `Err(label)` unless `u` is `http(s)://HOST[:PORT][/…]` without white space.
fn validate(u: &str) -> Result<(), &'static str> {
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains white space");
    }
    let Some((scheme, rest)) = u.split_once("://") else {
        return Err("no `http://` or `https://`");
    };
    if scheme != "http" && scheme != "https" {
        return Err("only http and https");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.strip_prefix('[') {
        Some(r) => match r.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err("unclosed `[`"),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("no host");
    }
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return Err("bad port");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    fn https(boot: &str) -> Vec<String> {
        super::super::testing::check_kdl(&format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; images-dir "/srv/images"; {boot} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        ))
        .into_iter()
        .filter(|d| d.code.as_str() == "SC1217")
        .map(|d| d.message)
        .collect()
    }

    #[test]
    fn tls_to_the_plain_http_boot_service_is_an_error() {
        let m = https(
            r#"base-url "https://10.0.0.2"; image debian { kernel "https://10.0.0.2/images/vmlinuz"; initrd "https://10.0.0.2/images/initrd"; }"#,
        );
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].contains("`base-url` `https://10.0.0.2` is https"),
            "{m:?}"
        );
        assert!(m[1].contains("(and 1 more image URL)"), "{m:?}");
        // Plain http: fine; https from a mirror (another host) or another
        // port of the boot server (a TLS proxy in front): not the boot
        // service's nginx.
        assert!(https(r#"base-url "http://10.0.0.2"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#).is_empty());
        assert!(
            https(r#"image debian { kernel "https://deb.debian.org/debian/vmlinuz"; }"#).is_empty()
        );
        assert!(https(r#"image debian { kernel "https://10.0.0.2/images/vmlinuz"; }"#).is_empty());
    }

    #[test]
    fn urls() {
        assert!(validate("http://10.0.0.2").is_ok());
        assert!(validate("https://boot.example.net:8443/x/vmlinuz").is_ok());
        assert!(validate("http://[2001:db8::2]/x").is_ok());
        assert!(validate("http://[2001:db8::2]:81/x").is_ok());
        assert!(validate("10.0.0.2/vmlinuz").is_err());
        assert!(validate("tftp://10.0.0.2/x").is_err());
        assert!(validate("http:///x").is_err());
        assert!(validate("http://h:0/").is_err());
        assert!(validate("http://h:x/").is_err());
        assert!(validate("http://h/a b").is_err());
    }
}
