//! The filesystem primitives of the output stage, in one place: the walk
//! of an output tree, the lock two builds into one directory take turns
//! on, the atomic swap of a new tree (`renameat2(RENAME_EXCHANGE)`), the
//! removal of a tree, flushing, and the one helper that replaces a single
//! file atomically ([`write_file_atomic`]).
//!
//! None of them follows a symlink it did not get as the target itself.
//! [`super::write`] (the build's writer) and [`super::stamp`] (what the
//! last build left) both stand on this module and on nothing of each
//! other's but the writer's calls into the stamp: no cycle.

use std::ffi::CString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// A filesystem operation that failed: what was being done, on which
/// path. The writer reports it as `WriteError::Io`.
#[derive(Debug)]
pub struct Failed {
    pub op: &'static str,
    pub path: PathBuf,
    pub err: io::Error,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.op,
            self.path.display(),
            self.err
        )
    }
}

impl std::error::Error for Failed {}

/// `map_err` for an operation `op` on `path`.
pub(super) fn failed<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> Failed + 'a {
    move |err| Failed {
        op,
        path: path.to_path_buf(),
        err,
    }
}

/// The temporary name of `target`'s file name for process `pid`.
fn temp_name(name: &str, pid: u32) -> String {
    format!(".{name}.siteconf-tmp-{pid}")
}

/// Whether a process with this id is running (or exists under another
/// user): `kill(pid, 0)` succeeds or fails with EPERM.
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temporaries that runs killed while writing `target` left
/// beside it (`.<name>.siteconf-tmp-<pid>` of a process that is gone), so
/// they do not pile up and `git add -A` does not pick them up. Links and
/// files alike are unlinked, never followed.
pub fn remove_stale_temps(target: &Path) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.siteconf-tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != me && !pid_alive(pid) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// A new temporary file beside `target`, for an atomic replace: named
/// `.<name>.siteconf-tmp-<pid>`, created with `O_CREAT | O_EXCL |
/// O_NOFOLLOW` and `mode`, so it is never a planted link or someone else's
/// file. Whatever is at that name already (left by a killed run with our
/// pid, or planted: the name is predictable) is unlinked first.
pub fn create_temp_beside(target: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(temp_name(&name, std::process::id()));
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    Ok((tmp, f))
}

/// Removes the file at `path`; none there is fine (the build's own files
/// beside the output: stamp, memo, spare journal).
pub(super) fn remove_file_if_any(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes one file atomically: a temp file in the same directory
/// ([`create_temp_beside`]), fsync, rename over the target. The one helper
/// for every single file siteconf writes (siteconf.lock, `init`, the
/// `state` report, the build stamp); whole output trees are swapped by the
/// build writer. Temporaries left by killed runs are removed first.
pub fn write_file_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    replace_file(path, bytes, mode, true)
}

/// [`write_file_atomic`] without the fsync, for the build stamp: it only
/// records what is on disk, so losing it to a power cut costs one full
/// build, never a wrong output (a stamp that does not parse or match is
/// no stamp); the flush would cost every build a journal commit.
pub(super) fn write_file_atomic_unsynced(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    replace_file(path, bytes, mode, false)
}

fn replace_file(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> io::Result<()> {
    remove_stale_temps(path);
    let (tmp, mut f) = create_temp_beside(path, mode)?;
    let result = (|| {
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        if sync {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The absolute target path; a symlink given as the target itself (not
/// one inside it) is followed once, as the user named it.
pub fn resolve_target(out: &Path) -> Result<PathBuf, Failed> {
    let abs = std::path::absolute(out).map_err(failed("resolve", out))?;
    match fs::symlink_metadata(&abs) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(&abs).map_err(failed("resolve the symlink", &abs))
        }
        _ => Ok(abs),
    }
}

/// An exclusive `flock` on a directory, held until dropped.
pub(super) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(super) fn acquire(dir: &Path) -> Result<DirLock, Failed> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(failed("open", dir))?;
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(Failed {
                op: "lock",
                path: dir.to_path_buf(),
                err: io::Error::last_os_error(),
            });
        }
        Ok(DirLock { _file: file })
    }
}

/// Every entry below `out` (not following links, `out` itself excluded)
/// with what `f` makes of it, in no particular order ([`walk_fold`]).
pub(super) fn walk<T: Send>(
    out: &Path,
    f: impl Fn(&fs::DirEntry) -> io::Result<T> + Sync,
) -> io::Result<Vec<(String, T)>> {
    // Each thread's entries stay in its own chunks: merging moves chunks,
    // and the entries are copied once, at the end.
    let chunks = walk_fold(
        out,
        |chunks: &mut Vec<Vec<(String, T)>>, rel, e| {
            if chunks.is_empty() {
                chunks.push(Vec::new());
            }
            if let Some(c) = chunks.last_mut() {
                c.push((rel.to_string(), f(e)?));
            }
            Ok(())
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    )?;
    let mut found = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    found.extend(chunks.into_iter().flatten());
    Ok(found)
}

/// Visits every entry below `out` (not following links, `out` itself
/// excluded): `visit` sees each entry (its relative path and directory
/// entry) with an accumulator of its own thread, and the accumulators are
/// merged, in no particular order. The first two levels (`nodes/<host>`)
/// are read in order, then every device's subtree in parallel, as a fleet
/// has many small subtrees. `std`'s directory entries know their type
/// without a `stat` and `stat` relative to the open directory, so a
/// hundred thousand files cost no path walk each.
pub(super) fn walk_fold<A: Send + Default>(
    out: &Path,
    visit: impl Fn(&mut A, &str, &fs::DirEntry) -> io::Result<()> + Sync,
    merge: impl Fn(A, A) -> A + Sync + Send,
) -> io::Result<A> {
    let mut acc = A::default();
    let mut subtrees = Vec::new();
    for e in fs::read_dir(out)? {
        let e = e?;
        let rel = name_of(&e);
        if e.file_type()?.is_dir() {
            for e2 in fs::read_dir(e.path())? {
                let e2 = e2?;
                let rel2 = format!("{rel}/{}", name_of(&e2));
                if e2.file_type()?.is_dir() {
                    subtrees.push((e2.path(), rel2.clone()));
                }
                visit(&mut acc, &rel2, &e2)?;
            }
        }
        visit(&mut acc, &rel, &e)?;
    }
    fn below<A>(
        dir: &Path,
        rel: &mut String,
        visit: &impl Fn(&mut A, &str, &fs::DirEntry) -> io::Result<()>,
        acc: &mut A,
    ) -> io::Result<()> {
        for e in fs::read_dir(dir)? {
            let e = e?;
            let len = rel.len();
            rel.push('/');
            rel.push_str(&name_of(&e));
            if e.file_type()?.is_dir() {
                below(&e.path(), rel, visit, acc)?;
            }
            visit(acc, rel, &e)?;
            rel.truncate(len);
        }
        Ok(())
    }
    let deeper = subtrees
        .into_par_iter()
        .try_fold(A::default, |mut acc, (dir, mut rel)| {
            below(&dir, &mut rel, &visit, &mut acc).map(|()| acc)
        })
        .try_reduce(A::default, |a, b| Ok(merge(a, b)))?;
    Ok(merge(acc, deeper))
}

/// An entry's name; one that is not UTF-8 gets a NUL appended: no artifact
/// has that path, so it is dropped.
fn name_of(e: &fs::DirEntry) -> String {
    let n = e.file_name();
    match n.to_str() {
        Some(s) => s.to_string(),
        None => n.to_string_lossy().into_owned() + "\u{0}",
    }
}

/// What identifies one entry's state: mode (with the type), inode, size,
/// mtime, ctime, device.
pub(super) type Facts = [u64; 8];

/// The facts of an entry: any write, chmod, link or rename moves its
/// ctime.
pub(super) fn facts(m: &fs::Metadata) -> Facts {
    [
        u64::from(m.mode()),
        m.ino(),
        m.size(),
        m.mtime() as u64,
        m.mtime_nsec() as u64,
        m.ctime() as u64,
        m.ctime_nsec() as u64,
        m.dev(),
    ]
}

/// The facts of `rel` below `dir` (the directory itself for ""), not
/// following a link: the same as [`facts`] of its metadata, with one `statx`
/// relative to an open directory.
pub(super) fn facts_at(dir: &File, rel: &std::ffi::CStr) -> io::Result<Facts> {
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | libc::AT_STATX_SYNC_AS_STAT
        | if rel.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: statx writes only into `buf`; `rel` is NUL-terminated and
    // `dir` an open descriptor we own.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::statx(
            std::os::fd::AsRawFd::as_raw_fd(dir),
            rel.as_ptr(),
            flags,
            libc::STATX_BASIC_STATS,
            &mut buf,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok([
        u64::from(buf.stx_mode),
        buf.stx_ino,
        buf.stx_size,
        buf.stx_mtime.tv_sec as u64,
        u64::from(buf.stx_mtime.tv_nsec),
        buf.stx_ctime.tv_sec as u64,
        u64::from(buf.stx_ctime.tv_nsec),
        libc::makedev(buf.stx_dev_major, buf.stx_dev_minor),
    ])
}

/// Makes `staging` the target. Afterwards `staging` holds the previous
/// tree, or does not exist when there was none.
pub(super) fn swap(staging: &Path, out: &Path) -> Result<(), Failed> {
    if fs::symlink_metadata(out).is_err() {
        return fs::rename(staging, out).map_err(failed("move the new output into", out));
    }
    let (a, b) = (cstr(staging)?, cstr(out)?);
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {
            // No atomic exchange here: two renames (see the module doc for
            // how a kill between them is recovered).
            let name = out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let old = out.with_file_name(format!(".{name}.siteconf-old-{}", std::process::id()));
            fs::rename(out, &old).map_err(failed("move the previous output aside to", &old))?;
            fs::rename(staging, out).map_err(failed("move the new output into", out))?;
            fs::rename(&old, staging).map_err(failed("move the previous output to", staging))
        }
        _ => Err(failed("swap in the new output at", out)(err)),
    }
}

fn cstr(p: &Path) -> Result<CString, Failed> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| Failed {
        op: "use",
        path: p.to_path_buf(),
        err: io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"),
    })
}

/// Removes a tree without following symlinks, the subdirectories of its
/// top-level directories in parallel (`nodes/<host>` are many).
pub(super) fn remove_tree(root: &Path) -> Result<(), Failed> {
    let meta = match fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed("read", root)(e)),
    };
    if !meta.is_dir() {
        return fs::remove_file(root).map_err(failed("remove", root));
    }
    let mut second: Vec<PathBuf> = Vec::new();
    if let Ok(top) = fs::read_dir(root) {
        for e in top.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if let Ok(sub) = fs::read_dir(e.path()) {
                    second.extend(sub.flatten().map(|s| s.path()));
                }
            }
        }
    }
    second.par_iter().for_each(|p| {
        // Errors surface below, where the whole tree is removed.
        let _ = match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(p),
            Ok(_) => fs::remove_file(p),
            Err(_) => Ok(()),
        };
    });
    fs::remove_dir_all(root).map_err(failed("remove", root))
}

pub(super) fn sync_fs(dir: &Path) -> Result<(), Failed> {
    let f = File::open(dir).map_err(failed("open", dir))?;
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(failed("flush to disk", dir)(io::Error::last_os_error()));
    }
    Ok(())
}

/// Best effort: the rename is already visible; this only makes it durable.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Writes `bytes` to a new temporary beside `target` ([`create_temp_beside`]),
/// with `mode`, fsynced: ready to be renamed over `target`. On failure the
/// temporary is removed.
fn stage(target: &std::path::Path, bytes: &[u8], mode: u32) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let (tmp, mut f) = create_temp_beside(target, mode)?;
    let result = (|| {
        f.write_all(bytes)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// [`write_file_atomic`] for several files below `dir` (`/`-separated
/// relative paths), written as one change as far as a file system allows:
/// every file first goes to its temporary, and only when all of them are
/// written are they renamed into place. If any write fails, the
/// temporaries and the directories made for them are removed and no file
/// was replaced. Files are written only inside `dir`: a symbolic link on
/// the way to a file, or at it, is refused, never written through.
pub fn write_files_atomic(
    dir: &std::path::Path,
    files: &[(&str, &[u8], u32)],
) -> std::io::Result<()> {
    let mut created_dirs: Vec<std::path::PathBuf> = Vec::new();
    let mut staged: Vec<(std::path::PathBuf, std::path::PathBuf)> = Vec::new();
    let result = (|| {
        for &(rel, bytes, mode) in files {
            refuse_links_below(dir, rel)?;
            let target = dir.join(rel);
            if let Some(d) = target.parent() {
                let mut missing = Vec::new();
                let mut cur = Some(d);
                while let Some(c) = cur {
                    if c.exists() {
                        break;
                    }
                    missing.push(c.to_path_buf());
                    cur = c.parent();
                }
                std::fs::create_dir_all(d)?;
                created_dirs.extend(missing.into_iter().rev());
            }
            remove_stale_temps(&target);
            let tmp = stage(&target, bytes, mode)?;
            staged.push((tmp, target));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        for d in created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(e);
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target)?;
    }
    Ok(())
}

/// Refuses a symbolic link at any component of `rel` below `dir` (the
/// components that exist): [`write_files_atomic`] writes only inside `dir`.
fn refuse_links_below(dir: &std::path::Path, rel: &str) -> std::io::Result<()> {
    let mut cur = dir.to_path_buf();
    for c in rel.split('/') {
        if c.is_empty() || c == "." || c == ".." {
            return Err(std::io::Error::other(format!(
                "`{rel}` is not a plain relative path"
            )));
        }
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(std::io::Error::other(format!(
                "{} is a symbolic link; siteconf writes only regular files inside the directory",
                cur.display()
            )))
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// A directory opened to create files and directories in it by relative
/// paths (`openat`, `mkdirat`): a build writes a fleet's files below one
/// tree, and resolving the tree's own absolute path again for each of a
/// hundred thousand files is a measurable share of writing them.
pub struct DirFd(std::os::fd::OwnedFd);

impl DirFd {
    pub fn open(path: &Path) -> io::Result<DirFd> {
        use std::os::fd::FromRawFd;
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: `c` is a valid NUL-terminated string; the fd is owned
        // by the OwnedFd from here on.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(DirFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// Creates the file `rel` (which must not exist; its last component is
    /// never followed if it is a link), for writing.
    pub fn create(&self, rel: &str, mode: u32) -> io::Result<std::fs::File> {
        use std::os::fd::{AsRawFd, FromRawFd};
        let c = std::ffi::CString::new(rel)?;
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: as in `open`.
        let fd =
            unsafe { libc::openat(self.0.as_raw_fd(), c.as_ptr(), flags, mode as libc::c_uint) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(unsafe { std::fs::File::from_raw_fd(fd) })
    }

    /// Creates the directory `rel` (its parent must exist).
    pub fn mkdir(&self, rel: &str) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let c = std::ffi::CString::new(rel)?;
        // SAFETY: as in `open`.
        let rc = unsafe { libc::mkdirat(self.0.as_raw_fd(), c.as_ptr(), 0o777) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_file_atomic_never_writes_through_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let tmp = project.join(format!(
            ".siteconf.lock.siteconf-tmp-{}",
            std::process::id()
        ));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        let lock = project.join("siteconf.lock");
        write_file_atomic(&lock, b"node/a asn 1\n", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), "node/a asn 1\n");
        assert!(std::fs::symlink_metadata(&tmp).is_err());
    }

    #[test]
    fn temporaries_of_killed_runs_are_removed_and_those_of_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("siteconf.lock");
        // A pid that cannot be running (above the kernel's pid_max), and
        // this test's parent, which is.
        let dead = dir.path().join(".siteconf.lock.siteconf-tmp-4999999");
        let live = dir.path().join(format!(
            ".siteconf.lock.siteconf-tmp-{}",
            std::os::unix::process::parent_id()
        ));
        let other = dir.path().join(".siteconf.lock.siteconf-tmp-x1");
        for p in [&dead, &live, &other] {
            std::fs::write(p, "partial").unwrap();
        }
        write_file_atomic(&lock, b"version 1\n", 0o644).unwrap();
        assert!(!dead.exists(), "a dead run's temporary is removed");
        assert!(live.exists(), "a running process's temporary is left alone");
        assert!(other.exists(), "only our own name pattern is touched");
    }
}
