//! Rule `duplicate-ips`: one IP address given to two places.
//!
//! **What it does.** Reports (SC0102) an address that two of these share:
//! node addresses and loopbacks (fixed or allocated, after profiles are
//! merged), switch loopbacks, and network gateways. Both places are
//! shown. A fixed address that a profile gives to every node using it is
//! reported once, at the profile.
//!
//! Not reported here, because another code says it better: an allocated
//! value that collides with another owner's (SC0802/SC0803, from the lock),
//! and a node address equal to the gateway of its own network (SC0303).
//!
//! **Why it matters.** Two hosts answering ARP or neighbour discovery for
//! one address break both, intermittently: the worst kind of outage to
//! debug. BGP would announce one loopback from two places.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { address mgmt interface=eno3 ipv4="10.0.0.40"; }
//! node r01n02 { address mgmt interface=eno3 ipv4="10.0.0.40"; }   // SC0102
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{duplicates, effective, name_list, set_in, Claim};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "duplicate-ips",
    codes: &[Code::DuplicateIp],
    check,
    resolved: true,
};

/// What holds an address.
struct Holder<'a> {
    /// "node `r01n01` (address `mgmt`)".
    who: String,
    /// " (set in profile `compute`)" or "".
    note: String,
    allocated: bool,
    /// The gateway of this network.
    gateway_of: Option<&'a str>,
    /// A node address on this network.
    on_network: Option<&'a str>,
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let mut claims: Vec<(IpAddr, Claim<Holder>)> = Vec::new();
    let mut fixed = |ip: IpAddr, span, who: String, gateway_of| {
        claims.push((
            ip,
            Claim {
                span,
                node: None,
                data: Holder {
                    who,
                    note: String::new(),
                    allocated: false,
                    gateway_of,
                    on_network: None,
                },
            },
        ))
    };
    for n in &site.networks {
        let who = || format!("the gateway of network `{}`", n.name.value);
        if let Some(g) = &n.gateway4 {
            fixed(IpAddr::V4(g.value), g.span, who(), Some(n.name.as_str()));
        }
        if let Some(g) = &n.gateway6 {
            fixed(IpAddr::V6(g.value), g.span, who(), Some(n.name.as_str()));
        }
    }
    for s in &site.switches {
        if let Some(l) = &s.loopback4 {
            fixed(
                IpAddr::V4(l.value),
                l.span,
                format!("switch `{}` (loopback4)", s.name.value),
                None,
            );
        }
        if let Some(l) = &s.loopback6 {
            fixed(
                IpAddr::V6(l.value),
                l.span,
                format!("switch `{}` (loopback6)", s.name.value),
                None,
            );
        }
    }
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        let st = &rn.settings;
        let mut push = |ip: IpAddr, span, allocated, what: String, path: String, on_network| {
            claims.push((
                ip,
                Claim {
                    span,
                    node: Some(rn.index),
                    data: Holder {
                        who: format!("node `{name}` ({what})"),
                        note: set_in(rn, &path),
                        allocated,
                        gateway_of: None,
                        on_network,
                    },
                },
            ))
        };
        for a in &st.addresses {
            let net = a.network.as_str();
            let what = || format!("address `{net}`");
            if let Some(e) = effective(rs, name, || format!("address.{net}.ipv4"), &a.ipv4) {
                push(
                    IpAddr::V4(e.value),
                    e.lock.unwrap_or(e.span),
                    e.allocated,
                    what(),
                    format!("addresses.{net}.ipv4"),
                    Some(net),
                );
            }
            if let Some(e) = effective(rs, name, || format!("address.{net}.ipv6"), &a.ipv6) {
                push(
                    IpAddr::V6(e.value),
                    e.lock.unwrap_or(e.span),
                    e.allocated,
                    what(),
                    format!("addresses.{net}.ipv6"),
                    Some(net),
                );
            }
        }
        if let Some(l) = &st.loopback {
            if let Some(e) = effective(rs, name, || "loopback.ipv4".into(), &l.ipv4) {
                push(
                    IpAddr::V4(e.value),
                    e.lock.unwrap_or(e.span),
                    e.allocated,
                    "loopback".into(),
                    "loopback.ipv4".into(),
                    None,
                );
            }
            if let Some(e) = effective(rs, name, || "loopback.ipv6".into(), &l.ipv6) {
                push(
                    IpAddr::V6(e.value),
                    e.lock.unwrap_or(e.span),
                    e.allocated,
                    "loopback".into(),
                    "loopback.ipv6".into(),
                    None,
                );
            }
        }
    }
    duplicates(
        cx,
        claims,
        diags,
        |diags, ip, group| {
            // Allocated values never share a span's value across nodes.
            if group[0].data.allocated {
                return;
            }
            let nodes: Vec<&str> = group
                .iter()
                .filter_map(|c| c.node.map(|i| site.nodes[i].name.as_str()))
                .collect();
            diags.push(
                Diagnostic::error(
                    Code::DuplicateIp,
                    format!("{ip}{} is given to {} nodes: {}", group[0].data.note, nodes.len(), name_list(nodes.iter().copied(), 5)),
                )
                .label(group[0].span, "one fixed address, inherited by every node that uses this")
                .help("a fixed address belongs to one node: write `auto` here to allocate one per node, or move the address into each node"),
            );
        },
        |diags, ip, first, again| {
            let (f, a) = (&first.data, &again.data);
            if f.allocated || a.allocated {
                // Allocated values only collide with another owner through
                // the lock, which SC0802/SC0803 report; within one node
                // nobody else does.
                if first.node.is_none() || first.node != again.node {
                    return false;
                }
            }
            let gateway_of_own =
                |g: &Holder, h: &Holder| g.gateway_of.is_some() && g.gateway_of == h.on_network;
            if gateway_of_own(f, a) || gateway_of_own(a, f) {
                return false;
            }
            let help = if f.gateway_of.is_some() || a.gateway_of.is_some() {
                "a gateway address belongs to the router; give the other one another address"
            } else {
                "an address belongs to one interface; change one of them, or write `auto` to allocate a free one"
            };
            diags.push(
                Diagnostic::error(
                    Code::DuplicateIp,
                    format!("{ip} is given to both {} and {}", f.who, a.who),
                )
                .label(again.span, format!("used again here{}", a.note))
                .label(first.span, format!("first used here{}", f.note))
                .help(help),
            );
            true
        },
    );
}
