//! Rule `loopback-not-announced`: a loopback the fabric never carries.
//!
//! **What it does.** Reports (SC0617) the loopback of a switch
//! (`loopback4`/`loopback6`), or of a node that has BGP sessions (fixed
//! or allocated, after profiles are merged), that lies in no prefix of the
//! site's `loopback` networks of its family. An IPv6 loopback while no
//! `loopback` network has an IPv6 prefix (but some have IPv4 ones) is a
//! warning (SC0633): the same mistake, but the site may mean the address
//! for the device's own use only. Not the other way round: an IPv4
//! loopback is the router-id every BGP device needs, even on an IPv6-only
//! fabric. A site with no loopback prefix at all is not checked: nothing
//! is announced.
//! A numbered session to or from such a loopback is not reported again
//! (SC0630 leaves it here). Values of several nodes allocated in
//! siteconf.lock outside the prefixes of a family are a renumbered
//! loopback network: one SC0617 for the family, at the first lock line,
//! with the count and `siteconf lock --renumber NETWORK` (the first
//! loopback network, which `auto` allocates from), as SC0301 does for
//! other networks; a single one is reported at its lock line with the
//! same command.
//!
//! **Why it matters.** The fabric's route-maps accept and pass on host
//! routes inside the loopback networks only (`FABRIC-LOOPBACKS4 … ge 32`
//! in SERVERS-IN, FABRIC-ROUTES, FROM-TOR, EXTERNAL-OUT): a loopback
//! outside is dropped by the first switch. Nothing reaches the router-id,
//! the node's DNS name on its loopback or a switch's `ansible_host`, while
//! `check` is green. Usually a typo (`10.254.1.3` for `10.255.1.3`).
//! For a family with no loopback prefix (a `loopback6` on an IPv4-only
//! loopback network) FRR writes `network <addr>/128` but no
//! FABRIC-LOOPBACKS6 exists, so FABRIC-ROUTES and FROM-TOR pass only
//! `::/0`: nobody learns the route, yet DNS publishes the AAAA record, and
//! `ssh` tries IPv6 first and waits for its timeout.
//!
//! **Example.**
//! ```kdl
//! network loopback { purpose loopback; ipv4 "10.255.0.0/16"; }
//! switch r04-tor2 { loopback4 "10.254.0.8"; … }   // SC0617
//! switch r04-tor1 { loopback6 "2001:db8:0:ff00::7"; … }   // SC0633: no IPv6 loopback prefix
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

use super::super::{Ctx, Rule};
use super::{lock_line, name_list, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::routing::loopback_prefixes;
use crate::model::Purpose;
use crate::resolve::{AllocKey, IpFamily};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "loopback-not-announced",
    codes: &[Code::LoopbackNotAnnounced, Code::Loopback6NotAnnounced],
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

/// Whether `ip` is IPv6 and the site has loopback prefixes, none IPv6.
/// An IPv4 loopback on an IPv6-only fabric is not reported: it is the
/// BGP router-id every BGP switch and node needs (SC0610, SC0615), and
/// need not be announced.
fn family_missing(prefixes: &[IpNet], ip: IpAddr) -> bool {
    ip.is_ipv6() && !prefixes.is_empty() && prefixes.iter().all(|p| p.addr().is_ipv4())
}

fn family_finding(ip: IpAddr, whose: &str, span: Span, what: &str) -> Diagnostic {
    let (fam, list) = ("IPv6", "FABRIC-LOOPBACKS6");
    Diagnostic::warning(
        Code::Loopback6NotAnnounced,
        format!(
            "{whose} {ip} is not announced: no `loopback` network has an {fam} prefix, so the switches have no {list} and their route-maps drop its route; DNS still publishes it, and clients that try it first (ssh) time out"
        ),
    )
    .label(span, format!("no {fam} loopback prefix holds this"))
    .help(format!(
        "declare an {fam} prefix on the `loopback` network that holds {ip}, or drop `{what}`"
    ))
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

/// The loopback network `auto` loopbacks are allocated from (the first),
/// which `siteconf lock --renumber` takes.
fn pool_name<'a>(cx: &Ctx<'a>) -> &'a str {
    cx.site
        .networks
        .iter()
        .find(|n| n.purpose.value == Purpose::Loopback)
        .map_or("loopback", |n| n.name.as_str())
}

/// A loopback allocated in siteconf.lock before the loopback network
/// changed: the node, the value, its lock line and the `auto`.
type Stale<'a> = (&'a str, IpAddr, Option<Span>, Span);

/// One allocated loopback outside the loopback prefixes: the `auto` is
/// right, the lock line is what to redo.
fn stale_one(prefixes: &[IpNet], pool: &str, (_, ip, lock, span): &Stale) -> Diagnostic {
    let d = Diagnostic::error(
        Code::LoopbackNotAnnounced,
        format!(
            "loopback {ip} is outside every loopback network ({}): the fabric's route-maps drop its route, so nothing reaches it",
            prefixes_of(prefixes, *ip)
        ),
    );
    match lock {
        Some(l) => d
            .label(*l, "allocated (siteconf.lock) before the loopback network changed")
            .label(*span, "`auto` asked for here"),
        None => d.label(*span, "allocated before the loopback network changed"),
    }
    .help(format!(
        "the lock holds a value from before the loopback network changed: run `siteconf lock --renumber {pool}` to allocate one inside {}, or put the old prefix back",
        prefixes_of(prefixes, *ip)
    ))
}

/// Several allocated loopbacks of one family outside the loopback
/// prefixes: the loopback network was renumbered, one finding for all.
fn renumbered(prefixes: &[IpNet], pool: &str, values: &[Stale]) -> Diagnostic {
    let (first, ip, lock, span) = values[0];
    let list = prefixes_of(prefixes, ip);
    let nodes = name_list(values.iter().map(|v| v.0), 5);
    let fam = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    let d = Diagnostic::error(
        Code::LoopbackNotAnnounced,
        format!(
            "{} {fam} loopbacks allocated in siteconf.lock are outside every loopback network ({list}) (nodes {nodes}): the loopback network was renumbered, the fabric's route-maps drop these nodes' loopback routes, and nothing reaches them (router-id, the DNS name on the loopback, numbered sessions)",
            values.len()
        ),
    );
    super::label_first_stale(d, (first, ip, values.len()), lock, span, &list).help(format!(
        "run `siteconf lock --renumber {pool}`: it drops these lock lines and allocates loopbacks inside {list}, printing each node's old and new value (every node listed gets a new loopback: its router-id and DNS name follow at the next build); or put the old prefix back"
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
            if family_missing(&prefixes, ip) {
                diags.push(family_finding(
                    ip,
                    &format!("switch `{}`'s {what}", s.name.value),
                    span,
                    what,
                ));
            } else if !announced(&prefixes, ip) {
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
    let mut stale: std::collections::BTreeMap<IpFamily, Vec<Stale>> = Default::default();
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
            if family_missing(&prefixes, ip) {
                out.push(
                    name,
                    family_finding(ip, "loopback", span, "loopback ipv6=…"),
                );
                continue;
            }
            if announced(&prefixes, ip) {
                continue;
            }
            if allocated {
                let lock = lock_line(rs, name, AllocKey::Loopback(fam));
                stale.entry(fam).or_default().push((name, ip, lock, span));
                continue;
            }
            out.push(
                name,
                finding(&prefixes, ip, "loopback", span, "in no loopback network"),
            );
        }
    }
    // Allocated values of several nodes outside the prefix of a family:
    // the loopback network was renumbered, one finding for them.
    let pool = pool_name(cx);
    for values in stale.into_values() {
        match values.as_slice() {
            [one] => out.push(one.0, stale_one(&prefixes, pool, one)),
            _ => diags.push(renumbered(&prefixes, pool, &values)),
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use crate::diag::Code;

    fn found(switch_lo: &str, node_lo: &str) -> Vec<String> {
        found_code(switch_lo, node_lo, "", Code::LoopbackNotAnnounced)
    }

    fn found_code(switch_lo: &str, node_lo: &str, lo6: &str, code: Code) -> Vec<String> {
        let lo6_node = match lo6 {
            "" => "",
            _ => r#"ipv6="2001:db8:0:ff00::101""#,
        };
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "{switch_lo}"; {lo6} ports swp1-48; }}
node r01n01 {{ rack r01; position 1; interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
  loopback ipv4={node_lo} {lo6_node}; bgp asn=auto {{ session r01-tor1 interface=eno1; }} }}
node r01n02 {{ rack r01; position 2; loopback ipv4="10.254.9.9" }}
"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code == code)
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

    /// `auto` loopbacks the lock holds from before the loopback network's
    /// prefix changed: one finding for the family when there are several,
    /// naming `lock --renumber`; a literal one keeps its own.
    #[test]
    fn a_renumbered_loopback_network_is_one_finding() {
        let found = |nodes: usize, literal: bool| {
            let mut kdl = String::from(
                r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }
network lo { purpose loopback; ipv4 "10.254.0.0/16"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; asn 4201000011; loopback4 "10.254.0.1"; ports swp1-48; }
"#,
            );
            let mut lock = String::from("version 1\n");
            for i in 1..=nodes {
                kdl += &format!("node r01n0{i} {{ rack r01; position {i}; interface eno1 {{ mac \"52:54:00:01:01:0{i}\"; switch r01-tor1; port swp{i}; }}; loopback ipv4=auto; bgp asn=auto {{ session r01-tor1 interface=eno1; }} }}\n");
                lock += &format!("node/r01n0{i} loopback.ipv4 10.255.1.{i}\n");
            }
            if literal {
                kdl += "node r01n09 { rack r01; position 9; interface eno1 { mac \"52:54:00:01:01:09\"; switch r01-tor1; port swp9; }; loopback ipv4=\"10.255.1.9\"; bgp asn=auto { session r01-tor1 interface=eno1; } }\n";
            }
            let src = crate::source::MemSource::new()
                .with("site/site.kdl", kdl)
                .with("siteconf.lock", lock);
            let checked = crate::check::check(&src);
            checked
                .diags
                .sorted(&checked.loaded.sources)
                .into_iter()
                .filter(|d| d.code == Code::LoopbackNotAnnounced)
                .map(|d| format!("{} / {}", d.message, d.help.unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        let one = found(1, false);
        assert_eq!(one.len(), 1, "{one:?}");
        assert!(
            one[0].starts_with("node `r01n01`: loopback 10.255.1.1")
                && one[0].contains("`siteconf lock --renumber lo`")
                && !one[0].contains("`auto`"),
            "{one:?}"
        );
        let three = found(3, true);
        assert_eq!(three.len(), 2, "{three:?}");
        assert!(
            three
                .iter()
                .any(|m| m.starts_with("3 IPv4 loopbacks allocated")
                    && m.contains("`siteconf lock --renumber lo`")),
            "{three:?}"
        );
        assert!(
            three
                .iter()
                .any(|m| m.starts_with("node `r01n09`: loopback 10.255.1.9")),
            "{three:?}"
        );
    }

    #[test]
    fn ipv6_loopbacks_without_an_ipv6_loopback_prefix() {
        let lo6 = r#"loopback6 "2001:db8:0:ff00::1";"#;
        let w = found_code("10.255.0.1", "auto", lo6, Code::Loopback6NotAnnounced);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w.iter().any(|m| m
                .starts_with("switch `r01-tor1`'s loopback6 2001:db8:0:ff00::1 is not announced")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|m| m.starts_with("node `r01n01`: loopback 2001:db8:0:ff00::101")),
            "{w:?}"
        );
        // Not the error too, and nothing without an IPv6 loopback.
        assert!(found_code("10.255.0.1", "auto", lo6, Code::LoopbackNotAnnounced).is_empty());
        assert!(found_code("10.255.0.1", "auto", "", Code::Loopback6NotAnnounced).is_empty());
    }
}
