//! BGP sessions (SC1006 down, SC1010 wrong peer): every declared session
//! against the node's own BGP summary (missing, not established, or
//! established with another switch), else against the switch's summary.

use crate::diag::{Code, Diagnostic};

use super::{list_or_none, Declared, Host, NodeObs};

pub(super) fn check(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.eff.nodes[k];
    let name = nv.name;
    for (i, sv) in nv.sessions.iter().enumerate() {
        let span = sv.decl.span;
        // A summary names an unnumbered neighbour by interface, a
        // numbered one by address.
        let key = match sv.peer_address {
            Some(a) => Some(a.to_string()),
            None => sv.interface.clone(),
        };
        let over = match (&sv.interface, &sv.peer_address) {
            (_, Some(a)) => format!("at {a}"),
            (Some(i), None) => format!("over {i}"),
            (None, None) => String::new(),
        };
        let mut reported = false;
        if let (Some(b), Some(key)) = (o.bgp, key.as_deref()) {
            match b.peer(key) {
                None => {
                    reported = true;
                    push(
                        Diagnostic::error(
                            Code::StateBgpDown,
                            format!(
                                "`{name}` has no BGP session to {} {over}",
                                sv.peer
                            ),
                        )
                        .label(span, "declared here")
                        .help(format!(
                            "{} has no peer `{key}` (it has {}); is the compiled FRR config deployed?",
                            b.path,
                            list_or_none(b.peers.iter().map(|p| p.key.as_str()))
                        )),
                    );
                }
                Some(p) if !p.established() => {
                    reported = true;
                    push(
                        Diagnostic::error(
                            Code::StateBgpDown,
                            format!("`{name}` BGP session to {} {over} is {}", sv.peer, p.state),
                        )
                        .label(span, "declared here")
                        .help(format!("per {}", b.path)),
                    );
                }
                Some(p) => {
                    if let Some(h) = &p.hostname {
                        let same = matches!(d.announced(h), Some(Host::Switch(s)) if d.eff.switches[s].name == sv.peer);
                        if !same {
                            reported = true;
                            push(
                                Diagnostic::error(
                                    Code::StateBgpWrongPeer,
                                    format!(
                                        "`{name}` BGP session {over} is established with `{h}`, declared {}",
                                        sv.peer
                                    ),
                                )
                                .label(span, format!("declared peer {}", sv.peer))
                                .help(format!(
                                    "per {}; the interface is probably cabled to the wrong switch",
                                    b.path
                                )),
                            );
                        }
                    }
                }
            }
        }
        if reported {
            continue;
        }
        if let Some((p, sw, path)) = o.switch_bgp.get(&i) {
            match p {
                Some(p) if p.established() => {}
                Some(p) => push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!(
                            "`{name}` BGP session to {} {over} is {} on the switch",
                            sv.peer, p.state
                        ),
                    )
                    .label(span, "declared here")
                    .help(format!("per {path} (peer `{}` on {sw})", p.key)),
                ),
                None => push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!(
                            "`{name}` BGP session to {} {over} is not configured on the switch",
                            sv.peer
                        ),
                    )
                    .label(span, "declared here")
                    .help(format!(
                        "{path} has no peer for port {}; is the compiled switch config deployed?",
                        sv.peer_port.as_deref().unwrap_or("?")
                    )),
                ),
            }
        }
    }
}
