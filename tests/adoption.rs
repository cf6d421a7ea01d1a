//! What a new user meets in the first hour, outside the compiler: the CI
//! recipes in `docs/ci/` (valid for their platform, installing siteconf
//! from the release artefacts, one review comment edited in place, the
//! gate failing the job), the pre-commit hook (a prebuilt binary, never a
//! compile) and the pre-commit configuration `init` writes, and the
//! generated completions and man page.
//! The release .deb itself is tested by `tests/release.sh`, the README
//! quick start by `tests/readme-quickstart.sh`.

use std::path::Path;
use std::process::Command;

mod support;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn validate(exe: &Path, schema: &str, file: &Path) -> (bool, String) {
    support::verdict(
        Command::new(exe)
            .args(["--builtin-schema", schema])
            .arg(file),
    )
}

#[test]
fn ci_recipes_are_valid_for_their_platform() {
    let Some(exe) = support::check_jsonschema() else {
        return;
    };
    for (rel, schema) in [
        ("docs/ci/github-actions.yml", "vendor.github-workflows"),
        ("docs/ci/gitlab-ci.yml", "vendor.gitlab-ci"),
    ] {
        let (ok, out) = validate(&exe, schema, &repo().join(rel));
        assert!(ok, "{rel} is not a valid {schema} file:\n{out}");
    }
    // The check can fail: a misspelt key in each.
    let tmp = tempfile::tempdir().expect("tempdir");
    let gh = tmp.path().join("gh.yml");
    std::fs::write(
        &gh,
        read("docs/ci/github-actions.yml").replacen("runs-on:", "runs_on:", 1),
    )
    .expect("write");
    let (ok, out) = validate(&exe, "vendor.github-workflows", &gh);
    assert!(!ok, "a workflow with `runs_on` passed:\n{out}");
    let gl = tmp.path().join("gl.yml");
    std::fs::write(
        &gl,
        read("docs/ci/gitlab-ci.yml").replacen("  script:", "  scripts:", 1),
    )
    .expect("write");
    let (ok, out) = validate(&exe, "vendor.gitlab-ci", &gl);
    assert!(!ok, "a pipeline with `scripts:` passed:\n{out}");
}

/// Every shell line the recipe runs (GitHub `run:`, GitLab `script:` and
/// `before_script:` entries), in order.
fn shell_of(rel: &str) -> Vec<String> {
    fn walk(v: &serde_norway::Value, key: Option<&str>, out: &mut Vec<String>) {
        use serde_norway::Value as Y;
        match v {
            Y::Mapping(m) => {
                for (k, v) in m {
                    walk(v, k.as_str(), out);
                }
            }
            Y::Sequence(s) => {
                for v in s {
                    walk(v, key, out);
                }
            }
            Y::String(s) if matches!(key, Some("run" | "script" | "before_script")) => {
                out.extend(s.lines().map(str::to_string));
            }
            _ => {}
        }
    }
    let v: serde_norway::Value = serde_norway::from_str(&read(rel)).expect("recipe is YAML");
    let mut out = Vec::new();
    walk(&v, None, &mut out);
    assert!(!out.is_empty(), "{rel}: no shell lines found");
    out
}

#[test]
fn ci_recipes_install_prebuilt_check_strictly_and_keep_one_comment() {
    for (rel, edit) in [
        (
            "docs/ci/github-actions.yml",
            "gh api --method PATCH \"repos/$REPO/issues/comments/$ID\"",
        ),
        ("docs/ci/gitlab-ci.yml", "--request PUT"),
    ] {
        let lines = shell_of(rel);
        let text = lines.join("\n");
        // Installed from the release .deb, checked against its digest; never compiled.
        assert!(
            !text.contains("cargo install") && !text.contains("cargo build"),
            "{rel} compiles siteconf"
        );
        assert!(text.contains("SITECONF_DEB_URL"), "{rel}: no .deb install");
        assert!(
            text.contains("sha256sum --check"),
            "{rel}: the .deb is not verified"
        );
        // check runs strictly wherever it runs.
        let checks: Vec<&String> = lines
            .iter()
            .filter(|l| l.trim_start().starts_with("siteconf check"))
            .collect();
        assert!(!checks.is_empty(), "{rel}: no siteconf check");
        for l in checks {
            assert!(
                l.contains("--locked") && l.contains("--deny warnings"),
                "{rel}: `{l}` lacks --locked --deny warnings"
            );
        }
        // One comment: found by the marker, edited in place, else posted.
        assert!(
            text.contains("MARKER='<!-- siteconf-review -->'"),
            "{rel}: no marker"
        );
        assert!(
            text.contains("startswith"),
            "{rel}: does not look for its comment"
        );
        assert!(
            text.contains(edit),
            "{rel}: does not edit the comment in place"
        );
        // The comment holds the verdict and the diff, and the job fails when the gate blocks.
        assert!(text.contains("gate: blocked") && text.contains("cat siteconf-diff.md"));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("GATE_STATUS") && l.contains("exit 1")),
            "{rel}: a blocked gate does not fail the job"
        );
    }
}

/// The hook's script with no siteconf anywhere: it fails and says how to
/// get a prebuilt one; with one, it runs it with the hook's arguments.
#[test]
fn pre_commit_hook_runs_a_prebuilt_siteconf_or_says_how_to_get_one() {
    let hooks: serde_norway::Value =
        serde_norway::from_str(&read(".pre-commit-hooks.yaml")).expect("hooks are YAML");
    let hooks = hooks.as_sequence().expect("a list of hooks");
    let main = hooks
        .iter()
        .find(|h| h["id"].as_str() == Some("siteconf-check"))
        .expect("hook siteconf-check");
    assert_eq!(main["language"].as_str(), Some("script"));
    let entry = main["entry"].as_str().expect("entry");
    assert!(entry.ends_with("check --staged --deny warnings"), "{entry}");
    let script = repo().join(entry.split_whitespace().next().expect("script"));
    assert!(script.is_file(), "{} missing", script.display());
    for h in hooks {
        if h["language"].as_str() == Some("rust") {
            let id = h["id"].as_str().unwrap_or_default();
            assert!(
                id.contains("source"),
                "hook {id} compiles without saying so"
            );
        }
    }

    let empty = tempfile::tempdir().expect("tempdir");
    let out = Command::new("/bin/sh")
        .arg(&script)
        .args(["check", "--staged"])
        .env("PATH", empty.path())
        .env_remove("SITECONF_BIN")
        .output()
        .expect("run hook");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no siteconf found") && err.contains("apt-get install"),
        "{err}"
    );

    let out = Command::new("/bin/sh")
        .arg(&script)
        .arg("--version")
        .env("SITECONF_BIN", env!("CARGO_BIN_EXE_siteconf"))
        .output()
        .expect("run hook");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("siteconf "));
}

/// The pre-commit configuration `siteconf init` writes
/// (docs/ci/pre-commit-config.yaml) is a local hook running the installed
/// siteconf — nothing to clone or compile, so it works offline — and is the
/// hook `siteconf-check-system` of .pre-commit-hooks.yaml, field by field.
/// (tests/init.rs runs it with the real pre-commit.)
#[test]
fn pre_commit_config_is_the_published_system_hook() {
    let config: serde_norway::Value =
        serde_norway::from_str(&read("docs/ci/pre-commit-config.yaml")).expect("YAML");
    let repos = config["repos"].as_sequence().expect("repos");
    assert_eq!(repos.len(), 1);
    assert_eq!(repos[0]["repo"].as_str(), Some("local"));
    let hooks = repos[0]["hooks"].as_sequence().expect("hooks");
    assert_eq!(hooks.len(), 1);
    let local = &hooks[0];
    let published: serde_norway::Value =
        serde_norway::from_str(&read(".pre-commit-hooks.yaml")).expect("hooks are YAML");
    let system = published
        .as_sequence()
        .expect("a list of hooks")
        .iter()
        .find(|h| h["id"].as_str() == Some("siteconf-check-system"))
        .expect("hook siteconf-check-system");
    assert_eq!(local["language"].as_str(), Some("system"));
    for key in ["entry", "language", "pass_filenames", "files"] {
        assert_eq!(local[key], system[key], "{key} differs");
    }
    // No `files:` pattern: it would miss inputs it cannot know (a site's
    // sites/<site>/siteconf.lock, a custom templates-dir), so a commit
    // touching only those would go unchecked. Every hook runs on every commit.
    for hook in published.as_sequence().expect("a list of hooks") {
        assert!(hook["files"].is_null(), "{:?} filters files", hook["id"]);
    }
    let entry = local["entry"].as_str().expect("entry");
    assert!(
        entry.starts_with("siteconf check --staged") && entry.contains("--deny warnings"),
        "{entry}"
    );
}

fn siteconf(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(args)
        .output()
        .expect("run siteconf");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn completions_parse_and_know_every_command() {
    let (ok, bash) = siteconf(&["completions", "bash"]);
    assert!(ok);
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("siteconf.bash");
    std::fs::write(&f, &bash).expect("write");
    let st = Command::new("bash")
        .arg("-n")
        .arg(&f)
        .status()
        .expect("bash");
    assert!(st.success(), "bash -n rejects the completion script");
    for sub in ["check", "build", "explain", "completions", "man"] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (ok, text) = siteconf(&["completions", shell]);
        assert!(ok && text.contains("siteconf"), "{shell}");
    }
    let (ok, _) = siteconf(&["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is accepted");
}

#[test]
fn man_page_names_every_command() {
    let (ok, page) = siteconf(&["man"]);
    assert!(ok);
    assert!(page.contains(".TH siteconf 1"), "{page}");
    for sub in ["check", "build", "explain", "completions"] {
        assert!(page.contains(sub), "siteconf(1) lacks {sub}");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("man");
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success());
    for page in ["siteconf.1", "siteconf-check.1", "siteconf-explain.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} missing or empty");
    }
}
