//! The `--html` page in a real browser: headless Chromium loads the report
//! of the `state-drift` case, and the test checks what a person would see —
//! the page loaded and scripted, every rack drawn with its machines
//! coloured by state, the unknown machine beside its rack, every finding
//! in the table — and that the browser logged no console message (a
//! script error). A screenshot is kept under `target/tmp/` to look at.
//!
//! Chromium is Debian's `chromium` package. Without it the test says so
//! loudly and passes, except in CI (`CI=true`), where it fails: CI must
//! install it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dst = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dst).expect("copy");
        }
    }
}

/// Runs Chromium headless on a local file with the flags that keep it off
/// the network and out of the user's profile; returns (stdout, stderr).
fn chromium(bin: &Path, profile: &Path, extra: &[&str], page: &Path) -> (String, String) {
    let url = format!("file://{}", page.display());
    let out = Command::new("timeout")
        .arg("120")
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages Chromium logged for the page (`…:INFO:CONSOLE:12] "…"`).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn the_html_report_renders_in_a_browser() {
    let Some(bin) = find_chromium() else {
        let msg = "\n\n!!! state_html: chromium not found; the HTML report was NOT tested in a browser.\n!!! Install it with `apt-get install -y chromium`.\n";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}!!! CI must install chromium.\n");
        }
        eprintln!("{msg}");
        return;
    };
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-drift");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&case, work.path());
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("state-html");
    std::fs::create_dir_all(&out_dir).expect("output dir");
    let page = out_dir.join("report.html");
    let run = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "state"])
        .args(["--lldp", "observed/lldp", "--facts", "observed/facts"])
        .args(["--leases", "observed/leases.csv", "--bgp", "observed/bgp"])
        .arg("--html")
        .arg(&page)
        .current_dir(work.path())
        .output()
        .expect("run siteconf");
    assert_eq!(run.status.code(), Some(1), "findings expected");
    let html = std::fs::read_to_string(&page).expect("page written");

    // Self-contained: nothing is fetched from anywhere.
    for needle in ["src=", "href=", "url(", "@import", "http://", "https://"] {
        assert!(
            !html.contains(needle),
            "external resource `{needle}` in the page"
        );
    }

    let profile = tempfile::tempdir().expect("profile");
    let (dom, log) = chromium(&bin, profile.path(), &["--dump-dom"], &page);
    assert!(
        dom.contains("data-ready=\"yes\""),
        "the page script did not finish:\n{dom}"
    );
    assert!(
        console_lines(&log).is_empty(),
        "console messages: {:#?}",
        console_lines(&log)
    );
    assert!(dom.contains("6 declared, 5 seen, 3 drifting, 2 unknown"));
    for rack in ["r01", "r02"] {
        assert!(
            dom.contains(&format!("data-rack=\"{rack}\"")),
            "rack {rack} missing"
        );
    }
    for (node, state) in [
        ("r01n01", "ok"),
        ("r01n02", "drift"),
        ("r01n03", "drift"),
        ("r01n04", "drift"),
        ("r02n01", "never-seen"),
        ("r02n02", "ok"),
    ] {
        assert!(
            dom.contains(&format!("data-name=\"{node}\" data-state=\"{state}\"")),
            "{node} is not drawn as {state}"
        );
    }
    assert!(dom.contains("? 52:54:00:aa:bb:01 on r01-tor1 swp20, r01-tor2 swp20"));
    let rows = dom.matches("<tr><td class=\"sev-").count();
    assert_eq!(rows, 13, "one table row per finding");
    // The filter's counter was set by the script.
    assert!(dom.contains("<span id=\"shown\">13</span> of 13 shown"));

    let shot = out_dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().expect("profile");
    let shot_arg = format!("--screenshot={}", shot.display());
    let (_, log) = chromium(
        &bin,
        profile.path(),
        &[&shot_arg, "--window-size=1280,1100", "--hide-scrollbars"],
        &page,
    );
    assert!(console_lines(&log).is_empty(), "{log}");
    let png = std::fs::metadata(&shot).expect("screenshot written");
    assert!(png.len() > 20_000, "screenshot suspiciously small");
    eprintln!("screenshot: {}", shot.display());
}

/// The page's exact bytes (no browser needed), on a case that exercises
/// every part of it — a rack with room and row, a 2U node, free slots, an
/// unknown machine on a switch port and one on no switch, a never-seen
/// node — and text that must be escaped: host names with markup and
/// quotes, a room with `&` (tests/cases/state-html).
#[test]
fn the_html_report_is_stable_and_escaped() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-html");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&case, work.path());
    let run = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "state"])
        .args(["--lldp", "observed/lldp", "--facts", "observed/facts"])
        .args(["--html", "report.html"])
        .current_dir(work.path())
        .output()
        .expect("run siteconf");
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(work.path().join("report.html")).expect("page written");
    for raw in ["<img", "<b>", "</td>`", "\"quoted\"", "<1>"] {
        assert!(!html.contains(raw), "`{raw}` is not escaped");
    }
    insta::assert_snapshot!("state_html_page", html);
}
