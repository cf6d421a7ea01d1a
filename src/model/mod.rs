//! The typed site model: what lowering produces from the document tree and
//! what validation, resolution and rendering read.
//!
//! Values that a diagnostic may point at are [`Sp`] (value + span). Entities
//! keep their declaration order; lookups by name go through [`SiteIndex`].
//! Settings that profiles, site defaults and nodes share live in
//! [`Settings`], so inheritance (in `crate::resolve`) is one merge function.

pub mod names;
pub mod routing;
pub mod schema;
pub mod schema_doc;
pub mod serial;
mod values;

pub use values::{expand_ports, interface_name_problem, is_hostname_label, AsnRange, IpRange, Mac};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::{Ipv4Net, Ipv6Net};

use crate::syntax::Span;

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Sp<T> {
        Sp { value, span }
    }
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl Sp<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// A whole site as declared, in file order.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub site: Option<SiteInfo>,
    pub networks: Vec<Network>,
    pub racks: Vec<Rack>,
    pub switches: Vec<Switch>,
    pub nodes: Vec<Node>,
    pub bgp_peers: Vec<BgpPeer>,
    pub profiles: Vec<Profile>,
    pub groups: Vec<Group>,
    /// What the site files may declare that could not be read (a file
    /// that failed to parse). See [`Lost`].
    pub lost: Lost,
    /// More than one `site` block was declared, or one with `defaults`
    /// twice (reported once, where the second is): the first wins, but which one the author meant — and so
    /// the defaults and pools every node inherits — is not known, so checks
    /// about what nodes lack stay quiet.
    pub site_declared_twice: bool,
    /// A `bgp-peer` was declared but not kept (its address or ASN did not
    /// parse, already reported): checks about what the site's peers lack
    /// (SC0638: none at an IPv6 address) stay quiet.
    pub bgp_peer_dropped: bool,
    /// Files around the site that are not read as site files but look as
    /// if they were meant to be (found by `crate::project::load`).
    pub strays: Vec<StrayFile>,
}

/// A file siteconf does not read although it may be part of the site.
#[derive(Debug, Clone)]
pub struct StrayFile {
    pub kind: StrayKind,
    /// Its path (relative to the project root).
    pub path: String,
    /// Where to point: the file's start, or the first entity it declares.
    pub span: Span,
    /// For [`StrayKind::Outside`], the entity kind found there (`node`).
    pub entity: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrayKind {
    /// Under the site directory, with an extension that is not read.
    Ignored,
    /// A `.kdl`/`.toml` file with site entities outside the site directory.
    Outside,
}

/// The words of site files that failed to parse, so that checks about
/// references stay quiet about names that may be declared there.
///
/// A KDL file with a syntax error is lost whole (its document is dropped,
/// so its errors are not followed by noise); a TOML file is recovered only
/// in part. Either way the entities it declares are missing from the
/// model, and every reference to them elsewhere (`switch r01-tor1` on 40
/// nodes, the `site` block's pools) would be reported as unknown — a trail
/// of findings about the one real mistake. Instead, a reference is taken
/// as *possibly declared* when its name occurs as a word anywhere in a
/// broken file's text. A clean site has no lost text, so a real typo there
/// is always reported; in a broken one, a typo is reported once the file
/// parses again.
#[derive(Debug, Clone, Default)]
pub struct Lost {
    /// The files that failed to parse, in path order.
    pub files: Vec<crate::syntax::FileId>,
    words: std::collections::BTreeSet<String>,
}

impl Lost {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Records a file that failed to parse.
    pub fn add(&mut self, file: crate::syntax::FileId, text: &str) {
        self.files.push(file);
        let sep = |c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\'' | '{' | '}' | '[' | ']' | ';' | '=' | ',' | '(' | ')' | '#'
                )
        };
        for w in text.split(sep).filter(|w| !w.is_empty()) {
            // `[node.r01n01.interface.eno1]` in TOML, `eno1.100` in either:
            // the whole word and its dotted parts.
            if w.contains('.') {
                for part in w.split('.').filter(|p| !p.is_empty()) {
                    if !self.words.contains(part) {
                        self.words.insert(part.to_string());
                    }
                }
            }
            if !self.words.contains(w) {
                self.words.insert(w.to_string());
            }
        }
    }

    /// Whether a name could be declared in the text that was lost.
    pub fn may_declare(&self, name: &str) -> bool {
        !self.files.is_empty() && self.words.contains(name)
    }

    pub fn merge(&mut self, other: Lost) {
        self.files.extend(other.files);
        self.words.extend(other.words);
    }
}

#[derive(Debug, Clone)]
pub struct SiteInfo {
    pub name: Sp<String>,
    pub domain: Sp<String>,
    pub asn_pool: Option<Sp<AsnRange>>,
    pub dns_servers: Vec<Sp<IpAddr>>,
    pub ntp_servers: Vec<Sp<String>>,
    pub timezone: Option<Sp<String>>,
    /// `asn-pool` was written but is not a range (already reported).
    pub asn_pool_invalid: bool,
    /// The user automation logs in as (`automation-user`), and whether it
    /// gets passwordless sudo (`automation-sudo`, default true).
    pub automation_user: Option<Sp<String>>,
    pub automation_sudo: Option<Sp<bool>>,
    /// Settings every node starts from (the first layer of inheritance).
    pub defaults: Settings,
    /// How machines network-boot (`boot { … }`); `None`: no boot service.
    pub boot: Option<Boot>,
    pub span: Span,
}

/// Where the build output is served from when `serve-dir` is not given.
pub const DEFAULT_SERVE_DIR: &str = "/srv/siteconf";

/// The boot and seed service: what Kea tells a booting machine, the iPXE
/// scripts, the images they boot and the HTTP service that serves them.
///
/// Declared on the site for now; it is self-contained (it names no other
/// entity except through images) so that it can move to a shared
/// bootinfra entity serving several sites without changing shape.
#[derive(Debug, Clone)]
pub struct Boot {
    /// The boot servers' addresses: DHCP `next-server` (TFTP for PXE ROMs);
    /// the hosts that run the HTTP service.
    pub servers: Vec<Sp<Ipv4Addr>>,
    /// The HTTP base URL of scripts and seeds (`http://10.0.0.2`);
    /// default `http://<first server>`.
    pub base_url: Option<Sp<String>>,
    /// Where the build output is deployed on the boot server (absolute).
    pub serve_dir: Option<Sp<String>>,
    /// A local directory served under `/images/` (kernels, initrds).
    pub images_dir: Option<Sp<String>>,
    /// A local directory served under `/firmware/` (iPXE binaries).
    pub firmware_dir: Option<Sp<String>>,
    /// Firmware classes Kea answers; default: all of them.
    pub firmware: Vec<Sp<Firmware>>,
    pub unknown: Option<Sp<UnknownPolicy>>,
    /// The image unknown machines boot with `unknown "discover"`.
    pub discovery_image: Option<Sp<String>>,
    /// Addresses Kea may lease to unknown machines (inside `reserved`).
    pub discovery_ranges: Vec<Sp<IpRange>>,
    pub images: Vec<BootImage>,
    pub span: Span,
}

impl Boot {
    /// The HTTP base URL without a trailing slash.
    pub fn base_url(&self) -> Option<String> {
        match (&self.base_url, self.servers.first()) {
            (Some(u), _) => Some(u.value.trim_end_matches('/').to_string()),
            (None, Some(s)) => Some(format!("http://{}", s.value)),
            (None, None) => None,
        }
    }
    pub fn unknown(&self) -> UnknownPolicy {
        self.unknown
            .as_ref()
            .map(|u| u.value)
            .unwrap_or(UnknownPolicy::Report)
    }
    /// The firmware classes served: as declared, or all those the service
    /// can serve: `uefi-http` only with a `firmware-dir`, since Kea hands
    /// that firmware `<base-url>/firmware/ipxe.efi` and nginx serves
    /// `/firmware/` only from it (declared without one: SC1210).
    pub fn firmware(&self) -> Vec<Firmware> {
        if self.firmware.is_empty() {
            Firmware::ALL
                .iter()
                .map(|(_, f)| *f)
                .filter(|f| *f != Firmware::UefiHttp || self.firmware_dir.is_some())
                .collect()
        } else {
            let mut v: Vec<Firmware> = self.firmware.iter().map(|f| f.value).collect();
            v.sort();
            v.dedup();
            v
        }
    }
    pub fn image(&self, name: &str) -> Option<&BootImage> {
        self.images.iter().find(|i| i.name.value == name)
    }
}

/// A boot firmware class Kea recognises and answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Firmware {
    /// Legacy BIOS PXE ROM (arch 0): TFTP `undionly.kpxe`.
    Bios,
    /// UEFI x64 PXE (arch 7, 9): TFTP `ipxe.efi`.
    Uefi,
    /// iPXE (user class `iPXE`): the machine's script over HTTP.
    Ipxe,
    /// UEFI HTTP boot (arch 16): `ipxe.efi` over HTTP.
    UefiHttp,
}

impl Firmware {
    pub const ALL: &'static [(&'static str, Firmware)] = &[
        ("bios", Firmware::Bios),
        ("uefi", Firmware::Uefi),
        ("ipxe", Firmware::Ipxe),
        ("uefi-http", Firmware::UefiHttp),
    ];
    pub fn as_str(self) -> &'static str {
        Firmware::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("ipxe")
    }
}

/// What an unknown MAC gets from the boot service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnknownPolicy {
    /// Print and report the MAC (one HTTP request the server logs), wait,
    /// reboot; never boot an image.
    Report,
    /// Boot the discovery image (no seed of any node).
    Discover,
}

impl UnknownPolicy {
    pub const ALL: &'static [(&'static str, UnknownPolicy)] = &[
        ("report", UnknownPolicy::Report),
        ("discover", UnknownPolicy::Discover),
    ];
    pub fn as_str(self) -> &'static str {
        UnknownPolicy::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("report")
    }
}

/// An OS image a machine boots over the network.
#[derive(Debug, Clone)]
pub struct BootImage {
    pub name: Sp<String>,
    pub kernel: Sp<String>,
    pub initrds: Vec<Sp<String>>,
    /// A root image or installer URL: the script sets the iPXE variable
    /// `root-url` to it, so `args` can say `url=${root-url}`.
    pub root: Option<Sp<String>>,
    /// Kernel arguments (siteconf adds the seed's `ds=` itself).
    pub args: Option<Sp<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    Management,
    Storage,
    Loopback,
    Service,
    Other,
}

impl Purpose {
    pub const ALL: &'static [(&'static str, Purpose)] = &[
        ("management", Purpose::Management),
        ("storage", Purpose::Storage),
        ("loopback", Purpose::Loopback),
        ("service", Purpose::Service),
        ("other", Purpose::Other),
    ];
    pub fn as_str(self) -> &'static str {
        Purpose::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("other")
    }
}

#[derive(Debug, Clone)]
pub struct Network {
    pub name: Sp<String>,
    pub purpose: Sp<Purpose>,
    /// `purpose` was written but is not one (already reported): this
    /// may be the loopback network.
    pub purpose_invalid: bool,
    pub vlan: Option<Sp<u16>>,
    pub ipv4: Option<Sp<Ipv4Net>>,
    pub ipv6: Option<Sp<Ipv6Net>>,
    pub gateway4: Option<Sp<Ipv4Addr>>,
    pub gateway6: Option<Sp<Ipv6Addr>>,
    pub mtu: Option<Sp<u16>>,
    /// `vlan` / `mtu` was written but is not one (already reported): rules
    /// that read the network's VLAN id or MTU stay quiet rather than take
    /// "no VLAN" or the default 1500 for it.
    pub vlan_invalid: bool,
    pub mtu_invalid: bool,
    /// Ranges no node may be given (switches, VIPs, DHCP dynamic pools).
    pub reserved: Vec<Sp<IpRange>>,
    /// Where `auto` addresses are allocated from; the whole prefix when empty.
    pub pool: Vec<Sp<IpRange>>,
    /// Whether Kea serves reservations on this network (default: management).
    pub dhcp: Option<Sp<bool>>,
    /// An `ipv4` / `ipv6` prefix was written but is not one (already
    /// reported as such): rules about a network *without* that family stay
    /// quiet, so the typo is one finding, not one per address.
    pub prefix_invalid: [bool; 2],
    pub span: Span,
}

impl Network {
    pub fn mtu(&self) -> u16 {
        self.mtu.as_ref().map(|m| m.value).unwrap_or(1500)
    }
    pub fn dhcp(&self) -> bool {
        self.dhcp
            .as_ref()
            .map(|d| d.value)
            .unwrap_or(self.purpose.value == Purpose::Management)
    }
}

#[derive(Debug, Clone)]
pub struct Rack {
    pub name: Sp<String>,
    pub room: Option<Sp<String>>,
    pub row: Option<Sp<String>>,
    pub position: Option<Sp<u32>>,
    pub height: Sp<u32>,
    pub span: Span,
}

/// Where a device sits: rack, lowest unit it occupies, height in units.
#[derive(Debug, Clone)]
pub struct Placement {
    pub rack: Sp<String>,
    pub position: Sp<u32>,
    pub height: Sp<u32>,
}

impl Placement {
    /// The units occupied, lowest first.
    pub fn units(&self) -> std::ops::RangeInclusive<u32> {
        let top = self.position.value + self.height.value.max(1) - 1;
        self.position.value..=top
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SwitchRole {
    Tor,
    Spine,
    Border,
    Management,
}

impl SwitchRole {
    pub const ALL: &'static [(&'static str, SwitchRole)] = &[
        ("tor", SwitchRole::Tor),
        ("spine", SwitchRole::Spine),
        ("border", SwitchRole::Border),
        ("management", SwitchRole::Management),
    ];
    pub fn as_str(self) -> &'static str {
        SwitchRole::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("tor")
    }
}

#[derive(Debug, Clone)]
pub struct Switch {
    pub name: Sp<String>,
    pub placement: Option<Placement>,
    pub model: Option<Sp<String>>,
    pub role: Sp<SwitchRole>,
    pub asn: Option<Sp<u32>>,
    pub loopback4: Option<Sp<Ipv4Addr>>,
    pub loopback6: Option<Sp<Ipv6Addr>>,
    /// `asn` was written but is not an ASN (already reported).
    pub asn_invalid: bool,
    /// A loopback was written but is not an address (already reported).
    pub loopback_invalid: bool,
    /// `network-os`: the switch's `ansible_network_os`.
    pub network_os: Option<Sp<String>>,
    /// Port names, expanded from patterns such as `swp1-48`.
    pub ports: Vec<Sp<String>>,
    /// Switch-to-switch links (e.g. ToR to spine), by local port.
    pub links: Vec<SwitchLink>,
    /// `mlag-peer`: the other switch of this switch's MLAG pair, declared
    /// on one side or both (bond rules, SC0507/SC0513/SC0515).
    pub mlag_peer: Option<Sp<String>>,
    /// Routed ports with addresses (external peers' links, numbered node
    /// sessions on a connected subnet), by port.
    pub interfaces: Vec<SwitchInterface>,
    pub vars: Vars,
    pub span: Span,
}

/// A routed switch port: `interface swp50 address="192.0.2.2/29"`.
#[derive(Debug, Clone)]
pub struct SwitchInterface {
    pub port: Sp<String>,
    /// Interface addresses with their prefix length (`192.0.2.2/29`).
    pub addresses: Vec<Sp<ipnet::IpNet>>,
    /// Whether every address written parsed: rules about what the port
    /// reaches stay quiet about a port whose address is already reported.
    pub complete: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SwitchLink {
    pub port: Sp<String>,
    pub peer: Sp<String>,
    pub peer_port: Sp<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: Sp<String>,
    pub placement: Option<Placement>,
    pub model: Option<Sp<String>>,
    pub serial: Option<Sp<String>>,
    pub role: Option<Sp<String>>,
    pub profiles: Vec<Sp<String>>,
    pub settings: Settings,
    pub span: Span,
}

/// Settings shared by site defaults, profiles and nodes; merged in that
/// order by `crate::resolve`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub interfaces: Vec<Interface>,
    pub addresses: Vec<Address>,
    pub loopback: Option<Loopback>,
    pub bgp: Option<Bgp>,
    pub groups: Vec<Sp<String>>,
    pub packages: Vec<Sp<String>>,
    /// Shared (`Arc`): a repo or key defined once in a profile is the same
    /// value on every node, so resolution copies a pointer, not the strings.
    pub repos: Vec<Arc<Repo>>,
    pub ssh_keys: Vec<Arc<SshKey>>,
    pub sshd: Vec<SshdOption>,
    pub vars: Vars,
    /// The boot image (declared in the site's `boot`) a node boots.
    pub boot_image: Option<Sp<String>>,
    /// A `boot-image` was written but is not a name (already reported):
    /// rules about a node *without* an image stay quiet for the nodes
    /// that inherit this layer.
    pub boot_image_invalid: bool,
    /// Inherited lists and collections this layer clears before adding its
    /// own (`reset groups ssh-key`).
    pub reset: Vec<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InterfaceKind {
    Ethernet,
    Bond,
    Vlan,
}

impl InterfaceKind {
    pub const ALL: &'static [(&'static str, InterfaceKind)] = &[
        ("ethernet", InterfaceKind::Ethernet),
        ("bond", InterfaceKind::Bond),
        ("vlan", InterfaceKind::Vlan),
    ];
    pub fn as_str(self) -> &'static str {
        InterfaceKind::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("ethernet")
    }
}

/// An interface declaration. In a profile every field is optional; the
/// resolved node's interfaces are checked for completeness.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: Sp<String>,
    pub kind: Option<Sp<InterfaceKind>>,
    pub mac: Option<Sp<Mac>>,
    pub switch: Option<Sp<String>>,
    pub port: Option<Sp<String>>,
    pub mtu: Option<Sp<u16>>,
    /// Bond members.
    pub members: Vec<Sp<String>>,
    pub bond_mode: Option<Sp<String>>,
    /// Parent of a VLAN interface.
    pub link: Option<Sp<String>>,
    pub vlan: Option<Sp<u16>>,
    /// A `mac` was written but is not a MAC address (already reported as
    /// such): rules about a *missing* MAC stay quiet.
    pub mac_invalid: bool,
    /// A `kind` was written but is not one (already reported): rules
    /// about what the interface's kind requires stay quiet.
    pub kind_invalid: bool,
    /// An `mtu` / `vlan` was written but is not one (already reported):
    /// rules about the MTU in effect or a missing VLAN id stay quiet.
    pub mtu_invalid: bool,
    pub vlan_invalid: bool,
    pub span: Span,
}

/// An address request: fixed, or `auto` (allocated and kept in siteconf.lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddrSpec<T> {
    Fixed(T),
    Auto,
}

#[derive(Debug, Clone)]
pub struct Address {
    pub network: Sp<String>,
    pub interface: Option<Sp<String>>,
    pub ipv4: Option<Sp<AddrSpec<Ipv4Addr>>>,
    pub ipv6: Option<Sp<AddrSpec<Ipv6Addr>>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Loopback {
    pub ipv4: Option<Sp<AddrSpec<Ipv4Addr>>>,
    pub ipv6: Option<Sp<AddrSpec<Ipv6Addr>>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Bgp {
    pub asn: Option<Sp<AddrSpec<u32>>>,
    /// `asn` was written but is not an ASN or `auto` (already reported).
    pub asn_invalid: bool,
    pub sessions: Vec<BgpSession>,
    pub span: Span,
}

/// A session from a node to a switch: unnumbered over `interface`, or
/// numbered to `peer_address`.
#[derive(Debug, Clone)]
pub struct BgpSession {
    pub peer: Sp<String>,
    pub interface: Option<Sp<String>>,
    pub peer_address: Option<Sp<IpAddr>>,
    pub local_address: Option<Sp<IpAddr>>,
    /// What this end expects the far end's ASN to be (checked against the switch).
    pub remote_as: Option<Sp<u32>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub name: Sp<String>,
    pub types: Vec<Sp<String>>,
    pub uris: Vec<Sp<String>>,
    pub suites: Vec<Sp<String>>,
    pub components: Vec<Sp<String>>,
    pub signed_by: Option<Sp<String>>,
    pub architectures: Vec<Sp<String>>,
    pub enabled: Option<Sp<bool>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SshKey {
    pub name: Sp<String>,
    pub user: Sp<String>,
    pub key: Sp<String>,
    pub options: Option<Sp<String>>,
    pub span: Span,
}

/// One sshd keyword for the drop-in (`sshd { permit-root-login "prohibit-password" }`).
#[derive(Debug, Clone)]
pub struct SshdOption {
    pub key: Sp<String>,
    pub value: Sp<String>,
}

/// Free template variables: a JSON-like tree, with the span of each
/// top-level key kept for provenance.
///
/// A map whose only key is `secret`, holding a string, is a *secret
/// reference* (`ipmi_password secret="ipmi/r01"`, at any depth): the value
/// is not in the site files, and see [`secret_ref`] for what each reader
/// makes of it.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub entries: BTreeMap<String, (serde_json::Value, Span)>,
}

/// The key that makes a map in `vars` a secret reference.
pub const SECRET_KEY: &str = "secret";

/// The secret's name if `v` is a secret reference (`{"secret": "NAME"}` and
/// nothing else). Templates get an object they resolve with `secret(…)`;
/// Ansible gets a lookup of the secret's environment variable; `explain`
/// and JSON views show [`secret_display`]. The value itself exists only
/// inside a render.
pub fn secret_ref(v: &serde_json::Value) -> Option<&str> {
    match v {
        serde_json::Value::Object(m) if m.len() == 1 => m.get(SECRET_KEY)?.as_str(),
        _ => None,
    }
}

/// How a secret reference is shown where no value may appear: `secret:NAME`.
pub fn secret_display(name: &str) -> String {
    format!("secret:{name}")
}

/// `v` with every secret reference replaced by `f(name)`.
pub fn map_secret_refs(
    v: &serde_json::Value,
    f: &dyn Fn(&str) -> serde_json::Value,
) -> serde_json::Value {
    if let Some(name) = secret_ref(v) {
        return f(name);
    }
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), map_secret_refs(x, f)))
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(|x| map_secret_refs(x, f)).collect())
        }
        other => other.clone(),
    }
}

/// Every secret the site files reference, in declaration order: BGP
/// passwords, then `secret=` in `vars` (at the variable's key) of the site
/// defaults, profiles, nodes, switches and groups. A name referenced twice
/// is listed twice.
pub fn site_secret_references(site: &Site) -> Vec<(&str, crate::syntax::Span)> {
    let mut refs = Vec::new();
    for p in &site.bgp_peers {
        if let Some(pw) = &p.password {
            if let SecretSpec::Ref(name) = &pw.value {
                refs.push((name.as_str(), pw.span));
            }
        }
    }
    let vars = site
        .site
        .iter()
        .map(|s| &s.defaults.vars)
        .chain(site.profiles.iter().map(|p| &p.settings.vars))
        .chain(site.nodes.iter().map(|n| &n.settings.vars))
        .chain(site.switches.iter().map(|s| &s.vars))
        .chain(site.groups.iter().map(|g| &g.vars));
    let mut names = Vec::new();
    for v in vars {
        for (value, span) in v.entries.values() {
            // Only maps and lists can hold a reference.
            if !(value.is_object() || value.is_array()) {
                continue;
            }
            names.clear();
            secret_refs(value, &mut names);
            refs.extend(names.iter().map(|n| (*n, *span)));
        }
    }
    refs
}

/// Every secret reference in `v`, depth first.
pub fn secret_refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    if let Some(name) = secret_ref(v) {
        out.push(name);
        return;
    }
    match v {
        serde_json::Value::Object(m) => m.values().for_each(|x| secret_refs(x, out)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| secret_refs(x, out)),
        _ => {}
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: Sp<String>,
    pub includes: Vec<Sp<String>>,
    pub settings: Settings,
    pub span: Span,
}

/// An Ansible group with variables; nodes join it with `groups`.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: Sp<String>,
    pub vars: Vars,
    pub children: Vec<Sp<String>>,
    pub span: Span,
}

/// A reference to a secret, resolved at render time only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSpec {
    Ref(String),
    /// A literal password: kept only so validation can report it (the
    /// value itself is dropped at lowering and never reaches any output).
    Literal,
}

#[derive(Debug, Clone)]
pub struct BgpPeer {
    pub name: Sp<String>,
    pub asn: Sp<u32>,
    pub address: Sp<IpAddr>,
    pub password: Option<Sp<SecretSpec>>,
    /// The switches that hold this session.
    pub switches: Vec<Sp<String>>,
    pub description: Option<Sp<String>>,
    /// `multihop N`: the peer is N hops away (not on a switch's
    /// interface subnet); without it the session is single-hop.
    pub multihop: Option<Sp<u32>>,
    pub span: Span,
}

/// Name lookups over a [`Site`], built once after lowering.
#[derive(Debug, Default)]
pub struct SiteIndex {
    pub networks: BTreeMap<String, usize>,
    pub racks: BTreeMap<String, usize>,
    pub switches: BTreeMap<String, usize>,
    pub nodes: BTreeMap<String, usize>,
    pub profiles: BTreeMap<String, usize>,
    pub groups: BTreeMap<String, usize>,
    pub bgp_peers: BTreeMap<String, usize>,
}

impl SiteIndex {
    /// First declaration wins; duplicates are reported by validation.
    pub fn build(site: &Site) -> SiteIndex {
        fn index<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
            let mut m = BTreeMap::new();
            for (i, n) in names.enumerate() {
                m.entry(n.to_string()).or_insert(i);
            }
            m
        }
        SiteIndex {
            networks: index(site.networks.iter().map(|x| x.name.as_str())),
            racks: index(site.racks.iter().map(|x| x.name.as_str())),
            switches: index(site.switches.iter().map(|x| x.name.as_str())),
            nodes: index(site.nodes.iter().map(|x| x.name.as_str())),
            profiles: index(site.profiles.iter().map(|x| x.name.as_str())),
            groups: index(site.groups.iter().map(|x| x.name.as_str())),
            bgp_peers: index(site.bgp_peers.iter().map(|x| x.name.as_str())),
        }
    }
}

impl Site {
    /// The site's boot service (`site { boot { … } }`), if it has one.
    pub fn boot(&self) -> Option<&Boot> {
        self.site.as_ref().and_then(|i| i.boot.as_ref())
    }

    pub fn network<'a>(&'a self, ix: &SiteIndex, name: &str) -> Option<&'a Network> {
        ix.networks.get(name).map(|&i| &self.networks[i])
    }
    pub fn rack<'a>(&'a self, ix: &SiteIndex, name: &str) -> Option<&'a Rack> {
        ix.racks.get(name).map(|&i| &self.racks[i])
    }
    pub fn switch<'a>(&'a self, ix: &SiteIndex, name: &str) -> Option<&'a Switch> {
        ix.switches.get(name).map(|&i| &self.switches[i])
    }
    pub fn profile<'a>(&'a self, ix: &SiteIndex, name: &str) -> Option<&'a Profile> {
        ix.profiles.get(name).map(|&i| &self.profiles[i])
    }
    pub fn domain(&self) -> &str {
        self.site.as_ref().map(|s| s.domain.as_str()).unwrap_or("")
    }
}
