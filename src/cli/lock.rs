//! `siteconf lock`: write the allocations `check` computed to
//! siteconf.lock (atomically), optionally pruning released values.

use super::common::{fail, print_diagnostics, Format, Global, Status};
use crate::check;
use crate::output::fs::write_file_atomic;
use crate::project::LOCK_FILE;
use crate::source::FsSource;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Drop released values, so they can be allocated again. Only do this
    /// once the machines that had them are gone for good.
    #[arg(long)]
    pub prune_released: bool,
}

pub fn run(g: &Global, args: Args) -> Status {
    let root = g.project_root();
    let src = FsSource::new(&root);
    let checked = check::check(&src);
    let sources = &checked.loaded.sources;
    if checked.diags.has_errors() {
        let list = checked.diags.sorted(sources);
        print_diagnostics(g, &list, sources, Format::Text);
        eprintln!("lock not written: fix the errors above first");
        return Status::Findings;
    }
    // Zone serials as a build into the configured output would give them.
    let opts = crate::render::RenderOptions {
        secrets: crate::render::Secrets::placeholder(),
        previous_zones: crate::build::previous_zones(&root.join(&checked.loaded.config.out_dir)),
        ..Default::default()
    };
    let mut lock = match crate::render::zone_serials(&checked, &src, &opts) {
        Ok(zones) => crate::build::record_zones(&checked.resolved.lock, &zones),
        Err(f) => {
            print_diagnostics(g, &f.diags, &f.sources, Format::Text);
            eprintln!("note: the zones do not render, so their serials are left as they were");
            checked.resolved.lock.clone()
        }
    };
    let pruned = if args.prune_released {
        lock.prune_released()
    } else {
        0
    };
    let text = lock.to_text();
    let old = checked.loaded.lock.as_ref().map(|(_, t)| t.as_str());
    if old == Some(text.as_str()) {
        eprintln!(
            "siteconf.lock is up to date ({} entries)",
            lock.entries.len()
        );
        return Status::Ok;
    }
    if let Err(e) = write_file_atomic(&root.join(LOCK_FILE), text.as_bytes(), 0o644) {
        return fail(format!("cannot write {LOCK_FILE}: {e}"));
    }
    const SHOWN: usize = 20;
    for c in checked.resolved.lock_changes.iter().take(SHOWN) {
        eprintln!("  {c}");
    }
    if checked.resolved.lock_changes.len() > SHOWN {
        eprintln!(
            "  … and {} more (see `git diff siteconf.lock`)",
            checked.resolved.lock_changes.len() - SHOWN
        );
    }
    eprintln!(
        "wrote siteconf.lock: {} entries ({} change(s){})",
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
