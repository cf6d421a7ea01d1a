//! Benchmark of `siteconf check` on sites from `siteconf init`
//! (`cargo bench --bench check`). Prints, per size and format, the median
//! wall time of the whole check (and of load = discover+parse+lower alone)
//! over several runs, the peak memory of a fresh process running one
//! check, and the time per node, so linear growth is visible.
//!
//! Sizes: 1,000 and 10,000 nodes; 100,000 too with SITECONF_BENCH_LARGE=1.
//! Target (issue "siteconf check"): 10,000 nodes under 0.3 s median and
//! under 200 MB peak on a 2-core machine.

mod support;
use support::{child_peak_kb, median, vm_hwm_kb};

use std::path::Path;
use std::time::Instant;

use siteconf::check::check;
use siteconf::init::{generate, Options};
use siteconf::source::FsSource;
use siteconf::syntax::Format;

fn write_site(dir: &Path, nodes: u32, format: Format) {
    let g = generate(&Options {
        nodes,
        racks: None,
        format,
    })
    .expect("generate");
    for (path, text) in &g.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

fn main() {
    // Child mode: one check in a fresh process, report peak memory.
    if let Ok(dir) = std::env::var("SITECONF_BENCH_CHILD") {
        let c = check(&FsSource::new(&dir));
        assert!(!c.diags.has_errors(), "generated site has errors");
        println!("{}", vm_hwm_kb());
        return;
    }
    let mut sizes = vec![1_000u32, 10_000];
    if std::env::var_os("SITECONF_BENCH_LARGE").is_some() {
        sizes.push(100_000);
    }
    let runs: usize = std::env::var("SITECONF_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    println!(
        "check benchmark: median of {runs} runs, {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:>8} {:>5} {:>9} {:>10} {:>10} {:>10} {:>12} {:>10}",
        "nodes", "fmt", "MB", "load s", "resolve s", "check s", "µs/node", "peak MB"
    );
    for &n in &sizes {
        for (fmt, name) in [(Format::Kdl, "kdl"), (Format::Toml, "toml")] {
            let dir = tmp.path().join(format!("{n}-{name}"));
            write_site(&dir, n, fmt);
            let bytes: u64 = walkdir::WalkDir::new(dir.join("site"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum();
            let src = FsSource::new(&dir);
            let mut load_t = Vec::new();
            let mut resolve_t = Vec::new();
            let mut check_t = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                let mut d = siteconf::diag::Diagnostics::new();
                let loaded = siteconf::project::load(&src, &mut d);
                load_t.push(t.elapsed().as_secs_f64());
                // Resolution alone: merge every node and allocate every
                // `auto` value from an empty lock (the generated site has none).
                let t = Instant::now();
                let r = siteconf::resolve::resolve(
                    &loaded.site,
                    &loaded.index,
                    None,
                    &Default::default(),
                    false,
                    &mut d,
                );
                resolve_t.push(t.elapsed().as_secs_f64());
                drop(r);
                drop(loaded);
                let t = Instant::now();
                let c = check(&src);
                check_t.push(t.elapsed().as_secs_f64());
                assert!(!c.diags.has_errors(), "generated site has errors");
            }
            let peak = child_peak_kb(&dir);
            let c = median(check_t);
            println!(
                "{:>8} {:>5} {:>9.1} {:>10.3} {:>10.3} {:>10.3} {:>12.1} {:>10.1}",
                n,
                name,
                bytes as f64 / 1e6,
                median(load_t),
                median(resolve_t),
                c,
                c * 1e6 / n as f64,
                peak as f64 / 1024.0
            );
        }
    }
}
