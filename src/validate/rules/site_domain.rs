//! Rule `site-domain`: a site domain that names resolve poorly under.
//!
//! **What it does.** Warns (SC0079) about a site `domain` that is one
//! label (`dc1`) or that is, or ends in, `local` (`dc1.local`). (A domain
//! that is not a valid name at all is SC0017.)
//!
//! **Why it matters.** Every node's FQDN, the DNS zones and the inventory
//! are made from the domain. A single label is a top-level domain: only
//! the site's own DNS servers know it, any other resolver asks the root
//! servers and gets NXDOMAIN, and a public TLD of that name may be
//! delegated later. `.local` belongs to multicast DNS (RFC 6762):
//! systemd-resolved sends such names only to mDNS, and nss-mdns answers
//! "not found" for them without asking DNS, so the FQDNs do not resolve.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.local"; }   // SC0079
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "site-domain",
    codes: &[Code::DomainNotDns],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else { return };
    let d = site.domain.value.trim_end_matches('.');
    let valid =
        |l: &str| !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    if d.is_empty() || !d.split('.').all(valid) {
        return;
    }
    let local = d.eq_ignore_ascii_case("local")
        || d.len() > 6 && d[d.len() - 6..].eq_ignore_ascii_case(".local");
    let (label, why) = if local {
        (
            "`.local` is multicast DNS (RFC 6762)",
            "systemd-resolved and nss-mdns resolve `.local` names by mDNS only, never asking the site's DNS servers, so the nodes' FQDNs do not resolve",
        )
    } else if !d.contains('.') {
        (
            "one label: a top-level domain",
            "only the site's own DNS servers know it; any other resolver asks the root servers and gets NXDOMAIN, and a public top-level domain of that name may be delegated later",
        )
    } else {
        return;
    };
    diags.push(
        Diagnostic::warning(
            Code::DomainNotDns,
            format!("the site domain `{d}` is a poor DNS domain: {why}"),
        )
        .label(site.domain.span, label)
        .help(format!(
            "use a name under a domain you own, e.g. `{}.example.net` (or a subdomain of `home.arpa`, RFC 8375, for a private one)",
            d.split('.').next().unwrap_or(d)
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn domains() {
        let found = |d: &str| {
            codes(&format!("site s {{ domain \"{d}\" }}"))
                .into_iter()
                .filter(|c| *c == "SC0079")
                .count()
        };
        assert_eq!(found("dc1"), 1);
        assert_eq!(found("dc1.local"), 1);
        assert_eq!(found("dc1.LOCAL"), 1);
        assert_eq!(found("dc1.example.net"), 0);
        assert_eq!(found("dc1.home.arpa"), 0);
        assert_eq!(found("mylocal.net"), 0);
    }
}
