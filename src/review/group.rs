//! Grouping: the same change on many devices, shown once with the list of
//! devices it applies to ("same change on 312 nodes: r01n01 … r08n40").
//!
//! The choice, and why: a profile change produces, on each node, a hunk
//! that differs only in the node's own values — its host name, addresses,
//! MACs, ASN. Grouping by exact text would split it into one group per node
//! and defeat the purpose. So every change is first *normalised*: each
//! device's own identifiers (from the resolved model, see
//! [`super::facts::Idents`]) are replaced by placeholders such as `<node>`
//! and `<ipv4:mgmt>`, in the artifact path and in every hunk line, and
//! changes are grouped by (owner type, normalised path, status, modes,
//! normalised lines). Line numbers are not part of the key: the same
//! change at line 12 on one node and line 14 on another is the same change.
//!
//! When every member's exact lines are identical (the common case: a new
//! repo line, an sshd setting), the group shows the exact text. Only when
//! members differ in their own values does it show the normalised text,
//! with placeholders — so a reviewer never sees a placeholder where one
//! real value would do, and never sees 312 copies of one change.
//!
//! Site-wide artifacts have one owner each and are not normalised.

use std::collections::HashMap;

use rayon::prelude::*;

use super::facts::{Facts, Idents};
use crate::output::diff::{ArtifactChange, Content, Hunk, Line, Status};
use crate::output::Owner;

/// The kind of owner a group's members have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerType {
    Node,
    Switch,
    Site,
}

impl OwnerType {
    pub fn of(o: &Owner) -> OwnerType {
        match o {
            Owner::Node(_) => OwnerType::Node,
            Owner::Switch(_) => OwnerType::Switch,
            Owner::Site => OwnerType::Site,
        }
    }
    /// "node"/"nodes", for sentences.
    pub fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (OwnerType::Node, true) => "node",
            (OwnerType::Node, false) => "nodes",
            (OwnerType::Switch, true) => "switch",
            (OwnerType::Switch, false) => "switches",
            (OwnerType::Site, true) => "site file",
            (OwnerType::Site, false) => "site files",
        }
    }
}

/// Changes that are the same once each owner's identifiers are replaced.
#[derive(Debug, Clone)]
pub struct Group {
    pub owner_type: OwnerType,
    pub status: Status,
    pub kind: String,
    /// The path with the owner's identifiers replaced (`nodes/<node>/…`);
    /// the exact path when the group has one member.
    pub path: String,
    /// Indexes into the review's change list, in path order.
    pub members: Vec<usize>,
    /// Whether `hunks` show placeholders (members' exact lines differ).
    pub normalized: bool,
    /// The hunks to show: the first member's exact hunks, or normalised
    /// ones. Empty for secret and binary content.
    pub hunks: Vec<Hunk>,
}

impl Group {
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// The owner's identifiers, from head's facts (base's for a removed owner).
fn idents_of<'a>(owner: &Owner, base: &'a Facts, head: &'a Facts) -> Option<&'a Idents> {
    match owner {
        Owner::Node(n) => head
            .nodes
            .get(n)
            .or_else(|| base.nodes.get(n))
            .map(|f| &f.idents),
        Owner::Switch(s) => head
            .switches
            .get(s)
            .or_else(|| base.switches.get(s))
            .map(|f| &f.idents),
        Owner::Site => None,
    }
}

/// A normalised change: its grouping key and normalised hunks.
struct Normalized {
    key: String,
    path: String,
    hunks: Vec<Hunk>,
}

fn normalize(c: &ArtifactChange, id: Option<&Idents>) -> Normalized {
    let norm = |s: &str| -> String {
        match id {
            Some(id) => id.normalize(s).into_owned(),
            None => s.to_string(),
        }
    };
    let path = norm(&c.path);
    let mut key = format!(
        "{:?}\0{path}\0{:?}\0{:?}\0{:?}\0{}\0",
        OwnerType::of(&c.owner),
        c.status,
        c.old_mode,
        c.new_mode,
        c.kind
    );
    let mut hunks = Vec::new();
    match &c.content {
        Content::Secret => key.push_str("secret"),
        Content::Binary { old_size, new_size } => {
            // Sizes may differ per owner; "binary changed" is the change.
            let _ = (old_size, new_size);
            key.push_str("binary")
        }
        Content::Text { hunks: hs, .. } => {
            for h in hs {
                key.push_str("@@\n");
                let lines: Vec<Line> = h
                    .lines
                    .iter()
                    .map(|l| Line {
                        op: l.op,
                        text: norm(&l.text),
                        no_newline: l.no_newline,
                    })
                    .collect();
                for l in &lines {
                    key.push(l.op.sign());
                    key.push_str(&l.text);
                    key.push_str(if l.no_newline { "\\\n" } else { "\n" });
                }
                hunks.push(Hunk { lines, ..h.clone() });
            }
        }
    }
    Normalized { key, path, hunks }
}

/// Exact lines of a change without line numbers, to tell whether members
/// of a group are identical.
fn same_lines(a: &[Hunk], b: &[Hunk]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.lines == y.lines)
}

/// Groups `changes` (in path order). Groups are ordered by size, largest
/// first, then by their first member's path; members stay in path order.
/// Normalisation runs in parallel; grouping itself is sequential over the
/// ordered list, so the result never depends on thread scheduling.
pub fn group(changes: &[ArtifactChange], base: &Facts, head: &Facts) -> Vec<Group> {
    let normalized: Vec<Normalized> = changes
        .par_iter()
        .map(|c| normalize(c, idents_of(&c.owner, base, head)))
        .collect();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, (c, n)) in changes.iter().zip(&normalized).enumerate() {
        // Site artifacts never merge: each is its own file.
        let slot = if c.owner == Owner::Site {
            None
        } else {
            index.get(n.key.as_str()).copied()
        };
        match slot {
            Some(g) => {
                let group = &mut groups[g];
                if !group.normalized && !same_lines(&group.hunks, c.hunks()) {
                    group.normalized = true;
                }
                group.members.push(i);
            }
            None => {
                if c.owner != Owner::Site {
                    index.insert(n.key.as_str(), groups.len());
                }
                groups.push(Group {
                    owner_type: OwnerType::of(&c.owner),
                    status: c.status,
                    kind: c.kind.clone(),
                    path: n.path.clone(),
                    members: vec![i],
                    normalized: false,
                    hunks: c.hunks().to_vec(),
                });
            }
        }
    }
    for g in &mut groups {
        let first = g.members[0];
        if g.members.len() == 1 {
            g.path = changes[first].path.clone();
        } else if g.normalized {
            g.hunks = normalized[first].hunks.clone();
        }
    }
    // Largest first; ties in path order of the first member (stable sort).
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    groups
}

/// Owner names of a group's members, in order.
pub fn member_names<'a>(g: &Group, changes: &'a [ArtifactChange]) -> Vec<&'a str> {
    g.members
        .iter()
        .map(|&i| match &changes[i].owner {
            Owner::Node(n) | Owner::Switch(n) => n.as_str(),
            Owner::Site => changes[i].path.as_str(),
        })
        .collect()
}

/// Names compressed into ranges: `r01n01–r01n40, r02n01–r02n03, r05n07`.
/// A range is a run of names with the same prefix whose trailing numbers
/// (same width) go up by one.
pub fn compress_names(names: &[&str]) -> Vec<String> {
    fn split(s: &str) -> (&str, &str) {
        let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
        s.split_at(s.len() - digits)
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let (prefix, num) = split(names[i]);
        let mut j = i;
        if !num.is_empty() {
            while j + 1 < names.len() {
                let (p2, n2) = split(names[j + 1]);
                let (_, n1) = split(names[j]);
                let next = n1.parse::<u64>().ok().map(|v| v + 1);
                if p2 == prefix
                    && n2.len() == num.len()
                    && next.is_some()
                    && n2.parse::<u64>().ok() == next
                {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        if j > i + 1 {
            out.push(format!("{}–{}", names[i], names[j]));
        } else if j == i + 1 {
            out.push(names[i].to_string());
            out.push(names[j].to_string());
        } else {
            out.push(names[i].to_string());
        }
        i = j + 1;
    }
    out
}

/// `r01n01–r01n40, r02n01–r02n40, … r08n01–r08n40 (+5 more)`: at most
/// `max` ranges (names or runs), always ending with the last.
pub fn short_list(names: &[&str], max: usize) -> String {
    let ranges = compress_names(names);
    if ranges.len() <= max {
        ranges.join(", ")
    } else {
        let shown = max.saturating_sub(1).max(1);
        format!(
            "{}, … {} (+{} more)",
            ranges[..shown].join(", "),
            ranges[ranges.len() - 1],
            ranges.len() - shown - 1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_runs() {
        let names = [
            "r01n01", "r01n02", "r01n03", "r01n05", "r01n06", "r02n01", "x",
        ];
        assert_eq!(
            compress_names(&names),
            vec!["r01n01–r01n03", "r01n05", "r01n06", "r02n01", "x"]
        );
        assert_eq!(compress_names(&["a9", "a10"]), vec!["a9", "a10"]);
    }

    #[test]
    fn short_list_caps_ranges() {
        let names: Vec<String> = (1..=9).map(|r| format!("r{r}n1")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let s = short_list(&refs, 3);
        assert_eq!(s, "r1n1, r2n1, … r9n1 (+6 more)");
    }
}
