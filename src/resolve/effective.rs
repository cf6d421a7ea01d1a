//! The effective site: every node and switch as it will be, typed — its
//! FQDN, the addresses in effect (fixed or allocated) with their prefixes,
//! its Ansible groups, each interface's effective MTU, each BGP session
//! with the path it takes — computed once, here, and read by rendering
//! (which only serialises it), fleet state and review. Validation asks
//! [`super::Resolved::value`], the same lookup this module uses, for the
//! one value a rule needs.
//!
//! It borrows the declared model ([`Node`], [`Switch`]) and the merged
//! settings ([`ResolvedNode`]) for everything it does not derive.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use rayon::prelude::*;

use super::key::{AllocKey, IpFamily};
use super::{Resolved, ResolvedNode};
use crate::model::names::{group_name, port_key};
use crate::model::routing::{
    numbered_path, unnumbered_port, FabricGraph, NodeAddr, NumberedPath, NumberedSession,
};
use crate::model::*;
use crate::syntax::Span;

/// A value in effect on a node: fixed in a site file, or allocated
/// (`auto`) and kept in siteconf.lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eff<T> {
    pub value: T,
    /// Where the value (or the `auto` that asked for it) is written.
    pub span: Span,
    pub allocated: bool,
}

/// `groups` (inventory names) with `all` and every declared group that is
/// a parent of one of them, to any depth: the groups whose variables a
/// host in `groups` gets.
pub fn with_parent_groups(
    site: &Site,
    mut groups: std::collections::BTreeSet<String>,
) -> std::collections::BTreeSet<String> {
    groups.insert("all".into());
    loop {
        let more: Vec<String> = site
            .groups
            .iter()
            .filter(|g| !groups.contains(&group_name(&g.name.value)))
            .filter(|g| {
                g.children
                    .iter()
                    .any(|c| groups.contains(&group_name(&c.value)))
            })
            .map(|g| group_name(&g.name.value))
            .collect();
        if more.is_empty() {
            return groups;
        }
        groups.extend(more);
    }
}

/// The inventory groups a node is in by itself (not their parents, nor
/// `all`): its `groups`, `role_<role>`, `rack_<rack>`, `profile_<p>`,
/// sorted.
pub fn node_groups(node: &Node, rn: &ResolvedNode) -> Vec<String> {
    let mut groups: Vec<String> = rn
        .settings
        .groups
        .iter()
        .map(|g| group_name(&g.value))
        .collect();
    if let Some(role) = &node.role {
        groups.push(format!("role_{}", group_name(&role.value)));
    }
    if let Some(p) = &node.placement {
        groups.push(format!("rack_{}", group_name(&p.rack.value)));
    }
    for p in &rn.profiles {
        groups.push(format!("profile_{}", group_name(p)));
    }
    groups.sort();
    groups.dedup();
    groups
}

/// `name.domain`, or the bare name on a site without a domain.
pub fn fqdn(name: &str, domain: &str) -> String {
    if domain.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{domain}")
    }
}

/// The whole site in effect.
#[derive(Debug)]
pub struct EffSite<'a> {
    pub site: &'a Site,
    pub index: &'a SiteIndex,
    pub resolved: &'a Resolved,
    pub domain: &'a str,
    /// In the order of `Resolved::nodes`.
    pub nodes: Vec<EffNode<'a>>,
    /// In site order.
    pub switches: Vec<EffSwitch<'a>>,
}

#[derive(Debug)]
pub struct EffNode<'a> {
    /// As declared: name, role, placement, serial.
    pub node: &'a Node,
    /// The merged settings.
    pub resolved: &'a ResolvedNode,
    pub name: &'a str,
    pub fqdn: String,
    /// Every Ansible group: declared groups, `role_<role>`, `rack_<rack>`,
    /// `profile_<profile>` (sorted, unique, in Ansible's spelling).
    pub groups: Vec<String>,
    /// In the order of the merged settings' interfaces.
    pub interfaces: Vec<EffInterface<'a>>,
    /// In the order of the merged settings' addresses.
    pub addresses: Vec<EffAddress<'a>>,
    /// The management address: the first on a management network.
    pub mgmt: Option<usize>,
    pub loopback4: Option<Eff<Ipv4Addr>>,
    pub loopback6: Option<Eff<Ipv6Addr>>,
    pub asn: Option<Eff<u32>>,
    pub sessions: Vec<EffSession<'a>>,
}

#[derive(Debug)]
pub struct EffInterface<'a> {
    pub decl: &'a Interface,
    pub name: &'a str,
    pub kind: InterfaceKind,
    /// The interface's own MTU, else the largest of the networks it
    /// carries, else 1500.
    pub mtu: u16,
    /// Whether a BGP session runs over it (a routed uplink).
    pub uplink: bool,
}

#[derive(Debug)]
pub struct EffAddress<'a> {
    pub decl: &'a Address,
    pub network: &'a str,
    /// The network, when the site declares it.
    pub net: Option<&'a Network>,
    pub interface: Option<&'a str>,
    pub ipv4: Option<Eff<Ipv4Addr>>,
    pub ipv6: Option<Eff<Ipv6Addr>>,
}

impl EffAddress<'_> {
    pub fn purpose(&self) -> Purpose {
        self.net.map(|n| n.purpose.value).unwrap_or(Purpose::Other)
    }

    /// The IPv4 address with its network's prefix length.
    pub fn ipv4_net(&self) -> Option<Ipv4Net> {
        let len = self.net?.ipv4.as_ref()?.value.prefix_len();
        Ipv4Net::new(self.ipv4?.value, len).ok()
    }

    pub fn ipv6_net(&self) -> Option<Ipv6Net> {
        let len = self.net?.ipv6.as_ref()?.value.prefix_len();
        Ipv6Net::new(self.ipv6?.value, len).ok()
    }

    /// The address of a family, with its prefix length when the network
    /// has one: IPv4 and IPv6 through one path.
    pub fn ip(&self, f: IpFamily) -> Option<(IpAddr, Option<u8>)> {
        match f {
            IpFamily::V4 => self
                .ipv4
                .map(|a| (IpAddr::V4(a.value), self.ipv4_net().map(|n| n.prefix_len()))),
            IpFamily::V6 => self
                .ipv6
                .map(|a| (IpAddr::V6(a.value), self.ipv6_net().map(|n| n.prefix_len()))),
        }
    }

    /// The declaration of the address of a family (its `auto` or fixed
    /// value), for diagnostics.
    pub fn span(&self, f: IpFamily) -> Option<Span> {
        match f {
            IpFamily::V4 => self.ipv4.map(|a| a.span),
            IpFamily::V6 => self.ipv6.map(|a| a.span),
        }
    }

    pub fn gateway4(&self) -> Option<Ipv4Addr> {
        self.net?.gateway4.as_ref().map(|g| g.value)
    }

    pub fn gateway6(&self) -> Option<Ipv6Addr> {
        self.net?.gateway6.as_ref().map(|g| g.value)
    }

    pub fn vlan(&self) -> Option<u16> {
        self.net?.vlan.as_ref().map(|v| v.value)
    }

    /// The network's MTU (1500 when unknown).
    pub fn mtu(&self) -> u16 {
        self.net.map(|n| n.mtu()).unwrap_or(1500)
    }
}

/// How a BGP session of a node reaches its switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionPath {
    /// Over an interface, by its link-local address (no peer address),
    /// to the switch port its cable ends on (never empty: a session whose
    /// interface is not a port cabled to its switch is `Unresolved`).
    Unnumbered { port: String },
    /// Numbered, single-hop over a routed switch port cabled to the node.
    Connected {
        /// The node's address on the link, with its prefix length.
        local: IpNet,
    },
    /// Numbered, loopback to loopback over learnt routes.
    Fabric {
        local: IpAddr,
        /// Links between the two ends (1: directly attached).
        hops: u32,
    },
    /// No path fits (numbered), or the interface is not a port cabled to
    /// the switch (unnumbered): `check` refuses such a site, and a switch
    /// never renders such a session.
    Unresolved,
}

#[derive(Debug)]
pub struct EffSession<'a> {
    pub decl: &'a BgpSession,
    /// The switch at the far end.
    pub peer: &'a str,
    /// The node interface it runs over (declared, or the one a connected
    /// path found).
    pub interface: Option<String>,
    /// The switch port at the far end.
    pub peer_port: Option<String>,
    pub peer_asn: Option<u32>,
    pub peer_address: Option<IpAddr>,
    /// The session's source: the declared `local-address`, else what the
    /// path needs (the loopback, or the address on the link).
    pub local_address: Option<IpAddr>,
    pub path: SessionPath,
}

impl EffSession<'_> {
    /// `unnumbered` or `numbered`, as templates and state spell it.
    pub fn mode(&self) -> &'static str {
        match self.path {
            _ if self.decl.peer_address.is_none() => "unnumbered",
            _ => "numbered",
        }
    }

    /// The family of a numbered session.
    pub fn family(&self) -> Option<IpFamily> {
        self.peer_address.map(IpFamily::of)
    }
}

/// A session from a node as the switch it ends on sees it.
#[derive(Debug)]
pub struct Downlink<'a> {
    /// The node (index into `EffSite::nodes`) and its session.
    pub node: usize,
    pub session: usize,
    pub node_name: &'a str,
}

#[derive(Debug)]
pub struct EffSwitch<'a> {
    pub decl: &'a Switch,
    pub name: &'a str,
    pub fqdn: String,
    /// Sessions from nodes that end on this switch, by port, then node.
    pub downlinks: Vec<Downlink<'a>>,
}

/// Computes the effective site. Nodes in parallel, collected in order.
pub fn site<'a>(site: &'a Site, index: &'a SiteIndex, resolved: &'a Resolved) -> EffSite<'a> {
    let domain = site.domain();
    let graph = FabricGraph::new(site);
    let nodes: Vec<EffNode> = resolved
        .nodes
        .par_iter()
        .map(|rn| node(site, index, resolved, &graph, domain, rn))
        .collect();
    // Downlinks by switch, gathered in one pass, so a switch does not
    // scan every node (quadratic at fleet scale).
    let mut downlinks: BTreeMap<&str, Vec<Downlink>> = BTreeMap::new();
    for (k, n) in nodes.iter().enumerate() {
        for (j, s) in n.sessions.iter().enumerate() {
            downlinks.entry(s.peer).or_default().push(Downlink {
                node: k,
                session: j,
                node_name: n.name,
            });
        }
    }
    let switches = site
        .switches
        .iter()
        .map(|s| {
            let name = s.name.as_str();
            let mut down = downlinks.remove(name).unwrap_or_default();
            // The key once per downlink, not twice per comparison.
            down.sort_by_cached_key(|d| {
                let port = nodes[d.node].sessions[d.session].peer_port.as_deref();
                (port_key(port.unwrap_or("")), d.node_name)
            });
            EffSwitch {
                decl: s,
                name,
                fqdn: fqdn(name, domain),
                downlinks: down,
            }
        })
        .collect();
    EffSite {
        site,
        index,
        resolved,
        domain,
        nodes,
        switches,
    }
}

impl<'a> EffSite<'a> {
    /// The session a downlink stands for.
    pub fn downlink(&self, d: &Downlink) -> (&EffNode<'a>, &EffSession<'a>) {
        let n = &self.nodes[d.node];
        (n, &n.sessions[d.session])
    }
}

/// One node in effect.
pub fn node<'a>(
    site: &'a Site,
    index: &'a SiteIndex,
    r: &'a Resolved,
    graph: &FabricGraph,
    domain: &str,
    rn: &'a ResolvedNode,
) -> EffNode<'a> {
    let node = &site.nodes[rn.index];
    let name = node.name.as_str();
    let st = &rn.settings;
    let addresses: Vec<EffAddress> = st
        .addresses
        .iter()
        .map(|a| {
            let network = a.network.as_str();
            let key = |family| AllocKey::Address { network, family };
            EffAddress {
                decl: a,
                network,
                net: site.network(index, network),
                interface: a.interface.as_ref().map(|i| i.as_str()),
                ipv4: r.value(name, key(IpFamily::V4), &a.ipv4),
                ipv6: r.value(name, key(IpFamily::V6), &a.ipv6),
            }
        })
        .collect();
    let sessions_decl = || st.bgp.iter().flat_map(|b| b.sessions.iter());
    let session_ifaces: Vec<&str> = sessions_decl()
        .filter_map(|s| s.interface.as_ref().map(|i| i.as_str()))
        .collect();
    let interfaces: Vec<EffInterface> = st
        .interfaces
        .iter()
        .map(|i| {
            let iname = i.name.as_str();
            let mtu = i
                .mtu
                .as_ref()
                .map(|m| m.value)
                .or_else(|| {
                    addresses
                        .iter()
                        .filter(|a| a.interface == Some(iname))
                        .map(|a| a.mtu())
                        .max()
                })
                .unwrap_or(1500);
            EffInterface {
                decl: i,
                name: iname,
                kind: i
                    .kind
                    .as_ref()
                    .map(|k| k.value)
                    .unwrap_or(InterfaceKind::Ethernet),
                mtu,
                uplink: session_ifaces.contains(&iname),
            }
        })
        .collect();
    let loopback = st.loopback.as_ref();
    let loopback4 = loopback.and_then(|l| r.value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4));
    let loopback6 = loopback.and_then(|l| r.value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6));
    let sessions = sessions(site, index, graph, st, &addresses, loopback4, loopback6);
    let groups = node_groups(node, rn);
    let mgmt = addresses
        .iter()
        .position(|a| a.purpose() == Purpose::Management);
    EffNode {
        node,
        resolved: rn,
        name,
        fqdn: fqdn(name, domain),
        groups,
        interfaces,
        mgmt,
        loopback4,
        loopback6,
        asn: st
            .bgp
            .as_ref()
            .and_then(|b| r.value(name, AllocKey::Asn, &b.asn)),
        sessions,
        addresses,
    }
}

/// A node's BGP sessions with the path each takes.
fn sessions<'a>(
    site: &'a Site,
    index: &'a SiteIndex,
    graph: &FabricGraph,
    st: &'a Settings,
    addresses: &[EffAddress],
    loopback4: Option<Eff<Ipv4Addr>>,
    loopback6: Option<Eff<Ipv6Addr>>,
) -> Vec<EffSession<'a>> {
    let decl: Vec<&BgpSession> = st.bgp.iter().flat_map(|b| b.sessions.iter()).collect();
    // Only numbered sessions need the addresses with their prefix lengths.
    let numbered = decl.iter().any(|s| s.peer_address.is_some());
    let node_addrs: Vec<NodeAddr> = addresses
        .iter()
        .filter(|_| numbered)
        .flat_map(|a| {
            IpFamily::BOTH.into_iter().filter_map(|f| {
                let (ip, len) = a.ip(f)?;
                Some(NodeAddr {
                    ip,
                    prefix_len: len?,
                    interface: a.interface.map(str::to_string),
                })
            })
        })
        .collect();
    let loopbacks: Vec<IpAddr> = loopback4
        .map(|l| IpAddr::V4(l.value))
        .into_iter()
        .chain(loopback6.map(|l| IpAddr::V6(l.value)))
        .collect();
    let unnumbered: Vec<&str> = decl
        .iter()
        .filter(|s| s.interface.is_some() && s.peer_address.is_none())
        .map(|s| s.peer.as_str())
        .collect();
    decl.iter()
        .map(|s| {
            let sw = site.switch(index, &s.peer.value);
            let mut out = EffSession {
                decl: s,
                peer: s.peer.as_str(),
                interface: s.interface.as_ref().map(|i| i.value.clone()),
                peer_port: s.interface.as_ref().and_then(|i| {
                    st.interfaces
                        .iter()
                        .find(|x| x.name.value == i.value)
                        .and_then(|x| x.port.as_ref())
                        .map(|p| p.value.clone())
                }),
                peer_asn: sw
                    .and_then(|w| w.asn.as_ref())
                    .map(|a| a.value)
                    .or(s.remote_as.as_ref().map(|a| a.value)),
                peer_address: s.peer_address.as_ref().map(|a| a.value),
                local_address: s.local_address.as_ref().map(|a| a.value),
                path: match (&s.interface, &s.peer_address) {
                    (Some(i), None) => {
                        match unnumbered_port(&st.interfaces, &i.value, s.peer.as_str()) {
                            Ok(port) => SessionPath::Unnumbered {
                                port: port.to_string(),
                            },
                            Err(_) => SessionPath::Unresolved,
                        }
                    }
                    _ => SessionPath::Unresolved,
                },
            };
            if let (Some(pa), Some(sw)) = (&s.peer_address, sw) {
                let want = NumberedSession {
                    peer: sw.name.as_str(),
                    peer_address: pa.value,
                    local_address: s.local_address.as_ref().map(|a| a.value),
                };
                match numbered_path(
                    sw,
                    graph,
                    &st.interfaces,
                    &node_addrs,
                    &loopbacks,
                    &unnumbered,
                    &want,
                ) {
                    Ok(NumberedPath::Connected {
                        port,
                        local,
                        local_prefix_len,
                        interface,
                        ..
                    }) => {
                        out.local_address = Some(local);
                        out.interface = out.interface.or(interface);
                        out.peer_port = Some(port);
                        if let Ok(net) = IpNet::new(local, local_prefix_len) {
                            out.path = SessionPath::Connected { local: net };
                        }
                    }
                    Ok(NumberedPath::Fabric { local, hops }) => {
                        out.local_address = Some(local);
                        out.path = SessionPath::Fabric { local, hops };
                    }
                    Err(_) => {}
                }
            }
            out
        })
        .collect()
}
