//! What a change does to `siteconf.lock`: values allocated, released
//! (held back from reuse), dropped from the lock, or taken back into use.
//!
//! Compared are the *effective* locks of the two sides — the committed lock
//! plus what this compile allocated for requests it did not answer — so a
//! merge request that adds a node without running `siteconf lock` still
//! shows the addresses the node will get. Whether head's committed lock is
//! stale is reported separately (see `Compiled::lock_pending`).

use std::collections::BTreeMap;

use serde::Serialize;

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
        self.owner
            .split_once('/')
            .map(|(_, n)| n)
            .unwrap_or(&self.owner)
    }
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
    }
}
