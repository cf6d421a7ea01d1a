//! Test cases as data: every directory under `tests/cases/` is a project
//! (site files, optional siteconf.toml / siteconf.lock) plus a `cmd` file
//! listing siteconf command lines to run in it, one per line (default:
//! `check` and `check --format json`). A case with a file `git-init` is
//! made a git repository first, its files committed on `main`, for the
//! commands that compare revisions (`gate HEAD`, `diff`); its directory
//! `head/`, if any, is then copied over the working tree (not committed),
//! so `diff HEAD` and `gate HEAD` review that change. What a user sees — exit code, stdout,
//! stderr — is compared with a reviewed snapshot `NN-<slug>.snap` in the
//! case directory; a case's file `must-not-print` lists strings (a secret
//! it holds, one a line) that no command's output may contain. Adding a case means adding files, not code:
//!
//! ```sh
//! mkdir tests/cases/my-case && …site files…
//! INSTA_UPDATE=always cargo test --test cases   # then READ the new .snap files
//! ```

use std::path::Path;
use std::process::Command;

fn slug(cmd: &str) -> String {
    let s: String = cmd
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.chars().take(60).collect()
}

fn run_case(dir: &Path) {
    let cmds = std::fs::read_to_string(dir.join("cmd"))
        .unwrap_or_else(|_| "check\ncheck --format json\n".to_string());
    let must_not_print: Vec<String> = std::fs::read_to_string(dir.join("must-not-print"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    // Commands that write (lock, build) run in a scratch copy so the case
    // directory stays as committed.
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(dir, work.path());
    if dir.join("git-init").exists() {
        git_commit(work.path());
        let head = dir.join("head");
        if head.is_dir() {
            copy_dir(&head, work.path());
        }
    }
    for (i, line) in cmds
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .enumerate()
    {
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
            .args(["--color", "never"])
            .args(&args)
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .env_remove("SITECONF_SECRETS")
            .output()
            .expect("run siteconf");
        let text = format!(
            "$ siteconf {line}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
                .replace(&work.path().display().to_string(), "<case>")
                .split('\n')
                .map(without_durations)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        // A secret the case holds (a private key's body) must not be
        // printed by any command, whatever the snapshot says.
        for secret in &must_not_print {
            assert!(
                !text.contains(secret.as_str()),
                "{}: `siteconf {line}` printed {secret:?}",
                dir.display()
            );
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(dir.join("cmd"));
        settings.bind(|| {
            insta::assert_snapshot!(format!("{:02}-{}", i + 1, slug(line)), text);
        });
    }
}

/// `git init` and one commit of every file, with a fixed author and date.
fn git_commit(dir: &Path) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"][..],
        &["commit", "-q", "-m", "case"][..],
    ] {
        let st = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "case")
            .env("GIT_AUTHOR_EMAIL", "case@example.net")
            .env("GIT_COMMITTER_NAME", "case")
            .env("GIT_COMMITTER_EMAIL", "case@example.net")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .expect("run git");
        assert!(st.success(), "git {args:?} failed in {}", dir.display());
    }
}

/// A snapshot, accepted or pending (`.snap.new`, `.pending-snap`, which
/// insta leaves beside a failing one): never part of the case's input, so
/// the commit a git case makes, and its hash in the snapshots, is the same
/// whatever failed before.
fn is_snapshot(rel: &Path) -> bool {
    let name = rel.to_string_lossy();
    name.ends_with(".snap") || name.ends_with(".snap.new") || name.ends_with(".pending-snap")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk case");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        // A case's `head/` is the change, copied after the commit.
        if rel.starts_with("head") && from.join("git-init").exists() {
            continue;
        }
        let dst = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
        } else if !is_snapshot(rel) {
            std::fs::copy(entry.path(), &dst).expect("copy");
        }
    }
}

#[test]
fn cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/cases")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no test cases found");
    let mut failed = Vec::new();
    for d in &dirs {
        let r = std::panic::catch_unwind(|| run_case(d));
        if r.is_err() {
            failed.push(
                d.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    assert!(failed.is_empty(), "failing cases: {failed:?}");
}

/// A line with every duration (`0.06s`) as `<secs>`: a build's timings
/// differ on every run, what it built does not.
fn without_durations(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_end = i;
        if int_end > start && i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let boundary = start == 0 || !b[start - 1].is_ascii_alphanumeric();
            if boundary
                && j < b.len()
                && b[j] == b's'
                && (j + 1 == b.len() || !b[j + 1].is_ascii_alphanumeric())
            {
                out.push_str("<secs>");
                i = j + 1;
                continue;
            }
        }
        if int_end > start {
            out.push_str(&line[start..int_end]);
        } else {
            let c = line[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn durations_are_masked() {
    assert_eq!(
        without_durations("in 0.06s (check 0.01s, 10.5 MB, v1.2s)"),
        "in <secs> (check <secs>, 10.5 MB, v1.2s)"
    );
}
