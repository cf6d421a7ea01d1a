//! `site/fabric.json`: the routing fabric in machine-readable form: every
//! device that speaks BGP (nodes and switches with an AS number), each
//! node's sessions, and every switch-to-switch link once. The BGP interop
//! test cables namespaces from it; monitoring can check sessions against it.
//! Node cabling is in the nodes' sessions, so `links` holds only links
//! between switches (a port appears in one place only).

use std::collections::BTreeSet;

use serde::Serialize;

use super::context::SiteView;
use crate::output::{Artifact, Owner};

pub const FABRIC_PATH: &str = "site/fabric.json";

#[derive(Serialize)]
struct Fabric<'a> {
    nodes: Vec<Node<'a>>,
    switches: Vec<Device<'a>>,
    links: Vec<Link<'a>>,
    peers: Vec<Peer<'a>>,
}

/// An external peer and, per switch holding it, where it is reached. Its
/// ASN is left to the switches' configs: a change of it then stays in the
/// files that hold the peer's secret (see `siteconf diff`).
#[derive(Serialize)]
struct Peer<'a> {
    name: &'a str,
    address: &'a str,
    multihop: Option<u32>,
    sessions: Vec<PeerSession<'a>>,
}

#[derive(Serialize)]
struct PeerSession<'a> {
    switch: &'a str,
    /// The switch's routed port on the peer's subnet (single-hop peers).
    port: Option<&'a str>,
    /// That port's address with its prefix length: the switch's end.
    address: Option<&'a str>,
}

#[derive(Serialize)]
struct Device<'a> {
    name: &'a str,
    role: Option<&'a str>,
    rack: Option<&'a str>,
    asn: Option<u32>,
    loopback4: Option<&'a str>,
    loopback6: Option<&'a str>,
}

#[derive(Serialize)]
struct Node<'a> {
    #[serde(flatten)]
    device: Device<'a>,
    sessions: Vec<Session<'a>>,
}

#[derive(Serialize)]
struct Session<'a> {
    interface: Option<&'a str>,
    peer: &'a str,
    peer_port: Option<&'a str>,
    mode: &'a str,
    /// Numbered sessions: `connected` (routed switch port) or `fabric`
    /// (loopback to loopback, `hops` links apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_address: Option<&'a str>,
    /// Connected sessions: the node's address on the link, with its length.
    #[serde(skip_serializing_if = "Option::is_none")]
    local_cidr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hops: Option<u32>,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Link<'a> {
    a: &'a str,
    a_port: &'a str,
    b: &'a str,
    b_port: &'a str,
}

/// Devices, sessions and peers are sorted by name (a name is unique in a
/// site), so the order of declarations in the site files never changes the
/// file: reordering node blocks must not read, in `siteconf diff`, like
/// every ASN and loopback changing.
pub fn fabric(site: &SiteView) -> Artifact {
    let mut nodes: Vec<Node> = site
        .nodes
        .iter()
        .filter(|n| n.asn.is_some())
        .map(|n| Node {
            device: Device {
                name: &n.name,
                role: n.role.as_deref(),
                rack: n.rack.as_deref(),
                asn: n.asn,
                loopback4: n.loopback4.as_deref(),
                loopback6: n.loopback6.as_deref(),
            },
            sessions: sorted_sessions(
                n.sessions
                    .iter()
                    .map(|s| Session {
                        interface: s.interface.as_deref(),
                        peer: &s.peer,
                        peer_port: s.peer_port.as_deref(),
                        mode: s.mode,
                        path: s.path,
                        peer_address: s.peer_address.as_deref(),
                        local_address: s.local_address.as_deref().filter(|_| s.path.is_some()),
                        local_cidr: s.local_cidr.as_deref(),
                        hops: s.hops,
                    })
                    .collect(),
            ),
        })
        .collect();
    nodes.sort_by(|a, b| a.device.name.cmp(b.device.name));
    let mut switches: Vec<Device> = site
        .switches
        .iter()
        .filter(|s| s.asn.is_some())
        .map(|s| Device {
            name: &s.name,
            role: Some(s.role),
            rack: s.rack.as_deref(),
            asn: s.asn,
            loopback4: s.loopback4.as_deref(),
            loopback6: s.loopback6.as_deref(),
        })
        .collect();
    switches.sort_by(|a, b| a.name.cmp(b.name));
    // A link is listed by both its ends: keep it once, with the ends in
    // name order.
    let mut links = BTreeSet::new();
    for s in &site.switches {
        for l in &s.links {
            let (a, b) = (
                (s.name.as_str(), l.port.as_str()),
                (l.peer.as_str(), l.peer_port.as_str()),
            );
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            links.insert(Link {
                a: a.0,
                a_port: a.1,
                b: b.0,
                b_port: b.1,
            });
        }
    }
    let mut peers: Vec<Peer> = site
        .bgp_peers
        .iter()
        .map(|p| Peer {
            name: &p.name,
            address: &p.address,
            multihop: p.multihop,
            sessions: {
                let mut v: Vec<PeerSession> = site
                    .switches
                    .iter()
                    .flat_map(|s| s.peers.iter().map(move |v| (s, v)))
                    .filter(|(_, v)| v.name == p.name)
                    .map(|(s, v)| PeerSession {
                        switch: &s.name,
                        port: v.port.as_deref(),
                        address: v.port.as_deref().and_then(|port| {
                            let i = s.interfaces.iter().find(|i| i.port == port)?;
                            i.ipv4
                                .iter()
                                .chain(i.ipv6.iter())
                                .find(|a| same_subnet(a, &p.address))
                                .map(String::as_str)
                        }),
                    })
                    .collect();
                v.sort_by(|a, b| (a.switch, a.port).cmp(&(b.switch, b.port)));
                v
            },
        })
        .collect();
    peers.sort_by(|a, b| a.name.cmp(b.name));
    let f = Fabric {
        nodes,
        switches,
        links: links.into_iter().collect(),
        peers,
    };
    let mut bytes = serde_json::to_vec_pretty(&f).unwrap_or_default();
    bytes.push(b'\n');
    Artifact {
        path: FABRIC_PATH.to_string(),
        bytes,
        mode: 0o644,
        owner: Owner::Site,
        kind: "fabric".to_string(),
        secret: false,
    }
}

/// A node's sessions in a stable order: by peer, then interface and
/// addresses (the order they are declared in, or inherited from profiles,
/// is not the fabric's business).
fn sorted_sessions(mut v: Vec<Session>) -> Vec<Session> {
    v.sort_by(|a, b| {
        (a.peer, a.interface, a.peer_address, a.local_address, a.mode).cmp(&(
            b.peer,
            b.interface,
            b.peer_address,
            b.local_address,
            b.mode,
        ))
    });
    v
}

/// Whether `addr` lies in the subnet of the interface address `cidr`.
fn same_subnet(cidr: &str, addr: &str) -> bool {
    match (
        cidr.parse::<ipnet::IpNet>(),
        addr.parse::<std::net::IpAddr>(),
    ) {
        (Ok(net), Ok(ip)) => net.contains(&ip),
        _ => false,
    }
}
