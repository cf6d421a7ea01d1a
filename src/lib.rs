//! siteconf — compiles a bare-metal fleet declared in site files into the
//! files that land on machines.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! source   (working tree | git revision | git index | memory)
//!   → syntax   (KDL or TOML → spanned Document)
//!   → lower    (Document → model::Site, every error collected)
//!   → validate (one rule per file, stable SC codes)
//!   → resolve  (profiles with provenance, allocation against siteconf.lock)
//!   → render   (minijinja, per node in parallel → output::OutputSet in memory)
//!   → output   (atomic write | diff of two output sets | manifest)
//!   → review   (two sides compiled and compared, grouped; `gate` applies a policy)
//! ```
//!
//! Beside the pipeline, `state` compares the fleet as observed (LLDP, fact
//! cache, DHCP leases, BGP) with the checked site.
//!
//! Library code never prints and never exits: it returns values and
//! diagnostics; `cli` decides what to show.

pub mod build;
pub mod check;
pub mod cli;
pub mod diag;
pub mod gate;
pub mod init;
pub mod lower;
pub mod model;
pub mod output;
pub mod project;
pub mod render;
pub mod resolve;
pub mod review;
pub mod source;
pub mod state;
pub mod syntax;
pub mod validate;
