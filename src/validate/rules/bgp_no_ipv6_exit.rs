//! Rule `bgp-no-ipv6-exit`: the fabric announces IPv6, and no external
//! peer carries it.
//!
//! **What it does.** Warns (SC0638) once per site that has external BGP
//! peers (`bgp-peer`), none of them at an IPv6 address, while
//! - the fabric announces IPv6: a BGP switch with a `loopback6`, or a node
//!   with BGP sessions and an IPv6 loopback (fixed or `auto`),
//! - and a switch holding the peers has an IPv6 address on a routed port
//!   (`interface swp51 { address … "2001:db8:ffff::2/64" }`): an IPv6
//!   transit subnet with no peer on it.
//!
//! The finding is at the first peer's address, naming the IPv6 loopback
//! announced and the IPv6 transit subnet. A site without external peers
//! is not weighed (SC0619 speaks of exits), nor one that announces no IPv6
//! (an IPv4-only fabric), nor one without an IPv6 routed port on its
//! border switches: its IPv6 may be meant to stay inside the site.
//!
//! **Why it matters.** The switches activate an external peer only in its
//! address's family (`no neighbor ADDR activate` in the other one): the
//! sessions of IPv4 peers carry IPv4 routes only. So the fabric learns no
//! `::/0` and announces none of its IPv6 loopbacks outside: every IPv6
//! address of the site is unreachable from outside and reaches nothing
//! there, while DNS publishes them (AAAA records, which clients try first).
//! The usual cause is the IPv6 transit's `address` overwritten with an
//! IPv4 one (a copied peer), or the IPv6 peer deleted.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { asn 4201000011; loopback4 "10.255.0.1"; loopback6 "2001:db8:0:ff00::1"; … }
//! bgp-peer transit-a { asn 64496; address "192.0.2.1"; switches r01-tor1; }
//! bgp-peer transit-b { asn 64497; address "192.0.2.4"; switches r01-tor1; }   // SC0638 (was 2001:db8:ffff::4)
//! ```

use super::super::{Ctx, Rule};
use super::name_list;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "bgp-no-ipv6-exit",
    codes: &[Code::NoIpv6Exit],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let Some(first) = site.bgp_peers.first() else {
        return;
    };
    // A peer whose address did not parse (SC0011) may be the IPv6 one.
    if site.bgp_peer_dropped {
        return;
    }
    if site.bgp_peers.iter().any(|p| p.address.value.is_ipv6()) {
        return;
    }
    // What the fabric announces in IPv6: a BGP switch's loopback6 first,
    // else a routing node's IPv6 loopback.
    let switch = site
        .switches
        .iter()
        .filter(|s| s.asn.is_some())
        .find_map(|s| s.loopback6.as_ref().map(|l| (s.name.as_str(), l.span)));
    let announced: Option<(String, Span)> = switch
        .map(|(n, sp)| (format!("switch `{n}`"), sp))
        .or_else(|| {
            let rs = cx.resolved?;
            rs.nodes.iter().find_map(|rn| {
                let st = &rn.settings;
                let bgp = st.bgp.as_ref().is_some_and(|b| !b.sessions.is_empty());
                let l6 = st.loopback.as_ref()?.ipv6.as_ref()?;
                bgp.then(|| {
                    (
                        format!("node `{}`", site.nodes[rn.index].name.value),
                        l6.span,
                    )
                })
            })
        });
    let Some((who, span)) = announced else { return };
    // An IPv6 transit subnet on a switch that holds the peers.
    let holders: Vec<&str> = site
        .bgp_peers
        .iter()
        .flat_map(|p| &p.switches)
        .map(|w| w.as_str())
        .collect();
    let transit6 = site
        .switches
        .iter()
        .filter(|s| s.asn.is_some() && holders.contains(&s.name.as_str()))
        .flat_map(|s| s.interfaces.iter().map(move |i| (s, i)))
        .find_map(|(s, i)| {
            i.addresses
                .iter()
                .find(|a| a.value.addr().is_ipv6())
                .map(|a| (s.name.as_str(), i.port.as_str(), a))
        });
    let Some((tsw, tport, taddr)) = transit6 else {
        return;
    };
    let peers = name_list(site.bgp_peers.iter().map(|p| p.name.as_str()), 4);
    let mut d = Diagnostic::warning(
        Code::NoIpv6Exit,
        format!(
            "no external BGP peer carries IPv6 ({peers} {} at IPv4 addresses, and a switch activates a peer only in its address's family), while `{tsw}` has an IPv6 transit subnet on `{tport}` ({}) and the fabric announces IPv6 loopbacks (e.g. {who}'s): the site learns no `::/0` and announces none of its IPv6 addresses outside, so they reach nothing beyond the site and nothing outside reaches them, while DNS publishes them",
            if site.bgp_peers.len() == 1 { "is" } else { "are all" },
            taddr.value
        ),
    )
    .label(first.address.span, "IPv4: this session carries IPv4 routes only");
    for p in site.bgp_peers.iter().skip(1).take(2) {
        d = d.label(p.address.span, "IPv4 too");
    }
    diags.push(
        d.label(taddr.span, "an IPv6 transit subnet, with no peer on it")
            .label(span, "an IPv6 loopback announced in BGP, to no one outside")
            .help(
                "give the IPv6 transit its IPv6 address (a `bgp-peer` at the provider's IPv6 address, on the IPv6 subnet of a routed switch port, or with `multihop`): one peer session carries one family; if the site is not meant to use IPv6 outside, accept the warning",
            ),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(peer_b: &str, sw_lo6: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; ipv6 "2001:db8:0:ff00::/64"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; {sw_lo6} ports swp1-56; interface swp51 {{ address "192.0.2.2/29" "2001:db8:ffff::2/64"; }} }}
bgp-peer transit-a {{ asn 64496; address "192.0.2.1"; switches r01-tor1; }}
bgp-peer transit-b {{ asn 64497; address "{peer_b}"; switches r01-tor1; }}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0638").count()
    }

    #[test]
    fn ipv6_announced_with_no_ipv6_peer_is_named() {
        let lo6 = r#"loopback6 "2001:db8:0:ff00::1";"#;
        assert_eq!(n("2001:db8:ffff::4", lo6), 0);
        assert_eq!(n("192.0.2.4", lo6), 1);
        // An address that does not parse is SC0011's: no follow-on.
        assert_eq!(n("fe80::1%swp51", lo6), 0);
        // Nothing IPv6 announced: an IPv4-only fabric.
        assert_eq!(n("192.0.2.4", ""), 0);
        // No IPv6 transit subnet: the site's IPv6 may be meant to stay inside.
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network loopback { purpose loopback; ipv4 "10.255.0.0/16"; ipv6 "2001:db8:0:ff00::/64"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; loopback6 "2001:db8:0:ff00::1"; ports swp1-56; interface swp51 { address "192.0.2.2/29"; } }
bgp-peer transit-a { asn 64496; address "192.0.2.1"; switches r01-tor1; }
"#;
        assert!(!codes(text).contains(&"SC0638"));
    }

    #[test]
    fn each_peer_is_labelled_at_its_own_address() {
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network loopback { purpose loopback; ipv4 "10.255.0.0/16"; ipv6 "2001:db8:0:ff00::/64"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; loopback6 "2001:db8:0:ff00::1"; ports swp1-56; interface swp51 { address "192.0.2.2/29" "2001:db8:ffff::2/64"; } }
bgp-peer transit-a { asn 64496; address "192.0.2.1"; switches r01-tor1; }
bgp-peer transit-b { asn 64497; address "192.0.2.4"; switches r01-tor1; }
"#;
        let all = super::super::testing::check_kdl(text);
        let d = all
            .iter()
            .find(|d| d.code.as_str() == "SC0638")
            .expect("SC0638");
        let at = |needle: &str| {
            let i = text.find(needle).expect(needle);
            (i, i + needle.len())
        };
        let spans: Vec<(usize, usize)> = d
            .labels
            .iter()
            .map(|l| (l.span.start as usize, l.span.end as usize))
            .collect();
        assert!(spans.contains(&at("\"192.0.2.1\"")), "{spans:?}");
        assert!(spans.contains(&at("\"192.0.2.4\"")), "{spans:?}");
    }
}
