//! Rule `duplicate-names`: two entities of one kind with the same name.
//!
//! **What it does.** Reports (SC0101) a rack, switch, node, network,
//! profile, group or BGP peer declared twice; a node and a switch with the
//! same host name; two host names that differ only in letter case; and an
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

use std::collections::HashMap;

use super::super::{Ctx, Rule};
use super::{layers, loc};
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
    same_kind(diags, "rack", site.racks.iter().map(|x| &x.name));
    same_kind(diags, "network", site.networks.iter().map(|x| &x.name));
    same_kind(diags, "profile", site.profiles.iter().map(|x| &x.name));
    same_kind(diags, "group", site.groups.iter().map(|x| &x.name));
    same_kind(diags, "bgp-peer", site.bgp_peers.iter().map(|x| &x.name));
    hosts(cx, diags);
    for (what, s) in layers(site) {
        let w = what.as_str();
        same_key(diags, "interface", w, s.interfaces.iter().map(|x| &x.name));
        same_key(diags, "address", w, s.addresses.iter().map(|x| &x.network));
        same_key(diags, "repo", w, s.repos.iter().map(|x| &x.name));
        same_key(diags, "ssh-key", w, s.ssh_keys.iter().map(|x| &x.name));
        if let Some(b) = &s.bgp {
            same_key(diags, "BGP session", w, b.sessions.iter().map(|x| &x.peer));
        }
    }
    for sw in &site.switches {
        let w = format!("switch `{}`", sw.name.value);
        same_key(diags, "link", &w, sw.links.iter().map(|x| &x.port));
    }
}

/// Names in declaration order; every repeat is reported against the first.
fn repeats<'a>(names: impl Iterator<Item = &'a Sp<String>>) -> Vec<(Span, Span, &'a str)> {
    let mut first: HashMap<&str, Span> = HashMap::new();
    let mut out = Vec::new();
    for n in names {
        match first.get(n.as_str()) {
            Some(&f) => out.push((n.span, f, n.as_str())),
            None => {
                first.insert(n.as_str(), n.span);
            }
        }
    }
    out
}

fn same_kind<'a>(diags: &mut Diagnostics, kind: &str, names: impl Iterator<Item = &'a Sp<String>>) {
    for (again, first, name) in repeats(names) {
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

fn same_key<'a>(
    diags: &mut Diagnostics,
    kind: &str,
    within: &str,
    names: impl Iterator<Item = &'a Sp<String>>,
) {
    for (again, first, name) in repeats(names) {
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
    all.sort_by_key(|(_, n)| loc(cx, n.span));
    let mut first: HashMap<String, (&'static str, &Sp<String>)> = HashMap::with_capacity(all.len());
    for (kind, name) in all {
        let key = name.value.to_ascii_lowercase();
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
            .help(format!(
                "a host name is its identity (inventory, DNS, output paths); rename one of them or merge the two blocks"
            ))
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
