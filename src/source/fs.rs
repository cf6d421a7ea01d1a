//! The working tree as a [`Source`].

use std::path::{Path, PathBuf};

use std::io::Read;

use super::{check_size, Source, SourceError, MAX_FILE_BYTES};

/// Files under a project root on disk.
#[derive(Debug, Clone)]
pub struct FsSource {
    root: PathBuf,
}

impl FsSource {
    pub fn new(root: impl Into<PathBuf>) -> FsSource {
        FsSource { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn err(path: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// Reads a file of at most `limit` bytes: the size is checked before
/// reading, and again while reading (a file that grows meanwhile).
fn read_limited(full: &Path, path: &str, limit: u64) -> Result<Option<Vec<u8>>, SourceError> {
    let f = match std::fs::File::open(full) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(path, e)),
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
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        let base = self.root.join(dir);
        if !base.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // Symlinks are not followed: a site tree is plain files, and a link
        // could point anywhere on the machine.
        for entry in walkdir::WalkDir::new(&base)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| err(dir, e))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&self.root)
                .map_err(|e| err(dir, e))?;
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
        out.sort();
        Ok(out)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        read_limited(&self.root.join(path), path, MAX_FILE_BYTES)
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
