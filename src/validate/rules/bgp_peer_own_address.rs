//! Rule `bgp-peer-own-address`: an external BGP peer at an address of a
//! switch that holds its session.
//!
//! **What it does.** Reports (SC0614) a `bgp-peer` whose `address` equals
//! the `loopback4` or `loopback6` of one of its `switches` (the only
//! addresses a switch has in the site files). Both places are shown. The
//! same address on any other node or switch is a duplicate (SC0102).
//!
//! **Why it matters.** bgpd refuses a local address as a neighbour
//! ("Can not configure the local system as neighbor", checked against the
//! addresses zebra knows, so a dry run without zebra does not see it): the
//! session to the provider is never configured and the fabric has no way
//! out, with `check` green.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { loopback4 "10.255.0.1"; … }
//! bgp-peer transit-a { asn 64496; address "10.255.0.1"; switches r01-tor1 }   // SC0614
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "bgp-peer-own-address",
    codes: &[Code::BgpPeerOwnAddress],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for p in &cx.site.bgp_peers {
        for sw in &p.switches {
            let Some(s) = cx.site.switch(cx.index, &sw.value) else {
                continue; // SC0202
            };
            let own = [
                s.loopback4
                    .as_ref()
                    .map(|l| (IpAddr::V4(l.value), l.span, "loopback4")),
                s.loopback6
                    .as_ref()
                    .map(|l| (IpAddr::V6(l.value), l.span, "loopback6")),
            ];
            for (ip, span, what) in own.into_iter().flatten() {
                if ip != p.address.value {
                    continue;
                }
                diags.push(
                    Diagnostic::error(
                        Code::BgpPeerOwnAddress,
                        format!(
                            "external BGP peer `{}` is at {ip}, the {what} of switch `{}` that holds its session",
                            p.name.value, s.name.value
                        ),
                    )
                    .label(p.address.span, "the peer's address")
                    .label(span, format!("the {what} of `{}`", s.name.value))
                    .help("the peer's address is the provider's end of the link, not the switch's: FRR refuses its own address as a neighbour, so the session would never be configured"),
                );
            }
        }
    }
}
