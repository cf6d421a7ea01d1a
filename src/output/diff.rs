//! The difference between two [`OutputSet`]s, artifact by artifact: which
//! files were added, removed or changed, and for text files the changed
//! lines as unified-diff hunks.
//!
//! This is the plain, per-file difference. Grouping identical changes across
//! nodes, summaries and formatting live in `crate::review`, which builds on
//! this.
//!
//! Secrets: an artifact marked [`Artifact::secret`] on either side never has
//! its lines copied into a change — not even into memory that a formatter
//! could reach — only the fact that it was added, removed or changed. That
//! is enforced here, at the one place lines are extracted, so no output
//! format can leak them by forgetting a check.

use std::time::Duration;

use rayon::prelude::*;
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::{Artifact, OutputSet, Owner};

/// Lines of context around each change, as in `git diff`.
pub const CONTEXT: usize = 3;

/// How long one file's line diff may search for the smallest diff before it
/// settles for a larger, still correct one (pathological inputs only).
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }
    /// The one-letter form of `--name-only` (git's A/D/M).
    pub fn letter(self) -> char {
        match self {
            Status::Added => 'A',
            Status::Removed => 'D',
            Status::Changed => 'M',
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineOp {
    Context,
    Removed,
    Added,
}

impl LineOp {
    pub fn sign(self) -> char {
        match self {
            LineOp::Context => ' ',
            LineOp::Removed => '-',
            LineOp::Added => '+',
        }
    }
}

/// One line of a hunk, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Line {
    pub op: LineOp,
    pub text: String,
    /// The file ends on this line without a newline (`\ No newline at end
    /// of file` in unified diffs).
    pub no_newline: bool,
}

impl Line {
    /// The line as a unified diff shows it: sign, then text.
    pub fn unified(&self) -> String {
        let mut s = String::with_capacity(self.text.len() + 1);
        s.push(self.op.sign());
        s.push_str(&self.text);
        s
    }
}

/// A run of changed lines with context. Line numbers are 1-based as in
/// unified diffs; a count of 0 means the hunk adds to / removes from an
/// empty side (start is then the line before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<Line>,
}

impl Hunk {
    /// `@@ -1,3 +1,4 @@`
    pub fn header(&self) -> String {
        format!(
            "@@ -{} +{} @@",
            range(self.old_start, self.old_lines),
            range(self.new_start, self.new_lines)
        )
    }
}

fn range(start: usize, len: usize) -> String {
    if len == 1 {
        start.to_string()
    } else {
        format!("{start},{len}")
    }
}

/// What can be shown of a change's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text on both sides: the changed lines.
    Text {
        hunks: Vec<Hunk>,
        added: usize,
        removed: usize,
    },
    /// Not text on one side at least (not UTF-8, or holds NUL bytes).
    Binary { old_size: usize, new_size: usize },
    /// The artifact holds a resolved secret on one side at least: its lines
    /// are never shown.
    Secret,
    /// Text whose lines were not compared because the caller summarises it
    /// another way ([`diff_with`]): the review counts the manifest's
    /// entries instead of showing its lines.
    Summarised { old_size: usize, new_size: usize },
}

/// One artifact that differs between the two sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactChange {
    pub path: String,
    /// Head's owner (base's for a removed artifact).
    pub owner: Owner,
    /// Head's kind (base's for a removed artifact).
    pub kind: String,
    pub status: Status,
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
    pub content: Content,
}

impl ArtifactChange {
    pub fn secret(&self) -> bool {
        matches!(self.content, Content::Secret)
    }
    /// Lines added and removed (0 for binary and secret content).
    pub fn line_counts(&self) -> (usize, usize) {
        match &self.content {
            Content::Text { added, removed, .. } => (*added, *removed),
            _ => (0, 0),
        }
    }
    pub fn hunks(&self) -> &[Hunk] {
        match &self.content {
            Content::Text { hunks, .. } => hunks,
            _ => &[],
        }
    }
    /// Only the permission bits changed.
    pub fn mode_changed(&self) -> bool {
        self.status == Status::Changed && self.old_mode != self.new_mode
    }
}

/// Every artifact that differs between `base` and `head`, in path order.
/// Files are compared in parallel; the result is ordered by path whatever
/// the thread count.
pub fn diff(base: &OutputSet, head: &OutputSet) -> Vec<ArtifactChange> {
    diff_with(base, head, &|_| false)
}

/// As [`diff`], but an artifact for which `summarised` holds (on either
/// side) is compared by its bytes only: its change is
/// [`Content::Summarised`], and its lines are never diffed — a manifest of
/// a large fleet is tens of megabytes, and the review summarises it.
pub fn diff_with(
    base: &OutputSet,
    head: &OutputSet,
    summarised: &(dyn Fn(&Artifact) -> bool + Sync),
) -> Vec<ArtifactChange> {
    let mut pairs: Vec<(Option<&Artifact>, Option<&Artifact>)> = Vec::new();
    let mut b = base.files.values().peekable();
    let mut h = head.files.values().peekable();
    // Merge the two sorted maps into one sorted list of (old, new).
    loop {
        let next = match (b.peek(), h.peek()) {
            (None, None) => break,
            (Some(_), None) => (b.next(), None),
            (None, Some(_)) => (None, h.next()),
            (Some(x), Some(y)) => match x.path.cmp(&y.path) {
                std::cmp::Ordering::Less => (b.next(), None),
                std::cmp::Ordering::Greater => (None, h.next()),
                std::cmp::Ordering::Equal => (b.next(), h.next()),
            },
        };
        pairs.push(next);
    }
    pairs
        .par_iter()
        .filter_map(|&(old, new)| {
            if old.or(new).is_some_and(summarised) {
                summarise_artifact(old, new)
            } else {
                diff_artifact(old, new)
            }
        })
        .collect()
}

/// [`diff_artifact`] without the lines: [`Content::Summarised`] (or
/// [`Content::Secret`]) when the artifacts differ.
fn summarise_artifact(old: Option<&Artifact>, new: Option<&Artifact>) -> Option<ArtifactChange> {
    let (status, any) = match (old, new) {
        (None, None) => return None,
        (None, Some(n)) => (Status::Added, n),
        (Some(o), None) => (Status::Removed, o),
        (Some(o), Some(n)) => {
            if o.mode == n.mode && o.secret == n.secret && o.bytes == n.bytes {
                return None;
            }
            (Status::Changed, n)
        }
    };
    let secret = old.is_some_and(|a| a.secret) || new.is_some_and(|a| a.secret);
    let content = if secret {
        Content::Secret
    } else {
        Content::Summarised {
            old_size: old.map_or(0, |a| a.bytes.len()),
            new_size: new.map_or(0, |a| a.bytes.len()),
        }
    };
    Some(ArtifactChange {
        path: any.path.clone(),
        owner: any.owner.clone(),
        kind: any.kind.clone(),
        status,
        old_mode: old.map(|a| a.mode),
        new_mode: new.map(|a| a.mode),
        content,
    })
}

/// The change from `old` to `new` (either may be absent), or `None` when
/// they are equal.
pub fn diff_artifact(old: Option<&Artifact>, new: Option<&Artifact>) -> Option<ArtifactChange> {
    let (status, any) = match (old, new) {
        (None, None) => return None,
        (None, Some(n)) => (Status::Added, n),
        (Some(o), None) => (Status::Removed, o),
        (Some(o), Some(n)) => {
            if o.mode == n.mode
                && o.secret == n.secret
                && (o.bytes == n.bytes || same_zone_but_serial(o, n))
            {
                return None;
            }
            (Status::Changed, n)
        }
    };
    let secret = old.is_some_and(|a| a.secret) || new.is_some_and(|a| a.secret);
    let old_bytes = old.map(|a| a.bytes.as_slice()).unwrap_or(&[]);
    let new_bytes = new.map(|a| a.bytes.as_slice()).unwrap_or(&[]);
    let content = if secret {
        Content::Secret
    } else {
        match (as_text(old_bytes), as_text(new_bytes)) {
            (Some(o), Some(n)) => line_diff(o, n),
            _ => Content::Binary {
                old_size: old_bytes.len(),
                new_size: new_bytes.len(),
            },
        }
    };
    Some(ArtifactChange {
        path: any.path.clone(),
        owner: any.owner.clone(),
        kind: any.kind.clone(),
        status,
        old_mode: old.map(|a| a.mode),
        new_mode: new.map(|a| a.mode),
        content,
    })
}

/// Two DNS zones that differ in their SOA serial only: not a change a
/// reviewer needs to see (the serial moves forward on its own, e.g. when a
/// change is reverted; see `model::serial`).
fn same_zone_but_serial(o: &Artifact, n: &Artifact) -> bool {
    use crate::model::serial::without_serial;
    if o.kind != "zone" || n.kind != "zone" {
        return false;
    }
    match (as_text(&o.bytes), as_text(&n.bytes)) {
        (Some(a), Some(b)) => match (without_serial(a), without_serial(b)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ => false,
    }
}

/// The bytes as text: UTF-8 without NUL bytes, else `None` (binary).
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The hunks of a line diff with [`CONTEXT`] lines of context.
pub fn line_diff(old: &str, new: &str) -> Content {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let mut hunks = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let op = match change.tag() {
                    ChangeTag::Equal => LineOp::Context,
                    ChangeTag::Delete => {
                        removed += 1;
                        LineOp::Removed
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        LineOp::Added
                    }
                };
                let text = change.value();
                lines.push(Line {
                    op,
                    text: text.trim_end_matches(['\n', '\r']).to_string(),
                    no_newline: change.missing_newline(),
                });
            }
        }
        // Unified diffs number an empty range from the line before it.
        let start = |r: &std::ops::Range<usize>| {
            if r.is_empty() {
                r.start
            } else {
                r.start + 1
            }
        };
        hunks.push(Hunk {
            old_start: start(&old_range),
            old_lines: old_range.len(),
            new_start: start(&new_range),
            new_lines: new_range.len(),
            lines,
        });
    }
    Content::Text {
        hunks,
        added,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(path: &str, text: &str) -> Artifact {
        Artifact::new(path, text, Owner::Node("n1".into()), "test")
    }

    fn set(arts: Vec<Artifact>) -> OutputSet {
        let mut s = OutputSet::default();
        for a in arts {
            s.insert(a);
        }
        s
    }

    #[test]
    fn a_zone_whose_serial_alone_moved_is_no_change() {
        let zone = |serial: u32, a: &str| {
            let text = format!(
                "@ IN SOA ns1.x. hm.x. (\n    {serial} ; serial\n    1 2 3 4 )\nwww IN A {a}\n"
            );
            Artifact::new("site/dns/x.zone", text, Owner::Site, "zone")
        };
        let base = set(vec![zone(3, "192.0.2.1")]);
        assert!(diff(&base, &set(vec![zone(5, "192.0.2.1")])).is_empty());
        let changed = diff(&base, &set(vec![zone(5, "192.0.2.2")]));
        assert_eq!(changed.len(), 1);
        // Only zones: another file with a number that moved is a change.
        let other = |n: u32| {
            set(vec![Artifact::new(
                "site/x.txt",
                format!("@ IN SOA a. b. {n}\n"),
                Owner::Site,
                "text",
            )])
        };
        assert_eq!(diff(&other(3), &other(5)).len(), 1);
    }

    #[test]
    fn added_removed_changed_in_path_order() {
        let base = set(vec![
            art("a", "1\n"),
            art("b", "x\ny\nz\n"),
            art("c", "gone\n"),
        ]);
        let head = set(vec![
            art("a", "1\n"),
            art("b", "x\nY\nz\n"),
            art("d", "new\n"),
        ]);
        let changes = diff(&base, &head);
        let got: Vec<(&str, Status)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("b", Status::Changed),
                ("c", Status::Removed),
                ("d", Status::Added)
            ]
        );
        let b = &changes[0];
        assert_eq!(b.line_counts(), (1, 1));
        let h = &b.hunks()[0];
        assert_eq!(h.header(), "@@ -1,3 +1,3 @@");
        let lines: Vec<String> = h.lines.iter().map(Line::unified).collect();
        assert_eq!(lines, vec![" x", "-y", "+Y", " z"]);
        assert_eq!(changes[2].hunks()[0].header(), "@@ -0,0 +1 @@");
    }

    #[test]
    fn secret_content_is_never_extracted() {
        let mut old = art("s", "password hunter2\n");
        old.secret = true;
        let new = art("s", "password canary-42\n");
        let c = diff_artifact(Some(&old), Some(&new)).expect("changed");
        assert_eq!(c.content, Content::Secret);
        assert!(!format!("{c:?}").contains("canary-42"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn mode_only_and_binary() {
        let a = art("m", "same\n");
        let mut b = a.clone();
        b.mode = 0o600;
        let c = diff_artifact(Some(&a), Some(&b)).expect("mode change");
        assert!(c.mode_changed());
        assert_eq!(c.line_counts(), (0, 0));
        let bin = Artifact::new("b", vec![0u8, 1, 2], Owner::Site, "bin");
        let c = diff_artifact(None, Some(&bin)).expect("added");
        assert_eq!(
            c.content,
            Content::Binary {
                old_size: 0,
                new_size: 3
            }
        );
    }

    #[test]
    fn missing_final_newline_is_a_change() {
        let c = diff_artifact(Some(&art("f", "a\nb\n")), Some(&art("f", "a\nb"))).expect("changed");
        let lines = &c.hunks()[0].lines;
        assert!(lines.iter().any(|l| l.no_newline && l.op == LineOp::Added));
    }
}
