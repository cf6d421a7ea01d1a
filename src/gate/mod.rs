//! The merge gate: applies the `[gate]` policy of siteconf.toml to a
//! [`Review`] and says whether the change may merge, which rules fired,
//! why, and whose approval would unblock each.
//!
//! Rules, in the order they are reported:
//!
//! 1. Built-in limits: renumbered devices (a value allocated in base, such
//!    as an address, ASN or loopback, that head allocates anew; over
//!    `max-renumbered-nodes`, 0 unless set, so it fires by default), then
//!    blast radius: nodes changed (absolute, share of the fleet, per rack,
//!    per role) and switches changed, over their limits; approved by
//!    `gate.approvers`.
//! 2. Owners (`[[gate.owners]]`): a changed input file or rendered artifact
//!    matching a protected glob; approved by that entry's owners.
//! 3. Rules (`[[gate.rules]]`): an event (artifact changes of some kinds,
//!    a BGP session removed, a node removed, an allocation released …)
//!    happening more than `more-than` times; approved by the rule's
//!    approvers.
//!
//! A fired rule is satisfied when any one of its approvers is among the
//! `--approved-by` names (one approval per rule, as with CODEOWNERS). The
//! gate passes when every fired rule is satisfied.
//!
//! Which policy: base's. A merge request that edits `[gate]` is judged by
//! the policy it is merging into, not by the one it brings (protect
//! siteconf.toml with an owners entry so such edits need approval too).

pub mod meet;
pub mod policy;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::output::diff::Status;
use crate::output::Owner;
use crate::review::lockdiff::LockChangeKind;
use crate::review::{group::compress_names, Review};
use policy::{normalize_name, Compiled as Policy, Event};

/// The JSON Schema of siteconf.toml, with the `[gate]` table's.
pub fn config_json_schema() -> serde_json::Value {
    crate::project::config_json_schema_with(policy::json_schema())
}

/// One rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `max-nodes`, `owners: site/bgp-peers.kdl`, `rule: wide-sshd-change`.
    pub rule: String,
    /// Why it fired, in one sentence with the numbers.
    pub reason: String,
    /// Who can approve it (any one of them).
    pub approvers: Vec<String>,
    /// The approvers among `--approved-by`.
    pub approved_by: Vec<String>,
    /// Still blocking: nobody who may approve it has.
    pub blocking: bool,
    /// What matched (paths, devices or runs of devices, sessions), at
    /// most [`MAX_ITEMS`].
    pub items: Vec<String>,
    /// Items not listed.
    pub omitted: usize,
    /// How many things matched (nodes, devices, sessions, files).
    pub matched: usize,
}

/// Items listed per finding; `matched` has the full count.
pub const MAX_ITEMS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub passed: bool,
    pub findings: Vec<Finding>,
}

impl Verdict {
    pub fn blocking(&self) -> usize {
        self.findings.iter().filter(|f| f.blocking).count()
    }
}

fn finding(
    rule: String,
    reason: String,
    approvers: &[String],
    approved: &BTreeSet<String>,
    items: Vec<String>,
    matched: usize,
) -> Finding {
    let approved_by: Vec<String> = approvers
        .iter()
        .filter(|a| approved.contains(normalize_name(a)))
        .cloned()
        .collect();
    Finding {
        rule,
        reason,
        approvers: approvers.to_vec(),
        blocking: approved_by.is_empty(),
        approved_by,
        matched,
        omitted: items.len().saturating_sub(MAX_ITEMS),
        items: items.into_iter().take(MAX_ITEMS).collect(),
    }
}

fn owner_name(o: &Owner, path: &str) -> String {
    match o {
        Owner::Node(n) | Owner::Switch(n) => n.clone(),
        Owner::Site => path.to_string(),
    }
}

/// Evaluates `policy` on an unfiltered review.
pub fn evaluate(policy: &Policy, r: &Review, approved_by: &[String]) -> Verdict {
    let approved: BTreeSet<String> = approved_by
        .iter()
        .map(|a| normalize_name(a).to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let p = &policy.policy;
    let mut out = Vec::new();
    let s = &r.summary;

    // 1. Renumbered machines: on by default.
    let limit = p.max_renumbered_nodes.unwrap_or(0);
    if s.renumbered_nodes > limit {
        let n = s.renumbered_nodes;
        let mut items = crate::review::format::renumbered_lines(r);
        items.extend(crate::review::format::mac_move_lines(r));
        items.extend(r.renames.iter().filter(|x| x.renumbered > 0).map(|x| {
            let how = match (&x.from_lock, &x.to_lock) {
                (Some(a), Some(b)) if a != b => {
                    format!("move its lines from {a} to {b} with the owner renamed")
                }
                (Some(a), _) => format!("rename the owner in {a}"),
                _ => "rename the owner in siteconf.lock".to_string(),
            };
            format!(
                "{} is {} renamed (same {}): {how} to keep its values",
                x.to, x.from, x.same
            )
        }));
        let locks: Vec<&str> = r
            .renumbered_locks
            .iter()
            .map(|(b, _)| b.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let locks = if locks.is_empty() {
            "siteconf.lock".to_string()
        } else {
            locks.join(", ")
        };
        let reason = if r.renumbered.is_empty() {
            format!(
                "MAC addresses moved between {n} device(s): the machines swap management addresses and identities; the limit is {limit} (gate.max-renumbered-nodes). Restore each node's MACs unless the hardware was really swapped"
            )
        } else {
            let macs = if r.mac_moves.is_empty() {
                ""
            } else {
                " (and MAC addresses moved between devices)"
            };
            format!(
                "{} allocated value(s) of {n} device(s) change{macs}: deployed machines get new addresses, ASN or loopback; the limit is {limit} (gate.max-renumbered-nodes). To keep them, restore their lines from base's {locks}",
                s.allocations.renumbered
            )
        };
        out.push(finding(
            "renumbered".into(),
            reason,
            &p.approvers,
            &approved,
            items,
            n,
        ));
    }

    // Blast radius.
    let changed_nodes: Vec<String> = r.node_info.keys().cloned().collect();
    let affected = s.nodes.total();
    let node_list = || {
        let names: Vec<&str> = changed_nodes.iter().map(String::as_str).collect();
        compress_names(&names)
    };
    if let Some(limit) = p.max_nodes {
        if affected > limit {
            out.push(finding(
                "max-nodes".into(),
                format!(
                    "{affected} nodes change ({}); the limit is {limit}",
                    crate::review::format::counts(&s.nodes)
                ),
                &p.approvers,
                &approved,
                node_list(),
                affected,
            ));
        }
    }
    if let Some(limit) = p.max_nodes_percent {
        // A share of base's fleet: the running machines whose files change
        // or that are removed. Nodes added change no running machine, so
        // they do not count (adding a rack to a small site is not a
        // change to half of it); `max-nodes` counts them.
        let existing: Vec<&str> = r
            .node_presence
            .iter()
            .filter(|(_, st)| *st != Status::Added)
            .map(|(n, _)| n.as_str())
            .collect();
        let fleet = s.fleet.base_nodes;
        if fleet > 0 {
            let n = existing.len();
            let share = n as f64 * 100.0 / fleet as f64;
            if share > limit {
                out.push(finding(
                    "max-nodes-percent".into(),
                    format!(
                        "{n} of base's {fleet} nodes change or are removed ({share:.1}%); the limit is {limit}%"
                    ),
                    &p.approvers,
                    &approved,
                    compress_names(&existing),
                    n,
                ));
            }
        }
    }
    if let Some(limit) = p.max_nodes_per_rack {
        let mut by_rack: BTreeMap<&str, usize> = BTreeMap::new();
        for info in r.node_info.values() {
            *by_rack
                .entry(info.rack.as_deref().unwrap_or("(no rack)"))
                .or_default() += 1;
        }
        let over: Vec<String> = by_rack
            .iter()
            .filter(|(_, &n)| n > limit)
            .map(|(rack, n)| format!("{rack}: {n} nodes"))
            .collect();
        if !over.is_empty() {
            let n = over.len();
            out.push(finding(
                "max-nodes-per-rack".into(),
                format!("{n} rack(s) have more than {limit} changed nodes"),
                &p.approvers,
                &approved,
                over,
                n,
            ));
        }
    }
    if p.max_nodes_per_role.is_some() || !p.role_limits.is_empty() {
        let mut by_role: BTreeMap<&str, usize> = BTreeMap::new();
        for info in r.node_info.values() {
            *by_role
                .entry(info.role.as_deref().unwrap_or("(no role)"))
                .or_default() += 1;
        }
        let over: Vec<String> = by_role
            .iter()
            .filter_map(|(role, &n)| {
                let limit = p.role_limits.get(*role).copied().or(p.max_nodes_per_role)?;
                (n > limit).then(|| format!("{role}: {n} nodes (limit {limit})"))
            })
            .collect();
        if !over.is_empty() {
            let n = over.len();
            out.push(finding(
                "max-nodes-per-role".into(),
                format!("{n} role(s) have more changed nodes than their limit"),
                &p.approvers,
                &approved,
                over,
                n,
            ));
        }
    }
    if let Some(limit) = p.max_switches {
        let n = s.switches.total();
        if n > limit {
            out.push(finding(
                "max-switches".into(),
                format!("{n} switches change; the limit is {limit}"),
                &p.approvers,
                &approved,
                Vec::new(),
                n,
            ));
        }
    }

    // 2. Owners.
    for o in &policy.owners {
        let mut items: Vec<String> = r
            .inputs
            .iter()
            .filter(|i| o.paths.iter().any(|g| g.is_match(&i.path)))
            .map(|i| format!("{} ({})", i.path, i.status.as_str()))
            .collect();
        let inputs = items.len();
        items.extend(
            r.changes
                .iter()
                .filter(|c| o.artifacts.iter().any(|g| g.is_match(&c.path)))
                .map(|c| format!("{} ({})", c.path, c.status.as_str())),
        );
        if !items.is_empty() {
            let artifacts = items.len() - inputs;
            let mut what = Vec::new();
            if inputs > 0 {
                what.push(format!("{inputs} protected input file(s)"));
            }
            if artifacts > 0 {
                what.push(format!("{artifacts} protected artifact(s)"));
            }
            let n = items.len();
            out.push(finding(
                format!("owners: {}", o.name),
                format!("the change touches {}", what.join(" and ")),
                &o.owners,
                &approved,
                items,
                n,
            ));
        }
    }

    // 3. Rules.
    for cr in &policy.rules {
        let rule = &cr.rule;
        let name_ok = |n: &str| cr.nodes.is_empty() || cr.nodes.iter().any(|g| g.is_match(n));
        let role_ok = |n: &str| {
            rule.roles.is_empty()
                || r.node_info
                    .get(n)
                    .and_then(|i| i.role.as_deref())
                    .is_some_and(|role| rule.roles.iter().any(|x| x == role))
        };
        let items: Vec<String> = match rule.on {
            Event::ArtifactChanged | Event::ArtifactAdded | Event::ArtifactRemoved => {
                let want = match rule.on {
                    Event::ArtifactAdded => Some(Status::Added),
                    Event::ArtifactRemoved => Some(Status::Removed),
                    _ => None,
                };
                let owners: BTreeSet<String> = r
                    .changes
                    .iter()
                    .filter(|c| want.is_none_or(|w| c.status == w))
                    .filter(|c| rule.kinds.is_empty() || rule.kinds.contains(&c.kind))
                    .filter(|c| {
                        cr.artifacts.is_empty() || cr.artifacts.iter().any(|g| g.is_match(&c.path))
                    })
                    .map(|c| owner_name(&c.owner, &c.path))
                    .filter(|n| name_ok(n) && role_ok(n))
                    .collect();
                owners.into_iter().collect()
            }
            Event::BgpSessionAdded | Event::BgpSessionRemoved | Event::BgpSessionChanged => {
                let want = match rule.on {
                    Event::BgpSessionAdded => Status::Added,
                    Event::BgpSessionRemoved => Status::Removed,
                    _ => Status::Changed,
                };
                r.sessions
                    .iter()
                    .filter(|x| x.status == want)
                    .filter(|x| {
                        let s = &x.session;
                        (name_ok(&s.a) || name_ok(&s.b)) && (role_ok(&s.a) || role_ok(&s.b))
                    })
                    .map(|x| x.to_string())
                    .collect()
            }
            Event::NodeAdded | Event::NodeRemoved => {
                let want = if rule.on == Event::NodeAdded {
                    Status::Added
                } else {
                    Status::Removed
                };
                r.node_presence
                    .iter()
                    .filter(|(n, st)| *st == want && name_ok(n) && role_ok(n))
                    .map(|(n, _)| n.clone())
                    .collect()
            }
            Event::AllocationReleased => r
                .lock
                .iter()
                .filter(|l| matches!(l.change, LockChangeKind::Released | LockChangeKind::Dropped))
                .filter(|l| name_ok(l.owner_name()) && role_ok(l.owner_name()))
                .map(|l| format!("{} {} {} ({})", l.owner, l.key, l.value, l.change.as_str()))
                .collect(),
            // A group is no node: `nodes` and `roles` do not narrow it.
            Event::InventoryGroupRemoved => r
                .inventory_groups
                .iter()
                .filter(|g| g.change != "added")
                .map(|g| g.to_string())
                .collect(),
        };
        if items.len() > rule.more_than {
            let unit = match rule.on {
                Event::BgpSessionAdded | Event::BgpSessionRemoved | Event::BgpSessionChanged => {
                    "BGP session(s)"
                }
                Event::NodeAdded | Event::NodeRemoved => "node(s)",
                Event::AllocationReleased => "allocation(s)",
                Event::InventoryGroupRemoved => "inventory group(s)",
                _ => "device(s) or site file(s)",
            };
            let mut reason = format!("{}: {} {unit}", rule.on.as_str(), items.len());
            if !rule.kinds.is_empty() {
                let _ = write!(reason, " (kinds: {})", rule.kinds.join(", "));
            }
            if rule.more_than > 0 {
                let _ = write!(reason, ", more than {}", rule.more_than);
            }
            let n = items.len();
            out.push(finding(
                format!("rule: {}", rule.name),
                reason,
                &rule.approvers,
                &approved,
                items,
                n,
            ));
        }
    }
    Verdict {
        passed: out.iter().all(|f| !f.blocking),
        findings: out,
    }
}

/// The verdict for a terminal.
pub fn render_text(r: &Review, v: &Verdict, approved_by: &[String]) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let _ = writeln!(o, "siteconf gate: {} → {}", r.base_label, r.head_label);
    let _ = writeln!(
        o,
        "  nodes {} (fleet {}), switches {}, site files {}, bgp sessions {}, allocations {}",
        crate::review::format::counts(&s.nodes),
        s.fleet.base_nodes,
        crate::review::format::counts(&s.switches),
        crate::review::format::counts(&s.site_files),
        crate::review::format::counts(&s.bgp_sessions),
        crate::review::format::lock_counts(&s.allocations),
    );
    if !approved_by.is_empty() {
        let _ = writeln!(o, "  approved by: {}", approved_by.join(", "));
    }
    for n in &r.notes {
        let _ = writeln!(o, "note: {n}");
    }
    // What `check` finds on head: the gate does not block on it (CI's
    // `check --deny warnings` does), but a reviewer reads it here.
    let h = &r.head_check;
    if !h.findings.is_empty() {
        let _ = writeln!(o, "  check on head: {}", h.phrase());
        let (shown, more) =
            crate::review::format::head_findings_shown(h, false, "`siteconf check`");
        for f in shown {
            let _ = writeln!(o, "    {f}");
        }
        if let Some(more) = more {
            let _ = writeln!(o, "    {more}");
        }
    }
    for f in &v.findings {
        let tag = if f.blocking { "BLOCKED " } else { "APPROVED" };
        let _ = writeln!(o, "{tag} {}: {}", f.rule, f.reason);
        if f.blocking {
            if f.approvers.is_empty() && f.rule == "renumbered" {
                let _ = writeln!(
                    o,
                    "         nobody may approve this (no gate.approvers in base's policy): keep the values, or merge approvers or a higher gate.max-renumbered-nodes first"
                );
            } else if f.approvers.is_empty() {
                let _ = writeln!(
                    o,
                    "         nobody may approve this (no approvers in the policy): split the change"
                );
            } else {
                let _ = writeln!(
                    o,
                    "         needs approval from one of: {}",
                    f.approvers.join(", ")
                );
            }
        } else {
            let _ = writeln!(o, "         approved by {}", f.approved_by.join(", "));
        }
        if !f.items.is_empty() {
            let _ = write!(o, "         {}", f.items.join(", "));
            if f.omitted > 0 {
                let _ = write!(o, " … and {} more", f.omitted);
            }
            o.push('\n');
        }
    }
    let fired = v.findings.len();
    if v.passed {
        if fired == 0 {
            let _ = writeln!(o, "gate: passed (no rule fired)");
        } else {
            let _ = writeln!(o, "gate: passed ({fired} rule(s) fired, all approved)");
        }
    } else {
        let _ = writeln!(
            o,
            "gate: blocked ({} of {fired} fired rule(s) need approval)",
            v.blocking()
        );
    }
    o
}

/// The verdict for machines.
pub fn to_json(r: &Review, v: &Verdict, approved_by: &[String]) -> serde_json::Value {
    serde_json::json!({
        "passed": v.passed,
        "base": r.base_label,
        "head": r.head_label,
        "approved_by": approved_by,
        "findings": v.findings,
        "summary": r.summary,
        "head_check": r.head_check,
        "notes": r.notes,
    })
}
