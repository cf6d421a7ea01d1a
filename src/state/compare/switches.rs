//! A switch's own BGP (SC1020 wrong AS, SC1006 down, SC1010 wrong peer):
//! the AS its summary runs, and the sessions that are not to nodes — its
//! `link`s to other switches (declared on either end; FRR names them by
//! port) and its `bgp-peer`s (named by address) — against the summary
//! given for it. Sessions to nodes are checked with the node ([`super::bgp`]).

use crate::diag::{Code, Diagnostic};
use crate::syntax::Span;

use super::super::input::bgp::BgpSummary;
use super::bgp::{asn_owner, wrong_as_why};
use super::{list_or_none, Declared, Finding, Host};

/// One session a switch's config holds besides its downlinks.
struct Expected<'a> {
    /// How its summary names the neighbour: a port or an address.
    key: String,
    /// `link to r01-spine1 over swp49`, `bgp-peer transit-a at 192.0.2.1`.
    what: String,
    /// The declared far end: a switch's name (to compare FRR's
    /// `hostname`), none for an external peer.
    peer_switch: Option<&'a str>,
    peer_asn: Option<u32>,
    span: Span,
}

fn expected<'a>(d: &Declared<'a>, s: usize) -> Vec<Expected<'a>> {
    let me = d.site.switches[s].name.value.as_str();
    let asn_of = |name: &str| {
        d.site
            .switches
            .iter()
            .find(|x| x.name.value == name)
            .and_then(|x| x.asn.as_ref())
            .map(|a| a.value)
    };
    let mut out: Vec<Expected> = Vec::new();
    for other in &d.site.switches {
        for l in &other.links {
            let (port, peer) = if other.name.value == me {
                (&l.port.value, l.peer.value.as_str())
            } else if l.peer.value == me {
                (&l.peer_port.value, other.name.value.as_str())
            } else {
                continue;
            };
            if out.iter().any(|e| e.key == *port) {
                continue;
            }
            out.push(Expected {
                key: port.clone(),
                what: format!("link to {peer} over {port}"),
                peer_switch: Some(peer),
                peer_asn: asn_of(peer),
                span: l.span,
            });
        }
    }
    for p in &d.site.bgp_peers {
        if !p.switches.iter().any(|w| w.value == me) {
            continue;
        }
        let key = p.address.value.to_string();
        if out.iter().any(|e| e.key == key) {
            continue;
        }
        out.push(Expected {
            what: format!("bgp-peer {} at {key}", p.name.value),
            key,
            peer_switch: None,
            peer_asn: Some(p.asn.value),
            span: p.span,
        });
    }
    out
}

/// `silent[s]`: switch s is reported silent (SC1023), and sessions to it
/// are not reported one by one; `runs[s]`: the AS it runs, from its own
/// summary or its peers' view ([`runs`]).
pub(super) fn check(
    d: &Declared,
    summaries: &[Option<&BgpSummary>],
    silent: &[bool],
    runs: &[Option<(u64, String)>],
    out: &mut Vec<Finding>,
) {
    let mut push = |diag: Diagnostic| out.push(Finding { node: None, diag });
    for (s, sw) in d.site.switches.iter().enumerate() {
        let me = sw.name.value.as_str();
        if let (Some((runs, per)), Some(asn)) = (&runs[s], &sw.asn) {
            if *runs != u64::from(asn.value) {
                let owner = asn_owner(d, *runs, me);
                let per = if summaries[s].is_some() {
                    per.clone()
                } else {
                    format!("{per}, as its peers see it (it has no summary of its own)")
                };
                push(
                    Diagnostic::error(
                        Code::StateBgpWrongAsn,
                        format!("`{me}` runs BGP AS {runs}, declared {}{owner}", asn.value),
                    )
                    .label(asn.span, format!("declared {}", asn.value))
                    .help(format!(
                        "per {per}; {}: deploy the switch's compiled FRR config",
                        wrong_as_why(&owner)
                    )),
                );
            }
        }
        let Some(b) = summaries[s] else { continue };
        let to_silent = |e: &Expected| {
            e.peer_switch
                .and_then(|w| d.site.switches.iter().position(|x| x.name.value == w))
                .is_some_and(|x| silent[x])
        };
        for e in expected(d, s) {
            if b.unreadable.contains(&e.key) {
                continue;
            }
            if to_silent(&e) && b.peer(&e.key).is_some_and(|p| !p.established()) {
                continue;
            }
            let Some(p) = b.peer(&e.key) else {
                push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!("`{me}` has no BGP session: {}", e.what),
                    )
                    .label(e.span, "declared here")
                    .help(format!(
                        "{} has no peer `{}` (it has {}); is the compiled switch FRR config deployed?",
                        b.path,
                        e.key,
                        list_or_none(b.peers.iter().map(|p| p.key.as_str()))
                    )),
                );
                continue;
            };
            if !p.established() {
                push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!("`{me}` BGP session ({}) is {}", e.what, p.state),
                    )
                    .label(e.span, "declared here")
                    .help(format!(
                        "per {}; {}",
                        b.path,
                        if p.state.contains("admin-down") {
                            "the session is shut down by configuration (`neighbor … shutdown`, often left from a maintenance), which the built FRR never writes: remove the shutdown, or deploy the compiled switch FRR config"
                        } else if e.peer_switch.is_some() {
                            "the fabric loses this path: check the link and both switches' FRR"
                        } else {
                            "the site's external reachability over this switch is gone: check the link to the peer, its `remote-as` and password"
                        }
                    )),
                );
                continue;
            }
            if let (Some(want), Some(h)) = (e.peer_switch, &p.hostname) {
                let same = matches!(d.announced(h), Some(Host::Switch(x)) if d.site.switches[x].name.value == want);
                if !same {
                    push(
                        Diagnostic::error(
                            Code::StateBgpWrongPeer,
                            format!(
                                "`{me}` BGP session on {} is established with `{h}`, declared {want}",
                                e.key
                            ),
                        )
                        .label(e.span, format!("declared peer {want}"))
                        .help(format!(
                            "per {}; the port is probably cabled to another switch",
                            b.path
                        )),
                    );
                    continue;
                }
            }
            // A far-end switch whose own summary shows it running that AS
            // is reported there, once.
            let peer_runs = e
                .peer_switch
                .and_then(|w| d.site.switches.iter().position(|x| x.name.value == w))
                .and_then(|x| runs.get(x).cloned().flatten())
                .map(|(a, _)| a);
            if let (Some(got), Some(want)) = (p.remote_as, e.peer_asn) {
                if got != u64::from(want) && peer_runs != Some(got) {
                    let owner = asn_owner(d, got, "");
                    push(
                        Diagnostic::error(
                            Code::StateBgpWrongAsn,
                            format!(
                                "`{me}` BGP session ({}) is established with AS {got}, declared {want}{}",
                                e.what, owner
                            ),
                        )
                        .label(e.span, format!("the peer has AS {want}"))
                        .help(if e.peer_switch.is_some() {
                            format!(
                                "per {}; {}: deploy the compiled FRR configs, or correct the declared ASN",
                                b.path,
                                wrong_as_why(&owner)
                            )
                        } else {
                            format!(
                                "per {}; the compiled config peers with `remote-as {want}`, so the switch runs another config, or the provider's AS changed: deploy the compiled FRR config, or correct the bgp-peer's `asn`",
                                b.path
                            )
                        }),
                    );
                }
            }
        }
    }
}

/// What the rest of the fleet says of one switch's BGP: each session to
/// it that the other end (a node's own summary, another switch's) has
/// configured and that is down, as (who, state, evidence), how many are
/// up, and the AS it answers with on those.
#[derive(Default)]
pub(super) struct PeersView {
    pub(super) sessions: Vec<(String, String, String)>,
    pub(super) established: usize,
    pub(super) remote_as: Vec<(u64, String)>,
}

/// The other ends' view of every switch.
pub(super) fn peers_view(
    d: &Declared,
    per: &[super::NodeObs],
    summaries: &[Option<&BgpSummary>],
) -> Vec<PeersView> {
    let mut out: Vec<PeersView> = (0..d.site.switches.len())
        .map(|_| PeersView::default())
        .collect();
    let index = |name: &str| d.site.switches.iter().position(|x| x.name.value == name);
    let mut add = |s: usize, who: String, p: Option<&super::PeerState>, path: &str| {
        let v = &mut out[s];
        match p {
            Some(p) if p.established() => {
                v.established += 1;
                if let Some(a) = p.remote_as.filter(|a| *a != 0) {
                    v.remote_as.push((a, format!("{path} (peer `{}`)", p.key)));
                }
            }
            Some(p) => v.sessions.push((who, p.state.clone(), path.to_string())),
            // Not configured at the peer: the peer's config is at fault,
            // reported there (SC1006); it says nothing of this switch.
            None => {}
        }
    };
    for (k, o) in per.iter().enumerate() {
        let Some(b) = o.bgp else { continue };
        let nv = &d.eff.nodes[k];
        for sv in &nv.sessions {
            let Some(s) = index(sv.peer) else {
                continue;
            };
            let key = match sv.peer_address {
                Some(a) => Some(a.to_string()),
                None => sv.interface.clone(),
            };
            let Some(key) = key else { continue };
            if b.unreadable.contains(&key) {
                continue;
            }
            add(s, format!("{} {key}", nv.name), b.peer(&key), &b.path);
        }
    }
    for (x, b) in summaries.iter().enumerate() {
        let Some(b) = b else { continue };
        let me = d.site.switches[x].name.value.as_str();
        for e in expected(d, x) {
            let Some(s) = e.peer_switch.and_then(index) else {
                continue;
            };
            if b.unreadable.contains(&e.key) {
                continue;
            }
            add(s, format!("{me} {}", e.key), b.peer(&e.key), &b.path);
        }
    }
    out
}

/// The AS a switch runs as far as it is known: its own summary's, else
/// the one its peers see on the sessions that are up (the most common,
/// then the lowest), with where that was read.
pub(super) fn runs(own: Option<&BgpSummary>, view: &PeersView) -> Option<(u64, String)> {
    if let Some(b) = own {
        return b.local_as.map(|a| (a, b.path.clone()));
    }
    let mut counts: std::collections::BTreeMap<u64, (usize, &str)> = Default::default();
    for (a, ev) in &view.remote_as {
        counts.entry(*a).or_insert((0, ev.as_str())).0 += 1;
    }
    counts
        .iter()
        .max_by_key(|(a, (n, _))| (*n, std::cmp::Reverse(**a)))
        .map(|(a, (_, ev))| (*a, ev.to_string()))
}

/// A switch whose BGP nothing hears: no summary or LLDP dump of its own,
/// and every session to it that its peers' summaries show is down (`heard`:
/// other inputs still show it, e.g. its nodes' LLDP: the links are up,
/// its BGP is not). One finding (SC1023) instead of one per
/// session (SC1006), which would hide the cause.
pub(super) fn silent(d: &Declared, s: usize, view: &PeersView, heard: bool) -> Option<Diagnostic> {
    if view.established > 0 || view.sessions.is_empty() {
        return None;
    }
    let sw = &d.site.switches[s];
    let n = view.sessions.len();
    let shown: Vec<String> = view
        .sessions
        .iter()
        .take(6)
        .map(|(who, state, path)| format!("{who} {state} ({path})"))
        .collect();
    let more = if n > shown.len() {
        format!("; and {} more", n - shown.len())
    } else {
        String::new()
    };
    Some(
        Diagnostic::error(
            Code::StateSwitchSilent,
            format!(
                "switch `{}` is silent: none of the {n} BGP session(s) to it is up, and it has no BGP summary or LLDP dump",
                sw.name.value
            ),
        )
        .label(sw.name.span, "declared here")
        .help(format!(
            "its peers see: {}{more}. {} Its nodes and links run on their other paths, without redundancy. The sessions are not reported one by one",
            shown.join("; "),
            if heard {
                "Its neighbours still hear it over LLDP, so its links are up and its BGP is not: is bgpd (FRR) running, with the compiled config?"
            } else {
                "Nothing else hears it either: is it powered, and is its management reachable?"
            }
        )),
    )
}
