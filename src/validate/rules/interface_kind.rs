//! Rule `interface-kind`: interface fields that do not fit the interface's
//! kind.
//!
//! **What it does.** On every resolved node, reports (SC0504):
//! - an ethernet interface (the default kind) without a `mac`, or with
//!   bond `members` or a VLAN `link`/`vlan`;
//! - a bond without members, with a member that is itself a bond or a
//!   VLAN, with a member that already belongs to another bond, or with a
//!   member that has an address of its own, a VLAN on it or a BGP session
//!   over it (a member is no link of its own: the bond takes its frames,
//!   and netplan gives it no address, not even a link-local one);
//! - a VLAN interface without `link` or without `vlan`, or with members;
//! - `switch` without `port` or `port` without `switch`, and cabling on a
//!   bond or VLAN interface (their members and parents are what is cabled).
//!
//! **Why it matters.** netplan matches ethernet interfaces by MAC, builds
//! bonds from members and VLANs from a parent and an id: an interface
//! missing one of these is rendered wrong or not at all, and a member in
//! two bonds or with its own address takes the link down.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     interface bond0 { kind bond; }                       // SC0504: no members
//!     interface eno1.200 { kind vlan; vlan 200; }          // SC0504: no link
//!     interface eno2 { switch r01-tor1; }                  // SC0504: no MAC, no port
//! }
//! ```

use std::collections::HashMap;

use super::super::{Ctx, Rule};
use super::{declared_in, interface, set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{InterfaceKind, Sp};
use crate::resolve::ResolvedNode;
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "interface-kind",
    codes: &[Code::InterfaceKind],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        node(rn, &mut |d| out.push(name, d));
    }
    out.finish(diags);
}

fn kind_of(i: &crate::model::Interface) -> InterfaceKind {
    i.kind
        .as_ref()
        .map(|k| k.value)
        .unwrap_or(InterfaceKind::Ethernet)
}

fn node(rn: &ResolvedNode, emit: &mut dyn FnMut(Diagnostic)) {
    let note = |field: &str, i: &str| set_in(rn, &format!("interfaces.{i}.{field}"));
    let declared = |i: &str| declared_in(rn, &format!("interfaces.{i}"));
    let err = |msg: String, span: Span, label: &str, help: &str| {
        Diagnostic::error(Code::InterfaceKind, msg)
            .label(span, label)
            .help(help.to_string())
    };
    // Member → the first bond that lists it.
    let mut member_of: HashMap<&str, (&str, &Sp<String>)> = HashMap::new();
    for i in &rn.settings.interfaces {
        let n = i.name.as_str();
        // A `kind` that is not one is reported as such; what this
        // interface needs is known once it is fixed.
        if i.kind_invalid {
            continue;
        }
        let kind = kind_of(i);
        match kind {
            InterfaceKind::Ethernet => {
                if i.mac.is_none() && !i.mac_invalid {
                    emit(err(
                        format!("ethernet interface `{n}` has no MAC address{}", declared(n)),
                        i.name.span,
                        "no `mac`",
                        "netplan matches an ethernet interface by its MAC: add `mac \"52:54:00:…\"` on the node (or set `kind bond`/`kind vlan` if it is one)",
                    ));
                }
            }
            InterfaceKind::Bond => {
                if i.members.is_empty() {
                    emit(err(
                        format!("bond `{n}` has no members{}", declared(n)),
                        i.name.span,
                        "no `members`",
                        "add `members eno1 eno2` (the interfaces the bond aggregates)",
                    ));
                }
            }
            InterfaceKind::Vlan => {
                if i.link.is_none() {
                    emit(err(
                        format!("VLAN interface `{n}` has no `link`{}", declared(n)),
                        i.name.span,
                        "no parent interface",
                        "add `link eno1` (the interface the VLAN is tagged on)",
                    ));
                }
                if i.vlan.is_none() && !i.vlan_invalid {
                    emit(err(
                        format!("VLAN interface `{n}` has no `vlan` id{}", declared(n)),
                        i.name.span,
                        "no VLAN id",
                        "add `vlan 200` (the id of the network it carries)",
                    ));
                }
            }
        }
        if kind != InterfaceKind::Bond {
            if let Some(m) = i.members.first() {
                emit(err(
                    format!(
                        "interface `{n}` has `members` but is not a bond{}",
                        note("members", n)
                    ),
                    m.span,
                    "only a bond has members",
                    "write `kind bond` on it, or remove `members`",
                ));
            }
        }
        if kind != InterfaceKind::Vlan {
            if let Some(l) = &i.link {
                emit(err(
                    format!(
                        "interface `{n}` has a `link` but is not a VLAN interface{}",
                        note("link", n)
                    ),
                    l.span,
                    "only a VLAN interface has a parent",
                    "write `kind vlan` on it, or remove `link`",
                ));
            }
            if let Some(v) = &i.vlan {
                emit(err(
                    format!(
                        "interface `{n}` has a `vlan` id but is not a VLAN interface{}",
                        note("vlan", n)
                    ),
                    v.span,
                    "only a VLAN interface has an id",
                    "write `kind vlan` and `link PARENT` on it, or remove `vlan`",
                ));
            }
        }
        // Cabling.
        if kind == InterfaceKind::Ethernet {
            match (&i.switch, &i.port) {
                (Some(s), None) => emit(err(
                    format!(
                        "interface `{n}` is cabled to switch `{}` but has no `port`{}",
                        s.value,
                        note("switch", n)
                    ),
                    s.span,
                    "no `port` with it",
                    "add `port swpN`: the switch side of a cable is a port",
                )),
                (None, Some(p)) => emit(err(
                    format!(
                        "interface `{n}` has a `port` but no `switch`{}",
                        note("port", n)
                    ),
                    p.span,
                    "no `switch` with it",
                    "add `switch NAME`: a port belongs to a switch",
                )),
                _ => {}
            }
        } else if let Some(s) = i.switch.as_ref().or(i.port.as_ref()) {
            let field = if i.switch.is_some() { "switch" } else { "port" };
            emit(err(
                format!(
                    "{} interface `{n}` is cabled, but only ethernet interfaces are{}",
                    kind.as_str(),
                    note(field, n)
                ),
                s.span,
                "cabling on a virtual interface",
                if kind == InterfaceKind::Bond {
                    "cable the bond's members instead: give each member its `switch` and `port`"
                } else {
                    "cable the VLAN's parent instead"
                },
            ));
        }
        // Members.
        if kind == InterfaceKind::Bond {
            for m in &i.members {
                let Some(mi) = interface(rn, m) else { continue };
                let mk = kind_of(mi);
                if mk != InterfaceKind::Ethernet {
                    emit(err(
                        format!(
                            "bond `{n}` has member `{}`, which is a {} interface{}",
                            m.value,
                            mk.as_str(),
                            note("members", n)
                        ),
                        m.span,
                        "not an ethernet interface",
                        "bond members are physical (ethernet) interfaces",
                    ));
                }
                match member_of.get(m.as_str()) {
                    Some(&(other, first)) if other != n => emit(
                        Diagnostic::error(
                            Code::InterfaceKind,
                            format!("interface `{}` is a member of both bond `{other}` and bond `{n}`{}", m.value, note("members", n)),
                        )
                        .label(m.span, format!("member of `{n}` here"))
                        .label(first.span, format!("first a member of `{other}` here"))
                        .help("an interface can be enslaved to one bond only; remove it from one of them"),
                    ),
                    Some(_) => {}
                    None => {
                        member_of.insert(m.as_str(), (n, m));
                    }
                }
            }
        }
    }
    // A member is not a link of its own: the bond takes every frame it
    // receives, and netplan gives it no addresses, not even link-local.
    for i in &rn.settings.interfaces {
        let Some(link) = &i.link else { continue };
        if let Some(&(bond, _)) = member_of.get(link.as_str()) {
            let n = i.name.as_str();
            emit(err(
                format!(
                    "VLAN interface `{n}` is on `{}`, which is a member of bond `{bond}`{}",
                    link.value,
                    note("link", n)
                ),
                link.span,
                "a bond member",
                &format!(
                    "the bond takes every frame its member receives, so `{n}` would receive nothing: write `link {bond}`"
                ),
            ));
        }
    }
    for s in rn.settings.bgp.iter().flat_map(|b| b.sessions.iter()) {
        let Some(ifname) = &s.interface else { continue };
        if let Some(&(bond, _)) = member_of.get(ifname.as_str()) {
            let peer = s.peer.as_str();
            emit(err(
                format!(
                    "BGP session to `{peer}` runs over `{}`, which is a member of bond `{bond}`{}",
                    ifname.value,
                    set_in(rn, &format!("bgp.sessions.{peer}.interface"))
                ),
                ifname.span,
                "a bond member",
                &format!(
                    "netplan gives a bond member no link-local address (`LinkLocalAddressing=no`), so an unnumbered session over it never comes up: run it over an interface cabled to `{peer}` that is in no bond (its own uplink)"
                ),
            ));
        }
    }
    for a in &rn.settings.addresses {
        let Some(ifname) = &a.interface else { continue };
        if let Some(&(bond, _)) = member_of.get(ifname.as_str()) {
            let net = a.network.as_str();
            emit(err(
                format!(
                    "address `{net}` is on `{}`, which is a member of bond `{bond}`{}",
                    ifname.value,
                    set_in(rn, &format!("addresses.{net}.interface"))
                ),
                ifname.span,
                "a bond member",
                &format!(
                    "a bond member carries no addresses of its own: put the address on `{bond}`"
                ),
            ));
        }
    }
}
