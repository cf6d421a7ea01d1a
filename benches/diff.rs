//! `siteconf diff` between two revisions of a 10,000-node site where a
//! profile change touches every compute node. Target: under 3 s median for
//! the whole command (both sides compiled from git objects, compared,
//! grouped, formatted).
//!
//! ```sh
//! cargo bench --bench diff            # SITECONF_BENCH_NODES=2000 for a quick run
//! ```
//!
//! The site is generated here (250 racks × 40 nodes) and committed twice
//! into a temporary repository; both sides render with the template engine
//! (`review::Engine`), as `siteconf diff` does.

#[path = "../tests/review_support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use siteconf::review::{self, format, Filter, Review};
use siteconf::source::GitProject;
use support::{with_lock, Gen, TestRepo};

/// Runs per measurement (SITECONF_BENCH_RUNS overrides).
fn runs() -> usize {
    std::env::var("SITECONF_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}

/// CPU seconds (user + system) of this process and of its waited-for
/// children, from /proc (Linux); wall time alone says little on a machine
/// shared with other work. `None` elsewhere.
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // utime, stime, cutime, cstime are fields 14–17 of the line, 12–15 of
    // `rest` (state is not numeric and was dropped). Clock ticks: 100/s.
    let tick = 100.0;
    Some((
        (f.get(10)? + f.get(11)?) / tick,
        (f.get(12)? + f.get(13)?) / tick,
    ))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Wall times and CPU time (this process and its children) of one thing
/// measured several times.
struct Stage {
    what: &'static str,
    wall: Vec<Duration>,
    cpu: f64,
}

impl Stage {
    fn new(what: &'static str) -> Stage {
        Stage {
            what,
            wall: Vec::new(),
            cpu: 0.0,
        }
    }

    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let cpu0 = cpu_seconds();
        let t = Instant::now();
        let out = f();
        self.wall.push(t.elapsed());
        if let (Some(a), Some(b)) = (cpu0, cpu_seconds()) {
            self.cpu += (b.0 - a.0) + (b.1 - a.1);
        }
        out
    }

    fn report(&self) {
        let min = self.wall.iter().min().copied().unwrap_or_default();
        let max = self.wall.iter().max().copied().unwrap_or_default();
        println!(
            "{:<44} median {:>8.1} ms  (min {:.1}, max {:.1}; {} runs; CPU {:.2} s/run)",
            self.what,
            median(self.wall.clone()).as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            self.wall.len(),
            self.cpu / self.wall.len().max(1) as f64
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing here.
    let nodes: u32 = std::env::var("SITECONF_BENCH_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let per_rack = 40;
    let racks = nodes.div_ceil(per_rack);

    let t = Instant::now();
    let mut base_gen = Gen::new(racks, per_rack);
    // SITECONF_BENCH_FORMAT=toml writes the rack files as TOML: the same
    // site through the other front end.
    base_gen.toml = std::env::var("SITECONF_BENCH_FORMAT").is_ok_and(|f| f == "toml");
    let base = with_lock(base_gen.files(), None);
    let mut head_gen = base_gen.clone();
    head_gen.permit_root_login = "prohibit-password".into();
    let head = with_lock(head_gen.files(), Some(&base));
    let repo = TestRepo::new();
    let b = repo.commit("", &base, "base");
    repo.branch("feature", b);
    repo.commit("", &head, "profile: sshd change on every compute node");
    {
        let c = repo.repo.find_commit(b).expect("base");
        repo.repo.branch("main", &c, true).expect("main");
    }
    println!(
        "setup: {} nodes in {racks} racks, {} files ({}), committed twice in {:.1} s",
        racks * per_rack,
        base.len(),
        if base_gen.toml { "TOML" } else { "KDL" },
        t.elapsed().as_secs_f64()
    );

    // The library path, stage by stage.
    let renderer = review::Engine;
    let project = GitProject::discover(repo.path()).expect("discover");
    let mut stages: Vec<Stage> = [
        "check both sides (parse … resolve)",
        "compile both sides (check + render + facts)",
        "compare + group (Review::build)",
        "format text",
        "format markdown",
        "format json",
    ]
    .into_iter()
    .map(Stage::new)
    .collect();
    let mut last = None;
    for _ in 0..runs() {
        let base_src = project.rev_source("main").expect("main");
        let head_src = project.rev_source("feature").expect("feature");
        // The check stage alone, both sides at once: what compile costs
        // before rendering and review.
        stages[0].time(|| {
            rayon::join(
                || siteconf::check::check(&base_src),
                || siteconf::check::check(&head_src),
            )
        });
        let (b, h) = stages[1]
            .time(|| review::compile_both((&base_src, "main"), (&head_src, "feature"), &renderer));
        let (b, h) = match (b, h) {
            (Ok(b), Ok(h)) => (b, h),
            _ => panic!("a side does not compile"),
        };
        let r = stages[2].time(|| Review::build(&b, &h, &Filter::default()));
        let text = stages[3].time(|| format::text::render(&r, &Default::default()));
        let md = stages[4].time(|| format::markdown::render(&r, &Default::default()));
        let json = stages[5].time(|| format::json::render(&r));
        last = Some((r, text.len(), md.len(), json.len()));
    }
    if let Some((r, text, md, json)) = &last {
        println!(
            "review: {} artifacts changed in {} group(s); largest group {} members; text {} B, markdown {} B, json {} B",
            r.changes.len(),
            r.groups.len(),
            r.groups.first().map(|g| g.len()).unwrap_or(0),
            text,
            md,
            json
        );
        assert_eq!(r.summary.nodes.changed as u32, racks * per_rack);
        // With the real renderer one profile change is a handful of groups
        // (the sshd drop-in, its copy in cloud-init user-data, the
        // manifest), however many nodes it touches.
        assert!(
            r.groups.len() <= 4,
            "{} groups for one profile change",
            r.groups.len()
        );
    }
    for s in &stages {
        s.report();
    }

    // The command as a user runs it.
    let exe = env!("CARGO_BIN_EXE_siteconf");
    for (what, args) in [
        (
            "siteconf diff main feature",
            vec!["diff", "main", "feature"],
        ),
        (
            "siteconf diff main feature --format markdown",
            vec!["diff", "main", "feature", "--format", "markdown"],
        ),
    ] {
        let mut stage = Stage::new(what);
        for _ in 0..runs() {
            let out = stage.time(|| {
                Command::new(exe)
                    .args(&args)
                    .current_dir(repo.path())
                    .env("CI", "true")
                    .output()
                    .expect("run siteconf")
            });
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        stage.report();
    }
    // SITECONF_BENCH_KEEP=1 leaves the repository behind for profiling.
    if std::env::var_os("SITECONF_BENCH_KEEP").is_some() {
        let path = repo.dir.keep();
        println!("kept the repository at {}", path.display());
    }
}
