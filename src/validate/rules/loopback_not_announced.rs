//! Rule `loopback-not-announced`: a loopback the fabric never carries.
//!
//! **What it does.** Reports (SC0617) the loopback of a switch
//! (`loopback4`/`loopback6`), or of a node that has BGP sessions (fixed
//! or allocated, after profiles are merged), that lies in no prefix of the
//! site's `loopback` networks of its family. Only for a family the site
//! has a loopback prefix of: without any, nothing is announced at all. A
//! numbered session to or from such a loopback is not reported again
//! (SC0630 leaves it here).
//!
//! **Why it matters.** The fabric's route-maps accept and pass on host
//! routes inside the loopback networks only (`FABRIC-LOOPBACKS4 … ge 32`
//! in SERVERS-IN, FABRIC-ROUTES, FROM-TOR, EXTERNAL-OUT): a loopback
//! outside is dropped by the first switch. Nothing reaches the router-id,
//! the node's DNS name on its loopback or a switch's `ansible_host`, while
//! `check` is green. Usually a typo (`10.254.1.3` for `10.255.1.3`).
//!
//! **Example.**
//! ```kdl
//! network loopback { purpose loopback; ipv4 "10.255.0.0/16"; }
//! switch r04-tor2 { loopback4 "10.254.0.8"; … }   // SC0617
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

use super::super::{Ctx, Rule};
use super::{lock_line, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::routing::loopback_prefixes;
use crate::resolve::{AllocKey, IpFamily};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "loopback-not-announced",
    codes: &[Code::LoopbackNotAnnounced],
    check,
    resolved: true,
};

/// The loopback prefixes of the family of `ip`, written out for a message.
fn prefixes_of(prefixes: &[IpNet], ip: IpAddr) -> String {
    prefixes
        .iter()
        .filter(|p| p.addr().is_ipv4() == ip.is_ipv4())
        .map(|p| p.trunc().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the fabric carries `ip`: false only when the site has loopback
/// prefixes of its family and none holds it.
fn announced(prefixes: &[IpNet], ip: IpAddr) -> bool {
    let mut any = false;
    for p in prefixes
        .iter()
        .filter(|p| p.addr().is_ipv4() == ip.is_ipv4())
    {
        if p.contains(&ip) {
            return true;
        }
        any = true;
    }
    !any
}

fn finding(prefixes: &[IpNet], ip: IpAddr, whose: &str, span: Span, label: &str) -> Diagnostic {
    let auto = if whose == "loopback" {
        " (or `auto`)"
    } else {
        ""
    };
    Diagnostic::error(
        Code::LoopbackNotAnnounced,
        format!(
            "{whose} {ip} is outside every loopback network ({}): the fabric's route-maps drop its route, so nothing reaches it",
            prefixes_of(prefixes, ip)
        ),
    )
    .label(span, label.to_string())
    .help(format!(
        "use an address inside {}{auto}, or widen the `loopback` network's prefix: the switches accept host routes inside the loopback networks only",
        prefixes_of(prefixes, ip)
    ))
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let prefixes = loopback_prefixes(cx.site);
    if prefixes.is_empty() {
        return;
    }
    for (i, s) in cx.site.switches.iter().enumerate() {
        // A switch declared twice is SC0101's.
        if cx.index.switches.get(s.name.as_str()) != Some(&i) {
            continue;
        }
        let own = [
            s.loopback4
                .as_ref()
                .map(|l| (IpAddr::V4(l.value), l.span, "loopback4")),
            s.loopback6
                .as_ref()
                .map(|l| (IpAddr::V6(l.value), l.span, "loopback6")),
        ];
        for (ip, span, what) in own.into_iter().flatten() {
            if !announced(&prefixes, ip) {
                diags.push(finding(
                    &prefixes,
                    ip,
                    &format!("switch `{}`'s {what}", s.name.value),
                    span,
                    "in no loopback network",
                ));
            }
        }
    }
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        if rn
            .settings
            .bgp
            .as_ref()
            .is_none_or(|b| b.sessions.is_empty())
        {
            continue;
        }
        let Some(l) = &rn.settings.loopback else {
            continue;
        };
        let name = cx.site.nodes[rn.index].name.as_str();
        let v4 = rs
            .value(name, AllocKey::Loopback(IpFamily::V4), &l.ipv4)
            .map(|e| (IpAddr::V4(e.value), e.span, e.allocated, IpFamily::V4));
        let v6 = rs
            .value(name, AllocKey::Loopback(IpFamily::V6), &l.ipv6)
            .map(|e| (IpAddr::V6(e.value), e.span, e.allocated, IpFamily::V6));
        for (ip, span, allocated, fam) in v4.into_iter().chain(v6) {
            if announced(&prefixes, ip) {
                continue;
            }
            let (span, label) = if allocated {
                let at = lock_line(rs, name, AllocKey::Loopback(fam)).unwrap_or(span);
                (
                    at,
                    "allocated (siteconf.lock) before the loopback network changed",
                )
            } else {
                (span, "in no loopback network")
            };
            out.push(name, finding(&prefixes, ip, "loopback", span, label));
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use crate::diag::Code;

    fn found(switch_lo: &str, node_lo: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "{switch_lo}"; ports swp1-48; }}
node r01n01 {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
  loopback ipv4={node_lo}; bgp asn=auto {{ session r01-tor1 interface=eno1; }} }}
node r01n02 {{ rack r01; position 2; loopback ipv4="10.254.9.9" }}
"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code == Code::LoopbackNotAnnounced)
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn loopbacks_outside_the_loopback_networks() {
        // r01n02 runs no BGP: its loopback is nobody's route.
        assert!(found("10.255.0.1", "auto").is_empty());
        assert!(found("10.255.0.1", "\"10.255.1.1\"").is_empty());
        let sw = found("10.254.0.1", "auto");
        assert_eq!(sw.len(), 1, "{sw:?}");
        assert!(
            sw[0].starts_with("switch `r01-tor1`'s loopback4 10.254.0.1"),
            "{sw:?}"
        );
        let node = found("10.255.0.1", "\"10.254.1.1\"");
        assert_eq!(node.len(), 1, "{node:?}");
        assert!(
            node[0].starts_with("node `r01n01`: loopback 10.254.1.1"),
            "{node:?}"
        );
    }
}
