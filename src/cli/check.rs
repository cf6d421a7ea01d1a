//! `siteconf check`: every finding in the site, in one run.

use super::common::{
    print_diagnostics, print_source_notes, DenyArgs, Format, Global, SiteArgs, SourceArgs, Status,
};
use crate::check;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Errors fail the check (exit 1). Warnings (legal, but almost always a mistake) are
shown and counted but pass, unless denied: --deny warnings makes every warning an
error, --deny CODE (e.g. --deny SC0510) one kind. CI should use --deny warnings.

Templates: check compiles every template (the project's and the built-in ones)
and renders them, writing nothing, every secret a placeholder: for every device
of a site of up to 3,000 devices; of a larger site, for every switch (up to
2,000) and a sample of the nodes: the first node, the first with BGP sessions,
with repositories and with SSH users, the first of each role, profile set and
view shape (what a node has: its variables, which values are empty or absent;
256 nodes at most), and it says so. build renders every device: a branch on a
value that only a node outside the sample takes fails there.

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
    #[command(flatten)]
    pub site: SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return e.report(g, args.format),
    };
    let project = check::check_project(&*src, args.site.site.as_deref(), false);
    print_source_notes(&*src);
    let mut diags = project.diags;
    let Some(first) = project.sites.first() else {
        // No site could be loaded (an unknown `--site`): the reason is a finding.
        let sources = crate::syntax::SourceMap::default();
        let list = diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, args.format);
        return Status::Findings;
    };
    // A broken [gate] policy would block every merge request once merged
    // (gate reads base's policy); report it here so it never gets that far.
    match crate::gate::policy::from_config(&first.loaded.config, &first.loaded.sources) {
        Err(d) => diags.extend(d),
        Ok(policy) => diags.extend(gate_unmatched(
            &*src,
            &first.loaded.config,
            project.sites.iter().map(|c| &c.loaded.site).collect(),
            &first.loaded.sources,
            &policy,
        )),
    }
    let mut pending = Vec::new();
    for checked in &project.sites {
        let lock_file = &checked.loaded.config.lock_file;
        if !checked.lock_not_current {
            continue;
        }
        let changes = checked.resolved.lock_changes.len();
        if args.locked {
            diags.extend(checked.lock_out_of_date());
        } else {
            pending.push(format!(
                "{lock_file} would change ({changes} allocation change(s); run `siteconf lock`)"
            ));
        }
    }
    // The templates: compiled, and rendered for each site's devices, or a
    // sample of a large site (`build` renders every device). Each site renders its own sample;
    // their findings point into the templates, added to the first site's
    // source map once.
    let mut printed_sources = None;
    let mut sampled = Vec::new();
    let first_base = first.loaded.sources.files().count();
    for (k, checked) in project.sites.iter().enumerate() {
        let found = crate::render::check_templates(checked, &*src);
        if let Some(s) = found.sampled {
            let site = checked.loaded.config.site.as_deref().unwrap_or("");
            sampled.push((site.to_string(), s));
        }
        let base = checked.loaded.sources.files().count();
        let same_templates =
            checked.loaded.config.templates_dir == first.loaded.config.templates_dir;
        for mut d in found.diags {
            // A label into the templates (a file id past the site's own):
            // the same template in the first site's map, else left out.
            d.labels.retain_mut(|l| {
                let id = l.span.file.0 as usize;
                if id < base {
                    return true;
                }
                l.span.file = crate::syntax::FileId((id - base + first_base) as u32);
                same_templates
            });
            diags.push(d);
        }
        if k == 0 {
            printed_sources = found
                .templates
                .map(|t| t.extend_sources(&first.loaded.sources));
        }
    }
    let sources = printed_sources.as_ref().unwrap_or(&first.loaded.sources);
    // Counted after sorting, which drops exact repeats: the summary counts
    // what is shown.
    let mut list = diags.sorted(sources);
    let denied = args.deny.apply(&mut list);
    let (errors, warnings) = crate::diag::count(&list);
    print_diagnostics(g, &list, sources, args.format);
    // A site too large to render whole: say so, so that nobody takes a
    // green check for a render of every device. On stderr in either
    // format: `--format json` keeps stdout the array of findings.
    for (site, s) in &sampled {
        let of = if site.is_empty() {
            String::new()
        } else {
            format!(" of site {site}")
        };
        eprintln!(
                "note: templates rendered for {} of {} nodes and {} of {} switches{of} (one of each role, profile set and shape); `build` renders every device",
                s.nodes, s.of_nodes, s.switches, s.of_switches
            );
    }
    if args.format == Format::Text {
        let pending: String = pending.iter().map(|p| format!("; {p}")).collect();
        // Say what was checked when it is not the working tree: a hook
        // that checks the index must not look like it checked the files.
        let from = if args.from.rev.is_some() || args.from.staged {
            format!(" ({})", src.describe())
        } else {
            String::new()
        };
        let count = |f: fn(&crate::model::Site) -> usize| -> usize {
            project.sites.iter().map(|c| f(&c.loaded.site)).sum()
        };
        let sites = if first.loaded.config.is_multi_site() {
            format!("{} site(s), ", project.sites.len())
        } else {
            String::new()
        };
        eprintln!(
            "{}{from}: {sites}{} nodes, {} switches, {} racks, {} networks; {} error(s){}, {} warning(s){}",
            if errors > 0 {
                "check failed"
            } else {
                "check passed"
            },
            count(|s| s.nodes.len()),
            count(|s| s.switches.len()),
            count(|s| s.racks.len()),
            count(|s| s.networks.len()),
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

/// What the gate policy names that the project does not have (SC0056):
/// `check` and `gate` both say so. Only with a policy; quiet when the
/// project's files cannot be listed or its templates read (their own
/// findings say why).
pub(super) fn gate_unmatched(
    src: &dyn crate::source::Source,
    config: &crate::project::Config,
    sites: Vec<&crate::model::Site>,
    sources: &crate::syntax::SourceMap,
    policy: &crate::gate::policy::Compiled,
) -> Vec<crate::diag::Diagnostic> {
    if sites.is_empty() {
        return Vec::new();
    }
    let p = &policy.policy;
    if p.owners.is_empty() && p.rules.is_empty() && p.role_limits.is_empty() {
        return Vec::new();
    }
    // Every site's inputs (a site's config lists its own directory and
    // the shared one): a `paths` glob over any site's files matches.
    let configs: Vec<crate::project::Config> = if config.sites.is_empty() {
        vec![config.clone()]
    } else {
        config
            .sites
            .keys()
            .filter_map(|n| config.for_site(n))
            .collect()
    };
    let mut inputs = Vec::new();
    for c in &configs {
        match crate::project::input_paths(src, c) {
            Ok(p) => inputs.extend(p),
            Err(_) => return Vec::new(),
        }
    }
    inputs.sort();
    inputs.dedup();
    let Ok(templates) = crate::render::engine::Templates::load(src, &config.templates_dir) else {
        return Vec::new();
    };
    // What could be added later: a file under a site's directories or the
    // templates, a site's lock file.
    let mut possible_inputs = Vec::new();
    for c in &configs {
        possible_inputs.push(crate::gate::meet::escape(&c.lock_file));
        for d in c
            .read_dirs()
            .into_iter()
            .chain(std::iter::once(c.templates_dir.as_str()))
        {
            let d = d.trim_end_matches('/');
            possible_inputs.push(match d {
                "" | "." => "**".to_string(),
                d => format!("{}/**", crate::gate::meet::escape(d)),
            });
        }
    }
    possible_inputs.sort();
    possible_inputs.dedup();
    let view = crate::gate::policy::Project {
        inputs: &inputs,
        possible_inputs,
        sites,
        site_names: config.sites.keys().cloned().collect(),
        templates: &templates,
    };
    crate::gate::policy::unmatched(policy, &view, sources)
}
