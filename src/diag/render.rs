//! Rendering diagnostics: miette's graphical report for people, JSON for
//! CI and editors. Spans become line/column only here.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::syntax::{SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Always,
    Never,
}

/// One file's text under its project-relative name, borrowed for the
/// length of one report (miette's `NamedSource` wants to own it).
struct FileSource<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The miette view of one diagnostic: the labels in the primary file go on
/// the main report, labels in other files become related reports.
struct Report<'a> {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<&'a str>,
    source: Option<FileSource<'a>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn source_of(sources: &SourceMap, span: Span) -> Option<FileSource<'_>> {
    sources.get(span.file).map(|f| FileSource {
        name: &f.path,
        text: &f.text,
    })
}

fn labeled(span: Span, message: &str, primary: bool) -> LabeledSpan {
    let text = if message.is_empty() {
        None
    } else {
        Some(message.to_string())
    };
    let s = SourceSpan::new((span.start as usize).into(), span.len());
    if primary {
        LabeledSpan::new_primary_with_span(text, s)
    } else {
        LabeledSpan::new_with_span(text, s)
    }
}

fn to_report<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> Report<'a> {
    let primary = d.primary_span();
    let mut labels = Vec::new();
    let mut related = Vec::new();
    for (i, l) in d.labels.iter().enumerate() {
        if l.span.is_builtin() {
            continue;
        }
        if l.span.file == primary.file {
            labels.push(labeled(l.span, &l.message, i == 0));
        } else {
            related.push(Report {
                message: format!("{} ({})", l.message, sources.locate(l.span)),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: source_of(sources, l.span),
                labels: vec![labeled(l.span, &l.message, true)],
                related: Vec::new(),
            });
        }
    }
    Report {
        message: d.message.clone(),
        code: Some(d.code.as_str().to_string()),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: d.help.as_deref(),
        source: if primary.is_builtin() {
            None
        } else {
            source_of(sources, primary)
        },
        labels,
        related,
    }
}

/// The graphical report of every diagnostic, in the order given.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: ColorChoice) -> String {
    let theme = match color {
        ColorChoice::Always => GraphicalTheme::unicode(),
        ColorChoice::Never => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let report = to_report(d, sources);
        if handler.render_report(&mut out, &report).is_err() {
            // The handler only fails on a formatter error; fall back to a plain line.
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct JsonLabel {
    file: Option<String>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: String,
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    file: Option<String>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    labels: Vec<JsonLabel>,
    help: Option<&'a str>,
}

fn json_label(sources: &SourceMap, span: Span, message: &str) -> JsonLabel {
    match sources.get(span.file) {
        Some(f) => {
            let (line, column) = f.line_col(span.start);
            let (end_line, end_column) = f.line_col(span.end);
            JsonLabel {
                file: Some(f.path.clone()),
                line,
                column,
                end_line,
                end_column,
                message: message.to_string(),
            }
        }
        None => JsonLabel {
            file: None,
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            message: message.to_string(),
        },
    }
}

/// Diagnostics as JSON values (an array), for `--format json`.
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let list: Vec<JsonDiag> = diags
        .iter()
        .map(|d| {
            let p = json_label(sources, d.primary_span(), "");
            JsonDiag {
                code: d.code.as_str(),
                name: d.code.name(),
                severity: d.severity,
                message: &d.message,
                file: p.file,
                line: p.line,
                column: p.column,
                end_line: p.end_line,
                end_column: p.end_column,
                labels: d
                    .labels
                    .iter()
                    .map(|l| json_label(sources, l.span, &l.message))
                    .collect(),
                help: d.help.as_deref(),
            }
        })
        .collect();
    serde_json::to_value(list).unwrap_or(serde_json::Value::Null)
}

pub fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    serde_json::to_string_pretty(&to_json(diags, sources)).unwrap_or_else(|_| "[]".into())
}
