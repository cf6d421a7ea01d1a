//! Rule `node-default-route`: nodes left with no default route.
//!
//! **What it does.** A node's netplan file gets a default route from the
//! first of its addresses (management first) whose network has a gateway
//! of that address's family (`gateway4` for an IPv4 address, `gateway6`
//! for an IPv6 one). For the nodes that get none, reports (SC0639) once per
//! network — the node's management network, else its first addressed one —
//! naming the nodes:
//! an **error** when the node installs packages (its `packages`, or FRR
//! for its BGP sessions) and first-boot apt cannot reach one of its
//! enabled repositories without a route: the repository's host is on none
//! of the node's networks (a name such as `deb.debian.org`, or an address
//! off its subnets). A name the site itself declares — one its own zone
//! gives an address (a node's or switch's name under the site's domain,
//! `<node>.<network>`, `<node>.lo`, `nsN`) — is on-link when that address
//! is on one of the node's networks; for an unknown name under the site's
//! domain the help says how to declare it. That holds as well for a node whose default would
//! come from BGP (it has sessions and the site has external peers): FRR
//! brings that route, and FRR itself is installed by apt at first boot, so
//! it never is.
//!
//! What it leaves alone: a node with an IPv6 address in a site that
//! declares no `gateway6` anywhere (its IPv6 routes may come from router
//! advertisements: netplan leaves them accepted on every interface but BGP
//! uplinks, and `check` cannot see whether a router sends them; a site
//! that writes its IPv6 gateways has none on a network without one); a
//! node whose repositories are all on-link
//! (addresses on its networks, or `file:`): apt works, and a routed node
//! gets its default from FRR; one that gets none is an isolated design. A
//! node that names no repository (the image's own sources, which `check`
//! cannot see), or installs nothing. A node without any address on an
//! interface (SC0306 speaks of a missing management address).
//!
//! **Why it matters.** Deleting `gateway4` from the management network
//! passed `check`: every node's netplan lost its default route, Kea its
//! `routers`, and the nodes' first boot failed at `apt-get` (no route to
//! the mirror), so FRR, chrony and every package were never installed, and
//! a routed node never got the BGP default either. The name servers are
//! written whatever the gateway (they are on-link in the usual design).
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/16"; }   // SC0639: no gateway4
//! profile base { repo debian { uris "http://deb.debian.org/debian"; … }; address mgmt interface=eno3 ipv4=auto }
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::super::{Ctx, Rule};
use super::name_list;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Network, Purpose, Settings};
use crate::resolve::key::AllocKey;

pub static RULE: Rule = Rule {
    name: "node-default-route",
    codes: &[Code::NodeNoDefaultRoute],
    check,
    resolved: true,
};

/// How a node without a gateway fares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    /// apt cannot reach its repositories; no BGP default either.
    NoApt,
    /// apt cannot reach its repositories, so FRR, which would bring the
    /// BGP default, is never installed.
    NoFrr,
}

/// The host of an apt URI, `None` for a local one (`file:`, `cdrom:`).
fn uri_host(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    // `mirror+http://…` and `tor+http://…` name the transport last.
    let scheme = scheme.rsplit('+').next().unwrap_or(scheme);
    if matches!(scheme, "file" | "cdrom" | "copy") {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or(r, |(h, _)| h),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    Some(host)
}

/// The names the site's own zone gives, lower case and fully qualified,
/// with their addresses (what `render::site::dns` writes): `<node>` (its
/// management address, else its loopback), `<node>.<network>`,
/// `<node>.lo`, `<switch>` (its loopbacks), `nsN` (the `dns-servers`).
fn site_names(cx: &Ctx, rs: &crate::resolve::Resolved) -> BTreeMap<String, Vec<IpAddr>> {
    use crate::resolve::key::IpFamily;
    let site = cx.site;
    let domain = site
        .site
        .as_ref()
        .map(|s| s.domain.value.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    let fq = |n: &str| crate::resolve::effective::fqdn(&n.to_ascii_lowercase(), &domain);
    let mut names: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    let mut used = std::collections::BTreeSet::new();
    for rn in &rs.nodes {
        let node = site.nodes[rn.index].name.as_str();
        used.insert(node.to_ascii_lowercase());
        let st = &rn.settings;
        let mut mgmt = Vec::new();
        for a in &st.addresses {
            let net = a.network.as_str();
            let v4 = rs
                .value(node, super::address_key(net, IpFamily::V4), &a.ipv4)
                .map(|e| IpAddr::V4(e.value));
            let v6 = rs
                .value(node, super::address_key(net, IpFamily::V6), &a.ipv6)
                .map(|e| IpAddr::V6(e.value));
            let ips: Vec<IpAddr> = v4.into_iter().chain(v6).collect();
            let is_mgmt = cx
                .index
                .networks
                .get(net)
                .is_some_and(|&i| site.networks[i].purpose.value == Purpose::Management);
            if is_mgmt && mgmt.is_empty() {
                mgmt.clone_from(&ips);
            }
            names
                .entry(fq(&format!("{node}.{net}")))
                .or_default()
                .extend(ips);
        }
        let mut lo = Vec::new();
        if let Some(l) = &st.loopback {
            lo.extend(
                rs.value(node, AllocKey::Loopback(IpFamily::V4), &l.ipv4)
                    .map(|e| IpAddr::V4(e.value)),
            );
            lo.extend(
                rs.value(node, AllocKey::Loopback(IpFamily::V6), &l.ipv6)
                    .map(|e| IpAddr::V6(e.value)),
            );
        }
        names
            .entry(fq(&format!("{node}.lo")))
            .or_default()
            .extend(lo.iter().copied());
        names
            .entry(fq(node))
            .or_default()
            .extend(if mgmt.is_empty() { lo } else { mgmt });
    }
    for sw in &site.switches {
        used.insert(sw.name.as_str().to_ascii_lowercase());
        let ips = sw
            .loopback4
            .iter()
            .map(|l| IpAddr::V4(l.value))
            .chain(sw.loopback6.iter().map(|l| IpAddr::V6(l.value)));
        names.entry(fq(sw.name.as_str())).or_default().extend(ips);
    }
    let mut k = 1;
    for ip in site.site.iter().flat_map(|s| &s.dns_servers) {
        let name = loop {
            let cand = format!("ns{k}");
            k += 1;
            if !used.contains(&cand) {
                break cand;
            }
        };
        names.entry(fq(&name)).or_default().push(ip.value);
    }
    names
}

/// How a repository's host stands without a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Off {
    /// An address on none of the node's networks.
    Address,
    /// A name the site declares, at an address on none of them.
    OwnName,
    /// A name the site does not declare: where it resolves is not known.
    Unknown,
}

/// The first host of an enabled repository of `st` that the node cannot
/// reach without a route; `None` when every one is on-link or local (or
/// there is none). A name is on-link when the site's own zone gives it an
/// address on one of the node's networks.
/// A name without a trailing dot is also tried under `domain`: the netplan
/// the nodes get searches the site's domain (`search: [DOMAIN]`), so
/// `apt`, `r01n01` and `r01n01.mgmt` resolve as the zone's names do.
fn unreachable_repo<'a>(
    st: &'a Settings,
    on_link: &[ipnet::IpNet],
    domain: &str,
    names: &mut dyn FnMut() -> &'a BTreeMap<String, Vec<IpAddr>>,
) -> Option<(&'a str, Off)> {
    let near = |ip: &IpAddr| on_link.iter().any(|n| n.contains(ip));
    for h in st
        .repos
        .iter()
        .filter(|r| r.enabled.as_ref().is_none_or(|e| e.value))
        .flat_map(|r| &r.uris)
        .filter_map(|u| uri_host(u.as_str()))
    {
        if let Ok(ip) = h.parse::<IpAddr>() {
            if !near(&ip) {
                return Some((h, Off::Address));
            }
            continue;
        }
        let key = h.trim_end_matches('.').to_ascii_lowercase();
        let searched = (!h.ends_with('.') && !domain.is_empty()).then(|| format!("{key}.{domain}"));
        let names = names();
        let found = names
            .get(&key)
            .or_else(|| searched.as_ref().and_then(|k| names.get(k)));
        match found {
            Some(ips) if ips.iter().any(near) => {}
            Some(_) => return Some((h, Off::OwnName)),
            None => return Some((h, Off::Unknown)),
        }
    }
    None
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let site = cx.site;
    let gaps = super::Gaps::new(cx);
    let external = !site.bgp_peers.is_empty();
    let ra = site.networks.iter().all(|n| n.gateway6.is_none());
    // (network blamed, fate) → the nodes, and the first off-link host.
    let mut found: BTreeMap<(usize, Fate), (Vec<&str>, &str, Off)> = BTreeMap::new();
    // The site's own names, made once, when a repository is named.
    let names_cell = std::cell::OnceCell::new();
    let names_ref = &names_cell;
    let domain = site
        .site
        .as_ref()
        .map(|s| s.domain.value.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    for rn in &rs.nodes {
        let node = &site.nodes[rn.index];
        if gaps.node(cx, node) {
            continue;
        }
        let st = &rn.settings;
        // Addresses on an interface, with their network: management first,
        // as the netplan template picks the default route.
        let mut addrs: Vec<(usize, &Network, bool, bool)> = st
            .addresses
            .iter()
            .filter(|a| a.interface.is_some() && (a.ipv4.is_some() || a.ipv6.is_some()))
            .filter_map(|a| {
                let &i = cx.index.networks.get(a.network.as_str())?;
                Some((i, &site.networks[i], a.ipv4.is_some(), a.ipv6.is_some()))
            })
            .collect();
        if addrs.is_empty() {
            continue;
        }
        addrs.sort_by_key(|&(_, n, _, _)| n.purpose.value != Purpose::Management);
        let gateway = addrs
            .iter()
            .any(|&(_, n, v4, v6)| (v4 && n.gateway4.is_some()) || (v6 && n.gateway6.is_some()));
        // In a site that writes no IPv6 gateway, an IPv6 address may get
        // its default route from router advertisements (netplan leaves
        // them accepted off the uplinks), which `check` cannot see.
        if gateway || (ra && addrs.iter().any(|&(_, _, _, v6)| v6)) {
            continue;
        }
        let on_link: Vec<ipnet::IpNet> = addrs
            .iter()
            .flat_map(|&(_, n, v4, v6)| {
                let a = n.ipv4.as_ref().filter(|_| v4).map(|p| p.value.into());
                let b = n.ipv6.as_ref().filter(|_| v6).map(|p| p.value.into());
                a.into_iter().chain(b)
            })
            .collect();
        let routes = st.bgp.as_ref().is_some_and(|b| !b.sessions.is_empty());
        let installs = routes || !st.packages.is_empty();
        if !installs {
            continue;
        }
        let mut names = || names_ref.get_or_init(|| site_names(cx, rs));
        let Some((off, how)) = unreachable_repo(st, &on_link, &domain, &mut names) else {
            continue;
        };
        let fate = if routes && external {
            Fate::NoFrr
        } else {
            Fate::NoApt
        };
        let e = found
            .entry((addrs[0].0, fate))
            .or_insert_with(|| (Vec::new(), off, how));
        e.0.push(node.name.as_str());
    }
    for ((net, fate), (nodes, host, how)) in found {
        let n = &site.networks[net];
        let name = n.name.as_str();
        let who = format!(
            "{} {} {}",
            if nodes.len() == 1 { "node" } else { "nodes" },
            name_list(nodes.iter().copied(), 3),
            if nodes.len() == 1 { "gets" } else { "get" },
        );
        let gw = match (n.ipv4.is_some(), n.ipv6.is_some()) {
            (false, true) => "gateway6",
            _ => "gateway4",
        };
        let apt = match how {
            Off::Address => format!("first-boot apt cannot reach `{host}` (on none of the nodes' networks)"),
            Off::OwnName => format!("first-boot apt cannot reach `{host}` (the site's own zone gives it an address on none of the nodes' networks)"),
            Off::Unknown => format!("first-boot apt cannot reach `{host}` (a name the site does not declare, so `check` cannot tell whether it resolves to an address on one of the nodes' networks)"),
        };
        // How to state that a named mirror is on-link.
        let label = host
            .trim_end_matches('.')
            .to_ascii_lowercase()
            .strip_suffix(&format!(".{domain}"))
            .filter(|l| !l.contains('.') && !domain.is_empty())
            .map(str::to_string);
        let on_link_hint = match (how, label) {
            (Off::Unknown, Some(l)) => format!(
                "; if `{host}` is a mirror on `{name}`, declare that machine as node `{l}` with its address on `{name}` (the site's zone then gives `{host}` that address, and `check` knows it is on-link), or write its IP address in `uris`"
            ),
            _ => String::new(),
        };
        let at = n.name.span;
        let gw_line = super::written(
            cx,
            at,
            &format!("`{gw} \"ADDRESS\"`"),
            &format!("`{gw} = \"ADDRESS\"`"),
        );
        let uris_line = super::written(
            cx,
            at,
            "`uris \"http://ADDRESS/debian\"`",
            "`uris = [\"http://ADDRESS/debian\"]`",
        );
        let d = match fate {
            Fate::NoFrr => Diagnostic::error(
                Code::NodeNoDefaultRoute,
                format!(
                    "network `{name}` has no `{gw}`, and {who} a default route from no network: {apt}, so FRR is never installed and the BGP default route it would bring never comes: no route off the nodes' subnets, and no package installed"
                ),
            )
            .help(format!(
                "add {} (the router on the subnet) to network `{name}`: the default route it gives has a high metric, so the BGP default wins once FRR runs; or serve the apt repositories from an address on `{name}` ({}) so that FRR installs without a route{on_link_hint}",
                gw_line,
                uris_line,
            )),
            Fate::NoApt => Diagnostic::error(
                Code::NodeNoDefaultRoute,
                format!(
                    "network `{name}` has no `{gw}`, and {who} a default route from no network and none from BGP: {apt}, so no package is installed, and nothing beyond the nodes' own subnets is reachable"
                ),
            )
            .help(format!(
                "add {} (the router on the subnet) to network `{name}`; Kea then hands it out as `routers` too{on_link_hint}",
                gw_line,
            )),
        };
        diags.push(d.label(
            n.name.span,
            format!("no `{gw}`: no default route for its nodes"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;
    use super::uri_host;

    fn site(gateway: &str, repo: &str, bgp: &str) -> String {
        format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200000099"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; {gateway} }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/24"; reserved "10.255.0.1-10.255.0.9"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-8; interface swp8 {{ address "192.0.2.2/29"; }} }}
bgp-peer transit-a {{ asn 64496; address "192.0.2.1"; switches r01-tor1; }}
node r01n01 {{
    rack r01; position 1
    packages chrony
    {repo}
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno3 {{ mac "52:54:00:01:01:03"; }}
    address mgmt interface=eno3 ipv4="10.0.0.10"
    {bgp}
}}
"#
        )
    }

    fn found(text: &str) -> Vec<(String, String)> {
        check_kdl(text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC0639")
            .map(|d| (format!("{:?}", d.severity), d.message))
            .collect()
    }

    const DEBIAN: &str = r#"repo debian { types deb; uris "http://deb.debian.org/debian"; suites bookworm; components main; signed-by "/usr/share/keyrings/debian-archive-keyring.gpg"; }"#;
    const LOCAL: &str = r#"repo debian { types deb; uris "http://10.0.0.5/debian"; suites bookworm; components main; signed-by "/usr/share/keyrings/debian-archive-keyring.gpg"; }"#;
    const BGP: &str = "loopback ipv4=auto; bgp asn=auto { session r01-tor1 interface=eno1; }";

    #[test]
    fn a_mirror_named_in_the_site_zone_is_on_link() {
        let named = |host: &str| {
            LOCAL.replace(
                "http://10.0.0.5/debian",
                &format!("http://{host}:3142/debian"),
            )
        };
        let apt_node = r#"node apt { rack r01; position 3; interface eno1 { mac "52:54:00:01:03:01"; }; address mgmt interface=eno1 ipv4="10.0.0.5" }"#;
        // The site's own name at an address on the node's network.
        for host in [
            "apt.dc1.example.net",
            "APT.dc1.example.net.",
            "apt.mgmt.dc1.example.net",
            // Short names, as the nodes' resolver searches the site's domain.
            "apt",
            "apt.mgmt",
            "r01-tor1.dc1.example.net",
        ] {
            let text = format!("{}{apt_node}\n", site("", &named(host), BGP));
            let text = if host.starts_with("r01-tor1") {
                // The switch's loopback is on no network of the node.
                assert_eq!(found(&text).len(), 1, "{host}");
                continue;
            } else {
                text
            };
            assert!(found(&text).is_empty(), "{host}: {:?}", found(&text));
        }
        // An unknown name: the finding stays, and says how to pass.
        let d: Vec<_> = check_kdl(&site("", &named("apt.dc1.example.net"), BGP))
            .into_iter()
            .filter(|d| d.code.as_str() == "SC0639")
            .collect();
        assert_eq!(d.len(), 1);
        let help = d[0].help.as_deref().unwrap_or("");
        assert!(help.contains("as node `apt`"), "{help}");
    }

    #[test]
    fn a_gateway_is_a_default_route() {
        assert!(found(&site(r#"gateway4 "10.0.0.1";"#, DEBIAN, BGP)).is_empty());
        assert!(found(&site(r#"gateway4 "10.0.0.1";"#, DEBIAN, "")).is_empty());
    }

    #[test]
    fn without_a_gateway_apt_decides() {
        // No route to the mirror: FRR never installs, so no BGP default.
        let f = found(&site("", DEBIAN, BGP));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, "Error");
        assert!(
            f[0].1.contains("FRR is never installed") && f[0].1.contains("deb.debian.org"),
            "{}",
            f[0].1
        );
        // The same without BGP.
        let f = found(&site("", DEBIAN, ""));
        assert_eq!(f[0].0, "Error");
        // No repository: the image's own sources, which check cannot see.
        assert!(found(&site("", "", BGP)).is_empty());
        // An on-link mirror installs FRR, which brings the BGP default.
        assert!(found(&site("", LOCAL, BGP)).is_empty());
        // On-link mirror, no BGP: an isolated design, left alone.
        assert!(found(&site("", LOCAL, "")).is_empty());
        // An IPv6 address may get its default from router advertisements
        // in a site that writes no IPv6 gateway.
        let v6 = |gw: &str| {
            site(&format!(r#"ipv6 "2001:db8:0:100::/64"; {gw}"#), DEBIAN, "").replace(
                r#"ipv4="10.0.0.10""#,
                r#"ipv4="10.0.0.10" ipv6="2001:db8:0:100::10""#,
            )
        };
        assert!(found(&v6("")).is_empty());
        // One that does write them has no IPv6 router where it wrote none.
        let other = v6("").replace(
            "network loopback",
            r#"network public { purpose service; ipv6 "2001:db8:0:300::/64"; gateway6 "2001:db8:0:300::1"; }
network loopback"#,
        );
        assert_eq!(found(&other).len(), 1);
    }

    #[test]
    fn uri_hosts() {
        assert_eq!(
            uri_host("http://deb.debian.org/debian"),
            Some("deb.debian.org")
        );
        assert_eq!(uri_host("https://u:p@10.0.0.5:8080/x"), Some("10.0.0.5"));
        assert_eq!(uri_host("http://[2001:db8::5]:80/x"), Some("2001:db8::5"));
        assert_eq!(
            uri_host("mirror+http://m.example.net/list"),
            Some("m.example.net")
        );
        assert_eq!(uri_host("file:/srv/repo"), None);
    }
}
