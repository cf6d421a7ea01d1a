//! A switch's own BGP (SC1020 wrong AS, SC1006 down, SC1010 wrong peer):
//! the AS its summary runs, and the sessions that are not to nodes — its
//! `link`s to other switches (declared on either end; FRR names them by
//! port) and its `bgp-peer`s (named by address) — against the summary
//! given for it. Sessions to nodes are checked with the node ([`super::bgp`]).

use crate::diag::{Code, Diagnostic};
use crate::syntax::Span;

use super::super::input::bgp::BgpSummary;
use super::bgp::{asn_owner, WRONG_AS_WHY};
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

pub(super) fn check(d: &Declared, summaries: &[Option<&BgpSummary>], out: &mut Vec<Finding>) {
    let mut push = |diag: Diagnostic| out.push(Finding { node: None, diag });
    for (s, b) in summaries.iter().enumerate() {
        let Some(b) = b else { continue };
        let sw = &d.site.switches[s];
        let me = sw.name.value.as_str();
        if let (Some(runs), Some(asn)) = (b.local_as, &sw.asn) {
            if runs != u64::from(asn.value) {
                push(
                    Diagnostic::error(
                        Code::StateBgpWrongAsn,
                        format!(
                            "`{me}` runs BGP AS {runs}, declared {}{}",
                            asn.value,
                            asn_owner(d, runs, me)
                        ),
                    )
                    .label(asn.span, format!("declared {}", asn.value))
                    .help(format!(
                        "per {}; {WRONG_AS_WHY}: deploy the switch's compiled FRR config",
                        b.path
                    )),
                );
            }
        }
        for e in expected(d, s) {
            if b.unreadable.contains(&e.key) {
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
                        if e.peer_switch.is_some() {
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
                .and_then(|x| summaries.get(x).copied().flatten())
                .and_then(|b| b.local_as);
            if let (Some(got), Some(want)) = (p.remote_as, e.peer_asn) {
                if got != u64::from(want) && peer_runs != Some(got) {
                    push(
                        Diagnostic::error(
                            Code::StateBgpWrongAsn,
                            format!(
                                "`{me}` BGP session ({}) is established with AS {got}, declared {want}{}",
                                e.what,
                                asn_owner(d, got, "")
                            ),
                        )
                        .label(e.span, format!("the peer has AS {want}"))
                        .help(if e.peer_switch.is_some() {
                            format!(
                                "per {}; {WRONG_AS_WHY}: deploy the compiled FRR configs, or correct the declared ASN",
                                b.path
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
