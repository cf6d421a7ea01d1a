//! Every committed fuzz input — the corpus (fuzz/corpus/<target>/) and
//! every input a target once crashed on (tests/fuzz_regressions/<target>/)
//! — goes through the same entry point the target uses (fuzz/src/entry.rs),
//! which panics on a bug: a panic, a span outside its file, a template
//! that fails to compile without a diagnostic. See fuzz/README.md.

#[path = "kdl_support/mod.rs"]
mod support;

#[allow(dead_code)] // `Outcome::KnownDeviation` carries a reason only other tests print
#[path = "kdl_support/reference.rs"]
mod reference;

#[path = "../fuzz/src/entry.rs"]
mod entry;

use std::path::{Path, PathBuf};

/// The files directly in `dir`, sorted; none if it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Counted from the listing, independently of the targets: an input
    // under a directory that names no target is never replayed, and fails.
    let listed: usize = ["fuzz/corpus", "tests/fuzz_regressions"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(root.join(d))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| inputs(&e.path()).len())
        .sum();
    let mut ran = 0;
    let mut failed = Vec::new();
    for (name, run) in entry::TARGETS {
        let corpus = inputs(&root.join("fuzz/corpus").join(name));
        // Every target has a committed corpus: an empty or missing one
        // means the replay below would prove nothing about it.
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name}/ is empty or missing"
        );
        let crashes = inputs(&root.join("tests/fuzz_regressions").join(name));
        let paths: Vec<_> = corpus.into_iter().chain(crashes).collect();
        for p in paths {
            let data = std::fs::read(&p).expect("readable input");
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(p.strip_prefix(root).unwrap_or(&p).display().to_string());
            }
            ran += 1;
        }
    }
    println!("{ran} committed fuzz inputs");
    assert!(failed.is_empty(), "still failing: {failed:?}");
    assert!(ran > 0, "no fuzz input was replayed");
    assert_eq!(
        ran, listed,
        "inputs replayed vs. files under fuzz/corpus/*/ and tests/fuzz_regressions/*/"
    );
}

/// The entry points themselves work (the example site checks cleanly).
#[test]
fn entry_points_accept_the_empty_input() {
    for (_, run) in entry::TARGETS {
        run(b"");
    }
}
