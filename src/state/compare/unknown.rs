//! Unknown machines: the observations no declared node accounts for,
//! grouped into machines (by MAC, chassis id or the host a file is named
//! after), and the warning (SC1007) for each.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diag::{Code, Diagnostic};
use crate::model::Mac;

use super::{
    addresses_text, join_ev, push_ev, Declared, Host, SeenIface, UnknownMachine, UnknownObs,
};

/// Groups unknown observations into machines: two observations are one
/// machine when they share a MAC or an identity token. A small union-find
/// over the observations, in input order, so grouping is deterministic.
pub(super) fn group(d: &Declared, obs: Vec<UnknownObs>) -> Vec<UnknownMachine> {
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

/// The warning for one unknown machine, at the switch it is on.
pub(super) fn diagnostic(d: &Declared, u: &UnknownMachine) -> Diagnostic {
    let ident = u.ident();
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
        if let Some(Host::Switch(s)) = d.announced(sw) {
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

/// SC1021 for each address an unknown machine has that the site gives to
/// a node: two machines answer for it. Labelled at the node's address;
/// the node's lease of it that the unknown client's row replaced in the
/// lease file (`displaced`) is named, so that it does not drop out
/// unsaid.
pub(super) fn collisions(
    d: &Declared,
    unknown: &[UnknownMachine],
    displaced: &[crate::state::input::leases::Lease],
    leases_path: &str,
) -> Vec<super::Finding> {
    use std::net::Ipv4Addr;
    let mut out = Vec::new();
    let mut owners: HashMap<Ipv4Addr, Vec<(usize, usize)>> = HashMap::new();
    if unknown.iter().all(|u| u.addresses.is_empty()) {
        return out;
    }
    for (k, nv) in d.eff.nodes.iter().enumerate() {
        for (j, a) in nv.addresses.iter().enumerate() {
            if let Some(v4) = a.ipv4 {
                owners.entry(v4.value).or_default().push((k, j));
            }
        }
    }
    for u in unknown {
        let ident = u
            .macs
            .first()
            .cloned()
            .or_else(|| u.hostnames.first().map(|h| format!("`{h}`")))
            .unwrap_or_else(|| "?".to_string());
        for a in &u.addresses {
            let Ok(ip) = a.parse::<Ipv4Addr>() else {
                continue;
            };
            for &(k, j) in owners.get(&ip).into_iter().flatten() {
                let nv = &d.eff.nodes[k];
                let ea = &nv.addresses[j];
                let Some(eff) = ea.ipv4 else { continue };
                let mut help = format!("seen in {}", join_ev(&u.evidence));
                if let Some(loc) = u.location() {
                    help.push_str(&format!(", on {loc}"));
                }
                let node_macs: Vec<Mac> = d
                    .rn(k)
                    .settings
                    .interfaces
                    .iter()
                    .filter_map(|i| i.mac.as_ref().map(|m| m.value))
                    .collect();
                if let Some(l) = displaced
                    .iter()
                    .find(|l| l.address == ip && l.hwaddr.is_some_and(|m| node_macs.contains(&m)))
                {
                    help.push_str(&format!(
                        "; `{}`'s own lease of it ({leases_path}:{}) was replaced by the unknown client's",
                        nv.name, l.line
                    ));
                }
                help.push_str(&format!(
                    "; ARP answers flip between the two machines, so `{}`'s traffic, DNS name and Ansible connections reach either: find the machine and remove or renumber it (`siteconf state --stub {ident} …` declares it)",
                    nv.name
                ));
                out.push(super::Finding {
                    node: Some(nv.name.to_string()),
                    diag: Diagnostic::error(
                        Code::StateAddressCollision,
                        format!(
                            "unknown machine {ident} has {ip}, `{}`'s {} address",
                            nv.name, ea.network
                        ),
                    )
                    .label(
                        eff.span,
                        format!(
                            "{} {ip} for `{}`",
                            if eff.allocated {
                                "allocated"
                            } else {
                                "declared"
                            },
                            nv.name
                        ),
                    )
                    .help(help),
                });
            }
        }
    }
    out
}
