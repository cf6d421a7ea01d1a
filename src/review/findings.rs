//! What `check` finds on head: a change that `check` warns about (the
//! automation key's `from=` covering no network — Ansible locked out of
//! every node) may render a two-line diff that looks harmless. The review
//! puts head's findings at the top, the new ones (not in base) first, so
//! a reviewer reads them before the files.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Compiled;
use crate::diag::{Diagnostic, Severity};

/// Head's findings from `check` (a side with errors does not compile, so
/// `errors` is 0 whenever there is a review).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HeadCheck {
    pub errors: usize,
    pub warnings: usize,
    /// Warnings base does not have (same code and message).
    pub new: usize,
    /// The warnings, new first, one line each: at most [`MAX_KEPT`].
    pub findings: Vec<Finding>,
    /// Warnings left out of `findings` (`siteconf check` shows them).
    pub omitted: usize,
}

/// Head's findings kept in the review (and its JSON): a site with
/// thousands of warnings must not fill the report.
pub const MAX_KEPT: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: &'static str,
    /// `site/users.kdl:12`, the warning's primary location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub message: String,
    pub new: bool,
}

impl std::fmt::Display for Finding {
    /// `warning[SC0085] site/users.kdl:12: …` (`(new)` when base lacks it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.severity, self.code)?;
        if let Some(at) = &self.at {
            write!(f, " {at}")?;
        }
        write!(f, ": {}", self.message)?;
        if self.new {
            write!(f, " (new)")?;
        }
        Ok(())
    }
}

impl HeadCheck {
    /// `3 warning(s) (1 new)`, `2 warning(s) (none new)`.
    pub fn phrase(&self) -> String {
        let mut s = String::new();
        if self.errors > 0 {
            s.push_str(&format!("{} error(s), ", self.errors));
        }
        s.push_str(&format!("{} warning(s)", self.warnings));
        if self.new > 0 && self.new != self.warnings {
            s.push_str(&format!(" ({} new)", self.new));
        } else if self.new > 0 {
            s.push_str(" (all new)");
        } else if self.warnings > 0 {
            s.push_str(" (none new)");
        }
        s
    }
}

fn key(d: &Diagnostic) -> (&'static str, &str) {
    (d.code.as_str(), d.message.as_str())
}

/// Head's warnings, each marked new when base has no warning with the
/// same code and message.
pub fn head_check(base: &Compiled, head: &Compiled) -> HeadCheck {
    let (errors, warnings) = crate::diag::count(&head.warnings);
    let in_base: BTreeSet<(&str, &str)> = base.warnings.iter().map(key).collect();
    let mut findings: Vec<Finding> = head
        .warnings
        .iter()
        .map(|d| Finding {
            code: d.code.as_str(),
            severity: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            at: d.labels.first().and_then(|l| {
                let f = head.sources.get(l.span.file)?;
                let (line, _) = f.line_col(l.span.start);
                Some(format!("{}:{line}", f.path))
            }),
            message: head.sources.scrub(&d.message).into_owned(),
            new: !in_base.contains(&key(d)),
        })
        .collect();
    // New first; otherwise as check sorts them.
    findings.sort_by_key(|f| !f.new);
    let new = findings.iter().filter(|f| f.new).count();
    let omitted = findings.len().saturating_sub(MAX_KEPT);
    findings.truncate(MAX_KEPT);
    HeadCheck {
        errors,
        warnings,
        new,
        findings,
        omitted,
    }
}
