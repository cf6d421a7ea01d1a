//! The template context: plain serialisable views of the resolved site.
//!
//! Templates see only these views (never the model with its spans), so
//! what a template may use is written down here, and `auto` values are
//! already replaced by their allocations. Views are built once per run;
//! node views are built in parallel and collected in site order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value as Json;

pub use crate::model::names::{group_name, port_key, sshd_keyword};
use crate::model::routing::{peer_path, PeerPath};
use crate::model::*;
use crate::resolve::effective::{EffAddress, EffNode, EffSession, EffSite, EffSwitch, SessionPath};
use crate::resolve::IpFamily;

#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub name: String,
    pub domain: String,
    pub dns_servers: Vec<String>,
    pub ntp_servers: Vec<String>,
    pub timezone: String,
    /// `automation-user`, if the site has one.
    pub automation_user: Option<AutomationUserView>,
    pub networks: Vec<NetworkView>,
    pub racks: Vec<RackView>,
    pub nodes: Vec<NodeView>,
    pub switches: Vec<SwitchView>,
    pub groups: Vec<GroupView>,
    pub bgp_peers: Vec<PeerView>,
    /// The boot service, when the site declares one.
    pub boot: Option<BootView>,
}

/// The site's `boot { … }` with its defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct BootView {
    pub servers: Vec<String>,
    /// Without a trailing slash: `http://10.0.0.2`.
    pub base_url: String,
    /// Where the build output lives on the boot server (absolute).
    pub serve_dir: String,
    pub images_dir: Option<String>,
    pub firmware_dir: Option<String>,
    /// `bios`, `uefi`, `ipxe`, `uefi-http`: the classes Kea answers.
    pub firmware: Vec<&'static str>,
    /// `report` or `discover`.
    pub unknown: &'static str,
    pub discovery_image: Option<ImageView>,
    /// `10.0.0.240-10.0.0.250`
    pub discovery_ranges: Vec<String>,
    pub images: Vec<ImageView>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImageView {
    pub name: String,
    pub kernel: String,
    pub initrds: Vec<String>,
    pub root: Option<String>,
    pub args: String,
}

pub use crate::model::DEFAULT_SERVE_DIR;

fn image_view(i: &BootImage) -> ImageView {
    ImageView {
        name: i.name.value.clone(),
        kernel: i.kernel.value.clone(),
        initrds: strings(&i.initrds),
        root: i.root.as_ref().map(|r| r.value.clone()),
        args: i.args.as_ref().map(|a| a.value.clone()).unwrap_or_default(),
    }
}

/// A directory path without its trailing slashes (`/` stays `/`).
fn dir(d: &str) -> String {
    match d.trim_end_matches('/') {
        "" => "/".to_string(),
        t => t.to_string(),
    }
}

fn boot_view(b: &Boot) -> Option<BootView> {
    let base_url = b.base_url()?;
    let discovery_image = match b.unknown() {
        UnknownPolicy::Discover => b
            .discovery_image
            .as_ref()
            .and_then(|n| b.image(&n.value))
            .map(image_view),
        UnknownPolicy::Report => None,
    };
    Some(BootView {
        servers: b.servers.iter().map(|s| s.value.to_string()).collect(),
        base_url,
        serve_dir: b
            .serve_dir
            .as_ref()
            .map(|d| dir(&d.value))
            .unwrap_or_else(|| DEFAULT_SERVE_DIR.to_string()),
        images_dir: b.images_dir.as_ref().map(|d| dir(&d.value)),
        firmware_dir: b.firmware_dir.as_ref().map(|d| dir(&d.value)),
        firmware: b.firmware().into_iter().map(Firmware::as_str).collect(),
        unknown: b.unknown().as_str(),
        discovery_image,
        discovery_ranges: b
            .discovery_ranges
            .iter()
            .map(|r| r.value.to_string())
            .collect(),
        images: b.images.iter().map(image_view).collect(),
    })
}

/// The user automation logs in as, and whether it gets passwordless sudo.
#[derive(Debug, Clone, Serialize)]
pub struct AutomationUserView {
    pub name: String,
    pub sudo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkView {
    pub name: String,
    pub purpose: &'static str,
    pub vlan: Option<u16>,
    /// `10.0.0.0/22`
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub gateway4: Option<String>,
    pub gateway6: Option<String>,
    pub mtu: u16,
    pub dhcp: bool,
    pub reserved: Vec<String>,
    pub pool: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RackView {
    pub name: String,
    pub room: Option<String>,
    pub row: Option<String>,
    pub position: Option<u32>,
    pub height: u32,
    /// Devices by position, lowest first.
    pub devices: Vec<RackDevice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RackDevice {
    pub name: String,
    /// `node` or `switch`
    pub kind: &'static str,
    pub role: String,
    pub position: u32,
    pub height: u32,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    pub network: String,
    pub purpose: &'static str,
    pub interface: Option<String>,
    /// `10.0.0.5`
    pub ipv4: Option<String>,
    /// `10.0.0.5/22`
    pub ipv4_cidr: Option<String>,
    pub ipv6: Option<String>,
    pub ipv6_cidr: Option<String>,
    pub gateway4: Option<String>,
    pub gateway6: Option<String>,
    pub vlan: Option<u16>,
    pub mtu: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct InterfaceView {
    pub name: String,
    /// `ethernet`, `bond` or `vlan`
    pub kind: &'static str,
    pub mac: Option<String>,
    pub switch: Option<String>,
    pub port: Option<String>,
    /// Effective MTU: the interface's own, else the largest MTU of the
    /// networks it carries, else 1500.
    pub mtu: u16,
    pub members: Vec<String>,
    pub mode: Option<String>,
    pub link: Option<String>,
    pub vlan: Option<u16>,
    /// Whether a BGP session runs over it (routed uplink).
    pub uplink: bool,
    /// The addresses on this interface (the node's own, shared).
    pub addresses: Vec<Arc<AddressView>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The far end (a switch name).
    pub peer: String,
    /// `unnumbered` or `numbered`
    pub mode: &'static str,
    pub interface: Option<String>,
    pub peer_port: Option<String>,
    pub peer_asn: Option<u32>,
    pub peer_address: Option<String>,
    /// The session's source: the declared `local-address`, else what the
    /// path needs (the node's loopback, or its address on the link).
    pub local_address: Option<String>,
    /// Numbered sessions: `connected` (single-hop over a routed switch
    /// port) or `fabric` (loopback to loopback); `None` when unnumbered.
    pub path: Option<&'static str>,
    /// Loopback sessions: source the session from this address.
    pub update_source: Option<String>,
    /// Loopback sessions: links between the two ends (1: directly
    /// attached, `disable-connected-check`; more: `ebgp-multihop N`).
    pub hops: Option<u32>,
    /// `ipv4` or `ipv6` (numbered sessions).
    pub family: Option<&'static str>,
    /// Connected sessions: the node's address on the link, `10.0.0.1/31`.
    pub local_cidr: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoView {
    pub name: String,
    pub types: Vec<String>,
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    pub signed_by: Option<String>,
    pub architectures: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SshKeyView {
    pub name: String,
    pub user: String,
    pub key: String,
    pub options: Option<String>,
    /// The authorized_keys line: `[options ]key`.
    pub line: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    pub name: String,
    pub fqdn: String,
    pub role: Option<String>,
    pub rack: Option<String>,
    pub position: Option<u32>,
    pub height: u32,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub profiles: Arc<Vec<String>>,
    /// Every Ansible group: declared groups, `role_<role>`, `rack_<rack>`,
    /// `profile_<profile>` (sorted, unique; `-` becomes `_`).
    pub groups: Arc<Vec<String>>,
    pub interfaces: Vec<InterfaceView>,
    // An address is one value, listed here, under its interface and as
    // `mgmt`.
    pub addresses: Vec<Arc<AddressView>>,
    /// The management address (first address on a management network).
    pub mgmt: Option<Arc<AddressView>>,
    pub loopback4: Option<String>,
    pub loopback6: Option<String>,
    pub asn: Option<u32>,
    pub sessions: Vec<SessionView>,
    // What nodes share (a profile's repos and keys, the site's settings)
    // is one value shared by them all: a fleet's view holds it once.
    pub repos: Vec<Arc<RepoView>>,
    pub ssh_keys: Vec<Arc<SshKeyView>>,
    /// authorized_keys lines by user (sorted by user).
    pub users: Arc<BTreeMap<String, Vec<String>>>,
    /// sshd keywords in sshd's spelling (`PermitRootLogin`) → value.
    pub sshd: Arc<BTreeMap<String, String>>,
    /// The drop-in's lines, `[keyword, value]`, in the order of `sshd`: a
    /// keyword sshd takes once per value (`ListenAddress`, `HostKey`,
    /// `HostCertificate`, `Port`) is one line per value, since sshd refuses
    /// a second value on its line.
    pub sshd_lines: Arc<Vec<(String, String)>>,
    pub packages: Arc<Vec<String>>,
    #[serde(serialize_with = "serialize_shared_vars")]
    pub vars: Arc<serde_json::Map<String, Json>>,
    pub dns_servers: Arc<Vec<String>>,
    pub ntp_servers: Arc<Vec<String>>,
    pub timezone: Arc<str>,
    pub domain: Arc<str>,
    /// The image the node network-boots (`boot-image`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_image: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownlinkView {
    pub port: String,
    pub node: String,
    pub interface: String,
    pub node_asn: Option<u32>,
    /// `unnumbered` or `numbered`
    pub mode: &'static str,
    /// Numbered sessions: the node's end (the neighbour address).
    pub node_address: Option<String>,
    /// Numbered sessions: `connected` or `fabric` (see [`SessionView`]).
    pub path: Option<&'static str>,
    /// Loopback sessions: this switch's loopback, the session's source.
    pub update_source: Option<String>,
    pub hops: Option<u32>,
    /// `ipv4` or `ipv6` (numbered sessions).
    pub family: Option<&'static str>,
}

/// A routed switch port with its addresses.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchInterfaceView {
    pub port: String,
    /// `192.0.2.2/29`
    pub ipv4: Vec<String>,
    pub ipv6: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SwitchLinkView {
    pub port: String,
    pub peer: String,
    pub peer_port: String,
    pub peer_asn: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerView {
    pub name: String,
    pub asn: u32,
    pub address: String,
    /// `ipv4` or `ipv6`
    pub family: &'static str,
    /// The secret's *name*; templates resolve it with `secret(name)`.
    pub password_secret: Option<String>,
    pub description: Option<String>,
    pub switches: Vec<String>,
    /// The declared `multihop` (hops to the peer); `None`: single-hop.
    pub multihop: Option<u32>,
    /// In a switch's view: the port whose subnet holds the peer.
    pub port: Option<String>,
    /// In a switch's view, multihop peers: its loopback of the peer's family.
    pub update_source: Option<String>,
}

/// A switch's `ansible_network_os` unless it sets `network-os`: the FRR
/// collection (`frr.frr`), whose `network_cli` plugins push FRR configs.
pub const DEFAULT_NETWORK_OS: &str = "frr.frr.frr";

#[derive(Debug, Clone, Serialize)]
pub struct SwitchView {
    pub name: String,
    pub fqdn: String,
    pub role: &'static str,
    pub rack: Option<String>,
    pub position: Option<u32>,
    pub height: u32,
    pub model: Option<String>,
    pub asn: Option<u32>,
    pub loopback4: Option<String>,
    pub loopback6: Option<String>,
    /// `ansible_network_os` (`network-os`, default [`DEFAULT_NETWORK_OS`]).
    pub network_os: String,
    pub ports: Vec<String>,
    /// Sessions from nodes that end on this switch, by port.
    pub downlinks: Vec<DownlinkView>,
    /// Switch-to-switch links, declared on either end.
    pub links: Vec<SwitchLinkView>,
    /// Routed ports with addresses, by port.
    pub interfaces: Vec<SwitchInterfaceView>,
    /// External peers this switch holds.
    pub peers: Vec<PeerView>,
    /// Prefixes of loopback networks (what nodes may announce).
    pub loopback_prefixes4: Vec<String>,
    pub loopback_prefixes6: Vec<String>,
    #[serde(serialize_with = "super::secrets::serialize_vars")]
    pub vars: serde_json::Map<String, Json>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub name: String,
    #[serde(serialize_with = "super::secrets::serialize_vars")]
    pub vars: serde_json::Map<String, Json>,
    pub children: Vec<String>,
    /// Member hosts' FQDNs (sorted).
    pub hosts: Vec<String>,
}

fn serialize_shared_vars<S: serde::Serializer>(
    vars: &Arc<serde_json::Map<String, Json>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    super::secrets::serialize_vars(vars, s)
}

fn vars_map(v: &Vars) -> serde_json::Map<String, Json> {
    v.entries
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect()
}

fn strings(v: &[Sp<String>]) -> Vec<String> {
    v.iter().map(|s| s.value.clone()).collect()
}

fn network_view(n: &Network) -> NetworkView {
    NetworkView {
        name: n.name.value.clone(),
        purpose: n.purpose.value.as_str(),
        vlan: n.vlan.as_ref().map(|v| v.value),
        ipv4: n.ipv4.as_ref().map(|p| p.value.to_string()),
        ipv6: n.ipv6.as_ref().map(|p| p.value.to_string()),
        gateway4: n.gateway4.as_ref().map(|g| g.value.to_string()),
        gateway6: n.gateway6.as_ref().map(|g| g.value.to_string()),
        mtu: n.mtu(),
        dhcp: n.dhcp(),
        reserved: n.reserved.iter().map(|r| r.value.to_string()).collect(),
        pool: n.pool.iter().map(|r| r.value.to_string()).collect(),
    }
}

/// Builds the views of the whole site. Call only on a site that checked
/// without errors: missing references are skipped, not reported, here.
pub fn site_view(eff: &EffSite) -> SiteView {
    view_of(eff, None)
}

/// The view of a sample of the site: only the nodes and switches at the
/// given indices of `eff.nodes` and `eff.switches` (in that order), the
/// groups they make, and the racks that hold them (the first rack when
/// none does). What `check` renders its sample of the templates with: a
/// render of it costs what a few devices cost, whatever the fleet's size.
pub fn sample_view(eff: &EffSite, nodes: &[usize], switches: &[usize]) -> SiteView {
    view_of(eff, Some((nodes, switches)))
}

/// What every device's view is made with: the site, and the values many
/// views share.
fn common_of<'a>(eff: &EffSite<'a>) -> Common<'a> {
    let site = eff.site;
    let info = site.site.as_ref();
    let domain = eff.domain.to_string();
    let dns_servers: Vec<String> = info
        .map(|s| s.dns_servers.iter().map(|d| d.value.to_string()).collect())
        .unwrap_or_default();
    let ntp_servers: Vec<String> = info.map(|s| strings(&s.ntp_servers)).unwrap_or_default();
    let timezone = info
        .and_then(|s| s.timezone.as_ref())
        .map(|t| t.value.clone())
        .unwrap_or_else(|| "Etc/UTC".to_string());
    Common {
        site,
        index: eff.index,
        shared: Shared::of(eff, &dns_servers, &ntp_servers, &timezone, &domain),
    }
}

/// Each switch's links from other switches, by the switch they reach.
fn links_to(site: &Site) -> BTreeMap<&str, Vec<(&Switch, &SwitchLink)>> {
    let mut links_to: BTreeMap<&str, Vec<(&Switch, &SwitchLink)>> = BTreeMap::new();
    for other in &site.switches {
        for l in &other.links {
            links_to
                .entry(l.peer.value.as_str())
                .or_default()
                .push((other, l));
        }
    }
    links_to
}

/// The shape ([`super::shape`]) of every node's view and, when asked,
/// every switch's, in site order. Two devices of one shape take the same branches of a
/// template that tests what a device has (`{% if node.serial %}`,
/// `node.vars.x.y`), which is what `check` renders one device of each
/// shape for ([`super::sample_picks`]). Each view is made, measured and
/// dropped, in parallel.
pub fn shapes(eff: &EffSite, with_switches: bool) -> (Vec<u64>, Vec<u64>) {
    let common = common_of(eff);
    let nodes = eff
        .nodes
        .par_iter()
        .map(|n| super::shape::of(&node_view(&common, n)))
        .collect();
    if !with_switches {
        return (nodes, Vec::new());
    }
    let links = links_to(eff.site);
    let switches = eff
        .switches
        .par_iter()
        .map(|s| {
            let back = links.get(s.name).map(Vec::as_slice).unwrap_or_default();
            super::shape::of(&switch_view(&common, eff, s, back))
        })
        .collect();
    (nodes, switches)
}

fn view_of(eff: &EffSite, sample: Option<(&[usize], &[usize])>) -> SiteView {
    let site = eff.site;
    let info = site.site.as_ref();
    let domain = eff.domain.to_string();
    let common = common_of(eff);
    let dns_servers: Vec<String> = common.shared.dns_servers.to_vec();
    let ntp_servers: Vec<String> = common.shared.ntp_servers.to_vec();
    let timezone = common.shared.timezone.to_string();
    let nodes: Vec<NodeView> = match sample {
        None => eff
            .nodes
            .par_iter()
            .map(|n| node_view(&common, n))
            .collect(),
        Some((picked, _)) => picked
            .iter()
            .filter_map(|i| eff.nodes.get(*i))
            .map(|n| node_view(&common, n))
            .collect(),
    };
    let links_to = links_to(site);
    // Each switch's view lists its downlinks: built in parallel, as the
    // nodes' are (collected in site order).
    let switch_view_of = |s: &EffSwitch| {
        let back = links_to.get(s.name).map(Vec::as_slice).unwrap_or_default();
        switch_view(&common, eff, s, back)
    };
    let switches: Vec<SwitchView> = match sample {
        None => eff.switches.par_iter().map(switch_view_of).collect(),
        Some((_, picked)) => picked
            .iter()
            .filter_map(|i| eff.switches.get(*i))
            .map(switch_view_of)
            .collect(),
    };
    let mut racks = rack_views(site);
    if sample.is_some() {
        let held = |r: &RackView| {
            r.devices.iter().any(|d| {
                nodes.iter().any(|n| n.name == d.name) || switches.iter().any(|s| s.name == d.name)
            })
        };
        let first = racks.first().map(|r| r.name.clone());
        racks.retain(|r| held(r) || Some(&r.name) == first.as_ref());
    }
    let mut groups: BTreeMap<String, GroupView> = BTreeMap::new();
    for g in &site.groups {
        groups.insert(
            group_name(&g.name.value),
            GroupView {
                name: group_name(&g.name.value),
                vars: vars_map(&g.vars),
                children: g.children.iter().map(|c| group_name(&c.value)).collect(),
                hosts: Vec::new(),
            },
        );
    }
    for n in &nodes {
        for g in n.groups.iter() {
            groups
                .entry(g.clone())
                .or_insert_with(|| GroupView {
                    name: g.clone(),
                    vars: Default::default(),
                    children: Vec::new(),
                    hosts: Vec::new(),
                })
                .hosts
                .push(n.fqdn.clone());
        }
    }
    for g in groups.values_mut() {
        g.hosts.sort();
    }
    SiteView {
        name: info.map(|s| s.name.value.clone()).unwrap_or_default(),
        domain: domain.clone(),
        dns_servers: dns_servers.clone(),
        ntp_servers: ntp_servers.clone(),
        timezone: timezone.clone(),
        automation_user: info.and_then(|s| {
            s.automation_user.as_ref().map(|u| AutomationUserView {
                name: u.value.clone(),
                sudo: s.automation_sudo.as_ref().is_none_or(|b| b.value),
            })
        }),
        networks: site.networks.iter().map(network_view).collect(),
        racks,
        nodes,
        switches,
        groups: groups.into_values().collect(),
        bgp_peers: site.bgp_peers.iter().map(peer_view).collect(),
        boot: info.and_then(|s| s.boot.as_ref()).and_then(boot_view),
    }
}

/// Every rack with the devices placed in it, by position.
pub fn rack_views(site: &Site) -> Vec<RackView> {
    let mut devices: BTreeMap<&str, Vec<RackDevice>> = BTreeMap::new();
    for n in &site.nodes {
        if let Some(p) = &n.placement {
            devices
                .entry(p.rack.value.as_str())
                .or_default()
                .push(RackDevice {
                    name: n.name.value.clone(),
                    kind: "node",
                    role: n.role.as_ref().map(|r| r.value.clone()).unwrap_or_default(),
                    position: p.position.value,
                    height: p.height.value,
                    model: n.model.as_ref().map(|m| m.value.clone()),
                });
        }
    }
    for s in &site.switches {
        if let Some(p) = &s.placement {
            devices
                .entry(p.rack.value.as_str())
                .or_default()
                .push(RackDevice {
                    name: s.name.value.clone(),
                    kind: "switch",
                    role: s.role.value.as_str().to_string(),
                    position: p.position.value,
                    height: p.height.value,
                    model: s.model.as_ref().map(|m| m.value.clone()),
                });
        }
    }
    site.racks
        .iter()
        .map(|r| rack_view(r, devices.remove(r.name.value.as_str()).unwrap_or_default()))
        .collect()
}

struct Common<'a> {
    site: &'a Site,
    index: &'a SiteIndex,
    shared: Shared,
}

/// The parts of node views that many nodes have the same: made once,
/// shared by every node that has them.
#[derive(Default)]
struct Shared {
    repos: HashMap<usize, Arc<RepoView>>,
    ssh_keys: HashMap<usize, Arc<SshKeyView>>,
    /// By the keys a node has, in order.
    users: HashMap<Vec<usize>, Arc<BTreeMap<String, Vec<String>>>>,
    dns_servers: Arc<Vec<String>>,
    ntp_servers: Arc<Vec<String>>,
    timezone: Arc<str>,
    domain: Arc<str>,
    /// What nodes of a profile have equal, found by value while their
    /// views are built: one copy for them all. A fleet's nodes share a
    /// few profiles, so each list is held a few times, not once a node.
    profiles: Pool<Vec<String>>,
    groups: Pool<Vec<String>>,
    packages: Pool<Vec<String>>,
    sshd: Pool<BTreeMap<String, String>>,
    sshd_lines: Pool<Vec<(String, String)>>,
    /// By the variables' JSON text: maps that are equal but list their
    /// keys in another order print differently, so they are not one value.
    vars: Mutex<HashMap<String, Arc<serde_json::Map<String, Json>>>>,
}

/// Values held once, shared by every view that has an equal one.
struct Pool<T>(Mutex<HashSet<Arc<T>>>);

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool(Mutex::new(HashSet::new()))
    }
}

impl<T: std::hash::Hash + Eq> Pool<T> {
    /// The pool's copy of `v`, which becomes the copy if it has none.
    fn get(&self, v: T) -> Arc<T> {
        let Ok(mut set) = self.0.lock() else {
            return Arc::new(v);
        };
        if let Some(a) = set.get(&v) {
            return a.clone();
        }
        let a = Arc::new(v);
        set.insert(a.clone());
        a
    }
}

impl Shared {
    fn vars(&self, v: serde_json::Map<String, Json>) -> Arc<serde_json::Map<String, Json>> {
        if v.is_empty() {
            return Arc::new(v);
        }
        let (Ok(key), Ok(mut m)) = (serde_json::to_string(&v), self.vars.lock()) else {
            return Arc::new(v);
        };
        m.entry(key).or_insert_with(|| Arc::new(v)).clone()
    }
}

/// A shared value of the site (a profile's repo or key) by its address:
/// only compared, never followed, while the site holds the value.
fn id<T>(a: &Arc<T>) -> usize {
    Arc::as_ptr(a) as usize
}

impl Shared {
    fn of(eff: &EffSite, dns: &[String], ntp: &[String], timezone: &str, domain: &str) -> Shared {
        let mut s = Shared {
            dns_servers: Arc::new(dns.to_vec()),
            ntp_servers: Arc::new(ntp.to_vec()),
            timezone: timezone.into(),
            domain: domain.into(),
            ..Shared::default()
        };
        for n in &eff.nodes {
            let st = &n.resolved.settings;
            for r in &st.repos {
                s.repos
                    .entry(id(r))
                    .or_insert_with(|| Arc::new(repo_view(r)));
            }
            for k in &st.ssh_keys {
                s.ssh_keys
                    .entry(id(k))
                    .or_insert_with(|| Arc::new(ssh_key_view(k)));
            }
            let ids: Vec<usize> = st.ssh_keys.iter().map(id).collect();
            if !s.users.contains_key(&ids) {
                let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for k in &ids {
                    let k = &s.ssh_keys[k];
                    users
                        .entry(k.user.clone())
                        .or_default()
                        .push(k.line.clone());
                }
                s.users.insert(ids, Arc::new(users));
            }
        }
        s
    }
}

fn repo_view(rp: &Repo) -> RepoView {
    RepoView {
        name: rp.name.value.clone(),
        types: if rp.types.is_empty() {
            vec!["deb".to_string()]
        } else {
            strings(&rp.types)
        },
        uris: strings(&rp.uris),
        suites: strings(&rp.suites),
        components: strings(&rp.components),
        signed_by: rp.signed_by.as_ref().map(|s| s.value.clone()),
        architectures: strings(&rp.architectures),
        enabled: rp.enabled.as_ref().map(|e| e.value).unwrap_or(true),
    }
}

fn ssh_key_view(k: &SshKey) -> SshKeyView {
    // A key pasted from `cat id.pub` ends with its line break (`\n`,
    // `\r\n`): it is not part of the key, and is dropped as an inline
    // `signed-by` key's is. A break inside the key is SC0018.
    let key = k.key.value.trim_matches(['\n', '\r']);
    SshKeyView {
        name: k.name.value.clone(),
        user: k.user.value.clone(),
        key: key.to_string(),
        options: k.options.as_ref().map(|o| o.value.clone()),
        line: match &k.options {
            Some(o) => format!("{} {}", o.value, key),
            None => key.to_string(),
        },
    }
}

fn peer_view(p: &BgpPeer) -> PeerView {
    PeerView {
        name: p.name.value.clone(),
        asn: p.asn.value,
        address: p.address.value.to_string(),
        family: if p.address.value.is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        },
        password_secret: match p.password.as_ref().map(|s| &s.value) {
            Some(SecretSpec::Ref(r)) => Some(r.clone()),
            _ => None,
        },
        description: p.description.as_ref().map(|d| d.value.clone()),
        switches: strings(&p.switches),
        multihop: p.multihop.as_ref().map(|m| m.value),
        port: None,
        update_source: None,
    }
}

/// A peer as one switch holding it sees it: the port it is reached on, or
/// the loopback a multihop session is sourced from.
fn peer_view_on(p: &BgpPeer, sw: &Switch) -> PeerView {
    let mut v = peer_view(p);
    match peer_path(sw, p.address.value, v.multihop) {
        Some(PeerPath::Connected { port, .. }) => v.port = Some(port.to_string()),
        Some(PeerPath::Multihop { source, .. }) => v.update_source = source.map(|s| s.to_string()),
        None => {}
    }
    v
}

fn rack_view(r: &Rack, mut devices: Vec<RackDevice>) -> RackView {
    devices.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
    RackView {
        name: r.name.value.clone(),
        room: r.room.as_ref().map(|x| x.value.clone()),
        row: r.row.as_ref().map(|x| x.value.clone()),
        position: r.position.as_ref().map(|x| x.value),
        height: r.height.value,
        devices,
    }
}

fn address_view(a: &EffAddress) -> AddressView {
    AddressView {
        network: a.network.to_string(),
        purpose: a.purpose().as_str(),
        interface: a.interface.map(str::to_string),
        ipv4: a.ipv4.map(|ip| ip.value.to_string()),
        ipv4_cidr: a.ipv4_net().map(|n| n.to_string()),
        ipv6: a.ipv6.map(|ip| ip.value.to_string()),
        ipv6_cidr: a.ipv6_net().map(|n| n.to_string()),
        gateway4: a.gateway4().map(|g| g.to_string()),
        gateway6: a.gateway6().map(|g| g.to_string()),
        vlan: a.vlan(),
        mtu: a.mtu(),
    }
}

fn session_view(s: &EffSession) -> SessionView {
    let (path, update_source, hops, local_cidr) = match &s.path {
        SessionPath::Connected { local } => {
            (Some("connected"), None, None, Some(local.to_string()))
        }
        SessionPath::Fabric { local, hops } => {
            (Some("fabric"), Some(local.to_string()), Some(*hops), None)
        }
        SessionPath::Unnumbered { .. } | SessionPath::Unresolved => (None, None, None, None),
    };
    SessionView {
        peer: s.peer.to_string(),
        mode: s.mode(),
        interface: s.interface.clone(),
        peer_port: s.peer_port.clone(),
        peer_asn: s.peer_asn,
        peer_address: s.peer_address.map(|a| a.to_string()),
        local_address: s.local_address.map(|a| a.to_string()),
        path,
        update_source,
        hops,
        family: s.family().map(IpFamily::as_str),
        local_cidr,
    }
}

/// A node's view: the effective node serialised, with its settings.
fn node_view(c: &Common, n: &EffNode) -> NodeView {
    let node = n.node;
    let st = &n.resolved.settings;
    let addresses: Vec<Arc<AddressView>> = n
        .addresses
        .iter()
        .map(|a| Arc::new(address_view(a)))
        .collect();
    let interfaces = n
        .interfaces
        .iter()
        .map(|i| {
            let d = i.decl;
            InterfaceView {
                name: i.name.to_string(),
                kind: i.kind.as_str(),
                mac: d.mac.as_ref().map(|m| m.value.to_string()),
                switch: d.switch.as_ref().map(|s| s.value.clone()),
                port: d.port.as_ref().map(|s| s.value.clone()),
                mtu: i.mtu,
                members: strings(&d.members),
                mode: d.bond_mode.as_ref().map(|m| m.value.clone()),
                link: d.link.as_ref().map(|m| m.value.clone()),
                vlan: d.vlan.as_ref().map(|m| m.value),
                uplink: i.uplink,
                addresses: addresses
                    .iter()
                    .filter(|a| a.interface.as_deref() == Some(i.name))
                    .cloned()
                    .collect(),
            }
        })
        .collect::<Vec<_>>();
    let sh = &c.shared;
    let ssh_keys: Vec<Arc<SshKeyView>> = st
        .ssh_keys
        .iter()
        .map(|k| match sh.ssh_keys.get(&id(k)) {
            Some(v) => v.clone(),
            None => Arc::new(ssh_key_view(k)),
        })
        .collect();
    let ids: Vec<usize> = st.ssh_keys.iter().map(id).collect();
    let users = match sh.users.get(&ids) {
        Some(u) => u.clone(),
        None => {
            let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for k in &ssh_keys {
                users
                    .entry(k.user.clone())
                    .or_default()
                    .push(k.line.clone());
            }
            Arc::new(users)
        }
    };
    NodeView {
        name: n.name.to_string(),
        fqdn: n.fqdn.clone(),
        role: node.role.as_ref().map(|r| r.value.clone()),
        rack: node.placement.as_ref().map(|p| p.rack.value.clone()),
        position: node.placement.as_ref().map(|p| p.position.value),
        height: node.placement.as_ref().map(|p| p.height.value).unwrap_or(1),
        model: node.model.as_ref().map(|m| m.value.clone()),
        serial: node.serial.as_ref().map(|m| m.value.clone()),
        profiles: sh.profiles.get(n.resolved.profiles.clone()),
        groups: sh.groups.get(n.groups.clone()),
        interfaces,
        mgmt: n.mgmt.map(|k| addresses[k].clone()),
        addresses,
        loopback4: n.loopback4.map(|ip| ip.value.to_string()),
        loopback6: n.loopback6.map(|ip| ip.value.to_string()),
        asn: n.asn.map(|a| a.value),
        sessions: n.sessions.iter().map(session_view).collect(),
        repos: st
            .repos
            .iter()
            .map(|rp| match sh.repos.get(&id(rp)) {
                Some(v) => v.clone(),
                None => Arc::new(repo_view(rp)),
            })
            .collect(),
        ssh_keys,
        users,
        sshd: sh.sshd.get(
            st.sshd
                .iter()
                .map(|o| (sshd_keyword(&o.key.value), o.value.value.clone()))
                .collect(),
        ),
        sshd_lines: sh.sshd_lines.get(sshd_lines(&st.sshd)),
        packages: sh.packages.get(strings(&st.packages)),
        vars: sh.vars(vars_map(&st.vars)),
        dns_servers: sh.dns_servers.clone(),
        ntp_servers: sh.ntp_servers.clone(),
        timezone: sh.timezone.clone(),
        domain: sh.domain.clone(),
        boot_image: st.boot_image.as_ref().map(|b| b.value.clone()),
    }
}

fn switch_view(
    c: &Common,
    eff: &EffSite,
    es: &EffSwitch,
    back: &[(&Switch, &SwitchLink)],
) -> SwitchView {
    let s = es.decl;
    let name = es.name;
    let downlinks = es
        .downlinks
        .iter()
        // A session with no path (an unnumbered one over a bond, a VLAN or
        // a port cabled elsewhere; a numbered one nothing leads to) is an
        // error of `check`: the switch never gets a neighbour for it, let
        // alone one with no port.
        .filter(|d| eff.downlink(d).1.path != SessionPath::Unresolved)
        .map(|d| {
            let (n, sess) = eff.downlink(d);
            let v = session_view(sess);
            // A loopback session is sourced from this switch's loopback.
            let update_source = match (&sess.path, sess.family()) {
                (SessionPath::Fabric { .. }, Some(IpFamily::V6)) => {
                    s.loopback6.as_ref().map(|l| l.value.to_string())
                }
                (SessionPath::Fabric { .. }, _) => {
                    s.loopback4.as_ref().map(|l| l.value.to_string())
                }
                _ => None,
            };
            DownlinkView {
                // An unnumbered neighbour is named by the port its path
                // ends on, which is never empty.
                port: match &sess.path {
                    SessionPath::Unnumbered { port } => port.clone(),
                    _ => v.peer_port.unwrap_or_default(),
                },
                node: n.name.to_string(),
                interface: v.interface.unwrap_or_default(),
                node_asn: n.asn.map(|a| a.value),
                mode: v.mode,
                node_address: v.local_address,
                path: v.path,
                update_source,
                hops: v.hops,
                family: v.family,
            }
        })
        .collect();
    let asn_of = |sw: &str| {
        c.site
            .switch(c.index, sw)
            .and_then(|x| x.asn.as_ref())
            .map(|a| a.value)
    };
    let mut links: Vec<SwitchLinkView> = s
        .links
        .iter()
        .map(|l| SwitchLinkView {
            port: l.port.value.clone(),
            peer: l.peer.value.clone(),
            peer_port: l.peer_port.value.clone(),
            peer_asn: asn_of(&l.peer.value),
        })
        .collect();
    // A link declared only on the other end is still a link of this switch.
    let mut ports: std::collections::BTreeSet<String> =
        links.iter().map(|l| l.port.clone()).collect();
    for (other, l) in back {
        if ports.insert(l.peer_port.value.clone()) {
            links.push(SwitchLinkView {
                port: l.peer_port.value.clone(),
                peer: other.name.value.clone(),
                peer_port: l.port.value.clone(),
                peer_asn: other.asn.as_ref().map(|a| a.value),
            });
        }
    }
    links.sort_by_key(|l| port_key(&l.port));
    let loopnets = c
        .site
        .networks
        .iter()
        .filter(|n| n.purpose.value == Purpose::Loopback);
    SwitchView {
        name: name.to_string(),
        fqdn: es.fqdn.clone(),
        role: s.role.value.as_str(),
        rack: s.placement.as_ref().map(|p| p.rack.value.clone()),
        position: s.placement.as_ref().map(|p| p.position.value),
        height: s.placement.as_ref().map(|p| p.height.value).unwrap_or(1),
        model: s.model.as_ref().map(|m| m.value.clone()),
        asn: s.asn.as_ref().map(|a| a.value),
        loopback4: s.loopback4.as_ref().map(|l| l.value.to_string()),
        loopback6: s.loopback6.as_ref().map(|l| l.value.to_string()),
        network_os: s
            .network_os
            .as_ref()
            .map(|o| o.value.clone())
            .unwrap_or_else(|| DEFAULT_NETWORK_OS.to_string()),
        ports: strings(&s.ports),
        downlinks,
        links,
        interfaces: s
            .interfaces
            .iter()
            .map(|i| SwitchInterfaceView {
                port: i.port.value.clone(),
                ipv4: i
                    .addresses
                    .iter()
                    .filter(|a| a.value.addr().is_ipv4())
                    .map(|a| a.value.to_string())
                    .collect(),
                ipv6: i
                    .addresses
                    .iter()
                    .filter(|a| a.value.addr().is_ipv6())
                    .map(|a| a.value.to_string())
                    .collect(),
            })
            .collect(),
        peers: c
            .site
            .bgp_peers
            .iter()
            .filter(|p| p.switches.iter().any(|x| x.value == name))
            .map(|p| peer_view_on(p, s))
            .collect(),
        loopback_prefixes4: loopnets
            .clone()
            .filter_map(|n| n.ipv4.as_ref().map(|p| p.value.to_string()))
            .collect(),
        loopback_prefixes6: loopnets
            .filter_map(|n| n.ipv6.as_ref().map(|p| p.value.to_string()))
            .collect(),
        vars: vars_map(&s.vars),
    }
}

/// The family of an address string, for templates.
pub fn family(addr: &str) -> &'static str {
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => "ipv6",
        _ => "ipv4",
    }
}

/// [`NodeView::sshd_lines`]: the keywords in `sshd`'s (sorted) order, each
/// value of a keyword sshd takes once per value on a line of its own.
fn sshd_lines(sshd: &[crate::model::SshdOption]) -> Vec<(String, String)> {
    let sorted: BTreeMap<String, &str> = sshd
        .iter()
        .map(|o| (sshd_keyword(&o.key.value), o.value.value.as_str()))
        .collect();
    sorted
        .into_iter()
        .flat_map(|(k, v)| {
            crate::validate::rules::sshd_options::value_lines(&k, v)
                .into_iter()
                .map(move |l| (k.clone(), l))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    const SITE: &str = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }
network loopback { purpose loopback; ipv4 "10.255.0.0/16"; reserved "10.255.0.1-10.255.0.255"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; mlag-peer r01-tor2; }
switch r01-tor2 { rack r01; position 41; asn 4201000012; loopback4 "10.255.0.2"; ports swp1-56; }
node r01n01 {
    rack r01; position 1; loopback ipv4=auto
    interface eno1 { mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }
    interface eno2 { mac "52:54:00:01:01:02"; switch r01-tor2; port swp1; }
    interface up0 { kind bond; members eno1 eno2; mode "802.3ad"; }
    bgp asn=auto { session r01-tor1 interface=up0; session r01-tor2 interface=eno2; }
}
"#;

    /// A session over a bond has no switch port: the switch gets no
    /// neighbour for it (never one with an empty port), while the session
    /// on a cabled port is rendered with its port.
    #[test]
    fn a_switch_never_gets_a_downlink_without_a_port() {
        let src = MemSource::new().with("site/site.kdl", SITE);
        let checked = crate::check::check(&src);
        assert!(checked.diags.has_errors(), "SC0635 refuses the site");
        let eff = checked.effective();
        let n = &eff.nodes[0];
        assert_eq!(n.sessions[0].path, SessionPath::Unresolved);
        assert_eq!(
            n.sessions[1].path,
            SessionPath::Unnumbered {
                port: "swp1".into()
            }
        );
        let view = site_view(&eff);
        let tor1 = view.switches.iter().find(|s| s.name == "r01-tor1").unwrap();
        assert!(tor1.downlinks.is_empty(), "{:?}", tor1.downlinks);
        let tor2 = view.switches.iter().find(|s| s.name == "r01-tor2").unwrap();
        let ports: Vec<&str> = tor2.downlinks.iter().map(|d| d.port.as_str()).collect();
        assert_eq!(ports, ["swp1"]);
    }
}
