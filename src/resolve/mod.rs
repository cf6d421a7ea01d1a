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
pub mod explain;
pub mod lock;
mod merge;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::diag::Diagnostics;
use crate::model::{AddrSpec, Settings, Site, SiteIndex, Sp};
use crate::syntax::Span;

pub use alloc::{AllocKey, Allocations};
pub use lock::Lock;

/// Where a resolved value came from: each layer that set it, in order; the
/// last one is in effect.
pub type Provenance = BTreeMap<String, Vec<Origin>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub span: Span,
    /// `site defaults`, `profile compute`, or `node r01n01`.
    pub layer: String,
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
    /// Every layer merged, in order: its name (`site defaults`,
    /// `profile compute`, `node r01n01`) and the span of its declaration.
    /// A few entries per node; lets a diagnostic name the layer of a
    /// value's span without provenance.
    pub layers: Vec<(String, Span)>,
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
    pub fn layer_at(&self, span: Span) -> Option<&str> {
        let inside = |o: &Span| o.file == span.file && o.start <= span.start && span.end <= o.end;
        self.layers
            .iter()
            .rev()
            .find(|(_, s)| inside(s))
            .map(|(n, _)| n.as_str())
    }

    /// The layer that set the value at a provenance path
    /// (`interfaces.eno1.mtu`): from provenance when it was recorded, else
    /// from the span the merged value kept.
    pub fn layer_of(&self, path: &str) -> Option<&str> {
        if let Some(o) = self.provenance.get(path).and_then(|v| v.last()) {
            return Some(o.layer.as_str());
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

    /// The effective IPv4 of a request: fixed, or allocated.
    pub fn ipv4(
        &self,
        node: &str,
        key: &str,
        spec: &Option<Sp<AddrSpec<Ipv4Addr>>>,
    ) -> Option<Ipv4Addr> {
        match spec.as_ref()?.value {
            AddrSpec::Fixed(ip) => Some(ip),
            AddrSpec::Auto => self.allocations.get(node, key).and_then(|v| v.parse().ok()),
        }
    }

    pub fn ipv6(
        &self,
        node: &str,
        key: &str,
        spec: &Option<Sp<AddrSpec<Ipv6Addr>>>,
    ) -> Option<Ipv6Addr> {
        match spec.as_ref()?.value {
            AddrSpec::Fixed(ip) => Some(ip),
            AddrSpec::Auto => self.allocations.get(node, key).and_then(|v| v.parse().ok()),
        }
    }

    pub fn asn(&self, node: &str, spec: &Option<Sp<AddrSpec<u32>>>) -> Option<u32> {
        match spec.as_ref()?.value {
            AddrSpec::Fixed(n) => Some(n),
            AddrSpec::Auto => self
                .allocations
                .get(node, "asn")
                .and_then(|v| v.parse().ok()),
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
    let (allocations, mut new_lock, changes) = alloc::allocate(site, index, &nodes, &old, diags);
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
pub fn layer_of(site: &Site, span: Span) -> Option<String> {
    let inside =
        |outer: Span| outer.file == span.file && outer.start <= span.start && span.end <= outer.end;
    if let Some(p) = site.profiles.iter().find(|p| inside(p.span)) {
        return Some(format!("profile {}", p.name.value));
    }
    if let Some(s) = site.site.as_ref().filter(|s| inside(s.span)) {
        let _ = s;
        return Some("site defaults".to_string());
    }
    site.nodes
        .iter()
        .find(|n| inside(n.span))
        .map(|n| format!("node {}", n.name.value))
}
