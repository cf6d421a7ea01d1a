//! Lowering: spanned document trees → the typed [`Site`] model.
//!
//! Every problem found here (unknown entity or field, wrong type, missing
//! field, invalid value) is collected; lowering never stops early, so one
//! run reports all of them. Cross-entity checks (duplicates, references,
//! addressing, BGP) belong to `crate::validate`, which runs on the model.

mod block;

use block::{string_of, Block, Entry};
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::model::schema::{self, ENTITIES};
use crate::model::*;
use crate::syntax::{Document, Node as DocNode, Scalar, Span};

/// Lowers every document into one site.
pub fn lower(docs: &[Document], diags: &mut Diagnostics) -> Site {
    let mut site = Site::default();
    for doc in docs {
        site = merge(site, lower_document(doc, diags), diags);
    }
    site
}

/// Lowers one file into a partial site. Files are independent, so the
/// project loader lowers them in parallel and [`merge`]s in path order.
pub fn lower_document(doc: &Document, diags: &mut Diagnostics) -> Site {
    let mut site = Site::default();
    for node in &doc.nodes {
        lower_top(&mut site, node, diags);
    }
    site
}

/// Appends a later file's entities to the site (declaration order kept).
pub fn merge(mut a: Site, b: Site, diags: &mut Diagnostics) -> Site {
    match (&a.site, b.site) {
        (Some(prev), Some(s)) => {
            diags.push(
                Diagnostic::error(Code::DuplicateName, "the site is declared twice")
                    .label(s.span, "declared again here")
                    .label(prev.span, "first declared here")
                    .help("a repository describes one site: merge the two declarations"),
            );
            a.site_declared_twice = true;
        }
        (None, s) => a.site = s,
        (Some(_), None) => {}
    }
    a.networks.extend(b.networks);
    a.racks.extend(b.racks);
    a.switches.extend(b.switches);
    a.nodes.extend(b.nodes);
    a.bgp_peers.extend(b.bgp_peers);
    a.profiles.extend(b.profiles);
    a.groups.extend(b.groups);
    a.lost.merge(b.lost);
    a.site_declared_twice |= b.site_declared_twice;
    a.bgp_peer_dropped |= b.bgp_peer_dropped;
    a
}

/// A site of several: its own declarations over the shared ones. A
/// shared entity (profile, group, network, …) that the site declares
/// again under the same name is replaced by the site's, silently: that is
/// how a site specialises a shared definition (docs/sites.md). Everything
/// else is merged as [`merge`] does.
pub fn overlay(mut shared: Site, own: Site, diags: &mut Diagnostics) -> Site {
    macro_rules! shadow {
        ($($field:ident),*) => {$(
            let names: std::collections::HashSet<&str> =
                own.$field.iter().map(|e| e.name.value.as_str()).collect();
            shared.$field.retain(|e| !names.contains(e.name.value.as_str()));
        )*};
    }
    shadow!(networks, racks, switches, nodes, bgp_peers, profiles, groups);
    if own.site.is_some() {
        shared.site = None;
    }
    merge(shared, own, diags)
}

/// A top-level entity: `kind NAME { … }` or, TOML-style, `kind { NAME { … } }`.
fn lower_top(site: &mut Site, node: &DocNode, diags: &mut Diagnostics) {
    let kind = node.name.text.as_str();
    let Some(entity) = schema::entity(kind) else {
        let mut d = Diagnostic::error(Code::UnknownEntity, format!("unknown entity `{kind}`"))
            .label(node.name.span, "not a site entity");
        d = match did_you_mean(kind, ENTITIES.iter().map(|e| e.name)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "site files declare: {}",
                ENTITIES
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        diags.push(d);
        return;
    };
    let items: Vec<(Sp<String>, &DocNode, usize)> = match node.args.first() {
        Some(first) => match string_of(diags, first, &format!("the name of a {kind}")) {
            Some(name) => vec![(name, node, 1)],
            None => return,
        },
        None if node.props.is_empty() && node.children.is_some() => node
            .children()
            .iter()
            .map(|c| (Sp::new(c.name.text.clone(), c.name.span), c, 0))
            .collect(),
        None => {
            diags.push(
                Diagnostic::error(Code::MissingField, format!("{kind} has no name"))
                    .label(node.name.span, format!("write `{kind} NAME {{ … }}`")),
            );
            return;
        }
    };
    for (name, n, skip) in items {
        let what = format!("{kind} `{}`", name.value);
        let b = Block::new(diags, n, entity.fields, what, skip);
        let span = n.span;
        match kind {
            "site" => {
                let s = lower_site(diags, name, &b, span);
                // Two `defaults` blocks: the first is read, but which one
                // the author meant — what every node inherits — is not
                // known, as with two `site` blocks.
                site.site_declared_twice |= b.given_twice("defaults");
                if let Some(prev) = &site.site {
                    diags.push(
                        Diagnostic::error(Code::DuplicateName, "the site is declared twice")
                            .label(span, "declared again here")
                            .label(prev.span, "first declared here")
                            .help("a repository describes one site: merge the two declarations"),
                    );
                    site.site_declared_twice = true;
                } else {
                    site.site = Some(s);
                }
            }
            "network" => site.networks.push(lower_network(diags, name, &b, span)),
            "rack" => site.racks.push(lower_rack(diags, name, &b, span)),
            "switch" => site.switches.push(lower_switch(diags, name, &b, span)),
            "node" => site.nodes.push(lower_node(diags, name, &b, span)),
            "bgp-peer" => match lower_peer(diags, name, &b, span) {
                Some(p) => site.bgp_peers.push(p),
                None => site.bgp_peer_dropped = true,
            },
            "profile" => site.profiles.push(Profile {
                name,
                includes: b.labels(diags, "include"),
                settings: lower_settings(diags, &b),
                span,
            }),
            "group" => site.groups.push(Group {
                name,
                vars: lower_vars(diags, &b, "vars"),
                children: b.strings(diags, "children"),
                span,
            }),
            _ => {}
        }
    }
}

fn check_name(diags: &mut Diagnostics, name: &Sp<String>) {
    block::check_label(diags, name);
}

fn lower_site(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> SiteInfo {
    let domain = b.string(diags, "domain");
    if let Some(d) = &domain {
        check_fqdn(diags, d);
    }
    let domain = b
        .require(diags, "domain", domain)
        .unwrap_or_else(|| Sp::new(String::new(), span));
    let defaults = b
        .block(diags, "defaults", schema::SETTINGS)
        .map(|d| lower_settings(diags, &d))
        .unwrap_or_default();
    let asn_pool = b.parsed(
        diags,
        "asn-pool",
        Code::InvalidAsn,
        "an ASN range like 4200000000-4200099999",
    );
    SiteInfo {
        name,
        domain,
        asn_pool_invalid: asn_pool.is_none() && b.has("asn-pool"),
        asn_pool,
        dns_servers: b.parsed_list(diags, "dns-servers", Code::InvalidIp, "an IP address"),
        ntp_servers: b.strings(diags, "ntp-servers"),
        timezone: b.string(diags, "timezone"),
        automation_user: b.string(diags, "automation-user"),
        automation_sudo: b.bool(diags, "automation-sudo"),
        defaults,
        boot: b
            .block(diags, "boot", schema::BOOT)
            .map(|bb| lower_boot(diags, &bb)),
        span,
    }
}

fn lower_boot(diags: &mut Diagnostics, b: &Block) -> Boot {
    let servers: Vec<Sp<std::net::Ipv4Addr>> =
        b.parsed_list(diags, "servers", Code::InvalidIp, "an IPv4 address");
    if servers.is_empty() && !b.has("servers") {
        b.require::<()>(diags, "servers", None);
    }
    let firmware = b
        .strings(diags, "firmware")
        .iter()
        .filter_map(|f| block::enum_of(diags, f, "firmware class", Firmware::ALL))
        .collect();
    let images = b
        .named(diags, "image", schema::BOOT_IMAGE)
        .into_iter()
        .filter_map(|(name, ib)| {
            check_name(diags, &name);
            let kernel = ib.string(diags, "kernel");
            let kernel = ib.require(diags, "kernel", kernel)?;
            Some(BootImage {
                kernel,
                initrds: ib.strings(diags, "initrd"),
                root: ib.string(diags, "root"),
                args: ib.string(diags, "args"),
                name,
                span: ib.span,
            })
        })
        .collect();
    Boot {
        servers,
        base_url: b.string(diags, "base-url"),
        serve_dir: b.string(diags, "serve-dir"),
        images_dir: b.string(diags, "images-dir"),
        firmware_dir: b.string(diags, "firmware-dir"),
        firmware,
        unknown: b.enumerated(diags, "unknown", UnknownPolicy::ALL),
        discovery_image: b.label(diags, "discovery-image"),
        discovery_ranges: b.parsed_list(
            diags,
            "discovery-range",
            Code::InvalidIp,
            "an address range like 10.0.0.240-10.0.0.250",
        ),
        images,
        span: b.span,
    }
}

fn check_fqdn(diags: &mut Diagnostics, d: &Sp<String>) {
    let s = d.value.trim_end_matches('.');
    if s.len() > 253 || s.is_empty() || !s.split('.').all(is_hostname_label) {
        diags.push(
            Diagnostic::error(Code::InvalidFqdn, format!("`{}` is not a valid domain name", d.value))
                .label(d.span, "invalid domain")
                .help("labels of 1–63 letters, digits and hyphens separated by dots, 253 characters at most"),
        );
    } else if s.len() != d.value.len() {
        // Only the DNS zone strips the root dot: /etc/hosts, cloud-init's
        // fqdn, netplan's search domains, Kea's domain-name and the
        // inventory's file names would carry it.
        diags.push(
            Diagnostic::error(
                Code::InvalidFqdn,
                format!("domain `{}` ends with a dot", d.value),
            )
            .label(d.span, "written with the root dot")
            .help(format!(
                "drop the trailing dot (`domain \"{s}\"`): host names, /etc/hosts, DHCP and the inventory take the domain as written"
            )),
        );
    }
}

fn lower_network(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> Network {
    check_name(diags, &name);
    let purpose = b.enumerated(diags, "purpose", Purpose::ALL);
    let purpose_invalid = purpose.is_none() && b.has("purpose");
    let purpose = b
        .require(diags, "purpose", purpose)
        .unwrap_or(Sp::new(Purpose::Other, span));
    if name.value.eq_ignore_ascii_case("lo") && purpose.value != Purpose::Loopback {
        // The zone names a node's address on network N `<node>.N`, and its
        // loopback `<node>.lo` (render::site::dns): one name, two meanings.
        // (A loopback network's addresses are the loopbacks themselves.)
        diags.push(
            Diagnostic::error(
                Code::InvalidHostname,
                format!("a network cannot be named `{}`", name.value),
            )
            .label(name.span, "reserved: `<node>.lo` is each node's loopback in the DNS zone")
            .help("name the network for what it carries (`storage`, `svc`): `<node>.<network>` is the DNS name of each node's address on it; only a `purpose loopback` network may be called `lo`"),
        );
    }
    let ipv4 = b.prefix4(diags, "ipv4");
    let ipv6 = b.prefix6(diags, "ipv6");
    let prefix_invalid = [
        ipv4.is_none() && b.has("ipv4"),
        ipv6.is_none() && b.has("ipv6"),
    ];
    if ipv4.is_none() && ipv6.is_none() && !b.has("ipv4") && !b.has("ipv6") {
        diags.push(
            Diagnostic::error(
                Code::MissingField,
                format!("network `{}` has no prefix", name.value),
            )
            .label(name.span, "needs `ipv4` or `ipv6`")
            .help("add `ipv4 \"10.0.0.0/24\"` and/or `ipv6 \"2001:db8::/64\"`"),
        );
    }
    let vlan = b.u16(diags, "vlan", 1, 4094, Code::InvalidVlan);
    let mtu = b.u16(diags, "mtu", 576, 9216, Code::InvalidMtu);
    Network {
        purpose,
        vlan_invalid: vlan.is_none() && b.has("vlan"),
        vlan,
        ipv4,
        ipv6,
        gateway4: b.ipv4(diags, "gateway4"),
        gateway6: b.ipv6(diags, "gateway6"),
        mtu_invalid: mtu.is_none() && b.has("mtu"),
        mtu,
        reserved: b.parsed_list(
            diags,
            "reserved",
            Code::InvalidIp,
            "an address range like 10.0.0.1-10.0.0.31",
        ),
        pool: b.parsed_list(
            diags,
            "pool",
            Code::InvalidIp,
            "an address range like 10.0.1.0-10.0.3.254",
        ),
        dhcp: b.bool(diags, "dhcp"),
        prefix_invalid,
        purpose_invalid,
        name,
        span,
    }
}

fn lower_rack(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> Rack {
    check_name(diags, &name);
    Rack {
        room: b.string(diags, "room"),
        row: b.string(diags, "row"),
        position: b.u32(diags, "position", 1, 10_000, Code::InvalidValue),
        height: b
            .u32(diags, "height", 1, 60, Code::InvalidRackUnit)
            .unwrap_or(Sp::new(42, Span::BUILTIN)),
        name,
        span,
    }
}

fn lower_placement(diags: &mut Diagnostics, b: &Block) -> Option<Placement> {
    let rack = b.label(diags, "rack");
    let rack = b.require(diags, "rack", rack);
    let position = b.u32(diags, "position", 1, 60, Code::InvalidRackUnit);
    let position = b.require(diags, "position", position);
    let height = b
        .u32(diags, "height", 1, 60, Code::InvalidRackUnit)
        .unwrap_or(Sp::new(1, Span::BUILTIN));
    Some(Placement {
        rack: rack?,
        position: position?,
        height,
    })
}

fn lower_switch(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> Switch {
    check_name(diags, &name);
    let mut ports = Vec::new();
    let port_values = b.strings(diags, "ports");
    if port_values.is_empty() && !b.has("ports") {
        b.require::<()>(diags, "ports", None);
    }
    for p in port_values {
        match expand_ports(&p.value) {
            Ok(list) => {
                // One finding per pattern: `Gi1/0/1-48` is one mistake.
                if let Some(bad) = list.iter().find(|n| interface_name_problem(n).is_some()) {
                    check_ifname(diags, bad, p.span, "switch port");
                }
                ports.extend(list.into_iter().map(|n| Sp::new(n, p.span)))
            }
            Err(m) => diags.push(
                Diagnostic::error(Code::InvalidValue, m).label(p.span, "invalid port pattern"),
            ),
        }
    }
    let links = b
        .named(diags, "link", schema::LINK)
        .into_iter()
        .filter_map(|(port, lb)| {
            let peer = lb.label(diags, "peer");
            let peer = lb.require(diags, "peer", peer)?;
            let peer_port = lb.string(diags, "peer-port");
            let peer_port = lb.require(diags, "peer-port", peer_port)?;
            Some(SwitchLink {
                port,
                peer,
                peer_port,
                span: lb.span,
            })
        })
        .collect();
    let asn = b.u32(diags, "asn", 1, u32::MAX, Code::InvalidAsn);
    let loopback4 = b.ipv4(diags, "loopback4");
    let loopback6 = b.ipv6(diags, "loopback6");
    let interfaces = b
        .named(diags, "interface", schema::SWITCH_INTERFACE)
        .into_iter()
        .map(|(port, ib)| {
            if !ib.has("address") {
                ib.require::<()>(diags, "address", None);
            }
            let written = ib.values(&mut Diagnostics::default(), "address").len();
            let addresses = ib.parsed_list(
                diags,
                "address",
                Code::InvalidPrefix,
                "an interface address with its prefix length, like 192.0.2.2/29",
            );
            SwitchInterface {
                port,
                complete: written > 0 && written == addresses.len(),
                addresses,
                span: ib.span,
            }
        })
        .collect();
    Switch {
        asn_invalid: asn.is_none() && b.has("asn"),
        loopback_invalid: (loopback4.is_none() && b.has("loopback4"))
            || (loopback6.is_none() && b.has("loopback6")),
        asn,
        loopback4,
        loopback6,
        placement: lower_placement(diags, b),
        model: b.string(diags, "model"),
        role: b
            .enumerated(diags, "role", SwitchRole::ALL)
            .unwrap_or(Sp::new(SwitchRole::Tor, Span::BUILTIN)),
        network_os: b.string(diags, "network-os"),
        mlag_peer: b.label(diags, "mlag-peer"),
        ports,
        links,
        interfaces,
        vars: lower_vars(diags, b, "vars"),
        name,
        span,
    }
}

fn lower_node(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> Node {
    check_name(diags, &name);
    Node {
        placement: lower_placement(diags, b),
        model: b.string(diags, "model"),
        serial: b.string(diags, "serial"),
        role: b.label(diags, "role"),
        profiles: b.labels(diags, "profiles"),
        settings: lower_settings(diags, b),
        name,
        span,
    }
}

fn lower_peer(diags: &mut Diagnostics, name: Sp<String>, b: &Block, span: Span) -> Option<BgpPeer> {
    check_name(diags, &name);
    let asn = b.u32(diags, "asn", 1, u32::MAX, Code::InvalidAsn);
    let asn = b.require(diags, "asn", asn);
    let address = b.ip(diags, "address");
    let address = b.require(diags, "address", address);
    let switches = b.labels(diags, "switches");
    if switches.is_empty() && !b.has("switches") {
        b.require::<()>(diags, "switches", None);
    }
    let password = b
        .all("password")
        .next()
        .and_then(|e| lower_secret(diags, e));
    Some(BgpPeer {
        asn: asn?,
        address: address?,
        password,
        switches,
        description: b.string(diags, "description"),
        multihop: b.u32(diags, "multihop", 1, 255, Code::InvalidValue),
        name,
        span,
    })
}

/// `password secret="name"` (KDL) / `password = { secret = "name" }` (TOML).
/// A literal is remembered only as "a literal was here": its text is dropped.
fn lower_secret(diags: &mut Diagnostics, e: Entry) -> Option<Sp<SecretSpec>> {
    match e {
        Entry::Prop(_, v) => Some(Sp::new(SecretSpec::Literal, v.span)),
        Entry::Child(n) if !n.args.is_empty() => Some(Sp::new(SecretSpec::Literal, n.args[0].span)),
        // `password value="…"`, `password { value "…" }`, `password = { value
        // = "…" }`: anything at this position that is not a reference is a
        // literal, however it is written (SC0605, not "unknown field").
        Entry::Child(n)
            if !n.props.iter().any(|(k, _)| k.text == "secret")
                && !n.children().iter().any(|c| c.name.text == "secret")
                && (!n.props.is_empty() || !n.children().is_empty()) =>
        {
            Some(Sp::new(SecretSpec::Literal, n.span))
        }
        Entry::Child(n) => {
            let b = Block::new(diags, n, &[SECRET_FIELDS], "`password`".into(), 0);
            let r = b.string(diags, "secret");
            let r = b.require(diags, "secret", r)?;
            if r.value.is_empty() {
                diags.push(
                    Diagnostic::error(Code::InvalidValue, "empty secret reference")
                        .label(r.span, "name a secret here"),
                );
                return None;
            }
            Some(Sp::new(SecretSpec::Ref(r.value), r.span))
        }
    }
}

const SECRET_FIELDS: &[schema::Field] = &[schema::Field {
    name: "secret",
    ty: schema::Ty::Str,
    required: true,
    doc: "The name of the secret.",
}];

/// The settings shared by site defaults, profiles and nodes.
fn lower_settings(diags: &mut Diagnostics, b: &Block) -> Settings {
    let interfaces = b
        .named(diags, "interface", schema::INTERFACE)
        .into_iter()
        .map(|(name, ib)| {
            if name.value == "lo" {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidInterfaceName,
                        "`lo` is the loopback and cannot be declared as an interface",
                    )
                    .label(name.span, "reserved for the loopback")
                    .help("the loopback's addresses are the node's `loopback ipv4=… ipv6=…`; name the physical interface as the kernel does (`eno1`, `ens1f0`): netplan would get two `lo` entries, and networkd would rename the NIC with this MAC to `lo`"),
                );
            } else {
                check_name_if(diags, &name);
            }
            let mac = ib.parsed_explained(
                diags,
                "mac",
                Code::InvalidMac,
                "a unicast MAC address like 52:54:00:12:34:56",
            );
            let kind = ib.enumerated(diags, "kind", InterfaceKind::ALL);
            let mtu = ib.u16(diags, "mtu", 576, 9216, Code::InvalidMtu);
            let vlan = ib.u16(diags, "vlan", 1, 4094, Code::InvalidVlan);
            Interface {
                kind_invalid: kind.is_none() && ib.has("kind"),
                kind,
                mac_invalid: mac.is_none() && ib.has("mac"),
                mac,
                switch: ib.label(diags, "switch"),
                port: ib.string(diags, "port"),
                mtu_invalid: mtu.is_none() && ib.has("mtu"),
                mtu,
                members: iface_refs(diags, &ib, "members"),
                bond_mode: ib.string(diags, "mode"),
                link: iface_ref(diags, &ib, "link"),
                vlan_invalid: vlan.is_none() && ib.has("vlan"),
                vlan,
                name,
                span: ib.span,
            }
        })
        .collect();
    let addresses = b
        .named(diags, "address", schema::ADDRESS)
        .into_iter()
        .map(|(network, ab)| Address {
            interface: iface_ref(diags, &ab, "interface"),
            ipv4: ab.addr_or_auto(diags, "ipv4", "an IPv4 address or `auto`"),
            ipv6: ab.addr_or_auto(diags, "ipv6", "an IPv6 address or `auto`"),
            network,
            span: ab.span,
        })
        .collect();
    let loopback = b
        .block(diags, "loopback", schema::LOOPBACK)
        .map(|lb| Loopback {
            ipv4: lb.addr_or_auto(diags, "ipv4", "an IPv4 address or `auto`"),
            ipv6: lb.addr_or_auto(diags, "ipv6", "an IPv6 address or `auto`"),
            span: lb.span,
        });
    let bgp = b.block(diags, "bgp", schema::BGP).map(|bb| {
        let asn = bb.value(diags, "asn").and_then(|v| match &v.scalar {
            Scalar::String(s) if s == "auto" => Some(Sp::new(AddrSpec::Auto, v.span)),
            _ => block::int_of(diags, v, "asn", 1, u32::MAX as i128, Code::InvalidAsn)
                .map(|n| Sp::new(AddrSpec::Fixed(n.value as u32), n.span)),
        });
        let sessions = bb
            .named(diags, "session", schema::SESSION)
            .into_iter()
            .map(|(peer, sb)| BgpSession {
                interface: iface_ref(diags, &sb, "interface"),
                peer_address: sb.ip(diags, "peer-address"),
                local_address: sb.ip(diags, "local-address"),
                remote_as: sb.u32(diags, "remote-as", 1, u32::MAX, Code::InvalidAsn),
                peer,
                span: sb.span,
            })
            .collect();
        Bgp {
            asn_invalid: asn.is_none() && bb.has("asn"),
            asn,
            sessions,
            span: bb.span,
        }
    });
    let repos = b
        .named(diags, "repo", schema::REPO)
        .into_iter()
        .map(|(name, rb)| {
            let uris = rb.strings(diags, "uris");
            if uris.is_empty() && !rb.has("uris") {
                rb.require::<()>(diags, "uris", None);
            }
            let suites = rb.strings(diags, "suites");
            if suites.is_empty() && !rb.has("suites") {
                rb.require::<()>(diags, "suites", None);
            }
            Arc::new(Repo {
                types: rb.strings(diags, "types"),
                uris,
                suites,
                components: rb.strings(diags, "components"),
                signed_by: rb.string(diags, "signed-by"),
                architectures: rb.strings(diags, "architectures"),
                enabled: rb.bool(diags, "enabled"),
                name,
                span: rb.span,
            })
        })
        .collect();
    let ssh_keys = b
        .named(diags, "ssh-key", schema::SSH_KEY)
        .into_iter()
        .filter_map(|(name, kb)| {
            let user = kb.string(diags, "user");
            let user = kb.require(diags, "user", user);
            let key = kb.string(diags, "key");
            let key = kb.require(diags, "key", key);
            Some(Arc::new(SshKey {
                options: kb.string(diags, "options"),
                user: user?,
                key: key?,
                name,
                span: kb.span,
            }))
        })
        .collect();
    let sshd = lower_sshd(diags, b);
    let reset = b.strings(diags, "reset");
    for r in &reset {
        let words = [
            "groups",
            "packages",
            "repo",
            "ssh-key",
            "sshd",
            "vars",
            "interface",
            "address",
        ];
        block::enum_of(diags, r, "reset target", &words.map(|w| (w, ())));
    }
    let boot_image = b.label(diags, "boot-image");
    Settings {
        interfaces,
        addresses,
        loopback,
        bgp,
        groups: b.strings(diags, "groups"),
        packages: b.strings(diags, "packages"),
        repos,
        ssh_keys,
        sshd,
        vars: lower_vars(diags, b, "vars"),
        boot_image_invalid: b.has("boot-image") && boot_image.is_none(),
        boot_image,
        reset,
    }
}

/// A reference to an interface (`interface=bond0.300`, `link eno1`): an
/// interface name, which unlike a host name may contain dots. A name Linux
/// refuses is reported (SC0045) and kept, as the declaration's is: the
/// reference still finds the interface it names, so the bad name is one
/// finding, not also "address has no interface" or "VLAN has no link".
fn iface_ref(diags: &mut Diagnostics, b: &Block, field: &str) -> Option<Sp<String>> {
    let s = b.string(diags, field)?;
    check_name_if(diags, &s);
    Some(s)
}

fn iface_refs(diags: &mut Diagnostics, b: &Block, field: &str) -> Vec<Sp<String>> {
    let names = b.strings(diags, field);
    for s in &names {
        check_name_if(diags, s);
    }
    names
}

fn check_name_if(diags: &mut Diagnostics, name: &Sp<String>) -> bool {
    check_ifname(diags, &name.value, name.span, "interface")
}

/// Reports (SC0045) `name`, written at `span`, if it cannot be a Linux
/// interface name; `what` is "interface" or "switch port".
fn check_ifname(diags: &mut Diagnostics, name: &str, span: Span, what: &str) -> bool {
    let Some(problem) = interface_name_problem(name) else {
        return true;
    };
    diags.push(
        Diagnostic::error(
            Code::InvalidInterfaceName,
            format!("`{name}` is not a valid {what} name"),
        )
        .label(span, problem)
        .help(if what == "switch port" {
            "FRR on the switch uses the Linux name of the port (`swp1`, `Ethernet0`), 1-15 letters, digits, `-`, `_` or `.`; not the vendor CLI's `GigabitEthernet1/0/1`"
        } else {
            "Linux interface names are 1-15 letters, digits, `-`, `_` or `.` (`eno1`, `bond0.200`)"
        }),
    );
    false
}

/// `sshd { permit-root-login prohibit-password }`: each keyword with its
/// value as sshd will read it (words joined by a space) and the span of the
/// value as written, so a finding about the value points at the value.
///
/// A keyword given twice in one block is an error (SC0006), in either
/// spelling: the renderer drops the hyphens and sshd ignores case, so
/// `permit-root-login` and `PermitRootLogin` are one keyword, and only one
/// of the two values would reach the drop-in.
fn lower_sshd(diags: &mut Diagnostics, b: &Block) -> Vec<SshdOption> {
    let mut value_spans: BTreeMap<&str, Span> = BTreeMap::new();
    for e in b.all("sshd") {
        if let Entry::Child(n) = e {
            // Keys in the order written: properties on the `sshd` line,
            // then the children.
            let keys = n
                .props
                .iter()
                .map(|(k, _)| k)
                .chain(n.children().iter().map(|c| &c.name));
            let mut first: BTreeMap<String, (&str, Span)> = BTreeMap::new();
            for k in keys {
                let norm = crate::model::names::fold_sshd_keyword(&k.text);
                match first.get(&norm) {
                    None => {
                        first.insert(norm, (k.text.as_str(), k.span));
                    }
                    Some(&(was, at)) => {
                        let (label, help) = if was == k.text {
                            (
                                "given again here".to_string(),
                                "sshd would get only one of the values: remove one".to_string(),
                            )
                        } else {
                            (
                                format!("given again here, as `{}`", k.text),
                                format!(
                                    "`{was}` and `{}` are one sshd keyword (sshd ignores case, and the hyphens are dropped when the drop-in is written): only one of the values would reach sshd; remove one",
                                    k.text
                                ),
                            )
                        };
                        diags.push(
                            Diagnostic::error(
                                Code::DuplicateField,
                                format!("sshd keyword `{was}` is given twice in {}", b.what),
                            )
                            .label(k.span, label)
                            .label(at, "first given here")
                            .help(help),
                        );
                    }
                }
            }
            for c in n.children() {
                let span = match (c.args.first(), c.args.last()) {
                    (Some(a), Some(z)) if c.props.is_empty() && c.children.is_none() => {
                        a.span.to(z.span)
                    }
                    _ => c.span,
                };
                value_spans.insert(c.name.text.as_str(), span);
            }
            for (k, v) in &n.props {
                value_spans.insert(k.text.as_str(), v.span);
            }
        }
    }
    lower_vars(diags, b, "sshd")
        .entries
        .into_iter()
        .map(|(k, (v, span))| {
            let value_span = value_spans.get(k.as_str()).copied().unwrap_or(span);
            SshdOption {
                key: Sp::new(k, span),
                value: Sp::new(json_words(&v), value_span),
            }
        })
        .collect()
}

fn json_words(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Bool(b) => {
            if *b {
                "yes".into()
            } else {
                "no".into()
            }
        }
        Json::Array(a) => a.iter().map(json_words).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// A free-form block as JSON: `vars { a 1; b { c "x" } }`. In `vars`
/// (what the Ansible inventory carries), a value JSON and YAML cannot
/// carry as written is reported (SC0061, SC0062).
fn lower_vars(diags: &mut Diagnostics, b: &Block, name: &str) -> Vars {
    let mut vars = Vars::default();
    let mut unfit = Vec::new();
    for e in b.all(name) {
        match e {
            Entry::Prop(k, v) => {
                diags.push(
                    Diagnostic::error(Code::WrongType, format!("`{name}` is a block"))
                        .label(k.span.to(v.span), format!("write `{name} {{ key value }}`")),
                );
            }
            Entry::Child(n) => {
                if let Some(a) = n.args.first() {
                    diags.push(
                        Diagnostic::error(
                            Code::WrongType,
                            format!("`{name}` is a block, not a value"),
                        )
                        .label(a.span, format!("write `{name} {{ key value }}`")),
                    );
                }
                for (k, v) in &n.props {
                    let json = scalar_json(v, &k.text, &mut unfit);
                    vars.entries.insert(k.text.clone(), (json, k.span));
                }
                for c in n.children() {
                    let json = node_json(c, &c.name.text, &mut unfit);
                    vars.entries
                        .insert(c.name.text.clone(), (json, c.name.span));
                }
            }
        }
    }
    if name == "vars" {
        for u in unfit {
            diags.push(u.diagnostic());
        }
    }
    vars
}

/// A value in `vars` the inventory cannot carry as written: the variable
/// it is in, where, and why.
struct Unfit {
    var: String,
    span: Span,
    kind: UnfitKind,
}

enum UnfitKind {
    /// `nan`, `inf`: JSON has no such number (serde_json gives `null`).
    NotFinite(f64),
    /// Beyond i64: the inventory would hold its digits as a string.
    OutOfRange(i128),
    /// A TOML date or time: carried as the string of its text.
    Date(String),
}

impl Unfit {
    fn diagnostic(self) -> Diagnostic {
        let var = self.var;
        match self.kind {
            UnfitKind::NotFinite(x) => {
                let text = if x.is_nan() {
                    "not a number (`nan`)"
                } else {
                    "an infinite number"
                };
                Diagnostic::error(
                    Code::VarNotRepresentable,
                    format!("variable `{var}` is {text}: JSON has no such number, so the Ansible inventory would give Ansible `null`"),
                )
                .label(self.span, "no JSON number")
                .help("give the value Ansible should get: a finite number, or a quoted string if the play reads it as text")
            }
            UnfitKind::OutOfRange(i) => Diagnostic::error(
                Code::VarNotRepresentable,
                format!("variable `{var}` holds {i}, outside the signed 64-bit integers the Ansible inventory carries: Ansible would get the string \"{i}\""),
            )
            .label(self.span, "beyond -9223372036854775808..9223372036854775807")
            .help(format!("quote it (`\"{i}\"`) if it is an identifier rather than a number, or give a number in range")),
            UnfitKind::Date(d) => Diagnostic::warning(
                Code::VarDateAsString,
                format!("variable `{var}` holds the TOML date or time `{d}`: the Ansible inventory carries it as the string \"{d}\", not a date"),
            )
            .label(self.span, "a date, which JSON and the inventory's YAML write as a string")
            .help(format!("quote it (`\"{d}\"`) to say a string is meant; a play that needs a date converts it (`| to_datetime`)")),
        }
    }
}

fn scalar_json(v: &crate::syntax::Value, var: &str, unfit: &mut Vec<Unfit>) -> Json {
    let mut bad = |kind| {
        unfit.push(Unfit {
            var: var.to_string(),
            span: v.span,
            kind,
        })
    };
    match &v.scalar {
        Scalar::String(s) => Json::String(s.clone()),
        Scalar::Int(i) => i64::try_from(*i).map(Json::from).unwrap_or_else(|_| {
            bad(UnfitKind::OutOfRange(*i));
            Json::String(i.to_string())
        }),
        Scalar::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => {
                bad(UnfitKind::NotFinite(*f));
                Json::Null
            }
        },
        Scalar::Datetime(d) => {
            bad(UnfitKind::Date(d.clone()));
            Json::String(d.clone())
        }
        Scalar::Bool(b) => Json::Bool(*b),
        Scalar::Null => Json::Null,
    }
}

fn node_json(n: &DocNode, var: &str, unfit: &mut Vec<Unfit>) -> Json {
    if n.children.is_some() || !n.props.is_empty() {
        let mut m = serde_json::Map::new();
        for (k, v) in &n.props {
            m.insert(k.text.clone(), scalar_json(v, var, unfit));
        }
        for c in n.children() {
            let v = node_json(c, var, unfit);
            // A repeated key (a TOML array of tables) becomes a list.
            match m.get_mut(&c.name.text) {
                Some(prev) => {
                    let old = prev.take();
                    *prev = match old {
                        Json::Array(mut a) if a.iter().all(|x| x.is_object()) && v.is_object() => {
                            a.push(v);
                            Json::Array(a)
                        }
                        old => Json::Array(vec![old, v]),
                    };
                }
                None => {
                    m.insert(c.name.text.clone(), v);
                }
            }
        }
        Json::Object(m)
    } else if n.args.len() == 1 {
        scalar_json(&n.args[0], var, unfit)
    } else {
        Json::Array(n.args.iter().map(|a| scalar_json(a, var, unfit)).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::source::MemSource;

    fn var_codes(path: &str, text: &str) -> Vec<&'static str> {
        let src = MemSource::new()
            .with(
                "site/site.kdl",
                r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }"#,
            )
            .with(path, text);
        let c = crate::check::check(&src);
        c.diags
            .sorted(&c.loaded.sources)
            .iter()
            .map(|d| d.code.as_str())
            .filter(|c| matches!(*c, "SC0061" | "SC0062"))
            .collect()
    }

    #[test]
    fn vars_the_inventory_cannot_carry() {
        // KDL has `#nan`, `#inf` and integers beyond 64 bits too.
        assert_eq!(
            var_codes(
                "site/groups.kdl",
                "group g { vars { a #nan; b #-inf; c 18446744073709551615; d 1; e 0.5; f \"x\" } }"
            ),
            ["SC0061", "SC0061", "SC0061"]
        );
        assert_eq!(
            var_codes(
                "site/groups.toml",
                "[group.g.vars]\na = nan\nb = { c = [1, inf] }\nd = 2024-05-01\ne = \"2024-05-01\"\nf = -9223372036854775808\n"
            ),
            ["SC0061", "SC0061", "SC0062"]
        );
    }
}
