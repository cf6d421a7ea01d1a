//! The Ansible inventory as data: groups, hosts and their variables, built
//! once from the [`SiteView`]. The static inventory (`hosts.yml`,
//! `host_vars/`, `group_vars/`, rendered by `templates/site/inventory/`)
//! and the script protocol (`siteconf inventory --list/--host`) are two
//! spellings of this one value, so they cannot disagree as long as the
//! built-in templates are used.
//!
//! Shape:
//! - hosts are nodes, by FQDN; `ansible_host` (in `hosts.yml`) is the
//!   management address (IPv4 if it has one, else IPv6), or the loopback
//!   for a node without one: the address the node's FQDN has in DNS. A
//!   node with neither has no `ansible_host`.
//! - switches are hosts too, by FQDN, so that a play can push their FRR
//!   configs: `ansible_host` is the switch's loopback (IPv4, else IPv6; the
//!   address its name has in DNS) and `ansible_network_os` its
//!   `network-os` (default `frr.frr.frr`), both in `hosts.yml`. Each is in
//!   the groups `switches`, `role_<role>` (`role_tor`, `role_spine` …) and
//!   `rack_<rack>` (beside that rack's nodes). Host variables:
//!   `siteconf_switch` (name, role, rack, placement, model, ASN, loopbacks,
//!   links, and `frr_conf`, the path of its FRR config in the output
//!   directory: external peers stay in that file, which may hold their
//!   passwords), then the switch's own `vars`.
//! - groups are the nodes' groups (declared `groups`, `role_<role>`,
//!   `rack_<rack>`, `profile_<profile>`, see `NodeView::groups`) and every
//!   declared `group`, with its `children`; every group is also listed
//!   under `all`. A group named `all` gives its vars to `all`.
//! - host variables: `siteconf_node` (the node's facts: role, rack,
//!   placement, ASN, loopbacks, addresses, interfaces, BGP sessions), then
//!   the node's own `vars` at top level (a var may override `ansible_host`
//!   but not `siteconf_node`, which the facts always own).
//! - fact strings that look like Jinja (`{{`, `{%`, `{#`: a model name, a
//!   serial, a port) are marked untrusted (`!unsafe` in YAML,
//!   `{"__ansible_unsafe": …}` in JSON), so Ansible never evaluates text
//!   from a site file as a template on the controller. The node's and
//!   groups' own `vars` are left as written: templating them is what vars
//!   are for.
//! - variable names: Ansible accepts only ASCII identifiers that are not
//!   Jinja constants (`^[A-Za-z_][A-Za-z0-9_]*$`, not `true`/`none`/`not`
//!   …); others are deprecated in ansible-core 2.19 and refused from 2.23.
//!   Such top-level vars are left out of both spellings, with a warning in
//!   [`Inventory::warnings`]; so is a group name Ansible would flag. Nested keys are
//!   data, not names, and pass as they are.
//! - `all` variables (`group_vars/all.yml`): `siteconf_site` (name,
//!   domain, DNS and NTP servers, time zone) and the vars of a group `all`.
//! - group variables: a declared group's `vars`, in `group_vars/<g>.yml`.
//! - a secret reference in `vars` (`ipmi_password secret="ipmi/r01"`)
//!   never has its value here: it becomes a lookup of the environment
//!   variable siteconf itself would read it from, failing when it is unset,
//!   `{{ lookup('ansible.builtin.env', 'SITECONF_SECRET_IPMI_R01',
//!   default=Undefined) }}` (see [`ansible_secret_lookup`]). Ansible
//!   resolves it on the controller when a play uses the variable; the
//!   inventory files and `--list` stay free of secrets and readable by all.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object};
use minijinja::Value;

use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use crate::diag::Code;
use crate::render::context::{NodeView, SiteView, SwitchView};
use crate::render::device::to_value;

pub use crate::model::names::{NODE_FACTS, SITE_FACTS, SWITCHES_GROUP, SWITCH_FACTS};

/// The whole inventory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inventory {
    /// Variables of the `all` group.
    pub all_vars: Map<String, Json>,
    /// Every group but `all`, sorted by name.
    pub groups: Vec<InvGroup>,
    /// Every host, sorted by name.
    pub hosts: Vec<InvHost>,
    /// What Ansible would refuse or warn about: variables left out for
    /// their names, groups whose names it flags. For the caller to show.
    #[serde(skip)]
    /// What Ansible would not take as written, with its code (SC0081,
    /// SC0059).
    pub warnings: Vec<(Code, String)>,
}

pub use crate::model::names::{is_group_name, is_var_name};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvGroup {
    pub name: String,
    /// Member hosts (sorted).
    pub hosts: Vec<String>,
    /// Child groups (sorted, unique).
    pub children: Vec<String>,
    pub vars: Map<String, Json>,
}

/// What a host of the inventory is, by its place in the site view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// `SiteView::nodes[i]`
    Node(usize),
    /// `SiteView::switches[i]`
    Switch(usize),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvHost {
    /// The inventory name: the node's or switch's FQDN.
    pub name: String,
    /// The node's or switch's short name.
    pub node: String,
    /// Variables written beside the host in `hosts.yml` (`ansible_host`).
    pub inventory_vars: Map<String, Json>,
    /// Variables written to `host_vars/<name>.yml` (empty in an
    /// [`outline`]).
    pub vars: Map<String, Json>,
    /// The node or switch it is.
    #[serde(skip)]
    pub device: Device,
}

impl InvHost {
    /// Every variable of the host as Ansible sees it (host_vars files win
    /// over variables in the inventory file).
    pub fn hostvars(&self) -> Map<String, Json> {
        self.hostvars_with(self.vars.clone())
    }

    /// [`InvHost::hostvars`] with `vars` as the host's `host_vars/` (of an
    /// [`outline`]'s host, made by [`device_vars`]).
    pub fn hostvars_with(&self, vars: Map<String, Json>) -> Map<String, Json> {
        let mut m = self.inventory_vars.clone();
        for (k, v) in vars {
            m.insert(k, v);
        }
        m
    }
}

impl Inventory {
    pub fn host(&self, name: &str) -> Option<&InvHost> {
        self.hosts
            .binary_search_by(|h| h.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.hosts[i])
    }

    /// The `--list` answer of Ansible's script inventory protocol, with
    /// `_meta.hostvars` so Ansible never needs `--host`: every host's
    /// variables at once. [`write_list`] writes the same text a host at a
    /// time.
    pub fn to_list_json(&self) -> Json {
        let mut out = self.list_outline();
        let hostvars: Map<String, Json> = self
            .hosts
            .iter()
            .map(|h| (h.name.clone(), Json::Object(h.hostvars())))
            .collect();
        out.insert(META.into(), json!({ HOSTVARS: hostvars }));
        Json::Object(out)
    }

    /// [`Inventory::to_list_json`] with `_meta.hostvars` empty: the groups
    /// (`all` first, then by name) and, last, `_meta`, whose hosts
    /// [`write_list`] fills in as it writes. Small: host names, no
    /// variables.
    pub fn list_outline(&self) -> Map<String, Json> {
        let mut out = Map::new();
        let mut children: Vec<Json> = self.groups.iter().map(|g| json!(g.name)).collect();
        children.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        let mut all = Map::new();
        all.insert(
            "hosts".into(),
            Json::Array(self.hosts.iter().map(|h| json!(h.name)).collect()),
        );
        all.insert("children".into(), Json::Array(children));
        all.insert("vars".into(), Json::Object(self.all_vars.clone()));
        out.insert("all".into(), Json::Object(all));
        for g in &self.groups {
            let mut o = Map::new();
            o.insert("hosts".into(), json!(g.hosts));
            o.insert("children".into(), json!(g.children));
            o.insert("vars".into(), Json::Object(g.vars.clone()));
            out.insert(g.name.clone(), Json::Object(o));
        }
        out.insert(META.into(), json!({ HOSTVARS: {} }));
        out
    }
}

/// The key of the `--list` answer that holds `hostvars`.
pub const META: &str = "_meta";
/// The key of `_meta` that holds every host's variables.
pub const HOSTVARS: &str = "hostvars";

/// One site of a `--list` answer: its view and its [`outline`].
pub struct ListSite<'a> {
    pub view: &'a SiteView,
    pub inv: &'a Inventory,
    /// `[secrets] env-prefix`.
    pub env_prefix: &'a str,
}

/// A host's variables as [`write_list`] wrote them.
pub struct Placed<'a> {
    /// Its site: an index into the sites given.
    pub site: usize,
    /// Its index in that site's `inv.hosts`.
    pub host: usize,
    /// Where its variables start in the text written.
    pub offset: u64,
    /// Their text, as [`host_answer`] takes it.
    pub text: &'a [u8],
}

/// Hosts whose variables [`write_list`] makes at once (in parallel): a
/// fleet's variables are never all in memory.
const HOSTS_AT_ONCE: usize = 256;

/// Where a host's variables are in a `--list` answer: nested three deep
/// (`{"_meta": {"hostvars": {NAME: …}}}`), so every line but the first is
/// indented by six spaces more than in the `--host` answer.
const HOSTVARS_INDENT: &[u8] = b"      ";

/// Writes the `--list` answer of `sites` to `out`: `outline` (the
/// [`Inventory::list_outline`] of one site, or the sites' outlines merged),
/// with `_meta.hostvars` holding every host of every site in order, made
/// [`HOSTS_AT_ONCE`] at a time. The text is exactly
/// `serde_json::to_string_pretty` of the answer with its hosts filled in
/// (keys in `outline`'s order), without a final newline; `outline`'s own
/// `_meta` value is not written. Host names must be unique across `sites`
/// (a JSON object has each key once).
///
/// `placed` is called for each host with where its variables are in the
/// output (see [`Placed`]).
pub fn write_list(
    out: &mut dyn std::io::Write,
    outline: &Map<String, Json>,
    sites: &[ListSite<'_>],
    placed: &mut dyn FnMut(Placed<'_>),
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = Counting { inner: out, n: 0 };
    if outline.is_empty() {
        return out.write_all(b"{}");
    }
    for (i, (k, v)) in outline.iter().enumerate() {
        out.write_all(if i == 0 { b"{\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut out, k)?;
        out.write_all(b": ")?;
        if k == META {
            write_hostvars(&mut out, sites, placed)?;
        } else {
            serde_json::to_writer_pretty(Indented::new(&mut out, b"  "), v)?;
        }
    }
    out.write_all(b"\n}")
}

/// `{"hostvars": {…}}` at depth one (the value of `_meta`).
fn write_hostvars(
    out: &mut Counting<'_>,
    sites: &[ListSite<'_>],
    placed: &mut dyn FnMut(Placed<'_>),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    use std::io::Write;
    out.write_all(b"{\n    ")?;
    serde_json::to_writer(&mut *out, HOSTVARS)?;
    out.write_all(b": ")?;
    let all: Vec<(usize, usize)> = sites
        .iter()
        .enumerate()
        .flat_map(|(s, site)| (0..site.inv.hosts.len()).map(move |h| (s, h)))
        .collect();
    if all.is_empty() {
        out.write_all(b"{}")?;
    }
    for (c, chunk) in all.chunks(HOSTS_AT_ONCE).enumerate() {
        let texts: Vec<Vec<u8>> = chunk
            .par_iter()
            .map(|&(s, h)| {
                let site = &sites[s];
                let host = &site.inv.hosts[h];
                let vars = host.hostvars_with(device_vars(site.view, host.device, site.env_prefix));
                let mut text = Vec::with_capacity(4096);
                serde_json::to_writer_pretty(Indented::new(&mut text, HOSTVARS_INDENT), &vars)
                    .map(|()| text)
            })
            .collect::<Result<_, _>>()?;
        for (i, (&(s, h), text)) in chunk.iter().zip(&texts).enumerate() {
            let first = c == 0 && i == 0;
            out.write_all(if first { b"{\n      " } else { b",\n      " })?;
            serde_json::to_writer(&mut *out, &sites[s].inv.hosts[h].name)?;
            out.write_all(b": ")?;
            placed(Placed {
                site: s,
                host: h,
                offset: out.n,
                text,
            });
            out.write_all(text)?;
        }
    }
    if !all.is_empty() {
        out.write_all(b"\n    }")?;
    }
    out.write_all(b"\n  }")
}

/// The `--host` answer from a host's variables as [`write_list`] placed
/// them: the same object, its lines moved back to the left margin. JSON
/// text has a line break only between values (one inside a string is
/// written `\n`), so every line break was followed by the indentation.
pub fn host_answer(placed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(placed.len());
    let mut rest = placed;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        out.extend_from_slice(&rest[..=i]);
        rest = &rest[i + 1..];
        rest = rest.strip_prefix(HOSTVARS_INDENT).unwrap_or(rest);
    }
    out.extend_from_slice(rest);
    out
}

/// The `--host` answer for `host` of `site` (an [`outline`]'s host),
/// made alone: what [`host_answer`] gives from the `--list` text.
pub fn host_json(site: &SiteView, host: &InvHost, env_prefix: &str) -> serde_json::Result<String> {
    let vars = host.hostvars_with(device_vars(site, host.device, env_prefix));
    serde_json::to_string_pretty(&vars)
}

/// A writer that counts the bytes written through it.
struct Counting<'a> {
    inner: &'a mut dyn std::io::Write,
    n: u64,
}

impl std::io::Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that indents every line after the first of what goes through
/// it (pretty JSON written at a depth greater than zero).
struct Indented<W> {
    inner: W,
    indent: &'static [u8],
}

impl<W> Indented<W> {
    fn new(inner: W, indent: &'static [u8]) -> Indented<W> {
        Indented { inner, indent }
    }
}

impl<W: std::io::Write> std::io::Write for Indented<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.inner.write_all(&rest[..=i])?;
            self.inner.write_all(self.indent)?;
            rest = &rest[i + 1..];
        }
        self.inner.write_all(rest)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Marks every string in `v` that Ansible would treat as a template as
/// untrusted (see the module doc).
fn mark_untrusted(v: &mut Json) {
    match v {
        Json::String(s) if crate::model::names::ansible_templated(s) => {
            let mut m = Map::new();
            m.insert(
                super::filters::UNSAFE_KEY.into(),
                Json::String(std::mem::take(s)),
            );
            *v = Json::Object(m);
        }
        Json::Array(a) => a.iter_mut().for_each(mark_untrusted),
        Json::Object(m) => m.values_mut().for_each(mark_untrusted),
        _ => {}
    }
}

/// The facts of one node, as `siteconf_node`.
fn node_facts(n: &NodeView) -> Json {
    let mut facts = node_facts_raw(n);
    mark_untrusted(&mut facts);
    facts
}

fn node_facts_raw(n: &NodeView) -> Json {
    let addresses: Vec<Json> = n
        .addresses
        .iter()
        .map(|a| {
            json!({
                "network": a.network,
                "purpose": a.purpose,
                "interface": a.interface,
                "ipv4": a.ipv4,
                "ipv4_cidr": a.ipv4_cidr,
                "ipv6": a.ipv6,
                "ipv6_cidr": a.ipv6_cidr,
                "vlan": a.vlan,
            })
        })
        .collect();
    let interfaces: Vec<Json> = n
        .interfaces
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "kind": i.kind,
                "mac": i.mac,
                "switch": i.switch,
                "port": i.port,
                "mtu": i.mtu,
                "members": i.members,
                "vlan": i.vlan,
                "link": i.link,
            })
        })
        .collect();
    let sessions: Vec<Json> = n
        .sessions
        .iter()
        .map(|s| {
            json!({
                "peer": s.peer,
                "mode": s.mode,
                "interface": s.interface,
                "peer_asn": s.peer_asn,
                "peer_address": s.peer_address,
            })
        })
        .collect();
    json!({
        "name": n.name,
        "fqdn": n.fqdn,
        "role": n.role,
        "rack": n.rack,
        "position": n.position,
        "height": n.height,
        "model": n.model,
        "serial": n.serial,
        "profiles": n.profiles,
        "asn": n.asn,
        "loopback4": n.loopback4,
        "loopback6": n.loopback6,
        "mgmt4": n.mgmt.as_ref().and_then(|m| m.ipv4.clone()),
        "mgmt6": n.mgmt.as_ref().and_then(|m| m.ipv6.clone()),
        "addresses": addresses,
        "interfaces": interfaces,
        "bgp_sessions": sessions,
    })
}

/// The Ansible expression that reads secret `name` from the environment
/// on the controller, as siteconf would (`env_prefix` + the name
/// upper-cased, `-` `.` `/` → `_`), failing when the variable is unset
/// (`default=Undefined`, ansible-core 2.13+) rather than giving an empty
/// password. Characters that cannot be in an environment variable name are
/// dropped, so the name cannot break out of the quoted string.
pub fn ansible_secret_lookup(env_prefix: &str, name: &str) -> String {
    let var: String = crate::render::secrets::env_var_name(env_prefix, name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("{{{{ lookup('ansible.builtin.env', '{var}', default=Undefined) }}}}")
}

/// A warning for each name in `vars` that Ansible refuses: those
/// variables are left out of the inventory (see [`copy_vars`]).
fn var_warnings(warnings: &mut Vec<(Code, String)>, owner: &str, vars: &Map<String, Json>) {
    for k in vars.keys().filter(|k| !is_var_name(k)) {
        warnings.push((
            Code::InventoryVarName,
            format!(
                "variable `{k}` of {owner} is not a valid Ansible variable name \
             (letters, digits and `_`, not starting with a digit); it is left out of the inventory"
            ),
        ));
    }
}

/// Copies `vars` into `into`, except names Ansible refuses (see
/// [`var_warnings`]) and the `reserved` name the facts own; secret
/// references become [`ansible_secret_lookup`]s.
fn copy_vars(
    into: &mut Map<String, Json>,
    vars: &Map<String, Json>,
    reserved: &str,
    env_prefix: &str,
) {
    for (k, v) in vars {
        if crate::model::names::inventory_keeps_var(k, reserved) {
            let v = crate::model::map_secret_refs(v, &|name| {
                Json::String(ansible_secret_lookup(env_prefix, name))
            });
            into.insert(k.clone(), v);
        }
    }
}

/// The variables of node `n` in `host_vars/`: its facts, then its own vars.
pub fn host_vars(n: &NodeView, env_prefix: &str) -> Map<String, Json> {
    let mut vars = Map::new();
    vars.insert(NODE_FACTS.into(), node_facts(n));
    copy_vars(&mut vars, &n.vars, NODE_FACTS, env_prefix);
    vars
}

/// The facts of one switch, as `siteconf_switch`.
fn switch_facts(s: &SwitchView) -> Json {
    let links: Vec<Json> = s
        .links
        .iter()
        .map(|l| json!({"port": l.port, "peer": l.peer, "peer_port": l.peer_port, "peer_asn": l.peer_asn}))
        .collect();
    let mut facts = json!({
        "name": s.name,
        "fqdn": s.fqdn,
        "role": s.role,
        "rack": s.rack,
        "position": s.position,
        "height": s.height,
        "model": s.model,
        "asn": s.asn,
        "loopback4": s.loopback4,
        "loopback6": s.loopback6,
        "links": links,
        "frr_conf": format!("switches/{}/etc/frr/frr.conf", s.name),
    });
    mark_untrusted(&mut facts);
    facts
}

/// The variables of switch `s` in `host_vars/`: its facts, then its own
/// vars.
pub fn switch_vars(s: &SwitchView, env_prefix: &str) -> Map<String, Json> {
    let mut vars = Map::new();
    vars.insert(SWITCH_FACTS.into(), switch_facts(s));
    copy_vars(&mut vars, &s.vars, SWITCH_FACTS, env_prefix);
    vars
}

/// The `host_vars/` of any host.
pub fn device_vars(site: &SiteView, d: Device, env_prefix: &str) -> Map<String, Json> {
    match d {
        Device::Node(i) => host_vars(&site.nodes[i], env_prefix),
        Device::Switch(i) => switch_vars(&site.switches[i], env_prefix),
    }
}

/// Builds the inventory of a site; `env_prefix` is `[secrets] env-prefix`.
pub fn build(site: &SiteView, env_prefix: &str) -> Inventory {
    let mut inv = outline(site, env_prefix);
    use rayon::prelude::*;
    inv.hosts
        .par_iter_mut()
        .for_each(|h| h.vars = device_vars(site, h.device, env_prefix));
    inv
}

/// The inventory without the hosts' variables (each [`InvHost::vars`] is
/// empty; [`host_vars`] makes them from `site.nodes[host.index]`), with
/// every warning: what `hosts.yml` needs, at a fraction of the memory of
/// a fleet's variables.
pub fn outline(site: &SiteView, env_prefix: &str) -> Inventory {
    let mut groups: BTreeMap<String, InvGroup> = BTreeMap::new();
    let empty = |name: &str| InvGroup {
        name: name.to_string(),
        hosts: Vec::new(),
        children: Vec::new(),
        vars: Map::new(),
    };
    let mut warnings = Vec::new();
    let mut all_vars = Map::new();
    let mut site_facts = json!({
        "name": site.name,
        "domain": site.domain,
        "dns_servers": site.dns_servers,
        "ntp_servers": site.ntp_servers,
        "timezone": site.timezone,
    });
    mark_untrusted(&mut site_facts);
    all_vars.insert(SITE_FACTS.into(), site_facts);
    for g in &site.groups {
        if g.name == "all" {
            // The implicit group: its vars join the site facts, its hosts
            // and children are everything anyway.
            var_warnings(&mut warnings, "group all", &g.vars);
            copy_vars(&mut all_vars, &g.vars, SITE_FACTS, env_prefix);
            continue;
        }
        let e = groups
            .entry(g.name.clone())
            .or_insert_with(|| empty(&g.name));
        e.hosts.extend(g.hosts.iter().cloned());
        e.children
            .extend(g.children.iter().filter(|c| *c != "all").cloned());
        var_warnings(&mut warnings, &format!("group {}", g.name), &g.vars);
        copy_vars(&mut e.vars, &g.vars, "", env_prefix);
    }
    // Switches: `switches`, `role_<role>`, `rack_<rack>`.
    for sw in &site.switches {
        let mut member = |g: String| {
            groups
                .entry(g.clone())
                .or_insert_with(|| empty(&g))
                .hosts
                .push(sw.fqdn.clone());
        };
        member(SWITCHES_GROUP.to_string());
        member(format!("role_{}", sw.role));
        if let Some(r) = &sw.rack {
            member(format!("rack_{r}"));
        }
    }
    // A child that is neither declared nor anyone's group is still a
    // group (empty); both spellings of the inventory define it.
    let children: Vec<String> = groups
        .values()
        .flat_map(|g| g.children.iter().cloned())
        .collect();
    for c in children {
        groups.entry(c.clone()).or_insert_with(|| empty(&c));
    }
    for g in groups.values_mut() {
        if !is_group_name(&g.name) {
            warnings.push((
                Code::GroupNameRewritten,
                format!(
                    "group `{}` is not a valid Ansible group name (letters, digits and `_`, \
                 not starting with a digit): ansible-inventory warns about it",
                    g.name
                ),
            ));
        }
        g.hosts.sort();
        g.hosts.dedup();
        g.children.sort();
        g.children.dedup();
    }
    // The hosts whose `ansible_port` the operator set in a group's vars:
    // theirs wins (hosts.yml outranks group_vars, so siteconf's would not).
    // `ansible_ssh_port`, the old spelling, counts too: Ansible's ssh
    // connection prefers it to `ansible_port` wherever either is set.
    let port_by_group = hosts_under(&groups, |g| {
        PORT_VARS.iter().any(|v| g.vars.contains_key(*v))
    });
    let port_by_all = PORT_VARS.iter().any(|v| all_vars.contains_key(*v));
    let mut hosts: Vec<InvHost> = Vec::with_capacity(site.nodes.len() + site.switches.len());
    for (index, n) in site.nodes.iter().enumerate() {
        let mut inventory_vars = Map::new();
        let (a4, a6) = super::dns::canonical_addresses(n);
        if let Some(addr) = a4.or(a6) {
            inventory_vars.insert("ansible_host".into(), Json::String(addr.clone()));
        }
        // sshd on another port than 22: Ansible must connect there.
        let port = crate::validate::rules::sshd_options::sshd_port(
            n.sshd_lines.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let theirs = port_by_all
            || PORT_VARS.iter().any(|v| n.vars.contains_key(*v))
            || port_by_group.contains(&n.fqdn);
        if let Some(port) = port.filter(|&p| p != 22 && !theirs) {
            inventory_vars.insert(ANSIBLE_PORT.into(), Json::from(port));
        }
        var_warnings(&mut warnings, &format!("node {}", n.name), &n.vars);
        hosts.push(InvHost {
            name: n.fqdn.clone(),
            node: n.name.clone(),
            inventory_vars,
            vars: Map::new(),
            device: Device::Node(index),
        });
    }
    for (index, sw) in site.switches.iter().enumerate() {
        let mut inventory_vars = Map::new();
        if let Some(addr) = sw.loopback4.as_ref().or(sw.loopback6.as_ref()) {
            inventory_vars.insert("ansible_host".into(), Json::String(addr.clone()));
        }
        inventory_vars.insert(
            "ansible_network_os".into(),
            Json::String(sw.network_os.clone()),
        );
        var_warnings(&mut warnings, &format!("switch {}", sw.name), &sw.vars);
        hosts.push(InvHost {
            name: sw.fqdn.clone(),
            node: sw.name.clone(),
            inventory_vars,
            vars: Map::new(),
            device: Device::Switch(index),
        });
    }
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    Inventory {
        all_vars,
        groups: groups.into_values().collect(),
        hosts,
        warnings,
    }
}

/// The variable of the port Ansible connects to.
const ANSIBLE_PORT: &str = "ansible_port";

/// The variables an operator sets the port with: `ansible_port`, and its
/// old spelling `ansible_ssh_port` (Ansible's ssh connection reads both
/// and keeps the last defined, so the old spelling wins).
const PORT_VARS: [&str; 2] = [ANSIBLE_PORT, "ansible_ssh_port"];

/// The hosts of the groups `pick` chooses, with those of their children,
/// their children's children …
fn hosts_under(
    groups: &BTreeMap<String, InvGroup>,
    pick: impl Fn(&InvGroup) -> bool,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut todo: Vec<&str> = groups
        .values()
        .filter(|g| pick(g))
        .map(|g| g.name.as_str())
        .collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(g) = groups.get(name) {
            out.extend(g.hosts.iter().cloned());
            todo.extend(g.children.iter().map(String::as_str));
        }
    }
    out
}

/// The inventory as `hosts.yml` sees it (`inventory`): groups and
/// `all_vars` as data, each host an [`HostObject`] whose `vars` are made
/// only if a template reads them. The built-in `hosts.yml` never does, so
/// a fleet's variables are never all in memory at once.
#[derive(Debug)]
pub struct InventoryObject {
    shared: Arc<Lazy>,
    hosts: OnceLock<Value>,
    groups: OnceLock<Value>,
    all_vars: OnceLock<Value>,
}

/// What every host object needs to make its variables.
#[derive(Debug)]
struct Lazy {
    inv: Inventory,
    site: Arc<SiteView>,
    env_prefix: String,
}

impl InventoryObject {
    /// `inv` is the [`outline`] of `site`.
    pub fn new(inv: Inventory, site: Arc<SiteView>, env_prefix: &str) -> InventoryObject {
        InventoryObject {
            shared: Arc::new(Lazy {
                inv,
                site,
                env_prefix: env_prefix.to_string(),
            }),
            hosts: OnceLock::new(),
            groups: OnceLock::new(),
            all_vars: OnceLock::new(),
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.shared.inv
    }

    /// Host `i` of the inventory (as `host_vars/` sees it: `host`).
    pub fn host(&self, i: usize) -> Value {
        Value::from_object(HostObject {
            shared: self.shared.clone(),
            i,
            vars: OnceLock::new(),
        })
    }
}

impl Object for InventoryObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let inv = &self.shared.inv;
        Some(match key.as_str()? {
            "hosts" => self
                .hosts
                .get_or_init(|| (0..inv.hosts.len()).map(|i| self.host(i)).collect())
                .clone(),
            "groups" => self.groups.get_or_init(|| to_value(&inv.groups)).clone(),
            "all_vars" => self
                .all_vars
                .get_or_init(|| to_value(&inv.all_vars))
                .clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["all_vars", "groups", "hosts"])
    }
}

/// One host of the inventory: `name`, `node`, `inventory_vars`, and
/// `vars`, made from the node on first use.
#[derive(Debug)]
pub struct HostObject {
    shared: Arc<Lazy>,
    i: usize,
    vars: OnceLock<Value>,
}

impl Object for HostObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let Lazy {
            inv,
            site,
            env_prefix,
        } = &*self.shared;
        let h = &inv.hosts[self.i];
        Some(match key.as_str()? {
            "name" => Value::from(h.name.as_str()),
            "node" => Value::from(h.node.as_str()),
            "inventory_vars" => to_value(&h.inventory_vars),
            "vars" => self
                .vars
                .get_or_init(|| {
                    let vars = device_vars(site, h.device, env_prefix);
                    super::filters::JsonData::value(Json::Object(vars))
                })
                .clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "node", "inventory_vars", "vars"])
    }
}

#[cfg(test)]
mod tests {
    use super::{is_group_name, is_var_name};

    #[test]
    fn variable_names_follow_ansible() {
        for ok in ["release", "_x", "ansible_host", "yes", "No", "x1"] {
            assert!(is_var_name(ok), "{ok}");
        }
        for bad in ["", "1x", "my-var", "a.b", "<<", "true", "None", "not", "é"] {
            assert!(!is_var_name(bad), "{bad}");
        }
        assert!(is_group_name("role_compute"));
        assert!(!is_group_name("2024_batch"));
    }
}
