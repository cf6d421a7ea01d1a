//! The working tree as a [`Source`].
//!
//! This is the one way siteconf opens a project file from disk (the
//! config, the lock, site files, templates): every path is relative to the
//! project root, may not leave it (`..`, absolute paths), and no component
//! may be a symbolic link — a committed link to `/proc/self/environ` or
//! `.git/config` would otherwise be read and quoted in a diagnostic. Each
//! directory component is checked with `symlink_metadata` and the file is
//! opened with `O_NOFOLLOW`, so a link swapped in for the last component
//! between the check and the open is refused too; a link swapped in for a
//! directory in that window is the one race left (see docs/security.md).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::io::Read;

use super::{check_size, Source, SourceError, MAX_FILE_BYTES};

/// Files under a project root on disk.
#[derive(Debug)]
pub struct FsSource {
    root: PathBuf,
    /// Symlinks skipped while listing, one note each.
    notes: Mutex<std::collections::BTreeSet<String>>,
    /// Their paths ([`Source::links_under`]).
    links: Mutex<std::collections::BTreeSet<String>>,
}

impl Clone for FsSource {
    fn clone(&self) -> FsSource {
        FsSource::new(self.root.clone())
    }
}

/// The message for a symbolic link met where a project file or directory
/// should be. It names the link, never its target or the target's content.
pub const SYMLINK_REFUSED: &str =
    "is a symbolic link; siteconf reads only regular files inside the project";

impl FsSource {
    pub fn new(root: impl Into<PathBuf>) -> FsSource {
        FsSource {
            root: root.into(),
            notes: Mutex::new(Default::default()),
            links: Mutex::new(Default::default()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The components of a project path, or an error when it is absolute
    /// or leaves the project (`..`). `.` and empty components are dropped,
    /// so `""` and `"."` name the root itself.
    fn components<'a>(&self, path: &'a str) -> Result<Vec<&'a str>, SourceError> {
        inside_components(path).ok_or_else(|| err(path, OUTSIDE_REFUSED))
    }

    /// Walks `comps` from the root without following links: `Ok(None)` if
    /// one is missing, an error naming the first symlink (or non-directory
    /// in the middle), else the full path.
    fn resolve(&self, comps: &[&str], last_is_dir: bool) -> Result<Option<PathBuf>, SourceError> {
        let mut full = self.root.clone();
        for (i, c) in comps.iter().enumerate() {
            full.push(c);
            let shown = comps[..=i].join("/");
            let meta = match std::fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Ok(None),
                Err(e) => return Err(err(&shown, e)),
            };
            let ft = meta.file_type();
            if ft.is_symlink() {
                return Err(err(&shown, SYMLINK_REFUSED));
            }
            let is_last = i + 1 == comps.len();
            if (!is_last || last_is_dir) && !ft.is_dir() {
                if is_last {
                    return Err(err(&shown, "is not a directory"));
                }
                return Ok(None);
            }
        }
        Ok(Some(full))
    }
}

/// The message for a path that is absolute or leaves the project root.
pub const OUTSIDE_REFUSED: &str =
    "is outside the project; siteconf reads only files inside the project directory";

/// The components of a relative path that stays inside the project, or
/// `None` for an absolute path, one with `..` or a NUL. (A backslash is an
/// ordinary character of a file name here; output paths refuse it later.)
pub fn inside_components(path: &str) -> Option<Vec<&str>> {
    if path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn err(path: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// Opens a file without following a link at its last component, and
/// refuses anything that is not a regular file (a FIFO would block, a
/// device would stream forever). `O_NONBLOCK` keeps the open of a FIFO
/// from hanging before it can be refused.
fn open_regular(full: &Path, path: &str) -> Result<Option<std::fs::File>, SourceError> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(full)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(err(path, SYMLINK_REFUSED)),
        Err(e) => return Err(err(path, e)),
    };
    let meta = f.metadata().map_err(|e| err(path, e))?;
    if !meta.file_type().is_file() {
        return Err(err(
            path,
            "is not a regular file; siteconf reads only regular files inside the project",
        ));
    }
    Ok(Some(f))
}

/// Reads a file of at most `limit` bytes: the size is checked before
/// reading, and again while reading (a file that grows meanwhile).
fn read_limited(full: &Path, path: &str, limit: u64) -> Result<Option<Vec<u8>>, SourceError> {
    let Some(f) = open_regular(full, path)? else {
        return Ok(None);
    };
    let len = f.metadata().map_err(|e| err(path, e))?.len();
    check_size(path, len, limit)?;
    let mut buf = Vec::with_capacity(len as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| err(path, e))?;
    check_size(path, buf.len() as u64, limit)?;
    Ok(Some(buf))
}

impl Source for FsSource {
    fn earlier(&self, path: &str) -> Vec<super::Earlier> {
        // Best effort: a project outside git has no earlier copies.
        match super::GitProject::discover(&self.root) {
            Ok(p) => super::git::earlier_of_worktree(p.repository(), p.prefix(), path),
            Err(_) => Vec::new(),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        let comps = self.components(dir)?;
        let Some(base) = self.resolve(&comps, true)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        // Symlinks below the directory are not followed, and skipped with a
        // note: a site tree is plain files, and a link could point anywhere
        // on the machine.
        for entry in walkdir::WalkDir::new(&base)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| err(dir, e))?;
            let rel = entry
                .path()
                .strip_prefix(&self.root)
                .map_err(|e| err(dir, e))?;
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            if entry.file_type().is_symlink() {
                if let Ok(mut n) = self.notes.lock() {
                    n.insert(format!(
                        "skipped {}: a symbolic link (siteconf reads plain files only)",
                        crate::syntax::escape_path(&rel)
                    ));
                }
                if let Ok(mut l) = self.links.lock() {
                    l.insert(rel);
                }
                continue;
            }
            if !entry.file_type().is_file() {
                continue;
            }
            out.push(rel);
        }
        out.sort();
        Ok(out)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let comps = self.components(path)?;
        let Some((_, dirs)) = comps.split_last() else {
            return Err(err(path, "is not a file"));
        };
        if self.resolve(dirs, true)?.is_none() {
            return Ok(None);
        }
        let full = comps.iter().fold(self.root.clone(), |p, c| p.join(c));
        read_limited(&full, path, MAX_FILE_BYTES)
    }

    fn describe(&self) -> String {
        "working tree".to_string()
    }

    fn list_top(&self) -> Result<Vec<String>, SourceError> {
        // Plain files only (no symlinks, as in `list`); names that are not
        // UTF-8 cannot be site files' and are left out.
        let entries = |dir: &Path| -> Vec<(String, std::fs::FileType)> {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return Vec::new();
            };
            rd.filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
                .collect()
        };
        let mut out = Vec::new();
        for (name, ty) in entries(&self.root) {
            if ty.is_file() {
                out.push(name);
            } else if ty.is_dir() && !name.starts_with('.') {
                for (sub, sty) in entries(&self.root.join(&name)) {
                    if sty.is_file() {
                        out.push(format!("{name}/{sub}"));
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn links_under(&self, dir: &str) -> Vec<String> {
        self.links
            .lock()
            .map(|l| super::below(l.iter(), dir))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_up_to_the_limit_are_read_and_larger_ones_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "12345").unwrap();
        assert_eq!(
            read_limited(&dir.path().join("a"), "a", 5).unwrap(),
            Some(b"12345".to_vec())
        );
        let e = read_limited(&dir.path().join("a"), "a", 4).unwrap_err();
        assert!(e.message.contains("has 5 bytes"), "{e}");
        assert_eq!(read_limited(&dir.path().join("b"), "b", 4).unwrap(), None);
        // A sparse file of the limit plus one byte is refused by its size.
        let big = std::fs::File::create(dir.path().join("big")).unwrap();
        big.set_len(MAX_FILE_BYTES + 1).unwrap();
        let src = FsSource::new(dir.path());
        let e = src.read("big").unwrap_err();
        assert_eq!(e.path, "big");
        assert!(
            e.message.contains("more than the 256 MiB siteconf reads"),
            "{e}"
        );
    }
}
