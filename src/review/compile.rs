//! One side of a review, compiled: check → resolve → render from any
//! [`Source`], plus what the comparison needs besides the artifacts (the
//! lock, the facts about each node, a fingerprint of every input file).
//!
//! `siteconf diff` and `siteconf gate` render with [`Engine`], the real
//! template engine. Rendering is behind the [`Renderer`] trait so that tests
//! (and benchmarks) can plant exactly the artifacts they need.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::facts::Facts;
use crate::check::{self, Checked};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::output::{OutputSet, Owner};
use crate::project::{Config, CONFIG_FILE};
use crate::resolve::Lock;
use crate::source::Source;
use crate::syntax::SourceMap;

/// Renders a checked site into artifacts: [`Engine`], or a test's own.
pub trait Renderer: Sync {
    /// `src` is the same source the site was checked from (templates and
    /// other project files are read from it, never from the disk).
    fn render(&self, checked: &Checked, src: &dyn Source) -> Result<OutputSet, Diagnostics>;

    /// Whether this renderer can leave devices out
    /// ([`Renderer::keys`], [`Renderer::render_except`]). When it can,
    /// the comparison makes each side's view of the site, keeps it with
    /// the keys, and drops the resolved nodes the view was made from:
    /// [`Renderer::render_except`] must read the nodes from the view only.
    fn keyed(&self) -> bool {
        false
    }

    /// Every device's key ([`crate::render::keys`]) of `view`, the site's
    /// view of `checked`, when this renderer can leave devices out
    /// ([`Renderer::keyed`]). `checked` no longer has its resolved nodes
    /// (the view holds what rendering reads of them). None: every device
    /// is rendered on both sides — which happens only when the templates
    /// do not load or compile, and then the render stops there too, before
    /// it reads a node.
    fn keys(
        &self,
        _checked: &Checked,
        _src: &dyn Source,
        _view: Arc<SiteView>,
    ) -> Option<DeviceKeys> {
        None
    }

    /// [`Renderer::render`], leaving out every device (its files and its
    /// per-host site files) whose key is in `same`: the same on both sides.
    /// `keyed`: what [`Renderer::keys`] gave for this side (its view is
    /// reused).
    fn render_except(
        &self,
        checked: &Checked,
        src: &dyn Source,
        _same: Arc<Same>,
        _keyed: DeviceKeys,
    ) -> Result<OutputSet, Diagnostics> {
        self.render(checked, src)
    }
}

use crate::render::context::SiteView;
pub use crate::render::DeviceKeys;

/// What has the same key on both sides: devices, and site-wide jobs by
/// path.
#[derive(Debug, Default)]
pub struct Same {
    pub devices: HashMap<Owner, [u8; 32]>,
    pub site_jobs: HashMap<String, [u8; 32]>,
}

/// Leaves out the devices and site-wide jobs whose key is the other side's.
struct SameOnBothSides(Arc<Same>);

impl crate::render::keys::Reuse for SameOnBothSides {
    fn reuse(&self, owner: &Owner, key: &[u8; 32]) -> Option<Vec<crate::output::manifest::Listed>> {
        (self.0.devices.get(owner) == Some(key)).then(Vec::new)
    }

    fn reuse_site(&self, path: &str, key: &[u8; 32]) -> Option<crate::render::keys::KnownSiteFile> {
        (self.0.site_jobs.get(path) == Some(key)).then_some((None, None))
    }
}

impl<F> Renderer for F
where
    F: Fn(&Checked, &dyn Source) -> Result<OutputSet, Diagnostics> + Sync,
{
    fn render(&self, checked: &Checked, src: &dyn Source) -> Result<OutputSet, Diagnostics> {
        self(checked, src)
    }
}

/// The renderer `siteconf diff` and `siteconf gate` use: the real engine
/// (`crate::render::render`), with every secret resolved to a placeholder
/// (`render::secrets::placeholder_of`: a digest, not the name). Review
/// never needs a secret's value: a file that uses one is marked secret and
/// shown only as changed, and a changed reference still shows as a change. So `diff` in CI needs no access to secrets and
/// cannot leak them.
pub struct Engine;

impl Engine {
    fn options() -> crate::render::RenderOptions {
        crate::render::RenderOptions {
            secrets: crate::render::Secrets::placeholder(),
            progress: None,
            ..Default::default()
        }
    }

    fn render_with(
        &self,
        checked: &Checked,
        src: &dyn Source,
        opts: crate::render::RenderOptions,
    ) -> Result<OutputSet, Diagnostics> {
        crate::render::render(checked, src, &opts)
            .map(|r| r.set)
            .map_err(|f| {
                let mut d = Diagnostics::new();
                d.extend(f.diags);
                d
            })
    }
}

impl Renderer for Engine {
    fn render(&self, checked: &Checked, src: &dyn Source) -> Result<OutputSet, Diagnostics> {
        self.render_with(checked, src, Engine::options())
    }

    fn keyed(&self) -> bool {
        true
    }

    fn keys(&self, checked: &Checked, src: &dyn Source, view: Arc<SiteView>) -> Option<DeviceKeys> {
        let opts = crate::render::RenderOptions {
            view: Some(view),
            ..Engine::options()
        };
        crate::render::device_keys(checked, src, &opts)
    }

    fn render_except(
        &self,
        checked: &Checked,
        src: &dyn Source,
        same: Arc<Same>,
        keyed: DeviceKeys,
    ) -> Result<OutputSet, Diagnostics> {
        let opts = crate::render::RenderOptions {
            reuse: Some(Arc::new(SameOnBothSides(same))),
            keyed: Some(Arc::new(keyed)),
            ..Engine::options()
        };
        self.render_with(checked, src, opts)
    }
}

/// A side that compiled: everything the comparison reads.
pub struct Compiled {
    /// "main (merge base abc1234)", "working tree" — for headings.
    pub label: String,
    pub output: OutputSet,
    pub facts: Facts,
    /// The lock as it is after this compile: the committed lock plus
    /// allocations made for requests it did not answer yet.
    pub lock: Lock,
    /// Allocation changes that the committed siteconf.lock lacks (the
    /// lock is stale when this is not empty).
    pub lock_pending: Vec<String>,
    /// SHA-256 of every input file (siteconf.toml, siteconf.lock, site and
    /// template files), by path: which inputs a change touched.
    pub inputs: BTreeMap<String, [u8; 32]>,
    pub config: Config,
    /// The project files as read (for diagnostics about them, e.g. a bad
    /// gate policy in siteconf.toml).
    pub sources: SourceMap,
    /// Warnings from check (errors stop the compile).
    pub warnings: Vec<Diagnostic>,
    /// What the source skipped (symlinks, submodules).
    pub notes: Vec<String>,
    /// The sites as checked, in name order: what `gate` compares its
    /// policy's patterns with (SC0056), as `check` does.
    pub sites: Vec<crate::model::Site>,
    /// In a project of several sites, each site's name and lock file, in
    /// the order of the project's sites (empty for a single site).
    pub site_locks: Vec<(String, String)>,
    /// Sites renamed between base and head (`(base's name, head's name)`),
    /// set on base by [`compile_both`]: base's output, facts and lock
    /// carry head's names for them, so the review compares the site's
    /// devices with themselves (see [`rename_sites`]).
    pub renamed_sites: Vec<(String, String)>,
    /// Nodes renamed with their values kept, set on base by
    /// [`compile_both`] (see [`super::rename_nodes`]).
    pub renamed_nodes: Vec<super::rename_nodes::NodeRename>,
}

/// A side that did not compile: its diagnostics, sorted.
pub struct Failed {
    pub label: String,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Failed")
            .field("label", &self.label)
            .field("diagnostics", &self.diagnostics.len())
            .finish()
    }
}

/// Whether the project does not exist at all in `src`: no siteconf.toml
/// and no site files. That is the base of the merge request that creates
/// the site, and it compiles to nothing rather than failing.
fn absent(src: &dyn Source) -> bool {
    let config_missing = matches!(src.read(CONFIG_FILE), Ok(None));
    let site_dir = Config::default().site_dir;
    config_missing && src.list(&site_dir).is_ok_and(|l| l.is_empty())
}

/// check → resolve → render one side.
pub fn compile(src: &dyn Source, label: &str, renderer: &dyn Renderer) -> Result<Compiled, Failed> {
    compile_checked(
        src,
        label,
        renderer,
        check_side(src),
        Vec::new(),
        Vec::new(),
    )
}

/// The checked project of one side; `None` when it does not exist at all
/// ([`absent`]).
fn check_side(src: &dyn Source) -> Option<check::CheckedProject> {
    (!absent(src)).then(|| check::check_project(src, None, false))
}

/// Each site of a checked side, when the side has no errors (a side with
/// errors renders nothing): its name (none for a project of one site), by
/// its index in the side's sites.
fn keyable(p: &Option<check::CheckedProject>) -> Vec<Option<String>> {
    match p {
        Some(p) if !p.diags.has_errors() => p
            .sites
            .iter()
            .map(|c| c.loaded.config.site.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// What a side leaves out of its render, per site (in the order of its
/// project's sites; `None`: render everything).
type SameBySite = Vec<Option<(Arc<Same>, DeviceKeys)>>;

/// Each site's facts, when they were read before its resolved nodes were
/// dropped (in the order of its project's sites; `None`: read them from
/// the site).
type FactsBySite = Vec<Option<Facts>>;

/// One site of a side, made ready for a render that leaves devices out:
/// its view, its facts, then its keys — the view holds what the render
/// reads of the nodes, so the resolved nodes and their allocations are
/// dropped before the keys are computed, and a fleet's two sides never
/// hold both at once with their views.
fn prepare(
    renderer: &dyn Renderer,
    checked: &mut Checked,
    src: &dyn Source,
) -> (Option<DeviceKeys>, Option<Facts>) {
    if !renderer.keyed() {
        return (None, None);
    }
    let (view, facts) = {
        let eff = checked.effective();
        let view = Arc::new(crate::render::context::site_view(&eff));
        (view, Facts::collect(&eff))
    };
    checked.resolved.nodes = Vec::new();
    checked.resolved.allocations = Default::default();
    (renderer.keys(checked, src, view), Some(facts))
}

/// [`compile`] from the side's check; `same`: devices left out of each
/// site (the same key on both sides).
fn compile_checked(
    src: &dyn Source,
    label: &str,
    renderer: &dyn Renderer,
    project: Option<check::CheckedProject>,
    mut same: SameBySite,
    mut facts: FactsBySite,
) -> Result<Compiled, Failed> {
    let Some(mut project) = project else {
        return Ok(Compiled {
            label: label.to_string(),
            output: OutputSet::default(),
            facts: Facts::default(),
            lock: Lock::default(),
            lock_pending: Vec::new(),
            inputs: BTreeMap::new(),
            config: Config::default(),
            sources: SourceMap::default(),
            warnings: Vec::new(),
            notes: src.notes(),
            sites: Vec::new(),
            site_locks: Vec::new(),
            renamed_sites: Vec::new(),
            renamed_nodes: Vec::new(),
        });
    };
    let multi = project
        .sites
        .first()
        .is_some_and(|c| c.loaded.config.is_multi_site());
    if multi || project.sites.len() != 1 {
        return compile_sites(project, src, label, renderer, same, facts);
    }
    let checked = project.sites.remove(0);
    let same = same.drain(..).next().flatten();
    let facts = facts.drain(..).next().flatten();
    let failed = |diags: Diagnostics, sources: SourceMap| Failed {
        label: label.to_string(),
        diagnostics: diags.sorted(&sources),
        sources,
        notes: src.notes(),
    };
    if checked.diags.has_errors() {
        let Checked { loaded, diags, .. } = checked;
        return Err(failed(diags, loaded.sources));
    }
    // Rendering and fingerprinting the inputs are independent.
    let (rendered, inputs) = rayon::join(
        || match same {
            Some((same, keyed)) => renderer.render_except(&checked, src, same, keyed),
            None => renderer.render(&checked, src),
        },
        || fingerprint(src, &checked.loaded.config, &checked.loaded.sources),
    );
    let facts = facts.unwrap_or_else(|| Facts::collect(&checked.effective()));
    let Checked {
        loaded,
        resolved,
        diags,
        lock_not_current,
    } = checked;
    let output = match rendered {
        Ok(o) => o,
        Err(render_diags) => {
            let mut all = diags;
            all.extend(render_diags);
            return Err(failed(all, loaded.sources));
        }
    };
    let inputs = match inputs {
        Ok(i) => i,
        Err(d) => {
            let mut all = diags;
            all.push(d);
            return Err(failed(all, loaded.sources));
        }
    };
    let warnings: Vec<Diagnostic> = diags
        .sorted(&loaded.sources)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    Ok(Compiled {
        label: label.to_string(),
        output,
        facts,
        lock_pending: if lock_not_current {
            resolved.lock_changes.clone()
        } else {
            Vec::new()
        },
        lock: resolved.lock,
        inputs,
        config: loaded.config,
        sources: loaded.sources,
        warnings,
        notes: src.notes(),
        sites: vec![loaded.site],
        site_locks: Vec::new(),
        renamed_sites: Vec::new(),
        renamed_nodes: Vec::new(),
    })
}

/// Both sides at once. Each side's own stages are parallel inside; joining
/// the two keeps both cores busy through the sequential parts.
pub fn compile_both(
    base: (&dyn Source, &str),
    head: (&dyn Source, &str),
    renderer: &dyn Renderer,
) -> (Result<Compiled, Failed>, Result<Compiled, Failed>) {
    let (mut pb, mut ph) = rayon::join(|| check_side(base.0), || check_side(head.0));
    // A zone serial of base below one its own parents committed (SC0031)
    // is base's history, not this change's: head's check reports it if
    // head still has it, and base is still compared with.
    if let Some(p) = pb.as_mut() {
        let history =
            |d: &crate::diag::Diagnostic| d.code != crate::diag::Code::LockZoneSerialBehind;
        p.diags.retain(history);
        for c in &mut p.sites {
            c.diags.retain(history);
        }
    }
    // A device whose key is the same on both sides renders the same files
    // on both: neither side renders it (its files are in neither output),
    // so that a one-node change costs one node, not the fleet. Sites are
    // matched by name; a site on one side only renders everything.
    let (sites_b, sites_h) = (keyable(&pb), keyable(&ph));
    let pairs: Vec<(usize, usize)> = sites_b
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let j = sites_h.iter().position(|n| n == name)?;
            Some((i, j))
        })
        .collect();
    let mut sb: SameBySite = (0..sites_b.len()).map(|_| None).collect();
    let mut sh: SameBySite = (0..sites_h.len()).map(|_| None).collect();
    let mut fb: FactsBySite = (0..sites_b.len()).map(|_| None).collect();
    let mut fh: FactsBySite = (0..sites_h.len()).map(|_| None).collect();
    for (i, j) in pairs {
        // Both sides at once, each dropping its resolved nodes once its
        // view is made. One side after the other peaked 60 MB lower at
        // 10,000 nodes (510 against 575 MB) but took 0.2 s longer (1.5
        // against 1.3 s): the parts of a side's view that run on one
        // thread (its facts' groups, the drops) left a core idle.
        let (Some(b), Some(h)) = (pb.as_mut(), ph.as_mut()) else {
            continue;
        };
        let ((kb, facts_b), (kh, facts_h)) = rayon::join(
            || prepare(renderer, &mut b.sites[i], base.0),
            || prepare(renderer, &mut h.sites[j], head.0),
        );
        fb[i] = facts_b;
        fh[j] = facts_h;
        let (kb, kh) = match (kb, kh) {
            (Some(kb), Some(kh)) => (kb, kh),
            // The other side's templates do not load: this side renders
            // every device, from its view.
            (kb, kh) => {
                let all = || Arc::new(Same::default());
                sb[i] = kb.map(|k| (all(), k));
                sh[j] = kh.map(|k| (all(), k));
                continue;
            }
        };
        let mut site_jobs = same_keys(&kb.site_jobs, &kh.site_jobs);
        // A bootinfra joins a site's DHCP, DNS and iPXE files with the
        // other sites' it serves, and refuses files that differ: each
        // side's join must see them all, so they are rendered on both.
        if sites_b[i]
            .as_deref()
            .is_some_and(|name| served_by_bootinfra(&b.sites[i], name))
        {
            site_jobs.retain(|path, _| {
                !crate::render::bootinfra::PREFIXES
                    .iter()
                    .any(|p| path.starts_with(p))
            });
        }
        let same = Arc::new(Same {
            devices: same_keys(&kb.by_owner(), &kh.by_owner()),
            site_jobs,
        });
        sb[i] = Some((same.clone(), kb));
        sh[j] = Some((same, kh));
    }
    let (mut b, h) = rayon::join(
        || compile_checked(base.0, base.1, renderer, pb, sb, fb),
        || compile_checked(head.0, head.1, renderer, ph, sh, fh),
    );
    if let (Ok(b), Ok(h)) = (b.as_mut(), h.as_ref()) {
        rename_sites(b, h);
        super::rename_nodes::rename_nodes(b, h);
    }
    (b, h)
}

/// Sites renamed between the sides: a site of base's only and a site of
/// head's only whose nodes are the same machines — a MAC address or
/// serial number in common (as a renamed node is recognised), or, for
/// nodes that declare neither, the same node names. Each site pairs once,
/// in name order.
pub fn site_renames(base: &Compiled, head: &Compiled) -> Vec<(String, String)> {
    let names =
        |c: &Compiled| -> Vec<String> { c.site_locks.iter().map(|(s, _)| s.clone()).collect() };
    let (nb, nh) = (names(base), names(head));
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|s| !b.contains(s)).cloned().collect()
    };
    let (gone, new) = (only(&nb, &nh), only(&nh, &nb));
    if gone.is_empty() || new.is_empty() {
        return Vec::new();
    }
    type Machines<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>);
    fn machines<'a>(f: &'a Facts, site: &str) -> Machines<'a> {
        let prefix = format!("{site}/");
        let mut names = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (n, nf) in &f.nodes {
            if let Some(short) = n.strip_prefix(&prefix) {
                names.insert(short);
                ids.extend(nf.macs.iter().map(String::as_str));
                ids.extend(nf.serial.as_deref());
            }
        }
        (names, ids)
    }
    // A MAC or serial in common first: node names repeat across sites
    // (`r01n01` in each), machines do not.
    let mut taken = BTreeSet::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for by_name in [false, true] {
        for g in &gone {
            let (names_b, ids_b) = machines(&base.facts, g);
            if names_b.is_empty() || out.iter().any(|(f, _)| f == g) {
                continue;
            }
            let hit = new.iter().filter(|n| !taken.contains(*n)).find(|n| {
                let (names_h, ids_h) = machines(&head.facts, n);
                if by_name {
                    // The same names, and no MAC or serial that says they
                    // are other machines (a site removed and another
                    // added, both named as `siteconf init` names nodes).
                    names_h == names_b && (ids_b.is_empty() || ids_h.is_empty())
                } else {
                    !ids_h.is_disjoint(&ids_b)
                }
            });
            if let Some(n) = hit {
                taken.insert(n.clone());
                out.push((g.clone(), n.clone()));
            }
        }
    }
    out.sort();
    out
}

/// Gives base's renamed sites head's names (paths `<site>/…`, owners,
/// facts, lock owners), so that the review compares a renamed site's
/// devices with themselves: files identical apart from the site's prefix
/// are unchanged, not removed and added. What does change — the inventory
/// group `site_<site>` — is left as it is and shows as a renamed group.
pub fn rename_sites(base: &mut Compiled, head: &Compiled) {
    let renames = site_renames(base, head);
    if renames.is_empty() {
        return;
    }
    let lock_of = |c: &Compiled, site: &str| {
        c.site_locks
            .iter()
            .find(|(s, _)| s == site)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    let mut prefixes: Vec<(String, String)> = Vec::new();
    let mut locks: Vec<(String, String)> = Vec::new();
    for (from, to) in &renames {
        prefixes.push((format!("{from}/"), format!("{to}/")));
        locks.push((
            format!("{}:", lock_of(base, from)),
            format!("{}:", lock_of(head, to)),
        ));
    }
    let re = |s: &str, table: &[(String, String)]| -> Option<String> {
        table
            .iter()
            .find_map(|(f, t)| s.strip_prefix(f.as_str()).map(|rest| format!("{t}{rest}")))
    };
    let name = |s: String| re(&s, &prefixes).unwrap_or(s);
    let files = std::mem::take(&mut base.output.files);
    for (_, mut a) in files {
        if let Some(p) = re(&a.path, &prefixes) {
            a.path = p;
            a.owner = match a.owner {
                Owner::Node(n) => Owner::Node(name(n)),
                Owner::Switch(n) => Owner::Switch(name(n)),
                Owner::Site => Owner::Site,
            };
        }
        base.output.insert(a);
    }
    let f = &mut base.facts;
    f.nodes = std::mem::take(&mut f.nodes)
        .into_iter()
        .map(|(n, mut nf)| {
            nf.rack = nf.rack.map(name);
            if let Some(o) = re(&nf.lock_owner, &locks) {
                nf.lock_owner = o;
            }
            (name(n), nf)
        })
        .collect();
    f.switches = std::mem::take(&mut f.switches)
        .into_iter()
        .map(|(n, mut sf)| {
            sf.rack = sf.rack.map(name);
            (name(n), sf)
        })
        .collect();
    f.rename_in_sessions_and_groups(name);
    for e in &mut base.lock.entries {
        if let Some(o) = re(&e.owner, &locks) {
            e.owner = o;
        }
    }
    base.lock.sort();
    base.renamed_sites = renames;
}

/// Whether a bootinfra of the project serves the site `name`.
fn served_by_bootinfra(checked: &Checked, name: &str) -> bool {
    checked
        .loaded
        .config
        .bootinfra
        .values()
        .any(|b| b.serves.iter().any(|s| s == name))
}

/// The entries of `a` whose key `b` has too.
fn same_keys<K: Clone + Eq + std::hash::Hash, S: std::hash::BuildHasher>(
    a: &HashMap<K, [u8; 32], S>,
    b: &HashMap<K, [u8; 32], S>,
) -> HashMap<K, [u8; 32]> {
    a.iter()
        .filter(|(k, v)| b.get(*k) == Some(*v))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// [`project::input_digests`], as a diagnostic when a file cannot be read.
fn fingerprint(
    src: &dyn Source,
    config: &Config,
    read: &SourceMap,
) -> Result<BTreeMap<String, [u8; 32]>, Diagnostic> {
    crate::project::input_digests(src, config, read).map_err(|e| {
        Diagnostic::error(
            crate::diag::Code::ProjectConfig,
            format!("cannot read {}: {}", e.path, e.message),
        )
    })
}

/// One side of a project of several sites: every site compiled as a
/// single site is, its artifacts under `<site>/` (owners `<site>/<name>`),
/// each bootinfra's joined files under `bootinfra/<name>/`, the facts and
/// lock entries named by site too — so the review, the grouping and the
/// gate see one output, and a path or owner glob (`prod/**`) scopes a
/// rule to a site.
fn compile_sites(
    project: check::CheckedProject,
    src: &dyn Source,
    label: &str,
    renderer: &dyn Renderer,
    mut same: SameBySite,
    mut known_facts: FactsBySite,
) -> Result<Compiled, Failed> {
    use crate::output::Owner;
    let sources = project.sources().cloned().unwrap_or_default();
    let failed = |diags: Diagnostics, sources: SourceMap| Failed {
        label: label.to_string(),
        diagnostics: diags.sorted(&sources),
        sources,
        notes: src.notes(),
    };
    if project.diags.has_errors() || project.sites.is_empty() {
        return Err(failed(project.diags, sources));
    }
    let mut output = OutputSet::default();
    let mut facts = Facts::default();
    let mut lock = Lock::default();
    let mut lock_pending = Vec::new();
    let mut inputs = BTreeMap::new();
    // Each site's files a bootinfra joins (`site/dhcp/` …), by path.
    let mut per_site: Vec<(String, BTreeMap<String, Vec<u8>>)> = Vec::new();
    let mut site_locks = Vec::new();
    same.resize_with(project.sites.len(), || None);
    known_facts.resize_with(project.sites.len(), || None);
    for ((checked, same), f) in project.sites.iter().zip(same).zip(known_facts) {
        let site = checked.loaded.config.site.clone().unwrap_or_default();
        let (rendered, digests) = rayon::join(
            || match same {
                Some((same, keyed)) => renderer.render_except(checked, src, same, keyed),
                None => renderer.render(checked, src),
            },
            || fingerprint(src, &checked.loaded.config, &checked.loaded.sources),
        );
        let set = match rendered {
            Ok(o) => o,
            Err(d) => return Err(failed(d, sources)),
        };
        match digests {
            Ok(i) => inputs.extend(i),
            Err(d) => {
                let mut all = Diagnostics::new();
                all.push(d);
                return Err(failed(all, sources));
            }
        }
        let f = f.unwrap_or_else(|| Facts::collect(&checked.effective()));
        let name = |n: &str| format!("{site}/{n}");
        for (n, mut nf) in f.nodes {
            nf.rack = nf.rack.map(|r| name(&r));
            nf.lock_owner = format!("{}:{}", checked.loaded.config.lock_file, nf.lock_owner);
            facts.nodes.insert(name(&n), nf);
        }
        for (n, mut sf) in f.switches {
            sf.rack = sf.rack.map(|r| name(&r));
            facts.switches.insert(name(&n), sf);
        }
        for mut sess in f.sessions {
            sess.a = name(&sess.a);
            sess.b = name(&sess.b);
            facts.sessions.insert(sess);
        }
        // The all-sites inventory (`siteconf inventory --list`) joins the
        // groups of the same name across sites and adds `site_<site>` with
        // every host of the site: playbooks target these names, so a group
        // renamed in one site, or a site renamed, is a renamed group.
        let mut site_hosts = BTreeSet::new();
        for (g, members) in f.groups {
            let all = facts.groups.entry(g).or_default();
            for m in members {
                site_hosts.insert(name(&m));
                all.insert(name(&m));
            }
        }
        facts
            .groups
            .entry(format!("site_{}", crate::model::names::group_name(&site)))
            .or_default()
            .extend(site_hosts);
        site_locks.push((site.clone(), checked.loaded.config.lock_file.clone()));
        for e in &checked.resolved.lock.entries {
            let mut e = e.clone();
            e.owner = format!("{}:{}", checked.loaded.config.lock_file, e.owner);
            lock.entries.push(e);
        }
        if checked.resolved.lock_changed {
            lock_pending.extend(
                checked
                    .resolved
                    .lock_changes
                    .iter()
                    .map(|c| format!("{}: {c}", checked.loaded.config.lock_file)),
            );
        }
        let boot_files = set
            .files
            .iter()
            .filter(|(p, _)| {
                crate::render::bootinfra::PREFIXES
                    .iter()
                    .any(|x| p.starts_with(x))
            })
            .map(|(p, a)| (p.clone(), a.bytes.clone()))
            .collect();
        for (_, mut a) in set.files {
            a.path = format!("{site}/{}", a.path);
            a.owner = match a.owner {
                Owner::Node(n) => Owner::Node(name(&n)),
                Owner::Switch(n) => Owner::Switch(name(&n)),
                Owner::Site => Owner::Site,
            };
            output.insert(a);
        }
        per_site.push((site, boot_files));
    }
    let config = project.sites[0].loaded.config.clone();
    for (b, bi) in &config.bootinfra {
        let served: Vec<crate::render::bootinfra::ServedFiles> = per_site
            .iter()
            .filter(|(s, _)| bi.serves.contains(s))
            .map(|(s, files)| crate::render::bootinfra::ServedFiles {
                site: s,
                files: files.clone(),
            })
            .collect();
        match crate::render::bootinfra::join(b, &served) {
            Ok(files) => {
                for mut a in files {
                    a.path = format!("bootinfra/{b}/{}", a.path);
                    output.insert(a);
                }
            }
            Err(d) => {
                let mut all = Diagnostics::new();
                all.extend(d);
                return Err(failed(all, sources));
            }
        }
    }
    lock.sort();
    let warnings: Vec<Diagnostic> = project
        .diags
        .sorted(&sources)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    let mut config = config;
    config.site = None;
    let sites = project.sites.into_iter().map(|c| c.loaded.site).collect();
    Ok(Compiled {
        label: label.to_string(),
        output,
        facts,
        lock,
        lock_pending,
        inputs,
        config,
        sources,
        warnings,
        notes: src.notes(),
        sites,
        site_locks,
        renamed_sites: Vec::new(),
        renamed_nodes: Vec::new(),
    })
}
