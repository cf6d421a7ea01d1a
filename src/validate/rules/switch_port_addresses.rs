//! Rule `switch-port-addresses`: a routed switch port at an address no
//! host may have.
//!
//! **What it does.** Reports (SC0302) a routed port's IPv4 address
//! (`interface swp51 { address "192.0.2.7/29" }`) that is the network or
//! the broadcast address of its own prefix. A /31 or /32 has neither.
//!
//! **Why it matters.** The switch's end of the link is then not a host
//! address: the kernel takes it, but nothing on the subnet answers it (or
//! every host does), so the external peer or node session on that link
//! never comes up, with `check` green.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { …; interface swp51 { address "192.0.2.7/29"; } }   // SC0302
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "switch-port-addresses",
    codes: &[Code::AddressIsNetworkOrBroadcast],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for sw in &cx.site.switches {
        for i in &sw.interfaces {
            for a in &i.addresses {
                let ipnet::IpNet::V4(net) = a.value else {
                    continue;
                };
                if net.prefix_len() >= 31 {
                    continue;
                }
                let ip = net.addr();
                let what = if ip == net.network() {
                    "network"
                } else if ip == net.broadcast() {
                    "broadcast"
                } else {
                    continue;
                };
                diags.push(
                    Diagnostic::error(
                        Code::AddressIsNetworkOrBroadcast,
                        format!(
                            "port `{}` of switch `{}` has address {ip}, the {what} address of {}",
                            i.port.value,
                            sw.name.value,
                            net.trunc()
                        ),
                    )
                    .label(a.span, format!("the {what} address of its prefix"))
                    .help("no host may use it: give the port a host address of the subnet (the provider's end is usually the first, the switch's the second)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(address: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports "swp1-56"; interface swp51 address="{address}"; }}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0302").count()
    }

    #[test]
    fn routed_port_at_network_or_broadcast() {
        assert_eq!(n("192.0.2.2/29"), 0);
        assert_eq!(n("192.0.2.7/29"), 1);
        assert_eq!(n("192.0.2.0/29"), 1);
        assert_eq!(n("198.51.100.0/31"), 0);
        assert_eq!(n("198.51.100.1/32"), 0);
        assert_eq!(n("2001:db8:ffff::/64"), 0);
    }
}
