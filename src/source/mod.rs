//! Where files come from: the working tree, a git revision, the git index,
//! or memory. This is the only place the compiler reads project files; no
//! stage after discovery knows which kind of source it reads.

pub mod fs;
pub mod git;
pub mod mem;

pub use fs::FsSource;
pub use git::{GitIndexSource, GitProject, GitRevSource};
pub use mem::MemSource;

use std::fmt;

/// An error reading from a source, with the path it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SourceError {}

/// The largest project file a source reads: 256 MiB. A 100,000-node site
/// in one KDL file is about 40 MB, so real sites are far below it; a file
/// above it is refused with a diagnostic naming it, before it is read, so
/// memory stays bounded (a file's text is kept, and spans address it with
/// 32-bit offsets). Documented in docs/site-format.md.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The error for a file of `size` bytes over `limit`.
pub(crate) fn check_size(path: &str, size: u64, limit: u64) -> Result<(), SourceError> {
    if size <= limit {
        return Ok(());
    }
    Err(SourceError {
        path: path.to_string(),
        message: format!(
            "the file has {size} bytes, more than the {} siteconf reads from one file",
            human_size(limit)
        ),
    })
}

/// `256 MiB`, `1.5 GiB`, `17 bytes`.
fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 {
        format!("{v} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A read-only tree of project files, addressed by `/`-separated paths
/// relative to the project root.
pub trait Source: Sync {
    /// Every file below `dir` (recursively), sorted by path. A missing
    /// directory is an empty list, not an error.
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError>;

    /// The bytes of one file; `Ok(None)` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError>;

    /// A short description for messages ("working tree", "HEAD~1 (abc1234)").
    fn describe(&self) -> String;

    /// What the source skipped while listing (a symlink, a submodule, a
    /// name that is not UTF-8), one sentence each, for the CLI to show as
    /// notes. Skipping is not an error: such entries are usually unrelated
    /// to the site, but a user who expected one to be read must be told.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The symbolic links found below `dir` by an earlier [`Source::list`]
    /// of it (skipped there, never read), sorted: for a directory where a
    /// link is an error rather than a note (templates).
    fn links_under(&self, dir: &str) -> Vec<String> {
        let _ = dir;
        Vec::new()
    }

    /// The files at the top of the tree: directly in the root, and
    /// directly in each directory of the root whose name does not start
    /// with `.` (not deeper, so a build directory is never walked), sorted.
    /// Used only to warn about site files left outside the site directory;
    /// a source that cannot answer cheaply returns nothing (the default).
    fn list_top(&self) -> Result<Vec<String>, SourceError> {
        Ok(Vec::new())
    }

    /// The file `path` as committed in the revisions this tree continues
    /// from: for the working tree and the index, HEAD (the [`Earlier::base`]
    /// one), MERGE_HEAD during a merge, and HEAD's parents; for a revision,
    /// its parents, the first one the base. Copies that are missing or not
    /// text are left out, and a source outside git has none (the default).
    /// The lock reader keeps zone serials from going below what these
    /// published, and names the lock line that changed since the base.
    fn earlier(&self, path: &str) -> Vec<Earlier> {
        let _ = path;
        Vec::new()
    }

    /// Reads a file as UTF-8 text.
    fn read_text(&self, path: &str) -> Result<Option<String>, SourceError> {
        match self.read(path)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|e| {
                // Where, never what: the bytes may be anything.
                let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
                let col =
                    good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
                SourceError {
                    path: path.to_string(),
                    message: format!(
                        "file is not valid UTF-8 (line {line}, byte {col} of the line)"
                    ),
                }
            }),
        }
    }
}

/// A project file as committed in a revision a tree continues from
/// ([`Source::earlier`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The revision as git spells it, for messages and `git show REV:PATH`
    /// (`HEAD`, `MERGE_HEAD`, `HEAD^2`, `abc1234^1`).
    pub rev: String,
    /// Whether this is the revision the tree was edited from: HEAD, or a
    /// revision's first parent.
    pub base: bool,
    pub text: String,
}

/// Whether a path is one [`Source::list_top`] lists: at depth one or two,
/// not under a directory whose name starts with `.`.
pub(crate) fn is_top(path: &str) -> bool {
    match path.split_once('/') {
        None => true,
        Some((dir, rest)) => !dir.starts_with('.') && !rest.contains('/'),
    }
}

/// The paths of `links` that lie below directory `dir`.
pub(crate) fn below<'a>(links: impl IntoIterator<Item = &'a String>, dir: &str) -> Vec<String> {
    let dir = dir.trim_matches('/');
    let prefix = format!("{dir}/");
    links
        .into_iter()
        .filter(|l| dir.is_empty() || dir == "." || l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Joins a directory and a relative path with `/`.
pub fn join(dir: &str, rel: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_named_with_its_size_and_the_limit() {
        assert!(check_size("a", MAX_FILE_BYTES, MAX_FILE_BYTES).is_ok());
        let e = check_size("site/big.kdl", MAX_FILE_BYTES + 1, MAX_FILE_BYTES).unwrap_err();
        assert_eq!(e.path, "site/big.kdl");
        assert_eq!(
            e.message,
            "the file has 268435457 bytes, more than the 256 MiB siteconf reads from one file"
        );
        assert_eq!(human_size(17), "17 bytes");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
    }
}
