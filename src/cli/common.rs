//! What every subcommand shares: global flags, finding the project, colour,
//! printing diagnostics, exit status.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::{self, Code, ColorChoice, Diagnostic};
use crate::project::{CONFIG_FILE, DEFAULT_SITE_DIR};
use crate::source::git::{index_file_path, GitError, GitProject};
use crate::source::{FsSource, Source};
use crate::syntax::SourceMap;

#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The project directory, the one of siteconf.toml (for `init`: where
    /// DIR is created). Without -C the project is found from the current
    /// directory upwards.
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
    /// The project root.
    ///
    /// With `-C DIR`, DIR itself: `-C` names the project (the directory of
    /// siteconf.toml), so a DIR without one never silently becomes a
    /// parent's project. DIR must exist and hold siteconf.toml, or at least
    /// the site directory `site/` (a project on the default settings).
    ///
    /// Without `-C`, as git finds `.git`: the nearest directory from the
    /// current one upwards that holds siteconf.toml; failing that, the
    /// current directory if it holds `site/`. Anything else is an SC0009
    /// error saying where it looked.
    pub fn project_root(&self) -> Result<PathBuf, Diagnostic> {
        match &self.dir {
            Some(d) => root_given(d),
            None => {
                let cwd = std::env::current_dir().map_err(|e| {
                    Diagnostic::error(
                        Code::ProjectNotFound,
                        format!("cannot read the current directory: {e}"),
                    )
                    .help("run siteconf from an existing directory, or pass -C DIR")
                })?;
                root_found(&cwd)
            }
        }
    }

    /// The project's files: from revision `rev`, from the index when
    /// `staged`, else from the working tree. No project, or a git error
    /// (not a repository, unknown revision), comes back as an
    /// [`OpenError`] that prints itself.
    pub fn open_source(
        &self,
        rev: Option<&str>,
        staged: bool,
    ) -> Result<Box<dyn Source>, OpenError> {
        let root = self.project_root().map_err(OpenError::NoProject)?;
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

/// Why a command has no project to read.
#[derive(Debug)]
pub enum OpenError {
    /// No project where `-C` or the current directory points (SC0009).
    NoProject(Diagnostic),
    Git(GitError),
}

impl From<GitError> for OpenError {
    fn from(e: GitError) -> OpenError {
        OpenError::Git(e)
    }
}

impl OpenError {
    /// Prints the error (a diagnostic in `format`, or git's message) and
    /// gives exit status 2.
    pub fn report(self, g: &Global, format: Format) -> Status {
        match self {
            OpenError::NoProject(d) => no_project(g, d, format),
            OpenError::Git(e) => fail(e),
        }
    }
}

/// Prints the diagnostic of [`Global::project_root`] (text on stderr, or
/// JSON on stdout): exit status 2, a usage error.
pub fn no_project(g: &Global, d: Diagnostic, format: Format) -> Status {
    print_diagnostics(g, &[d], &SourceMap::default(), format);
    Status::Error
}

fn shown(p: &Path) -> String {
    format!("`{}`", p.display())
}

/// The project of `-C DIR`: DIR, if it is one.
fn root_given(dir: &Path) -> Result<PathBuf, Diagnostic> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Diagnostic::error(
                Code::ProjectNotFound,
                format!(
                    "the directory {} (given with -C) does not exist",
                    shown(dir)
                ),
            )
            .help(format!(
                "-C names the project directory, the one that holds {CONFIG_FILE}; check the path, \
                 or create a project there with `siteconf init {} --nodes N`",
                dir.display()
            )))
        }
        Err(e) => {
            return Err(Diagnostic::error(
                Code::ProjectNotFound,
                format!("cannot use {} (given with -C): {e}", shown(dir)),
            ))
        }
    };
    if !meta.is_dir() {
        return Err(Diagnostic::error(
            Code::ProjectNotFound,
            format!("{} (given with -C) is not a directory", shown(dir)),
        )
        .help(format!(
            "-C names the project directory, the one that holds {CONFIG_FILE}"
        )));
    }
    if dir.join(CONFIG_FILE).is_file() || dir.join(DEFAULT_SITE_DIR).is_dir() {
        return Ok(dir.to_path_buf());
    }
    // Where the user may have meant: the nearest project above DIR, named
    // as DIR was (relative stays relative) where it can be.
    let has_config = |d: &Path| d.join(CONFIG_FILE).is_file();
    let above = dir
        .ancestors()
        .skip(1)
        .map(|p| match p.as_os_str().is_empty() {
            true => Path::new("."),
            false => p,
        })
        .find(|d| has_config(d))
        .map(Path::to_path_buf)
        .or_else(|| {
            let abs = std::path::absolute(dir).ok()?;
            let found = abs.ancestors().skip(1).find(|d| has_config(d))?;
            Some(found.to_path_buf())
        });
    let help = match above {
        Some(p) if p == Path::new(".") => format!(
            "-C names the project directory itself; the nearest {CONFIG_FILE} above it is in the \
             current directory: run without -C"
        ),
        Some(p) => format!(
            "-C names the project directory itself; the nearest {CONFIG_FILE} above it is in \
             {}: pass -C {}",
            shown(&p),
            p.display()
        ),
        None => format!(
            "-C names the project directory, the one that holds {CONFIG_FILE}; \
             `siteconf init DIR --nodes N` creates a project"
        ),
    };
    Err(Diagnostic::error(
        Code::ProjectNotFound,
        format!(
            "no {CONFIG_FILE} in {} (given with -C), and no {DEFAULT_SITE_DIR}/ directory either",
            shown(dir)
        ),
    )
    .help(help))
}

/// The project around `cwd`: the nearest siteconf.toml upwards, else
/// `cwd` itself if it holds `site/`.
fn root_found(cwd: &Path) -> Result<PathBuf, Diagnostic> {
    if let Some(d) = cwd.ancestors().find(|d| d.join(CONFIG_FILE).is_file()) {
        return Ok(d.to_path_buf());
    }
    if cwd.join(DEFAULT_SITE_DIR).is_dir() {
        return Ok(cwd.to_path_buf());
    }
    let looked: Vec<String> = cwd.ancestors().map(shown).collect();
    Err(Diagnostic::error(
        Code::ProjectNotFound,
        format!(
            "no {CONFIG_FILE} found (looked in: {}), and no {DEFAULT_SITE_DIR}/ directory here",
            looked.join(", ")
        ),
    )
    .help(
        "run siteconf in a project (a directory with siteconf.toml, or below one), or name it \
         with -C DIR; `siteconf init DIR --nodes N` creates one",
    ))
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
