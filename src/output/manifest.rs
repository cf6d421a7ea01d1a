//! `manifest.json`: every artifact of a build with its size, SHA-256,
//! mode and kind, grouped by node, switch and site, so deployment tools can
//! see what exists and what changed without reading every file.
//!
//! The manifest lists everything but itself. Files that hold a secret are
//! marked `"secret": true` (tools that show content must not show theirs).
//! Their hash is listed like any other, so the manifest can be checked
//! against the files: note that a hash of a file whose every other byte is
//! known lets someone who has the manifest test guesses of a weak secret
//! offline, so treat a manifest of a site with secrets as internal.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Artifact, OutputSet, Owner};

/// The manifest's own path in the output directory.
pub const MANIFEST_PATH: &str = "manifest.json";

#[derive(Serialize)]
struct Entry<'a> {
    path: &'a str,
    size: usize,
    sha256: &'a str,
    mode: String,
    kind: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

#[derive(Serialize)]
struct Manifest<'a> {
    /// Marks an output directory as siteconf's: `write` replaces an existing
    /// directory only when it carries this.
    generator: &'static str,
    format: u32,
    files: usize,
    bytes: usize,
    nodes: BTreeMap<&'a str, Vec<Entry<'a>>>,
    switches: BTreeMap<&'a str, Vec<Entry<'a>>>,
    site: Vec<Entry<'a>>,
}

/// What the manifest says of one artifact: all it keeps of it, so that a
/// build can write an artifact and drop its bytes long before the manifest
/// is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub size: usize,
    pub sha256: String,
    pub mode: u32,
    pub kind: String,
    pub owner: Owner,
    pub secret: bool,
}

impl Listed {
    pub fn of(a: &Artifact) -> Listed {
        Listed {
            path: a.path.clone(),
            size: a.bytes.len(),
            sha256: sha256_hex(&a.bytes),
            mode: a.mode,
            kind: a.kind.clone(),
            owner: a.owner.clone(),
            secret: a.secret,
        }
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The manifest of `set` (which must not contain it yet).
pub fn manifest(set: &OutputSet) -> Artifact {
    // Hashing is the only costly part: done in parallel.
    use rayon::prelude::*;
    let listed: Vec<Listed> = set
        .files
        .par_iter()
        .filter(|(p, _)| p.as_str() != MANIFEST_PATH)
        .map(|(_, a)| Listed::of(a))
        .collect();
    manifest_of(listed)
}

/// The manifest of the artifacts `listed` describes, in any order.
pub fn manifest_of(mut listed: Vec<Listed>) -> Artifact {
    listed.retain(|l| l.path != MANIFEST_PATH);
    listed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut m = Manifest {
        generator: "siteconf",
        format: 1,
        files: 0,
        bytes: 0,
        nodes: BTreeMap::new(),
        switches: BTreeMap::new(),
        site: Vec::new(),
    };
    for l in &listed {
        let e = Entry {
            path: &l.path,
            size: l.size,
            sha256: &l.sha256,
            mode: format!("{:04o}", l.mode),
            kind: &l.kind,
            secret: l.secret,
        };
        m.files += 1;
        m.bytes += e.size;
        match &l.owner {
            Owner::Node(n) => m.nodes.entry(n.as_str()).or_default().push(e),
            Owner::Switch(s) => m.switches.entry(s.as_str()).or_default().push(e),
            Owner::Site => m.site.push(e),
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
    bytes.push(b'\n');
    Artifact {
        path: MANIFEST_PATH.to_string(),
        bytes,
        mode: 0o644,
        owner: Owner::Site,
        kind: "manifest".to_string(),
        secret: false,
    }
}
