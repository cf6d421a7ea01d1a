//! MAC addresses moved between devices that keep their names: two nodes'
//! MACs swapped (a cabling sheet pasted into the wrong node). Nothing is
//! renamed or reallocated, yet Kea hands each machine the other's
//! management address, netplan matches the other's NICs, and each
//! `serial` now contradicts its MACs: the machines swap identities. The
//! review lists it first, counted like renumbering, so the gate's
//! `renumbered` finding blocks it by default.
//!
//! MAC addresses that change on a node that keeps its name, to MACs no
//! node had (hardware replaced under the same name: a rack swap) are not
//! moves: Kea's reservations follow the new MACs (whether the machines
//! PXE-boot and get their addresses), which the review lists near the
//! top, one line per run of such nodes ([`mac_changes`]). The addresses
//! stay, so it is not renumbering.

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

/// Nodes, consecutive in name order, whose MACs change to ones no node
/// had (and from ones no node keeps): hardware replaced under the same
/// names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacChange {
    /// The first and last node of the run (the same for one node).
    pub first: String,
    pub last: String,
    pub nodes: usize,
    /// How many MAC addresses change (the new ones, or the ones gone when
    /// more went than came).
    pub macs: usize,
}

impl std::fmt::Display for MacChange {
    /// `r02n01–r02n12 (12 nodes, 24 MAC addresses)`, `r01n05 (2 MAC addresses)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.macs == 1 {
            "MAC address"
        } else {
            "MAC addresses"
        };
        if self.nodes == 1 {
            write!(f, "{} ({} {what})", self.first, self.macs)
        } else {
            write!(
                f,
                "{}–{} ({} nodes, {} {what})",
                self.first, self.last, self.nodes, self.macs
            )
        }
    }
}

/// What a reviewer is told under the MAC changes.
pub const MAC_CHANGE_HELP: &str = "hardware replaced under the same names: Kea reserves the nodes' addresses for the new MACs (the old machines get no lease, the new ones PXE-boot and get the same addresses) and netplan matches the new NICs; expected for a hardware swap, else a typo in the MACs keeps the machines from booting";

/// Every MAC address of a side's nodes.
fn all_macs(f: &Facts) -> rustc_hash::FxHashSet<&str> {
    f.nodes
        .values()
        .flat_map(|n| n.macs.iter().map(String::as_str))
        .collect()
}

/// Nodes on both sides whose MACs change, not to another node's: runs of
/// such nodes, consecutive in name order among the nodes on both sides.
pub fn mac_changes(base: &Facts, head: &Facts) -> Vec<MacChange> {
    // Only whether a MAC is anywhere on a side matters here.
    let (in_base, in_head) = (all_macs(base), all_macs(head));
    let mut out: Vec<MacChange> = Vec::new();
    let mut open = false;
    for (n, hf) in &head.nodes {
        let Some(bf) = base.nodes.get(n) else {
            continue;
        };
        // New MACs no node had; MACs gone that no node has now.
        let came = hf
            .macs
            .iter()
            .filter(|m| !in_base.contains(m.as_str()))
            .count();
        let went = bf
            .macs
            .iter()
            .filter(|m| !in_head.contains(m.as_str()))
            .count();
        // A node that gets its first MACs, or loses all, is a declaration
        // added or removed, not hardware replaced.
        let changed = (came > 0 || went > 0) && !bf.macs.is_empty() && !hf.macs.is_empty();
        if !changed {
            open = false;
            continue;
        }
        let k = came.max(went);
        match out.last_mut() {
            Some(run) if open => {
                run.last.clone_from(n);
                run.nodes += 1;
                run.macs += k;
            }
            _ => out.push(MacChange {
                first: n.clone(),
                last: n.clone(),
                nodes: 1,
                macs: k,
            }),
        }
        open = true;
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

    #[test]
    fn replaced_macs_are_runs_of_nodes_and_moves_are_not() {
        let base = facts(&[
            ("r02n01", &["a1", "a2"]),
            ("r02n02", &["b1", "b2"]),
            ("r02n03", &["c1"]),
            ("r02n04", &["d1"]),
            ("r02n05", &["e1"]),
            ("r02n06", &[]),
        ]);
        let head = facts(&[
            ("r02n01", &["x1", "x2"]),
            ("r02n02", &["y1", "y2"]),
            ("r02n03", &["c1"]),
            // A swap with r02n05 is a move, not new hardware.
            ("r02n04", &["e1"]),
            ("r02n05", &["d1"]),
            // MACs declared for the first time: not a replacement.
            ("r02n06", &["f1"]),
        ]);
        let ch = mac_changes(&base, &head);
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert_eq!(
            ch[0].to_string(),
            "r02n01–r02n02 (2 nodes, 4 MAC addresses)"
        );
        // An unchanged node between two changed ones splits the run.
        let head2 = facts(&[
            ("r02n01", &["x1", "x2"]),
            ("r02n02", &["b1", "b2"]),
            ("r02n03", &["z1"]),
        ]);
        let ch = mac_changes(&base, &head2);
        assert_eq!(
            ch.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            ["r02n01 (2 MAC addresses)", "r02n03 (1 MAC address)"]
        );
    }
}
