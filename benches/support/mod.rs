//! What the benchmarks share: the median of runs, the peak memory of one
//! run in a fresh process (this benchmark re-run, or a child such as the
//! `siteconf` binary), and what the machine had to spare while they ran.
// Each benchmark uses a part of this module.
#![allow(dead_code)]

/// This process's peak resident memory (VmHWM), in KiB.
pub fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The peak memory (KiB) of this benchmark run again with
/// `SITECONF_BENCH_CHILD=dir`: the child does one run on `dir` and prints
/// its [`vm_hwm_kb`]. 0 when it could not be measured.
pub fn child_peak_kb(dir: &std::path::Path) -> u64 {
    std::process::Command::new(std::env::current_exe().expect("exe"))
        .env("SITECONF_BENCH_CHILD", dir)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
}

/// One child process, timed from spawn to exit, with its peak resident
/// memory as the kernel counted it.
pub struct Measured {
    /// Wall time from spawn to the end of the child.
    pub secs: f64,
    /// CPU time of the child, user + system: what it cost regardless of
    /// what else the machine was doing (wall time says little on a
    /// machine shared with other work).
    pub cpu_secs: f64,
    /// `ru_maxrss` of the child (KiB on Linux), from `wait4`.
    pub peak_kb: u64,
    pub status: std::process::ExitStatus,
}

/// Runs `cmd` to its end and measures it, with `stdout` and `stderr` as
/// its output (files, not pipes: a pipe not read while the child runs
/// would stall it).
///
/// The command is started by a fresh process of this benchmark
/// ([`serve_spawn`], which every benchmark using this calls first): Linux
/// keeps a process's peak memory across `exec`, so a child spawned
/// straight from a benchmark holding hundreds of megabytes would report
/// the benchmark's peak as its own. The small intermediate process reaps
/// it with `wait4`, which gives the command's own rusage, and reports it
/// in a file.
pub fn spawn_measured(
    cmd: &mut std::process::Command,
    stdout: std::fs::File,
    stderr: std::fs::File,
) -> std::io::Result<Measured> {
    use std::os::unix::process::ExitStatusExt;
    let report = tempfile::NamedTempFile::new()?;
    let mut via = std::process::Command::new(std::env::current_exe()?);
    via.env(SPAWN_ENV, report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    if let Some(d) = cmd.get_current_dir() {
        via.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => via.env(k, v),
            None => via.env_remove(k),
        };
    }
    let st = via.status()?;
    if !st.success() {
        return Err(std::io::Error::other(format!(
            "the measuring process failed: {st}"
        )));
    }
    let text = std::fs::read_to_string(report.path())?;
    let f: Vec<&str> = text.split_whitespace().collect();
    let num = |i: usize| -> std::io::Result<f64> {
        f.get(i)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad measurement {text:?}")))
    };
    Ok(Measured {
        secs: num(0)?,
        cpu_secs: num(1)?,
        peak_kb: num(2)? as u64,
        status: std::process::ExitStatus::from_raw(num(3)? as i32),
    })
}

const SPAWN_ENV: &str = "SITECONF_BENCH_SPAWN_REPORT";

/// When this process is the intermediate of [`spawn_measured`]: runs the
/// command its arguments name (stdio inherited), reaps it with `wait4`,
/// writes `wall-seconds cpu-seconds peak-KiB wait-status` to the report
/// file, and exits. Otherwise returns at once.
pub fn serve_spawn() {
    let Some(report) = std::env::var_os(SPAWN_ENV) else {
        return;
    };
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("a program to measure");
    let start = std::time::Instant::now();
    let child = std::process::Command::new(program)
        .args(args)
        .env_remove(SPAWN_ENV)
        .spawn()
        .expect("spawn the measured command");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: status and ru are valid for writes; pid is our own child,
        // not waited for by anything else (the `Child` is never waited on).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    let secs = start.elapsed().as_secs_f64();
    drop(child);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let text = format!(
        "{secs} {} {} {status}\n",
        tv(ru.ru_utime) + tv(ru.ru_stime),
        ru.ru_maxrss
    );
    std::fs::write(report, text).expect("write the measurement");
    std::process::exit(0);
}

/// The first three fields of /proc/loadavg (1, 5 and 15 minutes), or "?".
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// MemAvailable of /proc/meminfo, in KiB (0 when unknown).
pub fn mem_available_kb() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Bytes free for an unprivileged writer on the filesystem of `path`, and
/// whether that filesystem is a tmpfs (whose files take memory).
pub fn fs_space(path: &std::path::Path) -> Option<(u64, bool)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: zeroed statfs is a valid out-parameter; c is a NUL-terminated path.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above; statfs only writes into st.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    #[allow(clippy::unnecessary_cast)] // the field's type differs between targets
    let tmpfs = st.f_type as i64 == TMPFS_MAGIC;
    #[allow(clippy::unnecessary_cast)]
    Some((st.f_bavail as u64 * st.f_bsize as u64, tmpfs))
}

/// CPU time of the calling thread, in seconds (for work timed in process).
pub fn thread_cpu_secs() -> f64 {
    // SAFETY: a zeroed timespec is valid for clock_gettime to overwrite.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: ts is valid for writes.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
