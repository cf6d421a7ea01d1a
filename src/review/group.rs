//! Grouping: the same change on many devices, shown once with the list of
//! devices it applies to ("same change on 312 nodes: r01n01 … r08n40"),
//! and the same change in several files of those devices shown once with
//! the list of files.
//!
//! What is grouped is a [`Piece`]: an artifact's change, or one file
//! embedded in an artifact (the netplan inside a node's cloud-init
//! user-data, decoded: see [`super::embed`]), or what is left of such a
//! container's change once its embedded files are taken out.
//!
//! The choice, and why: a profile change produces, on each node, a hunk
//! that differs only in the node's own values — its host name, addresses,
//! MACs, ASN. Grouping by exact text would split it into one group per node
//! and defeat the purpose. So every piece is first *normalised*: each
//! device's own identifiers (from the resolved model, see
//! [`super::facts::Idents`]) are replaced by placeholders such as `<node>`
//! and `<ipv4:mgmt>`, in the artifact path and in every hunk line, and
//! pieces are grouped by (owner type, normalised path, embedded file,
//! status, modes, kind, normalised lines). Line numbers are not part of the
//! key: the same change at line 12 on one node and line 14 on another is
//! the same change.
//!
//! Site-wide files that are about one device — `host_vars/<fqdn>.yml`,
//! `boot/ipxe/<mac>.ipxe` — are normalised with that device's identifiers
//! and group the same way ("same change in 300 site files, one per node").
//! The device is found by the file's name (its name, FQDN or MAC, less
//! extensions); other site-wide files have one owner each and never group.
//!
//! Then groups that make the same change (same status and normalised
//! lines) on exactly the same devices, in different files, become one
//! group with several files: the netplan, cloud-init's network-config that
//! is the same file, the copy embedded in user-data and the one on the
//! kernel command line of the node's iPXE script are one change, so they
//! are shown once. Only text changes merge so: two secret files that
//! both "changed" are not known to change the same way.
//!
//! When every member's exact lines are identical (the common case: a new
//! repo line, an sshd setting), the group shows the exact text. Only when
//! members differ in their own values does it show the normalised text,
//! with placeholders — so a reviewer never sees a placeholder where one
//! real value would do, and never sees 312 copies of one change.

use std::collections::HashMap;

use rayon::prelude::*;

use super::facts::{Facts, Idents};
use crate::output::diff::{ArtifactChange, Content, Hunk, Line, LineOp, Status};
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

/// What the review groups: one artifact's change, or one file embedded in
/// it.
#[derive(Debug, Clone)]
pub struct Piece {
    /// Index into the review's change list.
    pub change: usize,
    /// A file embedded in the artifact: where it lands on the machine
    /// (`/etc/netplan/50-siteconf.yaml`). `None`: the artifact's own lines
    /// (for a container, with its embedded contents taken out).
    pub embedded: Option<String>,
    pub status: Status,
    /// The embedded file's diff; `None` for the change's own content.
    pub content: Option<Content>,
    /// The device the piece belongs to (the owner's name, or for a
    /// site-wide file about one device, that device's), or for any other
    /// site-wide file its path: what member lists show.
    pub name: String,
    /// For a site-wide file about one device: the device's type.
    pub about: Option<OwnerType>,
}

impl Piece {
    pub fn content<'a>(&'a self, changes: &'a [ArtifactChange]) -> &'a Content {
        self.content
            .as_ref()
            .unwrap_or(&changes[self.change].content)
    }

    pub fn hunks<'a>(&'a self, changes: &'a [ArtifactChange]) -> &'a [Hunk] {
        match self.content(changes) {
            Content::Text { hunks, .. } => hunks,
            _ => &[],
        }
    }

    /// The artifact's modes; none for an embedded file (its permissions
    /// are lines of the container).
    pub fn modes(&self, changes: &[ArtifactChange]) -> (Option<u32>, Option<u32>) {
        if self.embedded.is_some() {
            return (None, None);
        }
        let c = &changes[self.change];
        (c.old_mode, c.new_mode)
    }
}

/// One file a group's change is in.
#[derive(Debug, Clone)]
pub struct GroupFile {
    pub kind: String,
    /// The path with the owner's identifiers replaced (`nodes/<node>/…`);
    /// the exact path when the group has one member.
    pub path: String,
    /// The file embedded in `path` that holds the change.
    pub embedded: Option<String>,
    /// Indexes into the review's pieces, in path order.
    pub members: Vec<usize>,
}

/// Changes that are the same once each owner's identifiers are replaced.
#[derive(Debug, Clone)]
pub struct Group {
    pub owner_type: OwnerType,
    /// Site-wide files about one device each: the devices' type.
    pub about: Option<OwnerType>,
    pub status: Status,
    /// The first file's kind, path and embedded file (the group's file,
    /// when it has one).
    pub kind: String,
    pub path: String,
    pub embedded: Option<String>,
    /// The first file's pieces (one per device), in path order.
    pub members: Vec<usize>,
    /// Other files with the same change on the same devices: a copy of
    /// the file (cloud-init's network-config of the netplan), or the file
    /// embedded in another (the netplan in user-data).
    pub also: Vec<GroupFile>,
    /// Whether `hunks` show placeholders (members' exact lines differ).
    pub normalized: bool,
    /// The hunks to show: the first member's exact hunks, or normalised
    /// ones. Empty for secret and binary content.
    pub hunks: Vec<Hunk>,
}

impl Group {
    /// Devices (or site files) the change is on.
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// Every piece of the group, all its files.
    pub fn pieces(&self) -> impl Iterator<Item = usize> + '_ {
        self.members
            .iter()
            .chain(self.also.iter().flat_map(|f| &f.members))
            .copied()
    }
    /// Artifacts (or embedded files) the group covers.
    pub fn artifacts(&self) -> usize {
        self.members.len() + self.also.iter().map(|f| f.members.len()).sum::<usize>()
    }
}

/// The devices site-wide files may be named after, by name, FQDN and MAC.
pub struct DeviceIndex<'a> {
    by_name: HashMap<&'a str, Vec<(OwnerType, &'a str)>>,
}

impl<'a> DeviceIndex<'a> {
    pub fn new(base: &'a Facts, head: &'a Facts) -> DeviceIndex<'a> {
        let mut by_name: HashMap<&str, Vec<(OwnerType, &str)>> = HashMap::new();
        let mut add = |t: OwnerType, key: &'a str, id: &'a Idents| {
            for n in id.file_names() {
                let list = by_name.entry(n).or_default();
                if !list.contains(&(t, key)) {
                    list.push((t, key));
                }
            }
        };
        for f in [head, base] {
            for (k, n) in &f.nodes {
                add(OwnerType::Node, k, &n.idents);
            }
            for (k, s) in &f.switches {
                add(OwnerType::Switch, k, &s.idents);
            }
        }
        DeviceIndex { by_name }
    }

    /// The device a site-wide file is about, from its file name: the name
    /// itself, then less one extension at a time (`r01n01.dc1.example.net.yml`
    /// → `r01n01.dc1.example.net`). In a project of several sites devices
    /// are `<site>/<name>` and the file must be under `<site>/` (a
    /// bootinfra's file under `bootinfra/` is about the one device of that
    /// name, if there is one).
    pub fn device_of(&self, path: &str) -> Option<(OwnerType, &'a str)> {
        let file = path.rsplit('/').next()?;
        let mut cand = file;
        loop {
            if let Some(list) = self.by_name.get(cand) {
                let fits = |key: &str| match key.rsplit_once('/') {
                    Some((site, _)) => path.strip_prefix(site).is_some_and(|r| r.starts_with('/')),
                    None => true,
                };
                let matching: Vec<&(OwnerType, &str)> =
                    list.iter().filter(|(_, k)| fits(k)).collect();
                return match matching.as_slice() {
                    [one] => Some(**one),
                    [] if list.len() == 1 => Some(list[0]),
                    _ => None,
                };
            }
            match cand.rsplit_once('.') {
                Some((stem, _)) if !stem.is_empty() => cand = stem,
                _ => return None,
            }
        }
    }
}

/// The identifiers of the device a piece belongs to, from head's facts
/// (base's for a removed device).
fn idents_of<'a>(
    p: &Piece,
    c: &ArtifactChange,
    base: &'a Facts,
    head: &'a Facts,
) -> Option<&'a Idents> {
    let node = |n: &str| {
        head.nodes
            .get(n)
            .or_else(|| base.nodes.get(n))
            .map(|f| &f.idents)
    };
    let switch = |s: &str| {
        head.switches
            .get(s)
            .or_else(|| base.switches.get(s))
            .map(|f| &f.idents)
    };
    match (&c.owner, p.about) {
        (Owner::Node(n), _) => node(n),
        (Owner::Switch(s), _) => switch(s),
        (Owner::Site, Some(OwnerType::Node)) => node(&p.name),
        (Owner::Site, Some(OwnerType::Switch)) => switch(&p.name),
        (Owner::Site, _) => None,
    }
}

/// A normalised piece: what makes its group, and its normalised hunks.
struct Normalized {
    /// Owner type, path, embedded file, status, modes, kind.
    file_key: String,
    /// The normalised change itself (lines, or "secret" …).
    change_key: String,
    path: String,
    embedded: Option<String>,
    hunks: Vec<Hunk>,
}

fn normalize(
    p: &Piece,
    c: &ArtifactChange,
    changes: &[ArtifactChange],
    id: Option<&Idents>,
) -> Normalized {
    let norm = |s: &str| -> String {
        match id {
            Some(id) => id.normalize(s).into_owned(),
            None => s.to_string(),
        }
    };
    let path = norm(&c.path);
    let embedded = p.embedded.as_deref().map(norm);
    let (old_mode, new_mode) = p.modes(changes);
    let file_key = format!(
        "{:?}\0{:?}\0{path}\0{embedded:?}\0{:?}\0{old_mode:?}\0{new_mode:?}\0{}",
        OwnerType::of(&c.owner),
        p.about,
        p.status,
        c.kind
    );
    let mut change_key = String::new();
    let mut hunks = Vec::new();
    match p.content(changes) {
        Content::Secret => change_key.push_str("secret"),
        // Sizes may differ per owner; "binary changed" is the change.
        Content::Binary { .. } => change_key.push_str("binary"),
        Content::Summarised { .. } => change_key.push_str("summarised"),
        Content::Text { hunks: hs, .. } => {
            for h in hs {
                change_key.push_str("@@\n");
                let lines: Vec<Line> = h
                    .lines
                    .iter()
                    .map(|l| Line {
                        op: l.op,
                        text: norm(&l.text),
                        no_newline: l.no_newline,
                    })
                    .collect();
                // Context after the hunk's last change is not part of the
                // change: the same `peer_asn` lines followed by `nova:` on
                // compute nodes and `ceph:` on storage nodes are one group.
                for l in &lines[..changed_len(&lines)] {
                    change_key.push(l.op.sign());
                    change_key.push_str(&l.text);
                    change_key.push_str(if l.no_newline { "\\\n" } else { "\n" });
                }
                hunks.push(Hunk { lines, ..h.clone() });
            }
        }
    }
    Normalized {
        file_key,
        change_key,
        path,
        embedded,
        hunks,
    }
}

/// The lines of a hunk up to its last change (what follows is context).
fn changed_len(lines: &[Line]) -> usize {
    lines
        .iter()
        .rposition(|l| l.op != LineOp::Context)
        .map_or(lines.len(), |i| i + 1)
}

/// Exact lines of a change without line numbers (and without the context
/// after its last change, which is not part of the group's key), to tell
/// whether members of a group are identical.
fn same_lines(a: &[Hunk], b: &[Hunk]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.lines[..changed_len(&x.lines)] == y.lines[..changed_len(&y.lines)])
}

/// A group while it is put together.
struct Building {
    owner_type: OwnerType,
    about: Option<OwnerType>,
    status: Status,
    files: Vec<GroupFile>,
    normalized: bool,
    /// The piece whose hunks the group shows.
    first: usize,
    /// Text with lines: may merge with a group of other files.
    mergeable: bool,
}

/// Groups `pieces` (in path order). Groups are ordered by size, largest
/// first, then by their first member's path; members stay in path order.
/// Normalisation runs in parallel; grouping itself is sequential over the
/// ordered list, so the result never depends on thread scheduling.
pub fn group(
    pieces: &[Piece],
    changes: &[ArtifactChange],
    base: &Facts,
    head: &Facts,
) -> Vec<Group> {
    let normalized: Vec<Normalized> = pieces
        .par_iter()
        .map(|p| {
            let c = &changes[p.change];
            normalize(p, c, changes, idents_of(p, c, base, head))
        })
        .collect();

    // 1. The same change in the same file of many devices.
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Building> = Vec::new();
    for (i, (p, n)) in pieces.iter().zip(&normalized).enumerate() {
        let c = &changes[p.change];
        // A site-wide file that is about no one device is its own file.
        let alone = c.owner == Owner::Site && p.about.is_none();
        let key = (n.file_key.as_str(), n.change_key.as_str());
        let slot = if alone {
            None
        } else {
            index.get(&key).copied()
        };
        match slot {
            Some(g) => {
                let group = &mut groups[g];
                if !group.normalized
                    && !same_lines(pieces[group.first].hunks(changes), p.hunks(changes))
                {
                    group.normalized = true;
                }
                group.files[0].members.push(i);
            }
            None => {
                if !alone {
                    index.insert(key, groups.len());
                }
                groups.push(Building {
                    owner_type: OwnerType::of(&c.owner),
                    about: p.about,
                    status: p.status,
                    files: vec![GroupFile {
                        kind: c.kind.clone(),
                        path: n.path.clone(),
                        embedded: n.embedded.clone(),
                        members: vec![i],
                    }],
                    normalized: false,
                    first: i,
                    mergeable: matches!(p.content(changes), Content::Text { hunks, .. } if !hunks.is_empty()),
                });
            }
        }
    }

    // 2. The same change on the same devices in other files: one group.
    let mut merged: Vec<Building> = Vec::with_capacity(groups.len());
    let mut by_change: HashMap<String, usize> = HashMap::new();
    for g in groups {
        if !g.mergeable {
            merged.push(g);
            continue;
        }
        let first = &pieces[g.first];
        let mode_change = match first.modes(changes) {
            (Some(o), Some(n)) if o != n => Some((o, n)),
            _ => None,
        };
        // By the devices' type: a node's files and site-wide files about
        // nodes (its iPXE script) may carry the same change.
        let devices = g.about.unwrap_or(g.owner_type);
        let mut key = format!("{devices:?}\0{:?}\0{mode_change:?}\0", g.status);
        key.push_str(&normalized[g.first].change_key);
        for &m in &g.files[0].members {
            key.push('\0');
            key.push_str(&pieces[m].name);
        }
        match by_change.get(&key) {
            Some(&t) => {
                let target = &mut merged[t];
                if !target.normalized
                    && (g.normalized
                        || !same_lines(pieces[target.first].hunks(changes), first.hunks(changes)))
                {
                    target.normalized = true;
                }
                target.files.extend(g.files);
            }
            None => {
                by_change.insert(key, merged.len());
                merged.push(g);
            }
        }
    }

    // 3. Each group's first file, paths and hunks.
    let mut out: Vec<Group> = merged
        .into_iter()
        .map(|mut g| {
            // The deployed file first: one an embedded copy names, then any
            // file of its own, then embedded copies (in path order).
            let rank = |f: &GroupFile| {
                if f.embedded.is_some() {
                    2
                } else if g.files.iter().any(|e| {
                    e.embedded
                        .as_deref()
                        .is_some_and(|t| t.starts_with('/') && f.path.ends_with(t))
                }) {
                    0
                } else {
                    1
                }
            };
            let best = (0..g.files.len())
                .min_by_key(|&i| rank(&g.files[i]))
                .unwrap_or(0);
            let primary = g.files.remove(best);
            g.files.insert(0, primary);
            for f in &mut g.files {
                if f.members.len() == 1 {
                    let p = &pieces[f.members[0]];
                    f.path = changes[p.change].path.clone();
                    f.embedded = p.embedded.clone();
                }
            }
            let first = g.files[0].members[0];
            let hunks = if g.normalized {
                normalized[first].hunks.clone()
            } else {
                pieces[first].hunks(changes).to_vec()
            };
            let mut files = g.files.into_iter();
            let f0 = files.next().unwrap_or(GroupFile {
                kind: String::new(),
                path: String::new(),
                embedded: None,
                members: Vec::new(),
            });
            Group {
                owner_type: g.owner_type,
                about: g.about,
                status: g.status,
                kind: f0.kind,
                path: f0.path,
                embedded: f0.embedded,
                members: f0.members,
                also: files.collect(),
                normalized: g.normalized,
                hunks,
            }
        })
        .collect();
    // Largest first; ties in path order of the first member (stable sort).
    out.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    out
}

/// The names of a group's members (devices, or site files), in order.
pub fn member_names<'a>(g: &Group, pieces: &'a [Piece]) -> Vec<&'a str> {
    g.members.iter().map(|&i| pieces[i].name.as_str()).collect()
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
    fn context_after_the_last_change_is_not_the_change() {
        let hunk = |lines: &[(LineOp, &str)]| Hunk {
            old_start: 1,
            old_lines: 0,
            new_start: 1,
            new_lines: 0,
            lines: lines
                .iter()
                .map(|(op, t)| Line {
                    op: *op,
                    text: t.to_string(),
                    no_newline: false,
                })
                .collect(),
        };
        use LineOp::*;
        let compute = hunk(&[
            (Context, "a"),
            (Removed, "x"),
            (Added, "y"),
            (Context, "nova:"),
        ]);
        let storage = hunk(&[
            (Context, "a"),
            (Removed, "x"),
            (Added, "y"),
            (Context, "ceph:"),
        ]);
        let other_lead = hunk(&[
            (Context, "b"),
            (Removed, "x"),
            (Added, "y"),
            (Context, "nova:"),
        ]);
        assert!(same_lines(std::slice::from_ref(&compute), &[storage]));
        assert!(!same_lines(&[compute], &[other_lead]));
    }

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
