//! The build stamp: what an output directory was last built from, so that a
//! rebuild with nothing changed neither renders nor reads the output.
//!
//! Beside the output directory `out` (in its parent, like the writer's
//! staging directories), `.out.siteconf-stamp` holds two SHA-256 digests:
//!
//! - **inputs**: the tool itself (its version, and the size and mtime of the
//!   running executable, so a rebuilt siteconf never trusts an old stamp),
//!   every input file by path ([`crate::project::input_digests`]: the
//!   project files, site files, templates), and a digest of the secrets
//!   (names, values and where each came from, computed by whoever loaded
//!   them: this module never sees a secret; the stamp is mode 0600 like
//!   the artifacts that hold those values in clear);
//! - **tree**: every entry of the output directory as the build left it:
//!   each file's path, mode, inode, size, mtime and ctime; each directory's
//!   path and mode (a directory's own times change with its entries, whose
//!   paths are already counted). Editing, touching, chmodding, adding,
//!   removing or even hard-linking anything in the output changes an entry
//!   or a ctime, so a tampered or half-restored output is never taken for
//!   a current one. The digest is a sum of one hash per entry ([`Tree`]),
//!   so that a build that changed a few entries computes the digest of
//!   its new tree from the old one and those entries alone.
//!
//! `build` renders nothing when both digests match. The writer deletes the
//! stamp before it changes anything and writes a new one when it is done,
//! under its lock: a failed or killed build leaves no stamp, and the next
//! build does the whole work.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::fs::{
    facts, remove_file_if_any, resolve_target, walk, write_file_atomic_unsynced, Facts,
};
use super::hex;
use super::outline::{self, Verdict};

const HEADER: &str = "siteconf-stamp 2";

/// An output directory as the last build left it, untouched since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    /// The inputs digest of that build (hex).
    inputs: String,
    /// The digest of the tree as that build left it: what its memo names
    /// ([`super::memo`]), and what a build that changes a few entries
    /// starts from.
    pub tree: Tree,
    /// Regular files in the directory, for the summary line.
    pub files: usize,
    /// Every entry below the directory (relative path, facts), as the walk
    /// that checked it found them: the writer's picture of the old output,
    /// with no second walk.
    pub(super) entries: Vec<(String, Facts)>,
}

impl Unchanged {
    /// Whether that build read exactly `inputs`.
    pub fn built_from(&self, inputs: &[u8; 32]) -> bool {
        self.inputs == hex(inputs)
    }
}

/// What a current output directory holds, for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub files: usize,
}

/// The running siteconf: its version, and the size and mtime of its
/// executable, so that a rebuilt siteconf (whose rendering may differ
/// under the same version) never trusts what an older one recorded.
/// `None` when the executable cannot be identified.
pub fn tool() -> Option<[u8; 32]> {
    let exe = std::env::current_exe().and_then(fs::metadata).ok()?;
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(exe.len().to_le_bytes());
    h.update(exe.mtime().to_le_bytes());
    h.update(exe.mtime_nsec().to_le_bytes());
    Some(h.finalize().into())
}

/// The digest of everything a build reads: the tool, the input files and
/// the secrets (`secrets`: their digest, e.g. `render::Secrets::digest`).
/// `None` when the running executable cannot be identified (then no stamp
/// is trusted or written). Use [`flagged`] for a build whose check had
/// findings.
pub fn inputs_digest(files: &BTreeMap<String, [u8; 32]>, secrets: &[u8; 32]) -> Option<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(HEADER.as_bytes());
    h.update(tool()?);
    for (path, digest) in files {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update(digest);
    }
    h.update(secrets);
    Some(h.finalize().into())
}

/// The inputs digest a stamp records for a build whose check had findings
/// (warnings, a lock that is not current): the same inputs, marked, so
/// that a build that finds its stamp current without checking the site
/// (`build::up_to_date`) does so only when there is nothing to show.
pub fn flagged(inputs: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"siteconf findings\0");
    h.update(inputs);
    h.finalize().into()
}

/// The stamp file of output directory `out` (already resolved to an
/// absolute path by the writer's rules).
pub fn path_of(out: &Path) -> Option<PathBuf> {
    let name = out.file_name()?.to_string_lossy();
    Some(out.with_file_name(format!(".{name}.siteconf-stamp")))
}

/// Whether `out` is exactly what the last build made from `inputs`: the
/// stamp matches and the directory has not changed since. Any doubt (no
/// stamp, an unreadable entry, a different digest) is `None`.
pub fn current(out: &Path, inputs: &[u8; 32]) -> Option<Unchanged> {
    unchanged(out).filter(|u| u.built_from(inputs))
}

/// The stamp of `out`, if the directory is still exactly as the build that
/// wrote the stamp left it. Independent of the inputs, so that it can run
/// while the site is being checked.
pub fn unchanged(out: &Path) -> Option<Unchanged> {
    let (inputs, want_tree) = recorded(out)?;
    let out = resolve_target(out).ok()?;
    match outline::verify(&out, &want_tree, true, &AtomicBool::new(false)) {
        Verdict::Untouched {
            tree,
            files,
            entries,
        } => {
            return Some(Unchanged {
                inputs,
                tree,
                files,
                entries,
            })
        }
        Verdict::Touched => return None,
        Verdict::Unknown | Verdict::Stopped => {}
    }
    let entries = walk(&out, |e| Ok(facts(&e.metadata()?))).ok()?;
    let (tree, files) = digest_of(&entries);
    if want_tree != tree.hex() {
        return None;
    }
    // No outline of this tree, or one that could not answer: the next
    // build looks from a new one.
    let _ = outline::record_walked(&out, &tree, &entries);
    Some(Unchanged {
        inputs,
        tree,
        files,
        entries,
    })
}

/// The walk of [`untouched_unless`] was given up: `stop` was set meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// An output directory found as its stamp's build left it, by a walk that
/// kept nothing but the digest ([`untouched_unless`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untouched {
    /// The inputs digest of that build (hex).
    inputs: String,
    pub tree: Tree,
    /// Regular files in the directory.
    pub files: usize,
}

impl Untouched {
    /// Whether that build read exactly `inputs`.
    pub fn built_from(&self, inputs: &[u8; 32]) -> bool {
        self.inputs == hex(inputs)
    }
}

/// [`unchanged`] keeping nothing of the walk but the digest (a fleet's
/// worth of paths is never in memory), given up as soon as `stop` is set:
/// for a build that only wants to know whether there is anything to do.
pub fn untouched_unless(out: &Path, stop: &AtomicBool) -> Result<Option<Untouched>, Stopped> {
    let Some((inputs, want_tree)) = recorded(out) else {
        return Ok(None);
    };
    let Ok(out) = resolve_target(out) else {
        return Ok(None);
    };
    match outline::verify(&out, &want_tree, false, stop) {
        Verdict::Untouched { tree, files, .. } => {
            return Ok(Some(Untouched {
                inputs,
                tree,
                files,
            }))
        }
        Verdict::Touched => return Ok(None),
        Verdict::Stopped => return Err(Stopped),
        Verdict::Unknown => {}
    }
    let walked = super::fs::walk_fold(
        &out,
        |acc: &mut (Tree, usize), rel, e| {
            if stop.load(Ordering::Relaxed) {
                return Err(io::Error::other("stopped"));
            }
            let f = facts(&e.metadata()?);
            acc.0.add(rel, &f);
            acc.1 += usize::from(is_file(&f));
            Ok(())
        },
        |mut a, b| {
            a.0.merge(&b.0);
            a.1 += b.1;
            a
        },
    );
    if stop.load(Ordering::Relaxed) {
        return Err(Stopped);
    }
    Ok(walked
        .ok()
        .filter(|(tree, _)| tree.hex() == want_tree)
        .map(|(tree, files)| Untouched {
            inputs,
            tree,
            files,
        }))
}

/// The inputs and tree digests (hex) the stamp of `out` records, without
/// looking at the tree.
fn recorded(out: &Path) -> Option<(String, String)> {
    let out = resolve_target(out).ok()?;
    let text = fs::read_to_string(path_of(&out)?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let inputs = lines.next()?.strip_prefix("inputs ")?.to_string();
    let tree = lines.next()?.strip_prefix("tree ")?.to_string();
    Some((inputs, tree))
}

/// Whether the stamp of `out` records a build from `inputs`, without
/// looking at the tree: when it does not, the output cannot be current.
pub fn records_inputs(out: &Path, inputs: &[u8; 32]) -> bool {
    recorded(out).is_some_and(|(i, _)| i == hex(inputs))
}

/// The tree digest (hex) the stamp of `out` records, without looking at
/// the tree: for the memo a build writes right after its stamp.
pub fn recorded_tree(out: &Path) -> Option<String> {
    recorded(out).map(|(_, tree)| tree)
}

/// Deletes the stamp of `out`, if any. Called under the writer's lock
/// before anything in `out` changes.
pub(super) fn remove(out: &Path) -> io::Result<()> {
    path_of(out).map_or(Ok(()), |p| remove_file_if_any(&p))
}

/// Records that `out`, as it is now, was built from `inputs`. Called under
/// the writer's lock once the output is complete.
pub(super) fn store(out: &Path, inputs: &[u8; 32]) -> io::Result<()> {
    let entries = walk(out, |e| Ok(facts(&e.metadata()?)))?;
    let (tree, _) = digest_of(&entries);
    if outline::record_walked(out, &tree, &entries).is_err() {
        let _ = outline::remove(out);
    }
    store_tree(out, inputs, &tree)
}

/// Like [`store`], with the digest of the tree as the writer made it
/// (from every entry, or from the previous tree and the entries it
/// changed), so that it need not walk the tree it has just written. It
/// must be what a walk would find, or the stamp never matches and the
/// next build only does the whole work.
pub(super) fn store_tree(out: &Path, inputs: &[u8; 32], tree: &Tree) -> io::Result<()> {
    write_stamp(out, inputs, &tree.hex())
}

/// Re-records the stamp of `out` as built from `new` instead of `old`, if
/// it is still the stamp of a build from `old`: for an input the build
/// itself rewrote afterwards (the zone serials in siteconf.lock), so that
/// the next build from the same files is up to date. Best effort.
pub fn restamp(out: &Path, old: &[u8; 32], new: &[u8; 32]) -> io::Result<bool> {
    let out = resolve_target(out).map_err(|f| f.err)?;
    let Some(p) = path_of(&out) else {
        return Ok(false);
    };
    let text = match fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut lines = text.lines();
    let ok = lines.next() == Some(HEADER)
        && lines.next().and_then(|l| l.strip_prefix("inputs ")) == Some(hex(old).as_str());
    let tree = lines.next().and_then(|l| l.strip_prefix("tree "));
    match (ok, tree) {
        (true, Some(tree)) => {
            let text = format!("{HEADER}\ninputs {}\ntree {tree}\n", hex(new));
            write_text(&out, &text).map(|()| true)
        }
        _ => Ok(false),
    }
}

/// Written to a temporary file and renamed, so a reader never sees half a
/// stamp.
fn write_stamp(out: &Path, inputs: &[u8; 32], tree: &str) -> io::Result<()> {
    write_text(
        out,
        &format!("{HEADER}\ninputs {}\ntree {tree}\n", hex(inputs)),
    )
}

fn write_text(out: &Path, text: &str) -> io::Result<()> {
    let Some(p) = path_of(out) else { return Ok(()) };
    write_file_atomic_unsynced(&p, text.as_bytes(), 0o600)
}

fn digest_of(entries: &[(String, Facts)]) -> (Tree, usize) {
    let files = entries.iter().filter(|(_, f)| is_file(f)).count();
    let mut tree = Tree::default();
    for (rel, f) in entries {
        tree.add(rel, f);
    }
    (tree, files)
}

fn is_file(f: &Facts) -> bool {
    f[0] & u64::from(libc::S_IFMT) == u64::from(libc::S_IFREG)
}

/// The digest of a tree: the number of entries and the wrapping sum of one
/// 128-bit hash per entry, so that entries are added and taken away in
/// any order. Not a defence against someone crafting collisions (who can
/// write the output can write the stamp): a check that nothing changed by
/// accident or by hand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tree {
    entries: u64,
    sum: u128,
}

impl Tree {
    /// Counts entry `rel` with `facts` in.
    pub(super) fn add(&mut self, rel: &str, facts: &Facts) {
        self.entries = self.entries.wrapping_add(1);
        self.sum = self.sum.wrapping_add(entry_hash(rel, facts));
    }

    /// Counts entry `rel` in with all of `facts`, whatever its type: for
    /// the directories' seals ([`super::outline`]).
    pub(super) fn add_all(&mut self, rel: &str, facts: &Facts) {
        self.entries = self.entries.wrapping_add(1);
        self.sum = self.sum.wrapping_add(hash_of(rel, facts));
    }

    /// Counts the entries of `other` in.
    pub(super) fn merge(&mut self, other: &Tree) {
        self.entries = self.entries.wrapping_add(other.entries);
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// Takes entry `rel` with `facts` out.
    pub(super) fn remove(&mut self, rel: &str, facts: &Facts) {
        self.entries = self.entries.wrapping_sub(1);
        self.sum = self.sum.wrapping_sub(entry_hash(rel, facts));
    }

    /// As the stamp and the memo write it.
    pub fn hex(&self) -> String {
        format!("{:016x}{:032x}", self.entries, self.sum)
    }
}

/// What of an entry the digest covers: all of a file's or a link's facts;
/// a directory's type and mode only (its inode and times differ between
/// the build's two trees and change with its entries, which are counted).
fn entry_hash(rel: &str, f: &Facts) -> u128 {
    let is_dir = f[0] & u64::from(libc::S_IFMT) == u64::from(libc::S_IFDIR);
    hash_of(rel, if is_dir { &f[..1] } else { &f[..] })
}

fn hash_of(rel: &str, covered: &[u64]) -> u128 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut halves = [0u64; 2];
    for (seed, half) in halves.iter_mut().enumerate() {
        // foldhash with fixed seeds: the same on every run of this build of
        // siteconf (the stamp names the executable), and a fraction of
        // SipHash's cost, paid for every entry of a fleet's output.
        let mut h =
            foldhash::fast::FixedState::with_seed(0x5173_636f_6e66 + seed as u64).build_hasher();
        rel.hash(&mut h);
        covered.hash(&mut h);
        *half = h.finish();
    }
    (u128::from(halves[0]) << 64) | u128::from(halves[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk that keeps only the digest finds what the full walk finds,
    /// on a tree of several levels, and neither vouches for it once a file
    /// in it is touched.
    #[test]
    fn the_digest_only_walk_agrees_with_the_full_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        let mut files = 0;
        for host in ["a", "b", "c"] {
            for rel in ["etc/x", "etc/deep/y", "z"] {
                let p = out.join("nodes").join(host).join(rel);
                fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
                fs::write(&p, host).expect("file");
                files += 1;
            }
        }
        fs::create_dir_all(out.join("site")).expect("site");
        fs::write(out.join("manifest.json"), "{}").expect("manifest");
        files += 1;
        let inputs = [7u8; 32];
        store(&out, &inputs).expect("stamp");
        let never = AtomicBool::new(false);
        // From the outline `store` left, then from walks.
        let looked = untouched_unless(&out, &never)
            .expect("not stopped")
            .expect("vouched for");
        outline::remove(&out).expect("no outline");
        let quick = untouched_unless(&out, &never)
            .expect("not stopped")
            .expect("vouched for");
        let full = unchanged(&out).expect("vouched for");
        assert_eq!((quick.tree, quick.files), (full.tree, full.files));
        assert_eq!((looked.tree, looked.files), (full.tree, full.files));
        assert_eq!(quick.files, files);
        assert!(quick.built_from(&inputs) && full.built_from(&inputs));
        // The full walk left an outline again.
        assert!(matches!(
            outline::verify(&out, &full.tree.hex(), false, &never),
            Verdict::Untouched { .. }
        ));
        // A stopped walk says so.
        let stop = AtomicBool::new(true);
        assert_eq!(untouched_unless(&out, &stop), Err(Stopped));
        // Touched: neither vouches.
        std::thread::sleep(std::time::Duration::from_millis(10));
        fs::write(out.join("nodes/b/etc/deep/y"), "B").expect("edit");
        assert!(unchanged(&out).is_none());
        assert_eq!(untouched_unless(&out, &never), Ok(None));
    }
}
