//! What must be unique across the sites of one project: MAC addresses and
//! serial numbers always (one machine is racked in one cluster), FQDNs
//! always, and addresses and ASNs between sites that share a routing
//! domain (`routing-domain` in `[sites.NAME]`). Each site's own rules have
//! already reported duplicates inside it; here a value is reported once
//! per site it repeats in, against the first site (in name order) that
//! has it.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Site, SiteIndex};
use crate::resolve::effective::{fqdn, EffSite};
use crate::resolve::IpFamily;
use crate::resolve::Resolved;
use crate::syntax::Span;

/// The codes this check reports.
pub const CODES: &[Code] = &[
    Code::DuplicateMac,
    Code::DuplicateSerial,
    Code::DuplicateFqdn,
    Code::DuplicateIp,
    Code::DuplicateAsn,
    Code::BootinfraConflict,
    Code::BootServeCollision,
    Code::BootinfraDiscoversOthers,
    Code::GroupVarsAcrossSites,
    Code::BootServerOutside,
    Code::RoutingDomainOverlap,
    Code::RoutingDomainReverseZone,
    Code::DomainUnderOtherSite,
];

/// One site, as this check sees it.
pub struct SiteRef<'a> {
    pub name: &'a str,
    pub routing_domain: Option<&'a str>,
    pub site: &'a Site,
    pub index: &'a SiteIndex,
    pub resolved: &'a Resolved,
}

impl<'a> SiteRef<'a> {
    /// The site in effect: built only for sites that share a routing
    /// domain, whose addresses and ASNs in effect are compared.
    fn eff(&self) -> EffSite<'a> {
        crate::resolve::effective::site(self.site, self.index, self.resolved)
    }
}

/// What holds a value, for messages: formatted only for a finding, so
/// that walking a fleet allocates nothing per interface.
#[derive(Clone, Copy)]
enum What<'a> {
    Interface(&'a str, &'a str),
    Node(&'a str),
    Switch(&'a str),
    Address(&'a str, &'a str),
    Loopback(&'a str),
    SwitchLoopback(&'a str),
    Gateway(&'a str),
    SwitchPort(&'a str, &'a str),
    Peer(&'a str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Interface(n, i) => write!(f, "`{n}` {i}"),
            What::Node(n) => write!(f, "node `{n}`"),
            What::Switch(n) => write!(f, "switch `{n}`"),
            What::Address(n, net) => write!(f, "`{n}` on {net}"),
            What::Loopback(n) => write!(f, "`{n}` loopback"),
            What::SwitchLoopback(n) => write!(f, "switch `{n}` loopback"),
            What::Gateway(n) => write!(f, "gateway of network `{n}`"),
            What::SwitchPort(s, p) => write!(f, "switch `{s}` routed port `{p}`"),
            What::Peer(n) => write!(f, "external BGP peer `{n}`"),
        }
    }
}

/// A value held somewhere in a site: the site, what holds it, where.
struct Holder<'a> {
    site: &'a str,
    what: What<'a>,
    span: Span,
}

/// The first holder of every value per site, in site order.
struct Seen<'a, K> {
    by_value: HashMap<K, Vec<Holder<'a>>>,
}

impl<'a, K: Hash + Eq + Ord + Clone> Seen<'a, K> {
    fn new() -> Self {
        Seen {
            by_value: HashMap::new(),
        }
    }

    fn add(&mut self, value: K, site: &'a str, what: What<'a>, span: Span) {
        let list = self.by_value.entry(value).or_default();
        // One holder per site: duplicates inside a site are its own rules'.
        if !list.iter().any(|h| h.site == site) {
            list.push(Holder { site, what, span });
        }
    }

    /// Values held in more than one site, in value order.
    fn repeated(self) -> BTreeMap<K, Vec<Holder<'a>>> {
        self.by_value
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .collect()
    }
}

fn report<K>(
    diags: &mut Diagnostics,
    seen: BTreeMap<K, Vec<Holder>>,
    code: Code,
    message: impl Fn(&K, &Holder, &Holder) -> String,
    help: &str,
) {
    for (value, holders) in seen {
        let first = &holders[0];
        for h in &holders[1..] {
            let d = if code.default_severity() == crate::diag::Severity::Error {
                Diagnostic::error(code, message(&value, h, first))
            } else {
                Diagnostic::warning(code, message(&value, h, first))
            };
            diags.push(
                d.label(h.span, format!("{} in site `{}`", h.what, h.site))
                    .label(
                        first.span,
                        format!("{} in site `{}`", first.what, first.site),
                    )
                    .help(help.to_string()),
            );
        }
    }
}

/// Reports what repeats across `sites` (given in name order), and what
/// keeps the sites of one bootinfra (`bootinfra`: its name and the sites
/// it serves) from sharing it.
pub fn check(sites: &[SiteRef], bootinfra: &[(&str, Vec<&str>)], diags: &mut Diagnostics) {
    for (name, served) in bootinfra {
        let members: Vec<&SiteRef> = sites.iter().filter(|s| served.contains(&s.name)).collect();
        shared_boot(name, &members, diags);
        discovers_others(name, &members, diags);
        if members.len() > 1 {
            servers_outside(&members, diags);
        }
    }
    if sites.len() < 2 {
        return;
    }
    boot_services(sites, bootinfra, diags);
    nested_domains(sites, bootinfra, diags);
    let mut macs = Seen::new();
    let mut serials = Seen::new();
    let mut fqdns = Seen::new();
    for s in sites {
        let domain = s.site.domain();
        for rn in &s.resolved.nodes {
            let node = &s.site.nodes[rn.index];
            let name = node.name.as_str();
            for i in &rn.settings.interfaces {
                if let Some(m) = &i.mac {
                    macs.add(
                        m.value,
                        s.name,
                        What::Interface(name, i.name.as_str()),
                        m.span,
                    );
                }
            }
            if let Some(serial) = &node.serial {
                serials.add(serial.value.clone(), s.name, What::Node(name), serial.span);
            }
            fqdns.add(
                fqdn(name, domain).to_ascii_lowercase(),
                s.name,
                What::Node(name),
                node.name.span,
            );
        }
        for sw in &s.site.switches {
            let name = sw.name.as_str();
            fqdns.add(
                fqdn(name, domain).to_ascii_lowercase(),
                s.name,
                What::Switch(name),
                sw.name.span,
            );
        }
    }
    report(
        diags,
        macs.repeated(),
        Code::DuplicateMac,
        |mac, h, first| {
            format!(
                "MAC {mac} is declared in site `{}` and in site `{}`",
                h.site, first.site
            )
        },
        "one machine is racked in one site: correct the MAC of the machine that is not this one",
    );
    report(
        diags,
        serials.repeated(),
        Code::DuplicateSerial,
        |serial, h, first| {
            format!(
                "serial `{serial}` is given in site `{}` and in site `{}`",
                h.site, first.site
            )
        },
        "a serial identifies one machine: fill in the right serial of one of them",
    );
    report(
        diags,
        fqdns.repeated(),
        Code::DuplicateFqdn,
        |fqdn, h, first| {
            format!(
                "`{fqdn}` is a device of site `{}` and of site `{}`",
                h.site, first.site
            )
        },
        "give the sites different domains, or rename one of the devices",
    );
    routing_domains(sites, bootinfra, diags);
    group_vars(sites, diags);
}

/// A group's variables and children as one site gives them: its `group`
/// block's, or none when it only has members there.
type GroupVars<'a> = Option<(
    &'a crate::model::Group,
    BTreeMap<&'a str, &'a serde_json::Value>,
    std::collections::BTreeSet<String>,
)>;

/// An Ansible group of the same name in two sites with different variables
/// or children. The inventory of every site (`siteconf inventory --list`,
/// what Ansible runs) has one group of that name, with one set of
/// variables (the first site's: the other site's hosts would get them)
/// and the children of every site joined (a site that leaves `storage` out
/// of its `fleet` would still have its storage hosts in `fleet`, and in
/// `fleet:&site_b`). A group is in a site when it declares the group or a
/// node there joins it; `all` is in every site (its children are every
/// group anyway).
fn group_vars(sites: &[SiteRef], diags: &mut Diagnostics) {
    use crate::model::names::group_name;
    let mut by_group: BTreeMap<String, Vec<(&str, GroupVars)>> = BTreeMap::new();
    for s in sites {
        let mut here: BTreeMap<String, GroupVars> = BTreeMap::new();
        here.insert("all".into(), None);
        for rn in &s.resolved.nodes {
            for g in &rn.settings.groups {
                here.entry(group_name(g.as_str())).or_insert(None);
            }
        }
        for g in &s.site.groups {
            let vars = g
                .vars
                .entries
                .iter()
                .map(|(k, (v, _))| (k.as_str(), v))
                .collect();
            let children = g
                .children
                .iter()
                .map(|c| group_name(c.as_str()))
                .filter(|c| c != "all")
                .collect();
            here.insert(group_name(g.name.as_str()), Some((g, vars, children)));
        }
        for (name, vars) in here {
            by_group.entry(name).or_default().push((s.name, vars));
        }
    }
    fn vars_of<'a>(v: &GroupVars<'a>) -> BTreeMap<&'a str, &'a serde_json::Value> {
        v.as_ref().map(|(_, m, _)| m.clone()).unwrap_or_default()
    }
    fn children_of(v: &GroupVars) -> std::collections::BTreeSet<String> {
        v.as_ref().map(|(_, _, c)| c.clone()).unwrap_or_default()
    }
    for (name, in_sites) in by_group {
        let Some((first_site, first)) = in_sites.first() else {
            continue;
        };
        let base = vars_of(first);
        let base_children = if name == "all" {
            Default::default()
        } else {
            children_of(first)
        };
        for (site, vars) in &in_sites[1..] {
            // Point at a `group` block that sets them: this site's, else
            // the first site's.
            let Some((g, _, _)) = vars.as_ref().or(first.as_ref()) else {
                continue;
            };
            if vars_of(vars) != base {
                diags.push(
                    Diagnostic::error(
                        Code::GroupVarsAcrossSites,
                        format!(
                            "group `{name}` has different variables in site `{first_site}` and in site `{site}`"
                        ),
                    )
                    .label(g.name.span, "variables of this group")
                    .help(format!(
                        "the inventory of every site (`siteconf inventory --list`) has one group `{name}`, with one set of variables, which the other site's hosts would get: give the group one set of variables in the shared definitions, or a name per site (`{name}_{site}`)"
                    )),
                );
            }
            if name == "all" {
                continue;
            }
            let children = children_of(vars);
            if children == base_children {
                continue;
            }
            let only = |a: &std::collections::BTreeSet<String>,
                        b: &std::collections::BTreeSet<String>| {
                a.difference(b)
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (extra, missing) = (
                only(&base_children, &children),
                only(&children, &base_children),
            );
            // The site that leaves children out gets their hosts anyway.
            let mut what = Vec::new();
            let mut leaks = Vec::new();
            if !extra.is_empty() {
                what.push(format!("{extra} only in site `{first_site}`"));
                leaks.push(format!("site `{site}`'s hosts of {extra}"));
            }
            if !missing.is_empty() {
                what.push(format!("{missing} only in site `{site}`"));
                leaks.push(format!("site `{first_site}`'s hosts of {missing}"));
            }
            let at = |g: &crate::model::Group| g.children.first().map_or(g.name.span, |c| c.span);
            // The site that leaves a child out first: the override, usually.
            let mut blocks = [(*site, vars), (*first_site, first)];
            if !missing.is_empty() {
                blocks.swap(0, 1);
            }
            let mut d = Diagnostic::error(
                Code::GroupVarsAcrossSites,
                format!(
                    "group `{name}` has different children in site `{first_site}` and in site `{site}` ({})",
                    what.join("; ")
                ),
            );
            for (bsite, b) in blocks {
                if let Some((g, _, _)) = b {
                    d = d.label(at(g), format!("children of `{name}` in site `{bsite}`"));
                }
            }
            diags.push(d.help(format!(
                "the inventory of every site (`siteconf inventory --list`) has one group `{name}` whose children are every site's joined, so {} are in `{name}` after all (`{name}:&site_{}` matches them too): give the group one list of children in the shared definitions, or a name per site (`{name}_{site}`)",
                leaks.join(", and "),
                if missing.is_empty() { site } else { first_site }
            )));
        }
    }
}

/// SC0065: a site whose domain is under another site's (`b.a.example.net`
/// under `a.example.net`). Each site's zone is its own file on its own
/// `dns-servers`, and a site's zone holds no NS records for names below
/// it: a's servers, authoritative for `a.example.net`, answer NXDOMAIN
/// for b's names, and a resolver that reaches them first never learns of
/// b's zone. Not reported when the same servers hold both zones (one
/// bootinfra serves both sites, or the sites have the same `dns-servers`):
/// a server answers from the closest zone it holds. A delegation in a's
/// zone is not written: a site's files are made from that site alone.
fn nested_domains(sites: &[SiteRef], bootinfra: &[(&str, Vec<&str>)], diags: &mut Diagnostics) {
    let domain = |s: &SiteRef| s.site.domain().trim_end_matches('.').to_ascii_lowercase();
    let servers = |s: &SiteRef| {
        let mut v: Vec<IpAddr> = s
            .site
            .site
            .as_ref()
            .map(|i| i.dns_servers.iter().map(|d| d.value).collect())
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    };
    for outer in sites {
        let od = domain(outer);
        if od.is_empty() {
            continue;
        }
        for inner in sites {
            let id = domain(inner);
            if inner.name == outer.name || !id.ends_with(&format!(".{od}")) {
                continue;
            }
            let one_bootinfra = bootinfra
                .iter()
                .any(|(_, serves)| serves.contains(&outer.name) && serves.contains(&inner.name));
            if one_bootinfra || servers(outer) == servers(inner) {
                continue;
            }
            let (Some(oi), Some(ii)) = (outer.site.site.as_ref(), inner.site.site.as_ref()) else {
                continue;
            };
            diags.push(
                Diagnostic::warning(
                    Code::DomainUnderOtherSite,
                    format!(
                        "site `{}`'s domain `{id}` is under site `{}`'s domain `{od}`, whose zone does not delegate it",
                        inner.name, outer.name
                    ),
                )
                .label(ii.domain.span, format!("site `{}`", inner.name))
                .label(oi.domain.span, format!("site `{}`: its zone has no NS records for `{id}`", outer.name))
                .help(format!(
                    "site `{}`'s DNS servers are authoritative for `{od}` and answer NXDOMAIN for every name of site `{}` (its nodes' and switches' FQDNs, which its inventory names hosts by); siteconf writes each site's zone from that site alone: give site `{}` a domain outside `{od}`, serve both zones from the same servers (one bootinfra, or the same `dns-servers`), or write the delegation (NS records for `{id}`, with glue) in an override of `site/dns/forward.zone.j2`",
                    outer.name, inner.name, inner.name
                )),
            );
        }
    }
}

/// Addresses and ASNs of sites that share a routing domain.
fn routing_domains(sites: &[SiteRef], bootinfra: &[(&str, Vec<&str>)], diags: &mut Diagnostics) {
    let mut domains: BTreeMap<&str, Vec<&SiteRef>> = BTreeMap::new();
    for s in sites {
        if let Some(d) = s.routing_domain {
            domains.entry(d).or_default().push(s);
        }
    }
    for (domain, members) in domains {
        if members.len() < 2 {
            continue;
        }
        let mut ips = Seen::new();
        let mut asns = Seen::new();
        let effs: Vec<(&str, EffSite)> = members.iter().map(|s| (s.name, s.eff())).collect();
        for (site_name, eff) in &effs {
            let s_name: &str = site_name;
            for n in &eff.nodes {
                for a in &n.addresses {
                    for f in IpFamily::BOTH {
                        if let (Some((ip, _)), Some(span)) = (a.ip(f), a.span(f)) {
                            ips.add(ip, s_name, What::Address(n.name, a.network), span);
                        }
                    }
                }
                if let Some(l) = n.loopback4 {
                    ips.add(IpAddr::V4(l.value), s_name, What::Loopback(n.name), l.span);
                }
                if let Some(l) = n.loopback6 {
                    ips.add(IpAddr::V6(l.value), s_name, What::Loopback(n.name), l.span);
                }
                if let Some(a) = n.asn {
                    asns.add(a.value, s_name, What::Node(n.name), a.span);
                }
            }
            for sw in &eff.switches {
                let d = sw.decl;
                if let Some(l) = &d.loopback4 {
                    ips.add(
                        IpAddr::V4(l.value),
                        s_name,
                        What::SwitchLoopback(sw.name),
                        l.span,
                    );
                }
                if let Some(l) = &d.loopback6 {
                    ips.add(
                        IpAddr::V6(l.value),
                        s_name,
                        What::SwitchLoopback(sw.name),
                        l.span,
                    );
                }
                if let Some(a) = &d.asn {
                    asns.add(a.value, s_name, What::Switch(sw.name), a.span);
                }
                for i in &d.interfaces {
                    for a in &i.addresses {
                        ips.add(
                            a.value.addr(),
                            s_name,
                            What::SwitchPort(sw.name, i.port.as_str()),
                            a.span,
                        );
                    }
                }
            }
            for n in &eff.site.networks {
                let name = n.name.as_str();
                if let Some(g) = &n.gateway4 {
                    ips.add(IpAddr::V4(g.value), s_name, What::Gateway(name), g.span);
                }
                // A link-local gateway (`fe80::1`) is an address of each
                // link, as within a site.
                if let Some(g) = n
                    .gateway6
                    .as_ref()
                    .filter(|g| g.value.segments()[0] & 0xffc0 != 0xfe80)
                {
                    ips.add(IpAddr::V6(g.value), s_name, What::Gateway(name), g.span);
                }
            }
        }
        // External peers: one provider's router may well peer with two
        // sites at one address (one transit LAN in one building, each
        // site's switches at their own addresses of it), so two sites'
        // peers at one address are no duplicate; a peer at an address
        // another site gives its own device is. (Two sites on one
        // transit LAN that also copied the switch ports' addresses are
        // reported at the ports.)
        for (site_name, eff) in &effs {
            for p in &eff.site.bgp_peers {
                let h = Holder {
                    site: site_name,
                    what: What::Peer(p.name.as_str()),
                    span: p.address.span,
                };
                let ip = p.address.value;
                let Some(first) = ips
                    .by_value
                    .get(&ip)
                    .and_then(|l| l.iter().find(|h| h.site != *site_name))
                else {
                    continue;
                };
                diags.push(
                    Diagnostic::error(
                        Code::DuplicateIp,
                        format!(
                            "{ip} is used in site `{}` and in site `{}` (routing domain `{domain}`)",
                            h.site, first.site
                        ),
                    )
                    .label(h.span, format!("{} in site `{}`", h.what, h.site))
                    .label(first.span, format!("{} in site `{}`", first.what, first.site))
                    .help("an external peer's address is the far end's, outside the fabric: no device of a site that routes to this one may have it; check the address the provider gave you"),
                );
            }
        }
        let help = format!(
            "sites `{}` share routing domain `{domain}`: give them disjoint prefixes, pools and ASN pools, or put them in different routing domains if they never route to each other",
            members.iter().map(|s| s.name).collect::<Vec<_>>().join("`, `")
        );
        report(
            diags,
            ips.repeated(),
            Code::DuplicateIp,
            |ip, h, first| {
                format!(
                    "{ip} is used in site `{}` and in site `{}` (routing domain `{domain}`)",
                    h.site, first.site
                )
            },
            &help,
        );
        report(
            diags,
            asns.repeated(),
            Code::DuplicateAsn,
            |asn, h, first| {
                format!(
                    "ASN {asn} is used in site `{}` and in site `{}` (routing domain `{domain}`)",
                    h.site, first.site
                )
            },
            &help,
        );
        prefixes(domain, &members, bootinfra, diags);
    }
}

/// SC1219 for two sites of one routing domain with overlapping prefixes:
/// each site's nodes have its prefix on-link, so they look for the other
/// site's addresses in it on their own link (ARP, neighbour discovery)
/// and never reach them through the router; and each site writes the
/// reverse zone of its prefix with only its own PTRs. SC0064 (a warning)
/// for prefixes that do not overlap but share a reverse zone (a /25 each
/// of one /24): routing works, reverse lookups of one site fail. Sites
/// one bootinfra serves are SC1207's, which refuses both.
fn prefixes(
    domain: &str,
    members: &[&SiteRef],
    bootinfra: &[(&str, Vec<&str>)],
    diags: &mut Diagnostics,
) {
    use ipnet::IpNet;
    fn nets(s: &crate::model::Site) -> Vec<(&str, IpNet, Span)> {
        s.networks
            .iter()
            .flat_map(|n| {
                let v4 = n.ipv4.as_ref().map(|p| (IpNet::V4(p.value), p.span));
                let v6 = n.ipv6.as_ref().map(|p| (IpNet::V6(p.value), p.span));
                [v4, v6]
                    .into_iter()
                    .flatten()
                    .map(|(p, sp)| (n.name.as_str(), p, sp))
            })
            .collect()
    }
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            if bootinfra
                .iter()
                .any(|(_, serves)| serves.contains(&a.name) && serves.contains(&b.name))
            {
                continue;
            }
            for (na, pa, spa) in nets(a.site) {
                for (nb, pb, spb) in nets(b.site) {
                    if !(pa.contains(&pb.network()) || pb.contains(&pa.network())) {
                        continue;
                    }
                    diags.push(
                        Diagnostic::error(
                            Code::RoutingDomainOverlap,
                            format!(
                                "network `{nb}` of site `{}` ({pb}) overlaps network `{na}` of site `{}` ({pa}), and both sites are in routing domain `{domain}`",
                                b.name, a.name
                            ),
                        )
                        .label(spb, format!("site `{}`", b.name))
                        .label(spa, format!("site `{}`", a.name))
                        .help(
                            "each site's nodes have their prefix on-link: they look for the other site's addresses in it on their own link and never reach them through the router, and both sites write the reverse zone of the prefix with only their own PTRs; give the sites disjoint prefixes, or put them in different routing domains if they never route to each other",
                        ),
                    );
                }
            }
            let warn = |msg: String| {
                Diagnostic::warning(
                    Code::RoutingDomainReverseZone,
                    format!("routing domain `{domain}`: {msg}"),
                )
            };
            reverse_zones(
                &warn,
                "each with only its own PTR records: whichever site's DNS servers the routing domain asks for the zone answer NXDOMAIN for the other site's addresses",
                (a.name, a.site),
                (b.name, b.site),
                diags,
            );
        }
    }
}

/// The sites of one bootinfra share one Kea, one set of zones and one
/// boot service: no prefix of one may overlap a prefix of another (one
/// subnet or reverse zone for two sites), their domains differ (one
/// forward zone each), and their `boot` blocks name the same servers and
/// base URL.
fn shared_boot(name: &str, sites: &[&SiteRef], diags: &mut Diagnostics) {
    let conflict = |msg: String| {
        Diagnostic::error(
            Code::BootinfraConflict,
            format!("bootinfra `{name}`: {msg}"),
        )
    };
    for (i, a) in sites.iter().enumerate() {
        for b in &sites[i + 1..] {
            let (sa, sb) = (a.site, b.site);
            for na in &sa.networks {
                for nb in &sb.networks {
                    let pairs = [
                        (
                            na.ipv4
                                .as_ref()
                                .map(|p| (ipnet::IpNet::V4(p.value), p.span)),
                            nb.ipv4
                                .as_ref()
                                .map(|p| (ipnet::IpNet::V4(p.value), p.span)),
                        ),
                        (
                            na.ipv6
                                .as_ref()
                                .map(|p| (ipnet::IpNet::V6(p.value), p.span)),
                            nb.ipv6
                                .as_ref()
                                .map(|p| (ipnet::IpNet::V6(p.value), p.span)),
                        ),
                    ];
                    for (x, y) in pairs {
                        let (Some((px, spx)), Some((py, spy))) = (x, y) else {
                            continue;
                        };
                        if px.contains(&py.network()) || py.contains(&px.network()) {
                            diags.push(
                                conflict(format!(
                                    "network `{}` of site `{}` ({py}) overlaps network `{}` of site `{}` ({px})",
                                    nb.name.value, b.name, na.name.value, a.name
                                ))
                                .label(spy, format!("site `{}`", b.name))
                                .label(spx, format!("site `{}`", a.name))
                                .help("one Kea and one set of reverse zones cannot hold both: give the sites disjoint prefixes, or separate bootinfras"),
                            );
                            // One finding per pair of networks (not
                            // again for their IPv6 prefixes); every pair
                            // that overlaps is reported.
                            break;
                        }
                    }
                }
            }
            // The zone file is named without the root's dot.
            let (da, db) = (
                sa.domain().trim_end_matches('.'),
                sb.domain().trim_end_matches('.'),
            );
            if !da.is_empty() && da.eq_ignore_ascii_case(db) {
                let span = |s: &crate::model::Site| s.site.as_ref().map(|i| i.domain.span);
                let mut d = conflict(format!("sites `{}` and `{}` have the same domain `{da}`", a.name, b.name))
                    .help("a bootinfra serves one forward zone per site: give each site its own domain (`lab.example.net`)");
                if let Some(sp) = span(sb) {
                    d = d.label(sp, format!("site `{}`", b.name));
                }
                if let Some(sp) = span(sa) {
                    d = d.label(sp, format!("site `{}`", a.name));
                }
                diags.push(d);
            }
            if let (Some(ba), Some(bb)) = (sa.boot(), sb.boot()) {
                let servers =
                    |b: &crate::model::Boot| b.servers.iter().map(|s| s.value).collect::<Vec<_>>();
                let at = |b: &crate::model::Boot, s: &crate::model::Site| {
                    b.servers
                        .first()
                        .map(|s| s.span)
                        .unwrap_or_else(|| s.site.as_ref().map(|i| i.span).unwrap_or(b.span))
                };
                // The base URL in effect (the first server's when not
                // given, without a trailing slash): what Kea's client
                // classes and the unknown-MAC script carry.
                if servers(ba) != servers(bb) || ba.base_url() != bb.base_url() {
                    diags.push(
                        conflict(format!(
                            "the `boot` blocks of sites `{}` and `{}` name different servers or base URLs",
                            a.name, b.name
                        ))
                        .label(at(bb, sb), format!("site `{}`", b.name))
                        .label(at(ba, sa), format!("site `{}`", a.name))
                        .help("the sites of one bootinfra boot from its hosts: give their `boot` blocks the same `servers` and `base-url`"),
                    );
                }
                unknown_machines(&conflict, (a.name, ba), (b.name, bb), diags);
            }
            reverse_zones(
                &conflict,
                "and the bootinfra serves one",
                (a.name, sa),
                (b.name, sb),
                diags,
            );
        }
    }
}

/// The one `unknown.ipxe` of a bootinfra: every served site's script for
/// unknown MACs must be the same file (`render::bootinfra::join` refuses
/// two), so their `unknown` policies, and with `"discover"` their
/// discovery images, must agree.
fn unknown_machines(
    conflict: &dyn Fn(String) -> Diagnostic,
    (an, ba): (&str, &crate::model::Boot),
    (bn, bb): (&str, &crate::model::Boot),
    diags: &mut Diagnostics,
) {
    use crate::model::UnknownPolicy;
    // Not written: the default, shown at the block's first server.
    let policy_at = |b: &crate::model::Boot| match &b.unknown {
        Some(u) => u.span,
        None => b.servers.first().map_or(b.span, |s| s.span),
    };
    let policy_label = |n: &str, b: &crate::model::Boot| match &b.unknown {
        Some(_) => format!("site `{n}`: {}", b.unknown().as_str()),
        None => format!(
            "site `{n}`: {} (no `unknown`: the default)",
            b.unknown().as_str()
        ),
    };
    if ba.unknown() != bb.unknown() {
        diags.push(
            conflict(format!(
                "sites `{an}` and `{bn}` handle unknown machines differently (`unknown \"{}\"` and `unknown \"{}\"`)",
                ba.unknown().as_str(),
                bb.unknown().as_str()
            ))
            .label(policy_at(bb), policy_label(bn, bb))
            .label(policy_at(ba), policy_label(an, ba))
            .help("the bootinfra serves one `unknown.ipxe` to every unknown machine, whichever site it is racked in: give the sites' `boot` blocks the same `unknown` (and `discovery-image`)"),
        );
        return;
    }
    if ba.unknown() != UnknownPolicy::Discover {
        return;
    }
    // What the script is made of: the image's name, kernel, initrds,
    // arguments (and root, which a template may read).
    let image = |b: &crate::model::Boot| {
        let i = b.discovery_image.as_ref().and_then(|n| b.image(&n.value))?;
        Some((
            i.name.value.clone(),
            i.kernel.value.clone(),
            i.initrds
                .iter()
                .map(|x| x.value.clone())
                .collect::<Vec<_>>(),
            i.args.as_ref().map(|x| x.value.trim().to_string()),
            i.root.as_ref().map(|x| x.value.clone()),
        ))
    };
    let (ia, ib) = (image(ba), image(bb));
    // No image on either side is SC1203's (or SC1201's).
    if ia.is_none() || ib.is_none() || ia == ib {
        return;
    }
    let image_at = |b: &crate::model::Boot| {
        b.discovery_image
            .as_ref()
            .and_then(|n| b.image(&n.value))
            .map_or(b.span, |i| i.name.span)
    };
    diags.push(
        conflict(format!(
            "sites `{an}` and `{bn}` discover unknown machines with different images"
        ))
        .label(image_at(bb), format!("site `{bn}`'s discovery image"))
        .label(image_at(ba), format!("site `{an}`'s discovery image"))
        .help("the bootinfra serves one `unknown.ipxe`, which boots one discovery image: give the sites the same image (name, kernel, initrds, args, root), e.g. in the shared definitions"),
    );
}

/// Two networks of different sites whose reverse zones are one: prefixes
/// longer than a zone (an IPv4 /25 in its /24, an IPv6 /126 in its /124)
/// that do not overlap but share the covering zone. Each site renders its
/// own file of that zone, and the bootinfra can serve only one.
fn reverse_zones(
    conflict: &dyn Fn(String) -> Diagnostic,
    why: &str,
    (an, sa): (&str, &crate::model::Site),
    (bn, sb): (&str, &crate::model::Site),
    diags: &mut Diagnostics,
) {
    use ipnet::{IpNet, Ipv4Net, Ipv6Net};
    // The covering zone of a prefix longer than the longest zone.
    let zone = |p: IpNet| -> Option<IpNet> {
        match p {
            IpNet::V4(n) if n.prefix_len() > 24 => Ipv4Net::new(n.network(), 24)
                .ok()
                .map(|z| IpNet::V4(z.trunc())),
            IpNet::V6(n) if n.prefix_len() > 124 => Ipv6Net::new(n.network(), 124)
                .ok()
                .map(|z| IpNet::V6(z.trunc())),
            _ => None,
        }
    };
    let prefixes = |s: &'_ crate::model::Site| -> Vec<(String, IpNet, Span)> {
        s.networks
            .iter()
            .flat_map(|n| {
                let v4 = n.ipv4.as_ref().map(|p| (IpNet::V4(p.value), p.span));
                let v6 = n.ipv6.as_ref().map(|p| (IpNet::V6(p.value), p.span));
                [v4, v6]
                    .into_iter()
                    .flatten()
                    .map(|(p, sp)| (n.name.value.clone(), p, sp))
            })
            .collect()
    };
    let (pa, pb) = (prefixes(sa), prefixes(sb));
    for (na, xa, spa) in &pa {
        let Some(za) = zone(*xa) else { continue };
        for (nb, xb, spb) in &pb {
            // Overlapping prefixes are reported above.
            if zone(*xb) != Some(za) || xa.contains(&xb.network()) || xb.contains(&xa.network()) {
                continue;
            }
            diags.push(
                conflict(format!(
                    "network `{nb}` of site `{bn}` ({xb}) and network `{na}` of site `{an}` ({xa}) share the reverse zone {}",
                    zone_name(za)
                ))
                .label(*spb, format!("site `{bn}`"))
                .label(*spa, format!("site `{an}`"))
                .help(format!(
                    "reverse zones are cut at octets (nibbles in IPv6): both sites render their own `{}` zone file, {why}; give the sites prefixes in different {} blocks",
                    zone_name(za),
                    if za.addr().is_ipv4() { "/24" } else { "/124" }
                )),
            );
        }
    }
}

/// `0.0.10.in-addr.arpa` for 10.0.0.0/24; nibbles for IPv6.
fn zone_name(z: ipnet::IpNet) -> String {
    match z {
        ipnet::IpNet::V4(n) => {
            let o = n.network().octets();
            let k = usize::from(n.prefix_len() / 8);
            let mut l: Vec<String> = o[..k].iter().rev().map(u8::to_string).collect();
            l.push("in-addr.arpa".into());
            l.join(".")
        }
        ipnet::IpNet::V6(n) => {
            let bits = u128::from(n.network());
            let k = usize::from(n.prefix_len() / 4);
            let mut l: Vec<String> = (0..k)
                .rev()
                .map(|i| format!("{:x}", (bits >> (124 - 4 * i)) & 0xf))
                .collect();
            l.push("ip6.arpa".into());
            l.join(".")
        }
    }
}

/// Two sites whose boot services would share a boot server and port.
/// Each site's `site/boot/nginx.conf` is a whole nginx instance of its own,
/// listening on the base URL's port on every address of the host: the
/// second cannot bind, and one base URL cannot tell one site's
/// `nodes/<node>/` seeds from the other's (node names repeat across
/// sites). With one `serve-dir` too, the second deployment would also
/// overwrite the first's files. The sites of one bootinfra share their boot
/// servers and base URL (SC1207), and a bootinfra joins DHCP, DNS and the
/// iPXE scripts but not the seed service: only one of them can have a
/// boot service, which the message says.
fn boot_services(sites: &[SiteRef], bootinfras: &[(&str, Vec<&str>)], diags: &mut Diagnostics) {
    use crate::model::names::url_port;
    struct Service<'a> {
        site: &'a str,
        boot: &'a crate::model::Boot,
        serve_dir: String,
        port: u16,
    }
    let services: Vec<Service> = sites
        .iter()
        .filter_map(|s| {
            let boot = s.site.boot()?;
            let base = boot.base_url()?;
            let serve_dir = boot
                .serve_dir
                .as_ref()
                .map(|d| match d.value.trim_end_matches('/') {
                    "" => "/".to_string(),
                    t => t.to_string(),
                })
                .unwrap_or_else(|| crate::model::DEFAULT_SERVE_DIR.to_string());
            Some(Service {
                site: s.name,
                boot,
                serve_dir,
                port: url_port(&base),
            })
        })
        .collect();
    for (i, a) in services.iter().enumerate() {
        for b in &services[i + 1..] {
            if a.port != b.port {
                continue;
            }
            let Some(host) = b
                .boot
                .servers
                .iter()
                .find(|x| a.boot.servers.iter().any(|y| y.value == x.value))
            else {
                continue;
            };
            let server_at = |s: &Service| {
                s.boot
                    .servers
                    .iter()
                    .find(|x| x.value == host.value)
                    .map_or(s.boot.span, |x| x.span)
            };
            let label = |s: &Service| {
                format!(
                    "site `{}`: its nginx on port {} of {}, serving {}",
                    s.site, s.port, host.value, s.serve_dir
                )
            };
            let shared = bootinfras
                .iter()
                .find(|(_, serves)| serves.contains(&a.site) && serves.contains(&b.site));
            let (message, help) = match shared {
                Some((name, _)) => (
                    format!(
                        "bootinfra `{name}` serves sites `{}` and `{}`, which both declare a boot service: both would run their seed and script HTTP service on port {} of boot server {}",
                        a.site, b.site, a.port, host.value
                    ),
                    format!(
                        "a bootinfra joins the sites' DHCP, DNS and iPXE scripts, but each site's boot HTTP service (`site/boot/nginx.conf`) is a whole nginx instance of its own: the second cannot bind port {}, and the one base URL the bootinfra's sites share (SC1207) cannot tell one site's `nodes/<node>/` seeds from the other's, so the second site's machines would boot without their identity; declare `boot` in one of the sites this bootinfra serves, or give the other site a bootinfra (and boot servers) of its own",
                        a.port
                    ),
                ),
                None => (
                    format!(
                        "sites `{}` and `{}` both run their boot HTTP service on port {} of boot server {}",
                        a.site, b.site, a.port, host.value
                    ),
                    format!(
                        "each site's `site/boot/nginx.conf` is a whole nginx instance listening on every address of the host: the second cannot bind port {}{}; give one site other boot servers, or another port in its `base-url`",
                        a.port,
                        if a.serve_dir == b.serve_dir {
                            format!(", and with one `serve-dir` ({}) the second deployment would overwrite the first's seeds and scripts", a.serve_dir)
                        } else {
                            String::new()
                        }
                    ),
                ),
            };
            diags.push(
                Diagnostic::error(Code::BootServeCollision, message)
                    .label(server_at(b), label(b))
                    .label(server_at(a), label(a))
                    .help(help),
            );
        }
    }
}

/// SC1208 for the sites of one bootinfra that serves several: a boot
/// server counts as declared when a network of any of those sites holds
/// it. They share their boot servers (SC1207) and have disjoint prefixes,
/// so a server can be in one site's network only: the lab whose `boot`
/// names the server on production's management network is the normal
/// case, not a typo. (The per-site rule leaves these sites to this check,
/// `Ctx::shared_boot`.)
fn servers_outside(sites: &[&SiteRef], diags: &mut Diagnostics) {
    use super::rules::boot_servers::{networks_unknown, outside};
    if sites.iter().any(|s| networks_unknown(s.site)) {
        return;
    }
    let names: Vec<&str> = sites.iter().map(|s| s.name).collect();
    for s in sites {
        let Some(boot) = s.site.boot() else {
            continue;
        };
        for server in &boot.servers {
            let held = sites.iter().any(|o| {
                o.site.networks.iter().any(|n| {
                    n.ipv4
                        .as_ref()
                        .is_some_and(|p| p.value.contains(&server.value))
                })
            });
            if !held {
                diags.push(outside(server, Some(&names)));
            }
        }
    }
}

/// SC1218: a bootinfra serving a site that discovers unknown machines and
/// a site with no boot service. Kea's client classes (`boot::kea_classes`)
/// test the client's architecture only, so the joined Kea offers the boot
/// service to every served subnet's network-booting machines, and the
/// boot service knows only its own site's MACs.
fn discovers_others(name: &str, members: &[&SiteRef], diags: &mut Diagnostics) {
    use crate::model::UnknownPolicy;
    let without: Vec<&str> = members
        .iter()
        .filter(|s| s.site.boot().is_none())
        .map(|s| s.name)
        .collect();
    if without.is_empty() {
        return;
    }
    for s in members {
        let Some(b) = s.site.boot() else { continue };
        if b.unknown() != UnknownPolicy::Discover {
            continue;
        }
        let at = b.unknown.as_ref().map_or(b.span, |u| u.span);
        diags.push(
            Diagnostic::warning(
                Code::BootinfraDiscoversOthers,
                format!(
                    "bootinfra `{name}` serves site `{}`, which discovers unknown machines, and {} without a boot service: a machine of {} that network-boots boots site `{}`'s discovery image",
                    s.name,
                    without.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", "),
                    if without.len() == 1 { "that site" } else { "those sites" },
                    s.name
                ),
            )
            .label(at, "unknown machines boot the discovery image")
            .help("the bootinfra's Kea offers the boot service to every subnet it serves (its client classes match the client's architecture, not its site), and the boot service knows only its own site's machines: use `unknown \"report\"`, or serve the other sites from a bootinfra of their own"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::source::MemSource;

    /// Two sites `a` and `b` (in a bootinfra when `shared`), each with the
    /// boot block and extra networks given; the messages of `code`.
    fn found(shared: bool, a: (&str, &str), b: (&str, &str), code: &str) -> Vec<String> {
        let mut toml = "[sites.a]\ndir = \"sites/a\"\n\n[sites.b]\ndir = \"sites/b\"\n".to_string();
        if shared {
            toml.push_str("\n[bootinfra.core]\nserves = [\"a\", \"b\"]\n");
        }
        let site = |name: &str, net: &str, (boot, extra): (&str, &str)| {
            format!(
                r#"site {name} {{ domain "{name}.example.net"; dns-servers "{net}.2"
                    boot {{ servers "10.0.0.2"; images-dir "/srv/images"; {boot}
                        image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }}
                        image other {{ kernel "http://10.0.0.2/images/other"; }} }} }}
                network mgmt {{ purpose management; ipv4 "{net}.0/24"; gateway4 "{net}.1"; reserved "{net}.1-{net}.63"; }}
                {extra}"#
            )
        };
        let src = MemSource::new()
            .with("siteconf.toml", toml)
            .with("sites/a/site.kdl", site("a", "10.0.0", a))
            .with("sites/b/site.kdl", site("b", "10.1.0", b));
        let p = crate::check::check_project(&src, None, false);
        let sources = p.sources().cloned().unwrap_or_default();
        p.diags
            .sorted(&sources)
            .into_iter()
            .filter(|d| d.code.as_str() == code)
            .map(|d| d.message)
            .collect()
    }

    const OWN_DIR: &str = r#"serve-dir "/srv/siteconf-b";"#;

    #[test]
    fn a_bootinfra_reports_every_overlapping_network() {
        let storage = r#"network storage { purpose storage; ipv4 "10.9.0.0/24"; }
            network backup { purpose other; ipv4 "10.8.0.0/24"; }"#;
        let m = found(true, ("", storage), (OWN_DIR, storage), "SC1207");
        let overlaps: Vec<&String> = m.iter().filter(|m| m.contains("overlaps")).collect();
        assert_eq!(overlaps.len(), 2, "{m:?}");
        assert!(overlaps[0].contains("`storage`") || overlaps[1].contains("`storage`"));
        assert!(overlaps.iter().any(|m| m.contains("`backup`")), "{m:?}");
    }

    #[test]
    fn a_boot_server_in_another_served_sites_network_is_declared() {
        // b's boot server 10.0.0.2 is on a's management network: declared
        // when one bootinfra serves both, not otherwise.
        let m = found(true, ("", ""), (OWN_DIR, ""), "SC1208");
        assert!(m.is_empty(), "{m:?}");
        let m = found(false, ("", ""), (OWN_DIR, ""), "SC1208");
        assert_eq!(m, ["boot server 10.0.0.2 is in no declared network"]);
        // In no network of any served site: still the warning, once.
        let src = MemSource::new()
            .with(
                "siteconf.toml",
                "[sites.a]\ndir = \"sites/a\"\n[sites.b]\ndir = \"sites/b\"\n[bootinfra.core]\nserves = [\"a\", \"b\"]\n",
            )
            .with(
                "sites/a/site.kdl",
                r#"site a { domain "a.example.net"; dns-servers "10.0.0.2"
                    boot { servers "10.9.0.2"; images-dir "/srv/images"; image debian { kernel "http://10.9.0.2/images/vmlinuz"; } } }
                network mgmt { purpose management; ipv4 "10.0.0.0/24"; }"#,
            )
            .with(
                "sites/b/site.kdl",
                r#"site b { domain "b.example.net"; dns-servers "10.1.0.2"; }
                network mgmt { purpose management; ipv4 "10.1.0.0/24"; }"#,
            );
        let p = crate::check::check_project(&src, None, false);
        let sources = p.sources().cloned().unwrap_or_default();
        let m: Vec<String> = p
            .diags
            .sorted(&sources)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1208")
            .map(|d| d.message)
            .collect();
        assert_eq!(
            m,
            ["boot server 10.9.0.2 is in no declared network of the sites its bootinfra serves (`a`, `b`)"]
        );
    }

    #[test]
    fn a_bootinfra_serves_one_unknown_script() {
        let same = found(true, ("", ""), (OWN_DIR, ""), "SC1207");
        assert!(same.is_empty(), "{same:?}");
        let m = found(
            true,
            ("", ""),
            (
                &format!("{OWN_DIR} unknown discover; discovery-image debian"),
                "",
            ),
            "SC1207",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("handle unknown machines differently"),
            "{m:?}"
        );
        let discover = "unknown discover; discovery-image debian";
        let m = found(
            true,
            (discover, ""),
            (
                &format!("{OWN_DIR} unknown discover; discovery-image other"),
                "",
            ),
            "SC1207",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("different images"), "{m:?}");
        // Without a bootinfra each site has its own script.
        let m = found(
            false,
            ("", ""),
            (
                &format!("{OWN_DIR} unknown discover; discovery-image debian"),
                "",
            ),
            "SC1207",
        );
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn prefixes_in_one_reverse_zone_conflict() {
        let net = |p: &str| format!(r#"network bmc {{ purpose other; ipv4 "{p}"; }}"#);
        let m = found(
            true,
            ("", &net("192.168.50.0/25")),
            (OWN_DIR, &net("192.168.50.128/25")),
            "SC1207",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("share the reverse zone 50.168.192.in-addr.arpa"),
            "{m:?}"
        );
        let m = found(
            true,
            ("", &net("192.168.50.0/25")),
            (OWN_DIR, &net("192.168.51.0/25")),
            "SC1207",
        );
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn a_bootinfra_discovering_beside_a_site_without_boot_warns() {
        let toml = "[sites.a]\ndir = \"sites/a\"\n\n[sites.b]\ndir = \"sites/b\"\n\n[bootinfra.core]\nserves = [\"a\", \"b\"]\n";
        let site = |name: &str, net: &str, boot: &str| {
            format!(
                r#"site {name} {{ domain "{name}.example.net"; dns-servers "{net}.2"
                    {boot} }}
                network mgmt {{ purpose management; ipv4 "{net}.0/24"; gateway4 "{net}.1"; reserved "{net}.1-{net}.63"; }}"#
            )
        };
        let boot = |unknown: &str| {
            format!(
                r#"boot {{ servers "10.0.0.2"; images-dir "/srv/images"; {unknown}
                        image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}"#
            )
        };
        let warned = |unknown: &str| -> Vec<String> {
            let src = MemSource::new()
                .with("siteconf.toml", toml)
                .with("sites/a/site.kdl", site("a", "10.0.0", &boot(unknown)))
                .with("sites/b/site.kdl", site("b", "10.1.0", ""));
            let p = crate::check::check_project(&src, None, false);
            let sources = p.sources().cloned().unwrap_or_default();
            p.diags
                .sorted(&sources)
                .into_iter()
                .filter(|d| d.code.as_str() == "SC1218")
                .map(|d| d.message)
                .collect()
        };
        let m = warned("unknown discover; discovery-image debian");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("site `a`") && m[0].contains("`b`"), "{m:?}");
        assert!(warned("unknown report").is_empty());
    }

    #[test]
    fn two_boot_services_on_one_server_and_port_collide() {
        let m = found(false, ("", ""), ("", ""), "SC1221");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("sites `a` and `b`"), "{m:?}");
        // Another directory on the same port still cannot bind.
        let m = found(false, ("", ""), (OWN_DIR, ""), "SC1221");
        assert_eq!(m.len(), 1, "{m:?}");
        // Another port: two instances side by side.
        let port = r#"base-url "http://10.0.0.2:8080";"#;
        assert!(found(false, ("", ""), (port, ""), "SC1221").is_empty());
        // The sites of one bootinfra share servers and base URL: only one
        // of them can have a boot service, whatever its directory.
        let m = found(true, ("", ""), (OWN_DIR, ""), "SC1221");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("bootinfra `core` serves sites"), "{m:?}");
    }

    /// Two sites of routing domain `corp` with the given site files; the
    /// codes found, in order.
    fn corp(a: &str, b: &str) -> Vec<(String, String)> {
        let src = MemSource::new()
            .with(
                "siteconf.toml",
                "[sites.a]\ndir = \"sites/a\"\nrouting-domain = \"corp\"\n[sites.b]\ndir = \"sites/b\"\nrouting-domain = \"corp\"\n",
            )
            .with("sites/a/site.kdl", a)
            .with("sites/b/site.kdl", b);
        let p = crate::check::check_project(&src, None, false);
        let sources = p.sources().cloned().unwrap_or_default();
        p.diags
            .sorted(&sources)
            .into_iter()
            .filter(|d| ["SC0102", "SC1219", "SC0064"].contains(&d.code.as_str()))
            .map(|d| (d.code.as_str().to_string(), d.message))
            .collect()
    }

    fn corp_site(name: &str, net: &str, port: &str, peer: &str) -> String {
        format!(
            r#"site {name} {{ domain "{name}.example.net"; dns-servers "10.9.9.9"; }}
            network mgmt {{ purpose management; ipv4 "{net}"; }}
            rack r01 {{ height 42; }}
            switch tor1 {{ rack r01; position 42; role tor; ports "swp1-52"
                interface swp51 {{ address "{port}/29"; }} }}
            bgp-peer transit {{ asn 64496; address "{peer}"; switches tor1; }}"#
        )
    }

    #[test]
    fn a_routing_domain_shares_no_address_or_prefix() {
        // Disjoint prefixes, one transit router peered from each site's
        // own port address: a real two-site design, no finding.
        let ok = corp(
            &corp_site("a", "10.0.0.0/24", "192.0.2.2", "192.0.2.1"),
            &corp_site("b", "10.1.0.0/24", "192.0.2.3", "192.0.2.1"),
        );
        assert!(ok.is_empty(), "{ok:?}");
        // The same port address, and b's peer at a's port address.
        let m = corp(
            &corp_site("a", "10.0.0.0/24", "192.0.2.2", "192.0.2.1"),
            &corp_site("b", "10.1.0.0/24", "192.0.2.2", "192.0.2.3"),
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "SC0102");
        let m = corp(
            &corp_site("a", "10.0.0.0/24", "192.0.2.2", "192.0.2.1"),
            &corp_site("b", "10.1.0.0/24", "192.0.2.3", "192.0.2.2"),
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].1.starts_with("192.0.2.2 is used in site `b`"), "{m:?}");
        // Overlapping prefixes; /25s of one /24.
        let m = corp(
            &corp_site("a", "10.0.0.0/16", "192.0.2.2", "192.0.2.1"),
            &corp_site("b", "10.0.1.0/24", "192.0.2.3", "192.0.2.1"),
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "SC1219");
        let m = corp(
            &corp_site("a", "10.0.0.0/25", "192.0.2.2", "192.0.2.1"),
            &corp_site("b", "10.0.0.128/25", "192.0.2.3", "192.0.2.1"),
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "SC0064");
    }

    #[test]
    fn a_group_with_other_children_in_another_site() {
        let src = |b_groups: &str| {
            MemSource::new()
                .with(
                    "siteconf.toml",
                    "shared-dir = \"common\"\n[sites.a]\ndir = \"sites/a\"\n[sites.b]\ndir = \"sites/b\"\n",
                )
                .with("common/groups.kdl", "group fleet { children control storage; }\ngroup control {}\ngroup storage {}")
                .with("sites/a/site.kdl", r#"site a { domain "a.example.net"; dns-servers "10.0.0.2"; }"#)
                .with("sites/b/site.kdl", r#"site b { domain "b.example.net"; dns-servers "10.0.0.2"; }"#)
                .with("sites/b/groups.kdl", b_groups)
        };
        let found = |b_groups: &str| -> Vec<String> {
            let p = crate::check::check_project(&src(b_groups), None, false);
            let sources = p.sources().cloned().unwrap_or_default();
            p.diags
                .sorted(&sources)
                .into_iter()
                .filter(|d| d.code.as_str() == "SC1220")
                .map(|d| d.message)
                .collect()
        };
        // The same children in another order: one group.
        assert!(found("group fleet { children storage control; }").is_empty());
        let m = found("group fleet { children control; }");
        assert_eq!(
            m,
            ["group `fleet` has different children in site `a` and in site `b` (`storage` only in site `a`)"]
        );
    }

    #[test]
    fn a_domain_under_another_sites_warns_unless_one_server_holds_both() {
        let found = |b_dns: &str, bootinfra: bool| -> Vec<String> {
            let mut toml =
                "[sites.a]\ndir = \"sites/a\"\n[sites.b]\ndir = \"sites/b\"\n".to_string();
            if bootinfra {
                toml.push_str("[bootinfra.core]\nserves = [\"a\", \"b\"]\n");
            }
            let src = MemSource::new()
                .with("siteconf.toml", toml)
                .with(
                    "sites/a/site.kdl",
                    r#"site a { domain "a.example.net"; dns-servers "10.0.0.2"; }"#,
                )
                .with(
                    "sites/b/site.kdl",
                    format!(r#"site b {{ domain "b.A.example.net"; dns-servers "{b_dns}"; }}"#),
                );
            let p = crate::check::check_project(&src, None, false);
            let sources = p.sources().cloned().unwrap_or_default();
            p.diags
                .sorted(&sources)
                .into_iter()
                .filter(|d| d.code.as_str() == "SC0065")
                .map(|d| d.message)
                .collect()
        };
        assert_eq!(
            found("10.1.0.2", false),
            ["site `b`'s domain `b.a.example.net` is under site `a`'s domain `a.example.net`, whose zone does not delegate it"]
        );
        assert!(found("10.0.0.2", false).is_empty());
        assert!(found("10.1.0.2", true).is_empty());
    }

    #[test]
    fn reverse_zone_names() {
        let z = |s: &str| super::zone_name(s.parse().unwrap());
        assert_eq!(z("10.0.0.0/24"), "0.0.10.in-addr.arpa");
        assert_eq!(
            z("2001:db8::/124"),
            format!(
                "{}.8.b.d.0.1.0.0.2.ip6.arpa",
                "0.".repeat(23).trim_end_matches('.')
            )
        );
    }
}
