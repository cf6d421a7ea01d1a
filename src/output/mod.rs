//! Output: the in-memory set of rendered files, and what is done with it
//! (atomic write to a directory, manifest, diff of two sets).

pub mod diff;
pub mod manifest;
pub mod path;
pub mod stamp;
pub mod write;

use std::collections::BTreeMap;

/// Who an artifact belongs to, for grouping in the manifest and diffs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "type", content = "name", rename_all = "lowercase")]
pub enum Owner {
    Node(String),
    Switch(String),
    Site,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to the output directory, `/`-separated, already checked
    /// to be a plain relative path (no `..`, not absolute).
    pub path: String,
    pub bytes: Vec<u8>,
    /// Unix permission bits (0o644, or 0o600 for files with secrets or
    /// that their consumer wants private, like netplan's).
    pub mode: u32,
    pub owner: Owner,
    /// Artifact kind for grouping and filters: `netplan`, `frr`, `zone` …
    pub kind: String,
    /// The content holds a resolved secret (a BGP password, a key). Set by
    /// the renderer for every artifact a template resolved a secret into;
    /// such artifacts are written 0600 and `siteconf diff` never shows
    /// their lines, only that they changed.
    pub secret: bool,
}

impl Artifact {
    /// A public artifact (mode 0644, no secret); set `mode` and `secret`
    /// on the result where that is not so.
    pub fn new(
        path: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
        owner: Owner,
        kind: impl Into<String>,
    ) -> Artifact {
        Artifact {
            path: path.into(),
            bytes: bytes.into(),
            mode: 0o644,
            owner,
            kind: kind.into(),
            secret: false,
        }
    }
}

/// Every file of one build, by path (sorted: deterministic iteration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet {
    pub files: BTreeMap<String, Artifact>,
}

impl OutputSet {
    pub fn insert(&mut self, a: Artifact) {
        self.files.insert(a.path.clone(), a);
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// Marks a path as holding a resolved secret ([`Artifact::secret`]):
    /// its content is never shown (diff, logs); the manifest marks it.
    pub fn mark_secret(&mut self, path: &str) {
        if let Some(a) = self.files.get_mut(path) {
            a.secret = true;
        }
    }
    pub fn has_secret(&self, path: &str) -> bool {
        self.files.get(path).is_some_and(|a| a.secret)
    }
    pub fn total_bytes(&self) -> usize {
        self.files.values().map(|a| a.bytes.len()).sum()
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
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temporaries that runs killed while writing `target` left
/// beside it (`.<name>.siteconf-tmp-<pid>` of a process that is gone), so
/// they do not pile up and `git add -A` does not pick them up. Links and
/// files alike are unlinked, never followed.
pub fn remove_stale_temps(target: &std::path::Path) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.siteconf-tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
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
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A new temporary file beside `target`, for an atomic replace: named
/// `.<name>.siteconf-tmp-<pid>`, created with `O_CREAT | O_EXCL |
/// O_NOFOLLOW` and `mode`, so it is never a planted link or someone else's
/// file. Whatever is at that name already (left by a killed run with our
/// pid, or planted: the name is predictable) is unlinked first.
pub fn create_temp_beside(
    target: &std::path::Path,
    mode: u32,
) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(temp_name(&name, std::process::id()));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    Ok((tmp, f))
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

/// Writes one file atomically: a temp file in the same directory
/// ([`create_temp_beside`]), fsync, rename over the target. The one helper
/// for every file siteconf writes outside the build's writer (siteconf.lock,
/// `init` through [`write_files_atomic`], the `state` report); whole output
/// trees are swapped by the build writer. Temporaries left by killed runs
/// are removed first.
pub fn write_file_atomic(path: &std::path::Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    remove_stale_temps(path);
    let tmp = stage(path, bytes, mode)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
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
