//! Rendering: the resolved site → an in-memory [`OutputSet`], with
//! minijinja templates (built-in defaults under `templates/`, overridable by
//! the project's own `templates/`), per node in parallel.
//!
//! [`render`] builds the template context once ([`context::site_view`]),
//! renders every node in one rayon `par_iter` (then every switch), then the
//! site-wide files ([`site::render_site`]), `site/fabric.json` and
//! `manifest.json`. Results are collected in site order and the set is a
//! `BTreeMap` by path, so the output is byte-identical whatever the number
//! of threads. Nothing is written here: see [`crate::output::write`].
//!
//! Failures are collected, not first-only, and the same failure on many
//! nodes (a broken template fails everywhere) is one diagnostic that names
//! the first node and counts the others.

pub mod bootinfra;
pub mod context;
pub mod device;
pub mod engine;
pub mod fabric;
pub mod keys;
pub mod secrets;
pub mod shape;
pub mod site;

use std::collections::BTreeMap;

// A fleet's paths and devices by the hundred thousand: a fast hash (none
// of them is chosen by an attacker who could aim at its collisions).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use minijinja::value::Value;
use rayon::prelude::*;

pub use crate::output::{Artifact, OutputSet};
pub use engine::Templates;
pub use secrets::Secrets;

use crate::check::Checked;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SecretSpec;
use crate::output::memo::{DeviceRecord, SiteRecord};
use crate::output::{manifest, path, Owner};
use crate::resolve;
use crate::source::Source;
use crate::syntax::{SourceMap, Span};
use engine::FailureKey;

/// Called once per node or switch rendered (for a progress bar).
pub type Progress = Arc<dyn Fn() + Send + Sync>;

/// How to render.
#[derive(Clone, Default)]
pub struct RenderOptions {
    pub secrets: Secrets,
    pub progress: Option<Progress>,
    /// The zone files of the previous output (origin → text), which zone
    /// serials continue from besides `siteconf.lock` (see
    /// [`site::dns`]). Empty for a render with no previous output.
    pub previous_zones: BTreeMap<String, String>,
    /// Devices whose files need not be rendered again ([`keys::Reuse`]):
    /// the previous output's, for a build; the other side's, for a diff.
    pub reuse: Option<Arc<dyn keys::Reuse>>,
    /// Keep every device's key and files in the summary
    /// ([`RenderSummary::devices`]), for the next build's memo.
    pub record: bool,
    /// This very site's view and keys, when the caller has computed them
    /// already ([`device_keys`]): a fleet's view and keys are made once.
    pub keyed: Option<Arc<DeviceKeys>>,
    /// Render this view instead of the whole site's: `check`'s sample
    /// ([`check_templates`]).
    pub view: Option<Arc<context::SiteView>>,
}

/// A successful render.
#[derive(Debug)]
pub struct Rendered {
    pub set: OutputSet,
    pub nodes: usize,
    pub switches: usize,
}

/// A failed render: every diagnostic, and the source map to show them with
/// (the site's files plus the templates, which diagnostics point into).
#[derive(Debug)]
pub struct RenderFailure {
    pub diags: Vec<Diagnostic>,
    pub sources: SourceMap,
}

fn failure(diags: Vec<Diagnostic>, sources: SourceMap) -> RenderFailure {
    let mut d = Diagnostics::new();
    d.extend(diags);
    RenderFailure {
        diags: d.sorted(&sources),
        sources,
    }
}

/// Renders every artifact of a checked site into memory. Refuses a site
/// with errors.
pub fn render(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
) -> Result<Rendered, RenderFailure> {
    let mut set = OutputSet::default();
    let collect = |batch: Batch| {
        for a in batch.files {
            set.insert(a);
        }
        Ok::<(), std::convert::Infallible>(())
    };
    match render_streaming(checked, src, opts, collect) {
        Ok(s) => Ok(Rendered {
            set,
            nodes: s.nodes,
            switches: s.switches,
        }),
        Err(StreamError::Render(f)) => Err(f),
        Err(StreamError::Sink(never)) => match never {},
    }
}

/// Counts of a streamed render, for the summary line, and the zone
/// serials it gave (to record in `siteconf.lock`).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSummary {
    pub nodes: usize,
    pub switches: usize,
    pub files: usize,
    pub bytes: usize,
    pub zones: Vec<crate::resolve::lock::ZoneSerial>,
    /// Devices whose files were not rendered ([`RenderOptions::reuse`]).
    pub reused: usize,
    /// Site-wide files not rendered, kept as the reuse had them.
    pub site_kept: usize,
    /// Every device's key and files, when [`RenderOptions::record`].
    pub devices: Vec<DeviceRecord>,
    /// Every keyed site-wide job's key and file, when
    /// [`RenderOptions::record`].
    pub site_jobs: Vec<SiteRecord>,
    /// Findings of the render that do not stop it (SC1214).
    pub warnings: Vec<Diagnostic>,
}

/// What a render hands its sink at a time.
#[derive(Debug, Default)]
pub struct Batch {
    /// Files rendered.
    pub files: Vec<Artifact>,
    /// Files of devices that were not rendered ([`RenderOptions::reuse`]):
    /// their paths, the files being what the previous output has there.
    pub kept: Vec<String>,
}

/// Why a streamed render stopped.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The site or a template failed: every diagnostic.
    Render(RenderFailure),
    /// The sink refused a batch.
    Sink(E),
}

/// Devices rendered at once before their files go to the sink: enough for
/// every thread to stay busy, few enough that a fleet's output is never
/// all in memory.
const CHUNK: usize = 256;

/// Renders every artifact of a checked site, handing them to `sink` in
/// batches as they are made: site-wide files, then the nodes and the
/// switches a chunk at a time, `fabric.json`, and last `manifest.json`.
/// Each path is checked (unique, safe, not both a file and a directory)
/// before its batch goes out. From the first failure on — a template that
/// fails, an unsafe path, a sink error — nothing more goes to the sink,
/// but rendering goes on so that every failure is reported; a caller that
/// writes must then discard what it was given (the build's writer drops
/// its staging tree). Refuses a site with errors.
pub fn render_streaming<E>(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
    sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<RenderSummary, StreamError<E>> {
    let sources = &checked.loaded.sources;
    if checked.diags.has_errors() {
        return Err(StreamError::Render(failure(
            checked.diags.clone().into_vec(),
            sources.clone(),
        )));
    }
    let refused = bgp_passwords(checked, &opts.secrets);
    if !refused.is_empty() {
        return Err(StreamError::Render(failure(refused, sources.clone())));
    }
    let templates = Templates::load(src, &checked.loaded.config.templates_dir)
        .map_err(|d| StreamError::Render(failure(d, sources.clone())))?;
    let base = sources.files().count();
    let with_templates = || templates.extend_sources(sources);

    let env = environment(checked, &templates, opts, base)
        .map_err(|diags| StreamError::Render(failure(diags, with_templates())))?;
    let (plan, bad) = device::plan(&templates);
    if !bad.is_empty() {
        let diags = bad
            .into_iter()
            .map(|(name, why)| {
                let key = FailureKey {
                    code: Code::TemplateError,
                    template: templates.index_of(&name),
                    range: None,
                    line: None,
                    what: why,
                };
                engine::failure_diagnostic(&templates, base, &key, "the templates", 0, None)
            })
            .collect();
        return Err(StreamError::Render(failure(diags, with_templates())));
    }

    let site = match (&opts.view, &opts.keyed) {
        (Some(v), _) => v.clone(),
        (None, Some(k)) => k.view.clone(),
        (None, None) => Arc::new(context::site_view(&checked.effective())),
    };
    // Each device's key, when a previous render's files may be reused or
    // this one's recorded, and the devices reused.
    let key_inputs = keys::KeyInputs {
        env: &env,
        templates: &templates,
        secrets: opts.secrets.digest(),
        env_prefix: &checked.loaded.config.secrets.env_prefix,
    };
    let keyed = match &opts.keyed {
        Some(k) => Some((k.keys.clone(), k.site_global)),
        None => (opts.reuse.is_some() || opts.record).then(|| {
            let global = keys::site_global(&site, &key_inputs);
            (keys::keys(&site, &key_inputs), global)
        }),
    };
    // The same for the site-wide jobs that have a key.
    let site_keys = keyed.as_ref().map(|(_, global)| site::SiteKeys {
        global: *global,
        reuse: opts.reuse.as_deref(),
        only_keys: false,
        given: opts.keyed.as_ref().map(|k| &k.site_jobs),
        keyed: Default::default(),
        kept: Default::default(),
    });
    let mut reused: HashMap<Owner, Vec<manifest::Listed>> = HashMap::default();
    if let (Some((k, _)), Some(reuse)) = (&keyed, &opts.reuse) {
        for (owner, key) in k.owners(&site) {
            if let Some(files) = reuse.reuse(&owner, &key) {
                reused.insert(owner, files);
            }
        }
    }
    let per_host = site::PerHost {
        skip: reused.keys().cloned().collect(),
        check_scripts: templates.overridden(site::NODE_IPXE_TEMPLATE),
        ..Default::default()
    };
    let shared = device::Shared {
        env: &env,
        templates: &templates,
        plan: &plan,
        secrets: &opts.secrets,
        site: Value::from_object(device::SiteObject::new(site.clone())),
    };
    let tick = || {
        if let Some(p) = &opts.progress {
            p();
        }
    };
    let mut out = Collector {
        sink,
        sink_err: None,
        paths: HashMap::default(),
        dirs: HashSet::default(),
        folded: HashMap::default(),
        listed: Vec::new(),
        diags: Vec::new(),
        failures: BTreeMap::new(),
        record: opts.record,
        records: HashMap::default(),
        per_host: &per_host,
        seed_secrets: Vec::new(),
        templates: &templates,
        plan: &plan,
        empty: BTreeMap::new(),
        unseeded_scripts: None,
        unseeded_nodes: None,
        site_parsed: SITE_STRUCTURED
            .iter()
            .copied()
            .filter(|t| templates.overridden(t))
            .collect(),
        site_invalid: BTreeMap::new(),
    };
    // Site-wide files first, handed on a few hundred at a time as they are
    // rendered: they build large transient values (zones, the inventory),
    // better freed before the nodes'.
    let serials = serial_state(checked, opts);
    let (site_diags, zones) = site::render_site_into(
        &env,
        &site,
        &checked.loaded.config.secrets.env_prefix,
        &serials,
        &per_host,
        site_keys.as_ref(),
        &mut |batch| out.push(batch),
    );
    out.diags.extend(site_diags);
    let mut site_kept = 0;
    if let Some(k) = &site_keys {
        let kept = k.kept.lock().map(|mut k| std::mem::take(&mut *k));
        let kept = kept.unwrap_or_default();
        site_kept = kept.len();
        out.keep_site(kept);
    }
    // Rendering goes parallel here, a chunk of devices at a time; `collect`
    // keeps site order whatever thread rendered what.
    fn chunk_of<T: Sync>(
        chunk: &[&T],
        render: impl Fn(&T) -> device::DeviceOut + Sync,
        tick: &(impl Fn() + Sync),
    ) -> Vec<device::DeviceOut> {
        chunk
            .par_iter()
            .map(|d| {
                let r = render(d);
                tick();
                r
            })
            .collect()
    }
    let n_reused = reused.len();
    for chunk in site.nodes.chunks(CHUNK) {
        let (todo, kept) = split_reused(chunk, &mut reused, |n| Owner::Node(n.name.clone()));
        let done = chunk_of(&todo, |n| shared.node(n), &tick);
        out.devices(done, todo.iter().map(|n| format!("node {}", n.name)));
        out.keep(kept, &tick);
    }
    for chunk in site.switches.chunks(CHUNK) {
        let (todo, kept) = split_reused(chunk, &mut reused, |s| Owner::Switch(s.name.clone()));
        let done = chunk_of(&todo, |s| shared.switch(s), &tick);
        out.devices(done, todo.iter().map(|s| format!("switch {}", s.name)));
        out.keep(kept, &tick);
    }
    out.push(vec![fabric::fabric(&site)]);

    let mut empty_warnings = out.empty_warnings();
    empty_warnings.extend(out.seed_warnings());
    let invalid = out.site_invalid_errors();
    out.diags.extend(invalid);
    let Collector {
        diags, failures, ..
    } = &mut out;
    if !failures.is_empty() || diags.iter().any(is_error) {
        let mut diags = std::mem::take(diags);
        diags.extend(empty_warnings);
        let secret_spans = secret_references(checked);
        for (key, f) in failures.iter() {
            let mut d = engine::failure_diagnostic(
                &templates,
                base,
                key,
                &f.subject,
                f.others,
                f.help.clone(),
            );
            if let Some(span) = f.secret.as_ref().and_then(|s| secret_spans.get(s)) {
                d = d.label(*span, "the secret is referenced here");
            }
            diags.push(d);
        }
        scrub(&mut diags, &opts.secrets);
        return Err(StreamError::Render(failure(diags, with_templates())));
    }
    let has_boot = checked
        .loaded
        .site
        .site
        .as_ref()
        .is_some_and(|s| s.boot.is_some());
    let mut warnings: Vec<Diagnostic> = match has_boot {
        true => seed_secret_warning(&out.seed_secrets).into_iter().collect(),
        false => Vec::new(),
    };
    warnings.extend(empty_warnings);
    let mut files = 0;
    let mut bytes = 0;
    for l in out.all_listed() {
        files += 1;
        bytes += l.size;
    }
    let manifest = manifest::manifest_of(out.all_listed());
    files += 1;
    bytes += manifest.bytes.len();
    out.push(vec![manifest]);
    let devices = match &keyed {
        Some((k, _)) if opts.record => {
            let mut records = std::mem::take(&mut out.records);
            k.owners(&site)
                .map(|(owner, key)| DeviceRecord {
                    files: records.remove(&owner).unwrap_or_default(),
                    owner,
                    key,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    // Each keyed site-wide job's file, from the manifest's list.
    let site_jobs = match (&site_keys, opts.record) {
        (Some(k), true) => {
            let keyed = k.keyed.lock().map(|mut m| std::mem::take(&mut *m));
            let mut keyed = keyed.unwrap_or_default();
            let mut jobs: Vec<SiteRecord> = out
                .listed
                .iter()
                .filter_map(|l| {
                    let (key, zone) = keyed.remove(&l.path)?;
                    Some(SiteRecord {
                        file: l.clone(),
                        key,
                        zone,
                    })
                })
                .collect();
            jobs.sort_by(|a, b| a.file.path.cmp(&b.file.path));
            jobs
        }
        _ => Vec::new(),
    };
    if let Some(e) = out.sink_err {
        return Err(StreamError::Sink(e));
    }
    Ok(RenderSummary {
        nodes: site.nodes.len(),
        switches: site.switches.len(),
        files,
        bytes,
        zones,
        reused: n_reused,
        site_kept,
        devices,
        site_jobs,
        warnings,
    })
}

/// The seed files of a node kept from an earlier build that hold a secret
/// (the manifest's record says which).
fn kept_seed_secret(node: &str, files: &[manifest::Listed]) -> Option<device::SeedSecret> {
    let dir = format!("nodes/{node}/");
    let mut found = device::SeedSecret::default();
    for l in files.iter().filter(|l| l.secret) {
        let Some(rel) = l.path.strip_prefix(&dir) else {
            continue;
        };
        match rel.strip_prefix("cloud-init/") {
            Some(seed) => found.seeds.push(seed.to_string()),
            None => found.embedded.push(rel.to_string()),
        }
    }
    (!found.seeds.is_empty()).then_some(found)
}

/// SC1214: nodes whose NoCloud seed holds a secret, which the boot
/// service cannot serve (mode 0600: nginx answers 403). One finding, at
/// the first node, counting the others. Names secrets, never values.
fn seed_secret_warning(found: &[(String, device::SeedSecret)]) -> Option<Diagnostic> {
    let ((node, first), more) = found.split_first()?;
    let quote = |v: &[String]| {
        v.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names: std::collections::BTreeSet<&String> =
        found.iter().flat_map(|(_, f)| &f.names).collect();
    let secrets = match names.len() {
        0 => "a secret".to_string(),
        _ => format!(
            "secret {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let others = match more.len() {
        0 => String::new(),
        n => format!(" (and the seeds of {n} more nodes)"),
    };
    let embedded = match first.embedded.is_empty() {
        true => String::new(),
        false => format!(" (through {})", quote(&first.embedded)),
    };
    let verb = if first.seeds.len() == 1 { "is" } else { "are" };
    Some(
        Diagnostic::warning(
            Code::BootSeedSecret,
            format!(
                "the NoCloud seed of node `{node}`{others} holds {secrets}{embedded}: {} {verb} written 0600, so the boot service's nginx answers 403 and cloud-init boots the node without its seed (hostname, users, keys, network)",
                quote(&first.seeds)
            ),
        )
        .help("keep secrets out of the files the seed embeds (node templates other than cloud-init's): deliver them after first boot, with Ansible (a secret variable becomes an environment lookup there); do not make the seed world-readable, nginx serves it to anyone on the boot network"),
    )
}

/// The devices of `chunk` to render, and the files of those reused.
fn split_reused<'c, T>(
    chunk: &'c [T],
    reused: &mut HashMap<Owner, Vec<manifest::Listed>>,
    owner: impl Fn(&T) -> Owner,
) -> (Vec<&'c T>, Vec<(Owner, Vec<manifest::Listed>)>) {
    if reused.is_empty() {
        return (chunk.iter().collect(), Vec::new());
    }
    let mut todo = Vec::new();
    let mut kept = Vec::new();
    for d in chunk {
        let o = owner(d);
        match reused.remove(&o) {
            Some(files) => kept.push((o, files)),
            None => todo.push(d),
        }
    }
    (todo, kept)
}

/// What zone serials are chosen from: the lock's records, the previous
/// output's zone files, and the records of the lock as committed in the
/// revisions the tree continues from.
fn serial_state(checked: &Checked, opts: &RenderOptions) -> site::dns::SerialState {
    site::dns::SerialState {
        recorded: checked
            .resolved
            .lock
            .zones
            .iter()
            .map(|z| (z.origin.clone(), (z.serial, z.hash.clone())))
            .collect(),
        previous: opts.previous_zones.clone(),
        published: crate::resolve::lock::published_zones(&checked.loaded.earlier),
    }
}

/// The template environment of a render: every template compiled, with
/// the secrets and the names of the secrets the site refers to; a template
/// that does not compile is a diagnostic (the sources it points into start
/// at `base`).
fn environment(
    checked: &Checked,
    templates: &Templates,
    opts: &RenderOptions,
    base: usize,
) -> Result<minijinja::Environment<'static>, Vec<Diagnostic>> {
    let known_names = Arc::new(secret_references(checked).into_keys().collect());
    engine::environment(templates, Arc::new(opts.secrets.clone()), known_names).map_err(|errs| {
        errs.iter()
            .map(|(name, e)| {
                let key = engine::failure_key(templates, name, e);
                engine::failure_diagnostic(templates, base, &key, "the templates", 0, None)
            })
            .collect()
    })
}

/// The serial every zone of a checked site gets (as a build with
/// `opts.previous_zones` would give it), rendering only the zones:
/// what `siteconf lock` records.
pub fn zone_serials(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
) -> Result<Vec<crate::resolve::lock::ZoneSerial>, RenderFailure> {
    let sources = &checked.loaded.sources;
    // A zone serial below a committed one (SC0031) is what recording the
    // serials repairs: the serials chosen never go below a committed one.
    if checked
        .diags
        .has_errors_except(crate::diag::Code::LockZoneSerialBehind)
    {
        return Err(failure(checked.diags.clone().into_vec(), sources.clone()));
    }
    let templates = Templates::load(src, &checked.loaded.config.templates_dir)
        .map_err(|d| failure(d, sources.clone()))?;
    let base = sources.files().count();
    let env = environment(checked, &templates, opts, base)
        .map_err(|diags| failure(diags, templates.extend_sources(sources)))?;
    let site = Arc::new(context::site_view(&checked.effective()));
    let (files, zones) = site::render_zones(&env, &site, &serial_state(checked, opts), None);
    let mut diags = Vec::new();
    let _ = site::site_files(files, &mut diags, &checked.loaded.config.secrets.env_prefix);
    if diags.iter().any(is_error) {
        scrub(&mut diags, &opts.secrets);
        return Err(failure(diags, templates.extend_sources(sources)));
    }
    Ok(zones)
}

/// Every device's key as [`render_streaming`] would compute it with
/// `opts` (see [`keys`]): what `siteconf diff` compares between its two
/// sides before it renders either. `None` for a site with errors or
/// templates that do not load (the render reports those).
pub fn device_keys(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
) -> Option<DeviceKeys> {
    if checked.diags.has_errors() {
        return None;
    }
    let templates = Templates::load(src, &checked.loaded.config.templates_dir).ok()?;
    let base = checked.loaded.sources.files().count();
    let env = environment(checked, &templates, opts, base).ok()?;
    // The caller's view of the site, when it made one (a diff, which then
    // needs no more of the resolved nodes).
    let site = match &opts.view {
        Some(v) => v.clone(),
        None => Arc::new(context::site_view(&checked.effective())),
    };
    let inputs = keys::KeyInputs {
        env: &env,
        templates: &templates,
        secrets: opts.secrets.digest(),
        env_prefix: &checked.loaded.config.secrets.env_prefix,
    };
    let keys = keys::keys(&site, &inputs);
    let site_global = keys::site_global(&site, &inputs);
    // The site-wide jobs' keys: a render that renders nothing, every
    // device's per-host files left out.
    let jobs = site::SiteKeys {
        global: site_global,
        reuse: None,
        only_keys: true,
        given: None,
        keyed: Default::default(),
        kept: Default::default(),
    };
    let per_host = site::PerHost {
        skip: keys.owners(&site).map(|(o, _)| o).collect(),
        ..Default::default()
    };
    site::render_site_into(
        &env,
        &site,
        &checked.loaded.config.secrets.env_prefix,
        &serial_state(checked, opts),
        &per_host,
        Some(&jobs),
        &mut |_| {},
    );
    let site_jobs = jobs
        .keyed
        .into_inner()
        .ok()?
        .into_iter()
        .map(|(path, (key, _))| (path, key))
        .collect();
    Some(DeviceKeys {
        keys,
        site_global,
        site_jobs,
        view: site,
    })
}

/// Every device's key, every keyed site-wide job's (by path), and the
/// site view they were computed from (for the render that follows:
/// [`RenderOptions::keyed`]).
pub struct DeviceKeys {
    pub keys: keys::Keys,
    /// [`keys::site_global`].
    pub site_global: [u8; 32],
    pub site_jobs: HashMap<String, [u8; 32]>,
    pub view: Arc<context::SiteView>,
}

impl DeviceKeys {
    /// Each device's key, by device.
    pub fn by_owner(&self) -> HashMap<Owner, [u8; 32]> {
        self.keys.owners(&self.view).collect()
    }
}

fn is_error(d: &Diagnostic) -> bool {
    d.severity == crate::diag::Severity::Error
}

/// Where rendered files go: checked, listed for the manifest, handed to
/// the sink while all is well.
struct Collector<'p, S, E> {
    sink: S,
    sink_err: Option<E>,
    /// Every file path so far, with its owner (for messages).
    paths: HashMap<String, crate::output::Owner>,
    /// Every directory those paths need.
    dirs: HashSet<String>,
    /// Lower-cased path → the path, for paths with an upper-case letter
    /// only (the others are their own lower case, in `paths`).
    folded: HashMap<String, String>,
    /// What the manifest will say of each file handed on.
    listed: Vec<manifest::Listed>,
    diags: Vec<Diagnostic>,
    failures: BTreeMap<FailureKey, Failure>,
    /// Whether to keep each device's files in `records`.
    record: bool,
    records: HashMap<Owner, Vec<manifest::Listed>>,
    /// Which per-host site file is whose.
    per_host: &'p site::PerHost,
    /// Nodes whose NoCloud seed holds a secret (SC1214), rendered or kept.
    seed_secrets: Vec<(String, device::SeedSecret)>,
    /// Which templates write which device files (a collision names them).
    templates: &'p Templates,
    plan: &'p device::Plan,
    /// Templates a device depends on that rendered empty (SC0906): the
    /// first device and how many more.
    empty: BTreeMap<&'static str, (String, usize)>,
    /// The first node script without its seed or network config (node,
    /// path, what it lacks), and how many more (SC0908).
    unseeded_scripts: Option<(String, String, Vec<String>, usize)>,
    /// The first node whose overridden `user-data` leaves out files it
    /// needs (subject, the files), and how many more (SC0909).
    unseeded_nodes: Option<(String, Vec<device::Unseeded>, usize)>,
    /// The structured site-wide templates the project overrides: their
    /// files are parsed (SC0907).
    site_parsed: Vec<&'static str>,
    /// Per template, the first site-wide file that does not parse, why,
    /// and how many more.
    site_invalid: BTreeMap<&'static str, (String, String, usize)>,
}

/// The site-wide templates whose files are YAML or JSON, by the path of
/// the file: what SC0907 parses when the project overrides one.
const SITE_STRUCTURED: &[&str] = &[
    "site/inventory/hosts.yml.j2",
    site::HOST_VARS_TEMPLATE,
    "site/inventory/group_vars.yml.j2",
    "site/dhcp/kea-dhcp4.json.j2",
];

fn site_template_of(path: &str) -> Option<&'static str> {
    match path {
        "site/inventory/hosts.yml" => Some(SITE_STRUCTURED[0]),
        "site/dhcp/kea-dhcp4.json" => Some(SITE_STRUCTURED[3]),
        p if p.starts_with("site/inventory/host_vars/") => Some(SITE_STRUCTURED[1]),
        p if p.starts_with("site/inventory/group_vars/") => Some(SITE_STRUCTURED[2]),
        _ => None,
    }
}

/// The templates whose output can be the device file `file`
/// (`nodes/<host>/<rel>`, `switches/<host>/<rel>`), as their files are
/// shown: a path placeholder matches one path component.
fn templates_writing(templates: &Templates, plan: &device::Plan, file: &str) -> Vec<String> {
    let (entries, rel): (Vec<&device::Entry>, &str) = match file
        .split_once('/')
        .and_then(|(d, r)| Some((d, r.split_once('/')?.1)))
    {
        Some(("nodes", rel)) => (plan.node.iter().chain(&plan.node_late).collect(), rel),
        Some(("switches", rel)) => (plan.switch.iter().collect(), rel),
        _ => return Vec::new(),
    };
    let matches = |pattern: &str| match pattern.split_once('{') {
        None => pattern == rel,
        Some((pre, after)) => {
            let post = after.split_once('}').map_or("", |(_, p)| p);
            rel.len() > pre.len() + post.len()
                && rel.starts_with(pre)
                && rel.ends_with(post)
                && !rel[pre.len()..rel.len() - post.len()].contains('/')
        }
    };
    entries
        .into_iter()
        .filter(|e| matches(&e.rel))
        .filter_map(|e| templates.index_of(&e.template))
        .map(|i| templates.files()[i].display_path())
        .collect()
}

impl<S: FnMut(Batch) -> Result<(), E>, E> Collector<'_, S, E> {
    /// Devices not rendered, with their files as the previous output has
    /// them: listed like rendered ones, and kept by the sink.
    ///
    /// Their paths are not admitted one by one ([`Self::admit`]): they were
    /// when the device was rendered, and nothing rendered now can collide
    /// with them. A device's files lie in its own directory
    /// (`nodes/<name>/`, `switches/<name>/`, see `device`), its per-host
    /// site files are named by its host name or MAC, and a site whose
    /// names or MACs collide (in any letter case) has errors and is never
    /// rendered. Each path is still checked for safety: the memo they come
    /// from is a file beside the output.
    fn keep(&mut self, kept: Vec<(Owner, Vec<manifest::Listed>)>, tick: &impl Fn()) {
        if kept.is_empty() {
            return;
        }
        let mut paths = Vec::new();
        for (owner, files) in kept {
            tick();
            if let Owner::Node(n) = &owner {
                if let Some(found) = kept_seed_secret(n, &files) {
                    self.seed_secrets.push((n.clone(), found));
                }
            }
            for l in &files {
                match path::unsafe_reason(&l.path) {
                    None => paths.push(l.path.clone()),
                    Some(why) => self.diags.push(path::unsafe_path(
                        &l.path,
                        &why,
                        &path::owner_text(&l.owner),
                    )),
                }
            }
            if self.record {
                self.records.entry(owner).or_default().extend(files);
            } else {
                self.listed.extend(files);
            }
        }
        self.hand_on(Batch {
            files: Vec::new(),
            kept: paths,
        });
    }

    /// Site-wide files not rendered (their job's key is known): checked
    /// and listed like rendered ones, and kept by the sink.
    fn keep_site(&mut self, files: Vec<manifest::Listed>) {
        let mut paths = Vec::new();
        for l in files {
            if self.admit(&l.path, &l.owner) {
                paths.push(l.path.clone());
                self.listed.push(l);
            }
        }
        self.hand_on(Batch {
            files: Vec::new(),
            kept: paths,
        });
    }

    /// Hands a batch on to the sink while nothing has failed (and
    /// remembers the sink's refusal).
    fn hand_on(&mut self, batch: Batch) {
        if self.failing() || batch.files.is_empty() && batch.kept.is_empty() {
            return;
        }
        if let Err(e) = (self.sink)(batch) {
            self.sink_err = Some(e);
        }
    }

    /// Every file listed so far: the site's, and each device's.
    fn all_listed(&self) -> impl Iterator<Item = &manifest::Listed> {
        self.listed.iter().chain(self.records.values().flatten())
    }

    fn failing(&self) -> bool {
        self.sink_err.is_some() || !self.failures.is_empty() || self.diags.iter().any(is_error)
    }

    /// One chunk of devices' files, and their failures grouped by what and
    /// where.
    fn devices(&mut self, done: Vec<device::DeviceOut>, subjects: impl Iterator<Item = String>) {
        let mut batch = Vec::new();
        for (mut out, subject) in done.into_iter().zip(subjects) {
            if let (Some(found), Some(node)) =
                (out.seed_secret.take(), subject.strip_prefix("node "))
            {
                self.seed_secrets.push((node.to_string(), found));
            }
            if !out.unseeded.is_empty() {
                match &mut self.unseeded_nodes {
                    Some(e) => e.2 += 1,
                    None => {
                        self.unseeded_nodes =
                            Some((subject.clone(), std::mem::take(&mut out.unseeded), 0))
                    }
                }
            }
            for t in out.empty.drain(..) {
                self.empty
                    .entry(t)
                    .and_modify(|e| e.1 += 1)
                    .or_insert_with(|| (subject.clone(), 0));
            }
            for (key, help, secret) in out.failures {
                self.failures
                    .entry(key)
                    .and_modify(|f| f.others += 1)
                    .or_insert(Failure {
                        subject: subject.clone(),
                        others: 0,
                        help,
                        secret,
                    });
            }
            for (mut a, secret) in out.files {
                // Marked before it goes on: cloud-init files that embed a
                // file holding a secret hold it too (base64), and must be
                // marked as much as the file itself.
                a.secret |= secret;
                batch.push(a);
            }
        }
        self.push(batch);
    }

    /// Checks each path ([`Self::admit`]), then hands the batch on while
    /// nothing has failed.
    fn push(&mut self, batch: Vec<Artifact>) {
        let mut keep = Vec::with_capacity(batch.len());
        if !self.site_parsed.is_empty() {
            self.parse_site(&batch);
        }
        if self.per_host.check_scripts {
            self.check_scripts(&batch);
        }
        for a in batch {
            if self.admit(&a.path, &a.owner) {
                keep.push(a);
            }
        }
        if self.failing() {
            return;
        }
        let listed: Vec<manifest::Listed> = keep.par_iter().map(manifest::Listed::of).collect();
        if self.record {
            // A device's files (and its per-host site files) go to its
            // record, the rest to `listed`: each is in one place.
            let owners = self.per_host.owners.lock().ok();
            for l in listed {
                let device = match &l.owner {
                    Owner::Site => owners.as_ref().and_then(|m| m.get(&l.path)).cloned(),
                    o => Some(o.clone()),
                };
                match device {
                    Some(d) => self.records.entry(d).or_default().push(l),
                    None => self.listed.push(l),
                }
            }
        } else {
            self.listed.extend(listed);
        }
        self.hand_on(Batch {
            files: keep,
            kept: Vec::new(),
        });
    }

    /// SC0908: node scripts of an overridden template that leave out the
    /// node's seed (`ds=nocloud-net;s=…`) or its `network-config=`.
    fn check_scripts(&mut self, batch: &[Artifact]) {
        let per_host = self.per_host;
        let Ok(scripts) = per_host.scripts.lock() else {
            return;
        };
        for a in batch.iter().filter(|a| a.owner == Owner::Site) {
            let Some(want) = scripts.get(&a.path) else {
                continue;
            };
            // iPXE's commands, not its comments (the built-in script's
            // comment names `network-config=`).
            let text = String::from_utf8_lossy(&a.bytes);
            let text: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            // A wrapper that chains to a script in the node's own seed
            // directory hands the boot to that script.
            if want.chains_to_own(&text) {
                continue;
            }
            let mut lacks = Vec::new();
            if !want.seeded(&text) {
                lacks.push(format!("its NoCloud seed `{}`", want.seed()));
            }
            if want.network_config && !text.contains("network-config=") {
                lacks.push("its network config (`network-config=`)".to_string());
            }
            if lacks.is_empty() {
                continue;
            }
            match &mut self.unseeded_scripts {
                Some(e) => e.3 += 1,
                None => self.unseeded_scripts = Some((want.node.clone(), a.path.clone(), lacks, 0)),
            }
        }
    }

    /// SC0908 and SC0909: an overridden node script or `user-data` that
    /// no longer carries what the node needs from its seed.
    fn seed_warnings(&mut self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some((node, path, lacks, more)) = self.unseeded_scripts.take() {
            let shown = self.templates.display_name(site::NODE_IPXE_TEMPLATE);
            let also = match more {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            out.push(
                Diagnostic::warning(
                    Code::TemplateScriptNoSeed,
                    format!(
                        "{shown} renders the boot script of node {node} (`{path}`){also} without {}: {}",
                        lacks.join(" and "),
                        match lacks.iter().any(|l| l.contains("ds=")) {
                            true => "the kernel boots with no NoCloud seed, so cloud-init finds no datasource and no network config, falls back to DHCP on the first NIC (on a routed node a BGP uplink with no DHCP server), and the node comes up unreachable, with no hostname, keys or static address",
                            false => "cloud-init 22.4 reads an HTTP seed's network config only from the kernel command line, so it falls back to DHCP on the first NIC (on a routed node a BGP uplink with no DHCP server), cannot fetch the seed, and the node comes up unreachable",
                        }
                    ),
                )
                .help("put `{{ script.cmdline }}` on the `kernel` line after the kernel's URL (it holds `initrd=…`, the image's `args`, the seed and the network config; add arguments after it), or remove the override to use the built-in template"),
            );
        }
        if let Some((subject, missing, more)) = self.unseeded_nodes.take() {
            let shown = self.templates.display_name("node/cloud-init/user-data.j2");
            let also = match more {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            const SHOWN: usize = 4;
            let files: Vec<&str> = missing
                .iter()
                .take(SHOWN)
                .map(|(t, _)| t.as_str())
                .collect();
            let rest = missing.len().saturating_sub(SHOWN);
            let rest = match rest {
                0 => String::new(),
                n => format!(" and {n} more files"),
            };
            let mut losses: Vec<&str> = Vec::new();
            for (_, kind) in &missing {
                let loss = match *kind {
                    "authorized-keys" => {
                        "no authorized keys (Ansible and the operators are locked out)"
                    }
                    "sshd" => "no sshd drop-in (sshd does not read the keys siteconf writes)",
                    "netplan" => "no netplan file of its own",
                    "frr" | "frr-daemons" => {
                        "no FRR configuration (its BGP sessions never come up)"
                    }
                    _ => {
                        "no apt sources (its packages come from the image's sources, or not at all)"
                    }
                };
                if !losses.contains(&loss) {
                    losses.push(loss);
                }
            }
            out.push(
                Diagnostic::warning(
                    Code::TemplateSeedNoFiles,
                    format!(
                        "{shown} renders a `user-data` for {subject}{also} that does not carry {}{rest}: cloud-init writes on the machine only the files `write_files` lists, so the node comes up with {}",
                        files.join(", "),
                        losses.join(", ")
                    ),
                )
                .help("write every file of the node with `write_files` (`{% for f in files %}` with `f.target`, `f.mode` and `f.content_b64`, as the built-in template does) or fetch it in a `bootcmd`/`runcmd` command (`curl -o PATH …`, or a bundle unpacked with `tar -x`; a `chmod` or `chown` of a path carries nothing), or remove the override to use the built-in template"),
            );
        }
        out
    }

    /// SC0907: the site-wide YAML and JSON files of overridden templates
    /// that do not parse.
    fn parse_site(&mut self, batch: &[Artifact]) {
        for a in batch.iter().filter(|a| a.owner == Owner::Site) {
            let Some(t) = site_template_of(&a.path).filter(|t| self.site_parsed.contains(t)) else {
                continue;
            };
            let text = String::from_utf8_lossy(&a.bytes);
            let Some(format) = device::structured(&a.path, &text) else {
                continue;
            };
            let Some(why) = device::parse_problem(format, &text) else {
                continue;
            };
            let why = if a.secret {
                engine::WITHHELD.to_string()
            } else {
                why
            };
            self.site_invalid
                .entry(t)
                .and_modify(|e| e.2 += 1)
                .or_insert_with(|| {
                    (
                        a.path.clone(),
                        format!("not valid {format} ({why}; lines of the rendered file)"),
                        0,
                    )
                });
        }
    }

    fn site_invalid_errors(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.site_invalid)
            .into_iter()
            .map(|(t, (path, why, more))| {
                let shown = self.templates.display_name(t);
                let also = match more {
                    0 => String::new(),
                    n => format!(" (and {n} more files of this template)"),
                };
                Diagnostic::error(
                    Code::TemplateOutputInvalid,
                    format!("{shown}: the rendered `{path}` is {why}{also}"),
                )
                .help(format!(
                    "{} refuses the file as it is; fix the template (render it with `siteconf build` and read the file), or remove the override to use the built-in template",
                    device::consumer(&path)
                ))
            })
            .collect()
    }

    /// SC0906, one per template that rendered empty for a device that
    /// depends on it.
    fn empty_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.empty)
            .into_iter()
            .map(|(t, (subject, more))| {
                let shown = self.templates.display_name(t);
                let also = match more {
                    0 => String::new(),
                    n => format!(" (and {n} more)"),
                };
                let (what, why) = empty_consequence(t);
                Diagnostic::warning(
                    Code::TemplateOutputEmpty,
                    format!("{shown} rendered nothing for {subject}{also}, so {what} is not written: {why}"),
                )
                .help("an empty output (only white space) writes no file: fix the override (an `{% if %}` around everything that is false for this device, a block left empty), or remove it to use the built-in template")
            })
            .collect()
    }

    /// Checks one path: a second file at one path, an unsafe path, a path
    /// that differs from another only in case, a file where a directory
    /// must be. Whether the file may go on (false: a diagnostic says why).
    fn admit(&mut self, file: &str, owner: &Owner) -> bool {
        if let Some(prev) = self.paths.get(file) {
            let written_by = templates_writing(self.templates, self.plan, file);
            let d = if written_by.len() >= 2 && prev == owner {
                let names: Vec<String> = written_by.iter().map(|t| format!("`{t}`")).collect();
                path::unsafe_path(
                    file,
                    &format!(
                        "two templates write this file: {} (for {})",
                        names.join(" and "),
                        path::owner_text(owner)
                    ),
                    "a path collision",
                )
                .help("each file has one template: rename or remove one of them (an override has the very name of the template it replaces; one with a placeholder, `{repo}` or `{user}`, writes a file for each repository or user)")
            } else {
                path::unsafe_path(
                    file,
                    &format!(
                        "two templates write this file (for {} and for {})",
                        path::owner_text(prev),
                        path::owner_text(owner)
                    ),
                    "a path collision",
                )
            };
            self.diags.push(d);
            return false;
        }
        if let Some(why) = path::unsafe_reason(file) {
            self.diags
                .push(path::unsafe_path(file, &why, &path::owner_text(owner)));
            return false;
        }
        // Two paths that differ only in case are one file on a
        // case-insensitive filesystem (macOS, Windows checkouts, some
        // NAS): the second would overwrite the first.
        let other = if file.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = file.to_ascii_lowercase();
            let other = self
                .paths
                .contains_key(&lower)
                .then(|| lower.clone())
                .or_else(|| self.folded.get(&lower).cloned());
            self.folded.entry(lower).or_insert_with(|| file.to_string());
            other
        } else {
            self.folded.get(file).cloned()
        };
        if let Some(other) = other {
            self.diags.push(path::unsafe_path(
                file,
                &format!("it differs from {other:?} only in letter case: one file on a case-insensitive filesystem"),
                &path::owner_text(owner),
            ));
            return false;
        }
        if self.dirs.contains(file) {
            self.diags.push(dir_conflict(file, owner));
        }
        for d in path::ancestors(file) {
            if !self.dirs.contains(d) {
                if let Some(o) = self.paths.get(d) {
                    self.diags.push(dir_conflict(d, o));
                }
                self.dirs.insert(d.to_string());
            }
        }
        self.paths.insert(file.to_string(), owner.clone());
        true
    }
}

fn dir_conflict(d: &str, owner: &crate::output::Owner) -> Diagnostic {
    path::unsafe_path(
        d,
        "it is a file, but other files need it to be a directory",
        &path::owner_text(owner),
    )
}

struct Failure {
    subject: String,
    others: usize,
    help: Option<String>,
    secret: Option<String>,
}

/// What a template of [`device::REQUIRED`] missing means, for SC0906.
fn empty_consequence(template: &str) -> (&'static str, &'static str) {
    match template {
        "node/etc/netplan/50-siteconf.yaml.j2" => ("its netplan file", "the node has no network config, and its cloud-init `network-config` (made from that file) is left out too, so cloud-init falls back to DHCP on the first NIC, which on a routed node is a BGP uplink with no DHCP server: the node is unreachable"),
        "node/etc/ssh/sshd_config.d/50-siteconf.conf.j2" => ("its sshd drop-in", "sshd no longer reads /etc/ssh/authorized_keys/%u, where siteconf writes the users' keys: no key logs in"),
        "node/hostname.j2" => ("/etc/hostname", "the node keeps the image's host name"),
        "node/cloud-init/meta-data.j2" | "node/cloud-init/user-data.j2" => ("a file of its NoCloud seed", "cloud-init finds no NoCloud datasource without both `meta-data` and `user-data`, and the node boots unconfigured"),
        "node/etc/frr/frr.conf.j2" | "node/etc/frr/daemons.j2" => ("its FRR configuration", "the node has BGP sessions and without FRR's config they never come up: its loopback is not announced and its routed uplinks carry nothing"),
        _ => ("its FRR configuration", "the switch has an ASN and without frr.conf none of its BGP sessions comes up: the nodes behind it lose their routes"),
    }
}

/// SC0904 for each BGP password secret whose value FRR refuses, at its
/// first reference in the site files (one finding per secret, however
/// many peers share it). Checked before anything renders: the template's
/// `word` filter would otherwise stop the build at a template line with
/// its details withheld, and a value too long would pass into frr.conf.
/// A secret no source has is left to SC0902.
fn bgp_passwords(checked: &Checked, secrets: &Secrets) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if secrets.is_placeholder() {
        return out;
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in &checked.loaded.site.bgp_peers {
        let Some(pw) = &p.password else { continue };
        let SecretSpec::Ref(name) = &pw.value else {
            continue;
        };
        if !seen.insert(name.as_str()) {
            continue;
        }
        let Some(value) = secrets.get(name) else {
            continue;
        };
        let Some(why) = secrets::bgp_password_problem(&value) else {
            continue;
        };
        let from = secrets
            .origin(name)
            .unwrap_or_else(|| "its source".to_string());
        out.push(
            Diagnostic::error(
                Code::SecretInvalid,
                format!(
                    "BGP password secret `{name}` (of peer `{}`, from {from}) {why}: FRR's `neighbor {} password` would refuse it",
                    p.name.value, p.address.value
                ),
            )
            .label(pw.span, format!("secret `{name}` is referenced here"))
            .help(format!(
                "{} a password of 1 to {} bytes without white space (the one the provider gave you); the value is not shown",
                if from.starts_with("the environment") {
                    format!("set {from} to")
                } else {
                    format!("give `\"{name}\"` in {from}")
                },
                secrets::BGP_PASSWORD_MAX
            )),
        );
    }
    out
}

/// Where each secret name is first referenced in the site files: BGP
/// passwords, then secret references in `vars` (at the variable's key).
fn secret_references(checked: &Checked) -> BTreeMap<String, Span> {
    let mut m = BTreeMap::new();
    for (name, span) in crate::model::site_secret_references(&checked.loaded.site) {
        m.entry(name.to_string()).or_insert(span);
    }
    m
}

/// Masks every secret value in the text of diagnostics. Nothing siteconf
/// writes into a message holds one; this is the last line of defence
/// against a template engine message that quotes a value it was given.
fn scrub(diags: &mut [Diagnostic], secrets: &Secrets) {
    let values: Vec<&str> = secrets.values().filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return;
    }
    // Exact values, and their case-changed and reversed forms (of 4 or more
    // characters); anything else derived from a value is kept out of
    // messages by withholding error details once a render read a secret.
    let clean = |s: &mut String| {
        for v in &values {
            if s.contains(v) {
                *s = s.replace(v, "<secret>");
            }
        }
        if let std::borrow::Cow::Owned(c) = crate::syntax::scrub_values(s, values.iter().copied()) {
            *s = c;
        }
    };
    for d in diags {
        clean(&mut d.message);
        if let Some(h) = &mut d.help {
            clean(h);
        }
        for l in &mut d.labels {
            clean(&mut l.message);
        }
    }
}

/// What `check` finds in the templates ([`check_templates`]).
pub struct TemplateCheck {
    pub diags: Vec<Diagnostic>,
    /// The templates, when they load: the diagnostics' labels point into
    /// them ([`Templates::extend_sources`] of the site's source map).
    pub templates: Option<Templates>,
    /// How much of the site was rendered, when not all of it.
    pub sampled: Option<Sampled>,
}

/// The devices `check` rendered of a site too large to render whole.
#[derive(Debug, Clone, Copy)]
pub struct Sampled {
    pub nodes: usize,
    pub of_nodes: usize,
    pub switches: usize,
    pub of_switches: usize,
}

/// Up to this many devices (nodes and switches), `check` renders every
/// one of them: a fleet this size renders in about half a second on two
/// cores, and a template branch only one device takes (a lookup table
/// that misses a rack, `{% if node.name == … %}`, a filter that fails on
/// one value) is found before `build`.
pub const CHECK_EVERY_DEVICE: usize = 3000;
/// The most nodes `check` renders of a larger fleet ([`sample_picks`]).
pub const SAMPLE_NODES: usize = 256;
/// The most switches `check` renders: every switch of a fleet of up to
/// this many (switches are few, and their templates branch on roles and
/// pairs a shape does not tell apart: `tor1` and `tor2`).
pub const CHECK_SWITCHES: usize = 2000;

/// The devices `check` renders the templates for, by index into the
/// effective site's nodes and switches ([`Picks`]): all of them up to
/// [`CHECK_EVERY_DEVICE`]; of a larger fleet, every switch up to
/// [`CHECK_SWITCHES`] (else the first of each role and shape), and of the
/// nodes the first node, the first node with BGP sessions (`frr.conf`),
/// with repositories (`{repo}`) and with SSH users (`{user}`), then the
/// first node of each distinct role, profile set and view shape
/// ([`context::shapes`]: what a node has — its keys, which values are
/// empty or absent, which variables it sets — not the values), until
/// [`SAMPLE_NODES`]. A template fails alike on devices of one shape
/// unless it branches on a value; such a branch only another node of a
/// large fleet takes is found by `build`, which renders every device, and
/// `check` says that it rendered a sample.
pub fn sample_picks(eff: &resolve::effective::EffSite) -> Picks {
    sample_picks_up_to(eff, CHECK_EVERY_DEVICE)
}

/// [`sample_picks`] with every device rendered up to `every` devices
/// (tests sample a smaller fleet than [`CHECK_EVERY_DEVICE`]).
pub fn sample_picks_up_to(eff: &resolve::effective::EffSite, every: usize) -> Picks {
    let all_switches = || (0..eff.switches.len()).collect::<Vec<_>>();
    if eff.nodes.len() + eff.switches.len() <= every {
        return Picks {
            nodes: (0..eff.nodes.len()).collect(),
            switches: all_switches(),
            every: true,
        };
    }
    let every_switch = eff.switches.len() <= CHECK_SWITCHES;
    let (node_shapes, switch_shapes) = context::shapes(eff, !every_switch);
    let mut nodes: Vec<usize> = Vec::new();
    let add = |v: &mut Vec<usize>, i: Option<usize>, cap: usize| {
        if let Some(i) = i {
            if v.len() < cap && !v.contains(&i) {
                v.push(i);
            }
        }
    };
    let first = |f: &dyn Fn(&resolve::effective::EffNode) -> bool| eff.nodes.iter().position(f);
    add(
        &mut nodes,
        (!eff.nodes.is_empty()).then_some(0),
        SAMPLE_NODES,
    );
    add(&mut nodes, first(&|n| !n.sessions.is_empty()), SAMPLE_NODES);
    add(
        &mut nodes,
        first(&|n| !n.resolved.settings.repos.is_empty()),
        SAMPLE_NODES,
    );
    add(
        &mut nodes,
        first(&|n| !n.resolved.settings.ssh_keys.is_empty()),
        SAMPLE_NODES,
    );
    let mut seen: HashSet<(Option<&str>, Vec<&str>, u64)> = HashSet::default();
    for (i, n) in eff.nodes.iter().enumerate() {
        if nodes.len() >= SAMPLE_NODES {
            break;
        }
        let key = (
            n.node.role.as_ref().map(|r| r.value.as_str()),
            n.node.profiles.iter().map(|p| p.value.as_str()).collect(),
            node_shapes.get(i).copied().unwrap_or_default(),
        );
        if seen.insert(key) {
            add(&mut nodes, Some(i), SAMPLE_NODES);
        }
    }
    nodes.sort_unstable();
    let switches = if every_switch {
        all_switches()
    } else {
        let mut picked: Vec<usize> = Vec::new();
        let mut kinds = HashSet::default();
        for (i, s) in eff.switches.iter().enumerate() {
            let shape = switch_shapes.get(i).copied().unwrap_or_default();
            if kinds.insert((s.decl.role.value.as_str(), shape)) {
                picked.push(i);
            }
        }
        picked
    };
    Picks {
        nodes,
        switches,
        every: false,
    }
}

/// What `check` renders of a site ([`sample_picks`]).
pub struct Picks {
    pub nodes: Vec<usize>,
    pub switches: Vec<usize>,
    /// Every device of the site.
    pub every: bool,
}

/// What `check` knows of the templates before a build: every file of the
/// templates directory that nothing renders (SC0083), every template
/// compiled and its file name planned (SC0901, as `build` says it), and a
/// render of a sample of the site ([`sample_picks`]) with every secret a
/// placeholder and nothing written: the errors a template makes on those
/// devices (SC0901, SC0903, SC0907) and the files the fleet depends on
/// that it leaves empty (SC0906), with `build`'s codes and messages. The
/// render needs a site without errors; the templates directory is looked
/// at anyway.
pub fn check_templates(checked: &Checked, src: &dyn Source) -> TemplateCheck {
    check_templates_up_to(checked, src, CHECK_EVERY_DEVICE)
}

/// [`check_templates`] rendering every device up to `every` devices
/// ([`sample_picks_up_to`]).
pub fn check_templates_up_to(checked: &Checked, src: &dyn Source, every: usize) -> TemplateCheck {
    let templates = match Templates::load(src, &checked.loaded.config.templates_dir) {
        Ok(t) => t,
        Err(diags) => {
            return TemplateCheck {
                diags,
                templates: None,
                sampled: None,
            }
        }
    };
    let mut diags = templates.unused();
    if checked.diags.has_errors() {
        return TemplateCheck {
            diags,
            templates: Some(templates),
            sampled: None,
        };
    }
    let eff = checked.effective();
    let Picks {
        nodes,
        switches,
        every,
    } = sample_picks_up_to(&eff, every);
    let sampled = (!every).then_some(Sampled {
        nodes: nodes.len(),
        of_nodes: eff.nodes.len(),
        switches: switches.len(),
        of_switches: eff.switches.len(),
    });
    let view = if every {
        context::site_view(&eff)
    } else {
        context::sample_view(&eff, &nodes, &switches)
    };
    let opts = RenderOptions {
        secrets: Secrets::placeholder(),
        view: Some(Arc::new(view)),
        ..RenderOptions::default()
    };
    // What only the render can tell, and `build` would stop on or warn
    // of: so a site `check` accepts builds. (Findings the render repeats
    // from the site's own rules, such as SC0059 and SC0081, `check` has
    // already reported.)
    let wanted = |d: &Diagnostic| {
        matches!(
            d.code,
            Code::TemplateError
                | Code::UnsafePath
                | Code::TemplateOutputEmpty
                | Code::TemplateScriptNoSeed
                | Code::TemplateSeedNoFiles
                | Code::TemplateOutputInvalid
                | Code::BootNetworkConfigTooLong
                | Code::BootSeedSecret
        )
    };
    let found = match render_streaming(checked, src, &opts, |_| {
        Ok::<(), std::convert::Infallible>(())
    }) {
        Ok(summary) => summary.warnings,
        Err(StreamError::Render(f)) => f.diags,
        Err(StreamError::Sink(never)) => match never {},
    };
    // A count of "more" devices is of the sample, not of the fleet.
    diags.extend(found.into_iter().filter(wanted).map(|mut d| {
        if let (false, Some(i)) = (every, d.message.find(" more)")) {
            d.message
                .insert_str(i + " more".len(), " in the sample check renders");
        }
        d
    }));
    TemplateCheck {
        diags,
        templates: Some(templates),
        sampled,
    }
}

/// Every kind an artifact can have (`Artifact::kind`): the device files'
/// ([`device::kind_of`]), the site-wide files', and the manifest. What a
/// gate rule's `kinds` may name.
pub const ARTIFACT_KINDS: &[&str] = &[
    "apt-sources",
    "authorized-keys",
    "cloud-init-meta-data",
    "cloud-init-network-config",
    "cloud-init-user-data",
    "fabric",
    "file",
    "frr",
    "frr-daemons",
    "hostname",
    "hosts",
    "html",
    "inventory",
    "ipxe",
    "kea4",
    "manifest",
    "netplan",
    "nginx",
    "sshd",
    "svg",
    "zone",
];
