//! `siteconf diff [BASE] [HEAD]`: what a change does to the rendered
//! artifacts, compiled from git objects on both sides.
//!
//! BASE defaults to the merge base of HEAD with the default branch
//! (`diff.default-branch`, `main`); HEAD defaults to the working tree
//! (`--staged`: the index). Exit status: 0 when the diff was produced —
//! differences or not, like `git diff` — or with `--exit-code` 1 when there
//! are differences; 1 when a side's site files have errors (the fix is in
//! the site, as with `siteconf check`; its diagnostics are shown, labelled
//! with the side); 2 for a usage or git error (unknown revision, not a
//! repository).

use super::common::{fail, interactive, no_project, Format, Global, Status};
use crate::diag::{self, Diagnostic};
use crate::project;
use crate::review::format::{json, markdown, text};
use crate::review::{self, Compiled, Failed, Filter, Review};
use crate::source::git::GitProject;
use crate::source::{FsSource, Source};
use crate::syntax::SourceMap;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    #[default]
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 diff shown (with --exit-code: 0 no differences, 1 differences); \
1 a side has errors in its site files; 2 usage or git error."
)]
pub struct Args {
    /// The revision to compare against [default: merge base of HEAD with diff.default-branch].
    pub base: Option<String>,
    /// The revision to review [default: the working tree].
    pub head: Option<String>,
    /// Review the index (staged changes) instead of the working tree.
    #[arg(long, conflicts_with = "head")]
    pub staged: bool,
    /// Output format: text for a terminal, markdown for a merge-request
    /// comment, json for tools.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Only the paths of changed artifacts, with A/D/M (text format).
    #[arg(long, conflicts_with = "stat")]
    pub name_only: bool,
    /// Lines added and removed per artifact (text format).
    #[arg(long)]
    pub stat: bool,
    /// Only devices whose name matches GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub node: Vec<String>,
    /// Only nodes of ROLE (repeatable).
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,
    /// Only artifacts of KIND: sshd, frr, netplan … (repeatable).
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Everything: the text diff without its cap of 200 lines and with
    /// every device of a group named; the JSON with every artifact change
    /// besides the groups.
    #[arg(long)]
    pub full: bool,
    /// Size cap of the markdown output in bytes.
    #[arg(long, value_name = "N", default_value_t = markdown::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
    /// Exit 1 when there are differences.
    #[arg(long)]
    pub exit_code: bool,
}

/// The two sides of a review, opened but not compiled.
pub(super) struct Sides {
    pub base: Box<dyn Source>,
    pub base_label: String,
    /// BASE as a command-line argument would name it (for "run … to see
    /// everything").
    pub base_arg: String,
    pub head: Box<dyn Source>,
    pub head_label: String,
    pub head_arg: Option<String>,
}

/// Opens BASE and HEAD as sources. Errors are printed; the status returned.
pub(super) fn open_sides(
    g: &Global,
    base: Option<&str>,
    head: Option<&str>,
    staged: bool,
) -> Result<Sides, Status> {
    let root = match g.project_root() {
        Ok(r) => r,
        Err(d) => return Err(no_project(g, d, Format::Text)),
    };
    let project = match GitProject::discover(&root) {
        Ok(p) => p,
        Err(e) => return Err(fail(e)),
    };
    let (head_src, head_label): (Box<dyn Source>, String) = match head {
        Some(rev) => match project.rev_source(rev) {
            Ok(s) => {
                let label = s.describe().trim_start_matches("revision ").to_string();
                (Box::new(s), label)
            }
            Err(e) => return Err(fail(e)),
        },
        None if staged => match g.open_source(None, true) {
            Ok(s) => (s, "index (staged)".to_string()),
            Err(e) => return Err(e.report(g, Format::Text)),
        },
        None => (Box::new(FsSource::new(&root)), "working tree".to_string()),
    };
    let (base_src, base_label, base_arg) = match base {
        Some(rev) => match project.rev_source(rev) {
            Ok(s) => {
                let label = s.describe().trim_start_matches("revision ").to_string();
                (s, label, rev.to_string())
            }
            Err(e) => return Err(fail(e)),
        },
        None => {
            // The default branch is a setting of the project being
            // reviewed; a missing or broken siteconf.toml means `main`.
            let config = {
                let mut sources = SourceMap::default();
                let mut d = crate::diag::Diagnostics::new();
                project::read_config(&*head_src, &mut sources, &mut d)
            };
            let head_commit = match project.resolve(head.unwrap_or("HEAD")) {
                Ok(c) => c,
                Err(e) => return Err(fail(e)),
            };
            let found = match project.default_base(&config.diff.default_branch, head_commit) {
                Ok(b) => b,
                Err(e) => return Err(fail(e)),
            };
            let sha = found.commit.to_string();
            let short = project.short(found.commit);
            match project.rev_source(&sha) {
                Ok(s) => (s, format!("{} (merge base {short})", found.branch), short),
                Err(e) => return Err(fail(e)),
            }
        }
    };
    Ok(Sides {
        base: Box::new(base_src),
        base_label,
        base_arg,
        head: head_src,
        head_label,
        head_arg: head.map(str::to_string),
    })
}

/// Compiles both sides with the template engine. A side that fails is
/// reported (labelled) and the status returned.
pub(super) fn compile_sides(
    g: &Global,
    sides: &Sides,
    json_errors: bool,
) -> Result<(Compiled, Compiled), Status> {
    if interactive() {
        eprintln!("compiling {} and {} …", sides.base_label, sides.head_label);
    }
    let (base, head) = review::compile_both(
        (&*sides.base, &sides.base_label),
        (&*sides.head, &sides.head_label),
        &review::Engine,
    );
    let failures: Vec<(&str, &Failed)> =
        [("base", base.as_ref().err()), ("head", head.as_ref().err())]
            .into_iter()
            .filter_map(|(side, f)| f.map(|f| (side, f)))
            .collect();
    if !failures.is_empty() {
        report_failures(g, &failures, json_errors);
        return Err(Status::Findings);
    }
    match (base, head) {
        (Ok(b), Ok(h)) => Ok((b, h)),
        // Both failures were handled above.
        _ => Err(Status::Error),
    }
}

fn report_failures(g: &Global, failures: &[(&str, &Failed)], json_errors: bool) {
    if json_errors {
        let sides: Vec<serde_json::Value> = failures
            .iter()
            .map(|(side, f)| {
                serde_json::json!({
                    "side": side,
                    "label": f.label,
                    "diagnostics": diag::to_json(&f.diagnostics, &f.sources),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "error": "a side does not compile", "sides": sides })
            )
            .unwrap_or_default()
        );
    }
    for (side, f) in failures {
        for n in &f.notes {
            eprintln!("note: {side}: {n}");
        }
        let errors: Vec<&Diagnostic> = f
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .collect();
        // SC09xx are the render's: a template, or a path it makes.
        let rendering = errors
            .iter()
            .filter(|d| d.code.as_str().starts_with("SC09"))
            .count();
        let where_ = match (errors.len() - rendering, rendering) {
            (_, 0) => "in its site files",
            (0, _) => "rendering its templates",
            _ => "in its site files and rendering its templates",
        };
        eprintln!(
            "error: {side} ({}) does not compile: {} error(s) {where_}; the review needs both sides",
            f.label,
            errors.len()
        );
        if !json_errors {
            let errs: Vec<Diagnostic> = f.diagnostics.clone();
            eprint!(
                "{}",
                diag::render_human(&errs, &f.sources, g.color_stderr())
            );
        }
    }
}

pub fn run(g: &Global, args: Args) -> Status {
    let filter = match Filter::new(&args.node, &args.role, &args.kind) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let sides = match open_sides(g, args.base.as_deref(), args.head.as_deref(), args.staged) {
        Ok(s) => s,
        Err(st) => return st,
    };
    let (base, head) = match compile_sides(g, &sides, args.format == DiffFormat::Json) {
        Ok(x) => x,
        Err(st) => return st,
    };
    if let Some(e) = filter.unmatched(&base.facts, &head.facts) {
        return fail(e);
    }
    let review = Review::build(&base, &head, &filter);
    let out = match args.format {
        DiffFormat::Json => json::render_with(&review, &json::Options { full: args.full }),
        DiffFormat::Markdown => {
            let mut cmd = format!("siteconf diff {}", sides.base_arg);
            if let Some(h) = &sides.head_arg {
                cmd.push(' ');
                cmd.push_str(h);
            }
            markdown::render(
                &review,
                &markdown::Options {
                    max_bytes: args.max_bytes,
                    full_command: cmd,
                },
            )
        }
        DiffFormat::Text => text::render(
            &review,
            &text::Options {
                color: g.color_stdout() == diag::ColorChoice::Always,
                mode: if args.name_only {
                    text::Mode::NameOnly
                } else if args.stat {
                    text::Mode::Stat
                } else {
                    text::Mode::Full
                },
                max_lines: (!args.full).then_some(text::DEFAULT_MAX_LINES),
            },
        ),
    };
    print!("{out}");
    let status = if args.exit_code && !review.is_empty() {
        Status::Findings
    } else {
        Status::Ok
    };
    // The process ends here: freeing two compiled fleets piece by piece
    // costs a noticeable share of the run (10,000 nodes), and the OS
    // reclaims the memory at once.
    std::mem::forget((base, head, review));
    status
}
