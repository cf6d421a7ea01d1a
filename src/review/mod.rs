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
//! changes with hunks (`crate::output::diff`), grouped across devices
//! ([`group`]), allocation changes ([`lockdiff`]), BGP sessions added and
//! removed, changed input files, and a summary a reviewer reads first.
//! Formatting is separate ([`format`]) and returns strings: this library
//! never prints.

pub mod compile;
pub mod facts;
pub mod format;
pub mod group;
pub mod lockdiff;

pub use compile::{compile, compile_both, Compiled, Engine, Failed, Renderer};

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobMatcher};
use serde::Serialize;

use crate::output::diff::{self as odiff, ArtifactChange, Status};
use crate::output::Owner;
use facts::{Facts, Session};
use group::Group;
use lockdiff::{LockChange, LockChangeKind};

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

/// A BGP session that exists on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionChange {
    #[serde(flatten)]
    pub session: Session,
    pub status: Status,
}

/// The comparison of two compiled sides.
#[derive(Debug, Clone)]
pub struct Review {
    pub base_label: String,
    pub head_label: String,
    /// Artifact changes (after the filter), in path order.
    pub changes: Vec<ArtifactChange>,
    /// `changes` grouped; every change is in exactly one group.
    pub groups: Vec<Group>,
    pub lock: Vec<LockChange>,
    pub sessions: Vec<SessionChange>,
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
        let all = odiff::diff(&base.output, &head.output);
        let changes: Vec<ArtifactChange> = if filter.is_empty() {
            all
        } else {
            all.into_iter()
                .filter(|c| filter.matches(c, &base.facts, &head.facts))
                .collect()
        };
        let groups = group::group(&changes, &base.facts, &head.facts);

        let lock: Vec<LockChange> = lockdiff::diff(&base.lock, &head.lock)
            .into_iter()
            .filter(|l| {
                filter.is_empty() || {
                    let name = l.owner_name().to_string();
                    let owner = if l.owner.starts_with("switch/") {
                        Owner::Switch(name)
                    } else {
                        Owner::Node(name)
                    };
                    let role = head
                        .facts
                        .node_role(l.owner_name())
                        .or_else(|| base.facts.node_role(l.owner_name()));
                    filter.kinds.is_empty() && filter.device_matches(&owner, role)
                }
            })
            .collect();

        let sessions = session_changes(&base.facts, &head.facts, filter);
        let inputs = input_changes(&base.inputs, &head.inputs);

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
                        summary.switches.bump(presence(
                            base.facts.switches.contains_key(s),
                            head.facts.switches.contains_key(s),
                        ));
                    }
                }
                Owner::Site => summary.site_files.bump(c.status),
            }
        }
        node_presence.sort();
        for l in &lock {
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
            groups,
            lock,
            sessions,
            inputs,
            summary,
            filter: filter.describe(),
            head_lock_pending: head.lock_pending.len(),
            node_info,
            node_presence,
            notes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.lock.is_empty() && self.sessions.is_empty()
    }
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
        })
        .chain(
            head.sessions
                .difference(&base.sessions)
                .filter(|s| keep(s, head))
                .map(|s| SessionChange {
                    session: s.clone(),
                    status: Status::Added,
                }),
        )
        .collect();
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
