//! `siteconf build` killed at random moments: the output directory is
//! always the complete previous build or the complete new one, never a
//! mix, and the next build cleans up after the killed ones by itself.
//!
//! The site flips between two variants, A and B, that differ in every
//! node's files (the time zone) and in which nodes exist (a node of A is
//! gone in B, which has one of its own), so a build adds, changes and
//! removes files. Reference trees of A and B are built once; then each run
//! flips the site, starts a build, and kills it (SIGKILL, SIGTERM or
//! SIGINT) after a random delay spread over the length of a build. The seed
//! is printed; `SITECONF_KILL_SEED=N` repeats a run.
//!
//! The killed builds run with `--no-sync`: flushing to disk only matters
//! for a power loss, and without it the shared test machine's disk does
//! not set the pace, so the kills spread over the steps that do matter
//! here (staging, swap, clean-up); the recovery build at the end syncs.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

#[allow(dead_code)] // the docs helpers are for other tests
mod support;
use support::{command, ok, small_project as project};

/// How many builds are killed.
const RUNS: usize = 24;
/// Racks of 40 nodes added to the small fixture (≈ 2,000 files).
const RACKS: usize = 5;

/// The two variants of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    A,
    B,
}

impl Variant {
    fn other(self) -> Variant {
        match self {
            Variant::A => Variant::B,
            Variant::B => Variant::A,
        }
    }
}

/// Writes the site files of a variant: the time zone in `site.kdl` (every
/// node's cloud-init changes), and one node that exists only in A or only
/// in B (its directory appears or disappears).
fn set_variant(dir: &Path, v: Variant) {
    let site_path = dir.join("site/site.kdl");
    let site = fs::read_to_string(&site_path).unwrap();
    let (from, to) = match v {
        Variant::A => ("Europe/Berlin", "Europe/Paris"),
        Variant::B => ("Europe/Paris", "Europe/Berlin"),
    };
    fs::write(&site_path, site.replace(from, to)).unwrap();
    let (name, i) = match v {
        Variant::A => ("only-in-a", 250),
        Variant::B => ("only-in-b", 251),
    };
    fs::write(
        dir.join("site/variant.kdl"),
        format!(
            "node {name} {{ rack g00; position 41; role compute; profiles base\n  interface eno3 {{ mac \"52:54:01:ff:00:{i:02x}\"; }}\n  address mgmt interface=eno3 ipv4=\"10.0.3.{i}\"\n}}\n"
        ),
    )
    .unwrap();
}

/// Appends racks of 40 plain nodes to the project's site (enough files
/// that a build spends real time writing).
fn grow(dir: &Path, racks: usize) {
    let mut t = String::new();
    for r in 0..racks {
        t.push_str(&format!("rack g{r:02} {{ height 42; }}\n"));
        for k in 0..40 {
            let i = r * 40 + k;
            t.push_str(&format!(
                "node g{r:02}n{k:02} {{ rack g{r:02}; position {}; role compute; profiles base\n  interface eno3 {{ mac \"52:54:01:00:{:02x}:{:02x}\"; }}\n  address mgmt interface=eno3 ipv4=\"10.0.{}.{}\"\n}}\n",
                k + 1,
                i >> 8,
                i & 255,
                1 + (i >> 8),
                i & 255,
            ));
        }
    }
    fs::write(dir.join("site/grown.kdl"), t).unwrap();
}

/// One entry of a tree: a directory (mode) or a regular file (mode,
/// bytes). Anything else (a symlink…) is recorded as such, so it differs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir(u32),
    File(u32, Vec<u8>),
    Other,
}

/// Everything below `root` (not following links): relative path → entry.
/// `None` when `root` does not exist.
fn tree(root: &Path) -> Option<BTreeMap<String, Entry>> {
    if fs::symlink_metadata(root).is_err() {
        return None;
    }
    let mut map = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(root).unwrap();
        let rel = rel.to_string_lossy().into_owned();
        let m = e.metadata().unwrap();
        let mode = m.mode() & 0o7777;
        let entry = if m.is_dir() {
            Entry::Dir(mode)
        } else if m.is_file() {
            Entry::File(mode, serial_free(&rel, fs::read(e.path()).unwrap()))
        } else {
            Entry::Other
        };
        map.insert(rel, entry);
    }
    Some(map)
}

/// A file with the DNS zone serials taken out: a zone's serial moves
/// forward on every change, so A built after B is A with higher serials,
/// not the reference tree of A byte for byte (`siteconf diff` compares
/// zones the same way). Zones lose their serial, the manifest the digest
/// and size of the zones and its total size.
fn serial_free(rel: &str, bytes: Vec<u8>) -> Vec<u8> {
    use siteconf::model::serial::without_serial;
    if rel.starts_with("site/dns/") && rel.ends_with(".zone") {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Some(t) = without_serial(text) {
                return t.into_bytes();
            }
        }
    }
    if rel == "manifest.json" {
        fn strip(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    if m.get("path")
                        .and_then(|p| p.as_str())
                        .is_some_and(|p| p.starts_with("site/dns/"))
                    {
                        m.remove("sha256");
                        m.remove("size");
                    }
                    m.values_mut().for_each(strip);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
                _ => {}
            }
        }
        // A broken manifest stays as it is, for the comparison to show.
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            strip(&mut v);
            // The total size counts the serials' digits.
            if let Some(m) = v.as_object_mut() {
                m.remove("bytes");
            }
            return serde_json::to_vec(&v).expect("JSON");
        }
    }
    bytes
}

fn files(t: &BTreeMap<String, Entry>) -> usize {
    t.values().filter(|e| matches!(e, Entry::File(..))).count()
}

/// Names beside the output directory left by builds (the build stamp,
/// `.out.siteconf-stamp`, belongs there).
fn leftovers(parent: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.siteconf-tmp-") || n.starts_with(".out.siteconf-old-"))
        .collect();
    v.sort();
    v
}

/// splitmix64: a seeded generator is all this test needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Where a kill landed, as seen from outside afterwards.
#[derive(Debug, Default)]
struct Outcomes {
    /// The previous tree, and the killed build had not created its
    /// staging directory yet (checking, rendering).
    before_write: usize,
    /// The previous tree, with the killed build's half-written staging
    /// directory beside it.
    mid_write: usize,
    /// The new tree, with the previous one (now in the staging directory)
    /// not yet removed: killed between the swap and the clean-up.
    after_swap: usize,
    /// The new tree and nothing left over: the build had finished.
    finished: usize,
}

#[test]
fn a_build_killed_at_random_moments_leaves_one_complete_tree_and_is_recovered() {
    let seed = std::env::var("SITECONF_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("kill-safety seed: {seed} (SITECONF_KILL_SEED={seed} repeats it)");
    let mut rng = Rng(seed);

    let p = project();
    let dir = p.path();
    grow(dir, RACKS);
    let out = dir.join("out");

    // The reference trees, each built once into its own directory.
    let mut refs = BTreeMap::new();
    for v in [Variant::A, Variant::B] {
        set_variant(dir, v);
        let r = dir.join(format!("ref-{v:?}"));
        ok(&command(dir, &["build", "--no-sync", "--out"])
            .arg(&r)
            .output()
            .unwrap());
        refs.insert(format!("{v:?}"), tree(&r).unwrap());
        fs::remove_dir_all(&r).unwrap();
    }
    let reference = |v: Variant| &refs[&format!("{v:?}")];
    let (ta, tb) = (reference(Variant::A), reference(Variant::B));
    assert!(files(ta) > 2000, "{} files", files(ta));
    assert!(ta.contains_key("nodes/only-in-a") && !ta.contains_key("nodes/only-in-b"));
    assert!(tb.contains_key("nodes/only-in-b") && !tb.contains_key("nodes/only-in-a"));
    let differing = ta
        .iter()
        .filter(|(k, e)| tb.get(*k).is_some_and(|f| f != *e))
        .count();
    assert!(
        differing > 200,
        "only {differing} files differ between A and B"
    );

    // The output starts as B; one uninterrupted flip to A measures how
    // long a build takes here, which the delays are spread over.
    ok(&command(dir, &["build", "--no-sync"]).output().unwrap());
    assert_eq!(tree(&out).as_ref(), Some(tb));
    set_variant(dir, Variant::A);
    let t0 = Instant::now();
    ok(&command(dir, &["build", "--no-sync"]).output().unwrap());
    let full = t0.elapsed();
    assert_eq!(tree(&out).as_ref(), Some(ta));
    eprintln!("an uninterrupted build takes {full:.2?}");

    // A build that follows a killed one also removes its leftovers and
    // takes longer: the estimate of when a build swaps is corrected by
    // where the late kills land.
    let mut swap_at = full;
    let t_kills = Instant::now();
    let mut current = Variant::A;
    let mut outcomes = Outcomes::default();
    for run in 0..RUNS {
        let next = current.other();
        set_variant(dir, next);
        // A third early (checking, rendering, starting to write), a third
        // while writing, a third around the swap and the clean-up (some
        // land after the build has finished).
        let frac = match run % 3 {
            0 => 0.5 * rng.unit(),
            1 => 0.5 + 0.4 * rng.unit(),
            _ => 0.85 + 0.3 * rng.unit(),
        };
        let delay = swap_at.mul_f64(frac);
        let (sig, sig_name) = match rng.next() % 3 {
            0 => (libc::SIGKILL, "SIGKILL"),
            1 => (libc::SIGTERM, "SIGTERM"),
            _ => (libc::SIGINT, "SIGINT"),
        };
        let mut child = command(dir, &["build", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        std::thread::sleep(delay);
        // The child is not reaped before the kill, so its pid cannot have
        // been reused; a child that has exited ignores the signal.
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as libc::pid_t, sig);
        }
        let status = child.wait().unwrap();
        let what = format!("run {run} (seed {seed}): {sig_name} after {delay:.2?}, {status}");

        let now = tree(&out);
        let left = leftovers(dir);
        let own_staging = left.contains(&format!(".out.siteconf-tmp-{pid}"));
        assert!(
            left.iter().all(|n| n.starts_with(".out.siteconf-tmp-")),
            "{what}: unexpected leftovers {left:?}"
        );
        if now.as_ref() == Some(reference(current)) {
            if own_staging {
                outcomes.mid_write += 1;
            } else {
                outcomes.before_write += 1;
            }
            if run % 3 == 2 {
                swap_at = swap_at.mul_f64(1.3);
            }
        } else if now.as_ref() == Some(reference(next)) {
            current = next;
            if own_staging {
                outcomes.after_swap += 1;
            } else {
                outcomes.finished += 1;
                swap_at = swap_at.mul_f64(0.85);
            }
        } else {
            let now = now.unwrap_or_default();
            let old = reference(current);
            let new = reference(next);
            let neither: Vec<&String> = now
                .iter()
                .filter(|(k, e)| old.get(*k) != Some(e) && new.get(*k) != Some(e))
                .map(|(k, _)| k)
                .take(5)
                .collect();
            panic!(
                "{what}: the output is neither the previous tree nor the new one \
                 ({} entries; e.g. {neither:?} match neither; {} of the previous \
                 and {} of the new entries are missing)",
                now.len(),
                old.keys().filter(|k| !now.contains_key(*k)).count(),
                new.keys().filter(|k| !now.contains_key(*k)).count(),
            );
        }
    }
    eprintln!(
        "kills took {:.2?}; swap estimate now {swap_at:.2?}",
        t_kills.elapsed()
    );
    eprintln!(
        "{RUNS} kills: {} before writing, {} mid-write (previous tree kept), \
         {} between swap and clean-up (new tree), {} after the build finished",
        outcomes.before_write, outcomes.mid_write, outcomes.after_swap, outcomes.finished
    );

    // Leftovers of other killed builds, of both kinds the writer makes
    // (a staging tree, and an old tree of a fallback swap whose target is
    // back in place), besides whatever the kills above left.
    for planted in [".out.siteconf-tmp-1/nodes/x", ".out.siteconf-old-2/nodes/y"] {
        fs::create_dir_all(dir.join(planted)).unwrap();
        fs::write(dir.join(planted).join("hostname"), "stale\n").unwrap();
    }
    // The next build, to the other variant (so it swaps too), removes
    // every leftover and converges.
    let want = reference(current.other());
    set_variant(dir, current.other());
    ok(&command(dir, &["build"]).output().unwrap());
    assert_eq!(leftovers(dir), Vec::<String>::new());
    assert!(
        tree(&out).as_ref() == Some(want),
        "the recovery build did not converge"
    );
    // The build after it has nothing to do: the stamp says so at once,
    // and comparing every file (--force) agrees.
    let o = command(dir, &["build"]).output().unwrap();
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("up to date: "), "{stderr}");
    let o = command(dir, &["build", "--force"]).output().unwrap();
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("(0 changed,") && stderr.contains(" 0 removed;"),
        "a second build still changed something: {stderr}"
    );
}
