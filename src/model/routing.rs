//! How a BGP session reaches its far end, decided once from the declared
//! site so that `check` (which reports what is missing) and rendering (which
//! writes `update-source`, multihop and interface addresses on both ends)
//! can never disagree.
//!
//! A node's *numbered* session goes to an address of its switch:
//!
//! - **connected**: the address of a switch `interface` (a routed port)
//!   that a node interface is cabled to, with a node address in the same
//!   subnet: an ordinary single-hop session from that node address;
//! - **over the fabric**: the switch's loopback. Nothing routes to a
//!   loopback by itself: the node learns it over its *unnumbered* sessions
//!   (the fabric announces every loopback), and the switch learns the
//!   node's loopback the same way. The session is then sourced from the
//!   node's loopback (`update-source`) and is as many hops long as the
//!   shortest path node → first switch → … → the peer switch over declared
//!   switch-to-switch links.
//!
//! An external peer (`bgp-peer`) is single-hop: its address must sit on the
//! subnet of an `interface` of every switch holding it, unless the peer
//! declares `multihop N`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

use ipnet::IpNet;

use super::{Interface, InterfaceKind, Site, Sp, Switch, SwitchInterface};

/// The switch interface whose address *is* `ip`.
pub fn switch_port_address(sw: &Switch, ip: IpAddr) -> Option<(&SwitchInterface, &Sp<IpNet>)> {
    sw.interfaces.iter().find_map(|i| {
        i.addresses
            .iter()
            .find(|a| a.value.addr() == ip)
            .map(|a| (i, a))
    })
}

/// The switch interface whose subnet holds `ip` (and is not `ip` itself).
pub fn switch_subnet_of(sw: &Switch, ip: IpAddr) -> Option<(&SwitchInterface, &Sp<IpNet>)> {
    sw.interfaces.iter().find_map(|i| {
        i.addresses
            .iter()
            .find(|a| a.value.addr() != ip && a.value.contains(&ip))
            .map(|a| (i, a))
    })
}

/// The switch's own address of the family of `ip` to source a multihop
/// session from: its loopback.
pub fn switch_loopback(sw: &Switch, ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(_) => sw.loopback4.as_ref().map(|l| IpAddr::V4(l.value)),
        IpAddr::V6(_) => sw.loopback6.as_ref().map(|l| IpAddr::V6(l.value)),
    }
}

/// Switch-to-switch links as an undirected graph (a link declared at one
/// end only still counts), for shortest paths between switches; and the
/// prefixes of the `loopback` networks, the only host routes the fabric's
/// route-maps carry.
#[derive(Debug, Default)]
pub struct FabricGraph<'a> {
    adj: BTreeMap<&'a str, BTreeSet<&'a str>>,
    pub announced: Vec<IpNet>,
}

impl<'a> FabricGraph<'a> {
    pub fn new(site: &'a Site) -> FabricGraph<'a> {
        let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for s in &site.switches {
            for l in &s.links {
                adj.entry(s.name.as_str())
                    .or_default()
                    .insert(l.peer.as_str());
                adj.entry(l.peer.as_str())
                    .or_default()
                    .insert(s.name.as_str());
            }
        }
        FabricGraph {
            adj,
            announced: loopback_prefixes(site),
        }
    }

    /// Links on the shortest path from any of `from` to `to` (0 when `to`
    /// is one of them); `None` when no declared link leads there.
    pub fn distance(&self, from: &[&str], to: &str) -> Option<u32> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue: VecDeque<(&str, u32)> = VecDeque::new();
        for f in from {
            if seen.insert(f) {
                queue.push_back((f, 0));
            }
        }
        while let Some((at, d)) = queue.pop_front() {
            if at == to {
                return Some(d);
            }
            for next in self.adj.get(at).into_iter().flatten() {
                if seen.insert(next) {
                    queue.push_back((next, d + 1));
                }
            }
        }
        None
    }
}

/// VLAN on a bond on members is three steps; anything deeper is not real.
const MAX_DEPTH: usize = 8;

/// The (switch, port) pairs an interface of a node is cabled to: its own
/// cable, its bond members' cables, its VLAN parent's.
pub fn cabled_ports<'a>(ifaces: &'a [Interface], name: &str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    walk(ifaces, name, 0, &mut out);
    out
}

fn walk<'a>(ifaces: &'a [Interface], name: &str, depth: usize, out: &mut Vec<(&'a str, &'a str)>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(i) = ifaces.iter().find(|i| i.name.value == name) else {
        return;
    };
    if let (Some(s), Some(p)) = (&i.switch, &i.port) {
        out.push((s.as_str(), p.as_str()));
    }
    match i
        .kind
        .as_ref()
        .map(|k| k.value)
        .unwrap_or(InterfaceKind::Ethernet)
    {
        InterfaceKind::Bond => {
            for m in &i.members {
                walk(ifaces, m.as_str(), depth + 1, out);
            }
        }
        InterfaceKind::Vlan => {
            if let Some(l) = &i.link {
                walk(ifaces, l.as_str(), depth + 1, out);
            }
        }
        InterfaceKind::Ethernet => {}
    }
}

/// Why an unnumbered session has no switch port to end on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPort {
    /// The node has no interface of that name (another rule reports it).
    Unknown,
    /// A bond or a VLAN: it has no cable of its own. The switch names an
    /// unnumbered neighbour by the one port it sees the node's link-local
    /// address on, and a bond's or VLAN's traffic arrives on member or
    /// parent ports it has no session for.
    NotAPort(InterfaceKind),
    /// An Ethernet interface not cabled to the session's switch.
    NotCabled,
}

/// The switch port an unnumbered session over `name` ends on: the port of
/// the interface's own cable, when that cable goes to `peer`. The one
/// decision rendering (the switch's `neighbor PORT interface`) and `check`
/// both read, so that a session `check` accepts always has a port.
pub fn unnumbered_port<'a>(
    ifaces: &'a [Interface],
    name: &str,
    peer: &str,
) -> Result<&'a str, NoPort> {
    let Some(i) = ifaces.iter().find(|i| i.name.value == name) else {
        return Err(NoPort::Unknown);
    };
    match i.kind.as_ref().map(|k| k.value) {
        Some(k @ (InterfaceKind::Bond | InterfaceKind::Vlan)) => Err(NoPort::NotAPort(k)),
        _ => match (&i.switch, &i.port) {
            (Some(s), Some(p)) if s.value == peer && !p.value.is_empty() => Ok(p.as_str()),
            _ => Err(NoPort::NotCabled),
        },
    }
}

/// An address of a node in effect, with the prefix length of its network.
#[derive(Debug, Clone)]
pub struct NodeAddr {
    pub ip: IpAddr,
    pub prefix_len: u8,
    pub interface: Option<String>,
}

/// What a node's numbered session needs, as far as the site declares it.
#[derive(Debug, Clone)]
pub struct NumberedSession<'a> {
    /// The switch at the far end.
    pub peer: &'a str,
    pub peer_address: IpAddr,
    pub local_address: Option<IpAddr>,
}

/// How a numbered session reaches its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberedPath {
    /// Single-hop over a routed switch port cabled to the node.
    Connected {
        /// The switch port holding the peer address.
        port: String,
        /// The switch port's address with its prefix length.
        peer_cidr: IpNet,
        /// The node's address on that subnet (the session's source).
        local: IpAddr,
        /// Its prefix length (its network's), as netplan sets it.
        local_prefix_len: u8,
        /// The node interface carrying it.
        interface: Option<String>,
    },
    /// Loopback to loopback over routes learnt on unnumbered sessions.
    Fabric {
        /// The node's loopback the session is sourced from.
        local: IpAddr,
        /// Links between the two ends (node → first switch counts one).
        hops: u32,
    },
}

/// Why a numbered session cannot come up from what the site declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The peer address is not the switch's (another rule reports it).
    NotSwitchAddress,
    /// A switch port address, but no node interface cabled to that port
    /// carries an address in its subnet.
    PortNotConnected { port: String, cidr: IpNet },
    /// The node's own address on the link is another one than the
    /// session's `local-address`.
    LocalNotOnLink { local: IpAddr, on_link: IpAddr },
    /// A loopback, but the node has no unnumbered session to learn the
    /// fabric's routes from.
    NoUnnumbered,
    /// A loopback, but no declared switch link joins the node's
    /// unnumbered sessions' switches to the peer switch.
    NoPath { via: Vec<String> },
    /// A loopback session needs a node loopback of the same family to be
    /// sourced from (and routed back to); the node has none.
    NoLoopback,
    /// `local-address` is not the node's loopback: the switch learns no
    /// route back to it.
    LocalNotLoopback { loopback: IpAddr },
    /// A loopback session end outside every `loopback` network: the
    /// fabric's route-maps announce and accept host routes inside those
    /// only, so no route to it is ever learnt.
    NotAnnounced { addr: IpAddr },
}

/// Decides how a numbered session reaches its peer switch.
///
/// `unnumbered` are the switches of the node's unnumbered sessions;
/// `loopbacks` the node's loopback addresses; `addrs` every address of the
/// node with its prefix length. The graph also knows which loopbacks the
/// fabric carries routes to.
pub fn numbered_path(
    sw: &Switch,
    graph: &FabricGraph,
    ifaces: &[Interface],
    addrs: &[NodeAddr],
    loopbacks: &[IpAddr],
    unnumbered: &[&str],
    s: &NumberedSession,
) -> Result<NumberedPath, Unreachable> {
    if let Some((port, cidr)) = switch_port_address(sw, s.peer_address) {
        let on_link = addrs.iter().find(|a| {
            a.ip != s.peer_address
                && cidr.value.contains(&a.ip)
                && a.interface.as_deref().is_some_and(|i| {
                    cabled_ports(ifaces, i)
                        .iter()
                        .any(|(w, p)| *w == sw.name.as_str() && *p == port.port.as_str())
                })
        });
        let Some(a) = on_link else {
            return Err(Unreachable::PortNotConnected {
                port: port.port.value.clone(),
                cidr: cidr.value,
            });
        };
        if let Some(l) = s.local_address {
            if l != a.ip {
                return Err(Unreachable::LocalNotOnLink {
                    local: l,
                    on_link: a.ip,
                });
            }
        }
        return Ok(NumberedPath::Connected {
            port: port.port.value.clone(),
            peer_cidr: cidr.value,
            local: a.ip,
            local_prefix_len: a.prefix_len,
            interface: a.interface.clone(),
        });
    }
    if switch_loopback(sw, s.peer_address) != Some(s.peer_address) {
        return Err(Unreachable::NotSwitchAddress);
    }
    let Some(lo) = loopbacks
        .iter()
        .copied()
        .find(|l| l.is_ipv4() == s.peer_address.is_ipv4())
    else {
        return Err(Unreachable::NoLoopback);
    };
    if let Some(l) = s.local_address {
        if l != lo {
            return Err(Unreachable::LocalNotLoopback { loopback: lo });
        }
    }
    if unnumbered.is_empty() {
        return Err(Unreachable::NoUnnumbered);
    }
    for addr in [s.peer_address, lo] {
        if !graph.announced.iter().any(|n| n.contains(&addr)) {
            return Err(Unreachable::NotAnnounced { addr });
        }
    }
    match graph.distance(unnumbered, sw.name.as_str()) {
        Some(d) => Ok(NumberedPath::Fabric {
            local: lo,
            hops: d + 1,
        }),
        None => Err(Unreachable::NoPath {
            via: unnumbered.iter().map(|u| u.to_string()).collect(),
        }),
    }
}

/// How an external peer reaches one switch holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerPath<'a> {
    /// On the subnet of this switch interface: single-hop.
    Connected { port: &'a str, cidr: IpNet },
    /// `multihop N`, sourced from the switch's loopback (if it has one of
    /// the family).
    Multihop { hops: u32, source: Option<IpAddr> },
}

/// `None` when the peer is neither on a subnet of the switch nor declared
/// multihop.
pub fn peer_path<'a>(
    sw: &'a Switch,
    address: IpAddr,
    multihop: Option<u32>,
) -> Option<PeerPath<'a>> {
    if let Some(h) = multihop {
        return Some(PeerPath::Multihop {
            hops: h,
            source: switch_loopback(sw, address),
        });
    }
    switch_subnet_of(sw, address).map(|(i, a)| PeerPath::Connected {
        port: i.port.as_str(),
        cidr: a.value,
    })
}

/// The prefixes of the site's `loopback` networks.
pub fn loopback_prefixes(site: &Site) -> Vec<IpNet> {
    site.networks
        .iter()
        .filter(|n| n.purpose.value == super::Purpose::Loopback)
        .flat_map(|n| {
            n.ipv4
                .iter()
                .map(|p| IpNet::V4(p.value))
                .chain(n.ipv6.iter().map(|p| IpNet::V6(p.value)))
        })
        .collect()
}
