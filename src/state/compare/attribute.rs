//! Attribution: each fact file, LLDP dump, lease and BGP summary tied to
//! the declared node it is about (by name, FQDN or a declared MAC, or a MAC
//! the node's facts show), a declared switch, or an unknown machine.

use std::collections::{BTreeMap, HashMap};

/// Files and leases about the project's other sites' hosts, by site.
pub(super) type OtherSites = BTreeMap<String, usize>;

/// Counts one input about another site's host, when it is one.
fn other(others: &mut OtherSites, site: Option<&str>) -> bool {
    match site {
        Some(s) => {
            *others.entry(s.to_string()).or_insert(0) += 1;
            true
        }
        None => false,
    }
}

use crate::diag::{Code, Diagnostic};
use crate::model::Mac;

use super::super::input::bgp::BgpSummary;
use super::super::input::facts::HostFacts;
use super::super::input::facts::IfaceFacts;
use super::super::input::leases::LeaseState;
use super::super::input::lldp::LldpNeighbor;
use super::super::input::Observed;
use super::{host_token, push_ev, Declared, Finding, Host, NodeObs, SeenIn, UnknownObs};
use crate::resolve::effective::SessionPath;
use std::net::Ipv4Addr;

/// Of several files about one declared host, the one compared: the file
/// named by the host's FQDN, else by its short name, else (facts) found by
/// a declared MAC, the first in path order among equals. Every other one
/// is reported (SC1012), never dropped silently: a stale `r01n01` beside
/// `r01n01.dc1.example.net` would otherwise be compared instead of it.
/// `keys[i]` is file i's host and rank (0 FQDN, 1 short name, 2 MAC).
fn pick(
    d: &Declared,
    kind: &str,
    keys: &[Option<(Host, u8)>],
    paths: &[&str],
    findings: &mut Vec<Finding>,
) -> Vec<bool> {
    let mut best: HashMap<Host, usize> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        let Some((h, rank)) = key else { continue };
        best.entry(*h)
            .and_modify(|b| {
                if keys[*b].is_some_and(|(_, r)| *rank < r) {
                    *b = i;
                }
            })
            .or_insert(i);
    }
    let mut used = vec![false; keys.len()];
    for (i, key) in keys.iter().enumerate() {
        let Some((h, rank)) = key else { continue };
        let b = best[h];
        if b == i {
            used[i] = true;
            continue;
        }
        let name = d.host_name(*h);
        let why = match (keys[b].map(|(_, r)| r), rank) {
            (Some(0), _) => "is named by its FQDN",
            (Some(1), 2) => "is named after it (this one was matched by a declared MAC)",
            _ => "comes first",
        };
        findings.push(Finding {
            node: matches!(h, Host::Node(_)).then(|| name.clone()),
            diag: Diagnostic::warning(
                Code::StateDuplicateInput,
                format!(
                    "{kind} `{}` is not used: `{}` is about `{name}` too and {why}",
                    paths[i], paths[b]
                ),
            )
            .help(format!(
                "one {kind} per host is compared; remove the stale file (an inventory renamed from short names to FQDNs leaves the old files behind), or rename it after the host it is from"
            )),
        });
    }
    used
}

fn rank(found: Option<(Host, bool)>) -> Option<(Host, u8)> {
    found.map(|(h, fqdn)| (h, if fqdn { 0 } else { 1 }))
}

/// The help of SC1009, with the declared host's FQDN when the file's name
/// starts like it (`r01n01.dc2.example.net` beside dc1's `r01n01`).
fn hint(d: &Declared, name: &str, help: &str) -> String {
    match d.near_miss(name) {
        Some(fqdn) => format!(
            "`{name}` is not `{fqdn}` (another site's host? an input directory shared by several sites holds theirs too); {help}"
        ),
        None => help.to_string(),
    }
}

/// SC1009 for a fact file named by an FQDN that is no declared host's but
/// starts with a declared name: it is another machine (another site's
/// host, most often), compared with nothing here, which the unknown
/// machine it becomes does not make plain.
fn near_miss(d: &Declared, kind: &str, path: &str, name: &str, findings: &mut Vec<Finding>) {
    if d.near_miss(name).is_none() {
        return;
    }
    findings.push(Finding {
        node: None,
        diag: Diagnostic::warning(
            Code::StateUnknownHost,
            format!(
                "{kind} `{path}` is from `{name}`, which the site declares neither as a node nor as a switch"
            ),
        )
        .help(hint(d, name, "files are matched by exact host name or FQDN, so it is not compared with any node; run with the site it belongs to (`--site`), or remove it")),
    });
}

/// Facts first: they also say which undeclared MACs a known node has.
pub(super) fn facts<'o>(
    d: &Declared,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
    findings: &mut Vec<Finding>,
    others: &mut OtherSites,
) {
    // A host filed under a name the site does not know is still
    // recognised by a declared MAC (and then reported for its name).
    let keys: Vec<Option<(Host, u8)>> = obs
        .facts
        .iter()
        .map(|f| {
            rank(d.host_by_file(&f.inventory_name)).or_else(|| {
                f.interfaces
                    .iter()
                    .filter_map(|i| i.mac)
                    .find_map(|m| d.mac_owner(m))
                    .map(|(k, _)| (Host::Node(k), 2))
            })
        })
        .collect();
    let paths: Vec<&str> = obs.facts.iter().map(|f| f.path.as_str()).collect();
    let used = pick(d, "fact file", &keys, &paths, findings);
    for ((f, key), used) in obs.facts.iter().zip(&keys).zip(used) {
        if key.is_some() && !used {
            continue;
        }
        match key.map(|(h, _)| h) {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Facts);
                per[k].facts = Some(f);
            }
            Some(Host::Switch(s)) => {
                switch_seen[s] = true;
                switch_hostname(d, s, f, findings);
            }
            // The Ansible controller (`hosts: all` includes `localhost`
            // when a play names it): not a machine of the site.
            None if f.inventory_name.eq_ignore_ascii_case("localhost") => {}
            // Another site's host in a cache shared by the project's
            // sites: that site's, not an unknown machine here.
            None if other(
                others,
                d.other_site(&f.inventory_name).or_else(|| {
                    f.interfaces
                        .iter()
                        .filter_map(|i| i.mac)
                        .find_map(|m| d.other_site_mac(m))
                }),
            ) => {}
            None => {
                near_miss(d, "fact file", &f.path, &f.inventory_name, findings);
                unknown_facts(d, f, unknown);
            }
        }
    }
}

/// SC1004 for a switch whose fact file (network facts,
/// `ansible_net_hostname`, or host facts) gives another name than
/// declared; a file without a hostname says nothing to compare.
fn switch_hostname(d: &Declared, s: usize, f: &HostFacts, findings: &mut Vec<Finding>) {
    let sw = &d.eff.switches[s];
    let Some(h) = f.hostname.as_deref() else {
        return;
    };
    let h = h.trim_end_matches('.');
    if h.eq_ignore_ascii_case(sw.name) || h.eq_ignore_ascii_case(&sw.fqdn) {
        return;
    }
    findings.push(Finding {
        node: None,
        diag: Diagnostic::error(
            Code::StateHostnameMismatch,
            format!("switch `{}` reports hostname `{h}`", sw.name),
        )
        .label(
            d.site.switches[s].name.span,
            format!("declared `{}` (`{}`)", sw.name, sw.fqdn),
        )
        .help(format!(
            "per {}; the switch's FRR `hostname` is what nodes see as their BGP neighbour's name, and the inventory and DNS zone say `{}` / `{}`: set the switch's hostname, or rename the file after the switch it is from",
            f.path, sw.name, sw.fqdn
        )),
    });
}

/// The observations of a fact file no declared host accounts for: its
/// NICs by their MACs (a bond or VLAN shares its first member's MAC and
/// is no NIC of its own, so it never stands for that member), its
/// addresses with the interfaces that carry them, and the names it goes
/// by, which join it to its LLDP dump and to what switches hear of it.
fn unknown_facts(d: &Declared, f: &HostFacts, unknown: &mut Vec<UnknownObs>) {
    let mut tokens: Vec<String> = [
        Some(f.inventory_name.as_str()),
        f.hostname.as_deref(),
        f.fqdn.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|n| host_token(d, n))
    .collect();
    tokens.sort();
    tokens.dedup();
    if tokens.is_empty() {
        // An installer's name: the file still is one machine.
        tokens.push(format!("file:{}", f.path));
    }
    let name = f.hostname.clone().or(Some(f.inventory_name.clone()));
    let obs = |mac: Option<Mac>, iface: &str, address: Option<Ipv4Addr>| UnknownObs {
        mac,
        tokens: tokens.clone(),
        iface: Some(iface.to_string()),
        address,
        hostname: name.clone(),
        seen_in: Some(SeenIn::Facts),
        evidence: f.path.clone(),
        ..Default::default()
    };
    let before = unknown.len();
    for i in &f.interfaces {
        let mac = i.mac.filter(|_| is_nic(i, &f.interfaces));
        let addrs: Vec<Ipv4Addr> = i
            .ipv4
            .iter()
            .map(|a| a.0)
            .filter(|a| !a.is_loopback() && !a.is_link_local() && !a.is_unspecified())
            .collect();
        if mac.is_some() && addrs.is_empty() {
            unknown.push(obs(mac, &i.name, None));
        }
        for a in addrs {
            unknown.push(obs(mac, &i.name, Some(a)));
        }
    }
    if unknown.len() == before {
        unknown.push(UnknownObs {
            iface: None,
            ..obs(None, "", None)
        });
    }
}

/// Whether a fact interface is the host's loopback.
pub(crate) fn is_loopback(i: &IfaceFacts) -> bool {
    i.kind.as_deref() == Some("loopback") || i.name == "lo"
}

/// The parent and VLAN id of a VLAN interface named `parent.id` after
/// another interface of the host (`bond0.200`, `eno1.100`), the
/// convention of ip-link, ifupdown and netplan alike; Ansible reports
/// VLAN interfaces as plain `ether` with their parent's MAC.
pub(crate) fn vlan_of<'f>(i: &IfaceFacts, all: &'f [IfaceFacts]) -> Option<(&'f str, u16)> {
    let (parent, id) = i.name.rsplit_once('.')?;
    let id: u16 = id.parse().ok().filter(|v| (1..=4094).contains(v))?;
    let p = all.iter().find(|x| x.name == parent)?;
    Some((p.name.as_str(), id))
}

/// The parent and, when known, the id of a VLAN interface, whatever its
/// name. Ansible reports a VLAN as `type: ether` with its parent's MAC
/// and without `module` (it gives the driver only for an interface backed
/// by a device; `8021q` is taken too, as some collectors report it) and
/// no fact holds the VLAN id: `storage0` over `bond0` is an interface
/// without a driver that has the MAC of a bond or of a NIC and is no
/// bond's member. Its id is known only from a `parent.id` name.
pub(crate) fn vlan_parent<'f>(
    i: &IfaceFacts,
    all: &'f [IfaceFacts],
) -> Option<(&'f str, Option<u16>)> {
    if let Some((p, id)) = vlan_of(i, all) {
        return Some((p, Some(id)));
    }
    let software = matches!(i.module.as_deref(), None | Some("8021q"));
    let member = all.iter().any(|b| b.members.contains(&i.name));
    if !software
        || member
        || !matches!(i.kind.as_deref(), None | Some("ether"))
        || !i.members.is_empty()
        || is_loopback(i)
    {
        return None;
    }
    let mac = i.mac?;
    let same = |x: &&IfaceFacts| x.name != i.name && x.mac == Some(mac) && !is_loopback(x);
    // A bond first (its first member has its MAC too), then a NIC.
    let parent = all
        .iter()
        .filter(same)
        .find(|x| x.kind.as_deref() == Some("bonding") || !x.members.is_empty())
        // A NIC only when the facts give drivers at all: without them,
        // two interfaces with one MAC do not say which is the NIC.
        .or_else(|| {
            all.iter()
                .filter(same)
                .find(|x| x.module.as_deref().is_some_and(|m| m != "8021q"))
        })?;
    Some((parent.name.as_str(), None))
}

/// Whether a fact interface is a NIC of its own (an ethernet port with
/// its MAC), not a bond, bridge, VLAN or loopback over others.
pub(crate) fn is_nic(i: &IfaceFacts, all: &[IfaceFacts]) -> bool {
    matches!(i.kind.as_deref(), None | Some("ether"))
        && i.members.is_empty()
        && !is_loopback(i)
        && vlan_parent(i, all).is_none()
}

/// What attribution after the facts needs: the site, and the MACs the
/// facts tied to nodes.
pub(super) struct Ctx<'c, 'a> {
    pub(super) d: &'c Declared<'a>,
    pub(super) facts_macs: &'c HashMap<Mac, (usize, String)>,
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

pub(super) fn lldp<'o>(
    c: &Ctx,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
    findings: &mut Vec<Finding>,
    others: &mut OtherSites,
) {
    let d = c.d;
    let keys: Vec<Option<(Host, u8)>> = obs
        .lldp
        .iter()
        .map(|x| rank(d.host_by_file(&x.host)))
        .collect();
    let paths: Vec<&str> = obs.lldp.iter().map(|x| x.path.as_str()).collect();
    let used = pick(d, "LLDP dump", &keys, &paths, findings);
    for (dump, used) in obs.lldp.iter().zip(used) {
        let host = d.host(&dump.host);
        if host.is_some() && !used {
            continue;
        }
        match host {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Lldp);
                per[k].lldp_path = Some(dump.path.as_str());
                for nb in &dump.neighbors {
                    let sw = nb
                        .sysname
                        .as_deref()
                        .map(|s| d.switch_name(s))
                        .or_else(|| nb.chassis_id.as_ref().map(|(_, v)| v.clone()))
                        .unwrap_or_default();
                    if let Some(Host::Switch(s)) =
                        nb.sysname.as_deref().and_then(|s| d.announced(s))
                    {
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
                let swname = d.eff.switches[s].name.to_string();
                for nb in &dump.neighbors {
                    switch_port_neighbor(
                        c,
                        &swname,
                        nb,
                        &dump.path,
                        per,
                        switch_seen,
                        unknown,
                        others,
                    );
                }
            }
            None if other(others, d.other_site(&dump.host)) => {}
            None => {
                // A host the site does not declare: its neighbours still
                // say which switch ports it sits on.
                let token =
                    host_token(d, &dump.host).unwrap_or_else(|| format!("file:{}", dump.path));
                findings.push(Finding {
                    node: None,
                    diag: Diagnostic::warning(
                        Code::StateUnknownHost,
                        format!(
                            "LLDP dump `{}` is from `{}`, which the site declares neither as a node nor as a switch",
                            dump.path, dump.host
                        ),
                    )
                    .help(hint(d, &dump.host, "files are matched by host name or FQDN; rename the file after the declared host, or declare the machine")),
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
#[allow(clippy::too_many_arguments)]
fn switch_port_neighbor<'o>(
    c: &Ctx,
    swname: &str,
    nb: &LldpNeighbor,
    path: &str,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    unknown: &mut Vec<UnknownObs>,
    others: &mut OtherSites,
) {
    let d = c.d;
    if d.link_ports
        .contains(&(swname.to_string(), nb.local_port.clone()))
    {
        return;
    }
    let by_sysname = nb.sysname.as_deref().and_then(|s| d.announced(s));
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
            None => {
                let site = nb
                    .sysname
                    .as_deref()
                    .and_then(|s| d.other_site(s))
                    .or_else(|| mac.and_then(|m| d.other_site_mac(m)));
                if other(others, site) {
                    return;
                }
                // The transit router on a `bgp-peer`'s port, the OOB
                // switch on the management port: no machine to declare.
                if d.not_a_machine_port(swname, &nb.local_port).is_some() {
                    return;
                }
                return unknown_on_port(d, swname, nb, mac, path, unknown);
            }
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
    d: &Declared,
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
    tokens.extend(nb.sysname.as_deref().and_then(|s| host_token(d, s)));
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

pub(super) fn leases<'o>(
    c: &Ctx,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    unknown: &mut Vec<UnknownObs>,
    others: &mut OtherSites,
) {
    let path = obs.leases_path.as_deref().unwrap_or("leases");
    for l in &obs.leases {
        let Some(mac) = l.hwaddr else { continue };
        let ev = format!("{path}:{}", l.line);
        match c.node_of_mac(mac) {
            Some((k, j)) => {
                // A lease that had lapsed is history, not a sighting.
                if l.state != LeaseState::Lapsed {
                    per[k].seen.insert(SeenIn::Dhcp);
                }
                if let Some(j) = j {
                    per[k].leases.push((j, l, ev));
                }
            }
            None if other(
                others,
                c.d.other_site_mac(mac)
                    .or_else(|| l.hostname.as_deref().and_then(|h| c.d.other_site(h))),
            ) => {}
            // An expired lease of an unknown MAC is history, not a machine
            // on the network now; only leases in effect are reported.
            None if l.state == LeaseState::Default => unknown.push(UnknownObs {
                mac: Some(mac),
                tokens: l
                    .hostname
                    .as_deref()
                    .and_then(|h| host_token(c.d, h))
                    .into_iter()
                    .collect(),
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

/// BGP summaries: a node's own is its [`NodeObs::bgp`]; a switch's gives
/// each node session ending on it the switch's view of it (an Established
/// one is a sighting of the node; one that is not up is not), and is
/// returned by switch, for the switch's own sessions.
pub(super) fn bgp<'o>(
    d: &Declared,
    obs: &'o Observed,
    per: &mut [NodeObs<'o>],
    switch_seen: &mut [bool],
    findings: &mut Vec<Finding>,
    others: &mut OtherSites,
) -> Vec<Option<&'o BgpSummary>> {
    let mut by_switch: Vec<Option<&'o BgpSummary>> = vec![None; d.eff.switches.len()];
    let keys: Vec<Option<(Host, u8)>> = obs
        .bgp
        .iter()
        .map(|x| rank(d.host_by_file(&x.host)))
        .collect();
    let paths: Vec<&str> = obs.bgp.iter().map(|x| x.path.as_str()).collect();
    let used = pick(d, "BGP summary", &keys, &paths, findings);
    for (b, used) in obs.bgp.iter().zip(used) {
        let host = d.host(&b.host);
        if host.is_some() && !used {
            continue;
        }
        match host {
            Some(Host::Node(k)) => {
                per[k].seen.insert(SeenIn::Bgp);
                per[k].bgp = Some(b);
            }
            Some(Host::Switch(s)) => {
                switch_seen[s] = true;
                by_switch[s] = Some(b);
                let sw = &d.eff.switches[s];
                for dl in &sw.downlinks {
                    let (_, sess) = d.eff.downlink(dl);
                    // The switch names an unnumbered neighbour by its own
                    // port, a numbered one by the node's address.
                    let key = match &sess.path {
                        SessionPath::Unnumbered { port } => Some(port.clone()),
                        _ => sess.local_address.map(|a| a.to_string()),
                    };
                    let Some(key) = key else { continue };
                    let peer = b.peer(&key);
                    if peer.is_some_and(|p| p.established()) {
                        per[dl.node].seen.insert(SeenIn::Bgp);
                    }
                    per[dl.node].switch_bgp.entry(dl.session).or_insert((
                        peer,
                        sw.name.to_string(),
                        b.path.clone(),
                    ));
                }
            }
            None if other(others, d.other_site(&b.host)) => {}
            None => findings.push(Finding {
                node: None,
                diag: Diagnostic::warning(
                    Code::StateUnknownHost,
                    format!(
                        "BGP summary `{}` is from `{}`, which the site declares neither as a node nor as a switch",
                        b.path, b.host
                    ),
                )
                .help(hint(d, &b.host, "files are matched by host name or FQDN; rename the file after the declared host")),
            }),
        }
    }
    by_switch
}
