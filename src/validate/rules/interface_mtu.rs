//! Rule `interface-mtu`: an interface MTU larger than its network's.
//!
//! **What it does.** For every address of a resolved node, takes the MTU
//! in effect on the interface carrying it — its own `mtu`, or, for a VLAN
//! interface without one, its parent's (which Linux gives it) — and
//! reports (SC0502) one larger than the network's MTU (1500 unless the
//! network says otherwise). Also reports a VLAN interface whose own MTU is
//! larger than its parent's, which the kernel refuses.
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
use crate::model::{Interface, Network, Sp};
use crate::resolve::ResolvedNode;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "interface-mtu",
    codes: &[Code::MtuExceedsNetwork],
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
            let (Some(own), Some(link)) = (&i.mtu, &i.link) else {
                continue;
            };
            let Some(parent) = interface(rn, link) else {
                continue;
            };
            if mtu_refused(rn, parent) {
                continue;
            }
            let (pmtu, pspan) = match effective_mtu(rn, parent) {
                Some((m, _)) => (m.value, m.span),
                None => (1500, parent.name.span),
            };
            if own.value <= pmtu {
                continue;
            }
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
