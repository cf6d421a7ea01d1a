//! What each device's files are rendered from, as one digest: its **key**.
//! Two renders of a device with the same key give the same files, so a
//! build whose previous output is intact renders only the devices whose
//! key changed (`crate::build`), and `siteconf diff` renders only the
//! devices whose key differs between its two sides (`crate::review`).
//!
//! A device's files are its own (`nodes/<host>/…`, `switches/<host>/…`)
//! and the site-wide files made per host (`site/inventory/host_vars/
//! <host>.yml`, a node's `site/boot/ipxe/<mac>.ipxe`). They read:
//!
//! - the device's own view ([`NodeView`], [`SwitchView`]: its settings,
//!   addresses, sessions with their peers' addresses), serialised;
//! - the site's settings every device may read: name, domain, DNS, NTP,
//!   time zone, automation user, networks, external peers, boot service;
//! - the templates (every one, by name and text), the secrets (their
//!   digest: names, values, origins) and the secrets' variable prefix;
//! - siteconf itself (its version, and its executable's size and mtime);
//! - the fleet-wide lists (`site.nodes`, `site.switches`, `site.racks`,
//!   `site.groups`) only where a device template reads them. Which ones is
//!   found by minijinja's static analysis of the templates a device's
//!   files come from (everything but the site-wide templates, plus the two
//!   per-host ones): `site.nodes…` reads the node list; `site` used any
//!   other way (passed to a macro, `site[x]`, `set s = site`) reads all of
//!   them. The analysis never misses a read, it may only see too many:
//!   then every key changes with any node, and the render is a full one.
//!
//! The keys are SHA-256 over a serde serialisation; nothing is kept of the
//! values themselves (a key never reveals a secret).

use minijinja::Environment;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::context::SiteView;
use super::engine::Templates;
use crate::output::{DigestWriter, Owner};

/// The site fields only some templates read: each changes with any device.
const FLEET_FIELDS: [&str; 4] = ["nodes", "switches", "racks", "groups"];

/// Site-wide templates that are rendered once per host, and so belong to
/// that host's key.
pub const PER_HOST_TEMPLATES: [&str; 2] = [
    super::site::HOST_VARS_TEMPLATE,
    super::site::NODE_IPXE_TEMPLATE,
];

/// Every device's key, in site order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub nodes: Vec<[u8; 32]>,
    pub switches: Vec<[u8; 32]>,
}

impl Keys {
    /// Each device with its key.
    pub fn owners<'a>(
        &'a self,
        site: &'a SiteView,
    ) -> impl Iterator<Item = (Owner, [u8; 32])> + 'a {
        let nodes = site
            .nodes
            .iter()
            .zip(&self.nodes)
            .map(|(n, k)| (Owner::Node(n.name.clone()), *k));
        let switches = site
            .switches
            .iter()
            .zip(&self.switches)
            .map(|(s, k)| (Owner::Switch(s.name.clone()), *k));
        nodes.chain(switches)
    }
}

/// What the keys of a render are computed from besides each device.
pub struct KeyInputs<'a> {
    pub env: &'a Environment<'static>,
    pub templates: &'a Templates,
    pub secrets: [u8; 32],
    pub env_prefix: &'a str,
}

/// The key of every device of `site`.
pub fn keys(site: &SiteView, inputs: &KeyInputs) -> Keys {
    let global = global(site, inputs);
    fn key<T: Serialize>(global: &[u8; 32], kind: &[u8], view: &T) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(global);
        h.update(kind);
        feed(&mut h, view);
        h.finalize().into()
    }
    let (nodes, switches) = rayon::join(
        || {
            site.nodes
                .par_iter()
                .map(|n| key(&global, b"node", n))
                .collect()
        },
        || {
            site.switches
                .par_iter()
                .map(|s| key(&global, b"switch", s))
                .collect()
        },
    );
    Keys { nodes, switches }
}

/// The part of every device's key that is the same for all devices.
fn global(site: &SiteView, inputs: &KeyInputs) -> [u8; 32] {
    global_for(site, inputs, false)
}

/// The part of every site-wide job's key that is the same for all jobs
/// ([`job_key`]): as a device's, with the fleet-wide lists the site-wide
/// templates read.
pub fn site_global(site: &SiteView, inputs: &KeyInputs) -> [u8; 32] {
    global_for(site, inputs, true)
}

/// The key of a site-wide job: what its template renders to a file from,
/// the global part given: its template and output path, every value of its
/// context but `site` (which `global` covers) and `extra` (what else the
/// file depends on, such as a zone's serial records). A context value that
/// is an object with no serialisation of its own (the inventory) makes the
/// job unkeyable: the caller renders it every time.
pub fn job_key(
    global: &[u8; 32],
    template: &str,
    path: &str,
    ctx: &minijinja::Value,
    extra: &[&[u8]],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(global);
    for part in [b"site job".as_slice(), template.as_bytes(), path.as_bytes()]
        .into_iter()
        .chain(extra.iter().copied())
    {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    if let Ok(keys) = ctx.try_iter() {
        for k in keys {
            if k.as_str() == Some("site") {
                continue;
            }
            feed(&mut h, &k);
            if let Ok(v) = ctx.get_item(&k) {
                feed(&mut h, &v);
            }
        }
    }
    h.finalize().into()
}

fn global_for(site: &SiteView, inputs: &KeyInputs, site_wide: bool) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"siteconf keys 1\0");
    h.update([u8::from(site_wide)]);
    // The executable too, not only its version: a rebuilt siteconf may
    // render differently (an unidentifiable one renders everything: a
    // build trusts no memo without a stamp, which needs the same).
    h.update(crate::output::stamp::tool().unwrap_or_default());
    for f in inputs.templates.files() {
        for part in [f.name.as_bytes(), f.text.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.update(inputs.secrets);
    h.update((inputs.env_prefix.len() as u64).to_le_bytes());
    h.update(inputs.env_prefix.as_bytes());
    // The settings every device may read.
    let common = (
        &site.name,
        &site.domain,
        &site.dns_servers,
        &site.ntp_servers,
        &site.timezone,
        &site.automation_user,
        &site.networks,
        &site.bgp_peers,
        &site.boot,
    );
    feed(&mut h, &common);
    let read = fleet_fields_read(inputs.env, inputs.templates, site_wide);
    for (i, field) in FLEET_FIELDS.iter().enumerate() {
        h.update(field.as_bytes());
        if !read[i] {
            continue;
        }
        match *field {
            "nodes" => feed(&mut h, &site.nodes),
            "switches" => feed(&mut h, &site.switches),
            "racks" => feed(&mut h, &site.racks),
            _ => feed(&mut h, &site.groups),
        }
    }
    h.finalize().into()
}

/// Which of [`FLEET_FIELDS`] the templates behind a device's files may
/// read (see the module doc), or with `site_wide` those behind the
/// site-wide files (every template but a device's: a partial may serve
/// either).
fn fleet_fields_read(
    env: &Environment<'static>,
    templates: &Templates,
    site_wide: bool,
) -> [bool; 4] {
    let mut read = [false; 4];
    for f in templates.files() {
        let name = f.name.as_str();
        let partial = name.split('/').any(|c| c.starts_with('_'));
        let of_site = name.starts_with("site/") && !PER_HOST_TEMPLATES.contains(&name);
        let wanted = if site_wide {
            partial || !name.starts_with("node/") && !name.starts_with("switch/")
        } else {
            partial || !of_site
        };
        if !wanted || !name.ends_with(".j2") {
            continue;
        }
        let Ok(t) = env.get_template(name) else {
            // A template that does not compile fails the render anyway.
            return [true; 4];
        };
        for var in t.undeclared_variables(true) {
            if var == "site" {
                return [true; 4];
            }
            if let Some(rest) = var.strip_prefix("site.") {
                let field = rest.split('.').next().unwrap_or(rest);
                if let Some(i) = FLEET_FIELDS.iter().position(|f| *f == field) {
                    read[i] = true;
                }
            }
        }
    }
    read
}

/// Feeds a serialisable value into a digest, as JSON (the same value
/// always gives the same bytes: maps are ordered). Writing into a digest
/// cannot fail; a value that cannot be serialised fails the render anyway.
fn feed<T: Serialize + ?Sized>(h: &mut Sha256, v: &T) {
    let _ = serde_json::to_writer(DigestWriter(h), v);
}

/// Which devices need not be rendered: their key is known, with what their
/// files are.
pub trait Reuse: Send + Sync {
    /// `Some(files)` when `owner`'s files as rendered from `key` are known
    /// and need not be rendered again: `files` are what the manifest lists
    /// of them (empty for a caller that lists none, like a diff that leaves
    /// a device out of both sides).
    fn reuse(&self, owner: &Owner, key: &[u8; 32]) -> Option<Vec<crate::output::manifest::Listed>>;

    /// `Some((file, zone))` when the file of the site-wide job at `path`
    /// as rendered from `key` is known (and, for a zone, the serial and
    /// digest it was given); `Some((None, None))` when it is not needed (a
    /// diff whose other side has the same key). None by default: the job
    /// is rendered.
    fn reuse_site(&self, _path: &str, _key: &[u8; 32]) -> Option<KnownSiteFile> {
        None
    }
}

/// What [`Reuse::reuse_site`] knows of a site-wide job's file: the file as
/// the manifest lists it (none: not needed), and a zone's serial record.
pub type KnownSiteFile = (
    Option<crate::output::manifest::Listed>,
    Option<crate::output::memo::ZoneRecord>,
);
