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
    let artifacts = join(name, &served).map_err(BootinfraError::Conflict)?;
    let mut writer = Writer::begin(out, wopts).map_err(|e| BootinfraError::Io(e.to_string()))?;
    let refs: Vec<&render::Artifact> = artifacts.iter().collect();
    writer
        .add(&refs)
        .map_err(|e| BootinfraError::Io(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| BootinfraError::Io(e.to_string()))
}

/// Builds every site of a checked project into `out_root/<site>/` (one
/// site: into `out_root`) and each bootinfra into
/// `out_root/bootinfra/<name>/`, with placeholder secrets and no stamp:
/// what the sites benchmark measures. `siteconf build` does the same with
/// real secrets, stamps and zone serials recorded.
pub fn build_project(
    project: &crate::check::CheckedProject,
    src: &dyn Source,
    out_root: &Path,
) -> Result<(), String> {
    let opts = RenderOptions {
        secrets: crate::render::Secrets::placeholder(),
        ..Default::default()
    };
    let wopts = || WriteOptions {
        sync: false,
        stamp: None,
    };
    let mut outs = Vec::new();
    for checked in &project.sites {
        let out = match &checked.loaded.config.site {
            Some(s) => out_root.join(s),
            None => out_root.to_path_buf(),
        };
        build(checked, src, &opts, &out, wopts()).map_err(|e| format!("{e:?}"))?;
        if let Some(s) = &checked.loaded.config.site {
            outs.push((s.clone(), out));
        }
    }
    if let Some(first) = project.sites.first() {
        for (name, b) in &first.loaded.config.bootinfra {
            let served: Vec<(String, std::path::PathBuf)> = outs
                .iter()
                .filter(|(s, _)| b.serves.contains(s))
                .cloned()
                .collect();
            let out = out_root.join("bootinfra").join(name);
            build_bootinfra(name, &served, &out, wopts()).map_err(|e| format!("{e:?}"))?;
        }
    }
    Ok(())
}
