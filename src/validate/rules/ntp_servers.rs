//! Rule `ntp-servers`: an NTP server that is neither a host name nor an
//! IP address.
//!
//! **What it does.** Reports (SC0050) an entry of the site's
//! `ntp-servers` that is not an IP address or a host name (labels of 1–63
//! letters, digits and hyphens, 253 characters at most, an optional final
//! dot): a URL (`ntp://…`), a port (`ntp1:123`), white space.
//!
//! **Why it matters.** The list goes into cloud-init's `ntp.servers`,
//! written as `server NAME iburst` lines for chrony: chrony refuses to
//! start on a line it cannot parse, and a name that cannot resolve leaves
//! the node without time, which breaks TLS and Kerberos on the first day.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.example.net"; ntp-servers "ntp://ntp1.example.net" }   // SC0050
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::is_hostname_label;

pub static RULE: Rule = Rule {
    name: "ntp-servers",
    codes: &[Code::InvalidNtpServer],
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
    for n in &site.ntp_servers {
        if n.value.parse::<IpAddr>().is_ok() || is_host_name(&n.value) {
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

#[cfg(test)]
mod tests {
    use super::is_host_name;

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
