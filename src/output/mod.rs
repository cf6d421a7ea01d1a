//! Output: the in-memory set of rendered files, and what is done with it
//! (atomic write to a directory, manifest, diff of two sets). The
//! filesystem primitives under the writer and the build stamp are in
//! [`fs`]. Nothing here knows the stages before it (render, build, cli):
//! they hand over artifacts and digests.

pub mod diff;
pub mod fs;
pub mod manifest;
pub mod memo;
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
