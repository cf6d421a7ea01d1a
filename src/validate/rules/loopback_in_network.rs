//! Rule `loopback-in-network`: a fixed loopback inside another network.
//!
//! **What it does.** Reports (SC0109, a warning) a loopback address written
//! as a fixed value — a switch's `loopback4`/`loopback6`, or `loopback
//! ipv4=…`/`ipv6=…` in a node, profile or the site defaults — that lies
//! inside the prefix of a network whose purpose is not `loopback` (e.g.
//! the management network). Allocated loopbacks come from the loopback
//! network and cannot.
//!
//! **Why it matters.** A loopback is announced in BGP as a host route:
//! inside the management subnet it shadows the address of whatever host
//! that subnet gives it, and the switch (or node) answers for it. It is
//! usually a typo in the second octet (`10.0.0.1` for `10.255.0.1`).
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/16"; }
//! switch r01-tor1 { loopback4 "10.0.0.1"; … }   // SC0109: inside `mgmt`
//! ```

use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{AddrSpec, Network, Purpose};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "loopback-in-network",
    codes: &[Code::LoopbackInNetwork],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let nets: Vec<&Network> = site
        .networks
        .iter()
        // A purpose that is a typo (reported) may be `loopback`.
        .filter(|n| n.purpose.value != Purpose::Loopback && !n.purpose_invalid)
        .collect();
    if nets.is_empty() {
        return;
    }
    let mut report = |who: String, ip: IpAddr, span: Span| {
        let Some(net) = nets.iter().find(|n| match ip {
            IpAddr::V4(a) => n.ipv4.as_ref().is_some_and(|p| p.contains(&a)),
            IpAddr::V6(a) => n.ipv6.as_ref().is_some_and(|p| p.contains(&a)),
        }) else {
            return;
        };
        // The network's gateway itself is a duplicate address (SC0102).
        let gateway = match ip {
            IpAddr::V4(a) => net.gateway4.as_ref().is_some_and(|g| g.value == a),
            IpAddr::V6(a) => net.gateway6.as_ref().is_some_and(|g| g.value == a),
        };
        if gateway {
            return;
        }
        let (pspan, prefix) = match ip {
            IpAddr::V4(_) => net.ipv4.as_ref().map(|p| (p.span, p.value.to_string())),
            IpAddr::V6(_) => net.ipv6.as_ref().map(|p| (p.span, p.value.to_string())),
        }
        .unwrap_or((net.name.span, String::new()));
        diags.push(
            Diagnostic::warning(
                Code::LoopbackInNetwork,
                format!(
                    "{who} has the loopback {ip}, inside network `{}` ({prefix}), which is not a loopback network",
                    net.name.value
                ),
            )
            .label(span, format!("inside `{}`", net.name.value))
            .label(pspan, format!("network `{}`", net.name.value))
            .help("a loopback is announced in BGP as a host route and would shadow that subnet's host: take it from the loopback network (or `auto`)"),
        );
    };
    for sw in &site.switches {
        if let Some(l) = &sw.loopback4 {
            report(
                format!("switch `{}`", sw.name.value),
                IpAddr::V4(l.value),
                l.span,
            );
        }
        if let Some(l) = &sw.loopback6 {
            report(
                format!("switch `{}`", sw.name.value),
                IpAddr::V6(l.value),
                l.span,
            );
        }
    }
    for (layer, st) in layers(site) {
        let Some(lb) = &st.loopback else { continue };
        if let Some(v) = &lb.ipv4 {
            if let AddrSpec::Fixed(a) = v.value {
                report(layer.to_string(), IpAddr::V4(a), v.span);
            }
        }
        if let Some(v) = &lb.ipv6 {
            if let AddrSpec::Fixed(a) = v.value {
                report(layer.to_string(), IpAddr::V6(a), v.span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_loopback_in_the_management_prefix_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network mgmt { purpose management; ipv4 "10.0.0.0/16"; }
network lo { purpose loopback; ipv4 "10.255.0.0/16"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1; loopback4 "10.0.0.9"; }
switch r01-tor2 { rack r01; position 41; ports swp1; loopback4 "10.255.0.2"; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0109").count(), 1, "{c:?}");
    }
}
