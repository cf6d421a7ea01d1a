//! The comparison: the fleet as observed against the fleet as declared.
//!
//! The declared side is what the compiled artifacts say (the template
//! views of [`crate::render::context`]: effective addresses with their
//! allocations, FQDNs, cabling); spans for diagnostics come from the
//! resolved model, so a finding points at the interface, address or
//! session declaration that it contradicts.
//!
//! Observations are first attributed: each fact file, LLDP dump, lease and
//! BGP summary is tied to a declared node (by name, FQDN or a declared
//! MAC), a declared switch, or to an unknown machine. Then every node is
//! checked against what was attributed to it, in site order, and unknown
//! observations are grouped into machines (by MAC, chassis id or the host
//! a file is named after). Everything iterates ordered collections, so the
//! findings come out in the same order on every run.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic};
use crate::model::{Interface, InterfaceKind, Mac, Node, Site};
use crate::render::context::SiteView;
use crate::resolve::{Resolved, ResolvedNode};
use crate::syntax::Span;

use super::input::bgp::{BgpSummary, PeerState};
use super::input::facts::{HostFacts, IfaceFacts};
use super::input::leases::{Lease, LeaseState};
use super::input::lldp::LldpNeighbor;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Node(usize),
    Switch(usize),
}

/// Lookups over the declared site: by host name, by MAC, by switch port.
/// (Hash maps only answer lookups here; nothing iterates them into output.)
pub struct Declared<'a> {
    pub site: &'a Site,
    pub resolved: &'a Resolved,
    pub view: &'a SiteView,
    hosts: HashMap<String, Host>,
    macs: HashMap<Mac, (usize, usize)>,
    link_ports: HashSet<(String, String)>,
}

fn lower(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

impl<'a> Declared<'a> {
    /// `view` must be `site_view` of the same site and resolution: node
    /// views are in `resolved.nodes` order, switch views in site order.
    pub fn new(site: &'a Site, resolved: &'a Resolved, view: &'a SiteView) -> Declared<'a> {
        let mut hosts = HashMap::new();
        for (s, sw) in view.switches.iter().enumerate() {
            hosts.entry(lower(&sw.name)).or_insert(Host::Switch(s));
            hosts.entry(lower(&sw.fqdn)).or_insert(Host::Switch(s));
        }
        for (k, n) in view.nodes.iter().enumerate() {
            hosts.entry(lower(&n.name)).or_insert(Host::Node(k));
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
        let mut link_ports = HashSet::new();
        for sw in &view.switches {
            for l in &sw.links {
                link_ports.insert((sw.name.clone(), l.port.clone()));
            }
        }
        Declared {
            site,
            resolved,
            view,
            hosts,
            macs,
            link_ports,
        }
    }

    /// The declared host a name refers to: its name or FQDN (any case,
    /// trailing dot allowed), or a name whose first label is one.
    pub fn host(&self, name: &str) -> Option<Host> {
        let n = lower(name);
        self.hosts.get(&n).copied().or_else(|| {
            let (first, _) = n.split_once('.')?;
            self.hosts.get(first).copied()
        })
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

    /// The name of a switch as declared, or the observed name as given.
    fn switch_name(&self, observed: &str) -> String {
        match self.host(observed) {
            Some(Host::Switch(s)) => self.view.switches[s].name.clone(),
            _ => observed.to_string(),
        }
    }

    fn rack_of_switch(&self, name: &str) -> Option<String> {
        match self.host(name) {
            Some(Host::Switch(s)) => self.view.switches[s].rack.clone(),
            _ => None,
        }
    }
}

/// Where the cabling of an interface is declared: its `switch`/`port`
/// fields, else the interface.
fn cabling_span(i: &Interface) -> Span {
    match (&i.switch, &i.port) {
        (Some(s), Some(p)) if s.span.file == p.span.file => s.span.to(p.span),
        (Some(s), _) => s.span,
        _ => i.span,
    }
}

fn mac_span(i: &Interface) -> Span {
    i.mac.as_ref().map(|m| m.span).unwrap_or(i.span)
}

/// An observed switch port: (switch, port if known).
type PortObs = (String, Option<String>);

/// What was attributed to one declared node.
#[derive(Default)]
struct NodeObs<'o> {
    seen: BTreeSet<SeenIn>,
    facts: Option<&'o HostFacts>,
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
    let n = d.view.nodes.len();
    let mut per: Vec<NodeObs> = (0..n).map(|_| NodeObs::default()).collect();
    let mut switch_seen = vec![false; d.view.switches.len()];
    let mut unknown: Vec<UnknownObs> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();

    attribute_facts(d, obs, &mut per, &mut switch_seen, &mut unknown);
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
    let ctx = Ctx {
        d,
        facts_macs: &facts_macs,
    };
    attribute_lldp(
        &ctx,
        obs,
        &mut per,
        &mut switch_seen,
        &mut unknown,
        &mut findings,
    );
    attribute_leases(&ctx, obs, &mut per, &mut unknown);
    attribute_bgp(d, obs, &mut per, &mut switch_seen, &mut findings);

    let mut nodes = Vec::with_capacity(n);
    for (k, o) in per.iter().enumerate() {
        let before = findings.len();
        check_node(d, k, o, &mut findings);
        let nv = &d.view.nodes[k];
        let status = if findings.len() > before {
            NodeStatus::Drift
        } else if o.seen.is_empty() {
            let node = d.node(k);
            findings.push(Finding {
                node: Some(nv.name.clone()),
                diag: Diagnostic::warning(
                    Code::StateNeverSeen,
                    format!("node `{}` was never seen", nv.name),
                )
                .label(node.name.span, "declared here")
                .help(format!(
                    "no fact file, LLDP neighbour, DHCP lease or BGP summary names `{}` or `{}` or carries one of its MACs; is it powered on and in the Ansible inventory?",
                    nv.name, nv.fqdn
                )),
            });
            NodeStatus::NeverSeen
        } else {
            NodeStatus::Ok
        };
        let mut codes: Vec<&'static str> = findings[before..]
            .iter()
            .map(|f| f.diag.code.as_str())
            .collect();
        codes.sort();
        codes.dedup();
        nodes.push(NodeState {
            name: nv.name.clone(),
            fqdn: nv.fqdn.clone(),
            rack: nv.rack.clone(),
            position: nv.position,
            status,
            seen_in: o.seen.iter().copied().collect(),
            codes,
        });
    }
    let unknown = group_unknown(d, unknown);
    for u in &unknown {
        findings.push(Finding {
            node: None,
            diag: unknown_diag(d, u),
        });
    }
    let switches = d
        .view
        .switches
        .iter()
        .zip(&switch_seen)
        .map(|(s, &seen)| SwitchState {
            name: s.name.clone(),
            rack: s.rack.clone(),
            position: s.position,
            seen,
        })
        .collect();
    Comparison {
        nodes,
        switches,
        unknown,
        findings,
    }
}

fn attribute_facts<'o>(
    d: &Declared,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
) {
    for f in &obs.facts {
        let by_name = d.host(&f.inventory_name);
        // A host filed under a name the site does not know is still
        // recognised by a declared MAC (and then reported for its name).
        let by_mac = || {
            f.interfaces
                .iter()
                .filter_map(|i| i.mac)
                .find_map(|m| d.mac_owner(m))
                .map(|(k, _)| Host::Node(k))
        };
        match by_name.or_else(by_mac) {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Facts);
                if per[k].facts.is_none() {
                    per[k].facts = Some(f);
                }
            }
            Some(Host::Switch(s)) => switch_seen[s] = true,
            None => {
                let macs: Vec<&IfaceFacts> =
                    f.interfaces.iter().filter(|i| i.mac.is_some()).collect();
                let host = format!("host:{}", lower(&f.inventory_name));
                let name = f.hostname.clone().or(Some(f.inventory_name.clone()));
                if macs.is_empty() {
                    unknown.push(UnknownObs {
                        tokens: vec![host.clone()],
                        hostname: name.clone(),
                        seen_in: Some(SeenIn::Facts),
                        evidence: f.path.clone(),
                        ..Default::default()
                    });
                }
                for i in macs {
                    unknown.push(UnknownObs {
                        mac: i.mac,
                        tokens: vec![host.clone()],
                        iface: Some(i.name.clone()),
                        address: i.ipv4.first().map(|a| a.0),
                        hostname: name.clone(),
                        seen_in: Some(SeenIn::Facts),
                        evidence: f.path.clone(),
                        ..Default::default()
                    });
                }
            }
        }
    }
}

/// What attribution after the facts needs: the site, and the MACs the
/// facts tied to nodes.
struct Ctx<'c, 'a> {
    d: &'c Declared<'a>,
    facts_macs: &'c HashMap<Mac, (usize, String)>,
}

impl Ctx<'_, '_> {
    /// The node (and declared interface, if any) a MAC belongs to.
    fn node_of_mac(&self, mac: Mac) -> Option<(usize, Option<usize>)> {
        if let Some((k, j)) = self.d.mac_owner(mac) {
            return Some((k, Some(j)));
        }
        let (k, name) = self.facts_macs.get(&mac)?;
        Some((*k, self.d.iface_index(*k, name)))
    }
}

fn attribute_lldp<'o>(
    c: &Ctx,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
    findings: &mut Vec<Finding>,
) {
    let d = c.d;
    for dump in &obs.lldp {
        match d.host(&dump.host) {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Lldp);
                for nb in &dump.neighbors {
                    let sw = nb
                        .sysname
                        .as_deref()
                        .map(|s| d.switch_name(s))
                        .or_else(|| nb.chassis_id.as_ref().map(|(_, v)| v.clone()))
                        .unwrap_or_default();
                    if let Some(Host::Switch(s)) = nb.sysname.as_deref().and_then(|s| d.host(s)) {
                        switch_seen[s] = true;
                    }
                    let port = nb.port_name().map(str::to_string);
                    let rn = d.rn(k);
                    let o = &mut per[k];
                    match rn
                        .settings
                        .interfaces
                        .iter()
                        .position(|i| i.name.value == nb.local_port)
                    {
                        Some(j) => push_ev(
                            o.cabling
                                .entry(j)
                                .or_default()
                                .entry((sw, port))
                                .or_default(),
                            &dump.path,
                        ),
                        None => push_ev(
                            o.undeclared
                                .entry(nb.local_port.clone())
                                .or_default()
                                .entry((sw, port))
                                .or_default(),
                            &dump.path,
                        ),
                    }
                }
            }
            Some(Host::Switch(s)) => {
                switch_seen[s] = true;
                let swname = d.view.switches[s].name.clone();
                for nb in &dump.neighbors {
                    switch_port_neighbor(c, &swname, nb, &dump.path, per, switch_seen, unknown);
                }
            }
            None => {
                // A host the site does not declare: its neighbours still
                // say which switch ports it sits on.
                let token = format!("host:{}", lower(&dump.host));
                findings.push(Finding {
                    node: None,
                    diag: Diagnostic::warning(
                        Code::StateUnknownHost,
                        format!(
                            "LLDP dump `{}` is from `{}`, which the site declares neither as a node nor as a switch",
                            dump.path, dump.host
                        ),
                    )
                    .help("files are matched by host name or FQDN; rename the file after the declared host, or declare the machine"),
                });
                for nb in &dump.neighbors {
                    let sw = nb.sysname.as_deref().map(|s| d.switch_name(s));
                    unknown.push(UnknownObs {
                        tokens: vec![token.clone()],
                        iface: Some(nb.local_port.clone()),
                        switch: sw,
                        port: nb.port_name().map(str::to_string),
                        hostname: Some(dump.host.clone()),
                        seen_in: Some(SeenIn::Lldp),
                        evidence: dump.path.clone(),
                        ..Default::default()
                    });
                }
            }
        }
    }
}

/// A neighbour heard on a switch port: a declared node's interface
/// (cabling and MAC evidence for it), another switch (ignored), or an
/// unknown machine.
fn switch_port_neighbor<'o>(
    c: &Ctx,
    swname: &str,
    nb: &LldpNeighbor,
    path: &str,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
) {
    let d = c.d;
    if d.link_ports
        .contains(&(swname.to_string(), nb.local_port.clone()))
    {
        return;
    }
    let by_sysname = nb.sysname.as_deref().and_then(|s| d.host(s));
    if let Some(Host::Switch(s)) = by_sysname {
        switch_seen[s] = true;
        return;
    }
    let at = (swname.to_string(), Some(nb.local_port.clone()));
    let mac = nb.port_mac();
    // The node: by the port's MAC (declared, or shown by its facts), else
    // by name or chassis MAC, with the interface named by the port
    // description.
    let by_port_mac = mac.and_then(|m| c.node_of_mac(m));
    let by_name = || match by_sysname {
        Some(Host::Node(k)) => Some(k),
        _ => nb
            .chassis_mac()
            .and_then(|m| c.node_of_mac(m))
            .map(|(k, _)| k),
    };
    let (k, j) = match by_port_mac {
        Some((k, j)) => (k, j),
        None => match by_name() {
            Some(k) => (
                k,
                nb.port_descr.as_deref().and_then(|pd| d.iface_index(k, pd)),
            ),
            None => return unknown_on_port(swname, nb, mac, path, unknown),
        },
    };
    let o = &mut per[k];
    o.seen.insert(SeenIn::Lldp);
    if let Some(s) = &nb.sysname {
        push_ev(o.sysnames.entry(s.clone()).or_default(), path);
    }
    match j {
        Some(j) => {
            push_ev(o.cabling.entry(j).or_default().entry(at).or_default(), path);
            let declared = d.iface(k, j).mac.as_ref().map(|m| m.value);
            if let Some(m) = mac.filter(|m| declared.is_some_and(|x| x != *m)) {
                push_ev(o.macs.entry(j).or_default().entry(m).or_default(), path);
            }
        }
        None => {
            let name = nb
                .port_descr
                .clone()
                .or_else(|| mac.map(|m| m.to_string()))
                .unwrap_or_else(|| "?".to_string());
            push_ev(
                o.undeclared.entry(name).or_default().entry(at).or_default(),
                path,
            );
        }
    }
}

/// A machine on a switch port that no node accounts for.
fn unknown_on_port(
    swname: &str,
    nb: &LldpNeighbor,
    mac: Option<Mac>,
    path: &str,
    unknown: &mut Vec<UnknownObs>,
) {
    let mut tokens = Vec::new();
    if let Some((t, v)) = &nb.chassis_id {
        tokens.push(format!("chassis:{t}:{}", v.to_ascii_lowercase()));
    }
    unknown.push(UnknownObs {
        mac,
        tokens,
        iface: nb
            .port_descr
            .clone()
            .filter(|p| mac.is_none_or(|m| *p != m.to_string())),
        switch: Some(swname.to_string()),
        port: Some(nb.local_port.clone()),
        hostname: nb.sysname.clone(),
        seen_in: Some(SeenIn::Lldp),
        evidence: path.to_string(),
        ..Default::default()
    });
}

fn attribute_leases<'o>(
    c: &Ctx,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    unknown: &mut Vec<UnknownObs>,
) {
    let path = obs.leases_path.as_deref().unwrap_or("leases");
    for l in &obs.leases {
        let Some(mac) = l.hwaddr else { continue };
        let ev = format!("{path}:{}", l.line);
        match c.node_of_mac(mac) {
            Some((k, j)) => {
                per[k].seen.insert(SeenIn::Dhcp);
                if let Some(j) = j {
                    per[k].leases.push((j, l, ev));
                }
            }
            // An expired lease of an unknown MAC is history, not a machine
            // on the network now; only leases in effect are reported.
            None if l.state == LeaseState::Default => unknown.push(UnknownObs {
                mac: Some(mac),
                hostname: l.hostname.clone(),
                address: Some(l.address),
                seen_in: Some(SeenIn::Dhcp),
                evidence: ev,
                ..Default::default()
            }),
            None => {}
        }
    }
}

fn attribute_bgp<'o>(
    d: &Declared,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    findings: &mut Vec<Finding>,
) {
    for b in &obs.bgp {
        match d.host(&b.host) {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Bgp);
                if per[k].bgp.is_none() {
                    per[k].bgp = Some(b);
                }
            }
            Some(Host::Switch(s)) => {
                switch_seen[s] = true;
                let sv = &d.view.switches[s];
                for dl in &sv.downlinks {
                    let key = if dl.mode == "unnumbered" {
                        Some(dl.port.as_str())
                    } else {
                        dl.node_address.as_deref()
                    };
                    let Some(key) = key else { continue };
                    let Some(Host::Node(k)) = d.host(&dl.node) else {
                        continue;
                    };
                    let Some(i) = d.view.nodes[k]
                        .sessions
                        .iter()
                        .position(|x| x.peer == sv.name && x.interface.as_deref() == Some(dl.interface.as_str()))
                    else {
                        continue;
                    };
                    per[k]
                        .switch_bgp
                        .entry(i)
                        .or_insert((b.peer(key), sv.name.clone(), b.path.clone()));
                }
            }
            None => findings.push(Finding {
                node: None,
                diag: Diagnostic::warning(
                    Code::StateUnknownHost,
                    format!(
                        "BGP summary `{}` is from `{}`, which the site declares neither as a node nor as a switch",
                        b.path, b.host
                    ),
                )
                .help("files are matched by host name or FQDN; rename the file after the declared host"),
            }),
        }
    }
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

/// Every check of one node, each finding labelled at the declaration it
/// contradicts.
fn check_node(d: &Declared, k: usize, o: &NodeObs, out: &mut Vec<Finding>) {
    let nv = &d.view.nodes[k];
    let node = d.node(k);
    let rn = d.rn(k);
    let name = nv.name.as_str();
    let mut push = |diag: Diagnostic| {
        out.push(Finding {
            node: Some(name.to_string()),
            diag,
        })
    };

    // Cabling (SC1002), from either end.
    for (&j, seen) in &o.cabling {
        let iface = d.iface(k, j);
        let iv = &nv.interfaces[j];
        let declared = iv.switch.as_ref().map(|s| (s.clone(), iv.port.clone()));
        for (at, ev) in seen {
            let ok = match &declared {
                Some((sw, port)) => {
                    *sw == at.0 && (at.1.is_none() || port.is_none() || *port == at.1)
                }
                None => false,
            };
            if ok {
                continue;
            }
            let want = match &declared {
                Some((sw, Some(p))) => format!("{sw} {p}"),
                Some((sw, None)) => sw.clone(),
                None => "not cabled".to_string(),
            };
            push(
                Diagnostic::error(
                    Code::StateMiscabled,
                    format!(
                        "`{name}` {} is cabled to {}, declared {want}",
                        iv.name,
                        port_text(at)
                    ),
                )
                .label(cabling_span(iface), format!("declared {want}"))
                .help(format!(
                    "LLDP in {} shows it on {}; move the cable or fix the declaration",
                    join_ev(ev),
                    port_text(at)
                )),
            );
        }
    }
    for (local, seen) in &o.undeclared {
        for (at, ev) in seen {
            push(
                Diagnostic::warning(
                    Code::StateMiscabled,
                    format!(
                        "`{name}` has an undeclared interface `{local}` cabled to {}",
                        port_text(at)
                    ),
                )
                .label(
                    node.name.span,
                    "no interface `".to_string() + local + "` here",
                )
                .help(format!(
                    "seen in {}; declare the interface with its cabling, or unplug it",
                    join_ev(ev)
                )),
            );
        }
    }

    // MACs (SC1003) and interfaces missing on the host (SC1011).
    let mut macs: BTreeMap<usize, BTreeMap<Mac, Vec<String>>> = o.macs.clone();
    if let Some(f) = o.facts {
        for (j, iface) in rn.settings.interfaces.iter().enumerate() {
            let Some(want) = iface.mac.as_ref().map(|m| m.value) else {
                continue;
            };
            match f.interfaces.iter().find(|x| x.name == iface.name.value) {
                Some(fi) => {
                    if let Some(m) = fi.mac.filter(|m| *m != want) {
                        push_ev(macs.entry(j).or_default().entry(m).or_default(), &f.path);
                    }
                }
                None => {
                    if iface.kind.as_ref().map(|k| k.value) != Some(InterfaceKind::Ethernet)
                        && iface.kind.is_some()
                    {
                        continue;
                    }
                    match f.interfaces.iter().find(|x| x.mac == Some(want)) {
                        Some(other) => push(
                            Diagnostic::warning(
                                Code::StateInterfaceMissing,
                                format!(
                                    "`{name}` interface {} ({want}) is called `{}` on the host",
                                    iface.name.value, other.name
                                ),
                            )
                            .label(iface.name.span, "declared name")
                            .help(format!(
                                "per {}; rename the interface in the site, or pin the name on the host (udev/systemd .link)",
                                f.path
                            )),
                        ),
                        None => push(
                            Diagnostic::error(
                                Code::StateInterfaceMissing,
                                format!(
                                    "`{name}` has no interface {} ({want})",
                                    iface.name.value
                                ),
                            )
                            .label(iface.name.span, "declared here")
                            .help(format!(
                                "{} lists {}",
                                f.path,
                                list_or_none(f.interfaces.iter().map(|i| i.name.as_str()))
                            )),
                        ),
                    }
                }
            }
        }
    }
    for (j, seen) in &macs {
        let iface = d.iface(k, *j);
        let Some(want) = iface.mac.as_ref() else {
            continue;
        };
        for (m, ev) in seen {
            push(
                Diagnostic::error(
                    Code::StateMacMismatch,
                    format!(
                        "`{name}` {} has MAC {m}, declared {}",
                        iface.name.value, want.value
                    ),
                )
                .label(mac_span(iface), format!("declared {}", want.value))
                .help(format!(
                    "seen in {}; a replaced NIC or swapped cables? DHCP reservations and netplan match on the declared MAC",
                    join_ev(ev)
                )),
            );
        }
    }

    // Host names (SC1004): what the host says (facts), then what it
    // announces over LLDP unless that is the same wrong name again.
    let eq = |a: &str, b: &str| a.trim_end_matches('.').eq_ignore_ascii_case(b);
    let mut reported: Vec<String> = Vec::new();
    if let Some(f) = o.facts {
        let bad_host = f.hostname.as_deref().filter(|h| !eq(h, name));
        let bad_fqdn = f.fqdn.as_deref().filter(|h| !eq(h, &nv.fqdn));
        let msg = match (bad_host, bad_fqdn) {
            (Some(h), Some(q)) => Some(format!("`{name}` reports hostname `{h}` and FQDN `{q}`")),
            (Some(h), None) => Some(format!("`{name}` reports hostname `{h}`")),
            (None, Some(q)) => Some(format!(
                "`{name}` reports FQDN `{q}`, declared `{}`",
                nv.fqdn
            )),
            (None, None) => None,
        };
        if let Some(msg) = msg {
            reported.extend(bad_host.into_iter().chain(bad_fqdn).map(str::to_string));
            push(
                Diagnostic::error(Code::StateHostnameMismatch, msg)
                    .label(node.name.span, format!("declared `{name}` (`{}`)", nv.fqdn))
                    .help(format!(
                        "per {}; the compiled hostname, hosts file and DNS zone say `{name}` / `{}`",
                        f.path, nv.fqdn
                    )),
            );
        }
    }
    for (s, ev) in &o.sysnames {
        if !eq(s, name) && !eq(s, &nv.fqdn) && !reported.iter().any(|r| eq(r, s)) {
            push(
                Diagnostic::error(
                    Code::StateHostnameMismatch,
                    format!("`{name}` announces itself over LLDP as `{s}`"),
                )
                .label(node.name.span, format!("declared `{name}`"))
                .help(format!("seen in {}", join_ev(ev))),
            );
        }
    }

    // Addresses (SC1005), against the facts and the DHCP leases.
    if let Some(f) = o.facts {
        check_addresses(d, k, f, &mut push);
    }
    for (j, lease, ev) in &o.leases {
        if lease.state != LeaseState::Default {
            continue;
        }
        let iname = &nv.interfaces[*j].name;
        let declared: Vec<(usize, Ipv4Addr)> = nv
            .addresses
            .iter()
            .enumerate()
            .filter(|(_, a)| a.interface.as_deref() == Some(iname.as_str()))
            .filter_map(|(a, av)| Some((a, av.ipv4.as_deref()?.parse().ok()?)))
            .collect();
        if declared.is_empty() || declared.iter().any(|(_, ip)| *ip == lease.address) {
            continue;
        }
        let (a, want) = declared[0];
        push(
            Diagnostic::error(
                Code::StateAddressMismatch,
                format!(
                    "`{name}` {iname} has DHCP lease {}, declared {want}",
                    lease.address
                ),
            )
            .label(rn.settings.addresses[a].span, format!("declared {want}"))
            .help(format!(
                "{ev}; the compiled Kea reservation for {} is not in effect (deployed? the right MAC?)",
                nv.interfaces[*j].mac.as_deref().unwrap_or("this interface")
            )),
        );
    }

    // BGP sessions (SC1006, SC1010).
    let sessions = rn
        .settings
        .bgp
        .as_ref()
        .map(|b| &b.sessions[..])
        .unwrap_or(&[]);
    for (i, sv) in nv.sessions.iter().enumerate() {
        let span = sessions.get(i).map(|s| s.span).unwrap_or(node.name.span);
        let key = if sv.mode == "unnumbered" {
            sv.interface.clone()
        } else {
            sv.peer_address.clone()
        };
        let over = match (&sv.interface, &sv.peer_address) {
            (_, Some(a)) => format!("at {a}"),
            (Some(i), None) => format!("over {i}"),
            (None, None) => String::new(),
        };
        let mut reported = false;
        if let (Some(b), Some(key)) = (o.bgp, key.as_deref()) {
            match b.peer(key) {
                None => {
                    reported = true;
                    push(
                        Diagnostic::error(
                            Code::StateBgpDown,
                            format!(
                                "`{name}` has no BGP session to {} {over}",
                                sv.peer
                            ),
                        )
                        .label(span, "declared here")
                        .help(format!(
                            "{} has no peer `{key}` (it has {}); is the compiled FRR config deployed?",
                            b.path,
                            list_or_none(b.peers.iter().map(|p| p.key.as_str()))
                        )),
                    );
                }
                Some(p) if !p.established() => {
                    reported = true;
                    push(
                        Diagnostic::error(
                            Code::StateBgpDown,
                            format!("`{name}` BGP session to {} {over} is {}", sv.peer, p.state),
                        )
                        .label(span, "declared here")
                        .help(format!("per {}", b.path)),
                    );
                }
                Some(p) => {
                    if let Some(h) = &p.hostname {
                        let same = matches!(d.host(h), Some(Host::Switch(s)) if d.view.switches[s].name == sv.peer);
                        if !same {
                            reported = true;
                            push(
                                Diagnostic::error(
                                    Code::StateBgpWrongPeer,
                                    format!(
                                        "`{name}` BGP session {over} is established with `{h}`, declared {}",
                                        sv.peer
                                    ),
                                )
                                .label(span, format!("declared peer {}", sv.peer))
                                .help(format!(
                                    "per {}; the interface is probably cabled to the wrong switch",
                                    b.path
                                )),
                            );
                        }
                    }
                }
            }
        }
        if reported {
            continue;
        }
        if let Some((p, sw, path)) = o.switch_bgp.get(&i) {
            match p {
                Some(p) if p.established() => {}
                Some(p) => push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!(
                            "`{name}` BGP session to {} {over} is {} on the switch",
                            sv.peer, p.state
                        ),
                    )
                    .label(span, "declared here")
                    .help(format!("per {path} (peer `{}` on {sw})", p.key)),
                ),
                None => push(
                    Diagnostic::error(
                        Code::StateBgpDown,
                        format!(
                            "`{name}` BGP session to {} {over} is not configured on the switch",
                            sv.peer
                        ),
                    )
                    .label(span, "declared here")
                    .help(format!(
                        "{path} has no peer for port {}; is the compiled switch config deployed?",
                        sv.peer_port.as_deref().unwrap_or("?")
                    )),
                ),
            }
        }
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

fn parse_cidr<T: std::str::FromStr>(
    cidr: Option<&str>,
    bare: Option<&str>,
    max: u8,
) -> Option<(T, u8)> {
    if let Some((a, p)) = cidr.and_then(|c| c.split_once('/')) {
        return Some((a.parse().ok()?, p.parse().ok()?));
    }
    Some((bare?.parse().ok()?, max))
}

fn is_link_local6(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

/// Declared addresses against the host's: on the declared interface (or
/// the one carrying its MAC, if renamed) with the declared prefix length.
/// Extra addresses on a host are not reported (VIPs, keepalived).
fn check_addresses(d: &Declared, k: usize, f: &HostFacts, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.view.nodes[k];
    let rn = d.rn(k);
    let name = &nv.name;
    let host_iface = |iname: &str| -> Option<&IfaceFacts> {
        f.interfaces.iter().find(|x| x.name == iname).or_else(|| {
            let mac = rn
                .settings
                .interfaces
                .iter()
                .find(|i| i.name.value == iname)?
                .mac
                .as_ref()?
                .value;
            f.interfaces.iter().find(|x| x.mac == Some(mac))
        })
    };
    for (a, av) in nv.addresses.iter().enumerate() {
        let span = rn.settings.addresses[a].span;
        let on = av.interface.as_deref().and_then(host_iface);
        if let (Some(iname), None) = (av.interface.as_deref(), on) {
            // The interface itself is missing (SC1011 says so); an address
            // found elsewhere on the host is still worth a word.
            let v4 = av.ipv4.as_deref().and_then(|a| a.parse::<Ipv4Addr>().ok());
            let v6 = av.ipv6.as_deref().and_then(|a| a.parse::<Ipv6Addr>().ok());
            let found = v4.is_some_and(|ip| f.all_ipv4.contains(&ip))
                || v6.is_some_and(|ip| f.all_ipv6.contains(&ip));
            if !found {
                let what: Vec<&str> = [av.ipv4_cidr.as_deref(), av.ipv6_cidr.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                push(
                    Diagnostic::error(
                        Code::StateAddressMismatch,
                        format!(
                            "`{name}` lacks {}: its interface {iname} is not on the host",
                            what.join(" and ")
                        ),
                    )
                    .label(span, "declared here")
                    .help(format!("per {}", f.path)),
                );
            }
            continue;
        }
        let where_ = av
            .interface
            .as_deref()
            .map(|i| format!(" {i}"))
            .unwrap_or_default();
        if let Some((ip, len)) =
            parse_cidr::<Ipv4Addr>(av.ipv4_cidr.as_deref(), av.ipv4.as_deref(), 32)
        {
            let have: Vec<(Ipv4Addr, u8)> = match on {
                Some(fi) => fi.ipv4.clone(),
                None => f.interfaces.iter().flat_map(|i| i.ipv4.clone()).collect(),
            };
            if !have.contains(&(ip, len)) {
                let elsewhere = f
                    .interfaces
                    .iter()
                    .find(|i| i.ipv4.iter().any(|x| x.0 == ip));
                let (msg, hint) = address_drift(
                    &ip.to_string(),
                    len,
                    have.iter()
                        .filter(|(a, _)| !a.is_loopback())
                        .map(|(a, l)| (a.to_string(), *l, *a == ip))
                        .collect(),
                    elsewhere.map(|i| i.name.as_str()),
                    on.is_some(),
                );
                push(
                    Diagnostic::error(
                        Code::StateAddressMismatch,
                        format!("`{name}`{where_} {msg}"),
                    )
                    .label(span, format!("declared {ip}/{len}"))
                    .help(format!("per {}{hint}", f.path)),
                );
            }
        }
        if let Some((ip, len)) =
            parse_cidr::<Ipv6Addr>(av.ipv6_cidr.as_deref(), av.ipv6.as_deref(), 128)
        {
            let have: Vec<(Ipv6Addr, u8)> = match on {
                Some(fi) => fi.ipv6.clone(),
                None => f.interfaces.iter().flat_map(|i| i.ipv6.clone()).collect(),
            };
            if !have.contains(&(ip, len)) {
                let elsewhere = f
                    .interfaces
                    .iter()
                    .find(|i| i.ipv6.iter().any(|x| x.0 == ip));
                let (msg, hint) = address_drift(
                    &ip.to_string(),
                    len,
                    have.iter()
                        .filter(|(a, _)| !is_link_local6(a))
                        .map(|(a, l)| (a.to_string(), *l, *a == ip))
                        .collect(),
                    elsewhere.map(|i| i.name.as_str()),
                    on.is_some(),
                );
                push(
                    Diagnostic::error(
                        Code::StateAddressMismatch,
                        format!("`{name}`{where_} {msg}"),
                    )
                    .label(span, format!("declared {ip}/{len}"))
                    .help(format!("per {}{hint}", f.path)),
                );
            }
        }
    }
    let lo = rn.settings.loopback.as_ref();
    let lo_span = lo.map(|l| l.span).unwrap_or(d.node(k).name.span);
    if let Some(ip) = nv
        .loopback4
        .as_deref()
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
    {
        if !f.all_ipv4.contains(&ip) {
            push(
                Diagnostic::error(
                    Code::StateAddressMismatch,
                    format!("`{name}` does not have its loopback address {ip}"),
                )
                .label(lo_span, format!("loopback {ip}"))
                .help(format!(
                    "per {}; BGP announces the loopback, so the node is unreachable by it",
                    f.path
                )),
            );
        }
    }
    if let Some(ip) = nv
        .loopback6
        .as_deref()
        .and_then(|s| s.parse::<Ipv6Addr>().ok())
    {
        if !f.all_ipv6.contains(&ip) {
            push(
                Diagnostic::error(
                    Code::StateAddressMismatch,
                    format!("`{name}` does not have its loopback address {ip}"),
                )
                .label(lo_span, format!("loopback {ip}"))
                .help(format!("per {}", f.path)),
            );
        }
    }
}

/// The message and hint for one missing address: a wrong prefix length,
/// on another interface, or simply other addresses.
fn address_drift(
    ip: &str,
    len: u8,
    have: Vec<(String, u8, bool)>,
    elsewhere: Option<&str>,
    iface_found: bool,
) -> (String, String) {
    if let Some((a, l, _)) = have.iter().find(|h| h.2) {
        return (
            format!("has {a}/{l}, declared {ip}/{len}"),
            "; the prefix length differs from the network's".to_string(),
        );
    }
    if let Some(other) = elsewhere {
        return (
            format!("has {ip} on {other}, not where it is declared"),
            String::new(),
        );
    }
    let list: Vec<String> = have.iter().map(|(a, l, _)| format!("{a}/{l}")).collect();
    let what = if list.is_empty() {
        "no address of that family".to_string()
    } else {
        list.join(", ")
    };
    let iface = if iface_found {
        ""
    } else {
        " (interface not found on the host)"
    };
    (
        format!("lacks {ip}/{len}: it has {what}{iface}"),
        String::new(),
    )
}

/// Groups unknown observations into machines: two observations are one
/// machine when they share a MAC or an identity token. A small union-find
/// over the observations, in input order, so grouping is deterministic.
fn group_unknown(d: &Declared, obs: Vec<UnknownObs>) -> Vec<UnknownMachine> {
    let n = obs.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, o) in obs.iter().enumerate() {
        let keys = o
            .mac
            .iter()
            .map(|m| format!("mac:{m}"))
            .chain(o.tokens.iter().cloned());
        for key in keys {
            match first.get(&key) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    first.insert(key, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<UnknownMachine> = groups
        .into_values()
        .map(|members| {
            let mut macs = BTreeSet::new();
            let mut ifaces: Vec<SeenIface> = Vec::new();
            let mut hostnames = Vec::new();
            let mut addresses = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut evidence = Vec::new();
            for &i in &members {
                let o = &obs[i];
                if let Some(m) = o.mac {
                    macs.insert(m);
                }
                if let Some(h) = &o.hostname {
                    push_ev(&mut hostnames, h);
                }
                if let Some(a) = o.address {
                    addresses.insert(a);
                }
                if let Some(s) = o.seen_in {
                    seen.insert(s);
                }
                push_ev(&mut evidence, &o.evidence);
                merge_iface(
                    &mut ifaces,
                    SeenIface {
                        name: o.iface.clone(),
                        mac: o.mac.map(|m| m.to_string()),
                        switch: o.switch.clone(),
                        port: o.port.clone(),
                        ipv4: o.address.map(|a| a.to_string()),
                    },
                );
            }
            ifaces.sort();
            let rack = ifaces
                .iter()
                .filter_map(|i| i.switch.as_deref())
                .find_map(|s| d.rack_of_switch(s));
            UnknownMachine {
                macs: macs.iter().map(|m| m.to_string()).collect(),
                interfaces: ifaces,
                hostnames,
                addresses: addresses.iter().map(|a| a.to_string()).collect(),
                rack,
                seen_in: seen.into_iter().collect(),
                evidence,
            }
        })
        .collect();
    // Machines on a port first, by switch and port, then by MAC.
    out.sort_by(|a, b| {
        let key = |u: &UnknownMachine| {
            let port = u.interfaces.iter().find(|i| i.switch.is_some()).map(|i| {
                (
                    i.switch.clone().unwrap_or_default(),
                    crate::render::context::port_key(i.port.as_deref().unwrap_or("")),
                )
            });
            (
                port.is_none(),
                port,
                u.macs.first().cloned(),
                u.hostnames.first().cloned(),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// Adds an interface observation, merging it with one it describes too
/// (same MAC, or same name where one side lacks the MAC).
fn merge_iface(list: &mut Vec<SeenIface>, new: SeenIface) {
    let same = |x: &SeenIface| {
        (new.mac.is_some() && x.mac == new.mac)
            || (new.name.is_some() && x.name == new.name && (x.mac.is_none() || new.mac.is_none()))
    };
    match list.iter_mut().find(|x| same(x)) {
        Some(x) => {
            x.name = x.name.take().or(new.name);
            x.mac = x.mac.take().or(new.mac);
            x.ipv4 = x.ipv4.take().or(new.ipv4);
            if x.switch.is_none() {
                x.switch = new.switch;
                x.port = new.port;
            }
        }
        None => list.push(new),
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

fn unknown_diag(d: &Declared, u: &UnknownMachine) -> Diagnostic {
    let ident = match (u.macs.first(), u.hostnames.first()) {
        (Some(m), _) => m.clone(),
        (None, Some(h)) => format!("`{h}`"),
        (None, None) => "?".to_string(),
    };
    let mut msg = format!("unknown machine {ident}");
    if let Some(loc) = u.location() {
        msg.push_str(&format!(" on {loc}"));
        if let Some(r) = &u.rack {
            msg.push_str(&format!(" (rack {r})"));
        }
    }
    let mut details = Vec::new();
    if u.macs.len() > 1 {
        details.push(format!("MACs {}", u.macs.join(", ")));
    }
    if !u.addresses.is_empty() {
        details.push(addresses_text(&u.addresses));
    }
    if !u.hostnames.is_empty() {
        details.push(format!(
            "calls itself {}",
            u.hostnames
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(" / ")
        ));
    }
    let mut diag = Diagnostic::warning(Code::StateUnknownMachine, msg);
    let sw = u
        .interfaces
        .iter()
        .find_map(|i| Some((i.switch.as_deref()?, i.port.as_deref())));
    if let Some((sw, port)) = sw {
        if let Some(Host::Switch(s)) = d.host(sw) {
            let span = d.site.switches[s].name.span;
            diag = diag.label(
                span,
                match port {
                    Some(p) => format!("on port {p} of this switch"),
                    None => "on this switch".to_string(),
                },
            );
        }
    }
    let stub = match u.macs.first() {
        Some(m) => {
            format!("`siteconf state --stub {m} …` (same inputs) prints a node block to paste")
        }
        None => "declare it, or remove it from the network".to_string(),
    };
    let mut help = String::new();
    if !details.is_empty() {
        help.push_str(&details.join("; "));
        help.push_str("; ");
    }
    help.push_str(&format!("seen in {}. {stub}", join_ev(&u.evidence)));
    diag.help(help)
}

/// The node's interface that carries `mac`, for tests and the stub.
pub fn owner_name(d: &Declared, mac: Mac) -> Option<(String, String)> {
    let (k, j) = d.mac_owner(mac)?;
    Some((
        d.view.nodes[k].name.clone(),
        d.iface(k, j).name.value.clone(),
    ))
}
