//! What the check and sites benchmarks share: the median of runs, and the
//! peak memory of one run in a fresh process.

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
