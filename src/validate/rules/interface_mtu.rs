//! Rule `interface-mtu`: an interface MTU larger than its network's.
//!
//! **What it does.** For every address of a resolved node, takes the MTU
//! in effect on the interface carrying it — its own `mtu`, or, for a VLAN
//! interface without one, its parent's (which Linux gives it) — and
//! reports (SC0502) one larger than the network's MTU (1500 unless the
//! network says otherwise). Also reports a VLAN interface whose MTU is
//! larger than its parent's, which the kernel refuses: its own, or the
//! largest of its networks' when it has none (siteconf writes that into
//! netplan when it is not 1500), against the parent's own, else its
//! networks', else 1500.
//!
//! One case is a warning instead (SC0516): a network carried *untagged*
//! on an interface (not a VLAN interface) whose MTU is only as large as a
//! VLAN interface over it needs — management native on a bond, for PXE
//! (SC1216's advice), with a jumbo storage VLAN on the same bond. The
//! kernel gives the untagged network the interface's MTU and cannot give
//! it less (a VLAN above its parent's MTU is refused), so the design has
//! no other spelling but a VLAN interface of its own for that network.
//! What goes wrong is narrow: TCP works (each end announces an MSS from
//! its own MTU, so peers on the 1500 network cap the node's segments),
//! while UDP and ICMP datagrams above the network's MTU to on-link peers
//! are dropped by the switch or the peer, with no ICMP back (through the
//! gateway, path MTU discovery caps them). netplan could set a per-route
//! `mtu`, but not on the kernel's own prefix route of the address, so
//! siteconf renders it as written and says what remains true. The warning
//! can be answered: the network on a NIC of its own (as `siteconf init`
//! lays out management) has its own MTU.
//!
//! **Why it matters.** The switches forward frames up to the network's
//! MTU: a host sending larger frames sees small packets work and large
//! transfers hang, the classic jumbo-frame outage. A VLAN on a jumbo
//! parent inherits the jumbo MTU unless told otherwise.
//!
//! **Example.**
//! ```kdl
//! network storage { purpose storage; vlan 300; ipv4 "10.3.0.0/22"; }   // MTU 1500
//! node r01n01 {
//!     interface eno1 { mtu 9000; }
//!     interface eno1.300 { kind vlan; link eno1; vlan 300; }   // SC0502: inherits 9000
//!     address storage interface=eno1.300 ipv4=auto
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Interface, InterfaceKind, Network, Sp};
use crate::resolve::ResolvedNode;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "interface-mtu",
    codes: &[Code::MtuExceedsNetwork, Code::JumboVlanOverNative],
    check,
    resolved: true,
};

/// A VLAN of a VLAN of … is walked this far at most; deeper chains (or a
/// VLAN that is its own parent) are not real configurations.
const MAX_DEPTH: usize = 8;

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        for a in &rn.settings.addresses {
            let (Some(ifname), Some(net)) =
                (&a.interface, cx.site.network(cx.index, a.network.as_str()))
            else {
                continue;
            };
            let Some(i) = interface(rn, ifname) else {
                continue;
            };
            // An MTU that was refused (SC0015) is not compared: the
            // network's would read as the default 1500.
            if net.mtu_invalid || mtu_refused(rn, i) {
                continue;
            }
            let Some((mtu, from)) = effective_mtu(rn, i) else {
                continue;
            };
            if mtu.value <= net.mtu() {
                continue;
            }
            let note = set_in(rn, &format!("interfaces.{}.mtu", from.name.value));
            if std::ptr::eq(from, i) {
                if let Some((vlan, need)) = jumbo_vlan_over(cx, rn, i, mtu.value) {
                    let (nspan, nlabel) = network_mtu(net);
                    out.push(
                        name,
                        Diagnostic::warning(
                            Code::JumboVlanOverNative,
                            format!(
                                "network `{net}` (MTU {nm}) is carried untagged on `{i}`, whose MTU {m} is there for VLAN interface `{vlan}` (MTU {need}) over it: the node sends frames up to {m} bytes on `{net}`; TCP works (peers announce an MSS from their MTU), but UDP and ICMP datagrams above {nm} to hosts on `{net}` are dropped with no error back{note}",
                                net = net.name.value,
                                nm = net.mtu(),
                                i = i.name.value,
                                m = mtu.value,
                            ),
                        )
                        .label(ifname.span, format!("`{}` untagged on `{}`", net.name.value, i.name.value))
                        .label(mtu.span, format!("MTU {}, for `{vlan}`", mtu.value))
                        .label(nspan, nlabel)
                        .help(format!(
                            "to give `{net}` its own MTU and keep jumbo frames, carry it on an interface without the jumbo VLAN (a NIC of its own), or on a VLAN interface of its own over `{i}` (for PXE the switch must then carry it both untagged and tagged, SC1216); or accept this: only large UDP/ICMP on `{net}` is affected",
                            net = net.name.value,
                            i = i.name.value
                        )),
                    );
                    continue;
                }
            }
            let (message, help) = if std::ptr::eq(from, i) {
                (
                    format!(
                        "interface `{}` has MTU {}, larger than the MTU {} of network `{}` it carries{note}",
                        i.name.value, mtu.value, net.mtu(), net.name.value
                    ),
                    format!(
                        "lower the interface's MTU to {}, or raise the network's `mtu` if its switches really take {}-byte frames",
                        net.mtu(), mtu.value
                    ),
                )
            } else {
                (
                    format!(
                        "VLAN interface `{}` inherits MTU {} from `{}`, larger than the MTU {} of network `{}` it carries{note}",
                        i.name.value, mtu.value, from.name.value, net.mtu(), net.name.value
                    ),
                    format!(
                        "set `mtu {}` on `{}`: a VLAN interface without an MTU takes its parent's",
                        net.mtu(), i.name.value
                    ),
                )
            };
            let (nspan, nlabel) = network_mtu(net);
            out.push(
                name,
                Diagnostic::error(Code::MtuExceedsNetwork, message)
                    .label(mtu.span, format!("MTU {}", mtu.value))
                    .label(nspan, nlabel)
                    .help(help),
            );
        }
        for i in &rn.settings.interfaces {
            let Some(link) = &i.link else { continue };
            let Some(parent) = interface(rn, link) else {
                continue;
            };
            if mtu_refused(rn, parent) || (i.mtu.is_none() && i.mtu_invalid) {
                continue;
            }
            // The MTU siteconf writes for the VLAN: its own, else the
            // largest of its networks' (netplan gets an `mtu` unless 1500;
            // without one the kernel gives it the parent's, which is fine).
            let (own, own_span, from_net) = match &i.mtu {
                Some(m) => (m.value, m.span, None),
                None => match networks_mtu(cx, rn, i) {
                    Some((m, span, net)) if m > 1500 => (m, span, Some(net)),
                    _ => continue,
                },
            };
            // The parent's as rendered: its own (or its parent's), else its
            // networks', else 1500.
            let (pmtu, pspan) = match effective_mtu(rn, parent) {
                Some((m, _)) => (m.value, m.span),
                None => networks_mtu(cx, rn, parent)
                    .map(|(m, span, _)| (m, span))
                    .filter(|(m, _)| *m > 1500)
                    .unwrap_or((1500, parent.name.span)),
            };
            if own <= pmtu {
                continue;
            }
            if let Some(net) = from_net {
                out.push(
                    name,
                    Diagnostic::error(
                        Code::MtuExceedsNetwork,
                        format!(
                            "VLAN interface `{}` gets MTU {own} from network `{net}` it carries (siteconf writes it into netplan), larger than the MTU {pmtu} of its parent `{}`: the kernel refuses it, so the VLAN stays at {pmtu} and the network's large frames are not sent{}",
                            i.name.value,
                            parent.name.value,
                            set_in(rn, &format!("interfaces.{}.mtu", parent.name.value))
                        ),
                    )
                    .label(i.name.span, format!("MTU {own}, from `{net}`"))
                    .label(own_span, format!("network `{net}` has MTU {own}"))
                    .label(pspan, format!("`{}` has MTU {pmtu}", parent.name.value))
                    .help(format!(
                        "give `{}` `mtu {own}` (a network carried untagged on it then runs at that MTU: SC0516), or lower the network's `mtu`",
                        parent.name.value
                    )),
                );
                continue;
            }
            let own = Sp::new(own, own_span);
            out.push(
                name,
                Diagnostic::error(
                    Code::MtuExceedsNetwork,
                    format!(
                        "VLAN interface `{}` has MTU {}, larger than the MTU {pmtu} of its parent `{}`{}",
                        i.name.value,
                        own.value,
                        parent.name.value,
                        set_in(rn, &format!("interfaces.{}.mtu", i.name.value))
                    ),
                )
                .label(own.span, format!("MTU {}", own.value))
                .label(pspan, format!("`{}` has MTU {pmtu}", parent.name.value))
                .help(format!(
                    "the kernel refuses a VLAN MTU above its parent's: raise `{}` to at least {}, or lower this one",
                    parent.name.value, own.value
                )),
            );
        }
    }
    out.finish(diags);
}

/// The largest MTU of the networks an interface carries, with the span
/// that sets it and the network's name.
fn networks_mtu<'a>(
    cx: &'a Ctx,
    rn: &'a ResolvedNode,
    i: &Interface,
) -> Option<(u16, Span, &'a str)> {
    rn.settings
        .addresses
        .iter()
        .filter(|a| {
            a.interface
                .as_ref()
                .is_some_and(|x| x.value == i.name.value)
        })
        .filter_map(|a| cx.site.network(cx.index, a.network.as_str()))
        .filter(|n| !n.mtu_invalid)
        .map(|n| (n.mtu(), network_mtu(n).0, n.name.as_str()))
        .max_by_key(|(m, _, _)| *m)
}

/// A VLAN interface over `i` that needs at least `mtu` (its own MTU, else
/// the largest of the networks it carries, as it is rendered): then `i`'s
/// MTU is there for that VLAN, not for the network `i` carries untagged.
/// `i` itself must not be a VLAN interface (its network is then tagged).
fn jumbo_vlan_over<'a>(
    cx: &Ctx,
    rn: &'a ResolvedNode,
    i: &Interface,
    mtu: u16,
) -> Option<(&'a str, u16)> {
    if i.kind.as_ref().map(|k| k.value) == Some(InterfaceKind::Vlan) || i.link.is_some() {
        return None;
    }
    rn.settings
        .interfaces
        .iter()
        .filter(|o| o.link.as_ref().is_some_and(|l| l.value == i.name.value))
        .filter_map(|o| {
            let need = o
                .mtu
                .as_ref()
                .map(|m| m.value)
                .or_else(|| networks_mtu(cx, rn, o).map(|(m, _, _)| m))?;
            (need >= mtu).then_some((o.name.as_str(), need))
        })
        .max_by_key(|&(_, need)| need)
}

/// Whether the MTU in effect on an interface is one that was refused
/// (SC0015) — its own, or the parent's a VLAN without one would take: then
/// rules comparing MTUs stay quiet rather than take 1500 for it.
pub(super) fn mtu_refused(rn: &ResolvedNode, i: &Interface) -> bool {
    let mut cur = i;
    for _ in 0..MAX_DEPTH {
        if cur.mtu.is_some() {
            return false;
        }
        if cur.mtu_invalid {
            return true;
        }
        let Some(next) = cur.link.as_ref().and_then(|l| interface(rn, l)) else {
            return false;
        };
        cur = next;
    }
    false
}

/// The MTU in effect on an interface and the interface that sets it.
pub(super) fn effective_mtu<'a>(
    rn: &'a ResolvedNode,
    i: &'a Interface,
) -> Option<(&'a Sp<u16>, &'a Interface)> {
    let mut cur = i;
    for _ in 0..MAX_DEPTH {
        if let Some(m) = &cur.mtu {
            return Some((m, cur));
        }
        cur = interface(rn, cur.link.as_ref()?)?;
    }
    None
}

fn network_mtu(net: &Network) -> (Span, String) {
    match &net.mtu {
        Some(m) => (
            m.span,
            format!("network `{}` has MTU {}", net.name.value, m.value),
        ),
        None => (
            net.name.span,
            format!("network `{}` has MTU 1500 (the default)", net.name.value),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    /// Management untagged on eno1, a storage VLAN over it.
    fn site(eno1: &str, vlan: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/22"; }}
network storage {{ purpose storage; vlan 200; ipv4 "10.1.0.0/22"; mtu 9000; }}
rack r01 {{ height 42; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; {eno1} }}
    interface storage0 {{ kind vlan; link eno1; vlan 200; {vlan} }}
    address mgmt interface=eno1 ipv4="10.0.0.41"
    address storage interface=storage0 ipv4="10.1.0.41"
}}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| *c == "SC0502" || *c == "SC0516")
            .collect()
    }

    #[test]
    fn native_network_under_a_jumbo_vlan_is_a_warning() {
        // The parent's 9000 is there for the VLAN (inherited or its own).
        assert_eq!(site("mtu 9000;", ""), ["SC0516"]);
        assert_eq!(site("mtu 9000;", "mtu 9000;"), ["SC0516"]);
        // More than the VLAN needs: the parent's MTU is the mistake.
        assert_eq!(site("mtu 9216;", "mtu 9000;"), ["SC0502"]);
        // The VLAN above its parent's: the kernel refuses it.
        assert_eq!(site("", "mtu 9000;"), ["SC0502"]);
        // No MTU on the VLAN: siteconf writes its network's 9000, which
        // the kernel refuses above the parent's 1500.
        assert_eq!(site("", ""), ["SC0502"]);
    }
}
