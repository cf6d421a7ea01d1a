//! What a change does to `siteconf.lock`: values allocated, released
//! (held back from reuse), dropped from the lock, or taken back into use.
//!
//! Compared are the *effective* locks of the two sides — the committed lock
//! plus what this compile allocated for requests it did not answer — so a
//! merge request that adds a node without running `siteconf lock` still
//! shows the addresses the node will get. Whether head's committed lock is
//! stale is reported separately (see `Compiled::lock_pending`).
//!
//! A **renumbered** value ([`renumbered`]) is worse than any of these: an
//! owner that has a value for a key on both sides has a different one in
//! head — its line was dropped or released and the key allocated anew (a
//! careless lock merge, a deleted lock, a renamed network or node), or its
//! value edited. A deployed machine gets new addresses, ASN or loopback;
//! the review lists it first and the gate blocks it by default.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::resolve::key::{AllocKey, IpFamily};
use crate::resolve::Lock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockChangeKind {
    /// A new value for a request.
    Allocated,
    /// The owner no longer asks for the value; it is held back from reuse.
    Released,
    /// A value left the lock entirely (a released value pruned, or an
    /// entry deleted by hand).
    Dropped,
    /// A released value is in use again.
    Reclaimed,
}

impl LockChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockChangeKind::Allocated => "allocated",
            LockChangeKind::Released => "released",
            LockChangeKind::Dropped => "dropped",
            LockChangeKind::Reclaimed => "reclaimed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LockChange {
    /// `node/r01n01`
    pub owner: String,
    /// `address.mgmt.ipv4`
    pub key: String,
    pub value: String,
    pub change: LockChangeKind,
}

impl LockChange {
    /// The node or switch name of the owner (`r01n01` of `node/r01n01`).
    pub fn owner_name(&self) -> &str {
        name_of(&self.owner)
    }
}

/// A value an owner had in base and has anew in head.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Renumbered {
    /// The owner in head (`node/db-01`).
    pub owner: String,
    pub key: String,
    /// The value in base (what is deployed).
    pub old: String,
    /// The value in head.
    pub new: String,
    /// For a renamed owner (the same machine under a new name, see
    /// `Review::renames`), its name in base (`node/r01n03`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// For an address that moved to another network key (`network mgmt`
    /// renamed `oob` and its lock lines deleted instead of renamed), the
    /// key in base (`address.mgmt.ipv4`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_key: Option<String>,
}

impl Renumbered {
    /// The node or switch name of the owner in head.
    pub fn owner_name(&self) -> &str {
        name_of(&self.owner)
    }
}

/// The family of an `address.NETWORK.FAMILY` key.
fn address_family(key: &str) -> Option<IpFamily> {
    match AllocKey::parse(key)? {
        AllocKey::Address { family, .. } => Some(family),
        _ => None,
    }
}

fn name_of(owner: &str) -> &str {
    owner.split_once('/').map(|(_, n)| n).unwrap_or(owner)
}

/// Values in use (not released) by (owner, key).
fn in_use(lock: &Lock) -> BTreeMap<(&str, &str), &str> {
    lock.entries
        .iter()
        .filter(|e| !e.released)
        .map(|e| ((e.owner.as_str(), e.key.as_str()), e.value.as_str()))
        .collect()
}

/// Every value an owner uses on both sides that differs: for each key an
/// owner has a value in use for in base, the value in use for the same
/// key in head, if there is one and it is not the same. `renames` pairs a
/// base owner with the head owner that is the same machine (`node/r01n03`,
/// `node/db-01`): its values are compared across the names. Sorted by
/// owner and key.
pub fn renumbered(base: &Lock, head: &Lock, renames: &[(String, String)]) -> Vec<Renumbered> {
    let (b, h) = (in_use(base), in_use(head));
    let mut out = Vec::new();
    for (&(owner, key), &old) in &b {
        if let Some(&new) = h.get(&(owner, key)) {
            if new != old {
                out.push(Renumbered {
                    owner: owner.to_string(),
                    key: key.to_string(),
                    old: old.to_string(),
                    new: new.to_string(),
                    renamed_from: None,
                    old_key: None,
                });
            }
        }
    }
    // An owner's address that left one network key and came back under
    // another of the same family (a renamed network whose lock lines were
    // deleted): one key gone and one new, per owner and family.
    // (owner, family) → (keys and values gone, keys and values new).
    type KeyValues<'a> = Vec<(&'a str, &'a str)>;
    let mut moved: BTreeMap<(&str, IpFamily), (KeyValues, KeyValues)> = BTreeMap::new();
    for (&(owner, key), &old) in &b {
        if let Some(f) = address_family(key) {
            if !h.contains_key(&(owner, key)) {
                moved.entry((owner, f)).or_default().0.push((key, old));
            }
        }
    }
    for (&(owner, key), &new) in &h {
        if let Some(f) = address_family(key) {
            if !b.contains_key(&(owner, key)) {
                if let Some(m) = moved.get_mut(&(owner, f)) {
                    m.1.push((key, new));
                }
            }
        }
    }
    for ((owner, _), (gone, came)) in moved {
        if let ([(old_key, old)], [(key, new)]) = (gone.as_slice(), came.as_slice()) {
            if old != new {
                out.push(Renumbered {
                    owner: owner.to_string(),
                    key: key.to_string(),
                    old: old.to_string(),
                    new: new.to_string(),
                    renamed_from: None,
                    old_key: Some(old_key.to_string()),
                });
            }
        }
    }
    for (from, to) in renames {
        for (&(owner, key), &old) in b.range((from.as_str(), "")..) {
            if owner != from {
                break;
            }
            // Under its new name in base too: not a rename of this owner.
            if b.contains_key(&(to.as_str(), key)) {
                continue;
            }
            if let Some(&new) = h.get(&(to.as_str(), key)) {
                if new != old {
                    out.push(Renumbered {
                        owner: to.clone(),
                        key: key.to_string(),
                        old: old.to_string(),
                        new: new.to_string(),
                        renamed_from: Some(from.clone()),
                        old_key: None,
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The lock lines (owner, key, value) a renumbering consists of: each
/// value's new line in head and its old line in base (under the owner's
/// and key's base names), so that the summary counts a renumbered value
/// once, not also as allocated and dropped.
pub fn renumbered_lines(
    renumbered: &[Renumbered],
) -> std::collections::BTreeSet<(&str, &str, &str)> {
    let mut out = std::collections::BTreeSet::new();
    for r in renumbered {
        out.insert((r.owner.as_str(), r.key.as_str(), r.new.as_str()));
        out.insert((
            r.renamed_from.as_deref().unwrap_or(&r.owner),
            r.old_key.as_deref().unwrap_or(&r.key),
            r.old.as_str(),
        ));
    }
    out
}

/// Lock entries by (owner, key, value) → released.
fn entries(lock: &Lock) -> BTreeMap<(&str, &str, &str), bool> {
    lock.entries
        .iter()
        .map(|e| {
            (
                (e.owner.as_str(), e.key.as_str(), e.value.as_str()),
                e.released,
            )
        })
        .collect()
}

/// Every difference between two locks, sorted by owner, key, value.
pub fn diff(base: &Lock, head: &Lock) -> Vec<LockChange> {
    let (b, h) = (entries(base), entries(head));
    let mut out = Vec::new();
    let mk = |(o, k, v): (&str, &str, &str), change| LockChange {
        owner: o.to_string(),
        key: k.to_string(),
        value: v.to_string(),
        change,
    };
    for (&k, &released) in &h {
        match (b.get(&k), released) {
            (None, false) => out.push(mk(k, LockChangeKind::Allocated)),
            // A value that appears already released was allocated and
            // given up within the change; nothing is in use.
            (None, true) => {}
            (Some(false), true) => out.push(mk(k, LockChangeKind::Released)),
            (Some(true), false) => out.push(mk(k, LockChangeKind::Reclaimed)),
            (Some(_), _) => {}
        }
    }
    for &k in b.keys() {
        if !h.contains_key(&k) {
            out.push(mk(k, LockChangeKind::Dropped));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::syntax::FileId;

    fn lock(text: &str) -> Lock {
        let mut d = Diagnostics::new();
        let l = Lock::parse(FileId(0), text, &mut d);
        assert!(d.is_empty());
        l
    }

    #[test]
    fn classifies_every_kind() {
        let base = lock(
            "node/a asn 1\nnode/b address.mgmt.ipv4 10.0.0.5\nnode/c loopback.ipv4 10.1.0.1 released\nnode/d asn 4 released\n",
        );
        let head = lock(
            "node/a asn 1\nnode/b address.mgmt.ipv4 10.0.0.5 released\nnode/d asn 4\nnode/e asn 5\n",
        );
        let got: Vec<(String, LockChangeKind)> = diff(&base, &head)
            .into_iter()
            .map(|c| (c.owner, c.change))
            .collect();
        assert_eq!(
            got,
            vec![
                ("node/b".into(), LockChangeKind::Released),
                ("node/c".into(), LockChangeKind::Dropped),
                ("node/d".into(), LockChangeKind::Reclaimed),
                ("node/e".into(), LockChangeKind::Allocated),
            ]
        );
        assert!(
            renumbered(&base, &head, &[]).is_empty(),
            "nothing renumbered"
        );
    }

    #[test]
    fn renumbered_is_a_value_in_use_on_both_sides_that_differs() {
        // A careless merge: a's address and ASN dropped and allocated anew
        // (a lock has one line per owner and key); b's edited; c released only (not
        // renumbered: it no longer asks); d unchanged.
        let base = lock(
            "node/a address.mgmt.ipv4 10.0.1.6\nnode/a asn 6\nnode/b asn 2\nnode/c asn 3\nnode/d asn 4\n",
        );
        let head = lock(
            "node/a address.mgmt.ipv4 10.0.1.7\nnode/a asn 7\nnode/b asn 9\nnode/c asn 3 released\nnode/d asn 4\n",
        );
        let got: Vec<String> = renumbered(&base, &head, &[])
            .iter()
            .map(|r| format!("{} {} {} {}", r.owner, r.key, r.old, r.new))
            .collect();
        assert_eq!(
            got,
            vec![
                "node/a address.mgmt.ipv4 10.0.1.6 10.0.1.7",
                "node/a asn 6 7",
                "node/b asn 2 9"
            ]
        );
    }

    #[test]
    fn an_address_moved_to_another_network_key_is_renumbered() {
        // `network mgmt` renamed `oob`: lines deleted and allocated anew
        // (renumbered), or renamed by hand (kept).
        let base = lock("node/a address.mgmt.ipv4 10.0.1.2\nnode/b address.mgmt.ipv4 10.0.1.3\n");
        let head = lock("node/a address.oob.ipv4 10.0.1.1\nnode/b address.oob.ipv4 10.0.1.3\n");
        let got = renumbered(&base, &head, &[]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].owner, "node/a");
        assert_eq!(got[0].key, "address.oob.ipv4");
        assert_eq!(got[0].old_key.as_deref(), Some("address.mgmt.ipv4"));
        // A second address added beside: which one replaced it is not known.
        let head = lock(
            "node/a address.oob.ipv4 10.0.1.1\nnode/a address.san.ipv4 10.9.0.1\nnode/b address.oob.ipv4 10.0.1.3\n",
        );
        assert!(renumbered(&base, &head, &[]).is_empty());
    }

    #[test]
    fn a_renamed_owner_is_compared_across_its_names() {
        let base = lock("node/old address.mgmt.ipv4 10.0.1.2\nnode/old asn 2\n");
        // New values for the new name; the old ones released.
        let head = lock(
            "node/new address.mgmt.ipv4 10.0.1.9\nnode/new asn 2\nnode/old address.mgmt.ipv4 10.0.1.2 released\n",
        );
        let renames = [("node/old".to_string(), "node/new".to_string())];
        let got = renumbered(&base, &head, &renames);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].owner, "node/new");
        assert_eq!(got[0].renamed_from.as_deref(), Some("node/old"));
        assert_eq!(
            (got[0].old.as_str(), got[0].new.as_str()),
            ("10.0.1.2", "10.0.1.9")
        );
    }
}
