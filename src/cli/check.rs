//! `siteconf check`: every finding in the site, in one run.

use super::common::{
    fail, print_diagnostics, print_source_notes, Format, Global, SourceArgs, Status,
};
use crate::check;
use crate::diag::{Code, Diagnostic};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Fail if siteconf.lock would change (for CI).
    #[arg(long)]
    pub locked: bool,
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
    let mut diags = checked.diags;
    // A broken [gate] policy would block every merge request once merged
    // (gate reads base's policy); report it here so it never gets that far.
    if let Err(d) =
        crate::gate::policy::from_config(&checked.loaded.config, &checked.loaded.sources)
    {
        diags.extend(d);
    }
    // A lock that cannot be read as it stands is its own finding; "not
    // current" on top of it would only repeat it.
    let lock_unreadable = diags.iter().any(|d| {
        matches!(
            d.code,
            Code::LockSyntax
                | Code::ProjectPathRefused
                | Code::LockConflictMarkers
                | Code::LockTwoValues
                | Code::LockUnknownEntry
                | Code::LockDamagedLine
                | Code::LockVersion
        )
    });
    if args.locked && checked.resolved.lock_changed && !lock_unreadable {
        let mut d = Diagnostic::error(
            Code::LockOutOfDate,
            format!(
                "siteconf.lock is not current: {} change(s) needed",
                checked.resolved.lock_changes.len()
            ),
        );
        let shown: Vec<&str> = checked
            .resolved
            .lock_changes
            .iter()
            .take(10)
            .map(|s| s.as_str())
            .collect();
        d = d.help(format!(
            "run `siteconf lock` and commit siteconf.lock; first changes: {}",
            shown.join("; ")
        ));
        diags.push(d);
    }
    let sources = &checked.loaded.sources;
    let errors = diags.error_count();
    let warnings = diags.warning_count();
    let list = diags.sorted(sources);
    print_diagnostics(g, &list, sources, args.format);
    if args.format == Format::Text {
        let site = &checked.loaded.site;
        let pending = if checked.resolved.lock_changed && !args.locked {
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
            "{}{from}: {} nodes, {} switches, {} racks, {} networks; {} error(s), {} warning(s){}",
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
