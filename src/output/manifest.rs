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
    #[serde(serialize_with = "hex")]
    sha256: &'a [u8; 32],
    /// Octal, four digits (`"0644"`).
    #[serde(serialize_with = "octal")]
    mode: u32,
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
    pub sha256: [u8; 32],
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
            sha256: Sha256::digest(&a.bytes).into(),
            mode: a.mode,
            kind: a.kind.clone(),
            owner: a.owner.clone(),
            secret: a.secret,
        }
    }
}

// The manifest holds a million of these at 100,000 nodes: kept as bytes
// and numbers, spelled out only as they are serialised.
fn hex<S: serde::Serializer>(digest: &&[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    let mut text = String::with_capacity(64);
    super::push_hex(&mut text, *digest);
    s.serialize_str(&text)
}

fn octal<S: serde::Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{mode:04o}"))
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
    manifest_of(&listed)
}

/// The manifest of the artifacts `listed` describes, in any order.
pub fn manifest_of<'a>(listed: impl IntoIterator<Item = &'a Listed>) -> Artifact {
    let m = grouped(listed);
    let mut bytes = serialise(&m);
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

/// The manifest of `listed` (itself left out), sorted by path and
/// grouped by node, switch and site.
fn grouped<'a>(listed: impl IntoIterator<Item = &'a Listed>) -> Manifest<'a> {
    let mut listed: Vec<&Listed> = listed
        .into_iter()
        .filter(|l| l.path != MANIFEST_PATH)
        .collect();
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
    for l in listed {
        let e = Entry {
            path: &l.path,
            size: l.size,
            sha256: &l.sha256,
            mode: l.mode,
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
    m
}

/// The manifest's text: what `serde_json::to_writer_pretty` makes of
/// `m`, byte for byte (a test holds them equal), written by hand because
/// it is written on every build, and at 10,000 nodes holds 160,000
/// entries: each device's entries are spelt in parallel, and a string
/// with nothing to escape is copied as it is.
fn serialise(m: &Manifest<'_>) -> Vec<u8> {
    use rayon::prelude::*;
    use std::io::Write;
    // One group (a device's or the site's entries) at `indent`, as the
    // value of a map entry or of a field.
    fn group(out: &mut Vec<u8>, entries: &[Entry<'_>], indent: &str) {
        if entries.is_empty() {
            out.extend_from_slice(b"[]");
            return;
        }
        out.extend_from_slice(b"[\n");
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            let _ = write!(out, "{indent}  {{\n{indent}    \"path\": ");
            string(out, e.path);
            let _ = write!(out, ",\n{indent}    \"size\": {},\n", e.size);
            let _ = write!(out, "{indent}    \"sha256\": \"");
            let mut hex = String::with_capacity(64);
            super::push_hex(&mut hex, e.sha256);
            out.extend_from_slice(hex.as_bytes());
            let _ = write!(out, "\",\n{indent}    \"mode\": \"{:04o}\",\n", e.mode);
            let _ = write!(out, "{indent}    \"kind\": ");
            string(out, e.kind);
            if e.secret {
                let _ = write!(out, ",\n{indent}    \"secret\": true");
            }
            let _ = write!(out, "\n{indent}  }}");
        }
        let _ = write!(out, "\n{indent}]");
    }
    fn string(out: &mut Vec<u8>, s: &str) {
        if s.bytes()
            .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
        {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        } else {
            let _ = serde_json::to_writer(&mut *out, s);
        }
    }
    // A map of groups (nodes, switches), each group spelt on its own.
    fn groups(out: &mut Vec<u8>, map: &BTreeMap<&str, Vec<Entry<'_>>>) {
        if map.is_empty() {
            out.extend_from_slice(b"{}");
            return;
        }
        let parts: Vec<(&&str, Vec<u8>)> = map
            .par_iter()
            .map(|(name, entries)| {
                let mut b = Vec::with_capacity(entries.len() * 300);
                group(&mut b, entries, "    ");
                (name, b)
            })
            .collect();
        out.extend_from_slice(b"{\n");
        for (i, (name, b)) in parts.into_iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            out.extend_from_slice(b"    ");
            string(out, name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(&b);
        }
        out.extend_from_slice(b"\n  }");
    }
    let entries = m
        .nodes
        .values()
        .chain(m.switches.values())
        .map(Vec::len)
        .sum::<usize>()
        + m.site.len();
    let mut out = Vec::with_capacity(entries * 300 + 1024);
    out.extend_from_slice(b"{\n  \"generator\": ");
    string(&mut out, m.generator);
    let _ = write!(
        out,
        ",\n  \"format\": {},\n  \"files\": {},\n  \"bytes\": {},\n  \"nodes\": ",
        m.format, m.files, m.bytes
    );
    groups(&mut out, &m.nodes);
    out.extend_from_slice(b",\n  \"switches\": ");
    groups(&mut out, &m.switches);
    out.extend_from_slice(b",\n  \"site\": ");
    group(&mut out, &m.site, "  ");
    out.extend_from_slice(b"\n}");
    out
}

/// What differs between two manifests, entry by entry: how a review shows
/// a manifest — never line by line (every entry of every changed file is
/// a few lines of churn; at 10,000 nodes the manifest is tens of MB).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    /// Entries (files listed) on each side.
    pub old_entries: usize,
    pub new_entries: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Of the changed entries, how many differ in each field: `sha256`,
    /// `size`, `mode`, `kind`, `secret`, `owner` (the device it is listed
    /// under).
    pub fields: BTreeMap<&'static str, usize>,
}

#[derive(serde::Deserialize)]
struct ReadEntry {
    path: String,
    size: u64,
    sha256: String,
    mode: String,
    kind: String,
    #[serde(default)]
    secret: bool,
}

#[derive(serde::Deserialize, Default)]
struct ReadManifest {
    #[serde(default)]
    nodes: BTreeMap<String, Vec<ReadEntry>>,
    #[serde(default)]
    switches: BTreeMap<String, Vec<ReadEntry>>,
    #[serde(default)]
    site: Vec<ReadEntry>,
}

impl ReadManifest {
    fn read(bytes: &[u8]) -> Result<ReadManifest, String> {
        if bytes.is_empty() {
            return Ok(ReadManifest::default());
        }
        serde_json::from_slice(bytes).map_err(|e| format!("not a siteconf manifest: {e}"))
    }

    /// Every entry with the owner it is listed under, by path.
    fn entries(&self) -> std::collections::HashMap<&str, (String, &ReadEntry)> {
        let mut out = std::collections::HashMap::new();
        for (what, map) in [("node", &self.nodes), ("switch", &self.switches)] {
            for (name, list) in map {
                for e in list {
                    out.insert(e.path.as_str(), (format!("{what}/{name}"), e));
                }
            }
        }
        for e in &self.site {
            out.insert(e.path.as_str(), ("site".to_string(), e));
        }
        out
    }
}

/// Compares two manifests (empty bytes: no manifest on that side). An
/// error when either is not a manifest this version reads.
pub fn compare(old: &[u8], new: &[u8]) -> Result<ManifestDiff, String> {
    let (o, n) = rayon::join(|| ReadManifest::read(old), || ReadManifest::read(new));
    let (o, n) = (o?, n?);
    let (o, n) = (o.entries(), n.entries());
    let mut d = ManifestDiff {
        old_entries: o.len(),
        new_entries: n.len(),
        ..ManifestDiff::default()
    };
    for (path, (owner, e)) in &n {
        let Some((old_owner, x)) = o.get(path) else {
            d.added += 1;
            continue;
        };
        let differs = [
            ("sha256", x.sha256 != e.sha256),
            ("size", x.size != e.size),
            ("mode", x.mode != e.mode),
            ("kind", x.kind != e.kind),
            ("secret", x.secret != e.secret),
            ("owner", old_owner != owner),
        ];
        if differs.iter().any(|(_, b)| *b) {
            d.changed += 1;
            for (field, b) in differs {
                if b {
                    *d.fields.entry(field).or_default() += 1;
                }
            }
        }
    }
    d.removed = o.keys().filter(|p| !n.contains_key(*p)).count();
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str, Owner)]) -> OutputSet {
        let mut s = OutputSet::default();
        for (p, t, o) in files {
            s.insert(Artifact::new(*p, *t, o.clone(), "text"));
        }
        s
    }

    /// The hand-written text is serde_json's, byte for byte: names and
    /// paths that need escaping, secret files, empty groups, and kinds.
    #[test]
    fn serialised_as_serde_json_would() {
        let mut cases = 0;
        let mk = |path: &str, owner: Owner, secret: bool| Listed {
            path: path.into(),
            size: path.len(),
            sha256: Sha256::digest(path.as_bytes()).into(),
            mode: if secret { 0o600 } else { 0o644 },
            kind: format!("kind \"{path}\"\u{7f}"),
            owner,
            secret,
        };
        let sets: Vec<Vec<Listed>> = vec![
            vec![],
            vec![mk("site/a", Owner::Site, false)],
            vec![mk("nodes/n1/a", Owner::Node("n1".into()), true)],
            vec![
                mk("nodes/n1/a\tb", Owner::Node("n1".into()), false),
                mk("nodes/n1/\u{e9}\\x", Owner::Node("n1".into()), true),
                mk("nodes/n2/a", Owner::Node("n\"2".into()), false),
                mk("switches/s1/x", Owner::Switch("s1".into()), false),
                mk("site/b\u{1}", Owner::Site, false),
                mk("site/a", Owner::Site, true),
            ],
        ];
        for listed in &sets {
            let got = manifest_of(listed);
            let m = grouped(listed);
            let mut want = serde_json::to_vec_pretty(&m).expect("serialises");
            want.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&got.bytes),
                String::from_utf8_lossy(&want)
            );
            cases += 1;
        }
        assert_eq!(cases, 4);
    }

    #[test]
    fn compare_counts_entries_and_fields() {
        let n = || Owner::Node("n1".into());
        let old = manifest(&set(&[
            ("nodes/n1/a", "one\n", n()),
            ("nodes/n1/b", "two\n", n()),
            ("site/gone", "x\n", Owner::Site),
        ]));
        let mut new_set = set(&[
            ("nodes/n1/a", "ONE\n", n()),
            ("nodes/n1/b", "twice\n", n()),
            ("site/new", "y\n", Owner::Site),
        ]);
        if let Some(b) = new_set.files.get_mut("nodes/n1/b") {
            b.mode = 0o600;
        }
        let new = manifest(&new_set);
        let d = compare(&old.bytes, &new.bytes).expect("manifests");
        assert_eq!((d.old_entries, d.new_entries), (3, 3));
        assert_eq!((d.added, d.removed, d.changed), (1, 1, 2));
        assert_eq!(d.fields.get("sha256"), Some(&2));
        assert_eq!(d.fields.get("size"), Some(&1));
        assert_eq!(d.fields.get("mode"), Some(&1));
        assert_eq!(d.fields.get("owner"), None);
        // No manifest on one side: every entry added.
        let d = compare(b"", &new.bytes).expect("manifest");
        assert_eq!((d.added, d.removed, d.changed), (3, 0, 0));
        assert!(compare(b"{", &new.bytes).is_err());
    }
}
