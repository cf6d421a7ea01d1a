//! `siteconf init DIR --nodes N`: writes a new project that is green and
//! wired from its first commit: it checks (`--locked`) and builds as it
//! stands, keeps its output and secrets out of git, and has the pre-commit
//! hook (and, with `--ci`, the CI recipe). The files come from
//! `crate::init::generate` and `crate::init::project_files`; this file only
//! decides where they go and writes them through
//! `output::write_files_atomic`, never leaving half a project behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::common::{fail, Global, Status};
use crate::init::{self, project as scaffold, Ci, Options, SECRETS_FILE};
use crate::syntax::Format;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SiteFormat {
    #[default]
    Kdl,
    Toml,
}

/// `--ci`: which CI recipe of siteconf's docs/ci/ to write.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CiArg {
    /// No CI file (the default: init cannot know where the repository will live).
    #[default]
    None,
    /// .gitlab-ci.yml: check every push; diff and gate on merge requests.
    Gitlab,
    /// .github/workflows/siteconf.yml: the same for GitHub Actions.
    Github,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Besides the site (siteconf.toml, site/), init writes siteconf.lock (what `siteconf lock`
would write), schema/*.json (named by the `#:schema` line of every TOML file, for editors),
a .gitignore (the output directory, secrets/, siteconf's temporary files), a
.pre-commit-config.yaml running `siteconf check --staged --deny warnings`, and with --ci
the CI recipe. Secret values go into secrets/local.toml (fake ones to start with; git-ignored)
or SITECONF_SECRET_<NAME> variables: never into git.

Same arguments, same files: the output depends on nothing else.
Example: siteconf init dc1 --nodes 200 --ci gitlab && siteconf -C dc1 check --locked")]
pub struct Args {
    /// Directory to create the project in (relative to -C DIR, if given).
    // Not named `dir`: clap would tie it to the global `-C DIR`.
    #[arg(value_name = "DIR")]
    pub target: PathBuf,
    /// Number of nodes (1 to 250000).
    #[arg(long, value_name = "N")]
    pub nodes: u32,
    /// Number of racks [default: the fewest 42U racks that hold the nodes].
    #[arg(long, value_name = "R")]
    pub racks: Option<u32>,
    /// Format of the site files.
    #[arg(long, value_enum, default_value = "kdl")]
    pub format: SiteFormat,
    /// A project of several sites (docs/sites.md): one site of --nodes
    /// nodes per name, under sites/NAME/, sharing profiles and groups.
    #[arg(long, value_name = "NAME,NAME…", value_delimiter = ',')]
    pub sites: Option<Vec<String>>,
    /// The CI recipe to write.
    #[arg(long, value_enum, default_value = "none")]
    pub ci: CiArg,
    /// Write into a non-empty directory, replacing files of the same names
    /// (an existing .gitignore is kept and gains the lines init needs).
    #[arg(long)]
    pub force: bool,
}

pub fn run(g: &Global, args: Args) -> Status {
    let opts = Options {
        nodes: args.nodes,
        racks: args.racks,
        format: match args.format {
            SiteFormat::Kdl => Format::Kdl,
            SiteFormat::Toml => Format::Toml,
        },
    };
    let ci = match args.ci {
        CiArg::None => Ci::None,
        CiArg::Gitlab => Ci::Gitlab,
        CiArg::Github => Ci::Github,
    };
    let generated = match &args.sites {
        Some(names) => init::generate_sites(&opts, names),
        None => init::generate(&opts),
    };
    let generated = match generated {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}\n  help: {}", e.message, e.help);
            return Status::Error;
        }
    };
    let dir = match &g.dir {
        Some(base) => {
            // As for every other command, a missing -C directory is a
            // mistake to show, not a path to create: `init` makes only the
            // project's own directory (and the parents of a target given
            // without -C).
            match fs::metadata(base) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return fail(format!(
                        "{} (given with -C) is not a directory",
                        base.display()
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    eprintln!(
                        "error: the directory {} (given with -C) does not exist\n  help: -C names an existing directory; with init, the one the project's directory is made in: create it first, or give the whole path without -C (`siteconf init {}`)",
                        base.display(),
                        base.join(&args.target).display()
                    );
                    return Status::Error;
                }
                Err(e) => {
                    return fail(format!(
                        "cannot use {} (given with -C): {e}",
                        base.display()
                    ))
                }
            }
            base.join(&args.target)
        }
        None => args.target.clone(),
    };
    // A fresh `git init` is as good as empty: init never writes into `.git`.
    let existing = match fs::read_dir(&dir) {
        Ok(entries) => Some(
            entries
                .filter(|e| e.as_ref().map_or(true, |e| e.file_name() != ".git"))
                .count(),
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return fail(format!("cannot use {}: {e}", dir.display())),
    };
    if let Some(n) = existing.filter(|&n| n > 0 && !args.force) {
        eprintln!(
            "error: {} is not empty ({n} entries); refusing to write a project into it\n  \
             help: choose a new directory, or pass --force to replace files of the same names",
            dir.display()
        );
        return Status::Error;
    }
    let mut files = generated.files.clone();
    match scaffold::project_files(&generated, ci) {
        Ok(more) => files.extend(more),
        Err(e) => {
            eprintln!("error: {}\n  help: {}", e.message, e.help);
            return Status::Error;
        }
    }
    // --force keeps the user's ignore rules (see `merge_gitignore`).
    let mut gitignore_kept = false;
    let ignore = dir.join(scaffold::GITIGNORE_FILE);
    // Read only a regular file: a link there is refused by the writer, and
    // is never followed, not even to read it.
    let regular = fs::symlink_metadata(&ignore).is_ok_and(|m| m.is_file());
    if existing.is_some() && regular {
        if let Ok(mine) = fs::read_to_string(&ignore) {
            let merged = scaffold::merge_gitignore(&mine, init::OUT_DIR);
            gitignore_kept = true;
            files.retain(|(p, _)| p != scaffold::GITIGNORE_FILE);
            if let Some(text) = merged {
                files.push((scaffold::GITIGNORE_FILE.to_string(), text));
            }
        }
    }
    let stale = match existing {
        Some(n) if n > 0 => stale_site_files(&dir, &files),
        _ => Vec::new(),
    };
    let written = match existing {
        None => write_new_dir(&dir, &files),
        Some(_) => write_into(&dir, &files),
    };
    if let Err(e) = written {
        return fail(format!(
            "cannot write the project to {}: {e} (nothing was left behind)",
            dir.display()
        ));
    }
    if !stale.is_empty() {
        eprintln!(
            "warning: {} site file(s) that init did not write are still in {} and will be \
             read by `siteconf check`, e.g. {}",
            stale.len(),
            dir.display(),
            stale.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    summary(&dir, &args, &generated, &files, ci, gitignore_kept);
    Status::Ok
}

/// What init did and what comes next, on stderr.
fn summary(
    dir: &Path,
    args: &Args,
    generated: &init::Generated,
    files: &[(String, String)],
    ci: Ci,
    gitignore_kept: bool,
) {
    let site_files = generated
        .files
        .iter()
        .filter(|(p, _)| {
            ["site/", "sites/", "common/"]
                .iter()
                .any(|d| p.starts_with(d))
        })
        .count();
    let sites = args.sites.as_ref().map_or(1, Vec::len) as u32;
    eprintln!(
        "created {} files in {}: {} nodes ({} control, {} compute, {} storage) in {} rack{}, {} {} site files",
        files.len(),
        dir.display(),
        args.nodes * sites,
        generated.control,
        generated.compute,
        generated.storage,
        generated.racks,
        if generated.racks == 1 { "" } else { "s" },
        site_files,
        match args.format {
            SiteFormat::Kdl => "KDL",
            SiteFormat::Toml => "TOML",
        }
    );
    let locks: Vec<&(String, String)> = files
        .iter()
        .filter(|(p, _)| p.rsplit('/').next() == Some(crate::project::LOCK_FILE))
        .collect();
    let lock_entries: usize = locks
        .iter()
        .map(|(_, t)| {
            t.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("version "))
                .count()
        })
        .sum();
    let lock_name = if locks.len() == 1 {
        crate::project::LOCK_FILE.to_string()
    } else {
        format!("{} locks", locks.len())
    };
    eprintln!("  {lock_name:<18} {lock_entries} allocations and zone serials, as `siteconf lock` writes them");
    eprintln!(
        "  secrets            {SECRETS_FILE} holds FAKE values so that the site builds, and is git-ignored:\n\
         \x20                    put the real ones there, or in SITECONF_SECRET_<NAME> variables ([secrets] in siteconf.toml)"
    );
    eprintln!(
        "  .gitignore         {}",
        if gitignore_kept {
            "yours, kept (with the lines init needs: out/, secrets/, siteconf's temporaries)"
        } else {
            "out/, secrets/ and siteconf's temporary files"
        }
    );
    eprintln!("  pre-commit         .pre-commit-config.yaml checks what is staged (`pre-commit install` turns it on)");
    eprintln!(
        "  schemas            schema/*.json, named by the `#:schema` line of every TOML file"
    );
    match ci.recipe() {
        Some((path, _)) => eprintln!("  CI                 {path}"),
        None => {
            eprintln!("  CI                 none (`--ci gitlab` or `--ci github` writes a recipe)")
        }
    }
    eprintln!(
        "next: siteconf -C {0} check --locked, then commit it on `main` (the branch the review and CI recipes compare with): cd {0} && git init -b main && git add -A && git commit -m \"site: first commit\"",
        dir.display()
    );
}

/// A directory that does not exist yet is written as a hidden sibling and
/// renamed into place, so a failure (disk full, ^C) leaves nothing.
fn write_new_dir(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    let name = dir
        .file_name()
        .ok_or_else(|| io::Error::other("the directory has no name"))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let tmp = parent.join(format!(".{name}.siteconf-init-{}", std::process::id()));
    let result = (|| {
        fs::create_dir(&tmp)?;
        write_into(&tmp, files)?;
        fs::rename(&tmp, dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Every file through the one atomic-write helper: each to a temporary
/// beside its target, all renamed into place only once all are written;
/// on failure the temporaries and the directories made for them go, and
/// nothing was replaced. A symbolic link on the way is refused.
fn write_into(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    let list: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes(), 0o644))
        .collect();
    crate::output::fs::write_files_atomic(dir, &list)
}

/// Site files already in `dir/site` that this init does not write.
fn stale_site_files(dir: &Path, files: &[(String, String)]) -> Vec<String> {
    let ours: std::collections::BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let mut stale: Vec<String> = walkdir::WalkDir::new(dir.join("site"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            let site_file = rel.ends_with(".kdl") || rel.ends_with(".toml");
            (site_file && !ours.contains(rel.as_str())).then_some(rel)
        })
        .collect();
    stale.sort();
    stale
}
