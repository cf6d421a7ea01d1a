//! `--stub MAC`: a node declaration (KDL) for an unknown machine, from what
//! was observed about it, ready to paste into a site file.
//!
//! The rack comes from the switch the machine was seen on, interfaces with
//! their MACs and cabling from LLDP (and the fact cache, if the machine is
//! in it), the name from what the machine calls itself (DHCP client name,
//! LLDP system name) or `newnode-<mac>`. The rack position cannot be
//! observed, so it is a placeholder that `check` rejects until an engineer
//! fills in a free unit (the free units are listed beside it).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::model::{is_hostname_label, Mac, Purpose};
use crate::syntax::kdl::write::{comment, string as q};

use super::compare::{Declared, Host, UnknownMachine};

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

/// Names installers give every machine: no hint of which machine it is.
const GENERIC: &[&str] = &[
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

/// A name for the new node: the first thing it calls itself that is a
/// valid, unused host name; else `newnode-<mac>`.
fn guess_name(d: &Declared, u: &UnknownMachine, mac: Mac) -> String {
    for h in &u.hostnames {
        let first = h.split('.').next().unwrap_or("").to_ascii_lowercase();
        if is_hostname_label(&first)
            && !GENERIC.contains(&first.as_str())
            && d.host(&first).is_none()
        {
            return first;
        }
    }
    let hex: String = mac.0.iter().map(|b| format!("{b:02x}")).collect();
    format!("newnode-{hex}")
}

/// The node block for the unknown machine that has `mac`.
pub fn stub(
    d: &Declared,
    unknown: &[UnknownMachine],
    node_macs: &[(String, String)],
    mac: Mac,
) -> Result<String, String> {
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
    let mut out = String::new();
    // Comments quote what machines reported (names, ports): written
    // through `comment` so that no newline in them can end the comment.
    out.push_str(&format!(
        "// Stub for the unknown machine {m}{}, from `siteconf state --stub`.\n",
        comment(&u.location().map(|l| format!(" on {l}")).unwrap_or_default())
    ));
    if !u.hostnames.is_empty() || !u.addresses.is_empty() {
        let mut seen = Vec::new();
        if !u.hostnames.is_empty() {
            seen.push(format!("calls itself {}", u.hostnames.join(" / ")));
        }
        if !u.addresses.is_empty() {
            seen.push(super::compare::addresses_text(&u.addresses));
        }
        out.push_str(&format!("// Observed: {}.\n", comment(&seen.join("; "))));
    }
    out.push_str("// Review the name and interfaces, and fill in `position` before committing.\n");
    out.push_str(&format!("node {} {{\n", q(&name)));
    match &u.rack {
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
    // Interfaces with a MAC can be declared; the others are noted.
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut notes = Vec::new();
    let mut declared_ifaces: Vec<(String, String)> = Vec::new();
    let mut n = 0;
    for i in &u.interfaces {
        let Some(imac) = &i.mac else {
            notes.push(format!(
                "    // also seen: interface {} on {} {} (MAC unknown; declare it once known)\n",
                comment(i.name.as_deref().unwrap_or("?")),
                comment(i.switch.as_deref().unwrap_or("?")),
                comment(i.port.as_deref().unwrap_or("?"))
            ));
            continue;
        };
        let mut iname = i
            .name
            .clone()
            .filter(|s| is_ifname(s) && !used.contains(s))
            .unwrap_or_default();
        while iname.is_empty() || used.contains(&iname) {
            iname = format!("eth{n}");
            n += 1;
        }
        used.insert(iname.clone());
        let mut fields = vec![format!("mac {}", q(imac))];
        if let (Some(sw), Some(port)) = (&i.switch, &i.port) {
            if let Some(Host::Switch(s)) = d.announced(sw) {
                fields.push(format!("switch {}", q(d.eff.switches[s].name)));
                fields.push(format!("port {}", q(port)));
                if let Some((node, other)) = port_owner(d, d.eff.switches[s].name, port) {
                    notes.push(format!(
                        "    // note: {} is declared for `{node}` {other}: one of the two declarations is wrong\n",
                        comment(&format!("{sw} {port}"))
                    ));
                }
            }
        }
        out.push_str(&format!(
            "    interface {} {{ {}; }}\n",
            q(&iname),
            fields.join("; ")
        ));
        declared_ifaces.push((iname, imac.clone()));
    }
    // An address in a management network (leased, or on the host): ask
    // for one there; the leased one is usually from a dynamic pool, so it
    // is allocated anew.
    for i in &u.interfaces {
        let Some(ip) = i.ipv4.as_deref().and_then(|a| a.parse::<Ipv4Addr>().ok()) else {
            continue;
        };
        let Some(net) = d.site.networks.iter().find(|n| {
            n.purpose.value == Purpose::Management
                && n.ipv4.as_ref().is_some_and(|p| p.value.contains(&ip))
        }) else {
            continue;
        };
        let Some((iname, _)) = declared_ifaces
            .iter()
            .find(|(_, m)| Some(m) == i.mac.as_ref())
        else {
            continue;
        };
        out.push_str(&format!(
            "    address {} interface={} ipv4=auto // observed with {ip}\n",
            q(&net.name.value),
            q(iname)
        ));
        break;
    }
    for nline in notes {
        out.push_str(&nline);
    }
    out.push_str("}\n");
    Ok(out)
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
