//! Several sites against one (`cargo bench --bench sites`): `check` and
//! `build` of a project of 2 × N/2 nodes (shared profiles and groups, each
//! site its own networks, racks and lock) against one site of N nodes
//! from the same generator, in the same run. The goal (issue "several
//! clusters in one mono-repo"): within 10% of each other. Prints medians
//! of several runs and the peak memory of a fresh process doing one check.
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
use siteconf::source::FsSource;
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
        "{:>16} {:>10} {:>10} {:>10}",
        "project", "check s", "build s", "peak MB (check)"
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
        }
        let peak = child_peak_kb(dir);
        let (c, b) = (median(check_t), median(build_t));
        checks.push((c, b));
        println!(
            "{label:>16} {c:>10.3} {b:>10.3} {:>10.1}",
            peak as f64 / 1024.0
        );
    }
    println!(
        "two sites / one site: check {:.2}x, build {:.2}x (goal: within 1.10x)",
        checks[1].0 / checks[0].0,
        checks[1].1 / checks[0].1
    );
}
