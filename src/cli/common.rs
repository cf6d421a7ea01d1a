//! What every subcommand shares: global flags, finding the project, colour,
//! printing diagnostics, exit status.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::{self, ColorChoice, Diagnostic};
use crate::project::CONFIG_FILE;
use crate::source::git::{index_file_path, GitError, GitProject};
use crate::source::{FsSource, Source};
use crate::syntax::SourceMap;

#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Run as if started in DIR (the project is found in DIR or its parents).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Colour: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Findings,
    Error,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Ok => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
            Status::Error => ExitCode::from(2),
        }
    }
}

/// Where a command reads the project from: the working tree (default), a
/// git revision, or the git index. Flatten into a command's `Args` and call
/// [`Global::open_source`]:
///
/// ```ignore
/// #[command(flatten)]
/// pub from: SourceArgs,
/// …
/// let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) { … };
/// ```
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SourceArgs {
    /// Read the project as of a git revision (branch, tag, commit, HEAD~3)
    /// straight from git objects, without a checkout.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub rev: Option<String>,
    /// Read the project as staged in the git index (what a pre-commit hook
    /// must check).
    #[arg(long)]
    pub staged: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

impl Global {
    /// The project root: the nearest directory from `-C DIR` (or the
    /// current one) upwards that has siteconf.toml; else that directory.
    pub fn project_root(&self) -> PathBuf {
        let start = match &self.dir {
            Some(d) => d.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let mut cur: Option<&Path> = Some(&start);
        while let Some(d) = cur {
            if d.join(CONFIG_FILE).is_file() {
                return d.to_path_buf();
            }
            cur = d.parent();
        }
        start
    }

    /// The project's files: from revision `rev`, from the index when
    /// `staged`, else from the working tree. Git errors (not a repository,
    /// unknown revision) come back as one message with a hint.
    pub fn open_source(
        &self,
        rev: Option<&str>,
        staged: bool,
    ) -> Result<Box<dyn Source>, GitError> {
        let root = self.project_root();
        if let Some(rev) = rev {
            let project = GitProject::discover(&root)?;
            return Ok(Box::new(project.rev_source(rev)?));
        }
        if staged {
            let project = GitProject::discover(&root)?;
            // In a hook run by `git commit -a` or `git commit PATH`, git
            // names the index it is about to commit in GIT_INDEX_FILE.
            let cwd = std::env::current_dir().unwrap_or_else(|_| root.clone());
            let index = std::env::var_os("GIT_INDEX_FILE").map(|v| index_file_path(&v, &cwd));
            return Ok(Box::new(project.index_source(index.as_deref())?));
        }
        Ok(Box::new(FsSource::new(root)))
    }

    /// Colour on stderr: only on a terminal, never with NO_COLOR.
    pub fn color_stderr(&self) -> ColorChoice {
        self.color_for(std::io::stderr().is_terminal())
    }

    pub fn color_stdout(&self) -> ColorChoice {
        self.color_for(std::io::stdout().is_terminal())
    }

    fn color_for(&self, tty: bool) -> ColorChoice {
        match self.color.as_str() {
            "always" => ColorChoice::Always,
            "never" => ColorChoice::Never,
            _ if tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) => {
                ColorChoice::Always
            }
            _ => ColorChoice::Never,
        }
    }
}

/// Whether progress bars may be shown: stderr is a terminal and not in CI.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// Prints diagnostics (human on stderr, or JSON on stdout).
pub fn print_diagnostics(g: &Global, diags: &[Diagnostic], sources: &SourceMap, format: Format) {
    match format {
        Format::Json => println!("{}", diag::render_json(diags, sources)),
        Format::Text => {
            if !diags.is_empty() {
                eprint!("{}", diag::render_human(diags, sources, g.color_stderr()));
            }
        }
    }
}

/// Prints what a source skipped (symlinks, submodules) as notes on stderr.
pub fn print_source_notes(src: &dyn Source) {
    for n in src.notes() {
        eprintln!("note: {n}");
    }
}

/// A one-line error for failures outside the site files (I/O, git).
pub fn fail(message: impl std::fmt::Display) -> Status {
    eprintln!("error: {message}");
    Status::Error
}

/// `--deny warnings` / `--deny SCnnnn`: warnings that fail the command.
/// Warnings are legal but almost always wrong, so they print and pass by
/// default; CI asks for them to fail the pipeline. A denied warning is
/// promoted to an error (in text, JSON and the counts), as `rustc -D` does,
/// so every consumer of the output sees why the command failed.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DenyArgs {
    /// Treat warnings as errors: `warnings` for all of them, or a code
    /// (`SC0510`) for one kind. Repeatable.
    #[arg(long, value_name = "warnings|CODE", value_parser = parse_deny)]
    pub deny: Vec<Deny>,
}

/// One `--deny` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    Warnings,
    Code(diag::Code),
}

fn parse_deny(s: &str) -> Result<Deny, String> {
    if s == "warnings" {
        return Ok(Deny::Warnings);
    }
    diag::ALL_CODES
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(s) || c.name == s)
        .map(|c| Deny::Code(c.code))
        .ok_or_else(|| {
            format!("expected `warnings` or a diagnostic code such as SC0510 (see `siteconf codes`), found `{s}`")
        })
}

impl DenyArgs {
    /// Promotes the denied warnings to errors; returns how many were.
    pub fn apply(&self, diags: &mut [Diagnostic]) -> usize {
        let mut n = 0;
        for d in diags.iter_mut() {
            let denied = d.severity == diag::Severity::Warning
                && self.deny.iter().any(|x| match x {
                    Deny::Warnings => true,
                    Deny::Code(c) => *c == d.code,
                });
            if denied {
                d.severity = diag::Severity::Error;
                n += 1;
            }
        }
        n
    }

    /// What the summary line adds when warnings were denied:
    /// " (3 of them warnings denied by --deny warnings)".
    pub fn why(&self, denied: usize) -> String {
        if denied == 0 {
            return String::new();
        }
        let flags: Vec<String> = self
            .deny
            .iter()
            .map(|d| match d {
                Deny::Warnings => "--deny warnings".to_string(),
                Deny::Code(c) => format!("--deny {c}"),
            })
            .collect();
        format!(
            " ({denied} of them warning(s) denied by {})",
            flags.join(", ")
        )
    }
}

/// `--site NAME`: one site of a project of several (docs/sites.md).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SiteArgs {
    /// In a project of several sites, work on this one only (default: all).
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
}
