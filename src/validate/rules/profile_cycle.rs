//! Rule `profile-cycle`: profiles that include each other in a cycle.
//!
//! **What it does.** Reports (SC0701) every cycle of `include`s once, as
//! "profile cycle: a → b → c → a", with a label on each `include` in the
//! cycle. The search is an iterative depth-first search, so a chain of
//! 10,000 includes costs a loop, not a stack overflow.
//!
//! **Why it matters.** A cycle has no order to merge in: which profile's
//! values win would depend on where resolution happened to start.
//! Resolution breaks the cycle silently; this rule says where it is.
//!
//! **Example.**
//! ```kdl
//! profile base    { include compute; }
//! profile compute { include base; }      // SC0701: profile cycle: base → compute → base
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "profile-cycle",
    codes: &[Code::ProfileCycle],
    check,
    resolved: false,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    OnPath,
    Done,
}

/// A cycle: the profiles in order, and the span of each include from one
/// to the next (the last one closing the cycle).
pub(super) type Cycle = Vec<(usize, Span)>;

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let profiles = &cx.site.profiles;
    // Edges by index; includes of unknown profiles are SC0205's business.
    let edges: Vec<Vec<(usize, Span)>> = profiles
        .iter()
        .map(|p| {
            p.includes
                .iter()
                .filter_map(|inc| cx.index.profiles.get(inc.as_str()).map(|&j| (j, inc.span)))
                .collect()
        })
        .collect();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for cycle in cycles(&edges) {
        // One report per cycle, however many back edges lead into it (an
        // include listed twice, or the same cycle met from two profiles).
        if !seen.insert(cycle.iter().map(|(p, _)| *p).collect()) {
            continue;
        }
        let names: Vec<&str> = cycle
            .iter()
            .map(|(p, _)| profiles[*p].name.as_str())
            .chain(std::iter::once(profiles[cycle[0].0].name.as_str()))
            .collect();
        let path = cycle_path(&names);
        let mut d = Diagnostic::error(Code::ProfileCycle, format!("profile cycle: {path}"));
        let last = cycle.len() - 1;
        for (k, (p, span)) in cycle.iter().enumerate() {
            let next = profiles[cycle[(k + 1) % cycle.len()].0].name.as_str();
            let msg = if k == last && last == 0 {
                format!("`{}` includes itself", profiles[*p].name.value)
            } else if k == last {
                format!(
                    "`{}` includes `{next}`, closing the cycle",
                    profiles[*p].name.value
                )
            } else {
                format!("`{}` includes `{next}`", profiles[*p].name.value)
            };
            d = d.label(*span, msg);
        }
        diags.push(d.help(
            "profiles are merged includes-first, so a cycle has no order to merge in; remove one of these includes",
        ));
    }
}

/// A cycle's names, the first repeated at the end, as `a → b → a`; a long
/// one shortened to its first and last five.
pub(super) fn cycle_path(names: &[&str]) -> String {
    if names.len() > 12 {
        format!(
            "{} → … ({} more) … → {}",
            names[..5].join(" → "),
            names.len() - 10,
            names[names.len() - 5..].join(" → ")
        )
    } else {
        names.join(" → ")
    }
}

/// Every cycle found through a back edge of an iterative DFS, each
/// rotated to start at its lowest index so that the same cycle found from
/// two places compares equal. `edges[i]` are the edges out of item `i`
/// (a profile's includes, a group's children), each with its span.
pub(super) fn cycles(edges: &[Vec<(usize, Span)>]) -> Vec<Cycle> {
    let n = edges.len();
    let mut mark = vec![Mark::New; n];
    // Where a profile sits on the current path, while it is on it.
    let mut depth = vec![usize::MAX; n];
    let mut out = Vec::new();
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // The current path: (profile, next edge to follow, span of the
        // include that was followed out of it).
        let mut path: Vec<(usize, usize, Span)> = vec![(root, 0, Span::BUILTIN)];
        mark[root] = Mark::OnPath;
        depth[root] = 0;
        while let Some(top) = path.last_mut() {
            let (p, next) = (top.0, top.1);
            if next == edges[p].len() {
                mark[p] = Mark::Done;
                depth[p] = usize::MAX;
                path.pop();
                continue;
            }
            top.1 += 1;
            let (q, span) = edges[p][next];
            top.2 = span;
            match mark[q] {
                Mark::New => {
                    mark[q] = Mark::OnPath;
                    depth[q] = path.len();
                    path.push((q, 0, Span::BUILTIN));
                }
                Mark::OnPath => {
                    let mut cycle: Cycle =
                        path[depth[q]..].iter().map(|&(p, _, s)| (p, s)).collect();
                    let start = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, (p, _))| *p)
                        .map(|(i, _)| i)
                        .unwrap_or(0);
                    cycle.rotate_left(start);
                    out.push(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    #[test]
    fn a_long_chain_does_not_overflow_and_a_long_cycle_is_reported_once() {
        let n = 10_000;
        let mut text =
            String::from("site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\n");
        for i in 0..n {
            text.push_str(&format!("profile p{i} {{ include p{}; }}\n", (i + 1) % n));
        }
        let d = check_kdl(&text);
        let cycles: Vec<_> = d.iter().filter(|d| d.code.as_str() == "SC0701").collect();
        assert_eq!(cycles.len(), 1, "{d:?}");
        assert_eq!(cycles[0].labels.len(), n);
        assert!(cycles[0].message.starts_with("profile cycle: p0 → p1 → "));
        assert!(cycles[0].message.ends_with("p9998 → p9999 → p0"));
    }

    #[test]
    fn a_long_chain_without_cycle_is_fine() {
        let n = 10_000;
        let mut text =
            String::from("site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\n");
        for i in 0..n - 1 {
            text.push_str(&format!("profile p{i} {{ include p{}; }}\n", i + 1));
        }
        text.push_str(&format!("profile p{} {{ groups deep; }}\n", n - 1));
        text.push_str(
            "rack r01 { height 42; }\nnode r01n01 { rack r01; position 1; profiles p0; }\n",
        );
        assert_eq!(super::super::testing::codes(&text), Vec::<&str>::new());
    }

    #[test]
    fn two_cycles_through_one_profile_are_two_reports() {
        let text = "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }
profile a { include b c; }
profile b { include a; }
profile c { include a a; }
";
        let d = check_kdl(text);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            ["profile cycle: a → b → a", "profile cycle: a → c → a"],
            "{d:?}"
        );
    }

    #[test]
    fn self_include() {
        let d = check_kdl("site dc1 { domain \"x.example\"; dns-servers \"10.0.0.2\"; }\nprofile a { include a; }\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].message, "profile cycle: a → a");
        assert_eq!(d[0].labels[0].message, "`a` includes itself");
    }
}
