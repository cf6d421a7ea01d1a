//! BGP sessions whose ends keep their names but not their own AS: a
//! switch or node whose `asn` changes resets every session it has, and an
//! external peer, configured for the old AS, refuses the new one (the
//! site loses that exit). The site's sessions are the same on both sides,
//! so without this the review would say "bgp sessions none".

use serde::Serialize;

use super::facts::{Facts, Session};
use super::{Filter, SessionChange};
use crate::output::diff::Status;
use crate::output::Owner;

/// One end of a session whose own AS changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsChange {
    pub device: String,
    pub old: u32,
    pub new: u32,
}

/// `; r01-tor1's AS 4201000011 → 4201000081` for each end that changes,
/// inside one pair of parentheses.
pub(super) fn fmt_local_as(
    f: &mut std::fmt::Formatter<'_>,
    changes: &[AsChange],
) -> std::fmt::Result {
    if changes.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = changes
        .iter()
        .map(|c| format!("{}'s AS {} → {}", c.device, c.old, c.new))
        .collect();
    write!(f, " ({})", parts.join(", "))
}

/// The ends of `s` whose own AS differs between the sides.
fn changed_ends(s: &Session, base: &Facts, head: &Facts) -> Vec<AsChange> {
    [&s.a, &s.b]
        .into_iter()
        .filter_map(|d| match (base.asn_of(d), head.asn_of(d)) {
            (Some(old), Some(new)) if old != new => Some(AsChange {
                device: d.clone(),
                old,
                new,
            }),
            _ => None,
        })
        .collect()
}

/// Adds every session on both sides whose end's own AS changes as a
/// changed session (and notes the change on sessions already changed),
/// then orders the list external peers first: the sessions the site's
/// exits depend on are what a reviewer must see, and what the gate lists
/// first.
pub(super) fn local_as(out: &mut Vec<SessionChange>, base: &Facts, head: &Facts, filter: &Filter) {
    for x in out.iter_mut().filter(|x| x.status == Status::Changed) {
        x.local_as = changed_ends(&x.session, base, head);
    }
    let shown = |s: &Session| {
        filter.is_empty()
            || (filter.kinds.is_empty()
                && [&s.a, &s.b].iter().any(|name| {
                    let owner = if head.switches.contains_key(name.as_str()) {
                        Owner::Switch(name.to_string())
                    } else {
                        Owner::Node(name.to_string())
                    };
                    filter.device_matches(&owner, head.node_role(name))
                }))
    };
    let moved: std::collections::BTreeSet<&str> =
        base.nodes
            .iter()
            .filter_map(|(n, f)| (head.nodes.get(n).map(|h| h.asn) != Some(f.asn)).then_some(n))
            .chain(base.switches.iter().filter_map(|(n, f)| {
                (head.switches.get(n).map(|h| h.asn) != Some(f.asn)).then_some(n)
            }))
            .map(String::as_str)
            .collect();
    if !moved.is_empty() {
        for s in base.sessions.intersection(&head.sessions) {
            if !(moved.contains(s.a.as_str()) || moved.contains(s.b.as_str())) || !shown(s) {
                continue;
            }
            let local_as = changed_ends(s, base, head);
            if !local_as.is_empty() {
                out.push(SessionChange {
                    session: s.clone(),
                    status: Status::Changed,
                    old_remote_as: None,
                    local_as,
                });
            }
        }
    }
    out.sort_by(|x, y| {
        (x.session.remote_as.is_none(), &x.session, x.status).cmp(&(
            y.session.remote_as.is_none(),
            &y.session,
            y.status,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::facts::{NodeFacts, SwitchFacts};

    fn facts(node_as: u32, tor_as: u32) -> Facts {
        let mut f = Facts::default();
        f.nodes.insert(
            "n1".into(),
            NodeFacts {
                asn: Some(node_as),
                ..NodeFacts::default()
            },
        );
        f.switches.insert(
            "tor1".into(),
            SwitchFacts {
                asn: Some(tor_as),
                ..SwitchFacts::default()
            },
        );
        for (a, b, via, remote_as) in [
            ("n1", "tor1", "eno1", None),
            ("transit", "tor1", "192.0.2.1", Some(64496)),
        ] {
            f.sessions.insert(Session {
                a: a.into(),
                b: b.into(),
                via: via.into(),
                remote_as,
            });
        }
        f
    }

    #[test]
    fn a_nodes_own_as_changes_its_sessions_only() {
        let mut out = Vec::new();
        local_as(&mut out, &facts(1, 10), &facts(2, 10), &Filter::default());
        let lines: Vec<String> = out.iter().map(|x| x.to_string()).collect();
        assert_eq!(lines, ["n1 ↔ tor1 over eno1 (n1's AS 1 → 2)"]);
        assert_eq!(out[0].status, Status::Changed);
    }

    #[test]
    fn a_switchs_own_as_changes_every_session_external_first() {
        let mut out = Vec::new();
        local_as(&mut out, &facts(1, 10), &facts(1, 11), &Filter::default());
        let lines: Vec<String> = out.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            lines,
            [
                "transit ↔ tor1 over 192.0.2.1 (AS 64496) (tor1's AS 10 → 11)",
                "n1 ↔ tor1 over eno1 (tor1's AS 10 → 11)",
            ]
        );
    }
}
