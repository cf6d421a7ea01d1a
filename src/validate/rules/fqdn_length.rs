//! Rule `fqdn-length`: host names whose FQDN is too long for DNS.
//!
//! **What it does.** Reports (SC0017) a node or switch whose fully
//! qualified name, `NAME.DOMAIN`, is longer than 253 characters. Each
//! label is already checked as a host name (1–63 letters, digits and
//! hyphens, SC0016) when the name is read; only the whole name's length
//! needs the site's domain, so it is checked here.
//!
//! **Why it matters.** A name over 253 characters cannot be put in DNS,
//! so the forward and reverse zones would be rejected by the DNS server
//! and the machine would have no FQDN at first boot.
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
    resolved: false,
};

/// The most characters a DNS name may have, written without the root dot.
const MAX: usize = 253;

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else { return };
    let domain = site.domain.value.trim_end_matches('.');
    if domain.is_empty() {
        return;
    }
    let hosts = cx
        .site
        .switches
        .iter()
        .map(|s| ("switch", &s.name))
        .chain(cx.site.nodes.iter().map(|n| ("node", &n.name)));
    for (kind, name) in hosts {
        let len = name.value.len() + 1 + domain.len();
        if len <= MAX {
            continue;
        }
        diags.push(
            Diagnostic::error(
                Code::InvalidFqdn,
                format!(
                    "the FQDN of {kind} `{}` is {len} characters long; DNS allows {MAX}",
                    name.value
                ),
            )
            .label(name.span, format!("{len} characters with the domain"))
            .label(site.domain.span, "the site's domain")
            .help(format!(
                "shorten the host name to at most {} characters, or the domain",
                MAX.saturating_sub(1 + domain.len())
            )),
        );
    }
}
