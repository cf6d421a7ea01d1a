//! `siteconf explain`: a resolved node, every value with where it was set
//! and what it overrode. The paths are the ones provenance records
//! (`interfaces.eno1.mtu`, `addresses.mgmt.ipv4`, `vars.release` …).

use std::collections::BTreeMap;

use serde::Serialize;

use super::key::AllocKey;
use super::{Resolved, ResolvedNode};
use crate::model::*;
use crate::syntax::SourceMap;

#[derive(Debug, Serialize)]
pub struct Explained {
    pub node: String,
    pub declared_at: String,
    pub profiles: Vec<String>,
    pub values: Vec<ExplainedValue>,
    /// The vars of the inventory groups the node is in (its own groups,
    /// their parents, `all`): Ansible reads them under its host vars,
    /// which win.
    pub group_vars: Vec<GroupVar>,
}

/// One variable of a group the node is in.
#[derive(Debug, Serialize)]
pub struct GroupVar {
    pub path: String,
    pub value: String,
    pub group: String,
    pub set_at: Location,
    /// A host var (`vars` of the site defaults, a profile or the node)
    /// of the same name wins: this value never reaches the node.
    pub shadowed_by_host_var: bool,
    /// Another group of the node sets it and wins (Ansible: the deeper
    /// group, then the later name): that group.
    pub overridden_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExplainedValue {
    pub path: String,
    pub value: String,
    /// Set by an allocation in siteconf.lock (the request `auto` is in `set_at`).
    pub allocated: bool,
    /// Where the value in effect was set.
    pub set_at: Location,
    /// Earlier layers that set it and were overridden, oldest first.
    pub overrode: Vec<Location>,
}

#[derive(Debug, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub layer: String,
}

fn spec<T: std::fmt::Display>(s: &Option<Sp<AddrSpec<T>>>) -> Option<String> {
    s.as_ref().map(|x| match &x.value {
        AddrSpec::Fixed(v) => v.to_string(),
        AddrSpec::Auto => "auto".to_string(),
    })
}

/// The resolved settings as path → value, with the same paths as provenance.
pub fn flatten(st: &Settings) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: String, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k, v);
        }
    };
    for i in &st.interfaces {
        let b = format!("interfaces.{}", i.name.value);
        put(b.clone(), Some(String::new()));
        put(
            format!("{b}.kind"),
            i.kind.as_ref().map(|k| k.value.as_str().to_string()),
        );
        put(
            format!("{b}.mac"),
            i.mac.as_ref().map(|v| v.value.to_string()),
        );
        put(
            format!("{b}.switch"),
            i.switch.as_ref().map(|v| v.value.clone()),
        );
        put(
            format!("{b}.port"),
            i.port.as_ref().map(|v| v.value.clone()),
        );
        put(
            format!("{b}.mtu"),
            i.mtu.as_ref().map(|v| v.value.to_string()),
        );
        put(
            format!("{b}.mode"),
            i.bond_mode.as_ref().map(|v| v.value.clone()),
        );
        put(
            format!("{b}.link"),
            i.link.as_ref().map(|v| v.value.clone()),
        );
        put(
            format!("{b}.vlan"),
            i.vlan.as_ref().map(|v| v.value.to_string()),
        );
        if !i.members.is_empty() {
            put(
                format!("{b}.members"),
                Some(
                    i.members
                        .iter()
                        .map(|x| x.value.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            );
        }
    }
    for a in &st.addresses {
        let b = format!("addresses.{}", a.network.value);
        put(
            format!("{b}.interface"),
            a.interface.as_ref().map(|v| v.value.clone()),
        );
        put(format!("{b}.ipv4"), spec(&a.ipv4));
        put(format!("{b}.ipv6"), spec(&a.ipv6));
    }
    put(
        "boot-image".into(),
        st.boot_image.as_ref().map(|v| v.value.clone()),
    );
    if let Some(l) = &st.loopback {
        put("loopback.ipv4".into(), spec(&l.ipv4));
        put("loopback.ipv6".into(), spec(&l.ipv6));
    }
    if let Some(b) = &st.bgp {
        put("bgp.asn".into(), spec(&b.asn));
        for s in &b.sessions {
            let p = format!("bgp.sessions.{}", s.peer.value);
            put(p.clone(), Some(String::new()));
            put(
                format!("{p}.interface"),
                s.interface.as_ref().map(|v| v.value.clone()),
            );
            put(
                format!("{p}.peer-address"),
                s.peer_address.as_ref().map(|v| v.value.to_string()),
            );
            put(
                format!("{p}.local-address"),
                s.local_address.as_ref().map(|v| v.value.to_string()),
            );
            put(
                format!("{p}.remote-as"),
                s.remote_as.as_ref().map(|v| v.value.to_string()),
            );
        }
    }
    for g in &st.groups {
        put(format!("groups.{}", g.value), Some(String::new()));
    }
    for p in &st.packages {
        put(format!("packages.{}", p.value), Some(String::new()));
    }
    for r in &st.repos {
        put(
            format!("repos.{}", r.name.value),
            Some(
                r.uris
                    .iter()
                    .map(|u| u.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        );
    }
    for k in &st.ssh_keys {
        put(
            format!("ssh-keys.{}", k.name.value),
            Some(format!("user {}", k.user.value)),
        );
    }
    for o in &st.sshd {
        put(format!("sshd.{}", o.key.value), Some(o.value.value.clone()));
    }
    for (k, (v, _)) in &st.vars.entries {
        // A secret reference shows as `secret:NAME`: its value is never
        // known here, and the name is what a reader needs.
        put(format!("vars.{k}"), Some(shown(v)));
    }
    m
}

/// A var's value as `explain` shows it: a secret reference as its name.
fn shown(v: &serde_json::Value) -> String {
    match crate::model::secret_ref(v) {
        Some(name) => crate::model::secret_display(name),
        None => crate::model::map_secret_refs(v, &|name| {
            serde_json::Value::String(crate::model::secret_display(name))
        })
        .to_string(),
    }
}

/// The group vars the node gets (see [`GroupVar`]), for the paths under
/// `path`, ordered by path, then by Ansible's precedence (the one in
/// effect last).
fn group_vars(
    site: &Site,
    rn: &ResolvedNode,
    sources: &SourceMap,
    path: Option<&str>,
) -> Vec<GroupVar> {
    use crate::model::names::group_name;
    let node = &site.nodes[rn.index];
    // The node's groups, their parents to any depth, and `all`.
    let mine = super::effective::with_parent_groups(
        site,
        super::effective::node_groups(node, rn)
            .into_iter()
            .collect(),
    );
    // Ansible's depth: `all` 0, a group 1 + its deepest parent's.
    let parents = |g: &str| -> Vec<String> {
        site.groups
            .iter()
            .filter(|x| x.children.iter().any(|c| group_name(&c.value) == g))
            .map(|x| group_name(&x.name.value))
            .collect()
    };
    fn depth(g: &str, parents: &dyn Fn(&str) -> Vec<String>, seen: usize) -> usize {
        if g == "all" {
            return 0;
        }
        if seen > 16 {
            return 1;
        }
        1 + parents(g)
            .iter()
            .map(|p| depth(p, parents, seen + 1))
            .max()
            .unwrap_or(0)
    }
    // path → (depth, group, var) in precedence order.
    let mut by_path: BTreeMap<String, Vec<(usize, String, GroupVar)>> = BTreeMap::new();
    for g in &site.groups {
        let inv = group_name(&g.name.value);
        if !mine.contains(&inv) {
            continue;
        }
        for (k, (v, span)) in &g.vars.entries {
            let p = format!("vars.{k}");
            if let Some(want) = path {
                if p != want && !p.starts_with(&format!("{want}.")) {
                    continue;
                }
            }
            let var = GroupVar {
                path: p.clone(),
                value: shown(v),
                group: g.name.value.clone(),
                set_at: loc_at(sources, *span, format!("group `{}`", g.name.value)),
                shadowed_by_host_var: rn.settings.vars.entries.contains_key(k),
                overridden_by: None,
            };
            by_path
                .entry(p)
                .or_default()
                .push((depth(&inv, &parents, 0), inv.clone(), var));
        }
    }
    let mut out = Vec::new();
    for (_, mut vs) in by_path {
        vs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let winner = vs.last().map(|(_, _, v)| v.group.clone());
        let n = vs.len();
        for (i, (_, _, mut v)) in vs.into_iter().enumerate() {
            if i + 1 < n {
                v.overridden_by.clone_from(&winner);
            }
            out.push(v);
        }
    }
    out
}

fn loc(sources: &SourceMap, o: &super::Origin) -> Location {
    loc_at(sources, o.span, o.layer.to_string())
}

/// Where `span` is, set in `layer`.
fn loc_at(sources: &SourceMap, span: crate::syntax::Span, layer: String) -> Location {
    let (file, line, column) = match sources.get(span.file) {
        Some(f) => {
            let (l, c) = f.line_col(span.start);
            (f.path.clone(), l, c)
        }
        None => ("<built-in>".to_string(), 0, 0),
    };
    Location {
        file,
        line,
        column,
        layer,
    }
}

/// Every resolved value of a node (or only those under `path`).
pub fn explain(
    site: &Site,
    resolved: &Resolved,
    rn: &ResolvedNode,
    sources: &SourceMap,
    path: Option<&str>,
) -> Explained {
    let node = &site.nodes[rn.index];
    let name = &node.name.value;
    let flat = flatten(&rn.settings);
    let mut values = Vec::new();
    for (p, origins) in &rn.provenance {
        if let Some(want) = path {
            if p != want && !p.starts_with(&format!("{want}.")) {
                continue;
            }
        }
        let Some(last) = origins.last() else { continue };
        let Some(mut value) = flat.get(p).cloned() else {
            // Cleared by a later `reset`: nothing in effect to show.
            continue;
        };
        let mut allocated = false;
        if value == "auto" {
            let key = AllocKey::of_settings_path(p);
            if let Some(v) = key.and_then(|k| resolved.allocations.get(name, k)) {
                value = v.to_string();
                allocated = true;
            }
        }
        values.push(ExplainedValue {
            path: p.clone(),
            value,
            allocated,
            set_at: loc(sources, last),
            overrode: origins[..origins.len() - 1]
                .iter()
                .map(|o| loc(sources, o))
                .collect(),
        });
    }
    Explained {
        node: name.clone(),
        declared_at: sources.locate(node.span),
        profiles: rn.profiles.clone(),
        values,
        group_vars: group_vars(site, rn, sources, path),
    }
}

/// The valid paths closest to `want`, a path that has no value (at most
/// five, best first), for the hint of `siteconf explain NODE PATH`:
///
/// - the prefixes of as many parts as `want` that are spelled almost
///   the same (`addresses.mgt` → `addresses.mgmt`); a top-level section
///   is replaced by what is in it, one level down, so the hint names values
///   (`address` → `addresses.mgmt`, `addresses.data`), not a bare section;
/// - else the paths that end with `want` (`mtu` → `interfaces.eno1.mtu`).
///
/// `paths` are every path of the node (`explain` without a path), sorted.
pub fn closest_paths(paths: &[String], want: &str) -> Vec<String> {
    const MAX: usize = 5;
    let want = want.trim_matches('.');
    if want.is_empty() {
        return Vec::new();
    }
    let depth = want.split('.').count();
    let prefix = |p: &str, n: usize| -> Option<String> {
        let parts: Vec<&str> = p.split('.').collect();
        (parts.len() >= n).then(|| parts[..n].join("."))
    };
    // Distinct prefixes of `want`'s depth, scored by similarity.
    let mut scored: Vec<(f64, String)> = Vec::new();
    for p in paths {
        let Some(pre) = prefix(p, depth) else {
            continue;
        };
        if scored.iter().any(|(_, s)| *s == pre) {
            continue;
        }
        let score = strsim::jaro_winkler(want, &pre);
        if score > 0.8 {
            scored.push((score, pre));
        }
    }
    // Best first; equal scores in path order (deterministic).
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, pre) in scored {
        let under = format!("{pre}.");
        let mut children: Vec<String> = Vec::new();
        // A top-level section (`addresses`) holds no value of its own:
        // name what is in it. Deeper near-misses are named as they are.
        for p in paths.iter().filter(|p| depth == 1 && p.starts_with(&under)) {
            if let Some(c) = prefix(p, depth + 1) {
                if !children.contains(&c) {
                    children.push(c);
                }
            }
        }
        if children.is_empty() {
            children.push(pre);
        }
        for c in children {
            if out.len() < MAX && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    if out.is_empty() {
        let suffix = format!(".{want}");
        out = paths
            .iter()
            .filter(|p| p.ends_with(&suffix))
            .take(MAX)
            .cloned()
            .collect();
    }
    out
}

/// The human form.
pub fn to_text(e: &Explained) -> String {
    let mut out = format!("node {} (declared at {})\n", e.node, e.declared_at);
    if e.profiles.is_empty() {
        out.push_str("profiles: none\n");
    } else {
        out.push_str(&format!(
            "profiles (in merge order): {}\n",
            e.profiles.join(" → ")
        ));
    }
    for v in &e.values {
        let value = if v.value.is_empty() {
            String::new()
        } else if v.allocated {
            format!(" = {} (allocated, siteconf.lock)", v.value)
        } else {
            format!(" = {}", v.value)
        };
        out.push_str(&format!(
            "{}{}\n    set at {}:{}:{} ({})\n",
            v.path, value, v.set_at.file, v.set_at.line, v.set_at.column, v.set_at.layer
        ));
        for o in v.overrode.iter().rev() {
            out.push_str(&format!(
                "    overrode {}:{}:{} ({})\n",
                o.file, o.line, o.column, o.layer
            ));
        }
    }
    if !e.group_vars.is_empty() {
        out.push_str(
            "group vars (the host vars win over them; between groups, the deeper group wins, then the later name):\n",
        );
        for v in &e.group_vars {
            out.push_str(&format!(
                "{} = {} (group `{}`)\n    set at {}:{}:{} ({})\n",
                v.path,
                v.value,
                v.group,
                v.set_at.file,
                v.set_at.line,
                v.set_at.column,
                v.set_at.layer
            ));
            if v.shadowed_by_host_var {
                out.push_str(&format!(
                    "    shadowed by the host var `{}`: not in effect\n",
                    v.path
                ));
            } else if let Some(g) = &v.overridden_by {
                out.push_str(&format!("    overridden by group `{g}`: not in effect\n"));
            }
        }
    }
    out
}

/// The span of the merged value at a provenance path, for naming the layer
/// that set it (see `ResolvedNode::layer_of`).
pub fn span_at(st: &Settings, path: &str) -> Option<crate::syntax::Span> {
    let parts: Vec<&str> = path.split('.').collect();
    fn opt<T>(v: &Option<Sp<T>>) -> Option<crate::syntax::Span> {
        v.as_ref().map(|x| x.span)
    }
    match parts.as_slice() {
        ["interfaces", rest @ ..] if !rest.is_empty() => {
            // Interface names may contain dots (bond0.200): the field is the last part.
            let (name, field) = match st
                .interfaces
                .iter()
                .find(|i| i.name.value == rest.join("."))
            {
                Some(i) => (i, None),
                None => {
                    let name = rest[..rest.len() - 1].join(".");
                    (
                        st.interfaces.iter().find(|i| i.name.value == name)?,
                        rest.last().copied(),
                    )
                }
            };
            let i = name;
            match field {
                None => Some(i.name.span),
                Some("kind") => opt(&i.kind),
                Some("mac") => opt(&i.mac),
                Some("switch") => opt(&i.switch),
                Some("port") => opt(&i.port),
                Some("mtu") => opt(&i.mtu),
                Some("mode") => opt(&i.bond_mode),
                Some("link") => opt(&i.link),
                Some("vlan") => opt(&i.vlan),
                Some("members") => i.members.first().map(|m| m.span),
                _ => None,
            }
        }
        ["addresses", net, field] => {
            let a = st.addresses.iter().find(|a| a.network.value == *net)?;
            match *field {
                "interface" => opt(&a.interface),
                "ipv4" => opt(&a.ipv4),
                "ipv6" => opt(&a.ipv6),
                _ => None,
            }
        }
        ["loopback", field] => {
            let l = st.loopback.as_ref()?;
            match *field {
                "ipv4" => opt(&l.ipv4),
                "ipv6" => opt(&l.ipv6),
                _ => None,
            }
        }
        ["boot-image"] => opt(&st.boot_image),
        ["bgp", "asn"] => st.bgp.as_ref().and_then(|b| opt(&b.asn)),
        ["bgp", "sessions", rest @ ..] if !rest.is_empty() => {
            let b = st.bgp.as_ref()?;
            let field = *rest.last()?;
            let fields = ["interface", "peer-address", "local-address", "remote-as"];
            let (peer, field) = if rest.len() > 1 && fields.contains(&field) {
                (rest[..rest.len() - 1].join("."), Some(field))
            } else {
                (rest.join("."), None)
            };
            let s = b.sessions.iter().find(|s| s.peer.value == peer)?;
            match field {
                None => Some(s.peer.span),
                Some("interface") => opt(&s.interface),
                Some("peer-address") => opt(&s.peer_address),
                Some("local-address") => opt(&s.local_address),
                Some("remote-as") => opt(&s.remote_as),
                _ => None,
            }
        }
        _ => None,
    }
}
