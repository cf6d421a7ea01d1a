//! MACs (SC1003) and interfaces missing on the host (SC1011): the MAC a
//! declared interface has on the host (fact cache) or on the wire (LLDP),
//! against its declared `mac`; and a declared interface the host does not
//! have (or has under another name, found by its MAC).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::model::{Interface, InterfaceKind, Mac};
use crate::syntax::Span;

use super::{join_ev, list_or_none, push_ev, Declared, NodeObs};

pub(super) fn check(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    let rn = d.rn(k);
    let name = d.eff.nodes[k].name;
    let mut macs: BTreeMap<usize, BTreeMap<Mac, Vec<String>>> = o.macs.clone();
    if let Some(f) = o.facts {
        for (j, iface) in rn.settings.interfaces.iter().enumerate() {
            let Some(want) = iface.mac.as_ref().map(|m| m.value) else {
                continue;
            };
            match f.interfaces.iter().find(|x| x.name == iface.name.value) {
                Some(fi) => {
                    if let Some(m) = fi.mac.filter(|m| *m != want) {
                        push_ev(macs.entry(j).or_default().entry(m).or_default(), &f.path);
                    }
                }
                None => {
                    if iface.kind.as_ref().map(|k| k.value) != Some(InterfaceKind::Ethernet)
                        && iface.kind.is_some()
                    {
                        continue;
                    }
                    match f.interfaces.iter().find(|x| x.mac == Some(want)) {
                        Some(other) => push(
                            Diagnostic::warning(
                                Code::StateInterfaceMissing,
                                format!(
                                    "`{name}` interface {} ({want}) is called `{}` on the host",
                                    iface.name.value, other.name
                                ),
                            )
                            .label(iface.name.span, "declared name")
                            .help(format!(
                                "per {}; rename the interface in the site, or pin the name on the host (udev/systemd .link)",
                                f.path
                            )),
                        ),
                        None => push(
                            Diagnostic::error(
                                Code::StateInterfaceMissing,
                                format!(
                                    "`{name}` has no interface {} ({want})",
                                    iface.name.value
                                ),
                            )
                            .label(iface.name.span, "declared here")
                            .help(format!(
                                "{} lists {}",
                                f.path,
                                list_or_none(f.interfaces.iter().map(|i| i.name.as_str()))
                            )),
                        ),
                    }
                }
            }
        }
    }
    named_leases(d, k, o, push);
    for (j, seen) in &macs {
        let iface = d.iface(k, *j);
        let Some(want) = iface.mac.as_ref() else {
            continue;
        };
        for (m, ev) in seen {
            // The MAC another interface is declared with: swapped cables or
            // two machines' records mixed up, not a new NIC.
            let (cause, other) = match d.mac_owner(*m).filter(|&(k2, j2)| (k2, j2) != (k, *j)) {
                Some((k2, j2)) => {
                    let other = d.iface(k2, j2);
                    let whose = if k2 == k {
                        format!("this node's own {}", other.name.value)
                    } else {
                        format!("`{}` {}", d.eff.nodes[k2].name, other.name.value)
                    };
                    (format!("it is the MAC declared for {whose}: swapped cables, or the two records mixed up?"), Some(other))
                }
                None => ("a replaced NIC or swapped cables?".to_string(), None),
            };
            let mut diag = Diagnostic::error(
                Code::StateMacMismatch,
                format!(
                    "`{name}` {} has MAC {m}, declared {}",
                    iface.name.value, want.value
                ),
            )
            .label(mac_span(iface), format!("declared {}", want.value));
            if let Some(o) = other {
                diag = diag.label(mac_span(o), format!("{m} is declared here"));
            }
            push(diag.help(format!(
                "seen in {}; {cause} DHCP reservations and netplan match on the declared MAC",
                join_ev(ev)
            )));
        }
    }
}

/// A lease naming the node from a MAC none of its interfaces declares.
/// Labelled at the declared MAC of the interface whose network holds the
/// leased address (the NIC that was swapped), else at the node.
fn named_leases(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.eff.nodes[k];
    let rn = d.rn(k);
    for (m, lease, ev) in &o.named_leases {
        let iface = nv
            .addresses
            .iter()
            .filter(|a| a.ipv4_net().is_some_and(|n| n.contains(&lease.address)))
            .find_map(|a| a.interface)
            .and_then(|i| rn.settings.interfaces.iter().find(|x| x.name.value == i));
        let (what, span, label) = match iface {
            Some(i) => (
                format!("{} ", i.name.value),
                mac_span(i),
                match &i.mac {
                    Some(w) => format!("declared {}", w.value),
                    None => "declared without a MAC".to_string(),
                },
            ),
            None => (String::new(), d.node(k).name.span, "this node".to_string()),
        };
        push(
            Diagnostic::error(
                Code::StateMacMismatch,
                format!(
                    "`{}` {what}took DHCP lease {} from MAC {m}, which none of its interfaces declares",
                    nv.name, lease.address
                ),
            )
            .label(span, label)
            .help(format!(
                "{ev}: the client calls itself `{}`; a swapped NIC or a MAC typo, not a new machine. Kea's reservation and netplan match on the declared MAC, so the node got a pool address instead of its own: correct the `mac` in the site (or the NIC)",
                lease.hostname.as_deref().unwrap_or_default()
            )),
        );
    }
}

fn mac_span(i: &Interface) -> Span {
    i.mac.as_ref().map(|m| m.span).unwrap_or(i.span)
}
