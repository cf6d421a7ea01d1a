//! The comparison: the fleet as observed against the fleet as declared.
//!
//! The declared side is what the compiled artifacts say (the template
//! views of [`crate::render::context`]: effective addresses with their
//! allocations, FQDNs, cabling); spans for diagnostics come from the
//! resolved model, so a finding points at the interface, address or
//! session declaration that it contradicts.
//!
//! Observations are first attributed ([`attribute`]): each fact file, LLDP
//! dump, lease and BGP summary is tied to a declared node (by name, FQDN or
//! a declared MAC), a declared switch, or to an unknown machine. Then every
//! node is checked against what was attributed to it, in site order, one
//! file per check: [`cabling`], [`mac`] (and interfaces missing on the
//! host), [`hostname`], [`addresses`], [`bgp`] (after SC1022 if its facts
//! are old). A node nothing saw is SC1001 alone: a switch's view of a
//! session that is not up is no sighting. Then each switch's own BGP
//! ([`switches`]). Unknown observations are grouped into machines
//! ([`unknown`]: by MAC, chassis id or the host a file is named after),
//! and one on a node's address is that node's finding (SC1021). Everything iterates ordered collections, so the
//! findings come out in the same order on every run.

mod addresses;
mod attribute;
mod bgp;
mod cabling;
mod hostname;
mod mac;
mod switches;
mod unknown;

pub(crate) use attribute::{is_loopback, is_nic, vlan_parent};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;

use crate::diag::{Code, Diagnostic};
use crate::model::{Interface, Mac, Node, Site};
use crate::resolve::effective::EffSite;
use crate::resolve::{Resolved, ResolvedNode};

use super::input::bgp::{BgpSummary, PeerState};
use super::input::facts::HostFacts;
use super::input::leases::Lease;
use super::input::Observed;

/// Which kind of input saw something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeenIn {
    Facts,
    Lldp,
    Dhcp,
    Bgp,
}

impl SeenIn {
    pub fn as_str(self) -> &'static str {
        match self {
            SeenIn::Facts => "facts",
            SeenIn::Lldp => "lldp",
            SeenIn::Dhcp => "dhcp",
            SeenIn::Bgp => "bgp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStatus {
    Ok,
    Drift,
    NeverSeen,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Ok => "ok",
            NodeStatus::Drift => "drift",
            NodeStatus::NeverSeen => "never-seen",
        }
    }
}

/// A finding, with the node it concerns (for per-node views).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub node: Option<String>,
    pub diag: Diagnostic,
}

/// One declared node after comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeState {
    pub name: String,
    pub fqdn: String,
    pub rack: Option<String>,
    pub position: Option<u32>,
    pub status: NodeStatus,
    pub seen_in: Vec<SeenIn>,
    /// The codes of its findings, sorted, unique.
    pub codes: Vec<&'static str>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SwitchState {
    pub name: String,
    pub rack: Option<String>,
    pub position: Option<u32>,
    /// Whether any input came from or mentions the switch.
    pub seen: bool,
}

/// One interface of an unknown machine, as far as it was observed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SeenIface {
    pub name: Option<String>,
    pub mac: Option<String>,
    pub switch: Option<String>,
    pub port: Option<String>,
    /// An IPv4 address it has (from a lease or the fact cache).
    pub ipv4: Option<String>,
}

/// A machine no node declares.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnknownMachine {
    pub macs: Vec<String>,
    pub interfaces: Vec<SeenIface>,
    /// Names it goes by: inventory name, LLDP sysname, DHCP client name.
    pub hostnames: Vec<String>,
    pub addresses: Vec<String>,
    /// The rack of the (first) switch it is cabled to.
    pub rack: Option<String>,
    pub seen_in: Vec<SeenIn>,
    /// The input files (and lease lines) that mention it.
    pub evidence: Vec<String>,
}

impl UnknownMachine {
    /// What its finding calls it: its first MAC, else `its name`.
    pub fn ident(&self) -> String {
        match (self.macs.first(), self.hostnames.first()) {
            (Some(m), _) => m.clone(),
            (None, Some(h)) => format!("`{h}`"),
            (None, None) => "?".to_string(),
        }
    }

    /// The input file (and line, for a lease) it was first seen in.
    pub fn first_seen(&self) -> Option<(String, usize)> {
        let ev = self.evidence.first()?;
        Some(match ev.rsplit_once(':') {
            Some((path, line)) if line.parse::<usize>().is_ok() => {
                (path.to_string(), line.parse().unwrap_or(1))
            }
            _ => (ev.clone(), 1),
        })
    }

    /// `r01-tor1 swp20`, for messages.
    pub fn location(&self) -> Option<String> {
        let ports: Vec<String> = self
            .interfaces
            .iter()
            .filter_map(|i| Some(format!("{} {}", i.switch.as_ref()?, i.port.as_ref()?)))
            .collect();
        (!ports.is_empty()).then(|| ports.join(", "))
    }
}

/// The result of comparing.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub nodes: Vec<NodeState>,
    pub switches: Vec<SwitchState>,
    pub unknown: Vec<UnknownMachine>,
    pub findings: Vec<Finding>,
    /// (MAC, node) for MACs no interface declares that a node's name
    /// claims (a lease naming it): not unknown machines.
    pub node_macs: Vec<(String, String)>,
    /// Input files and leases about hosts of the project's other sites
    /// (skipped), by site.
    pub other_sites: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    Node(usize),
    Switch(usize),
}

/// Lookups over the declared site: by host name, by MAC, by switch port.
/// (Hash maps only answer lookups here; nothing iterates them into output.)
pub struct Declared<'a> {
    pub site: &'a Site,
    pub resolved: &'a Resolved,
    pub eff: &'a EffSite<'a>,
    hosts: HashMap<String, Host>,
    macs: HashMap<Mac, (usize, usize)>,
    link_ports: HashSet<(String, String)>,
    /// Hosts (names, FQDNs) and MACs of the project's other sites → site.
    other: HashMap<String, String>,
    other_macs: HashMap<Mac, String>,
}

fn lower(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

/// A switch's out-of-band management port (Cumulus/SONiC `eth0`, others'
/// `mgmt`): what LLDP hears there is the OOB network, not the fabric.
pub const MGMT_PORTS: &[&str] = &[
    "eth0",
    "mgmt",
    "eth-mgmt",
    "ma1",
    "Management0",
    "Management1",
];

/// Names installers give every machine: no hint of which machine it is.
pub const GENERIC_NAMES: &[&str] = &[
    "localhost",
    "ubuntu",
    "ubuntu-server",
    "debian",
    "fedora",
    "centos",
    "rocky",
    "almalinux",
    "rhel",
    "archlinux",
    "raspberrypi",
    "install",
    "installer",
    "none",
];

/// The identity token of a name an unknown machine goes by (the file a
/// fact cache or LLDP dump is named after, what it calls itself in facts,
/// LLDP or DHCP): the name in this site's domain, so that
/// `legacy01.dc1.example.net` and `legacy01` are one machine, while
/// `legacy01.dc2.example.net` stays another. Installer defaults
/// (`ubuntu`, `localhost`) name no machine and give no token.
fn host_token(d: &Declared, name: &str) -> Option<String> {
    let n = lower(name);
    let domain = lower(d.eff.domain);
    let short = match n.strip_suffix(domain.as_str()) {
        Some(rest) if !domain.is_empty() && rest.ends_with('.') => &rest[..rest.len() - 1],
        _ => n.as_str(),
    };
    let first = short.split('.').next().unwrap_or("");
    (!short.is_empty() && !GENERIC_NAMES.contains(&first)).then(|| format!("host:{short}"))
}

impl<'a> Declared<'a> {
    /// Node `k` is `eff.nodes[k]` and `resolved.nodes[k]`; switch `s` is
    /// `eff.switches[s]` and `site.switches[s]`.
    pub fn new(eff: &'a EffSite<'a>) -> Declared<'a> {
        let (site, resolved) = (eff.site, eff.resolved);
        let mut hosts = HashMap::new();
        for (s, sw) in eff.switches.iter().enumerate() {
            hosts.entry(lower(sw.name)).or_insert(Host::Switch(s));
            hosts.entry(lower(&sw.fqdn)).or_insert(Host::Switch(s));
        }
        for (k, n) in eff.nodes.iter().enumerate() {
            hosts.entry(lower(n.name)).or_insert(Host::Node(k));
            hosts.entry(lower(&n.fqdn)).or_insert(Host::Node(k));
        }
        let mut macs = HashMap::new();
        for (k, rn) in resolved.nodes.iter().enumerate() {
            for (j, i) in rn.settings.interfaces.iter().enumerate() {
                if let Some(m) = &i.mac {
                    macs.entry(m.value).or_insert((k, j));
                }
            }
        }
        // Switch-to-switch links, declared on either end.
        let mut link_ports = HashSet::new();
        for sw in &site.switches {
            for l in &sw.links {
                link_ports.insert((sw.name.value.clone(), l.port.value.clone()));
                link_ports.insert((l.peer.value.clone(), l.peer_port.value.clone()));
            }
        }
        Declared {
            site,
            resolved,
            eff,
            hosts,
            macs,
            link_ports,
            other: HashMap::new(),
            other_macs: HashMap::new(),
        }
    }

    /// With the hosts of the project's other sites: a shared input (one
    /// Ansible fact cache for the whole project) holds theirs, which are
    /// skipped, never unknown machines of this site.
    pub fn with_others(mut self, others: &[crate::check::SiteHosts]) -> Self {
        for o in others {
            for n in &o.names {
                self.other.entry(lower(n)).or_insert_with(|| o.site.clone());
            }
            for m in &o.macs {
                self.other_macs.entry(*m).or_insert_with(|| o.site.clone());
            }
        }
        self
    }

    /// The other site of the project that declares a host by this name or
    /// FQDN, when this site does not.
    pub fn other_site(&self, name: &str) -> Option<&str> {
        if self.host(name).is_some() {
            return None;
        }
        self.other.get(&lower(name)).map(String::as_str)
    }

    /// The other site of the project whose node declares this MAC, when
    /// no node of this site does.
    pub fn other_site_mac(&self, mac: Mac) -> Option<&str> {
        if self.mac_owner(mac).is_some() {
            return None;
        }
        self.other_macs.get(&mac).map(String::as_str)
    }

    /// The declared host a file is named after: its name or FQDN (any
    /// case, trailing dot allowed), nothing else. An FQDN of another domain
    /// (`r01n01.dc2.example.net` beside dc1's `r01n01`) is another site's
    /// host, not this one: two sites may share a fact cache.
    pub fn host(&self, name: &str) -> Option<Host> {
        self.hosts.get(&lower(name)).copied()
    }

    /// [`Declared::host`], and whether the name is the host's FQDN (which
    /// wins over a file named by the short name).
    pub fn host_by_file(&self, name: &str) -> Option<(Host, bool)> {
        let h = self.host(name)?;
        let fqdn = match h {
            Host::Node(k) => &self.eff.nodes[k].fqdn,
            Host::Switch(s) => &self.eff.switches[s].fqdn,
        };
        Some((h, lower(fqdn) == lower(name)))
    }

    /// The declared host a name that a machine announces refers to (LLDP
    /// system name, FRR's hostname of a BGP neighbour): as [`Declared::host`],
    /// or a name whose first label is one, since machines often announce
    /// a local domain (`r01-tor1.localdomain`).
    pub fn announced(&self, name: &str) -> Option<Host> {
        let n = lower(name);
        if self.other_site(&n).is_some() {
            return None;
        }
        self.hosts.get(&n).copied().or_else(|| {
            let (first, _) = n.split_once('.')?;
            self.hosts.get(first).copied()
        })
    }

    /// For a file name that matches no host but whose first label is a
    /// declared host: that host's FQDN (for a hint in the message).
    pub fn near_miss(&self, name: &str) -> Option<String> {
        if self.host(name).is_some() || self.other_site(name).is_some() {
            return None;
        }
        let n = lower(name);
        let (first, _) = n.split_once('.')?;
        Some(match self.hosts.get(first)? {
            Host::Node(k) => self.eff.nodes[*k].fqdn.clone(),
            Host::Switch(s) => self.eff.switches[*s].fqdn.clone(),
        })
    }

    /// The declared name of a host.
    pub fn host_name(&self, h: Host) -> String {
        match h {
            Host::Node(k) => self.eff.nodes[k].name.to_string(),
            Host::Switch(s) => self.eff.switches[s].name.to_string(),
        }
    }

    pub fn mac_owner(&self, mac: Mac) -> Option<(usize, usize)> {
        self.macs.get(&mac).copied()
    }

    fn rn(&self, k: usize) -> &'a ResolvedNode {
        &self.resolved.nodes[k]
    }

    fn node(&self, k: usize) -> &'a Node {
        &self.site.nodes[self.resolved.nodes[k].index]
    }

    fn iface(&self, k: usize, j: usize) -> &'a Interface {
        &self.rn(k).settings.interfaces[j]
    }

    fn iface_index(&self, k: usize, name: &str) -> Option<usize> {
        self.rn(k)
            .settings
            .interfaces
            .iter()
            .position(|i| i.name.value == name)
    }

    /// Why a neighbour no node accounts for on a switch port is no
    /// machine to declare: the port is the switch's routed interface on
    /// the subnet of a `bgp-peer` it holds (the neighbour is that peer, the
    /// transit router), or its out-of-band management port (`eth0`,
    /// `mgmt`: the OOB switch). `None` for any other port.
    pub(crate) fn not_a_machine_port(&self, swname: &str, port: &str) -> Option<String> {
        let Some(Host::Switch(s)) = self.host(swname) else {
            return None;
        };
        let sw = &self.site.switches[s];
        let declared = sw.ports.iter().any(|p| p.value == port);
        if !declared && MGMT_PORTS.contains(&port) {
            return Some(format!("the management port of {swname}"));
        }
        let iface = sw.interfaces.iter().find(|i| i.port.value == port)?;
        self.site
            .bgp_peers
            .iter()
            .filter(|p| p.switches.iter().any(|x| x.value == sw.name.value))
            .find(|p| {
                p.multihop.is_none()
                    && iface
                        .addresses
                        .iter()
                        .any(|a| a.value.contains(&p.address.value))
            })
            .map(|p| format!("bgp-peer `{}`", p.name.value))
    }

    /// The name of a switch as declared, or the observed name as given.
    fn switch_name(&self, observed: &str) -> String {
        match self.announced(observed) {
            Some(Host::Switch(s)) => self.eff.switches[s].name.to_string(),
            _ => observed.to_string(),
        }
    }

    pub(crate) fn rack_of_switch(&self, name: &str) -> Option<String> {
        match self.announced(name) {
            Some(Host::Switch(s)) => self.site.switches[s]
                .placement
                .as_ref()
                .map(|p| p.rack.value.clone()),
            _ => None,
        }
    }
}

/// An observed switch port: (switch, port if known).
type PortObs = (String, Option<String>);

/// What was attributed to one declared node.
#[derive(Default)]
struct NodeObs<'o> {
    seen: BTreeSet<SeenIn>,
    facts: Option<&'o HostFacts>,
    /// The node's own LLDP dump, as its evidence is named.
    lldp_path: Option<&'o str>,
    bgp: Option<&'o BgpSummary>,
    /// Interface index → observed port → evidence.
    cabling: BTreeMap<usize, BTreeMap<PortObs, Vec<String>>>,
    /// Undeclared local interface → observed port → evidence.
    undeclared: BTreeMap<String, BTreeMap<PortObs, Vec<String>>>,
    /// Interface index → observed MAC → evidence.
    macs: BTreeMap<usize, BTreeMap<Mac, Vec<String>>>,
    /// LLDP system names announced by the node → evidence.
    sysnames: BTreeMap<String, Vec<String>>,
    leases: Vec<(usize, &'o Lease, String)>,
    /// Active leases whose client calls itself by this node's name or
    /// FQDN from a MAC no interface declares: (MAC, lease, evidence).
    named_leases: Vec<(Mac, &'o Lease, String)>,
    /// Session index → (peer state or None when absent, switch, evidence).
    switch_bgp: BTreeMap<usize, (Option<&'o PeerState>, String, String)>,
}

/// An observation no declared node accounts for.
#[derive(Debug, Clone, Default)]
struct UnknownObs {
    mac: Option<Mac>,
    /// Identity of the machine beyond one MAC: `chassis:…` / `host:…`.
    tokens: Vec<String>,
    iface: Option<String>,
    switch: Option<String>,
    port: Option<String>,
    hostname: Option<String>,
    address: Option<Ipv4Addr>,
    seen_in: Option<SeenIn>,
    evidence: String,
}

fn push_ev(v: &mut Vec<String>, e: &str) {
    if !v.iter().any(|x| x == e) {
        v.push(e.to_string());
    }
}

/// Compares, node by node, in site order.
pub fn compare(d: &Declared, obs: &Observed) -> Comparison {
    let n = d.eff.nodes.len();
    let mut per: Vec<NodeObs> = (0..n).map(|_| NodeObs::default()).collect();
    let mut switch_seen = vec![false; d.eff.switches.len()];
    let mut unknown: Vec<UnknownObs> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut others = attribute::OtherSites::new();

    attribute::facts(
        d,
        obs,
        &mut per,
        &mut switch_seen,
        &mut unknown,
        &mut findings,
        &mut others,
    );
    // MACs that a known node's facts show but the site does not declare
    // (a replaced NIC): LLDP and leases with them belong to that node.
    let mut facts_macs: HashMap<Mac, (usize, String)> = HashMap::new();
    for (k, o) in per.iter().enumerate() {
        for i in o.facts.iter().flat_map(|f| f.interfaces.iter()) {
            if let Some(m) = i.mac.filter(|m| d.mac_owner(*m).is_none()) {
                facts_macs.entry(m).or_insert((k, i.name.clone()));
            }
        }
    }
    // A lease in effect whose client calls itself by a node's name, from
    // a MAC nobody declares: the node on a swapped NIC (or a MAC typo),
    // not a new machine. Its LLDP and leases belong to the node.
    let path = obs.leases_path.as_deref().unwrap_or("leases");
    let mut node_macs: Vec<(String, String)> = Vec::new();
    for l in &obs.leases {
        let (Some(mac), Some(h)) = (l.hwaddr, l.hostname.as_deref()) else {
            continue;
        };
        if l.state != super::input::leases::LeaseState::Default
            || d.mac_owner(mac).is_some()
            || facts_macs.contains_key(&mac)
        {
            continue;
        }
        if let Some(Host::Node(k)) = d.host(h) {
            per[k]
                .named_leases
                .push((mac, l, format!("{path}:{}", l.line)));
            node_macs.push((mac.to_string(), d.eff.nodes[k].name.to_string()));
        }
    }
    for (k, o) in per.iter().enumerate() {
        for (m, _, _) in &o.named_leases {
            facts_macs.entry(*m).or_insert((k, String::new()));
        }
    }
    let ctx = attribute::Ctx {
        d,
        facts_macs: &facts_macs,
    };
    attribute::lldp(
        &ctx,
        obs,
        &mut per,
        &mut switch_seen,
        &mut unknown,
        &mut findings,
        &mut others,
    );
    attribute::leases(&ctx, obs, &mut per, &mut unknown, &mut others);
    let switch_bgp = attribute::bgp(
        d,
        obs,
        &mut per,
        &mut switch_seen,
        &mut findings,
        &mut others,
    );

    // What the other ends say of each switch: the AS it runs when it has
    // no summary of its own, and whether it is silent altogether.
    let views = switches::peers_view(d, &per, &switch_bgp);
    let switch_runs: Vec<Option<(u64, String)>> = views
        .iter()
        .zip(&switch_bgp)
        .map(|(v, b)| switches::runs(*b, v))
        .collect();
    let mut switch_silent = vec![false; d.eff.switches.len()];
    for (s, v) in views.iter().enumerate() {
        let own_dump = obs
            .lldp
            .iter()
            .any(|x| d.host(&x.host) == Some(Host::Switch(s)));
        if own_dump || switch_bgp[s].is_some() {
            continue;
        }
        if let Some(diag) = switches::silent(d, s, v, switch_seen[s]) {
            switch_silent[s] = true;
            findings.push(Finding { node: None, diag });
        }
    }
    let fleet = Fleet {
        switch_runs: &switch_runs,
        switch_silent: &switch_silent,
        facts_newest: obs
            .facts
            .iter()
            .filter_map(|f| f.gathered.as_ref().map(|g| g.0))
            .max(),
    };
    let mut nodes = Vec::with_capacity(n);
    for (k, o) in per.iter().enumerate() {
        let before = findings.len();
        let nv = &d.eff.nodes[k];
        let placement = nv.node.placement.as_ref();
        // A node nothing saw: its switches' view of sessions that are not
        // up is no sighting, and says no more than that it is silent.
        let status = if o.seen.is_empty() {
            findings.push(never_seen(d, k, o));
            NodeStatus::NeverSeen
        } else {
            check_node(d, k, o, &fleet, &mut findings);
            if findings.len() > before {
                NodeStatus::Drift
            } else {
                NodeStatus::Ok
            }
        };
        let mut codes: Vec<&'static str> = findings[before..]
            .iter()
            .map(|f| f.diag.code.as_str())
            .collect();
        codes.sort();
        codes.dedup();
        nodes.push(NodeState {
            name: nv.name.to_string(),
            fqdn: nv.fqdn.clone(),
            rack: placement.map(|p| p.rack.value.clone()),
            position: placement.map(|p| p.position.value),
            status,
            seen_in: o.seen.iter().copied().collect(),
            codes,
        });
    }
    // A slot swap: one finding per pair instead of a cable move per
    // interface.
    for ((a, b), diag) in cabling::swaps(d, &per) {
        let names = [d.eff.nodes[a].name, d.eff.nodes[b].name];
        findings.retain(|f| {
            !(f.diag.code == Code::StateMiscabled
                && f.diag.severity == crate::diag::Severity::Error
                && f.node.as_deref().is_some_and(|n| names.contains(&n)))
        });
        findings.push(Finding {
            node: Some(names[0].to_string()),
            diag,
        });
    }
    switches::check(d, &switch_bgp, &switch_silent, &switch_runs, &mut findings);
    let unknown = unknown::group(d, unknown);
    for u in &unknown {
        findings.push(Finding {
            node: None,
            diag: unknown::diagnostic(d, u),
        });
    }
    // An unknown machine on a node's address: a finding of that node.
    for f in unknown::collisions(d, &unknown, &obs.displaced_leases, path) {
        if let Some(n) = nodes
            .iter_mut()
            .find(|n| f.node.as_deref() == Some(&n.name))
        {
            if n.status == NodeStatus::Ok {
                n.status = NodeStatus::Drift;
            }
            let code = f.diag.code.as_str();
            if !n.codes.contains(&code) {
                n.codes.push(code);
                n.codes.sort();
            }
        }
        findings.push(f);
    }
    let switches = d
        .site
        .switches
        .iter()
        .zip(&switch_seen)
        .map(|(s, &seen)| SwitchState {
            name: s.name.value.clone(),
            rack: s.placement.as_ref().map(|p| p.rack.value.clone()),
            position: s.placement.as_ref().map(|p| p.position.value),
            seen,
        })
        .collect();
    Comparison {
        nodes,
        switches,
        unknown,
        findings,
        node_macs,
        other_sites: others,
    }
}

/// SC1001 for a node no input shows: with what its switches say of its
/// sessions (down, or not configured), which is the node being silent,
/// not a session to repair.
fn never_seen(d: &Declared, k: usize, o: &NodeObs) -> Finding {
    let nv = &d.eff.nodes[k];
    let mut help = format!(
        "no fact file, LLDP neighbour, DHCP lease or BGP summary names `{}` or `{}` or carries one of its MACs",
        nv.name, nv.fqdn
    );
    let views: Vec<String> = o
        .switch_bgp
        .iter()
        .map(|(i, (p, sw, path))| {
            let port = nv.sessions[*i].peer_port.as_deref().unwrap_or("?");
            match p {
                Some(p) => format!("{sw} sees its session on `{}` {} ({path})", p.key, p.state),
                None => format!("{sw} has no session on port {port} ({path})"),
            }
        })
        .collect();
    if !views.is_empty() {
        help.push_str(&format!(
            ", and no switch has a BGP session up with it: {}",
            views.join("; ")
        ));
    }
    help.push_str("; is it powered on and in the Ansible inventory?");
    Finding {
        node: Some(nv.name.to_string()),
        diag: Diagnostic::warning(
            Code::StateNeverSeen,
            format!("node `{}` was never seen", nv.name),
        )
        .label(d.node(k).name.span, "declared here")
        .help(help),
    }
}

/// How much older than the newest fact file a node's facts may be before
/// they are said to be old (SC1022): a week, longer than any fact-gathering
/// schedule, shorter than the life of a machine that stopped answering.
pub const FACTS_MAX_AGE_SECS: u64 = 7 * 24 * 3600;

/// What the checks of one node need of the rest of the fleet.
struct Fleet<'f> {
    /// The AS each switch runs, if known: its summary's, else what its
    /// peers see (with where it was read).
    switch_runs: &'f [Option<(u64, String)>],
    /// Switches reported silent (SC1023): sessions to them are not
    /// reported one by one.
    switch_silent: &'f [bool],
    /// When the newest fact file was gathered.
    facts_newest: Option<u64>,
}

/// How old the node's facts are, when they are old (SC1022): gathered
/// more than [`FACTS_MAX_AGE_SECS`] before the newest fact file. Ansible
/// keeps a host's cached facts after it stops answering, so what they say
/// is history; by itself that is no drift (a rack skipped by a rolling
/// maintenance), only the findings read from the file say so.
fn old_facts(o: &NodeObs, fleet: &Fleet) -> Option<String> {
    let f = o.facts?;
    let newest = fleet.facts_newest?;
    let (at, date) = f.gathered.as_ref()?;
    let age = newest.saturating_sub(*at);
    if age <= FACTS_MAX_AGE_SECS {
        return None;
    }
    let when = date
        .as_deref()
        .map(|d| format!(", gathered {d}"))
        .unwrap_or_default();
    Some(format!(
        " (old facts: {} days older than the newest fact file{when}, {}: this may be fixed already; gather them again, `ansible -m setup {}`, before acting on it)",
        age / 86400,
        Code::StateStaleObservation.as_str(),
        f.inventory_name
    ))
}

/// Every check of one node, each finding labelled at the declaration it
/// contradicts, in this order. A finding read from old facts says so.
fn check_node(d: &Declared, k: usize, o: &NodeObs, fleet: &Fleet, out: &mut Vec<Finding>) {
    let before = out.len();
    check_node_all(d, k, o, fleet, out);
    if let (Some(f), Some(note)) = (o.facts, old_facts(o, fleet)) {
        for x in &mut out[before..] {
            if let Some(h) = x.diag.help.as_mut().filter(|h| h.contains(f.path.as_str())) {
                *h = h.replacen(f.path.as_str(), &format!("{}{note}", f.path), 1);
            }
        }
    }
}

fn check_node_all(d: &Declared, k: usize, o: &NodeObs, fleet: &Fleet, out: &mut Vec<Finding>) {
    let name = d.eff.nodes[k].name;
    let mut push = |diag: Diagnostic| {
        out.push(Finding {
            node: Some(name.to_string()),
            diag,
        })
    };
    cabling::check(d, k, o, &mut push);
    mac::check(d, k, o, &mut push);
    hostname::check(d, k, o, &mut push);
    addresses::check(d, k, o, &mut push);
    bgp::check(d, k, o, fleet, &mut push);
}

fn join_ev(ev: &[String]) -> String {
    ev.join(", ")
}

fn port_text((sw, port): &PortObs) -> String {
    match port {
        Some(p) => format!("{sw} {p}"),
        None => sw.clone(),
    }
}

fn list_or_none<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// `address 10.0.0.7` / `addresses 10.0.0.7, 10.0.0.8`
pub fn addresses_text(a: &[String]) -> String {
    format!(
        "{} {}",
        if a.len() == 1 { "address" } else { "addresses" },
        a.join(", ")
    )
}

/// The node's interface that carries `mac`, for tests and the stub.
pub fn owner_name(d: &Declared, mac: Mac) -> Option<(String, String)> {
    let (k, j) = d.mac_owner(mac)?;
    Some((
        d.eff.nodes[k].name.to_string(),
        d.iface(k, j).name.value.clone(),
    ))
}
