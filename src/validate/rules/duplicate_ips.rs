//! Rule `duplicate-ips`: one IP address given to two places.
//!
//! **What it does.** Reports (SC0102) an address that two of these share:
//! node addresses and loopbacks (fixed or allocated, after profiles are
//! merged), switch loopbacks, the addresses of routed switch ports
//! (`interface swp51 { address "192.0.2.2/29" }`), network gateways, and the
//! addresses of external BGP peers. Both places are shown; a value the
//! allocator gave is said to be allocated. A fixed address that a profile
//! gives to every node using it is reported once, at the profile.
//!
//! Not reported here, because another code says it better: an allocated
//! value that collides with another owner's (SC0802/SC0803, from the lock),
//! a node address equal to the gateway of its own network (SC0303), and
//! an external peer's address equal to a loopback or a routed-port address
//! of a switch that holds its session (SC0614). The allocator never hands
//! out an address the site uses otherwise, so an allocated value collides
//! only through the lock. A gateway at a routed port's address is the usual
//! way to route a network, not a duplicate. Two peers at one address are a duplicate only
//! when a switch holds both (elsewhere, one router may well be reached
//! from two places). An IPv6 link-local `gateway6` (`fe80::1`) is an
//! address of each link: many networks may share it.
//!
//! **Why it matters.** Two hosts answering ARP or neighbour discovery for
//! one address break both, intermittently: the worst kind of outage to
//! debug. BGP would announce one loopback from two places.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { address mgmt interface=eno3 ipv4="10.0.0.40"; }
//! node r01n02 { address mgmt interface=eno3 ipv4="10.0.0.40"; }   // SC0102
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::{address_key, duplicates, lock_line, name_list, set_in, Claim};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::BgpPeer;
use crate::resolve::{AllocKey, IpFamily};
use crate::resolve::{Resolved, ResolvedNode};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "duplicate-ips",
    codes: &[Code::DuplicateIp],
    check,
    resolved: true,
};

/// What holds an address. Kept small and described only when reported:
/// a site has tens of thousands of addresses and a handful of findings.
#[derive(Clone, Copy)]
enum Holder<'a> {
    Gateway(&'a str),
    SwitchLoopback(&'a str, &'static str),
    /// A routed port: (switch, port).
    SwitchPort(&'a str, &'a str),
    NodeAddress {
        rn: &'a ResolvedNode,
        name: &'a str,
        network: &'a str,
        family: IpFamily,
        allocated: bool,
    },
    NodeLoopback {
        rn: &'a ResolvedNode,
        name: &'a str,
        family: IpFamily,
        allocated: bool,
    },
    ExternalPeer(&'a BgpPeer),
}

impl Holder<'_> {
    fn who(&self) -> String {
        match *self {
            Holder::Gateway(n) => format!("the gateway of network `{n}`"),
            Holder::SwitchLoopback(s, f) => format!("switch `{s}` (loopback{f})"),
            Holder::SwitchPort(s, p) => format!("switch `{s}` (routed port `{p}`)"),
            Holder::NodeAddress {
                name,
                network,
                allocated,
                ..
            } => {
                let how = if allocated { ", allocated" } else { "" };
                format!("node `{name}` (address `{network}`{how})")
            }
            Holder::NodeLoopback {
                name, allocated, ..
            } => {
                let how = if allocated { ", allocated" } else { "" };
                format!("node `{name}` (loopback{how})")
            }
            Holder::ExternalPeer(p) => format!("external BGP peer `{}`", p.name.value),
        }
    }
    fn path(&self) -> Option<(&ResolvedNode, String)> {
        match *self {
            Holder::NodeAddress {
                rn,
                network,
                family,
                ..
            } => Some((rn, format!("addresses.{network}.{}", family.as_str()))),
            Holder::NodeLoopback { rn, family, .. } => {
                Some((rn, format!("loopback.{}", family.as_str())))
            }
            _ => None,
        }
    }
    /// " (set in profile `x`)" or "".
    fn note(&self) -> String {
        self.path()
            .map(|(rn, path)| set_in(rn, &path))
            .unwrap_or_default()
    }
    fn allocated(&self) -> bool {
        matches!(
            self,
            Holder::NodeAddress {
                allocated: true,
                ..
            } | Holder::NodeLoopback {
                allocated: true,
                ..
            }
        )
    }
    /// The label of a place: an allocated value says so, and where.
    fn verb(&self, rs: &Resolved, plain: &str) -> String {
        if !self.allocated() {
            return plain.to_string();
        }
        if self
            .lock_key()
            .and_then(|(n, k)| lock_line(rs, n, k))
            .is_some()
        {
            "allocated in siteconf.lock".to_string()
        } else {
            "allocated for this `auto`".to_string()
        }
    }
    fn lock_key(&self) -> Option<(&'_ str, AllocKey<&'_ str>)> {
        match *self {
            Holder::NodeAddress {
                name,
                network,
                family,
                allocated: true,
                ..
            } => Some((name, address_key(network, family))),
            Holder::NodeLoopback {
                name,
                family,
                allocated: true,
                ..
            } => Some((name, AllocKey::Loopback(family))),
            _ => None,
        }
    }
    /// Where to point: an allocated value's lock line, else its span.
    fn at(&self, rs: &Resolved, span: Span) -> Span {
        self.lock_key()
            .and_then(|(n, k)| lock_line(rs, n, k))
            .unwrap_or(span)
    }
}

fn check<'a>(cx: &Ctx<'a>, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let mut claims: Vec<(IpAddr, Claim<Holder>)> = Vec::with_capacity(site.nodes.len() * 4);
    let mut push = |ip: IpAddr, span: Span, node: Option<usize>, h: Holder<'a>| {
        claims.push((
            ip,
            Claim {
                span,
                node,
                data: h,
            },
        ));
    };
    for n in &site.networks {
        if let Some(g) = &n.gateway4 {
            push(
                IpAddr::V4(g.value),
                g.span,
                None,
                Holder::Gateway(n.name.as_str()),
            );
        }
        // A link-local gateway is per link: every VLAN's router may be
        // fe80::1.
        if let Some(g) = n
            .gateway6
            .as_ref()
            .filter(|g| g.value.segments()[0] & 0xffc0 != 0xfe80)
        {
            push(
                IpAddr::V6(g.value),
                g.span,
                None,
                Holder::Gateway(n.name.as_str()),
            );
        }
    }
    // A switch declared twice is SC0101's: only the first counts.
    for (i, s) in site.switches.iter().enumerate() {
        if cx.index.switches.get(s.name.as_str()) != Some(&i) {
            continue;
        }
        if let Some(l) = &s.loopback4 {
            push(
                IpAddr::V4(l.value),
                l.span,
                None,
                Holder::SwitchLoopback(s.name.as_str(), "4"),
            );
        }
        if let Some(l) = &s.loopback6 {
            push(
                IpAddr::V6(l.value),
                l.span,
                None,
                Holder::SwitchLoopback(s.name.as_str(), "6"),
            );
        }
        for i in &s.interfaces {
            for a in &i.addresses {
                push(
                    a.value.addr(),
                    a.span,
                    None,
                    Holder::SwitchPort(s.name.as_str(), i.port.as_str()),
                );
            }
        }
    }
    for p in &site.bgp_peers {
        push(
            p.address.value,
            p.address.span,
            None,
            Holder::ExternalPeer(p),
        );
    }
    for rn in &rs.nodes {
        let name = site.nodes[rn.index].name.as_str();
        let node = Some(rn.index);
        let st = &rn.settings;
        for a in &st.addresses {
            let network = a.network.as_str();
            let h = |family, allocated| Holder::NodeAddress {
                rn,
                name,
                network,
                family,
                allocated,
            };
            if let Some(e) = rs.value(name, address_key(network, IpFamily::V4), &a.ipv4) {
                push(
                    IpAddr::V4(e.value),
                    e.span,
                    node,
                    h(IpFamily::V4, e.allocated),
                );
            }
            if let Some(e) = rs.value(name, address_key(network, IpFamily::V6), &a.ipv6) {
                push(
                    IpAddr::V6(e.value),
                    e.span,
                    node,
                    h(IpFamily::V6, e.allocated),
                );
            }
        }
        if let Some(l) = &st.loopback {
            let h = |family, allocated| Holder::NodeLoopback {
                rn,
                name,
                family,
                allocated,
            };
            if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4) {
                push(
                    IpAddr::V4(e.value),
                    e.span,
                    node,
                    h(IpFamily::V4, e.allocated),
                );
            }
            if let Some(e) = rs.value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6) {
                push(
                    IpAddr::V6(e.value),
                    e.span,
                    node,
                    h(IpFamily::V6, e.allocated),
                );
            }
        }
    }
    duplicates(
        cx,
        claims,
        diags,
        |diags, ip, group| {
            // Allocated values never share a span's value across nodes.
            if group[0].data.allocated() {
                return;
            }
            let nodes: Vec<&str> = group
                .iter()
                .filter_map(|c| c.node.map(|i| site.nodes[i].name.as_str()))
                .collect();
            diags.push(
                Diagnostic::error(
                    Code::DuplicateIp,
                    format!(
                        "{ip}{} is given to {} nodes: {}",
                        group[0].data.note(),
                        nodes.len(),
                        name_list(nodes.iter().copied(), 5)
                    ),
                )
                .label(group[0].span, "one fixed address, inherited by every node that uses this")
                .help("a fixed address belongs to one node: write `auto` here to allocate one per node, or move the address into each node"),
            );
        },
        |diags, ip, first, again| {
            let (f, a) = (&first.data, &again.data);
            let peer = |h: &Holder| matches!(h, Holder::ExternalPeer(_));
            if skip_peer_pair(f, a) || skip_peer_pair(a, f) || skip_port_pair(f, a) {
                return false;
            }
            // The allocator skips every address the site uses (peers and
            // routed ports included), so an allocated value collides with
            // another owner only through the lock, which SC0802/SC0803
            // report; within one node nobody else does.
            if (f.allocated() || a.allocated())
                && (first.node.is_none() || first.node != again.node)
            {
                return false;
            }
            // A node address equal to its own network's gateway is SC0303.
            let gateway_of_own = |g: &Holder, h: &Holder| match (g, h) {
                (Holder::Gateway(n), Holder::NodeAddress { network, .. }) => n == network,
                _ => false,
            };
            if gateway_of_own(f, a) || gateway_of_own(a, f) {
                return false;
            }
            let help = if matches!(f, Holder::Gateway(_)) || matches!(a, Holder::Gateway(_)) {
                "a gateway address belongs to the router; give the other one another address"
            } else if matches!(f, Holder::SwitchPort(..)) || matches!(a, Holder::SwitchPort(..)) {
                "a routed port's address is the switch's end of the link: give the other one another address of the subnet, or write `auto` (the allocator skips routed ports)"
            } else if peer(f) || peer(a) {
                "an external peer's address is the far end's, outside the fabric: no node, switch or gateway may have it; check the address the provider gave you"
            } else {
                "an address belongs to one interface; change one of them, or write `auto` to allocate a free one"
            };
            diags.push(
                Diagnostic::error(
                    Code::DuplicateIp,
                    format!("{ip} is given to both {} and {}", f.who(), a.who()),
                )
                .label(
                    a.at(rs, again.span),
                    format!("{}{}", a.verb(rs, "used again here"), a.note()),
                )
                .label(
                    f.at(rs, first.span),
                    format!("{}{}", f.verb(rs, "first used here"), f.note()),
                )
                .help(help),
            );
            true
        },
    );
}

/// Pairs with a routed switch port that are no conflict: the port is the
/// gateway of a network (how a switch routes it), or the same port of the
/// same switch twice (SC0108's).
fn skip_port_pair(f: &Holder, a: &Holder) -> bool {
    match (f, a) {
        (Holder::SwitchPort(..), Holder::Gateway(_))
        | (Holder::Gateway(_), Holder::SwitchPort(..)) => true,
        (Holder::SwitchPort(s, p), Holder::SwitchPort(t, q)) => s == t && p == q,
        _ => false,
    }
}

/// Pairs with an external peer that another rule reports, or that are
/// not a conflict: a peer at a loopback of a switch holding its session
/// (SC0614), and two peers at one address that no switch holds both of.
fn skip_peer_pair(f: &Holder, a: &Holder) -> bool {
    let holds = |p: &BgpPeer, sw: &str| p.switches.iter().any(|s| s.value == sw);
    match (f, a) {
        (Holder::ExternalPeer(p), Holder::SwitchLoopback(sw, _))
        | (Holder::ExternalPeer(p), Holder::SwitchPort(sw, _)) => holds(p, sw),
        (Holder::ExternalPeer(p), Holder::ExternalPeer(q)) => {
            !p.switches.iter().any(|s| holds(q, &s.value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use crate::source::MemSource;

    const SITE: &str = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network public { purpose other; ipv4 "192.0.2.0/24"; gateway4 "192.0.2.2"; }
rack r01 { height 42; }
switch r01-tor1 {
    rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports "swp1-56"
    interface swp51 address="192.0.2.2/29"
    interface swp52 address="192.0.2.3/29"
}
bgp-peer transit-a { asn 64496; address "192.0.2.1"; switches r01-tor1; }
"#;

    fn node(name: &str, pos: u32, ipv4: &str) -> String {
        format!(
            "node {name} {{ rack r01; position {pos}; interface eno1 {{ mac \"52:54:00:01:{pos:02}:01\"; }}\n address public interface=eno1 ipv4={ipv4} }}\n"
        )
    }

    fn sc0102(extra: &str) -> Vec<String> {
        check_kdl(&format!("{SITE}{extra}"))
            .into_iter()
            .filter(|d| d.code.as_str() == "SC0102")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn node_at_a_routed_port_address() {
        let found = sc0102(&node("r01n01", 1, "\"192.0.2.3\""));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("routed port `swp52`"), "{found:?}");
        // The gateway at a routed port is how the switch routes the
        // network: no finding for that.
        assert!(sc0102("").is_empty());
    }

    #[test]
    fn an_allocated_value_is_called_allocated() {
        // siteconf.lock gives r01n01 the address its own loopback has.
        let text = format!(
            "{SITE}node r01n01 {{ rack r01; position 1; interface eno1 {{ mac \"52:54:00:01:01:01\"; }}\n address public interface=eno1 ipv4=auto\n loopback ipv4=\"192.0.2.9\" }}\n"
        );
        let src = MemSource::new().with("site/site.kdl", text).with(
            "siteconf.lock",
            "node/r01n01 address.public.ipv4 192.0.2.9\n",
        );
        let c = crate::check::check(&src);
        let d: Vec<_> = c
            .diags
            .iter()
            .filter(|d| d.code.as_str() == "SC0102")
            .collect();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("address `public`, allocated"),
            "{d:?}"
        );
        assert!(
            d[0].labels
                .iter()
                .any(|l| l.message == "allocated in siteconf.lock"),
            "{d:?}"
        );
    }

    #[test]
    fn allocation_skips_peers_and_routed_ports() {
        let text = format!(
            "{SITE}{}{}",
            node("r01n01", 1, "auto"),
            node("r01n02", 2, "auto")
        );
        let c = crate::check::check(&MemSource::new().with("site/site.kdl", text));
        assert!(!c.diags.has_errors());
        let values: Vec<&str> = c
            .resolved
            .lock
            .entries
            .iter()
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(values, ["192.0.2.4", "192.0.2.5"]);
    }
}
