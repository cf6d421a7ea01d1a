//! `siteconf check`: every finding in the site, in one run.

use super::common::{
    fail, print_diagnostics, print_source_notes, DenyArgs, Format, Global, SourceArgs, Status,
};
use crate::check;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Errors fail the check (exit 1). Warnings (legal, but almost always a mistake) are
shown and counted but pass, unless denied: --deny warnings makes every warning an
error, --deny CODE (e.g. --deny SC0510) one kind. CI should use --deny warnings.

Exit codes: 0 no errors, 1 errors (or denied warnings), 2 usage or I/O error.")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Fail if siteconf.lock would change (for CI).
    #[arg(long)]
    pub locked: bool,
    #[command(flatten)]
    pub deny: DenyArgs,
    #[command(flatten)]
    pub from: SourceArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let checked = check::check(&*src);
    print_source_notes(&*src);
    // Whether the lock is current is `check`'s decision, shared with
    // `build`; here it is only shown.
    let lock_changed = checked.lock_not_current;
    let out_of_date = checked.lock_out_of_date().filter(|_| args.locked);
    let mut diags = checked.diags;
    // A broken [gate] policy would block every merge request once merged
    // (gate reads base's policy); report it here so it never gets that far.
    if let Err(d) =
        crate::gate::policy::from_config(&checked.loaded.config, &checked.loaded.sources)
    {
        diags.extend(d);
    }
    diags.extend(out_of_date);
    let site = &checked.loaded.site;
    let sources = &checked.loaded.sources;
    // Counted after sorting, which drops exact repeats: the summary counts
    // what is shown.
    let mut list = diags.sorted(sources);
    let denied = args.deny.apply(&mut list);
    let (errors, warnings) = crate::diag::count(&list);
    print_diagnostics(g, &list, sources, args.format);
    if args.format == Format::Text {
        let pending = if lock_changed && !args.locked {
            format!(
                "; siteconf.lock would change ({} allocation change(s); run `siteconf lock`)",
                checked.resolved.lock_changes.len()
            )
        } else {
            String::new()
        };
        // Say what was checked when it is not the working tree: a hook
        // that checks the index must not look like it checked the files.
        let from = if args.from.rev.is_some() || args.from.staged {
            format!(" ({})", src.describe())
        } else {
            String::new()
        };
        eprintln!(
            "{}{from}: {} nodes, {} switches, {} racks, {} networks; {} error(s){}, {} warning(s){}",
            if errors > 0 {
                "check failed"
            } else {
                "check passed"
            },
            site.nodes.len(),
            site.switches.len(),
            site.racks.len(),
            site.networks.len(),
            errors,
            args.deny.why(denied),
            warnings,
            pending
        );
    }
    if errors > 0 {
        Status::Findings
    } else {
        Status::Ok
    }
}
