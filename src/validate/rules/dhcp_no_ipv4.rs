//! Rule `dhcp-no-ipv4`: a network Kea is to serve that has no IPv4 prefix.
//!
//! **What it does.** Warns (SC0060) about a network whose `dhcp` is on —
//! written `dhcp #true`, or by default as a management network — and that
//! has no `ipv4` prefix.
//!
//! **Why it matters.** siteconf serves DHCP with Kea's DHCPv4 only (node
//! reservations, the boot service's PXE answers): a network without IPv4
//! gets no subnet in `kea-dhcp4.json`, and there is no DHCPv6 config. No
//! machine on it is given an address or a boot file by DHCP, so none can
//! boot from the network; the site's own `dhcp` says it expected them to.
//! A management network that is IPv6 only on purpose (nodes installed by
//! other means, addresses from netplan) says `dhcp #false`.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv6 "2001:db8:0:100::/64"; }   // SC0060
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "dhcp-no-ipv4",
    codes: &[Code::DhcpNoIpv4],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for n in &cx.site.networks {
        // A prefix written but refused is its own finding.
        if !n.dhcp() || n.ipv4.is_some() || n.prefix_invalid[0] {
            continue;
        }
        let (span, label) = match &n.dhcp {
            Some(d) => (d.span, "DHCP asked for here".to_string()),
            None => (
                n.name.span,
                "a management network: served by DHCP unless `dhcp #false`".to_string(),
            ),
        };
        diags.push(
            Diagnostic::warning(
                Code::DhcpNoIpv4,
                format!(
                    "network `{}` is to be served by DHCP but has no IPv4 prefix: Kea's DHCPv4 gets no subnet for it, and siteconf writes no DHCPv6",
                    n.name.value
                ),
            )
            .label(span, label)
            .help("add its `ipv4` prefix so nodes on it can boot from the network, or say `dhcp #false` if they are installed by other means"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(network: &str) -> usize {
        let text = format!(
            "site dc1 {{ domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }}\n{network}\n"
        );
        codes(&text).iter().filter(|c| **c == "SC0060").count()
    }

    #[test]
    fn only_a_dhcp_network_without_ipv4() {
        assert_eq!(
            n("network mgmt { purpose management; ipv6 \"2001:db8::/64\"; }"),
            1
        );
        assert_eq!(
            n("network s { purpose storage; ipv6 \"2001:db8::/64\"; dhcp #true; }"),
            1
        );
        assert_eq!(
            n("network mgmt { purpose management; ipv6 \"2001:db8::/64\"; dhcp #false; }"),
            0
        );
        assert_eq!(
            n("network mgmt { purpose management; ipv4 \"10.0.0.0/24\"; }"),
            0
        );
        assert_eq!(
            n("network s { purpose storage; ipv6 \"2001:db8::/64\"; }"),
            0
        );
        // A refused prefix is its own finding.
        assert_eq!(
            n("network mgmt { purpose management; ipv4 \"10.0.0/24\"; }"),
            0
        );
    }
}
