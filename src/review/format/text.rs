//! The terminal format: summary, then grouped hunks as a unified diff.
//! Colour only when asked for (the CLI decides: a terminal and no
//! `NO_COLOR`).

use std::fmt::Write;

use super::{counts, group_title, kinds_line, lock_counts, status_phrase, PLACEHOLDER_NOTE};
use crate::output::diff::{ArtifactChange, Content, Hunk, LineOp, Status};
use crate::review::group::{member_names, short_list, Group};
use crate::review::Review;

/// What to print (`--name-only`, `--stat`, or the full diff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Full,
    NameOnly,
    Stat,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub color: bool,
    pub mode: Mode,
}

/// Ranges of device names shown in a group heading.
const HEADING_RANGES: usize = 8;

struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

pub fn render(r: &Review, opts: &Options) -> String {
    match opts.mode {
        Mode::NameOnly => name_only(r),
        Mode::Stat => stat(r),
        Mode::Full => full(r, opts),
    }
}

/// `M\tpath` per changed artifact, like `git diff --name-status`.
fn name_only(r: &Review) -> String {
    let mut out = String::new();
    for c in &r.changes {
        let _ = writeln!(out, "{}\t{}", c.status.letter(), c.path);
    }
    out
}

/// ` path | 3 +-` per artifact and a total, like `git diff --stat`.
fn stat(r: &Review) -> String {
    let width = r.changes.iter().map(|c| c.path.len()).max().unwrap_or(0);
    let mut out = String::new();
    let (mut plus, mut minus) = (0, 0);
    for c in &r.changes {
        let detail = match &c.content {
            Content::Text { added, removed, .. } => {
                plus += added;
                minus += removed;
                format!(
                    "{:>5} {}{}",
                    added + removed,
                    "+".repeat((*added).min(30)),
                    "-".repeat((*removed).min(30))
                )
            }
            Content::Binary { old_size, new_size } => {
                format!("  Bin {old_size} -> {new_size} bytes")
            }
            Content::Secret => "  (secret; not counted)".to_string(),
        };
        let _ = writeln!(out, " {:width$} |{detail}", c.path);
    }
    let _ = writeln!(
        out,
        " {} artifact(s) changed, {plus} insertion(s)(+), {minus} deletion(s)(-)",
        r.changes.len()
    );
    out
}

fn full(r: &Review, opts: &Options) -> String {
    let p = Painter { on: opts.color };
    let mut out = String::new();
    summary(&mut out, r, &p);
    if r.is_empty() {
        return out;
    }
    let (many, single): (Vec<&Group>, Vec<&Group>) = r.groups.iter().partition(|g| g.len() > 1);
    for g in many {
        let names = member_names(g, &r.changes);
        let heading = format!("{}: {}", group_title(g), short_list(&names, HEADING_RANGES));
        let _ = writeln!(out, "\n{}", p.bold(&format!("── {heading}")));
        let first = &r.changes[g.members[0]];
        artifact(&mut out, &p, first, &g.path, &g.hunks);
        if g.normalized {
            let _ = writeln!(out, "{}", p.dim(&format!("  ({PLACEHOLDER_NOTE})")));
        }
    }
    if !single.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("── single changes"));
        for g in single {
            let c = &r.changes[g.members[0]];
            artifact(&mut out, &p, c, &c.path, c.hunks());
        }
    }
    if !r.sessions.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("── BGP sessions"));
        for s in &r.sessions {
            let (sign, code) = sign(s.status);
            let _ = writeln!(out, "{}", p.paint(code, &format!("{sign} {}", s.session)));
        }
    }
    if !r.lock.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("── siteconf.lock"));
        for l in &r.lock {
            let (sign, code) = match l.change.as_str() {
                "allocated" | "reclaimed" => ("+", "32"),
                _ => ("-", "31"),
            };
            let _ = writeln!(
                out,
                "{}",
                p.paint(
                    code,
                    &format!(
                        "{sign} {} {} {} ({})",
                        l.owner,
                        l.key,
                        l.value,
                        l.change.as_str()
                    )
                )
            );
        }
    }
    out
}

fn sign(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Added => ("+", "32"),
        Status::Removed => ("-", "31"),
        Status::Changed => ("~", "33"),
    }
}

fn summary(out: &mut String, r: &Review, p: &Painter) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "siteconf diff: {} → {}",
            r.base_label, r.head_label
        ))
    );
    if !r.filter.is_empty() {
        let _ = writeln!(out, "filter: {} (counts below are filtered)", r.filter);
    }
    if r.is_empty() {
        let _ = writeln!(out, "no changes to rendered artifacts or allocations");
    } else {
        let rows = [
            (
                "nodes",
                format!("{} (of {})", counts(&s.nodes), s.fleet.head_nodes),
            ),
            ("switches", counts(&s.switches)),
            ("site files", counts(&s.site_files)),
            ("artifacts", counts(&s.artifacts)),
            ("by site", sites_line(s)),
            ("by kind", kinds_line(s)),
            ("allocations", lock_counts(&s.allocations)),
            ("bgp sessions", counts(&s.bgp_sessions)),
        ];
        for (k, v) in rows {
            if v != "none" && !v.is_empty() {
                let _ = writeln!(out, "  {k:<13}{v}");
            }
        }
    }
    if !r.inputs.is_empty() {
        let list: Vec<String> = r
            .inputs
            .iter()
            .map(|i| format!("{} ({})", i.path, i.status.as_str()))
            .collect();
        let _ = writeln!(out, "  {:<13}{}", "inputs", list.join(", "));
    }
    if r.head_lock_pending > 0 {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                "33",
                &format!(
                    "warning: head's siteconf.lock is not current ({} allocation change(s) not committed); run `siteconf lock` and commit it",
                    r.head_lock_pending
                )
            )
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
}

/// Control characters (but tab) as escapes: a rendered file may carry
/// text from a merge request, and raw escape sequences would drive the
/// reviewer's terminal.
fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// One artifact's heading and lines.
fn artifact(out: &mut String, p: &Painter, c: &ArtifactChange, path: &str, hunks: &[Hunk]) {
    let _ = writeln!(out, "{} ({}) {}", p.bold(path), c.kind, status_phrase(c));
    for h in hunks {
        let _ = writeln!(out, "{}", p.paint("36", &h.header()));
        for l in &h.lines {
            let unified = l.unified();
            let line = visible(&unified);
            let _ = match l.op {
                LineOp::Context => writeln!(out, "{line}"),
                LineOp::Removed => writeln!(out, "{}", p.paint("31", &line)),
                LineOp::Added => writeln!(out, "{}", p.paint("32", &line)),
            };
            if l.no_newline {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
}

/// `lab: 6 changed; bootinfra/core: 3 changed` (several sites only).
fn sites_line(s: &crate::review::Summary) -> String {
    s.sites
        .iter()
        .map(|(k, c)| format!("{k}: {}", counts(c)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(visible("plain\ttab"), "plain\ttab");
        assert_eq!(visible("x\u{1b}[31my\r"), "x\\u{1b}[31my\\r");
    }
}
