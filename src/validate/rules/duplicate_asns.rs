//! Rule `duplicate-asns`: two devices with one AS number.
//!
//! **What it does.** Reports (SC0104) a node or switch whose ASN another
//! node or switch already has; both are shown. A fixed ASN written in a
//! profile, and so given to every node using it, is reported once at the
//! profile. External BGP peers are not compared: their ASNs belong to
//! someone else. Spine switches may share one ASN with each other (the
//! usual Clos design, RFC 7938 §5.2.1), but not with anything else.
//!
//! Allocated ASNs that collide through the lock file are reported there
//! (SC0802/SC0803).
//!
//! **Why it matters.** In routing on the host every node and every ToR is
//! its own AS; BGP drops routes whose AS path already contains its own
//! ASN, so two devices with one ASN cannot learn each other's routes.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { asn 4200000001; … }
//! node r01n01 { bgp asn=4200000001 { … } }   // SC0104
//! ```

use super::super::{Ctx, Rule};
use super::{duplicates, name_list, set_in, Claim};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SwitchRole;
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "duplicate-asns",
    codes: &[Code::DuplicateAsn],
    check,
    resolved: true,
};

/// What holds an ASN; described only when reported.
#[derive(Clone, Copy)]
enum Holder<'a> {
    Switch {
        name: &'a str,
        spine: bool,
    },
    Node {
        rn: &'a ResolvedNode,
        name: &'a str,
        allocated: bool,
    },
}

impl Holder<'_> {
    fn who(&self) -> String {
        match self {
            Holder::Switch { name, .. } => format!("switch `{name}`"),
            Holder::Node { name, .. } => format!("node `{name}`"),
        }
    }
    fn note(&self) -> String {
        match self {
            Holder::Node { rn, .. } => set_in(rn, "bgp.asn"),
            Holder::Switch { .. } => String::new(),
        }
    }
    fn allocated(&self) -> bool {
        matches!(
            self,
            Holder::Node {
                allocated: true,
                ..
            }
        )
    }
    fn spine(&self) -> bool {
        matches!(self, Holder::Switch { spine: true, .. })
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let mut claims: Vec<(u32, Claim<Holder>)> =
        Vec::with_capacity(site.nodes.len() + site.switches.len());
    // A switch declared twice is SC0101's: only the first counts.
    for (i, s) in site.switches.iter().enumerate() {
        if cx.index.switches.get(s.name.as_str()) != Some(&i) {
            continue;
        }
        if let Some(a) = &s.asn {
            claims.push((
                a.value,
                Claim {
                    span: a.span,
                    node: None,
                    data: Holder::Switch {
                        name: s.name.as_str(),
                        spine: s.role.value == SwitchRole::Spine,
                    },
                },
            ));
        }
    }
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        if let Some(e) = rs.value(name, crate::resolve::AllocKey::Asn, &bgp.asn) {
            claims.push((
                e.value,
                Claim {
                    span: e.span,
                    node: Some(rn.index),
                    data: Holder::Node {
                        rn,
                        name,
                        allocated: e.allocated,
                    },
                },
            ));
        }
    }
    duplicates(
        cx,
        claims,
        diags,
        |diags, asn, group| {
            if group[0].data.allocated() {
                return;
            }
            let nodes: Vec<&str> = group
                .iter()
                .filter_map(|c| c.node.map(|i| site.nodes[i].name.as_str()))
                .collect();
            diags.push(
                Diagnostic::error(
                    Code::DuplicateAsn,
                    format!(
                        "ASN {asn}{} is given to {} nodes: {}",
                        group[0].data.note(),
                        nodes.len(),
                        name_list(nodes.iter().copied(), 5)
                    ),
                )
                .label(group[0].span, "one fixed ASN, inherited by every node that uses this")
                .help("each node is its own AS in routing on the host: write `asn auto` here to allocate one per node from the site's asn-pool"),
            );
        },
        |diags, asn, first, again| {
            let (f, a) = (&first.data, &again.data);
            // Allocated ASNs collide only through the lock (SC0802/SC0803).
            if f.allocated() || a.allocated() || (f.spine() && a.spine()) {
                return false;
            }
            diags.push(
                Diagnostic::error(
                    Code::DuplicateAsn,
                    format!("ASN {asn} is given to both {} and {}", f.who(), a.who()),
                )
                .label(again.span, format!("used again here{}", a.note()))
                .label(first.span, format!("first used here{}", f.note()))
                .help("BGP drops routes whose AS path holds its own ASN, so these two could not learn each other's routes; give one its own ASN (`asn auto` on nodes)"),
            );
            true
        },
    );
}
