//! Several sites against one (`cargo bench --bench sites`): `check` and
//! `build` of a project of 2 × N/2 nodes (shared profiles and groups, each
//! site its own networks, racks and lock) against one site of N nodes
//! from the same generator, in the same run. The goal (issue "several
//! clusters in one mono-repo"): within 10% of each other. Prints medians
//! of several runs and the peak memory of a fresh process doing one check,
//! and `diff` of a one-node edit (one node's serial; both sides compiled
//! from memory, as `siteconf diff` compiles two git revisions): a project
//! of several sites renders only what differs, as one site does.
//!
//! N = 10,000 by default; SITECONF_BENCH_NODES to change it,
//! SITECONF_BENCH_RUNS for the number of runs (default 5). Output is
//! written under a temporary directory (put TMPDIR on a tmpfs to measure
//! the CPU side, not the disk).

mod support;
use support::{child_peak_kb, median, vm_hwm_kb};

use std::path::Path;
use std::time::Instant;

use siteconf::check::check_project;
use siteconf::init::{generate, generate_sites, Options};
use siteconf::review;
use siteconf::source::{FsSource, MemSource};
use siteconf::syntax::Format;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// One site of `nodes` under `dir`, as `siteconf init` makes it.
fn one_site(dir: &Path, nodes: u32) {
    let g = generate(&Options {
        nodes,
        racks: None,
        format: Format::Kdl,
    })
    .expect("generate");
    for (path, text) in &g.files {
        write(&dir.join(path), text);
    }
}

/// Every file under `dir`, in memory: one side of a diff.
fn mem_source(dir: &Path) -> MemSource {
    let mut m = MemSource::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.expect("walk");
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).expect("under dir");
            m.insert(
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            );
        }
    }
    m
}

/// `base` with one node's serial changed: the first `serial` line of the
/// first rack file.
fn one_node_edited(dir: &Path) -> MemSource {
    let mut racks: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.path().components().any(|c| c.as_os_str() == "racks") && e.file_type().is_file()
        })
        .map(|e| e.into_path())
        .collect();
    racks.sort();
    let rack = &racks[0];
    let text = std::fs::read_to_string(rack).expect("rack file");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("serial "))
        .expect("a serial line");
    // A serial of one more character, quoted or bare.
    let new_line = match line.strip_suffix('"') {
        Some(open) => format!("{open}X\""),
        None => format!("{line}X"),
    };
    let edited = text.replacen(line, &new_line, 1);
    let mut m = mem_source(dir);
    let rel = rack.strip_prefix(dir).expect("under dir");
    m.insert(rel.to_string_lossy().into_owned(), edited);
    m
}

/// Two sites of `nodes` each under `dir`, as `siteconf init --sites a,b`
/// makes them: profiles and groups shared, each site its own name,
/// domain, MACs and serials.
fn two_sites(dir: &Path, nodes: u32) {
    let opts = Options {
        nodes,
        racks: None,
        format: Format::Kdl,
    };
    let g = generate_sites(&opts, &["a".to_string(), "b".to_string()]).expect("generate");
    for (path, text) in &g.files {
        write(&dir.join(path), text);
    }
}

fn main() {
    if let Ok(dir) = std::env::var("SITECONF_BENCH_CHILD") {
        let p = check_project(&FsSource::new(&dir), None, false);
        assert!(!p.diags.has_errors(), "generated project has errors");
        println!("{}", vm_hwm_kb());
        return;
    }
    let n: u32 = std::env::var("SITECONF_BENCH_NODES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("SITECONF_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().expect("tempdir");
    let single = tmp.path().join("one");
    let double = tmp.path().join("two");
    one_site(&single, n);
    two_sites(&double, n / 2);
    println!(
        "sites benchmark: median of {runs} runs, {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:>16} {:>10} {:>10} {:>10} {:>16}",
        "project", "check s", "build s", "diff s", "peak MB (check)"
    );
    // `build s` is a whole fresh build (check, render, write), as
    // `siteconf build --force` into an empty directory.
    let mut checks = Vec::new();
    for (label, dir) in [
        (format!("1 x {n}"), &single),
        (format!("2 x {}", n / 2), &double),
    ] {
        let src = FsSource::new(dir);
        let mut check_t = Vec::new();
        let mut build_t = Vec::new();
        let mut diff_t = Vec::new();
        let (base, head) = (mem_source(dir), one_node_edited(dir));
        for _ in 0..runs {
            let t = Instant::now();
            let p = check_project(&src, None, false);
            check_t.push(t.elapsed().as_secs_f64());
            assert!(
                !p.diags.has_errors(),
                "{label}: generated project has errors"
            );
            let t = Instant::now();
            let out = tmp.path().join(format!("out-{}", label.replace(' ', "")));
            let _ = std::fs::remove_dir_all(&out);
            siteconf::build::build_project(&src, &out).expect("build");
            build_t.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let (b, h) = review::compile_both((&base, "base"), (&head, "head"), &review::Engine);
            if let Err(f) = b.as_ref().and(h.as_ref()) {
                panic!("{label}: a side does not compile: {:?}", f.diagnostics);
            }
            diff_t.push(t.elapsed().as_secs_f64());
        }
        let peak = child_peak_kb(dir);
        let (c, b, d) = (median(check_t), median(build_t), median(diff_t));
        checks.push((c, b, d));
        println!(
            "{label:>16} {c:>10.3} {b:>10.3} {d:>10.3} {:>16.1}",
            peak as f64 / 1024.0
        );
    }
    println!(
        "two sites / one site: check {:.2}x, build {:.2}x, diff {:.2}x (goal: within 1.10x)",
        checks[1].0 / checks[0].0,
        checks[1].1 / checks[0].1,
        checks[1].2 / checks[0].2
    );
}
