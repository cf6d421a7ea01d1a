//! Benchmark of `siteconf build` at fleet scale (run: `cargo bench --bench build`).
//!
//! Generates a site in memory (racks of 40 nodes, two ToRs per rack, two
//! spines; every node routed with two unnumbered sessions, a management
//! address, loopbacks, a repo, SSH keys), then for each size measures the
//! median of several runs of:
//!
//! - check: load, validate, resolve (what `siteconf check` costs);
//! - render: check's result → the in-memory output set;
//! - build fresh: what `siteconf build` runs ([`siteconf::build::prepare`]
//!   and [`siteconf::build::build`]): check, then render streamed a chunk
//!   of devices at a time into the atomic writer, into a directory that
//!   does not exist yet (with and without the final `syncfs`);
//! - rebuild: what `siteconf build` does when nothing changed since the
//!   last build: check while walking the output for the stamp, digest the
//!   inputs, find the stamp current (nothing is rendered, read or written):
//!   the library's decision, `BuildOutcome::UpToDate`;
//! - forced rebuild (`--force`): check + render + write over the previous
//!   output, nothing changed (every file is compared, none written);
//! - floor: writing the same bytes to the same paths with plain `std::fs`,
//!   one thread, no sync: what any tool must at least spend.
//!
//! on the work disk (a directory under `target/`) and on `/dev/shm`, and
//! prints a table, then the peak memory (VmHWM). Sizes: 1,000 and 10,000
//! nodes; `SITECONF_BENCH_NODES=1000,10000,100000` chooses others,
//! `SITECONF_BENCH_RUNS=N` the number of runs per figure and
//! `SITECONF_BENCH_DISKS=shm` (or `disk`) where to write, and
//! `SITECONF_BENCH_DUMP=DIR` writes the generated site instead (to time
//! the `siteconf` binary on it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use siteconf::build::{build, prepare, BuildOptions, BuildOutcome};
use siteconf::check::{check, Checked};
use siteconf::output::write::{write, WriteOptions};
use siteconf::output::OutputSet;
use siteconf::render::{render, RenderOptions, Secrets};
use siteconf::source::MemSource;

const NODES_PER_RACK: usize = 40;
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUh/byqEvhj7x04R/xs6P3Ldn2nkW9Icr1GVAj5FJXR";

fn ip4(base: u32, i: usize) -> String {
    let n = base + i as u32;
    format!(
        "{}.{}.{}.{}",
        n >> 24,
        (n >> 16) & 255,
        (n >> 8) & 255,
        n & 255
    )
}

/// A site of `nodes` nodes, one file per rack plus a common file.
fn generate(nodes: usize) -> MemSource {
    let racks = nodes.div_ceil(NODES_PER_RACK);
    let mut src = MemSource::new();
    src.insert("siteconf.toml", "");
    let mut common = String::new();
    common.push_str(
        "site bench { domain \"bench.example.net\"; asn-pool \"4200000000-4294000000\"; dns-servers \"10.0.0.2\"; ntp-servers \"10.0.0.3\"; }\n\
         network mgmt { purpose management; ipv4 \"10.0.0.0/14\"; gateway4 \"10.0.0.1\"; reserved \"10.0.0.1-10.0.0.63\"; }\n\
         network loopbacks { purpose loopback; ipv4 \"10.128.0.0/14\"; ipv6 \"2001:db8:ffff::/48\"; reserved \"10.131.255.0-10.131.255.255\"; }\n\
         rack core { height 48; }\n",
    );
    // One port per ToR, in ranges of at most 4,096 (what a `ports` range
    // may span).
    let ports: Vec<String> = (0..2 * racks)
        .step_by(4096)
        .map(|a| format!("\"swp{}-{}\"", a + 1, (a + 4096).min(2 * racks)))
        .collect();
    for (i, name) in ["spine1", "spine2"].iter().enumerate() {
        common.push_str(&format!(
            "switch {name} {{ role spine; rack core; position {}; asn {}; loopback4 \"{}\"; ports {}; }}\n",
            48 - i,
            4_290_000_000u32 + i as u32,
            ip4(0x0A83_FF00, i + 1),
            ports.join(" ")
        ));
    }
    common.push_str(&format!(
        "profile base {{\n  repo debian {{ uris \"http://deb.debian.org/debian\"; suites bookworm bookworm-updates; components main; signed-by \"/usr/share/keyrings/debian-archive-keyring.gpg\"; }}\n  ssh-key alice {{ user ops; key \"{KEY} alice@ops\"; }}\n  ssh-key root {{ user root; key \"{KEY} root@ops\"; }}\n  sshd {{ permit-root-login \"prohibit-password\"; password-authentication #false; }}\n  packages chrony\n}}\n"
    ));
    src.insert("site/common.kdl", common);
    for r in 0..racks {
        let rack = format!("r{:04}", r + 1);
        let mut t = format!("rack {rack} {{ height 48; }}\n");
        for (k, tor) in ["tor1", "tor2"].iter().enumerate() {
            let s = 2 * r + k;
            t.push_str(&format!(
                "switch {rack}-{tor} {{ rack {rack}; position {}; asn {}; loopback4 \"{}\"; ports \"swp1-50\"; link swp49 {{ peer spine1; peer-port swp{}; }}; link swp50 {{ peer spine2; peer-port swp{}; }}; }}\n",
                48 - k,
                4_280_000_000u32 + s as u32,
                ip4(0x0A83_0000, s + 1),
                s + 1,
                s + 1
            ));
        }
        for k in 0..NODES_PER_RACK {
            let i = r * NODES_PER_RACK + k;
            if i >= nodes {
                break;
            }
            let mac = |nic: usize| {
                let n = (i << 2) | nic;
                format!(
                    "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
                    (n >> 24) & 255,
                    (n >> 16) & 255,
                    (n >> 8) & 255,
                    n & 255
                )
            };
            let role = if k % 4 == 3 { "storage" } else { "compute" };
            t.push_str(&format!(
                "node {rack}n{:02} {{ rack {rack}; position {}; role {role}; serial \"SN{i:06}\"; profiles base\n  interface eno1 {{ mac \"{}\"; switch {rack}-tor1; port swp{}; mtu 9000; }}\n  interface eno2 {{ mac \"{}\"; switch {rack}-tor2; port swp{}; mtu 9000; }}\n  interface eno3 {{ mac \"{}\"; }}\n  address mgmt interface=eno3 ipv4=\"{}\"\n  loopback ipv4=\"{}\" ipv6=\"2001:db8:ffff::{:x}:{:x}\"\n  bgp asn={} {{ session {rack}-tor1 interface=eno1; session {rack}-tor2 interface=eno2; }}\n}}\n",
                k + 1,
                k + 1,
                mac(1),
                k + 1,
                mac(2),
                k + 1,
                mac(3),
                ip4(0x0A00_0040, i),
                ip4(0x0A80_0000, i + 1),
                1 + ((i + 1) >> 16),
                (i + 1) & 0xffff,
                4_200_000_000u32 + i as u32,
            ));
        }
        src.insert(format!("site/racks/{rack}.kdl"), t);
    }
    src
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed(), r)
}

fn checked(src: &MemSource) -> Checked {
    let c = check(src);
    if c.diags.has_errors() {
        let first: Vec<String> = c.diags.iter().take(5).map(|d| d.message.clone()).collect();
        panic!("generated site does not check: {first:?}");
    }
    c
}

fn render_set(c: &Checked, src: &MemSource) -> OutputSet {
    let opts = RenderOptions {
        secrets: Secrets::none(),
        progress: None,
        ..Default::default()
    };
    match render(c, src, &opts) {
        Ok(r) => r.set,
        Err(f) => panic!("render failed: {:?}", f.diags.first()),
    }
}

/// What `siteconf build` does: check (while looking at the output), then,
/// unless the output is up to date, render and write chunk by chunk.
fn build_into(src: &MemSource, out: &Path, sync: bool, force: bool) -> BuildOutcome {
    let p = prepare(src, |_| out.to_path_buf(), force);
    if p.checked.diags.has_errors() {
        panic!("generated site does not check");
    }
    let opts = BuildOptions {
        secrets: Secrets::none(),
        progress: None,
        sync,
    };
    match build(&p, src, opts) {
        Ok(o) => o,
        Err(e) => panic!("build failed: {e:?}"),
    }
}

/// The files a build changed (it must have rendered).
fn changed(o: BuildOutcome) -> usize {
    match o {
        BuildOutcome::Written(b) => b.stats.changed,
        BuildOutcome::UpToDate { .. } => {
            panic!("a build that had to render found the output up to date")
        }
    }
}

/// The floor: the same bytes to the same paths, std::fs, one thread.
fn floor(set: &OutputSet, dir: &Path) {
    for (p, a) in &set.files {
        let path = dir.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, &a.bytes).expect("write");
    }
}

fn rm(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "?".into())
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too,
    // with nothing to prove: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    // SITECONF_BENCH_DUMP=DIR writes the generated site of the first size
    // to DIR (to time the binary itself, e.g. with /usr/bin/time -v).
    if let Some(dir) = std::env::var_os("SITECONF_BENCH_DUMP") {
        use siteconf::source::Source;
        let n = std::env::var("SITECONF_BENCH_NODES")
            .ok()
            .and_then(|s| s.split(',').next().and_then(|x| x.trim().parse().ok()))
            .unwrap_or(10_000);
        let src = generate(n);
        for p in src.list("").expect("list") {
            let path = Path::new(&dir).join(&p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, src.read(&p).expect("read").expect("exists")).expect("write");
        }
        println!("wrote a site of {n} nodes to {}", Path::new(&dir).display());
        return;
    }
    let sizes: Vec<usize> = std::env::var("SITECONF_BENCH_NODES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 10_000]);
    let runs: usize = std::env::var("SITECONF_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-build");
    let all = [
        ("shm", PathBuf::from("/dev/shm/siteconf-bench")),
        ("disk", target),
    ];
    let wanted = std::env::var("SITECONF_BENCH_DISKS").unwrap_or_else(|_| "shm,disk".into());
    let disks: Vec<_> = all
        .into_iter()
        .filter(|(d, _)| wanted.split(',').any(|w| w.trim() == *d))
        .collect();
    println!(
        "siteconf build benchmark: {} thread(s), median of {runs} run(s)",
        rayon::current_num_threads()
    );
    println!(
        "{:>6} {:>4} {:>7} {:>5} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} | {:>5} {:>5} {:>5}",
        "nodes", "disk", "files", "MB", "check", "render", "floor", "write", "wr-ns", "rewr", "build", "bld-ns", "rebld", "forced", "w/fl", "wn/fl", "b/fl"
    );
    for &n in &sizes {
        let src = generate(n);
        let mut check_t = Vec::new();
        let mut render_t = Vec::new();
        let mut set = OutputSet::default();
        for _ in 0..runs {
            let (t, c) = time(|| checked(&src));
            check_t.push(t);
            let (t, s) = time(|| render_set(&c, &src));
            render_t.push(t);
            set = s;
        }
        let (check_t, render_t) = (median(check_t), median(render_t));
        let mb = set.total_bytes() as f64 / 1e6;
        for (disk, base) in &disks {
            std::fs::create_dir_all(base).expect("bench dir");
            let out = base.join(format!("out-{n}"));
            let floor_dir = base.join(format!("floor-{n}"));
            let mut m: [Vec<Duration>; 8] = Default::default();
            for _ in 0..runs {
                rm(&floor_dir);
                m[0].push(time(|| floor(&set, &floor_dir)).0);
                rm(&floor_dir);
                // The writer alone, into a new directory, with and without syncfs.
                for (i, sync) in [(1, true), (2, false)] {
                    rm(&out);
                    let o = WriteOptions { sync, stamp: None };
                    m[i].push(time(|| write(&set, &out, o).expect("write")).0);
                }
                // The writer alone over an identical output: nothing to do.
                let (t, st) = time(|| write(&set, &out, WriteOptions::default()).expect("write"));
                assert_eq!(st.changed, 0, "a rewrite with nothing changed wrote files");
                m[3].push(t);
                // The whole build, as `siteconf build` runs it: check, then
                // render streamed into the writer (and the stamp).
                for (i, sync) in [(4, true), (5, false)] {
                    rm(&out);
                    let (t, o) = time(|| build_into(&src, &out, sync, false));
                    changed(o);
                    m[i].push(t);
                }
                // A rebuild with nothing changed: the stamp is current.
                let (t, o) = time(|| build_into(&src, &out, true, false));
                assert!(
                    matches!(o, BuildOutcome::UpToDate { .. }),
                    "the build stamp of an unchanged output is not current"
                );
                m[6].push(t);
                // The same with --force: everything rendered and compared.
                let (t, o) = time(|| build_into(&src, &out, true, true));
                assert_eq!(changed(o), 0, "a rebuild with nothing changed wrote files");
                m[7].push(t);
            }
            rm(&out);
            let m: Vec<Duration> = m.into_iter().map(median).collect();
            let r = |a: Duration| a.as_secs_f64() / m[0].as_secs_f64();
            println!(
                "{:>6} {:>4} {:>7} {:>5.0} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} | {:>5.2} {:>5.2} {:>5.2}",
                n, disk, set.len(), mb, secs(check_t), secs(render_t),
                secs(m[0]), secs(m[1]), secs(m[2]), secs(m[3]), secs(m[4]), secs(m[5]), secs(m[6]), secs(m[7]),
                r(m[1]), r(m[2]), r(m[5]),
            );
        }
    }
    println!("seconds, median of {runs}. floor: the same bytes to the same paths with std::fs, 1 thread, no sync;");
    println!("write: siteconf's atomic writer into a new dir (wr-ns: without syncfs); rewr: writer over an identical");
    println!("output; build: check+render+write into a new dir (bld-ns: without syncfs); rebld: build, nothing changed");
    println!("(check while walking the output, input digest, current build stamp); forced: the same with --force (render, compare every file).");
    println!("peak memory (VmHWM): {}", vm_hwm());
    for (_, base) in &disks {
        rm(base);
    }
}
