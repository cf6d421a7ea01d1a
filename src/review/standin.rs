//! A stand-in renderer, used by `siteconf diff` and `siteconf gate` until
//! the template engine (`crate::render`) is merged — see
//! [`super::compile::default_renderer`], the one place it is swapped out.
//!
//! It renders, with `format!` from the template context views, a few files
//! per device shaped like the real ones (host name, hosts, netplan, FRR,
//! apt sources, sshd drop-in, authorized keys per node; FRR per switch;
//! inventory and a DNS zone for the site), so that review, grouping, secret
//! handling and the gate can be exercised end to end. Its output is not
//! meant to be deployed, and the paths are not a promise about the real
//! engine's.
//!
//! Secrets: a switch holding an external BGP peer with a password gets the
//! password resolved from the environment (`SITECONF_SECRET_<NAME>` by
//! default) and its FRR file is marked secret and 0600 — exactly the
//! contract the real engine keeps with the diff.

use std::fmt::Write;

use rayon::prelude::*;

use super::compile::{Renderer, SecretLookup};
use crate::check::Checked;
use crate::diag::Diagnostics;
use crate::output::{Artifact, OutputSet, Owner};
use crate::render::context::{self, NodeView, SiteView, SwitchView};
use crate::source::Source;

pub struct StandInRenderer {
    secrets: SecretLookup,
}

impl StandInRenderer {
    pub fn new(secrets: SecretLookup) -> StandInRenderer {
        StandInRenderer { secrets }
    }
}

/// `upstream-1` → `UPSTREAM_1`, as `secrets.env-prefix` documents.
pub fn secret_env_name(prefix: &str, name: &str) -> String {
    let mut s = String::from(prefix);
    for c in name.chars() {
        s.push(match c {
            '-' | '/' | '.' => '_',
            c => c.to_ascii_uppercase(),
        });
    }
    s
}

impl Renderer for StandInRenderer {
    fn render(&self, checked: &Checked, _src: &dyn Source) -> Result<OutputSet, Diagnostics> {
        let loaded = &checked.loaded;
        let view = context::site_view(&loaded.site, &loaded.index, &checked.resolved);
        let prefix = &loaded.config.secrets.env_prefix;
        let per_node: Vec<Vec<Artifact>> = view.nodes.par_iter().map(node_files).collect();
        let per_switch: Vec<Artifact> = view
            .switches
            .par_iter()
            .map(|s| switch_frr(s, &|name| (self.secrets)(&secret_env_name(prefix, name))))
            .collect();
        // Collecting sorts once and builds the map in bulk, far cheaper
        // than 70,000 single inserts into a growing tree.
        let files = per_node
            .into_iter()
            .flatten()
            .chain(per_switch)
            .chain([inventory(&view), zone(&view)])
            .map(|a| (a.path.clone(), a))
            .collect();
        Ok(OutputSet { files })
    }
}

fn node_files(n: &NodeView) -> Vec<Artifact> {
    let owner = || Owner::Node(n.name.clone());
    let path = |rel: &str| format!("nodes/{}/{rel}", n.name);
    let mut files = Vec::with_capacity(7);
    files.push(Artifact::new(
        path("etc/hostname"),
        format!("{}\n", n.name),
        owner(),
        "hostname",
    ));

    let mut hosts = String::from("127.0.0.1 localhost\n");
    if let Some(ip) = n.mgmt.as_ref().and_then(|m| m.ipv4.as_ref()) {
        let _ = writeln!(hosts, "{ip} {} {}", n.fqdn, n.name);
    }
    files.push(Artifact::new(path("etc/hosts"), hosts, owner(), "hosts"));

    let mut np = String::from("network:\n  version: 2\n  ethernets:\n");
    for i in n.interfaces.iter().filter(|i| i.kind == "ethernet") {
        let _ = writeln!(np, "    {}:", i.name);
        if let Some(mac) = &i.mac {
            let _ = writeln!(np, "      match:\n        macaddress: \"{mac}\"");
        }
        let _ = writeln!(np, "      mtu: {}", i.mtu);
        let addrs: Vec<&str> = i
            .addresses
            .iter()
            .filter_map(|a| a.ipv4_cidr.as_deref())
            .collect();
        if !addrs.is_empty() {
            let _ = writeln!(np, "      addresses: [{}]", addrs.join(", "));
        }
    }
    let mut netplan = Artifact::new(path("etc/netplan/50-siteconf.yaml"), np, owner(), "netplan");
    netplan.mode = 0o600;
    files.push(netplan);

    let mut frr = format!("frr defaults datacenter\nhostname {}\n!\n", n.name);
    if let Some(asn) = n.asn {
        let _ = writeln!(frr, "router bgp {asn}");
        if let Some(lo) = &n.loopback4 {
            let _ = writeln!(frr, " bgp router-id {lo}");
        }
        for s in &n.sessions {
            match (&s.interface, &s.peer_address) {
                (_, Some(addr)) => {
                    let _ = writeln!(frr, " neighbor {addr} remote-as external");
                }
                (Some(i), None) => {
                    let _ = writeln!(frr, " neighbor {i} interface remote-as external");
                }
                (None, None) => {}
            }
        }
        if let Some(lo) = &n.loopback4 {
            let _ = writeln!(
                frr,
                " address-family ipv4 unicast\n  network {lo}/32\n exit-address-family"
            );
        }
        frr.push_str("!\n");
    }
    files.push(Artifact::new(path("etc/frr/frr.conf"), frr, owner(), "frr"));

    let mut apt = String::new();
    for r in n.repos.iter().filter(|r| r.enabled) {
        let _ = writeln!(
            apt,
            "# {}\nTypes: {}\nURIs: {}\nSuites: {}",
            r.name,
            r.types.join(" "),
            r.uris.join(" "),
            r.suites.join(" ")
        );
        if !r.components.is_empty() {
            let _ = writeln!(apt, "Components: {}", r.components.join(" "));
        }
        if let Some(k) = &r.signed_by {
            let _ = writeln!(apt, "Signed-By: {k}");
        }
        apt.push('\n');
    }
    files.push(Artifact::new(
        path("etc/apt/sources.list.d/siteconf.sources"),
        apt,
        owner(),
        "apt",
    ));

    let mut sshd = String::from("# managed by siteconf\n");
    for (k, v) in &n.sshd {
        let _ = writeln!(sshd, "{k} {v}");
    }
    files.push(Artifact::new(
        path("etc/ssh/sshd_config.d/50-siteconf.conf"),
        sshd,
        owner(),
        "sshd",
    ));

    for (user, lines) in &n.users {
        let mut keys = lines.join("\n");
        keys.push('\n');
        files.push(Artifact::new(
            path(&format!("etc/ssh/authorized_keys/{user}")),
            keys,
            owner(),
            "ssh-keys",
        ));
    }
    files
}

fn switch_frr(s: &SwitchView, secret: &dyn Fn(&str) -> Option<String>) -> Artifact {
    let mut frr = format!("frr defaults datacenter\nhostname {}\n!\n", s.name);
    let mut has_secret = false;
    if let Some(asn) = s.asn {
        let _ = writeln!(frr, "router bgp {asn}");
        if let Some(lo) = &s.loopback4 {
            let _ = writeln!(frr, " bgp router-id {lo}");
        }
        for d in &s.downlinks {
            let _ = writeln!(frr, " neighbor {} interface remote-as external", d.port);
            let _ = writeln!(frr, " neighbor {} description {}", d.port, d.node);
        }
        for l in &s.links {
            let _ = writeln!(frr, " neighbor {} interface remote-as external", l.port);
        }
        for p in &s.peers {
            let _ = writeln!(frr, " neighbor {} remote-as {}", p.address, p.asn);
            if let Some(name) = &p.password_secret {
                has_secret = true;
                // An unset secret renders as a marker; the real engine
                // reports it as an error instead.
                let value = secret(name).unwrap_or_else(|| format!("<unset secret {name}>"));
                let _ = writeln!(frr, " neighbor {} password {value}", p.address);
            }
        }
        frr.push_str("!\n");
    }
    let mut a = Artifact::new(
        format!("switches/{}/frr.conf", s.name),
        frr,
        Owner::Switch(s.name.clone()),
        "frr",
    );
    if has_secret {
        a.secret = true;
        a.mode = 0o600;
    }
    a
}

fn inventory(v: &SiteView) -> Artifact {
    let mut y = String::from("all:\n  children:\n");
    for g in &v.groups {
        let _ = writeln!(y, "    {}:\n      hosts:", g.name);
        for h in &g.hosts {
            let _ = writeln!(y, "        {h}: {{}}");
        }
    }
    Artifact::new("site/inventory/hosts.yml", y, Owner::Site, "inventory")
}

fn zone(v: &SiteView) -> Artifact {
    let mut z = format!("$ORIGIN {}.\n$TTL 3600\n", v.domain);
    for n in &v.nodes {
        if let Some(ip) = n.mgmt.as_ref().and_then(|m| m.ipv4.as_ref()) {
            let _ = writeln!(z, "{} IN A {ip}", n.name);
        }
    }
    Artifact::new(
        format!("site/dns/{}.zone", v.domain),
        z,
        Owner::Site,
        "zone",
    )
}
