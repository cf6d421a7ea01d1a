//! Rule `untagged-vlans`: one untagged interface carrying several VLANs.
//!
//! **What it does.** On every resolved node, reports (SC0511) an
//! interface that is not a VLAN interface (an ethernet or a bond) carrying
//! addresses of networks that declare different `vlan` ids. Networks
//! without a `vlan` are left out (siteconf does not know their segment),
//! and so is an interface carrying one VLAN, however many networks of it.
//!
//! **Why it matters.** Frames of an interface that is not a VLAN
//! interface go out untagged; the switch port puts them on its one access
//! (or native) VLAN. Addresses of the other VLANs are configured on the
//! host and unreachable: nothing on their segment ever sees them.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; vlan 100; ipv4 "10.0.0.0/16"; }
//! network svc { purpose storage; vlan 300; ipv4 "10.2.0.0/16"; }
//! node r01n01 {
//!     address mgmt interface=eno3 ipv4=auto
//!     address svc interface=eno3 ipv4=auto    // SC0511: use a VLAN interface
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Address, InterfaceKind, Network};

pub static RULE: Rule = Rule {
    name: "untagged-vlans",
    codes: &[Code::UntaggedVlans],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let st = &rn.settings;
        for i in &st.interfaces {
            if i.kind_invalid || i.kind.as_ref().map(|k| k.value) == Some(InterfaceKind::Vlan) {
                continue;
            }
            // The first address on it of a network with a VLAN id.
            let mut first: Option<(&Address, &Network, u16)> = None;
            for a in &st.addresses {
                if a.interface.as_ref().map(|n| n.as_str()) != Some(i.name.as_str()) {
                    continue;
                }
                let Some(net) = cx.site.network(cx.index, a.network.as_str()) else {
                    continue;
                };
                let Some(v) = &net.vlan else { continue };
                let Some((fa, fnet, fv)) = first else {
                    first = Some((a, net, v.value));
                    continue;
                };
                if fv == v.value {
                    continue;
                }
                let ifname = i.name.as_str();
                let span = a.interface.as_ref().map(|n| n.span).unwrap_or(a.span);
                let fspan = fa.interface.as_ref().map(|n| n.span).unwrap_or(fa.span);
                out.push(
                    name,
                    Diagnostic::error(
                        Code::UntaggedVlans,
                        format!(
                            "interface `{ifname}` is not a VLAN interface but carries network `{}` (VLAN {}) and network `{}` (VLAN {}){}",
                            fnet.name.value,
                            fv,
                            net.name.value,
                            v.value,
                            set_in(rn, &format!("addresses.{}.interface", net.name.value))
                        ),
                    )
                    .label(span, format!("`{}` is VLAN {}, untagged here", net.name.value, v.value))
                    .label(fspan, format!("`{}` is VLAN {}", fnet.name.value, fv))
                    .help(format!(
                        "`{ifname}` sends untagged frames, which its switch port puts on one VLAN: the other network is unreachable. Use a VLAN interface: `interface {ifname}.{v} {{ kind vlan; link {ifname}; vlan {v}; }}` and `address {} interface={ifname}.{v} …`, with the switch port tagging VLAN {v}",
                        net.name.value,
                        v = v.value
                    )),
                );
                break;
            }
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(svc: &str) -> String {
        format!(
            r#"
site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network mgmt {{ purpose management; vlan 100; ipv4 "10.0.0.0/16"; }}
network svc {{ purpose storage; {svc} ipv4 "10.2.0.0/16"; }}
rack r01 {{ height 42; }}
node r01n01 {{
    rack r01; position 3
    interface eno3 {{ mac "52:54:00:01:01:03"; }}
    address mgmt interface=eno3 ipv4=auto
    address svc interface=eno3 ipv4=auto
}}
"#
        )
    }

    #[test]
    fn two_vlans_untagged_on_one_port_are_refused() {
        assert!(codes(&site("vlan 300;")).contains(&"SC0511"));
    }

    #[test]
    fn one_vlan_or_networks_without_an_id_are_quiet() {
        assert!(!codes(&site("vlan 100;")).contains(&"SC0511"));
        assert!(!codes(&site("")).contains(&"SC0511"));
    }
}
