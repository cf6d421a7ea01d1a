//! Every input a fuzz target crashed on (tests/fuzz_regressions/<target>/)
//! goes through the same entry point the target uses (fuzz/src/entry.rs),
//! which panics on a bug: a panic, a span outside its file, a template
//! that fails to compile without a diagnostic. See fuzz/README.md.

#[path = "kdl_support/mod.rs"]
mod support;

#[allow(dead_code)] // `Outcome::KnownDeviation` carries a reason only other tests print
#[path = "kdl_support/reference.rs"]
mod reference;

#[path = "../fuzz/src/entry.rs"]
mod entry;

use std::path::Path;

#[test]
fn every_saved_fuzz_crash_is_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut ran = 0;
    let mut failed = Vec::new();
    for (name, run) in entry::TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        let mut paths: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let data = std::fs::read(&p).expect("readable input");
            ran += 1;
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(format!(
                    "{name}/{}",
                    p.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    println!("{ran} saved fuzz inputs");
    assert!(failed.is_empty(), "still failing: {failed:?}");
}

/// The entry points themselves work (the example site checks cleanly).
#[test]
fn entry_points_accept_the_empty_input() {
    for (_, run) in entry::TARGETS {
        run(b"");
    }
}
