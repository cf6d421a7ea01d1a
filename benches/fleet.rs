//! The fleet-scale table (issue #18), measured on what a user runs: the
//! `siteconf` binary on a project made by `siteconf init --nodes N`,
//! committed to git. Run: `cargo bench --bench fleet`.
//!
//! For each size (SITECONF_BENCH_NODES, default `1000,10000`), every row is
//! the median of SITECONF_BENCH_RUNS runs (default 3) of a child process,
//! with the child's CPU time (user + system, from the same rusage: on a
//! machine shared with other work the wall time alone says little) and
//! its peak resident memory (`ru_maxrss` from `wait4`, the largest of the
//! runs). Goals are checked against the wall time:
//!
//! - floor: the files of a fresh build's output (same relative paths, same
//!   bytes, read into memory first, untimed; by batches of 512 MB when the
//!   output is larger, so at 100,000 nodes) written again with plain
//!   `std::fs` into an empty directory, one thread, no fsync: what any tool
//!   must at least spend. Measured in this process, in the same run;
//! - `siteconf build`, fresh output: the output directory and its stamp
//!   (`.<out>.siteconf-*`) removed first. Plain `siteconf build`, as a user
//!   runs it: with its final syncfs (no `--no-sync`), cheap on the tmpfs the
//!   benchmark uses by default;
//! - `siteconf build`, nothing changed since the last build;
//! - `siteconf build` after editing one node: the `serial` of one node in a
//!   rack file alternates between two values, so every run is a real
//!   one-node change; the files the build said it changed are reported.
//!   The first edit after the fresh build (which has no spare tree yet:
//!   see docs/build.md) is timed apart and shown in the notes;
//! - `siteconf diff HEAD~1 HEAD` after committing a one-node edit;
//! - `siteconf diff HEAD~1 HEAD` after committing an MTU change in profile
//!   `base`, which every profile `init` writes includes (so every node):
//!   the lines of its text output, and the bytes of `--format json`;
//! - `siteconf inventory --list` (run once before timing) and `siteconf
//!   inventory --host NAME` (twice before timing, to let any cache warm;
//!   it runs first after the last commit, and that first run is reported
//!   as cold).
//!
//! Then a markdown table per size with the goal of each row and whether it
//! is met, the command line that reproduces it, and the machine's load
//! (/proc/loadavg) at start and end: figures need a quiet machine.
//!
//! Where: a temporary directory under TMPDIR, else /dev/shm when it exists
//! (tmpfs: the disk is not what is measured), removed at the end unless
//! SITECONF_BENCH_KEEP=1. At 100,000 nodes a fresh output is ~1.6 M files
//! and ~8 GB: a size is skipped, saying why, when the directory has not
//! room for twice the output it is expected to have (the output and the
//! floor's copy), and a row is skipped when its peak memory at the previous
//! size, scaled by the ratio of sizes, exceeds 80% of MemAvailable.
//!
//! Only the command line is the contract: the figures come from exit
//! status, wall time and rusage, and what the output says is read only for
//! the notes (changed files, lines), which show `?` when it cannot be read.

mod support;
use support::{fs_space, loadavg, median, mem_available_kb, spawn_measured, thread_cpu_secs};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const EXE: &str = env!("CARGO_BIN_EXE_siteconf");
/// The floor reads the output into memory by batches of at most this many
/// bytes (one batch up to 10,000 nodes; at 100,000 the output is ~8 GB).
const FLOOR_BATCH: u64 = 512 << 20;
/// Output space per node when no smaller size was measured (1,000 nodes of
/// `init` take ~77 KB each on tmpfs, in whole pages): only for the
/// free-space check.
const GUESS_BYTES_PER_NODE: u64 = 100_000;

/// The rows, in the order of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Work {
    Floor,
    Fresh,
    Unchanged,
    Edit,
    DiffNode,
    DiffMtu,
    InvList,
    InvHost,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::Floor => "floor: write the same files",
            Work::Fresh => "`build`, fresh output",
            Work::Unchanged => "`build`, nothing changed",
            Work::Edit => "`build` after editing one node",
            Work::DiffNode => "`diff HEAD~1 HEAD`, one node edited",
            Work::DiffMtu => "`diff`, one MTU line in a profile of every node",
            Work::InvList => "`inventory --list`",
            Work::InvHost => "`inventory --host NAME`",
        }
    }

    fn goal(self) -> &'static str {
        match self {
            Work::Floor => "",
            Work::Fresh => "<= 1.3x floor",
            Work::Unchanged => "<= 0.3 s",
            Work::Edit => "<= 0.5 s, <= 10% of fresh",
            Work::DiffNode => "<= 1 s, <= 300 MB",
            Work::DiffMtu => "<= 200 lines of text",
            Work::InvList => "<= 0.5 s, <= 200 MB",
            Work::InvHost => "<= 0.1 s",
        }
    }
}

enum Fig {
    Done {
        secs: f64,
        /// Median CPU time, user + system.
        cpu: f64,
        /// None for the floor, which runs in this process.
        peak_kb: Option<u64>,
    },
    Skipped(String),
    Failed(String),
}

struct Row {
    work: Work,
    cmd: String,
    fig: Fig,
    /// Lines of text output (the MTU diff's goal).
    lines: Option<u64>,
    note: String,
}

struct SizeReport {
    nodes: usize,
    info: Vec<String>,
    rows: Vec<Row>,
    skipped: Option<String>,
}

/// One run of the binary: its figures, and where its stdout went.
struct Out {
    secs: f64,
    cpu: f64,
    peak_kb: u64,
    stdout: PathBuf,
    stderr: String,
}

impl Out {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.stdout).unwrap_or_default()).into_owned()
    }

    fn stdout_len(&self) -> u64 {
        std::fs::metadata(&self.stdout)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    fn stdout_lines(&self) -> u64 {
        std::fs::read(&self.stdout)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
            .unwrap_or(0)
    }
}

/// What runs the binary: where, how many times, what it offers.
struct Runner {
    root: PathBuf,
    runs: usize,
    /// Whether `siteconf diff` has `--format json`.
    diff_json: bool,
}

impl Runner {
    /// `siteconf ARGS` in `dir`, stdout and stderr into files of the
    /// benchmark's directory. An exit other than 0 is an error, with the
    /// first lines of stderr.
    fn sc(&self, dir: &Path, args: &[&str]) -> Result<Out, String> {
        let stdout = self.root.join("stdout");
        let stderr = self.root.join("stderr");
        let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let mut cmd = Command::new(EXE);
        cmd.args(args).current_dir(dir);
        let m = spawn_measured(&mut cmd, file(&stdout)?, file(&stderr)?)
            .map_err(|e| format!("siteconf: {e}"))?;
        let err = String::from_utf8_lossy(&std::fs::read(&stderr).unwrap_or_default()).into_owned();
        if !m.status.success() {
            let first: Vec<&str> = err.lines().take(3).collect();
            return Err(format!(
                "`siteconf {}` ended with {}: {}",
                args.join(" "),
                m.status,
                first.join(" / ")
            ));
        }
        Ok(Out {
            secs: m.secs,
            cpu: m.cpu_secs,
            peak_kb: m.peak_kb,
            stdout,
            stderr: err,
        })
    }
}

/// What earlier sizes measured, to foresee the next: per row, the size it
/// last ran at and its peak memory there (KiB); the space the output took
/// on its filesystem.
#[derive(Default)]
struct Memory {
    peaks: HashMap<Work, (usize, u64)>,
    out_space: Option<(usize, u64)>,
}

impl Memory {
    /// Why `work` must not run at `n` nodes: its peak memory at the
    /// previous size, scaled by the ratio of sizes, exceeds 80% of what the
    /// machine has available now.
    fn too_big(&self, work: Work, n: usize) -> Option<String> {
        let &(pn, kb) = self.peaks.get(&work)?;
        if pn >= n {
            return None;
        }
        let est = kb as f64 * n as f64 / pn as f64;
        let avail = mem_available_kb() as f64;
        (est > 0.8 * avail).then(|| {
            format!(
                "skipped: {} MB at {pn} nodes, x{} = {} MB > 80% of MemAvailable ({} MB)",
                mb(kb),
                n / pn,
                mb(est as u64),
                mb(avail as u64)
            )
        })
    }

    /// `runs` timed runs of `f` (which prepares, untimed, then runs the
    /// binary once): the median time and the largest peak memory.
    fn repeat(
        &mut self,
        runs: usize,
        work: Work,
        n: usize,
        mut f: impl FnMut(usize) -> Result<Out, String>,
    ) -> Fig {
        if let Some(why) = self.too_big(work, n) {
            return Fig::Skipped(why);
        }
        let (mut t, mut cpu) = (Vec::new(), Vec::new());
        let mut peak = 0;
        for i in 0..runs {
            match f(i) {
                Ok(o) => {
                    t.push(o.secs);
                    cpu.push(o.cpu);
                    peak = peak.max(o.peak_kb);
                }
                Err(e) => return Fig::Failed(e),
            }
        }
        self.peaks.insert(work, (n, peak));
        let (secs, cpu) = (median(t), median(cpu));
        progress(n, work, secs, cpu, Some(peak));
        Fig::Done {
            secs,
            cpu,
            peak_kb: Some(peak),
        }
    }
}

fn progress(n: usize, work: Work, secs: f64, cpu: f64, peak_kb: Option<u64>) {
    let mem = peak_kb
        .map(|k| format!(", {} MB", mb(k)))
        .unwrap_or_default();
    eprintln!(
        "  {n} nodes: {}: {secs:.3} s (CPU {cpu:.3} s){mem}",
        work.name()
    );
}

/// 10000 as "10,000".
fn thousands(v: u64) -> String {
    let d = v.to_string();
    let mut s = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            s.push(',');
        }
        s.push(c);
    }
    s
}

fn mb(kb: u64) -> u64 {
    (kb * 1024).div_ceil(1_000_000)
}

/// `git ARGS` in `dir` with a fixed author and date and no user or system
/// configuration (hooks, signing), so that it works on any machine.
fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "siteconf bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.net")
        .env("GIT_COMMITTER_NAME", "siteconf bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.net")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`git {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

/// The files a build said it changed: "(N changed" of its text summary,
/// or `"changed":N` of JSON. None when neither is there.
fn build_changed(o: &Out) -> Option<u64> {
    let text = format!("{}\n{}", o.stderr, o.stdout_text());
    let digits_before = |s: &str| -> Option<u64> {
        let d: String = s.chars().rev().take_while(char::is_ascii_digit).collect();
        let d: String = d.chars().rev().collect();
        d.parse().ok()
    };
    for (i, _) in text.match_indices(" changed") {
        let before = &text[..i];
        if let Some(v) = digits_before(before) {
            let rest = before.trim_end_matches(|c: char| c.is_ascii_digit());
            if rest.ends_with('(') {
                return Some(v);
            }
        }
    }
    let i = text.find("\"changed\":")? + "\"changed\":".len();
    let d: String = text[i..].chars().take_while(char::is_ascii_digit).collect();
    d.parse().ok()
}

/// What a list of per-run values reads like: "3", or "3/5/3".
fn values(v: &[Option<u64>]) -> String {
    let s: Vec<String> = v
        .iter()
        .map(|x| x.map_or("?".into(), |x| x.to_string()))
        .collect();
    let mut u = s.clone();
    u.dedup();
    if u.len() == 1 {
        u.remove(0)
    } else {
        s.join("/")
    }
}

/// The output directory `siteconf.toml` names (`out-dir`), "out" when it
/// names none.
fn out_dir(proj: &Path) -> String {
    std::fs::read_to_string(proj.join("siteconf.toml"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "out-dir").then(|| v.trim().trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "out".into())
}

/// Removes the output and what a build keeps beside it (its stamp and
/// temporaries, `.<out>.siteconf-*`): the next build starts fresh.
fn clean_out(proj: &Path, out: &str) {
    let _ = std::fs::remove_dir_all(proj.join(out));
    let prefix = format!(".{out}.siteconf-");
    if let Ok(rd) = std::fs::read_dir(proj) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let p = e.path();
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(&p);
                } else {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
}

/// The node whose serial the edits change: the first `serial` line of the
/// first site file (sorted) that has one, and the node it is in.
struct Serial {
    file: PathBuf,
    rel: String,
    node: String,
    line: usize,
    text: String,
}

impl Serial {
    fn find(proj: &Path) -> Result<Serial, String> {
        let site = proj.join("site");
        for e in walkdir::WalkDir::new(&site).sort_by_file_name() {
            let e = e.map_err(|e| e.to_string())?;
            if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "kdl") {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).map_err(|e| e.to_string())?;
            let mut node = None;
            for (i, l) in text.lines().enumerate() {
                let t = l.trim_start();
                if let Some(rest) = t.strip_prefix("node ") {
                    node = rest.split_whitespace().next().map(str::to_string);
                }
                if t.starts_with("serial ") {
                    if let Some(node) = node {
                        let rel = e.path().strip_prefix(proj).unwrap_or(e.path());
                        return Ok(Serial {
                            file: e.path().to_path_buf(),
                            rel: rel.to_string_lossy().into_owned(),
                            node,
                            line: i,
                            text,
                        });
                    }
                }
            }
        }
        Err("no node with a serial in the KDL files of site/".into())
    }

    /// Writes the file with the node's serial set to `value`.
    fn set(&self, value: &str) -> Result<(), String> {
        let mut s = String::with_capacity(self.text.len() + 16);
        for (i, l) in self.text.lines().enumerate() {
            if i == self.line {
                let indent = &l[..l.len() - l.trim_start().len()];
                let _ = writeln!(s, "{indent}serial \"{value}\"");
            } else {
                s.push_str(l);
                s.push('\n');
            }
        }
        std::fs::write(&self.file, s).map_err(|e| format!("{}: {e}", self.file.display()))
    }
}

/// Changes the first `mtu N` of profile `base` (which every profile of
/// `init` includes) to N+100, or N-100 when that would pass 9216.
fn edit_mtu(proj: &Path) -> Result<(&'static str, u32, u32), String> {
    let rel = "site/profiles.kdl";
    let path = proj.join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
    let start = text
        .find("profile base")
        .ok_or_else(|| format!("{rel}: no profile base"))?;
    let at = start
        + text[start..]
            .find("mtu ")
            .ok_or_else(|| format!("{rel}: no mtu in profile base"))?
        + 4;
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let old: u32 = digits
        .parse()
        .map_err(|_| format!("{rel}: no number after mtu"))?;
    let new = if old + 100 <= 9216 {
        old + 100
    } else {
        old - 100
    };
    let edited = format!("{}{new}{}", &text[..at], &text[at + digits.len()..]);
    std::fs::write(&path, edited).map_err(|e| format!("{rel}: {e}"))?;
    Ok((rel, old, new))
}

/// A built output as entries to write again, directories before their
/// contents, in batches of at most [`FLOOR_BATCH`] bytes.
struct Floor {
    src: PathBuf,
    entries: Vec<(PathBuf, Option<u64>)>,
    batches: Vec<std::ops::Range<usize>>,
    /// The bytes, when one batch holds them all (read once for every run).
    cached: Option<Vec<Vec<u8>>>,
    files: usize,
    bytes: u64,
    /// What the files take on their filesystem (whole blocks): what the
    /// next size's free-space check scales.
    space: u64,
}

impl Floor {
    fn scan(src: &Path) -> Result<Floor, String> {
        let mut entries = Vec::new();
        use std::os::unix::fs::MetadataExt;
        let (mut files, mut bytes, mut space) = (0, 0, 0);
        for e in walkdir::WalkDir::new(src).min_depth(1).sort_by_file_name() {
            let e = e.map_err(|e| e.to_string())?;
            let rel = e
                .path()
                .strip_prefix(src)
                .map_err(|e| e.to_string())?
                .to_path_buf();
            if e.file_type().is_dir() {
                space += e.metadata().map_err(|e| e.to_string())?.blocks() * 512;
                entries.push((rel, None));
            } else {
                let md = e.metadata().map_err(|e| e.to_string())?;
                let len = md.len();
                files += 1;
                bytes += len;
                space += md.blocks() * 512;
                entries.push((rel, Some(len)));
            }
        }
        let mut batches = Vec::new();
        let (mut start, mut size) = (0, 0);
        for (i, (_, len)) in entries.iter().enumerate() {
            let len = len.unwrap_or(0);
            if size + len > FLOOR_BATCH && i > start {
                batches.push(start..i);
                (start, size) = (i, 0);
            }
            size += len;
        }
        batches.push(start..entries.len());
        let mut f = Floor {
            src: src.to_path_buf(),
            entries,
            batches,
            cached: None,
            files,
            bytes,
            space,
        };
        if f.batches.len() == 1 {
            f.cached = Some(f.load(0..f.entries.len())?);
        }
        Ok(f)
    }

    fn load(&self, r: std::ops::Range<usize>) -> Result<Vec<Vec<u8>>, String> {
        self.entries[r]
            .iter()
            .map(|(rel, len)| match len {
                Some(_) => {
                    std::fs::read(self.src.join(rel)).map_err(|e| format!("{}: {e}", rel.display()))
                }
                None => Ok(Vec::new()),
            })
            .collect()
    }

    /// Writes everything into `dst` (which must not exist), returning the
    /// wall and CPU seconds spent writing (reading batches is not counted).
    fn write(&self, dst: &Path) -> Result<(f64, f64), String> {
        let (mut secs, mut cpu) = (0.0, 0.0);
        let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
        let (t, c) = (Instant::now(), thread_cpu_secs());
        std::fs::create_dir(dst).map_err(|e| err(dst, e))?;
        secs += t.elapsed().as_secs_f64();
        cpu += thread_cpu_secs() - c;
        for r in &self.batches {
            let loaded;
            let data = match &self.cached {
                Some(c) => c,
                None => {
                    loaded = self.load(r.clone())?;
                    &loaded
                }
            };
            let (t, c) = (Instant::now(), thread_cpu_secs());
            for ((rel, len), bytes) in self.entries[r.clone()].iter().zip(data) {
                let p = dst.join(rel);
                match len {
                    None => std::fs::create_dir(&p).map_err(|e| err(&p, e))?,
                    Some(_) => std::fs::write(&p, bytes).map_err(|e| err(&p, e))?,
                }
            }
            secs += t.elapsed().as_secs_f64();
            cpu += thread_cpu_secs() - c;
        }
        Ok((secs, cpu))
    }
}

fn bench_size(r: &Runner, m: &mut Memory, n: usize) -> SizeReport {
    let mut rep = SizeReport {
        nodes: n,
        info: Vec::new(),
        rows: Vec::new(),
        skipped: None,
    };
    // Room for the output and the floor's copy of it.
    let est = match m.out_space {
        Some((pn, bytes)) => bytes * n as u64 / pn as u64,
        None => GUESS_BYTES_PER_NODE * n as u64,
    };
    let need = 2 * est + (256 << 20);
    if let Some((free, tmpfs)) = fs_space(&r.root) {
        let avail = mem_available_kb() * 1024;
        if free < need {
            rep.skipped = Some(format!(
                "skipped: the output and the floor's copy need about {} MB, the benchmark directory has {} MB free",
                need / 1_000_000,
                free / 1_000_000
            ));
            return rep;
        }
        if tmpfs && need as f64 > 0.8 * avail as f64 {
            rep.skipped = Some(format!(
                "skipped: the output and the floor's copy need about {} MB of tmpfs, more than 80% of MemAvailable ({} MB)",
                need / 1_000_000,
                avail / 1_000_000
            ));
            return rep;
        }
    }
    let name = format!("n{n}");
    let proj = r.root.join(&name);
    eprintln!("{n} nodes: siteconf init, git commit");
    let made = r
        .sc(&r.root, &["init", "--nodes", &n.to_string(), &name])
        .and_then(|o| {
            git(&proj, &["init", "-q"])?;
            git(&proj, &["add", "-A"])?;
            git(
                &proj,
                &["commit", "-q", "--no-verify", "-m", "siteconf init"],
            )?;
            Ok(o)
        });
    match made {
        Ok(o) => rep
            .info
            .push(format!("`siteconf init --nodes {n}` took {:.2} s", o.secs)),
        Err(e) => {
            rep.skipped = Some(e);
            return rep;
        }
    }
    let out = out_dir(&proj);
    let serial = Serial::find(&proj);
    builds(r, m, n, &proj, &out, serial.as_ref(), &mut rep);
    diffs(r, m, n, &proj, serial.as_ref(), &mut rep);
    inventory(
        r,
        m,
        n,
        &proj,
        serial.as_ref().map(|s| s.node.as_str()),
        &mut rep,
    );
    if std::env::var_os("SITECONF_BENCH_KEEP").is_none_or(|v| v != "1") {
        let _ = std::fs::remove_dir_all(&proj);
    }
    rep
}

fn row(work: Work, cmd: &str, fig: Fig, note: String) -> Row {
    Row {
        work,
        cmd: cmd.into(),
        fig,
        lines: None,
        note,
    }
}

const FLOOR_CMD: &str = "(std::fs, 1 thread)";

/// The four build rows: floor, fresh, nothing changed, one node edited.
fn builds(
    r: &Runner,
    m: &mut Memory,
    n: usize,
    proj: &Path,
    out: &str,
    serial: Result<&Serial, &String>,
    rep: &mut SizeReport,
) {
    let build = "siteconf build";
    let first = match m.too_big(Work::Fresh, n) {
        Some(why) => Err(Fig::Skipped(why)),
        None => {
            // A first fresh build, untimed: the output the floor writes again.
            eprintln!("{n} nodes: a first build, the output the floor writes again");
            clean_out(proj, out);
            r.sc(proj, &["build"]).map_err(Fig::Failed)
        }
    };
    if let Err(fig) = first {
        let text = match &fig {
            Fig::Skipped(w) | Fig::Failed(w) => w.clone(),
            Fig::Done { .. } => String::new(),
        };
        let again = |w: &str| match fig {
            Fig::Skipped(_) => Fig::Skipped(w.into()),
            _ => Fig::Failed(w.into()),
        };
        rep.rows
            .push(row(Work::Floor, FLOOR_CMD, again(&text), String::new()));
        for w in [Work::Fresh, Work::Unchanged, Work::Edit] {
            rep.rows.push(row(w, build, again(&text), String::new()));
        }
        return;
    }

    let floor_dir = r.root.join("floor");
    let floor = Floor::scan(&proj.join(out)).and_then(|f| {
        let (mut t, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..r.runs {
            let _ = std::fs::remove_dir_all(&floor_dir);
            let (s, c) = f.write(&floor_dir)?;
            t.push(s);
            cpu.push(c);
        }
        let _ = std::fs::remove_dir_all(&floor_dir);
        Ok((f.files, f.bytes, f.space, median(t), median(cpu)))
    });
    let fig = match floor {
        Ok((files, bytes, space, secs, cpu)) => {
            m.out_space = Some((n, space));
            rep.info.push(format!(
                "output: {} files, {} MB ({} MB on its filesystem)",
                thousands(files as u64),
                bytes.div_ceil(1_000_000),
                space.div_ceil(1_000_000)
            ));
            progress(n, Work::Floor, secs, cpu, None);
            Fig::Done {
                secs,
                cpu,
                peak_kb: None,
            }
        }
        Err(e) => Fig::Failed(e),
    };
    let note = "same paths and bytes, no fsync".to_string();
    rep.rows.push(row(Work::Floor, FLOOR_CMD, fig, note));

    let mut changed = Vec::new();
    let fig = m.repeat(r.runs, Work::Fresh, n, |_| {
        clean_out(proj, out);
        let o = r.sc(proj, &["build"])?;
        changed.push(build_changed(&o));
        Ok(o)
    });
    let note = format!("files changed: {}", values(&changed));
    rep.rows.push(row(Work::Fresh, build, fig, note));

    let mut up = Vec::new();
    let fig = m.repeat(r.runs, Work::Unchanged, n, |_| {
        let o = r.sc(proj, &["build"])?;
        up.push(o.stderr.contains("up to date") || o.stdout_text().contains("\"up_to_date\":true"));
        Ok(o)
    });
    let said = up.iter().filter(|&&u| u).count();
    let note = format!("said up to date in {said} of {} runs", up.len());
    rep.rows.push(row(Work::Unchanged, build, fig, note));

    let (fig, note) = match serial {
        Err(e) => (Fig::Failed(e.clone()), String::new()),
        Ok(s) => {
            // The first edit after a fresh build has no spare tree yet (it
            // links every file into a staging tree, as a fresh output's
            // first rebuild must): reported apart, the rows are the edits
            // after it.
            let first = s
                .set("BENCH-W")
                .and_then(|()| r.sc(proj, &["build"]))
                .map(|o| format!("{:.3} s", o.secs))
                .unwrap_or_else(|e| e);
            let mut changed = Vec::new();
            let fig = m.repeat(r.runs, Work::Edit, n, |i| {
                s.set(if i % 2 == 0 { "BENCH-A" } else { "BENCH-B" })?;
                let o = r.sc(proj, &["build"])?;
                changed.push(build_changed(&o));
                Ok(o)
            });
            let note = format!(
                "serial of {} in {}; files changed: {}; the first edit after the fresh build: {first}",
                s.node,
                s.rel,
                values(&changed)
            );
            (fig, note)
        }
    };
    rep.rows.push(row(Work::Edit, build, fig, note));
}

/// The two diff rows, each on a commit of its own.
fn diffs(
    r: &Runner,
    m: &mut Memory,
    n: usize,
    proj: &Path,
    serial: Result<&Serial, &String>,
    rep: &mut SizeReport,
) {
    let cmd = "siteconf diff HEAD~1 HEAD";
    let args = ["diff", "HEAD~1", "HEAD"];
    // Runs the text diff, counting its lines.
    let measure = |m: &mut Memory, work: Work| {
        let mut lines = Vec::new();
        let fig = m.repeat(r.runs, work, n, |_| {
            let o = r.sc(proj, &args)?;
            lines.push(Some(o.stdout_lines()));
            Ok(o)
        });
        (fig, lines)
    };

    let committed = serial.map_err(|e| e.clone()).and_then(|s| {
        s.set("BENCH-C")?;
        git(
            proj,
            &[
                "commit",
                "-q",
                "--no-verify",
                "-m",
                "one node",
                "--",
                &s.rel,
            ],
        )?;
        Ok(format!("serial of {} in {}", s.node, s.rel))
    });
    rep.rows.push(match committed {
        Err(e) => row(Work::DiffNode, cmd, Fig::Failed(e), String::new()),
        Ok(what) => {
            let (fig, lines) = measure(m, Work::DiffNode);
            let note = format!("{what}; {} lines", values(&lines));
            row(Work::DiffNode, cmd, fig, note)
        }
    });

    let committed = edit_mtu(proj).and_then(|(rel, old, new)| {
        git(
            proj,
            &["commit", "-q", "--no-verify", "-m", "mtu", "--", rel],
        )?;
        Ok(format!("{rel}: mtu {old} -> {new} in profile base"))
    });
    rep.rows.push(match committed {
        Err(e) => row(Work::DiffMtu, cmd, Fig::Failed(e), String::new()),
        Ok(what) => {
            let (fig, lines) = measure(m, Work::DiffMtu);
            let mut note = format!("{what}; {} lines", values(&lines));
            if r.diff_json && matches!(fig, Fig::Done { .. }) {
                match r.sc(proj, &["diff", "--format", "json", "HEAD~1", "HEAD"]) {
                    Ok(o) => {
                        let _ = write!(
                            note,
                            "; `--format json`: {} bytes in {:.2} s",
                            o.stdout_len(),
                            o.secs
                        );
                    }
                    Err(e) => {
                        let _ = write!(note, "; `--format json` failed: {e}");
                    }
                }
            }
            let mut row = row(Work::DiffMtu, cmd, fig, note);
            row.lines = lines.iter().flatten().max().copied();
            row
        }
    });
}

/// The two inventory rows. `--host` runs first, so that its first run is
/// the first of any command since the last commit (cold).
fn inventory(
    r: &Runner,
    m: &mut Memory,
    n: usize,
    proj: &Path,
    node: Result<&str, &String>,
    rep: &mut SizeReport,
) {
    let host = match node {
        Err(e) => row(
            Work::InvHost,
            "siteconf inventory --host NAME",
            Fig::Failed(e.clone()),
            String::new(),
        ),
        Ok(node) => {
            let args = ["inventory", "--host", node];
            let cmd = format!("siteconf {}", args.join(" "));
            let (fig, note) = match m.too_big(Work::InvHost, n) {
                Some(why) => (Fig::Skipped(why), String::new()),
                // Twice before timing: the first is the cold one.
                None => match r.sc(proj, &args).and_then(|cold| {
                    r.sc(proj, &args)?;
                    Ok(cold.secs)
                }) {
                    Err(e) => (Fig::Failed(e), String::new()),
                    Ok(cold) => (
                        m.repeat(r.runs, Work::InvHost, n, |_| r.sc(proj, &args)),
                        format!("cold (first run after the last commit): {cold:.3} s"),
                    ),
                },
            };
            row(Work::InvHost, &cmd, fig, note)
        }
    };

    let args = ["inventory", "--list"];
    let cmd = "siteconf inventory --list";
    let list = match m.too_big(Work::InvList, n) {
        Some(why) => row(Work::InvList, cmd, Fig::Skipped(why), String::new()),
        // Once before timing, as --host.
        None => match r.sc(proj, &args) {
            Err(e) => row(Work::InvList, cmd, Fig::Failed(e), String::new()),
            Ok(_) => {
                let mut bytes = Vec::new();
                let fig = m.repeat(r.runs, Work::InvList, n, |_| {
                    let o = r.sc(proj, &args)?;
                    bytes.push(Some(o.stdout_len()));
                    Ok(o)
                });
                row(
                    Work::InvList,
                    cmd,
                    fig,
                    format!("{} bytes of JSON", values(&bytes)),
                )
            }
        },
    };
    rep.rows.push(list);
    rep.rows.push(host);
}

/// Whether a row meets its goal; None when there is nothing to compare.
fn met(row: &Row, rows: &[Row], floor: Option<f64>) -> Option<bool> {
    let secs_of = |w: Work| {
        rows.iter().find(|r| r.work == w).and_then(|r| match r.fig {
            Fig::Done { secs, .. } => Some(secs),
            _ => None,
        })
    };
    let Fig::Done { secs, peak_kb, .. } = row.fig else {
        return None;
    };
    let mem_ok = |limit_mb: u64| peak_kb.is_some_and(|k| k * 1024 <= limit_mb * 1_000_000);
    match row.work {
        Work::Floor => None,
        Work::Fresh => floor.map(|f| secs <= 1.3 * f),
        Work::Unchanged => Some(secs <= 0.3),
        Work::Edit => secs_of(Work::Fresh).map(|fresh| secs <= 0.5 && secs <= 0.1 * fresh),
        Work::DiffNode => Some(secs <= 1.0 && mem_ok(300)),
        Work::DiffMtu => row.lines.map(|l| l <= 200),
        Work::InvList => Some(secs <= 0.5 && mem_ok(200)),
        Work::InvHost => Some(secs <= 0.1),
    }
}

fn table(rep: &SizeReport, repro: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### {} nodes\n", thousands(rep.nodes as u64));
    let _ = writeln!(s, "`{repro}`\n");
    for i in &rep.info {
        let _ = writeln!(s, "- {i}");
    }
    if let Some(why) = &rep.skipped {
        let _ = writeln!(s, "- {why}");
        return s;
    }
    s.push('\n');
    let floor = rep
        .rows
        .iter()
        .find(|r| r.work == Work::Floor)
        .and_then(|r| match r.fig {
            Fig::Done { secs, .. } => Some(secs),
            _ => None,
        });
    let _ = writeln!(
        s,
        "| work | command | median | CPU | peak RSS | x floor | goal | met | notes |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|---|---|---|");
    let order = [
        Work::Floor,
        Work::Fresh,
        Work::Unchanged,
        Work::Edit,
        Work::DiffNode,
        Work::DiffMtu,
        Work::InvList,
        Work::InvHost,
    ];
    for w in order {
        let Some(r) = rep.rows.iter().find(|r| r.work == w) else {
            continue;
        };
        let (median, cpu, peak, ratio, note) = match &r.fig {
            Fig::Done { secs, cpu, peak_kb } => {
                let ratio = match (w, floor) {
                    (Work::Fresh | Work::Unchanged | Work::Edit, Some(f)) => {
                        format!("{:.2}", secs / f)
                    }
                    _ => String::new(),
                };
                (
                    format!("{secs:.3} s"),
                    format!("{cpu:.3} s"),
                    peak_kb
                        .map(|k| format!("{} MB", mb(k)))
                        .unwrap_or_else(|| "-".into()),
                    ratio,
                    r.note.clone(),
                )
            }
            Fig::Skipped(why) => (
                "-".into(),
                "-".into(),
                "-".into(),
                String::new(),
                why.clone(),
            ),
            Fig::Failed(why) => (
                "-".into(),
                "-".into(),
                "-".into(),
                String::new(),
                format!("FAILED: {why}"),
            ),
        };
        let met = match met(r, &rep.rows, floor) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            s,
            "| {} | `{}` | {median} | {cpu} | {peak} | {ratio} | {} | {met} | {} |",
            w.name(),
            r.cmd,
            w.goal(),
            note.replace('|', "\\|")
        );
    }
    s
}

fn main() {
    support::serve_spawn();
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // with no argument, and must not spend minutes building fleets.
    if !std::env::args().any(|a| a == "--bench") {
        println!("fleet benchmark: run it with `cargo bench --bench fleet`");
        return;
    }
    let sizes: Vec<usize> = std::env::var("SITECONF_BENCH_NODES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 10_000]);
    let runs: usize = std::env::var("SITECONF_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(3);
    let keep = std::env::var_os("SITECONF_BENCH_KEEP").is_some_and(|v| v == "1");
    // TMPDIR if set, else /dev/shm (tmpfs: what is measured is siteconf,
    // not the disk), else the system's temporary directory.
    let base = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/dev/shm")).filter(|p| p.is_dir()))
        .unwrap_or_else(std::env::temp_dir);
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("fleet benchmark: needs git on PATH");
        std::process::exit(2);
    }
    let dir = tempfile::Builder::new()
        .prefix("siteconf-fleet-")
        .tempdir_in(&base)
        .expect("benchmark directory");
    let root = dir.path().to_path_buf();
    let load_start = loadavg();
    let mut r = Runner {
        root: root.clone(),
        runs,
        diff_json: false,
    };
    let version = r
        .sc(&root, &["--version"])
        .map(|o| o.stdout_text().trim().to_string())
        .unwrap_or_else(|e| e);
    r.diff_json = r
        .sc(&root, &["diff", "--help"])
        .is_ok_and(|o| o.stdout_text().contains("json"));
    let mut m = Memory::default();
    let tmpfs = fs_space(&root).is_some_and(|(_, t)| t);
    eprintln!(
        "fleet benchmark: {version}, sizes {sizes:?}, median of {runs}, in {} ({})",
        root.display(),
        if tmpfs { "tmpfs" } else { "not tmpfs" }
    );
    let mut reports = Vec::new();
    for &n in &sizes {
        let rep = bench_size(&r, &mut m, n);
        if let Some(why) = &rep.skipped {
            eprintln!("{n} nodes: {why}");
        }
        reports.push(rep);
    }
    let load_end = loadavg();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let tmp = match std::env::var_os("TMPDIR") {
        Some(t) => format!("TMPDIR={} ", t.to_string_lossy()),
        None => String::new(),
    };
    println!("## siteconf fleet benchmark\n");
    println!(
        "{version}; {cores} cores; median of {runs} runs (wall time; CPU: user + system, also a median, \
         which moves less than wall time with the machine's load); peak RSS: the largest `ru_maxrss` of the runs; \
         build: plain `siteconf build` (with its syncfs); projects in {} ({}); load average at start {load_start}, at end {load_end}\n",
        base.display(),
        if tmpfs { "tmpfs" } else { "not tmpfs" }
    );
    for rep in &reports {
        let repro = format!(
            "{tmp}SITECONF_BENCH_NODES={} SITECONF_BENCH_RUNS={runs} cargo bench --bench fleet",
            rep.nodes
        );
        println!("{}", table(rep, &repro));
    }
    if keep {
        let kept = dir.keep();
        println!("kept the projects in {}", kept.display());
    }
}
