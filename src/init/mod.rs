//! `siteconf init`: a complete, valid site generated in memory.
//!
//! [`generate`] returns the site of a new project (`siteconf.toml`, a
//! secrets file of fake values and `site/`) as `(path, contents)` pairs;
//! [`project_files`] adds what makes it a project from its first commit
//! (the lock, `.gitignore`, the pre-commit and CI configuration, the JSON
//! Schemas its TOML files name); the CLI writes them. The output depends on the options only — no clock, no
//! randomness, no host names — so the same arguments give byte-identical
//! files, and the example site in this repository is checked against it.
//!
//! The site is meant to look like a real one and to pass `siteconf check`
//! as it stands, at any size up to [`MAX_NODES`]:
//! - 42U racks with two 1U top-of-rack switches at the top (U42 `tor1`,
//!   U41 `tor2`), nodes stacked from U1: control and compute 1U, storage 2U,
//!   never more than 40 nodes or 40U of nodes per rack;
//! - three control nodes spread over the first racks, every fourth other
//!   node a storage node, the rest compute;
//! - every node with `eno1`/`eno2` uplinks to the two ToRs (MTU 9000,
//!   unnumbered BGP to both), a management NIC `eno3` on a high port of
//!   `tor1`, and (compute, storage) a storage VLAN on an LACP bond;
//! - networks sized from the node count, loopbacks of the switches fixed in
//!   a range the loopback network reserves, so allocation of node loopbacks
//!   can never collide with them.

mod emit;
pub mod project;

pub use project::{project_files, Ci};

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

use crate::project::{schema_directive, CONFIG_FILE, CONFIG_SCHEMA, SECRETS_SCHEMA, SITE_SCHEMA};
use crate::syntax::Format;
use emit::{block, comment, list, named, prop, val, Item};

/// The largest site `init` generates. Beyond it the address plan (one
/// IPv4 /13 per network) and the ASN pool would need another shape; a fleet
/// that size is several sites anyway.
pub const MAX_NODES: u32 = 250_000;

const RACK_HEIGHT: u32 = 42;
/// Units left for nodes under the two 1U ToR switches.
const NODE_UNITS: u32 = RACK_HEIGHT - 2;
const MAX_NODES_PER_RACK: u32 = 40;
const SITE_NAME: &str = "dc1";
const DOMAIN: &str = "dc1.example.net";
const ASN_POOL: (u32, u32) = (4_200_000_000, 4_200_999_999);
/// Switch ASNs sit outside the node pool: `4201000000 + rack * 10 + plane`.
const SWITCH_ASN_BASE: u32 = 4_201_000_000;
const MGMT_VLAN: u32 = 100;
const STORAGE_VLAN: u32 = 200;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub nodes: u32,
    /// Number of racks; `None` for the fewest that hold the nodes.
    pub racks: Option<u32>,
    pub format: Format,
}

/// Options that cannot give a valid site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError {
    pub message: String,
    pub help: String,
}

/// A generated project.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `(path relative to the project root, contents)`, in a fixed order.
    pub files: Vec<(String, String)>,
    pub racks: u32,
    pub control: u32,
    pub compute: u32,
    pub storage: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Control,
    Compute,
    Storage,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Control => "control",
            Role::Compute => "compute",
            Role::Storage => "storage",
        }
    }
    fn height(self) -> u32 {
        match self {
            Role::Storage => 2,
            Role::Control | Role::Compute => 1,
        }
    }
    fn model(self) -> &'static str {
        match self {
            Role::Control => "Dell PowerEdge R650",
            Role::Compute => "Dell PowerEdge R6625",
            Role::Storage => "Dell PowerEdge R760xd2",
        }
    }
    /// Whether the node has the storage bond and VLAN.
    fn on_storage_net(self) -> bool {
        self != Role::Control
    }
}

/// How many of the `nodes` go to rack `r` (0-based) of `racks`: as even as
/// possible, the first racks taking one more.
fn rack_size(nodes: u32, racks: u32, r: u32) -> u32 {
    nodes / racks + u32::from(r < nodes % racks)
}

/// The roles of the nodes of rack `r`, bottom to top. Control node `k`
/// (k < 3) sits in rack `k % racks`, so the control plane spans failure
/// domains; of the other nodes of a rack every fourth is a storage node.
fn rack_roles(nodes: u32, racks: u32, r: u32) -> Vec<Role> {
    let n = rack_size(nodes, racks, r);
    let controls = (0..nodes.min(3)).filter(|k| k % racks == r).count() as u32;
    (0..n)
        .map(|slot| {
            if slot < controls {
                Role::Control
            } else if (slot - controls) % 4 == 3 {
                Role::Storage
            } else {
                Role::Compute
            }
        })
        .collect()
}

/// Whether every rack holds its nodes (count and units), computed without
/// building the layout so that searching for the fewest racks stays cheap.
fn fits(nodes: u32, racks: u32) -> bool {
    // Rack 0 is the fullest; rack 3 is the fullest without a control node
    // (so with the most storage nodes); later racks hold no more than it.
    (0..racks.min(4)).all(|r| {
        let n = rack_size(nodes, racks, r);
        let controls = (0..nodes.min(3)).filter(|k| k % racks == r).count() as u32;
        let storage = (n - controls.min(n)) / 4;
        n <= MAX_NODES_PER_RACK && n + storage <= NODE_UNITS
    })
}

/// The fewest racks that hold `nodes`.
fn min_racks(nodes: u32) -> u32 {
    let mut r = nodes.div_ceil(MAX_NODES_PER_RACK).max(1);
    while !fits(nodes, r) {
        r += 1;
    }
    r
}

/// The address plan, sized from the node and rack counts.
struct Plan {
    racks: u32,
    rack_width: usize,
    mgmt4: Ipv4Net,
    storage4: Ipv4Net,
    loopback4: Ipv4Net,
    /// Addresses at the start of the loopback network kept for switches.
    loopback_reserved: u32,
}

const MGMT6: &str = "2001:db8:0:100::";
const STORAGE6: &str = "2001:db8:0:200::";
const LOOPBACK6: &str = "2001:db8:0:ff00::";

/// The smallest IPv4 prefix (no smaller than a /16) holding `need` addresses.
fn prefix_len_for(need: u64) -> Option<u8> {
    (8..=16u8).rev().find(|&p| (1u64 << (32 - p)) >= need)
}

/// Room to grow: a quarter more than today's nodes, plus network and
/// broadcast address.
fn with_headroom(n: u32) -> u64 {
    u64::from(n) + u64::from(n) / 4 + 2
}

impl Plan {
    fn new(nodes: u32, racks: u32) -> Result<Plan, InitError> {
        let too_big = || InitError {
            message: format!("{nodes} nodes do not fit the address plan of `siteconf init`"),
            help: format!("generate at most {MAX_NODES} nodes"),
        };
        let storage_nodes: u32 = (0..racks)
            .map(|r| {
                rack_roles(nodes, racks, r)
                    .iter()
                    .filter(|x| x.on_storage_net())
                    .count() as u32
            })
            .sum();
        // The first /24 of the management network is reserved for the
        // gateway, resolvers and virtual IPs.
        let mgmt_len = prefix_len_for(256 + with_headroom(nodes)).ok_or_else(too_big)?;
        let storage_len = prefix_len_for(with_headroom(storage_nodes)).ok_or_else(too_big)?;
        // Switch loopbacks take whole /24s at the start of the loopback network.
        let loopback_reserved = (2 * racks + 1).div_ceil(256) * 256;
        let loopback_len = prefix_len_for(u64::from(loopback_reserved) + with_headroom(nodes))
            .ok_or_else(too_big)?;
        let ten = u32::from(Ipv4Addr::new(10, 0, 0, 0));
        let size = |len: u8| 1u32 << (32 - len);
        let mgmt_base = ten;
        // The storage network follows management, aligned to its own size.
        let storage_base =
            (mgmt_base + size(mgmt_len)).div_ceil(size(storage_len)) * size(storage_len);
        // Loopbacks come from the top of 10/8, where they are easy to spot.
        let loopback_base = ten + (1u32 << 24) - size(loopback_len);
        if storage_base + size(storage_len) > loopback_base {
            return Err(too_big());
        }
        let net =
            |base: u32, len: u8| Ipv4Net::new(Ipv4Addr::from(base), len).map_err(|_| too_big());
        Ok(Plan {
            racks,
            rack_width: racks.to_string().len().max(2),
            mgmt4: net(mgmt_base, mgmt_len)?,
            storage4: net(storage_base, storage_len)?,
            loopback4: net(loopback_base, loopback_len)?,
            loopback_reserved,
        })
    }

    fn rack_name(&self, r: u32) -> String {
        format!("r{:0w$}", r + 1, w = self.rack_width)
    }

    fn switch_name(&self, r: u32, plane: u32) -> String {
        format!("{}-tor{plane}", self.rack_name(r))
    }

    fn mgmt_host(&self, n: u32) -> String {
        Ipv4Addr::from(u32::from(self.mgmt4.network()) + n).to_string()
    }

    /// Switch `k` (1-based over the site) gets the k-th loopback address.
    fn switch_loopback4(&self, k: u32) -> String {
        Ipv4Addr::from(u32::from(self.loopback4.network()) + k).to_string()
    }
}

fn v6(prefix: &str, n: u32) -> String {
    let base: Ipv6Addr = prefix.parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
    Ipv6Addr::from(u128::from(base) + u128::from(n)).to_string()
}

/// Locally administered MAC: 52:54 + rack (16 bits) + slot + port, so that
/// for the first 255 racks it reads `52:54:00:RR:SS:PP`.
fn mac(rack: u32, slot: u32, port: u32) -> String {
    format!(
        "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
        (rack >> 8) & 0xff,
        rack & 0xff,
        slot,
        port
    )
}

/// A service-tag-like serial: three characters from a hash of the name,
/// four from the node's index scrambled by a bijection, so serials look
/// random but can never repeat within a site.
fn serial(name: &str, index: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZ";
    const SPACE: u64 = 31 * 31 * 31 * 31;
    let h = Sha256::digest(format!("siteconf init serial {name}").as_bytes());
    let mut out = String::with_capacity(7);
    for b in h.iter().take(3) {
        out.push(ALPHABET[usize::from(*b) % 31] as char);
    }
    // 467311 is prime to 31, so multiplication modulo 31^4 is a bijection.
    let mut x = (u64::from(index) + 1) * 467_311 % SPACE;
    let mut tail = [b'0'; 4];
    for t in tail.iter_mut().rev() {
        *t = ALPHABET[(x % 31) as usize];
        x /= 31;
    }
    out.extend(tail.iter().map(|&b| b as char));
    out
}

/// A syntactically valid ed25519 public key derived from `user`: the wire
/// format is `[u32 11]"ssh-ed25519"[u32 32][32 bytes]`, base64-encoded.
fn ssh_ed25519(user: &str, comment: &str) -> String {
    let key = Sha256::digest(format!("siteconf init ssh-ed25519 {user}").as_bytes());
    let mut blob = Vec::with_capacity(51);
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend_from_slice(&key[..32]);
    format!("ssh-ed25519 {} {comment}", STANDARD.encode(&blob))
}

/// Generates the project. Fails only on options that cannot give a valid
/// site (no nodes, too many, racks that cannot hold them).
pub fn generate(opts: &Options) -> Result<Generated, InitError> {
    let nodes = opts.nodes;
    if nodes == 0 {
        return Err(InitError {
            message: "a site needs at least one node".into(),
            help: "pass `--nodes N` with N ≥ 1".into(),
        });
    }
    if nodes > MAX_NODES {
        return Err(InitError {
            message: format!("{nodes} nodes is more than `siteconf init` generates"),
            help: format!("generate at most {MAX_NODES} nodes"),
        });
    }
    let least = min_racks(nodes);
    let racks = match opts.racks {
        None => least,
        Some(0) => {
            return Err(InitError {
                message: "a site needs at least one rack".into(),
                help: format!("pass `--racks R` with R ≥ {least}, or leave it out"),
            })
        }
        Some(r) if r > nodes => {
            return Err(InitError {
                message: format!("{r} racks for {nodes} nodes would leave racks empty"),
                help: format!("pass `--racks R` with {least} ≤ R ≤ {nodes}"),
            })
        }
        Some(r) if !fits(nodes, r) => {
            return Err(InitError {
                message: format!("{nodes} nodes do not fit in {r} racks"),
                help: format!(
                    "a {RACK_HEIGHT}U rack holds {NODE_UNITS}U of nodes under its two switches \
                     (storage nodes take 2U); pass `--racks {least}` or more, or leave it out"
                ),
            })
        }
        Some(r) => r,
    };
    let plan = Plan::new(nodes, racks)?;
    let ext = match opts.format {
        Format::Kdl => "kdl",
        Format::Toml => "toml",
    };
    let render = |items: &[Item]| match opts.format {
        Format::Kdl => emit::to_kdl(items),
        Format::Toml => emit::to_toml(items),
    };
    let header = format!(
        "Generated by `siteconf init --nodes {nodes} --racks {racks}`.\n\
         This is your site now: edit it, and run `siteconf check` after every change."
    );
    let mut files = vec![
        ("siteconf.toml".to_string(), project_config()),
        (SECRETS_FILE.to_string(), example_secrets()),
    ];
    let mut site_file = |name: &str, mut items: Vec<Item>| {
        items.insert(0, comment(header.clone()));
        let path = format!("site/{name}.{ext}");
        let mut text = match opts.format {
            // Editors validate a TOML site file against the site schema.
            Format::Toml => schema_directive(&path, SITE_SCHEMA),
            Format::Kdl => String::new(),
        };
        text.push_str(&render(&items));
        files.push((path, text));
    };
    site_file("site", site_items(&plan));
    site_file("networks", network_items(&plan));
    // Profiles and groups only for the roles the site has: a profile no
    // node uses, or a group no node is in, would be warned about.
    let present: Vec<Role> =
        (0..racks)
            .flat_map(|r| rack_roles(nodes, racks, r))
            .fold(Vec::new(), |mut v, r| {
                if !v.contains(&r) {
                    v.push(r);
                }
                v
            });
    let used = |name: &str| match name {
        "control" => present.contains(&Role::Control),
        "compute" => present.contains(&Role::Compute),
        "storage" => present.contains(&Role::Storage),
        "storage-net" => present.contains(&Role::Compute) || present.contains(&Role::Storage),
        _ => true,
    };
    let keep = |items: Vec<Item>| -> Vec<Item> {
        items
            .into_iter()
            .filter(|i| match i {
                Item::Block {
                    name: Some(name), ..
                } => used(name),
                _ => true,
            })
            .map(|i| match i {
                Item::Block {
                    key,
                    name: Some(name),
                    body,
                } if key == "group" => Item::Block {
                    key,
                    name: Some(name),
                    body: body
                        .into_iter()
                        .map(|b| match b {
                            Item::Value {
                                key,
                                vals,
                                list,
                                prop,
                            } if key == "children" => Item::Value {
                                vals: vals
                                    .into_iter()
                                    .filter(|v| match v {
                                        emit::Val::Str(s) => used(s),
                                        _ => true,
                                    })
                                    .collect(),
                                key,
                                list,
                                prop,
                            },
                            other => other,
                        })
                        .collect(),
                },
                other => other,
            })
            .collect()
    };
    site_file("profiles", keep(profile_items(&plan)));
    site_file("groups", keep(group_items()));
    site_file("bgp-peers", peer_items(&plan));
    let (mut control, mut compute, mut storage) = (0, 0, 0);
    let mut index = 0u32;
    for r in 0..racks {
        let roles = rack_roles(nodes, racks, r);
        for role in &roles {
            match role {
                Role::Control => control += 1,
                Role::Compute => compute += 1,
                Role::Storage => storage += 1,
            }
        }
        let items = rack_items(&plan, r, &roles, &mut index);
        site_file(&format!("racks/{}", plan.rack_name(r)), items);
    }
    Ok(Generated {
        files,
        racks,
        control,
        compute,
        storage,
    })
}

/// A project of several sites (`siteconf init --sites prod,lab`): the
/// site of [`generate`] once per name, under `sites/<name>/`, with the
/// profiles and groups shared under `common/` (docs/sites.md). Each site
/// gets its own name and domain (`<name>.example.net`), and MACs and
/// serials of its own, which must differ across sites; networks, VLANs,
/// racks and node names repeat, as each site is its own namespace.
pub fn generate_sites(opts: &Options, names: &[String]) -> Result<Generated, InitError> {
    let bad = |message: String| InitError {
        message,
        help: "give site names of letters, digits, `-` and `_`, each once, e.g. `--sites prod,lab`"
            .into(),
    };
    if names.is_empty() || names.len() > 200 {
        return Err(bad(format!("{} sites: give 1 to 200", names.len())));
    }
    for (i, n) in names.iter().enumerate() {
        let ok = !n.is_empty()
            && n != "bootinfra"
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok || names[..i].contains(n) {
            return Err(bad(format!("`{n}` cannot be a site name here")));
        }
    }
    let g = generate(opts)?;
    let mut files = Vec::new();
    for (path, text) in &g.files {
        if path == CONFIG_FILE {
            files.push((path.clone(), sites_config(names)));
            continue;
        }
        let Some(rest) = path.strip_prefix("site/") else {
            files.push((path.clone(), text.clone()));
            continue;
        };
        if rest.starts_with("profiles.") || rest.starts_with("groups.") {
            files.push((format!("common/{rest}"), text.clone()));
            continue;
        }
        for (i, name) in names.iter().enumerate() {
            // The first site keeps the generator's MACs and serials; the
            // others get their own (`52:54:0N:…`, `SN…`).
            let mut t = text.replace("dc1", name);
            if i > 0 {
                t = prefix_serials(&t.replace("52:54:00:", &format!("52:54:{:02x}:", i)), i);
            }
            files.push((format!("sites/{name}/{rest}"), t));
        }
    }
    let n = names.len() as u32;
    Ok(Generated {
        files,
        racks: g.racks * n,
        control: g.control * n,
        compute: g.compute * n,
        storage: g.storage * n,
    })
}

/// Every `serial` value with `S<i>` in front, however it is written
/// (`serial ABC`, `serial "0AB"`, `serial = "ABC"`).
fn prefix_serials(text: &str, i: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find("serial ") {
        let (head, tail) = rest.split_at(at + "serial ".len());
        out.push_str(head);
        let value_at = tail
            .find(|c: char| c != ' ' && c != '=' && c != '"')
            .unwrap_or(0);
        out.push_str(&tail[..value_at]);
        out.push_str(&format!("S{i}"));
        rest = &tail[value_at..];
    }
    out.push_str(rest);
    out
}

/// siteconf.toml of a project of several sites.
fn sites_config(names: &[String]) -> String {
    let single = project_config();
    let mut s = single.replacen(
        "site-dir = \"site\"\n",
        "# Several sites (docs/sites.md): shared definitions, then one table per site.\n\
         shared-dir = \"common\"\n",
        1,
    );
    for n in names {
        s.push_str(&format!("\n[sites.{n}]\ndir = \"sites/{n}\"\n"));
    }
    s
}

/// Where `init` puts the secret values the site names: a file inside the
/// project that its `.gitignore` keeps out of git (see [`project_files`]).
pub const SECRETS_FILE: &str = "secrets/local.toml";
/// The output directory of a generated project (`out-dir`).
pub const OUT_DIR: &str = "out";

fn project_config() -> String {
    let mut s = schema_directive(CONFIG_FILE, CONFIG_SCHEMA);
    s.push_str(&format!(
        "# siteconf project settings (paths are relative to this file).\n\
         site-dir = \"site\"\n\
         templates-dir = \"templates\"\n\
         out-dir = \"{OUT_DIR}\"\n\
         \n\
         [secrets]\n\
         # Secret values (the external BGP peers' passwords) never go into git.\n\
         # `siteconf build` takes each one from, first match wins:\n\
         #   1. the environment: SITECONF_SECRET_<NAME>, the name upper-cased with\n\
         #      `-`, `.` and `/` as `_` (bgp/transit-a: SITECONF_SECRET_BGP_TRANSIT_A);\n\
         #   2. the file below. `siteconf init` wrote fake values into it, so that the\n\
         #      site builds as it stands, and a .gitignore that keeps secrets/ out of\n\
         #      git: put the real values there or in the variables, or point `file`\n\
         #      at a file outside the repository. check, diff and gate never read them.\n\
         file = \"{SECRETS_FILE}\"\n"
    ));
    s
}

fn example_secrets() -> String {
    let mut s = schema_directive(SECRETS_FILE, SECRETS_SCHEMA);
    s.push_str(
        "# Secret values for `siteconf build`, by name. Never commit this file: the\n\
         # project's .gitignore keeps secrets/ out of git. `siteconf init` wrote FAKE\n\
         # values: replace them with the real ones, or set SITECONF_SECRET_<NAME>.\n\
         \"bgp/transit-a\" = \"example-only-not-a-real-password-a\"\n\
         \"bgp/transit-b\" = \"example-only-not-a-real-password-b\"\n",
    );
    s
}

fn site_items(plan: &Plan) -> Vec<Item> {
    vec![named(
        "site",
        SITE_NAME,
        vec![
            val("domain", DOMAIN),
            val("asn-pool", format!("{}-{}", ASN_POOL.0, ASN_POOL.1)),
            list("dns-servers", [plan.mgmt_host(2), plan.mgmt_host(3)]),
            list(
                "ntp-servers",
                [format!("ntp1.{DOMAIN}"), format!("ntp2.{DOMAIN}")],
            ),
            val("timezone", "Etc/UTC"),
            // Ansible logs in as `ansible` (its key is in profile `base`)
            // and may sudo (`automation-sudo` defaults to true).
            val("automation-user", "ansible"),
            // Every node gets a loopback and an ASN of its own: routing on
            // the host announces the loopback to both ToRs.
            block(
                "defaults",
                vec![
                    block("loopback", vec![prop("ipv4", "auto"), prop("ipv6", "auto")]),
                    block("bgp", vec![prop("asn", "auto")]),
                ],
            ),
        ],
    )]
}

fn network_items(plan: &Plan) -> Vec<Item> {
    let lo_first = plan.switch_loopback4(1);
    let lo_last = plan.switch_loopback4(plan.loopback_reserved - 1);
    vec![
        comment("Management: PXE, DHCP, SSH and Ansible reach nodes here (eno3).\nThe first /24 is kept for the gateway, resolvers and virtual IPs."),
        named(
            "network",
            "mgmt",
            vec![
                val("purpose", "management"),
                val("vlan", MGMT_VLAN),
                val("ipv4", plan.mgmt4.to_string()),
                val("ipv6", format!("{MGMT6}/64")),
                val("gateway4", plan.mgmt_host(1)),
                val("gateway6", v6(MGMT6, 1)),
                list(
                    "reserved",
                    [
                        format!("{}-{}", plan.mgmt_host(1), plan.mgmt_host(255)),
                        format!("{}-{}", v6(MGMT6, 1), v6(MGMT6, 0xff)),
                    ],
                ),
                val("dhcp", true),
            ],
        ),
        comment("Storage: a VLAN on each compute and storage node's LACP bond, jumbo frames."),
        named(
            "network",
            "storage",
            vec![
                val("purpose", "storage"),
                val("vlan", STORAGE_VLAN),
                val("ipv4", plan.storage4.to_string()),
                val("ipv6", format!("{STORAGE6}/64")),
                val("mtu", 9000u32),
            ],
        ),
        comment("Loopbacks, announced in BGP. The first addresses belong to the switches\n(fixed in their declarations); `reserved` keeps node allocation off them."),
        named(
            "network",
            "loopback",
            vec![
                val("purpose", "loopback"),
                val("ipv4", plan.loopback4.to_string()),
                val("ipv6", format!("{LOOPBACK6}/64")),
                list(
                    "reserved",
                    [
                        format!("{lo_first}-{lo_last}"),
                        format!(
                            "{}-{}",
                            v6(LOOPBACK6, 1),
                            v6(LOOPBACK6, plan.loopback_reserved - 1)
                        ),
                    ],
                ),
            ],
        ),
    ]
}

fn repo(name: &str, uri: &str, suites: &[&str], components: &[&str], key: &str) -> Item {
    named(
        "repo",
        name,
        vec![
            list("types", ["deb"]),
            list("uris", [uri]),
            list("suites", suites.iter().copied()),
            list("components", components.iter().copied()),
            val("signed-by", key),
        ],
    )
}

/// The site's own repository: built for amd64 only, signed with its own key.
fn internal_repo() -> Item {
    named(
        "repo",
        "internal",
        vec![
            list("types", ["deb"]),
            list("uris", [format!("https://apt.{DOMAIN}/internal")]),
            list("suites", ["bookworm"]),
            list("components", ["main"]),
            val("signed-by", "/etc/apt/keyrings/internal.gpg"),
            list("architectures", ["amd64"]),
            val("enabled", true),
        ],
    )
}

fn profile_items(plan: &Plan) -> Vec<Item> {
    let debian_key = "/usr/share/keyrings/debian-archive-keyring.gpg";
    let ops_key = |user: &str| {
        named(
            "ssh-key",
            user,
            vec![
                val("user", user),
                val("key", ssh_ed25519(user, &format!("{user}@ops.{DOMAIN}"))),
            ],
        )
    };
    vec![
        comment("Profiles: what nodes of a role share. A node lists its profiles; each\nprofile first applies the profiles it includes (see docs/site-format.md)."),
        named(
            "profile",
            "base",
            vec![
                list(
                    "packages",
                    ["chrony", "frr", "lldpd", "openssh-server", "python3", "sudo"],
                ),
                repo(
                    "debian",
                    "http://deb.debian.org/debian",
                    &["bookworm", "bookworm-updates"],
                    &["main", "non-free-firmware"],
                    debian_key,
                ),
                repo(
                    "debian-security",
                    "http://security.debian.org/debian-security",
                    &["bookworm-security"],
                    &["main", "non-free-firmware"],
                    debian_key,
                ),
                internal_repo(),
                ops_key("alice"),
                ops_key("bob"),
                named(
                    "ssh-key",
                    "ansible",
                    vec![
                        val("user", "ansible"),
                        val("key", ssh_ed25519("ansible", &format!("ansible@{DOMAIN}"))),
                        // Automation may only log in from the management network.
                        val("options", format!("from=\"{}\",no-agent-forwarding", plan.mgmt4)),
                    ],
                ),
                block(
                    "sshd",
                    vec![
                        val("permit-root-login", "prohibit-password"),
                        val("password-authentication", false),
                        val("kbd-interactive-authentication", false),
                        val("x11-forwarding", false),
                        val("max-auth-tries", 3u32),
                    ],
                ),
                named("interface", "eno1", vec![val("mtu", 9000u32)]),
                named("interface", "eno2", vec![val("mtu", 9000u32)]),
                named(
                    "address",
                    "mgmt",
                    vec![prop("interface", "eno3"), prop("ipv4", "auto")],
                ),
            ],
        ),
        named(
            "profile",
            "storage-net",
            vec![
                named("interface", "ens1f0", vec![val("mtu", 9000u32)]),
                named("interface", "ens1f1", vec![val("mtu", 9000u32)]),
                named(
                    "interface",
                    "bond0",
                    vec![
                        val("kind", "bond"),
                        list("members", ["ens1f0", "ens1f1"]),
                        val("mode", "802.3ad"),
                        val("mtu", 9000u32),
                    ],
                ),
                named(
                    "interface",
                    "storage0",
                    vec![
                        val("kind", "vlan"),
                        val("link", "bond0"),
                        val("vlan", STORAGE_VLAN),
                        val("mtu", 9000u32),
                    ],
                ),
                named(
                    "address",
                    "storage",
                    vec![
                        prop("interface", "storage0"),
                        prop("ipv4", "auto"),
                        prop("ipv6", "auto"),
                    ],
                ),
            ],
        ),
        named(
            "profile",
            "control",
            vec![
                list("include", ["base"]),
                list("groups", ["control"]),
                list("packages", ["haproxy", "keepalived", "mariadb-server", "rabbitmq-server"]),
                block(
                    "vars",
                    vec![
                        val("keepalived_vip", plan.mgmt_host(10)),
                        val("keepalived_router_id", 51u32),
                    ],
                ),
            ],
        ),
        named(
            "profile",
            "compute",
            vec![
                list("include", ["base", "storage-net"]),
                list("groups", ["compute"]),
                list("packages", ["qemu-system-x86", "libvirt-daemon-system"]),
                block(
                    "vars",
                    vec![block(
                        "nova",
                        vec![
                            val("cpu_allocation_ratio", emit::Val::Float(4.0)),
                            val("ram_allocation_ratio", emit::Val::Float(1.0)),
                            val("reserved_host_memory_mb", 8192u32),
                        ],
                    )],
                ),
            ],
        ),
        named(
            "profile",
            "storage",
            vec![
                list("include", ["base", "storage-net"]),
                list("groups", ["storage"]),
                list("packages", ["ceph-osd", "smartmontools"]),
                block(
                    "vars",
                    vec![block(
                        "ceph",
                        vec![
                            val("osd_memory_target", 4_294_967_296i64),
                            val("public_network", plan.storage4.to_string()),
                        ],
                    )],
                ),
            ],
        ),
    ]
}

fn group_items() -> Vec<Item> {
    vec![
        comment("Ansible groups. Nodes join them through `groups` in their profiles; every\nnode is also in `role_<role>`."),
        named(
            "group",
            "fleet",
            vec![
                list("children", ["control", "compute", "storage"]),
                block(
                    "vars",
                    vec![
                        val("ansible_user", "ansible"),
                        val("openstack_release", "2024.1"),
                    ],
                ),
            ],
        ),
        named(
            "group",
            "control",
            vec![block("vars", vec![val("openstack_api_workers", 8u32)])],
        ),
        named(
            "group",
            "compute",
            vec![block("vars", vec![val("nova_virt_type", "kvm")])],
        ),
        named(
            "group",
            "storage",
            vec![block("vars", vec![val("ceph_osd_objectstore", "bluestore")])],
        ),
    ]
}

fn peer_items(plan: &Plan) -> Vec<Item> {
    let tors = [plan.switch_name(0, 1), plan.switch_name(0, 2)];
    let peer = |name: &str, asn: u32, address: &str, description: &str| {
        named(
            "bgp-peer",
            name,
            vec![
                val("asn", asn),
                val("address", address),
                block("password", vec![prop("secret", format!("bgp/{name}"))]),
                list("switches", tors.iter().map(String::as_str)),
                val("description", description),
            ],
        )
    };
    vec![
        comment("External BGP peers, held by the first rack's ToR switches on their transit\nLAN port (swp51, with an address on each peer's subnet). Passwords are\nsecret references, resolved at build time and never written to git."),
        peer("transit-a", 64496, "192.0.2.1", "Transit provider A (IPv4)"),
        peer("transit-b", 64497, "2001:db8:ffff::1", "Transit provider B (IPv6)"),
    ]
}

/// The first rack's ToR port towards the external peers.
const TRANSIT_PORT: &str = "swp51";

/// Port plan of every ToR (see the comment written into each rack file).
const PORT_NOTE: &str =
    "Port plan of both ToRs: swp1-40 node uplinks (eno1 on tor1, eno2 on tor2);\n\
swp49 links to the same plane in the next rack, swp50 to the previous one;\n\
swp55-56 the MLAG peer link between tor1 and tor2; swp57-96 storage bond\n\
members (ens1f0 on tor1, ens1f1 on tor2); on tor1, swp97-136 management NICs (eno3).\n\
In the first rack, swp51 is the transit LAN: the external BGP peers' subnets.";

fn rack_items(plan: &Plan, r: u32, roles: &[Role], index: &mut u32) -> Vec<Item> {
    let rack = plan.rack_name(r);
    // 16 racks to a row, 20 rows to a hall.
    let (hall, row, pos) = (r / 320 + 1, (r / 16) % 20, r % 16 + 1);
    let mut items = vec![
        comment(PORT_NOTE),
        named(
            "rack",
            &rack,
            vec![
                val("room", format!("hall-{hall}")),
                val("row", ((b'A' + row as u8) as char).to_string()),
                val("position", pos),
                val("height", RACK_HEIGHT),
            ],
        ),
    ];
    for plane in 1..=2u32 {
        let me = plan.switch_name(r, plane);
        let k = 2 * r + plane;
        let mut ports = vec!["swp1-48", "swp49-56", "swp57-96"];
        if plane == 1 {
            ports.push("swp97-136");
        }
        let mut body = vec![
            val("rack", rack.as_str()),
            val("position", RACK_HEIGHT + 1 - plane),
            val("model", "NVIDIA SN4700"),
            val("role", "tor"),
            val("asn", SWITCH_ASN_BASE + (r + 1) * 10 + plane),
            val("loopback4", plan.switch_loopback4(k)),
            val("loopback6", v6(LOOPBACK6, k)),
            list("ports", ports),
        ];
        let link = |port: &str, peer: String, peer_port: &str| {
            named(
                "link",
                port,
                vec![val("peer", peer), val("peer-port", peer_port)],
            )
        };
        if r + 1 < plan.racks {
            body.push(link("swp49", plan.switch_name(r + 1, plane), "swp50"));
        }
        if r > 0 {
            body.push(link("swp50", plan.switch_name(r - 1, plane), "swp49"));
        }
        let other = plan.switch_name(r, 3 - plane);
        body.push(link("swp55", other.clone(), "swp55"));
        body.push(link("swp56", other, "swp56"));
        if r == 0 {
            // The external peers (see `peer_items`) are single-hop: each
            // ToR holding them has an address on their subnets.
            body.push(named(
                "interface",
                TRANSIT_PORT,
                vec![list(
                    "address",
                    [
                        format!("192.0.2.{}/29", 1 + plane),
                        format!("2001:db8:ffff::{}/64", 1 + plane),
                    ],
                )],
            ));
        }
        items.push(named("switch", &me, body));
    }
    let (tor1, tor2) = (plan.switch_name(r, 1), plan.switch_name(r, 2));
    let mut unit = 1;
    for (i, role) in roles.iter().enumerate() {
        let slot = i as u32 + 1;
        let name = format!("{rack}n{slot:02}");
        let nic = |ifname: &str, port_no: u32, switch: &str, port: String| {
            named(
                "interface",
                ifname,
                vec![
                    val("mac", mac(r + 1, slot, port_no)),
                    val("switch", switch),
                    val("port", port),
                ],
            )
        };
        let mut body = vec![val("rack", rack.as_str()), val("position", unit)];
        if role.height() != 1 {
            body.push(val("height", role.height()));
        }
        body.extend([
            val("model", role.model()),
            val("serial", serial(&name, *index)),
            val("role", role.name()),
            list("profiles", [role.name()]),
            nic("eno1", 1, &tor1, format!("swp{slot}")),
            nic("eno2", 2, &tor2, format!("swp{slot}")),
            nic("eno3", 3, &tor1, format!("swp{}", 96 + slot)),
        ]);
        if role.on_storage_net() {
            body.push(nic("ens1f0", 4, &tor1, format!("swp{}", 56 + slot)));
            body.push(nic("ens1f1", 5, &tor2, format!("swp{}", 56 + slot)));
        }
        body.push(block(
            "bgp",
            vec![
                named("session", &tor1, vec![prop("interface", "eno1")]),
                named("session", &tor2, vec![prop("interface", "eno2")]),
            ],
        ));
        items.push(named("node", &name, body));
        unit += role.height();
        *index += 1;
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_keys_have_the_ed25519_wire_header() {
        let k = ssh_ed25519("alice", "alice@x");
        // Every ed25519 key body starts with the encoded type header.
        assert!(
            k.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"),
            "{k}"
        );
        assert_eq!(k.split(' ').nth(1).map(str::len), Some(68));
        assert_ne!(k, ssh_ed25519("bob", "alice@x"));
    }

    #[test]
    fn serials_never_repeat() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..MAX_NODES {
            assert!(seen.insert(serial("n", i)[3..].to_string()));
        }
    }

    #[test]
    fn racks_hold_their_nodes() {
        for n in [1, 2, 3, 4, 39, 40, 41, 48, 200, 1000, 10_000, 100_000] {
            let r = min_racks(n);
            for rack in 0..r {
                let roles = rack_roles(n, r, rack);
                let units: u32 = roles.iter().map(|x| x.height()).sum();
                assert!(roles.len() as u32 <= MAX_NODES_PER_RACK && units <= NODE_UNITS);
            }
            assert!(
                r == 1 || !fits(n, r - 1),
                "{n} nodes: {r} racks is not the fewest"
            );
        }
    }

    #[test]
    fn control_nodes_span_the_first_racks() {
        let roles: Vec<Role> = (0..4).map(|r| rack_roles(48, 4, r)[0]).collect();
        assert_eq!(
            roles,
            [Role::Control, Role::Control, Role::Control, Role::Compute]
        );
        assert_eq!(
            rack_roles(2, 1, 0),
            [Role::Control, Role::Control],
            "a tiny site still gets its control nodes"
        );
    }

    #[test]
    fn bad_options_are_errors_not_panics() {
        let o = |nodes, racks| Options {
            nodes,
            racks,
            format: Format::Kdl,
        };
        assert!(generate(&o(0, None)).is_err());
        assert!(generate(&o(MAX_NODES + 1, None)).is_err());
        assert!(generate(&o(10, Some(0))).is_err());
        assert!(generate(&o(10, Some(11))).is_err());
        let e = generate(&o(40, Some(1))).unwrap_err();
        assert!(e.help.contains("--racks 2"), "{e:?}");
    }
}
#[cfg(test)]
mod sites_tests {
    use super::*;

    #[test]
    fn serials_get_a_prefix_however_written() {
        assert_eq!(
            prefix_serials("serial AB\nserial \"0C\"\nserial = \"D\"\n", 2),
            "serial S2AB\nserial \"S20C\"\nserial = \"S2D\"\n"
        );
    }

    #[test]
    fn a_generated_project_of_several_sites_passes_check() {
        for format in [Format::Kdl, Format::Toml] {
            let names = ["prod".to_string(), "lab".to_string(), "dc2".to_string()];
            let opts = Options {
                nodes: 6,
                racks: None,
                format,
            };
            let g = generate_sites(&opts, &names).expect("generated");
            let mut src = crate::source::MemSource::new();
            for (p, t) in &g.files {
                src.insert(p.clone(), t.as_bytes().to_vec());
            }
            let p = crate::check::check_project(&src, None, false);
            let sources = p.sources().cloned().unwrap_or_default();
            let found: Vec<String> = p
                .diags
                .sorted(&sources)
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            assert!(found.is_empty(), "{format:?}: {found:?}");
            assert_eq!(p.sites.len(), 3);
            assert_eq!(g.control + g.compute + g.storage, 18);
        }
    }
}
