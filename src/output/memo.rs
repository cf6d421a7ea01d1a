//! The build memo: each device's key and files as the last build left
//! them, so that the next build renders only the devices whose key changed
//! (see `crate::render::keys` for what a key covers), and the same for
//! the site-wide files whose job has a key (a rack's diagram, Kea, a zone
//! with the serial it was given).
//!
//! Beside the output directory `out`, `.out.siteconf-memo` (mode 0600)
//! holds, for every node and switch: its key, and what the manifest says
//! of each of its files — its own and its per-host site-wide files (path,
//! size, SHA-256, mode, kind, whether it holds a secret; never the
//! content); then each keyed site-wide job's key and file. It names the
//! output tree it describes by the tree digest of the build stamp
//! ([`super::stamp`]): a memo is used only when the stamp
//! finds the output exactly as that build left it, so a file a device
//! keeps is known to be on disk as listed. Any doubt — no memo, another
//! tree, a line that does not parse — is no memo, and the build renders
//! everything.

use rustc_hash::FxHashMap as HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::fs::write_file_atomic_unsynced;
use super::manifest::Listed;
use super::Owner;
use super::{push_hex, unhex32};

const HEADER: &str = "siteconf-memo 2";

/// One device as a render left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub owner: Owner,
    pub key: [u8; 32],
    /// Every file of the device: its own and its per-host site files.
    pub files: Vec<Listed>,
}

/// A zone's serial and the digest `siteconf.lock` records with it.
pub type ZoneRecord = (u32, String);

/// One site-wide job (one file) as a render left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRecord {
    /// The job's file: its path names the job.
    pub file: Listed,
    pub key: [u8; 32],
    /// A zone's serial and digest.
    pub zone: Option<ZoneRecord>,
}

/// The memo of an output: each device's record, and each keyed site-wide
/// job's by its path.
#[derive(Debug, Default)]
pub struct Memo {
    pub devices: HashMap<Owner, DeviceRecord>,
    pub site: HashMap<String, SiteRecord>,
}

fn path_of(out: &Path) -> Option<PathBuf> {
    let name = out.file_name()?.to_string_lossy();
    Some(out.with_file_name(format!(".{name}.siteconf-memo")))
}

/// The memo of `out` if it describes the tree whose stamp digest is
/// `tree` (hex, from [`super::stamp::Unchanged::tree`]).
pub fn load(out: &Path, tree: &str) -> Option<Memo> {
    let out = super::fs::resolve_target(out).ok()?;
    let text = fs::read_to_string(path_of(&out)?).ok()?;
    parse(&text, tree)
}

fn parse(text: &str, tree: &str) -> Option<Memo> {
    let mut lines = text.lines();
    if lines.next()? != HEADER || lines.next()?.strip_prefix("tree ")? != tree {
        return None;
    }
    lines.next()?.strip_prefix("devices ")?;
    let mut memo = Memo::default();
    let mut current: Option<DeviceRecord> = None;
    let mut job: Option<([u8; 32], String)> = None;
    let mut last_job: Option<String> = None;
    let mut ended = false;
    for line in lines {
        if ended {
            return None;
        }
        if let Some(n) = line.strip_prefix("end ") {
            // The counts of devices and jobs: a memo cut short at a line
            // break (which the atomic write should make impossible) is
            // refused.
            let (n, k) = n.split_once(' ')?;
            let (n, k): (usize, usize) = (n.parse().ok()?, k.parse().ok()?);
            if let Some(d) = current.take() {
                memo.devices.insert(d.owner.clone(), d);
            }
            if n != memo.devices.len() || k != memo.site.len() || job.is_some() {
                return None;
            }
            ended = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("D\t") {
            let mut f = rest.split('\t');
            let owner = match (f.next()?, f.next()?) {
                ("node", n) => Owner::Node(n.to_string()),
                ("switch", n) => Owner::Switch(n.to_string()),
                _ => return None,
            };
            let key = unhex32(f.next()?)?;
            if let Some(d) = current.replace(DeviceRecord {
                owner,
                key,
                files: Vec::new(),
            }) {
                memo.devices.insert(d.owner.clone(), d);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("S\t") {
            // A job's line, then its file's, then perhaps its zone's.
            if let Some(d) = current.take() {
                memo.devices.insert(d.owner.clone(), d);
            }
            if job.is_some() {
                return None;
            }
            last_job = None;
            let (path, key) = rest.split_once('\t')?;
            job = Some((unhex32(key)?, path.to_string()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("Z\t") {
            let (serial, hash) = rest.split_once('\t')?;
            let r = memo.site.get_mut(last_job.as_deref()?)?;
            if r.zone.is_some() {
                return None;
            }
            r.zone = Some((serial.parse().ok()?, hash.to_string()));
            continue;
        }
        if let Some((key, path)) = job.take() {
            let file = file_line(line, &Owner::Site)?;
            if file.path != path || file.owner != Owner::Site {
                return None;
            }
            last_job = Some(path.clone());
            memo.site.insert(
                path,
                SiteRecord {
                    file,
                    key,
                    zone: None,
                },
            );
            continue;
        }
        let d = current.as_mut()?;
        let file = file_line(line, &d.owner)?;
        d.files.push(file);
    }
    ended.then_some(memo)
}

/// One file's line: its owner is `device` when flagged `d`, else the site.
fn file_line(line: &str, device: &Owner) -> Option<Listed> {
    let mut f = line.split('\t');
    let path = f.next()?.to_string();
    let size = f.next()?.parse().ok()?;
    let sha256 = unhex32(f.next()?)?;
    let mode = u32::from_str_radix(f.next()?, 8).ok()?;
    let kind = f.next()?.to_string();
    let flags = f.next()?;
    let owner = if flags.contains('d') {
        device.clone()
    } else {
        Owner::Site
    };
    Some(Listed {
        path,
        size,
        sha256,
        mode,
        kind,
        owner,
        secret: flags.contains('x'),
    })
}

/// The nodes and switches the memo of `out` lists, if it describes the
/// tree whose stamp digest is `tree`: read from its head only (for the
/// summary of a build that found its output current without checking).
pub fn counts(out: &Path, tree: &str) -> Option<(usize, usize)> {
    use std::io::BufRead;
    let out = super::fs::resolve_target(out).ok()?;
    let f = fs::File::open(path_of(&out)?).ok()?;
    let mut lines = io::BufReader::new(f).lines();
    if lines.next()?.ok()? != HEADER || lines.next()?.ok()?.strip_prefix("tree ")? != tree {
        return None;
    }
    let line = lines.next()?.ok()?;
    let (n, s) = line.strip_prefix("devices ")?.split_once(' ')?;
    Some((n.parse().ok()?, s.parse().ok()?))
}

/// Records `devices` as the memo of `out`, whose stamp digest is `tree`.
/// Best effort, like the stamp: without a memo the next build renders
/// everything. A name with a tab or a line break (never a valid one) is no
/// memo at all.
pub fn store(
    out: &Path,
    tree: &str,
    devices: &[DeviceRecord],
    site: &[SiteRecord],
) -> io::Result<()> {
    let Some(p) = path_of(out) else {
        return Ok(());
    };
    let text = match format(tree, devices, site) {
        Some(t) => t,
        None => return remove(out),
    };
    write_file_atomic_unsynced(&p, text.as_bytes(), 0o600)
}

/// Deletes the memo of `out`, if any.
pub fn remove(out: &Path) -> io::Result<()> {
    path_of(out).map_or(Ok(()), |p| super::fs::remove_file_if_any(&p))
}

fn format(tree: &str, devices: &[DeviceRecord], site: &[SiteRecord]) -> Option<String> {
    use std::fmt::Write;
    let mut t = String::with_capacity(devices.len() * 1500);
    let nodes = devices
        .iter()
        .filter(|d| matches!(d.owner, Owner::Node(_)))
        .count();
    let _ = writeln!(
        t,
        "{HEADER}\ntree {tree}\ndevices {nodes} {}",
        devices.len() - nodes
    );
    for d in devices {
        let (kind, name) = match &d.owner {
            Owner::Node(n) => ("node", n),
            Owner::Switch(n) => ("switch", n),
            Owner::Site => return None,
        };
        if unfit(name) {
            return None;
        }
        let _ = write!(t, "D\t{kind}\t{name}\t");
        push_hex(&mut t, &d.key);
        t.push('\n');
        for l in &d.files {
            file_line_of(&mut t, l, &d.owner)?;
        }
    }
    for r in site {
        if unfit(&r.file.path) {
            return None;
        }
        let _ = write!(t, "S\t{}\t", r.file.path);
        push_hex(&mut t, &r.key);
        t.push('\n');
        file_line_of(&mut t, &r.file, &Owner::Site)?;
        if let Some((serial, hash)) = &r.zone {
            if unfit(hash) {
                return None;
            }
            let _ = writeln!(t, "Z\t{serial}\t{hash}");
        }
    }
    let _ = writeln!(t, "end {} {}", devices.len(), site.len());
    Some(t)
}

/// Whether `s` cannot be a field of a line (a tab or a line break: never
/// in a valid name, path or kind).
fn unfit(s: &str) -> bool {
    s.contains(['\t', '\n', '\r'])
}

/// `l`'s line, flagged `d` when `device` owns it; `None` for a path or
/// kind a line cannot hold.
fn file_line_of(t: &mut String, l: &Listed, device: &Owner) -> Option<()> {
    use std::fmt::Write;
    if unfit(&l.path) || unfit(&l.kind) {
        return None;
    }
    let own = if l.owner == *device && *device != Owner::Site {
        "d"
    } else {
        "s"
    };
    let secret = if l.secret { "x" } else { "" };
    t.push_str(&l.path);
    let _ = write!(t, "\t{}\t", l.size);
    push_hex(t, &l.sha256);
    let _ = writeln!(t, "\t{:o}\t{}\t{own}{secret}", l.mode, l.kind);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(path: &str, owner: Owner, secret: bool) -> Listed {
        Listed {
            path: path.into(),
            size: 12,
            sha256: [7; 32],
            mode: 0o600,
            kind: "netplan".into(),
            owner,
            secret,
        }
    }

    #[test]
    fn a_memo_reads_back_as_written_and_only_for_its_tree() {
        let n = Owner::Node("n1".into());
        let devices = vec![
            DeviceRecord {
                owner: n.clone(),
                key: [1; 32],
                files: vec![
                    listed("nodes/n1/etc/netplan/50.yaml", n.clone(), true),
                    listed("site/inventory/host_vars/n1.yml", Owner::Site, false),
                ],
            },
            DeviceRecord {
                owner: Owner::Switch("s1".into()),
                key: [2; 32],
                files: Vec::new(),
            },
        ];
        let site = vec![
            SiteRecord {
                file: listed("site/racks/r1.svg", Owner::Site, false),
                key: [3; 32],
                zone: None,
            },
            SiteRecord {
                file: listed("site/dns/example.net.zone", Owner::Site, false),
                key: [4; 32],
                zone: Some((2026120601, "ab".repeat(32))),
            },
        ];
        let text = format("abc", &devices, &site).expect("formats");
        let memo = parse(&text, "abc").expect("parses");
        assert_eq!(memo.devices.len(), 2);
        assert_eq!(memo.site.len(), 2);
        for r in &site {
            assert_eq!(memo.site[&r.file.path], *r);
        }
        assert!(text.contains("\ndevices 1 1\n"), "{text}");
        assert_eq!(memo.devices[&n], devices[0]);
        assert_eq!(memo.devices[&Owner::Switch("s1".into())], devices[1]);
        assert!(parse(&text, "abd").is_none(), "another tree's memo");
        for cut in [
            20,
            text.len() - text.rfind("D\t").unwrap(),
            text.len() - text.rfind("Z\t").unwrap(),
            text.len() - text.rfind("S\t").unwrap(),
        ] {
            let short = &text[..text.len() - cut];
            assert!(
                parse(short, "abc").is_none(),
                "a memo cut {cut} bytes short"
            );
        }
    }
}
