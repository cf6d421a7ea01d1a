//! Nothing a user can write makes siteconf panic: every site file of the
//! test cases (and the example site), truncated at many points and with
//! bytes flipped, plus broken siteconf.toml and siteconf.lock files, goes
//! through the whole check; it must come back with diagnostics, never a panic.

use std::path::Path;

use siteconf::check::check;
use siteconf::diag::Severity;
use siteconf::source::MemSource;

fn site_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [root.join("tests/cases"), root.join("site")] {
        for e in walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            let p = e.path();
            let ok = p.extension().is_some_and(|x| x == "kdl" || x == "toml");
            if ok && e.file_type().is_file() {
                if let Ok(t) = std::fs::read_to_string(p) {
                    let name = if p.extension().is_some_and(|x| x == "kdl") {
                        "site/a.kdl"
                    } else {
                        "site/a.toml"
                    };
                    out.push((name.to_string(), t));
                }
            }
        }
    }
    out
}

/// One error as a user sees it: its code id and where it points
/// (`path:line:col`).
struct Seen {
    code: &'static str,
    at: String,
}

/// Checks the project (`path` holding `text`, plus `extra` files) and
/// renders its diagnostics; fails the test on a panic. Returns the errors.
fn run(path: &str, text: &[u8], extra: &[(&str, &str)]) -> Vec<Seen> {
    let mut src = MemSource::new().with(path, text.to_vec());
    for (p, t) in extra {
        src.insert(*p, t.as_bytes().to_vec());
    }
    let r = std::panic::catch_unwind(|| {
        let c = check(&src);
        // Rendering diagnostics must not panic either.
        let list = c.diags.sorted(&c.loaded.sources);
        let _ = siteconf::diag::render_human(
            &list,
            &c.loaded.sources,
            siteconf::diag::ColorChoice::Never,
        );
        let _ = siteconf::diag::render_json(&list, &c.loaded.sources);
        list.iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| Seen {
                code: d.code.name(),
                at: c.loaded.sources.locate(d.primary_span()),
            })
            .collect::<Vec<_>>()
    });
    match r {
        Ok(seen) => seen,
        Err(_) => panic!("panic on {path}: {:?}", String::from_utf8_lossy(text)),
    }
}

/// Asserts that one of `seen` has code `code` and points into `file`.
fn assert_reported(seen: &[Seen], code: &str, file: &str, input: &str) {
    assert!(
        seen.iter()
            .any(|d| d.code == code && d.at.starts_with(&format!("{file}:"))),
        "{input:?}: expected {code} in {file}, got {:?}",
        seen.iter()
            .map(|d| format!("{} at {}", d.code, d.at))
            .collect::<Vec<_>>()
    );
}

#[test]
fn truncated_and_mutated_site_files_never_panic() {
    let files = site_files();
    assert!(!files.is_empty());
    for (path, text) in &files {
        let b = text.as_bytes();
        let step = (b.len() / 40).max(1);
        for cut in (0..b.len()).step_by(step) {
            run(path, &b[..cut], &[]);
        }
        // Deterministic byte flips: every 13th position gets a character
        // that often breaks things.
        for (i, pos) in (0..b.len()).step_by((b.len() / 30).max(1)).enumerate() {
            let mut m = b.to_vec();
            m[pos] = b"{}\"=;\\/#(-0\n"[i % 12];
            run(path, &m, &[]);
        }
    }
}

#[test]
fn broken_project_files_are_reported_not_panics() {
    let site = "site dc1 { domain \"x.example\"; }\n";
    // An empty siteconf.toml is valid (all defaults): no panic is all it
    // must show.
    run("site/a.kdl", site.as_bytes(), &[("siteconf.toml", "")]);
    for cfg in [
        "site-dir = 3",
        "[gate]\nmax = [",
        "nonsense = true",
        "\u{0}\u{1}",
    ] {
        let seen = run("site/a.kdl", site.as_bytes(), &[("siteconf.toml", cfg)]);
        assert_reported(&seen, "project-config", "siteconf.toml", cfg);
    }
    run("site/a.kdl", site.as_bytes(), &[("siteconf.lock", "")]);
    for (lock, code) in [
        ("node/a", "lock-syntax"),
        ("node/a address.mgmt.ipv4 banana", "lock-syntax"),
        (
            "<<<<<<< HEAD\nnode/a asn 1\n=======\nnode/b asn 1\n>>>>>>> b\n",
            "lock-conflict-markers",
        ),
        ("node/a asn 99999999999999999999", "lock-syntax"),
    ] {
        let seen = run("site/a.kdl", site.as_bytes(), &[("siteconf.lock", lock)]);
        assert_reported(&seen, code, "siteconf.lock", lock);
    }
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let deep_kdl = format!(
        "site dc1 {{ defaults {{ vars {{ {} x 1 {} }} }} }}",
        "a { ".repeat(5000),
        "} ".repeat(5000)
    );
    let seen = run("site/a.kdl", deep_kdl.as_bytes(), &[]);
    assert_reported(&seen, "syntax-error", "site/a.kdl", "deep KDL");
    let deep_toml = format!("a = {}1{}", "[".repeat(5000), "]".repeat(5000));
    let seen = run("site/a.toml", deep_toml.as_bytes(), &[]);
    assert_reported(&seen, "syntax-error", "site/a.toml", "deep TOML");
}
