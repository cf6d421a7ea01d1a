//! BGP sessions (SC1006 down, SC1010 wrong peer, SC1020 wrong AS): the
//! node's own AS against its summary (else against what its switches
//! see), and every declared session against the node's own BGP summary
//! (missing, not established, established with another switch or another
//! AS), else against the switch's summary.

use crate::diag::{Code, Diagnostic};

use super::super::input::bgp::BgpSummary;
use super::{list_or_none, Declared, Host, NodeObs};

/// Whose ASN `asn` is, for messages: ` (that is r02n05's)`, or nothing.
pub(super) fn asn_owner(d: &Declared, asn: u64, not: &str) -> String {
    let nodes = d
        .eff
        .nodes
        .iter()
        .filter(|n| n.asn.as_ref().is_some_and(|a| u64::from(a.value) == asn))
        .map(|n| n.name);
    let switches = d
        .site
        .switches
        .iter()
        .filter(|s| s.asn.as_ref().is_some_and(|a| u64::from(a.value) == asn))
        .map(|s| s.name.value.as_str());
    let peers = d
        .site
        .bgp_peers
        .iter()
        .filter(|p| u64::from(p.asn.value) == asn)
        .map(|p| p.name.value.as_str());
    let owners: Vec<&str> = nodes
        .chain(switches)
        .chain(peers)
        .filter(|n| *n != not)
        .take(3)
        .collect();
    match owners.as_slice() {
        [] => String::new(),
        [one] => format!(" (that is {one}'s)"),
        many => format!(" (that is the AS of {})", many.join(", ")),
    }
}

/// Whether an unnumbered session is missing from the summary's IPv6
/// unicast family while the summary has that family (so it was gathered
/// with every family): the built FRR activates unnumbered sessions in
/// both, numbered ones only in their address's family.
fn missing_v6(b: &BgpSummary, key: &str) -> bool {
    let v6 = |p: &&super::PeerState| p.family == "ipv6Unicast";
    b.peers.iter().any(|p| v6(&p)) && !b.peers.iter().filter(v6).any(|p| p.key == key)
}

/// The help of a wrong-AS finding: why it matters although the session
/// is up. `owner` is [`asn_owner`]'s text: when no host of the site has
/// that AS, there is no other host to lose routes to.
pub(super) fn wrong_as_why(owner: &str) -> &'static str {
    if owner.is_empty() {
        "the built FRR peers with `remote-as external`, so the sessions come up anyway; but no host of the site has that AS: the host runs another FRR config than the one built, whose neighbours, networks and policy may differ too"
    } else {
        "the built FRR peers with `remote-as external`, so the sessions come up anyway; but an AS that another host runs makes eBGP loop prevention drop the routes between the two, and their loopbacks cannot reach each other"
    }
}

pub(super) fn check(
    d: &Declared,
    k: usize,
    o: &NodeObs,
    fleet: &super::Fleet,
    push: &mut impl FnMut(Diagnostic),
) {
    let nv = &d.eff.nodes[k];
    let name = nv.name;
    // The AS the node runs: its own summary's, else the one its switches
    // see on the sessions that are up.
    let runs = match o.bgp {
        Some(b) => b.local_as.map(|a| (a, b.path.clone())),
        None => o.switch_bgp.values().find_map(|(p, sw, path)| {
            let p = p.filter(|p| p.established())?;
            p.remote_as
                .filter(|a| *a != 0)
                .map(|a| (a, format!("{path} (peer `{}` on {sw})", p.key)))
        }),
    };
    if let (Some((runs, per)), Some(asn)) = (&runs, &nv.asn) {
        if *runs != u64::from(asn.value) {
            let owner = asn_owner(d, *runs, name);
            push(
                Diagnostic::error(
                    Code::StateBgpWrongAsn,
                    format!(
                        "`{name}` runs BGP AS {runs}, {} {}{}",
                        if asn.allocated {
                            "allocated"
                        } else {
                            "declared"
                        },
                        asn.value,
                        owner
                    ),
                )
                .label(
                    asn.span,
                    format!(
                        "{} {}",
                        if asn.allocated {
                            "allocated"
                        } else {
                            "declared"
                        },
                        asn.value
                    ),
                )
                .help(format!(
                    "per {per}; {}: deploy the node's compiled /etc/frr/frr.conf",
                    wrong_as_why(&owner)
                )),
            );
        }
    }
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
        // A switch nothing hears is one finding of its own (SC1023),
        // which names this session among the others.
        let peer_silent = d
            .site
            .switches
            .iter()
            .position(|s| s.name.value == sv.peer)
            .is_some_and(|s| fleet.switch_silent[s]);
        if let (Some(b), Some(key)) = (o.bgp, key.as_deref()) {
            match b.peer(key) {
                // A peer whose state could not be read is reported once,
                // as an input problem (SC1008).
                None if b.unreadable.iter().any(|u| u == key) => reported = true,
                Some(p) if peer_silent && !p.established() => reported = true,
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
                Some(p) if sv.peer_address.is_none() && missing_v6(b, key) => {
                    reported = true;
                    push(
                        Diagnostic::error(
                            Code::StateBgpDown,
                            format!(
                                "`{name}` BGP session to {} {over} is {} in IPv4 unicast but missing from the IPv6 unicast address family",
                                sv.peer, p.state
                            ),
                        )
                        .label(span, "declared here")
                        .help(format!(
                            "per {}; the built FRR activates this unnumbered session (peer-group TOR) in `address-family ipv6 unicast` too: without it no IPv6 route (the IPv6 loopbacks) is exchanged over it, so IPv6 between the node and the fabric does not go through {}; deploy the node's compiled /etc/frr/frr.conf",
                            b.path, sv.peer
                        )),
                    );
                }
                Some(p) => {
                    let mut wrong_peer = false;
                    if let Some(h) = &p.hostname {
                        let same = matches!(d.announced(h), Some(Host::Switch(s)) if d.eff.switches[s].name == sv.peer);
                        if !same {
                            wrong_peer = true;
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
                    // The far end's AS, unless the far end is another
                    // switch (reported above) or the switch runs that AS
                    // (its own summary says so, or all its peers see it):
                    // reported once, at the switch.
                    let switch_runs = d
                        .site
                        .switches
                        .iter()
                        .position(|s| s.name.value == sv.peer)
                        .and_then(|s| fleet.switch_runs.get(s).cloned().flatten())
                        .map(|(a, _)| a);
                    if let (false, Some(got), Some(want)) = (wrong_peer, p.remote_as, sv.peer_asn) {
                        if got != u64::from(want) && switch_runs != Some(got) {
                            let owner = asn_owner(d, got, sv.peer);
                            push(
                                Diagnostic::error(
                                    Code::StateBgpWrongAsn,
                                    format!(
                                        "`{name}` BGP session to {} {over} is established with AS {got}, declared {want} ({}'s){}",
                                        sv.peer,
                                        sv.peer,
                                        owner
                                    ),
                                )
                                .label(span, format!("{} has AS {want}", sv.peer))
                                .help(format!(
                                    "per {}; {}: deploy {}'s compiled FRR config, or correct its `asn`",
                                    b.path,
                                    wrong_as_why(&owner),
                                    sv.peer
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
