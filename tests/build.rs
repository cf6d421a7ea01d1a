//! `siteconf build` end to end, through the binary, on a copy of
//! `tests/fixtures/small`: what an operator relies on when the output
//! directory is deployed with rsync or Ansible.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{ok, show, siteconf, small_project as project, tree};

const SECRET: &str = "Fixture-Secret-7f3a";

/// Every file under `root`: relative path → (inode, mtime in ns).
fn identity(root: &Path) -> BTreeMap<String, (u64, i128)> {
    support::each_file(root, |_, m| {
        (
            m.ino(),
            i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        )
    })
}

#[test]
fn one_thread_and_eight_threads_write_byte_identical_trees() {
    let p = project();
    ok(&siteconf(
        p.path(),
        &["build", "--jobs", "1", "--out", "one"],
    ));
    ok(&siteconf(
        p.path(),
        &["build", "--jobs", "8", "--out", "eight"],
    ));
    let (a, b) = (tree(&p.path().join("one")), tree(&p.path().join("eight")));
    assert!(a.len() > 30, "{} files", a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, content) in &a {
        assert!(
            &b[path] == content,
            "{path} differs between --jobs 1 and --jobs 8"
        );
    }
}

#[test]
fn a_rebuild_keeps_unchanged_files_and_drops_a_removed_node() {
    let p = project();
    let out = p.path().join("out");
    let first = siteconf(p.path(), &["build"]);
    ok(&first);
    let before = identity(&out);
    assert!(before.contains_key("nodes/r02n01/hostname"));

    // Nothing changed: nothing is touched, not even the manifest; the
    // stamp says so at once, and --force, comparing every file, agrees.
    let again = siteconf(p.path(), &["build"]);
    ok(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("up to date:") && stderr.contains(" 58 files "),
        "{stderr}"
    );
    let forced = siteconf(p.path(), &["build", "--force"]);
    ok(&forced);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert!(
        stderr.contains("(0 changed, 58 unchanged, 0 removed;"),
        "{stderr}"
    );
    assert_eq!(identity(&out), before);

    // Remove node r02n01 (its block runs to the next `node`/`bgp-peer`).
    let site_path = p.path().join("site/site.kdl");
    let site = fs::read_to_string(&site_path).unwrap();
    let start = site.find("node r02n01").unwrap();
    let end = start + site[start..].find("bgp-peer").unwrap();
    fs::write(&site_path, format!("{}{}", &site[..start], &site[end..])).unwrap();
    let third = siteconf(p.path(), &["build"]);
    ok(&third);
    let after = identity(&out);
    assert!(
        !out.join("nodes/r02n01").exists(),
        "the removed node's directory must go"
    );
    assert!(!after.keys().any(|k| k.starts_with("nodes/r02n01/")));
    // r01n01's files do not depend on r02n01: same inode, same mtime.
    for (path, id) in &after {
        if path.starts_with("nodes/r01n01/") {
            assert_eq!(Some(id), before.get(path), "{path} was rewritten");
        }
    }
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(stderr.contains("13 removed"), "{stderr}");
    // No staging or old tree is left beside the output.
    let leftovers: Vec<String> = fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("siteconf-tmp") || n.contains("siteconf-old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// What a build printed as its summary (the last line of stderr).
fn summary(o: &Output) -> String {
    ok(o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    stderr.lines().last().unwrap_or_default().to_string()
}

#[test]
fn an_up_to_date_build_notices_every_change_to_inputs_or_output() {
    let p = project();
    let out = p.path().join("out");
    let build = || summary(&siteconf(p.path(), &["build"]));
    assert!(build().starts_with("built "));
    assert!(build().starts_with("up to date: "));
    let pristine = tree(&out);

    // Each change to what the build reads renders again.
    let changes: [(&str, &str, &str); 3] = [
        ("site/site.kdl", "Europe/Paris", "Europe/Berlin"),
        ("templates/node/hostname.j2", "", "{# a comment #}"),
        ("siteconf.toml", "", "\n# a comment\n"),
    ];
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/node/hostname.j2");
    fs::create_dir_all(p.path().join("templates/node")).unwrap();
    fs::copy(default, p.path().join("templates/node/hostname.j2")).unwrap();
    for (file, from, to) in changes {
        let path = p.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        let new = if from.is_empty() {
            format!("{text}{to}")
        } else {
            text.replace(from, to)
        };
        fs::write(&path, new).unwrap();
        let s = build();
        assert!(s.starts_with("built "), "after editing {file}: {s}");
        assert!(build().starts_with("up to date: "), "{file}");
    }
    let expected = tree(&out);
    assert_ne!(expected, pristine);

    // So does a secret that changes value (the file holding it is outside
    // the inputs; the environment is read on every build).
    let with_env = |v: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_siteconf"));
        c.arg("build").current_dir(p.path()).env("CI", "true");
        c.env("SITECONF_SECRET_BGP_UPSTREAM1", v);
        summary(&c.output().unwrap())
    };
    assert!(with_env("Another-Value-1").starts_with("built "));
    assert!(with_env("Another-Value-1").starts_with("up to date: "));
    assert!(with_env("Another-Value-2").starts_with("built "));
    assert!(build().starts_with("built "));
    assert_eq!(tree(&out), expected);

    // And any change to the output itself: the build repairs it. An edit
    // that keeps the size and the mtime is still seen (its ctime moved).
    let victim = out.join("nodes/r01n01/hostname");
    let meta = fs::metadata(&victim).unwrap();
    let len = meta.len() as usize;
    fs::write(&victim, "x".repeat(len)).unwrap();
    let mtime = std::time::UNIX_EPOCH
        + std::time::Duration::new(meta.mtime() as u64, meta.mtime_nsec() as u32);
    fs::File::options()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let s = build();
    assert!(s.contains("(1 changed,"), "{s}");
    fs::remove_file(out.join("nodes/r01n02/hostname")).unwrap();
    assert!(build().contains("(1 changed,"));
    fs::write(out.join("nodes/stray"), "left by hand").unwrap();
    assert!(build().contains(" 1 removed;"));
    assert_eq!(tree(&out), expected);
    assert!(build().starts_with("up to date: "));

    // --force renders and compares everything, and finds nothing to do.
    let forced = summary(&siteconf(p.path(), &["build", "--force"]));
    assert!(
        forced.contains("(0 changed,") && forced.contains(" 0 removed;"),
        "{forced}"
    );
}

#[test]
fn the_library_build_decides_whether_the_output_is_up_to_date() {
    use siteconf::build::{build, prepare, BuildOptions, BuildOutcome};
    use siteconf::render::Secrets;
    use siteconf::source::FsSource;

    let p = project();
    let src = FsSource::new(p.path());
    let out = p.path().join("out");
    let run = |secret: &str| {
        // The output directory comes from siteconf.toml (`out`).
        let prepared = prepare(&src, |config| p.path().join(&config.out_dir), false);
        assert!(!prepared.checked.diags.has_errors());
        assert_eq!(prepared.out, out);
        let opts = BuildOptions {
            secrets: Secrets::from_values([("bgp-upstream1".to_string(), secret.to_string())]),
            progress: None,
            sync: false,
        };
        build(&prepared, &src, opts).expect("build")
    };
    let written = |o: BuildOutcome| match o {
        BuildOutcome::Written(b) => b.stats,
        o => panic!("expected a build that renders, got {o:?}"),
    };
    let up_to_date = |o: BuildOutcome| match o {
        BuildOutcome::UpToDate { files } => files,
        o => panic!("expected an up-to-date output, got {o:?}"),
    };

    written(run(SECRET));
    assert_eq!(up_to_date(run(SECRET)), tree(&out).len());

    // An input edited: rendered again, then up to date again.
    let site_path = p.path().join("site/site.kdl");
    let site = fs::read_to_string(&site_path).unwrap();
    fs::write(&site_path, site.replace("Europe/Paris", "Europe/Berlin")).unwrap();
    let stats = written(run(SECRET));
    assert!(stats.changed > 0, "{stats:?}");
    up_to_date(run(SECRET));

    // A secret with another value is not up to date: the files that hold
    // it are written again.
    let stats = written(run("Another-Value-1"));
    assert!(stats.changed > 0, "{stats:?}");
    up_to_date(run("Another-Value-1"));
    assert!(
        fs::read_to_string(out.join("switches/r01-tor1/etc/frr/frr.conf"))
            .unwrap()
            .contains("Another-Value-1")
    );

    // --force: the output is not looked at, so the build renders and
    // compares every file, and finds nothing to write.
    let forced = prepare(&src, |_| out.clone(), true);
    let opts = BuildOptions {
        secrets: Secrets::from_values([(
            "bgp-upstream1".to_string(),
            "Another-Value-1".to_string(),
        )]),
        progress: None,
        sync: false,
    };
    let stats = written(build(&forced, &src, opts).expect("build"));
    assert_eq!((stats.changed, stats.removed), (0, 0));
}

#[test]
fn siteconf_toml_read_once_names_the_output_and_keeps_its_findings() {
    let p = project();
    let path = p.path().join("siteconf.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("out-dir = \"build/site\"\n{text}")).unwrap();
    ok(&siteconf(p.path(), &["build"]));
    assert!(p.path().join("build/site/manifest.json").is_file());
    assert!(!p.path().join("out").exists());
    // A mistake in it is the build's error, up to date or not.
    fs::write(
        &path,
        format!("out-dir = \"build/site\"\nout-dri = \"x\"\n{text}"),
    )
    .unwrap();
    let o = siteconf(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("invalid siteconf.toml"), "{stderr}");
}

#[test]
fn errors_in_the_site_write_nothing_and_exit_1() {
    let p = project();
    ok(&siteconf(p.path(), &["build"]));
    let before = tree(&p.path().join("out"));
    let site_path = p.path().join("site/site.kdl");
    let site = fs::read_to_string(&site_path).unwrap();
    fs::write(
        &site_path,
        site.replace("rack r02; position 3;", "rack r02; postion 3;"),
    )
    .unwrap();
    let o = siteconf(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("SC0003"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(tree(&p.path().join("out")), before);
}

#[test]
fn build_locked_refuses_a_lock_that_is_not_current_as_check_locked_does() {
    let p = project();
    // A lock that still holds a value of a node that is gone: `lock` would
    // mark it released.
    fs::write(p.path().join("siteconf.lock"), "node/gone asn 4200000050\n").unwrap();
    let first_error = |o: &Output| {
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        let at = stderr
            .find("SC0804")
            .unwrap_or_else(|| panic!("{}", show(o)));
        stderr[at..].lines().take(3).collect::<Vec<_>>().join("\n")
    };
    let built = siteconf(p.path(), &["build", "--locked"]);
    let checked = siteconf(p.path(), &["check", "--locked"]);
    assert_eq!(built.status.code(), Some(1), "{}", show(&built));
    assert_eq!(checked.status.code(), Some(1), "{}", show(&checked));
    assert_eq!(first_error(&built), first_error(&checked));
    assert!(String::from_utf8_lossy(&built.stderr).contains("nothing was written"));
    assert!(!p.path().join("out").exists());
    // Without --locked the build goes ahead and says so.
    let o = siteconf(p.path(), &["build"]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("note: siteconf.lock is not current"),
        "{}",
        show(&o)
    );
    // Once the lock is written, --locked builds, without the note.
    ok(&siteconf(p.path(), &["lock"]));
    let o = siteconf(p.path(), &["build", "--locked"]);
    ok(&o);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("not current"));
}

#[test]
fn a_missing_secret_fails_the_build_without_writing() {
    let p = project();
    fs::remove_file(p.path().join("secrets.toml")).unwrap();
    fs::write(p.path().join("siteconf.toml"), "").unwrap();
    let o = siteconf(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("SC0902"), "{stderr}");
    assert!(stderr.contains("SITECONF_SECRET_BGP_UPSTREAM1"), "{stderr}");
    assert!(!p.path().join("out").exists());
}

#[test]
fn the_secret_lands_only_in_the_switch_that_uses_it_with_mode_0600() {
    let p = project();
    // From the environment this time (it wins over the file).
    let o = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["build", "--format", "json"])
        .current_dir(p.path())
        .env("CI", "true")
        .env("SITECONF_SECRET_BGP_UPSTREAM1", "Env-Secret-91c2")
        .output()
        .unwrap();
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        !stdout.contains("Env-Secret") && !stdout.contains(SECRET),
        "{stdout}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("json summary");
    assert_eq!(summary["files"], 58);
    let files = tree(&p.path().join("out"));
    let holders: Vec<(&String, u32)> = files
        .iter()
        .filter(|(_, (_, b))| String::from_utf8_lossy(b).contains("Env-Secret-91c2"))
        .map(|(p, (m, _))| (p, *m))
        .collect();
    assert_eq!(
        holders,
        vec![(&"switches/r01-tor1/etc/frr/frr.conf".to_string(), 0o600)]
    );
    assert!(!files
        .values()
        .any(|(_, b)| String::from_utf8_lossy(b).contains(SECRET)));
}

#[test]
fn a_directory_that_is_not_a_siteconf_output_is_not_replaced() {
    let p = project();
    let mine = p.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let o = siteconf(p.path(), &["build", "--out", "mine"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("refusing to replace"), "{stderr}");
    assert_eq!(
        fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn out_may_be_absolute_or_relative_to_the_current_directory() {
    let p = project();
    let elsewhere = tempfile::tempdir().unwrap();
    // Run from elsewhere with -C: --out is relative to the current directory.
    let o = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .arg("-C")
        .arg(p.path())
        .args(["build", "--out", "rel-out"])
        .current_dir(elsewhere.path())
        .env("CI", "true")
        .output()
        .unwrap();
    ok(&o);
    assert!(elsewhere.path().join("rel-out/manifest.json").is_file());
    let abs = elsewhere.path().join("abs-out");
    let o = siteconf(p.path(), &["build", "--out", abs.to_str().unwrap()]);
    ok(&o);
    assert!(abs.join("manifest.json").is_file());
}
