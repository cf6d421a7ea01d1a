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
