//! Rule `boot-no-dhcp`: nodes the site boots over the network whose
//! management network Kea does not serve.
//!
//! **What it does.** When the site has a boot service, reports (SC1223,
//! an error) each management network with `dhcp #false` that holds the
//! management address of nodes with a `boot-image` in effect and none of
//! whose other addresses is on a network Kea serves. One finding per
//! network, at its `dhcp` value, naming a few nodes and counting them.
//!
//! **Why it matters.** The build writes a Kea reservation, and with it the
//! node's iPXE script, only for an address on a network with `dhcp` on:
//! Kea has no subnet for the others. Those nodes asked for network boot
//! (`boot-image`) and get nothing: no lease for their PXE firmware, no
//! script, so they fall through to the local disk or stop. The build says
//! nothing of it.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/24"; dhcp #false; }   // SC1223 when nodes have a boot-image
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Purpose;

pub static RULE: Rule = Rule {
    name: "boot-no-dhcp",
    codes: &[Code::BootNoDhcp],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    if cx.site.boot().is_none() {
        return;
    }
    // Per network (by index), the nodes it strands, in site order.
    let mut stranded: Vec<(usize, Vec<&str>)> = Vec::new();
    for rn in &rs.nodes {
        let s = &rn.settings;
        if s.boot_image.is_none() {
            continue;
        }
        let net = |name: &str| cx.index.networks.get(name).copied();
        let served = s
            .addresses
            .iter()
            .filter_map(|a| net(&a.network.value))
            .any(|i| cx.site.networks[i].dhcp());
        if served {
            continue;
        }
        let Some(mgmt) = s
            .addresses
            .iter()
            .filter_map(|a| net(&a.network.value))
            .find(|&i| cx.site.networks[i].purpose.value == Purpose::Management)
        else {
            continue;
        };
        let node = cx.site.nodes[rn.index].name.value.as_str();
        match stranded.iter_mut().find(|(i, _)| *i == mgmt) {
            Some((_, v)) => v.push(node),
            None => stranded.push((mgmt, vec![node])),
        }
    }
    for (i, nodes) in stranded {
        let n = &cx.site.networks[i];
        let count = match nodes.len() {
            1 => "1 node".to_string(),
            k => format!("{k} nodes"),
        };
        let mut d = Diagnostic::error(
            Code::BootNoDhcp,
            format!(
                "network `{}` has `dhcp #false`, but it holds the management address of {count} with a `boot-image` ({}): Kea gets no subnet for it, so the build writes no reservation and no iPXE script for them and none of them can network-boot",
                n.name.value,
                super::name_list(nodes.iter().copied(), 3)
            ),
        );
        d = match &n.dhcp {
            Some(v) => d.label(
                v.span,
                format!(
                    "Kea does not serve `{}`, the nodes' management network",
                    n.name.value
                ),
            ),
            None => d.label(n.name.span, "Kea does not serve this network"),
        };
        diags.push(d.help(format!(
            "remove `dhcp #false` from network `{}` (Kea then reserves each node's management address for its MAC), or take `boot-image` away from nodes that are not booted over the network",
            n.name.value
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn site(dhcp: &str, image: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; images-dir "/srv/images"; image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; {dhcp} }}
            rack r01 {{ height 42; }}
            node r01n01 {{ rack r01; position 1; {image}
                interface eno1 {{ mac "52:54:00:01:01:01"; }}
                address mgmt interface=eno1 ipv4="10.0.0.101" }}
            node r01n02 {{ rack r01; position 2; {image}
                interface eno1 {{ mac "52:54:00:01:01:02"; }}
                address mgmt interface=eno1 ipv4="10.0.0.102" }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1223")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn booted_nodes_need_dhcp_on_their_management_network() {
        let m = site("dhcp #false", "boot-image debian");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("2 nodes") && m[0].contains("r01n01"), "{m:?}");
        assert!(site("", "boot-image debian").is_empty());
        assert!(site("dhcp #true", "boot-image debian").is_empty());
        // Nodes not booted over the network are left alone.
        assert!(site("dhcp #false", "").is_empty());
    }
}
