//! Rule `node-required`: what a resolved node must have for its
//! configuration to be rendered.
//!
//! **What it does.** After profiles are merged, reports (SC0005):
//! - an address without `interface`;
//! - a node with BGP sessions but no ASN (neither fixed nor `auto`);
//! - a session with neither `interface` (unnumbered) nor `peer-address`
//!   (numbered);
//! - a switch without `asn` that node sessions go to (reported once per
//!   switch).
//!
//! and (SC0007) a session with both `interface` and `peer-address`, which
//! says two different things about how to reach the switch.
//!
//! **Why it matters.** These are the values the netplan and FRR templates
//! cannot do without; checking them here turns a template error at build
//! time into a pointed message at commit time. They are checked after
//! merging because profiles often supply them.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     address mgmt ipv4=auto                  // SC0005: no interface
//!     bgp { session r01-tor1 interface=eno1; } // SC0005: no asn
//! }
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::{set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "node-required",
    codes: &[Code::MissingField, Code::InvalidValue],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let switches = switch_index(cx.site);
    let mut out = PerNode::new();
    // Switch index → (first session span, number of sessions).
    let mut asn_needed: BTreeMap<usize, (Span, usize)> = BTreeMap::new();
    let gaps = super::Gaps::new(cx);
    for rn in &rs.nodes {
        if gaps.node(cx, &cx.site.nodes[rn.index]) {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.as_str();
        let st = &rn.settings;
        for a in &st.addresses {
            if a.interface.is_some() {
                continue;
            }
            let net = a.network.as_str();
            let note = if a.ipv4.is_some() {
                set_in(rn, &format!("addresses.{net}.ipv4"))
            } else {
                set_in(rn, &format!("addresses.{net}.ipv6"))
            };
            out.push(
                name,
                Diagnostic::error(Code::MissingField, format!("address `{net}` has no `interface`{note}"))
                    .label(a.network.span, "which interface carries it?")
                    .help(format!("write `address {net} interface=eno3 …`: netplan puts an address on an interface")),
            );
        }
        let Some(bgp) = &st.bgp else { continue };
        // An `asn` that is not one is reported as such.
        if bgp.asn.is_none() && !bgp.asn_invalid {
            if let Some(first) = bgp.sessions.first() {
                out.push(
                    name,
                    Diagnostic::error(Code::MissingField, "has BGP sessions but no ASN")
                        .label(first.peer.span, format!("a session needs the node's own ASN{}", set_in(rn, &format!("bgp.sessions.{}", first.peer.value))))
                        .help("write `bgp asn=auto { … }` to allocate one from the site's asn-pool, or give a fixed ASN"),
                );
            }
        }
        // A session to a switch that is not declared (SC0601) may be the
        // misspelt half of one the node completes: `session r01-tor1
        // remote-as=…` on the node, `session r01-tr1 interface=eno1` in
        // its profile. Then a session without a way to the switch is that
        // typo's consequence, not a finding of its own.
        let typo_elsewhere = bgp
            .sessions
            .iter()
            .any(|s| !switches.contains_key(s.peer.as_str()));
        for s in &bgp.sessions {
            let peer = s.peer.as_str();
            match (&s.interface, &s.peer_address) {
                (None, None) if typo_elsewhere => {}
                (None, None) => out.push(
                    name,
                    Diagnostic::error(
                        Code::MissingField,
                        format!("BGP session to `{peer}` has neither `interface` nor `peer-address`{}", set_in(rn, &format!("bgp.sessions.{peer}"))),
                    )
                    .label(s.peer.span, "how is the switch reached?")
                    .help("write `interface=eno1` for an unnumbered session over the cable to the switch, or `peer-address=\"…\"` for a numbered one"),
                ),
                (Some(i), Some(p)) => out.push(
                    name,
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("BGP session to `{peer}` is both unnumbered and numbered{}", set_in(rn, &format!("bgp.sessions.{peer}.peer-address"))),
                    )
                    .label(p.span, "numbered: to this address")
                    .label(i.span, "unnumbered: over this interface")
                    .help("keep one: `interface` for an unnumbered session, or `peer-address` for a numbered one"),
                ),
                _ => {}
            }
            if let Some(&si) = switches.get(peer) {
                let sw = &cx.site.switches[si];
                if sw.asn.is_none() && !sw.asn_invalid {
                    let e = asn_needed.entry(si).or_insert((s.peer.span, 0));
                    e.1 += 1;
                }
            }
        }
    }
    out.finish(diags);
    for (si, (first, count)) in asn_needed {
        let sw = &cx.site.switches[si];
        let sessions = if count == 1 {
            "a BGP session goes".to_string()
        } else {
            format!("{count} BGP sessions go")
        };
        diags.push(
            Diagnostic::error(
                Code::MissingField,
                format!(
                    "switch `{}` has no `asn`, but {sessions} to it",
                    sw.name.value
                ),
            )
            .label(sw.name.span, "no `asn`")
            .label(first, "a session to it")
            .help("add `asn …` to the switch: its end of every session needs it"),
        );
    }
}
