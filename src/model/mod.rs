//! The typed site model.
