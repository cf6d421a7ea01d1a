//! The build: a checked site rendered straight into the output directory,
//! a chunk of devices at a time ([`render::render_streaming`] feeding an
//! [`output::write::Writer`]), so that a fleet's output is never all in
//! memory. `siteconf build` and the build benchmark both run this.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::check::Checked;
use crate::output::write::{WriteError, WriteOptions, WriteStats, Writer};
use crate::render::{self, RenderFailure, RenderOptions, RenderSummary, StreamError};
use crate::source::Source;

/// A finished build.
#[derive(Debug, Clone, Copy)]
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
