//! The checked front half of the pipeline, shared by every command:
//! load (discover, parse, lower) → validate the declared model → resolve
//! (merge, allocate) → validate the resolved nodes.

use crate::diag::Diagnostics;
use crate::project::{self, Loaded};
use crate::resolve::{self, Resolved};
use crate::source::Source;
use crate::validate::{self, Ctx};

/// A site that has been through every check. `diags` holds all findings;
/// later stages (render, diff) run only when it has no errors.
pub struct Checked {
    pub loaded: Loaded,
    pub resolved: Resolved,
    pub diags: Diagnostics,
}

impl Checked {
    /// The site in effect (FQDNs, addresses, groups, session paths), for
    /// the stages that read it: render, state, review.
    pub fn effective(&self) -> resolve::effective::EffSite<'_> {
        resolve::effective::site(&self.loaded.site, &self.loaded.index, &self.resolved)
    }
}

pub fn check(src: &dyn Source) -> Checked {
    check_with(src, false)
}

/// [`check`], recording provenance of every resolved value (for `explain`).
pub fn check_with(src: &dyn Source, provenance: bool) -> Checked {
    let mut diags = Diagnostics::new();
    let loaded = project::load(src, &mut diags);
    {
        let cx = Ctx {
            site: &loaded.site,
            index: &loaded.index,
            sources: &loaded.sources,
            resolved: None,
        };
        validate::run(&cx, false, &mut diags);
    }
    let resolved = resolve::resolve(
        &loaded.site,
        &loaded.index,
        loaded.lock.as_ref().map(|(id, t)| (*id, t.as_str())),
        provenance,
        &mut diags,
    );
    {
        let cx = Ctx {
            site: &loaded.site,
            index: &loaded.index,
            sources: &loaded.sources,
            resolved: Some(&resolved),
        };
        validate::run(&cx, true, &mut diags);
    }
    validate::quiet_lost(&loaded.site, &loaded.sources, &mut diags);
    Checked {
        loaded,
        resolved,
        diags,
    }
}
