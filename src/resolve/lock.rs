//! `siteconf.lock`: every allocated value, one line each, sorted by owner
//! and key. Two branches that allocate for different nodes still conflict
//! when they merge (both change the zone serial lines, and each took the
//! next free values): the reader tells a conflict block's cases apart
//! (SC0807), and with the lock's committed copies (`source::Source::earlier`)
//! which of two lines changed (SC0802) and whether a zone serial went back
//! (SC0031).
//!
//! ```text
//! # siteconf.lock — allocated values; commit this file. `siteconf lock` rewrites it.
//! node/r01n01 address.mgmt.ipv4 10.0.1.5
//! node/r01n01 asn 4200000101
//! node/r09n01 loopback.ipv4 10.255.1.9 released
//! ```
//!
//! A `released` line belongs to an owner that no longer asks for it; its
//! value is held back from allocation until `siteconf lock --prune-released`.
//!
//! Besides allocations, the lock records the SOA serial of every DNS zone
//! the build renders, with a digest of the zone's text without its serial
//! (owner kind [`ZONE_OWNER`], key [`ZONE_SERIAL_KEY`]; see
//! `render::site::dns` for how serials move):
//!
//! ```text
//! zone/dc1.example.net serial 7 3f9c…(64 hex digits)
//! ```

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Earlier;
use crate::syntax::{FileId, Span};

#[derive(Debug, Clone)]
pub struct LockEntry {
    pub owner: String,
    pub key: String,
    pub value: String,
    pub released: bool,
    /// Where the line is in the lock file (BUILTIN for new entries).
    pub span: Span,
    /// 1-based line in the lock file (0 for new entries), for messages.
    pub line: usize,
    /// The first line of the git conflict block the line is in, if any:
    /// the block's finding (SC0807) speaks for what its lines collide in.
    pub block: Option<usize>,
}

impl PartialEq for LockEntry {
    fn eq(&self, o: &LockEntry) -> bool {
        self.owner == o.owner
            && self.key == o.key
            && self.value == o.value
            && self.released == o.released
    }
}

/// Owner kind of a zone serial line: `zone/<origin> serial <N> <sha256>`.
/// The one place that knows this owner kind exists (the lock reader treats
/// every other owner as an allocation).
pub const ZONE_OWNER: &str = "zone/";
/// The key of a zone serial line.
pub const ZONE_SERIAL_KEY: &str = "serial";

/// A zone's recorded serial: `serial` was given to the zone whose text,
/// rendered with serial 0, has SHA-256 `hash` (lowercase hex).
#[derive(Debug, Clone)]
pub struct ZoneSerial {
    /// The zone's origin without trailing dot (`dc1.example.net`).
    pub origin: String,
    pub serial: u32,
    pub hash: String,
    /// Where the line is in the lock file (BUILTIN for new records).
    pub span: Span,
}

impl PartialEq for ZoneSerial {
    fn eq(&self, o: &ZoneSerial) -> bool {
        self.origin == o.origin && self.serial == o.serial && self.hash == o.hash
    }
}

#[derive(Debug, Clone, Default)]
pub struct Lock {
    pub entries: Vec<LockEntry>,
    /// Zone serials, sorted by origin (written after the allocations:
    /// `zone/` sorts after every other owner kind).
    pub zones: Vec<ZoneSerial>,
    /// The format version the file declared (0: an unversioned file, as
    /// written before versions existed; read as version 1).
    pub version: u32,
}

/// Two locks are equal when they hold the same entries: an unversioned
/// file with the same lines is current (`check --locked` stays green), and
/// `siteconf lock` adds the version line the next time it writes.
impl PartialEq for Lock {
    fn eq(&self, o: &Lock) -> bool {
        self.entries == o.entries && self.zones == o.zones
    }
}

pub const HEADER: &str = "# siteconf.lock — values allocated by siteconf; commit this file.\n# One line per value: OWNER KEY VALUE [released]. `siteconf lock` rewrites it.\n";

/// The format version this siteconf reads and writes.
pub const VERSION: u32 = 1;

/// An owner kind (`node` in `node/r01n01`) and the keys its lines may have.
#[derive(Debug)]
pub struct OwnerKind {
    pub kind: &'static str,
    /// Whether a key is one of this kind's.
    pub fits: fn(&str) -> bool,
    /// The key shapes, for messages.
    pub shapes: &'static [&'static str],
}

/// Every owner kind the lock may hold, and its keys: the one table the
/// reader checks lines against. A new kind of allocated value is a new row
/// here. (Zone serial lines, `zone/<origin> serial N HASH`, are not
/// allocations and have their own shape: [`ZONE_OWNER`].) Node keys are
/// spelled and read in one place, [`super::key::AllocKey`].
pub static OWNER_KINDS: &[OwnerKind] = &[OwnerKind {
    kind: "node",
    fits: |k| super::key::AllocKey::parse(k).is_some(),
    shapes: super::key::KEY_SHAPES,
}];

/// Why an owner and key cannot be a lock line, if they cannot.
fn entry_shape_error(owner: &str, key: &str) -> Option<String> {
    let kinds = || OWNER_KINDS.iter().map(|k| format!("`{}/NAME`", k.kind));
    let Some((kind, name)) = owner.split_once('/') else {
        return Some(format!(
            "`{owner}` is not an owner (expected {})",
            kinds().collect::<Vec<_>>().join(", ")
        ));
    };
    let Some(k) = OWNER_KINDS.iter().find(|k| k.kind == kind) else {
        return Some(format!(
            "`{kind}` is not a kind of owner siteconf allocates for (expected {})",
            kinds().collect::<Vec<_>>().join(", ")
        ));
    };
    if name.is_empty() || name.contains('/') {
        return Some(format!("`{owner}` is not a valid owner name"));
    }
    if (k.fits)(key) {
        return None;
    }
    let expected: Vec<String> = k.shapes.iter().map(|x| format!("`{x}`")).collect();
    Some(format!(
        "`{key}` is not a key of a {kind} (expected {})",
        expected.join(", ")
    ))
}

/// A git conflict marker line: `<<<<<<<`, `|||||||`, `=======`, `>>>>>>>`.
fn conflict_marker(line: &str) -> Option<char> {
    ['<', '|', '=', '>']
        .into_iter()
        .find(|&c| line.len() >= 7 && line.bytes().take(7).all(|b| b == c as u8))
}

/// An open conflict block while reading.
struct Block {
    start: usize,
    line: usize,
    /// Which side the lines read now are on: 0 ours (after `<<<<<<<`),
    /// 1 the merge base (after `|||||||`, diff3 style), 2 theirs (after
    /// `=======`).
    side: u8,
    /// The name after `<<<<<<<` (`HEAD`).
    ours: String,
}

/// A conflict block as read: its span, first and last line (0: no end),
/// the names of its sides (`HEAD`, `origin/rack-b`).
struct BlockRead {
    whole: Span,
    from: usize,
    to: usize,
    ours: String,
    theirs: String,
}

/// The family of a key's values (an address family, or an ASN's `None`):
/// two lines of one family with the same value give it twice.
fn value_family(key: &str) -> Option<Option<super::key::IpFamily>> {
    super::key::AllocKey::parse(key).map(|k| k.family())
}

impl Lock {
    /// Reads the lock strictly: every line is a comment, the version line,
    /// or `OWNER KEY VALUE [released]` for a known owner kind and key.
    /// Conflict markers, two lines for one owner and key, unknown kinds and
    /// versions are errors; nothing is guessed or silently dropped. (Whether
    /// owners, networks and values fit the site is checked at allocation.)
    pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Lock {
        let mut entries = Vec::new();
        let mut zones = Vec::new();
        let mut version = 0;
        let mut seen_entry = false;
        let mut offset = 0usize;
        let mut block: Option<Block> = None;
        // Entries read inside each conflict block, by block start line.
        let mut block_of: Vec<Option<usize>> = Vec::new();
        // The side of its block each entry is on (see `Block::side`).
        let mut side_of: Vec<u8> = Vec::new();
        // Each zone line's block.
        let mut zone_block: Vec<Option<usize>> = Vec::new();
        let mut blocks: Vec<BlockRead> = Vec::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let lineno = i + 1;
            let start = offset;
            offset += line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            let span = Span::new(file, start, start + body.len());
            if let Some(m) = conflict_marker(body) {
                let name = body[7..].trim().to_string();
                match (m, &mut block) {
                    ('<', None) => {
                        block = Some(Block {
                            start,
                            line: lineno,
                            side: 0,
                            ours: name,
                        })
                    }
                    ('|', Some(b)) => b.side = 1,
                    ('=', Some(b)) => b.side = 2,
                    ('>', Some(b)) => {
                        let whole = Span::new(file, b.start, start + body.len());
                        blocks.push(BlockRead {
                            whole,
                            from: b.line,
                            to: lineno,
                            ours: std::mem::take(&mut b.ours),
                            theirs: name,
                        });
                        block = None;
                    }
                    _ => diags.push(
                        Diagnostic::error(
                            Code::LockConflictMarkers,
                            format!("siteconf.lock line {lineno} is a stray git conflict marker"),
                        )
                        .label(span, "left over from a merge")
                        .help("resolve the merge: keep the lines of both sides, delete every marker line, then run `siteconf check`"),
                    ),
                }
                continue;
            }
            let t = body.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            // A line has a handful of words: no list allocated per line
            // for a lock of 60,000 lines, unless one is much longer.
            let mut few = [""; 8];
            let mut n = 0;
            for w in t.split_whitespace().take(few.len() + 1) {
                if let Some(slot) = few.get_mut(n) {
                    *slot = w;
                }
                n += 1;
            }
            let many: Vec<&str>;
            let words: &[&str] = if n > few.len() {
                many = t.split_whitespace().collect();
                &many
            } else {
                &few[..n]
            };
            if words.first() == Some(&"version") {
                let v = match words {
                    [_, v] => v.parse::<u32>().ok(),
                    _ => None,
                };
                match v {
                    Some(v) if v == VERSION && !seen_entry && version == 0 => version = v,
                    Some(v) if v != VERSION => diags.push(
                        Diagnostic::error(
                            Code::LockVersion,
                            format!("siteconf.lock is format version {v}; this siteconf reads version {VERSION}"),
                        )
                        .label(span, "written by another siteconf")
                        .help("use the siteconf version the project pins (it wrote this file); do not edit the version line"),
                    ),
                    _ => diags.push(
                        Diagnostic::error(Code::LockVersion, format!("siteconf.lock line {lineno}: a misplaced or malformed version line"))
                            .label(span, format!("expected `version {VERSION}` once, before any entry"))
                            .help("delete this line; `siteconf lock` writes the version line itself"),
                    ),
                }
                continue;
            }
            seen_entry = true;
            if let Some(origin) = words[0].strip_prefix(ZONE_OWNER) {
                match parse_zone_line(origin, &words[1..]) {
                    Some((serial, hash)) => {
                        zones.push(ZoneSerial {
                            origin: origin.to_string(),
                            serial,
                            hash,
                            span,
                        });
                        zone_block.push(block.as_ref().map(|b| b.line));
                    }
                    None => diags.push(
                        Diagnostic::error(Code::LockSyntax, format!("cannot read siteconf.lock line {lineno}: not a zone serial line"))
                            .label(span, "expected zone/ORIGIN serial N SHA256")
                            .help("delete the line: the next `siteconf build` or `siteconf lock` records the zone's serial again (higher than the last one built here)"),
                    ),
                }
                continue;
            }
            let released = match words.get(3) {
                None => false,
                Some(&"released") if words.len() == 4 => true,
                _ => {
                    diags.push(
                        Diagnostic::error(
                            Code::LockSyntax,
                            format!("cannot read siteconf.lock line {lineno}"),
                        )
                        .label(span, "expected OWNER KEY VALUE [released]")
                        .help(
                            "fix the line by hand (`git log -p siteconf.lock` shows what it was)",
                        ),
                    );
                    continue;
                }
            };
            if words.len() < 3 {
                diags.push(
                    Diagnostic::error(Code::LockSyntax, format!("cannot read siteconf.lock line {lineno}"))
                        .label(span, "expected OWNER KEY VALUE [released]")
                        .help("a truncated line? fix it by hand (`git log -p siteconf.lock` shows what it was)"),
                );
                continue;
            }
            if let Some(why) = entry_shape_error(words[0], words[1]) {
                diags.push(
                    Diagnostic::error(
                        Code::LockUnknownEntry,
                        format!("siteconf.lock line {lineno}: {why}"),
                    )
                    .label(span, "not a line siteconf writes")
                    .help("a damaged or hand-edited line: restore it from git (`git log -p siteconf.lock`); siteconf never guesses what it meant"),
                );
                continue;
            }
            entries.push(LockEntry {
                owner: words[0].to_string(),
                key: words[1].to_string(),
                value: words[2].to_string(),
                released,
                span,
                line: lineno,
                block: block.as_ref().map(|b| b.line),
            });
            block_of.push(block.as_ref().map(|b| b.line));
            side_of.push(block.as_ref().map_or(0, |b| b.side));
        }
        if let Some(b) = block {
            let whole = Span::new(file, b.start, text.len());
            blocks.push(BlockRead {
                whole,
                from: b.line,
                to: 0,
                ours: b.ours,
                theirs: String::new(),
            });
        }
        // Inside each block, a value ours gives one owner and theirs
        // another (two branches that each took the next free values):
        // (our entry, their entry), by block.
        let mut collide: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        {
            let mut ours: rustc_hash::FxHashMap<
                (usize, Option<super::key::IpFamily>, &str),
                usize,
            > = Default::default();
            for (i, e) in entries.iter().enumerate() {
                if let (Some(b), 0, Some(f)) = (block_of[i], side_of[i], value_family(&e.key)) {
                    ours.entry((b, f, e.value.as_str())).or_insert(i);
                }
            }
            for (i, e) in entries.iter().enumerate() {
                let (Some(b), 2, Some(f)) = (block_of[i], side_of[i], value_family(&e.key)) else {
                    continue;
                };
                if let Some(&o) = ours.get(&(b, f, e.value.as_str())) {
                    if entries[o].owner != e.owner {
                        collide.entry(b).or_default().push((o, i));
                    }
                }
            }
        }
        // Two lines for one owner and key: inside one conflict block they
        // are the block's business; anywhere else a finding of their own.
        // Each key's first line by hash; only keys with more than one line
        // are listed (in key order, for the findings).
        let mut first: rustc_hash::FxHashMap<(&str, &str), usize> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(entries.len(), Default::default());
        let mut by_key: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let k = (e.owner.as_str(), e.key.as_str());
            match first.entry(k) {
                std::collections::hash_map::Entry::Occupied(f) => {
                    by_key.entry(k).or_insert_with(|| vec![*f.get()]).push(i)
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
            }
        }
        let mut in_block: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        let mut drop = vec![false; entries.len()];
        for ((owner, key), idx) in &by_key {
            let first = idx[0];
            for &j in &idx[1..] {
                let (a, b) = (&entries[first], &entries[j]);
                if a == b {
                    // The same line twice: nothing to choose; the rewrite
                    // keeps one.
                    drop[j] = true;
                    continue;
                }
                match (block_of[first], block_of[j]) {
                    (Some(x), Some(y)) if x == y => {
                        in_block.entry(x).or_default().push((first, j));
                        continue;
                    }
                    _ => {}
                }
                let state = |e: &LockEntry| {
                    if e.released {
                        format!("{} (released)", e.value)
                    } else {
                        e.value.clone()
                    }
                };
                diags.push(
                    Diagnostic::error(
                        Code::LockTwoValues,
                        format!(
                            "the lock file has two lines for {owner} {key}: {} (line {}) and {} (line {})",
                            state(a), a.line, state(b), b.line
                        ),
                    )
                    .label(b.span, format!("line {}", b.line))
                    .label(a.span, format!("line {}", a.line))
                    .help(format!(
                        "a merge kept both sides; keep the line with the value {owner} really has (the one deployed, e.g. in the default branch's copy of this file: `git show main:PATH`, PATH this file's path, `siteconf.lock` for a single site) and delete the other"
                    )),
                );
            }
        }
        // Zone lines inside each block, by block.
        let mut block_zones: BTreeMap<usize, usize> = BTreeMap::new();
        for b in zone_block.iter().flatten() {
            *block_zones.entry(*b).or_default() += 1;
        }
        for BlockRead {
            whole,
            from,
            to,
            ours,
            theirs,
        } in blocks
        {
            let end = if to == 0 {
                "the end of the file (no `>>>>>>>`)".to_string()
            } else {
                format!("line {to}")
            };
            let mut d = Diagnostic::error(
                Code::LockConflictMarkers,
                format!("siteconf.lock has an unresolved merge conflict from line {from} to {end}"),
            )
            .label(whole, "conflict block");
            let pairs = in_block.get(&from).map(Vec::as_slice).unwrap_or(&[]);
            for &(a, b) in pairs {
                let (a, b) = (&entries[a], &entries[b]);
                d = d.label(
                    b.span,
                    format!(
                        "{} {}: {} here, {} on line {}",
                        b.owner, b.key, b.value, a.value, a.line
                    ),
                );
            }
            let collisions = collide.get(&from).map(Vec::as_slice).unwrap_or(&[]);
            const LABELLED: usize = 10;
            for &(o, t) in collisions.iter().take(LABELLED) {
                let (o, t) = (&entries[o], &entries[t]);
                d = d.label(
                    t.span,
                    format!(
                        "{} {} {}: line {} gives it to {}",
                        t.owner, t.key, t.value, o.line, o.owner
                    ),
                );
            }
            let side = |name: &str, fallback: &str| {
                if name.is_empty() {
                    fallback.to_string()
                } else {
                    format!("`{name}` side")
                }
            };
            let (ours_s, theirs_s) = (
                side(&ours, "first side (`<<<<<<<`)"),
                side(&theirs, "second side (`>>>>>>>`)"),
            );
            let zones_note = if block_zones.get(&from).copied().unwrap_or(0) > 0 {
                "; keep one side's `zone/… serial` lines and delete the other's"
            } else {
                ""
            };
            let help = if !collisions.is_empty() {
                // Their owners whose values ours gave away: every line of
                // theirs goes, so that `siteconf lock` gives each owner a
                // whole new set of values.
                let mut owners: Vec<&str> = collisions
                    .iter()
                    .map(|&(_, t)| entries[t].owner.as_str())
                    .collect();
                owners.sort_unstable();
                owners.dedup();
                let theirs_lines: Vec<&LockEntry> = entries
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| block_of[*i] == Some(from) && side_of[*i] == 2)
                    .map(|(_, e)| e)
                    .collect();
                let mine: Vec<usize> = theirs_lines
                    .iter()
                    .filter(|e| owners.binary_search(&e.owner.as_str()).is_ok())
                    .map(|e| e.line)
                    .collect();
                let (lo, hi) = (
                    mine.iter().min().copied().unwrap_or(0),
                    mine.iter().max().copied().unwrap_or(0),
                );
                let contiguous = theirs_lines
                    .iter()
                    .filter(|e| (lo..=hi).contains(&e.line))
                    .count()
                    == mine.len();
                let where_ = if contiguous && lo > 0 {
                    if lo == hi {
                        format!(" (line {lo})")
                    } else {
                        format!(" (lines {lo}-{hi})")
                    }
                } else {
                    String::new()
                };
                let same_key = if pairs.is_empty() {
                    String::new()
                } else {
                    "; where both give a value to one owner and key, keep the value that owner really has (the deployed one, e.g. `git show main:siteconf.lock`)".to_string()
                };
                format!(
                    "both sides took the same free values for different owners ({} value(s), first ones labelled): keeping every line of both would give each value to two machines. Keep every line of the {ours_s} (the branch merged into, whose machines may be running); on the {theirs_s} delete every line of {}{where_} and keep its other lines{same_key}{zones_note}; delete the marker lines (`<<<<<<<`, `=======`, `>>>>>>>`), then run `siteconf lock`: owners without lines get new free values, and each zone a serial above both sides'. If the {theirs_s}'s machines are the ones running, do it the other way round",
                    collisions.len(),
                    crate::diag::and_list(&owners, 12),
                )
            } else if pairs.is_empty() {
                format!("the two sides do not contradict each other (no value given to two owners, no owner and key given two values): keep every line of both sides, a line both have once{zones_note}, delete the marker lines (`<<<<<<<`, `=======`, `>>>>>>>`), then run `siteconf lock` (it gives each zone a serial above both sides') and `siteconf check`")
            } else {
                format!("keep every line of both sides except where both give a value to one owner and key (labelled): there keep the value that owner really has (the deployed one, e.g. `git show main:siteconf.lock`){zones_note}; delete the marker lines, then run `siteconf lock` and `siteconf check`")
            };
            diags.push(d.help(help));
        }
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            !drop[i - 1]
        });
        let mut zones: Vec<(ZoneSerial, Option<usize>)> =
            zones.into_iter().zip(zone_block).collect();
        zones.sort_by(|a, b| a.0.origin.cmp(&b.0.origin));
        let mut lock = Lock {
            entries,
            zones: Vec::new(),
            version,
        };
        // Two lines for one zone (both sides of a merge kept): an error
        // naming both; the higher serial is kept, so that whatever the
        // build does next still goes forward. Both inside one conflict
        // block, they are the block's finding.
        let mut kept: Vec<(ZoneSerial, Option<usize>)> = Vec::with_capacity(zones.len());
        for (z, zb) in zones {
            match kept.last_mut() {
                Some((prev, pb)) if prev.origin == z.origin => {
                    if zb.is_none() || *pb != zb {
                        diags.push(
                        Diagnostic::error(
                            Code::LockZoneDuplicate,
                            format!("siteconf.lock records two serials for zone `{}`", z.origin),
                        )
                        .label(prev.span, format!("serial {}", prev.serial))
                        .label(z.span, format!("serial {}", z.serial))
                        .help("delete the line with the lower serial: the next `siteconf build` goes on from the higher one"),
                        );
                    }
                    if crate::model::serial::serial_gt(z.serial, prev.serial) {
                        *prev = z;
                    }
                }
                _ => kept.push((z, zb)),
            }
        }
        lock.zones = kept.into_iter().map(|(z, _)| z).collect();
        lock
    }

    fn sort_zones(&mut self) {
        self.zones.sort_by(|a, b| a.origin.cmp(&b.origin));
    }

    /// The lock with its zone serial lines replaced by `zones`.
    pub fn with_zones(&self, zones: Vec<ZoneSerial>) -> Lock {
        let mut l = Lock {
            entries: self.entries.clone(),
            zones,
            version: self.version,
        };
        l.sort_zones();
        l
    }

    /// The recorded serial of a zone.
    pub fn zone(&self, origin: &str) -> Option<&ZoneSerial> {
        self.zones.iter().find(|z| z.origin == origin)
    }

    pub fn sort(&mut self) {
        self.entries.sort_by(|a, b| {
            (&a.owner, &a.key, a.released, &a.value).cmp(&(&b.owner, &b.key, b.released, &b.value))
        });
        self.entries.dedup();
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        out.push_str(&format!("version {VERSION}\n"));
        for e in &self.entries {
            out.push_str(&e.owner);
            out.push(' ');
            out.push_str(&e.key);
            out.push(' ');
            out.push_str(&e.value);
            if e.released {
                out.push_str(" released");
            }
            out.push('\n');
        }
        for z in &self.zones {
            out.push_str(&format!(
                "{ZONE_OWNER}{} {ZONE_SERIAL_KEY} {} {}\n",
                z.origin, z.serial, z.hash
            ));
        }
        out
    }

    /// Drops released entries (`siteconf lock --prune-released`).
    pub fn prune_released(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !e.released);
        before - self.entries.len()
    }
}

/// The zone serial lines of committed copies of the lock (see
/// `source::Source::earlier`), read leniently — a line that is not one is
/// skipped, the copy was checked when it was committed: origin → each
/// (serial, digest) recorded.
pub fn published_zones(earlier: &[Earlier]) -> BTreeMap<String, Vec<(u32, String)>> {
    let mut out: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for e in earlier {
        for line in e.text.lines().filter(|l| l.starts_with(ZONE_OWNER)) {
            let mut words = line.split_whitespace();
            let Some(origin) = words.next().and_then(|o| o.strip_prefix(ZONE_OWNER)) else {
                continue;
            };
            let rest: Vec<&str> = words.collect();
            if let Some(record) = parse_zone_line(origin, &rest) {
                let known = out.entry(origin.to_string()).or_default();
                if !known.contains(&record) {
                    known.push(record);
                }
            }
        }
    }
    out
}

/// SC0031: a zone serial in the lock below one a committed copy of the
/// lock records (a merge resolved by deleting the conflict block, a line
/// copied from an older lock, a revert). Secondaries that hold the higher
/// serial ignore the zone. `lock_file` names the file in messages.
pub fn serials_behind(lock: &Lock, earlier: &[Earlier], lock_file: &str) -> Vec<Diagnostic> {
    if earlier.is_empty() {
        return Vec::new();
    }
    let published = published_zones(earlier);
    let mut out = Vec::new();
    for z in &lock.zones {
        if z.span == Span::BUILTIN {
            continue;
        }
        let Some(top) = published.get(&z.origin).and_then(|v| {
            v.iter().map(|(n, _)| *n).reduce(|a, b| {
                if crate::model::serial::serial_gt(b, a) {
                    b
                } else {
                    a
                }
            })
        }) else {
            continue;
        };
        if !crate::model::serial::serial_gt(top, z.serial) {
            continue;
        }
        let revs: Vec<&str> = earlier
            .iter()
            .filter(|e| {
                published_zones(std::slice::from_ref(*e))
                    .get(&z.origin)
                    .is_some_and(|v| v.iter().any(|(n, _)| *n == top))
            })
            .map(|e| e.rev.as_str())
            .collect();
        out.push(
            Diagnostic::error(
                Code::LockZoneSerialBehind,
                format!(
                    "{lock_file} gives zone `{}` serial {}, lower than the serial {top} committed in {}: secondaries that hold serial {top} ignore the zone, so none of its changes reaches them",
                    z.origin,
                    z.serial,
                    crate::diag::and_list(&revs, 3)
                ),
            )
            .label(z.span, format!("serial {} < {top}", z.serial))
            .help(format!(
                "run `siteconf lock`: it gives the zone a serial above every committed one (the build does too), then commit {lock_file}; a zone's serial may only go forward, so never take its line from an older lock"
            )),
        );
    }
    out
}

/// The lines of a committed copy of the lock by (owner, key) → (value,
/// released), read leniently, for telling which of two lines changed.
pub fn committed_entries(text: &str) -> rustc_hash::FxHashMap<(&str, &str), (&str, bool)> {
    let mut out = rustc_hash::FxHashMap::default();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        let (Some(owner), Some(key), Some(value)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        if owner.starts_with(ZONE_OWNER) || owner.starts_with('#') {
            continue;
        }
        let released = w.next() == Some("released");
        out.entry((owner, key)).or_insert((value, released));
    }
    out
}

/// `serial N HASH` of a zone line: N a u32, HASH 64 lowercase hex digits.
fn parse_zone_line(origin: &str, rest: &[&str]) -> Option<(u32, String)> {
    let [key, serial, hash] = rest else {
        return None;
    };
    let hex = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (*key == ZONE_SERIAL_KEY && !origin.is_empty() && hex)
        .then(|| serial.parse::<u32>().ok())
        .flatten()
        .map(|n| (n, hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines_round_trip_and_bad_ones_are_errors() {
        let h = "a".repeat(64);
        let text = format!(
            "{HEADER}node/a asn 1\nzone/b.example serial 3 {h}\nzone/a.example serial 4294967295 {h}\n"
        );
        let mut d = Diagnostics::new();
        let l = Lock::parse(FileId(0), &text, &mut d);
        assert!(!d.has_errors());
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.zones.len(), 2);
        assert_eq!(l.zones[0].origin, "a.example");
        assert_eq!(l.zone("b.example").map(|z| z.serial), Some(3));
        assert_eq!(
            l.to_text(),
            format!("{HEADER}version 1\nnode/a asn 1\nzone/a.example serial 4294967295 {h}\nzone/b.example serial 3 {h}\n")
        );
        let mut d = Diagnostics::new();
        let l = Lock::parse(
            FileId(0),
            &format!("zone/a serial 3 {h}\nzone/a serial 5 {h}\n"),
            &mut d,
        );
        assert!(d.has_errors(), "two lines for one zone");
        assert_eq!(l.zones.len(), 1);
        assert_eq!(l.zones[0].serial, 5, "the higher serial is kept");
        for bad in [
            "zone/x serial 3\n".to_string(),
            format!("zone/x serial -1 {h}\n"),
            format!("zone/x serial 4294967296 {h}\n"),
            format!("zone/x soa 3 {h}\n"),
            "zone/x serial 3 abc\n".to_string(),
            format!("zone/ serial 3 {h}\n"),
        ] {
            let mut d = Diagnostics::new();
            let l = Lock::parse(FileId(0), &bad, &mut d);
            assert!(d.has_errors(), "{bad}");
            assert!(l.zones.is_empty() && l.entries.is_empty(), "{bad}");
        }
    }

    #[test]
    fn a_block_whose_sides_took_the_same_values_says_which_lines_to_drop() {
        let h = "a".repeat(64);
        let g = "b".repeat(64);
        let text = format!(
            "node/a asn 1\n<<<<<<< HEAD\nnode/b asn 2\nnode/b loopback.ipv4 10.0.0.2\nzone/x serial 3 {h}\n=======\nnode/c asn 2\nnode/c loopback.ipv4 10.0.0.2\nnode/c address.mgmt.ipv4 10.1.0.9\nzone/x serial 3 {g}\n>>>>>>> rack-b\n"
        );
        let mut d = Diagnostics::new();
        let l = Lock::parse(FileId(0), &text, &mut d);
        let list = d.into_vec();
        // The block's finding alone: no SC0820 for its two zone lines.
        assert_eq!(list.len(), 1, "{list:?}");
        let f = &list[0];
        assert_eq!(f.code, Code::LockConflictMarkers);
        let help = f.help.as_deref().unwrap_or("");
        assert!(help.contains("2 value(s)"), "{help}");
        assert!(
            help.contains("Keep every line of the `HEAD` side"),
            "{help}"
        );
        assert!(
            help.contains("on the `rack-b` side delete every line of node/c (lines 7-9)"),
            "{help}"
        );
        assert!(
            help.contains("keep one side's `zone/… serial` lines"),
            "{help}"
        );
        assert!(help.contains("run `siteconf lock`"), "{help}");
        // The entries know their block (SC0802 leaves them to it).
        assert!(l
            .entries
            .iter()
            .filter(|e| e.owner != "node/a")
            .all(|e| e.block == Some(2)));
        assert_eq!(l.zones.len(), 1);
    }

    #[test]
    fn a_serial_below_a_committed_one_is_an_error_naming_where() {
        let h = "a".repeat(64);
        let earlier = |rev: &str, n: u32| Earlier {
            rev: rev.into(),
            base: rev == "HEAD",
            text: format!("node/a asn 1\nzone/x serial {n} {h}\nzone/y serial 1 {h}\n"),
        };
        let e = [earlier("HEAD", 3), earlier("MERGE_HEAD", 4)];
        let published = published_zones(&e);
        assert_eq!(published["x"].len(), 2);
        assert_eq!(published["y"].len(), 1, "the same record once");
        let mut d = Diagnostics::new();
        let l = Lock::parse(
            FileId(0),
            &format!("zone/x serial 2 {h}\nzone/y serial 1 {h}\n"),
            &mut d,
        );
        let found = serials_behind(&l, &e, "siteconf.lock");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::LockZoneSerialBehind);
        assert!(
            found[0]
                .message
                .contains("zone `x` serial 2, lower than the serial 4 committed in MERGE_HEAD"),
            "{}",
            found[0].message
        );
        // Outside git, or level with the committed serial: nothing.
        assert!(serials_behind(&l, &[], "siteconf.lock").is_empty());
        assert!(serials_behind(&l, &e[..1], "siteconf.lock").len() == 1);
        let l = Lock::parse(FileId(0), &format!("zone/x serial 4 {h}\n"), &mut d);
        assert!(serials_behind(&l, &e, "siteconf.lock").is_empty());
    }
}
