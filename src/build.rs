//! The build: a checked site rendered straight into the output directory,
//! a chunk of devices at a time ([`render::render_streaming`] feeding an
//! [`output::write::Writer`]), so that a fleet's output is never all in
//! memory — unless the output is up to date, which the build decides
//! itself. `siteconf build` and the build benchmark both run this:
//!
//! 1. [`prepare`] reads `siteconf.toml` once (the output directory may come
//!    from it), then checks the site and, at the same time, looks at the
//!    output directory: whether it is still exactly as the last build left
//!    it ([`output::stamp`]). The site is checked even when nothing will be
//!    rendered: its findings go back to the caller, and an error stops
//!    the build whether the output is up to date or not.
//! 2. [`build`] digests what the build reads (the tool, every input file,
//!    the secrets' digest) and compares it with the stamp: the same means
//!    [`BuildOutcome::UpToDate`] (nothing rendered, read or written);
//!    anything else renders and writes, and records a new stamp
//!    ([`BuildOutcome::Written`]).
//!
//! [`output::stamp`]: crate::output::stamp
//! [`output::write::Writer`]: crate::output::write::Writer

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::Digest;

use crate::check::{self, Checked};
use crate::output::{memo, stamp, Owner};
use std::sync::Arc;

use crate::output::manifest::Listed;
use crate::output::write::{WriteError, WriteOptions, WriteStats, Writer};
use crate::project::{self, Config, ConfigFile};

use crate::render::{self, RenderFailure, RenderOptions, RenderSummary, Secrets, StreamError};
use crate::resolve::lock::{Lock, ZoneSerial};
use crate::source::{Source, SourceError};
use crate::syntax::SourceMap;

/// The first half of a build ([`prepare`]): the site checked, and what
/// the output directory was found to be meanwhile.
pub struct Prepared {
    pub checked: Checked,
    /// The output directory.
    pub out: PathBuf,
    /// The stamp of `out`, when `out` is exactly as the build that wrote
    /// the stamp left it (`None`: no stamp, a changed output, `force`).
    last: Option<stamp::Unchanged>,
    /// The memo of that output ([`memo::load`]), read while the site was
    /// checked; taken by the build that renders.
    memo: std::sync::Mutex<Option<memo::Memo>>,
}

/// What [`prepare`] looks at beside the check: the output's stamp, if
/// the output is as the last build left it, and then its memo (read now,
/// on the thread that would otherwise wait for the check, not after it).
fn look(out: &Path, force: bool) -> (Option<stamp::Unchanged>, Option<memo::Memo>) {
    if force {
        return (None, None);
    }
    let last = stamp::unchanged(out);
    let memo = last.as_ref().and_then(|l| memo::load(out, &l.tree.hex()));
    (last, memo)
}

/// Reads `siteconf.toml`, then checks the site while looking at the
/// output directory `out_dir(config)` (both walk a tree: at the same time).
/// With `force` the output is not looked at, and [`build`] renders.
pub fn prepare(
    src: &dyn Source,
    out_dir: impl FnOnce(&Config) -> PathBuf,
    force: bool,
) -> Prepared {
    let config = ConfigFile::read(src);
    let out = out_dir(&config.config);
    let (checked, (last, memo)) = rayon::join(
        || check::check_configured(src, config),
        || look(&out, force),
    );
    Prepared {
        checked,
        out,
        last,
        memo: std::sync::Mutex::new(memo),
    }
}

/// [`prepare`] for every site of a project (or `only` one): each site's
/// output directory is `<out>/<site>` (`<out>` itself for a single site),
/// looked at while the sites are checked. The second value holds every
/// site's findings once, and what repeats across sites.
pub fn prepare_project(
    src: &dyn Source,
    only: Option<&str>,
    out_dir: impl FnOnce(&Config) -> PathBuf,
    force: bool,
) -> (Vec<Prepared>, crate::diag::Diagnostics) {
    let config = ConfigFile::read(src);
    let root = out_dir(&config.config);
    let multi = config.config.is_multi_site();
    let sites: Vec<String> = config.config.sites.keys().cloned().collect();
    let look = |dirs: Vec<PathBuf>| -> Vec<(Option<stamp::Unchanged>, Option<memo::Memo>)> {
        use rayon::prelude::*;
        dirs.par_iter().map(|d| look(d, force)).collect()
    };
    let outs: Vec<PathBuf> = if multi {
        sites.iter().map(|s| root.join(s)).collect()
    } else {
        vec![root.clone()]
    };
    let (project, lasts) = rayon::join(
        || check::check_project_configured(src, config, only, false),
        || look(outs.clone()),
    );
    let mut last_of: BTreeMap<PathBuf, (Option<stamp::Unchanged>, Option<memo::Memo>)> =
        outs.into_iter().zip(lasts).collect();
    let check::CheckedProject { sites, diags, .. } = project;
    let prepared = sites
        .into_iter()
        .map(|checked| {
            let out = match &checked.loaded.config.site {
                Some(s) => root.join(s),
                None => root.clone(),
            };
            let (last, memo) = last_of.remove(&out).unwrap_or_default();
            Prepared {
                checked,
                out,
                last,
                memo: std::sync::Mutex::new(memo),
            }
        })
        .collect();
    (prepared, diags)
}

/// An output found current without checking the site ([`up_to_date`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub out: PathBuf,
    pub files: usize,
    pub nodes: usize,
    pub switches: usize,
}

/// Whether the output of a single-site project is exactly what the last
/// build made from these very inputs, that build's check having found
/// nothing to say: then there is nothing to check, render or show, and the
/// answer costs a walk of the output and a digest of the inputs (at the
/// same time), not a check of the fleet. `None` whenever that is not
/// certain — several sites, a `siteconf.toml` with findings, no stamp, a
/// stamp of a build with findings ([`stamp::flagged`]), a touched output —
/// and the caller goes the whole way ([`prepare_project`], [`build`]).
/// `config` is `siteconf.toml` as read from `src`; `secrets` gives the
/// digest of the secrets the build would use.
pub fn up_to_date(
    src: &dyn Source,
    config: &ConfigFile,
    out_dir: impl FnOnce(&Config) -> PathBuf,
    secrets: impl FnOnce(&Config) -> Option<[u8; 32]>,
) -> Option<Current> {
    if config.has_findings() || config.config.is_multi_site() {
        return None;
    }
    let out = out_dir(&config.config);
    let secrets = secrets(&config.config)?;
    // The walk starts at once, and is given up as soon as the inputs are
    // found not to be the ones the stamp records: the build that follows
    // walks the output beside its check (`prepare_project`).
    let stop = AtomicBool::new(false);
    let (seen, digest) = rayon::join(
        || stamp::untouched_unless(&out, &stop),
        || {
            let files = project::input_digests(src, &config.config, &SourceMap::default());
            let digest = inputs_digest(files.as_ref().ok()?, &secrets, true);
            if !digest.is_some_and(|d| stamp::records_inputs(&out, &d)) {
                stop.store(true, Ordering::Relaxed);
            }
            digest
        },
    );
    let seen = seen.ok()??;
    if !seen.built_from(&digest?) {
        return None;
    }
    let (nodes, switches) = memo::counts(&out, &seen.tree.hex())?;
    Some(Current {
        out,
        files: seen.files,
        nodes,
        switches,
    })
}

/// How to build.
pub struct BuildOptions {
    /// The secrets templates may resolve; their digest goes into the stamp,
    /// so that a changed value builds again.
    pub secrets: Secrets,
    /// Called once per device rendered.
    pub progress: Option<render::Progress>,
    /// Flush the new tree to disk before it is swapped in.
    pub sync: bool,
}

/// What a build did.
#[derive(Debug)]
// One per build, returned once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum BuildOutcome {
    /// The output is what these very inputs built last time and nobody
    /// touched it since: nothing was rendered, read or written.
    UpToDate {
        /// Regular files in the output.
        files: usize,
    },
    /// Rendered and written (only what changed; see
    /// [`crate::output::write`]), and stamped.
    Written(Built),
}

/// A finished build that rendered.
#[derive(Debug, Clone)]
pub struct Built {
    pub rendered: RenderSummary,
    pub stats: WriteStats,
    /// Time spent rendering, from the first device to the last batch
    /// handed to the writer (which writes meanwhile, on its own thread:
    /// the two overlap).
    pub render: Duration,
    /// Time the writer was busy: scanning the old output, comparing,
    /// writing, swapping, the stamp.
    pub write: Duration,
    /// What the stamp says the output was built from, for
    /// [`restamp_lock`]; `None` when no stamp was written.
    inputs: Option<Inputs>,
}

/// What a build read, as the stamp records it.
#[derive(Debug, Clone)]
struct Inputs {
    files: BTreeMap<String, [u8; 32]>,
    secrets: [u8; 32],
    /// The check had no findings (the digest is not [`stamp::flagged`]).
    clean: bool,
    digest: [u8; 32],
}

/// Why a build wrote nothing.
#[derive(Debug)]
pub enum BuildError {
    /// The site or a template failed: every diagnostic.
    Render(RenderFailure),
    /// The writer failed (an unsafe path is `WriteError::Unsafe`).
    Write(WriteError),
    /// An input file could not be read to digest it.
    Inputs(SourceError),
}

/// Builds `prepared` into its output directory, or finds it up to date
/// (see the module doc). A site with errors is refused, up to date or not.
/// On any failure the output is left as it was.
pub fn build(
    prepared: &Prepared,
    src: &dyn Source,
    opts: BuildOptions,
) -> Result<BuildOutcome, BuildError> {
    let checked = &prepared.checked;
    if checked.diags.has_errors() {
        return Err(BuildError::Render(RenderFailure {
            diags: checked.diags.clone().into_vec(),
            sources: checked.loaded.sources.clone(),
        }));
    }
    let files = project::input_digests(src, &checked.loaded.config, &checked.loaded.sources)
        .map_err(BuildError::Inputs)?;
    let secrets = opts.secrets.digest();
    // A check with findings marks the digest: only a clean one lets a later
    // build find the output current without checking (`up_to_date`).
    let clean = checked.diags.is_empty() && !checked.lock_not_current;
    let inputs = inputs_digest(&files, &secrets, clean).map(|digest| Inputs {
        files,
        secrets,
        clean,
        digest,
    });
    if let (Some(last), Some(i)) = (&prepared.last, &inputs) {
        if last.built_from(&i.digest) {
            return Ok(BuildOutcome::UpToDate { files: last.files });
        }
    }
    // The devices whose key is unchanged since the last build, whose
    // output is intact, are not rendered again (see `render::keys`).
    let memo = prepared.memo.lock().ok().and_then(|mut m| m.take());
    let reuse =
        memo.map(|m| Arc::new(MemoReuse(std::sync::Mutex::new(m))) as Arc<dyn render::keys::Reuse>);
    let ropts = RenderOptions {
        secrets: opts.secrets,
        progress: opts.progress,
        // Zone serials go on from the output being replaced.
        previous_zones: previous_zones(&prepared.out),
        reuse,
        record: inputs.is_some(),
        keyed: None,
        view: None,
    };
    let wopts = WriteOptions {
        sync: opts.sync,
        stamp: inputs.as_ref().map(|i| i.digest),
    };
    let mut built = write(
        checked,
        src,
        &ropts,
        &prepared.out,
        wopts,
        prepared.last.as_ref(),
    )?;
    // The memo goes with the stamp just written (none: no memo).
    let devices = std::mem::take(&mut built.rendered.devices);
    let site_jobs = std::mem::take(&mut built.rendered.site_jobs);
    match stamp::recorded_tree(&prepared.out) {
        Some(tree) => {
            let _ = memo::store(&prepared.out, &tree, &devices, &site_jobs);
        }
        None => {
            let _ = memo::remove(&prepared.out);
        }
    }
    built.inputs = inputs;
    Ok(BuildOutcome::Written(built))
}

/// The last build's memo as a render's [`render::keys::Reuse`]: a device
/// whose key is the one recorded keeps the files recorded.
/// Each device is asked for once: its files are handed over, not copied.
struct MemoReuse(std::sync::Mutex<memo::Memo>);

impl render::keys::Reuse for MemoReuse {
    fn reuse(&self, owner: &Owner, key: &[u8; 32]) -> Option<Vec<Listed>> {
        let mut m = self.0.lock().ok()?;
        match m.devices.remove(owner) {
            Some(d) if d.key == *key => Some(d.files),
            _ => None,
        }
    }

    fn reuse_site(&self, path: &str, key: &[u8; 32]) -> Option<render::keys::KnownSiteFile> {
        let mut m = self.0.lock().ok()?;
        match m.site.remove(path) {
            Some(r) if r.key == *key => Some((Some(r.file), r.zone)),
            _ => None,
        }
    }
}

/// Renders `checked` into `out` (see [`crate::output::write`] for what the
/// directory is afterwards). On any failure the output is left as it was.
/// `last`: the output as its stamp found it, untouched since the last build.
///
/// The writer runs on a thread of its own, a batch or two behind the
/// render: the render's threads go on with the next chunk of devices while
/// the last one's files are compared and written, so that neither waits
/// for the other (on two cores, a fresh build of a fleet spent a fifth of
/// its time with one core idle while the other wrote). A batch is handed
/// over whole, and the writer is the only one to touch the output.
fn write(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
    out: &Path,
    wopts: WriteOptions,
    last: Option<&stamp::Unchanged>,
) -> Result<Built, BuildError> {
    let t0 = Instant::now();
    let writer = match last {
        Some(l) => Writer::begin_verified(out, wopts, l),
        None => Writer::begin(out, wopts),
    };
    let mut writer = writer.map_err(BuildError::Write)?;
    // Locking, recovering and scanning the old output count as writing.
    let begun = t0.elapsed();
    // Two batches in flight at most: the render keeps at most that much of
    // the fleet's text in memory beyond the batch it is making.
    let (tx, rx) = std::sync::mpsc::sync_channel::<render::Batch>(2);
    std::thread::scope(|scope| {
        let writing = scope.spawn(move || -> Result<(Writer, Duration), WriteError> {
            let mut busy = Duration::ZERO;
            for batch in rx {
                let t = Instant::now();
                let render::Batch { files, kept } = batch;
                let refs: Vec<&render::Artifact> = files.iter().collect();
                writer.add(&refs)?;
                if !kept.is_empty() {
                    writer.keep(kept)?;
                }
                busy += t.elapsed();
            }
            Ok((writer, busy))
        });
        // A send fails only once the writer has stopped on an error: the
        // render stops, and the writer's error is the one reported.
        let sink = |batch: render::Batch| tx.send(batch).map_err(|_| ());
        let rendered = render::render_streaming(checked, src, opts, sink);
        drop(tx);
        let render = t0.elapsed().saturating_sub(begun);
        let written = writing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let rendered = match (rendered, written) {
            (Err(StreamError::Render(f)), _) => return Err(BuildError::Render(f)),
            (_, Err(e)) => return Err(BuildError::Write(e)),
            // The writer stops taking batches only on an error, which the
            // arm above reports: this is never reached, and says so.
            (Err(StreamError::Sink(())), Ok(_)) => {
                return Err(BuildError::Write(WriteError::Io {
                    op: "hand the rendered files to the writer of",
                    path: out.to_path_buf(),
                    err: std::io::Error::other("the writer stopped early"),
                }))
            }
            (Ok(r), Ok(w)) => (r, w),
        };
        let (rendered, (writer, busy)) = rendered;
        let t1 = Instant::now();
        let stats = writer.finish().map_err(BuildError::Write)?;
        Ok(Built {
            rendered,
            stats,
            render,
            write: begun + busy + t1.elapsed(),
            inputs: None,
        })
    })
}

/// Re-records the stamp of `out` after the build rewrote one of its own
/// inputs: its lock `lock_file`, now `lock_text`, with the zone serials `built`
/// gave. The stamp then vouches for the output built from the lock as it
/// now reads, so the next build from the same files is up to date. Best
/// effort: at worst the next build renders again.
pub fn restamp_lock(out: &Path, built: &Built, lock_file: &str, lock_text: &str) {
    let Some(i) = &built.inputs else {
        return;
    };
    let mut files = i.files.clone();
    files.insert(
        lock_file.to_string(),
        sha2::Sha256::digest(lock_text.as_bytes()).into(),
    );
    if let Some(new) = inputs_digest(&files, &i.secrets, i.clean) {
        let _ = stamp::restamp(out, &i.digest, &new);
    }
}

/// The inputs digest a build's stamp records: marked
/// ([`stamp::flagged`]) when its check had findings.
fn inputs_digest(
    files: &BTreeMap<String, [u8; 32]>,
    secrets: &[u8; 32],
    clean: bool,
) -> Option<[u8; 32]> {
    let digest = stamp::inputs_digest(files, secrets)?;
    Some(if clean {
        digest
    } else {
        stamp::flagged(&digest)
    })
}

/// The zone files of a previous output at `out` (`site/dns/<origin>.zone`),
/// by origin, for zone serials to continue from (see
/// [`crate::render::site::dns`]). Best effort: a missing or unreadable
/// directory or file is no previous serial (the lock still has one).
pub fn previous_zones(out: &Path) -> BTreeMap<String, String> {
    let mut zones = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(out.join("site").join("dns")) else {
        return zones;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(origin) = name.to_str().and_then(|n| n.strip_suffix(".zone")) else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            zones.insert(origin.to_string(), text);
        }
    }
    zones
}

/// The lock `siteconf lock` writes for a checked site (without errors):
/// its allocations, and the serial each zone gets as a build into the
/// output whose zone files are `previous_zones` would give it. When the
/// zones do not render, their lines are left as the lock had them and the
/// failure comes back beside the lock. `siteconf lock` and `siteconf init`
/// both write this, so a new project's lock is what `lock` would write.
pub fn lock(
    checked: &Checked,
    src: &dyn Source,
    previous_zones: BTreeMap<String, String>,
) -> (Lock, Option<RenderFailure>) {
    let opts = RenderOptions {
        secrets: crate::render::Secrets::placeholder(),
        previous_zones,
        ..Default::default()
    };
    match render::zone_serials(checked, src, &opts) {
        Ok(zones) => (record_zones(&checked.resolved.lock, &zones), None),
        Err(f) => (checked.resolved.lock.clone(), Some(f)),
    }
}

/// `old` with the zone serials of a render recorded: the zones rendered
/// get their new line; a zone no longer rendered keeps its line, so that
/// if it comes back its serial goes on from there.
pub fn record_zones(old: &Lock, rendered: &[ZoneSerial]) -> Lock {
    let mut zones: BTreeMap<&str, ZoneSerial> = old
        .zones
        .iter()
        .map(|z| (z.origin.as_str(), z.clone()))
        .collect();
    for z in rendered {
        zones.insert(z.origin.as_str(), z.clone());
    }
    old.with_zones(zones.into_values().collect())
}

/// Why a bootinfra's files were not written.
#[derive(Debug)]
pub enum BootinfraError {
    /// The served sites' files conflict (`render::bootinfra::join`).
    Conflict(Vec<crate::diag::Diagnostic>),
    /// A served site's output could not be read, or the writer failed.
    Io(String),
}

/// Writes bootinfra `name`'s files to `out` (atomically, as a site's
/// output): the served sites' DHCP, DNS and iPXE files, read from their
/// freshly built outputs (`site_outs`: site name → output directory) and
/// joined. Reading the built files rather than rendering again keeps the
/// bootinfra exactly what the sites built, whatever their templates.
pub fn build_bootinfra(
    name: &str,
    site_outs: &[(String, std::path::PathBuf)],
    out: &Path,
    wopts: WriteOptions,
) -> Result<WriteStats, BootinfraError> {
    use crate::render::bootinfra::{join, ServedFiles, PREFIXES};
    let mut served = Vec::new();
    for (site, dir) in site_outs {
        let mut files = BTreeMap::new();
        for prefix in PREFIXES {
            let base = dir.join(prefix);
            if !base.exists() {
                continue;
            }
            for e in walkdir::WalkDir::new(&base).follow_links(false) {
                let e = e.map_err(|e| BootinfraError::Io(e.to_string()))?;
                if !e.file_type().is_file() {
                    continue;
                }
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .map_err(|e| BootinfraError::Io(e.to_string()))?
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(e.path())
                    .map_err(|err| BootinfraError::Io(format!("{}: {err}", e.path().display())))?;
                files.insert(rel, bytes);
            }
        }
        served.push(ServedFiles { site, files });
    }
    let mut artifacts = join(name, &served).map_err(BootinfraError::Conflict)?;
    // A manifest, as every siteconf output has: it lists what is there,
    // and lets the next build replace the directory.
    let listed: Vec<crate::output::manifest::Listed> = artifacts
        .iter()
        .map(crate::output::manifest::Listed::of)
        .collect();
    artifacts.push(crate::output::manifest::manifest_of(&listed));
    let mut writer = Writer::begin(out, wopts).map_err(|e| BootinfraError::Io(e.to_string()))?;
    let refs: Vec<&render::Artifact> = artifacts.iter().collect();
    writer
        .add(&refs)
        .map_err(|e| BootinfraError::Io(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| BootinfraError::Io(e.to_string()))
}

/// Builds every site of the project into `out_root/<site>/` (a single
/// site: into `out_root`) and each bootinfra into
/// `out_root/bootinfra/<name>/`: the check included, with placeholder
/// secrets, no stamp and no flush — what the sites benchmark measures.
/// `siteconf build` does the same with real secrets, stamps and the zone
/// serials recorded.
pub fn build_project(src: &dyn Source, out_root: &Path) -> Result<(), String> {
    let (sites, diags) = prepare_project(src, None, |_| out_root.to_path_buf(), true);
    if diags.has_errors() {
        return Err(format!("{} error(s) in the project", diags.error_count()));
    }
    let mut outs = Vec::new();
    for p in &sites {
        let opts = BuildOptions {
            secrets: crate::render::Secrets::placeholder(),
            progress: None,
            sync: false,
        };
        build(p, src, opts).map_err(|e| format!("{e:?}"))?;
        if let Some(s) = &p.checked.loaded.config.site {
            outs.push((s.clone(), p.out.clone()));
        }
    }
    if let Some(first) = sites.first() {
        for job in bootinfra_jobs(&first.checked.loaded.config, &outs, out_root) {
            let wopts = WriteOptions {
                sync: false,
                stamp: None,
            };
            build_bootinfra(&job.name, &job.served, &job.out, wopts)
                .map_err(|e| format!("{e:?}"))?;
        }
    }
    Ok(())
}

/// One bootinfra to build after its sites.
pub struct BootinfraJob {
    pub name: String,
    /// The sites it serves, as `[bootinfra.NAME] serves` lists them.
    pub serves: Vec<String>,
    /// Each served site and its freshly built output, in build order.
    pub served: Vec<(String, PathBuf)>,
    /// `<out_root>/bootinfra/<name>`.
    pub out: PathBuf,
}

/// The bootinfras of `config` whose sites were all built (`built`: site
/// → output directory): a bootinfra is written only from every site it
/// serves.
pub fn bootinfra_jobs(
    config: &Config,
    built: &[(String, PathBuf)],
    out_root: &Path,
) -> Vec<BootinfraJob> {
    config
        .bootinfra
        .iter()
        .filter_map(|(name, b)| {
            let served: Vec<(String, PathBuf)> = built
                .iter()
                .filter(|(s, _)| b.serves.contains(s))
                .cloned()
                .collect();
            (served.len() == b.serves.len()).then(|| BootinfraJob {
                name: name.clone(),
                serves: b.serves.clone(),
                served,
                out: out_root.join("bootinfra").join(name),
            })
        })
        .collect()
}
