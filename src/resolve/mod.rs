//! Resolution: every node's settings merged from site defaults, profiles and
//! its own block (with provenance), then every `auto` value allocated
//! against `siteconf.lock`.
//!
//! Merge order (documented in docs/site-format.md): site defaults, then the
//! node's profiles in the order listed, each preceded by the profiles it
//! includes (depth-first, a profile applied once even if reached twice),
//! then the node's own values. Later wins. Scalars replace; `interface`,
//! `address` and BGP `session` entries merge field by field by key;
//! `repo` and `ssh-key` entries replace whole by key; `groups` and
//! `packages` append (first occurrence kept); `vars` merge maps deeply;
//! `sshd` merges by keyword; `reset X` clears what earlier layers set for X.

pub mod alloc;
pub mod effective;
pub mod explain;
pub mod key;
pub mod lock;
mod merge;

use std::collections::BTreeMap;
use std::fmt;

use crate::diag::Diagnostics;
use crate::model::{AddrSpec, Settings, Site, SiteIndex, Sp};
use crate::syntax::Span;

pub use alloc::Allocations;
pub use effective::Eff;
pub use key::{AllocKey, AllocValue, FromAlloc, IpFamily};
pub use lock::Lock;

/// Where a resolved value came from: each layer that set it, in order; the
/// last one is in effect.
pub type Provenance = BTreeMap<String, Vec<Origin>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub span: Span,
    pub layer: Layer,
}

/// A settings layer: where a resolved value was set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layer {
    Defaults,
    Profile(String),
    Node(String),
}

impl Layer {
    /// " (set in profile `compute`)" for a value from a shared layer, ""
    /// for the node's own: a reader looking at a profile's line should
    /// know why a node's diagnostic points there. `verb`: `set`,
    /// `declared`.
    pub fn written_in(&self, verb: &str) -> String {
        match self {
            Layer::Profile(p) => format!(" ({verb} in profile `{p}`)"),
            Layer::Defaults => format!(" ({verb} in the site defaults)"),
            Layer::Node(_) => String::new(),
        }
    }
}

/// `site defaults`, `profile compute`, `node r01n01`, as `explain` prints.
impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Defaults => f.write_str("site defaults"),
            Layer::Profile(p) => write!(f, "profile {p}"),
            Layer::Node(n) => write!(f, "node {n}"),
        }
    }
}

/// One node after merging (allocation results live in [`Allocations`]).
#[derive(Debug, Clone)]
pub struct ResolvedNode {
    /// Index into `site.nodes`.
    pub index: usize,
    pub settings: Settings,
    /// Empty unless resolution was asked for provenance (see [`resolve`]);
    /// use [`layer_of`] to name the layer of a span cheaply.
    pub provenance: Provenance,
    /// The profiles applied, in order.
    pub profiles: Vec<String>,
    /// Every layer merged, in order, with the span of its declaration.
    /// A few entries per node; lets a diagnostic name the layer of a
    /// value's span without provenance.
    pub layers: Vec<(Layer, Span)>,
}

/// The resolved site: merged nodes and the allocations they use.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub nodes: Vec<ResolvedNode>,
    pub allocations: Allocations,
    /// The lock as it would be written after this run.
    pub lock: Lock,
    /// Whether `lock` differs from the lock file that was read.
    pub lock_changed: bool,
    /// Human summary of what allocation would add/release (for `check`).
    pub lock_changes: Vec<String>,
}

impl ResolvedNode {
    /// The layer whose declaration contains `span` (the value's origin).
    pub fn layer_at(&self, span: Span) -> Option<&Layer> {
        let inside = |o: &Span| o.file == span.file && o.start <= span.start && span.end <= o.end;
        self.layers
            .iter()
            .rev()
            .find(|(_, s)| inside(s))
            .map(|(n, _)| n)
    }

    /// The layer that set the value at a provenance path
    /// (`interfaces.eno1.mtu`): from provenance when it was recorded, else
    /// from the span the merged value kept.
    pub fn layer_of(&self, path: &str) -> Option<&Layer> {
        if let Some(o) = self.provenance.get(path).and_then(|v| v.last()) {
            return Some(&o.layer);
        }
        explain::span_at(&self.settings, path).and_then(|s| self.layer_at(s))
    }
}

impl Resolved {
    pub fn node<'a>(&'a self, name: &str, site: &Site) -> Option<&'a ResolvedNode> {
        self.nodes
            .iter()
            .find(|n| site.nodes[n.index].name.value == name)
    }

    /// The value in effect for one request of a node: fixed in a site
    /// file, or allocated (`auto`) and kept in siteconf.lock. `None` when
    /// nothing is asked, or an `auto` has no allocation (its finding is
    /// reported elsewhere: no pool, an unknown network).
    pub fn value<T: Copy + FromAlloc>(
        &self,
        node: &str,
        key: AllocKey<&str>,
        spec: &Option<Sp<AddrSpec<T>>>,
    ) -> Option<Eff<T>> {
        let spec = spec.as_ref()?;
        match spec.value {
            AddrSpec::Fixed(v) => Some(Eff {
                value: v,
                span: spec.span,
                allocated: false,
            }),
            AddrSpec::Auto => Some(Eff {
                value: T::from_alloc(self.allocations.get(node, key)?)?,
                span: spec.span,
                allocated: true,
            }),
        }
    }
}

/// What the lock's history tells, for its findings: the lock file's path
/// (for messages) and its committed copies (`source::Source::earlier`).
#[derive(Debug, Clone, Copy)]
pub struct LockHistory<'a> {
    pub file: &'a str,
    pub earlier: &'a [crate::source::Earlier],
}

impl Default for LockHistory<'_> {
    fn default() -> Self {
        LockHistory {
            file: crate::project::LOCK_FILE,
            earlier: &[],
        }
    }
}

/// Merges every node, then allocates. `lock` is the current lock file.
/// `provenance` records where every value came from (for `explain`); it
/// costs memory and time, so `check` and `build` leave it off.
pub fn resolve(
    site: &Site,
    index: &SiteIndex,
    lock: Option<(crate::syntax::FileId, &str)>,
    history: &LockHistory<'_>,
    provenance: bool,
    diags: &mut Diagnostics,
) -> Resolved {
    let nodes: Vec<ResolvedNode> = {
        use rayon::prelude::*;
        // A node declared again under a name already taken is reported
        // once (SC0101) and not resolved: its copy of the first one's
        // MACs, ports, addresses and rack units would each be reported
        // again. The first declaration wins, as in the index.
        (0..site.nodes.len())
            .into_par_iter()
            .filter(|&i| index.nodes.get(site.nodes[i].name.as_str()) == Some(&i))
            .map(|i| merge::resolve_node(site, index, i, provenance))
            .collect()
    };
    let old = match lock {
        Some((file, text)) => Lock::parse(file, text, diags),
        None => Lock::default(),
    };
    let (allocations, mut new_lock, changes) =
        alloc::allocate(site, index, &nodes, &old, history, diags);
    diags.extend(lock::serials_behind(&old, history.earlier, history.file));
    // Zone serials are recorded by the build, not by allocation.
    new_lock.zones = old.zones.clone();
    let lock_changed = new_lock != old;
    Resolved {
        nodes,
        allocations,
        lock: new_lock,
        lock_changed,
        lock_changes: changes,
    }
}

/// The layer (`site defaults`, `profile NAME`, `node NAME`) whose
/// declaration contains `span`, for messages about resolved values
/// ("… set in profile `compute`") without recording provenance.
pub fn layer_of(site: &Site, span: Span) -> Option<Layer> {
    let inside =
        |outer: Span| outer.file == span.file && outer.start <= span.start && span.end <= outer.end;
    if let Some(p) = site.profiles.iter().find(|p| inside(p.span)) {
        return Some(Layer::Profile(p.name.value.clone()));
    }
    if site.site.as_ref().is_some_and(|s| inside(s.span)) {
        return Some(Layer::Defaults);
    }
    site.nodes
        .iter()
        .find(|n| inside(n.span))
        .map(|n| Layer::Node(n.name.value.clone()))
}
