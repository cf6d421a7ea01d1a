//! Rule `node-management-address`: a node with no address on the
//! management network.
//!
//! **What it does.** Warns (SC0306) about a node whose resolved settings
//! give it no address on any network of `purpose management`, in a site
//! that declares one. Typically a node that writes `reset address` to
//! replace its profile's addresses and forgets the management one.
//!
//! **Why it matters.** Kea's reservations, the boot service's iPXE
//! scripts and the inventory's `ansible_host` are made from the
//! management address. Without one the node gets no DHCP reservation (it
//! cannot network-boot), and Ansible reaches it on its loopback, if at all.
//! A site may mean it (a node reached only over the fabric), so it is a
//! warning.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { profiles base; reset address; address storage ipv4=auto }   // SC0306
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "node-management-address",
    codes: &[Code::NodeNoMgmtAddress],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mgmt = super::management_networks(cx.site);
    let Some(first) = mgmt.first() else { return };
    // A node whose profile is unknown, or whose defaults are in a broken
    // file, may lack the address only because of that one finding.
    let gaps = super::Gaps::new(cx);
    for rn in &rs.nodes {
        let node = &cx.site.nodes[rn.index];
        if gaps.node(cx, node) {
            continue;
        }
        let has = rn.settings.addresses.iter().any(|a| {
            mgmt.contains(&a.network.value.as_str()) && (a.ipv4.is_some() || a.ipv6.is_some())
        });
        if has {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                Code::NodeNoMgmtAddress,
                format!(
                    "node `{}` has no address on the management network `{first}`",
                    node.name.value
                ),
            )
            .label(node.name.span, "no management address in effect")
            .help(format!(
                "give it one (`address {first} interface=IFACE ipv4=auto`), e.g. in a profile: without it the node gets no DHCP reservation, cannot network-boot, and Ansible reaches it on its loopback if at all"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_node_without_a_management_address_is_named() {
        let site = |addr: &str| {
            format!(
                r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }}
network storage {{ purpose storage; ipv4 "10.1.0.0/24"; }}
rack r01 {{ height 42; }}
node r01n01 {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; }}; {addr} }}
"#
            )
        };
        let n = |addr: &str| {
            codes(&site(addr))
                .iter()
                .filter(|c| **c == "SC0306")
                .count()
        };
        assert_eq!(n(r#"address mgmt interface=eno1 ipv4="10.0.0.10""#), 0);
        assert_eq!(n(r#"address storage interface=eno1 ipv4="10.1.0.10""#), 1);
        assert_eq!(n(""), 1);
    }
}
