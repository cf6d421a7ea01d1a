//! Diagnostics: the one error type of the compiler.
//!
//! Every stage reports problems as a list of [`Diagnostic`]s, each made by a
//! small constructor that always carries a stable [`Code`], a message, at
//! least one labelled span and usually a hint. Nothing stops at the first
//! error; the list is sorted (file, line, column, code) before it is shown
//! so output never depends on the order work happened in.

mod codes;
pub mod docs;
mod render;

pub use codes::{Code, CodeInfo, ALL_CODES};
pub use render::{render_human, render_json, to_json, ColorChoice};

pub use crate::syntax::escape_path;

use crate::syntax::{FileId, SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The first label is the primary location.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// For the summary that stands for findings not kept (see
    /// [`Diagnostics::push`]): how many; 0 for every other diagnostic.
    pub hidden: usize,
}

/// (errors, warnings) among findings as shown: a summary of findings not
/// kept counts for the findings it stands for, so the totals stay exact.
pub fn count(list: &[Diagnostic]) -> (usize, usize) {
    list.iter().fold((0, 0), |(e, w), d| {
        let n = d.hidden.max(1);
        match d.severity {
            Severity::Error => (e + n, w),
            Severity::Warning => (e, w + n),
        }
    })
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            labels: Vec::new(),
            help: None,
            hidden: 0,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn primary_span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or(Span::BUILTIN)
    }
}

/// The most findings of one code kept for one file; the rest are counted
/// and stand as one summary finding. A file of a million identical
/// mistakes (one million `a {}` lines) would otherwise hold gigabytes of
/// diagnostics and print for minutes; the first hundred tell the story.
pub const MAX_PER_CODE_PER_FILE: usize = 100;

/// Findings not kept for one (code, file): how many, where the first was,
/// and their severity.
#[derive(Debug, Clone)]
struct Hidden {
    count: usize,
    first: Span,
    severity: Severity,
}

/// A list of diagnostics collected over a run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
    /// Findings kept per (code, file); never iterated into output.
    kept: std::collections::HashMap<(Code, FileId), usize>,
    hidden: std::collections::BTreeMap<(Code, FileId), Hidden>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Adds a finding, unless [`MAX_PER_CODE_PER_FILE`] of its code in its
    /// file are kept already: then it is only counted, and the lists this
    /// gives out end with one summary per (code, file) saying how many
    /// were not shown. A summary pushed here (from another list) adds its
    /// count.
    pub fn push(&mut self, d: Diagnostic) {
        let key = (d.code, d.primary_span().file);
        if d.hidden > 0 {
            let h = self.hidden.entry(key).or_insert(Hidden {
                count: 0,
                first: d.primary_span(),
                severity: d.severity,
            });
            h.count += d.hidden;
            return;
        }
        let kept = self.kept.entry(key).or_insert(0);
        if *kept < MAX_PER_CODE_PER_FILE {
            *kept += 1;
            self.list.push(d);
            return;
        }
        let h = self.hidden.entry(key).or_insert(Hidden {
            count: 0,
            first: d.primary_span(),
            severity: d.severity,
        });
        h.count += 1;
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        for d in other {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
            || self.hidden.values().any(|h| h.severity == Severity::Error)
    }

    /// Whether there is an error of a code other than `except` (the ones
    /// not kept included): `siteconf lock` writes despite the error it
    /// repairs itself.
    pub fn has_errors_except(&self, except: Code) -> bool {
        self.list
            .iter()
            .any(|d| d.severity == Severity::Error && d.code != except)
            || self
                .hidden
                .iter()
                .any(|((code, _), h)| h.severity == Severity::Error && *code != except)
    }

    /// Every error, the ones not kept included.
    pub fn error_count(&self) -> usize {
        self.list
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
            + self
                .hidden
                .values()
                .filter(|h| h.severity == Severity::Error)
                .map(|h| h.count)
                .sum::<usize>()
    }

    /// Every warning, the ones not kept included.
    pub fn warning_count(&self) -> usize {
        self.list
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
            + self
                .hidden
                .values()
                .filter(|h| h.severity == Severity::Warning)
                .map(|h| h.count)
                .sum::<usize>()
    }

    /// The findings kept (summaries not counted).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.hidden.is_empty()
    }

    /// The findings kept, without the summaries.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    /// The kept findings followed by one summary per (code, file) that
    /// had more than [`MAX_PER_CODE_PER_FILE`].
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut list = self.list;
        for ((code, _), h) in self.hidden {
            let mut d = Diagnostic::error(
                code,
                format!(
                    "{} more {} finding(s) in this file are not shown: only the first {MAX_PER_CODE_PER_FILE} of a code are kept per file",
                    h.count,
                    code.as_str()
                ),
            )
            .help("the same mistake is probably repeated: fix the ones shown, then run check again");
            d.severity = h.severity;
            d.hidden = h.count;
            if !h.first.is_builtin() {
                d = d.label(h.first, "the first one not shown");
            }
            list.push(d);
        }
        list
    }

    /// Sorts by (file path, line, column, code, message) and drops exact
    /// duplicates, so that output is stable whatever order rules ran in.
    /// Summaries of findings not kept come with the rest.
    pub fn sorted(self, sources: &SourceMap) -> Vec<Diagnostic> {
        let mut list = self.finish();
        let key = |d: &Diagnostic| {
            let s = d.primary_span();
            let path = sources
                .get(s.file)
                .map(|f| f.path.clone())
                .unwrap_or_default();
            (path, s.start, d.code, d.message.clone())
        };
        list.sort_by_cached_key(key);
        list.dedup();
        list
    }

    /// Keeps only the diagnostics `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.list.retain(keep);
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.finish()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.finish().into_iter()
    }
}

/// Up to `max` items as `a, b and c`, the rest counted (`a, b and 3
/// more`); empty for none. For messages that name what they are about.
pub fn and_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(max);
    match (shown.split_last(), more) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => (*last).to_string(),
        (Some((last, init)), 0) => format!("{} and {last}", init.join(", ")),
        _ => format!("{} and {more} more", shown.join(", ")),
    }
}

/// "did you mean `x`?" for a misspelt name, from the candidates given.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(wrong, c);
        if score > 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn and_list_names_a_few_and_counts_the_rest() {
        let l = |items: &[&str], max| super::and_list(items, max);
        assert_eq!(l(&[], 3), "");
        assert_eq!(l(&["a"], 3), "a");
        assert_eq!(l(&["a", "b"], 3), "a and b");
        assert_eq!(l(&["a", "b", "c"], 3), "a, b and c");
        assert_eq!(l(&["a", "b", "c", "d", "e"], 3), "a, b, c and 2 more");
    }
}
