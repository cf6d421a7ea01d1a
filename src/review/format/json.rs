//! The machine format: every change with its owner, path, kind and hunks,
//! the groups (with every member), the summary, allocations and sessions.
//! Stable field names; hunk lines are unified-diff strings (`"+line"`).
//!
//! ```json
//! { "base": "…", "head": "…", "filter": "", "summary": {…},
//!   "inputs": [{"path": "site/r01.kdl", "status": "changed"}],
//!   "groups": [{"id": 0, "owner_type": "node", "status": "changed", "kind": "sshd",
//!               "path": "nodes/<node>/…", "count": 312, "owners": ["r01n01", …],
//!               "normalized": false, "hunks": [...]}],
//!   "changes": [{"path": "…", "owner": {"type": "node", "name": "r01n01"},
//!                "kind": "sshd", "status": "changed", "group": 0,
//!                "content": "text", "added": 1, "removed": 1,
//!                "old_mode": "0644", "new_mode": "0644",
//!                "hunks": [{"old_start": 1, "old_lines": 3, "new_start": 1,
//!                           "new_lines": 3, "lines": [" a", "-b", "+c"]}]}],
//!   "bgp_sessions": [...], "allocations": [...], "notes": [...] }
//! ```
//!
//! A secret-bearing change has `"content": "secret"` and no `hunks`.

use serde_json::{json, Value};

use super::mode;
use crate::output::diff::{ArtifactChange, Content, Hunk};
use crate::review::group::member_names;
use crate::review::Review;

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

fn change(c: &ArtifactChange, group: usize) -> Value {
    let mut v = json!({
        "path": c.path,
        "owner": c.owner,
        "kind": c.kind,
        "status": c.status,
        "group": group,
        "old_mode": c.old_mode.map(mode),
        "new_mode": c.new_mode.map(mode),
    });
    let obj = match v.as_object_mut() {
        Some(o) => o,
        None => return v,
    };
    match &c.content {
        Content::Text {
            hunks: hs,
            added,
            removed,
        } => {
            obj.insert("content".into(), "text".into());
            obj.insert("added".into(), (*added).into());
            obj.insert("removed".into(), (*removed).into());
            obj.insert("hunks".into(), hunks(hs));
        }
        Content::Binary { old_size, new_size } => {
            obj.insert("content".into(), "binary".into());
            obj.insert("old_size".into(), (*old_size).into());
            obj.insert("new_size".into(), (*new_size).into());
        }
        Content::Secret => {
            obj.insert("content".into(), "secret".into());
        }
    }
    v
}

pub fn to_value(r: &Review) -> Value {
    let mut group_of = vec![0usize; r.changes.len()];
    for (gi, g) in r.groups.iter().enumerate() {
        for &m in &g.members {
            group_of[m] = gi;
        }
    }
    let groups: Vec<Value> = r
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            json!({
                "id": i,
                "owner_type": g.owner_type,
                "status": g.status,
                "kind": g.kind,
                "path": g.path,
                "count": g.len(),
                "owners": member_names(g, &r.changes),
                "normalized": g.normalized,
                "hunks": hunks(&g.hunks),
            })
        })
        .collect();
    let changes: Vec<Value> = r
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| change(c, group_of[i]))
        .collect();
    json!({
        "base": r.base_label,
        "head": r.head_label,
        "filter": r.filter,
        "summary": r.summary,
        "head_lock_pending": r.head_lock_pending,
        "inputs": r.inputs,
        "groups": groups,
        "changes": changes,
        "bgp_sessions": r.sessions,
        "allocations": r.lock,
        "notes": r.notes,
    })
}

pub fn render(r: &Review) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(r)).unwrap_or_else(|e| {
        // Serialising plain strings and numbers cannot fail; say so if it does.
        format!("{{\"error\": \"cannot serialise the review: {e}\"}}")
    });
    s.push('\n');
    s
}
