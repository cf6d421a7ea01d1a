//! Writing an [`OutputSet`] to a directory: atomic and incremental.
//!
//! The complete new tree is built in a staging directory beside the target
//! (`.<name>.siteconf-tmp-<pid>`, same filesystem), then swapped in with one
//! `renameat2(RENAME_EXCHANGE)`, and the old tree is removed. So:
//!
//! - **Atomic**: a build killed at any moment leaves the previous output
//!   complete; readers see the old tree or the new one, never a mix. Where
//!   the kernel or filesystem has no `RENAME_EXCHANGE` (EINVAL/ENOSYS: not
//!   Linux ≥ 3.15 with ext4/xfs/btrfs/tmpfs…), it falls back to two renames
//!   (target → `.<name>.siteconf-old-<pid>`, staging → target); a kill
//!   between them leaves no target but a complete old tree, which the next
//!   build renames back before anything else.
//! - **Incremental**: a file whose bytes and mode are unchanged is
//!   hard-linked from the previous tree, so it keeps its inode and mtime and
//!   rsync or Ansible see no change. When nothing changed at all, nothing is
//!   written and nothing is swapped.
//! - **Durable**: before the swap, the data of every file written is on
//!   disk: with `fdatasync` per file when a few thousand changed at most,
//!   else with one `syncfs(2)` (thousands of fsyncs cost more than the
//!   build, and syncfs flushes the whole filesystem, other programs' data
//!   included, which is slow on a busy disk). Directory entries need no
//!   flush of their own: ext4 and xfs journal metadata in order, so the
//!   swap cannot reach the disk before the links and directories it swaps in.
//! - **Clean**: files of removed nodes disappear with the old tree; staging
//!   and old trees left by a killed build are removed by the next one. Two
//!   builds into one directory take turns (`flock` on the parent directory).
//! - **Safe**: every path is checked again (SC0903); the writer never
//!   follows a symlink found inside the output directory (it reads old files
//!   with `O_NOFOLLOW`, found by a walk that does not follow links, and
//!   writes only into the staging directory it created), and it refuses to
//!   replace an existing directory that is not empty and has no siteconf
//!   `manifest.json` (a mistyped `--out $HOME` must not be swapped away).

use std::collections::{BTreeMap, BTreeSet};

// Maps of a fleet's paths (hundreds of thousands): a fast hash, as no
// path here comes from anyone but this build and its own output.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::fs::{
    facts, remove_tree, resolve_target, swap, sync_dir, sync_fs, walk, DirFd, DirLock, Facts,
    Failed,
};
use super::manifest::MANIFEST_PATH;
use super::path::{ancestors, check_set};
use super::{outline, stamp};
use super::{Artifact, OutputSet};
use crate::diag::Diagnostic;

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files written (new or with new content or mode).
    pub changed: usize,
    /// Files kept as they were (hard-linked into the new tree).
    pub unchanged: usize,
    /// Files of the previous output that are gone (and symlinks or other
    /// non-files found there).
    pub removed: usize,
    /// Whether a new tree was swapped in (false: nothing changed).
    pub swapped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Flush the new tree to disk before the swap (`syncfs`). Off only for
    /// benchmarks and throwaway outputs.
    pub sync: bool,
    /// The digest of the inputs this output is built from: when given, a
    /// stamp records it once the output is complete, so that the next
    /// build from the same inputs can skip everything ([`super::stamp`]).
    pub stamp: Option<[u8; 32]>,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            sync: true,
            stamp: None,
        }
    }
}

#[derive(Debug)]
pub enum WriteError {
    /// Paths that may not be written (SC0903); nothing was written.
    Unsafe(Vec<Diagnostic>),
    /// The target exists and is not a siteconf output directory.
    NotOutputDir(PathBuf, String),
    /// An I/O error: what was being done, on which path.
    Io {
        op: &'static str,
        path: PathBuf,
        err: io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Unsafe(d) => write!(f, "{} unsafe output path(s)", d.len()),
            WriteError::NotOutputDir(p, why) => write!(
                f,
                "refusing to replace {}: {why}; siteconf replaces only an empty directory or its own output (with manifest.json)",
                p.display()
            ),
            WriteError::Io { op, path, err } => {
                write!(f, "cannot {op} {}: {err}", path.display())
            }
        }
    }
}

impl std::error::Error for WriteError {}

impl From<Failed> for WriteError {
    fn from(f: Failed) -> WriteError {
        WriteError::Io {
            op: f.op,
            path: f.path,
            err: f.err,
        }
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |err| WriteError::Io {
        op,
        path: path.to_path_buf(),
        err,
    }
}

/// What the walk of the previous output found at one relative path.
#[derive(Debug, Clone, Copy)]
enum Old {
    Dir,
    /// A regular file (size and mode are read when it is compared, in
    /// parallel, not during the walk).
    File,
    /// A symlink, socket, fifo…: never read or followed, always dropped.
    Other,
}

/// Writes `set` to `out` (see the module doc).
pub fn write(set: &OutputSet, out: &Path, opts: WriteOptions) -> Result<WriteStats, WriteError> {
    let diags = check_set(set);
    if !diags.is_empty() {
        return Err(WriteError::Unsafe(diags));
    }
    let mut w = Writer::begin(out, opts)?;
    let all: Vec<&Artifact> = set.files.values().collect();
    w.add(&all)?;
    w.finish()
}

/// A write in progress, for a build that hands over its artifacts in
/// batches and drops their bytes once written (see the module doc for what
/// the result guarantees). The output is locked and scanned by
/// [`Writer::begin`]; each batch is compared with it as it comes, and the
/// new tree is started only at the first difference, so a build that
/// changes nothing writes nothing. [`Writer::finish`] swaps the new tree
/// in. A writer dropped unfinished (the build failed) removes its staging
/// tree: the output stays as it was.
pub struct Writer {
    out: PathBuf,
    parent: PathBuf,
    name: String,
    opts: WriteOptions,
    /// The old output: what is at each path, with its facts when the walk
    /// that verified the stamp gave them.
    old: HashMap<String, (Old, Option<Facts>)>,
    /// The old output's tree digest, when its stamp vouched for it.
    live_tree: Option<stamp::Tree>,
    /// The new tree, once something differs: a staging tree, or the spare.
    staging: Option<PathBuf>,
    /// Updating the spare tree rather than building a staging tree.
    spare: Option<Spare>,
    /// Every path added. Until the new tree starts, each is the old file
    /// unchanged.
    added: Vec<String>,
    /// Directories made in the new tree (looked up for each ancestor of
    /// every path added: a hash, not a fleet-sized ordered set).
    dirs: HashSet<String>,
    /// What each file written into the staging tree is, by its own
    /// `fstat` once complete (for the stamp: no walk of the new tree).
    written: Vec<(String, Facts)>,
    stats: WriteStats,
    finished: bool,
    // Last: released after `Drop` has removed the staging tree.
    _lock: DirLock,
}

/// The spare tree being brought up to date (see the module doc).
struct Spare {
    dir: PathBuf,
    /// The paths where it may differ from the output (the last build's
    /// changes).
    journal: Vec<String>,
    /// Every path this build touches in it (its journal for the next one).
    touched: BTreeSet<String>,
}

impl Writer {
    /// Locks the output's parent, recovers from killed builds, drops the
    /// stamp, and reads what the output holds now (a walk).
    pub fn begin(out: &Path, opts: WriteOptions) -> Result<Writer, WriteError> {
        Writer::begin_from(out, opts, None)
    }

    /// [`Writer::begin`] for an output its stamp found as the last build
    /// left it (`live`, from [`stamp::unchanged`]): no second walk, and
    /// when the last build left a spare tree with its journal, the new tree
    /// is that spare brought up to date: the cost follows what changed.
    pub fn begin_verified(
        out: &Path,
        opts: WriteOptions,
        live: &stamp::Unchanged,
    ) -> Result<Writer, WriteError> {
        Writer::begin_from(out, opts, Some(live))
    }

    fn begin_from(
        out: &Path,
        opts: WriteOptions,
        live: Option<&stamp::Unchanged>,
    ) -> Result<Writer, WriteError> {
        let out = resolve_target(out)?;
        let parent = out
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| WriteError::NotOutputDir(out.clone(), "it has no name".into()))?;
        fs::create_dir_all(&parent).map_err(io_err("create", &parent))?;
        let lock = DirLock::acquire(&parent)?;
        recover_and_clean(&parent, &name, &out)?;
        // The walk was done before the lock: another build may have
        // written since. Each removes the stamp first and records a new one
        // last, so the same stamp still there means the same tree.
        let live = live.filter(|l| stamp::recorded_tree(&out) == Some(l.tree.hex()));
        let live_tree = live.as_ref().map(|l| l.tree);
        // Whatever happens next, the stamp no longer vouches for `out`,
        // nor the journal for the spare tree.
        stamp::remove(&out).map_err(io_err("remove the build stamp of", &out))?;
        let journal = read_journal(&parent, &name);
        super::fs::remove_file_if_any(&journal_path(&parent, &name))
            .map_err(io_err("remove the spare journal of", &out))?;
        let (old, spare) = match live {
            Some(l) => {
                let spare_dir = spare_path(&parent, &name);
                let spare = match journal {
                    Some((tree, paths))
                        if tree == l.tree.hex()
                            && fs::symlink_metadata(&spare_dir).is_ok_and(|m| m.is_dir()) =>
                    {
                        Some(Spare {
                            dir: spare_dir,
                            journal: paths,
                            touched: BTreeSet::new(),
                        })
                    }
                    _ => None,
                };
                let old = l
                    .entries
                    .iter()
                    .map(|(rel, f)| (rel.clone(), (old_kind_of(f), Some(*f))))
                    .collect();
                (old, spare)
            }
            None => (
                scan_old(&out)?
                    .into_iter()
                    .map(|(rel, o)| (rel, (o, None)))
                    .collect(),
                None,
            ),
        };
        Ok(Writer {
            out,
            parent,
            name,
            opts,
            old,
            live_tree,
            staging: None,
            spare,
            added: Vec::new(),
            dirs: HashSet::default(),
            written: Vec::new(),
            stats: WriteStats::default(),
            finished: false,
            _lock: lock,
        })
    }

    /// Files known to be what the old output has at their paths (their
    /// device was not rendered again: see `crate::render::keys`): kept
    /// without being read.
    pub fn keep(&mut self, paths: Vec<String>) -> Result<(), WriteError> {
        self.stats.unchanged += paths.len();
        if self.spare.is_none() && self.staging.is_some() {
            self.link_old(&paths)?;
        }
        self.added.extend(paths);
        Ok(())
    }

    /// Compares a batch with the old output and writes what differs (or,
    /// before anything differed, only notes what is the same). Paths must
    /// be unique across batches; each is checked again here (SC0903).
    pub fn add(&mut self, batch: &[&Artifact]) -> Result<(), WriteError> {
        let diags: Vec<Diagnostic> = batch
            .iter()
            .filter_map(|a| {
                super::path::unsafe_reason(&a.path).map(|why| {
                    super::path::unsafe_path(&a.path, &why, &super::path::owner_text(&a.owner))
                })
            })
            .collect();
        if !diags.is_empty() {
            return Err(WriteError::Unsafe(diags));
        }
        let (out, old) = (&self.out, &self.old);
        let unchanged: Vec<bool> = batch
            .par_iter()
            .map(|a| match old.get(a.path.as_str()) {
                Some((Old::File, _)) => same_file(&out.join(&a.path), &a.bytes, a.mode),
                _ => false,
            })
            .collect();
        let n_unchanged = unchanged.iter().filter(|u| **u).count();
        let changed_before = self.stats.changed;
        self.stats.unchanged += n_unchanged;
        self.stats.changed += batch.len() - n_unchanged;
        if self.staging.is_none() && n_unchanged < batch.len() {
            self.start()?;
        }
        if let Some(staging) = self.staging.clone() {
            self.make_dirs_for(batch.iter().map(|a| a.path.as_str()))?;
            let sync = self.opts.sync;
            let in_spare = self.spare.is_some();
            let out = &self.out;
            // Changed files, counted in batch order, are flushed one by one
            // up to PER_FILE_SYNC_MAX; beyond, `finish` flushes all at once.
            let mut nth_changed = changed_before;
            let work: Vec<(&Artifact, bool, bool)> = batch
                .iter()
                .zip(&unchanged)
                .filter(|(_, u)| !in_spare || !**u)
                .map(|(a, u)| {
                    if !*u {
                        nth_changed += 1;
                    }
                    (*a, *u, sync && !*u && nth_changed <= PER_FILE_SYNC_MAX)
                })
                .collect();
            let root = DirFd::open(&staging).map_err(io_err("open", &staging))?;
            let written: Vec<Option<(String, Facts)>> = work
                .par_iter()
                .map(|(a, unchanged, flush)| {
                    // The full path only for what needs one (and errors):
                    // a fresh build creates every file relative to `root`.
                    let dst = || staging.join(&a.path);
                    if in_spare {
                        // The spare's file is the old output's (a link to
                        // it) or the one before: never written into.
                        clear(&dst())?;
                    } else if *unchanged && fs::hard_link(out.join(&a.path), dst()).is_ok() {
                        return Ok(None);
                    }
                    // Changed, or the old file could not be linked (another
                    // filesystem, a limit on links): write it.
                    let f = match root.create(&a.path, a.mode) {
                        Ok(f) => f,
                        Err(e) => return Err(io_err("create", &dst())(e)),
                    };
                    let facts = write_opened(f, &a.bytes, a.mode, *flush)
                        .map_err(|(op, e)| io_err(op, &dst())(e))?;
                    Ok(Some((a.path.clone(), facts)))
                })
                .collect::<Result<_, WriteError>>()?;
            if let Some(sp) = &mut self.spare {
                sp.touched
                    .extend(work.iter().map(|(a, _, _)| a.path.clone()));
            }
            self.written.extend(written.into_iter().flatten());
        }
        self.added.extend(batch.iter().map(|a| a.path.clone()));
        Ok(())
    }

    /// Starts the new tree: brings the spare up to date with the old
    /// output, or creates the staging tree and links into it every file
    /// added so far (all of them the same as the old ones, or it would
    /// exist already).
    fn start(&mut self) -> Result<(), WriteError> {
        if let Some(sp) = &mut self.spare {
            sync_spare(&self.out, &sp.dir, &sp.journal, &self.old)?;
            sp.touched.extend(std::mem::take(&mut sp.journal));
            self.staging = Some(sp.dir.clone());
            return Ok(());
        }
        let staging = self.parent.join(format!(
            ".{}.siteconf-tmp-{}",
            self.name,
            std::process::id()
        ));
        fs::create_dir(&staging).map_err(io_err("create the staging directory", &staging))?;
        // From here on, an error leaves only the staging directory behind,
        // which `Drop` (or else the next build) removes; the previous
        // output is untouched.
        self.staging = Some(staging);
        let kept = std::mem::take(&mut self.added);
        self.link_old(&kept)?;
        self.added = kept;
        Ok(())
    }

    /// Puts the old output's files at `paths` into the staging tree as they
    /// are (hard links, or copies where linking fails), with the
    /// directories they need.
    fn link_old(&mut self, paths: &[String]) -> Result<(), WriteError> {
        let Some(staging) = self.staging.clone() else {
            return Ok(());
        };
        self.make_dirs_for(paths.iter().map(String::as_str))?;
        let out = &self.out;
        let linked: Vec<Option<(String, Facts)>> = paths
            .par_iter()
            .map(|rel| {
                let copied = link_or_copy(&out.join(rel), &staging.join(rel))?;
                Ok(copied.map(|facts| (rel.clone(), facts)))
            })
            .collect::<Result<_, WriteError>>()?;
        self.written.extend(linked.into_iter().flatten());
        Ok(())
    }

    /// Makes the directories these paths need that are not made yet (in
    /// the spare: that the old output does not have either).
    fn make_dirs_for<'p>(
        &mut self,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<(), WriteError> {
        let Some(staging) = self.staging.clone() else {
            return Ok(());
        };
        let in_spare = self.spare.is_some();
        let mut new = BTreeSet::new();
        for d in paths.flat_map(ancestors) {
            if self.dirs.contains(d) || new.contains(d) {
                continue;
            }
            if in_spare && matches!(self.old.get(d), Some((Old::Dir, _))) {
                continue;
            }
            new.insert(d.to_string());
        }
        if in_spare {
            // A file of the old output where a directory is now wanted.
            for d in &new {
                if self.old.contains_key(d.as_str()) {
                    clear(&staging.join(d))?;
                }
            }
        }
        make_dirs(&staging, &new)?;
        if let Some(sp) = &mut self.spare {
            sp.touched.extend(new.iter().cloned());
        }
        self.dirs.extend(new);
        Ok(())
    }

    /// Swaps the new tree in (unless nothing changed at all), keeps the old
    /// one as the spare for the next build, and writes the stamp.
    pub fn finish(mut self) -> Result<WriteStats, WriteError> {
        let added: HashSet<&str> = self.added.iter().map(String::as_str).collect();
        let mut gone_files: Vec<String> = Vec::new();
        let mut old_files = 0;
        for (rel, (o, _)) in &self.old {
            match o {
                Old::Dir => {}
                Old::File if added.contains(rel.as_str()) => old_files += 1,
                _ => gone_files.push(rel.clone()),
            }
        }
        // Every old file is still there and nothing new is: the same
        // entries (the directories are those of the files).
        let same_entries = gone_files.is_empty() && old_files == added.len();
        // An output the stamp vouched for has no empty directory (siteconf
        // makes directories only for files): with no file gone, no
        // directory is either, and the fleet's directories need no listing.
        let mut gone_dirs: Vec<String> = Vec::new();
        if self.live_tree.is_none() || !gone_files.is_empty() {
            let needed: HashSet<&str> = added.iter().flat_map(|p| ancestors(p)).collect();
            gone_dirs = self
                .old
                .iter()
                .filter(|(rel, (o, _))| matches!(o, Old::Dir) && !needed.contains(rel.as_str()))
                .map(|(rel, _)| rel.clone())
                .collect();
        }
        drop(added);
        self.stats.removed = gone_files.len();
        if self.staging.is_none() {
            if gone_files.is_empty() && gone_dirs.is_empty() && self.out.is_dir() {
                self.finished = true;
                // Nothing was written: the stamp describes the tree as it is.
                if let Some(inputs) = &self.opts.stamp {
                    let _ = match self.live_tree {
                        Some(tree) => {
                            if let Some(sp) = &self.spare {
                                // Untouched: it still differs from the
                                // output where it did.
                                let _ = write_journal(&self.parent, &self.name, &tree, &sp.journal);
                            }
                            stamp::store_tree(&self.out, inputs, &tree)
                        }
                        None => stamp::store(&self.out, inputs),
                    };
                }
                return Ok(self.stats);
            }
            self.start()?;
        }
        let staging = self.staging.clone().expect("staging started");
        if let Some(sp) = &mut self.spare {
            // What the old output had and the new one has not.
            gone_dirs.sort();
            for rel in gone_files.iter().chain(gone_dirs.iter().rev()) {
                clear(&staging.join(rel))?;
            }
            sp.touched.extend(gone_files.iter().cloned());
            sp.touched.extend(gone_dirs.iter().cloned());
        }
        if self.opts.sync && self.stats.changed > PER_FILE_SYNC_MAX {
            sync_fs(&staging)?;
        }
        // The digest of the new tree, while the old one is still `out`.
        let new_tree = match (&self.spare, self.live_tree) {
            (Some(sp), Some(live)) => Some(spare_tree(live, sp, &staging, &self.old)?),
            _ => None,
        };
        swap(&staging, &self.out)?;
        self.finished = true;
        self.stats.swapped = true;
        if self.opts.sync {
            // Makes the swap itself durable; costs a journal commit, which
            // on a busy disk waits for everyone's pending metadata.
            sync_dir(&self.parent);
        }
        // `staging` now holds the previous tree (or nothing, on a first
        // build): it becomes the spare, with the paths where it differs.
        let journal: Vec<String> = match &mut self.spare {
            Some(sp) => std::mem::take(&mut sp.touched).into_iter().collect(),
            None => {
                let spare = spare_path(&self.parent, &self.name);
                remove_tree(&spare)?;
                let mut j: BTreeSet<String> = self.written.iter().map(|(p, _)| p.clone()).collect();
                j.extend(gone_files);
                j.extend(gone_dirs);
                j.extend(
                    self.dirs
                        .iter()
                        .filter(|d| !matches!(self.old.get(d.as_str()), Some((Old::Dir, _))))
                        .cloned(),
                );
                if self.opts.stamp.is_none() {
                    // Without a stamp no later build can trust a spare.
                    remove_tree(&staging)?;
                } else if fs::symlink_metadata(&staging).is_ok() {
                    fs::rename(&staging, &spare)
                        .map_err(io_err("keep the previous output as", &spare))?;
                }
                j.into_iter().collect()
            }
        };
        let tree = match new_tree {
            Some(t) => Some(t),
            None => self.staged_tree(),
        };
        if let (Some(tree), Some(inputs)) = (tree, self.opts.stamp) {
            if fs::symlink_metadata(spare_path(&self.parent, &self.name)).is_ok() {
                let _ = write_journal(&self.parent, &self.name, &tree, &journal);
            }
            // The new tree holds exactly the files added and their
            // directories: what the next build looks at first.
            let recorded = match (same_entries, self.live_tree) {
                (true, Some(old)) => outline::record_same(&self.out, &tree, &old.hex()),
                _ => Ok(false),
            };
            let recorded = match recorded {
                Ok(true) => Ok(()),
                _ => outline::record(&self.out, &tree, &self.added),
            };
            if recorded.is_err() {
                let _ = outline::remove(&self.out);
            }
            let _ = stamp::store_tree(&self.out, &inputs, &tree);
        }
        Ok(self.stats)
    }

    /// The digest of the staging tree just swapped in, from what the writer
    /// knows of it: the files it wrote as they were when complete, and a
    /// `stat` of the rest — the directories and the files linked from the
    /// old tree (whose linking changed their ctime). `None` when a stat
    /// fails: then no stamp, and the next build only takes longer.
    fn staged_tree(&mut self) -> Option<stamp::Tree> {
        self.opts.stamp?;
        let mut entries = std::mem::take(&mut self.written);
        let written: HashSet<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
        let rest: Vec<&str> = self
            .dirs
            .iter()
            .map(String::as_str)
            .chain(
                self.added
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !written.contains(p)),
            )
            .collect();
        let out = &self.out;
        let stated: io::Result<Vec<(String, Facts)>> = rest
            .par_iter()
            .map(|rel| {
                let m = fs::symlink_metadata(out.join(rel))?;
                Ok((rel.to_string(), facts(&m)))
            })
            .collect();
        drop(written);
        entries.extend(stated.ok()?);
        let mut tree = stamp::Tree::default();
        for (rel, f) in &entries {
            tree.add(rel, f);
        }
        Some(tree)
    }
}

/// The digest of the spare tree about to be swapped in: the old output's,
/// with every path the build touched taken out as the old output had it
/// and put back as the spare has it now.
fn spare_tree(
    live: stamp::Tree,
    sp: &Spare,
    staging: &Path,
    old: &HashMap<String, (Old, Option<Facts>)>,
) -> Result<stamp::Tree, WriteError> {
    let mut tree = live;
    let touched: Vec<&String> = sp.touched.iter().collect();
    let now: Vec<Option<Facts>> = touched
        .par_iter()
        .map(|rel| match fs::symlink_metadata(staging.join(rel)) {
            Ok(m) => Ok(Some(facts(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &staging.join(rel))(e)),
        })
        .collect::<Result<_, WriteError>>()?;
    for (rel, f) in touched.into_iter().zip(now) {
        if let Some((_, Some(before))) = old.get(rel.as_str()) {
            tree.remove(rel, before);
        }
        if let Some(f) = f {
            tree.add(rel, &f);
        }
    }
    Ok(tree)
}

/// Brings the spare tree to what the old output is, at the paths where
/// they may differ (`journal`): what the spare has there goes, and the old
/// output's files are linked in (same inode), its directories made.
fn sync_spare(
    out: &Path,
    spare: &Path,
    journal: &[String],
    old: &HashMap<String, (Old, Option<Facts>)>,
) -> Result<(), WriteError> {
    // Deepest first, so a directory is emptied before it goes.
    for rel in journal.iter().rev() {
        let dst = spare.join(rel);
        let keep_dir = matches!(old.get(rel.as_str()), Some((Old::Dir, _)))
            && fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir());
        if !keep_dir {
            clear(&dst)?;
        }
    }
    let mut files = Vec::new();
    for rel in journal {
        match old.get(rel.as_str()) {
            Some((Old::Dir, _)) => {
                let dst = spare.join(rel);
                if fs::symlink_metadata(&dst).is_err() {
                    fs::create_dir_all(&dst).map_err(io_err("create", &dst))?;
                }
            }
            Some((Old::File, _)) => files.push(rel),
            _ => {}
        }
    }
    files.par_iter().try_for_each(|rel| {
        let dst = spare.join(rel);
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(io_err("create", parent))?;
        }
        link_or_copy(&out.join(rel), &dst).map(|_| ())
    })
}

/// Removes whatever is at `path` (a file, a link, a tree); nothing there
/// is fine.
fn clear(path: &Path) -> Result<(), WriteError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => remove_tree(path).map_err(WriteError::from),
        Ok(_) => fs::remove_file(path).map_err(io_err("remove", path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

fn spare_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.siteconf-spare"))
}

fn journal_path(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(".{name}.siteconf-spare.journal"))
}

const JOURNAL_HEADER: &str = "siteconf-spare 1";

/// The journal of the spare tree: the tree digest of the output it goes
/// with, and the paths where the spare may differ from that output.
fn read_journal(parent: &Path, name: &str) -> Option<(String, Vec<String>)> {
    let text = fs::read_to_string(journal_path(parent, name)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != JOURNAL_HEADER {
        return None;
    }
    let tree = lines.next()?.strip_prefix("tree ")?.to_string();
    let mut paths = Vec::new();
    let mut ended = false;
    for l in lines {
        if ended {
            return None;
        }
        match l.strip_prefix("end ") {
            Some(n) => {
                if n.parse::<usize>().ok()? != paths.len() {
                    return None;
                }
                ended = true;
            }
            None => paths.push(l.to_string()),
        }
    }
    ended.then_some((tree, paths))
}

fn write_journal(
    parent: &Path,
    name: &str,
    tree: &stamp::Tree,
    paths: &[String],
) -> io::Result<()> {
    let mut text = format!("{JOURNAL_HEADER}\ntree {}\n", tree.hex());
    for p in paths {
        text.push_str(p);
        text.push('\n');
    }
    text.push_str(&format!("end {}\n", paths.len()));
    super::fs::write_file_atomic_unsynced(&journal_path(parent, name), text.as_bytes(), 0o600)
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.finished && self.spare.is_none() {
            if let Some(staging) = &self.staging {
                let _ = remove_tree(staging);
            }
        }
        // An unfinished spare stays, without a journal: the next build
        // replaces it.
    }
}

/// Puts the old file `from` at `to`: a hard link (same inode, same mtime),
/// or where that fails (another filesystem, a limit on links) a copy with
/// the same mode, never through a symlink.
/// `Some` facts of the copy when it had to copy.
fn link_or_copy(from: &Path, to: &Path) -> Result<Option<Facts>, WriteError> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(None);
    }
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(from)
        .map_err(io_err("read", from))?;
    let mode = f.metadata().map_err(io_err("read", from))?.mode() & 0o7777;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(io_err("read", from))?;
    write_file(to, &bytes, mode, false).map(Some)
}

/// Puts back an output that a killed fallback swap left as `-old-`, then
/// removes every staging and old tree of earlier builds. Runs under the
/// lock, so none of them belongs to a build still running.
fn recover_and_clean(parent: &Path, name: &str, out: &Path) -> Result<(), WriteError> {
    let tmp_prefix = format!(".{name}.siteconf-tmp-");
    let old_prefix = format!(".{name}.siteconf-old-");
    // A stamp being written when its build was killed, as versions before
    // `fs::write_file_atomic_unsynced` named it (that helper removes the
    // temporaries of killed runs under its own names).
    let stamp_tmp_prefix = format!(".{name}.siteconf-stamp-tmp-");
    let mut leftovers: Vec<(PathBuf, bool)> = Vec::new();
    for entry in fs::read_dir(parent).map_err(io_err("list", parent))? {
        let entry = entry.map_err(io_err("list", parent))?;
        let n = entry.file_name().to_string_lossy().into_owned();
        if n.starts_with(&tmp_prefix) || n.starts_with(&stamp_tmp_prefix) {
            leftovers.push((entry.path(), false));
        } else if n.starts_with(&old_prefix) {
            leftovers.push((entry.path(), true));
        }
    }
    leftovers.sort();
    if fs::symlink_metadata(out).is_err() {
        // Only a real directory is put back: a symlink planted under that
        // name would become the target, and the next build would follow it.
        let is_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
        if let Some((p, _)) = leftovers.iter().find(|(p, is_old)| *is_old && is_dir(p)) {
            fs::rename(p, out).map_err(io_err("restore the previous output from", p))?;
        }
    }
    for (p, _) in leftovers {
        if fs::symlink_metadata(&p).is_ok() {
            remove_tree(&p)?;
        }
    }
    Ok(())
}

/// Walks the previous output without following links: relative path →
/// what is there. Refuses a target that is not a siteconf output.
fn scan_old(out: &Path) -> Result<BTreeMap<String, Old>, WriteError> {
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io_err("read", out)(e)),
    };
    if !meta.is_dir() {
        return Err(WriteError::NotOutputDir(
            out.to_path_buf(),
            "it is not a directory".into(),
        ));
    }
    let walk_err = |err: io::Error| WriteError::Io {
        op: "walk",
        path: out.to_path_buf(),
        err,
    };
    let map: BTreeMap<String, Old> = walk(out, |e| Ok(old_kind(e.file_type()?)))
        .map_err(walk_err)?
        .into_iter()
        .collect();
    let empty = map.is_empty();
    if !empty && !is_siteconf_manifest(&out.join(MANIFEST_PATH)) {
        return Err(WriteError::NotOutputDir(
            out.to_path_buf(),
            "it is not empty and has no siteconf manifest.json".into(),
        ));
    }
    Ok(map)
}

/// What an entry is, from its facts.
fn old_kind_of(f: &Facts) -> Old {
    let t = f[0] & u64::from(libc::S_IFMT);
    if t == u64::from(libc::S_IFDIR) {
        Old::Dir
    } else if t == u64::from(libc::S_IFREG) {
        Old::File
    } else {
        Old::Other
    }
}

fn old_kind(ft: fs::FileType) -> Old {
    if ft.is_dir() {
        Old::Dir
    } else if ft.is_file() {
        Old::File
    } else {
        Old::Other
    }
}

fn is_siteconf_manifest(path: &Path) -> bool {
    let Ok(mut f) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    else {
        return false;
    };
    let mut head = vec![0u8; 256];
    let n = f.read(&mut head).unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    head.contains("\"generator\": \"siteconf\"")
}

/// Whether the regular file at `path` has mode `mode` and holds exactly
/// `bytes` (never follows a symlink in the last component).
fn same_file(path: &Path, bytes: &[u8], mode: u32) -> bool {
    let Ok(mut f) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    else {
        return false;
    };
    match f.metadata() {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 && m.mode() & 0o7777 == mode => {}
        _ => return false,
    }
    // In pieces, so that comparing a large file (the manifest of a big
    // fleet) holds no second copy of it; one byte more than expected at
    // the end: a file that grew since the stat differs.
    let mut buf = vec![0u8; bytes.len().clamp(1, 1 << 16)];
    let mut at = 0;
    loop {
        match f.read(&mut buf) {
            Ok(0) => return at == bytes.len(),
            Ok(n) => {
                if at + n > bytes.len() || buf[..n] != bytes[at..at + n] {
                    return false;
                }
                at += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Creates `dirs` (sorted: parents first) below `root`: the top two levels
/// in order, then each device's subtree (`nodes/<host>/…`) in parallel.
fn make_dirs(root: &Path, dirs: &BTreeSet<String>) -> Result<(), WriteError> {
    if dirs.is_empty() {
        return Ok(());
    }
    let fd = DirFd::open(root).map_err(io_err("open", root))?;
    let mkdir = |d: &str| fd.mkdir(d).map_err(|e| io_err("create", &root.join(d))(e));
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in dirs {
        let depth = d.matches('/').count();
        if depth < 2 {
            mkdir(d)?;
        } else {
            let second = d
                .match_indices('/')
                .nth(1)
                .map(|(i, _)| i)
                .unwrap_or(d.len());
            groups.entry(&d[..second]).or_default().push(d);
        }
    }
    let groups: Vec<Vec<&str>> = groups.into_values().collect();
    groups
        .par_iter()
        .try_for_each(|g| g.iter().try_for_each(|d| mkdir(d)))
}

/// Up to this many changed files, each is flushed with `fdatasync`; above,
/// one `syncfs` flushes them all.
const PER_FILE_SYNC_MAX: usize = 4096;

/// Writes a new file; returns what it is once complete (for the stamp).
fn write_file(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<Facts, WriteError> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_err("create", path))?;
    write_opened(f, bytes, mode, sync).map_err(|(op, e)| io_err(op, path)(e))
}

/// [`write_file`] for a file just created; an error says what failed.
fn write_opened(
    mut f: fs::File,
    bytes: &[u8],
    mode: u32,
    sync: bool,
) -> Result<Facts, (&'static str, io::Error)> {
    f.write_all(bytes).map_err(|e| ("write", e))?;
    if sync {
        f.sync_data().map_err(|e| ("flush to disk", e))?;
    }
    let facts = fstat_facts(&f).map_err(|e| ("read", e))?;
    // The mode is exact whatever the umask (or a default ACL): the manifest
    // and the consumers (netplan wants 0600) rely on it. The file was
    // created with it, so it is exact unless the umask took bits away: the
    // `fstat` the stamp needs anyway tells, and only then is it set (a
    // `fchmod` per file was a fifth of a fresh build's system calls).
    if facts[0] as u32 & 0o7777 == mode {
        return Ok(facts);
    }
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| ("set the mode of", e))?;
    fstat_facts(&f).map_err(|e| ("read", e))
}

/// The [`Facts`] of an open file, by one `fstat` (cheaper than the `statx`
/// of an empty path behind `File::metadata`).
fn fstat_facts(f: &fs::File) -> io::Result<Facts> {
    use std::os::fd::AsRawFd;
    // SAFETY: fstat writes only into `st`; `f` is an open descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(f.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok([
        u64::from(st.st_mode),
        st.st_ino,
        st.st_size as u64,
        st.st_mtime as u64,
        st.st_mtime_nsec as u64,
        st.st_ctime as u64,
        st.st_ctime_nsec as u64,
        st.st_dev,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Artifact, Owner};

    fn art(path: &str, bytes: &str, mode: u32) -> Artifact {
        Artifact {
            path: path.into(),
            bytes: bytes.as_bytes().to_vec(),
            mode,
            owner: Owner::Site,
            kind: "file".into(),
            secret: false,
        }
    }

    fn set_of(files: &[(&str, &str)]) -> OutputSet {
        let mut s = OutputSet::default();
        for (p, b) in files {
            s.insert(art(p, b, 0o644));
        }
        s.insert(super::super::manifest::manifest(&s));
        s
    }

    fn opts() -> WriteOptions {
        WriteOptions {
            sync: false,
            stamp: None,
        }
    }

    #[test]
    fn unsafe_paths_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for bad in [
            "../escape",
            "/etc/evil",
            "a/../../b",
            "a/./b",
            "a\0b",
            "nodes/x/../../../y",
        ] {
            let mut s = OutputSet::default();
            s.insert(art("ok", "fine", 0o644));
            s.insert(art(bad, "evil", 0o644));
            match write(&s, &out, opts()) {
                Err(WriteError::Unsafe(d)) => {
                    assert_eq!(d.len(), 1, "{bad:?}");
                    assert_eq!(d[0].code, crate::diag::Code::UnsafePath);
                }
                other => panic!("{bad:?}: expected Unsafe, got {other:?}"),
            }
            assert!(!out.exists(), "{bad:?}: nothing may be written");
        }
        assert!(!dir.path().join("escape").exists());
        // A key and an artifact path that disagree are refused too.
        let mut s = OutputSet::default();
        s.files.insert("ok".into(), art("../evil", "x", 0o644));
        assert!(matches!(
            write(&s, &out, opts()),
            Err(WriteError::Unsafe(_))
        ));
    }

    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let victim = dir.path().join("victim");
        fs::create_dir(&victim).unwrap();
        fs::write(victim.join("hostname"), "precious").unwrap();
        write(&set_of(&[("nodes/a/hostname", "a\n")]), &out, opts()).unwrap();
        // Someone replaces the node directory with a link elsewhere.
        fs::remove_dir_all(out.join("nodes/a")).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("nodes/a")).unwrap();
        let st = write(&set_of(&[("nodes/a/hostname", "b\n")]), &out, opts()).unwrap();
        assert!(st.swapped);
        assert_eq!(
            fs::read_to_string(victim.join("hostname")).unwrap(),
            "precious"
        );
        assert!(!fs::symlink_metadata(out.join("nodes/a"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(out.join("nodes/a/hostname")).unwrap(),
            "b\n"
        );
        // A symlinked file with the right content is not reused either.
        fs::remove_file(out.join("nodes/a/hostname")).unwrap();
        fs::write(victim.join("h2"), "b\n").unwrap();
        std::os::unix::fs::symlink(victim.join("h2"), out.join("nodes/a/hostname")).unwrap();
        let st = write(&set_of(&[("nodes/a/hostname", "b\n")]), &out, opts()).unwrap();
        assert_eq!((st.changed, st.removed), (1, 1));
        assert!(fs::symlink_metadata(out.join("nodes/a/hostname"))
            .unwrap()
            .is_file());
    }

    #[test]
    fn incremental_writes_keep_unchanged_files_and_drop_stale_ones() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = set_of(&[("nodes/a/hostname", "a\n"), ("nodes/b/hostname", "b\n")]);
        let st = write(&first, &out, opts()).unwrap();
        assert_eq!((st.changed, st.unchanged, st.removed), (3, 0, 0));
        let ino = fs::metadata(out.join("nodes/a/hostname")).unwrap().ino();
        // Same set again: nothing at all happens.
        let st = write(&first, &out, opts()).unwrap();
        assert_eq!((st.changed, st.unchanged, st.swapped), (0, 3, false));
        // b removed, a unchanged, c added.
        let second = set_of(&[("nodes/a/hostname", "a\n"), ("nodes/c/hostname", "c\n")]);
        let st = write(&second, &out, opts()).unwrap();
        assert!(st.swapped);
        assert_eq!(st.removed, 1);
        assert_eq!(
            fs::metadata(out.join("nodes/a/hostname")).unwrap().ino(),
            ino
        );
        assert!(!out.join("nodes/b").exists());
        assert!(out.join("nodes/c/hostname").is_file());
        // No staging or old trees are left beside it.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["out".to_string()]);
    }

    #[test]
    fn modes_are_exact_and_a_mode_change_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut s = OutputSet::default();
        s.insert(art("netplan.yaml", "x", 0o600));
        s.insert(super::super::manifest::manifest(&s));
        write(&s, &out, opts()).unwrap();
        let m = fs::metadata(out.join("netplan.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(m, 0o600);
        let mut s2 = OutputSet::default();
        s2.insert(art("netplan.yaml", "x", 0o644));
        s2.insert(super::super::manifest::manifest(&s2));
        let st = write(&s2, &out, opts()).unwrap();
        // The file (same bytes, new mode) and the manifest (which lists the mode).
        assert_eq!((st.changed, st.unchanged), (2, 0));
        let m = fs::metadata(out.join("netplan.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(m, 0o644);
    }

    #[test]
    fn leftovers_of_a_killed_build_are_cleaned_and_a_half_swap_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let s = set_of(&[("nodes/a/hostname", "a\n")]);
        write(&s, &out, opts()).unwrap();
        // A staging tree of a build that was killed.
        fs::create_dir_all(dir.path().join(".out.siteconf-tmp-99999/nodes")).unwrap();
        // A fallback swap killed between its renames: no target, old tree aside.
        fs::rename(&out, dir.path().join(".out.siteconf-old-99998")).unwrap();
        let st = write(&s, &out, opts()).unwrap();
        // The old tree was put back and found identical.
        assert_eq!((st.changed, st.swapped), (0, false));
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["out".to_string()]);
    }

    #[test]
    fn a_symlink_under_a_leftover_name_is_removed_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // An empty directory elsewhere: were the link restored as the
        // target, the build after would follow it and write there.
        let victim = dir.path().join("victim");
        fs::create_dir(&victim).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".out.siteconf-old-7")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".out.siteconf-tmp-8")).unwrap();
        let s = set_of(&[("nodes/a/hostname", "a\n")]);
        write(&s, &out, opts()).unwrap();
        write(&s, &out, opts()).unwrap();
        assert!(fs::symlink_metadata(&out).unwrap().is_dir());
        assert_eq!(fs::read_dir(&victim).unwrap().count(), 0);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_directory_that_is_not_ours_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        fs::write(home.join(".bashrc"), "mine").unwrap();
        let err = write(&set_of(&[("a", "b")]), &home, opts()).unwrap_err();
        assert!(matches!(err, WriteError::NotOutputDir(..)), "{err}");
        assert_eq!(fs::read_to_string(home.join(".bashrc")).unwrap(), "mine");
        // An empty directory is fine.
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        write(&set_of(&[("a", "b")]), &empty, opts()).unwrap();
        assert_eq!(fs::read_to_string(empty.join("a")).unwrap(), "b");
    }

    /// Every build with a stamp leaves an outline that vouches for the
    /// tree it made, whether it built a staging tree or brought the spare
    /// up to date: else every next build would walk the output.
    #[test]
    fn each_new_tree_has_an_outline_that_vouches_for_it() {
        use super::super::outline::{verify, Verdict};
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let opts = WriteOptions {
            sync: false,
            stamp: Some([3; 32]),
        };
        let never = std::sync::atomic::AtomicBool::new(false);
        let rounds = [
            vec![("nodes/a/x", "1"), ("nodes/a/etc/y", "1"), ("site/z", "1")],
            vec![("nodes/a/x", "2"), ("nodes/a/etc/y", "1"), ("site/z", "1")],
            vec![("nodes/a/x", "2"), ("nodes/b/etc/y", "1"), ("site/z", "3")],
            vec![
                ("nodes/a/x", "4"),
                ("nodes/b/etc/y", "1"),
                ("site/w/v", "1"),
            ],
            vec![("nodes/a/x", "4"), ("nodes/b/etc/y", "5")],
        ];
        let mut spare_rounds = 0;
        for (i, files) in rounds.iter().enumerate() {
            let set = set_of(files);
            let live = stamp::unchanged(&out);
            assert_eq!(live.is_some(), i > 0, "round {i}: the last stamp vouches");
            let mut w = match &live {
                Some(l) => Writer::begin_verified(&out, opts, l).unwrap(),
                None => Writer::begin(&out, opts).unwrap(),
            };
            spare_rounds += usize::from(w.spare.is_some());
            let all: Vec<&Artifact> = set.files.values().collect();
            w.add(&all).unwrap();
            w.finish().unwrap();
            let tree = stamp::recorded_tree(&out).expect("stamped");
            match verify(&out, &tree, false, &never) {
                Verdict::Untouched { files: n, .. } => assert_eq!(n, files.len() + 1, "round {i}"),
                v => panic!("round {i}: {v:?}"),
            }
        }
        assert_eq!(spare_rounds, 3, "the spare was brought up to date");
    }
}
