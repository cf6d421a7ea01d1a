//! Rule `ipv6-mtu`: an interface carrying IPv6 with an MTU below 1280.
//!
//! **What it does.** On every resolved node, takes the MTU the rendered
//! netplan gives each interface — its own `mtu`; else the largest MTU of
//! the networks it carries, which the template writes when it is not
//! 1500; else, for a VLAN interface, its parent's, which the kernel gives
//! it — and reports (SC0509) one below 1280 on an interface that carries
//! IPv6: an address of a network with an IPv6 prefix, or an unnumbered
//! BGP session (it runs over the interface's IPv6 link-local address).
//!
//! **Why it matters.** 1280 is the least MTU IPv6 allows (RFC 8200);
//! Linux turns IPv6 off on an interface with a smaller one
//! (`addrconf_notify` drops the interface's inet6 state). The IPv6 address
//! is never configured and the link-local address does not exist, so an
//! unnumbered session to the ToR never comes up. IPv4 works, so nothing
//! looks wrong until IPv6 or BGP is needed.
//!
//! **Example.**
//! ```kdl
//! network storage { purpose storage; ipv6 "2001:db8:0:200::/64"; mtu 1200; }
//! node r01n01 {
//!     interface eno1 { mtu 1000; }                  // SC0509: BGP over eno1
//!     interface eno2 { }                            // SC0509: MTU 1200 of `storage`
//!     address storage interface=eno2 ipv6=auto
//!     bgp { session r01-tor1 interface=eno1; }
//! }
//! ```

use super::super::{Ctx, Rule};
use super::interface_mtu::mtu_refused;
use super::{interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Interface, Site, SiteIndex};
use crate::resolve::ResolvedNode;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "ipv6-mtu",
    codes: &[Code::Ipv6MtuTooSmall],
    check,
    resolved: true,
};

/// IPv6's minimum link MTU (RFC 8200, section 5).
const IPV6_MIN_MTU: u16 = 1280;

/// A VLAN of a VLAN of … is followed this far at most.
const MAX_DEPTH: usize = 8;

/// Where the MTU in effect on an interface comes from.
struct Mtu {
    value: u16,
    span: Span,
    /// " (the MTU of network `storage` it carries)", " (inherited from
    /// `bond0`)"; empty for the interface's own `mtu`.
    from: String,
    /// The settings path of the value, for "(set in profile …)".
    path: Option<String>,
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        node(cx.site, cx.index, rn, &mut |d| out.push(name, d));
    }
    out.finish(diags);
}

fn node(site: &Site, index: &SiteIndex, rn: &ResolvedNode, emit: &mut dyn FnMut(Diagnostic)) {
    let st = &rn.settings;
    for i in &st.interfaces {
        // What IPv6 the interface carries, first found: (what, where).
        let session = st.bgp.iter().flat_map(|b| b.sessions.iter()).find(|s| {
            s.peer_address.is_none()
                && s.interface
                    .as_ref()
                    .is_some_and(|n| n.value == i.name.value)
        });
        let address = st.addresses.iter().find(|a| {
            a.interface
                .as_ref()
                .is_some_and(|n| n.value == i.name.value)
                && a.ipv6.is_some()
                && site
                    .network(index, a.network.as_str())
                    .is_some_and(|n| n.ipv6.is_some())
        });
        let (lost, at, what) = match (session, address) {
            (Some(s), _) => (
                "an unnumbered BGP session runs over its IPv6 link-local address, which it then has not: the session never comes up".to_string(),
                s.interface.as_ref().map(|n| n.span).unwrap_or(s.span),
                format!("unnumbered BGP session to `{}`, over IPv6 link-local", s.peer.value),
            ),
            (None, Some(a)) => (
                format!(
                    "its IPv6 address on network `{}` is never configured",
                    a.network.value
                ),
                a.ipv6.as_ref().map(|v| v.span).unwrap_or(a.span),
                "its IPv6 address".to_string(),
            ),
            (None, None) => continue,
        };
        if mtu_refused(rn, i) {
            continue;
        }
        let Some(mtu) = kernel_mtu(site, index, rn, i, 0) else {
            continue;
        };
        if mtu.value >= IPV6_MIN_MTU {
            continue;
        }
        let note = mtu
            .path
            .as_deref()
            .map(|p| set_in(rn, p))
            .unwrap_or_default();
        emit(
            Diagnostic::error(
                Code::Ipv6MtuTooSmall,
                format!(
                    "interface `{}` has MTU {}{}, below 1280, the least IPv6 allows: Linux turns IPv6 off on it, and {lost}{note}",
                    i.name.value, mtu.value, mtu.from
                ),
            )
            .label(mtu.span, format!("MTU {}", mtu.value))
            .label(at, what)
            .help(format!(
                "raise the MTU to at least 1280 (the switches' MTU on the link decides how far above), or carry only IPv4 on `{}`",
                i.name.value
            )),
        );
    }
}

/// The MTU the kernel gives an interface as siteconf renders it (the
/// netplan template writes an interface's own `mtu`, else the largest of
/// its networks' when that is not 1500); `None` when it is the default
/// 1500 or cannot be told.
fn kernel_mtu(
    site: &Site,
    index: &SiteIndex,
    rn: &ResolvedNode,
    i: &Interface,
    depth: usize,
) -> Option<Mtu> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(m) = &i.mtu {
        return Some(Mtu {
            value: m.value,
            span: m.span,
            from: String::new(),
            path: Some(format!("interfaces.{}.mtu", i.name.value)),
        });
    }
    // The networks it carries: the largest MTU wins, as in the template.
    let carried = rn
        .settings
        .addresses
        .iter()
        .filter(|a| {
            a.interface
                .as_ref()
                .is_some_and(|n| n.value == i.name.value)
        })
        .filter_map(|a| site.network(index, a.network.as_str()))
        .max_by_key(|n| n.mtu());
    if let Some(net) = carried {
        if net.mtu_invalid {
            return None;
        }
        if let Some(m) = net.mtu.as_ref().filter(|m| m.value != 1500) {
            return Some(Mtu {
                value: m.value,
                span: m.span,
                from: format!(" (the MTU of network `{}` it carries)", net.name.value),
                path: None,
            });
        }
    }
    // Nothing written: a VLAN interface takes its parent's MTU.
    let parent = interface(rn, i.link.as_ref()?)?;
    let m = kernel_mtu(site, index, rn, parent, depth + 1)?;
    Some(Mtu {
        from: format!(" (inherited from `{}`)", parent.name.value),
        ..m
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    const BASE: &str = r#"
site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network storage { purpose storage; ipv4 "10.3.0.0/24"; ipv6 "2001:db8:3::/64"; MTU }
network v4only { purpose storage; ipv4 "10.4.0.0/24"; mtu 1200; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; role tor; asn 4200000001; loopback4 "10.255.255.1"; ports "swp1-48"; }
node r01n01 {
    rack r01; position 3
    loopback ipv4="10.255.0.3"
    interface eno1 { mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; ENO1 }
    interface eno2 { mac "52:54:00:01:01:02"; ENO2 }
    interface eno3 { mac "52:54:00:01:01:03"; }
    interface eno2.300 { kind vlan; link eno2; vlan 300; }
    address storage interface=ADDR
    address v4only interface=eno3 ipv4=auto
    bgp asn=4200000003 { session r01-tor1 interface=eno1; }
}
"#;

    fn site(mtu: &str, eno1: &str, eno2: &str, addr: &str) -> String {
        let addr = if addr.contains(' ') {
            addr.to_string()
        } else {
            format!("{addr} ipv4=auto ipv6=auto")
        };
        BASE.replace("MTU", mtu)
            .replace("ENO1", eno1)
            .replace("ENO2", eno2)
            .replace("ADDR", &addr)
    }

    fn count(text: &str) -> usize {
        codes(text).iter().filter(|c| **c == "SC0509").count()
    }

    #[test]
    fn an_unnumbered_uplink_below_1280_is_refused() {
        assert_eq!(count(&site("", "mtu 1000", "", "eno2.300")), 1);
        assert_eq!(count(&site("", "mtu 1280", "", "eno2.300")), 0);
    }

    #[test]
    fn an_ipv6_network_below_1280_is_refused_where_its_mtu_is_in_effect() {
        // The network's MTU is written on the interface that has none.
        assert_eq!(count(&site("mtu 1200", "", "", "eno2")), 1);
        // A VLAN inherits its parent's: its own, or the one of the
        // network the parent carries.
        assert_eq!(count(&site("", "", "mtu 1200", "eno2.300")), 1);
        let parent_carries = site("", "", "", "eno2.300").replace(
            "address v4only interface=eno3",
            "address v4only interface=eno2",
        );
        assert_eq!(count(&parent_carries), 1);
        assert_eq!(count(&site("", "", "", "eno2.300")), 0);
        // Only IPv4 at 1200 is fine.
        assert_eq!(count(&site("mtu 1200", "", "", "eno3 ipv4=auto")), 0);
    }

    #[test]
    fn a_refused_mtu_is_not_guessed() {
        assert_eq!(count(&site("", "mtu 100", "", "eno2.300")), 0);
    }
}
