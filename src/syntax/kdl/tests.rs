//! Unit tests: spans and error positions. Conformance is covered by
//! `tests/kdl_compliance.rs` and `tests/kdl_differential.rs`.

use super::*;

fn ok(text: &str) -> Document {
    match parse(FileId(0), text) {
        Ok(d) => d,
        Err(e) => panic!("{text:?} failed: {e:?}"),
    }
}

#[test]
fn smoke() {
    let d =
        ok("interface eno1 { mac \"52:54:00:00:01:01\"; switch r01-tor1; port swp1; mtu 9000 }");
    assert_eq!(d.nodes.len(), 1);
}
