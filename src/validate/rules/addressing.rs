//! Rule `addressing`: node addresses that do not fit their network.
//!
//! **What it does.** For every address of every resolved node — fixed, or
//! allocated and kept in siteconf.lock — reports the first of:
//! - a fixed address of a family the network has no prefix for (SC0305;
//!   an `auto` one is SC0806 from allocation);
//! - an address outside the network's prefix (SC0301);
//! - the network address, or the IPv4 broadcast address (SC0302);
//! - the network's gateway (SC0303);
//! - an address inside one of the network's `reserved` ranges (SC0304).
//!
//! An allocated value is reported at its line in siteconf.lock (the thing
//! to fix), with the `auto` that asked for it; this is what a renumbered
//! network looks like. When several allocated values of one network (and
//! family) are outside its prefix, the network was renumbered: one SC0301
//! for them all, at the first lock line, with the count and the command
//! that allocates them again (`siteconf lock --renumber NETWORK`). A fixed
//! value set in a profile is reported at the profile, once for all nodes
//! using it.
//!
//! **Why it matters.** An address off the subnet has no route, the
//! network or broadcast address is not a host address, the gateway's
//! address belongs to the router, and reserved ranges keep room for
//! switches, VIPs and DHCP pools: each of these breaks connectivity of the
//! node or of something else on the network.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/22"; gateway4 "10.0.0.1"; reserved "10.0.0.1-10.0.0.31"; }
//! node r01n01 { address mgmt interface=eno3 ipv4="10.0.0.7"; }   // SC0304
//! node r01n02 { address mgmt interface=eno3 ipv4="10.0.4.7"; }   // SC0301
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{address_key, lock_line, name_list, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{IpRange, Network, Sp};
use crate::resolve::IpFamily;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "addressing",
    codes: &[
        Code::AddressOutsideNetwork,
        Code::AddressIsNetworkOrBroadcast,
        Code::AddressIsGateway,
        Code::AddressInReserved,
        Code::MissingAddressFamily,
    ],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    // Allocated values outside their network's prefix, by network and
    // family: a renumbered network, reported once when there are several.
    type Stale<'a> = Vec<(&'a str, IpAddr, Span, Option<Span>, String)>;
    let mut stale: std::collections::BTreeMap<(&str, IpFamily), Stale> = Default::default();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        for a in &rn.settings.addresses {
            let net_name = a.network.as_str();
            let Some(net) = cx.site.network(cx.index, net_name) else {
                continue;
            };
            let v4 = rs
                .value(name, address_key(net_name, IpFamily::V4), &a.ipv4)
                .map(|e| (IpAddr::V4(e.value), e.span, e.allocated, IpFamily::V4));
            let v6 = rs
                .value(name, address_key(net_name, IpFamily::V6), &a.ipv6)
                .map(|e| (IpAddr::V6(e.value), e.span, e.allocated, IpFamily::V6));
            for (ip, span, allocated, fam) in v4.into_iter().chain(v6) {
                let Some(p) = problem(net, ip, allocated) else {
                    continue;
                };
                // Only now, for a finding: where it was set, and its lock line.
                let note = set_in(rn, &format!("addresses.{net_name}.{}", fam.as_str()));
                let lock = if allocated {
                    lock_line(rs, name, address_key(net_name, fam))
                } else {
                    None
                };
                if allocated && matches!(p, Problem::Outside) {
                    stale
                        .entry((net_name, fam))
                        .or_default()
                        .push((name, ip, span, lock, note));
                    continue;
                }
                out.push(name, report(net, ip, span, lock, allocated, &note, p));
            }
        }
    }
    for ((net_name, _), mut values) in stale {
        let Some(net) = cx.site.network(cx.index, net_name) else {
            continue;
        };
        if values.len() == 1 {
            let (name, ip, span, lock, note) = values.remove(0);
            out.push(
                name,
                report(net, ip, span, lock, true, &note, Problem::Outside),
            );
            continue;
        }
        diags.push(renumbered(net, &values));
    }
    out.finish(diags);
}

/// One finding for the allocated values of a network, kept in
/// siteconf.lock, that its prefix no longer holds.
fn renumbered(net: &Network, values: &[(&str, IpAddr, Span, Option<Span>, String)]) -> Diagnostic {
    let n = net.name.as_str();
    let (first_name, ip, span, lock, _) = &values[0];
    let (text, pspan) = prefix(net, *ip);
    let nodes = name_list(values.iter().map(|v| v.0), 5);
    let mut d = Diagnostic::error(
        Code::AddressOutsideNetwork,
        format!(
            "{} addresses of network `{n}` allocated in siteconf.lock are outside its prefix {text} (nodes {nodes}): the network was renumbered, and these nodes have no address on it",
            values.len()
        ),
    );
    d = super::label_first_stale(d, (first_name, *ip, values.len()), *lock, *span, &text);
    d.label(pspan, format!("the prefix of `{n}`"))
        .help(format!(
            "run `siteconf lock --renumber {n}`: it drops these lock lines and allocates addresses inside {text}, printing each node's old and new address (every node listed gets a new address: its DNS name, DHCP reservation and Ansible address follow at the next build); or put the old prefix back"
        ))
}

/// What is wrong with one address on its network, the first thing only.
enum Problem<'a> {
    NoFamily,
    Outside,
    NetworkAddress,
    Broadcast,
    Gateway(Span),
    Reserved(&'a Sp<IpRange>),
}

fn problem(net: &Network, ip: IpAddr, allocated: bool) -> Option<Problem<'_>> {
    let (inside, is_net, is_bcast, gateway) = match ip {
        IpAddr::V4(a) => {
            let Some(p) = &net.ipv4 else {
                // Allocation reports an `auto` it had no prefix for (SC0806).
                return (!allocated && !net.prefix_invalid[0]).then_some(Problem::NoFamily);
            };
            let hosts = p.prefix_len() < 31;
            (
                p.contains(&a),
                hosts && a == p.network(),
                hosts && a == p.broadcast(),
                net.gateway4
                    .as_ref()
                    .filter(|g| g.value == a)
                    .map(|g| g.span),
            )
        }
        IpAddr::V6(a) => {
            let Some(p) = &net.ipv6 else {
                return (!allocated && !net.prefix_invalid[1]).then_some(Problem::NoFamily);
            };
            // The subnet-router anycast address (RFC 4291) is no host's,
            // except on a /127 (RFC 6164) or /128, as IPv4's /31 and /32.
            (
                p.contains(&a),
                p.prefix_len() < 127 && a == p.network(),
                false,
                net.gateway6
                    .as_ref()
                    .filter(|g| g.value == a)
                    .map(|g| g.span),
            )
        }
    };
    if !inside {
        Some(Problem::Outside)
    } else if is_net {
        Some(Problem::NetworkAddress)
    } else if is_bcast {
        Some(Problem::Broadcast)
    } else if let Some(g) = gateway {
        Some(Problem::Gateway(g))
    } else {
        net.reserved
            .iter()
            .find(|r| r.contains(ip))
            .map(Problem::Reserved)
    }
}

/// The prefix of the family of `ip`, as text and span.
fn prefix(net: &Network, ip: IpAddr) -> (String, Span) {
    match ip {
        IpAddr::V4(_) => net.ipv4.as_ref().map(|p| (p.value.to_string(), p.span)),
        IpAddr::V6(_) => net.ipv6.as_ref().map(|p| (p.value.to_string(), p.span)),
    }
    .unwrap_or_else(|| (String::new(), net.name.span))
}

fn report(
    net: &Network,
    ip: IpAddr,
    span: Span,
    lock: Option<Span>,
    allocated: bool,
    note: &str,
    p: Problem,
) -> Diagnostic {
    let n = net.name.as_str();
    let fam = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    // An allocated value is fixed in its lock line, so that is where to point.
    let start = |code, message: String, label: String| {
        let d = Diagnostic::error(code, message);
        match lock {
            Some(l) => d
                .label(l, format!("{label} (allocated in siteconf.lock)"))
                .label(span, format!("`auto` asked for here{note}")),
            None => d.label(span, label),
        }
    };
    let redo = |fixed: String| {
        if allocated {
            "the lock holds a value from before the network changed: delete this line and run `siteconf lock` to allocate a new one".to_string()
        } else {
            fixed
        }
    };
    let (text, pspan) = prefix(net, ip);
    match p {
        Problem::NoFamily => start(
            Code::MissingAddressFamily,
            format!("address {ip} on network `{n}` is {fam}, but `{n}` has no {fam} prefix{note}"),
            format!("an {fam} address"),
        )
        .label(net.name.span, format!("declared without `{}`", fam.to_ascii_lowercase()))
        .help(format!(
            "add `{} \"…\"` to network `{n}`, or remove this address",
            fam.to_ascii_lowercase()
        )),
        Problem::Outside => start(
            Code::AddressOutsideNetwork,
            format!("address {ip} is outside network `{n}` ({text}){note}"),
            format!("outside {text}"),
        )
        .label(pspan, format!("the prefix of `{n}`"))
        .help(redo(format!("pick an address inside {text}, or write `auto` to allocate one"))),
        Problem::NetworkAddress | Problem::Broadcast => {
            let what = if matches!(p, Problem::NetworkAddress) { "network" } else { "broadcast" };
            start(
                Code::AddressIsNetworkOrBroadcast,
                format!("address {ip} is the {what} address of network `{n}` ({text}){note}"),
                format!("the {what} address"),
            )
            .label(pspan, format!("the prefix of `{n}`"))
            .help(redo("no host may use it; pick another address, or write `auto`".into()))
        }
        Problem::Gateway(g) => start(
            Code::AddressIsGateway,
            format!("address {ip} is the gateway of network `{n}`{note}"),
            "the gateway's address".into(),
        )
        .label(g, format!("the gateway of `{n}`"))
        .help(redo(
            "the gateway address belongs to the router; pick another address, or write `auto`".into(),
        )),
        Problem::Reserved(r) => start(
            Code::AddressInReserved,
            format!("address {ip} is inside reserved range {} of network `{n}`{note}", r.value),
            "inside a reserved range".into(),
        )
        .label(r.span, "reserved here")
        .help(if allocated {
            "the range was reserved after this value was allocated: delete this line and run `siteconf lock` to move the node out of it".to_string()
        } else {
            "the range is kept for switches, VIPs or DHCP; pick an address outside it, or write `auto`".to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(prefix: &str) -> String {
        format!(
            r#"
site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network p2p {{ purpose other; ipv6 "{prefix}"; }}
rack r01 {{ height 42; }}
node r01n01 {{
    rack r01; position 3
    interface eno1 {{ mac "52:54:00:01:01:01"; }}
    address p2p interface=eno1 ipv6="2001:db8:0:300::"
}}
"#
        )
    }

    #[test]
    fn both_addresses_of_an_ipv6_127_are_hosts() {
        // RFC 6164, as IPv4's /31; on a /64 the first is the subnet-router
        // anycast address.
        assert!(!codes(&site("2001:db8:0:300::/127")).contains(&"SC0302"));
        assert!(codes(&site("2001:db8:0:300::/64")).contains(&"SC0302"));
    }

    /// Allocated values a renumbered prefix no longer holds: one SC0301
    /// for the network when there are several, one per node otherwise.
    #[test]
    fn a_renumbered_network_is_one_finding() {
        let found = |nodes: usize| {
            let mut kdl = String::from(
                "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.8.0.2\"; }\nnetwork mgmt { purpose management; ipv4 \"10.8.0.0/24\"; dhcp #false }\nrack r01 { height 42; }\n",
            );
            let mut lock = String::from("version 1\n");
            for i in 1..=nodes {
                kdl += &format!("node r01n0{i} {{ rack r01; position {}; interface eno1 {{ mac \"52:54:00:01:01:0{i}\"; }}; address mgmt interface=eno1 ipv4=auto }}\n", i + 2);
                lock += &format!("node/r01n0{i} address.mgmt.ipv4 10.0.0.1{i}\n");
            }
            let src = crate::source::MemSource::new()
                .with("site/site.kdl", kdl)
                .with("siteconf.lock", lock);
            let checked = crate::check::check(&src);
            checked
                .diags
                .sorted(&checked.loaded.sources)
                .into_iter()
                .filter(|d| d.code.as_str() == "SC0301")
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        let one = found(1);
        assert_eq!(one.len(), 1);
        assert!(
            one[0].starts_with("node `r01n01`: address 10.0.0.11"),
            "{one:?}"
        );
        let three = found(3);
        assert_eq!(three.len(), 1, "{three:?}");
        assert!(
            three[0].starts_with("3 addresses of network `mgmt`"),
            "{three:?}"
        );
    }
}
