//! Rule `network-ranges`: a network's own gateway, reserved ranges and pool
//! ranges outside its prefix.
//!
//! **What it does.** For every network: a gateway outside the prefix
//! (SC0301) or equal to the network or IPv4 broadcast address (SC0302); a
//! reserved or pool range not inside the prefix (SC0301); a gateway or
//! range of a family the network has no prefix for (SC0305).
//!
//! **Why it matters.** A gateway outside the subnet is unreachable, so
//! every node on the network loses its default route; a reserved range
//! outside the prefix protects nothing, and a pool outside it hands out
//! addresses that are not on the network.
//!
//! **Example.**
//! ```kdl
//! network mgmt {
//!     purpose management; ipv4 "10.0.0.0/22"
//!     gateway4 "10.0.4.1"          // SC0301: outside 10.0.0.0/22
//!     reserved "10.0.0.1-10.0.9.9" // SC0301: ends outside
//! }
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{IpRange, Network, Sp};

pub static RULE: Rule = Rule {
    name: "network-ranges",
    codes: &[
        Code::AddressOutsideNetwork,
        Code::AddressIsNetworkOrBroadcast,
        Code::MissingAddressFamily,
    ],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for n in &cx.site.networks {
        if let Some(g) = &n.gateway4 {
            gateway(diags, n, IpAddr::V4(g.value), g.span);
        }
        if let Some(g) = &n.gateway6 {
            gateway(diags, n, IpAddr::V6(g.value), g.span);
        }
        for r in &n.reserved {
            range(diags, n, r, "reserved range");
        }
        for r in &n.pool {
            range(diags, n, r, "pool range");
        }
    }
}

/// The prefix of the family of `ip`: its text, whether it contains `ip`,
/// and its span.
fn prefix_for(n: &Network, ip: IpAddr) -> Option<(String, bool, crate::syntax::Span)> {
    match ip {
        IpAddr::V4(a) => n
            .ipv4
            .as_ref()
            .map(|p| (p.value.to_string(), p.contains(&a), p.span)),
        IpAddr::V6(a) => n
            .ipv6
            .as_ref()
            .map(|p| (p.value.to_string(), p.contains(&a), p.span)),
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

fn no_family(
    diags: &mut Diagnostics,
    n: &Network,
    what: &str,
    ip: IpAddr,
    text: &str,
    span: crate::syntax::Span,
) {
    if n.prefix_invalid[ip.is_ipv6() as usize] {
        return;
    }
    let f = family(ip);
    diags.push(
        Diagnostic::error(
            Code::MissingAddressFamily,
            format!(
                "{what} {text} of network `{}` is {f}, but the network has no {f} prefix",
                n.name.value
            ),
        )
        .label(span, format!("{f} {what}"))
        .label(
            n.name.span,
            format!("no `{}` prefix here", f.to_ascii_lowercase()),
        )
        .help(format!(
            "add `{} \"…\"` to the network, or remove the {what}",
            f.to_ascii_lowercase()
        )),
    );
}

fn gateway(diags: &mut Diagnostics, n: &Network, ip: IpAddr, span: crate::syntax::Span) {
    let Some((text, inside, pspan)) = prefix_for(n, ip) else {
        no_family(diags, n, "gateway", ip, &ip.to_string(), span);
        return;
    };
    if !inside {
        diags.push(
            Diagnostic::error(
                Code::AddressOutsideNetwork,
                format!("gateway {ip} of network `{}` is outside its prefix {text}", n.name.value),
            )
            .label(span, "outside the prefix")
            .label(pspan, "the network's prefix")
            .help("a gateway must be on the subnet to be reachable; every node on the network would lose its default route"),
        );
        return;
    }
    let not_host = match ip {
        IpAddr::V4(a) => n
            .ipv4
            .as_ref()
            .is_some_and(|p| p.prefix_len() < 31 && (a == p.network() || a == p.broadcast())),
        IpAddr::V6(a) => n.ipv6.as_ref().is_some_and(|p| a == p.network()),
    };
    if not_host {
        diags.push(
            Diagnostic::error(
                Code::AddressIsNetworkOrBroadcast,
                format!(
                    "gateway {ip} of network `{}` is the network or broadcast address of {text}",
                    n.name.value
                ),
            )
            .label(span, "not a host address")
            .label(pspan, "the network's prefix")
            .help("the gateway is a router's interface address, usually the first host address of the prefix"),
        );
    }
}

fn range(diags: &mut Diagnostics, n: &Network, r: &Sp<IpRange>, what: &str) {
    let Some((text, start_in, pspan)) = prefix_for(n, r.start) else {
        no_family(diags, n, what, r.start, &r.value.to_string(), r.span);
        return;
    };
    let end_in = prefix_for(n, r.end).is_some_and(|(_, inside, _)| inside);
    if start_in && end_in {
        return;
    }
    let which = match (start_in, end_in) {
        (true, false) => "ends",
        (false, true) => "starts",
        _ => "lies",
    };
    diags.push(
        Diagnostic::error(
            Code::AddressOutsideNetwork,
            format!(
                "{what} {} of network `{}` {which} outside its prefix {text}",
                r.value, n.name.value
            ),
        )
        .label(r.span, "not inside the prefix")
        .label(pspan, "the network's prefix")
        .help(format!("keep the {what} within {text}")),
    );
}
