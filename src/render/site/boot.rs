//! The boot chain: what Kea tells a booting machine, the per-machine iPXE
//! scripts and the HTTP service that serves them with the nodes' seeds.
//! See `docs/boot.md` for the whole chain, power-on to Ansible.
//!
//! - **Kea client classes** ([`kea_classes`]), one per firmware class the
//!   site serves: a legacy BIOS PXE ROM (option 93 = 0) gets
//!   `undionly.kpxe` and a UEFI x64 PXE ROM (7, 9) `ipxe.efi`, both by TFTP
//!   from the first boot server (`next-server`); UEFI HTTP boot (16) gets
//!   `ipxe.efi` over HTTP (`<base>/firmware/ipxe.efi`, with option 60
//!   `HTTPClient`, which that firmware requires). Each of those loads iPXE,
//!   which asks again with user class `iPXE`: a known client (a host
//!   reservation matched) gets the URL of its own script,
//!   `<base>/boot/${netX/mac:hexhyp}.ipxe`, which iPXE expands with the MAC
//!   it boots from; an unknown one gets `<base>/boot/unknown.ipxe`. The
//!   PXE classes exclude iPXE, so a chainloaded iPXE never loops.
//! - **Scripts** ([`node_scripts`]): one per MAC that has a reservation
//!   (`site/boot/ipxe/<mac with hyphens>.ipxe`), for nodes with a
//!   `boot-image` that the site declares. It boots that image with the
//!   image's arguments and `ds=nocloud-net;s=<base>/nodes/<node>/`, the
//!   NoCloud seed URL cloud-init reads on the kernel command line (one
//!   token: iPXE only splits a command at a `;` standing alone).
//! - **Unknown MACs** get `site/boot/ipxe/unknown.ipxe`: with `unknown
//!   "report"` it prints the MAC, reports it with one request to
//!   `<base>/boot/unknown/<mac>` (the server's access log is the report),
//!   waits and reboots; with `"discover"` it boots the discovery image,
//!   with no seed. Never a node's image or seed.
//! - **nginx** (`site/boot/nginx.conf`): URLs map onto the build output as
//!   it is deployed under `serve-dir`; nothing else is served. It listens
//!   on the base URL's port on every address: one file serves every boot
//!   server, and a `listen` on another server's address would not bind. Files of
//!   nodes no longer declared are gone from the output (the build removes
//!   them), so they are never served under a production name.

use std::collections::BTreeMap;

use serde::Serialize;

use super::dhcp;
use crate::render::context::{ImageView, NodeView, SiteView};

/// A Kea client class (`client-classes` of `Dhcp4`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeaClass {
    pub name: String,
    pub test: String,
    pub next_server: Option<String>,
    pub boot_file_name: String,
    /// (option name, data)
    pub option_data: Vec<(String, String)>,
}

pub use crate::model::names::{url_path, url_port};

const IPXE: &str = "substring(option[77].hex,0,4) == 'iPXE'";

/// The client classes for the site's firmware classes, in evaluation order.
pub fn kea_classes(site: &SiteView) -> Vec<KeaClass> {
    let Some(b) = &site.boot else {
        return Vec::new();
    };
    let has = |f: &str| b.firmware.contains(&f);
    let tftp = b.servers.first().cloned();
    let mut out = Vec::new();
    if has("bios") {
        out.push(KeaClass {
            name: "siteconf-bios-pxe".into(),
            test: format!("option[93].hex == 0x0000 and not ({IPXE})"),
            next_server: tftp.clone(),
            boot_file_name: "undionly.kpxe".into(),
            option_data: Vec::new(),
        });
    }
    if has("uefi") {
        out.push(KeaClass {
            name: "siteconf-uefi-pxe".into(),
            test: format!(
                "(option[93].hex == 0x0007 or option[93].hex == 0x0009) and not ({IPXE})"
            ),
            next_server: tftp.clone(),
            boot_file_name: "ipxe.efi".into(),
            option_data: Vec::new(),
        });
    }
    if has("uefi-http") {
        out.push(KeaClass {
            name: "siteconf-uefi-http".into(),
            test: format!("option[93].hex == 0x0010 and not ({IPXE})"),
            next_server: None,
            boot_file_name: format!("{}/firmware/ipxe.efi", b.base_url),
            option_data: vec![("vendor-class-identifier".into(), "HTTPClient".into())],
        });
    }
    if has("ipxe") || !out.is_empty() {
        // Every other class ends in iPXE: without these it would have
        // nothing to load.
        out.push(KeaClass {
            name: "siteconf-ipxe-known".into(),
            test: format!("{IPXE} and member('KNOWN')"),
            next_server: None,
            boot_file_name: format!("{}/boot/${{netX/mac:hexhyp}}.ipxe", b.base_url),
            option_data: Vec::new(),
        });
        out.push(KeaClass {
            name: "siteconf-ipxe-unknown".into(),
            test: format!("{IPXE} and member('UNKNOWN')"),
            next_server: None,
            boot_file_name: format!("{}/boot/unknown.ipxe", b.base_url),
            option_data: Vec::new(),
        });
    }
    out
}

/// One node's boot script.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeScript {
    pub node: String,
    pub fqdn: String,
    /// `52:54:00:12:34:56`
    pub mac: String,
    /// `52-54-00-12-34-56`: the file name and what iPXE's `:hexhyp` gives.
    pub file: String,
    pub image: ImageView,
    /// `<base>/nodes/<node>/`
    pub seed_url: String,
    /// The kernel command line after the kernel's URL.
    pub cmdline: String,
    /// Which network config the command line carries (`full`,
    /// `management-only`; see [`super::netcfg`]), if any.
    pub network_config: Option<&'static str>,
}

/// `initrd=…` arguments for the image's initrds (UEFI kernels need them),
/// the image's own arguments, then `extra`.
pub fn cmdline(image: &ImageView, extra: &str) -> String {
    let mut parts: Vec<String> = (0..image.initrds.len())
        .map(|i| format!("initrd=initrd{i}"))
        .collect();
    if !image.args.trim().is_empty() {
        parts.push(image.args.trim().to_string());
    }
    if !extra.is_empty() {
        parts.push(extra.to_string());
    }
    parts.join(" ")
}

/// A script per MAC of a reservation, for nodes whose `boot-image` the
/// site declares; sorted by file name.
pub fn node_scripts(site: &SiteView) -> Vec<NodeScript> {
    let Some(b) = &site.boot else {
        return Vec::new();
    };
    let nodes: BTreeMap<&str, &NodeView> =
        site.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut out: Vec<NodeScript> = Vec::new();
    for s in dhcp::subnets(site) {
        for r in &s.reservations {
            let Some(node) = nodes.get(r.node.as_str()) else {
                continue;
            };
            let Some(image) = node
                .boot_image
                .as_ref()
                .and_then(|i| b.images.iter().find(|x| &x.name == i))
            else {
                continue;
            };
            let seed_url = format!("{}/nodes/{}/", b.base_url, node.name);
            out.push(NodeScript {
                node: node.name.clone(),
                fqdn: node.fqdn.clone(),
                mac: r.hw_address.clone(),
                file: r.hw_address.replace(':', "-"),
                cmdline: cmdline(image, &format!("ds=nocloud-net;s={seed_url}")),
                image: image.clone(),
                seed_url,
                network_config: None,
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out.dedup_by(|a, b| a.file == b.file);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        assert_eq!(url_path("http://10.0.0.2"), "");
        assert_eq!(url_path("http://10.0.0.2:8080/pxe/"), "/pxe");
        assert_eq!(url_port("http://10.0.0.2"), 80);
        assert_eq!(url_port("https://boot.example.net/x"), 443);
        assert_eq!(url_port("http://10.0.0.2:8080/pxe"), 8080);
        assert_eq!(url_port("http://[2001:db8::1]:81/"), 81);
    }

    #[test]
    fn cmdline_order() {
        let i = ImageView {
            name: "x".into(),
            kernel: "http://a/k".into(),
            initrds: vec!["http://a/i".into()],
            root: None,
            args: " console=ttyS0 ".into(),
        };
        assert_eq!(
            cmdline(&i, "ds=nocloud-net;s=http://a/nodes/n/"),
            "initrd=initrd0 console=ttyS0 ds=nocloud-net;s=http://a/nodes/n/"
        );
    }
}
