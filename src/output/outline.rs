//! The outline of an output directory: the list of its entries, so that a
//! build can tell the output is untouched by looking at each entry once
//! (`statx`), with no listing of a single directory.
//!
//! A walk of a fleet's output costs per directory an `openat`, two
//! `getdents64`, a `close` and a `stat`, and per file a `stat`: on a
//! machine where a system call is dear, most of a build that has nothing
//! to do. With the outline, a build `stat`s each listed entry and nothing
//! else, a third of the calls.
//!
//! Beside the output directory `out`, `.out.siteconf-outline` holds the
//! tree digest of the build that wrote it ([`super::stamp::Tree`]), every
//! entry's relative path (front-coded) and kind, and the **seals**: a digest
//! of every directory's inode, mode, mtime and ctime, the output directory
//! itself included. Creating, removing or renaming an entry in a directory
//! moves that directory's mtime and ctime, and nobody can set a ctime back;
//! so when every listed directory still has its seal, the directories hold
//! exactly the listed names, and the tree digest of the listed entries
//! (files with all their facts) decides the rest, exactly as a walk's would.
//!
//! A filesystem that keeps whole seconds only (ext4 with small inodes,
//! some network filesystems) could let an entry be added in the second the
//! seals were taken without moving them: the outline records that second,
//! and a directory whose ctime has no nanoseconds and is not older than it
//! is no answer (as git treats a "racily clean" index entry).
//!
//! The outline is a hint, never trusted: one for another tree, a seal that
//! moved or an entry that is gone is no answer ([`Verdict::Unknown`]), and
//! the caller walks. Only when every seal holds is a digest that differs a
//! definite "touched".

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::fs::{facts_at, remove_file_if_any, write_file_atomic_unsynced, Facts};
use super::path::ancestors;
use super::stamp::Tree;

const HEADER: &str = "siteconf-outline 1";

/// Entries per segment: the first entry of each is written whole, so that
/// segments are decoded and looked at in parallel.
const SEGMENT: usize = 2048;

/// The outline file of output directory `out` (resolved).
fn path_of(out: &Path) -> Option<PathBuf> {
    let name = out.file_name()?.to_string_lossy();
    Some(out.with_file_name(format!(".{name}.siteconf-outline")))
}

/// What looking at the listed entries found.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Every seal holds and the digest is the wanted one: the tree, its
    /// regular files, and (when asked for) every entry with its facts.
    Untouched {
        tree: Tree,
        files: usize,
        entries: Vec<(String, Facts)>,
    },
    /// Every seal holds and the digest differs: the same entries, and one
    /// of them changed.
    Touched,
    /// No outline of this tree, a seal moved, an entry is gone: walk.
    Unknown,
    /// `stop` was set meanwhile.
    Stopped,
}

/// Looks at every entry the outline of `out` lists, for the tree whose
/// digest is `want` (hex, as the stamp records it). `keep` keeps the
/// entries (for the writer's picture of the old output).
pub(super) fn verify(out: &Path, want: &str, keep: bool, stop: &AtomicBool) -> Verdict {
    let Some(text) = path_of(out).and_then(|p| fs::read_to_string(p).ok()) else {
        return Verdict::Unknown;
    };
    let Some(listed) = parse(&text) else {
        return Verdict::Unknown;
    };
    if listed.tree != want {
        return Verdict::Unknown;
    }
    let Ok(root) = open_dir(out) else {
        return Verdict::Unknown;
    };
    let Ok(root_facts) = facts_at(&root, c"") else {
        return Verdict::Unknown;
    };
    if racy(&root_facts, listed.sealed) {
        return Verdict::Unknown;
    }
    struct Acc {
        tree: Tree,
        seals: Tree,
        files: usize,
        entries: Vec<(String, Facts)>,
    }
    let looked = listed
        .lines
        .par_chunks(SEGMENT)
        .map(|seg| {
            let mut acc = Acc {
                tree: Tree::default(),
                seals: Tree::default(),
                files: 0,
                entries: Vec::new(),
            };
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let mut rel = String::new();
            let mut looker = Looker::new(&root);
            for line in seg {
                let dir = decode(line, &mut rel)?;
                let f = looker.stat(&rel).ok()?;
                if dir {
                    if kind(&f) != libc::S_IFDIR || racy(&f, listed.sealed) {
                        return None;
                    }
                    acc.seals.add_all(&rel, &f);
                } else if kind(&f) == libc::S_IFREG {
                    acc.files += 1;
                }
                acc.tree.add(&rel, &f);
                if keep {
                    acc.entries.push((rel.clone(), f));
                }
            }
            Some(acc)
        })
        .collect::<Option<Vec<Acc>>>();
    if stop.load(Ordering::Relaxed) {
        return Verdict::Stopped;
    }
    let Some(parts) = looked else {
        return Verdict::Unknown;
    };
    let (mut tree, mut seals, mut files) = (Tree::default(), Tree::default(), 0);
    seals.add_all("", &root_facts);
    let mut entries = Vec::with_capacity(if keep { listed.lines.len() } else { 0 });
    for p in parts {
        tree.merge(&p.tree);
        seals.merge(&p.seals);
        files += p.files;
        entries.extend(p.entries);
    }
    if seals.hex() != listed.seals {
        return Verdict::Unknown;
    }
    if tree.hex() != want {
        return Verdict::Touched;
    }
    Verdict::Untouched {
        tree,
        files,
        entries,
    }
}

/// Writes the outline of `out` as it is now: `files`, every regular file
/// below it (relative paths), the directories they need, and the seal of
/// each directory, for the tree digest `tree`. A directory that cannot be
/// looked at means no outline (the next build walks).
pub(super) fn record(out: &Path, tree: &Tree, files: &[String]) -> io::Result<()> {
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut entries: Vec<(bool, &str)> = Vec::with_capacity(files.len() * 3 / 2);
    for f in files {
        // Parents first (`ancestors` goes down from the top).
        for d in ancestors(f) {
            if seen.insert(d) {
                entries.push((true, d));
            }
        }
        entries.push((false, f.as_str()));
    }
    drop(seen);
    write(out, tree, &entries)
}

/// [`record`] for a tree with the very entries of the one the outline of
/// `out` was recorded for, `old` (its tree digest, hex): an edit that
/// changed files but added and removed none. The entries are the old
/// outline's, copied as they are; only the seals are taken again, by a
/// `stat` of each directory. `Ok(false)` when the outline on disk is not
/// one of `old` (the caller then records the whole list).
pub(super) fn record_same(out: &Path, tree: &Tree, old: &str) -> io::Result<bool> {
    let Some(p) = path_of(out) else {
        return Ok(false);
    };
    let Ok(text) = fs::read_to_string(&p) else {
        return Ok(false);
    };
    let Some(listed) = parse(&text) else {
        return Ok(false);
    };
    if listed.tree != old {
        return Ok(false);
    }
    // Whatever happens, the old outline no longer describes `out`.
    remove_file_if_any(&p)?;
    let seals = seals_of(out, &listed.lines, |seg, seal| {
        let mut rel = String::new();
        for line in seg {
            if decode(line, &mut rel).ok_or_else(|| io::Error::other("a damaged outline"))? {
                seal(&rel)?;
            }
        }
        Ok(())
    })?;
    // The entries' lines, from the first to the end marker, as they are.
    let body = match listed.lines.first() {
        Some(first) => &text[first.as_ptr() as usize - text.as_ptr() as usize..],
        None => "end\n",
    };
    let mut new = String::with_capacity(body.len() + 200);
    new.push_str(&header(tree, &seals, listed.lines.len()));
    new.push_str(body);
    write_file_atomic_unsynced(&p, new.as_bytes(), 0o600)?;
    Ok(true)
}

/// The seal of every directory of `out`, itself included: `dirs` hands
/// `seal` each directory (relative path) of a segment of `items`; the
/// segments are looked at in parallel.
fn seals_of<T: Sync>(
    out: &Path,
    items: &[T],
    dirs: impl Fn(&[T], &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> + Sync,
) -> io::Result<Tree> {
    let root = open_dir(out)?;
    let mut seals = items
        .par_chunks(SEGMENT)
        .map(|seg| {
            let mut looker = Looker::new(&root);
            let mut t = Tree::default();
            dirs(seg, &mut |d| {
                t.add_all(d, &looker.stat(d)?);
                Ok(())
            })?;
            Ok(t)
        })
        .try_reduce(Tree::default, |mut a, b| {
            a.merge(&b);
            Ok::<_, io::Error>(a)
        })?;
    seals.add_all("", &facts_at(&root, c"")?);
    Ok(seals)
}

/// The outline's first lines: the tree, the seals, when they were taken,
/// the number of entries.
fn header(tree: &Tree, seals: &Tree, entries: usize) -> String {
    let sealed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{HEADER}\ntree {}\nseals {}\nsealed {sealed}\nentries {entries}\n",
        tree.hex(),
        seals.hex(),
    )
}

/// [`record`] from what a walk found: every entry, whatever it is.
pub(super) fn record_walked(out: &Path, tree: &Tree, walked: &[(String, Facts)]) -> io::Result<()> {
    let entries: Vec<(bool, &str)> = walked
        .iter()
        .map(|(rel, f)| (kind(f) == libc::S_IFDIR, rel.as_str()))
        .collect();
    write(out, tree, &entries)
}

/// The outline of `out` listing `entries` (a directory or not, path).
fn write(out: &Path, tree: &Tree, entries: &[(bool, &str)]) -> io::Result<()> {
    let Some(p) = path_of(out) else {
        return Ok(());
    };
    // Whatever happens, an older outline no longer describes `out`.
    remove_file_if_any(&p)?;
    if entries.iter().any(|(_, rel)| rel.contains('\n')) {
        // Not in a line of its own: no outline (output paths never hold a
        // control character; a walk may find anything).
        return Err(io::Error::other("a path with a line break"));
    }
    let seals = seals_of(out, entries, |seg, seal| {
        seg.iter()
            .filter(|(dir, _)| *dir)
            .try_for_each(|(_, d)| seal(d))
    })?;
    let mut text = String::with_capacity(entries.len() * 24 + 200);
    text.push_str(&header(tree, &seals, entries.len()));
    let mut prev = "";
    for (i, (dir, rel)) in entries.iter().enumerate() {
        let shared = if i % SEGMENT == 0 {
            0
        } else {
            common_prefix(prev, rel)
        };
        text.push(if *dir { 'd' } else { 'f' });
        text.push_str(&shared.to_string());
        text.push(' ');
        text.push_str(&rel[shared..]);
        text.push('\n');
        prev = rel;
    }
    text.push_str("end\n");
    write_file_atomic_unsynced(&p, text.as_bytes(), 0o600)
}

/// Deletes the outline of `out`, if any.
pub(super) fn remove(out: &Path) -> io::Result<()> {
    path_of(out).map_or(Ok(()), |p| remove_file_if_any(&p))
}

struct Listed<'a> {
    tree: &'a str,
    seals: &'a str,
    /// When the seals were taken (seconds since the epoch).
    sealed: u64,
    lines: Vec<&'a str>,
}

fn parse(text: &str) -> Option<Listed<'_>> {
    let mut it = text.split('\n');
    if it.next()? != HEADER {
        return None;
    }
    let tree = it.next()?.strip_prefix("tree ")?;
    let seals = it.next()?.strip_prefix("seals ")?;
    let sealed = it.next()?.strip_prefix("sealed ")?.parse().ok()?;
    let n: usize = it.next()?.strip_prefix("entries ")?.parse().ok()?;
    let lines: Vec<&str> = it.by_ref().take(n).collect();
    if lines.len() != n || it.next()? != "end" || !it.next()?.is_empty() || it.next().is_some() {
        return None;
    }
    Some(Listed {
        tree,
        seals,
        sealed,
        lines,
    })
}

/// `d12 suffix` → (a directory, 12 bytes shared with the entry before, suffix).
fn split(line: &str) -> Option<(bool, usize, &str)> {
    let dir = match line.as_bytes().first()? {
        b'd' => true,
        b'f' => false,
        _ => return None,
    };
    let (n, suffix) = line[1..].split_once(' ')?;
    Some((dir, n.parse().ok()?, suffix))
}

/// Decodes the front-coded `line` into `rel`, the path of the line before
/// it in its segment (empty at a segment's start): whether the entry is a
/// directory; `None` for a damaged line.
fn decode(line: &str, rel: &mut String) -> Option<bool> {
    let (dir, shared, suffix) = split(line)?;
    if shared > rel.len() || !rel.is_char_boundary(shared) {
        return None;
    }
    rel.truncate(shared);
    rel.push_str(suffix);
    Some(dir)
}

/// The length of the longest common prefix, at a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// A directory whose ctime, in whole seconds only, is not older than the
/// second its seal was taken in: an entry added in that second may not
/// have moved it.
fn racy(f: &Facts, sealed: u64) -> bool {
    f[6] == 0 && f[5] >= sealed
}

fn kind(f: &Facts) -> u32 {
    (f[0] as u32) & libc::S_IFMT
}

fn open_dir(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
}

/// Looks at entries below a directory, one after another: the device
/// directory (`nodes/<host>`) of the entries below it is kept open, so
/// that each `stat` walks a shorter path (consecutive entries are mostly
/// one device's).
struct Looker<'a> {
    root: &'a File,
    device: Option<(String, File)>,
    c: Vec<u8>,
}

impl<'a> Looker<'a> {
    fn new(root: &'a File) -> Looker<'a> {
        Looker {
            root,
            device: None,
            c: Vec::new(),
        }
    }

    fn stat(&mut self, rel: &str) -> io::Result<Facts> {
        let (at, below) = match rel.match_indices('/').nth(1) {
            Some((i, _)) => {
                let top = &rel[..i];
                let fd = match &mut self.device {
                    Some((d, fd)) if d == top => &*fd,
                    slot => {
                        // The previous device's descriptor is closed first.
                        *slot = None;
                        &slot
                            .insert((top.to_string(), open_below(self.root, top)?))
                            .1
                    }
                };
                (fd, &rel[i + 1..])
            }
            None => (self.root, rel),
        };
        self.c.clear();
        self.c.extend_from_slice(below.as_bytes());
        self.c.push(0);
        let c = std::ffi::CStr::from_bytes_with_nul(&self.c).map_err(io::Error::other)?;
        facts_at(at, c)
    }
}

/// Directory `rel` below `dir`, opened only as a place to look from
/// (`O_PATH`), not following a link.
fn open_below(dir: &File, rel: &str) -> io::Result<File> {
    use std::os::fd::FromRawFd;
    let c = CString::new(rel).map_err(io::Error::other)?;
    // SAFETY: openat with a NUL-terminated path and a descriptor we own;
    // the new descriptor is owned by the returned File.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fs::facts;

    fn tree_of(out: &Path) -> (Tree, Vec<String>) {
        let mut t = Tree::default();
        let mut files = Vec::new();
        for e in walkdir::WalkDir::new(out).min_depth(1).sort_by_file_name() {
            let e = e.expect("walk");
            let rel = e
                .path()
                .strip_prefix(out)
                .expect("below")
                .to_string_lossy()
                .into_owned();
            t.add(&rel, &facts(&fs::symlink_metadata(e.path()).expect("stat")));
            if e.file_type().is_file() {
                files.push(rel);
            }
        }
        (t, files)
    }

    fn fixture() -> (tempfile::TempDir, PathBuf, Tree, Vec<String>) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        for host in ["a", "b", "c"] {
            for rel in ["etc/x", "etc/deep/y", "z", "etc/deep/zz"] {
                let p = out.join("nodes").join(host).join(rel);
                fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
                fs::write(&p, host).expect("file");
            }
        }
        fs::create_dir_all(out.join("site")).expect("site");
        fs::write(out.join("site/k ü.txt"), "x").expect("file");
        fs::write(out.join("manifest.json"), "{}").expect("manifest");
        let (tree, files) = tree_of(&out);
        (tmp, out, tree, files)
    }

    static NEVER: AtomicBool = AtomicBool::new(false);

    #[test]
    fn statx_facts_are_the_metadata_facts() {
        let (_tmp, out, _, _) = fixture();
        let root = open_dir(&out).expect("open");
        for rel in ["nodes", "nodes/a/etc/x", "site/k ü.txt"] {
            let c = CString::new(rel).expect("c");
            assert_eq!(
                facts_at(&root, &c).expect("statx"),
                facts(&fs::symlink_metadata(out.join(rel)).expect("stat")),
                "{rel}"
            );
        }
        assert_eq!(
            facts_at(&root, c"").expect("statx"),
            facts(&fs::symlink_metadata(&out).expect("stat"))
        );
    }

    /// An outline vouches for the tree it was recorded for, and stops
    /// vouching when anything is edited, added or removed.
    #[test]
    fn an_outline_finds_what_a_walk_finds() {
        let (_tmp, out, tree, files) = fixture();
        record(&out, &tree, &files).expect("record");
        match verify(&out, &tree.hex(), true, &NEVER) {
            Verdict::Untouched {
                tree: t,
                files: n,
                entries,
            } => {
                assert_eq!(t, tree);
                assert_eq!(n, files.len());
                // 13 files, and nodes, site, 3 × (host, etc, etc/deep).
                assert_eq!(n, 14);
                assert_eq!(entries.len(), 14 + 2 + 9);
            }
            v => panic!("expected untouched, got {v:?}"),
        }
        // Not the tree it was recorded for.
        assert!(matches!(verify(&out, "0", false, &NEVER), Verdict::Unknown));
        // Stopped.
        assert!(matches!(
            verify(&out, &tree.hex(), false, &AtomicBool::new(true)),
            Verdict::Stopped
        ));
        std::thread::sleep(std::time::Duration::from_millis(10));
        // A file edited in place: the seals hold, the digest differs.
        fs::write(out.join("nodes/b/etc/deep/y"), "B").expect("edit");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Touched
        ));
        let (tree, files) = tree_of(&out);
        record(&out, &tree, &files).expect("record");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Untouched { .. }
        ));
        // A file added where the outline does not look: a seal moves.
        fs::write(out.join("nodes/c/etc/deep/new"), "n").expect("add");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
        fs::remove_file(out.join("nodes/c/etc/deep/new")).expect("rm");
        // Removed.
        let (tree, files) = tree_of(&out);
        record(&out, &tree, &files).expect("record");
        fs::remove_file(out.join("manifest.json")).expect("rm");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
        remove(&out).expect("remove");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
    }

    /// An outline carried over to a tree of the same entries (files
    /// replaced, none added or removed) is the outline a full record
    /// writes, seals and all; for any other tree it is not written.
    #[test]
    fn an_outline_carried_over_is_the_one_recorded() {
        let (_tmp, out, tree, files) = fixture();
        record(&out, &tree, &files).expect("record");
        std::thread::sleep(std::time::Duration::from_millis(10));
        // Replaced as the writer does: a new file renamed over the old,
        // which moves its directory's seal.
        fs::write(out.join("nodes/a/etc/tmp"), "A2").expect("write");
        fs::rename(out.join("nodes/a/etc/tmp"), out.join("nodes/a/etc/x")).expect("rename");
        let (new, _) = tree_of(&out);
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
        assert!(record_same(&out, &new, &tree.hex()).expect("carried"));
        let carried = fs::read_to_string(path_of(&out).expect("path")).expect("read");
        match verify(&out, &new.hex(), true, &NEVER) {
            Verdict::Untouched {
                tree: t,
                files: n,
                entries,
            } => {
                assert_eq!((t, n, entries.len()), (new, 14, 25));
            }
            v => panic!("expected untouched, got {v:?}"),
        }
        record(&out, &new, &files).expect("record");
        let recorded = fs::read_to_string(path_of(&out).expect("path")).expect("read");
        // The same but for the second the seals were taken in.
        let body = |t: &str| -> String {
            t.lines()
                .filter(|l| !l.starts_with("sealed "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(body(&carried), body(&recorded));
        // An outline of another tree is not carried over.
        assert!(!record_same(&out, &new, "0").expect("not carried"));
    }

    /// Whole-second ctimes no older than the seal are no answer; a ctime
    /// with nanoseconds, or an older one, is.
    #[test]
    fn a_directory_sealed_within_its_second_is_racy() {
        let at = |sec: u64, nsec: u64| [0o40755, 1, 0, sec, nsec, sec, nsec, 0];
        assert!(racy(&at(100, 0), 100));
        assert!(racy(&at(101, 0), 100));
        assert!(!racy(&at(99, 0), 100));
        assert!(!racy(&at(100, 5), 100));
    }

    #[test]
    fn segments_start_whole_and_a_damaged_outline_is_no_answer() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        let mut files = Vec::new();
        for i in 0..(SEGMENT + 10) {
            let rel = format!("nodes/h{:05}/f", i);
            fs::create_dir_all(out.join(&rel).parent().expect("p")).expect("dir");
            fs::write(out.join(&rel), "x").expect("file");
            files.push(rel);
        }
        let (tree, walked) = tree_of(&out);
        assert_eq!(walked.len(), files.len());
        record(&out, &tree, &files).expect("record");
        let p = path_of(&out).expect("path");
        let text = fs::read_to_string(&p).expect("read");
        let listed = parse(&text).expect("parse");
        assert_eq!(listed.lines.len(), 1 + 2 * (SEGMENT + 10));
        for seg in listed.lines.chunks(SEGMENT) {
            assert_eq!(split(seg[0]).expect("line").1, 0, "{}", seg[0]);
        }
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Untouched { .. }
        ));
        // Cut short, or with a line that does not parse: no answer.
        fs::write(&p, &text[..text.len() / 2]).expect("cut");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
        fs::write(&p, text.replacen("\nf", "\nx", 1)).expect("damage");
        assert!(matches!(
            verify(&out, &tree.hex(), false, &NEVER),
            Verdict::Unknown
        ));
    }
}
