//! The fuzz targets' shared code: [`entry`] holds the entry point of every
//! target (also used by the main crate's tests/fuzz_regressions.rs).

#[path = "../../tests/kdl_support/mod.rs"]
mod support;

#[allow(dead_code)] // `Outcome::KnownDeviation` carries a reason only tests print
#[path = "../../tests/kdl_support/reference.rs"]
mod reference;

pub mod entry;
