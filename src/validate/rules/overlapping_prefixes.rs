//! Rule `overlapping-prefixes`: two networks whose prefixes overlap.
//!
//! **What it does.** Reports (SC0106) a network whose IPv4 or IPv6 prefix
//! overlaps another network's, showing both prefixes. Prefixes are sorted
//! and swept once, so a site with many networks is checked in
//! O(n log n).
//!
//! **Why it matters.** An address inside both prefixes belongs to either
//! network: routes, DHCP scopes and reverse DNS zones would be ambiguous
//! and allocation could hand the same address out twice.
//!
//! **Example.**
//! ```kdl
//! network mgmt    { purpose management; ipv4 "10.0.0.0/22"; }
//! network storage { purpose storage;    ipv4 "10.0.2.0/24"; }   // SC0106: inside 10.0.0.0/22
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::loc;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "overlapping-prefixes",
    codes: &[Code::DuplicatePrefix],
    check,
    resolved: false,
};

/// One prefix as an inclusive range of integers.
struct Prefix<'a> {
    first: u128,
    last: u128,
    text: String,
    network: &'a str,
    span: Span,
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for n in &cx.site.networks {
        if let Some(p) = &n.ipv4 {
            v4.push(Prefix {
                first: u32::from(p.network()) as u128,
                last: u32::from(p.broadcast()) as u128,
                text: p.value.to_string(),
                network: n.name.as_str(),
                span: p.span,
            });
        }
        if let Some(p) = &n.ipv6 {
            v6.push(Prefix {
                first: u128::from(p.network()),
                last: u128::from(p.broadcast()),
                text: p.value.to_string(),
                network: n.name.as_str(),
                span: p.span,
            });
        }
    }
    sweep(cx, v4, diags);
    sweep(cx, v6, diags);
}

/// CIDR prefixes either nest or are disjoint. Sorted by start (widest
/// first), a stack of enclosing prefixes tells for each prefix the tightest
/// one it lies in; each overlap is reported once, against that one. The
/// later declaration of the two leads (it is the one that moved in); when
/// that is the wider prefix, everything it swallowed is reported in one
/// diagnostic, so adding `10.0.0.0/8` to a site of 200 networks is one
/// finding, not 200.
fn sweep(cx: &Ctx, mut list: Vec<Prefix>, diags: &mut Diagnostics) {
    list.sort_by(|a, b| {
        (a.first, std::cmp::Reverse(a.last), loc(cx, a.span)).cmp(&(
            b.first,
            std::cmp::Reverse(b.last),
            loc(cx, b.span),
        ))
    });
    // Wider prefix (index) → the earlier prefixes it contains.
    let mut swallowed: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut stack: Vec<usize> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        while stack.last().is_some_and(|&top| list[top].last < p.first) {
            stack.pop();
        }
        if let Some(&o) = stack.last() {
            let outer = &list[o];
            let same = p.first == outer.first && p.last == outer.last;
            if !same && loc(cx, outer.span) > loc(cx, p.span) {
                swallowed.entry(o).or_default().push(i);
            } else {
                let (again, first) = if loc(cx, p.span) > loc(cx, outer.span) {
                    (p, outer)
                } else {
                    (outer, p)
                };
                let how = if same {
                    "is the same prefix as"
                } else {
                    "lies inside"
                };
                diags.push(
                    Diagnostic::error(
                        Code::DuplicatePrefix,
                        format!(
                            "prefix {} of network `{}` {how} {} of network `{}`",
                            again.text, again.network, first.text, first.network
                        ),
                    )
                    .label(again.span, "overlaps here")
                    .label(first.span, format!("`{}` declared here", first.network))
                    .help(HELP),
                );
            }
        }
        stack.push(i);
    }
    for (o, inner) in swallowed {
        let outer = &list[o];
        let names: Vec<String> = inner
            .iter()
            .map(|&i| format!("{} of `{}`", list[i].text, list[i].network))
            .collect();
        let what = if names.len() == 1 {
            names[0].clone()
        } else {
            let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            match names.len() {
                n if n > 5 => format!("{n} prefixes: {shown} and {} more", n - 5),
                n => format!("{n} prefixes: {shown}"),
            }
        };
        let mut d = Diagnostic::error(
            Code::DuplicatePrefix,
            format!(
                "prefix {} of network `{}` contains {what}",
                outer.text, outer.network
            ),
        )
        .label(outer.span, "overlaps here");
        for &i in &inner {
            d = d.label(list[i].span, format!("`{}` declared here", list[i].network));
        }
        diags.push(d.help(HELP));
    }
}

const HELP: &str =
    "an address must belong to one network only; give the networks disjoint prefixes";
