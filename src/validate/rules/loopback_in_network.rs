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
//! When the site has a `loopback` network of the family, such a loopback
//! is outside it, and SC0617 (an error: the fabric drops its route)
//! reports it instead; this warning is for sites without one.
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
    // Outside the loopback networks of a family the site has, a loopback
    // is SC0617's (an error: the fabric drops its route).
    let lo_prefixes = crate::model::routing::loopback_prefixes(site);
    let mut report = |who: String, ip: IpAddr, span: Span| {
        let mut of_family = lo_prefixes
            .iter()
            .filter(|p| p.addr().is_ipv4() == ip.is_ipv4())
            .peekable();
        if of_family.peek().is_some() && !of_family.any(|p| p.contains(&ip)) {
            return;
        }
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
network lo { purpose loopback; ipv6 "2001:db8:ff::/64"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1; loopback4 "10.0.0.9"; }
switch r01-tor2 { rack r01; position 41; ports swp1; loopback4 "10.255.0.2"; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0109").count(), 1, "{c:?}");
        // With an IPv4 loopback network, the loopback is outside it: the
        // error SC0617 says so, and not this warning too.
        let c = codes(&site.replace("ipv6 \"2001:db8:ff::/64\"", "ipv4 \"10.255.0.0/16\""));
        assert!(!c.contains(&"SC0109"), "{c:?}");
        assert!(c.contains(&"SC0617"), "{c:?}");
    }
}
