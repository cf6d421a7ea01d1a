//! `siteconf lock`: write the allocations `check` computed to
//! siteconf.lock (atomically), optionally pruning released values.

use super::common::{fail, no_project, print_diagnostics, Format, Global, Status};
use crate::check;
use crate::output::fs::write_file_atomic;
use crate::source::FsSource;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Drop released values, so they can be allocated again. Only do this
    /// once the machines that had them are gone for good.
    #[arg(long)]
    pub prune_released: bool,
    #[command(flatten)]
    pub site: super::common::SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let root = match g.project_root() {
        Ok(r) => r,
        Err(d) => return no_project(g, d, Format::Text),
    };
    let src = FsSource::new(&root);
    let project = check::check_project(&src, args.site.site.as_deref(), false);
    let Some(sources) = project.sources().cloned() else {
        let list = project.diags.sorted(&Default::default());
        print_diagnostics(g, &list, &Default::default(), Format::Text);
        return Status::Findings;
    };
    if project.diags.has_errors() {
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        eprintln!("lock not written: fix the errors above first");
        return Status::Findings;
    }
    let mut status = Status::Ok;
    for checked in &project.sites {
        let s = write_lock(g, &root, &src, checked, args.prune_released);
        if s != Status::Ok {
            status = s;
        }
    }
    status
}

/// Writes one site's lock (siteconf.lock, or `<dir>/siteconf.lock` for a
/// site of several) when it changes.
fn write_lock(
    g: &Global,
    root: &std::path::Path,
    src: &FsSource,
    checked: &check::Checked,
    prune_released: bool,
) -> Status {
    let lock_file = &checked.loaded.config.lock_file;
    // Zone serials as a build into the configured output would give them.
    let previous = crate::build::previous_zones(&root.join(&checked.loaded.config.out_dir));
    let (mut lock, failed) = crate::build::lock(checked, src, previous);
    if let Some(f) = failed {
        print_diagnostics(g, &f.diags, &f.sources, Format::Text);
        eprintln!("note: the zones do not render, so their serials are left as they were");
    }
    let pruned = if prune_released {
        lock.prune_released()
    } else {
        0
    };
    let text = lock.to_text();
    let old = checked.loaded.lock.as_ref().map(|(_, t)| t.as_str());
    if old == Some(text.as_str()) {
        eprintln!("{lock_file} is up to date ({} entries)", lock.entries.len());
        return Status::Ok;
    }
    if let Err(e) = write_file_atomic(&root.join(lock_file), text.as_bytes(), 0o644) {
        return fail(format!("cannot write {lock_file}: {e}"));
    }
    const SHOWN: usize = 20;
    for c in checked.resolved.lock_changes.iter().take(SHOWN) {
        eprintln!("  {c}");
    }
    if checked.resolved.lock_changes.len() > SHOWN {
        eprintln!(
            "  … and {} more (see `git diff {lock_file}`)",
            checked.resolved.lock_changes.len() - SHOWN
        );
    }
    eprintln!(
        "wrote {lock_file}: {} entries ({} change(s){})",
        lock.entries.len(),
        checked.resolved.lock_changes.len(),
        if pruned > 0 {
            format!(", {pruned} released value(s) pruned")
        } else {
            String::new()
        }
    );
    Status::Ok
}
