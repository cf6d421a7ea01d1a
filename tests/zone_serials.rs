//! DNS zone serials across a series of builds, through the binary, as an
//! operator and CI see them: build, edit, build, edit, build, revert,
//! build — with and without `siteconf lock` in between, on a fresh clone,
//! and with the lock reverted too. Serials must only go forward (RFC 1982)
//! and the same input must give the same serial.

use std::fs;
use std::path::Path;

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{ok, siteconf, small_project as project};

const ZONE: &str = "site/dns/dc1.example.net.zone";
const REVERSE: &str = "site/dns/0.0.10.in-addr.arpa.zone";
const SITE: &str = "site/site.kdl";

/// The SOA serial of a zone file of the output `out`.
fn serial(dir: &Path, out: &str, zone: &str) -> u32 {
    let text = fs::read_to_string(dir.join(out).join(zone)).expect("zone file");
    let line = text
        .lines()
        .find(|l| l.contains("; serial"))
        .expect("serial line");
    line.split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .expect("serial number")
}

fn build(dir: &Path, out: &str) -> (u32, u32) {
    ok(&siteconf(dir, &["build", "--no-sync", "--out", out]));
    (serial(dir, out, ZONE), serial(dir, out, REVERSE))
}

fn edit(dir: &Path, from: &str, to: &str) {
    let p = dir.join(SITE);
    let text = fs::read_to_string(&p).expect("site");
    assert!(text.contains(from), "{from}");
    fs::write(&p, text.replacen(from, to, 1)).expect("write site");
}

fn lock_zone_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("siteconf.lock"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("zone/"))
        .map(String::from)
        .collect()
}

fn named_checkzone(dir: &Path, out: &str) {
    let Ok(zones) = fs::read_dir(dir.join(out).join("site/dns")) else {
        panic!("no zones");
    };
    for z in zones.flatten() {
        let name = z.file_name().to_string_lossy().into_owned();
        let origin = name.trim_end_matches(".zone");
        match std::process::Command::new("named-checkzone")
            .args(["-q", origin])
            .arg(z.path())
            .status()
        {
            Ok(s) => assert!(s.success(), "named-checkzone refuses {name}"),
            Err(_) => return, // not installed here: the consumer harness checks
        }
    }
}

#[test]
fn serials_only_go_forward_through_edits_and_a_revert() {
    let p = project();
    let d = p.path();
    let original = fs::read_to_string(d.join(SITE)).expect("site");

    let (f1, r1) = build(d, "out");
    let recorded = lock_zone_lines(d);
    assert!(
        recorded
            .iter()
            .any(|l| l.starts_with("zone/dc1.example.net serial ")),
        "the build records the forward zone's serial: {recorded:?}"
    );
    // Same input, same serial, and the lock is left alone. Recording the
    // serials does not make the next build render again.
    let again = siteconf(d, &["build", "--no-sync", "--out", "out"]);
    ok(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("up to date:"), "{stderr}");
    assert_eq!(build(d, "out"), (f1, r1));
    ok(&siteconf(
        d,
        &["build", "--no-sync", "--force", "--out", "out"],
    ));
    assert_eq!(serial(d, "out", ZONE), f1);
    assert_eq!(lock_zone_lines(d), recorded);

    // An edit that changes both zones: both go forward; the rebuild keeps it.
    edit(d, "ipv4=\"10.0.0.41\"", "ipv4=\"10.0.0.45\"");
    let (f2, r2) = build(d, "out");
    assert!(f2 > f1 && r2 > r1, "{f1}->{f2}, {r1}->{r2}");
    assert_eq!(build(d, "out"), (f2, r2));

    // Another edit without `siteconf lock` in between: forward again.
    edit(d, "ipv4=\"10.0.0.45\"", "ipv4=\"10.0.0.47\"");
    let (f3, r3) = build(d, "out");
    assert!(f3 > f2 && r3 > r2, "{f2}->{f3}, {r2}->{r3}");

    // Revert to the original: the zones are those of the first build, but a
    // secondary has seen f3 since: forward, not back to f1.
    fs::write(d.join(SITE), &original).expect("revert");
    let (f4, r4) = build(d, "out");
    assert!(f4 > f3 && r4 > r3, "{f3}->{f4}, {r3}->{r4}");
    assert_eq!(build(d, "out"), (f4, r4));

    // A fresh clone (CI): the site and lock as committed, no output. Same
    // serials, from the lock alone.
    let ci = project();
    fs::copy(d.join("siteconf.lock"), ci.path().join("siteconf.lock")).expect("lock");
    assert_eq!(build(ci.path(), "out"), (f4, r4));
    assert_eq!(lock_zone_lines(ci.path()), lock_zone_lines(d));

    // `siteconf lock` agrees with what the build recorded.
    let before = lock_zone_lines(d);
    ok(&siteconf(d, &["lock"]));
    assert_eq!(lock_zone_lines(d), before);

    // A revert of site *and* lock (git revert of a commit that had both)
    // on the operator's machine, whose output still has f4: forward.
    edit(d, "ipv4=\"10.0.0.41\"", "ipv4=\"10.0.0.45\"");
    let (f5, _) = build(d, "out");
    assert!(f5 > f4);
    fs::write(d.join(SITE), &original).expect("revert");
    let reverted_lock: String = fs::read_to_string(d.join("siteconf.lock"))
        .expect("lock")
        .lines()
        .filter(|l| !l.starts_with("zone/"))
        .chain(recorded.iter().map(String::as_str))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(d.join("siteconf.lock"), reverted_lock).expect("lock");
    let (f6, _) = build(d, "out");
    assert!(f6 > f5, "{f5}->{f6}");

    named_checkzone(d, "out");
}

#[test]
fn serials_go_on_from_the_lock_without_the_previous_output() {
    // Edits built into fresh output directories each time (a CI job per
    // commit with the lock committed in between): the lock alone carries
    // the serial forward.
    let p = project();
    let d = p.path();
    let (f1, _) = build(d, "a");
    edit(d, "ipv4=\"10.0.0.41\"", "ipv4=\"10.0.0.45\"");
    let (f2, _) = build(d, "b");
    edit(d, "ipv4=\"10.0.0.45\"", "ipv4=\"10.0.0.41\"");
    let (f3, _) = build(d, "c");
    assert!(f1 < f2 && f2 < f3, "{f1} {f2} {f3}");
    // Another fresh directory, same input: same serial, lock untouched.
    let lock = fs::read_to_string(d.join("siteconf.lock")).expect("lock");
    assert_eq!(build(d, "d").0, f3);
    assert_eq!(
        fs::read_to_string(d.join("siteconf.lock")).expect("lock"),
        lock
    );
}

/// `git ARGS` in `dir`, with a fixed identity; its standard output.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.net")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.net")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The serial the lock records for the forward zone.
fn lock_serial(dir: &Path) -> u32 {
    lock_zone_lines(dir)
        .iter()
        .find_map(|l| l.strip_prefix("zone/dc1.example.net serial "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a serial for dc1.example.net")
}

#[test]
fn a_merge_whose_lock_conflict_was_deleted_never_takes_serials_back() {
    // Two branches each change the zone and build: both record serial
    // f+1 (with different zones). Merging them conflicts on the zone lines;
    // an operator deletes the conflict block. The serials the branches
    // committed may have been published: the lock and the build go past
    // them, never back to what is left (or to 1).
    let p = project();
    let d = p.path();
    fs::write(d.join(".gitignore"), "out/\n").expect("gitignore");
    git(d, &["init", "-q", "-b", "main"]);
    let (f1, _) = build(d, "out");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "a"]);
    edit(d, "ipv4=\"10.0.0.41\"", "ipv4=\"10.0.0.45\"");
    let (fa, _) = build(d, "out");
    git(d, &["commit", "-q", "-am", "a"]);
    git(d, &["checkout", "-q", "main"]);
    git(d, &["checkout", "-q", "-b", "b"]);
    edit(d, "ipv4=\"10.0.0.42\"", "ipv4=\"10.0.0.46\"");
    fs::remove_dir_all(d.join("out")).expect("fresh output");
    let (fb, _) = build(d, "out");
    git(d, &["commit", "-q", "-am", "b"]);
    assert!(fa > f1 && fb == fa, "{f1} {fa} {fb}");
    git(d, &["checkout", "-q", "a"]);
    git(d, &["merge", "-q", "b"]);
    let lock = fs::read_to_string(d.join("siteconf.lock")).expect("lock");
    assert!(lock.contains("<<<<<<<"), "the zone lines conflict: {lock}");
    // The block deleted: no zone line is left.
    let mut inside = false;
    let kept: String = lock
        .lines()
        .filter(|l| {
            if l.starts_with("<<<<<<<") {
                inside = true;
            }
            let keep = !inside;
            if l.starts_with(">>>>>>>") {
                inside = false;
            }
            keep
        })
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(d.join("siteconf.lock"), &kept).expect("lock");
    ok(&siteconf(d, &["lock"]));
    let merged = lock_serial(d);
    assert!(merged > fa, "lock went back: {merged} after {fa}");
    fs::remove_dir_all(d.join("out")).expect("fresh output");
    assert_eq!(build(d, "out").0, merged);
    git(d, &["commit", "-q", "-am", "merge b"]);

    // A zone line taken from an older lock (main's, serial f1): `check`
    // says the serial is below the committed one, and `lock` repairs it.
    let old = git(d, &["show", "main:siteconf.lock"]);
    let old_zones: Vec<&str> = old.lines().filter(|l| l.starts_with("zone/")).collect();
    let lowered: String = fs::read_to_string(d.join("siteconf.lock"))
        .expect("lock")
        .lines()
        .filter(|l| !l.starts_with("zone/"))
        .chain(old_zones.iter().copied())
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(d.join("siteconf.lock"), lowered).expect("lock");
    let o = siteconf(d, &["check"]);
    let text =
        String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("SC0031"), "{text}");
    assert!(
        text.contains(&format!(
            "serial {f1}, lower than the serial {merged} committed"
        )),
        "{text}"
    );
    // The build does not go back either, even from a fresh output.
    ok(&siteconf(d, &["lock"]));
    assert!(lock_serial(d) >= merged, "{} < {merged}", lock_serial(d));
    ok(&siteconf(d, &["check"]));
}
