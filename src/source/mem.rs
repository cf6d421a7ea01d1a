//! An in-memory [`Source`], for tests and for compiling generated sites
//! without touching the disk.

use std::collections::BTreeMap;

use super::{Source, SourceError};

#[derive(Debug, Clone, Default)]
pub struct MemSource {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemSource {
    pub fn new() -> MemSource {
        MemSource::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), contents.into());
    }

    pub fn with(mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) -> MemSource {
        self.insert(path, contents);
        self
    }
}

impl Source for MemSource {
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        Ok(self
            .files
            .keys()
            .filter(|k| dir.is_empty() || k.starts_with(&prefix))
            .cloned()
            .collect())
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self.files.get(path).cloned())
    }

    fn list_top(&self) -> Result<Vec<String>, SourceError> {
        Ok(self
            .files
            .keys()
            .filter(|k| super::is_top(k))
            .cloned()
            .collect())
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }
}
