//! Generated documentation stays current: the diagnostics page is the
//! registry rendered, and every code in the registry is unique.

use std::collections::BTreeSet;

#[test]
fn diagnostics_page_is_current() {
    let want = siteconf::diag::docs::markdown();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md");
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is stale: run `cargo run -- codes --markdown > docs/diagnostics.md`"
    );
}

#[test]
fn codes_are_unique() {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for c in siteconf::diag::ALL_CODES {
        assert!(ids.insert(c.id), "duplicate code {}", c.id);
        assert!(names.insert(c.name), "duplicate name {}", c.name);
        assert_eq!(c.code.as_str(), c.id, "registry order broken at {}", c.id);
    }
}
