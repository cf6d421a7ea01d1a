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
//! network looks like. A fixed value set in a profile is reported at the
//! profile, once for all nodes using it.
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
use super::{effective, set_in, Effective, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Network;
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
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        for a in &rn.settings.addresses {
            let net_name = a.network.as_str();
            let Some(net) = cx.site.network(cx.index, net_name) else {
                continue;
            };
            if let Some(e) = effective(rs, name, || format!("address.{net_name}.ipv4"), &a.ipv4) {
                let note = set_in(rn, &format!("addresses.{net_name}.ipv4"));
                if let Some(d) = judge(net, map(e, IpAddr::V4), &note) {
                    out.push(name, d);
                }
            }
            if let Some(e) = effective(rs, name, || format!("address.{net_name}.ipv6"), &a.ipv6) {
                let note = set_in(rn, &format!("addresses.{net_name}.ipv6"));
                if let Some(d) = judge(net, map(e, IpAddr::V6), &note) {
                    out.push(name, d);
                }
            }
        }
    }
    out.finish(diags);
}

fn map<T>(e: Effective<T>, f: impl FnOnce(T) -> IpAddr) -> Effective<IpAddr> {
    Effective {
        value: f(e.value),
        span: e.span,
        lock: e.lock,
        allocated: e.allocated,
    }
}

/// The first problem of one address on its network, if any.
fn judge(net: &Network, e: Effective<IpAddr>, note: &str) -> Option<Diagnostic> {
    let ip = e.value;
    let n = net.name.as_str();
    let fam = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    // Where to point: an allocated value's lock line when it has one.
    let start = |code, message: String, label: String| {
        let d = Diagnostic::error(code, message);
        match e.lock {
            Some(lock) => d
                .label(lock, format!("{label} (allocated in siteconf.lock)"))
                .label(e.span, format!("`auto` asked for here{note}")),
            None => d.label(e.span, label),
        }
    };
    let redo = "the lock holds a value from before the network changed: delete this line and run `siteconf lock` to allocate a new one";
    let prefix: Option<(String, Span, bool, bool, bool)> = match ip {
        IpAddr::V4(a) => net.ipv4.as_ref().map(|p| {
            let host_range = p.prefix_len() < 31;
            (
                p.value.to_string(),
                p.span,
                p.contains(&a),
                host_range && a == p.network(),
                host_range && a == p.broadcast(),
            )
        }),
        IpAddr::V6(a) => net.ipv6.as_ref().map(|p| {
            (
                p.value.to_string(),
                p.span,
                p.contains(&a),
                a == p.network(),
                false,
            )
        }),
    };
    let Some((text, pspan, inside, is_net, is_bcast)) = prefix else {
        if e.allocated {
            // Allocation reports an `auto` it had no prefix for (SC0806).
            return None;
        }
        return Some(
            start(
                Code::MissingAddressFamily,
                format!(
                    "address {ip} on network `{n}` is {fam}, but `{n}` has no {fam} prefix{note}"
                ),
                format!("an {fam} address"),
            )
            .label(
                net.name.span,
                format!("declared without `{}`", fam.to_ascii_lowercase()),
            )
            .help(format!(
                "add `{} \"…\"` to network `{n}`, or remove this address",
                fam.to_ascii_lowercase()
            )),
        );
    };
    if !inside {
        return Some(
            start(
                Code::AddressOutsideNetwork,
                format!("address {ip} is outside network `{n}` ({text}){note}"),
                format!("outside {text}"),
            )
            .label(pspan, format!("the prefix of `{n}`"))
            .help(if e.allocated {
                redo.to_string()
            } else {
                format!("pick an address inside {text}, or write `auto` to allocate one")
            }),
        );
    }
    if is_net || is_bcast {
        let what = if is_net { "network" } else { "broadcast" };
        return Some(
            start(
                Code::AddressIsNetworkOrBroadcast,
                format!("address {ip} is the {what} address of network `{n}` ({text}){note}"),
                format!("the {what} address"),
            )
            .label(pspan, format!("the prefix of `{n}`"))
            .help(if e.allocated {
                redo.to_string()
            } else {
                "no host may use it; pick another address, or write `auto`".to_string()
            }),
        );
    }
    let gateway = match ip {
        IpAddr::V4(a) => net
            .gateway4
            .as_ref()
            .filter(|g| g.value == a)
            .map(|g| g.span),
        IpAddr::V6(a) => net
            .gateway6
            .as_ref()
            .filter(|g| g.value == a)
            .map(|g| g.span),
    };
    if let Some(gspan) = gateway {
        return Some(
            start(
                Code::AddressIsGateway,
                format!("address {ip} is the gateway of network `{n}`{note}"),
                "the gateway's address".to_string(),
            )
            .label(gspan, format!("the gateway of `{n}`"))
            .help(if e.allocated {
                redo.to_string()
            } else {
                "the gateway address belongs to the router; pick another address, or write `auto`"
                    .to_string()
            }),
        );
    }
    if let Some(r) = net.reserved.iter().find(|r| r.contains(ip)) {
        return Some(
            start(
                Code::AddressInReserved,
                format!("address {ip} is inside reserved range {} of network `{n}`{note}", r.value),
                "inside a reserved range".to_string(),
            )
            .label(r.span, "reserved here")
            .help(if e.allocated {
                "the range was reserved after this value was allocated: delete this line and run `siteconf lock` to move the node out of it".to_string()
            } else {
                "the range is kept for switches, VIPs or DHCP; pick an address outside it, or write `auto`".to_string()
            }),
        );
    }
    None
}
