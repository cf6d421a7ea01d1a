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
mod items;
pub mod project;
mod sites;

use items::*;
pub use sites::generate_sites;

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
    s.push_str(GATE_POLICY);
    s
}

/// The starter `[gate]` policy of a new project (docs/review.md): what a
/// team reviews before it merges. Without one, `siteconf gate` blocks only
/// renumbering, and a change that removes a transit peer or touches every
/// node passes. Its globs are judged by SC0056 (`check --deny warnings`).
pub const GATE_POLICY: &str = "\n\
[gate]
# What `siteconf gate BASE HEAD --approved-by NAMES` holds back until one of
# the named approvers approves (docs/review.md). The policy of the branch a
# change merges into applies, so a change cannot relax its own gate.
# \"netops\" and \"sre-leads\" stand for your review tool's users or groups:
# replace them with yours.
#
# Blast radius: a change whose files change on more than this share of the
# running nodes (an MTU or SSH key in a profile, a template) needs approval.
# Nodes added do not count: a new rack changes no running machine.
max-nodes-percent = 25.0
approvers = [\"sre-leads\"]

# The BGP peers, the templates every machine's files come from, and this
# file (it holds the policy) need netops' approval when they change.
[[gate.owners]]
name = \"routing, templates and policy\"
paths = [\"**/bgp-peers.*\", \"templates/**\", \"siteconf.toml\"]
owners = [\"netops\"]

# A BGP session that goes away (an external peer, a switch link, a node's
# uplink, also when the node is removed): its traffic needs another path.
[[gate.rules]]
name = \"bgp-session-removed\"
on = \"bgp-session-removed\"
approvers = [\"netops\"]

# A BGP session changes: an external peer's ASN, or the AS either end runs
# (a switch's or node's own `asn`). The session resets, and a wrong AS
# takes the site's exit down.
[[gate.rules]]
name = \"external-peer-changed\"
on = \"bgp-session-changed\"
approvers = [\"netops\"]

# An Ansible group removed or renamed (renaming a profile renames its
# `profile_*` group): the plays that name it no longer match any host.
[[gate.rules]]
name = \"inventory-group-removed\"
on = \"inventory-group-removed\"
approvers = [\"sre-leads\"]
";

/// What every fake secret value `init` writes starts with: a secrets file
/// holding only such values has nothing to leak (see `siteconf build`'s
/// SC0030).
pub const FAKE_SECRET_PREFIX: &str = "example-only-not-a-real-password";

fn example_secrets() -> String {
    let mut s = schema_directive(SECRETS_FILE, SECRETS_SCHEMA);
    s.push_str(&format!(
        "# Secret values for `siteconf build`, by name. Never commit this file: the\n\
         # project's .gitignore keeps secrets/ out of git. `siteconf init` wrote FAKE\n\
         # values: replace them with the real ones, or set SITECONF_SECRET_<NAME>.\n\
         \"bgp/transit-a\" = \"{FAKE_SECRET_PREFIX}-a\"\n\
         \"bgp/transit-b\" = \"{FAKE_SECRET_PREFIX}-b\"\n",
    ));
    s
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
