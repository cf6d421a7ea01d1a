//! Rule `boot-pxe-over-bond`: a management address PXE firmware cannot
//! reach without help from the switch.
//!
//! **What it does.** When the site has a boot service, warns (SC1216)
//! about nodes whose management address (the first on a network of
//! `purpose management`: the one Kea reserves and PXE boots from) is on
//! a VLAN interface over an LACP (`mode "802.3ad"`) bond. One finding, at
//! the first node's address, counting the others.
//!
//! **Why it matters.** The NIC's PXE firmware and iPXE send untagged
//! frames from a single port and speak no LACP. The switch must carry the
//! management network untagged on that port (native VLAN) and forward on a
//! bond member that has not negotiated LACP (LACP bypass / fallback);
//! otherwise DHCP never reaches Kea and the node never boots. With the
//! address on a VLAN over the bond, the node's OS then sends that network
//! tagged while its firmware sent it untagged: the switch must carry it
//! both ways, which is rarely what was meant. The site files cannot say
//! how the switch is configured, so it is a warning.
//!
//! **What it leaves alone.** The management address untagged on the
//! LACP bond itself: that is the native-VLAN setup this rule's help
//! recommends. The firmware's untagged frames and the OS's untagged frames
//! are the same network, and the switch's LACP bypass / fallback (which
//! the site cannot express) lets the firmware's single port forward until
//! the bond negotiates. A warning there could not be answered by any site,
//! so `--deny warnings` would forbid a working, common design.
//!
//! **Example.**
//! ```kdl
//! interface bond0 { kind bond; members eno1 eno2; mode "802.3ad"; }
//! interface mgmt0 { kind vlan; link bond0; vlan 100; }
//! address mgmt interface=mgmt0 ipv4=auto   // SC1216 when the site has `boot`
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Interface, InterfaceKind, Sp};

pub static RULE: Rule = Rule {
    name: "boot-pxe-over-bond",
    codes: &[Code::BootPxeOverBond],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    if cx
        .site
        .site
        .as_ref()
        .and_then(|s| s.boot.as_ref())
        .is_none()
    {
        return;
    }
    let mgmt = super::management_networks(cx.site);
    // (node, the address's VLAN interface, the bond under it)
    let mut found: Vec<(&str, &Sp<String>, String)> = Vec::new();
    for rn in &rs.nodes {
        let s = &rn.settings;
        let Some(a) = s
            .addresses
            .iter()
            .find(|a| mgmt.contains(&a.network.value.as_str()))
        else {
            continue;
        };
        let Some(on) = &a.interface else { continue };
        let find = |name: &str| s.interfaces.iter().find(|i| i.name.value == name);
        let Some(iface) = find(&on.value) else {
            continue;
        };
        // Untagged on the bond itself is the native-VLAN setup: not flagged.
        if kind(iface) != InterfaceKind::Vlan {
            continue;
        }
        let Some(bond) = iface.link.as_ref().and_then(|l| find(&l.value)) else {
            continue;
        };
        let lacp = kind(bond) == InterfaceKind::Bond
            && bond
                .bond_mode
                .as_ref()
                .is_some_and(|m| m.value == "802.3ad");
        if lacp {
            found.push((
                cx.site.nodes[rn.index].name.value.as_str(),
                on,
                bond.name.value.clone(),
            ));
        }
    }
    let Some(((node, on, bond), more)) = found.split_first() else {
        return;
    };
    let others = match more.len() {
        0 => String::new(),
        1 => " (and 1 more node)".to_string(),
        n => format!(" (and {n} more nodes)"),
    };
    diags.push(
        Diagnostic::warning(
            Code::BootPxeOverBond,
            format!(
                "node `{node}`{others} has its management (DHCP/PXE) address on VLAN interface `{}` over LACP bond `{bond}`: PXE firmware sends untagged frames from one NIC without LACP, while the booted node tags this network",
                on.value
            ),
        )
        .label(on.span, "the node network-boots from here")
        .help(format!("put the management address untagged on `{bond}` itself (`address … interface={bond}`) with the management network as the switch ports' native VLAN and LACP bypass / fallback configured, or on a plain NIC; as written the node boots only if the switch carries the management network both untagged and tagged on those ports")),
    );
}

/// The interface's kind, as written or as its fields imply.
fn kind(i: &Interface) -> InterfaceKind {
    match &i.kind {
        Some(k) => k.value,
        None if i.link.is_some() => InterfaceKind::Vlan,
        None if !i.members.is_empty() => InterfaceKind::Bond,
        None => InterfaceKind::Ethernet,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn site(boot: bool, mode: &str, on: &str) -> Vec<String> {
        let boot = match boot {
            true => {
                r#"boot { servers "10.0.0.2"; images-dir "/srv/images"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; } }
                defaults { boot-image debian; }"#
            }
            false => "",
        };
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"; {boot} }}
            network mgmt {{ purpose management; vlan 100; ipv4 "10.0.0.0/24"; }}
            rack r01 {{ height 42; }}
            node r01n01 {{ rack r01; position 1
                interface eno1 {{ mac "52:54:00:01:01:01"; }}
                interface eno2 {{ mac "52:54:00:01:01:02"; }}
                interface bond0 {{ kind bond; members eno1 eno2; mode "{mode}"; }}
                interface mgmt0 {{ kind vlan; link bond0; vlan 100; }}
                address mgmt interface={on} ipv4="10.0.0.101" }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1216")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn pxe_over_an_lacp_bond_is_a_warning_with_a_boot_service() {
        let m = site(true, "802.3ad", "mgmt0");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("VLAN interface `mgmt0` over LACP bond `bond0`"),
            "{m:?}"
        );
        // Untagged on the bond itself: the native-VLAN setup the help
        // recommends, which works with LACP bypass on the switch.
        assert!(site(true, "802.3ad", "bond0").is_empty());
        assert!(site(true, "active-backup", "mgmt0").is_empty());
        assert!(site(true, "802.3ad", "eno1").is_empty());
        assert!(site(false, "802.3ad", "mgmt0").is_empty());
    }
}
