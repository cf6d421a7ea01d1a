//! The registry of validation rules. Adding a rule: a new file here with a
//! doc comment (what it catches, why), a `pub const RULE: Rule`, and a line
//! in [`RULES`]; its codes go in `crate::diag::codes`.

use super::Rule;

pub static RULES: &[&Rule] = &[];
