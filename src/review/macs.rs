//! MAC addresses moved between devices that keep their names: two nodes'
//! MACs swapped (a cabling sheet pasted into the wrong node). Nothing is
//! renamed or reallocated, yet Kea hands each machine the other's
//! management address, netplan matches the other's NICs, and each
//! `serial` now contradicts its MACs: the machines swap identities. The
//! review lists it first, counted like renumbering, so the gate's
//! `renumbered` finding blocks it by default.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::facts::Facts;

/// MAC addresses of `from` in base that are `to`'s in head (`swapped`:
/// and `to`'s are `from`'s: one pair, listed once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacMove {
    pub from: String,
    pub to: String,
    pub swapped: bool,
    /// How many MAC addresses moved (both ways when swapped).
    pub macs: usize,
}

impl std::fmt::Display for MacMove {
    /// `r01n03 ↔ r01n04 (10 MAC addresses)`, `r01n03 → r01n09 (…)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = if self.swapped { "↔" } else { "→" };
        let what = if self.macs == 1 {
            "MAC address"
        } else {
            "MAC addresses"
        };
        write!(
            f,
            "{} {arrow} {} ({} {what})",
            self.from, self.to, self.macs
        )
    }
}

/// Nodes on both sides whose head MACs were another such node's in base.
pub fn mac_moves(base: &Facts, head: &Facts) -> Vec<MacMove> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (n, f) in &base.nodes {
        if head.nodes.contains_key(n) {
            for m in &f.macs {
                owner.insert(m.as_str(), n.as_str());
            }
        }
    }
    // (base owner, head owner) → MACs.
    let mut moved: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (n, f) in &head.nodes {
        if !base.nodes.contains_key(n) {
            continue;
        }
        for m in &f.macs {
            if let Some(&was) = owner.get(m.as_str()) {
                if was != n {
                    *moved.entry((was, n.as_str())).or_default() += 1;
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut done: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (&(a, b), &k) in &moved {
        if done.contains(&(a, b)) {
            continue;
        }
        let back = moved.get(&(b, a)).copied();
        if back.is_some() {
            done.insert((b, a));
        }
        out.push(MacMove {
            from: a.to_string(),
            to: b.to_string(),
            swapped: back.is_some(),
            macs: k + back.unwrap_or(0),
        });
    }
    out
}

/// The devices of the moves (for the renumbered count).
pub fn devices(moves: &[MacMove]) -> BTreeSet<&str> {
    moves
        .iter()
        .flat_map(|m| [m.from.as_str(), m.to.as_str()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::facts::NodeFacts;

    fn facts(nodes: &[(&str, &[&str])]) -> Facts {
        let mut f = Facts::default();
        for (n, macs) in nodes {
            f.nodes.insert(
                n.to_string(),
                NodeFacts {
                    macs: macs.iter().map(|m| m.to_string()).collect(),
                    ..NodeFacts::default()
                },
            );
        }
        f
    }

    #[test]
    fn swapped_macs_are_one_pair_and_renames_are_not_moves() {
        let base = facts(&[("a", &["m1", "m2"]), ("b", &["m3"]), ("c", &["m4"])]);
        let head = facts(&[("a", &["m3"]), ("b", &["m1", "m2"]), ("d", &["m4"])]);
        let moves = mac_moves(&base, &head);
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].to_string(), "a ↔ b (3 MAC addresses)");
        // c → d is a rename (c is gone): `Review::renames` says so.
        let one_way = mac_moves(&base, &facts(&[("a", &["m9"]), ("b", &["m3", "m1"])]));
        assert_eq!(one_way[0].to_string(), "a → b (1 MAC address)");
        assert!(!one_way[0].swapped);
    }
}
