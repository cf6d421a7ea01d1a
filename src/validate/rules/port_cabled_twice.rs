//! Rule `port-cabled-twice`: two cables in one switch port.
//!
//! **What it does.** Reports (SC0501) a switch port that two interfaces —
//! of any nodes, after profiles are merged — or a node interface and a
//! switch-to-switch link are cabled to. Both are shown. A link written on
//! both of its switches is one cable, not two; a link to a port its
//! switch does not declare is SC0203's finding and claims no port here. A
//! `switch` and `port`
//! written in a profile, and so given to every node using it, is reported
//! once at the profile.
//!
//! It also reports (SC0501) a node interface cabled to a *routed* port of
//! the switch (`interface swp51 { address … }`, the transit port of the
//! external peers) when the node has no address on that port's subnet:
//! the port would be both a server port and a routed port. A node with an
//! address on the port's subnet (a numbered session on a connected /31)
//! is the routed port's one neighbour, and fine.
//!
//! **Why it matters.** A port takes one cable. Usually one of the two is a
//! copy-paste of the node above with the port number not bumped: the
//! switch configuration and the LLDP comparison would be wrong for both.
//! A server on a routed port gets `interface swp51` twice in frr.conf,
//! and the transit link loses its port.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { interface eno1 { switch r01-tor1; port swp1; } }
//! node r01n02 { interface eno1 { switch r01-tor1; port swp1; } }   // SC0501
//! ```

use std::collections::HashSet;
use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{address_key, duplicates, name_list, set_in, switch_index, Claim, FxMap, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SwitchInterface;
use crate::resolve::{IpFamily, Resolved, ResolvedNode};

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
    routed_ports(cx, diags);
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
    let ports: Vec<super::FxSet<&str>> = site
        .switches
        .iter()
        .map(|s| s.ports.iter().map(|p| p.as_str()).collect())
        .collect();
    let declares = |sw: usize, port: &str| ports[sw].contains(port);
    for (si, sw) in site.switches.iter().enumerate() {
        for l in &sw.links {
            let Some(&pi) = switches.get(l.peer.as_str()) else {
                continue;
            };
            // A link to a port its switch does not have is SC0203's one
            // finding: its other end, written correctly on the peer, is
            // not a second cable on this port.
            if !declares(si, &l.port) || !declares(pi, &l.peer_port) {
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

/// Node interfaces cabled to a routed port of their switch, by a node with
/// no address on that port's subnet.
fn routed_ports(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let switches = switch_index(site);
    // (switch, port) → the routed port, first declaration (SC0203 and the
    // like report the rest).
    let mut routed: FxMap<(&str, &str), &SwitchInterface> = FxMap::default();
    for sw in &site.switches {
        for i in &sw.interfaces {
            routed
                .entry((sw.name.as_str(), i.port.as_str()))
                .or_insert(i);
        }
    }
    if routed.is_empty() {
        return;
    }
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        let mut addrs: Option<Vec<IpAddr>> = None;
        for i in &rn.settings.interfaces {
            let (Some(sw), Some(port)) = (&i.switch, &i.port) else {
                continue;
            };
            if !switches.contains_key(sw.as_str()) {
                continue;
            }
            let Some(ri) = routed.get(&(sw.as_str(), port.as_str())) else {
                continue;
            };
            // A port whose address did not parse is reported as such.
            if !ri.complete {
                continue;
            }
            let addrs = addrs.get_or_insert_with(|| node_addresses(cx, rs, name, rn));
            let on_link = addrs
                .iter()
                .any(|ip| ri.addresses.iter().any(|a| a.value.contains(ip)));
            if on_link {
                continue;
            }
            let subnets: Vec<String> = ri
                .addresses
                .iter()
                .map(|a| a.value.trunc().to_string())
                .collect();
            out.push(
                name,
                Diagnostic::error(
                    Code::PortCabledTwice,
                    format!(
                        "{} is cabled to port `{}` of switch `{}`, which is a routed port{}",
                        i.name.value,
                        port.value,
                        sw.value,
                        set_in(rn, &format!("interfaces.{}.port", i.name.value))
                    ),
                )
                .label(port.span, "cabled here")
                .label(ri.port.span, format!("`{}` routes this port ({})", sw.value, subnets.join(", ")))
                .help("a routed port (`interface PORT address=…` on the switch) takes only the link to its subnet; cable the node to a free port, or give it an address on the port's subnet if it is that link"),
            );
        }
    }
    out.finish(diags);
}

/// The node's addresses in effect.
fn node_addresses(cx: &Ctx, rs: &Resolved, name: &str, rn: &ResolvedNode) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for a in &rn.settings.addresses {
        let net = a.network.as_str();
        if cx.site.network(cx.index, net).is_none() {
            continue;
        }
        if let Some(e) = rs.value(name, address_key(net, IpFamily::V4), &a.ipv4) {
            out.push(IpAddr::V4(e.value));
        }
        if let Some(e) = rs.value(name, address_key(net, IpFamily::V6), &a.ipv6) {
            out.push(IpAddr::V6(e.value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(node: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network p2p {{ purpose other; ipv4 "10.254.0.0/24"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{
    rack r01; position 42; ports "swp1-56"
    interface swp51 {{ address "192.0.2.2/29"; }}
    interface swp2 address="10.254.0.0/31"
}}
node r01n01 {{ rack r01; position 3; {node} }}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0501").count()
    }

    #[test]
    fn node_on_a_routed_port() {
        let eno1 = |port: &str| {
            format!(
                r#"interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port {port}; }}"#
            )
        };
        assert_eq!(site(&eno1("swp1")), 0);
        assert_eq!(site(&eno1("swp51")), 1);
        // On the port's /31 with an address of its own: that link.
        let on_link = format!(
            r#"{} address p2p interface=eno1 ipv4="10.254.0.1""#,
            eno1("swp2")
        );
        assert_eq!(site(&on_link), 0);
        assert_eq!(site(&eno1("swp2")), 1);
    }
}
