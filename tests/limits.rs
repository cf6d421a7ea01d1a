//! Size limits, through the binary: a 50 MB site file, a file over the
//! 256 MiB limit, a 10,000-long chain (and cycle) of profile includes and
//! deeply nested documents. Each either works in bounded memory or stops
//! with a diagnostic that names the file and the limit; none overflows a
//! stack (the main thread has 8 MiB, rayon's workers 2 MiB).
//!
//! The 100,000-node figures (time, memory) are measured on the release
//! binary, not here: a debug build would take minutes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{command, show, siteconf};

/// Runs siteconf and returns its output and its peak resident memory in
/// bytes (from wait4's rusage, for this child alone).
fn siteconf_rss(dir: &Path, args: &[&str]) -> (Output, u64) {
    let child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn siteconf");
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child cannot block on them.
    let mut child = child;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).unwrap();
        v
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `child` is not waited on again.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        panic!("siteconf was killed by signal {}", libc::WTERMSIG(status));
    };
    let o = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(code << 8),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    };
    (o, usage.ru_maxrss as u64 * 1024)
}

/// A project whose site is one file made of everything `siteconf init`
/// writes for `nodes` nodes, plus `pad` bytes of comment lines before the
/// end.
fn one_file_site(nodes: usize, pad: usize) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["init", "p", "--nodes", &nodes.to_string()])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let p = tmp.path().join("p");
    let mut text = String::new();
    let mut files: Vec<_> = walkdir::WalkDir::new(p.join("site"))
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    for f in &files {
        text.push_str(&fs::read_to_string(f).unwrap());
        fs::remove_file(f).unwrap();
    }
    let line = format!("// {}\n", "padding ".repeat(12));
    for _ in 0..pad / line.len() {
        text.push_str(&line);
    }
    fs::remove_dir_all(p.join("site")).unwrap();
    fs::create_dir(p.join("site")).unwrap();
    (tmp, text)
}

#[test]
fn a_50_mb_site_file_is_checked_in_bounded_memory() {
    let (tmp, mut text) = one_file_site(2000, 50 << 20);
    // A mistake on the last line: the diagnostic must find its line in
    // 50 MB of text.
    text.push_str("node late01 { rack no-such-rack; position 1; role compute; }\n");
    let lines = text.lines().count();
    assert!(text.len() >= 50_000_000, "{} bytes", text.len());
    let p = tmp.path().join("p");
    fs::write(p.join("site/site.kdl"), &text).unwrap();
    drop(text);
    let (o, rss) = siteconf_rss(&p, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("SC0201"), "{stderr}");
    assert!(
        stderr.contains(&format!("site/site.kdl:{lines}:")),
        "the diagnostic does not point at line {lines}: {stderr}"
    );
    assert!(stderr.contains("2001 nodes"), "{stderr}");
    eprintln!("check of a 50 MB site file: peak RSS {} MiB", rss >> 20);
    assert!(rss < 1 << 30, "peak RSS {} MiB for a 50 MB file", rss >> 20);
}

#[test]
fn a_site_file_over_the_limit_is_refused_by_name_before_it_is_read() {
    let (tmp, text) = one_file_site(4, 0);
    let p = tmp.path().join("p");
    fs::write(p.join("site/site.kdl"), &text).unwrap();
    // A sparse file one byte over 256 MiB: costs no disk, and must not
    // be read (a read would take seconds and 256 MiB of memory).
    let big = fs::File::create(p.join("site/huge.kdl")).unwrap();
    big.set_len((256 << 20) + 1).unwrap();
    let (o, rss) = siteconf_rss(&p, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("SC0008"), "{stderr}");
    let o = siteconf(&p, &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("cannot read site/huge.kdl: the file has 268435457 bytes, more than the 256 MiB siteconf reads from one file"),
        "{stdout}"
    );
    assert!(
        rss < 128 << 20,
        "peak RSS {} MiB: the file was read",
        rss >> 20
    );
    let o = siteconf(&p, &["build"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!p.join("out").exists());
}

/// `profile p0 { include p1; }` … `profile p9999 { … }`, every node on p0.
fn chain(dir: &Path, n: usize, last: &str) {
    let mut t = String::new();
    for i in 0..n - 1 {
        t.push_str(&format!("profile p{i} {{ include p{}; }}\n", i + 1));
    }
    t.push_str(&format!("profile p{} {{ {last} }}\n", n - 1));
    fs::write(dir.join("site/chain.kdl"), t).unwrap();
}

/// The small fixture with its first node's profile replaced by `p0`, the
/// head of the chain [`chain`] writes.
fn small_project() -> tempfile::TempDir {
    let dir = support::small_project();
    let site = dir.path().join("site/site.kdl");
    let text = fs::read_to_string(&site).unwrap();
    fs::write(&site, text.replace("profiles base", "profiles p0")).unwrap();
    dir
}

#[test]
fn a_10000_long_profile_chain_checks_builds_and_explains() {
    let p = small_project();
    chain(p.path(), 10_000, "include base; packages deep-chain;");
    let o = siteconf(p.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = siteconf(p.path(), &["explain", "r01n01", "packages"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("site/chain.kdl:10000:") && stdout.contains("(profile p9999)"),
        "{stdout}"
    );
    let o = siteconf(p.path(), &["build", "--no-sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Inherited through all 10,000 profiles: the package and the repo of
    // `base` at the end of the chain.
    let hosts = fs::read_to_string(p.path().join("out/site/inventory/hosts.yml")).unwrap();
    assert!(hosts.contains("profile_p9999"));
    assert!(p
        .path()
        .join("out/nodes/r01n01/etc/apt/sources.list.d/debian.sources")
        .is_file());
}

#[test]
fn a_10000_long_profile_cycle_is_one_readable_diagnostic() {
    let p = small_project();
    chain(p.path(), 10_000, "include p0;");
    let o = siteconf(p.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("SC0701").count(), 1, "{stderr}");
    assert!(
        stderr.contains("profile cycle: p0 → p1 → ")
            && stderr.contains("9936 more place(s) not shown; `--format json` lists every one"),
        "{stderr}"
    );
    assert!(
        stderr.len() < 100_000,
        "{} bytes of diagnostics",
        stderr.len()
    );
    let o = siteconf(p.path(), &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let labels = v
        .as_array()
        .or_else(|| v["diagnostics"].as_array())
        .and_then(|d| d.iter().find(|d| d["code"] == "SC0701"))
        .map(|d| d["labels"].as_array().unwrap().len());
    assert_eq!(labels, Some(10_000), "{v}");
}

#[test]
fn deeply_nested_documents_are_a_diagnostic_not_a_stack_overflow() {
    let p = small_project();
    chain(p.path(), 1, "include base;");
    let deep = 100_000;
    // KDL: children blocks nested far beyond the parser's 256.
    let kdl = format!(
        "group g {{ vars {{ {} x 1; {} }} }}\n",
        "a { ".repeat(deep),
        "} ".repeat(deep)
    );
    fs::write(p.path().join("site/deep.kdl"), kdl).unwrap();
    let o = siteconf(p.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nesting too deep"),
        "{}",
        show(&o)
    );
    fs::remove_file(p.path().join("site/deep.kdl")).unwrap();
    // TOML: arrays, inline tables and dotted keys nested as deep.
    for toml in [
        format!(
            "[group.g.vars]\na = {}1{}\n",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
        format!(
            "[group.g.vars]\na = {}1{}\n",
            "{ b = ".repeat(deep),
            " }".repeat(deep)
        ),
        format!("[group.g.vars]\n{} = 1\n", vec!["a"; deep].join(".")),
    ] {
        fs::write(p.path().join("site/deep.toml"), &toml).unwrap();
        let o = siteconf(p.path(), &["check"]);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("SC0001"),
            "{}",
            show(&o)
        );
    }
    fs::remove_file(p.path().join("site/deep.toml")).unwrap();
    // Just inside the KDL limit, in a node's vars: merged, resolved and
    // rendered into host_vars on rayon's 2 MiB worker stacks.
    let depth = 250;
    let vars = format!(
        "vars {{ {} x 1; {} }}",
        "a { ".repeat(depth),
        "} ".repeat(depth)
    );
    let site = p.path().join("site/site.kdl");
    let text = fs::read_to_string(&site).unwrap();
    fs::write(
        &site,
        text.replacen("profiles p0", &format!("profiles p0; {vars}"), 1),
    )
    .unwrap();
    let o = siteconf(p.path(), &["build", "--no-sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let host_vars = fs::read_to_string(
        p.path()
            .join("out/site/inventory/host_vars/r01n01.dc1.example.net.yml"),
    )
    .unwrap();
    assert!(host_vars.contains("x: 1"), "{host_vars}");
}

/// Many copies of one mistake: the first 100 of a code per file are
/// kept and one summary counts the rest, so memory and output stay small.
/// Lines separated by U+2028 are lines (the KDL spec's newlines): every
/// finding names its own line, not "line 1".
#[test]
fn a_million_identical_mistakes_are_capped_and_counted() {
    for sep in ["\n", "\u{2028}"] {
        let p = support::small_project();
        // 200,000 here (a debug build runs it); docs/security.md has the
        // million-line figures of a release build.
        let n = 200_000;
        fs::write(
            p.path().join("site/noise.kdl"),
            "a {}".to_string() + &format!("{sep}a {{}}").repeat(n - 1) + sep,
        )
        .unwrap();
        let (o, rss) = siteconf_rss(p.path(), &["check", "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let noise: Vec<&serde_json::Value> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"] == "site/noise.kdl")
            .collect();
        assert_eq!(noise.len(), 101, "{sep:?}: 100 findings and one summary");
        let lines: Vec<u64> = noise.iter().map(|d| d["line"].as_u64().unwrap()).collect();
        assert_eq!(lines[..3], [1, 2, 3], "{sep:?}: {lines:?}");
        let summary = noise.last().unwrap();
        assert_eq!(summary["code"], "SC0002");
        assert_eq!(summary["line"], 101, "the first one not shown");
        assert!(
            summary["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{} more SC0002 finding(s)", n - 100)),
            "{summary}"
        );
        eprintln!("{sep:?}: peak RSS {} MiB", rss >> 20);
        assert!(rss < 1 << 30, "peak RSS {} MiB", rss >> 20);
        // The text report says how many there were, and stays short.
        let o = siteconf(p.path(), &["check"]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(&format!("{n} error(s)")), "{stderr}");
        assert!(
            o.stderr.len() < 200_000,
            "{} bytes of report",
            o.stderr.len()
        );
    }
}
