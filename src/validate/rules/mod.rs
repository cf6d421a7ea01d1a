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
mod bgp_not_cabled;
mod bgp_peer_address;
mod bgp_peer_password;
mod bgp_remote_as;
mod bgp_unknown_peer;
mod duplicate_asns;
mod duplicate_ips;
mod duplicate_macs;
mod duplicate_names;
mod duplicate_vlans;
mod fqdn_length;
mod interface_kind;
mod interface_mtu;
mod missing_site;
mod network_ranges;
mod node_required;
mod overlapping_prefixes;
mod port_cabled_twice;
mod profile_cycle;
mod rack_units;
mod repo_uris;
mod ssh_keys;
mod unknown_interface;
mod unknown_network;
mod unknown_port;
mod unknown_profile;
mod unknown_rack;
mod unknown_switch;
mod vlan_mismatch;

use std::collections::BTreeMap;

use super::{Ctx, Rule};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::model::{AddrSpec, Interface, Settings, Site, Sp};
use crate::resolve::{Resolved, ResolvedNode};
use crate::syntax::Span;

pub static RULES: &[&Rule] = &[
    // declared model
    &missing_site::RULE,
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
    &rack_units::RULE,
    &ssh_keys::RULE,
    &repo_uris::RULE,
    &fqdn_length::RULE,
    &bgp_peer_password::RULE,
    // resolved nodes
    &duplicate_ips::RULE,
    &duplicate_macs::RULE,
    &duplicate_asns::RULE,
    &unknown_port::RULE,
    &unknown_interface::RULE,
    &addressing::RULE,
    &port_cabled_twice::RULE,
    &interface_mtu::RULE,
    &vlan_mismatch::RULE,
    &interface_kind::RULE,
    &node_required::RULE,
    &bgp_remote_as::RULE,
    &bgp_peer_address::RULE,
    &bgp_not_cabled::RULE,
];

// ---- order of declaration ------------------------------------------------------

/// A span's place in the site for "first … / … again": file path, then
/// offset; built-in spans last. File ids follow discovery order, but the
/// path is what a reader sees, so it decides.
pub(super) fn loc<'a>(cx: &'a Ctx, span: Span) -> (bool, &'a str, u32) {
    let path = cx
        .sources
        .get(span.file)
        .map(|f| f.path.as_str())
        .unwrap_or("");
    (span.is_builtin(), path, span.start)
}

// ---- settings layers as declared ---------------------------------------------

/// Every settings layer of the site as declared, with the words that name
/// it in messages: "the site defaults", "profile `compute`", "node `r01n01`".
pub(super) fn layers(site: &Site) -> Vec<(String, &Settings)> {
    let mut out = Vec::with_capacity(1 + site.profiles.len() + site.nodes.len());
    if let Some(s) = &site.site {
        out.push(("the site defaults".to_string(), &s.defaults));
    }
    for p in &site.profiles {
        out.push((format!("profile `{}`", p.name.value), &p.settings));
    }
    for n in &site.nodes {
        out.push((format!("node `{}`", n.name.value), &n.settings));
    }
    out
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

// ---- where a resolved value was set ------------------------------------------

/// The layer that set a resolved value (`profile compute`, `site defaults`,
/// `node r01n01`), from the node's provenance; `None` when nothing
/// recorded it.
pub(super) fn layer_of<'a>(rn: &'a ResolvedNode, path: &str) -> Option<&'a str> {
    rn.provenance
        .get(path)
        .and_then(|v| v.last())
        .map(|o| o.layer.as_str())
}

/// " (set in profile `compute`)" when a resolved value comes from a shared
/// layer, "" when the node set it itself: a reader looking at a profile's
/// line should know why a node's diagnostic points there.
pub(super) fn set_in(rn: &ResolvedNode, path: &str) -> String {
    match layer_of(rn, path) {
        Some(l) if l.starts_with("profile ") => {
            format!(" (set in profile `{}`)", &l["profile ".len()..])
        }
        Some("site defaults") => " (set in the site defaults)".to_string(),
        _ => String::new(),
    }
}

/// The resolved interface of a node by name.
pub(super) fn interface<'a>(rn: &'a ResolvedNode, name: &str) -> Option<&'a Interface> {
    rn.settings.interfaces.iter().find(|i| i.name.value == name)
}

// ---- effective values of resolved nodes -------------------------------------

/// A value in effect on a resolved node: fixed in a site file, or
/// allocated (`auto`) and kept in siteconf.lock.
pub(super) struct Effective<T> {
    pub value: T,
    /// Where the value (or the `auto` that asked for it) is written.
    pub span: Span,
    /// For an allocated value, its line in siteconf.lock, when the lock
    /// already holds it (a value allocated in this run has no line yet).
    pub lock: Option<Span>,
    pub allocated: bool,
}

/// The value in effect for one request of a node. `key` is the
/// allocation key (`address.mgmt.ipv4`, `loopback.ipv6`, `asn`); it is
/// only built for `auto` requests, which keeps fixed values free.
pub(super) fn effective<T: Copy + std::str::FromStr>(
    rs: &Resolved,
    node: &str,
    key: impl FnOnce() -> String,
    spec: &Option<Sp<AddrSpec<T>>>,
) -> Option<Effective<T>> {
    let spec = spec.as_ref()?;
    match spec.value {
        AddrSpec::Fixed(v) => Some(Effective {
            value: v,
            span: spec.span,
            lock: None,
            allocated: false,
        }),
        AddrSpec::Auto => {
            let key = key();
            let value = rs.allocations.get(node, &key)?.parse().ok()?;
            Some(Effective {
                value,
                span: spec.span,
                lock: lock_line(rs, &format!("node/{node}"), &key),
                allocated: true,
            })
        }
    }
}

/// The line of siteconf.lock that holds (owner, key), by binary search:
/// the lock is kept sorted by owner and key.
fn lock_line(rs: &Resolved, owner: &str, key: &str) -> Option<Span> {
    let entries = &rs.lock.entries;
    let at = entries.partition_point(|e| (e.owner.as_str(), e.key.as_str()) < (owner, key));
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

/// Finds values claimed more than once, in O(n log n): claims are sorted
/// by value, then by place. Claims at one span (a profile giving one fixed
/// value to every node using it) go to `same_span` once, with all of them;
/// then each later place is offered to `pair` with each earlier place in
/// turn (first, again) until `pair` reports it (returns true) — so a value
/// used three times is reported twice, each time against the first place
/// it may not share with.
pub(super) fn duplicates<K: Ord, T>(
    cx: &Ctx,
    mut claims: Vec<(K, Claim<T>)>,
    diags: &mut Diagnostics,
    mut same_span: impl FnMut(&mut Diagnostics, &K, &[&Claim<T>]),
    mut pair: impl FnMut(&mut Diagnostics, &K, &Claim<T>, &Claim<T>) -> bool,
) {
    claims.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| loc(cx, a.1.span).cmp(&loc(cx, b.1.span)))
    });
    let mut i = 0;
    while i < claims.len() {
        let mut end = i + 1;
        while end < claims.len() && claims[end].0 == claims[i].0 {
            end += 1;
        }
        if end - i > 1 {
            let key = &claims[i].0;
            // One representative per span, in order of place.
            let mut reps: Vec<&Claim<T>> = Vec::new();
            let mut k = i;
            while k < end {
                let mut e = k + 1;
                while e < end && claims[e].1.span == claims[k].1.span {
                    e += 1;
                }
                if e - k > 1 {
                    let group: Vec<&Claim<T>> = claims[k..e].iter().map(|(_, c)| c).collect();
                    same_span(diags, key, &group);
                }
                reps.push(&claims[k].1);
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
        i = end;
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
    /// by some registered rule, so a code cannot be added to the registry
    /// and forgotten.
    #[test]
    fn every_model_code_has_a_rule() {
        let claimed: std::collections::BTreeSet<Code> =
            RULES.iter().flat_map(|r| r.codes.iter().copied()).collect();
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
    fn name_lists_are_capped() {
        assert_eq!(name_list(["a", "b"], 3), "`a`, `b`");
        assert_eq!(
            name_list(["a", "b", "c", "d", "e"], 3),
            "`a`, `b`, `c` and 2 more"
        );
        assert_eq!(name_list([], 3), "none");
    }
}
