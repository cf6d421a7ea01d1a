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

    /// Reads a file as UTF-8 text.
    fn read_text(&self, path: &str) -> Result<Option<String>, SourceError> {
        match self.read(path)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| SourceError {
                path: path.to_string(),
                message: "file is not valid UTF-8".into(),
            }),
        }
    }
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
