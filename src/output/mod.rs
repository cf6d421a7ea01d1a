//! Output: the in-memory set of rendered files, and what is done with it
//! (atomic write to a directory, manifest, diff of two sets).

pub mod manifest;
pub mod path;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};

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
}

/// Every file of one build, by path (sorted: deterministic iteration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet {
    pub files: BTreeMap<String, Artifact>,
    /// Paths whose content includes a resolved secret: never show their
    /// content (diff, logs); the manifest marks them.
    pub secret_paths: BTreeSet<String>,
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
    /// Marks a path as holding a secret (see [`OutputSet::secret_paths`]).
    pub fn mark_secret(&mut self, path: &str) {
        self.secret_paths.insert(path.to_string());
    }
    pub fn has_secret(&self, path: &str) -> bool {
        self.secret_paths.contains(path)
    }
    pub fn total_bytes(&self) -> usize {
        self.files.values().map(|a| a.bytes.len()).sum()
    }
}
