//! Trust boundaries, probed through the real binary: a committed symbolic
//! link, a site directory outside the project, and hostile environment
//! variables. Whatever a link points at is never read, and never printed.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{command, show, siteconf, small_project as project};

/// What a link points at: a file outside the project whose content must
/// never reach any output.
const CANARY: &str = "CANARY-d41d8cd9-outside-the-project";

fn outside_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("target-outside");
    fs::write(
        &p,
        format!("{CANARY}\nnode/r01n01 asn {CANARY}\n[secrets]\nfile = \"{CANARY}\"\n"),
    )
    .unwrap();
    p
}

/// Stages every file of the working tree (as `git add -A`): the tree
/// staged.
fn stage_all(repo: &git2::Repository) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    index.write_tree().unwrap()
}

/// Commits `tree` on top of HEAD, moving `update_ref` (`HEAD`) if given.
fn commit_on_head(repo: &git2::Repository, update_ref: Option<&str>, tree: git2::Oid) -> git2::Oid {
    let tree = repo.find_tree(tree).unwrap();
    let sig = git2::Signature::now("t", "t@example.org").unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(update_ref, &sig, &sig, "mr", &tree, &[&parent])
        .unwrap()
}

/// Commits the project as it stands on `main`, so `diff` and `gate` have a
/// base; the working tree is then changed by the test.
fn commit_all(root: &Path) {
    let repo = git2::Repository::init(root).unwrap();
    let tree = repo.find_tree(stage_all(&repo)).unwrap();
    let sig = git2::Signature::now("t", "t@example.org").unwrap();
    let c = repo
        .commit(Some("HEAD"), &sig, &sig, "base", &tree, &[])
        .unwrap();
    let commit = repo.find_commit(c).unwrap();
    repo.branch("main", &commit, true).unwrap();
    repo.set_head("refs/heads/main").unwrap();
}

/// Every command that reads the working tree.
const COMMANDS: &[&[&str]] = &[
    &["check", "--locked"],
    &["check", "--format", "json"],
    &["diff"],
    &["gate"],
    &["inventory", "--list"],
    &["explain", "r01n01"],
    &["lock"],
    &["build"],
];

fn assert_refused_everywhere(root: &Path, named: &str, why: &str) {
    for args in COMMANDS {
        let o = siteconf(root, args);
        let all = text(&o);
        assert!(
            o.status.code().is_some_and(|c| c != 0),
            "{args:?} must fail: {}",
            show(&o)
        );
        assert!(!all.contains(CANARY), "{args:?} printed the target: {all}");
        assert!(
            !all.contains("target-outside"),
            "{args:?} named the link's target: {all}"
        );
        assert!(
            all.contains(named) && all.contains(why),
            "{args:?} must name {named}: {}",
            show(&o)
        );
    }
    assert!(!root.join("out").exists(), "build wrote output");
}

/// Both streams, with the diagnostic renderer's line wrapping undone.
fn text(o: &std::process::Output) -> String {
    let raw = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    raw.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

const SYMLINK: &str = "is a symbolic link; siteconf reads only regular files inside the project";

#[test]
fn a_symlinked_lock_is_refused_by_every_command_and_its_target_never_printed() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    let target = outside_file(outside.path());
    commit_all(p.path());
    let before = fs::read(p.path().join("siteconf.lock")).ok();
    fs::remove_file(p.path().join("siteconf.lock")).ok();
    symlink(&target, p.path().join("siteconf.lock")).unwrap();
    assert_refused_everywhere(p.path(), "siteconf.lock", SYMLINK);
    // `lock` did not replace the link by a file, nor write through it.
    assert!(fs::symlink_metadata(p.path().join("siteconf.lock"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(&target).unwrap().starts_with(CANARY));
    drop(before);
}

#[test]
fn a_symlinked_config_is_refused_by_every_command() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    let target = outside_file(outside.path());
    commit_all(p.path());
    fs::remove_file(p.path().join("siteconf.toml")).unwrap();
    symlink(&target, p.path().join("siteconf.toml")).unwrap();
    assert_refused_everywhere(p.path(), "siteconf.toml", SYMLINK);
}

#[test]
fn a_site_directory_that_is_a_symlink_is_not_walked() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    commit_all(p.path());
    // The real site, moved outside, with a canary node name in it.
    fs::rename(p.path().join("site"), outside.path().join("target-outside")).unwrap();
    fs::write(
        outside.path().join("target-outside/canary.kdl"),
        format!("node \"{CANARY}\" {{}}\n"),
    )
    .unwrap();
    symlink(outside.path().join("target-outside"), p.path().join("site")).unwrap();
    assert_refused_everywhere(p.path(), "site", SYMLINK);
}

#[test]
fn a_symlinked_directory_component_on_the_way_to_a_file_is_refused() {
    // `templates/node` a link: the template directory is listed through it.
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir_all(outside.path().join("target-outside")).unwrap();
    fs::write(
        outside.path().join("target-outside/x.j2"),
        format!("{{{{ {CANARY } }}}}\n"),
    )
    .unwrap();
    fs::create_dir_all(p.path().join("templates")).unwrap();
    symlink(
        outside.path().join("target-outside"),
        p.path().join("templates/node"),
    )
    .unwrap();
    let o = siteconf(p.path(), &["build"]);
    let all = text(&o);
    assert!(!all.contains(CANARY), "{all}");
    // A link below the templates directory is never read, and an error
    // (under the site directory it is skipped with a note).
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("SC0021") && all.contains("`templates/node` is a symbolic link"),
        "{all}"
    );
}

#[test]
fn site_and_template_directories_outside_the_project_are_refused_at_the_key() {
    for (key, value) in [
        ("site-dir", "../outside"),
        ("site-dir", "/etc"),
        ("templates-dir", "../outside"),
        ("site-dir", "site/../../outside"),
    ] {
        let p = project();
        let cfg = p.path().join("siteconf.toml");
        let cfg_text = fs::read_to_string(&cfg).unwrap();
        fs::write(&cfg, format!("{key} = \"{value}\"\n{cfg_text}")).unwrap();
        for args in COMMANDS.iter().filter(|a| !matches!(a[0], "diff" | "gate")) {
            let o = siteconf(p.path(), args);
            let err = text(&o);
            assert!(
                o.status.code().is_some_and(|c| c != 0),
                "{key}={value} {args:?}: {}",
                show(&o)
            );
            assert!(
                err.contains("SC0021")
                    && err.contains(&format!("`{key}` is outside the project"))
                    && (err.contains("siteconf.toml:1:") || err.contains("\"line\": 1")),
                "{key}={value} {args:?}: {}",
                show(&o)
            );
            assert!(!err.contains("prefix not found"), "{err}");
            // The one finding: no internal marker, no empty site, no
            // "outside the site directory" for the files never read.
            assert!(
                !err.contains("\\u{0}")
                    && !err.contains("declare nothing")
                    && !err.contains("SC0071"),
                "{key}={value} {args:?}: {err}"
            );
        }
    }
}

#[test]
fn build_survives_non_utf8_environment_variables_and_never_prints_their_values() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let p = project();
    let junk = OsStr::from_bytes(b"junk-\xff-CANARYVALUE");
    // An unrelated variable that is not UTF-8: ignored.
    let o = command(p.path(), &["build"])
        .env("SOME_UNRELATED_VAR", junk)
        .env(OsStr::from_bytes(b"WEIRD_\xfe_NAME"), "x")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    assert!(!show(&o).contains("CANARYVALUE"));
    // A secret that is not UTF-8: an error naming the variable, not its value.
    let o = command(p.path(), &["build"])
        .env("SITECONF_SECRET_BGP_UPSTREAM1", junk)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("SITECONF_SECRET_BGP_UPSTREAM1") && err.contains("not valid UTF-8"),
        "{err}"
    );
    assert!(
        !show(&o).contains("CANARYVALUE") && !show(&o).contains("junk-"),
        "{err}"
    );
}

#[test]
fn temporaries_left_by_a_killed_lock_are_removed_by_the_next_run() {
    let p = project();
    // A run killed mid-write left its temporary (its pid is long gone: no
    // pid is that high).
    let stale = p.path().join(".siteconf.lock.siteconf-tmp-4999999");
    fs::write(&stale, "node/r01n01 asn 1\n").unwrap();
    let o = siteconf(p.path(), &["lock"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!stale.exists(), "the stale temporary is still there");
    let left: Vec<String> = fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("siteconf-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // What lock writes is the versioned format, and reads back clean.
    let lock = fs::read_to_string(p.path().join("siteconf.lock")).unwrap();
    assert!(lock.lines().any(|l| l == "version 1"), "{lock}");
    ok_locked(p.path());
}

fn ok_locked(root: &Path) {
    let o = siteconf(root, &["check", "--locked"]);
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn init_force_never_writes_through_a_planted_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("proj");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("README.keep"), "x").unwrap();
    symlink(victim.path(), dir.join("site")).unwrap();
    let o = command(tmp.path(), &["init", "proj", "--nodes", "4", "--force"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o).contains("is a symbolic link"), "{}", show(&o));
    assert_eq!(fs::read_dir(victim.path()).unwrap().count(), 0);
    // Nothing half-written is left either.
    assert!(!dir.join("siteconf.toml").exists());
}

/// A `.gitignore` that is a link is neither read (init keeps a user's
/// .gitignore and appends to it) nor written through.
#[test]
fn init_force_never_follows_a_planted_gitignore_link() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    let dir = tmp.path().join("proj");
    fs::create_dir_all(&dir).unwrap();
    symlink(&victim, dir.join(".gitignore")).unwrap();
    let o = command(tmp.path(), &["init", "proj", "--nodes", "4", "--force"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o).contains("is a symbolic link"), "{}", show(&o));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!dir.join("siteconf.toml").exists());
}

/// Every run of 4 characters of the fixture's secret that holds a digit
/// or an `x`, and of its upper-,
/// lower-case and reversed forms.
fn secret_fragments() -> Vec<String> {
    let v = "Fixture-Secret-7f3a";
    let forms = [
        v.to_string(),
        v.to_uppercase(),
        v.to_lowercase(),
        v.chars().rev().collect(),
        v.to_uppercase().chars().rev().collect(),
    ];
    let mut out = Vec::new();
    for f in forms {
        let c: Vec<char> = f.chars().collect();
        for w in c.windows(4) {
            let s: String = w.iter().collect();
            // Only windows of the distinctive part: `secret` and `ure-` are
            // words of any message.
            if s.chars()
                .any(|ch| ch.is_ascii_digit() || ch == 'x' || ch == 'X')
            {
                out.push(s);
            }
        }
    }
    out
}

#[test]
fn template_errors_never_print_values_derived_from_a_secret() {
    let cases = [
        // An include named by a transformed secret.
        "{% include secret(\"bgp-upstream1\")|upper %}\n",
        "{% include secret(\"bgp-upstream1\")|reverse %}\n",
        "{% include secret(\"bgp-upstream1\")[3:12] %}\n",
        // A secret used as a secret's name.
        "{{ secret(secret(\"bgp-upstream1\")) }}\n",
        "{{ secret(secret(\"bgp-upstream1\")|lower) }}\n",
        // Filters that fail on the value.
        "{{ secret(\"bgp-upstream1\")|int + [1] }}\n",
        "{{ secret(\"bgp-upstream1\")[2:] ~ undefined_thing }}\n",
        "{{ (secret(\"bgp-upstream1\")|upper)|from_nowhere }}\n",
    ];
    for tpl in cases {
        let p = project();
        let dir = p.path().join("templates/node");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("probe.txt.j2"), tpl).unwrap();
        for args in [&["build"][..], &["build", "--format", "json"][..]] {
            let o = siteconf(p.path(), args);
            let all = show(&o);
            assert_eq!(o.status.code(), Some(1), "{tpl}{all}");
            assert!(
                all.contains("SC0901") || all.contains("SC0902"),
                "{tpl}{all}"
            );
            for f in secret_fragments() {
                assert!(!all.contains(&f), "{tpl:?} leaked {f:?}:\n{all}");
            }
            assert!(!p.path().join("out").exists());
        }
    }
}

#[test]
fn output_paths_that_differ_only_in_case_are_refused() {
    let p = project();
    let dir = p.path().join("templates/node/etc");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("Motd.j2"), "a\n").unwrap();
    fs::write(dir.join("motd.j2"), "b\n").unwrap();
    let o = siteconf(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let all = text(&o);
    assert!(
        all.contains("SC0903") && all.contains("only in letter case"),
        "{all}"
    );
    assert!(!p.path().join("out").exists());
}

#[test]
fn rev_and_staged_refuse_a_symlinked_lock_with_the_same_message() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    let target = outside_file(outside.path());
    fs::remove_file(p.path().join("siteconf.lock")).ok();
    symlink(&target, p.path().join("siteconf.lock")).unwrap();
    commit_all(p.path());
    for args in [&["check", "--rev", "HEAD"][..], &["check", "--staged"][..]] {
        let o = siteconf(p.path(), args);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", show(&o));
        assert!(
            all.contains("SC0021") && all.contains(&format!("siteconf.lock: {SYMLINK}")),
            "{args:?}: {all}"
        );
        assert!(!all.contains(CANARY), "{all}");
    }
}

/// Everything `build` printed and wrote, for a canary search.
fn everything(root: &Path, o: &std::process::Output) -> String {
    let mut all = show(o);
    for e in walkdir::WalkDir::new(root.join("out"))
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            all.push_str(&String::from_utf8_lossy(&fs::read(e.path()).unwrap()));
        }
    }
    all
}

#[test]
fn a_branch_cannot_point_the_secrets_at_other_environment_variables_or_files() {
    // `[secrets] env-prefix = "R"` and a template asking for `unner-token`
    // would read RUNNER_TOKEN; an empty prefix, any variable.
    for prefix in ["R", "", "RUNNER_"] {
        let p = project();
        let cfg = p.path().join("siteconf.toml");
        let cfg_text = fs::read_to_string(&cfg).unwrap();
        fs::write(
            &cfg,
            cfg_text.replace(
                "[secrets]\n",
                &format!("[secrets]\nenv-prefix = \"{prefix}\"\n"),
            ),
        )
        .unwrap();
        let dir = p.path().join("templates/node");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("t.txt.j2"),
            "{{ secret(\"unner-token\") }} {{ secret(\"runner-token\") }} {{ secret(\"token\") }}\n",
        )
        .unwrap();
        for args in [
            &["check"][..],
            &["build"][..],
            &["build", "--format", "json"][..],
        ] {
            let o = command(p.path(), args)
                .env("RUNNER_TOKEN", CANARY)
                .env("TOKEN", CANARY)
                .output()
                .unwrap();
            let all = everything(p.path(), &o);
            assert_eq!(o.status.code(), Some(1), "{prefix:?} {args:?}: {all}");
            assert!(!all.contains(CANARY), "{prefix:?} {args:?}: {all}");
            let t = text(&o);
            assert!(
                t.contains("SC0028")
                    && (t.contains("siteconf.toml:5:") || t.contains("\"line\": 5")),
                "{prefix:?} {args:?}: {t}"
            );
        }
    }
    // `[secrets] file` naming a file outside the project: an error that
    // says where it was named, the same whether the file exists or parses.
    let outside = tempfile::tempdir().unwrap();
    let target = outside_file(outside.path());
    let not_there = outside.path().join("not-there.toml");
    let mut said = Vec::new();
    for f in [
        target.as_path(),
        not_there.as_path(),
        Path::new("/etc/passwd"),
    ] {
        let p = project();
        fs::write(
            p.path().join("siteconf.toml"),
            format!("[secrets]\nfile = \"{}\"\n", f.display()),
        )
        .unwrap();
        let o = siteconf(p.path(), &["build"]);
        let all = everything(p.path(), &o);
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(!all.contains(CANARY) && !all.contains("root:"), "{all}");
        let t = text(&o);
        assert!(
            t.contains("cannot read the secrets file named at siteconf.toml:2"),
            "{t}"
        );
        said.push(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    assert!(said.windows(2).all(|w| w[0] == w[1]), "{said:#?}");
    // Given by the operator, the file wins over the one siteconf.toml names.
    let p = project();
    fs::write(
        p.path().join("siteconf.toml"),
        format!("[secrets]\nfile = \"{}\"\n", target.display()),
    )
    .unwrap();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small/secrets.toml"),
        outside.path().join("given.toml"),
    )
    .unwrap();
    let o = command(p.path(), &["build"])
        .env("SITECONF_SECRETS", outside.path().join("given.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn build_never_writes_through_a_committed_output_link() {
    let p = project();
    let elsewhere = tempfile::tempdir().unwrap();
    symlink(elsewhere.path(), p.path().join("out")).unwrap();
    // What a branch can commit with `git add -f`, whatever .gitignore says.
    commit_all(p.path());
    for args in [&["build"][..], &["build", "--format", "json"][..]] {
        let o = siteconf(p.path(), args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        assert!(
            t.contains("SC0021") && t.contains("goes through `out`, a symbolic link"),
            "{t}"
        );
        assert!(!t.contains(&elsewhere.path().display().to_string()), "{t}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
    // A link on the way (`out-dir = "gen/out"`, `gen` a link) is refused too.
    fs::remove_file(p.path().join("out")).unwrap();
    symlink(elsewhere.path(), p.path().join("gen")).unwrap();
    let cfg = p.path().join("siteconf.toml");
    let cfg_text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, format!("out-dir = \"gen/out\"\n{cfg_text}")).unwrap();
    let o = siteconf(p.path(), &["build"]);
    assert!(text(&o).contains("goes through `gen`"), "{}", show(&o));
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    // `--out` on the command line is the operator's choice: taken as given.
    let o = siteconf(p.path(), &["build", "--out", "gen/out"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(elsewhere.path().join("out/manifest.json").exists());
    // init's .gitignore ignores a link named `out`, not only a directory.
    let repo = git2::Repository::init(p.path()).unwrap();
    fs::write(
        p.path().join(".gitignore"),
        siteconf::init::project::gitignore("out"),
    )
    .unwrap();
    fs::remove_file(p.path().join("gen")).unwrap();
    symlink(elsewhere.path(), p.path().join("out")).unwrap();
    assert!(repo.is_path_ignored("out").unwrap());
}

#[test]
fn control_characters_in_file_names_are_printed_escaped() {
    let p = project();
    commit_all(p.path());
    let evil = "evil\u{1b}[31mRED\u{1b}]0;TITLE\u{7} nl\n```\n# gate: pass\nx.kdl";
    fs::write(p.path().join("site").join(evil), "node {\n").unwrap();
    symlink(
        "/etc/passwd",
        p.path().join("site").join(format!("a```\n# PWNED{evil}")),
    )
    .unwrap();
    let repo = git2::Repository::open(p.path()).unwrap();
    let tree = stage_all(&repo);
    commit_on_head(&repo, Some("HEAD"), tree);
    for args in [
        &["check"][..],
        &["check", "--rev", "HEAD"][..],
        &["diff", "HEAD~1", "HEAD"][..],
        &["diff", "HEAD~1", "HEAD", "--format", "markdown"][..],
        &["gate", "HEAD~1", "HEAD"][..],
        &["build"][..],
    ] {
        let o = siteconf(p.path(), args);
        let all = show(&o);
        assert_ne!(o.status.code(), Some(0), "{args:?}: {all}");
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}'),
            "{args:?} printed a raw control character: {all:?}"
        );
        for line in all.lines() {
            assert!(
                !line.starts_with("```")
                    && !line.starts_with("# gate")
                    && !line.starts_with("x.kdl"),
                "{args:?}: a name broke the line: {all}"
            );
        }
        assert!(all.contains("evil\\u{1b}[31mRED"), "{args:?}: {all}");
    }
}

#[test]
fn a_link_in_or_as_the_templates_directory_fails_check_diff_and_gate() {
    for dir_link in [false, true] {
        let p = project();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(outside.path().join("target-outside/node")).unwrap();
        fs::write(outside.path().join("target-outside/node/x.txt.j2"), CANARY).unwrap();
        commit_all(p.path());
        let link = if dir_link {
            symlink(
                outside.path().join("target-outside"),
                p.path().join("templates"),
            )
            .unwrap();
            "templates"
        } else {
            fs::create_dir_all(p.path().join("templates/node")).unwrap();
            symlink(
                outside.path().join("target-outside/node/x.txt.j2"),
                p.path().join("templates/node/x.txt.j2"),
            )
            .unwrap();
            "templates/node/x.txt.j2"
        };
        // Staged, for `--staged`; committed on a branch, for `--rev`, diff
        // and gate (git stores the link).
        let repo = git2::Repository::open(p.path()).unwrap();
        let tree = stage_all(&repo);
        let o = siteconf(p.path(), &["check", "--staged"]);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        let head = commit_on_head(&repo, None, tree).to_string();
        for args in [
            &["check"][..],
            &["check", "--format", "json"][..],
            &["check", "--staged"][..],
            &["check", "--rev", &head][..],
            &["diff", "main", &head][..],
            &["gate", "main", &head][..],
            &["build"][..],
        ] {
            let o = siteconf(p.path(), args);
            let t = text(&o);
            assert_eq!(o.status.code(), Some(1), "{link} {args:?}: {}", show(&o));
            assert!(
                t.contains("SC0021") && t.contains(link) && t.contains("symbolic link"),
                "{link} {args:?}: {t}"
            );
            assert!(!t.contains(CANARY) && !t.contains("target-outside"), "{t}");
            if args[0] == "gate" {
                assert!(t.contains("gate: blocked"), "{t}");
            }
        }
        assert!(!p.path().join("out").exists());
    }
}
