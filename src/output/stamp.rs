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
//!   path, type, inode, size, mode, mtime and ctime. Editing, touching,
//!   chmodding, adding, removing or even hard-linking anything in the
//!   output changes an entry or a ctime, so a tampered or half-restored
//!   output is never taken for a current one.
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

use sha2::{Digest, Sha256};

use super::fs::{facts, resolve_target, walk, write_file_atomic_unsynced, Facts};

const HEADER: &str = "siteconf-stamp 1";

/// An output directory as the last build left it, untouched since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    /// The inputs digest of that build (hex).
    inputs: String,
    /// Regular files in the directory, for the summary line.
    pub files: usize,
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

/// The digest of everything a build reads: the tool, the input files and
/// the secrets (`secrets`: their digest, e.g. `render::Secrets::digest`).
/// `None` when the running executable cannot be identified (then no stamp
/// is trusted or written).
pub fn inputs_digest(files: &BTreeMap<String, [u8; 32]>, secrets: &[u8; 32]) -> Option<[u8; 32]> {
    let exe = std::env::current_exe().and_then(fs::metadata).ok()?;
    let mut h = Sha256::new();
    h.update(HEADER.as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(exe.len().to_le_bytes());
    h.update(exe.mtime().to_le_bytes());
    h.update(exe.mtime_nsec().to_le_bytes());
    for (path, digest) in files {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update(digest);
    }
    h.update(secrets);
    Some(h.finalize().into())
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
    let out = resolve_target(out).ok()?;
    let text = fs::read_to_string(path_of(&out)?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let inputs = lines.next()?.strip_prefix("inputs ")?.to_string();
    let want_tree = lines.next()?.strip_prefix("tree ")?;
    let (tree, files) = tree_digest(&out).ok()?;
    (want_tree == hex(&tree)).then_some(Unchanged { inputs, files })
}

/// Deletes the stamp of `out`, if any. Called under the writer's lock
/// before anything in `out` changes.
pub(super) fn remove(out: &Path) -> io::Result<()> {
    let Some(p) = path_of(out) else { return Ok(()) };
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Records that `out`, as it is now, was built from `inputs`. Called under
/// the writer's lock once the output is complete.
pub(super) fn store(out: &Path, inputs: &[u8; 32]) -> io::Result<()> {
    let (tree, _) = tree_digest(out)?;
    write_stamp(out, inputs, &tree)
}

/// Like [`store`], from `entries`: every entry below `out` (relative path,
/// facts), as the writer made them, so that it need not walk the tree it
/// has just written. They must be what a walk would find, or the stamp
/// never matches and the next build only does the whole work.
pub(super) fn store_entries(
    out: &Path,
    inputs: &[u8; 32],
    entries: Vec<(String, Facts)>,
) -> io::Result<()> {
    let (tree, _) = digest_entries(entries);
    write_stamp(out, inputs, &tree)
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
fn write_stamp(out: &Path, inputs: &[u8; 32], tree: &[u8]) -> io::Result<()> {
    write_text(
        out,
        &format!("{HEADER}\ninputs {}\ntree {}\n", hex(inputs), hex(tree)),
    )
}

fn write_text(out: &Path, text: &str) -> io::Result<()> {
    let Some(p) = path_of(out) else { return Ok(()) };
    write_file_atomic_unsynced(&p, text.as_bytes(), 0o600)
}

/// The digest of every entry below `out` (not following links), and the
/// number of regular files.
fn tree_digest(out: &Path) -> io::Result<(Vec<u8>, usize)> {
    let entries = walk(out, |e| Ok(facts(&e.metadata()?)))?;
    Ok(digest_entries(entries))
}

fn digest_entries(mut entries: Vec<(String, Facts)>) -> (Vec<u8>, usize) {
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let files = entries
        .iter()
        .filter(|(_, m)| m[0] & u64::from(libc::S_IFMT) == u64::from(libc::S_IFREG))
        .count();
    let mut h = Sha256::new();
    for (rel, m) in &entries {
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        for x in m {
            h.update(x.to_le_bytes());
        }
    }
    (h.finalize().to_vec(), files)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
