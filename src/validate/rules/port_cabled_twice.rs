//! Rule `port-cabled-twice`: two cables in one switch port.
//!
//! **What it does.** Reports (SC0501) a switch port that two interfaces —
//! of any nodes, after profiles are merged — or a node interface and a
//! switch-to-switch link are cabled to. Both are shown. A link written on
//! both of its switches is one cable, not two. A `switch` and `port`
//! written in a profile, and so given to every node using it, is reported
//! once at the profile.
//!
//! **Why it matters.** A port takes one cable. Usually one of the two is a
//! copy-paste of the node above with the port number not bumped: the
//! switch configuration and the LLDP comparison would be wrong for both.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { interface eno1 { switch r01-tor1; port swp1; } }
//! node r01n02 { interface eno1 { switch r01-tor1; port swp1; } }   // SC0501
//! ```

use std::collections::HashSet;

use super::super::{Ctx, Rule};
use super::{duplicates, name_list, set_in, switch_index, Claim};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "port-cabled-twice",
    codes: &[Code::PortCabledTwice],
    check,
    resolved: true,
};

/// A switch port: (switch, port).
type Port<'a> = (&'a str, &'a str);

/// What is cabled to a port; described only when reported.
enum Holder<'a> {
    Node {
        rn: &'a ResolvedNode,
        node: &'a str,
        interface: &'a str,
    },
    Link {
        from: Port<'a>,
        to: Port<'a>,
    },
}

impl Holder<'_> {
    fn who(&self) -> String {
        match self {
            Holder::Node {
                node, interface, ..
            } => format!("`{node}` {interface}"),
            Holder::Link { from, to } => {
                format!("the link `{}` {} → `{}` {}", from.0, from.1, to.0, to.1)
            }
        }
    }
    fn note(&self) -> String {
        match self {
            Holder::Node { rn, interface, .. } => {
                set_in(rn, &format!("interfaces.{interface}.port"))
            }
            Holder::Link { .. } => String::new(),
        }
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let switches = switch_index(site);
    let mut claims: Vec<(Port, Claim<Holder>)> = Vec::new();
    if let Some(rs) = cx.resolved {
        for rn in &rs.nodes {
            let name = site.nodes[rn.index].name.as_str();
            for i in &rn.settings.interfaces {
                let (Some(sw), Some(port)) = (&i.switch, &i.port) else {
                    continue;
                };
                // Unknown switches are SC0202's.
                if !switches.contains_key(sw.as_str()) {
                    continue;
                }
                claims.push((
                    (sw.as_str(), port.as_str()),
                    Claim {
                        span: port.span,
                        node: Some(rn.index),
                        data: Holder::Node {
                            rn,
                            node: name,
                            interface: i.name.as_str(),
                        },
                    },
                ));
            }
        }
    }
    // Each cable once: a link may be written on both of its switches.
    let mut cables: HashSet<(Port, Port)> = HashSet::new();
    for sw in &site.switches {
        for l in &sw.links {
            if !switches.contains_key(l.peer.as_str()) {
                continue;
            }
            let a = (sw.name.as_str(), l.port.as_str());
            let b = (l.peer.as_str(), l.peer_port.as_str());
            let cable = if a <= b { (a, b) } else { (b, a) };
            if !cables.insert(cable) {
                continue;
            }
            let link = |from, to| Holder::Link { from, to };
            claims.push((
                a,
                Claim {
                    span: l.port.span,
                    node: None,
                    data: link(a, b),
                },
            ));
            claims.push((
                b,
                Claim {
                    span: l.peer_port.span,
                    node: None,
                    data: link(a, b),
                },
            ));
        }
    }
    duplicates(
        cx,
        claims,
        diags,
        |diags, (sw, port), group| {
            let nodes: Vec<&str> = group
                .iter()
                .filter_map(|c| c.node.map(|i| site.nodes[i].name.as_str()))
                .collect();
            diags.push(
                Diagnostic::error(
                    Code::PortCabledTwice,
                    format!(
                        "port `{port}` of switch `{sw}`{} is given to {} nodes: {}",
                        group[0].data.note(),
                        nodes.len(),
                        name_list(nodes.iter().copied(), 5)
                    ),
                )
                .label(group[0].span, "one port, inherited by every node that uses this")
                .help("a port takes one cable: write `switch` and `port` on each node, not in a shared profile"),
            );
        },
        |diags, (sw, port), first, again| {
            diags.push(
                Diagnostic::error(
                    Code::PortCabledTwice,
                    format!(
                        "port `{port}` of switch `{sw}` is cabled to both {} and {}",
                        first.data.who(), again.data.who()
                    ),
                )
                .label(again.span, format!("cabled again here{}", again.data.note()))
                .label(first.span, format!("first cabled here{}", first.data.note()))
                .help("a port takes one cable; one of these is probably a copy of the other with the port not changed"),
            );
            true
        },
    );
}
