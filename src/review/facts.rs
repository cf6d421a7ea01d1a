//! Facts about one compiled side that the review needs besides the
//! artifacts: each node's role and rack (for `--role`, and the gate's
//! per-rack and per-role limits), each device's own identifiers (to
//! recognise the same change on many nodes), and every BGP session (to say
//! which sessions a change removes).
//!
//! Collected from the resolved model, not from rendered text, so they do
//! not depend on what the templates print.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::resolve::effective::{fqdn, EffNode, EffSite};
use crate::resolve::IpFamily;

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub nodes: BTreeMap<String, NodeFacts>,
    pub switches: BTreeMap<String, SwitchFacts>,
    pub sessions: BTreeSet<Session>,
    /// Every Ansible inventory group and its member hosts (device names):
    /// the nodes' groups (declared, `role_`, `rack_`, `profile_`), the
    /// switches' (`switches`, `role_`, `rack_`) and every declared group.
    /// Playbooks target these names; a renamed group matches no host.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct NodeFacts {
    pub role: Option<String>,
    pub rack: Option<String>,
    pub idents: Idents,
    /// The owner of its lines in the lock (`node/r01n01`; in a project of
    /// several sites prefixed with the site's lock file).
    pub lock_owner: String,
    /// Its interfaces' MAC addresses (lowercase) and its serial number:
    /// what identifies the machine whatever its name (a node removed and
    /// one added that share one is a rename, see `Review::renames`).
    pub macs: Vec<String>,
    pub serial: Option<String>,
    /// Its own AS: when it changes, every BGP session of the node resets.
    pub asn: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct SwitchFacts {
    pub rack: Option<String>,
    pub idents: Idents,
    /// Its own AS: when it changes, every session of the switch resets
    /// and its external peers, configured for the old AS, refuse it.
    pub asn: Option<u32>,
}

/// A BGP session as the site declares it. `a` is the node or external peer
/// that declares it, `b` the switch it ends on, `via` the interface or
/// address it runs over. A session between two switches is listed once,
/// whichever end declares it: `a` and `b` in name order, `via` both ports
/// (`swp49 / swp50`: `a`'s, then `b`'s).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Session {
    pub a: String,
    pub b: String,
    pub via: String,
    /// An external peer's ASN (`remote-as` on the switches): a session to
    /// a peer whose ASN changes is reset, and a wrong one never comes up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_as: Option<u32>,
}

impl Session {
    /// `a ↔ b over via`, without the ASN.
    pub fn ends(&self) -> String {
        format!("{} ↔ {} over {}", self.a, self.b, self.via)
    }
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.ends())?;
        if let Some(asn) = self.remote_as {
            write!(f, " (AS {asn})")?;
        }
        Ok(())
    }
}

/// One device's own identifiers and the placeholder each stands for:
/// `r01n01` → `<node>`, `10.0.1.5` → `<ipv4:mgmt>`. Kept longest first so
/// that an FQDN is replaced before the host name inside it.
#[derive(Debug, Clone, Default)]
pub struct Idents {
    pairs: Vec<(String, String)>,
    /// Bitmap of first bytes of the identifiers: most positions in a line
    /// can be skipped without comparing strings.
    first: [u64; 4],
}

/// Identifiers shorter than this are not replaced: a 2-character value
/// such as rack unit `12` would match unrelated numbers.
const MIN_IDENT_LEN: usize = 3;

impl Idents {
    fn push(&mut self, value: impl Into<String>, placeholder: impl Into<String>) {
        let value = value.into();
        if value.len() < MIN_IDENT_LEN {
            return;
        }
        if self.pairs.iter().any(|(v, _)| *v == value) {
            return;
        }
        let b = value.as_bytes()[0];
        self.first[usize::from(b >> 6)] |= 1 << (b & 63);
        self.pairs.push((value, placeholder.into()));
    }

    fn finish(mut self) -> Idents {
        self.pairs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The identifiers a site-wide file about this device may be named
    /// after: its name, FQDN and MACs (`host_vars/<fqdn>.yml`,
    /// `boot/ipxe/<mac with hyphens>.ipxe`).
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(|(_, p)| {
                matches!(p.as_str(), "<node>" | "<switch>" | "<fqdn>") || p.starts_with("<mac:")
            })
            .map(|(v, _)| v.as_str())
    }

    /// Replaces every whole-token occurrence of an identifier with its
    /// placeholder. A token boundary is anything but an ASCII letter or
    /// digit, so `10.0.0.5` is found in `10.0.0.5/24` but not in
    /// `10.0.0.50`, and `r01n01` in `r01n01.dc1` but not in `r01n010`. One
    /// pass, left to right: a placeholder is never matched again.
    pub fn normalize<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.pairs.is_empty() {
            return Cow::Borrowed(s);
        }
        let bytes = s.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0; // bytes of `s` already in `out`
        let mut i = 0;
        while i < bytes.len() {
            let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            let b = bytes[i];
            if at_boundary && self.first[usize::from(b >> 6)] & (1 << (b & 63)) != 0 {
                let rest = &s[i..];
                let hit = self.pairs.iter().find(|(v, _)| {
                    rest.starts_with(v.as_str())
                        && bytes
                            .get(i + v.len())
                            .is_none_or(|b| !b.is_ascii_alphanumeric())
                });
                if let Some((v, p)) = hit {
                    let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 16));
                    o.push_str(&s[copied..i]);
                    o.push_str(p);
                    i += v.len();
                    copied = i;
                    continue;
                }
            }
            // Identifiers are ASCII-led; step over whole characters so the
            // slice above always starts on a char boundary.
            i += utf8_len(bytes[i]);
        }
        match out {
            None => Cow::Borrowed(s),
            Some(mut o) => {
                o.push_str(&s[copied..]);
                Cow::Owned(o)
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

impl Facts {
    /// Reads the facts off a checked, resolved site. Nodes are read in
    /// parallel and collected in site order.
    pub fn collect(eff: &EffSite) -> Facts {
        let site = eff.site;
        let domain = eff.domain;
        let mut facts = Facts::default();
        let per_node: Vec<(String, NodeFacts, Vec<Session>)> =
            eff.nodes.par_iter().map(|n| node_facts(eff, n)).collect();
        for (n, (name, nf, sessions)) in eff.nodes.iter().zip(per_node) {
            for g in &n.groups {
                facts
                    .groups
                    .entry(g.clone())
                    .or_default()
                    .insert(name.clone());
            }
            facts.sessions.extend(sessions);
            facts.nodes.insert(name, nf);
        }
        for g in &site.groups {
            let g = crate::model::names::group_name(&g.name.value);
            if g != "all" {
                facts.groups.entry(g).or_default();
            }
        }
        for sw in &site.switches {
            let name = sw.name.value.as_str();
            let mut member = |g: String| {
                facts.groups.entry(g).or_default().insert(name.to_string());
            };
            member(crate::model::names::SWITCHES_GROUP.to_string());
            member(format!("role_{}", sw.role.value.as_str()));
            if let Some(p) = &sw.placement {
                member(format!(
                    "rack_{}",
                    crate::model::names::group_name(&p.rack.value)
                ));
            }
            let mut id = Idents::default();
            id.push(fqdn(name, domain), "<fqdn>");
            id.push(name, "<switch>");
            if let Some(a) = &sw.asn {
                id.push(a.value.to_string(), "<asn>");
            }
            if let Some(l) = &sw.loopback4 {
                id.push(l.value.to_string(), "<loopback4>");
            }
            if let Some(l) = &sw.loopback6 {
                id.push(l.value.to_string(), "<loopback6>");
            }
            let rack = sw.placement.as_ref().map(|p| p.rack.value.clone());
            if let Some(r) = &rack {
                id.push(r.clone(), "<rack>");
            }
            for l in &sw.links {
                // A switch–switch link is one session, declared by both
                // ends: ordered by (name, port) so that both declarations
                // are the same session, over `a`'s port / `b`'s port.
                let here = (name, l.port.value.as_str());
                let there = (l.peer.value.as_str(), l.peer_port.value.as_str());
                let (x, y) = if here <= there {
                    (here, there)
                } else {
                    (there, here)
                };
                facts.sessions.insert(Session {
                    a: x.0.to_string(),
                    b: y.0.to_string(),
                    via: format!("{} / {}", x.1, y.1),
                    remote_as: None,
                });
            }
            facts.switches.insert(
                name.to_string(),
                SwitchFacts {
                    rack,
                    idents: id.finish(),
                    asn: sw.asn.as_ref().map(|a| a.value),
                },
            );
        }
        for p in &site.bgp_peers {
            for sw in &p.switches {
                facts.sessions.insert(Session {
                    a: p.name.value.clone(),
                    b: sw.value.clone(),
                    via: p.address.value.to_string(),
                    remote_as: Some(p.asn.value),
                });
            }
        }
        facts
    }

    /// Renames devices in the sessions and the groups' members: a renamed
    /// site's or node's base side, compared with itself.
    pub fn rename_in_sessions_and_groups(&mut self, name: impl Fn(String) -> String) {
        self.sessions = std::mem::take(&mut self.sessions)
            .into_iter()
            .map(|mut s| {
                s.a = name(s.a);
                s.b = name(s.b);
                s
            })
            .collect();
        for members in self.groups.values_mut() {
            *members = std::mem::take(members).into_iter().map(&name).collect();
        }
    }

    /// A node's or a switch's own AS (none for an external peer).
    pub fn asn_of(&self, name: &str) -> Option<u32> {
        self.nodes
            .get(name)
            .and_then(|n| n.asn)
            .or_else(|| self.switches.get(name).and_then(|s| s.asn))
    }

    pub fn node_role(&self, name: &str) -> Option<&str> {
        self.nodes.get(name).and_then(|n| n.role.as_deref())
    }
}

/// One node's facts and the BGP sessions it declares.
fn node_facts(eff: &EffSite, n: &EffNode) -> (String, NodeFacts, Vec<Session>) {
    let node = n.node;
    let name = n.name;
    let mut id = Idents::default();
    id.push(n.fqdn.clone(), "<fqdn>");
    id.push(name, "<node>");
    for a in &n.addresses {
        let net = a.network;
        for f in IpFamily::BOTH {
            if let Some((ip, _)) = a.ip(f) {
                id.push(ip.to_string(), format!("<{}:{net}>", f.as_str()));
            }
        }
    }
    if let Some(l) = n.loopback4 {
        id.push(l.value.to_string(), "<loopback4>");
    }
    if let Some(l) = n.loopback6 {
        id.push(l.value.to_string(), "<loopback6>");
    }
    if let Some(asn) = n.asn {
        id.push(asn.value.to_string(), "<asn>");
    }
    for i in &n.interfaces {
        let ifname = i.name;
        let d = i.decl;
        if let Some(m) = &d.mac {
            let mac = m.value.to_string();
            // Also as iPXE's `:hexhyp` spells it: the boot script's name.
            id.push(mac.replace(':', "-"), format!("<mac:{ifname}>"));
            id.push(mac, format!("<mac:{ifname}>"));
        }
        if let Some(s) = &d.switch {
            id.push(s.value.clone(), format!("<switch:{ifname}>"));
            if let Some(sw) = eff.site.switch(eff.index, &s.value) {
                id.push(
                    fqdn(sw.name.as_str(), eff.domain),
                    format!("<switch-fqdn:{ifname}>"),
                );
            }
        }
        if let Some(p) = &d.port {
            // Not named after the interface: eno1 and eno2 are often on
            // the same port number of two switches, and one value has one
            // placeholder — eno2's line would read `<port:eno1>`. The
            // line's own context names the interface.
            id.push(p.value.clone(), "<port>");
        }
    }
    if let Some(s) = &node.serial {
        id.push(s.value.clone(), "<serial>");
    }
    let rack = node.placement.as_ref().map(|p| p.rack.value.clone());
    if let Some(r) = &rack {
        id.push(r.clone(), "<rack>");
    }
    let sessions = n
        .sessions
        .iter()
        .map(|s| Session {
            a: name.to_string(),
            b: s.peer.to_string(),
            via: s
                .decl
                .interface
                .as_ref()
                .map(|i| i.value.clone())
                .or_else(|| s.peer_address.map(|a| a.to_string()))
                .unwrap_or_default(),
            remote_as: None,
        })
        .collect();
    (
        name.to_string(),
        NodeFacts {
            role: node.role.as_ref().map(|r| r.value.clone()),
            rack,
            idents: id.finish(),
            lock_owner: format!("node/{name}"),
            macs: n
                .interfaces
                .iter()
                .filter_map(|i| i.decl.mac.as_ref())
                .map(|m| m.value.to_string().to_ascii_lowercase())
                .collect(),
            serial: node.serial.as_ref().map(|s| s.value.clone()),
            asn: n.asn.map(|a| a.value),
        },
        sessions,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(pairs: &[(&str, &str)]) -> Idents {
        let mut id = Idents::default();
        for (v, p) in pairs {
            id.push(*v, *p);
        }
        id.finish()
    }

    #[test]
    fn replaces_whole_tokens_longest_first() {
        let id = idents(&[
            ("r01n01", "<node>"),
            ("r01n01.dc1.example.net", "<fqdn>"),
            ("10.0.0.5", "<ipv4:mgmt>"),
        ]);
        assert_eq!(
            id.normalize("address 10.0.0.5/24 host r01n01.dc1.example.net. r01n01"),
            "address <ipv4:mgmt>/24 host <fqdn>. <node>"
        );
        // Not inside longer tokens.
        assert_eq!(
            id.normalize("10.0.0.50 r01n010 xr01n01"),
            "10.0.0.50 r01n010 xr01n01"
        );
        // Hyphens and dots are boundaries: `<node>-bmc` groups across nodes.
        assert_eq!(id.normalize("r01n01-bmc"), "<node>-bmc");
    }

    #[test]
    fn placeholders_are_not_matched_again_and_utf8_is_kept() {
        let id = idents(&[("node", "<node>"), ("abc", "<x>")]);
        assert_eq!(id.normalize("node → abc"), "<node> → <x>");
        assert!(matches!(id.normalize("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_ignored() {
        let id = idents(&[("12", "<pos>")]);
        assert!(id.is_empty());
    }
}
