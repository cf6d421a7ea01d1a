//! The working tree as a [`Source`].

use std::path::{Path, PathBuf};

use super::{Source, SourceError};

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
        match std::fs::read(self.root.join(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(path, e)),
        }
    }

    fn describe(&self) -> String {
        "working tree".to_string()
    }
}
