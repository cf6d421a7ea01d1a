//! `--stub MAC`: a node declaration (KDL) for an unknown machine, from what
//! was observed about it, ready to paste into a site file. Its users adopt
//! machines that already run: the stub declares the machine as it is, so
//! that building it renumbers nothing.
//!
//! - Interfaces: every NIC with its own MAC (Ansible's permanent MAC for a
//!   bond member), bonds as `kind bond; members …; mode …`, VLAN
//!   interfaces (`bond0.200`) as `kind vlan; link …; vlan …`, with the MTU
//!   the machine runs; from the fact cache, else from what LLDP and DHCP
//!   saw of it (one interface per MAC).
//! - Cabling: the machine's own LLDP dump, matched by interface name, and
//!   what the switches heard, matched by MAC.
//! - Addresses: each observed one written literally (`ipv4="10.0.2.50"`,
//!   never `auto`, which allocates another) on the network whose prefix
//!   holds it, the host's loopback addresses as `loopback`. What cannot
//!   be kept as observed is said beside it and as a diagnostic: an address
//!   in no declared network (written on the network `"FILL-IN"`, which
//!   `check` rejects until someone decides, SC1014), one the site gives to
//!   something else or reserves (written as observed, so `check` reports
//!   the collision, SC1015), and one siteconf cannot declare (a second
//!   address on a network, an address on a bridge, another prefix length,
//!   SC1016).
//! - The rack comes from the switch the machine was seen on, the name from
//!   what the machine calls itself (fact cache, DHCP client name, LLDP
//!   system name) or `newnode-<mac>`. The rack position cannot be
//!   observed, so it is a placeholder that `check` rejects until an
//!   engineer fills in a free unit (the free units are listed beside it).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::diag::{Code, Diagnostic};
use crate::model::{interface_name_problem, is_hostname_label, Mac, Network, Purpose};
use crate::syntax::kdl::write::{comment, string as q};
use crate::syntax::Span;

use super::compare::{is_loopback, is_nic, vlan_of, Declared, Host, UnknownMachine, GENERIC_NAMES};
use super::input::facts::HostFacts;
use super::input::Observed;

/// The text `check` sees where the engineer must write a rack unit.
pub const POSITION_PLACEHOLDER: &str = "\"FILL-IN\"";

/// Whether a name can be a Linux interface name (IFNAMSIZ, no odd bytes).
fn is_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// `1-3, 7, 9-40`
fn ranges(units: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let start = units[i];
        let mut end = start;
        while i + 1 < units.len() && units[i + 1] == end + 1 {
            i += 1;
            end = units[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(", ")
}

/// The free units of a rack, lowest first.
fn free_units(d: &Declared, rack: &str) -> Option<Vec<u32>> {
    let r = d.site.racks.iter().find(|r| r.name.value == rack)?;
    let placements = d.site.nodes.iter().filter_map(|n| n.placement.as_ref());
    let placements = placements.chain(d.site.switches.iter().filter_map(|s| s.placement.as_ref()));
    let mut used = BTreeSet::new();
    for p in placements.filter(|p| p.rack.value == rack) {
        for u in p.position.value..p.position.value + p.height.value.max(1) {
            used.insert(u);
        }
    }
    Some((1..=r.height.value).filter(|u| !used.contains(u)).collect())
}

/// A name for the new node: the first thing it calls itself that is a
/// valid, unused host name; else `newnode-<mac>`.
fn guess_name(d: &Declared, u: &UnknownMachine, mac: Mac) -> String {
    for h in &u.hostnames {
        let first = h.split('.').next().unwrap_or("").to_ascii_lowercase();
        if is_hostname_label(&first)
            && !GENERIC_NAMES.contains(&first.as_str())
            && d.host(&first).is_none()
        {
            return first;
        }
    }
    let hex: String = mac.0.iter().map(|b| format!("{b:02x}")).collect();
    format!("newnode-{hex}")
}

/// A stub and what the operator must still decide about it.
#[derive(Debug, Clone)]
pub struct Stub {
    /// The node block, ready to paste.
    pub text: String,
    /// Observed values the stub could not keep as they are (SC1014–SC1016).
    pub diags: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Ethernet,
    Bond,
    Vlan,
}

/// One interface of the stub.
#[derive(Debug, Clone)]
struct Iface {
    name: String,
    kind: Kind,
    mac: Option<String>,
    /// The declared switch and port it is cabled to.
    cable: Option<(String, String)>,
    members: Vec<String>,
    mode: Option<String>,
    link: Option<String>,
    vlan: Option<u16>,
    mtu: Option<u16>,
    /// The name was not observed (a lease, or a switch's LLDP without a
    /// port description): netplan would rename the NIC to it.
    guessed: bool,
}

impl Iface {
    fn ethernet(name: String, mac: Option<String>) -> Iface {
        Iface {
            name,
            kind: Kind::Ethernet,
            mac,
            cable: None,
            members: Vec::new(),
            mode: None,
            link: None,
            vlan: None,
            mtu: None,
            guessed: false,
        }
    }

    fn line(&self) -> String {
        let mut f: Vec<String> = Vec::new();
        match self.kind {
            Kind::Ethernet => {}
            Kind::Bond => f.push("kind bond".into()),
            Kind::Vlan => f.push("kind vlan".into()),
        }
        if let Some(m) = &self.mac {
            f.push(format!("mac {}", q(m)));
        }
        if let Some((sw, port)) = &self.cable {
            f.push(format!("switch {}", q(sw)));
            f.push(format!("port {}", q(port)));
        }
        if !self.members.is_empty() {
            let m: Vec<String> = self.members.iter().map(|m| q(m)).collect();
            f.push(format!("members {}", m.join(" ")));
        }
        if let Some(m) = &self.mode {
            f.push(format!("mode {}", q(m)));
        }
        if let Some(l) = &self.link {
            f.push(format!("link {}", q(l)));
        }
        if let Some(v) = self.vlan {
            f.push(format!("vlan {v}"));
        }
        if let Some(m) = self.mtu {
            f.push(format!("mtu {m}"));
        }
        let note = if self.guessed {
            " // name not observed: write the one the machine has (netplan renames the NIC to this)"
        } else {
            ""
        };
        format!(
            "    interface {} {{ {}; }}{note}\n",
            q(&self.name),
            f.join("; ")
        )
    }
}

/// An observed address, the interface that carries it and its prefix
/// length when the host said.
#[derive(Debug, Clone)]
struct Seen {
    iface: String,
    ip: IpAddr,
    prefix: Option<u8>,
    /// Where it was seen, for messages.
    source: String,
}

/// Interface names of software the host runs, not hardware to declare
/// (containers, VMs, tunnels, overlays): left out, and said so.
const SOFTWARE_IFACES: &[&str] = &[
    "veth",
    "docker",
    "virbr",
    "vnet",
    "tap",
    "tun",
    "br-",
    "cali",
    "flannel",
    "cni",
    "vxlan",
    "kube",
    "lxc",
    "lxd",
    "wg",
    "dummy",
    "ovs",
    "genev",
    "tailscale",
    "zt",
];

/// Whether an address says something about the machine's place in the
/// site (not loopback, link-local, unspecified or multicast).
fn meaningful(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            !(a.is_loopback() || a.is_link_local() || a.is_unspecified() || a.is_multicast())
        }
        IpAddr::V6(a) => {
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (a.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The network whose prefix holds an address (its index in the site).
fn network_index(d: &Declared, ip: IpAddr) -> Option<usize> {
    d.site.networks.iter().position(|n| match ip {
        IpAddr::V4(a) => n.ipv4.as_ref().is_some_and(|p| p.value.contains(&a)),
        IpAddr::V6(a) => n.ipv6.as_ref().is_some_and(|p| p.value.contains(&a)),
    })
}

fn network_of<'a>(d: &Declared<'a>, ip: IpAddr) -> Option<&'a Network> {
    network_index(d, ip).map(|k| &d.site.networks[k])
}

fn prefix_len(n: &Network, ip: IpAddr) -> Option<u8> {
    match ip {
        IpAddr::V4(_) => n.ipv4.as_ref().map(|p| p.value.prefix_len()),
        IpAddr::V6(_) => n.ipv6.as_ref().map(|p| p.value.prefix_len()),
    }
}

/// What the site already gives or keeps `ip` for, with where: another
/// node's address or loopback (fixed or allocated), a switch loopback, a
/// gateway, a DNS server, a reserved range, a line of siteconf.lock, or a
/// network's own or broadcast address.
fn taken(d: &Declared, ip: IpAddr) -> Option<(String, Option<Span>)> {
    for n in &d.eff.nodes {
        for a in &n.addresses {
            let hit = match ip {
                IpAddr::V4(x) => a.ipv4.filter(|v| v.value == x).map(|v| v.span),
                IpAddr::V6(x) => a.ipv6.filter(|v| v.value == x).map(|v| v.span),
            };
            if let Some(span) = hit {
                return Some((
                    format!("node `{}`'s address on `{}`", n.name, a.network),
                    Some(span),
                ));
            }
        }
        let lo = match ip {
            IpAddr::V4(x) => n.loopback4.filter(|v| v.value == x).map(|v| v.span),
            IpAddr::V6(x) => n.loopback6.filter(|v| v.value == x).map(|v| v.span),
        };
        if let Some(span) = lo {
            return Some((format!("node `{}`'s loopback", n.name), Some(span)));
        }
    }
    for s in &d.site.switches {
        let lo = match ip {
            IpAddr::V4(x) => s
                .loopback4
                .as_ref()
                .filter(|v| v.value == x)
                .map(|v| v.span),
            IpAddr::V6(x) => s
                .loopback6
                .as_ref()
                .filter(|v| v.value == x)
                .map(|v| v.span),
        };
        if let Some(span) = lo {
            return Some((format!("switch `{}`'s loopback", s.name.value), Some(span)));
        }
    }
    for n in &d.site.networks {
        let gw = match ip {
            IpAddr::V4(x) => n.gateway4.as_ref().filter(|g| g.value == x).map(|g| g.span),
            IpAddr::V6(x) => n.gateway6.as_ref().filter(|g| g.value == x).map(|g| g.span),
        };
        if let Some(span) = gw {
            return Some((format!("the gateway of `{}`", n.name.value), Some(span)));
        }
        if let Some(r) = n.reserved.iter().find(|r| r.value.contains(ip)) {
            return Some((
                format!("a `reserved` range of `{}`", n.name.value),
                Some(r.span),
            ));
        }
        if let (IpAddr::V4(x), Some(p)) = (ip, &n.ipv4) {
            if p.value.prefix_len() < 31 && p.value.contains(&x) {
                if x == p.value.network() {
                    return Some((
                        format!("the network address of `{}`", n.name.value),
                        Some(p.span),
                    ));
                }
                if x == p.value.broadcast() {
                    return Some((
                        format!("the broadcast address of `{}`", n.name.value),
                        Some(p.span),
                    ));
                }
            }
        }
    }
    if let Some(s) = d.site.site.as_ref() {
        if let Some(a) = s.dns_servers.iter().find(|a| a.value == ip) {
            return Some(("a DNS server of the site".to_string(), Some(a.span)));
        }
    }
    let text = ip.to_string();
    if let Some(e) = d.resolved.lock.entries.iter().find(|e| e.value == text) {
        return Some((
            format!(
                "`{} {}` in siteconf.lock{}",
                e.owner,
                e.key,
                if e.released { " (released)" } else { "" }
            ),
            (!e.span.is_builtin()).then_some(e.span),
        ));
    }
    None
}

/// Builds the stub's interfaces from fact files (first one wins for a
/// name), and says what it leaves out.
fn from_facts(
    facts: &[&HostFacts],
    ifaces: &mut Vec<Iface>,
    seen: &mut Vec<Seen>,
    loopback: &mut Vec<Seen>,
    notes: &mut Vec<String>,
    dropped: &mut Vec<(Seen, String)>,
) {
    for f in facts {
        let all = &f.interfaces;
        for i in all {
            if ifaces.iter().any(|x| x.name == i.name) {
                continue;
            }
            let addrs = i
                .ipv4
                .iter()
                .map(|(a, p)| (IpAddr::V4(*a), *p))
                .chain(i.ipv6.iter().map(|(a, p)| (IpAddr::V6(*a), *p)))
                .filter(|(a, _)| meaningful(*a))
                .map(|(ip, p)| Seen {
                    iface: i.name.clone(),
                    ip,
                    prefix: Some(p),
                    source: f.path.clone(),
                });
            if is_loopback(i) {
                loopback.extend(addrs);
                continue;
            }
            let kind = i.kind.as_deref().unwrap_or("ether");
            let software = SOFTWARE_IFACES.iter().any(|p| i.name.starts_with(p));
            let iface = if software || interface_name_problem(&i.name).is_some() {
                None
            } else if kind == "bonding" || !i.members.is_empty() {
                Some(Iface {
                    kind: Kind::Bond,
                    members: i.members.clone(),
                    mode: i.bond_mode.clone(),
                    ..Iface::ethernet(i.name.clone(), None)
                })
            } else if let Some((link, vlan)) = vlan_of(i, all) {
                Some(Iface {
                    kind: Kind::Vlan,
                    link: Some(link.to_string()),
                    vlan: Some(vlan),
                    ..Iface::ethernet(i.name.clone(), None)
                })
            } else if is_nic(i, all) && i.mac.is_some() {
                Some(Iface::ethernet(
                    i.name.clone(),
                    i.mac.map(|m| m.to_string()),
                ))
            } else {
                None
            };
            match iface {
                Some(mut x) => {
                    x.mtu = i.mtu.filter(|m| *m != 1500 && (576..=9216).contains(m));
                    ifaces.push(x);
                    seen.extend(addrs);
                }
                None => {
                    let what = if software {
                        format!("{kind}, software")
                    } else {
                        kind.to_string()
                    };
                    notes.push(format!(
                        "    // not declared: interface {} ({}), not an ethernet port, bond or VLAN siteconf declares\n",
                        comment(&i.name),
                        comment(&what)
                    ));
                    // Software brings its own interfaces back (docker,
                    // libvirt): applying netplan takes nothing from them.
                    for a in addrs.filter(|_| !software) {
                        let why = format!(
                            "it is on interface `{}` ({what}), which siteconf does not declare",
                            i.name
                        );
                        dropped.push((a, why));
                    }
                }
            }
        }
    }
    // A member or parent that is not declared cannot be referred to.
    let names: BTreeSet<String> = ifaces.iter().map(|i| i.name.clone()).collect();
    for i in ifaces.iter_mut() {
        i.members.retain(|m| names.contains(m));
    }
}

/// The node block for the unknown machine that has `mac`.
pub fn stub(
    d: &Declared,
    observed: &Observed,
    unknown: &[UnknownMachine],
    node_macs: &[(String, String)],
    mac: Mac,
) -> Result<Stub, String> {
    if let Some((node, iface)) = super::compare::owner_name(d, mac) {
        return Err(format!(
            "{mac} is already declared: node `{node}` interface {iface}"
        ));
    }
    let m = mac.to_string();
    if let Some((_, node)) = node_macs.iter().find(|(x, _)| *x == m) {
        return Err(format!(
            "{mac} is node `{node}`'s: its DHCP lease names `{node}` (a swapped NIC or a MAC typo, reported as SC1003); correct the node's `mac` rather than declaring a second node"
        ));
    }
    let Some(u) = unknown.iter().find(|u| u.macs.contains(&m)) else {
        return Err(format!(
            "{mac} appears in none of the inputs given (pass the --lldp, --facts and --leases that saw it)"
        ));
    };
    let name = guess_name(d, u, mac);
    let facts: Vec<&HostFacts> = observed
        .facts
        .iter()
        .filter(|f| u.evidence.contains(&f.path))
        .collect();

    let mut ifaces: Vec<Iface> = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut loopback: Vec<Seen> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut dropped: Vec<(Seen, String)> = Vec::new();
    from_facts(
        &facts,
        &mut ifaces,
        &mut seen,
        &mut loopback,
        &mut notes,
        &mut dropped,
    );

    // What LLDP and DHCP saw: cabling by interface name (the machine's
    // own LLDP dump) or MAC (a switch's), and NICs the facts do not show.
    let mut n = 0;
    for si in &u.interfaces {
        let at = ifaces
            .iter()
            .position(|x| si.name.as_deref() == Some(x.name.as_str()))
            .or_else(|| {
                ifaces
                    .iter()
                    .position(|x| x.kind == Kind::Ethernet && si.mac.is_some() && x.mac == si.mac)
            });
        let at = match (at, &si.mac) {
            (Some(at), _) => at,
            (None, Some(imac)) => {
                let used = |s: &str| ifaces.iter().any(|x| x.name == s);
                let mut iname = si
                    .name
                    .clone()
                    .filter(|s| is_ifname(s) && !used(s))
                    .unwrap_or_default();
                let guessed = iname.is_empty();
                while iname.is_empty() || used(&iname) {
                    iname = format!("eth{n}");
                    n += 1;
                }
                ifaces.push(Iface {
                    guessed,
                    ..Iface::ethernet(iname, Some(imac.clone()))
                });
                ifaces.len() - 1
            }
            (None, None) => {
                if si.switch.is_some() || si.port.is_some() {
                    notes.push(format!(
                        "    // also seen: interface {} on {} {} (MAC unknown; declare it once known)\n",
                        comment(si.name.as_deref().unwrap_or("?")),
                        comment(si.switch.as_deref().unwrap_or("?")),
                        comment(si.port.as_deref().unwrap_or("?"))
                    ));
                }
                continue;
            }
        };
        if let (Some(sw), Some(port), None, Kind::Ethernet) =
            (&si.switch, &si.port, &ifaces[at].cable, ifaces[at].kind)
        {
            if let Some(Host::Switch(s)) = d.announced(sw) {
                let swname = d.eff.switches[s].name;
                ifaces[at].cable = Some((swname.to_string(), port.clone()));
                if let Some((node, other)) = port_owner(d, swname, port) {
                    notes.push(format!(
                        "    // note: {} is declared for `{node}` {other}: one of the two declarations is wrong\n",
                        comment(&format!("{sw} {port}"))
                    ));
                }
            }
        }
        // A leased address (the fact cache has the host's own).
        if let Some(ip) = si.ipv4.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) {
            if meaningful(ip) && !seen.iter().chain(&loopback).any(|x| x.ip == ip) {
                seen.push(Seen {
                    iface: ifaces[at].name.clone(),
                    ip,
                    prefix: None,
                    source: "its DHCP lease".to_string(),
                });
            }
        }
    }
    ifaces.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));

    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    // Addresses, one per network and family, in the site's network order.
    let mut per_net: BTreeMap<usize, (String, Vec<Seen>)> = BTreeMap::new();
    let mut outside: Vec<Seen> = Vec::new();
    for a in seen {
        let Some(k) = network_index(d, a.ip) else {
            outside.push(a);
            continue;
        };
        let entry = per_net
            .entry(k)
            .or_insert_with(|| (a.iface.clone(), Vec::new()));
        let same_family = entry.1.iter().any(|x| x.ip.is_ipv4() == a.ip.is_ipv4());
        if same_family || entry.0 != a.iface {
            let net = &d.site.networks[k].name.value;
            let why = if same_family {
                format!("a node has one address per network and family, and `{net}` already has one here")
            } else {
                format!(
                    "a node's address on `{net}` is on one interface, `{}` here",
                    entry.0
                )
            };
            dropped.push((a, why));
            continue;
        }
        entry.1.push(a);
    }
    let stub_name = name.as_str();
    let judge = |a: &Seen,
                 net: Option<&Network>,
                 notes: &mut Vec<String>,
                 diags: &mut Vec<Diagnostic>| {
        if let Some((what, span)) = taken(d, a.ip) {
            notes.push(format!("{} is {what}", a.ip));
            let mut g = Diagnostic::warning(
                Code::StateStubAddressTaken,
                format!(
                    "the stub of `{stub_name}` keeps its address {} ({}), which is {what}",
                    a.ip, a.source
                ),
            )
            .help("two machines answering on one address break both; `check` rejects the stub as written until you decide: renumber one of the machines (then write its new address in the stub), or, if the site's declaration is stale, correct it");
            if let Some(span) = span {
                g = g.label(span, "the site gives it here");
            }
            diags.push(g);
        }
        if let (Some(net), Some(p)) = (net, a.prefix) {
            if let Some(want) = prefix_len(net, a.ip).filter(|w| *w != p) {
                notes.push(format!(
                    "the machine has /{p}, `{}` is /{want}",
                    net.name.value
                ));
                diags.push(
                    Diagnostic::warning(
                        Code::StateStubAddressNotKept,
                        format!(
                            "`{stub_name}` has {}/{p} on {} ({}), but network `{}` is /{want}: its netplan will give it /{want}",
                            a.ip, a.iface, a.source, net.name.value
                        ),
                    )
                    .label(net.name.span, "declared here")
                    .help("the machine's on-link range changes when its netplan is applied: correct the network's prefix if the site's declaration is wrong, or accept the change knowingly"),
                );
            }
        }
    };
    for (k, (iface, addrs)) in &per_net {
        let net = &d.site.networks[*k];
        let mut fields = vec![format!("interface={}", q(iface))];
        let mut said: Vec<String> = Vec::new();
        for a in addrs.iter() {
            fields.push(format!(
                "{}={}",
                if a.ip.is_ipv4() { "ipv4" } else { "ipv6" },
                q(&a.ip.to_string())
            ));
            judge(a, Some(net), &mut said, &mut diags);
        }
        let note = if said.is_empty() {
            "// as observed".to_string()
        } else {
            format!("// as observed; DECIDE: {}", comment(&said.join("; ")))
        };
        lines.push(format!(
            "    address {} {} {note}\n",
            q(&net.name.value),
            fields.join(" ")
        ));
    }
    for a in &outside {
        lines.push(format!(
            "    address \"FILL-IN\" interface={} {}={} // FILL IN its network: {} is in no network the site declares\n",
            q(&a.iface),
            if a.ip.is_ipv4() { "ipv4" } else { "ipv6" },
            q(&a.ip.to_string()),
            a.ip
        ));
        diags.push(
            Diagnostic::warning(
                Code::StateStubAddressOutside,
                format!(
                    "`{name}` has address {} on {} ({}), which is in no network the site declares",
                    a.ip, a.iface, a.source
                ),
            )
            .help("the stub writes it on the network \"FILL-IN\", which `check` rejects: declare the network it is on (its prefix, VLAN and gateway as the machine uses them) and name it there; `auto` instead would give the machine another address, renumbering it"),
        );
    }
    // The loopback: the first address of each family on `lo`.
    let mut lo_fields: Vec<String> = Vec::new();
    let mut lo_said: Vec<String> = Vec::new();
    for a in loopback {
        let fam = if a.ip.is_ipv4() { "ipv4" } else { "ipv6" };
        if lo_fields.iter().any(|f| f.starts_with(fam)) {
            dropped.push((
                a,
                "a node has one loopback address per family, and the stub keeps the first".into(),
            ));
            continue;
        }
        lo_fields.push(format!("{fam}={}", q(&a.ip.to_string())));
        let net = network_of(d, a.ip);
        if net.is_none_or(|n| n.purpose.value != Purpose::Loopback) {
            lo_said.push(format!("{} is in no `purpose loopback` network", a.ip));
            diags.push(
                Diagnostic::warning(
                    Code::StateStubAddressOutside,
                    format!(
                        "`{name}` has loopback address {} ({}), which is in no network of purpose loopback",
                        a.ip, a.source
                    ),
                )
                .help("the stub keeps it as observed; if the fabric should carry it, declare (or widen) the loopback network to hold it, else renumber the loopback knowingly"),
            );
        }
        judge(&a, None, &mut lo_said, &mut diags);
    }
    if !lo_fields.is_empty() {
        let note = if lo_said.is_empty() {
            "// as observed".to_string()
        } else {
            format!("// as observed; DECIDE: {}", comment(&lo_said.join("; ")))
        };
        lines.push(format!("    loopback {} {note}\n", lo_fields.join(" ")));
    }
    for (a, why) in &dropped {
        notes.push(format!(
            "    // not kept: {} on {} ({})\n",
            a.ip,
            comment(&a.iface),
            comment(why)
        ));
        diags.push(
            Diagnostic::warning(
                Code::StateStubAddressNotKept,
                format!(
                    "the stub of `{name}` cannot keep address {} on {} ({}): {why}",
                    a.ip, a.iface, a.source
                ),
            )
            .help("when the machine's netplan is applied it loses this address: move what uses it to an address the stub keeps, or declare the machine by hand"),
        );
    }

    let mut out = String::new();
    // Comments quote what machines reported (names, ports): written
    // through `comment` so that no newline in them can end the comment.
    out.push_str(&format!(
        "// Stub for the unknown machine {m}{}, from `siteconf state --stub`.\n",
        comment(&u.location().map(|l| format!(" on {l}")).unwrap_or_default())
    ));
    if !u.hostnames.is_empty() || !u.addresses.is_empty() {
        let mut said = Vec::new();
        if !u.hostnames.is_empty() {
            said.push(format!("calls itself {}", u.hostnames.join(" / ")));
        }
        if !u.addresses.is_empty() {
            said.push(super::compare::addresses_text(&u.addresses));
        }
        out.push_str(&format!("// Observed: {}.\n", comment(&said.join("; "))));
    }
    out.push_str("// Review the name and interfaces, and fill in `position` before committing.\n");
    out.push_str(&format!("node {} {{\n", q(&name)));
    let rack = u.rack.clone().or_else(|| {
        ifaces
            .iter()
            .filter_map(|i| i.cable.as_ref())
            .find_map(|(sw, _)| d.rack_of_switch(sw))
    });
    match &rack {
        Some(r) => {
            out.push_str(&format!("    rack {}\n", q(r)));
            let free = free_units(d, r)
                .map(|f| {
                    if f.is_empty() {
                        format!("rack {r} has no free unit")
                    } else {
                        format!("free in {r}: {}", ranges(&f))
                    }
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "    position {POSITION_PLACEHOLDER} // FILL IN the lowest unit it occupies; {}\n",
                comment(&free)
            ));
        }
        None => {
            out.push_str(
                "    rack \"FILL-IN\" // not seen on any declared switch: which rack is it in?\n",
            );
            out.push_str(&format!(
                "    position {POSITION_PLACEHOLDER} // FILL IN the lowest unit it occupies\n"
            ));
        }
    }
    if !d.site.profiles.is_empty() {
        let names: Vec<&str> = d
            .site
            .profiles
            .iter()
            .map(|p| p.name.value.as_str())
            .collect();
        out.push_str(&format!(
            "    // role and profiles: not observed; a profile's interfaces and addresses merge with the observed ones below (the site has {})\n",
            comment(&names.join(", "))
        ));
    }
    for i in &ifaces {
        out.push_str(&i.line());
    }
    for l in lines {
        out.push_str(&l);
    }
    for nline in notes {
        out.push_str(&nline);
    }
    out.push_str("}\n");
    Ok(Stub { text: out, diags })
}

/// The declared node interface cabled to a switch port.
fn port_owner(d: &Declared, switch: &str, port: &str) -> Option<(String, String)> {
    d.eff.nodes.iter().find_map(|n| {
        n.interfaces
            .iter()
            .find(|i| {
                i.decl.switch.as_ref().is_some_and(|s| s.value == switch)
                    && i.decl.port.as_ref().is_some_and(|p| p.value == port)
            })
            .map(|i| (n.name.to_string(), i.name.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, mac: Option<&str>, kind: &str) -> crate::state::input::facts::IfaceFacts {
        crate::state::input::facts::IfaceFacts {
            name: name.into(),
            mac: mac.map(|m| m.parse().unwrap()),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            kind: Some(kind.into()),
            active: None,
            mtu: None,
            members: Vec::new(),
            bond_mode: None,
        }
    }

    #[test]
    fn what_a_fact_interface_is() {
        let m = Some("52:54:00:0b:00:04");
        let all = vec![
            iface("ens1f0", m, "ether"),
            iface("bond0", m, "bonding"),
            iface("bond0.200", m, "ether"),
            iface("lo", None, "loopback"),
            iface("vlan.x", m, "ether"),
        ];
        assert!(is_nic(&all[0], &all));
        assert!(!is_nic(&all[1], &all));
        // A VLAN has its parent's MAC and Ansible calls it `ether`.
        assert_eq!(vlan_of(&all[2], &all), Some(("bond0", 200)));
        assert!(!is_nic(&all[2], &all));
        assert!(is_loopback(&all[3]) && !is_nic(&all[3], &all));
        // A dot in a name is a VLAN only after another interface's name.
        assert_eq!(vlan_of(&all[4], &all), None);
    }

    #[test]
    fn which_addresses_place_a_machine() {
        for a in ["10.0.2.50", "2001:db8::5", "192.168.1.1"] {
            assert!(meaningful(a.parse().unwrap()), "{a}");
        }
        for a in [
            "127.0.0.1",
            "::1",
            "fe80::1",
            "169.254.3.3",
            "0.0.0.0",
            "ff02::1",
        ] {
            assert!(!meaningful(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(ranges(&[]), "");
        assert_eq!(q("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert!(is_ifname("enp1s0f0"));
        assert!(!is_ifname("Intel Corp. I350"));
        assert!(!is_ifname("a-very-long-interface"));
    }
}
