//! Site-wide artifacts (Ansible inventory, DNS zones, Kea DHCP, rack
//! elevations) rendered from `templates/site/`.
//!
//! This is the hook `crate::render` calls; the implementation lives with
//! the site-wide artifacts and replaces this stub. Keep the signatures:
//! [`register`] adds filters and functions to the one environment every
//! template runs in, before anything renders; [`render_site`] renders every
//! site-wide file once, with paths relative to the output directory
//! (`site/…`).

use minijinja::Environment;

use super::context::SiteView;
use crate::diag::Diagnostic;
use crate::output::Artifact;

/// Adds what site-wide templates need to the shared environment.
pub fn register(_env: &mut Environment<'_>) {}

/// Renders every site-wide artifact.
pub fn render_site(_env: &Environment<'_>, _site: &SiteView) -> (Vec<Artifact>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}
