//! What makes a generated site a project that is green and wired from its
//! first commit: the lock `siteconf lock` would write, a `.gitignore` (the
//! output, the secrets, siteconf's temporaries), the pre-commit hook, a CI
//! recipe when asked for, and the JSON Schemas the TOML files name in their
//! `#:schema` line.
//!
//! The pre-commit configuration and the CI recipes are the files of
//! `docs/ci/`, compiled in: one copy, checked by `tests/adoption.rs`.

use std::collections::BTreeMap;

use super::{Generated, InitError, SECRETS_FILE};
use crate::project::{self, Config, CONFIG_SCHEMA, SECRETS_SCHEMA, SITE_SCHEMA};
use crate::source::MemSource;

/// The CI recipe a new project gets (`siteconf init --ci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ci {
    /// None: which forge a repository will live on is not known at init.
    #[default]
    None,
    Gitlab,
    Github,
}

pub const GITLAB_CI: &str = include_str!("../../docs/ci/gitlab-ci.yml");
pub const GITHUB_ACTIONS: &str = include_str!("../../docs/ci/github-actions.yml");
pub const PRE_COMMIT_CONFIG: &str = include_str!("../../docs/ci/pre-commit-config.yaml");
pub const PRE_COMMIT_FILE: &str = ".pre-commit-config.yaml";
pub const GITIGNORE_FILE: &str = ".gitignore";

impl Ci {
    /// Where the recipe goes in the project, and its text.
    pub fn recipe(self) -> Option<(&'static str, &'static str)> {
        match self {
            Ci::None => None,
            Ci::Gitlab => Some((".gitlab-ci.yml", GITLAB_CI)),
            Ci::Github => Some((".github/workflows/siteconf.yml", GITHUB_ACTIONS)),
        }
    }
}

/// The lines of the `.gitignore` of a project whose output directory is
/// `out_dir`, with a comment before each.
pub fn gitignore_lines(out_dir: &str) -> Vec<(&'static str, String)> {
    let secrets_dir = SECRETS_FILE.split('/').next().unwrap_or(SECRETS_FILE);
    vec![
        (
            "What `siteconf build` writes: built from the site, never committed.",
            // No trailing `/`: that would match only a directory, and a
            // link named `out` could be committed (build refuses one).
            format!("/{}", out_dir.trim_matches('/')),
        ),
        (
            "Secret values (see [secrets] in siteconf.toml): never in git.",
            format!("/{secrets_dir}/"),
        ),
        (
            "Temporaries of siteconf's atomic writes; the build's stamp and the inventory's cache beside the output.",
            ".*.siteconf-*".to_string(),
        ),
    ]
}

/// The `.gitignore` `init` writes.
pub fn gitignore(out_dir: &str) -> String {
    let mut s = String::from("# Written by `siteconf init`.\n");
    for (why, line) in gitignore_lines(out_dir) {
        s.push_str(&format!("# {why}\n{line}\n"));
    }
    s
}

/// `existing` (a project's own `.gitignore`, which `init --force` keeps)
/// with the lines `init` needs that it lacks appended; `None` when it has
/// them all. A user's ignore rules are never dropped: replacing the file
/// could put their own secrets into the next commit.
pub fn merge_gitignore(existing: &str, out_dir: &str) -> Option<String> {
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<(&str, String)> = gitignore_lines(out_dir)
        .into_iter()
        .filter(|(_, line)| !have.contains(&line.as_str()))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut s = existing.to_string();
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s.push_str("# Added by `siteconf init`.\n");
    for (why, line) in missing {
        s.push_str(&format!("# {why}\n{line}\n"));
    }
    Some(s)
}

/// The files `init` writes besides the site (`generated`), in order: the
/// lock, the schemas, `.gitignore`, the pre-commit configuration and the
/// CI recipe of `ci`. The lock is what `siteconf lock` writes for the site
/// (`crate::build::lock` on the checked site: allocations and zone
/// serials), so `siteconf check --locked` passes on the first commit.
pub fn project_files(generated: &Generated, ci: Ci) -> Result<Vec<(String, String)>, InitError> {
    let mut src = MemSource::new();
    for (path, text) in &generated.files {
        src.insert(path.clone(), text.as_bytes().to_vec());
    }
    let bug = |what: &str| InitError {
        message: format!("the generated site {what} (a bug in siteconf init)"),
        help: "please report it with the command line; a smaller --nodes may work meanwhile".into(),
    };
    let project = crate::check::check_project(&src, None, false);
    if project.diags.has_errors() || project.sites.is_empty() {
        return Err(bug("does not pass `siteconf check`"));
    }
    // Each site's lock: siteconf.lock, or sites/<name>/siteconf.lock.
    let mut files = Vec::new();
    for checked in &project.sites {
        let (lock, failed) = crate::build::lock(checked, &src, BTreeMap::new());
        if failed.is_some() {
            return Err(bug("does not render its DNS zones"));
        }
        files.push((checked.loaded.config.lock_file.clone(), lock.to_text()));
    }
    let config: &Config = &project.sites[0].loaded.config;
    files.extend([
        (
            SITE_SCHEMA.to_string(),
            crate::model::schema::json_schema_text(),
        ),
        (
            CONFIG_SCHEMA.to_string(),
            project::schema_text(&crate::gate::config_json_schema()),
        ),
        (
            SECRETS_SCHEMA.to_string(),
            project::schema_text(&project::secrets_json_schema()),
        ),
        (GITIGNORE_FILE.to_string(), gitignore(&config.out_dir)),
        (PRE_COMMIT_FILE.to_string(), PRE_COMMIT_CONFIG.to_string()),
    ]);
    if let Some((path, text)) = ci.recipe() {
        files.push((path.to_string(), text.to_string()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_gitignore_keeps_its_lines_and_gains_the_missing_ones() {
        let mine = "/vault.toml\n/out\n";
        let merged = merge_gitignore(mine, "out").expect("lines are missing");
        assert!(merged.starts_with(mine), "{merged}");
        assert_eq!(merged.matches("\n/out\n").count(), 1, "{merged}");
        assert!(merged.contains("\n/secrets/\n") && merged.contains("\n.*.siteconf-*\n"));
        assert_eq!(merge_gitignore(&merged, "out"), None);
        assert_eq!(merge_gitignore(&gitignore("out"), "out"), None);
        let no_newline = merge_gitignore("/vault.toml", "out").expect("merged");
        assert!(no_newline.starts_with("/vault.toml\n#"), "{no_newline}");
    }
}
