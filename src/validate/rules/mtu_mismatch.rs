//! Rule `mtu-mismatch`: one L2 network, different MTUs.
//!
//! **What it does.** For every network, takes the MTU in effect on each
//! interface that carries an address on it (its own `mtu`, a VLAN's
//! parent's, else the kernel's 1500), over all resolved nodes. When they
//! differ, the MTU most interfaces use is taken as the network's, and each
//! other one is reported (SC0505, a warning) where it is set — folded over
//! the nodes it applies to — with a place that uses the common one.
//! (An MTU above the network's own is an error, SC0502.)
//!
//! **Why it matters.** Hosts of one L2 segment must agree on the MTU: one
//! with 9000 sends jumbo frames to one with 1500, which drops them. Pings
//! and SSH work, bulk transfers (storage replication, image pulls) hang —
//! typically a profile that forgot the jumbo MTU on some nodes.
//!
//! **Example.**
//! ```kdl
//! network storage { purpose storage; mtu 9000; … }
//! profile compute { interface bond0 { mtu 9000; } … }
//! profile storage { interface bond0 { kind bond; … } … }   // SC0505: 1500 here
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::interface_mtu::{effective_mtu, mtu_refused};
use super::{interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "mtu-mismatch",
    codes: &[Code::MtuMismatch],
    check,
    resolved: true,
};

/// One interface carrying a network on a node.
struct Carrier<'a> {
    node: &'a str,
    iface: &'a str,
    mtu: u16,
    /// Where the MTU is set, or the interface's name when it is the default.
    span: Span,
    explicit: bool,
    note: String,
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    // Network index → its carriers.
    let mut by_net: BTreeMap<usize, Vec<Carrier>> = BTreeMap::new();
    let gaps = super::Gaps::new(cx);
    for rn in &rs.nodes {
        // A node naming a profile that is not declared lacks the MTUs it
        // would give: the unknown profile is the finding.
        if gaps.node(cx, &cx.site.nodes[rn.index]) {
            continue;
        }
        let node = cx.site.nodes[rn.index].name.as_str();
        for a in &rn.settings.addresses {
            let Some(ifname) = &a.interface else { continue };
            let Some(&ni) = cx.index.networks.get(a.network.as_str()) else {
                continue;
            };
            let Some(i) = interface(rn, ifname) else {
                continue;
            };
            // A refused MTU (SC0015) is not known: it is not 1500.
            if cx.site.networks[ni].mtu_invalid || mtu_refused(rn, i) {
                continue;
            }
            let c = match effective_mtu(rn, i) {
                Some((m, from)) => Carrier {
                    node,
                    iface: i.name.as_str(),
                    mtu: m.value,
                    span: m.span,
                    explicit: true,
                    note: set_in(rn, &format!("interfaces.{}.mtu", from.name.value)),
                },
                None => Carrier {
                    node,
                    iface: i.name.as_str(),
                    mtu: 1500,
                    span: i.name.span,
                    explicit: false,
                    note: String::new(),
                },
            };
            // Above the network's own MTU is an error (SC0502), not this.
            if c.mtu > cx.site.networks[ni].mtu() {
                continue;
            }
            by_net.entry(ni).or_default().push(c);
        }
    }
    let mut out = PerNode::new();
    for (ni, carriers) in by_net {
        let net = &cx.site.networks[ni];
        let mut count: BTreeMap<u16, usize> = BTreeMap::new();
        for c in &carriers {
            *count.entry(c.mtu).or_default() += 1;
        }
        if count.len() < 2 {
            continue;
        }
        // The common MTU: most carriers; on a tie, the network's own, else
        // the larger.
        let Some((&common, _)) = count
            .iter()
            .max_by_key(|(m, n)| (**n, **m == net.mtu(), **m))
        else {
            continue;
        };
        let Some(example) = carriers.iter().find(|c| c.mtu == common) else {
            continue;
        };
        for c in carriers.iter().filter(|c| c.mtu != common) {
            let how = if c.explicit {
                format!("MTU {}", c.mtu)
            } else {
                "no MTU (1500, the default)".to_string()
            };
            out.push(
                c.node,
                Diagnostic::warning(
                    Code::MtuMismatch,
                    format!(
                        "interface `{}` carries network `{}` with {how}, but {} other interface(s) on it use MTU {common}{}",
                        c.iface,
                        net.name.value,
                        count[&common],
                        c.note
                    ),
                )
                .label(
                    c.span,
                    if c.explicit {
                        format!("MTU {}", c.mtu)
                    } else {
                        "no `mtu`: 1500".to_string()
                    },
                )
                .label(
                    example.span,
                    format!("MTU {common} on `{}` of `{}`", example.iface, example.node),
                )
                .help(format!(
                    "every host of one L2 network needs the same MTU: set `mtu {common}` on `{}` (or change the others)",
                    c.iface
                )),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_node_without_the_jumbo_mtu_of_the_others_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network storage { purpose storage; ipv4 "10.3.0.0/24"; mtu 9000; }
rack r01 { height 42; }
profile st { interface eno1 { mtu 9000; } }
node r01n01 { rack r01; position 1; profiles st; interface eno1 { mac "52:54:00:01:01:01"; }; address storage interface=eno1 ipv4="10.3.0.11"; }
node r01n02 { rack r01; position 2; profiles st; interface eno1 { mac "52:54:00:01:02:01"; }; address storage interface=eno1 ipv4="10.3.0.12"; }
node r01n03 { rack r01; position 3; interface eno1 { mac "52:54:00:01:03:01"; }; address storage interface=eno1 ipv4="10.3.0.13"; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0505").count(), 1, "{c:?}");
    }
}
