//! Merging settings layers into one node, recording provenance.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::{Layer, Origin, Provenance, ResolvedNode};
use crate::model::*;
use crate::syntax::Span;

/// The layers of one node, in merge order: (layer name, settings).
fn layers<'a>(
    site: &'a Site,
    index: &SiteIndex,
    node: &'a Node,
) -> (Vec<(Layer, &'a Settings, Span)>, Vec<String>) {
    let mut out = Vec::new();
    if let Some(s) = &site.site {
        out.push((Layer::Defaults, &s.defaults, s.span));
    }
    let mut applied = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &node.profiles {
        push_profile(site, index, &p.value, &mut seen, &mut out, &mut applied);
    }
    out.push((
        Layer::Node(node.name.value.clone()),
        &node.settings,
        node.span,
    ));
    (out, applied)
}

/// Depth-first: includes first, then the profile. Unknown profiles and
/// cycles are skipped here; `validate` reports them. Iterative, with an
/// explicit stack, so that a long chain of includes cannot overflow the
/// thread's stack.
fn push_profile<'a>(
    site: &'a Site,
    index: &SiteIndex,
    name: &str,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<(Layer, &'a Settings, Span)>,
    applied: &mut Vec<String>,
) {
    if seen.contains(name) {
        return;
    }
    let Some(&root) = index.profiles.get(name) else {
        return;
    };
    // (profile, next include to follow); `on_path` breaks cycles.
    let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
    let mut on_path: BTreeSet<usize> = BTreeSet::from([root]);
    while let Some(top) = stack.last_mut() {
        let p = &site.profiles[top.0];
        if let Some(inc) = p.includes.get(top.1) {
            top.1 += 1;
            if seen.contains(&inc.value) {
                continue;
            }
            if let Some(&j) = index.profiles.get(&inc.value) {
                if on_path.insert(j) {
                    stack.push((j, 0));
                }
            }
            continue;
        }
        let done = top.0;
        stack.pop();
        on_path.remove(&done);
        seen.insert(p.name.value.clone());
        applied.push(p.name.value.clone());
        out.push((Layer::Profile(p.name.value.clone()), &p.settings, p.span));
    }
}

/// Records provenance, or nothing: `check` does not need it and it is the
/// largest part of resolution's memory, so only `explain` asks for it.
struct Rec<'p> {
    prov: Option<&'p mut Provenance>,
    layer: &'p Layer,
}

impl Rec<'_> {
    fn on(&self) -> bool {
        self.prov.is_some()
    }
    fn set(&mut self, path: impl FnOnce() -> String, span: Span) {
        if let Some(p) = self.prov.as_deref_mut() {
            p.entry(path()).or_default().push(Origin {
                span,
                layer: self.layer.clone(),
            });
        }
    }
}

macro_rules! take {
    ($rec:expr, $path:expr, $dst:expr, $src:expr) => {
        if let Some(v) = &$src {
            $rec.set(|| $path, v.span);
            $dst = Some(v.clone());
        }
    };
}

pub fn resolve_node(site: &Site, index: &SiteIndex, i: usize, provenance: bool) -> ResolvedNode {
    let node = &site.nodes[i];
    let (layers, profiles) = layers(site, index, node);
    let mut out = Settings::default();
    let mut prov = Provenance::new();
    for (layer, s, _) in &layers {
        let mut rec = Rec {
            prov: if provenance { Some(&mut prov) } else { None },
            layer,
        };
        merge_into(&mut out, s, &mut rec);
    }
    // Growth slack of the merged lists is most of resolution's memory on
    // large sites; the lists are final now.
    out.interfaces.shrink_to_fit();
    out.addresses.shrink_to_fit();
    out.groups.shrink_to_fit();
    out.packages.shrink_to_fit();
    out.repos.shrink_to_fit();
    out.ssh_keys.shrink_to_fit();
    out.sshd.shrink_to_fit();
    if let Some(b) = out.bgp.as_mut() {
        b.sessions.shrink_to_fit();
    }
    ResolvedNode {
        index: i,
        settings: out,
        provenance: prov,
        profiles,
        layers: layers.into_iter().map(|(n, _, span)| (n, span)).collect(),
    }
}

fn reset(out: &mut Settings, what: &str, rec: &mut Rec) {
    match what {
        "groups" => out.groups.clear(),
        "packages" => out.packages.clear(),
        "repo" => out.repos.clear(),
        "ssh-key" => out.ssh_keys.clear(),
        "sshd" => out.sshd.clear(),
        "vars" => out.vars.entries.clear(),
        "interface" => out.interfaces.clear(),
        "address" => out.addresses.clear(),
        _ => return,
    }
    // Provenance of cleared values stays: it explains what was overridden.
    let _ = rec;
}

fn merge_into(out: &mut Settings, s: &Settings, rec: &mut Rec) {
    for r in &s.reset {
        reset(out, &r.value, rec);
        rec.set(|| format!("reset.{}", r.value), r.span);
    }
    for i in &s.interfaces {
        let base = if rec.on() {
            format!("interfaces.{}", i.name.value)
        } else {
            String::new()
        };
        let dst = match out
            .interfaces
            .iter_mut()
            .find(|x| x.name.value == i.name.value)
        {
            Some(d) => d,
            None => {
                rec.set(|| base.clone(), i.name.span);
                out.interfaces.push(Interface {
                    name: i.name.clone(),
                    kind: None,
                    mac: None,
                    switch: None,
                    port: None,
                    mtu: None,
                    members: Vec::new(),
                    bond_mode: None,
                    link: None,
                    vlan: None,
                    mac_invalid: false,
                    kind_invalid: false,
                    mtu_invalid: false,
                    vlan_invalid: false,
                    span: i.span,
                });
                out.interfaces.last_mut().expect("just pushed")
            }
        };
        take!(rec, format!("{base}.kind"), dst.kind, i.kind);
        take!(rec, format!("{base}.mac"), dst.mac, i.mac);
        dst.mac_invalid |= i.mac_invalid;
        dst.kind_invalid |= i.kind_invalid;
        dst.mtu_invalid |= i.mtu_invalid;
        dst.vlan_invalid |= i.vlan_invalid;
        take!(rec, format!("{base}.switch"), dst.switch, i.switch);
        take!(rec, format!("{base}.port"), dst.port, i.port);
        take!(rec, format!("{base}.mtu"), dst.mtu, i.mtu);
        take!(rec, format!("{base}.mode"), dst.bond_mode, i.bond_mode);
        take!(rec, format!("{base}.link"), dst.link, i.link);
        take!(rec, format!("{base}.vlan"), dst.vlan, i.vlan);
        if !i.members.is_empty() {
            rec.set(|| format!("{base}.members"), i.members[0].span);
            dst.members = i.members.clone();
        }
    }
    for a in &s.addresses {
        let base = if rec.on() {
            format!("addresses.{}", a.network.value)
        } else {
            String::new()
        };
        let dst = match out
            .addresses
            .iter_mut()
            .find(|x| x.network.value == a.network.value)
        {
            Some(d) => d,
            None => {
                out.addresses.push(Address {
                    network: a.network.clone(),
                    interface: None,
                    ipv4: None,
                    ipv6: None,
                    span: a.span,
                });
                out.addresses.last_mut().expect("just pushed")
            }
        };
        take!(rec, format!("{base}.interface"), dst.interface, a.interface);
        take!(rec, format!("{base}.ipv4"), dst.ipv4, a.ipv4);
        take!(rec, format!("{base}.ipv6"), dst.ipv6, a.ipv6);
    }
    if let Some(l) = &s.loopback {
        let dst = out.loopback.get_or_insert(Loopback {
            ipv4: None,
            ipv6: None,
            span: l.span,
        });
        take!(rec, "loopback.ipv4".to_string(), dst.ipv4, l.ipv4);
        take!(rec, "loopback.ipv6".to_string(), dst.ipv6, l.ipv6);
    }
    if let Some(b) = &s.bgp {
        let dst = out.bgp.get_or_insert(Bgp {
            asn: None,
            asn_invalid: false,
            sessions: Vec::new(),
            span: b.span,
        });
        take!(rec, "bgp.asn".to_string(), dst.asn, b.asn);
        dst.asn_invalid |= b.asn_invalid;
        for sess in &b.sessions {
            let base = if rec.on() {
                format!("bgp.sessions.{}", sess.peer.value)
            } else {
                String::new()
            };
            let d = match dst
                .sessions
                .iter_mut()
                .find(|x| x.peer.value == sess.peer.value)
            {
                Some(d) => d,
                None => {
                    rec.set(|| base.clone(), sess.peer.span);
                    dst.sessions.push(BgpSession {
                        peer: sess.peer.clone(),
                        interface: None,
                        peer_address: None,
                        local_address: None,
                        remote_as: None,
                        span: sess.span,
                    });
                    dst.sessions.last_mut().expect("just pushed")
                }
            };
            take!(
                rec,
                format!("{base}.interface"),
                d.interface,
                sess.interface
            );
            take!(
                rec,
                format!("{base}.peer-address"),
                d.peer_address,
                sess.peer_address
            );
            take!(
                rec,
                format!("{base}.local-address"),
                d.local_address,
                sess.local_address
            );
            take!(
                rec,
                format!("{base}.remote-as"),
                d.remote_as,
                sess.remote_as
            );
        }
    }
    take!(rec, "boot-image".to_string(), out.boot_image, s.boot_image);
    for g in &s.groups {
        if !out.groups.iter().any(|x| x.value == g.value) {
            rec.set(|| format!("groups.{}", g.value), g.span);
            out.groups.push(g.clone());
        }
    }
    for p in &s.packages {
        if !out.packages.iter().any(|x| x.value == p.value) {
            rec.set(|| format!("packages.{}", p.value), p.span);
            out.packages.push(p.clone());
        }
    }
    for r in &s.repos {
        rec.set(|| format!("repos.{}", r.name.value), r.span);
        match out.repos.iter_mut().find(|x| x.name.value == r.name.value) {
            Some(d) => *d = r.clone(),
            None => out.repos.push(r.clone()),
        }
    }
    for k in &s.ssh_keys {
        rec.set(|| format!("ssh-keys.{}", k.name.value), k.span);
        match out
            .ssh_keys
            .iter_mut()
            .find(|x| x.name.value == k.name.value)
        {
            Some(d) => *d = k.clone(),
            None => out.ssh_keys.push(k.clone()),
        }
    }
    for o in &s.sshd {
        rec.set(|| format!("sshd.{}", o.key.value), o.key.span);
        // A later layer's keyword replaces an earlier one in any spelling
        // (`PermitRootLogin` in a node over a profile's
        // `permit-root-login`): the drop-in holds each keyword once.
        let same = |x: &&mut crate::model::SshdOption| {
            crate::model::names::same_sshd_keyword(&x.key.value, &o.key.value)
        };
        match out.sshd.iter_mut().find(same) {
            Some(d) => *d = o.clone(),
            None => out.sshd.push(o.clone()),
        }
    }
    for (k, (v, span)) in &s.vars.entries {
        rec.set(|| format!("vars.{k}"), *span);
        match out.vars.entries.get_mut(k) {
            Some((old, old_span)) => {
                deep_merge(old, v);
                *old_span = *span;
            }
            None => {
                out.vars.entries.insert(k.clone(), (v.clone(), *span));
            }
        }
    }
}

/// Maps merge by key, recursively; anything else replaces. A secret
/// reference is one value, not a map: it replaces and is replaced whole.
fn deep_merge(dst: &mut Json, src: &Json) {
    let is_ref = crate::model::secret_ref(dst).is_some() || crate::model::secret_ref(src).is_some();
    match (dst, src) {
        (Json::Object(d), Json::Object(s)) if !is_ref => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(x) => deep_merge(x, v),
                    None => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}
