//! Rule `duplicate-names`: two entities of one kind with the same name.
//!
//! **What it does.** Reports (SC0101) a rack, switch, node, network,
//! profile, group or BGP peer declared twice; a node and a switch with the
//! same host name; two host names, racks, networks, groups, BGP peers or
//! repos (in one block) that differ only in letter case; and an
//! interface, address, BGP session, repo, SSH key or switch link declared
//! twice inside one block. Both places are shown.
//!
//! **Why it matters.** Names are identities: the Ansible inventory, DNS
//! zones and output directories are keyed by them, and the second
//! declaration would silently win or collide. DNS is case-insensitive, so
//! `R01N01` and `r01n01` are one name on the wire. Two `interface eno1`
//! blocks in one node merge field by field, so the second's MAC silently
//! replaces the first's.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { rack r01; position 3; }
//! node r01n01 { rack r01; position 5; }   // SC0101
//! switch r01n01 { rack r01; position 42; ports "swp1-48"; }   // SC0101
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use super::super::{Ctx, Rule};
use super::{layers, FxMap, Order};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "duplicate-names",
    codes: &[Code::DuplicateName],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    same_kind(diags, "rack", &site.racks, |x| &x.name);
    same_kind(diags, "network", &site.networks, |x| &x.name);
    same_kind(diags, "profile", &site.profiles, |x| &x.name);
    same_kind(diags, "group", &site.groups, |x| &x.name);
    same_kind(diags, "bgp-peer", &site.bgp_peers, |x| &x.name);
    // Names that become file names (racks/R01.svg, group_vars/Fleet.yml,
    // dns zones by network, per-peer files) must differ in more than case.
    case_only(diags, "rack", &site.racks, |x| &x.name);
    case_only(diags, "network", &site.networks, |x| &x.name);
    case_only(diags, "group", &site.groups, |x| &x.name);
    case_only(diags, "bgp-peer", &site.bgp_peers, |x| &x.name);
    hosts(cx, diags);
    for (what, s) in layers(site) {
        same_key(diags, "interface", &what, &s.interfaces, |x| &x.name);
        same_key(diags, "address", &what, &s.addresses, |x| &x.network);
        same_key(diags, "repo", &what, &s.repos, |x| &x.name);
        same_key(diags, "ssh-key", &what, &s.ssh_keys, |x| &x.name);
        case_only(diags, "repo", &s.repos, |x| &x.name);
        if let Some(b) = &s.bgp {
            same_key(diags, "BGP session", &what, &b.sessions, |x| &x.peer);
        }
    }
    for sw in &site.switches {
        let what = format_args!("switch `{}`", sw.name.value);
        same_key(diags, "link", &what, &sw.links, |x| &x.port);
    }
}

/// Names in declaration order; every repeat is reported against the first.
/// The lists inside one block are short (a node's interfaces), so they are
/// compared pairwise without allocating; long lists (all racks) go
/// through a map.
fn repeats<'a, T>(
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a Sp<String>,
) -> Vec<(Span, Span, &'a str)> {
    let mut out = Vec::new();
    if items.len() <= 16 {
        for (i, a) in items.iter().enumerate() {
            let a = name(a);
            if let Some(f) = items[..i].iter().map(&name).find(|f| f.value == a.value) {
                out.push((a.span, f.span, a.as_str()));
            }
        }
        return out;
    }
    let mut first: HashMap<&str, Span> = HashMap::with_capacity(items.len());
    for n in items.iter().map(name) {
        match first.get(n.as_str()) {
            Some(&f) => out.push((n.span, f, n.as_str())),
            None => {
                first.insert(n.as_str(), n.span);
            }
        }
    }
    out
}

fn same_kind<'a, T>(
    diags: &mut Diagnostics,
    kind: &str,
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a Sp<String>,
) {
    for (again, first, name) in repeats(items, name) {
        diags.push(
            Diagnostic::error(Code::DuplicateName, format!("{kind} `{name}` is declared twice"))
                .label(again, "declared again here")
                .label(first, "first declared here")
                .help(format!(
                    "a {kind} name is its identity (inventory, DNS, output paths); rename one of them or merge the two blocks"
                )),
        );
    }
}

/// Two names of one kind that differ only in letter case: one file on a
/// case-insensitive filesystem (and one name to DNS and most people).
fn case_only<'a, T>(
    diags: &mut Diagnostics,
    kind: &str,
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a Sp<String>,
) {
    let mut first: HashMap<String, &Sp<String>> = HashMap::new();
    for n in items.iter().map(name) {
        let key = n.value.to_lowercase();
        match first.get(&key) {
            Some(f) if f.value != n.value => diags.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!(
                        "{kind} `{}` differs from {kind} `{}` only in letter case",
                        n.value, f.value
                    ),
                )
                .label(n.span, "declared here")
                .label(f.span, "the other one")
                .help(format!(
                    "a {kind} name becomes a file name, and on a case-insensitive filesystem (macOS, Windows) the two would be one file; rename one of them"
                )),
            ),
            Some(_) => {}
            None => {
                first.insert(key, n);
            }
        }
    }
}

fn same_key<'a, T>(
    diags: &mut Diagnostics,
    kind: &str,
    within: &dyn std::fmt::Display,
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a Sp<String>,
) {
    for (again, first, name) in repeats(items, name) {
        diags.push(
            Diagnostic::error(
                Code::DuplicateName,
                format!("{kind} `{name}` is declared twice in {within}"),
            )
            .label(again, "declared again here")
            .label(first, "first declared here")
            .help("the two blocks would merge field by field and the second would silently win; keep one block"),
        );
    }
}

/// Nodes and switches share one namespace of host names, compared without
/// case because DNS is case-insensitive.
fn hosts(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let mut all: Vec<(&'static str, &Sp<String>)> = site
        .switches
        .iter()
        .map(|s| ("switch", &s.name))
        .chain(site.nodes.iter().map(|n| ("node", &n.name)))
        .collect();
    let order = Order::new(cx);
    all.sort_by_cached_key(|(_, n)| order.key(n.span));
    let mut first: FxMap<Cow<str>, (&'static str, &Sp<String>)> = FxMap::default();
    first.reserve(all.len());
    for (kind, name) in all {
        // Host names are mostly lower case already; copy only the others.
        let key = if name.value.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.value.to_ascii_lowercase())
        } else {
            Cow::Borrowed(name.as_str())
        };
        let Some(&(fkind, fname)) = first.get(&key) else {
            first.insert(key, (kind, name));
            continue;
        };
        let d = if fkind == kind && fname.value == name.value {
            Diagnostic::error(
                Code::DuplicateName,
                format!("{kind} `{}` is declared twice", name.value),
            )
            .label(name.span, "declared again here")
            .label(fname.span, "first declared here")
            .help("a host name is its identity (inventory, DNS, output paths); rename one of them or merge the two blocks")
        } else if fname.value == name.value {
            Diagnostic::error(
                Code::DuplicateName,
                format!("`{}` is the name of both a {fkind} and a {kind}", name.value),
            )
            .label(name.span, format!("{kind} declared here"))
            .label(fname.span, format!("{fkind} first declared here"))
            .help("nodes and switches share one namespace of host names (DNS, inventory, output directories); rename one of them")
        } else {
            Diagnostic::error(
                Code::DuplicateName,
                format!(
                    "{kind} `{}` and {fkind} `{}` differ only in letter case",
                    name.value, fname.value
                ),
            )
            .label(name.span, "declared again here")
            .label(fname.span, "first declared here")
            .help("DNS names are case-insensitive, so both would get the same FQDN; use lower case and rename one of them")
        };
        diags.push(d);
    }
}
