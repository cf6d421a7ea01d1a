//! The terminal format: summary, then grouped hunks as a unified diff.
//! Colour only when asked for (the CLI decides: a terminal and no
//! `NO_COLOR`).
//!
//! Capped by default at [`DEFAULT_MAX_LINES`] lines: a profile change on a
//! fleet is a few groups, but a change that touches many things differently
//! would otherwise scroll for megabytes. The summary always shows; then
//! each group whole while it fits (the group that does not is cut inside,
//! if enough room is left to be worth reading); then one closing note
//! saying what was left out and how to see it (`--full`, `--stat`,
//! `--name-only`). `--name-only` and `--stat` list every file and are not
//! capped: they are the per-file view, asked for by name.

use std::fmt::Write;

use super::{
    also_phrase, counts, file_label, group_title, kinds_line, lock_counts, manifest_phrase,
    piece_phrase, PLACEHOLDER_NOTE,
};
use crate::output::diff::{Content, Hunk, LineOp, Status};
use crate::review::group::{compress_names, member_names, short_list, Group};
use crate::review::Review;

/// What to print (`--name-only`, `--stat`, or the full diff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Full,
    NameOnly,
    Stat,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub color: bool,
    pub mode: Mode,
    /// The cap on the diff's lines; `None` (`--full`): everything, and
    /// every group's devices listed in full.
    pub max_lines: Option<usize>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            color: false,
            mode: Mode::Full,
            max_lines: Some(DEFAULT_MAX_LINES),
        }
    }
}

/// The default cap on the text diff: what a person reads in a minute.
pub const DEFAULT_MAX_LINES: usize = 200;

/// Ranges of device names shown in a group heading (capped output).
const HEADING_RANGES: usize = 8;

/// Lines kept for the closing note about what was left out.
const FOOTER_LINES: usize = 3;

/// A group cut inside is shown only with at least this many lines.
const MIN_PARTIAL: usize = 8;

/// Notes shown in the summary of capped output.
const MAX_NOTES: usize = 10;

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
            Content::Summarised { old_size, new_size } => {
                format!("  Sum {old_size} -> {new_size} bytes (summarised)")
            }
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

/// One part of the diff after the summary: a group, a single change, the
/// BGP sessions, the allocations.
struct Block {
    text: String,
    /// Artifact changes (or embedded files) it shows.
    artifacts: usize,
    what: BlockKind,
    /// May be cut inside (hunks): the rest is lines of a diff.
    divisible: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Group,
    Single,
    Sessions,
    Lock,
    /// Devices added or removed whole (summarised when capped).
    Devices,
}

fn full(r: &Review, opts: &Options) -> String {
    let p = Painter { on: opts.color };
    let capped = opts.max_lines.is_some();
    let mut out = String::new();
    summary(&mut out, r, &p, capped);
    if r.is_empty() {
        return out;
    }
    let mut blocks: Vec<Block> = Vec::new();
    // Files of devices added or removed whole come last, and in the capped
    // view as one line per kind of device: the changes to running devices
    // (a ToR's frr.conf when a rack is added) are what must be read.
    let (gone, running): (Vec<&Group>, Vec<&Group>) = r
        .groups
        .iter()
        .partition(|g| super::on_new_or_gone_devices(r, g));
    let (many, single): (Vec<&Group>, Vec<&Group>) = running.into_iter().partition(|g| g.len() > 1);
    for g in many {
        let names = member_names(g, &r.pieces);
        let list = if capped {
            short_list(&names, HEADING_RANGES)
        } else {
            compress_names(&names).join(", ")
        };
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\n{}",
            p.bold(&format!("── {}: {list}", group_title(g)))
        );
        group_body(&mut text, r, &p, g);
        blocks.push(Block {
            text,
            artifacts: g.artifacts(),
            what: BlockKind::Group,
            divisible: !g.hunks.is_empty(),
        });
    }
    if !r.sessions.is_empty() {
        let mut text = String::new();
        let _ = writeln!(text, "\n{}", p.bold("── BGP sessions"));
        for s in &r.sessions {
            let (sign, code) = sign(s.status);
            let _ = writeln!(text, "{}", p.paint(code, &format!("{sign} {s}")));
        }
        blocks.push(Block {
            text,
            artifacts: 0,
            what: BlockKind::Sessions,
            divisible: true,
        });
    }
    if !r.lock.is_empty() {
        let mut text = String::new();
        let _ = writeln!(text, "\n{}", p.bold("── siteconf.lock"));
        for l in &r.lock {
            let (sign, code) = match l.change.as_str() {
                "allocated" | "reclaimed" => ("+", "32"),
                _ => ("-", "31"),
            };
            let _ = writeln!(
                text,
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
        blocks.push(Block {
            text,
            artifacts: 0,
            what: BlockKind::Lock,
            divisible: true,
        });
    }
    // Devices added or removed whole: one line per kind of device here
    // (capped), their files last (--full).
    if capped && !gone.is_empty() {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\n{}",
            p.bold("── devices added or removed (their files: --full, or --node NAME)")
        );
        for l in super::new_or_gone_lines(r, &gone, Some(HEADING_RANGES)) {
            let code = if l.starts_with('+') { "32" } else { "31" };
            let _ = writeln!(text, "{}", p.paint(code, &visible(&l)));
        }
        blocks.push(Block {
            text,
            artifacts: gone.iter().map(|g| g.artifacts()).sum(),
            what: BlockKind::Devices,
            divisible: true,
        });
    }
    // A running device's own files (a ToR's frr.conf) before site-wide
    // files (zones, Kea), which repeat what the devices' changes say.
    let mut single = single;
    single.sort_by_key(|g| {
        g.owner_type == crate::review::group::OwnerType::Site && g.about.is_none()
    });
    for (i, g) in single.iter().enumerate() {
        let mut text = String::new();
        if i == 0 {
            let _ = writeln!(text, "\n{}", p.bold("── single changes"));
        }
        group_body(&mut text, r, &p, g);
        blocks.push(Block {
            text,
            artifacts: g.artifacts(),
            what: BlockKind::Single,
            divisible: !g.hunks.is_empty(),
        });
    }
    if !capped {
        for (i, g) in gone.iter().enumerate() {
            let mut text = String::new();
            if i == 0 {
                let _ = writeln!(text, "\n{}", p.bold("── devices added or removed"));
            }
            group_body(&mut text, r, &p, g);
            blocks.push(Block {
                text,
                artifacts: g.artifacts(),
                what: BlockKind::Devices,
                divisible: !g.hunks.is_empty(),
            });
        }
    }
    let Some(max) = opts.max_lines else {
        for b in blocks {
            out.push_str(&b.text);
        }
        return out;
    };
    let mut room = max.saturating_sub(out.lines().count() + FOOTER_LINES);
    let mut shown = 0;
    for b in &blocks {
        let lines = b.text.lines().count();
        if lines <= room {
            out.push_str(&b.text);
            room -= lines;
            shown += 1;
            continue;
        }
        // Cut inside a diff that would be worth the room left.
        if b.divisible && room >= MIN_PARTIAL {
            let keep = room - 1;
            for l in b.text.lines().take(keep) {
                out.push_str(l);
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "{}",
                p.dim(&format!("… {} more line(s) of this change", lines - keep))
            );
        }
        break;
    }
    if shown < blocks.len() {
        let rest = &blocks[shown..];
        let count = |k: BlockKind| rest.iter().filter(|b| b.what == k).count();
        let mut what = Vec::new();
        for (k, one, many) in [
            (BlockKind::Group, "group", "groups"),
            (BlockKind::Single, "single change", "single changes"),
        ] {
            match count(k) {
                0 => {}
                1 => what.push(format!("1 {one}")),
                n => what.push(format!("{n} {many}")),
            }
        }
        if count(BlockKind::Sessions) > 0 {
            what.push(format!("BGP sessions ({})", r.sessions.len()));
        }
        if count(BlockKind::Lock) > 0 {
            what.push(format!("allocations ({})", r.lock.len()));
        }
        if count(BlockKind::Devices) > 0 {
            what.push("devices added or removed".to_string());
        }
        let artifacts: usize = rest.iter().map(|b| b.artifacts).sum();
        let lines: usize = rest.iter().map(|b| b.text.lines().count()).sum();
        let _ = writeln!(
            out,
            "\n{}",
            p.paint(
                "33",
                &format!(
                    "… not shown: {} ({artifacts} artifact change(s), {lines} line(s)); this view stops at {max} lines",
                    what.join(", ")
                )
            )
        );
        let _ = writeln!(
            out,
            "  add --full to see everything, or --stat / --name-only for every file, --node/--kind to narrow"
        );
    }
    out
}

/// A group's file heading, its other files, and its lines.
fn group_body(out: &mut String, r: &Review, p: &Painter, g: &Group) {
    let first = &r.pieces[g.members[0]];
    let _ = writeln!(
        out,
        "{} ({}) {}",
        p.bold(&file_label(&g.path, g.embedded.as_deref())),
        g.kind,
        piece_phrase(first, &r.changes)
    );
    for f in &g.also {
        let _ = writeln!(out, "  {}", also_phrase(f));
    }
    hunks(out, p, &g.hunks);
    if g.normalized {
        let _ = writeln!(out, "{}", p.dim(&format!("  ({PLACEHOLDER_NOTE})")));
    }
}

fn sign(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Added => ("+", "32"),
        Status::Removed => ("-", "31"),
        Status::Changed => ("~", "33"),
    }
}

fn summary(out: &mut String, r: &Review, p: &Painter, capped: bool) {
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
    renumbered(out, r, p, capped);
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
    for m in &r.manifests {
        let _ = writeln!(out, "  {:<13}{}", "manifest", manifest_phrase(m));
    }
    if !r.inputs.is_empty() {
        const MAX_INPUTS: usize = 30;
        let list: Vec<String> = r
            .inputs
            .iter()
            .take(if capped { MAX_INPUTS } else { usize::MAX })
            .map(|i| format!("{} ({})", i.path, i.status.as_str()))
            .collect();
        let more = r.inputs.len() - list.len();
        let _ = write!(out, "  {:<13}{}", "inputs", list.join(", "));
        if more > 0 {
            let _ = write!(out, " and {more} more");
        }
        out.push('\n');
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
    let notes = if capped { MAX_NOTES } else { usize::MAX };
    for n in r.notes.iter().take(notes) {
        let _ = writeln!(out, "note: {n}");
    }
    if r.notes.len() > notes {
        let _ = writeln!(
            out,
            "note: … and {} more note(s) (--full)",
            r.notes.len() - notes
        );
    }
}

/// Renumbered machines and renamed nodes: first, before any count.
fn renumbered(out: &mut String, r: &Review, p: &Painter, capped: bool) {
    const MAX_OWNERS: usize = 10;
    if !r.renumbered.is_empty() {
        let n = r.summary.renumbered_nodes;
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                "1;31",
                &format!(
                    "  {:<13}{} value(s) of {n} device(s) change:",
                    "RENUMBERED",
                    r.renumbered.len()
                )
            )
        );
        let lines = super::renumbered_lines(r);
        let show = if capped { MAX_OWNERS } else { usize::MAX };
        for l in lines.iter().take(show) {
            let _ = writeln!(out, "{}", p.paint("31", &format!("    {}", visible(l))));
        }
        if lines.len() > show {
            let _ = writeln!(out, "    … and {} more (--full)", lines.len() - show);
        }
        let _ = writeln!(out, "    {}", super::renumbered_help(r));
    }
    if !r.mac_moves.is_empty() {
        for l in super::mac_move_lines(r) {
            let _ = writeln!(
                out,
                "{}",
                p.paint("1;31", &format!("  {:<13}{}", "MACS MOVED", visible(&l)))
            );
        }
        let _ = writeln!(out, "    {}", super::MAC_MOVE_HELP);
    }
    let show = if capped { MAX_OWNERS } else { usize::MAX };
    let macs = crate::review::macs::MAC_CHANGE_HELP;
    headline_list(out, p, "MACS CHANGED", &r.mac_changes, show, macs);
    let instances = crate::review::instances::HELP;
    headline_list(out, p, "NEW INSTANCE", &r.new_instances, show, instances);
    head_check(out, r, p, capped);
    for x in &r.renames {
        let _ = writeln!(
            out,
            "  {:<13}{}",
            "renamed",
            visible(&super::rename_line(x))
        );
    }
    for x in &r.site_renames {
        let _ = writeln!(out, "  {:<13}{}", "site renamed", visible(&x.to_string()));
    }
    inventory_groups(out, r, p, capped);
}

/// What `check` finds on head, near the top: a warning about the change
/// (an automation key that no longer reaches any node) reads as a harmless
/// two-line hunk below.
/// A headline list near the top (yellow: a change a reviewer must know
/// of, not one the gate blocks): one `LABEL item` line per item (at most
/// `show`, then a count), and the sentence under them.
fn headline_list<T: std::fmt::Display>(
    out: &mut String,
    p: &Painter,
    label: &str,
    items: &[T],
    show: usize,
    help: &str,
) {
    if items.is_empty() {
        return;
    }
    for x in items.iter().take(show) {
        let line = format!("  {label:<13}{}", visible(&x.to_string()));
        let _ = writeln!(out, "{}", p.paint("1;33", &line));
    }
    if items.len() > show {
        let _ = writeln!(out, "    … and {} more (--full)", items.len() - show);
    }
    let _ = writeln!(out, "    {help}");
}

fn head_check(out: &mut String, r: &Review, p: &Painter, capped: bool) {
    let h = &r.head_check;
    if h.findings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}",
        p.paint("33", &format!("  {:<13}head: {}", "CHECK", h.phrase()))
    );
    let (shown, more) = super::head_findings_shown(h, !capped, "--full, or `siteconf check`");
    for f in shown {
        let _ = writeln!(
            out,
            "{}",
            p.paint("33", &format!("    {}", visible(&f.to_string())))
        );
    }
    if let Some(more) = more {
        let _ = writeln!(out, "    {more}");
    }
}

/// Inventory groups added, removed or renamed: playbooks target them by
/// name. Near the top, since a renamed group changes no node's files.
fn inventory_groups(out: &mut String, r: &Review, p: &Painter, capped: bool) {
    const MAX_GROUPS: usize = 10;
    let show = if capped { MAX_GROUPS } else { usize::MAX };
    for g in r.inventory_groups.iter().take(show) {
        let line = format!("  {:<13}{}", "group", visible(&g.to_string()));
        let line = if g.change == "added" {
            line
        } else {
            p.paint("33", &line)
        };
        let _ = writeln!(out, "{line}");
    }
    if r.inventory_groups.len() > show {
        let _ = writeln!(
            out,
            "  {:<13}… and {} more (--full)",
            "group",
            r.inventory_groups.len() - show
        );
    }
    if r.inventory_groups.iter().any(|g| g.change != "added") {
        let _ = writeln!(out, "    {}", super::GROUPS_HELP);
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

/// Hunks as a unified diff.
fn hunks(out: &mut String, p: &Painter, hunks: &[Hunk]) {
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
