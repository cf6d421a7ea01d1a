//! A node renamed whose lock owner was renamed too (its values stay) is
//! compared with itself, as a renamed site is (`compile::rename_sites`):
//! base's files, facts and lock lines of `r01n05` are renamed `db05`, so
//! `nodes/r01n05/…` is compared with `nodes/db05/…` (a changed file: the
//! host name in it), its sessions and lock lines are the same on both
//! sides, and no node is added or removed. Without this a cosmetic rename
//! read — and gated — like a decommission plus a new install: 16 files
//! added and 16 removed, its allocations "dropped" and "allocated", its
//! BGP sessions removed and added.
//!
//! A rename that renumbers (the lock owner not renamed) is left as it is:
//! the review must show it as removed, added and renumbered.

use std::collections::BTreeSet;

use super::facts::NodeFacts;
use super::Compiled;
use crate::output::Owner;

/// A node of base renamed in head: (base's name, head's name, what they
/// share: `MAC 52:54:00:01:05:01`).
pub type NodeRename = (String, String, String);

/// The renames (see `Review::renames`) whose allocated values stay.
fn kept(base: &Compiled, head: &Compiled) -> Vec<NodeRename> {
    super::renames(&base.facts, &head.facts)
        .into_iter()
        // Within one site: a node moved to another site moves its lines
        // to that site's lock and its files to that site's directory.
        .filter(|r| r.from.rsplit_once('/').map(|x| x.0) == r.to.rsplit_once('/').map(|x| x.0))
        .filter(|r| {
            fn values<'a>(
                c: &'a Compiled,
                f: Option<&NodeFacts>,
            ) -> Option<BTreeSet<(&'a str, &'a str)>> {
                let owner = &f?.lock_owner;
                Some(
                    c.lock
                        .entries
                        .iter()
                        .filter(|e| e.owner == *owner && !e.released)
                        .map(|e| (e.key.as_str(), e.value.as_str()))
                        .collect(),
                )
            }
            match (
                values(base, base.facts.nodes.get(&r.from)),
                values(head, head.facts.nodes.get(&r.to)),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        })
        .map(|r| (r.from, r.to, r.same))
        .collect()
}

/// The last part of a device name (`a/r01n05` in a project of several
/// sites): what its paths and file names hold.
fn short(n: &str) -> &str {
    n.rsplit_once('/').map_or(n, |(_, s)| s)
}

/// `path` with the device's directory (`nodes/r01n05/`) or a file named
/// after it (`host_vars/r01n05.dc1.example.net.yml`) renamed.
fn rename_path(path: &str, from: &str, to: &str) -> Option<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    let last = parts.len() - 1;
    let mut hit = false;
    for (i, p) in parts.iter_mut().enumerate() {
        if p == from {
            *p = to.to_string();
            hit = true;
        } else if i == last {
            if let Some(rest) = p.strip_prefix(from).filter(|r| r.starts_with('.')) {
                *p = format!("{to}{rest}");
                hit = true;
            }
        }
    }
    hit.then(|| parts.join("/"))
}

/// Renames base's side of every node renamed with its values kept, and
/// records them in `base.renamed_nodes`.
pub fn rename_nodes(base: &mut Compiled, head: &Compiled) {
    let renames = kept(base, head);
    if renames.is_empty() {
        return;
    }
    let files = std::mem::take(&mut base.output.files);
    for (_, mut a) in files {
        if super::is_manifest(&a) {
            a.bytes = renamed_manifest(&a.bytes, &renames).unwrap_or(a.bytes);
            base.output.insert(a);
            continue;
        }
        for (from, to, _) in &renames {
            let owned = matches!(&a.owner, Owner::Node(n) if n == from);
            if owned || a.owner == Owner::Site {
                if let Some(p) = rename_path(&a.path, short(from), short(to)) {
                    a.path = p;
                    if owned {
                        a.owner = Owner::Node(to.clone());
                    }
                    break;
                }
            }
        }
        base.output.insert(a);
    }
    let name = |n: String| -> String {
        renames
            .iter()
            .find(|(f, _, _)| *f == n)
            .map_or(n, |(_, t, _)| t.clone())
    };
    let f = &mut base.facts;
    for (from, to, _) in &renames {
        let Some(mut nf) = f.nodes.remove(from) else {
            continue;
        };
        let old_owner = std::mem::take(&mut nf.lock_owner);
        nf.lock_owner = head.facts.nodes[to].lock_owner.clone();
        for e in &mut base.lock.entries {
            if e.owner == old_owner {
                e.owner = nf.lock_owner.clone();
            }
        }
        f.nodes.insert(to.clone(), nf);
    }
    f.rename_in_sessions_and_groups(name);
    base.lock.sort();
    base.renamed_nodes = renames;
}

/// Base's manifest read with head's names: the renamed nodes' groups under
/// their new names, and every listed path renamed as the files are, so
/// that the manifest's summary counts a renamed node's files as the files
/// compared, not as removed and added. `None`: not a manifest it can read
/// (then it is compared as it is). The entries' order does not matter to
/// the comparison, which reads them by path.
fn renamed_manifest(bytes: &[u8], renames: &[NodeRename]) -> Option<Vec<u8>> {
    use serde_json::Value;
    let mut m: Value = serde_json::from_slice(bytes).ok()?;
    let rename = |path: &str| {
        renames
            .iter()
            .find_map(|(from, to, _)| rename_path(path, short(from), short(to)))
    };
    let rename_entries = |entries: &mut Value| {
        for e in entries.as_array_mut().into_iter().flatten() {
            if let Some(p) = e.get("path").and_then(Value::as_str).and_then(rename) {
                e["path"] = Value::String(p);
            }
        }
    };
    if let Some(nodes) = m.get_mut("nodes").and_then(Value::as_object_mut) {
        for (from, to, _) in renames {
            if let Some(v) = nodes.remove(short(from)) {
                nodes.insert(short(to).to_string(), v);
            }
        }
        nodes.values_mut().for_each(rename_entries);
    }
    if let Some(site) = m.get_mut("site") {
        rename_entries(site);
    }
    serde_json::to_vec_pretty(&m).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_nodes_manifest_entries_read_under_its_new_name() {
        let base = br#"{"generator": "siteconf", "format": 1, "files": 3, "bytes": 3,
            "nodes": {"r01n05": [{"path": "nodes/r01n05/hostname", "size": 1,
                "sha256": "00", "mode": "0644", "kind": "hostname"}],
                "r01n06": [{"path": "nodes/r01n06/hostname", "size": 1,
                "sha256": "00", "mode": "0644", "kind": "hostname"}]},
            "switches": {},
            "site": [{"path": "site/inventory/host_vars/r01n05.dc1.example.net.yml",
                "size": 1, "sha256": "00", "mode": "0644", "kind": "inventory"}]}"#;
        let renames = vec![("r01n05".to_string(), "db05".to_string(), "mac".to_string())];
        let out = renamed_manifest(base, &renames).expect("a manifest");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["nodes"]["db05"][0]["path"], "nodes/db05/hostname");
        assert_eq!(v["nodes"]["r01n06"][0]["path"], "nodes/r01n06/hostname");
        assert!(v["nodes"].get("r01n05").is_none());
        assert_eq!(
            v["site"][0]["path"],
            "site/inventory/host_vars/db05.dc1.example.net.yml"
        );
        assert_eq!(renamed_manifest(b"not json", &renames), None);
    }

    #[test]
    fn paths_of_the_device_and_files_named_after_it() {
        let r = |p| rename_path(p, "r01n05", "db05");
        assert_eq!(
            r("nodes/r01n05/etc/netplan/50-siteconf.yaml").as_deref(),
            Some("nodes/db05/etc/netplan/50-siteconf.yaml")
        );
        assert_eq!(
            r("prod/site/inventory/host_vars/r01n05.dc1.example.net.yml").as_deref(),
            Some("prod/site/inventory/host_vars/db05.dc1.example.net.yml")
        );
        assert_eq!(r("site/inventory/host_vars/r01n050.dc1.yml"), None);
        assert_eq!(r("site/dns/db.dc1.example.net"), None);
    }
}
