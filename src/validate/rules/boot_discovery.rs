//! Rule `boot-discovery`: an unknown-MAC setup that cannot work or is unsafe.
//!
//! **What it does.** Reports (SC1203):
//! - `unknown "discover"` without a `discovery-image`;
//! - a `discovery-range` that is not IPv4, or not inside the IPv4 prefix
//!   of a network Kea serves (`dhcp`, default: management networks);
//! - a `discovery-range` not inside that network's `reserved` ranges.
//!
//! **Why it matters.** Kea leases discovery addresses to machines no node
//! declares. A range outside every DHCP subnet is never offered, so
//! unknown machines get nothing; a range that is not reserved is also
//! where `auto` addresses are allocated, so an unknown machine could hold
//! the address of a node that is about to boot.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/24"; reserved "10.0.0.1-10.0.0.19"; }
//! site dc1 { boot { servers "10.0.0.2"; discovery-range "10.0.0.20-10.0.0.29"; } }   // SC1203: not reserved
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::UnknownPolicy;

pub static RULE: Rule = Rule {
    name: "boot-discovery",
    codes: &[Code::BootDiscovery],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    if let Some(u) = &boot.unknown {
        if u.value == UnknownPolicy::Discover && boot.discovery_image.is_none() {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    "`unknown \"discover\"` needs a `discovery-image`",
                )
                .label(u.span, "boot which image?")
                .help("add `discovery-image NAME` naming an image of `boot`, or use `unknown \"report\"`"),
            );
        }
    }
    for r in &boot.discovery_ranges {
        let (IpAddr::V4(a), IpAddr::V4(b)) = (r.value.start, r.value.end) else {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!("discovery range `{}` is not IPv4", r.value),
                )
                .label(r.span, "Kea (DHCPv4) leases IPv4 addresses")
                .help("give an IPv4 range such as `10.0.0.240-10.0.0.250`"),
            );
            continue;
        };
        let net = cx.site.networks.iter().find(|n| {
            n.dhcp()
                && n.ipv4
                    .as_ref()
                    .is_some_and(|p| p.value.contains(&a) && p.value.contains(&b))
        });
        let Some(net) = net else {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!("discovery range `{}` is in no network Kea serves", r.value),
                )
                .label(r.span, "outside every DHCP network")
                .help("put it inside the IPv4 prefix of a management network (or one with `dhcp #true`)"),
            );
            continue;
        };
        let reserved = net
            .reserved
            .iter()
            .any(|x| x.value.contains(IpAddr::V4(a)) && x.value.contains(IpAddr::V4(b)));
        if !reserved {
            diags.push(
                Diagnostic::error(
                    Code::BootDiscovery,
                    format!(
                        "discovery range `{}` is not inside a `reserved` range of network `{}`",
                        r.value, net.name.value
                    ),
                )
                .label(r.span, "nodes could be allocated these addresses")
                .help(format!(
                    "add `reserved \"{}\"` to network `{}` so that no node is given them",
                    r.value, net.name.value
                )),
            );
        }
    }
}
