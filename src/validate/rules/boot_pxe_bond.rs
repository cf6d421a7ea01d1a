//! Rule `boot-pxe-over-bond`: a boot address PXE firmware cannot reach
//! without help from the switch.
//!
//! **What it does.** When the site has a boot service, warns (SC1216)
//! about nodes it boots (a `boot-image` in effect) whose address on a
//! network the boot service's DHCP serves (`dhcp`, by default the
//! networks of `purpose management`: the address Kea reserves for the
//! MAC PXE asks with) is on a VLAN interface: over an LACP
//! (`mode "802.3ad"`) bond, over another bond, or over a plain NIC. One
//! finding per kind of parent (LACP bond or not), at the first node's
//! address, counting the others.
//!
//! **Why it matters.** The NIC's PXE firmware and iPXE send untagged
//! frames from a single port. The installed system and cloud-init (the
//! `network-config=` the iPXE script hands it) then send that network
//! tagged with its VLAN on the same port. One switch port carries a VLAN
//! either untagged (native) or tagged, not both unless the switch is set
//! up for exactly this, so either PXE gets no lease or the booted node
//! loses its management network and its seed. Over an LACP bond the
//! switch must in addition forward on a member that has not negotiated
//! LACP (LACP bypass / fallback). The site files cannot say how the
//! switch is configured, so it is a warning.
//!
//! **What it leaves alone.** The boot address untagged on a NIC or on the
//! LACP bond itself: that is the native-VLAN setup this rule's help
//! recommends. The firmware's untagged frames and the OS's untagged frames
//! are the same network, and the switch's LACP bypass / fallback (which
//! the site cannot express) lets the firmware's single port forward until
//! the bond negotiates. A warning there could not be answered by any site,
//! so `--deny warnings` would forbid a working, common design. Nodes with
//! no `boot-image` are not booted by the service (no iPXE script).
//!
//! **Example.**
//! ```kdl
//! interface bond0 { kind bond; members eno1 eno2; mode "802.3ad"; }
//! interface mgmt0 { kind vlan; link bond0; vlan 100; }
//! address mgmt interface=mgmt0 ipv4=auto   // SC1216 when the site has `boot`
//! interface mgmt1 { kind vlan; link eno3; vlan 100; }   // the same over a plain NIC
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
    if cx.site.boot().is_none() {
        return;
    }
    // The networks Kea serves: a reservation on each is what PXE boots from.
    let dhcp: Vec<&str> = cx
        .site
        .networks
        .iter()
        .filter(|n| n.dhcp())
        .map(|n| n.name.value.as_str())
        .collect();
    // (node, the address's VLAN interface, its parent, whether the parent
    // has an MTU above the network's: a jumbo VLAN rides on it), one list
    // for a parent that is an LACP bond, one for any other parent.
    type Entry<'a> = (&'a str, &'a Sp<String>, String, bool);
    let mut over_lacp: Vec<Entry> = Vec::new();
    let mut over_other: Vec<Entry> = Vec::new();
    for rn in &rs.nodes {
        let s = &rn.settings;
        // Only the nodes the boot service boots get an iPXE script.
        if s.boot_image.is_none() {
            continue;
        }
        let find = |name: &str| s.interfaces.iter().find(|i| i.name.value == name);
        // The first address on a served network that is on a VLAN interface.
        let hit = s
            .addresses
            .iter()
            .filter(|a| dhcp.contains(&a.network.value.as_str()))
            .filter_map(|a| a.interface.as_ref().map(|on| (a, on)))
            .filter_map(|(a, on)| find(&on.value).map(|i| (a, on, i)))
            // Untagged on a NIC or the bond itself is the native-VLAN setup.
            .find(|(_, _, i)| kind(i) == InterfaceKind::Vlan);
        let Some((a, on, iface)) = hit else { continue };
        let Some(parent) = iface.link.as_ref().and_then(|l| find(&l.value)) else {
            continue;
        };
        let lacp = kind(parent) == InterfaceKind::Bond
            && parent
                .bond_mode
                .as_ref()
                .is_some_and(|m| m.value == "802.3ad");
        let node = cx.site.nodes[rn.index].name.value.as_str();
        let net_mtu = cx
            .site
            .network(cx.index, a.network.as_str())
            .map(|n| n.mtu())
            .unwrap_or(1500);
        let jumbo = parent.mtu.as_ref().is_some_and(|m| m.value > net_mtu);
        let entry = (node, on, parent.name.value.clone(), jumbo);
        if lacp {
            over_lacp.push(entry);
        } else {
            over_other.push(entry);
        }
    }
    let others = |more: usize| match more {
        0 => String::new(),
        1 => " (and 1 more node)".to_string(),
        n => format!(" (and {n} more nodes)"),
    };
    // Untagged beside a jumbo VLAN, the network runs at the parent's MTU.
    let jumbo_note = |jumbo: bool, on: &str| {
        if jumbo {
            format!(" (though `{on}`'s MTU is above the network's, for a jumbo VLAN: untagged there the network runs at that MTU, SC0516, a warning, which a NIC of its own avoids)")
        } else {
            String::new()
        }
    };
    if let Some(((node, on, bond, jumbo), more)) = over_lacp.split_first() {
        diags.push(
            Diagnostic::warning(
                Code::BootPxeOverBond,
                format!(
                    "node `{node}`{} has its management (DHCP/PXE) address on VLAN interface `{}` over LACP bond `{bond}`: PXE firmware sends untagged frames from one NIC without LACP, while the booted node tags this network",
                    others(more.len()),
                    on.value
                ),
            )
            .label(on.span, "the node network-boots from here")
            .help(format!("put the management address untagged on `{bond}` itself (`address … interface={bond}`) with the management network as the switch ports' native VLAN and LACP bypass / fallback configured{}, or on a plain NIC; as written the node boots only if the switch carries the management network both untagged and tagged on those ports", jumbo_note(*jumbo, bond))),
        );
    }
    if let Some(((node, on, parent, jumbo), more)) = over_other.split_first() {
        diags.push(
            Diagnostic::warning(
                Code::BootPxeOverBond,
                format!(
                    "node `{node}`{} has its management (DHCP/PXE) address on VLAN interface `{}` over `{parent}`: PXE firmware sends its DHCP untagged from `{parent}`, while the booted node (and cloud-init's network-config) tags this network on the same port",
                    others(more.len()),
                    on.value
                ),
            )
            .label(on.span, "the node network-boots from here, tagged")
            .help(format!("put the management address untagged on `{parent}` itself (`address … interface={parent}`) with the management network as the switch port's native (access) VLAN{}; as written the node boots only if the switch port carries the management network both untagged and tagged", jumbo_note(*jumbo, parent))),
        );
    }
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
                interface eno3 {{ mac "52:54:00:01:01:03"; }}
                interface mgmt1 {{ kind vlan; link eno3; vlan 100; }}
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
        assert!(site(true, "802.3ad", "eno1").is_empty());
        assert!(site(false, "802.3ad", "mgmt0").is_empty());
    }

    #[test]
    fn pxe_over_a_vlan_on_a_plain_nic_or_other_bond_is_a_warning() {
        let m = site(true, "active-backup", "mgmt0");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("VLAN interface `mgmt0` over `bond0`"),
            "{m:?}"
        );
        let m = site(true, "802.3ad", "mgmt1");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("VLAN interface `mgmt1` over `eno3`"), "{m:?}");
        // A node the boot service does not boot (no image) is left alone.
        let text = SITE_NO_IMAGE;
        assert!(check_kdl(text).iter().all(|d| d.code.as_str() != "SC1216"));
    }

    const SITE_NO_IMAGE: &str = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.3"; boot { servers "10.0.0.2"; images-dir "/srv/images"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; } } }
        network mgmt { purpose management; vlan 100; ipv4 "10.0.0.0/24"; }
        rack r01 { height 42; }
        node r01n01 { rack r01; position 1
            interface eno3 { mac "52:54:00:01:01:03"; }
            interface mgmt1 { kind vlan; link eno3; vlan 100; }
            address mgmt interface=mgmt1 ipv4="10.0.0.101" }"#;
}
