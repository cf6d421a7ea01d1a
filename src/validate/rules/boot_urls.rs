//! Rule `boot-url`: boot URLs a booting machine cannot use.
//!
//! **What it does.** Reports (SC1200) a `base-url`, or an image's `kernel`,
//! `initrd` or `root`, that is not an absolute `http://HOST…` or
//! `https://HOST…` URL (no scheme, another scheme, no host, white space),
//! and a `base-url` so long that the iPXE boot-file URL Kea hands out
//! (`<base-url>/boot/${netX/mac:hexhyp}.ipxe`) would not fit the DHCP
//! packet's 128-byte file field.
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
    codes: &[Code::BootUrlInvalid],
    check,
    resolved: false,
};

/// The DHCP `file` field is 128 bytes, NUL-terminated.
const FILE_FIELD: usize = 127;
/// What Kea appends to the base URL for a known iPXE client.
const IPXE_SUFFIX: &str = "/boot/${netX/mac:hexhyp}.ipxe";

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
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
