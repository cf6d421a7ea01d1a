//! The machine format: the summary, each manifest summarised, and each
//! group once — its files, its devices, one representative path, the
//! hunks — then sessions and allocations. Stable field names; hunk lines
//! are unified-diff strings (`"+line"`). Small whatever the fleet: a group
//! is one entry however many devices it covers, and the per-file list
//! (`changes`) is there only with `--full`.
//!
//! ```json
//! { "base": "…", "head": "…", "filter": "", "summary": {…},
//!   "inputs": [{"path": "site/r01.kdl", "status": "changed"}],
//!   "manifests": [{"path": "manifest.json", "status": "changed",
//!                  "entries": {"old_entries": 9001, "new_entries": 9001, "added": 0,
//!                              "removed": 0, "changed": 900,
//!                              "fields": {"sha256": 900, "size": 600}}}],
//!   "groups": [{"id": 0, "owner_type": "node", "status": "changed", "kind": "netplan",
//!               "path": "nodes/<node>/etc/netplan/50-siteconf.yaml", "embedded": null,
//!               "count": 300, "artifacts": 900, "owners": ["r01n01", …],
//!               "representative": "nodes/r01n01/etc/netplan/50-siteconf.yaml",
//!               "files": [{"path": "nodes/<node>/etc/netplan/50-siteconf.yaml",
//!                          "kind": "netplan", "embedded": null, "count": 300},
//!                         {"path": "nodes/<node>/cloud-init/user-data",
//!                          "kind": "cloud-init-user-data",
//!                          "embedded": "/etc/netplan/50-siteconf.yaml", "count": 300}],
//!               "content": "text", "normalized": false, "hunks": [...]}],
//!   "bgp_sessions": [...], "allocations": [...],
//!   "renumbered": [{"owner": "node/r01n07", "key": "address.mgmt.ipv4",
//!                   "old": "10.0.1.6", "new": "10.0.1.7"}],
//!   "renames": [{"from": "r01n03", "to": "db-01", "same": "MAC 52:54:00:01:03:01",
//!                "renumbered": 3}],
//!   "notes": [...] }
//! ```
//!
//! A renumbered value of a renamed node also has `renamed_from` (its owner
//! in base); one that moved to another network's key has `old_key` (its
//! key in base).
//!
//! `about` (`"node"`) marks a group of site-wide files, one per device
//! (`owners` are then the devices). With `--full`, `"changes"` lists every
//! artifact change in path order (`path`, `owner` `{type, name}`, `kind`,
//! `status`, `groups`, `old_mode`/`new_mode`, `content`, `added`/`removed`,
//! `hunks`, and for a container its `embedded` files' changes).
//!
//! A secret-bearing change is text with its secret lines masked
//! (`review::masked`), or, when it cannot be masked (a container, a file
//! without placeholders), `"content": "secret"` and no `hunks`; a manifest
//! has `"content": "summarised"`.

use serde_json::{json, Value};

use super::mode;
use crate::output::diff::{ArtifactChange, Content, Hunk};
use crate::review::group::{member_names, Group};
use crate::review::Review;

/// What to put in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Every artifact change besides the groups (`changes`).
    pub full: bool,
}

fn hunks(hs: &[Hunk]) -> Value {
    Value::Array(
        hs.iter()
            .map(|h| {
                let mut lines = Vec::with_capacity(h.lines.len());
                for l in &h.lines {
                    lines.push(Value::String(l.unified()));
                    if l.no_newline {
                        lines.push(Value::String("\\ No newline at end of file".into()));
                    }
                }
                json!({
                    "old_start": h.old_start,
                    "old_lines": h.old_lines,
                    "new_start": h.new_start,
                    "new_lines": h.new_lines,
                    "lines": lines,
                })
            })
            .collect(),
    )
}

fn content_fields(obj: &mut serde_json::Map<String, Value>, content: &Content, with_hunks: bool) {
    match content {
        Content::Text {
            hunks: hs,
            added,
            removed,
        } => {
            obj.insert("content".into(), "text".into());
            obj.insert("added".into(), (*added).into());
            obj.insert("removed".into(), (*removed).into());
            if with_hunks {
                obj.insert("hunks".into(), hunks(hs));
            }
        }
        Content::Binary { old_size, new_size } => {
            obj.insert("content".into(), "binary".into());
            obj.insert("old_size".into(), (*old_size).into());
            obj.insert("new_size".into(), (*new_size).into());
        }
        Content::Summarised { old_size, new_size } => {
            obj.insert("content".into(), "summarised".into());
            obj.insert("old_size".into(), (*old_size).into());
            obj.insert("new_size".into(), (*new_size).into());
        }
        Content::Secret => {
            obj.insert("content".into(), "secret".into());
        }
    }
}

fn change(r: &Review, c: &ArtifactChange, groups: &[usize], pieces: &[usize]) -> Value {
    let mut v = json!({
        "path": c.path,
        "owner": c.owner,
        "kind": c.kind,
        "status": c.status,
        "groups": groups,
        "old_mode": c.old_mode.map(mode),
        "new_mode": c.new_mode.map(mode),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    content_fields(obj, &c.content, true);
    let embedded: Vec<Value> = pieces
        .iter()
        .map(|&p| &r.pieces[p])
        .filter_map(|p| {
            let target = p.embedded.as_ref()?;
            let mut e = json!({ "path": target, "status": p.status });
            if let Some(o) = e.as_object_mut() {
                content_fields(o, p.content(&r.changes), true);
            }
            Some(e)
        })
        .collect();
    if !embedded.is_empty() {
        obj.insert("embedded".into(), Value::Array(embedded));
    }
    v
}

fn group(r: &Review, id: usize, g: &Group) -> Value {
    let first = &r.pieces[g.members[0]];
    let files: Vec<Value> = std::iter::once((&g.path, &g.kind, &g.embedded, g.members.len()))
        .chain(
            g.also
                .iter()
                .map(|f| (&f.path, &f.kind, &f.embedded, f.members.len())),
        )
        .map(|(path, kind, embedded, count)| {
            json!({ "path": path, "kind": kind, "embedded": embedded, "count": count })
        })
        .collect();
    let mut v = json!({
        "id": id,
        "owner_type": g.owner_type,
        "status": g.status,
        "kind": g.kind,
        "path": g.path,
        "embedded": g.embedded,
        "count": g.len(),
        "artifacts": g.artifacts(),
        "owners": member_names(g, &r.pieces),
        "representative": r.changes[first.change].path,
        "files": files,
        "normalized": g.normalized,
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(about) = g.about {
        obj.insert("about".into(), json!(about));
    }
    let (old_mode, new_mode) = first.modes(&r.changes);
    obj.insert("old_mode".into(), json!(old_mode.map(mode)));
    obj.insert("new_mode".into(), json!(new_mode.map(mode)));
    content_fields(obj, first.content(&r.changes), false);
    // The group's hunks (normalised if members differ), never a secret's.
    if matches!(first.content(&r.changes), Content::Text { .. }) {
        obj.insert("hunks".into(), hunks(&g.hunks));
    }
    v
}

pub fn to_value(r: &Review) -> Value {
    to_value_with(r, &Options::default())
}

pub fn to_value_with(r: &Review, opts: &Options) -> Value {
    let groups: Vec<Value> = r
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| group(r, i, g))
        .collect();
    let mut v = json!({
        "base": r.base_label,
        "head": r.head_label,
        "filter": r.filter,
        "summary": r.summary,
        "head_lock_pending": r.head_lock_pending,
        "inputs": r.inputs,
        "manifests": r.manifests,
        "groups": groups,
        "bgp_sessions": r.sessions,
        "inventory_groups": r.inventory_groups,
        "allocations": r.lock,
        "renumbered": r.renumbered,
        "renames": r.renames,
        "mac_moves": r.mac_moves,
        "mac_changes": r.mac_changes,
        "new_instances": r.new_instances,
        "head_check": r.head_check,
        "site_renames": r.site_renames,
        "notes": r.notes,
    });
    if opts.full {
        let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); r.changes.len()];
        for (gi, g) in r.groups.iter().enumerate() {
            for p in g.pieces() {
                let list = &mut groups_of[r.pieces[p].change];
                if !list.contains(&gi) {
                    list.push(gi);
                }
            }
        }
        let mut pieces_of: Vec<Vec<usize>> = vec![Vec::new(); r.changes.len()];
        for (pi, p) in r.pieces.iter().enumerate() {
            pieces_of[p.change].push(pi);
        }
        let changes: Vec<Value> = r
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| change(r, c, &groups_of[i], &pieces_of[i]))
            .collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("changes".into(), Value::Array(changes));
        }
    }
    v
}

pub fn render(r: &Review) -> String {
    render_with(r, &Options::default())
}

pub fn render_with(r: &Review, opts: &Options) -> String {
    let mut s = serde_json::to_string_pretty(&to_value_with(r, opts)).unwrap_or_else(|e| {
        // Serialising plain strings and numbers cannot fail; say so if it does.
        format!("{{\"error\": \"cannot serialise the review: {e}\"}}")
    });
    s.push('\n');
    s
}
