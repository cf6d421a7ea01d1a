//! Formatting a [`Review`](super::Review) for people and machines: `text`
//! for a terminal, `markdown` for a merge-request comment (collapsed
//! sections, a hard size cap), `json` for tools. Each returns a string; the
//! CLI prints it.
//!
//! Every format shows the same order: the summary first (with each manifest
//! summarised in one line: manifests are never shown line by line), then
//! the grouped changes (largest group first), then BGP sessions and
//! allocations (short, and what a reviewer must not miss), then the single
//! changes. Text is capped by default (`--full` shows
//! everything), markdown has a hard size cap, JSON lists each group once
//! (`--full` adds every change).

pub mod json;
pub mod markdown;
pub mod text;

use crate::output::diff::{ArtifactChange, Content, Status};

use super::group::{Group, GroupFile, OwnerType, Piece};
use super::ManifestChange;

/// The one sentence shown instead of a secret-bearing artifact's lines.
pub const SECRET_NOTE: &str = "contains secrets; content not shown";

/// Placeholders stand for each device's own values.
pub const PLACEHOLDER_NOTE: &str =
    "lines differ per device only in its own values, shown as placeholders (<node>, <fqdn>, <ipv4:NETWORK>, <mac:IFACE>, <asn> …)";

/// Said under renamed or removed inventory groups.
pub const GROUPS_HELP: &str =
    "playbooks, `--limit` and group_vars that name a removed or renamed group now match no host; update them in the same change";

/// `0644`
pub fn mode(m: u32) -> String {
    format!("{m:04o}")
}

/// What happened to an artifact when its lines are not shown (or as the
/// heading of its lines): `changed`, `added (contains secrets; content not
/// shown)`, `changed (binary, 120 → 96 bytes)`, `mode 0644 → 0600`.
pub fn status_phrase(c: &ArtifactChange) -> String {
    phrase(c.status, &c.content, c.old_mode, c.new_mode)
}

/// [`status_phrase`] of a piece: an embedded file's own status and content,
/// without modes.
pub fn piece_phrase(p: &Piece, changes: &[ArtifactChange]) -> String {
    let (o, n) = p.modes(changes);
    phrase(p.status, p.content(changes), o, n)
}

fn phrase(
    status: Status,
    content: &Content,
    old_mode: Option<u32>,
    new_mode: Option<u32>,
) -> String {
    let mut s = status.as_str().to_string();
    match content {
        Content::Secret => {
            s.push_str(" (");
            s.push_str(SECRET_NOTE);
            s.push(')');
        }
        Content::Binary { old_size, new_size } => match status {
            Status::Added => s.push_str(&format!(" (binary, {new_size} bytes)")),
            Status::Removed => s.push_str(&format!(" (binary, {old_size} bytes)")),
            Status::Changed => s.push_str(&format!(" (binary, {old_size} → {new_size} bytes)")),
        },
        Content::Summarised { old_size, new_size } => {
            s.push_str(&format!(" (summarised, {old_size} → {new_size} bytes)"))
        }
        Content::Text { .. } => {}
    }
    if let (Some(o), Some(n)) = (old_mode, new_mode) {
        if o != n {
            s.push_str(&format!(", mode {} → {}", mode(o), mode(n)));
        }
    }
    s
}

/// The group's heading: "same change on 312 nodes", "added on 3 switches",
/// "same change in 300 site files, one per node".
pub fn group_title(g: &Group) -> String {
    let n = g.len();
    if let (OwnerType::Site, Some(about)) = (g.owner_type, g.about) {
        let what = format!(
            "{} {}, one per {}",
            n,
            OwnerType::Site.noun(n),
            about.noun(1)
        );
        return match g.status {
            Status::Changed => format!("same change in {what}"),
            Status::Added => format!("added: {what}"),
            Status::Removed => format!("removed: {what}"),
        };
    }
    let what = g.owner_type.noun(n);
    match g.status {
        Status::Changed => format!("same change on {n} {what}"),
        Status::Added => format!("added on {n} {what}"),
        Status::Removed => format!("removed from {n} {what}"),
    }
}

/// A file as headings name it: `nodes/<node>/etc/netplan/50-siteconf.yaml`,
/// or for a file embedded in another
/// `nodes/<node>/cloud-init/user-data: embedded /etc/netplan/50-siteconf.yaml`.
pub fn file_label(path: &str, embedded: Option<&str>) -> String {
    match embedded {
        Some(t) => format!("{path}: embedded {t}"),
        None => path.to_string(),
    }
}

/// One more file of a group: "also in nodes/<node>/cloud-init/network-config
/// (cloud-init-network-config)", "also embedded in
/// nodes/<node>/cloud-init/user-data as /etc/netplan/50-siteconf.yaml
/// (base64; shown decoded above)".
pub fn also_phrase(f: &GroupFile) -> String {
    match &f.embedded {
        Some(t) => format!(
            "also embedded in {} as {t} ({}; base64, the same change decoded)",
            f.path, f.kind
        ),
        None => format!("also in {} ({})", f.path, f.kind),
    }
}

/// "manifest.json: 1200 of 3456 entries changed (sha256 1200, size 900)".
pub fn manifest_phrase(m: &ManifestChange) -> String {
    let Some(d) = &m.entries else {
        return format!(
            "{} {} ({})",
            m.path,
            m.status.as_str(),
            m.note.as_deref().unwrap_or("not read")
        );
    };
    match m.status {
        Status::Added => return format!("{} added ({} entries)", m.path, d.new_entries),
        Status::Removed => return format!("{} removed ({} entries)", m.path, d.old_entries),
        Status::Changed => {}
    }
    let fields: Vec<String> = d.fields.iter().map(|(f, n)| format!("{f} {n}")).collect();
    let changed_in = format!("changed ({})", fields.join(", "));
    // No total: a diff leaves the devices that are the same on both sides
    // out of both renders (docs/review.md), so their entries are in
    // neither manifest, and a total would count only what was rendered.
    let differ = d.changed + d.added + d.removed;
    if differ == 0 {
        return format!("{}: no entry differs (only its layout)", m.path);
    }
    if d.added + d.removed == 0 {
        return format!("{}: {} entries {changed_in}", m.path, d.changed);
    }
    let mut parts = Vec::new();
    if d.changed > 0 {
        parts.push(format!("{} {changed_in}", d.changed));
    }
    if d.added > 0 {
        parts.push(format!("{} added", d.added));
    }
    if d.removed > 0 {
        parts.push(format!("{} removed", d.removed));
    }
    format!("{}: {differ} entries differ: {}", m.path, parts.join(", "))
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
        (c.renumbered, "renumbered"),
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

/// The renumbered values, one line per owner in head:
/// `r01n07: address.mgmt.ipv4 10.0.1.6 → 10.0.1.7, asn 4200000006 → 4200000007`,
/// `db-01 (was r01n03): …`.
pub fn renumbered_lines(r: &super::Review) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last: Option<&str> = None;
    for x in &r.renumbered {
        let change = match &x.old_key {
            Some(k) => format!("{k} {} → {} {}", x.old, x.key, x.new),
            None => format!("{} {} → {}", x.key, x.old, x.new),
        };
        if last == Some(x.owner.as_str()) {
            if let Some(l) = out.last_mut() {
                l.push_str(", ");
                l.push_str(&change);
            }
            continue;
        }
        last = Some(x.owner.as_str());
        let was = x
            .renamed_from
            .as_deref()
            .map(|f| {
                let f = f.split_once('/').map_or(f, |(_, n)| n);
                format!(" (was {f})")
            })
            .unwrap_or_default();
        out.push(format!("{}{was}: {change}", x.owner_name()));
    }
    out
}

/// The sentence under the renumbered values: what it means, how to undo —
/// naming the lock file(s) the values are in (each site of a project of
/// several sites has its own).
pub fn renumbered_help(r: &super::Review) -> String {
    let restore: Vec<String> = r
        .renumbered_locks
        .iter()
        .map(|(b, h)| {
            if b == h {
                format!("restore its lines from base's {b} (`git show BASE:{b}`)")
            } else {
                format!("copy its lines from base's {b} (`git show BASE:{b}`) into {h}")
            }
        })
        .collect();
    let restore = if restore.is_empty() {
        "restore its lines from base's lock (`git show BASE:siteconf.lock`)".to_string()
    } else {
        restore.join("; ")
    };
    format!(
        "a deployed machine gets new values (its lock lines were dropped, released or edited and the values allocated anew: a careless lock merge, a deleted lock, a renamed network or node); to keep them, {restore}, rename the owner or key there, then run `siteconf lock`"
    )
}

/// Whether a group is files of devices added or removed whole (a new
/// rack's nodes, a decommissioned node), with their site files named after
/// them (`host_vars/<fqdn>.yml`): what the text and markdown views
/// summarise one line per kind of device, after the changes to running
/// devices, which a reviewer must not miss (a ToR's `frr.conf` when a rack
/// is added).
pub fn on_new_or_gone_devices(r: &super::Review, g: &super::group::Group) -> bool {
    use super::group::OwnerType;
    if g.status == Status::Changed {
        return false;
    }
    let list = match (g.owner_type, g.about) {
        (OwnerType::Node, _) | (OwnerType::Site, Some(OwnerType::Node)) => &r.node_presence,
        (OwnerType::Switch, _) | (OwnerType::Site, Some(OwnerType::Switch)) => &r.switch_presence,
        _ => return false,
    };
    g.pieces().all(|i| {
        let name = r.pieces[i].name.as_str();
        list.binary_search_by(|(n, _)| n.as_str().cmp(name))
            .is_ok_and(|k| list[k].1 == g.status)
    })
}

/// One line per (added/removed, node/switch) for the groups that
/// [`on_new_or_gone_devices`]: `+ 30 nodes added (480 files: apt-sources,
/// frr, netplan, …): r03n01–r03n30`. `max_ranges`: how many name ranges
/// to list (`None`: all).
pub fn new_or_gone_lines(
    r: &super::Review,
    groups: &[&super::group::Group],
    max_ranges: Option<usize>,
) -> Vec<String> {
    use super::group::{compress_names, short_list, OwnerType};
    use std::collections::{BTreeMap, BTreeSet};
    // (removed first, switches first) → (devices, files, kinds)
    type Acc<'a> = (BTreeSet<&'a str>, usize, BTreeSet<&'a str>);
    let mut acc: BTreeMap<(bool, bool), Acc> = BTreeMap::new();
    for g in groups {
        let node = matches!(
            (g.owner_type, g.about),
            (OwnerType::Node, _) | (OwnerType::Site, Some(OwnerType::Node))
        );
        let e = acc.entry((g.status == Status::Added, node)).or_default();
        for i in g.pieces() {
            let p = &r.pieces[i];
            e.0.insert(p.name.as_str());
            e.1 += 1;
            e.2.insert(r.changes[p.change].kind.as_str());
        }
    }
    acc.into_iter()
        .map(|((added, node), (devices, files, kinds))| {
            let names: Vec<&str> = devices.iter().copied().collect();
            let list = match max_ranges {
                Some(m) => short_list(&names, m),
                None => compress_names(&names).join(", "),
            };
            let what = match (node, names.len()) {
                (true, 1) => "node".to_string(),
                (true, n) => format!("{n} nodes"),
                (false, 1) => "switch".to_string(),
                (false, n) => format!("{n} switches"),
            };
            let kinds: Vec<&str> = kinds.into_iter().collect();
            format!(
                "{} {what} {} ({files} file(s): {}): {list}",
                if added { '+' } else { '-' },
                if added { "added" } else { "removed" },
                kinds.join(", ")
            )
        })
        .collect()
}

/// MAC addresses moved between devices, one line per pair:
/// `MAC addresses moved between devices: r01n03 ↔ r01n04 (10 MAC addresses)`.
pub fn mac_move_lines(r: &super::Review) -> Vec<String> {
    r.mac_moves
        .iter()
        .map(|m| format!("MAC addresses moved between devices: {m}"))
        .collect()
}

/// The sentence under the MAC moves.
pub const MAC_MOVE_HELP: &str = "the machines swap identities where their MACs moved: netplan matches the other's NICs (addresses and bonds land on the other machine's ports), Kea gives each the other's management address if a management NIC's MAC moved, and each `serial` now contradicts its MACs; if the hardware was really swapped, say so in the change (and fix `serial`), else restore each node's MACs";

/// At most this many of head's findings in the capped text and the
/// markdown (JSON has them all).
pub const MAX_HEAD_FINDINGS: usize = 10;

/// Head's findings a capped report lists, and the line that counts the
/// rest: the new ones (not in base), at most [`MAX_HEAD_FINDINGS`]. The
/// standing ones (base has them too) are counted, not listed: a site with
/// a dozen accepted warnings would otherwise put the same dozen lines at
/// the top of every review, above what the change does. `full`: all.
pub fn head_findings_shown<'a>(
    h: &'a crate::review::findings::HeadCheck,
    full: bool,
    more: &str,
) -> (Vec<&'a crate::review::findings::Finding>, Option<String>) {
    let shown: Vec<_> = if full {
        h.findings.iter().collect()
    } else {
        h.findings
            .iter()
            .filter(|f| f.new)
            .take(MAX_HEAD_FINDINGS)
            .collect()
    };
    let total = h.warnings;
    let rest = total.saturating_sub(shown.len());
    if rest == 0 {
        return (shown, None);
    }
    let new_left = h.new.saturating_sub(shown.iter().filter(|f| f.new).count());
    let standing = rest - new_left.min(rest);
    let line = match (new_left, standing) {
        (0, s) => format!("… and {s} standing (base has them too; {more})"),
        (n, 0) => format!("… and {n} more ({more})"),
        (n, s) => format!("… and {n} more new, {s} standing ({more})"),
    };
    (shown, Some(line))
}

/// A rename: "r01n03 → db-01 (same MAC 52:54:00:01:03:01): its 3
/// allocated value(s) change; to keep them rename the owner in
/// siteconf.lock (node/r01n03 → node/db-01)". In a project of several
/// sites the lock is the site's (`sites/a/siteconf.lock`), and a node moved
/// to another site moves its lines to that site's lock.
pub fn rename_line(x: &super::Rename) -> String {
    if x.renumbered == 0 {
        return format!(
            "{} → {} (same {}): its allocated values stay (the lock owner was renamed too)",
            x.from, x.to, x.same
        );
    }
    let owner = |n: &str| {
        let n = n.rsplit_once('/').map_or(n, |(_, n)| n);
        format!("node/{n}")
    };
    let (from, to) = (owner(&x.from), owner(&x.to));
    let how = match (&x.from_lock, &x.to_lock) {
        (Some(a), Some(b)) if a != b => format!(
            "move its lines from {a} to {b} with the owner renamed ({from} → {to}; only values inside the new site's pools are kept)"
        ),
        (Some(a), _) => format!("rename the owner in {a} ({from} → {to})"),
        _ => format!("rename the owner in siteconf.lock ({from} → {to})"),
    };
    format!(
        "{} → {} (same {}): the same machine under a new name; its {} allocated value(s) (addresses, ASN, loopback) change; to keep them {how} before running `siteconf lock`",
        x.from, x.to, x.same, x.renumbered,
    )
}

/// "sshd: 10000 changed; frr: 40 changed"
pub fn kinds_line(s: &super::Summary) -> String {
    s.kinds
        .iter()
        .map(|(k, c)| format!("{k}: {}", counts(c)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(new: usize, standing: usize) -> crate::review::findings::HeadCheck {
        let f = |new: bool| crate::review::findings::Finding {
            code: "SC0001",
            severity: "warning",
            at: None,
            message: "m".into(),
            new,
        };
        crate::review::findings::HeadCheck {
            errors: 0,
            warnings: new + standing,
            new,
            findings: (0..new)
                .map(|_| f(true))
                .chain((0..standing).map(|_| f(false)))
                .collect(),
            omitted: 0,
        }
    }

    /// Standing warnings (base has them too) are counted, not listed, so
    /// they do not head every review of a site that lives with them.
    #[test]
    fn head_findings_list_the_new_and_count_the_standing() {
        let h = head(2, 12);
        let (shown, more) = head_findings_shown(&h, false, "x");
        assert_eq!(shown.len(), 2);
        assert_eq!(
            more.as_deref(),
            Some("… and 12 standing (base has them too; x)")
        );
        let (shown, more) = head_findings_shown(&h, true, "x");
        assert_eq!((shown.len(), more), (14, None));
        let h12 = head(12, 0);
        let (shown, more) = head_findings_shown(&h12, false, "x");
        assert_eq!(
            (shown.len(), more.as_deref()),
            (10, Some("… and 2 more (x)"))
        );
        let (_, more) = head_findings_shown(&head(11, 3), false, "x");
        assert_eq!(more.as_deref(), Some("… and 1 more new, 3 standing (x)"));
        assert_eq!(head(0, 3).phrase(), "3 warning(s) (none new)");
        assert_eq!(head(1, 3).phrase(), "4 warning(s) (1 new)");
    }

    fn rename(from_lock: Option<&str>, to_lock: Option<&str>) -> crate::review::Rename {
        crate::review::Rename {
            from: "a/r01n12".into(),
            to: "b/r01n13".into(),
            same: "MAC 52:54:00:01:0c:01".into(),
            renumbered: 6,
            from_lock: from_lock.map(str::to_string),
            to_lock: to_lock.map(str::to_string),
        }
    }

    /// Each site has its own lock: the advice names it, and a node moved
    /// to another site moves its lines to that site's lock.
    #[test]
    fn a_rename_names_the_lock_its_lines_are_in() {
        let moved = rename_line(&rename(
            Some("sites/a/siteconf.lock"),
            Some("sites/b/siteconf.lock"),
        ));
        assert!(
            moved.contains("move its lines from sites/a/siteconf.lock to sites/b/siteconf.lock with the owner renamed (node/r01n12 → node/r01n13"),
            "{moved}"
        );
        let same = rename_line(&rename(
            Some("sites/a/siteconf.lock"),
            Some("sites/a/siteconf.lock"),
        ));
        assert!(
            same.contains("rename the owner in sites/a/siteconf.lock (node/r01n12 → node/r01n13)"),
            "{same}"
        );
        let single = rename_line(&rename(None, None));
        assert!(
            single.contains("rename the owner in siteconf.lock (node/r01n12 → node/r01n13)"),
            "{single}"
        );
    }
}
