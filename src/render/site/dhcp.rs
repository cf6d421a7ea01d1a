//! Kea DHCPv4: the subnets and host reservations of the site, laid out by
//! `templates/site/dhcp/kea-dhcp4.json.j2`.
//!
//! - One `subnet4` per network with `dhcp` on (default: management
//!   networks) and an IPv4 prefix.
//! - Subnet ids are the subnet's network address read as a 32-bit number
//!   (`10.0.0.0/22` → 167772160). Kea keys leases by subnet id, so an id
//!   must not move when networks are added, removed, renamed or reordered;
//!   the network address is stable under all of those and unique among
//!   non-overlapping prefixes (overlaps are refused by `check`). A subnet
//!   at 0.0.0.0 would get the id 0, which Kea reserves; it is left out.
//! - No dynamic pools: the model's `pool` is where siteconf *allocates*
//!   fixed addresses, so offering it to unknown clients would hand out
//!   addresses that belong to nodes not yet booted. Only reserved clients
//!   get a lease. A site that wants a dynamic pool overrides the template.
//! - One reservation per node address on the network and MAC it may ask
//!   with: `hw-address` is the MAC of the interface carrying the address;
//!   for a VLAN interface, of its parent; for a bond, of each member with
//!   a MAC (PXE firmware DHCPs from one port before the bond exists, and
//!   which one depends on the boot order and on which links are up), all
//!   with the same address. An address whose interface has no MAC to find
//!   gets no reservation.
//! - Two reservations of one address (a bond's members) need Kea's global
//!   `ip-reservations-unique: false` (Kea 1.9.1 and later), written only
//!   then ([`Subnet`]s tell it, `shared_addresses`). Kea gives a reserved
//!   address to one client at a time: after one member booted, the other
//!   gets its lease only once the first one's lease has expired
//!   (`valid-lifetime`), since the booted node, on static addresses, never
//!   renews or releases it.
//! - The one exception: a boot service's `discovery-range` inside the
//!   subnet becomes a pool that only unknown clients (no reservation) may
//!   use, so that an undeclared machine can reach the discovery path.
//!   Validation requires those ranges to be `reserved` (never allocated).
//! - Options: `routers` (the network's `gateway4`), `domain-name-servers`
//!   (the site's IPv4 `dns-servers`), `domain-name` (the site's domain).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use crate::render::context::{InterfaceView, NodeView, SiteView};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Subnet {
    pub id: u32,
    pub network: String,
    /// `10.0.0.0/22`
    pub subnet: String,
    pub routers: Option<String>,
    /// IPv4 resolvers, in site order.
    pub dns_servers: Vec<String>,
    pub domain: String,
    /// Sorted by address.
    pub reservations: Vec<Reservation>,
    /// Dynamic pools for unknown clients only (`client-class UNKNOWN`):
    /// the boot service's `discovery-range`s inside this subnet, in Kea's
    /// `A - B` form.
    pub unknown_pools: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reservation {
    pub hw_address: String,
    pub ip_address: String,
    pub hostname: String,
    /// The node and interface it comes from (for comments and review).
    pub node: String,
    pub interface: String,
}

/// The MACs a DHCP request for an address on `iface` may come from, in
/// member order. Only an ethernet's own `mac` counts: one written on a
/// bond or a VLAN (a warning, SC0512) is not the MAC a request comes from.
fn macs_of<'a>(node: &'a NodeView, iface: &'a InterfaceView, depth: u8, out: &mut Vec<&'a str>) {
    if iface.kind == "ethernet" {
        if let Some(m) = iface.mac.as_deref() {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(m)) {
                out.push(m);
            }
        }
        return;
    }
    // Bounded: a VLAN of a bond of ethernets is two steps; cycles are
    // refused by check but must not hang here.
    if depth > 4 {
        return;
    }
    let next: Vec<&str> = match iface.kind {
        "vlan" => iface.link.as_deref().into_iter().collect(),
        "bond" => iface.members.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    for n in next {
        if let Some(parent) = node.interfaces.iter().find(|i| i.name == n) {
            macs_of(node, parent, depth + 1, out);
        }
    }
}

/// Every DHCP subnet of the site, sorted by address.
pub fn subnets(site: &SiteView) -> Vec<Subnet> {
    let dns_servers: Vec<String> = site
        .dns_servers
        .iter()
        .filter(|d| d.parse::<Ipv4Addr>().is_ok())
        .cloned()
        .collect();
    let mut out = Vec::new();
    for net in site.networks.iter().filter(|n| n.dhcp) {
        let Some(prefix) = net.ipv4.as_ref().and_then(|p| p.parse::<Ipv4Net>().ok()) else {
            continue;
        };
        let id = u32::from(prefix.network());
        if id == 0 {
            continue;
        }
        let mut reservations = Vec::new();
        for node in &site.nodes {
            for a in node.addresses.iter().filter(|a| a.network == net.name) {
                let (Some(ip), Some(ifname)) = (&a.ipv4, &a.interface) else {
                    continue;
                };
                let Some(iface) = node.interfaces.iter().find(|i| &i.name == ifname) else {
                    continue;
                };
                let mut macs = Vec::new();
                macs_of(node, iface, 0, &mut macs);
                for mac in macs {
                    reservations.push(Reservation {
                        hw_address: mac.to_ascii_lowercase(),
                        ip_address: ip.clone(),
                        hostname: node.name.clone(),
                        node: node.name.clone(),
                        interface: ifname.clone(),
                    });
                }
            }
        }
        // Stable: a bond's members stay in member order.
        reservations.sort_by_key(|r| r.ip_address.parse::<Ipv4Addr>().map(u32::from).ok());
        let unknown_pools = site
            .boot
            .iter()
            .flat_map(|b| &b.discovery_ranges)
            .filter_map(|r| {
                let (a, b) = r.split_once('-').unwrap_or((r.as_str(), r.as_str()));
                let (a, b) = (a.parse::<Ipv4Addr>().ok()?, b.parse::<Ipv4Addr>().ok()?);
                (prefix.contains(&a) && prefix.contains(&b)).then(|| format!("{a} - {b}"))
            })
            .collect();
        out.push(Subnet {
            id,
            network: net.name.clone(),
            subnet: prefix.to_string(),
            routers: net.gateway4.clone(),
            dns_servers: dns_servers.clone(),
            domain: site.domain.clone(),
            reservations,
            unknown_pools,
        });
    }
    out.sort_by_key(|s| s.id);
    out
}

/// Whether two reservations of the subnets share an address (a bond's
/// members): Kea then needs `ip-reservations-unique: false`, or it refuses
/// the configuration.
pub fn shared_addresses(subnets: &[Subnet]) -> bool {
    subnets.iter().any(|s| {
        s.reservations
            .windows(2)
            .any(|w| w[0].ip_address == w[1].ip_address)
    })
}
