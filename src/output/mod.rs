//! Output: the in-memory set of rendered files, and what is done with it
//! (atomic write to a directory, manifest, diff of two sets). The
//! filesystem primitives under the writer and the build stamp are in
//! [`fs`]. Nothing here knows the stages before it (render, build, cli):
//! they hand over artifacts and digests.

pub mod diff;
pub mod fs;
pub mod manifest;
pub mod memo;
mod outline;
pub mod path;
pub mod stamp;
pub mod write;

use std::collections::BTreeMap;
use std::io;

use sha2::Sha256;

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

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes` (digests in stamps, memos, caches).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends the lowercase hex of `bytes` to `s`: no string of its own, for
/// what holds a digest per file of a fleet.
pub fn push_hex(s: &mut String, bytes: &[u8]) {
    for b in bytes {
        s.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        s.push(char::from(HEX_DIGITS[usize::from(b & 15)]));
    }
}

/// The digest [`hex`] spells, back.
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Writes into a SHA-256 digest: what is serialised or copied into it is
/// never held whole.
pub struct DigestWriter<'a>(pub &'a mut Sha256);

impl io::Write for DigestWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
