//! The registry of validation rules. Adding a rule: a new file here with a
//! doc comment (what it catches, why, an example), a `pub static RULE: Rule`,
//! and a line in [`RULES`]; its codes go in `crate::diag::codes`.
//!
//! Rules come in two phases. Rules about what is *declared* (names,
//! references, prefixes, racks, keys, URLs) run on the model as lowered and
//! look at every settings layer once — site defaults, each profile, each
//! node — so a typo in a profile is reported once, at the profile. Rules
//! about *effective* values (addresses, MTUs, BGP sessions, cabling) run on
//! the resolved nodes, where profiles are merged and `auto` values
//! allocated; a value a node inherits from a profile is reported at the
//! profile's span, folded over every node it affects (see [`PerNode`]).
//!
//! Every rule is O(n log n) in the size of the site: lookups go through
//! maps, never through pairwise loops over nodes.
//!
//! The helpers below are what several rules share: the settings layers,
//! "did you mean", where a resolved value was set, and folding per-node
//! findings. They are kept here rather than in a `util` module so that a
//! reader of a rule finds them one `super::` away.

mod addressing;
mod ansible_connection_vars;
mod ansible_host_var;
mod ansible_port;
mod ansible_reserved_vars;
mod asn_classes;
mod automation_user;
mod bgp_no_ipv6_exit;
mod bgp_node_no_session;
mod bgp_not_cabled;
mod bgp_numbered_path;
mod bgp_peer_address;
mod bgp_peer_asn;
mod bgp_peer_link;
mod bgp_peer_own_address;
mod bgp_peer_password;
mod bgp_remote_as;
mod bgp_unknown_peer;
mod bgp_uplink_idle;
mod bond_legs_not_paired;
mod bond_mode;
mod bond_single_member;
mod boot_args;
mod boot_discovery;
mod boot_hosts;
mod boot_image_missing;
mod boot_images;
mod boot_no_dhcp;
mod boot_paths;
mod boot_pxe_bond;
mod boot_repeated;
mod boot_served;
pub(crate) mod boot_servers;
mod boot_urls;
mod cabled_to_other_rack;
mod dhcp_no_ipv4;
mod dns_servers;
mod duplicate_asns;
mod duplicate_ips;
mod duplicate_macs;
mod duplicate_names;
mod duplicate_serials;
mod duplicate_vlans;
mod fabric_links;
mod file_names;
mod fqdn_length;
mod generated_groups;
mod group_cycle;
mod group_host_name;
mod group_names;
mod interface_kind;
mod interface_mtu;
mod inventory_vars;
mod ipv6_mtu;
mod loopback_in_network;
mod loopback_not_announced;
mod mac_not_rendered;
mod missing_site;
mod mlag_peer;
mod mtu_mismatch;
mod network_os;
mod network_ranges;
mod node_default_route;
mod node_loopback;
mod node_mgmt_address;
mod node_required;
mod ntp_servers;
mod one_line;
mod overlapping_prefixes;
mod package_conflicts;
mod package_names;
mod port_cabled_twice;
mod port_declared_twice;
mod profile_cycle;
mod rack_position_shared;
mod rack_units;
mod repo_conflicts;
mod repo_fields;
mod repo_releases;
mod repo_signed_by;
mod repo_suites;
mod repo_uris;
mod secret_env_collision;
mod secret_names;
mod secret_vars;
mod site_domain;
mod ssh_key_options;
mod ssh_key_shared;
mod ssh_key_users;
mod ssh_keys;
mod sshd_login;
pub(crate) mod sshd_options;
mod stray_files;
mod switch_loopback;
mod switch_port_addresses;
mod timezone;
mod undeclared_child_group;
mod unknown_interface;
mod unknown_network;
mod unknown_port;
mod unknown_profile;
mod unknown_rack;
mod unknown_switch;
mod untagged_vlans;
mod vlan_interface_twice;
mod vlan_mismatch;

use std::collections::BTreeMap;

use super::{Ctx, Rule};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::model::{Interface, Settings, Site};
use crate::resolve::{AllocKey, IpFamily, Layer, Resolved, ResolvedNode};
use crate::syntax::Span;

pub static RULES: &[&Rule] = &[
    // declared model
    &missing_site::RULE,
    &dhcp_no_ipv4::RULE,
    &dns_servers::RULE,
    &duplicate_names::RULE,
    &duplicate_vlans::RULE,
    &overlapping_prefixes::RULE,
    &network_ranges::RULE,
    &unknown_rack::RULE,
    &unknown_switch::RULE,
    &unknown_network::RULE,
    &unknown_profile::RULE,
    &bgp_unknown_peer::RULE,
    &profile_cycle::RULE,
    &group_cycle::RULE,
    &rack_units::RULE,
    &ssh_keys::RULE,
    &repo_uris::RULE,
    &file_names::RULE,
    &fqdn_length::RULE,
    &group_names::RULE,
    &group_host_name::RULE,
    &generated_groups::RULE,
    &bgp_peer_password::RULE,
    &bgp_peer_link::RULE,
    &fabric_links::RULE,
    &secret_vars::RULE,
    &ansible_reserved_vars::RULE,
    &secret_names::RULE,
    &secret_env_collision::RULE,
    &sshd_options::RULE,
    &ssh_key_options::RULE,
    &repo_signed_by::RULE,
    &repo_fields::RULE,
    &repo_releases::RULE,
    &package_conflicts::RULE,
    &package_names::RULE,
    &timezone::RULE,
    &ntp_servers::RULE,
    &switch_loopback::RULE,
    &switch_port_addresses::RULE,
    &asn_classes::RULE,
    &bgp_peer_own_address::RULE,
    &bgp_peer_asn::RULE,
    &bond_mode::RULE,
    &one_line::RULE,
    // declared model: warnings
    &duplicate_serials::RULE,
    &port_declared_twice::RULE,
    &loopback_in_network::RULE,
    &rack_position_shared::RULE,
    &undeclared_child_group::RULE,
    &ssh_key_users::RULE,
    &ssh_key_shared::RULE,
    &repo_suites::RULE,
    &site_domain::RULE,
    &inventory_vars::RULE,
    &ansible_host_var::RULE,
    &ansible_connection_vars::RULE,
    &ansible_port::RULE,
    &stray_files::RULE,
    &boot_urls::RULE,
    &boot_images::RULE,
    &boot_discovery::RULE,
    &boot_paths::RULE,
    &boot_servers::RULE,
    &boot_served::RULE,
    &boot_hosts::RULE,
    &boot_repeated::RULE,
    &boot_args::RULE,
    &network_os::RULE,
    // resolved nodes
    &duplicate_ips::RULE,
    &duplicate_macs::RULE,
    &duplicate_asns::RULE,
    &unknown_port::RULE,
    &unknown_interface::RULE,
    &addressing::RULE,
    &port_cabled_twice::RULE,
    &interface_mtu::RULE,
    &ipv6_mtu::RULE,
    &vlan_mismatch::RULE,
    &vlan_interface_twice::RULE,
    &untagged_vlans::RULE,
    &interface_kind::RULE,
    &node_required::RULE,
    &node_loopback::RULE,
    &loopback_not_announced::RULE,
    &node_mgmt_address::RULE,
    &bgp_remote_as::RULE,
    &bgp_peer_address::RULE,
    &bgp_not_cabled::RULE,
    &boot_no_dhcp::RULE,
    // resolved nodes: warnings
    &mtu_mismatch::RULE,
    &boot_pxe_bond::RULE,
    &cabled_to_other_rack::RULE,
    &mlag_peer::RULE,
    &bond_legs_not_paired::RULE,
    &bond_single_member::RULE,
    &mac_not_rendered::RULE,
    &bgp_numbered_path::RULE,
    &bgp_uplink_idle::RULE,
    &bgp_node_no_session::RULE,
    &bgp_no_ipv6_exit::RULE,
    &node_default_route::RULE,
    &boot_image_missing::RULE,
    &automation_user::RULE,
    &sshd_login::RULE,
    &repo_conflicts::RULE,
];

// ---- help in the format of the file --------------------------------------------

/// A setting as the operator would write it in the file of `span`: `kdl`
/// in a KDL file (and where the file is not known), `toml` in a TOML one.
/// Help that shows what to write uses the syntax of the file it points at.
pub(super) fn written(cx: &Ctx, span: Span, kdl: &str, toml: &str) -> String {
    let toml_file = cx
        .sources
        .get(span.file)
        .and_then(|f| crate::syntax::Format::from_path(&f.path))
        == Some(crate::syntax::Format::Toml);
    if toml_file { toml } else { kdl }.to_string()
}

// ---- order of declaration ------------------------------------------------------

/// A span's place in the site for "first … / … again": file path, then
/// offset; built-in spans last. The path is what a reader sees, so it
/// decides, as it does for the final sort of diagnostics.
pub(super) fn loc<'a>(cx: &'a Ctx, span: Span) -> (bool, &'a str, u32) {
    let path = cx
        .sources
        .get(span.file)
        .map(|f| f.path.as_str())
        .unwrap_or("");
    (span.is_builtin(), path, span.start)
}

/// [`loc`] as a small integer key, for sorting thousands of places: each
/// file's rank among the paths is computed once.
pub(super) struct Order {
    rank: Vec<u32>,
}

impl Order {
    pub fn new(cx: &Ctx) -> Order {
        let mut files: Vec<(&str, usize)> = cx
            .sources
            .files()
            .map(|(id, f)| (f.path.as_str(), id.0 as usize))
            .collect();
        files.sort();
        let mut rank = vec![0; files.len()];
        for (r, (_, id)) in files.into_iter().enumerate() {
            rank[id] = r as u32;
        }
        Order { rank }
    }

    pub fn key(&self, span: Span) -> (bool, u32, u32) {
        let rank = self
            .rank
            .get(span.file.0 as usize)
            .copied()
            .unwrap_or(u32::MAX);
        (span.is_builtin(), rank, span.start)
    }
}

// ---- repeated keys --------------------------------------------------------------

/// Every item whose key an earlier item already had, with that earlier item:
/// `(first, again)` in declaration order (items without a key are skipped).
/// Two items with one name are one entity declared twice, which is SC0101's
/// finding, so they are not a repeat.
pub(super) fn repeats<'a, T, K: Ord>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> Option<K>,
    name: impl Fn(&T) -> &str,
) -> Vec<(&'a T, &'a T)> {
    let mut first: BTreeMap<K, &'a T> = BTreeMap::new();
    let mut out = Vec::new();
    for it in items {
        let Some(k) = key(it) else { continue };
        match first.get(&k) {
            Some(prev) if name(prev) != name(it) => out.push((*prev, it)),
            Some(_) => {}
            None => {
                first.insert(k, it);
            }
        }
    }
    out
}

// ---- fast lookups by name --------------------------------------------------------

/// FxHash (the `rustc-hash` crate), the hasher rustc uses for its own
/// tables: several times faster than the default SipHash on the short names
/// rules look up tens of thousands of times (switches, ports, interfaces).
/// Collision attacks are not a concern for a site's own names. Maps hashed
/// with it are only looked up, never iterated into output.
pub(super) type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;
pub(super) type FxSet<K> = rustc_hash::FxHashSet<K>;

/// Switch name → index into `site.switches`; the first declaration wins,
/// as in the site index.
/// The names of the site's management networks, in declaration order.
pub(super) fn management_networks(site: &Site) -> Vec<&str> {
    site.networks
        .iter()
        .filter(|n| n.purpose.value == crate::model::Purpose::Management)
        .map(|n| n.name.value.as_str())
        .collect()
}

pub(super) fn switch_index(site: &Site) -> FxMap<&str, usize> {
    let mut m = FxMap::default();
    m.reserve(site.switches.len());
    for (i, s) in site.switches.iter().enumerate() {
        m.entry(s.name.as_str()).or_insert(i);
    }
    m
}

/// The allocation key of a node's address on `network`.
pub(super) fn address_key(network: &str, family: IpFamily) -> AllocKey<&str> {
    AllocKey::Address { network, family }
}

// ---- settings layers as declared ---------------------------------------------

/// The name of a settings layer in messages: "the site defaults",
/// "profile `compute`", "node `r01n01`". Formatted only when a finding
/// needs it, so walking 10,000 layers allocates nothing.
#[derive(Clone, Copy)]
pub(super) enum LayerName<'a> {
    Defaults,
    Profile(&'a str),
    Node(&'a str),
}

impl std::fmt::Display for LayerName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerName::Defaults => f.write_str("the site defaults"),
            LayerName::Profile(p) => write!(f, "profile `{p}`"),
            LayerName::Node(n) => write!(f, "node `{n}`"),
        }
    }
}

/// Every settings layer of the site as declared, with its name.
pub(super) fn layers(site: &Site) -> impl Iterator<Item = (LayerName<'_>, &Settings)> {
    let defaults = site.site.iter().map(|s| (LayerName::Defaults, &s.defaults));
    let profiles = site
        .profiles
        .iter()
        .map(|p| (LayerName::Profile(p.name.as_str()), &p.settings));
    let nodes = site
        .nodes
        .iter()
        .map(|n| (LayerName::Node(n.name.as_str()), &n.settings));
    defaults.chain(profiles).chain(nodes)
}

// ---- nodes whose settings may lack a layer ------------------------------------

/// Which nodes may be missing settings because a layer they inherit is not
/// there: a profile they name (directly or through `include`) that is not
/// declared, or site defaults in a file that failed to parse. Rules about
/// what a node *lacks* (no ASN, no MAC, an interface no layer declares)
/// skip those nodes: the unknown profile or the syntax error is the one
/// finding, not one more per node that uses it.
pub(super) struct Gaps {
    defaults_lost: bool,
    /// Per profile (index into `site.profiles`): an included profile is
    /// missing, at any depth.
    profile_gap: Vec<bool>,
}

impl Gaps {
    pub fn new(cx: &Ctx) -> Gaps {
        let site = cx.site;
        let defaults_lost =
            (site.site.is_none() && site.lost.may_declare("site")) || site.site_declared_twice;
        // 0 unvisited, 1 in progress (a cycle: reported by its own rule),
        // 2 done.
        let n = site.profiles.len();
        let mut state = vec![0u8; n];
        let mut gap = vec![false; n];
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            // Iterative depth-first walk: (profile, next include to visit).
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (p, ref mut next)) = stack.last_mut() {
                let includes = &site.profiles[p].includes;
                if *next < includes.len() {
                    let inc = &includes[*next];
                    *next += 1;
                    match cx.index.profiles.get(inc.as_str()) {
                        None => gap[p] = true,
                        Some(&q) => match state[q] {
                            0 => {
                                state[q] = 1;
                                stack.push((q, 0));
                            }
                            2 => gap[p] |= gap[q],
                            _ => {}
                        },
                    }
                } else {
                    state[p] = 2;
                    stack.pop();
                    if let Some(&(parent, _)) = stack.last() {
                        gap[parent] |= gap[p];
                    }
                }
            }
        }
        Gaps {
            defaults_lost,
            profile_gap: gap,
        }
    }

    /// Whether a missing layer of `node` may declare interface `name`: the
    /// site defaults are lost, or a profile it names is not declared and
    /// either no declared profile is close to its name, or the closest one
    /// (`compte` → `compute`, the profile surely meant) declares it. So a
    /// profile typo does not also report the bond the profile declares,
    /// while an interface the meant profile does not have is still
    /// reported.
    pub fn may_supply_interface(&self, cx: &Ctx, node: &crate::model::Node, name: &str) -> bool {
        if self.defaults_lost {
            return true;
        }
        let mut seen = vec![false; cx.site.profiles.len()];
        node.profiles
            .iter()
            .any(|p| self.supplies(cx, p.as_str(), name, &mut seen))
    }

    fn supplies(&self, cx: &Ctx, profile: &str, name: &str, seen: &mut [bool]) -> bool {
        let i = match cx.index.profiles.get(profile) {
            Some(&i) => i,
            None => {
                let names = cx.index.profiles.keys().map(|k| k.as_str());
                return match closest(profile, names).and_then(|s| cx.index.profiles.get(s)) {
                    None => true,
                    Some(&s) => self.declares(cx, s, name, seen),
                };
            }
        };
        if !self.profile_gap[i] {
            return false;
        }
        cx.site.profiles[i]
            .includes
            .iter()
            .any(|inc| self.supplies(cx, inc.as_str(), name, seen))
    }

    /// Whether profile `i` or one it includes declares interface `name`.
    fn declares(&self, cx: &Ctx, i: usize, name: &str, seen: &mut [bool]) -> bool {
        if std::mem::replace(&mut seen[i], true) {
            return false;
        }
        let p = &cx.site.profiles[i];
        p.settings.interfaces.iter().any(|x| x.name.value == name)
            || p.includes
                .iter()
                .any(|inc| match cx.index.profiles.get(inc.as_str()) {
                    Some(&j) => self.declares(cx, j, name, seen),
                    None => self.supplies(cx, inc.as_str(), name, seen),
                })
    }

    /// Whether a node may lack settings a missing layer would give it.
    pub fn node(&self, cx: &Ctx, node: &crate::model::Node) -> bool {
        self.defaults_lost
            || node
                .profiles
                .iter()
                .any(|p| match cx.index.profiles.get(p.as_str()) {
                    None => true,
                    Some(&i) => self.profile_gap[i],
                })
    }
}

// ---- "did you mean" ------------------------------------------------------------

/// The hint for a name that is not declared: the declared name it equals
/// once case, separators and leading zeros are ignored (`r1` → `r01`,
/// `R01-TOR1` → `r01-tor1`), else the closest by edit similarity, else
/// `otherwise`. Candidates come in a fixed order, so the hint is stable.
pub(super) fn suggest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    match closest(wrong, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise(),
    }
}

/// The declared name [`suggest`] would propose, if any.
pub(super) fn closest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let key = loose(wrong);
    candidates
        .iter()
        .copied()
        .find(|c| loose(c) == key)
        .or_else(|| did_you_mean(wrong, candidates.iter().copied()))
}

/// [`suggest`] over one fixed set of candidates, remembering its answer
/// per wrong name: a name misspelt in a generated block repeats on
/// thousands of nodes, and comparing it with every declared name each time
/// would make a site with one typo slow to check.
pub(super) struct Suggester<'a> {
    candidates: Vec<&'a str>,
    cache: FxMap<String, Option<&'a str>>,
}

impl<'a> Suggester<'a> {
    pub fn new(candidates: impl IntoIterator<Item = &'a str>) -> Suggester<'a> {
        Suggester {
            candidates: candidates.into_iter().collect(),
            cache: FxMap::default(),
        }
    }

    pub fn hint(&mut self, wrong: &str, otherwise: impl FnOnce() -> String) -> String {
        let hit = match self.cache.get(wrong) {
            Some(h) => *h,
            None => {
                let h = closest(wrong, self.candidates.iter().copied());
                self.cache.insert(wrong.to_string(), h);
                h
            }
        };
        match hit {
            Some(s) => format!("did you mean `{s}`?"),
            None => otherwise(),
        }
    }
}

/// A name with case, `-`/`_`/`.` and leading zeros of numbers dropped.
fn loose(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_digit = false;
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let c = c.to_ascii_lowercase();
        if matches!(c, b'-' | b'_' | b'.') {
            prev_digit = false;
            continue;
        }
        let next_is_digit = b.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c == b'0' && !prev_digit && next_is_digit {
            continue;
        }
        prev_digit = c.is_ascii_digit();
        out.push(c as char);
    }
    out
}

/// Up to `max` names as "`a`, `b`, `c`" (and "… and N more").
pub(super) fn name_list<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let shown: Vec<String> = names.iter().take(max).map(|n| format!("`{n}`")).collect();
    match names.len() {
        0 => "none".to_string(),
        n if n > max => format!("{} and {} more", shown.join(", "), n - max),
        _ => shown.join(", "),
    }
}

// ---- pointing inside a value ------------------------------------------------------

/// The part of the value at `span` that reads `needle`, when the source
/// text holds it exactly once (a string written with escapes may not):
/// a finding about one option of `options "a,b,c"` points at that option.
/// Otherwise the whole value.
pub(super) fn narrow(cx: &Ctx, span: Span, needle: &str) -> Span {
    if needle.is_empty() || span.is_builtin() {
        return span;
    }
    let text = cx.sources.text(span);
    match (text.find(needle), text.rfind(needle)) {
        (Some(a), Some(b)) if a == b => Span {
            file: span.file,
            start: span.start + a as u32,
            end: span.start + (a + needle.len()) as u32,
        },
        _ => span,
    }
}

// ---- where a resolved value was set ------------------------------------------

/// The layer that set a resolved value (`profile compute`, `site defaults`,
/// `node r01n01`), from the span the merged value kept; `None` when the
/// path names nothing.
pub(super) fn layer_of<'a>(rn: &'a ResolvedNode, path: &str) -> Option<&'a Layer> {
    rn.layer_of(path)
}

/// " (set in profile `compute`)" when a resolved value comes from a shared
/// layer, "" when the node set it itself: a reader looking at a profile's
/// line should know why a node's diagnostic points there.
pub(super) fn set_in(rn: &ResolvedNode, path: &str) -> String {
    written_in(rn, path, "set")
}

/// [`set_in`] for something declared rather than set: " (declared in
/// profile `compute`)", e.g. for an interface a profile declares and no
/// layer completes.
pub(super) fn declared_in(rn: &ResolvedNode, path: &str) -> String {
    written_in(rn, path, "declared")
}

fn written_in(rn: &ResolvedNode, path: &str, verb: &str) -> String {
    layer_of(rn, path)
        .map(|l| l.written_in(verb))
        .unwrap_or_default()
}

/// The resolved interface of a node by name.
pub(super) fn interface<'a>(rn: &'a ResolvedNode, name: &str) -> Option<&'a Interface> {
    rn.settings.interfaces.iter().find(|i| i.name.value == name)
}

/// Labels one finding for `count` allocated values a changed prefix no
/// longer holds (a renumbered network) at the first of them, `ip` of node
/// `first`: its lock line and the `auto` that asked for it, or, with no
/// lock line yet, the value itself, `outside` the prefix.
pub(super) fn label_first_stale(
    d: Diagnostic,
    (first, ip, count): (&str, std::net::IpAddr, usize),
    lock: Option<Span>,
    span: Span,
    outside: &str,
) -> Diagnostic {
    match lock {
        Some(l) => d
            .label(
                l,
                format!("{ip} of `{first}`, the first of {count} (allocated in siteconf.lock)"),
            )
            .label(span, "`auto` asked for here"),
        None => d.label(span, format!("{ip} of `{first}`, outside {outside}")),
    }
}

// ---- effective values of resolved nodes -------------------------------------

/// The line of siteconf.lock that holds a node's allocated value, when the
/// lock already has it (a value allocated in this run has no line yet).
/// Binary search: the lock is kept sorted by owner and key. Looked up only
/// for findings, where it is the place to fix.
pub(super) fn lock_line(rs: &Resolved, node: &str, key: AllocKey<&str>) -> Option<Span> {
    let owner = format!("node/{node}");
    let key = key.to_string();
    let key = key.as_str();
    let entries = &rs.lock.entries;
    let at =
        entries.partition_point(|e| (e.owner.as_str(), e.key.as_str()) < (owner.as_str(), key));
    entries[at..]
        .iter()
        .take_while(|e| e.owner == owner && e.key == key)
        .find(|e| !e.released && !e.span.is_builtin())
        .map(|e| e.span)
}

// ---- duplicate values ------------------------------------------------------------

/// One place that claims a value which must be unique (an address, a MAC,
/// an ASN), with what the rule needs to describe it.
pub(super) struct Claim<T> {
    pub span: Span,
    /// The resolved node (index into `site.nodes`) that holds it, if any.
    pub node: Option<usize>,
    pub data: T,
}

/// Finds values claimed more than once: one pass with a hash map finds the
/// repeated values, so the cost is O(n) however many claims there are;
/// only the few repeated ones are then sorted by place. Claims at one span
/// (a profile giving one fixed value to every node using it) go to
/// `same_span` once, with all of them; then each later place is offered to
/// `pair` with each earlier place in turn (first, again) until `pair`
/// reports it (returns true) — so a value used three times is reported
/// twice, each time against the first place it may not share with.
pub(super) fn duplicates<K: std::hash::Hash + Eq, T>(
    cx: &Ctx,
    claims: Vec<(K, Claim<T>)>,
    diags: &mut Diagnostics,
    mut same_span: impl FnMut(&mut Diagnostics, &K, &[&Claim<T>]),
    mut pair: impl FnMut(&mut Diagnostics, &K, &Claim<T>, &Claim<T>) -> bool,
) {
    // Value → its first claim; repeats as (first, repeat) pairs, in claim
    // order, so what follows never depends on hash order.
    let mut first: FxMap<&K, usize> = FxMap::default();
    first.reserve(claims.len());
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for (i, (k, _)) in claims.iter().enumerate() {
        match first.get(k) {
            Some(&f) => repeats.push((f, i)),
            None => {
                first.insert(k, i);
            }
        }
    }
    if repeats.is_empty() {
        return;
    }
    repeats.sort_unstable();
    let order = Order::new(cx);
    let mut r = 0;
    while r < repeats.len() {
        let f = repeats[r].0;
        let mut group: Vec<&Claim<T>> = vec![&claims[f].1];
        while r < repeats.len() && repeats[r].0 == f {
            group.push(&claims[repeats[r].1].1);
            r += 1;
        }
        group.sort_by_key(|c| order.key(c.span));
        let key = &claims[f].0;
        // One representative per span, in order of place.
        let mut reps: Vec<&Claim<T>> = Vec::new();
        let mut k = 0;
        while k < group.len() {
            let mut e = k + 1;
            while e < group.len() && group[e].span == group[k].span {
                e += 1;
            }
            if e - k > 1 {
                same_span(diags, key, &group[k..e]);
            }
            reps.push(group[k]);
            k = e;
        }
        for a in 1..reps.len() {
            for f in 0..a {
                if pair(diags, key, reps[f], reps[a]) {
                    break;
                }
            }
        }
    }
}

// ---- folding per-node findings -------------------------------------------------

/// Collects findings on resolved nodes. A mistake in a profile shows up on
/// every node that uses it, at the same span with the same message; a
/// 2,000-node site would otherwise print it 2,000 times. Findings are
/// folded by (span, code, message) into one diagnostic that names the
/// nodes: "node `r01n01`: …", or "3 nodes (`a`, `b`, `c`): …". Messages
/// given to [`PerNode::push`] therefore do not name the node themselves.
#[derive(Default)]
pub(super) struct PerNode {
    found: BTreeMap<(Span, Code, String), (Diagnostic, Vec<String>)>,
}

impl PerNode {
    pub fn new() -> PerNode {
        PerNode::default()
    }

    pub fn push(&mut self, node: &str, d: Diagnostic) {
        let key = (d.primary_span(), d.code, d.message.clone());
        let entry = self.found.entry(key).or_insert_with(|| (d, Vec::new()));
        if entry.1.last().map(|s| s.as_str()) != Some(node) {
            entry.1.push(node.to_string());
        }
    }

    pub fn finish(self, diags: &mut Diagnostics) {
        for (_, (mut d, nodes)) in self.found {
            let who = match nodes.len() {
                1 => format!("node `{}`", nodes[0]),
                n => format!(
                    "{n} nodes ({})",
                    name_list(nodes.iter().map(|s| s.as_str()), 3)
                ),
            };
            d.message = format!("{who}: {}", d.message);
            diags.push(d);
        }
    }
}

#[cfg(test)]
pub(super) mod testing {
    //! Running the checks on a site written inline, for unit tests of rules.
    use crate::diag::Diagnostic;
    use crate::source::MemSource;

    /// Every diagnostic of `siteconf check` on one KDL file, sorted.
    pub fn check_kdl(text: &str) -> Vec<Diagnostic> {
        let src = MemSource::new().with("site/site.kdl", text);
        let checked = crate::check::check(&src);
        checked.diags.sorted(&checked.loaded.sources)
    }

    /// The codes of [`check_kdl`], as `SCnnnn` strings.
    pub fn codes(text: &str) -> Vec<&'static str> {
        check_kdl(text).iter().map(|d| d.code.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::ALL_CODES;

    /// Every code of the model-checking ranges (SC01xx–SC07xx) is emitted
    /// by some registered rule (or the cross-site check), so a code cannot
    /// be added to the registry and forgotten.
    #[test]
    fn every_model_code_has_a_rule() {
        let claimed: std::collections::BTreeSet<Code> = RULES
            .iter()
            .flat_map(|r| r.codes.iter().copied())
            .chain(crate::validate::cross_site::CODES.iter().copied())
            .collect();
        for info in ALL_CODES {
            let n: u32 = info.id[2..].parse().expect("SCnnnn");
            if (101..800).contains(&n) {
                assert!(
                    claimed.contains(&info.code),
                    "{} has no rule in RULES",
                    info.id
                );
            }
        }
    }

    #[test]
    fn rule_names_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.name), "rule `{}` registered twice", r.name);
            assert!(
                r.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "rule name `{}` is not kebab-case",
                r.name
            );
            assert!(!r.codes.is_empty(), "rule `{}` has no codes", r.name);
        }
    }

    #[test]
    fn suggestions_ignore_case_separators_and_leading_zeros() {
        let racks = ["r01", "r02", "r10"];
        let none = || "none".to_string();
        assert_eq!(suggest("r1", racks, none), "did you mean `r01`?");
        assert_eq!(suggest("R02", racks, none), "did you mean `r02`?");
        assert_eq!(suggest("r010", racks, none), "did you mean `r10`?");
        assert_eq!(
            suggest("spine01", ["spine1", "spine2"], none),
            "did you mean `spine1`?"
        );
        assert_eq!(
            suggest("r01tor1", ["r01-tor1"], none),
            "did you mean `r01-tor1`?"
        );
        assert_eq!(suggest("xyz", racks, none), "none");
    }

    #[test]
    fn fx_spreads_keys_that_differ_in_their_last_bytes() {
        use std::hash::BuildHasher;
        // 4,096 MACs of one vendor prefix: the low 12 bits of their hashes
        // (what a table of 4,096 buckets uses) must not all be equal.
        let b = rustc_hash::FxBuildHasher;
        let buckets: std::collections::BTreeSet<u64> = (0..4096u32)
            .map(|i| {
                let m = [0x52, 0x54, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
                b.hash_one(m) & 0xfff
            })
            .collect();
        assert!(
            buckets.len() > 2000,
            "only {} distinct buckets",
            buckets.len()
        );
    }

    #[test]
    fn name_lists_are_capped() {
        assert_eq!(name_list(["a", "b"], 3), "`a`, `b`");
        assert_eq!(
            name_list(["a", "b", "c", "d", "e"], 3),
            "`a`, `b`, `c` and 2 more"
        );
        assert_eq!(name_list([], 3), "none");
    }
}
