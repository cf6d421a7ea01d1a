//! Nothing a site, its templates or a planted symlink can do makes
//! `siteconf build` write outside the output directory.
//!
//! Bad names in site files (`..`, absolute paths, NUL, 300 characters) are
//! test cases as data (`tests/cases/unsafe-names`, `tests/cases/rule-file-names`).
//! Here: symlinks planted in and beside an existing output directory, and
//! template file names that cannot be output paths, from the working tree
//! and from a git revision (which can hold names no filesystem can).
//! Every test keeps a "victim" directory outside the output and checks
//! that not one byte, name or mode in it changed.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::process::Command;

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{ok, show, siteconf, small_project as project};

/// Everything below `root`, not following links: path → (kind, mode,
/// bytes or link target, mtime).
type Snapshot = BTreeMap<String, (char, u32, Vec<u8>, i64)>;

fn snapshot(root: &Path) -> Snapshot {
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).follow_links(false) {
        let e = e.expect("walk");
        let md = fs::symlink_metadata(e.path()).unwrap();
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        let (kind, data) = if md.is_dir() {
            ('d', Vec::new())
        } else if md.file_type().is_symlink() {
            (
                'l',
                fs::read_link(e.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            )
        } else {
            ('f', fs::read(e.path()).unwrap())
        };
        m.insert(rel, (kind, md.mode() & 0o7777, data, md.mtime()));
    }
    m
}

/// A directory beside the output (so relative links reach it too) with a file at every name a build of
/// the fixture writes into a node's or the site's directory, and a copy of
/// a siteconf manifest (so it would pass for an output directory).
fn victim(base: &Path) -> std::path::PathBuf {
    let v = base.join("victim");
    fs::create_dir_all(v.join("inventory")).unwrap();
    for f in [
        "hostname",
        "hosts",
        "manifest.json",
        "hosts.yml",
        "inventory/hosts.yml",
    ] {
        fs::write(v.join(f), format!("precious {f}\n")).unwrap();
    }
    v
}

fn is_real_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

fn is_real_file(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
}

#[test]
fn symlinks_planted_in_the_output_are_replaced_never_followed() {
    let p = project();
    let out = p.path().join("out");
    let v = victim(p.path());
    ok(&siteconf(p.path(), &["build"]));
    let reference = fs::read(out.join("nodes/r01n01/hostname")).unwrap();

    // A node's directory, a whole top-level directory and single files,
    // each replaced by a link out of the output directory (absolute and
    // relative); a dangling link where a file goes; a link to a directory
    // where a file goes.
    fs::remove_dir_all(out.join("nodes/r01n01")).unwrap();
    symlink(&v, out.join("nodes/r01n01")).unwrap();
    fs::remove_dir_all(out.join("switches")).unwrap();
    symlink(&v, out.join("switches")).unwrap();
    fs::remove_file(out.join("site/inventory/hosts.yml")).unwrap();
    symlink(
        "../../../victim/inventory/hosts.yml",
        out.join("site/inventory/hosts.yml"),
    )
    .unwrap();
    fs::remove_file(out.join("nodes/r01n02/hostname")).unwrap();
    symlink(v.join("hostname"), out.join("nodes/r01n02/hostname")).unwrap();
    fs::remove_file(out.join("nodes/r02n01/hostname")).unwrap();
    symlink(
        v.join("does-not-exist-yet"),
        out.join("nodes/r02n01/hostname"),
    )
    .unwrap();
    fs::remove_file(out.join("nodes/r02n01/hosts")).unwrap();
    symlink(&v, out.join("nodes/r02n01/hosts")).unwrap();
    let before = snapshot(&v);

    let o = siteconf(p.path(), &["build"]);
    ok(&o);
    assert_eq!(snapshot(&v), before, "the build wrote outside the output");
    assert!(!v.join("does-not-exist-yet").exists());
    for d in ["nodes/r01n01", "switches", "switches/r01-tor1"] {
        assert!(is_real_dir(&out.join(d)), "{d} is not a real directory");
    }
    for f in [
        "nodes/r01n01/hostname",
        "site/inventory/hosts.yml",
        "nodes/r01n02/hostname",
        "nodes/r02n01/hostname",
        "nodes/r02n01/hosts",
    ] {
        assert!(is_real_file(&out.join(f)), "{f} is not a regular file");
    }
    assert_eq!(
        fs::read(out.join("nodes/r01n01/hostname")).unwrap(),
        reference
    );
    // And the next build finds its own output again: nothing to do.
    let o = siteconf(p.path(), &["build"]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("up to date: "),
        "{}",
        show(&o)
    );
    assert_eq!(snapshot(&v), before);
}

#[test]
fn a_symlinked_manifest_makes_the_output_directory_untrusted() {
    let p = project();
    let out = p.path().join("out");
    let v = victim(p.path());
    ok(&siteconf(p.path(), &["build"]));
    // The manifest is what marks a directory as siteconf's to replace; a
    // link to a real one elsewhere must not count.
    fs::copy(out.join("manifest.json"), v.join("manifest.json")).unwrap();
    fs::remove_file(out.join("manifest.json")).unwrap();
    symlink("../victim/manifest.json", out.join("manifest.json")).unwrap();
    let before_v = snapshot(&v);
    let before_out = snapshot(&out);
    let o = siteconf(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("refusing to replace") && stderr.contains("manifest.json"),
        "{stderr}"
    );
    assert_eq!(snapshot(&v), before_v);
    assert_eq!(snapshot(&out), before_out);
}

#[test]
fn symlinks_planted_under_leftover_names_are_removed_not_followed() {
    let p = project();
    let out = p.path().join("out");
    let outside = tempfile::tempdir().unwrap();
    // Empty: an empty directory is one a build may replace, so a build
    // that followed a link here would write into it.
    let empty = outside.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let v = victim(outside.path());
    // No output yet; beside it, the names a killed build leaves, as links.
    symlink(&empty, p.path().join(".out.siteconf-old-1")).unwrap();
    symlink(&v, p.path().join(".out.siteconf-tmp-2")).unwrap();
    let before = snapshot(outside.path());
    ok(&siteconf(p.path(), &["build"]));
    ok(&siteconf(p.path(), &["build"]));
    // The spare tree and its journal (what the next build updates instead
    // of linking every file again), planted as links before a rebuild.
    symlink(&v, p.path().join(".out.siteconf-spare")).unwrap();
    symlink(
        v.join("journal"),
        p.path().join(".out.siteconf-spare.journal"),
    )
    .unwrap();
    fs::remove_file(p.path().join(".out.siteconf-outline")).unwrap();
    symlink(v.join("outline"), p.path().join(".out.siteconf-outline")).unwrap();
    let site = p.path().join("site/site.kdl");
    let text = fs::read_to_string(&site).unwrap();
    fs::write(&site, text.replacen("SN0101", "SN0199", 1)).unwrap();
    ok(&siteconf(p.path(), &["build"]));
    assert_eq!(snapshot(outside.path()), before);
    assert!(is_real_dir(&out));
    assert!(is_real_file(&out.join("manifest.json")));
    // What a build keeps beside its output: the stamp, the memo, the
    // outline (a real file now), the spare tree (a real directory now) and
    // its journal; nothing else.
    assert!(is_real_dir(&p.path().join(".out.siteconf-spare")));
    assert!(is_real_file(&p.path().join(".out.siteconf-outline")));
    let own = [
        ".siteconf-stamp",
        ".siteconf-memo",
        ".siteconf-outline",
        ".siteconf-spare",
        ".siteconf-spare.journal",
    ];
    let left: Vec<String> = fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("siteconf-") && !own.iter().any(|o| n.ends_with(o)))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_planted_symlink_at_the_lock_files_temporary_name_is_not_written_through() {
    let p = project();
    let v = victim(p.path());
    // The temporary name carries the pid, which is not known before the
    // process starts: plant a link at each of the next pids.
    let base = Command::new("true").spawn().unwrap().id();
    for pid in base + 1..base + 5000 {
        symlink(
            "victim/hostname",
            p.path().join(format!(".siteconf.lock.siteconf-tmp-{pid}")),
        )
        .unwrap();
    }
    let before = snapshot(&v);
    let child = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "lock"])
        .current_dir(p.path())
        .env("CI", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(snapshot(&v), before);
    assert!(is_real_file(&p.path().join("siteconf.lock")));
    if (base + 1..base + 5000).contains(&pid) {
        // The link at its pid was met, and removed rather than followed.
        let tmp = p.path().join(format!(".siteconf.lock.siteconf-tmp-{pid}"));
        assert!(fs::symlink_metadata(tmp).is_err());
    } else {
        eprintln!("note: siteconf got pid {pid}, outside the planted range");
    }
}

#[test]
fn template_file_names_that_are_not_plain_paths_are_refused() {
    for name in ["..j2", "back\\slash.j2", "new\nline.j2", "tab\there.j2"] {
        let p = project();
        let dir = p.path().join("templates/node");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), "x\n").unwrap();
        let o = siteconf(p.path(), &["build"]);
        assert_eq!(o.status.code(), Some(1), "{name:?}: {}", show(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("SC0903") && stderr.contains("nothing was written"),
            "{name:?}: {stderr}"
        );
        assert!(
            !stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{stderr:?}"
        );
        assert!(!p.path().join("out").exists(), "{name:?}");
    }
}

/// A git revision can hold a template name no filesystem can (300
/// bytes); `build --rev` refuses the path it would make.
#[test]
fn a_300_byte_template_name_from_git_is_refused() {
    let p = project();
    let repo = git2::Repository::init(p.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    let long = format!("templates/node/{}.j2", "t".repeat(300));
    let blob = repo.blob(b"x\n").unwrap();
    index
        .add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: 2,
            id: blob,
            flags: 0,
            flags_extended: 0,
            path: long.into_bytes(),
        })
        .unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("T", "t@example.net").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "long name", &tree, &[])
        .unwrap();
    let o = siteconf(p.path(), &["build", "--rev", "HEAD"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("SC0903") && stderr.contains("filesystems allow 255"),
        "{stderr}"
    );
    assert!(!p.path().join("out").exists());
}
