//! `--stub MAC`: a node declaration (KDL) for an unknown machine, from what
//! was observed about it, ready to paste into a site file. Its users adopt
//! machines that already run: the stub declares the machine as it is, so
//! that building it renumbers nothing.
//!
//! - Interfaces: every NIC with its own MAC (Ansible's permanent MAC for a
//!   bond member), bonds as `kind bond; members …; mode …`, VLAN
//!   interfaces as `kind vlan; link …; vlan …` (`bond0.200` by its name;
//!   `storage0`, an interface without a driver that has a bond's or NIC's
//!   MAC, over that one, its id the VLAN of its address's network, said
//!   `DECIDE`, SC1018), with the MTU the machine runs; from the fact
//!   cache, else from what LLDP and DHCP saw of it (one interface per MAC).
//! - Hardware: `serial` and `model` from DMI facts, placeholders left out
//!   (the serial is part of cloud-init's instance-id: without it the
//!   machine is a new instance and regenerates its SSH host keys).
//! - BGP (`--bgp`, the summary named after the machine): its own AS
//!   literally, never `auto`, and one session per neighbour to the declared
//!   switch it is cabled to or peers with; what cannot be written as
//!   observed is a `DECIDE` comment and SC1017.
//! - Cabling: the machine's own LLDP dump, matched by interface name, and
//!   what the switches heard, matched by MAC.
//! - Addresses: each observed one written literally (`ipv4="10.0.2.50"`,
//!   never `auto`, which allocates another) on the network whose prefix
//!   holds it, the host's loopback addresses as `loopback`. What cannot
//!   be kept as observed is said beside it and as a diagnostic: an address
//!   in no declared network (written on the network `"FILL-IN"`, which
//!   `check` rejects until someone decides, SC1014), one the site gives to
//!   something else or reserves (written as observed, so `check` reports
//!   the collision, SC1015; a released lock line of the stub's own node is
//!   only said, one of another owner said more softly), and one siteconf cannot declare (a second
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

use super::compare::{
    is_loopback, is_nic, vlan_parent, Declared, Host, UnknownMachine, GENERIC_NAMES,
};
use super::input::bgp::{BgpSummary, PeerState};
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
    /// Said beside it (a VLAN id that was not observed).
    note: Option<String>,
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
            note: None,
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
        match (self.kind, self.vlan) {
            (_, Some(v)) => f.push(format!("vlan {v}")),
            // `check` rejects it until someone writes the id.
            (Kind::Vlan, None) => f.push(format!("vlan {POSITION_PLACEHOLDER}")),
            _ => {}
        }
        if let Some(m) = self.mtu {
            f.push(format!("mtu {m}"));
        }
        let note = if self.guessed {
            " // name not observed: write the one the machine has (netplan renames the NIC to this)"
                .to_string()
        } else if let Some(n) = &self.note {
            format!(" // {}", comment(n))
        } else {
            String::new()
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

/// What the site already gives or keeps a value for.
struct Taken {
    what: String,
    span: Option<Span>,
    /// Only a line of siteconf.lock holds it, and that line is released
    /// (its owner gave it up) or is the stub's own node's: no machine of
    /// the site is given it.
    lock: Option<LockHold>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockHold {
    /// A line of the node the stub declares (a machine adopted back under
    /// its old name), released or not: its own value, nothing to decide.
    Own { released: bool },
    /// A released line of another owner.
    Released,
}

/// A line of siteconf.lock that holds `value` (an address, an ASN), of
/// the key `key` when given (`asn`), for a stub of node `name`.
fn lock_line(d: &Declared, name: &str, value: &str, key: Option<&str>) -> Option<Taken> {
    let own = format!("node/{name}");
    let e = d
        .resolved
        .lock
        .entries
        .iter()
        .filter(|e| e.value == value && key.is_none_or(|k| e.key == k))
        // The stub's own line first: a value is at most once in a lock.
        .min_by_key(|e| (e.owner != own, e.released))?;
    let lock = if e.owner == own {
        Some(LockHold::Own {
            released: e.released,
        })
    } else if e.released {
        Some(LockHold::Released)
    } else {
        None
    };
    Some(Taken {
        what: format!(
            "`{} {}` in siteconf.lock{}",
            e.owner,
            e.key,
            if e.released { " (released)" } else { "" }
        ),
        span: (!e.span.is_builtin()).then_some(e.span),
        lock,
    })
}

/// What the site already gives or keeps `ip` for, with where: another
/// node's address or loopback (fixed or allocated), a switch loopback, a
/// gateway, a DNS server, a reserved range, a line of siteconf.lock, or a
/// network's own or broadcast address.
fn taken(d: &Declared, name: &str, ip: IpAddr) -> Option<Taken> {
    taken_by_site(d, ip)
        .map(|(what, span)| Taken {
            what,
            span,
            lock: None,
        })
        .or_else(|| lock_line(d, name, &ip.to_string(), None))
}

fn taken_by_site(d: &Declared, ip: IpAddr) -> Option<(String, Option<Span>)> {
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
    None
}

/// The comment beside a value kept as observed: what is only said
/// (`known`), then what someone must decide.
fn as_observed(decide: &[String], known: &[String]) -> String {
    let mut out = "// as observed".to_string();
    if !known.is_empty() {
        out.push_str(&format!("; {}", comment(&known.join("; "))));
    }
    if !decide.is_empty() {
        out.push_str(&format!("; DECIDE: {}", comment(&decide.join("; "))));
    }
    out
}

/// The parameters of an observed bond that the site format cannot hold
/// (it has `mode` only) and that differ from what the kernel gives a bond
/// siteconf's netplan creates: `lacp_rate` other than slow, `miimon`
/// other than 100, any `primary`. Said in a `not kept` comment and with
/// SC1019: after adoption the bond runs the kernel's value (slow LACP:
/// a member whose partner stops answering is taken out after 90 s, not 3 s).
fn bond_params(
    f: &HostFacts,
    i: &crate::state::input::facts::IfaceFacts,
    notes: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let lost: Vec<String> = i
        .bond_params
        .iter()
        .filter(|(k, v)| match *k {
            "lacp_rate" => v != "slow",
            "miimon" => v != "100",
            _ => !v.is_empty(),
        })
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if lost.is_empty() {
        return;
    }
    let list = lost.join(", ");
    notes.push(format!(
        "    // not kept: bond {} parameters {} (siteconf sets a bond's mode only)\n",
        comment(&i.name),
        comment(&list)
    ));
    diags.push(
        Diagnostic::warning(
            Code::StateStubBondParamsNotKept,
            format!(
                "the stub cannot keep bond {}'s {list} ({}): siteconf's netplan sets a bond's `mode` only",
                i.name, f.path
            ),
        )
        .help("when the machine's netplan is applied the bond runs the kernel's defaults (lacp_rate slow: a member whose partner stops answering while its link stays up is taken out after 90 s, not 3 s; miimon 100; no primary): set the parameters with a template override of the node's netplan, or accept the defaults knowingly"),
    );
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
    diags: &mut Vec<Diagnostic>,
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
            // Two NIC-looking interfaces with one MAC, and no driver
            // reported to tell the NIC from a VLAN over it: the first
            // (by name) is written as the NIC, never the other as a
            // second NIC with that MAC.
            let twin = i
                .mac
                .filter(|_| is_nic(i, all))
                .and_then(|m| {
                    all.iter()
                        .find(|x| x.name < i.name && x.mac == Some(m) && is_nic(x, all))
                })
                .map(|x| x.name.clone());
            let iface = if software || interface_name_problem(&i.name).is_some() {
                None
            } else if kind == "bonding" || !i.members.is_empty() {
                Some(Iface {
                    kind: Kind::Bond,
                    members: i.members.clone(),
                    mode: i.bond_mode.clone(),
                    ..Iface::ethernet(i.name.clone(), None)
                })
            } else if let Some((link, vlan)) = vlan_parent(i, all) {
                // Never a NIC with its parent's MAC (`storage0` over
                // `bond0`): that would be two interfaces with one MAC.
                Some(Iface {
                    kind: Kind::Vlan,
                    link: Some(link.to_string()),
                    vlan,
                    ..Iface::ethernet(i.name.clone(), None)
                })
            } else if twin.is_some() {
                None
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
                    if x.kind == Kind::Bond {
                        bond_params(f, i, notes, diags);
                    }
                    // Written unless it is 1500 and siteconf would give
                    // 1500 without `mtu` (a VLAN takes its parent's).
                    let inherited = x
                        .link
                        .as_ref()
                        .and_then(|l| all.iter().find(|p| p.name == *l))
                        .and_then(|p| p.mtu)
                        .unwrap_or(1500);
                    x.mtu = i
                        .mtu
                        .filter(|m| (*m != 1500 || inherited != 1500) && (576..=9216).contains(m));
                    ifaces.push(x);
                    seen.extend(addrs);
                }
                None => {
                    let what = if software {
                        format!("{kind}, software")
                    } else if let Some(t) = &twin {
                        diags.push(
                            Diagnostic::warning(
                                Code::StateStubVlanUndecided,
                                format!(
                                    "{} has the MAC of {t} ({}) and the facts give no driver to tell which is the NIC: the stub declares {t} as the NIC and leaves {} out",
                                    i.name, f.path, i.name
                                ),
                            )
                            .help(format!("if {} is a VLAN over {t}, declare it `kind vlan; link \"{t}\"; vlan N` with the id `ip -d link show {}` gives, and its address on it; two interfaces with one MAC would be two NICs to siteconf", i.name, i.name)),
                        );
                        format!("{kind} with the MAC of {t}: a VLAN over it? declare it by hand")
                    } else {
                        kind.to_string()
                    };
                    notes.push(format!(
                        "    // not declared: interface {} ({}){}\n",
                        comment(&i.name),
                        comment(&what),
                        if twin.is_some() {
                            ""
                        } else {
                            ", not an ethernet port, bond or VLAN siteconf declares"
                        }
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

    let mut diags: Vec<Diagnostic> = Vec::new();
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
        &mut diags,
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
    // A VLAN whose id no fact gives (`storage0`): the VLAN of the network
    // its address is on is the one `check` accepts, written and said;
    // without one, the engineer writes it.
    for i in ifaces
        .iter_mut()
        .filter(|i| i.kind == Kind::Vlan && i.vlan.is_none())
    {
        let net = per_net
            .iter()
            .find(|(_, (iface, _))| *iface == i.name)
            .map(|(k, _)| &d.site.networks[*k]);
        let parent = i.link.clone().unwrap_or_default();
        let (text, note) = match net.and_then(|n| Some((n, n.vlan.as_ref()?.value))) {
            Some((n, v)) => {
                i.vlan = Some(v);
                (
                    format!(
                        "the stub of `{name}` declares {} as VLAN {v} over {parent}, the VLAN of network `{}` its address is on; the machine's VLAN id was not observed",
                        i.name, n.name.value
                    ),
                    format!(
                        "DECIDE: VLAN id not observed; {v} is the VLAN of `{}`, the network of its address (`ip -d link show {}` says the machine's)",
                        n.name.value, i.name
                    ),
                )
            }
            None => (
                format!(
                    "the stub of `{name}` declares {} as a VLAN over {parent} (an interface without a driver that has {parent}'s MAC), but its VLAN id was not observed",
                    i.name
                ),
                format!(
                    "FILL IN the VLAN id: not observed (`ip -d link show {}` says it)",
                    i.name
                ),
            ),
        };
        i.note = Some(note);
        diags.push(
            Diagnostic::warning(Code::StateStubVlanUndecided, text)
                .help(format!("Ansible's facts do not give a VLAN's id; read it on the machine (`ip -d link show {}`, or /proc/net/vlan/config) and write it in the stub: with another id, applying its netplan moves the interface to another VLAN and cuts the machine off that network", i.name)),
        );
    }
    let stub_name = name.as_str();
    let judge = |a: &Seen,
                 net: Option<&Network>,
                 notes: &mut Vec<String>,
                 known: &mut Vec<String>,
                 diags: &mut Vec<Diagnostic>| {
        // SC1015: the address kept, which the site gave (or gives) to
        // another machine: `which` finishes the sentence.
        let taken_warning = |which: String, help: &str, label: Option<(Span, &str)>| {
            let g = Diagnostic::warning(
                Code::StateStubAddressTaken,
                format!(
                    "the stub of `{stub_name}` keeps its address {} ({}), which {which}",
                    a.ip, a.source
                ),
            )
            .help(help);
            match label {
                Some((span, text)) => g.label(span, text),
                None => g,
            }
        };
        match taken(d, stub_name, a.ip) {
            None => {}
            // Adopted back under its old name: the lock remembers it.
            Some(Taken {
                lock: Some(LockHold::Own { released }),
                ..
            }) => known.push(if released {
                format!("{} was this node's in siteconf.lock (released)", a.ip)
            } else {
                format!("{} is this node's in siteconf.lock", a.ip)
            }),
            Some(Taken {
                what,
                span,
                lock: Some(LockHold::Released),
            }) => {
                notes.push(format!("{} was {what}", a.ip));
                diags.push(taken_warning(
                    format!("was another machine's: {what}"),
                    "siteconf gives it to no machine now and `check` accepts the stub; but if the machine that had it still answers on it (not yet switched off or renumbered), two machines answer on one address and both break: make sure it does not before applying the adopted machine's files",
                    span.map(|s| (s, "released here")),
                ));
            }
            Some(Taken { what, span, .. }) => {
                notes.push(format!("{} is {what}", a.ip));
                diags.push(taken_warning(
                    format!("is {what}"),
                    "two machines answering on one address break both; `check` rejects the stub as written until you decide: renumber one of the machines (then write its new address in the stub), or, if the site's declaration is stale, correct it",
                    span.map(|s| (s, "the site gives it here")),
                ));
            }
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
        let mut known: Vec<String> = Vec::new();
        for a in addrs.iter() {
            fields.push(format!(
                "{}={}",
                if a.ip.is_ipv4() { "ipv4" } else { "ipv6" },
                q(&a.ip.to_string())
            ));
            judge(a, Some(net), &mut said, &mut known, &mut diags);
        }
        let note = as_observed(&said, &known);
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
    let mut lo_known: Vec<String> = Vec::new();
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
        judge(&a, None, &mut lo_said, &mut lo_known, &mut diags);
    }
    if !lo_fields.is_empty() {
        let note = as_observed(&lo_said, &lo_known);
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

    let bgp = bgp_block(d, observed, u, &facts, &name, &ifaces, &mut diags);
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
    out.push_str(
        "// Review the name and interfaces, and fill in `position` (and `height`) before committing.\n",
    );
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
    // Nothing observed says how many units a machine takes: a 2U machine
    // left at the default 1U passes `check` and draws wrong in the rack
    // diagram, so the stub says so where the value would go.
    out.push_str(
        "    // height 2 // not observed: set it if the machine takes more than one unit (default 1)\n",
    );
    // cloud-init's instance-id holds the serial: without it the adopted
    // machine is a new instance to cloud-init (new SSH host keys).
    if let Some(f) = facts
        .iter()
        .find(|f| f.serial.is_some() || f.model.is_some())
    {
        if let Some(m) = &f.model {
            out.push_str(&format!(
                "    model {} // as observed (product_name)\n",
                q(m)
            ));
        }
        if let Some(sn) = &f.serial {
            out.push_str(&format!(
                "    serial {} // as observed (product_serial); part of its cloud-init instance-id\n",
                q(sn)
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
    out.push_str(&bgp);
    for nline in notes {
        out.push_str(&nline);
    }
    out.push_str("}\n");
    Ok(Stub { text: out, diags })
}

/// The BGP summaries of the machine: files named after what it calls
/// itself (its inventory name, host name or FQDN), not after a declared
/// host.
fn summaries_of<'o>(
    d: &Declared,
    observed: &'o Observed,
    u: &UnknownMachine,
    facts: &[&HostFacts],
) -> Vec<&'o BgpSummary> {
    let names: BTreeSet<String> = u
        .hostnames
        .iter()
        .map(String::as_str)
        .chain(facts.iter().map(|f| f.inventory_name.as_str()))
        .filter(|h| !GENERIC_NAMES.contains(&h.to_ascii_lowercase().as_str()))
        .map(str::to_ascii_lowercase)
        .collect();
    observed
        .bgp
        .iter()
        .filter(|b| d.host(&b.host).is_none() && names.contains(&b.host.to_ascii_lowercase()))
        .collect()
}

/// The declared switch at the far end of an observed session: the one
/// the interface is cabled to (unnumbered), the one that has the peer's
/// address (numbered), else the one FRR's `hostname` names; and, when
/// two of these disagree, what the other one says.
fn peer_switch(d: &Declared, p: &PeerState, ifaces: &[Iface]) -> (Option<String>, Option<String>) {
    let by_name = p.hostname.as_deref().and_then(|h| match d.announced(h) {
        Some(Host::Switch(s)) => Some(d.eff.switches[s].name.to_string()),
        _ => None,
    });
    let by_path = match p.key.parse::<IpAddr>() {
        Ok(ip) => d.site.switches.iter().find_map(|s| {
            let lo = s
                .loopback4
                .as_ref()
                .is_some_and(|l| IpAddr::V4(l.value) == ip)
                || s.loopback6
                    .as_ref()
                    .is_some_and(|l| IpAddr::V6(l.value) == ip);
            let port = s
                .interfaces
                .iter()
                .any(|i| i.addresses.iter().any(|a| a.value.addr() == ip));
            (lo || port).then(|| s.name.value.clone())
        }),
        Err(_) => ifaces
            .iter()
            .find(|i| i.name == p.key)
            .and_then(|i| i.cable.as_ref())
            .map(|(sw, _)| sw.clone()),
    };
    match (by_path, by_name) {
        (Some(a), Some(b)) if a != b => (Some(a), Some(b)),
        (Some(a), _) => (Some(a), None),
        (None, b) => (b, None),
    }
}

/// The `bgp` block of the stub: the local AS and one session per
/// neighbour the machine's FRR has, as observed. Without it the machine's
/// FRR, its netplan's link-local addresses and its switches' sessions are
/// built without BGP, and its loopback becomes unreachable.
fn bgp_block(
    d: &Declared,
    observed: &Observed,
    u: &UnknownMachine,
    facts: &[&HostFacts],
    name: &str,
    ifaces: &[Iface],
    diags: &mut Vec<Diagnostic>,
) -> String {
    let sums = summaries_of(d, observed, u, facts);
    let Some(b) = sums.first() else {
        return String::new();
    };
    if b.local_as.is_none() && b.peers.is_empty() {
        // `{}`: the machine runs no BGP.
        return String::new();
    }
    let undecided = |msg: String, help: &str| {
        Diagnostic::warning(Code::StateStubBgpUndecided, msg).help(help.to_string())
    };
    let mut out = String::new();
    // The local AS: literal, never `auto` (which would renumber it).
    let (asn, asn_note) = match b.local_as.and_then(|a| u32::try_from(a).ok()) {
        Some(a) => {
            let text = a.to_string();
            let by_site = d
                .eff
                .nodes
                .iter()
                .find(|n| n.asn.as_ref().is_some_and(|x| x.value == a))
                .map(|n| {
                    (
                        format!("node `{}`'s ASN", n.name),
                        n.asn.as_ref().map(|x| x.span),
                    )
                })
                .or_else(|| {
                    d.site.switches.iter().find_map(|s| {
                        let x = s.asn.as_ref().filter(|x| x.value == a)?;
                        Some((format!("switch `{}`'s ASN", s.name.value), Some(x.span)))
                    })
                });
            let lock = lock_line(d, name, &text, Some("asn"));
            let note = match (by_site, lock) {
                (Some((what, span)), _) => {
                    let mut g = undecided(
                        format!("the stub of `{name}` keeps its AS {a} ({}), which is {what}", b.path),
                        "two routers of one AS in the fabric drop each other's routes (eBGP loop prevention): renumber one of them knowingly (the other end's sessions change too), or correct a stale declaration",
                    );
                    if let Some(span) = span.filter(|s| !s.is_builtin()) {
                        g = g.label(span, "the site gives it here");
                    }
                    diags.push(g);
                    format!("as observed; DECIDE: {a} is {what}")
                }
                (
                    None,
                    Some(Taken {
                        lock: Some(LockHold::Own { released }),
                        ..
                    }),
                ) => {
                    if released {
                        format!("as observed; {a} was this node's in siteconf.lock (released)")
                    } else {
                        format!("as observed; {a} is this node's in siteconf.lock")
                    }
                }
                (None, Some(Taken { what, span, lock })) => {
                    let mut g = undecided(
                        format!(
                            "the stub of `{name}` keeps its AS {a} ({}), which is {what}",
                            b.path
                        ),
                        if lock.is_some() {
                            "siteconf gives it to no machine now; if the router that had it still runs, two routers of one AS drop each other's routes: make sure it does not"
                        } else {
                            "`check` reports the collision with the lock: decide which machine keeps it"
                        },
                    );
                    if let Some(span) = span {
                        g = g.label(span, "in the lock here");
                    }
                    diags.push(g);
                    format!("as observed; DECIDE: {a} is {what}")
                }
                (None, None) => "as observed".to_string(),
            };
            (text, note)
        }
        None => {
            diags.push(undecided(
                format!("the stub of `{name}` has BGP sessions ({}) but its own AS was not observed", b.path),
                "write the AS its FRR runs (`router bgp N`, or `as` in `show bgp summary json`) in the stub; `auto` would give it another one and every session would have to be set up again",
            ));
            (
                POSITION_PLACEHOLDER.to_string(),
                "FILL IN the AS its FRR runs (`router bgp N`); not `auto`, which renumbers it"
                    .to_string(),
            )
        }
    };
    out.push_str(&format!(
        "    // BGP as observed in {}\n    bgp asn={asn} {{ // {}\n",
        comment(&b.path),
        comment(&asn_note)
    ));
    let mut keys: Vec<&str> = Vec::new();
    for p in &b.peers {
        if !keys.contains(&p.key.as_str()) {
            keys.push(&p.key);
        }
    }
    let mut to: BTreeSet<String> = BTreeSet::new();
    for key in keys {
        let Some(p) = b.peer(key) else { continue };
        let numbered = key.parse::<IpAddr>().is_ok();
        let (switch, other) = peer_switch(d, p, ifaces);
        let state = if p.established() {
            String::new()
        } else {
            format!("; observed {}, not Established", p.state)
        };
        let over = if numbered {
            format!("peer-address={}", q(key))
        } else {
            format!("interface={}", q(key))
        };
        let unnumbered_iface_ok = numbered || ifaces.iter().any(|i| i.name == key);
        let Some(sw) = switch.filter(|sw| !to.contains(sw) && unnumbered_iface_ok) else {
            // Not written as a session: commented out, and said.
            let why = if !unnumbered_iface_ok {
                format!("{key} is no interface the stub declares")
            } else if let Some(sw) = peer_switch(d, p, ifaces).0 {
                format!("a node has one session per switch, and `{sw}` already has one")
            } else {
                format!(
                    "its far end{} is no switch the site declares",
                    p.hostname
                        .as_deref()
                        .map(|h| format!(" (`{h}`)"))
                        .unwrap_or_default()
                )
            };
            out.push_str(&format!(
                "        // DECIDE: session {over}{} not declared: {}{}\n",
                p.remote_as
                    .map(|a| format!(" remote-as={a}"))
                    .unwrap_or_default(),
                comment(&why),
                comment(&state)
            ));
            diags.push(undecided(
                format!("the stub of `{name}` does not declare its BGP session with {key} ({}): {why}", b.path),
                "when its FRR is built from the site this session is gone: declare the far end (a switch, or a `bgp-peer`) and the session, or remove the session on the machine knowingly",
            ));
            continue;
        };
        to.insert(sw.clone());
        let mut fields = vec![over];
        let mut said: Vec<String> = Vec::new();
        let declared_as = d
            .site
            .switches
            .iter()
            .find(|s| s.name.value == sw)
            .and_then(|s| s.asn.as_ref())
            .map(|a| a.value);
        if let Some(ra) = p
            .remote_as
            .filter(|ra| declared_as.is_some_and(|x| u64::from(x) != *ra))
        {
            // `check` compares it with the switch's ASN and says which.
            fields.push(format!("remote-as={ra}"));
            said.push(format!(
                "the far end runs AS {ra}, `{sw}` is declared with {}",
                declared_as.unwrap_or_default()
            ));
        }
        if let Some(o) = &other {
            said.push(format!(
                "cabled to `{sw}`, but FRR calls the neighbour `{o}`"
            ));
        }
        for s in &said {
            diags.push(undecided(
                format!("the stub of `{name}` declares its BGP session over {key} with `{sw}`, but {s} ({})", b.path),
                "a session to the wrong switch never comes up: correct the cabling or the switch's declaration, then the stub",
            ));
        }
        let note = if said.is_empty() {
            format!("// as observed{state}")
        } else {
            format!(
                "// as observed{state}; DECIDE: {}",
                comment(&said.join("; "))
            )
        };
        out.push_str(&format!(
            "        session {} {} {note}\n",
            q(&sw),
            fields.join(" ")
        ));
    }
    out.push_str("    }\n");
    if sums.len() > 1 {
        out.push_str(&format!(
            "    // BGP: also {} (the first one is kept)\n",
            comment(
                &sums[1..]
                    .iter()
                    .map(|b| b.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        ));
    }
    out
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
            bond_params: Vec::new(),
            module: None,
        }
    }

    #[test]
    fn what_a_fact_interface_is() {
        let m = Some("52:54:00:0b:00:04");
        let mut bond = iface("bond0", m, "bonding");
        bond.members = vec!["ens1f0".into()];
        let all = vec![
            iface("ens1f0", m, "ether"),
            bond,
            iface("bond0.200", m, "ether"),
            iface("lo", None, "loopback"),
            iface("vlan.x", m, "ether"),
        ];
        assert!(is_nic(&all[0], &all));
        assert!(!is_nic(&all[1], &all));
        // A VLAN has its parent's MAC and Ansible calls it `ether`.
        assert_eq!(vlan_parent(&all[2], &all), Some(("bond0", Some(200))));
        assert!(!is_nic(&all[2], &all));
        assert!(is_loopback(&all[3]) && !is_nic(&all[3], &all));
        // Any other interface with the bond's MAC and no driver is a VLAN
        // over it, its id unknown (`storage0`, or `vlan.x`).
        assert_eq!(vlan_parent(&all[4], &all), Some(("bond0", None)));
        assert!(!is_nic(&all[4], &all));
        // A NIC with a driver sharing a MAC stays a NIC; so does a member.
        let with = |mut i: crate::state::input::facts::IfaceFacts| {
            i.module = Some("ixgbe".into());
            i
        };
        let all = vec![
            with(iface("eno1", m, "ether")),
            with(iface("eno2", m, "ether")),
            iface("storage0", m, "ether"),
        ];
        assert!(is_nic(&all[0], &all) && is_nic(&all[1], &all));
        assert_eq!(vlan_parent(&all[2], &all), Some(("eno1", None)));
        let mut bond = iface("bond0", m, "bonding");
        bond.members = vec!["ens1f0".into()];
        let all = vec![iface("ens1f0", m, "ether"), bond.clone()];
        assert_eq!(vlan_parent(&all[0], &all), None);
        assert!(is_nic(&all[0], &all));
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
    fn what_is_said_beside_a_kept_value() {
        assert_eq!(as_observed(&[], &[]), "// as observed");
        let known = ["10.0.1.3 was this node's in siteconf.lock (released)".to_string()];
        // A value of the node's own is said, not given to decide.
        assert!(!as_observed(&[], &known).contains("DECIDE"));
        let decide = ["10.0.0.50 is node `r01s01`'s address".to_string()];
        assert_eq!(
            as_observed(&decide, &known),
            "// as observed; 10.0.1.3 was this node's in siteconf.lock (released); DECIDE: 10.0.0.50 is node `r01s01`'s address"
        );
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
