//! The build: a checked site rendered straight into the output directory,
//! a chunk of devices at a time ([`render::render_streaming`] feeding an
//! [`output::write::Writer`]), so that a fleet's output is never all in
//! memory. `siteconf build` and the build benchmark both run this.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::check::Checked;
use crate::output::write::{WriteError, WriteOptions, WriteStats, Writer};
use crate::render::{self, RenderFailure, RenderOptions, RenderSummary, StreamError};
use crate::resolve::lock::{Lock, ZoneSerial};
use crate::source::Source;

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    pub rendered: RenderSummary,
    pub stats: WriteStats,
    /// Time spent rendering (everything but handing files to the writer).
    pub render: Duration,
    /// Time spent in the writer: scanning the old output, comparing,
    /// writing, swapping, the stamp.
    pub write: Duration,
}

/// Why a build wrote nothing.
#[derive(Debug)]
pub enum BuildError {
    /// The site or a template failed: every diagnostic.
    Render(RenderFailure),
    /// The writer failed (an unsafe path is `WriteError::Unsafe`).
    Write(WriteError),
}

/// Renders `checked` into `out` (see [`crate::output::write`] for what the
/// directory is afterwards). On any failure the output is left as it was.
pub fn build(
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
