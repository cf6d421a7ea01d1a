//! Site-wide artifacts under `out/site/`: the Ansible inventory, DNS zones,
//! the Kea DHCPv4 configuration and rack elevations.
//!
//! The render engine calls [`register`] once on its Environment and
//! [`render_site`] once per build. Each artifact is a template named by its
//! path under `templates/` (built-in, or the project's override), looked up
//! in that Environment; what is hard to express in a template (which
//! reverse zones exist, which MAC a reservation uses, the inventory's
//! groups) is computed here in Rust and handed to the template, which lays
//! it out:
//!
//! | template                           | output                                   | context                    |
//! | ---------------------------------- | ---------------------------------------- | -------------------------- |
//! | `site/inventory/hosts.yml.j2`      | `site/inventory/hosts.yml`               | `site`, `inventory`        |
//! | `site/inventory/host_vars.yml.j2`  | `site/inventory/host_vars/<fqdn>.yml`    | `site`, `host`             |
//! | `site/inventory/group_vars.yml.j2` | `site/inventory/group_vars/<group>.yml`  | `site`, `group`            |
//! | `site/dns/forward.zone.j2`         | `site/dns/<domain>.zone`                 | `site`, `zone`             |
//! | `site/dns/reverse.zone.j2`         | `site/dns/<reverse zone>.zone`           | `site`, `zone`             |
//! | `site/dhcp/kea-dhcp4.json.j2`      | `site/dhcp/kea-dhcp4.json`               | `site`, `subnets`, `classes` |
//! | `site/boot/node.ipxe.j2`           | `site/boot/ipxe/<mac>.ipxe`              | `site`, `script`           |
//! | `site/boot/unknown.ipxe.j2`        | `site/boot/ipxe/unknown.ipxe`            | `site`, `boot`, `cmdline`  |
//! | `site/boot/nginx.conf.j2`          | `site/boot/nginx.conf`                   | `site`, `boot`, `path`, `port` |
//! | `site/racks/rack.svg.j2`           | `site/racks/<rack>.svg`                  | `site`, `rack`, `legend`, `colours` |
//! | `site/racks/index.html.j2`         | `site/racks/index.html`                  | `site`, `racks`, `colours` |
//!
//! Templates are written so that their output does not depend on the
//! Environment's whitespace or auto-escape settings: block tags are
//! `{%- … +%}` (the line break before the tag goes, the one after stays,
//! with or without `trim_blocks`), every interpolated string goes through
//! a filter that returns a safe string, and the output gets exactly one
//! final newline here.
//!
//! A zone's SOA serial moves forward only: the zone is rendered with
//! serial 0 and hashed, the serial chosen from the lock's record, the
//! previous output's file and the committed locks' records
//! ([`crate::model::serial::choose_serial_among`]), and the zone rendered
//! again with it. The chosen serials and digests come back to the caller,
//! which records them in `siteconf.lock`.

pub mod boot;
pub mod dhcp;
pub mod dns;
pub mod filters;
pub mod inventory;
pub mod netcfg;
pub mod racks;

use std::sync::Arc;

use minijinja::{context, Environment, Value};
use rayon::prelude::*;

use crate::diag::{Code, Diagnostic};
use crate::model::serial::{choose_serial_among, soa_serial};
use crate::output::manifest::Listed;
use crate::output::memo::ZoneRecord;
use crate::output::{Artifact, Owner};
use crate::render::context::SiteView;
use crate::render::engine::RenderFlags;
use crate::render::keys;
use crate::resolve::lock::ZoneSerial;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Registers the filters and functions the site-wide templates use:
/// `yaml_quote`, `yaml_key`, `yaml_value(indent)`, `to_yaml`, `xml_escape`,
/// `zone_serial`, `ptr_name(origin?)`, `reverse_zones` and `raise(msg)`.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("yaml_quote", filters::f_yaml_quote);
    env.add_filter("yaml_key", filters::f_yaml_key);
    env.add_filter("yaml_value", filters::f_yaml_value);
    env.add_filter("to_yaml", filters::f_to_yaml);
    env.add_filter("xml_escape", filters::f_xml_escape);
    env.add_filter("zone_serial", filters::f_zone_serial);
    env.add_filter("ptr_name", filters::f_ptr_name);
    env.add_filter("reverse_zones", filters::f_reverse_zones);
    env.add_function("raise", filters::f_raise);
}

const MODE: u32 = 0o644;

/// A template value from any serialisable data.
fn val<T: serde::Serialize>(t: T) -> Value {
    Value::from(minijinja::value::Serde(t))
}

/// One artifact to render: template, output path, kind, context.
struct Job<'a> {
    template: &'static str,
    path: String,
    kind: &'static str,
    /// Whether the job has a key ([`SiteKeys`]): its context is plain data.
    keyed: bool,
    /// Made when the job is rendered, not before: a fleet's worth of host
    /// contexts built up front was the peak of a whole build's memory.
    ctx: Box<dyn Fn() -> Value + Send + Sync + 'a>,
}

/// Renders every site-wide artifact. Artifacts come back sorted by path;
/// an artifact whose template fails is left out and reported as a
/// `TemplateError` naming the template, its line and the output.
///
/// A project's override of a site-wide template may resolve secrets with
/// `secret()` like any template: the file it makes is then mode 0600 and
/// marked secret, and a secret no source has is SC0902 (the environment
/// variable named with `secret_env_prefix`).
pub fn render_site(
    env: &Environment<'_>,
    site: &Arc<SiteView>,
    secret_env_prefix: &str,
) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let mut artifacts = Vec::new();
    let (diags, _) = render_site_into(
        env,
        site,
        secret_env_prefix,
        &dns::SerialState::default(),
        &PerHost::default(),
        None,
        &mut |batch| artifacts.extend(batch),
    );
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    (artifacts, diags)
}

/// Site-wide jobs rendered at once before their files go on: enough for
/// every thread, few enough that a fleet's `host_vars/` is never all in
/// memory.
const JOBS_AT_ONCE: usize = 512;

/// The site-wide templates rendered once per host: each file belongs to
/// its host's key (`render::keys`).
pub const HOST_VARS_TEMPLATE: &str = "site/inventory/host_vars.yml.j2";
pub const NODE_IPXE_TEMPLATE: &str = "site/boot/node.ipxe.j2";

/// The site-wide files made once per host (`host_vars/<host>.yml`, a
/// node's iPXE script): which device each belongs to, and the devices whose
/// files are not rendered this time (see [`crate::render::keys`]).
#[derive(Debug, Default)]
pub struct PerHost {
    /// Devices whose per-host files are not rendered.
    pub skip: std::collections::HashSet<Owner>,
    /// Filled by the render: path → the device it belongs to, for every
    /// per-host file of a device not skipped.
    pub owners: std::sync::Mutex<std::collections::HashMap<String, Owner>>,
    /// Whether the node scripts are checked for their seed (the project
    /// overrides their template, SC0908): only then are they noted in
    /// `scripts`.
    pub check_scripts: bool,
    /// Filled by the render when `check_scripts`: each node script's path
    /// and what its kernel command line must carry.
    pub scripts: std::sync::Mutex<std::collections::HashMap<String, ScriptSeed>>,
}

impl ScriptSeed {
    /// Whether an iPXE script's commands (comments left out) give the
    /// node its seed: the built-in argument, or the same seed written as
    /// cloud-init also reads it (`ds=nocloud-net;seedfrom=<seed-url>`).
    pub fn seeded(&self, script: &str) -> bool {
        script.contains(&self.seed())
            || script.split_whitespace().any(|w| {
                w.strip_prefix("ds=nocloud-net;").is_some_and(|rest| {
                    rest.split(';').any(|kv| {
                        kv.strip_prefix("s=")
                            .or_else(|| kv.strip_prefix("seedfrom="))
                            == Some(self.seed_url.as_str())
                    })
                })
            })
    }

    /// The NoCloud seed argument the built-in script writes:
    /// `ds=nocloud-net;s=<seed-url>`.
    pub fn seed(&self) -> String {
        format!("ds=nocloud-net;s={}", self.seed_url)
    }

    /// Whether the script chains to a script served from the node's own
    /// seed directory (`chain <seed-url>boot.ipxe`): a wrapper (a menu, a
    /// retry) in front of a script made for this node, which is then the
    /// one that boots it. A chain anywhere else leaves the seed unknown.
    pub fn chains_to_own(&self, script: &str) -> bool {
        script.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some("chain")
                && w.find(|x| !x.starts_with('-'))
                    .is_some_and(|url| url.starts_with(&self.seed_url))
        })
    }
}

/// What a node's iPXE script must carry for the node to find its seed:
/// the NoCloud seed argument and, when the node has one, its network
/// config (SC0908 when an override's script leaves either out).
#[derive(Debug, Clone)]
pub struct ScriptSeed {
    pub node: String,
    /// `<base-url>/nodes/<node>/`
    pub seed_url: String,
    /// The built-in script puts `network-config=` on the command line.
    pub network_config: bool,
}

/// The keys of the site-wide jobs that have one (every job whose context
/// is plain data: rack diagrams, Kea, group variables, the boot service's
/// files, zones; not `hosts.yml`, whose context is the inventory object).
/// A job whose file the caller already has (`reuse`) is not rendered;
/// with `only_keys`, no job is: the render only notes their keys.
pub struct SiteKeys<'a> {
    /// [`keys::site_global`].
    pub global: [u8; 32],
    pub reuse: Option<&'a dyn keys::Reuse>,
    pub only_keys: bool,
    /// Each keyed job's key by path, when the caller computed them already
    /// (`crate::render::device_keys`, for a diff): a job whose file is not
    /// needed is then left out without making its context — and when no
    /// zone is needed, the zones' records are not gathered at all.
    pub given: Option<&'a rustc_hash::FxHashMap<String, [u8; 32]>>,
    /// Filled by the render: each keyed job's path, key, and zone serial.
    pub keyed: Mutex<HashMap<String, JobKey>>,
    /// Filled by the render: the files of the jobs not rendered.
    pub kept: Mutex<Vec<Listed>>,
}

/// Where the zone files go.
const ZONES_DIR: &str = "site/dns/";

/// A site-wide job's key, and the serial a zone was given.
pub type JobKey = ([u8; 32], Option<ZoneRecord>);

impl SiteKeys<'_> {
    /// Whether the job at `path` whose key is `key` is left out: the
    /// caller has its file (kept), or needs none (a diff whose other side
    /// has the same key, `only_keys`); notes the key either way. A zone's
    /// file is kept only with the serial it was given (`zone`), which comes
    /// back.
    /// Whether the job at `path` is known to be left out from its given key
    /// alone (a diff's other side has the same key, no file is needed).
    fn given_unneeded(&self, path: &str) -> bool {
        let Some(key) = self.given.and_then(|g| g.get(path)) else {
            return false;
        };
        let unneeded = !self.only_keys
            && self
                .reuse
                .and_then(|r| r.reuse_site(path, key))
                .is_some_and(|(file, zone)| file.is_none() && zone.is_none());
        if unneeded {
            if let Ok(mut m) = self.keyed.lock() {
                m.insert(path.to_string(), (*key, None));
            }
        }
        unneeded
    }

    /// Whether every zone is known to be left out from its given key
    /// ([`Self::given_unneeded`]).
    fn no_zone_needed(&self) -> bool {
        self.given.is_some_and(|g| {
            g.keys()
                .filter(|p| p.starts_with(ZONES_DIR))
                .all(|p| self.given_unneeded(p))
        })
    }

    fn known(&self, path: &str, key: [u8; 32], zone: bool) -> Option<Option<ZoneRecord>> {
        if self.only_keys {
            if let Ok(mut m) = self.keyed.lock() {
                m.insert(path.to_string(), (key, None));
            }
            return Some(None);
        }
        let hit = self
            .reuse
            .and_then(|r| r.reuse_site(path, &key))
            .filter(|(file, z)| z.is_some() || file.is_none() || !zone);
        let zone = hit.as_ref().and_then(|(_, z)| z.clone());
        if let Ok(mut m) = self.keyed.lock() {
            m.insert(path.to_string(), (key, zone.clone()));
        }
        let (file, zone) = hit?;
        if let (Some(file), Ok(mut k)) = (file, self.kept.lock()) {
            k.push(file);
        }
        Some(zone)
    }

    /// Notes the serial a zone rendered now was given.
    fn zone(&self, path: &str, serial: u32, hash: &str) {
        if let Ok(mut m) = self.keyed.lock() {
            if let Some(e) = m.get_mut(path) {
                e.1 = Some((serial, hash.to_string()));
            }
        }
    }
}

impl PerHost {
    /// Notes that the file at `path` is `device`'s.
    fn note(&self, device: Owner, path: &str) {
        if let Ok(mut m) = self.owners.lock() {
            m.insert(path.to_string(), device);
        }
    }

    /// Notes what the node script at `path` must carry, when the scripts
    /// are checked.
    fn note_script(&self, path: &str, seed: impl FnOnce() -> ScriptSeed) {
        if !self.check_scripts {
            return;
        }
        if let Ok(mut m) = self.scripts.lock() {
            let seed = seed();
            m.insert(path.to_string(), seed);
        }
    }
}

/// [`render_site`], handing the artifacts to `emit` in batches as they are
/// made (in no particular order), so that the build writes them as it goes.
/// Zone serials are chosen from `serials`; the serial and digest of every
/// zone rendered come back with the diagnostics. The per-host files of
/// the devices in `per_host.skip` are not rendered, nor the jobs whose
/// file `known` has (their files go to `known.kept`).
pub fn render_site_into(
    env: &Environment<'_>,
    site_arc: &Arc<SiteView>,
    secret_env_prefix: &str,
    serials: &dns::SerialState,
    per_host: &PerHost,
    known: Option<&SiteKeys>,
    emit: &mut dyn FnMut(Vec<Artifact>),
) -> (Vec<Diagnostic>, Vec<ZoneSerial>) {
    let site: &SiteView = site_arc;
    let mut diags = Vec::new();
    // `site` lazily, as node templates see it: each field becomes a template
    // value on first use, once for all jobs (a whole fleet converted up
    // front for every site-wide file was most of a build's peak memory).
    let site_v = Value::from_object(crate::render::device::SiteObject::new(site_arc.clone()));

    // Inventory: the hosts' variables are made by each host's own job
    // (`host_vars/`), never all at once.
    let inv_obj = Arc::new(inventory::InventoryObject::new(
        inventory::outline(site, secret_env_prefix),
        site_arc.clone(),
        secret_env_prefix,
    ));
    let inv = inv_obj.inventory();
    let all = inventory::InvGroup {
        name: "all".into(),
        hosts: Vec::new(),
        children: Vec::new(),
        vars: inv.all_vars.clone(),
    };
    // Declared after what its jobs borrow.
    let mut jobs: Vec<Job> = Vec::new();
    for (code, w) in &inv.warnings {
        diags.push(Diagnostic::warning(*code, w.clone()).help("rename it in the site files"));
    }
    let s = site_v.clone();
    let inv_v = Value::from_dyn_object(inv_obj.clone());
    jobs.push(Job {
        template: "site/inventory/hosts.yml.j2",
        path: "site/inventory/hosts.yml".into(),
        kind: "inventory",
        keyed: false,
        ctx: Box::new(move || context! { site => s.clone(), inventory => inv_v.clone() }),
    });
    for (i, h) in inv.hosts.iter().enumerate() {
        let device = match h.device {
            inventory::Device::Node(n) => Owner::Node(site.nodes[n].name.clone()),
            inventory::Device::Switch(w) => Owner::Switch(site.switches[w].name.clone()),
        };
        if per_host.skip.contains(&device) {
            continue;
        }
        if let Some(path) = segment_path(&mut diags, "site/inventory/host_vars", &h.name, ".yml") {
            per_host.note(device, &path);
            let s = site_v.clone();
            let o = &inv_obj;
            jobs.push(Job {
                template: HOST_VARS_TEMPLATE,
                path,
                kind: "inventory",
                keyed: false,
                ctx: Box::new(move || context! { site => s.clone(), host => o.host(i) }),
            });
        }
    }
    for g in std::iter::once(&all).chain(inv.groups.iter().filter(|g| !g.vars.is_empty())) {
        if let Some(path) = segment_path(&mut diags, "site/inventory/group_vars", &g.name, ".yml") {
            let s = site_v.clone();
            jobs.push(Job {
                template: "site/inventory/group_vars.yml.j2",
                path,
                kind: "inventory",
                keyed: true,
                ctx: Box::new(move || context! { site => s.clone(), group => val(g) }),
            });
        }
    }

    // Kea.
    let s = site_v.clone();
    jobs.push(Job {
        template: "site/dhcp/kea-dhcp4.json.j2",
        path: "site/dhcp/kea-dhcp4.json".into(),
        kind: "kea4",
        keyed: true,
        ctx: Box::new(move || {
            let subnets = dhcp::subnets(site);
            context! {
                site => s.clone(),
                shared_addresses => dhcp::shared_addresses(&subnets),
                subnets => val(subnets),
                classes => val(boot::kea_classes(site)),
            }
        }),
    });

    // Boot: per-MAC iPXE scripts, the unknown-MAC script, nginx.
    if let Some(b) = &site.boot {
        let by_name: HashMap<&str, &crate::render::context::NodeView> =
            site.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
        let todo: Vec<boot::NodeScript> = boot::node_scripts(site)
            .into_iter()
            .filter(|sc| !per_host.skip.contains(&Owner::Node(sc.node.clone())))
            .collect();
        // The node's network config on the kernel command line: the one
        // way cloud-init 22.4 takes it with an HTTP seed (see netcfg). Each
        // is rendered from a template, so a fleet's are made in parallel.
        // A node whose config does not fit: (node, image, whether it has
        // a management-only config).
        type TooLong = (String, String, bool);
        let done: Vec<Result<boot::NodeScript, TooLong>> = todo
            .into_par_iter()
            .map(|mut sc| {
                let Some(node) = by_name.get(sc.node.as_str()) else {
                    return Ok(sc);
                };
                let full = netcfg::full_config(env, &site_v, node);
                let mgmt = netcfg::management_config(node);
                match netcfg::with_network_config(
                    &sc.cmdline,
                    &sc.image,
                    full.as_deref(),
                    mgmt.as_deref(),
                ) {
                    Some((line, which)) => {
                        sc.cmdline = line;
                        sc.network_config = Some(which.name());
                        Ok(sc)
                    }
                    None if full.is_some() || mgmt.is_some() => {
                        Err((sc.node.clone(), sc.image.name.clone(), mgmt.is_some()))
                    }
                    None => Ok(sc),
                }
            })
            .collect();
        let mut too_long: Vec<TooLong> = Vec::new();
        for sc in done {
            let sc = match sc {
                Ok(sc) => sc,
                Err(t) => {
                    too_long.push(t);
                    continue;
                }
            };
            let s = site_v.clone();
            if let Some(path) = segment_path(&mut diags, "site/boot/ipxe", &sc.file, ".ipxe") {
                per_host.note(Owner::Node(sc.node.clone()), &path);
                per_host.note_script(&path, || ScriptSeed {
                    node: sc.node.clone(),
                    seed_url: sc.seed_url.clone(),
                    network_config: sc.network_config.is_some(),
                });
                jobs.push(Job {
                    template: NODE_IPXE_TEMPLATE,
                    path,
                    kind: "ipxe",
                    keyed: false,
                    ctx: Box::new(move || context! { site => s.clone(), script => val(&sc) }),
                });
            }
        }
        // One finding per image and kind of failure, not one per node: the
        // cause is the image's `args`, shared by every node it boots.
        let mut by_image: Vec<(&str, bool, Vec<&str>)> = Vec::new();
        for (node, image, has_mgmt) in &too_long {
            match by_image
                .iter_mut()
                .find(|(i, m, _)| i == image && m == has_mgmt)
            {
                Some((_, _, nodes)) => nodes.push(node),
                None => by_image.push((image, *has_mgmt, vec![node])),
            }
        }
        for (image, has_mgmt, nodes) in by_image {
            diags.push(netcfg_too_long(image, &nodes, has_mgmt));
        }
        let s = site_v.clone();
        let unknown_cmdline = b
            .discovery_image
            .as_ref()
            .map(|i| boot::cmdline(i, "siteconf.unknown-mac=${netX/mac}"));
        jobs.push(Job {
            template: "site/boot/unknown.ipxe.j2",
            path: "site/boot/ipxe/unknown.ipxe".into(),
            kind: "ipxe",
            keyed: true,
            ctx: Box::new(move || {
                context! { site => s.clone(), boot => val(b), cmdline => unknown_cmdline.clone() }
            }),
        });
        let s = site_v.clone();
        jobs.push(Job {
            template: "site/boot/nginx.conf.j2",
            path: "site/boot/nginx.conf".into(),
            kind: "nginx",
            keyed: true,
            ctx: Box::new(move || {
                context! {
                    site => s.clone(),
                    boot => val(b),
                    path => boot::url_path(&b.base_url),
                    port => boot::url_port(&b.base_url),
                }
            }),
        });
    }

    // Racks.
    let colours = racks::role_colours(site);
    let colours_v = val(&colours);
    let mut rack_list = Vec::new();
    for r in &site.racks {
        let legend = racks::legend(r.devices.iter().map(|d| d.role.clone()), &colours);
        if let Some(path) = segment_path(&mut diags, "site/racks", &r.name, ".svg") {
            rack_list.push(context! { rack => val(r), legend => val(&legend), file => format!("{}.svg", r.name) });
            let ctx = context! {
                site => site_v.clone(),
                rack => val(r),
                legend => val(&legend),
                colours => colours_v.clone(),
            };
            jobs.push(Job {
                template: "site/racks/rack.svg.j2",
                path,
                kind: "svg",
                keyed: true,
                ctx: Box::new(move || ctx.clone()),
            });
        }
    }
    let ctx = context! { site => site_v.clone(), racks => rack_list, colours => colours_v.clone() };
    jobs.push(Job {
        template: "site/racks/index.html.j2",
        path: "site/racks/index.html".into(),
        kind: "html",
        keyed: true,
        ctx: Box::new(move || ctx.clone()),
    });

    for chunk in jobs.chunks(JOBS_AT_ONCE) {
        let results: Vec<_> = chunk
            .par_iter()
            .filter_map(|j| render_job(env, j, known).transpose())
            .collect();
        emit(site_files(results, &mut diags, secret_env_prefix));
    }
    drop(jobs);

    let (results, recorded) = render_zones(env, site_arc, serials, known);
    emit(site_files(results, &mut diags, secret_env_prefix));
    (diags, recorded)
}

/// Every zone of the site, with its serial chosen from `serials`: the
/// files (or why one failed) and the serial + digest of each zone
/// rendered. Zones are rendered two or three times (serial 0 for the
/// digest, the previous output's serial to compare with its file, the
/// chosen serial), so outside the site-wide jobs.
pub(crate) fn render_zones(
    env: &Environment<'_>,
    site_arc: &Arc<SiteView>,
    serials: &dns::SerialState,
    known: Option<&SiteKeys>,
) -> (Vec<Result<SiteFile, Diagnostic>>, Vec<ZoneSerial>) {
    let site: &SiteView = site_arc;
    if known.is_some_and(SiteKeys::no_zone_needed) {
        return (Vec::new(), Vec::new());
    }
    let site_v = Value::from_object(crate::render::device::SiteObject::new(site_arc.clone()));
    let zones = dns::zones(site);
    let results: Vec<_> = zones
        .par_iter()
        .map(|z| render_zone(env, &site_v, z, serials, known))
        .collect();
    let mut files = Vec::new();
    let mut recorded = Vec::new();
    for r in results {
        match r {
            Ok((f, z)) => {
                if let Some(f) = f {
                    files.push(Ok(f));
                }
                recorded.extend(z);
            }
            Err(d) => files.push(Err(d)),
        }
    }
    recorded.sort_by(|a, b| a.origin.cmp(&b.origin));
    (files, recorded)
}

/// The artifacts of rendered site-wide files, with their modes as their
/// templates set them; failures and missing secrets go to `diags`.
pub(crate) fn site_files(
    results: Vec<Result<SiteFile, Diagnostic>>,
    diags: &mut Vec<Diagnostic>,
    secret_env_prefix: &str,
) -> Vec<Artifact> {
    let mut artifacts = Vec::new();
    for r in results {
        match r {
            Ok(a) if a.flags.missing_secrets.is_empty() => {
                let mut art = a.artifact;
                if a.flags.secret_used {
                    art.secret = true;
                    art.mode = 0o600;
                } else if let Some(m) = a.flags.mode {
                    art.mode = m;
                }
                artifacts.push(art)
            }
            Ok(a) => {
                for name in &a.flags.missing_secrets {
                    if name == crate::render::engine::COMPUTED_NAME {
                        diags.push(computed_secret_missing(a.template, &a.artifact.path));
                        continue;
                    }
                    diags.push(
                        Diagnostic::error(
                            Code::SecretUnresolved,
                            format!(
                                "templates/{}: secret `{name}` is not set (while rendering `{}`)",
                                a.template, a.artifact.path
                            ),
                        )
                        .help(format!(
                            "set the environment variable {} or add `\"{name}\" = \"…\"` to the secrets file named by `[secrets] file` in siteconf.toml",
                            crate::render::secrets::env_var_name(secret_env_prefix, name)
                        )),
                    );
                }
            }
            Err(d) => diags.push(d),
        }
    }
    artifacts
}

/// SC0902 for a missing secret whose name the template computed after it
/// had read a secret: the name may be a secret's value, so it is not shown.
pub fn computed_secret_missing(template: &str, output: &str) -> Diagnostic {
    Diagnostic::error(
        Code::SecretUnresolved,
        format!(
            "templates/{template}: a secret whose name was computed after a secret was read is not set (name withheld; while rendering `{output}`)"
        ),
    )
    .help("a secret's name must not be derived from a secret's value: pass secret() a name the site or the template spells out")
}

/// SC1206: not even the management-only network config fits the kernel
/// command line of the nodes of one image.
fn netcfg_too_long(image: &str, nodes: &[&str], has_mgmt: bool) -> Diagnostic {
    let what = if has_mgmt {
        "even its management-only network config"
    } else {
        "its network config (and it has no management address on an Ethernet interface with a MAC, or on a bond whose members all have one, for a management-only one)"
    };
    const SHOWN: usize = 5;
    let more = match nodes.len() {
        0 | 1 => String::new(),
        n => {
            let named: Vec<&str> = nodes.iter().skip(1).take(SHOWN).copied().collect();
            let rest = n - 1 - named.len();
            let tail = if rest > 0 {
                format!(" and {rest} more")
            } else {
                String::new()
            };
            format!(
                " (and {} more node(s) of this image: {}{tail})",
                n - 1,
                named.join(", ")
            )
        }
    };
    let first = nodes.first().copied().unwrap_or_default();
    Diagnostic::error(
        Code::BootNetworkConfigTooLong,
        format!(
            "node `{first}`{more}: {what} does not fit the kernel command line of image `{image}` ({} bytes at most): cloud-init would fall back to DHCP on its first NIC",
            netcfg::COMMAND_LINE_MAX
        ),
    )
    .help(format!(
        "shorten the `args` of image `{image}` (or its `root` URL, which `${{root-url}}` expands to), or give the node a management address on an Ethernet interface with a `mac` (or on a bond whose members all have one)"
    ))
}

/// `dir/name.ext`, if `name` is a plain file name; otherwise an
/// `UnsafePath` diagnostic. Names are validated host-name labels by the
/// time they get here; this is the last line of defence against a name
/// leaving the output directory.
fn segment_path(diags: &mut Vec<Diagnostic>, dir: &str, name: &str, ext: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c == ':');
    if ok {
        Some(format!("{dir}/{name}{ext}"))
    } else {
        diags.push(
            Diagnostic::error(
                Code::UnsafePath,
                format!("`{name}` cannot be a file name under `{dir}/`; its file is not written"),
            )
            .help("names used in output paths must be plain names: no `/`, `\\`, control characters or leading `.`"),
        );
        None
    }
}

/// A rendered site-wide file and what its template told the engine
/// (`secret()` used or missing, `file_mode()`), applied by [`render_site`].
pub(crate) struct SiteFile {
    artifact: Artifact,
    template: &'static str,
    flags: RenderFlags,
}

/// Renders one job, unless `known` has its file (`None`).
fn render_job(
    env: &Environment<'_>,
    job: &Job,
    known: Option<&SiteKeys>,
) -> Result<Option<SiteFile>, Diagnostic> {
    if known.is_some_and(|k| k.only_keys && !job.keyed) {
        return Ok(None);
    }
    if known.is_some_and(|k| job.keyed && k.given_unneeded(&job.path)) {
        return Ok(None);
    }
    let ctx = (job.ctx)();
    if let Some(k) = known.filter(|_| job.keyed) {
        let key = keys::job_key(&k.global, job.template, &job.path, &ctx, &[]);
        if k.known(&job.path, key, false).is_some() {
            return Ok(None);
        }
    }
    let (text, flags) = render_text(env, job.template, &job.path, ctx)?;
    Ok(Some(SiteFile {
        artifact: artifact(job.path.clone(), job.kind, text),
        template: job.template,
        flags,
    }))
}

fn artifact(path: String, kind: &str, text: String) -> Artifact {
    Artifact {
        path,
        bytes: text.into_bytes(),
        mode: MODE,
        owner: Owner::Site,
        kind: kind.to_string(),
        // Set by `render_site` when the template resolved a secret.
        secret: false,
    }
}

/// Renders one template; the text ends in exactly one newline, whatever
/// the Environment's `keep_trailing_newline`.
fn render_text(
    env: &Environment<'_>,
    template: &str,
    output: &str,
    ctx: Value,
) -> Result<(String, RenderFlags), Diagnostic> {
    crate::render::engine::begin_render();
    let t = env
        .get_template(template)
        .map_err(|e| template_error(&e, template, output))?;
    let cap = t
        .render_captured(ctx)
        .map_err(|e| template_error(&e, template, output))?;
    let flags = cap
        .state()
        .get_extension::<RenderFlags>()
        .cloned()
        .unwrap_or_default();
    let mut text = cap.into_output();
    while text.ends_with("\n\n") {
        text.pop();
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok((text, flags))
}

fn render_zone(
    env: &Environment<'_>,
    site_v: &Value,
    z: &dns::Zone,
    serials: &dns::SerialState,
    known: Option<&SiteKeys>,
) -> Result<(Option<SiteFile>, Option<ZoneSerial>), Diagnostic> {
    let template = match z.kind {
        "forward" => "site/dns/forward.zone.j2",
        _ => "site/dns/reverse.zone.j2",
    };
    let mut diags = Vec::new();
    let Some(path) = segment_path(
        &mut diags,
        ZONES_DIR.trim_end_matches('/'),
        &z.name,
        ".zone",
    ) else {
        return Err(diags.remove(0));
    };
    // A zone's file follows from its records and the serial chosen for it
    // (see `choose_serial_among`): the top of the serials given before —
    // the lock's, the previous output's, the committed locks' —, the
    // digests recorded at it, and, when the previous output's file is at
    // it, that file: its key. Serials below the top change nothing, so a
    // commit (a new parent lock) or the other side of a diff with another
    // history keeps the zone's key.
    if let Some(k) = known {
        fn given((n, h): &(u32, String)) -> (u32, Option<&str>) {
            (*n, Some(h.as_str()))
        }
        let previous_serial = serials.previous.get(&z.name).and_then(|t| soa_serial(t));
        let top = crate::model::serial::top_serial(
            serials
                .recorded
                .get(&z.name)
                .map(given)
                .into_iter()
                .chain(previous_serial.map(|(p, _)| (p, None)))
                .chain(
                    serials
                        .published
                        .get(&z.name)
                        .into_iter()
                        .flatten()
                        .map(given),
                ),
        );
        let (recorded, previous) = match top {
            None => ("-".to_string(), [0; 32]),
            Some((n, at)) => {
                let mut digests: Vec<&str> = at.iter().flatten().copied().collect();
                digests.sort_unstable();
                digests.dedup();
                let previous: [u8; 32] = match serials.previous.get(&z.name) {
                    Some(text) if at.contains(&None) => Sha256::digest(text.as_bytes()).into(),
                    _ => [0; 32],
                };
                (format!("{n} {}", digests.join(" ")), previous)
            }
        };
        let records = z.digest();
        let extra = [records.as_slice(), recorded.as_bytes(), &previous];
        let key = keys::job_key(&k.global, template, &path, &Value::UNDEFINED, &extra);
        if let Some(zone) = k.known(&path, key, true) {
            let z = zone.map(|(serial, hash)| ZoneSerial {
                origin: z.name.clone(),
                serial,
                hash,
                span: crate::syntax::Span::BUILTIN,
            });
            return Ok((None, z));
        }
    }
    let zone = val(z);
    let ctx = |serial: u32| {
        context! {
            site => site_v.clone(),
            zone => zone.clone(),
            serial => serial,
        }
    };
    let draft = render_text(env, template, &path, ctx(0))?;
    let hash = crate::output::hex(&Sha256::digest(draft.0.as_bytes()));
    let recorded = serials.recorded.get(&z.name).map(|(n, h)| (*n, *h == hash));
    let mut again = None;
    let previous = match serials.previous.get(&z.name) {
        Some(old) => match soa_serial(old) {
            Some((p, _)) => {
                let r = render_text(env, template, &path, ctx(p))?;
                let same = r.0 == *old;
                again = Some((p, r));
                Some((p, same))
            }
            None => None,
        },
        None => None,
    };
    let published = serials
        .published
        .get(&z.name)
        .into_iter()
        .flatten()
        .map(|(n, h)| (*n, *h == hash));
    let serial = choose_serial_among(recorded.into_iter().chain(previous).chain(published));
    // The text with the chosen serial, rendered once: a zone of a large
    // fleet is the longest site-wide file.
    let (text, flags) = match again {
        Some((p, r)) if p == serial => r,
        _ if serial == 0 => draft,
        _ => render_text(env, template, &path, ctx(serial))?,
    };
    if let Some(k) = known {
        k.zone(&path, serial, &hash);
    }
    Ok((
        Some(SiteFile {
            artifact: artifact(path, "zone", text),
            template,
            flags,
        }),
        Some(ZoneSerial {
            origin: z.name.clone(),
            serial,
            hash,
            span: crate::syntax::Span::BUILTIN,
        }),
    ))
}

/// A template failure as a diagnostic: which template and line, what went
/// wrong (with its causes), and which output it was rendering.
pub fn template_error(e: &minijinja::Error, template: &str, output: &str) -> Diagnostic {
    let name = e.name().unwrap_or(template);
    let at = match e.line() {
        Some(l) => format!("templates/{name}:{l}"),
        None => format!("templates/{name}"),
    };
    let mut what = e.kind().to_string();
    if crate::render::engine::secret_was_read() {
        what = format!("{what} ({})", crate::render::engine::WITHHELD);
    } else {
        if let Some(d) = e.detail() {
            what = format!("{what}: {d}");
        }
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            what = format!("{what}: {s}");
            src = s.source();
        }
    }
    Diagnostic::error(
        Code::TemplateError,
        format!("{at}: {what} (while rendering `{output}`)"),
    )
    .help(format!(
        "fix the template `{name}` (the project's `templates/{name}` overrides the built-in one)"
    ))
}

#[cfg(test)]
mod script_seed_tests {
    use super::ScriptSeed;

    fn want() -> ScriptSeed {
        ScriptSeed {
            node: "n1".into(),
            seed_url: "http://10.0.0.2/nodes/n1/".into(),
            network_config: false,
        }
    }

    #[test]
    fn the_seed_in_either_form_cloud_init_reads() {
        let w = want();
        assert!(w.seeded("kernel k ds=nocloud-net;s=http://10.0.0.2/nodes/n1/ quiet"));
        assert!(w.seeded("kernel k ds=nocloud-net;seedfrom=http://10.0.0.2/nodes/n1/"));
        assert!(w.seeded("kernel k ds=nocloud-net;h=n1;seedfrom=http://10.0.0.2/nodes/n1/"));
        // Another node's seed, or none.
        assert!(!w.seeded("kernel k ds=nocloud-net;seedfrom=http://10.0.0.2/nodes/n2/"));
        assert!(!w.seeded("kernel k ds=nocloud-net;seedfrom=http://10.0.0.2/nodes/n1"));
        assert!(!w.seeded("kernel k quiet"));
    }

    #[test]
    fn a_chain_counts_only_to_the_nodes_own_seed_directory() {
        let w = want();
        assert!(
            w.chains_to_own("#!ipxe\nchain http://10.0.0.2/nodes/n1/boot.ipxe || goto failed\n")
        );
        assert!(w.chains_to_own("chain --autofree http://10.0.0.2/nodes/n1/menu.ipxe\n"));
        assert!(!w.chains_to_own("chain http://10.0.0.2/custom/n1.ipxe || goto failed\n"));
        assert!(!w.chains_to_own("chain http://10.0.0.2/nodes/n10/boot.ipxe\n"));
    }
}
