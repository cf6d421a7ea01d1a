//! The first-boot network config on the kernel command line.
//!
//! cloud-init 22.4 (Debian 12) fetches only `meta-data`, `user-data` and
//! `vendor-data` from a `nocloud-net` HTTP seed, never `network-config`
//! (`DataSourceNoCloud`: `util.read_seeded` is given those three), and then
//! writes its fallback, DHCP on the first NIC, which on a routed node is a
//! BGP uplink with no DHCP server. It does read a network config from the
//! kernel command line, before any other source
//! (`stages._find_networking_config`, `net.cmdline.read_kernel_cmdline_config`):
//! `network-config=<base64 of the gzip of the YAML>`. So each node's iPXE
//! script passes its network-config there, next to `ds=`.
//!
//! The x86 kernel command line holds at most 2047 bytes (COMMAND_LINE_SIZE
//! 2048 with its NUL), and the kernel silently cuts a longer one, which
//! would leave cloud-init a truncated, undecodable argument. When the node's
//! whole network-config does not fit, it gets a management-only config (the
//! management interface matched by MAC, or its bond with the members matched
//! by MAC, its addresses, default routes and
//! name servers: enough to reach the seed's packages and Ansible; user-data
//! then installs the whole netplan file). When even that does not fit, the
//! build fails with SC1206 naming the node.

use std::io::Write as _;

use minijinja::{context, Environment, Value};
use serde_json::{json, Map, Value as Json};

use crate::render::context::{ImageView, InterfaceView, NodeView};
use crate::render::device::{kind_of, FileView};
use crate::render::engine::{base64, RenderFlags};

/// The longest kernel command line, without its terminating NUL.
pub const COMMAND_LINE_MAX: usize = 2047;

/// What iPXE puts before the arguments when it boots an EFI kernel: the
/// image's name (`--name kernel`) and a space, in the EFI load options the
/// kernel's EFI stub reads as its command line.
const EFI_NAME_PREFIX: usize = "kernel ".len();

/// The template of the seed's `network-config`.
pub const TEMPLATE: &str = "node/cloud-init/network-config.j2";

/// The node's netplan file (below its directory) and its template: what
/// the seed's `network-config` is made of (it reads it from `files`).
const NETPLAN: &str = "etc/netplan/50-siteconf.yaml";
const NETPLAN_TEMPLATE: &str = "node/etc/netplan/50-siteconf.yaml.j2";

/// Which config a node's command line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The node's whole network-config, as in its seed.
    Full,
    /// Only the management interface.
    Management,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Full => "full",
            Which::Management => "management-only",
        }
    }
}

/// `gzip` of `text`, deterministic: no file name, modification time 0.
pub fn gzip(text: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(text);
    enc.finish().unwrap_or_default()
}

/// The kernel argument for a network config: `network-config=` and the
/// base64 of its gzip (cloud-init's `_b64dgz` accepts both gzip and plain).
pub fn kernel_arg(config: &str) -> String {
    format!("network-config={}", base64(&gzip(config.as_bytes())))
}

/// The length of a command line as the kernel receives it: iPXE expands
/// `${root-url}` in the image's arguments before booting.
pub fn effective_len(cmdline: &str, image: &ImageView) -> usize {
    let expanded = match &image.root {
        Some(root) => cmdline.replace("${root-url}", root),
        None => cmdline.to_string(),
    };
    expanded.len() + EFI_NAME_PREFIX
}

/// The node's seed `network-config` rendered with the seed's own template;
/// `None` when the template fails (the node's own render reports it), makes
/// nothing, or resolved a secret (the iPXE script is served to anyone who
/// asks for it: a secret never goes there).
pub fn full_config(env: &Environment<'_>, site: &Value, node: &NodeView) -> Option<String> {
    let node = Value::from(minijinja::value::Serde(node));
    // `files` as the node's own render gives it, with the one file the
    // seed's network-config reads; none when the netplan template makes
    // none (as for the node).
    let netplan = render(
        env,
        NETPLAN_TEMPLATE,
        context! { node => node.clone(), site => site.clone() },
    )?;
    let files = match netplan.trim().is_empty() {
        true => Vec::new(),
        false => {
            let mode = 0o600;
            vec![FileView::new(
                NETPLAN,
                kind_of(NETPLAN),
                mode,
                netplan.as_bytes(),
            )]
        }
    };
    let files = FileView::values(files);
    let text = compact(&render(
        env,
        TEMPLATE,
        context! { node, site => site.clone(), files },
    )?);
    (!text.is_empty()).then_some(text)
}

/// One template's text; `None` when it fails or read a secret.
fn render(env: &Environment<'_>, template: &str, ctx: Value) -> Option<String> {
    crate::render::engine::begin_render();
    let cap = env.get_template(template).ok()?.render_captured(ctx).ok()?;
    let flags = cap
        .state()
        .get_extension::<RenderFlags>()
        .cloned()
        .unwrap_or_default();
    if flags.secret_used || !flags.missing_secrets.is_empty() {
        return None;
    }
    Some(cap.into_output())
}

/// The config without what YAML ignores: comment lines, blank lines and
/// trailing blanks. It is smaller on the command line, and does not depend
/// on the template engine's whitespace settings. A text with a block scalar
/// (`|`, `>`), where such lines are content, is only trimmed at the end.
pub fn compact(text: &str) -> String {
    let block_scalar = text.lines().any(|l| {
        let l = l.trim_end();
        ["|", ">", "|-", ">-", "|+", ">+"]
            .iter()
            .any(|ind| l.ends_with(&format!(" {ind}")) || l.ends_with(&format!(":{ind}")))
    });
    if block_scalar {
        let t = text.trim_end();
        return if t.is_empty() {
            String::new()
        } else {
            format!("{t}\n")
        };
    }
    let mut out = String::new();
    for l in text.lines() {
        let l = l.trim_end();
        if l.is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// A network config (version 2, as JSON, which is YAML) for the management
/// interface alone: matched by MAC and renamed, its static addresses, the
/// default routes of its network and the site's name servers. The
/// management address on a bond gets the bond with its members, each
/// matched by its MAC, as the full config has them. `None` when the node's
/// management address is on neither an Ethernet interface with a MAC nor
/// a bond whose members all have one.
pub fn management_config(node: &NodeView) -> Option<String> {
    let mgmt = node.mgmt.as_ref()?;
    let iface = node
        .interfaces
        .iter()
        .find(|i| Some(&i.name) == mgmt.interface.as_ref())?;
    // The Ethernet interfaces it needs, each with its MAC.
    let ports: Vec<(&InterfaceView, &String)> = match iface.kind {
        "ethernet" => vec![(iface, iface.mac.as_ref()?)],
        "bond" if !iface.members.is_empty() => iface
            .members
            .iter()
            .map(|m| {
                let i = node
                    .interfaces
                    .iter()
                    .find(|i| &i.name == m && i.kind == "ethernet")?;
                Some((i, i.mac.as_ref()?))
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let addresses: Vec<&String> = [&mgmt.ipv4_cidr, &mgmt.ipv6_cidr]
        .into_iter()
        .flatten()
        .collect();
    if addresses.is_empty() {
        return None;
    }
    let port = |i: &InterfaceView, mac: &String| {
        let mut eth = Map::new();
        eth.insert("match".into(), json!({ "macaddress": mac }));
        eth.insert("set-name".into(), json!(i.name));
        eth.insert("dhcp4".into(), json!(false));
        eth.insert("dhcp6".into(), json!(false));
        if i.mtu != 1500 {
            eth.insert("mtu".into(), json!(i.mtu));
        }
        eth
    };
    // What the interface carrying the address gets.
    let mut main = match iface.kind {
        "ethernet" => port(ports[0].0, ports[0].1),
        _ => {
            let mut b = Map::new();
            b.insert("interfaces".into(), json!(iface.members));
            if let Some(mode) = &iface.mode {
                b.insert("parameters".into(), json!({ "mode": mode }));
            }
            b.insert("dhcp4".into(), json!(false));
            b.insert("dhcp6".into(), json!(false));
            if iface.mtu != 1500 {
                b.insert("mtu".into(), json!(iface.mtu));
            }
            b
        }
    };
    main.insert("addresses".into(), json!(addresses));
    let metric = node.asn.map(|_| 1000);
    let mut routes = Vec::new();
    for (to, via, ok) in [
        ("0.0.0.0/0", &mgmt.gateway4, mgmt.ipv4.is_some()),
        ("::/0", &mgmt.gateway6, mgmt.ipv6.is_some()),
    ] {
        if let (Some(via), true) = (via, ok) {
            let mut r = Map::new();
            r.insert("to".into(), json!(to));
            r.insert("via".into(), json!(via));
            if let Some(m) = metric {
                r.insert("metric".into(), json!(m));
            }
            routes.push(Json::Object(r));
        }
    }
    if !routes.is_empty() {
        main.insert("routes".into(), Json::Array(routes));
    }
    let mut ns = Map::new();
    if !node.dns_servers.is_empty() {
        ns.insert("addresses".into(), json!(node.dns_servers));
    }
    if !node.domain.is_empty() {
        ns.insert("search".into(), json!([node.domain]));
    }
    if !ns.is_empty() {
        main.insert("nameservers".into(), Json::Object(ns));
    }
    let mut network = Map::new();
    network.insert("version".into(), json!(2));
    network.insert("renderer".into(), json!("networkd"));
    let mut ethernets = Map::new();
    if iface.kind == "ethernet" {
        ethernets.insert(iface.name.clone(), Json::Object(main));
        network.insert("ethernets".into(), Json::Object(ethernets));
    } else {
        for (i, mac) in &ports {
            ethernets.insert(i.name.clone(), Json::Object(port(i, mac)));
        }
        network.insert("ethernets".into(), Json::Object(ethernets));
        let mut bonds = Map::new();
        bonds.insert(iface.name.clone(), Json::Object(main));
        network.insert("bonds".into(), Json::Object(bonds));
    }
    let config = json!({ "network": Json::Object(network) });
    Some(format!("{config}\n"))
}

/// The command line with the node's network config appended, and which
/// config it is; `None` when not even the management-only config fits.
pub fn with_network_config(
    cmdline: &str,
    image: &ImageView,
    full: Option<&str>,
    management: Option<&str>,
) -> Option<(String, Which)> {
    [(full, Which::Full), (management, Which::Management)]
        .into_iter()
        .filter_map(|(c, w)| c.map(|c| (format!("{cmdline} {}", kernel_arg(c)), w)))
        .find(|(line, _)| effective_len(line, image) <= COMMAND_LINE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn image(args: &str) -> ImageView {
        ImageView {
            name: "x".into(),
            kernel: "http://a/k".into(),
            initrds: vec![],
            root: Some("http://a/root.squashfs".into()),
            args: args.into(),
        }
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let text = b"network:\n  version: 2\n";
        let a = gzip(text);
        assert_eq!(a, gzip(text));
        // No mtime, no file name (FLG = 0).
        assert_eq!(&a[3..8], &[0, 0, 0, 0, 0]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&a[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.as_bytes(), text);
    }

    #[test]
    fn compact_drops_what_yaml_ignores() {
        assert_eq!(
            compact("# c\nnetwork:\n\n  # c\n  version: 2   \n  a: \"#x\"\n"),
            "network:\n  version: 2\n  a: \"#x\"\n"
        );
        assert_eq!(compact("a: |\n  # kept\n\n"), "a: |\n  # kept\n");
    }

    #[test]
    fn falls_back_then_gives_up() {
        let img = image("console=ttyS0 fetch=${root-url}");
        let small = "network: {version: 2}\n";
        let (_, w) = with_network_config("ds=x", &img, Some(small), Some(small)).unwrap();
        assert_eq!(w, Which::Full);
        // Incompressible and long: the full config cannot fit.
        let mut x: u32 = 0x9e37_79b9;
        let big: String = (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect();
        let (line, w) = with_network_config("ds=x", &img, Some(&big), Some(small)).unwrap();
        assert_eq!(w, Which::Management);
        assert!(effective_len(&line, &img) <= COMMAND_LINE_MAX);
        assert!(with_network_config("ds=x", &img, Some(&big), Some(&big)).is_none());
        // `${root-url}` counts expanded.
        let long_root = ImageView {
            root: Some(format!("http://a/{}", "r".repeat(2100))),
            ..img
        };
        assert!(with_network_config("fetch=${root-url}", &long_root, Some(small), None).is_none());
    }
}
