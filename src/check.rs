//! The checked front half of the pipeline, shared by every command:
//! load (discover, parse, lower) → validate the declared model → resolve
//! (merge, allocate) → validate the resolved nodes.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::project::{self, ConfigFile, Loaded};
use crate::resolve::{self, Resolved};
use crate::source::Source;
use crate::validate::{self, Ctx};

/// A site that has been through every check. `diags` holds all findings;
/// later stages (render, diff) run only when it has no errors.
pub struct Checked {
    pub loaded: Loaded,
    pub resolved: Resolved,
    pub diags: Diagnostics,
    /// siteconf.lock is not current: allocation would change it
    /// (`resolved.lock_changes` says how). Decided here, once, for every
    /// command that says so (`check`, `check --locked`, `build`,
    /// `build --locked`): false when the changes are not real — part of the
    /// site was lost to a syntax error (what it declares looks released),
    /// the site block is declared twice (which pools were meant is not
    /// known), or the lock itself cannot be read as it stands (its own
    /// finding; "not current" on top would only repeat it).
    pub lock_not_current: bool,
}

impl Checked {
    /// What `--locked` adds when the lock is not current: the error
    /// SC0804 with the first changes, the same for `check` and `build`.
    pub fn lock_out_of_date(&self) -> Option<Diagnostic> {
        if !self.lock_not_current {
            return None;
        }
        let changes = &self.resolved.lock_changes;
        let shown: Vec<&str> = changes.iter().take(10).map(|s| s.as_str()).collect();
        Some(
            Diagnostic::error(
                Code::LockOutOfDate,
                format!(
                    "siteconf.lock is not current: {} change(s) needed",
                    changes.len()
                ),
            )
            .help(format!(
                "run `siteconf lock` and commit siteconf.lock; first changes: {}",
                shown.join("; ")
            )),
        )
    }
}

/// Whether the lock's changes are real (see [`Checked::lock_not_current`]).
fn lock_not_current(loaded: &Loaded, resolved: &Resolved, diags: &Diagnostics) -> bool {
    let lock_unreadable = diags.iter().any(|d| {
        matches!(
            d.code,
            Code::LockSyntax
                | Code::ProjectPathRefused
                | Code::LockConflictMarkers
                | Code::LockTwoValues
                | Code::LockUnknownEntry
                | Code::LockDamagedLine
                | Code::LockVersion
                | Code::LockZoneDuplicate
        )
    });
    resolved.lock_changed
        && loaded.site.lost.is_empty()
        && !loaded.site.site_declared_twice
        && !lock_unreadable
}

pub fn check(src: &dyn Source) -> Checked {
    check_with(src, false)
}

/// [`check`], recording provenance of every resolved value (for `explain`).
pub fn check_with(src: &dyn Source, provenance: bool) -> Checked {
    check_from(src, ConfigFile::read(src), provenance)
}

/// [`check`] with `siteconf.toml` already read: for `build`, which needs
/// its settings (the output directory) before the check is done.
pub fn check_configured(src: &dyn Source, config: ConfigFile) -> Checked {
    check_from(src, config, false)
}

fn check_from(src: &dyn Source, config: ConfigFile, provenance: bool) -> Checked {
    let mut diags = Diagnostics::new();
    let loaded = project::load_configured(src, config, &mut diags);
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
    let lock_not_current = lock_not_current(&loaded, &resolved, &diags);
    Checked {
        loaded,
        resolved,
        diags,
        lock_not_current,
    }
}
