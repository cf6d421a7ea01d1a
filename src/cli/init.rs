//! `siteconf init DIR --nodes N`: writes a new project that checks (and
//! builds) as it stands. The files come from `crate::init::generate`; this
//! file only decides where they go and never leaves half a project behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::common::{fail, Global, Status};
use crate::init::{self, Options};
use crate::syntax::Format;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SiteFormat {
    #[default]
    Kdl,
    Toml,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Same arguments, same files: the output depends on nothing else.\n\
                  Example: siteconf init dc1 --nodes 200 && siteconf -C dc1 check"
)]
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
    /// Write into a non-empty directory, replacing files of the same names.
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
    let generated = match init::generate(&opts) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}\n  help: {}", e.message, e.help);
            return Status::Error;
        }
    };
    let dir = match &g.dir {
        Some(base) => base.join(&args.target),
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
    let written = match existing {
        None => write_new_dir(&dir, &generated.files),
        Some(0) => write_into(&dir, &generated.files),
        Some(n) if !args.force => {
            eprintln!(
                "error: {} is not empty ({n} entries); refusing to write a project into it\n  \
                 help: choose a new directory, or pass --force to replace files of the same names",
                dir.display()
            );
            return Status::Error;
        }
        Some(_) => {
            let stale = stale_site_files(&dir, &generated.files);
            let r = write_into(&dir, &generated.files);
            if r.is_ok() && !stale.is_empty() {
                eprintln!(
                    "warning: {} site file(s) that init did not write are still in {} and will be \
                     read by `siteconf check`, e.g. {}",
                    stale.len(),
                    dir.display(),
                    stale.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                );
            }
            r
        }
    };
    if let Err(e) = written {
        return fail(format!(
            "cannot write the project to {}: {e} (nothing was left behind)",
            dir.display()
        ));
    }
    eprintln!(
        "created {} files in {}: {} nodes ({} control, {} compute, {} storage) in {} rack{}, {} site files",
        generated.files.len(),
        dir.display(),
        args.nodes,
        generated.control,
        generated.compute,
        generated.storage,
        generated.racks,
        if generated.racks == 1 { "" } else { "s" },
        match opts.format {
            Format::Kdl => "KDL",
            Format::Toml => "TOML",
        }
    );
    eprintln!("next: siteconf -C {} check", dir.display());
    Status::Ok
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
        for (path, contents) in files {
            let p = tmp.join(path);
            if let Some(d) = p.parent() {
                fs::create_dir_all(d)?;
            }
            fs::write(&p, contents)?;
        }
        fs::rename(&tmp, dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// An existing directory is written file by file: every file first goes to
/// a temporary name beside its target, and only when all are written are
/// they renamed into place. On failure the temporaries and any directories
/// created for them are removed.
fn write_into(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (path, contents) in files {
            let target = dir.join(path);
            refuse_links_below(dir, path)?;
            if let Some(d) = target.parent() {
                let mut missing = Vec::new();
                let mut cur = Some(d);
                while let Some(c) = cur {
                    if c.exists() {
                        break;
                    }
                    missing.push(c.to_path_buf());
                    cur = c.parent();
                }
                fs::create_dir_all(d)?;
                created_dirs.extend(missing.into_iter().rev());
            }
            // Never a predictable name written through: the one temp
            // helper creates it O_EXCL | O_NOFOLLOW (a planted link there
            // is unlinked, not followed).
            let (tmp, mut f) = crate::output::fs::create_temp_beside(&target, 0o644)?;
            staged.push((tmp, target));
            io::Write::write_all(&mut f, contents.as_bytes())?;
            f.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = fs::remove_file(tmp);
        }
        for d in created_dirs.iter().rev() {
            let _ = fs::remove_dir(d);
        }
        return Err(e);
    }
    for (tmp, target) in &staged {
        fs::rename(tmp, target)?;
    }
    Ok(())
}

/// `--force` into an existing directory writes only below it: a directory
/// on the way to a file (or the file) that is a symbolic link is refused,
/// not written through.
fn refuse_links_below(dir: &Path, rel: &str) -> io::Result<()> {
    let mut cur = dir.to_path_buf();
    for c in rel.split('/') {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(io::Error::other(format!(
                    "{} is a symbolic link; init writes only regular files inside the directory",
                    cur.display()
                )))
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
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
