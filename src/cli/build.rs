//! `siteconf build`: check, render every artifact in parallel, write the
//! output directory atomically (unchanged files untouched).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::common::{
    fail, interactive, no_project, print_diagnostics, DenyArgs, Format, Global, Status,
};
use crate::build::{BuildError, BuildOptions, BuildOutcome};
use crate::check;
use crate::diag::Diagnostic;
use crate::output::write::{WriteError, WriteStats};
use crate::render::{self, Secrets};
use crate::syntax::SourceMap;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
The site is checked first: with any error nothing is rendered or written (exit 1).
The output directory is replaced atomically: a build that fails or is killed leaves
the previous output complete. Files whose content is unchanged keep their inode and
mtime. An existing directory is replaced only if it is empty or a siteconf output.

A build records what it was built from in `.<out>.siteconf-stamp` beside the output
directory (a digest of the tool, every input file and the secrets, and of the output
as written). When neither the inputs nor the output changed since, the site is still
checked but nothing is rendered or read: the build is up to date. --force renders anyway.

Every DNS zone gets an SOA serial that only moves forward: the build continues
from the serial siteconf.lock records for the zone and from the zone file of the
output it replaces, and records what it gave in siteconf.lock (commit it). A
rebuild of the same zone gives the same serial.

Secrets named in the site (`password secret=NAME`) come from the environment
(SITECONF_SECRET_<NAME>) or the secrets file (--secrets, or [secrets] file in
siteconf.toml). They appear only in the files whose templates use them (mode 0600).

Warnings are shown and do not stop the build unless denied (--deny warnings, or
--deny CODE for one kind): a denied warning counts as an error.

A build with allocations siteconf.lock does not hold yet says so (run `siteconf
lock` and commit it); with --locked it fails instead, as `siteconf check --locked`.

Exit codes: 0 built, 1 errors in the site or templates, 2 usage or I/O error.")]
pub struct Args {
    /// Output directory [default: `out-dir` of siteconf.toml, in the project].
    /// A relative DIR is relative to the current directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Render with N threads [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Output format of diagnostics and the summary.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Do not flush the new output to disk before swapping it in (faster on
    /// a busy disk; a power loss right after may leave truncated files).
    /// For throwaway outputs such as CI checks.
    #[arg(long)]
    pub no_sync: bool,
    /// Render and compare every file even when the inputs are unchanged
    /// since the last build (which otherwise does nothing: see below).
    #[arg(long)]
    pub force: bool,
    /// Fail, building nothing, if siteconf.lock is not current (for CI):
    /// the same finding as `siteconf check --locked` (SC0804).
    #[arg(long)]
    pub locked: bool,
    /// Secrets file (TOML `name = "value"`) [default: `[secrets] file` of siteconf.toml].
    #[arg(long, env = "SITECONF_SECRETS", value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub deny: DenyArgs,
    #[command(flatten)]
    pub from: super::common::SourceArgs,
    #[command(flatten)]
    pub site: super::common::SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    match args.jobs {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build()
        {
            Ok(pool) => pool.install(|| build(g, &args)),
            Err(e) => fail(format!("cannot start {n} threads: {e}")),
        },
        None => build(g, &args),
    }
}

fn build(g: &Global, args: &Args) -> Status {
    let start = Instant::now();
    let root = match g.project_root() {
        Ok(r) => r,
        Err(d) => return no_project(g, d, Format::Text),
    };
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return e.report(g, Format::Text),
    };
    // Read once here, for the output's checks and the up-to-date probe.
    let config_file = crate::project::ConfigFile::read(&*src);
    if let Some(out) = &args.out {
        if let Some(what) = out_conflict(&root, out, &config_file.config) {
            return fail(format!(
                "refusing --out {}: it {what}; {}",
                out.display(),
                crate::project::OUT_DIR_HELP
            ));
        }
    } else {
        // `out-dir` comes from siteconf.toml, which a branch may change,
        // and a branch may commit a link where the output goes (`git add
        // -f out`): the build would write the whole tree, secret files
        // too, wherever the link points. `--out` is the operator's own
        // choice and is taken as given.
        if let Some(d) = out_dir_link(&root, &config_file.config) {
            return report_failure(g, args, &[d], &SourceMap::default());
        }
    }
    // Nothing to do and nothing to say since the last build: answered from
    // a walk of the output and a digest of the inputs, without a check.
    // Whether the secrets file is in git: looked up once, by the fast
    // up-to-date probe or else by the build.
    let tracked: std::cell::OnceCell<Option<crate::diag::Diagnostic>> = std::cell::OnceCell::new();
    if !args.force && args.site.site.is_none() {
        // A secrets file in git is said every time: such a build takes the
        // long way, where warnings are printed (and `--deny` applies).
        let current = crate::build::up_to_date(
            &*src,
            &config_file,
            |config| {
                args.out
                    .clone()
                    .unwrap_or_else(|| root.join(&config.out_dir))
            },
            |config| {
                tracked.get_or_init(|| secrets_in_git(&config.secrets, &root));
                Secrets::load(
                    &config.secrets,
                    &root,
                    args.secrets.as_deref(),
                    std::env::vars_os(),
                )
                .ok()
                .map(|s| s.digest())
            },
        );
        if let Some(c) = current.filter(|_| tracked.get().is_none_or(Option::is_none)) {
            super::common::print_source_notes(&*src);
            let secs = start.elapsed().as_secs_f64();
            let counts = (c.nodes, c.switches, c.files);
            let mut v = up_to_date_summary(args, counts, &c.out, secs, secs);
            if args.format == Format::Json {
                v["warnings"] = serde_json::json!([]);
                println!("{v}");
            }
            return Status::Ok;
        }
    }
    // The check and a look at the output directory (named by --out or by
    // siteconf.toml, which is read once, for both), at the same time. A
    // project of several sites: each site's output is `<out>/<site>`.
    let out_root = std::cell::OnceCell::new();
    let (sites, mut diags) = crate::build::prepare_project(
        &*src,
        args.site.site.as_deref(),
        |config| {
            let o = args
                .out
                .clone()
                .unwrap_or_else(|| root.join(&config.out_dir));
            let _ = out_root.set(o.clone());
            o
        },
        args.force,
    );
    let t_check = start.elapsed();
    let Some(first) = sites.first() else {
        // No site could be loaded (an unknown `--site`): the reason is a finding.
        let list = diags.sorted(&SourceMap::default());
        print_diagnostics(g, &list, &SourceMap::default(), args.format);
        return Status::Findings;
    };
    let sources = &first.checked.loaded.sources;
    if args.locked {
        for p in &sites {
            diags.extend(p.checked.lock_out_of_date());
        }
    }
    diags.extend(
        tracked
            .get_or_init(|| secrets_in_git(&first.checked.loaded.config.secrets, &root))
            .clone(),
    );
    let mut list = diags.sorted(sources);
    let denied = args.deny.apply(&mut list);
    let (errors, _) = crate::diag::count(&list);
    if errors > 0 {
        print_diagnostics(g, &list, sources, args.format);
        if args.format == Format::Text {
            eprintln!(
                "build failed: {errors} error(s){} in the site; nothing was written",
                args.deny.why(denied)
            );
        }
        return Status::Findings;
    }
    // Warnings: shown now in text; in JSON they go into the one summary
    // document, so stdout stays a single JSON value.
    if args.format == Format::Text {
        print_diagnostics(g, &list, sources, args.format);
    }
    let warnings = crate::diag::to_json(&list, sources);
    let secrets = match Secrets::load(
        &first.checked.loaded.config.secrets,
        &root,
        args.secrets.as_deref(),
        std::env::vars_os(),
    ) {
        Ok(s) => s,
        Err(d) => return report_failure(g, args, &[d], &SourceMap::default()),
    };
    let multi = first.checked.loaded.config.is_multi_site();
    let mut docs = Vec::new();
    let mut built_sites: Vec<(String, PathBuf)> = Vec::new();
    for p in &sites {
        // What the sites built before this one wrote stays written: a
        // failure says so rather than "nothing was written".
        let written: Vec<PathBuf> = built_sites.iter().map(|(_, o)| o.clone()).collect();
        match build_site(g, args, &root, &*src, p, secrets.clone(), t_check, &written) {
            Ok(doc) => docs.push(doc),
            Err(status) => return status,
        }
        if let Some(s) = &p.checked.loaded.config.site {
            built_sites.push((s.clone(), p.out.clone()));
        }
    }
    // After the site and template directories were listed: the working
    // tree notes what it skipped while listing.
    super::common::print_source_notes(&*src);
    // Each bootinfra whose sites were all built now.
    let mut boot_docs = Vec::new();
    // A bootinfra whose sites' files cannot be joined is not written; the
    // others are, and so were the sites.
    let mut refused: Vec<(String, PathBuf, Vec<Diagnostic>)> = Vec::new();
    if let Some(root_out) = out_root.get().filter(|_| multi) {
        let config = &first.checked.loaded.config;
        for job in crate::build::bootinfra_jobs(config, &built_sites, root_out) {
            let (name, out) = (&job.name, &job.out);
            let wopts = crate::output::write::WriteOptions {
                sync: !args.no_sync,
                stamp: None,
            };
            match crate::build::build_bootinfra(name, &job.served, out, wopts) {
                Ok(stats) => {
                    if args.format == Format::Text {
                        eprintln!(
                            "built bootinfra {name} for {}: {} files in {} ({} changed, {} unchanged, {} removed)",
                            job.serves.join(", "),
                            stats.changed + stats.unchanged,
                            out.display(),
                            stats.changed,
                            stats.unchanged,
                            stats.removed
                        );
                    }
                    boot_docs.push(serde_json::json!({
                        "bootinfra": name,
                        "out": out.display().to_string(),
                        "changed": stats.changed,
                        "unchanged": stats.unchanged,
                        "removed": stats.removed,
                    }));
                }
                Err(crate::build::BootinfraError::Conflict(d)) => {
                    refused.push((name.clone(), out.clone(), d));
                }
                Err(crate::build::BootinfraError::Io(e)) => return fail(e),
            }
        }
    }
    if !refused.is_empty() {
        let all: Vec<Diagnostic> = refused.iter().flat_map(|(_, _, d)| d.clone()).collect();
        print_diagnostics(g, &all, &SourceMap::default(), args.format);
        if args.format == Format::Text {
            let sites: Vec<String> = built_sites
                .iter()
                .map(|(_, o)| o.display().to_string())
                .collect();
            for (name, out, d) in &refused {
                eprintln!(
                    "build failed: bootinfra {name} not written ({} error(s)): {} keeps its previous files, if any",
                    d.len(),
                    out.display()
                );
            }
            eprintln!(
                "the sites' outputs were written and are complete: {}",
                sites.join(", ")
            );
        }
        return Status::Findings;
    }
    if args.format == Format::Json {
        let mut v = if multi {
            serde_json::json!({
                "status": "ok",
                "sites": docs,
                "bootinfra": boot_docs,
                "seconds": (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            })
        } else {
            docs.pop().unwrap_or_default()
        };
        // The render's warnings join the check's, in the one list.
        let mut all = match warnings {
            serde_json::Value::Array(a) => a,
            _ => Vec::new(),
        };
        let docs = match v.get_mut("sites") {
            Some(serde_json::Value::Array(d)) => d.iter_mut().collect::<Vec<_>>(),
            _ => vec![&mut v],
        };
        for d in docs {
            if let Some(serde_json::Value::Array(w)) =
                d.as_object_mut().and_then(|o| o.remove("render_warnings"))
            {
                all.extend(w);
            }
        }
        v["warnings"] = serde_json::Value::Array(all);
        println!("{v}");
    }
    // The process ends here: freeing each checked site piece by piece (at
    // 10,000 nodes a few million allocations, a tenth of a one-node edit's
    // build) only delays the exit; the OS takes the memory back at once.
    std::mem::forget(sites);
    Status::Ok
}

/// Builds one site (or the single site) whose check passed: renders and
/// writes it unless it is up to date, records its zone serials, prints
/// its summary line; returns its JSON summary. `written`: the outputs of
/// the sites built before it, which a failure here says stay written.
#[allow(clippy::too_many_arguments)]
fn build_site(
    g: &Global,
    args: &Args,
    root: &std::path::Path,
    src: &dyn crate::source::Source,
    prepared: &crate::build::Prepared,
    secrets: Secrets,
    t_check: std::time::Duration,
    written: &[PathBuf],
) -> Result<serde_json::Value, Status> {
    let start = Instant::now();
    let (checked, out) = (&prepared.checked, &prepared.out);
    let site = &checked.loaded.site;
    let total = (site.nodes.len() + site.switches.len()) as u64;
    // Drawn from the first device rendered on: an up-to-date build shows none.
    let bar = (interactive() && args.format == Format::Text && total > 0).then(|| {
        let b = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "rendering {bar:40} {pos}/{len} devices ({per_sec}, {eta} left)",
        ) {
            b.set_style(style);
        }
        b
    });
    // Whether anything needs doing is the build's decision; files go to
    // the writer a chunk of devices at a time, and their bytes are dropped
    // once written: a fleet's output is never all in memory.
    let opts = BuildOptions {
        secrets,
        progress: bar
            .clone()
            .map(|b| Arc::new(move || b.inc(1)) as render::Progress),
        sync: !args.no_sync,
    };
    let outcome = crate::build::build(prepared, src, opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let built = match outcome {
        Ok(BuildOutcome::Written(b)) => b,
        Ok(BuildOutcome::UpToDate { files }) => {
            let secs = t_check.as_secs_f64() + start.elapsed().as_secs_f64();
            lock_note(args, checked);
            let counts = (site.nodes.len(), site.switches.len(), files);
            return Ok(up_to_date_summary(
                args,
                counts,
                out,
                secs,
                t_check.as_secs_f64(),
            ));
        }
        Err(BuildError::Render(f)) => {
            return Err(report_failure_after(g, args, &f.diags, &f.sources, written))
        }
        Err(BuildError::Write(e)) => return Err(write_failure(g, args, e, written)),
        Err(BuildError::Inputs(e)) => {
            let d = crate::project::io_diag(e);
            return Err(report_failure_after(
                g,
                args,
                &[d],
                &SourceMap::default(),
                written,
            ));
        }
    };
    if let Some(lock) = record_zone_serials(args, checked, root, &built.rendered.zones) {
        crate::build::restamp_lock(out, &built, &checked.loaded.config.lock_file, &lock);
    }
    let phases = [
        ("check", t_check.as_secs_f64()),
        ("render", built.render.as_secs_f64()),
        ("write", built.write.as_secs_f64()),
    ];
    let secs = t_check.as_secs_f64() + start.elapsed().as_secs_f64();
    let (rendered, stats) = (built.rendered, built.stats);
    // What only the render can tell (SC1214): the output is written, so
    // these do not fail the build.
    if args.format == Format::Text && !rendered.warnings.is_empty() {
        print_diagnostics(g, &rendered.warnings, &SourceMap::default(), args.format);
    }
    let render_warnings = crate::diag::to_json(&rendered.warnings, &SourceMap::default());
    let counts = Counts {
        nodes: rendered.nodes,
        switches: rendered.switches,
        files: rendered.files,
        bytes: Some(rendered.bytes),
        reused: rendered.reused,
        site_kept: rendered.site_kept,
    };
    lock_note(args, checked);
    let mut doc = summary(args, &counts, &stats, out, secs, &phases);
    doc["render_warnings"] = render_warnings;
    Ok(doc)
}

/// Records the zone serials the build gave in siteconf.lock (atomically,
/// after the output is in place: if the build is killed in between, the
/// next one finds the serial in the output and records it then), as
/// `cargo build` updates Cargo.lock. A build of a revision or of the index
/// (`--rev`, `--staged`) has no lock file of the working tree to update:
/// it only says so.
fn record_zone_serials(
    args: &Args,
    checked: &check::Checked,
    root: &std::path::Path,
    zones: &[crate::resolve::lock::ZoneSerial],
) -> Option<String> {
    let old = match &checked.loaded.lock {
        Some((file, text)) => {
            crate::resolve::Lock::parse(*file, text, &mut crate::diag::Diagnostics::new())
        }
        None => crate::resolve::Lock::default(),
    };
    let new = crate::build::record_zones(&old, zones);
    if new == old {
        return None;
    }
    // No allocation in the lock (SC0813: deleted, or never written): a
    // lock of zone serials alone would look like a lock while holding none
    // of the values this build used, and hide that the real one is gone.
    // The output keeps the serials for the next build here.
    if checked
        .diags
        .iter()
        .any(|d| d.code == crate::diag::Code::LockMissing)
    {
        if args.format == Format::Text {
            eprintln!(
                "note: zone serials not recorded: {} is missing or holds no allocated value (SC0813); restore it from git, or run `siteconf lock` to write it",
                checked.loaded.config.lock_file
            );
        }
        return None;
    }
    if args.from.rev.is_some() || args.from.staged {
        if args.format == Format::Text {
            eprintln!("note: the zone serials of this build are not those siteconf.lock records; build the working tree (or run `siteconf lock`) to record them");
        }
        return None;
    }
    let lock_file = &checked.loaded.config.lock_file;
    let path = root.join(lock_file);
    let text = new.to_text();
    match crate::output::fs::write_file_atomic(&path, text.as_bytes(), 0o644) {
        Ok(()) => {
            if args.format == Format::Text {
                let n = zones
                    .iter()
                    .filter(|z| old.zone(&z.origin) != Some(*z))
                    .count();
                eprintln!("recorded {n} zone serial(s) in {lock_file}; commit it");
            }
            Some(text)
        }
        // The output is complete and its serials are right; only the record
        // is missing (a read-only checkout): the next build here still goes
        // on from the output, so say so and succeed.
        Err(e) => {
            eprintln!(
                "warning: built, but cannot record the zone serials in {lock_file}: {e}; a fresh clone will not know them"
            );
            None
        }
    }
}

fn lock_note(args: &Args, checked: &check::Checked) {
    // `check` decides whether the lock is current, as for `check` and
    // `--locked`; a build only says so.
    if checked.lock_not_current && args.format == Format::Text {
        // The files are built with allocations siteconf.lock does not hold
        // yet: another branch could take the same values. Say so.
        eprintln!(
            "note: {} is not current ({} allocation change(s)); run `siteconf lock` and commit it, or these allocations are not reserved",
            checked.loaded.config.lock_file,
            checked.resolved.lock_changes.len()
        );
    }
}

/// Unsafe paths are the site's errors (exit 1); anything else the writer
/// met is an I/O error (exit 2).
fn write_failure(g: &Global, args: &Args, e: WriteError, written: &[PathBuf]) -> Status {
    match e {
        WriteError::Unsafe(d) => report_failure_after(g, args, &d, &SourceMap::default(), written),
        e => fail(e),
    }
}

fn report_failure(g: &Global, args: &Args, diags: &[Diagnostic], sources: &SourceMap) -> Status {
    report_failure_after(g, args, diags, sources, &[])
}

/// A failure after the outputs `written` (the sites built before, in a
/// project of several) were swapped in: they stay, complete; the failing
/// one and what would follow it are not written.
fn report_failure_after(
    g: &Global,
    args: &Args,
    diags: &[Diagnostic],
    sources: &SourceMap,
    written: &[PathBuf],
) -> Status {
    print_diagnostics(g, diags, sources, args.format);
    if args.format == Format::Text {
        let n = diags.len();
        if written.is_empty() {
            eprintln!("build failed: {n} error(s); nothing was written");
        } else {
            let shown: Vec<String> = written.iter().map(|o| o.display().to_string()).collect();
            eprintln!(
                "build failed: {n} error(s); written before the failure, and complete: {}; nothing else was written",
                shown.join(", ")
            );
        }
    }
    Status::Findings
}

/// The summary of a build that found its output up to date: `counts` are
/// (nodes, switches, files), `check` the time of the check and output scan.
fn up_to_date_summary(
    args: &Args,
    (nodes, switches, files): (usize, usize, usize),
    out: &std::path::Path,
    secs: f64,
    check: f64,
) -> serde_json::Value {
    let counts = Counts {
        nodes,
        switches,
        files,
        bytes: None,
        reused: 0,
        site_kept: 0,
    };
    let stats = WriteStats {
        unchanged: files,
        ..WriteStats::default()
    };
    let phases = [("check", check), ("render", 0.0), ("write", 0.0)];
    summary(args, &counts, &stats, out, secs, &phases)
}

/// What the summary counts.
struct Counts {
    nodes: usize,
    switches: usize,
    files: usize,
    /// Unknown when nothing was rendered.
    bytes: Option<usize>,
    /// Devices not rendered: unchanged since the last build.
    reused: usize,
    /// Site-wide files not rendered: their job's key unchanged.
    site_kept: usize,
}

fn summary(
    args: &Args,
    r: &Counts,
    s: &WriteStats,
    out: &std::path::Path,
    secs: f64,
    phases: &[(&str, f64); 3],
) -> serde_json::Value {
    let ms = |x: f64| (x * 1000.0).round() / 1000.0;
    let v = serde_json::json!({
        "status": "ok",
        "out": out.display().to_string(),
        "nodes": r.nodes,
        "switches": r.switches,
        "up_to_date": r.bytes.is_none(),
        "files": r.files,
        "bytes": r.bytes,
        "changed": s.changed,
        "unchanged": s.unchanged,
        "removed": s.removed,
        "devices_rendered": (r.nodes + r.switches).saturating_sub(r.reused),
        "site_files_kept": r.site_kept,
        "seconds": ms(secs),
        "phases": phases.iter().map(|(k, v)| (k.to_string(), serde_json::json!(ms(*v)))).collect::<serde_json::Map<_, _>>(),
    });
    match args.format {
        Format::Json => {}
        Format::Text if r.bytes.is_none() => eprintln!(
            "up to date: {} nodes, {} switches: {} files in {} unchanged since the last build from these inputs, in {:.2}s (check and output scan {:.2}s; --force renders anyway)",
            r.nodes,
            r.switches,
            r.files,
            out.display(),
            secs,
            phases[0].1
        ),
        Format::Text => eprintln!(
            "built {} nodes, {} switches: {} files in {} ({} changed, {} unchanged, {} removed; {} of {} devices rendered) in {:.2}s (check {:.2}s, render {:.2}s, write {:.2}s)",
            r.nodes,
            r.switches,
            r.files,
            out.display(),
            s.changed,
            s.unchanged,
            s.removed,
            (r.nodes + r.switches).saturating_sub(r.reused),
            r.nodes + r.switches,
            secs,
            phases[0].1,
            phases[1].1,
            phases[2].1
        ),
    };
    v
}

/// Whether the secrets file at `path` holds values, all of them fake ones
/// from `siteconf init` ([`crate::init::FAKE_SECRET_PREFIX`]).
fn only_fake_values(path: &std::path::Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    !table.is_empty()
        && table.values().all(|v| {
            v.as_str()
                .is_some_and(|s| s.starts_with(crate::init::FAKE_SECRET_PREFIX))
        })
}

/// A warning when the secrets file is in the git index of the repository
/// that holds the project: its values go wherever the repository goes.
/// Quiet outside git, for a file outside the project, when the index
/// cannot be read (this is a warning, not a gate), and for a file that
/// holds only the fake values `siteconf init` writes (an example project
/// committed as it is: nothing to rotate).
fn secrets_in_git(
    secrets: &crate::project::SecretsConfig,
    root: &std::path::Path,
) -> Option<crate::diag::Diagnostic> {
    let file = secrets.file.as_deref()?;
    let git = crate::source::git::GitProject::discover(root).ok()?;
    if !git.tracks(file) || only_fake_values(&root.join(file)) {
        return None;
    }
    Some(
        crate::diag::Diagnostic::warning(
            crate::diag::Code::SecretsFileTracked,
            format!("the secrets file `{file}` is committed to git"),
        )
        .help(format!(
            "its values are in the repository's history: rotate them, then `git rm --cached {file}`, add it to .gitignore, and keep it outside the repository or git-ignored"
        )),
    )
}

/// SC0021 when a component of the output directory `out-dir` names (or,
/// in a project of several sites, of a site's `<out-dir>/<site>`) inside
/// the project is a symbolic link, the directory itself included: naming
/// the link, never its target. An `out-dir` outside the project (absolute,
/// or leaving it with `..`) is the operator's and is not looked at.
fn out_dir_link(
    root: &std::path::Path,
    config: &crate::project::Config,
) -> Option<crate::diag::Diagnostic> {
    let out = crate::source::fs::inside_components(&config.out_dir)?;
    let mut paths: Vec<Vec<&str>> = vec![out.clone()];
    for site in config.sites.keys() {
        let mut p = out.clone();
        p.push(site.as_str());
        paths.push(p);
    }
    for parts in paths {
        let mut at = root.to_path_buf();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let is_link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink());
            if is_link {
                let link = parts[..=i].join("/");
                return Some(
                    crate::diag::Diagnostic::error(
                        crate::diag::Code::ProjectPathRefused,
                        format!(
                            "the output directory `{}` (`out-dir` in siteconf.toml) goes through `{link}`, a symbolic link; `build` writes only into a real directory inside the project, never where a link points",
                            crate::diag::escape_path(&config.out_dir)
                        ),
                    )
                    .help(format!(
                        "remove the link `{link}` (and `git rm --cached {link}` if it is committed); to write elsewhere, set `out-dir` to that directory or give `build --out DIR`"
                    )),
                );
            }
            if !at.is_dir() {
                break;
            }
        }
    }
    None
}

/// Why `--out DIR` cannot be the output directory: the same rule as
/// `out-dir` in siteconf.toml ([`crate::project::out_dir_conflict`]: the
/// project directory, or a directory that is, holds or lies inside one
/// siteconf reads), applied to where DIR is, relative to the current
/// directory. `None` for a directory outside the project.
fn out_conflict(
    root: &std::path::Path,
    out: &std::path::Path,
    config: &crate::project::Config,
) -> Option<String> {
    let abs = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(out)
    };
    let abs = canonical_lenient(&abs);
    let root = root.canonicalize().ok()?;
    let rel = abs.strip_prefix(&root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    crate::project::out_dir_conflict(config, &parts)
}

/// `path` with `.` and `..` taken away, and its longest existing ancestor
/// resolved (links followed): where a directory that may not exist yet
/// would be.
fn canonical_lenient(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut norm = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            c => norm.push(c),
        }
    }
    let mut existing = norm.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut found) = existing.canonicalize() {
            for part in rest.iter().rev() {
                found.push(part);
            }
            return found;
        }
        match existing.file_name() {
            Some(name) => {
                rest.push(name.to_os_string());
                existing.pop();
            }
            None => return norm,
        }
    }
}
