//! Formatting a [`Review`](super::Review) for people and machines: `text`
//! for a terminal, `markdown` for a merge-request comment (collapsed
//! sections, a hard size cap), `json` for tools. Each returns a string; the
//! CLI prints it.
//!
//! Every format shows the same order: the summary first, then the grouped
//! changes (largest group first), then the single changes, then BGP
//! sessions and allocations.

pub mod json;
pub mod markdown;
pub mod text;

use crate::output::diff::{ArtifactChange, Content, Status};

use super::group::Group;

/// The one sentence shown instead of a secret-bearing artifact's lines.
pub const SECRET_NOTE: &str = "contains secrets; content not shown";

/// Placeholders stand for each device's own values.
pub const PLACEHOLDER_NOTE: &str =
    "lines differ per device only in its own values, shown as placeholders (<node>, <fqdn>, <ipv4:NETWORK>, <mac:IFACE>, <asn> …)";

/// `0644`
pub fn mode(m: u32) -> String {
    format!("{m:04o}")
}

/// What happened to an artifact when its lines are not shown (or as the
/// heading of its lines): `changed`, `added (contains secrets; content not
/// shown)`, `changed (binary, 120 → 96 bytes)`, `mode 0644 → 0600`.
pub fn status_phrase(c: &ArtifactChange) -> String {
    let mut s = c.status.as_str().to_string();
    match &c.content {
        Content::Secret => {
            s.push_str(" (");
            s.push_str(SECRET_NOTE);
            s.push(')');
        }
        Content::Binary { old_size, new_size } => match c.status {
            Status::Added => s.push_str(&format!(" (binary, {new_size} bytes)")),
            Status::Removed => s.push_str(&format!(" (binary, {old_size} bytes)")),
            Status::Changed => s.push_str(&format!(" (binary, {old_size} → {new_size} bytes)")),
        },
        Content::Text { .. } => {}
    }
    if let (Some(o), Some(n)) = (c.old_mode, c.new_mode) {
        if o != n {
            s.push_str(&format!(", mode {} → {}", mode(o), mode(n)));
        }
    }
    s
}

/// The group's heading: "same change on 312 nodes", "added on 3 switches",
/// or for a single change nothing but the path.
pub fn group_title(g: &Group) -> String {
    let n = g.len();
    let what = g.owner_type.noun(n);
    match g.status {
        Status::Changed => format!("same change on {n} {what}"),
        Status::Added => format!("added on {n} {what}"),
        Status::Removed => format!("removed from {n} {what}"),
    }
}

/// Counts as "3 added, 1 removed, 12 changed", skipping zeros; "none".
pub fn counts(c: &super::Counts) -> String {
    let mut parts = Vec::new();
    if c.added > 0 {
        parts.push(format!("{} added", c.added));
    }
    if c.removed > 0 {
        parts.push(format!("{} removed", c.removed));
    }
    if c.changed > 0 {
        parts.push(format!("{} changed", c.changed));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// "3 allocated, 1 released", skipping zeros; "none".
pub fn lock_counts(c: &super::LockCounts) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.allocated, "allocated"),
        (c.released, "released"),
        (c.dropped, "dropped"),
        (c.reclaimed, "reclaimed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// "sshd: 10000 changed; frr: 40 changed"
pub fn kinds_line(s: &super::Summary) -> String {
    s.kinds
        .iter()
        .map(|(k, c)| format!("{k}: {}", counts(c)))
        .collect::<Vec<_>>()
        .join("; ")
}
