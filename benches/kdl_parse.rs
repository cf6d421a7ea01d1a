//! Micro benchmark: our KDL parser against the `kdl` crate on a generated
//! ~6 MB site file shaped like real ones (racks of nodes, many small child
//! nodes such as `interface eno1 { mac "…"; switch r01-tor1; port swp1 }`).
//!
//! `cargo bench --bench kdl_parse` prints the median throughput of each
//! parser (parsing only; freeing the tree is timed separately for ours). Iterations: `KDL_BENCH_ITERS` (ours, default 21) and
//! `KDL_BENCH_REF_ITERS` (the kdl crate, default 5). Without `--bench`
//! (as under `cargo test --benches`) it only runs a quick smoke check.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use siteconf::syntax::{kdl, FileId};

/// A site file of at least `target` bytes.
fn site(target: usize) -> String {
    let mut s = String::with_capacity(target + 4096);
    s.push_str("/- kdl-version 2\n// Generated benchmark site: racks of compute nodes.\n\n");
    s.push_str(
        "site dc1 {\n    domain \"dc1.example.net\"\n    ntp \"10.0.0.1\" \"10.0.0.2\"\n}\n\n",
    );
    let mut rack = 0u32;
    while s.len() < target {
        rack += 1;
        writeln!(s, "rack r{rack:03} {{").unwrap();
        writeln!(
            s,
            "    location \"dc1/row{}\" position={}",
            rack / 20,
            rack % 20
        )
        .unwrap();
        writeln!(s, "    power-feeds 2 budget-w=12_000").unwrap();
        for tor in 1..=2 {
            writeln!(
                s,
                "    switch r{rack:03}-tor{tor} model=\"sn2410\" mgmt=(ipv4)\"10.{}.{}.{tor}\"",
                rack / 250,
                rack % 250
            )
            .unwrap();
        }
        for n in 1..=20u32 {
            let id = rack * 100 + n;
            writeln!(s, "    node r{rack:03}n{n:02} {{").unwrap();
            writeln!(s, "        profile compute-large").unwrap();
            writeln!(s, "        (serial)asset \"SN-{id:08}\"").unwrap();
            writeln!(
                s,
                "        bmc address=\"10.1.{}.{}\" user=admin vlan=100",
                rack % 250,
                n
            )
            .unwrap();
            for (i, tor) in [(1, 1), (2, 2)] {
                writeln!(
                    s,
                    "        interface eno{i} {{ mac \"52:54:00:{:02x}:{:02x}:{i:02x}\"; switch r{rack:03}-tor{tor}; port swp{n}; mtu 9000 }}",
                    rack % 256,
                    n
                )
                .unwrap();
            }
            writeln!(
                s,
                "        disk sda size=960 model=\"Samsung PM893\" role=os"
            )
            .unwrap();
            writeln!(
                s,
                "        disk nvme0n1 size=3_840 role=data wear-limit=0.8"
            )
            .unwrap();
            writeln!(s, "        labels gpu=#false tier=gold weight=1.5").unwrap();
            if n % 7 == 0 {
                writeln!(s, "        /- decommissioned #true reason=\"fan\"").unwrap();
            }
            writeln!(s, "    }}").unwrap();
        }
        writeln!(s, "}}\n").unwrap();
    }
    s
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time this thread has run, in seconds, from Linux's
/// `/proc/thread-self/schedstat` (nanoseconds on CPU, first field). CPU
/// time rather than wall time keeps the figures meaningful on a shared,
/// busy machine; `None` elsewhere, and wall time is used instead.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Median throughput in MB/s (10^6 bytes) of `iters` runs of `f`, by CPU
/// time and by wall time. The result is dropped after the clock stops:
/// this measures parsing, not freeing the tree.
fn median_mb_s<R>(bytes: usize, iters: usize, mut f: impl FnMut() -> R) -> (Option<f64>, f64) {
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..iters.max(1) {
        let c0 = thread_cpu_secs();
        let t = Instant::now();
        let result = black_box(f());
        wall.push(t.elapsed().as_secs_f64());
        if let (Some(c0), Some(c1)) = (c0, thread_cpu_secs()) {
            cpu.push(c1 - c0);
        }
        drop(result);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        bytes as f64 / 1e6 / v[v.len() / 2]
    };
    let cpu = (cpu.len() == wall.len()).then(|| median(&mut cpu));
    (cpu, median(&mut wall))
}

fn report(name: &str, iters: usize, (cpu, wall): (Option<f64>, f64)) -> f64 {
    match cpu {
        Some(cpu) => {
            println!("{name}  median {cpu:8.1} MB/s by CPU time, {wall:8.1} MB/s by wall time  ({iters} runs)");
            cpu
        }
        None => {
            println!("{name}  median {wall:8.1} MB/s by wall time  ({iters} runs)");
            wall
        }
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let text = site(if bench { 6 * 1024 * 1024 } else { 64 * 1024 });

    // Both must accept the document and agree on its size, or the numbers
    // would compare different work.
    let ours = kdl::parse(FileId(0), &text).expect("our parser accepts the benchmark site");
    let theirs = ::kdl::KdlDocument::parse_v2(&text).expect("the kdl crate accepts it");
    assert_eq!(ours.nodes.len(), theirs.nodes().len());
    if !bench {
        println!(
            "kdl_parse: smoke check ok ({} bytes); run `cargo bench --bench kdl_parse` for figures",
            text.len()
        );
        return;
    }

    let iters = env_usize("KDL_BENCH_ITERS", 21);
    let ref_iters = env_usize("KDL_BENCH_REF_ITERS", 5);
    println!(
        "document: {:.2} MB, {} top-level nodes",
        text.len() as f64 / 1e6,
        ours.nodes.len()
    );
    let ours = median_mb_s(text.len(), iters, || {
        kdl::parse(FileId(0), black_box(&text)).ok()
    });
    let ours_mb_s = report("siteconf::syntax::kdl", iters, ours);
    // For the record, what a caller pays when it also frees the tree.
    let ours_with_drop = median_mb_s(text.len(), iters, || {
        drop(kdl::parse(FileId(0), black_box(&text)));
    });
    report("  same, incl. drop   ", iters, ours_with_drop);
    let theirs = median_mb_s(text.len(), ref_iters, || {
        ::kdl::KdlDocument::parse_v2(black_box(&text)).ok()
    });
    let theirs_mb_s = report("kdl 6.7.1 parse_v2   ", ref_iters, theirs);
    println!("speed-up: {:.1}x", ours_mb_s / theirs_mb_s);
}
