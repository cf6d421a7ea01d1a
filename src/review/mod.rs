//! Review: what a change does to the *rendered* artifacts — the files that
//! land on machines — between two versions of the project.
//!
//! ```text
//! base source ─ compile ─┐                          ┌─ format::text
//!                        ├─ output::diff → group ───┼─ format::markdown
//! head source ─ compile ─┘   lockdiff, sessions     └─ format::json
//!                            summary           └──── crate::gate (policy)
//! ```
//!
//! [`compile`] runs check → resolve → render for one side from any
//! [`crate::source::Source`] (a git revision, the index, the working tree);
//! both sides compile at once. [`Review::build`] compares them: artifact
//! changes with hunks (`crate::output::diff`), files embedded in other files
//! diffed as the files they are ([`embed`]), grouped across devices and
//! files ([`group`]), each manifest summarised entry by entry (never line by
//! line), allocation changes ([`lockdiff`]), BGP sessions added and
//! removed, changed input files, and a summary a reviewer reads first.
//! Formatting is separate ([`format`]) and returns strings: this library
//! never prints.

pub mod compile;
pub mod embed;
pub mod facts;
pub mod findings;
pub mod format;
pub mod group;
pub mod instances;
pub mod lockdiff;
pub mod macs;
pub mod masked;
pub mod rename_nodes;
pub mod sessions;

pub use compile::{compile, compile_both, rename_sites, Compiled, Engine, Failed, Renderer};

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobMatcher};
use serde::Serialize;

use rayon::prelude::*;

use crate::output::diff::{self as odiff, ArtifactChange, Content, Status};
use crate::output::manifest::{self, ManifestDiff};
use crate::output::{Artifact, OutputSet, Owner};
use facts::{Facts, Session};
use group::{DeviceIndex, Group, Piece};
use lockdiff::{LockChange, LockChangeKind, Renumbered};

/// Which changes to show (`--node`, `--role`, `--kind`). Filters narrow
/// what is shown and counted; they never change what the gate evaluates.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    nodes: Vec<GlobMatcher>,
    roles: Vec<String>,
    kinds: Vec<String>,
    description: Vec<String>,
}

impl Filter {
    /// Builds a filter; an invalid glob is an error naming it.
    pub fn new(nodes: &[String], roles: &[String], kinds: &[String]) -> Result<Filter, String> {
        let known = crate::render::ARTIFACT_KINDS;
        if let Some(k) = kinds.iter().find(|k| !known.contains(&k.as_str())) {
            let near = crate::diag::did_you_mean(k, known.iter().copied())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "no artifact has the kind `{k}`{near}; kinds are {}",
                known.join(", ")
            ));
        }
        let mut f = Filter {
            roles: roles.to_vec(),
            kinds: kinds.to_vec(),
            ..Filter::default()
        };
        for n in nodes {
            let g = Glob::new(n).map_err(|e| format!("invalid --node pattern `{n}`: {e}"))?;
            f.nodes.push(g.compile_matcher());
            f.description.push(format!("--node {n}"));
        }
        f.description
            .extend(roles.iter().map(|r| format!("--role {r}")));
        f.description
            .extend(kinds.iter().map(|k| format!("--kind {k}")));
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.roles.is_empty() && self.kinds.is_empty()
    }

    /// The first `--node` or `--role` that names nothing on either side: a
    /// typo would read as "no changes" (and `--exit-code` as success).
    pub fn unmatched(&self, base: &Facts, head: &Facts) -> Option<String> {
        let sides = [base, head];
        let devices = || {
            sides
                .into_iter()
                .flat_map(|f| f.nodes.keys().chain(f.switches.keys()).map(String::as_str))
        };
        for (g, d) in self.nodes.iter().zip(self.description.iter()) {
            if !devices().any(|n| g.is_match(n)) {
                return Some(format!(
                    "{d} matches no node or switch on either side (device names as declared, like `r01n01`, not FQDNs)"
                ));
            }
        }
        let roles: std::collections::BTreeSet<&str> = sides
            .iter()
            .flat_map(|f| f.nodes.values().filter_map(|n| n.role.as_deref()))
            .collect();
        for r in &self.roles {
            if !roles.contains(r.as_str()) {
                let list: Vec<&str> = roles.iter().copied().collect();
                return Some(format!(
                    "--role {r}: no node has this role on either side; the roles are {}",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                ));
            }
        }
        None
    }

    /// `--node r01* --kind frr`, for the summary.
    pub fn describe(&self) -> String {
        self.description.join(" ")
    }

    fn device_matches(&self, owner: &Owner, role: Option<&str>) -> bool {
        let name = match owner {
            Owner::Node(n) => n.as_str(),
            Owner::Switch(s) => s.as_str(),
            // Site-wide files belong to no node or role.
            Owner::Site => return self.nodes.is_empty() && self.roles.is_empty(),
        };
        if !self.nodes.is_empty() && !self.nodes.iter().any(|g| g.is_match(name)) {
            return false;
        }
        if !self.roles.is_empty() {
            // Switches have no node role.
            let Some(role) = role.filter(|_| matches!(owner, Owner::Node(_))) else {
                return false;
            };
            if !self.roles.iter().any(|r| r == role) {
                return false;
            }
        }
        true
    }

    fn matches(&self, c: &ArtifactChange, base: &Facts, head: &Facts) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&c.kind) {
            return false;
        }
        let role = match &c.owner {
            Owner::Node(n) => head.node_role(n).or_else(|| base.node_role(n)),
            _ => None,
        };
        self.device_matches(&c.owner, role)
    }
}

/// Added/removed/changed counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.added + self.removed + self.changed
    }
    fn bump(&mut self, s: Status) {
        match s {
            Status::Added => self.added += 1,
            Status::Removed => self.removed += 1,
            Status::Changed => self.changed += 1,
        }
    }
}

/// Allocation counts from the lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LockCounts {
    /// Values an owner uses on both sides that it has anew in head (see
    /// [`lockdiff::renumbered`]). Counted once: the lines of a renumbered
    /// value (the new one allocated, the old one dropped or released) are
    /// not counted in the other counts.
    pub renumbered: usize,
    pub allocated: usize,
    pub released: usize,
    pub dropped: usize,
    pub reclaimed: usize,
}

/// What a reviewer reads first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Devices whose artifacts changed: a device that exists on one side
    /// only is added/removed.
    pub nodes: Counts,
    pub switches: Counts,
    /// Site-wide artifacts.
    pub site_files: Counts,
    /// Every artifact.
    pub artifacts: Counts,
    /// Artifacts by kind.
    pub kinds: BTreeMap<String, Counts>,
    /// In a project of several sites, artifacts by site (`prod`, `lab`,
    /// `bootinfra/core`): which clusters a change touches. Empty for a
    /// single site.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sites: BTreeMap<String, Counts>,
    pub allocations: LockCounts,
    /// Nodes (and other owners) with a renumbered value.
    pub renumbered_nodes: usize,
    /// Nodes removed and added that are the same machine (`renames`).
    pub renamed_nodes: usize,
    pub bgp_sessions: Counts,
    /// Nodes in base and head (the fleet size the gate's share uses).
    pub fleet: FleetSize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FleetSize {
    pub base_nodes: usize,
    pub head_nodes: usize,
}

/// An input file that differs between the sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputChange {
    pub path: String,
    pub status: Status,
}

/// A manifest that differs between the sides, summarised: how many of
/// its entries differ and in which fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestChange {
    /// `manifest.json`, `<site>/manifest.json`.
    pub path: String,
    pub status: Status,
    /// `None` when a side cannot be read as a manifest (`note` says why).
    pub entries: Option<ManifestDiff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A manifest of the output (`manifest.json`, `<site>/manifest.json`):
/// summarised by the review, never diffed line by line.
pub fn is_manifest(a: &Artifact) -> bool {
    a.owner == Owner::Site
        && a.kind == "manifest"
        && (a.path == manifest::MANIFEST_PATH
            || a.path.ends_with(&format!("/{}", manifest::MANIFEST_PATH)))
}

/// A BGP session that exists on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionChange {
    #[serde(flatten)]
    pub session: Session,
    pub status: Status,
    /// A changed session (same ends, another remote ASN): base's ASN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_remote_as: Option<u32>,
    /// A changed session whose end's own AS changes (see
    /// [`sessions::local_as`]): each such end, old → new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub local_as: Vec<sessions::AsChange>,
}

impl std::fmt::Display for SessionChange {
    /// `transit-a ↔ r01-tor1 over 203.0.113.1 (AS 64496 → 64499)` for a
    /// changed session, else the session.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, self.old_remote_as, self.session.remote_as) {
            (Status::Changed, Some(o), Some(n)) => {
                write!(f, "{} (AS {o} → {n})", self.session.ends())?
            }
            _ => write!(f, "{}", self.session)?,
        }
        sessions::fmt_local_as(f, &self.local_as)
    }
}

/// A node removed and a node added that are the same machine: they share
/// a MAC address or the serial number. Its lock lines do not follow the
/// name: unless the owner is renamed in siteconf.lock too, every value it
/// has is allocated anew (`Review::renumbered` lists them). Only a review
/// can see this: `check` reads one revision, and the lock holds values, not
/// MAC addresses or serials, so the old name's released lines look like
/// those of any removed node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// The node's name in base and in head.
    pub from: String,
    pub to: String,
    /// What they share: `MAC 52:54:00:01:03:01`, `serial SN0103`.
    pub same: String,
    /// How many of its values change (0: the lock owner was renamed too).
    pub renumbered: usize,
    /// In a project of several sites, the lock file its values are in, in
    /// base and in head (`sites/a/siteconf.lock`): a node moved to another
    /// site moves to that site's lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_lock: Option<String>,
}

/// A site renamed in siteconf.toml (`[sites.b]` → `[sites.lab]`): a site
/// of base's only and one of head's only whose nodes are the same
/// machines. Its devices are compared with themselves; what the name
/// changes besides is the inventory group `site_<site>`, listed as a
/// renamed group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteRename {
    pub from: String,
    pub to: String,
    /// Its nodes in head.
    pub nodes: usize,
}

impl std::fmt::Display for SiteRename {
    /// `b → lab (12 nodes)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes = if self.nodes == 1 { "node" } else { "nodes" };
        write!(f, "{} → {} ({} {nodes})", self.from, self.to, self.nodes)
    }
}

/// An Ansible inventory group added, removed or renamed. Playbooks and
/// `--limit` target groups by name: a group that disappears (a profile
/// renamed renames `profile_<profile>`) silently matches no host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupChange {
    /// `added`, `removed` or `renamed`.
    pub change: &'static str,
    /// Head's name (base's for a removed group).
    pub name: String,
    /// A renamed group's name in base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Member hosts (head's; base's for a removed group).
    pub hosts: usize,
}

impl std::fmt::Display for GroupChange {
    /// `renamed profile_a → profile_b (4 hosts)`, `removed x (2 hosts)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts = if self.hosts == 1 { "host" } else { "hosts" };
        match &self.from {
            Some(from) => write!(f, "{} {from} → {}", self.change, self.name)?,
            None => write!(f, "{} {}", self.change, self.name)?,
        }
        write!(f, " ({} {hosts})", self.hosts)
    }
}

/// Inventory groups on one side only; a removed and an added group with
/// the same (non-empty) members, unique on both sides, are one renamed
/// group. Renamed first, then removed, then added.
pub fn group_changes(base: &Facts, head: &Facts) -> Vec<GroupChange> {
    let removed: Vec<(&String, &BTreeSet<String>)> = base
        .groups
        .iter()
        .filter(|(g, _)| !head.groups.contains_key(*g))
        .collect();
    let added: Vec<(&String, &BTreeSet<String>)> = head
        .groups
        .iter()
        .filter(|(g, _)| !base.groups.contains_key(*g))
        .collect();
    let mut out = Vec::new();
    let mut paired_added = BTreeSet::new();
    let mut rest_removed = Vec::new();
    for (g, m) in &removed {
        let same: Vec<&&String> = added
            .iter()
            .filter(|(_, n)| !m.is_empty() && n == m)
            .map(|(a, _)| a)
            .collect();
        let unique_in_base = removed.iter().filter(|(_, n)| n == m).count() == 1;
        match same.as_slice() {
            [to] if unique_in_base => {
                paired_added.insert(to.as_str());
                out.push(GroupChange {
                    change: "renamed",
                    name: (**to).clone(),
                    from: Some((*g).clone()),
                    hosts: m.len(),
                });
            }
            _ => rest_removed.push(GroupChange {
                change: "removed",
                name: (*g).clone(),
                from: None,
                hosts: m.len(),
            }),
        }
    }
    out.extend(rest_removed);
    out.extend(
        added
            .iter()
            .filter(|(g, _)| !paired_added.contains(g.as_str()))
            .map(|(g, m)| GroupChange {
                change: "added",
                name: (*g).clone(),
                from: None,
                hosts: m.len(),
            }),
    );
    out
}

/// The comparison of two compiled sides.
#[derive(Debug, Clone)]
pub struct Review {
    pub base_label: String,
    pub head_label: String,
    /// Artifact changes (after the filter), in path order. A container's
    /// (user-data's) content is its own lines with its embedded files'
    /// contents taken out; its counts include the embedded files' lines.
    /// A manifest's is `Summarised` (see `manifests`).
    pub changes: Vec<ArtifactChange>,
    /// What is grouped: each change, or its embedded files and what is
    /// left of it (see [`group::Piece`]); none for a manifest.
    pub pieces: Vec<Piece>,
    /// `pieces` grouped; every piece is in exactly one group.
    pub groups: Vec<Group>,
    /// The manifests that changed, summarised.
    pub manifests: Vec<ManifestChange>,
    pub lock: Vec<LockChange>,
    /// Values of owners on both sides that change (renumbered machines):
    /// what a reviewer must see first; the gate blocks them by default.
    pub renumbered: Vec<Renumbered>,
    /// Nodes renamed (removed and added with the same MAC or serial).
    pub renames: Vec<Rename>,
    /// MAC addresses moved between nodes that keep their names (see
    /// [`macs`]); their devices count as renumbered.
    pub mac_moves: Vec<macs::MacMove>,
    /// Nodes whose MACs change to ones no node had: hardware replaced
    /// under the same names (see [`macs::mac_changes`]); not renumbered.
    pub mac_changes: Vec<macs::MacChange>,
    /// Nodes whose cloud-init instance-id changes: new machines to
    /// cloud-init at their next boot from the seed (see [`instances`]).
    pub new_instances: Vec<instances::NewInstance>,
    /// What `check` finds on head (see [`findings`]).
    pub head_check: findings::HeadCheck,
    /// Sites renamed (see [`SiteRename`]).
    pub site_renames: Vec<SiteRename>,
    /// Where the renumbered values' lines are kept: (base's lock file,
    /// head's), each pair once (`siteconf.lock` for a single site;
    /// `sites/a/siteconf.lock` … in a project of several sites).
    pub renumbered_locks: Vec<(String, String)>,
    pub sessions: Vec<SessionChange>,
    /// Ansible inventory groups added, removed or renamed (not filtered:
    /// a group is the site's, not one device's).
    pub inventory_groups: Vec<GroupChange>,
    /// Input files (site, templates, siteconf.toml, siteconf.lock) that
    /// differ. Not filtered: a filter narrows outputs, not inputs.
    pub inputs: Vec<InputChange>,
    pub summary: Summary,
    /// The filter, as the user wrote it ("" when none).
    pub filter: String,
    /// Allocation changes head's committed siteconf.lock lacks.
    pub head_lock_pending: usize,
    /// Role and rack of every node that has a change, for the gate.
    pub node_info: BTreeMap<String, NodeInfo>,
    /// Every node that has a change: added (head only), removed (base
    /// only) or changed, in name order.
    pub node_presence: Vec<(String, Status)>,
    /// The same for every switch that has a change.
    pub switch_presence: Vec<(String, Status)>,
    /// Notes from the sources (skipped symlinks …) and the comparison.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub role: Option<String>,
    pub rack: Option<String>,
}

impl Review {
    /// Compares two compiled sides.
    pub fn build(base: &Compiled, head: &Compiled, filter: &Filter) -> Review {
        let mut all = odiff::diff_with(&base.output, &head.output, &is_manifest);
        // A secret-bearing file is diffed with its secret lines masked
        // (`masked`): one BGP password must not hide a peer's new ASN.
        all.par_iter_mut()
            .filter(|c| matches!(c.content, Content::Secret))
            .for_each(|c| {
                let old = base.output.files.get(&c.path);
                let new = head.output.files.get(&c.path);
                if let Some(m) = masked::masked_content(old, new) {
                    c.content = m;
                }
            });
        let mut changes: Vec<ArtifactChange> = if filter.is_empty() {
            all
        } else {
            all.into_iter()
                .filter(|c| filter.matches(c, &base.facts, &head.facts))
                .collect()
        };
        let manifests = manifest_changes(&changes, &base.output, &head.output);
        let new_instances = instances::new_instances(&changes, &base.output, &head.output);
        let pieces = pieces(&mut changes, base, head);
        let groups = group::group(&pieces, &changes, &base.facts, &head.facts);

        let shown = |full_owner: &str, name: &str| {
            filter.is_empty() || {
                let owner = if full_owner.starts_with("switch/") {
                    Owner::Switch(name.to_string())
                } else {
                    Owner::Node(name.to_string())
                };
                let role = head
                    .facts
                    .node_role(name)
                    .or_else(|| base.facts.node_role(name));
                filter.kinds.is_empty() && filter.device_matches(&owner, role)
            }
        };
        let lock: Vec<LockChange> = lockdiff::diff(&base.lock, &head.lock)
            .into_iter()
            .filter(|l| shown(&l.owner, l.owner_name()))
            .collect();
        let mut renames = renames(&base.facts, &head.facts);
        let owner_pairs: Vec<(String, String)> = renames
            .iter()
            .map(|r| {
                (
                    base.facts.nodes[&r.from].lock_owner.clone(),
                    head.facts.nodes[&r.to].lock_owner.clone(),
                )
            })
            .collect();
        let renumbered: Vec<Renumbered> =
            lockdiff::renumbered(&base.lock, &head.lock, &owner_pairs)
                .into_iter()
                .filter(|x| shown(&x.owner, x.owner_name()))
                .collect();
        for (r, (from, to)) in renames.iter_mut().zip(&owner_pairs) {
            r.renumbered = renumbered.iter().filter(|x| x.owner == *to).count();
            r.from_lock = site_lock_of(from, base, head);
            r.to_lock = site_lock_of(to, head, base);
        }
        // The lock files the renumbered values are restored from (base's)
        // and into (head's): in a project of several sites each site has
        // its own.
        let mut renumbered_locks: Vec<(String, String)> = Vec::new();
        for x in &renumbered {
            let lock = |owner: &str, side: &Compiled, other: &Compiled| {
                site_lock_of(owner, side, other).unwrap_or_else(|| side.config.lock_file.clone())
            };
            let pair = (
                lock(x.renamed_from.as_deref().unwrap_or(&x.owner), base, head),
                lock(&x.owner, head, base),
            );
            if !renumbered_locks.contains(&pair) {
                renumbered_locks.push(pair);
            }
        }
        renames.retain(|r| {
            filter.is_empty()
                || shown(&head.facts.nodes[&r.to].lock_owner, &r.to)
                || shown(&base.facts.nodes[&r.from].lock_owner, &r.from)
        });
        // Renamed with their values kept: base's side already carries
        // head's names (`rename_nodes`).
        renames.extend(
            base.renamed_nodes
                .iter()
                .filter(|(_, to, _)| {
                    filter.is_empty() || shown(&head.facts.nodes[to].lock_owner, to)
                })
                .map(|(from, to, same)| Rename {
                    from: from.clone(),
                    to: to.clone(),
                    same: same.clone(),
                    renumbered: 0,
                    from_lock: None,
                    to_lock: None,
                }),
        );

        let mut sessions = session_changes(&base.facts, &head.facts, filter);
        sessions::local_as(&mut sessions, &base.facts, &head.facts, filter);
        let inputs = input_changes(&base.inputs, &head.inputs);
        let inventory_groups = group_changes(&base.facts, &head.facts);
        let site_renames = base
            .renamed_sites
            .iter()
            .map(|(from, to)| SiteRename {
                from: from.clone(),
                to: to.clone(),
                nodes: head
                    .facts
                    .nodes
                    .keys()
                    .filter(|n| {
                        n.strip_prefix(to.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                    })
                    .count(),
            })
            .collect();

        let mut summary = Summary {
            fleet: FleetSize {
                base_nodes: base.facts.nodes.len(),
                head_nodes: head.facts.nodes.len(),
            },
            ..Summary::default()
        };
        let mut node_info = BTreeMap::new();
        let mut node_presence = Vec::new();
        let mut seen_nodes = BTreeSet::new();
        let mut seen_switches = BTreeSet::new();
        let mut switch_presence = Vec::new();
        let multi = base.config.is_multi_site() || head.config.is_multi_site();
        for c in &changes {
            summary.artifacts.bump(c.status);
            if multi {
                let mut parts = c.path.splitn(3, '/');
                let first = parts.next().unwrap_or("");
                let key = match (first, parts.next()) {
                    ("bootinfra", Some(b)) => format!("bootinfra/{b}"),
                    _ => first.to_string(),
                };
                summary.sites.entry(key).or_default().bump(c.status);
            }
            summary
                .kinds
                .entry(c.kind.clone())
                .or_default()
                .bump(c.status);
            match &c.owner {
                Owner::Node(n) => {
                    if seen_nodes.insert(n.as_str()) {
                        let status = presence(
                            base.facts.nodes.contains_key(n),
                            head.facts.nodes.contains_key(n),
                        );
                        summary.nodes.bump(status);
                        node_presence.push((n.clone(), status));
                        let f = head.facts.nodes.get(n).or_else(|| base.facts.nodes.get(n));
                        node_info.insert(
                            n.clone(),
                            NodeInfo {
                                role: f.and_then(|f| f.role.clone()),
                                rack: f.and_then(|f| f.rack.clone()),
                            },
                        );
                    }
                }
                Owner::Switch(s) => {
                    if seen_switches.insert(s.as_str()) {
                        let status = presence(
                            base.facts.switches.contains_key(s),
                            head.facts.switches.contains_key(s),
                        );
                        summary.switches.bump(status);
                        switch_presence.push((s.clone(), status));
                    }
                }
                Owner::Site => summary.site_files.bump(c.status),
            }
        }
        node_presence.sort();
        switch_presence.sort();
        summary.allocations.renumbered = renumbered.len();
        let mac_moves = macs::mac_moves(&base.facts, &head.facts);
        let mac_changes = macs::mac_changes(&base.facts, &head.facts);
        summary.renumbered_nodes = renumbered
            .iter()
            .map(|x| x.owner.as_str())
            .chain(
                macs::devices(&mac_moves)
                    .into_iter()
                    .filter_map(|n| head.facts.nodes.get(n).map(|f| f.lock_owner.as_str())),
            )
            .collect::<BTreeSet<_>>()
            .len();
        summary.renamed_nodes = renames.len();
        // A renumbered value is counted once, as renumbered: its lines
        // (the old value dropped or released, the new one allocated) are
        // not counted again.
        let moved = lockdiff::renumbered_lines(&renumbered);
        for l in &lock {
            if moved.contains(&(l.owner.as_str(), l.key.as_str(), l.value.as_str())) {
                continue;
            }
            let a = &mut summary.allocations;
            match l.change {
                LockChangeKind::Allocated => a.allocated += 1,
                LockChangeKind::Released => a.released += 1,
                LockChangeKind::Dropped => a.dropped += 1,
                LockChangeKind::Reclaimed => a.reclaimed += 1,
            }
        }
        for s in &sessions {
            summary.bgp_sessions.bump(s.status);
        }
        let mut notes: Vec<String> = base
            .notes
            .iter()
            .map(|n| format!("base: {n}"))
            .chain(head.notes.iter().map(|n| format!("head: {n}")))
            .collect();
        if base.config.gate != head.config.gate {
            notes.push(
                "the [gate] policy in siteconf.toml changes; `siteconf gate` applies base's policy until this is merged"
                    .to_string(),
            );
        }
        Review {
            base_label: base.label.clone(),
            head_label: head.label.clone(),
            changes,
            pieces,
            groups,
            manifests,
            lock,
            renumbered,
            renames,
            mac_moves,
            mac_changes,
            new_instances,
            head_check: findings::head_check(base, head),
            renumbered_locks,
            site_renames,
            sessions,
            inventory_groups,
            inputs,
            summary,
            filter: filter.describe(),
            head_lock_pending: head.lock_pending.len(),
            node_info,
            node_presence,
            switch_presence,
            notes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.lock.is_empty()
            && self.sessions.is_empty()
            && self.renumbered.is_empty()
            && self.mac_moves.is_empty()
            && self.inventory_groups.is_empty()
            && self.site_renames.is_empty()
    }
}

/// Each manifest change, summarised (both sides parsed at once).
fn manifest_changes(
    changes: &[ArtifactChange],
    base: &OutputSet,
    head: &OutputSet,
) -> Vec<ManifestChange> {
    changes
        .iter()
        .filter(|c| matches!(c.content, Content::Summarised { .. }))
        .map(|c| {
            fn bytes<'a>(s: &'a OutputSet, path: &str) -> &'a [u8] {
                s.files.get(path).map_or(&[], |a| &a.bytes)
            }
            let (entries, note) =
                match manifest::compare(bytes(base, &c.path), bytes(head, &c.path)) {
                    Ok(d) => (Some(d), None),
                    Err(e) => (None, Some(e)),
                };
            ManifestChange {
                path: c.path.clone(),
                status: c.status,
                entries,
                note,
            }
        })
        .collect()
}

/// The pieces the review groups. A change whose text embeds files
/// (cloud-init user-data) becomes one piece per embedded file that
/// differs, plus one for its own lines if they differ; its content in
/// `changes` becomes those own lines (the base64 is never kept). Site-wide
/// files are attributed to the device they are named after.
fn pieces(changes: &mut [ArtifactChange], base: &Compiled, head: &Compiled) -> Vec<Piece> {
    let split: Vec<Option<(Content, Vec<embed::EmbeddedChange>)>> = changes
        .par_iter()
        .map(|c| {
            if !matches!(c.content, Content::Text { .. }) {
                return None;
            }
            fn text<'a>(s: &'a OutputSet, path: &str) -> Option<&'a str> {
                s.files.get(path).and_then(|a| odiff::as_text(&a.bytes))
            }
            embed::diff(text(&base.output, &c.path), text(&head.output, &c.path))
        })
        .collect();
    let index = changes
        .iter()
        .any(|c| c.owner == Owner::Site)
        .then(|| DeviceIndex::new(&base.facts, &head.facts));
    let mut out = Vec::with_capacity(changes.len());
    for (i, (c, split)) in changes.iter_mut().zip(split).enumerate() {
        if matches!(c.content, Content::Summarised { .. }) {
            continue;
        }
        let (name, about) = match &c.owner {
            Owner::Node(n) | Owner::Switch(n) => (n.clone(), None),
            Owner::Site => match index.as_ref().and_then(|x| x.device_of(&c.path)) {
                Some((t, key)) => (key.to_string(), Some(t)),
                None => (c.path.clone(), None),
            },
        };
        let piece = |embedded: Option<String>, status: Status, content: Option<Content>| Piece {
            change: i,
            embedded,
            status,
            content,
            name: name.clone(),
            about,
        };
        let Some((own, embedded)) = split else {
            out.push(piece(None, c.status, None));
            continue;
        };
        let (mut added, mut removed) = (0, 0);
        for e in &embedded {
            if let Content::Text {
                added: a,
                removed: r,
                ..
            } = &e.content
            {
                added += a;
                removed += r;
            }
        }
        let own_lines = match own {
            Content::Text {
                hunks,
                added: a,
                removed: r,
            } => {
                let has = !hunks.is_empty();
                c.content = Content::Text {
                    hunks,
                    added: added + a,
                    removed: removed + r,
                };
                has
            }
            other => {
                c.content = other;
                true
            }
        };
        if own_lines || embedded.is_empty() || c.mode_changed() {
            out.push(piece(None, c.status, None));
        }
        for e in embedded {
            out.push(piece(Some(e.target), e.status, Some(e.content)));
        }
    }
    out
}

/// Nodes removed (in base only) and added (in head only) that share a MAC
/// address or the serial number: the same machine under a new name. Each
/// added node is paired with one removed node at most, in name order.
fn renames(base: &Facts, head: &Facts) -> Vec<Rename> {
    let added: Vec<(&String, &facts::NodeFacts)> = head
        .nodes
        .iter()
        .filter(|(n, _)| !base.nodes.contains_key(*n))
        .collect();
    if added.is_empty() {
        return Vec::new();
    }
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for (from, old) in base
        .nodes
        .iter()
        .filter(|(n, _)| !head.nodes.contains_key(*n))
    {
        let same = |new: &facts::NodeFacts| {
            old.macs
                .iter()
                .find(|m| new.macs.contains(m))
                .map(|m| format!("MAC {m}"))
                .or_else(|| {
                    old.serial
                        .as_ref()
                        .filter(|s| new.serial.as_ref() == Some(s))
                        .map(|s| format!("serial {s}"))
                })
        };
        let hit = added
            .iter()
            .filter(|(to, _)| !taken.contains(to.as_str()))
            .find_map(|(to, new)| same(new).map(|s| (to.as_str(), s)));
        if let Some((to, same)) = hit {
            taken.insert(to);
            out.push(Rename {
                from: from.clone(),
                to: to.to_string(),
                same,
                renumbered: 0,
                from_lock: None,
                to_lock: None,
            });
        }
    }
    out
}

/// The lock file of a lock owner in a project of several sites
/// (`sites/a/siteconf.lock:node/r01n01` → `sites/a/siteconf.lock`); `None`
/// for a single site, whose owners carry no lock file. `other` is the other
/// side, whose lock files a renamed site's owners carry.
fn site_lock_of(owner: &str, side: &Compiled, other: &Compiled) -> Option<String> {
    side.site_locks
        .iter()
        .chain(&other.site_locks)
        .map(|(_, l)| l)
        .find(|l| {
            owner
                .strip_prefix(l.as_str())
                .is_some_and(|r| r.starts_with(':'))
        })
        .cloned()
}

fn presence(in_base: bool, in_head: bool) -> Status {
    match (in_base, in_head) {
        (false, true) => Status::Added,
        (true, false) => Status::Removed,
        _ => Status::Changed,
    }
}

fn session_changes(base: &Facts, head: &Facts, filter: &Filter) -> Vec<SessionChange> {
    let keep = |s: &Session, f: &Facts| {
        if filter.is_empty() {
            return true;
        }
        if !filter.kinds.is_empty() {
            return false;
        }
        // A session concerns both of its ends.
        [&s.a, &s.b].iter().any(|name| {
            let owner = if f.switches.contains_key(name.as_str()) {
                Owner::Switch(name.to_string())
            } else {
                Owner::Node(name.to_string())
            };
            filter.device_matches(&owner, f.node_role(name))
        })
    };
    let mut out: Vec<SessionChange> = base
        .sessions
        .difference(&head.sessions)
        .filter(|s| keep(s, base))
        .map(|s| SessionChange {
            session: s.clone(),
            status: Status::Removed,
            old_remote_as: None,
            local_as: Vec::new(),
        })
        .chain(
            head.sessions
                .difference(&base.sessions)
                .filter(|s| keep(s, head))
                .map(|s| SessionChange {
                    session: s.clone(),
                    status: Status::Added,
                    old_remote_as: None,
                    local_as: Vec::new(),
                }),
        )
        .collect();
    // The same ends with another remote ASN: one session, changed (an
    // external peer's new ASN resets it; a wrong one never comes up).
    let ends = |s: &Session| (s.a.clone(), s.b.clone(), s.via.clone());
    let removed: BTreeMap<_, Option<u32>> = out
        .iter()
        .filter(|x| x.status == Status::Removed)
        .map(|x| (ends(&x.session), x.session.remote_as))
        .collect();
    let added: BTreeSet<_> = out
        .iter()
        .filter(|x| x.status == Status::Added)
        .map(|x| ends(&x.session))
        .collect();
    out.retain(|x| !(x.status == Status::Removed && added.contains(&ends(&x.session))));
    for x in &mut out {
        if x.status == Status::Added {
            if let Some(old) = removed.get(&ends(&x.session)) {
                x.status = Status::Changed;
                x.old_remote_as = *old;
            }
        }
    }
    out.sort_by(|x, y| (&x.session, x.status).cmp(&(&y.session, y.status)));
    out
}

fn input_changes(
    base: &BTreeMap<String, [u8; 32]>,
    head: &BTreeMap<String, [u8; 32]>,
) -> Vec<InputChange> {
    let paths: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    paths
        .into_iter()
        .filter_map(|p| {
            let status = match (base.get(p), head.get(p)) {
                (Some(a), Some(b)) if a == b => return None,
                (Some(_), Some(_)) => Status::Changed,
                (None, Some(_)) => Status::Added,
                (Some(_), None) => Status::Removed,
                (None, None) => return None,
            };
            Some(InputChange {
                path: p.clone(),
                status,
            })
        })
        .collect()
}
