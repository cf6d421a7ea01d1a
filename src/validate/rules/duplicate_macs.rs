//! Rule `duplicate-macs`: two interfaces with one MAC address.
//!
//! **What it does.** Reports (SC0103) an ethernet interface whose MAC an
//! earlier interface already has, on any node, after profiles are merged.
//! Both places are shown. A MAC written in a profile, and so given to
//! every node using it, is reported once at the profile. Bond and VLAN
//! interfaces may repeat a member's or parent's MAC on purpose, so only
//! ethernet interfaces are compared.
//!
//! **Why it matters.** DHCP reservations and netplan match on MACs: two
//! interfaces with one MAC means the wrong machine gets the address, or the
//! right one gets none — usually a copy-paste of the node above.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { interface eno1 { mac "52:54:00:01:01:01"; } }
//! node r01n02 { interface eno1 { mac "52:54:00:01:01:01"; } }   // SC0103
//! ```

use super::super::{Ctx, Rule};
use super::{duplicates, name_list, set_in, Claim};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{InterfaceKind, Mac};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "duplicate-macs",
    codes: &[Code::DuplicateMac],
    check,
    resolved: true,
};

/// The interface holding a MAC; described only when reported.
struct Holder<'a> {
    rn: &'a ResolvedNode,
    node: &'a str,
    interface: &'a str,
}

impl Holder<'_> {
    fn who(&self) -> String {
        format!("`{}` {}", self.node, self.interface)
    }
    fn note(&self) -> String {
        set_in(self.rn, &format!("interfaces.{}.mac", self.interface))
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let mut claims: Vec<(Mac, Claim<Holder>)> = Vec::with_capacity(site.nodes.len() * 3);
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        for i in &rn.settings.interfaces {
            let ethernet = i
                .kind
                .as_ref()
                .is_none_or(|k| k.value == InterfaceKind::Ethernet);
            let Some(mac) = &i.mac else { continue };
            if !ethernet {
                continue;
            }
            claims.push((
                mac.value,
                Claim {
                    span: mac.span,
                    node: Some(rn.index),
                    data: Holder {
                        rn,
                        node: name,
                        interface: i.name.as_str(),
                    },
                },
            ));
        }
    }
    duplicates(
        cx,
        claims,
        diags,
        |diags, mac, group| {
            let nodes: Vec<&str> = group
                .iter()
                .filter_map(|c| c.node.map(|i| site.nodes[i].name.as_str()))
                .collect();
            diags.push(
                Diagnostic::error(
                    Code::DuplicateMac,
                    format!(
                        "MAC {mac}{} is given to {} nodes: {}",
                        group[0].data.note(),
                        nodes.len(),
                        name_list(nodes.iter().copied(), 5)
                    ),
                )
                .label(
                    group[0].span,
                    "one MAC, inherited by every node that uses this",
                )
                .help("a MAC belongs to one NIC: declare it on each node, not in a shared profile"),
            );
        },
        |diags, mac, first, again| {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateMac,
                    format!("MAC {mac} is declared for both {} and {}", first.data.who(), again.data.who()),
                )
                .label(again.span, format!("used again here{}", again.data.note()))
                .label(first.span, format!("first used here{}", first.data.note()))
                .help("DHCP and netplan match on the MAC, so one of these machines would get the other's configuration; copy the MAC from the machine's label or LLDP again"),
            );
            true
        },
    );
}
