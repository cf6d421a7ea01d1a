//! Cabling (SC1002), from either end: the switch port LLDP shows a
//! declared interface on (heard by the node or by the switch), against its
//! declared `switch`/`port`; and interfaces cabled to a switch that the
//! node does not declare at all.

use crate::diag::{Code, Diagnostic};
use crate::model::Interface;
use crate::syntax::Span;

use super::{join_ev, port_text, Declared, NodeObs};

pub(super) fn check(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.eff.nodes[k];
    let node = d.node(k);
    let name = nv.name;
    for (&j, seen) in &o.cabling {
        let iface = d.iface(k, j);
        let iv = &nv.interfaces[j];
        let declared = iface.switch.as_ref().map(|s| {
            (
                s.value.clone(),
                iface.port.as_ref().map(|p| p.value.clone()),
            )
        });
        for (at, ev) in seen {
            let ok = match &declared {
                Some((sw, port)) => {
                    *sw == at.0 && (at.1.is_none() || port.is_none() || *port == at.1)
                }
                None => false,
            };
            if ok {
                continue;
            }
            let want = match &declared {
                Some((sw, Some(p))) => format!("{sw} {p}"),
                Some((sw, None)) => sw.clone(),
                None => "not cabled".to_string(),
            };
            // The other end's LLDP, from another file, shows the
            // interface where it is declared: the two sides disagree, and
            // moving the cable on one side's word could break a good link.
            let agreeing = seen.iter().find(|(other, oev)| {
                *other != at
                    && declared.as_ref().is_some_and(|(sw, port)| {
                        *sw == other.0 && (other.1.is_none() || port.is_none() || *port == other.1)
                    })
                    && oev.iter().any(|e| !ev.contains(e))
            });
            if let Some((_, oev)) = agreeing {
                let from_node = |e: &Vec<String>| e.iter().any(|p| o.lldp_path == Some(p.as_str()));
                let (this_side, other_side) = if from_node(ev) {
                    ("the node's LLDP", "the switch's LLDP (by the NIC's MAC)")
                } else {
                    ("the switch's LLDP", "the node's LLDP")
                };
                push(
                    Diagnostic::warning(
                        Code::StateMiscabled,
                        format!(
                            "LLDP disagrees about `{name}` {}: {this_side} shows {}, {other_side} shows the declared {want}",
                            iv.name,
                            port_text(at)
                        ),
                    )
                    .label(cabling_span(iface), format!("declared {want}"))
                    .help(format!(
                        "{} shows {}; {} shows {want}. The declaration agrees with {other_side}: the cable is probably right. Check lldpd on the side that disagrees (a stale neighbour, a port named by its description) before moving anything",
                        join_ev(ev),
                        port_text(at),
                        join_ev(oev)
                    )),
                );
                continue;
            }
            push(
                Diagnostic::error(
                    Code::StateMiscabled,
                    format!(
                        "`{name}` {} is cabled to {}, declared {want}",
                        iv.name,
                        port_text(at)
                    ),
                )
                .label(cabling_span(iface), format!("declared {want}"))
                .help(format!(
                    "LLDP in {} shows it on {}; move the cable or fix the declaration",
                    join_ev(ev),
                    port_text(at)
                )),
            );
        }
    }
    for (local, seen) in &o.undeclared {
        for (at, ev) in seen {
            push(
                Diagnostic::warning(
                    Code::StateMiscabled,
                    format!(
                        "`{name}` has an undeclared interface `{local}` cabled to {}",
                        port_text(at)
                    ),
                )
                .label(
                    node.name.span,
                    "no interface `".to_string() + local + "` here",
                )
                .help(format!(
                    "seen in {}; declare the interface with its cabling, or unplug it",
                    join_ev(ev)
                )),
            );
        }
    }
}

/// Where the cabling of an interface is declared: its `switch`/`port`
/// fields, else the interface.
fn cabling_span(i: &Interface) -> Span {
    match (&i.switch, &i.port) {
        (Some(s), Some(p)) if s.span.file == p.span.file => s.span.to(p.span),
        (Some(s), _) => s.span,
        _ => i.span,
    }
}

/// An interface (index) LLDP shows on another port: (switch, port).
type Moved = (usize, (String, String));

/// The interfaces LLDP shows on another port than declared (both ends
/// agreeing): (interface index, the port seen).
fn mismatches(d: &Declared, k: usize, o: &NodeObs) -> Vec<Moved> {
    let mut out = Vec::new();
    for (&j, seen) in &o.cabling {
        let iface = d.iface(k, j);
        let (Some(sw), Some(port)) = (&iface.switch, &iface.port) else {
            continue;
        };
        if seen
            .keys()
            .any(|(s, p)| *s == sw.value && p.as_deref() == Some(port.value.as_str()))
        {
            // Some side shows it where declared: not a plain move.
            continue;
        }
        for (s, p) in seen.keys() {
            if let Some(p) = p {
                out.push((j, (s.clone(), p.clone())));
            }
        }
    }
    out
}

/// Two machines in each other's place (a slot swap): every interface of
/// each that LLDP shows elsewhere is on a port the other declares, two or
/// more each. Reported as one finding per pair instead of one "move the
/// cable" per interface; returns the pairs (node indices) and their
/// findings.
pub(super) fn swaps(d: &Declared, per: &[NodeObs]) -> Vec<((usize, usize), Diagnostic)> {
    use std::collections::{BTreeMap, HashMap};
    let mut owner: HashMap<(&str, &str), usize> = HashMap::new();
    for (k, rn) in d.resolved.nodes.iter().enumerate() {
        for i in &rn.settings.interfaces {
            if let (Some(s), Some(p)) = (&i.switch, &i.port) {
                owner.insert((s.value.as_str(), p.value.as_str()), k);
            }
        }
    }
    // Node → (the one node its moved interfaces all sit at, how many).
    let mut at: BTreeMap<usize, (usize, Vec<Moved>)> = BTreeMap::new();
    for (k, o) in per.iter().enumerate() {
        let m = mismatches(d, k, o);
        if m.len() < 2 {
            continue;
        }
        let others: Vec<Option<usize>> = m
            .iter()
            .map(|(_, (s, p))| owner.get(&(s.as_str(), p.as_str())).copied())
            .collect();
        if let Some(Some(other)) = others.first() {
            if *other != k && others.iter().all(|x| *x == Some(*other)) {
                at.insert(k, (*other, m));
            }
        }
    }
    let mut out = Vec::new();
    for (&a, (b, ma)) in &at {
        let Some((back, mb)) = at.get(b) else {
            continue;
        };
        if *back != a || a > *b {
            continue;
        }
        let (na, nb) = (d.eff.nodes[a].name, d.eff.nodes[*b].name);
        let list = |k: usize, m: &[Moved]| {
            m.iter()
                .map(|(j, (s, p))| format!("{} on {s} {p}", d.iface(k, *j).name.value))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push((
            (a, *b),
            Diagnostic::error(
                Code::StateMiscabled,
                format!(
                    "`{na}` and `{nb}` appear swapped: LLDP shows each on the ports the other is declared on"
                ),
            )
            .label(d.node(a).name.span, format!("`{na}`"))
            .label(d.node(*b).name.span, format!("`{nb}`"))
            .help(format!(
                "`{na}`: {}; `{nb}`: {}. The two machines are in each other's place (or their declarations are): swap them back, or swap their placement and cabling in the site; re-patching cable by cable is not the fix",
                list(a, ma),
                list(*b, mb)
            )),
        ));
    }
    out
}
