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
use std::time::{Duration, Instant};

use sha2::Digest;

use crate::check::{self, Checked};
use crate::output::stamp;
use crate::output::write::{WriteError, WriteOptions, WriteStats, Writer};
use crate::project::{self, Config, ConfigFile};
use crate::render::{self, RenderFailure, RenderOptions, RenderSummary, Secrets, StreamError};
use crate::resolve::lock::{Lock, ZoneSerial};
use crate::source::{Source, SourceError};

/// The first half of a build ([`prepare`]): the site checked, and what
/// the output directory was found to be meanwhile.
pub struct Prepared {
    pub checked: Checked,
    /// The output directory.
    pub out: PathBuf,
    /// The stamp of `out`, when `out` is exactly as the build that wrote
    /// the stamp left it (`None`: no stamp, a changed output, `force`).
    last: Option<stamp::Unchanged>,
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
    let (checked, last) = rayon::join(
        || check::check_configured(src, config),
        || (!force).then(|| stamp::unchanged(&out)).flatten(),
    );
    Prepared { checked, out, last }
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
    /// Time spent rendering (everything but handing files to the writer).
    pub render: Duration,
    /// Time spent in the writer: scanning the old output, comparing,
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
    let inputs = stamp::inputs_digest(&files, &secrets).map(|digest| Inputs {
        files,
        secrets,
        digest,
    });
    if let (Some(last), Some(i)) = (&prepared.last, &inputs) {
        if last.built_from(&i.digest) {
            return Ok(BuildOutcome::UpToDate { files: last.files });
        }
    }
    let ropts = RenderOptions {
        secrets: opts.secrets,
        progress: opts.progress,
        // Zone serials go on from the output being replaced.
        previous_zones: previous_zones(&prepared.out),
    };
    let wopts = WriteOptions {
        sync: opts.sync,
        stamp: inputs.as_ref().map(|i| i.digest),
    };
    let mut built = write(checked, src, &ropts, &prepared.out, wopts)?;
    built.inputs = inputs;
    Ok(BuildOutcome::Written(built))
}

/// Renders `checked` into `out` (see [`crate::output::write`] for what the
/// directory is afterwards). On any failure the output is left as it was.
fn write(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
    out: &Path,
    wopts: WriteOptions,
) -> Result<Built, BuildError> {
    let t0 = Instant::now();
    let mut writer = Writer::begin(out, wopts).map_err(BuildError::Write)?;
    // Locking, recovering and scanning the old output count as writing.
    let mut write = t0.elapsed();
    let sink = |batch: Vec<render::Artifact>| {
        let t = Instant::now();
        let refs: Vec<&render::Artifact> = batch.iter().collect();
        let r = writer.add(&refs);
        write += t.elapsed();
        r
    };
    // On failure the writer is dropped unfinished: its staging tree goes.
    let rendered = render::render_streaming(checked, src, opts, sink).map_err(|e| match e {
        StreamError::Render(f) => BuildError::Render(f),
        StreamError::Sink(e) => BuildError::Write(e),
    })?;
    let render = t0.elapsed().saturating_sub(write);
    let t1 = Instant::now();
    let stats = writer.finish().map_err(BuildError::Write)?;
    Ok(Built {
        rendered,
        stats,
        render,
        write: write + t1.elapsed(),
        inputs: None,
    })
}

/// Re-records the stamp of `out` after the build rewrote one of its own
/// inputs: siteconf.lock, now `lock_text`, with the zone serials `built`
/// gave. The stamp then vouches for the output built from the lock as it
/// now reads, so the next build from the same files is up to date. Best
/// effort: at worst the next build renders again.
pub fn restamp_lock(out: &Path, built: &Built, lock_text: &str) {
    let Some(i) = &built.inputs else {
        return;
    };
    let mut files = i.files.clone();
    files.insert(
        project::LOCK_FILE.to_string(),
        sha2::Sha256::digest(lock_text.as_bytes()).into(),
    );
    if let Some(new) = stamp::inputs_digest(&files, &i.secrets) {
        let _ = stamp::restamp(out, &i.digest, &new);
    }
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
