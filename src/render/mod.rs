//! Rendering: the resolved site → an in-memory [`OutputSet`], with
//! minijinja templates (built-in defaults under `templates/`, overridable by
//! the project's own `templates/`), per node in parallel.

pub mod context;
pub mod site;

pub use crate::output::{Artifact, OutputSet};
