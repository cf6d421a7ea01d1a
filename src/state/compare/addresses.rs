//! Addresses (SC1005): the declared addresses and loopbacks against the
//! host's (fact cache), on the declared interface (or the one carrying its
//! MAC, if renamed) with the declared prefix length; and the DHCP leases in
//! effect against the declared IPv4 addresses. Extra addresses on a host
//! are not reported (VIPs, keepalived). IPv4 and IPv6 take one path;
//! [`Family`] is what differs between them.

use std::fmt::Display;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::{Code, Diagnostic};
use crate::resolve::effective::{EffAddress, EffNode};
use crate::syntax::Span;

use super::super::input::facts::{HostFacts, IfaceFacts};
use super::super::input::leases::LeaseState;
use super::{Declared, NodeObs};

pub(super) fn check(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    if let Some(f) = o.facts {
        against_facts(d, k, f, push);
    }
    let nv = &d.eff.nodes[k];
    let rn = d.rn(k);
    let name = nv.name;
    for (j, lease, ev) in &o.leases {
        if lease.state != LeaseState::Default {
            continue;
        }
        let iname = &nv.interfaces[*j].name;
        let declared: Vec<(usize, Ipv4Addr)> = nv
            .addresses
            .iter()
            .enumerate()
            .filter(|(_, a)| a.interface == Some(*iname))
            .filter_map(|(a, av)| Some((a, av.ipv4?.value)))
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
                nv.interfaces[*j]
                    .decl
                    .mac
                    .as_ref()
                    .map_or("this interface".to_string(), |m| m.value.to_string())
            )),
        );
    }
}

/// What differs between IPv4 and IPv6 here.
trait Family {
    type Addr: Copy + PartialEq + Display;
    /// The prefix length of an address written without one.
    const MAX_LEN: u8;
    /// Appended to the help of a missing loopback.
    const LOOPBACK_HINT: &'static str;
    /// The declared address and its network's prefix length.
    fn declared(a: &EffAddress) -> Option<(Self::Addr, Option<u8>)>;
    fn loopback(n: &EffNode) -> Option<Self::Addr>;
    /// The addresses of one interface of the host, with prefix lengths.
    fn on(i: &IfaceFacts) -> &[(Self::Addr, u8)];
    /// Every address of the host.
    fn all(f: &HostFacts) -> &[Self::Addr];
    /// Addresses every host has, not worth listing (loopback, link-local).
    fn incidental(a: &Self::Addr) -> bool;
}

struct V4;
struct V6;

impl Family for V4 {
    type Addr = Ipv4Addr;
    const MAX_LEN: u8 = 32;
    const LOOPBACK_HINT: &'static str =
        "; BGP announces the loopback, so the node is unreachable by it";
    fn declared(a: &EffAddress) -> Option<(Ipv4Addr, Option<u8>)> {
        Some((a.ipv4?.value, a.ipv4_net().map(|n| n.prefix_len())))
    }
    fn loopback(n: &EffNode) -> Option<Ipv4Addr> {
        n.loopback4.map(|l| l.value)
    }
    fn on(i: &IfaceFacts) -> &[(Ipv4Addr, u8)] {
        &i.ipv4
    }
    fn all(f: &HostFacts) -> &[Ipv4Addr] {
        &f.all_ipv4
    }
    fn incidental(a: &Ipv4Addr) -> bool {
        a.is_loopback()
    }
}

impl Family for V6 {
    type Addr = Ipv6Addr;
    const MAX_LEN: u8 = 128;
    const LOOPBACK_HINT: &'static str = "";
    fn declared(a: &EffAddress) -> Option<(Ipv6Addr, Option<u8>)> {
        Some((a.ipv6?.value, a.ipv6_net().map(|n| n.prefix_len())))
    }
    fn loopback(n: &EffNode) -> Option<Ipv6Addr> {
        n.loopback6.map(|l| l.value)
    }
    fn on(i: &IfaceFacts) -> &[(Ipv6Addr, u8)] {
        &i.ipv6
    }
    fn all(f: &HostFacts) -> &[Ipv6Addr] {
        &f.all_ipv6
    }
    fn incidental(a: &Ipv6Addr) -> bool {
        (a.segments()[0] & 0xffc0) == 0xfe80
    }
}

/// The declared address and prefix length: the network's, else the
/// full length.
fn declared_cidr<F: Family>(av: &EffAddress) -> Option<(F::Addr, u8)> {
    let (ip, len) = F::declared(av)?;
    Some((ip, len.unwrap_or(F::MAX_LEN)))
}

/// Whether the host has the declared address of this family anywhere.
fn anywhere<F: Family>(av: &EffAddress, f: &HostFacts) -> bool {
    F::declared(av).is_some_and(|(ip, _)| F::all(f).contains(&ip))
}

/// Declared addresses and loopbacks against the host's facts.
fn against_facts(d: &Declared, k: usize, f: &HostFacts, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.eff.nodes[k];
    let rn = d.rn(k);
    let name = nv.name;
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
        let on = av.interface.and_then(host_iface);
        if let (Some(iname), None) = (av.interface, on) {
            // The interface itself is missing (SC1011 says so); an address
            // found elsewhere on the host is still worth a word.
            if !(anywhere::<V4>(av, f) || anywhere::<V6>(av, f)) {
                let what: Vec<String> = [
                    av.ipv4_net().map(|n| n.to_string()),
                    av.ipv6_net().map(|n| n.to_string()),
                ]
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
        let where_ = av.interface.map(|i| format!(" {i}")).unwrap_or_default();
        let at = Declaration {
            name,
            where_: &where_,
            span,
        };
        address::<V4>(&at, av, on, f, push);
        address::<V6>(&at, av, on, f, push);
    }
    let lo_span = rn
        .settings
        .loopback
        .as_ref()
        .map(|l| l.span)
        .unwrap_or(d.node(k).name.span);
    loopback::<V4>(nv, lo_span, f, push);
    loopback::<V6>(nv, lo_span, f, push);
}

/// One declared address, for messages: the node, ` on-interface`, the span.
struct Declaration<'a> {
    name: &'a str,
    where_: &'a str,
    span: Span,
}

/// One declared address of family `F` against the host's: `on` is the
/// declared interface as found on the host (else every interface counts).
fn address<F: Family>(
    at: &Declaration,
    av: &EffAddress,
    on: Option<&IfaceFacts>,
    f: &HostFacts,
    push: &mut impl FnMut(Diagnostic),
) {
    let Some((ip, len)) = declared_cidr::<F>(av) else {
        return;
    };
    let have: Vec<(F::Addr, u8)> = match on {
        Some(fi) => F::on(fi).to_vec(),
        None => f
            .interfaces
            .iter()
            .flat_map(|i| F::on(i).to_vec())
            .collect(),
    };
    if have.contains(&(ip, len)) {
        return;
    }
    let elsewhere = f
        .interfaces
        .iter()
        .find(|i| F::on(i).iter().any(|x| x.0 == ip));
    let (msg, hint) = address_drift(
        &ip.to_string(),
        len,
        have.iter()
            .filter(|(a, _)| !F::incidental(a))
            .map(|(a, l)| (a.to_string(), *l, *a == ip))
            .collect(),
        elsewhere.map(|i| i.name.as_str()),
        on.is_some(),
    );
    let Declaration { name, where_, span } = at;
    push(
        Diagnostic::error(
            Code::StateAddressMismatch,
            format!("`{name}`{where_} {msg}"),
        )
        .label(*span, format!("declared {ip}/{len}"))
        .help(format!("per {}{hint}", f.path)),
    );
}

/// The node's loopback address of family `F`, anywhere on the host.
fn loopback<F: Family>(nv: &EffNode, span: Span, f: &HostFacts, push: &mut impl FnMut(Diagnostic)) {
    let Some(ip) = F::loopback(nv) else {
        return;
    };
    if !F::all(f).contains(&ip) {
        push(
            Diagnostic::error(
                Code::StateAddressMismatch,
                format!("`{}` does not have its loopback address {ip}", nv.name),
            )
            .label(span, format!("loopback {ip}"))
            .help(format!("per {}{}", f.path, F::LOOPBACK_HINT)),
        );
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
