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
    Code::GroupVarsAcrossSites,
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
    }
    if sites.len() < 2 {
        return;
    }
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
    routing_domains(sites, diags);
    group_vars(sites, diags);
}

/// A group's variables as one site gives them: its `group` block's, or
/// none when it only has members there.
type GroupVars<'a> = Option<(
    &'a crate::model::Group,
    BTreeMap<&'a str, &'a serde_json::Value>,
)>;

/// An Ansible group of the same name in two sites with different variables.
/// The inventory of every site (`siteconf inventory --list`, what Ansible
/// runs) has one group of that name, with one set of variables: the other
/// site's hosts would get them. A group is in a site when it declares the
/// group or a node there joins it; `all` is in every site.
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
            here.insert(group_name(g.name.as_str()), Some((g, vars)));
        }
        for (name, vars) in here {
            by_group.entry(name).or_default().push((s.name, vars));
        }
    }
    fn vars_of<'a>(v: &GroupVars<'a>) -> BTreeMap<&'a str, &'a serde_json::Value> {
        v.as_ref().map(|(_, m)| m.clone()).unwrap_or_default()
    }
    for (name, in_sites) in by_group {
        let Some((first_site, first)) = in_sites.first() else {
            continue;
        };
        let base = vars_of(first);
        for (site, vars) in &in_sites[1..] {
            if vars_of(vars) == base {
                continue;
            }
            // Point at a `group` block that sets them: this site's, else
            // the first site's.
            let Some((g, _)) = vars.as_ref().or(first.as_ref()) else {
                continue;
            };
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
    }
}

/// Addresses and ASNs of sites that share a routing domain.
fn routing_domains(sites: &[SiteRef], diags: &mut Diagnostics) {
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
            'nets: for na in &sa.networks {
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
                            break 'nets;
                        }
                    }
                }
            }
            let (da, db) = (sa.domain(), sb.domain());
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
            if let (Some(ba), Some(bb)) = (boot_of(sa), boot_of(sb)) {
                let servers =
                    |b: &crate::model::Boot| b.servers.iter().map(|s| s.value).collect::<Vec<_>>();
                let url = |b: &crate::model::Boot| b.base_url.as_ref().map(|u| u.value.clone());
                if servers(ba) != servers(bb) || url(ba) != url(bb) {
                    diags.push(
                        conflict(format!(
                            "the `boot` blocks of sites `{}` and `{}` name different servers or base URLs",
                            a.name, b.name
                        ))
                        .label(bb.servers.first().map(|s| s.span).unwrap_or_else(|| sb.site.as_ref().map(|i| i.span).unwrap_or(Span::BUILTIN)), format!("site `{}`", b.name))
                        .label(ba.servers.first().map(|s| s.span).unwrap_or_else(|| sa.site.as_ref().map(|i| i.span).unwrap_or(Span::BUILTIN)), format!("site `{}`", a.name))
                        .help("the sites of one bootinfra boot from its hosts: give their `boot` blocks the same `servers` and `base-url`"),
                    );
                }
            }
        }
    }
}

fn boot_of(s: &crate::model::Site) -> Option<&crate::model::Boot> {
    s.site.as_ref().and_then(|i| i.boot.as_ref())
}
