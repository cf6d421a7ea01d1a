//! The merge-request comment: a summary table, then each group in a
//! collapsed `<details>` section, under a hard size cap. GitLab and GitHub
//! refuse comments above roughly 1 MB and 64 KB of text, and a long comment
//! is read by nobody, so the cap (default 60,000 bytes) is strict: sections
//! that do not fit are left out whole, and the comment ends by saying how
//! many were cut, naming as many of them as still fit, and how to see
//! everything.
//!
//! The budget goes to the groups: a manifest is one line of the summary,
//! never a section; a file embedded in another (the netplan in user-data)
//! is one line of the group of the file it is a copy of; site-wide files
//! about one device each group like the devices' own files.
//!
//! Everything taken from the site (names, paths, lines) is escaped for
//! HTML, and diff lines go into a code fence longer than any run of
//! backticks they contain, so a site file cannot inject markup.

use std::fmt::Write;

use super::{
    also_phrase, counts, file_label, group_title, lock_counts, manifest_phrase, piece_phrase,
    PLACEHOLDER_NOTE,
};
use crate::output::diff::{Hunk, Status};
use crate::review::group::{compress_names, member_names, Group};
use crate::review::{Counts, Review};

pub const DEFAULT_MAX_BYTES: usize = 60_000;

/// Diff lines shown per section; a longer diff is cut inside its section.
const SECTION_LINES: usize = 200;
/// Ranges of device names listed per section.
const SECTION_RANGES: usize = 100;
/// Bytes kept back for the closing note about what was cut.
const FOOTER_RESERVE: usize = 600;

#[derive(Debug, Clone)]
pub struct Options {
    /// The hard cap on the comment's size in bytes.
    pub max_bytes: usize,
    /// The command that shows everything, for the note about what was cut
    /// (`siteconf diff main HEAD`).
    pub full_command: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_bytes: DEFAULT_MAX_BYTES,
            full_command: "siteconf diff".to_string(),
        }
    }
}

/// Escapes text for HTML (inside `<summary>`, `<code>`, table cells).
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '|' => o.push_str("&#124;"),
            '`' => o.push_str("&#96;"),
            '*' => o.push_str("&#42;"),
            '_' => o.push_str("&#95;"),
            '[' => o.push_str("&#91;"),
            ']' => o.push_str("&#93;"),
            '\n' | '\r' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A code fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

pub fn render(r: &Review, opts: &Options) -> String {
    let mut head = String::new();
    summary(&mut head, r);
    // (section, its one-line title for the list of cut sections, artifacts)
    let mut sections: Vec<(String, String, usize)> = Vec::new();
    // Files of devices added or removed whole: one line per kind of
    // device, after the changes to running devices (see the text view).
    let (gone, running): (Vec<&Group>, Vec<&Group>) = r
        .groups
        .iter()
        .partition(|g| super::on_new_or_gone_devices(r, g));
    let (many, single): (Vec<&Group>, Vec<&Group>) = running.into_iter().partition(|g| g.len() > 1);
    for g in many {
        let (section, title) = group_section(r, g);
        sections.push((section, title, g.artifacts()));
    }
    if !r.sessions.is_empty() {
        let mut body = String::new();
        for s in &r.sessions {
            let sign = match s.status {
                Status::Removed => '-',
                Status::Added => '+',
                Status::Changed => '~',
            };
            let _ = writeln!(body, "{sign} {s}");
        }
        let title = format!(
            "<b>BGP sessions</b>: {}",
            escape(&counts(&r.summary.bgp_sessions))
        );
        sections.push((
            details(&title, &fenced("diff", &body, SECTION_LINES)),
            title,
            0,
        ));
    }
    if !r.lock.is_empty() {
        let mut body = String::new();
        for l in &r.lock {
            let sign = match l.change.as_str() {
                "allocated" | "reclaimed" => '+',
                _ => '-',
            };
            let _ = writeln!(
                body,
                "{sign} {} {} {} ({})",
                l.owner,
                l.key,
                l.value,
                l.change.as_str()
            );
        }
        let title = format!(
            "<b>siteconf.lock</b>: {}",
            escape(&lock_counts(&r.summary.allocations))
        );
        sections.push((
            details(&title, &fenced("diff", &body, SECTION_LINES)),
            title,
            0,
        ));
    }

    if !gone.is_empty() {
        let mut body = String::new();
        for l in super::new_or_gone_lines(r, &gone, Some(20)) {
            let _ = writeln!(body, "{l}");
        }
        let title =
            "<b>Devices added or removed</b> (their files: <code>siteconf diff --full</code>)"
                .to_string();
        sections.push((
            details(&title, &fenced("diff", &body, SECTION_LINES)),
            title,
            gone.iter().map(|g| g.artifacts()).sum(),
        ));
    }
    // A running device's own files before site-wide files (see the text
    // view).
    let mut single = single;
    single.sort_by_key(|g| {
        g.owner_type == crate::review::group::OwnerType::Site && g.about.is_none()
    });
    for g in single {
        let (section, title) = group_section(r, g);
        sections.push((section, title, g.artifacts()));
    }

    let budget = opts.max_bytes.saturating_sub(FOOTER_RESERVE);
    let mut out = head;
    let mut cut: Vec<&str> = Vec::new();
    let mut cut_artifacts = 0;
    for (s, title, artifacts) in &sections {
        if cut.is_empty() && out.len() + s.len() <= budget {
            out.push_str(s);
        } else {
            cut.push(title);
            cut_artifacts += artifacts;
        }
    }
    if !cut.is_empty() {
        // What was cut, by title, as far as the budget goes: a reviewer
        // sees every change's heading before any change's noise.
        let mut list = String::new();
        let mut listed = 0;
        for t in &cut {
            let item = format!("> - {t}\n");
            if out.len() + list.len() + item.len() > budget {
                break;
            }
            list.push_str(&item);
            listed += 1;
        }
        let _ = write!(
            out,
            "\n> **Cut:** {} of {} section(s) ({cut_artifacts} artifact change(s)) are not shown, to keep this comment under {} bytes. Run {} for everything, or see the full report in the job's artifacts.\n",
            cut.len(),
            sections.len(),
            opts.max_bytes,
            code(&format!("{} --full", opts.full_command))
        );
        if listed > 0 {
            let _ = writeln!(out, ">\n> Not shown:\n{list}");
            if listed < cut.len() {
                let _ = writeln!(out, "> - … and {} more\n", cut.len() - listed);
            }
        }
    }
    // The summary alone may exceed a tiny cap; cut on a char boundary
    // rather than break the promise.
    if out.len() > opts.max_bytes {
        let mut end = opts.max_bytes.saturating_sub(40);
        while end > 0 && !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str("\n\n> **Cut** at the size limit.\n");
        while out.len() > opts.max_bytes {
            out.pop();
        }
    }
    out
}

fn row(out: &mut String, what: &str, c: &Counts) {
    let _ = writeln!(
        out,
        "| {what} | {} | {} | {} |",
        c.added, c.removed, c.changed
    );
}

fn summary(out: &mut String, r: &Review) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "### siteconf diff: {} → {}\n",
        code(&r.base_label),
        code(&r.head_label)
    );
    if !r.filter.is_empty() {
        let _ = writeln!(out, "Filter: {} (counts are filtered)\n", code(&r.filter));
    }
    renumbered(out, r);
    if r.is_empty() {
        let _ = writeln!(out, "No changes to rendered artifacts or allocations.\n");
    } else {
        let _ = writeln!(out, "| | added | removed | changed |\n|---|---:|---:|---:|");
        row(out, "nodes", &s.nodes);
        row(out, "switches", &s.switches);
        row(out, "site files", &s.site_files);
        row(out, "artifacts", &s.artifacts);
        row(out, "BGP sessions", &s.bgp_sessions);
        for (site, c) in &s.sites {
            row(out, &format!("site {}", code(site)), c);
        }
        out.push('\n');
        let kinds: Vec<String> = s
            .kinds
            .iter()
            .map(|(k, c)| format!("{} {}", code(k), escape(&counts(c))))
            .collect();
        let _ = writeln!(out, "**By kind:** {}  ", kinds.join(" · "));
        let _ = writeln!(
            out,
            "**Allocations:** {} · **Fleet:** {} nodes in base, {} in head  ",
            escape(&lock_counts(&s.allocations)),
            s.fleet.base_nodes,
            s.fleet.head_nodes
        );
        for m in &r.manifests {
            let _ = writeln!(out, "**Manifest:** {}  ", escape(&manifest_phrase(m)));
        }
        out.push('\n');
    }
    if !r.inputs.is_empty() {
        const MAX_INPUTS: usize = 30;
        let list: Vec<String> = r
            .inputs
            .iter()
            .take(MAX_INPUTS)
            .map(|i| format!("{} ({})", code(&i.path), i.status.as_str()))
            .collect();
        let more = r.inputs.len().saturating_sub(MAX_INPUTS);
        let _ = write!(out, "**Inputs changed:** {}", list.join(", "));
        if more > 0 {
            let _ = write!(out, " and {more} more");
        }
        out.push_str("\n\n");
    }
    if r.head_lock_pending > 0 {
        let _ = writeln!(
            out,
            "> ⚠️ head's `siteconf.lock` is not current ({} allocation change(s) not committed): run `siteconf lock` and commit it.\n",
            r.head_lock_pending
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "> note: {}\n", escape(n));
    }
}

/// Renumbered machines and renamed nodes, first, as a warning.
fn renumbered(out: &mut String, r: &Review) {
    const MAX_OWNERS: usize = 20;
    if !r.renumbered.is_empty() {
        let _ = writeln!(
            out,
            "> ⛔ **Renumbered:** {} value(s) of {} device(s) change:\n>",
            r.renumbered.len(),
            r.summary.renumbered_nodes
        );
        let lines = super::renumbered_lines(r);
        for l in lines.iter().take(MAX_OWNERS) {
            let _ = writeln!(out, "> - {}", escape(l));
        }
        if lines.len() > MAX_OWNERS {
            let _ = writeln!(
                out,
                "> - … and {} more (`siteconf diff --full`)",
                lines.len() - MAX_OWNERS
            );
        }
        let _ = writeln!(out, ">\n> {}\n", escape(&super::renumbered_help(r)));
    }
    if !r.mac_moves.is_empty() {
        for l in super::mac_move_lines(r) {
            let _ = writeln!(out, "> ⛔ {}  ", escape(&l));
        }
        let _ = writeln!(out, ">\n> {}\n", escape(super::MAC_MOVE_HELP));
    }
    warned_list(
        out,
        "MACs changed",
        &r.mac_changes,
        MAX_OWNERS,
        crate::review::macs::MAC_CHANGE_HELP,
    );
    warned_list(
        out,
        "New cloud-init instance",
        &r.new_instances,
        MAX_OWNERS,
        crate::review::instances::HELP,
    );
    let h = &r.head_check;
    if !h.findings.is_empty() {
        let _ = writeln!(out, "> ⚠️ **check on head:** {}\n>", escape(&h.phrase()));
        let (shown, more) = super::head_findings_shown(h, false, "`siteconf check`");
        for f in shown {
            let _ = writeln!(out, "> - {}", escape(&f.to_string()));
        }
        if let Some(more) = more {
            let _ = writeln!(out, "> - {}", escape(&more));
        }
        out.push('\n');
    }
    for x in &r.renames {
        let _ = writeln!(out, "> **Renamed:** {}\n", escape(&super::rename_line(x)));
    }
    for x in &r.site_renames {
        let _ = writeln!(out, "> **Site renamed:** {}\n", escape(&x.to_string()));
    }
    const MAX_GROUPS: usize = 20;
    if !r.inventory_groups.is_empty() {
        let _ = writeln!(out, "**Inventory groups:**\n");
        for g in r.inventory_groups.iter().take(MAX_GROUPS) {
            let _ = writeln!(out, "- {}", escape(&g.to_string()));
        }
        if r.inventory_groups.len() > MAX_GROUPS {
            let _ = writeln!(
                out,
                "- … and {} more (`siteconf diff --full`)",
                r.inventory_groups.len() - MAX_GROUPS
            );
        }
        if r.inventory_groups.iter().any(|g| g.change != "added") {
            let _ = writeln!(out, "\n{}", escape(super::GROUPS_HELP));
        }
        out.push('\n');
    }
}

/// A headline list near the top of the comment: one `> ⚠️ **LABEL:**` line
/// per item (at most `max`, then a count), and the sentence under them.
fn warned_list<T: std::fmt::Display>(
    out: &mut String,
    label: &str,
    items: &[T],
    max: usize,
    help: &str,
) {
    if items.is_empty() {
        return;
    }
    for x in items.iter().take(max) {
        let _ = writeln!(out, "> ⚠️ **{label}:** {}  ", escape(&x.to_string()));
    }
    if items.len() > max {
        let _ = writeln!(
            out,
            "> … and {} more (`siteconf diff --full`)  ",
            items.len() - max
        );
    }
    let _ = writeln!(out, ">\n> {}\n", escape(help));
}

fn details(summary: &str, body: &str) -> String {
    format!("<details><summary>{summary}</summary>\n\n{body}\n</details>\n\n")
}

/// `body` in a fenced block, cut after `max_lines` lines.
fn fenced(lang: &str, body: &str, max_lines: usize) -> String {
    let total = body.lines().count();
    let shown: String = if total > max_lines {
        let mut s: String = body
            .lines()
            .take(max_lines)
            .flat_map(|l| [l, "\n"])
            .collect();
        let _ = writeln!(s, "… {} more line(s) not shown", total - max_lines);
        s
    } else {
        body.to_string()
    };
    let f = fence(&shown);
    format!("{f}{lang}\n{shown}{f}\n")
}

fn hunks_text(hunks: &[Hunk]) -> String {
    let mut s = String::new();
    for h in hunks {
        let _ = writeln!(s, "{}", h.header());
        for l in &h.lines {
            let _ = writeln!(s, "{}", l.unified());
            if l.no_newline {
                let _ = writeln!(s, "\\ No newline at end of file");
            }
        }
    }
    s
}

/// A group's section and its one-line title.
fn group_section(r: &Review, g: &Group) -> (String, String) {
    let first = &r.pieces[g.members[0]];
    let label = file_label(&g.path, g.embedded.as_deref());
    let phrase = piece_phrase(first, &r.changes);
    let mut body = String::new();
    let title = if g.len() > 1 {
        let names = member_names(g, &r.pieces);
        let ranges = compress_names(&names);
        let shown: Vec<String> = ranges
            .iter()
            .take(SECTION_RANGES)
            .map(|n| escape(n))
            .collect();
        let noun = match g.about {
            Some(about) => about.noun(g.len()),
            None => g.owner_type.noun(g.len()),
        };
        let _ = write!(body, "**{noun}:** {}", shown.join(", "));
        if ranges.len() > SECTION_RANGES {
            let _ = write!(
                body,
                " … and {} more (`--format json` lists all)",
                ranges.len() - SECTION_RANGES
            );
        }
        body.push_str("\n\n");
        format!(
            "<b>{}</b>: {} ({}) {}",
            escape(&group_title(g)),
            code(&label),
            escape(&g.kind),
            escape(&phrase)
        )
    } else {
        format!("{} ({}) {}", code(&label), escape(&g.kind), escape(&phrase))
    };
    for f in &g.also {
        let _ = writeln!(body, "- {}", escape(&also_phrase(f)));
    }
    if !g.also.is_empty() {
        body.push('\n');
    }
    if g.normalized {
        let _ = writeln!(body, "_{}_\n", escape(PLACEHOLDER_NOTE));
    }
    if !g.hunks.is_empty() {
        body.push_str(&fenced("diff", &hunks_text(&g.hunks), SECTION_LINES));
    } else {
        let _ = writeln!(body, "{}", escape(&phrase));
    }
    (details(&title, &body), title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_content() {
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<script>&`x`"), "&lt;script&gt;&amp;&#96;x&#96;");
    }
}
