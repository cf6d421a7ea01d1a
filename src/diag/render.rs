//! Rendering diagnostics: miette's graphical report for people, JSON for
//! CI and editors. Spans become line/column only here.

use std::borrow::Cow;
use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::syntax::{SourceFile, SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Always,
    Never,
}

/// One file's text under its project-relative name, borrowed for the
/// length of one report (miette's `NamedSource` wants to own it).
struct FileSource<'a> {
    /// The name as printed ([`super::escape_path`]).
    name: Cow<'a, str>,
    file: &'a SourceFile,
}

impl SourceCode for FileSource<'_> {
    /// miette finds the lines around a span by scanning the text from its
    /// start, which is quadratic over many diagnostics in a large file (a
    /// 10,000-node site file is megabytes). So only the lines of context
    /// are handed to it, and its answer is shifted back to file offsets
    /// and line numbers (found by the file's line index).
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // The display text: line breaks other than `\n` (KDL's U+2028 and
        // the like) are `\n` there, at the same offsets, so miette sees the
        // lines the file's line index counts.
        let text = self.file.display_text();
        let off = span.offset().min(text.len());
        let span_end = (off + span.len()).min(text.len());
        if !text.is_char_boundary(off) || !text.is_char_boundary(span_end) {
            return Err(MietteError::OutOfBounds);
        }
        // Lines by the file's index (a binary search, not a scan: a file of
        // one 9 MB line must not be scanned once per finding).
        let starts = self.file.line_starts();
        let line_of = |at: usize| match starts.binary_search(&(at as u32)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        // One line more each side than asked: miette decides the context
        // itself and counts lines up to where the next one starts.
        let first = line_of(off).saturating_sub(before + 1);
        let start = starts[first] as usize;
        let last = line_of(span_end) + after + 2;
        let end = starts.get(last).map_or(text.len(), |&e| e as usize);
        let window = &text[start..end];
        let local = SourceSpan::new((off - start).into(), span_end - off);
        let inner = window.read_span(&local, before, after)?;
        let (first_line, _) = self.file.line_col(start as u32);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + first_line - 1,
            inner.column(),
            // miette's own reader counts lines from the top of the file
            // (its handler relies on that to merge nearby snippets).
            inner.line_count() + first_line - 1,
        )))
    }
}

/// The miette view of one diagnostic: the labels in the primary file go on
/// the main report, labels in other files become related reports.
struct Report<'a> {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<Cow<'a, str>>,
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
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
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
        name: super::escape_path(&f.path),
        file: f,
    })
}

/// `s` with control characters other than newline and tab escaped
/// (`\u{1b}`): names from site files reach messages, and a NUL or an
/// escape sequence must show as what it is, not act on the terminal.
fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn labeled(span: Span, message: &str, primary: bool) -> LabeledSpan {
    let text = if message.is_empty() {
        None
    } else {
        Some(visible(message).into_owned())
    };
    let s = SourceSpan::new((span.start as usize).into(), span.len());
    if primary {
        LabeledSpan::new_primary_with_span(text, s)
    } else {
        LabeledSpan::new_with_span(text, s)
    }
}

/// The most labels (source excerpts) one diagnostic shows on a terminal.
/// A finding can have thousands (a cycle through 10,000 profiles): drawing
/// them all takes minutes and buries the message; JSON keeps them all.
const MAX_LABELS_SHOWN: usize = 64;

fn to_report<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> Report<'a> {
    let primary = d.primary_span();
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let mut hidden = 0;
    for (i, l) in d.labels.iter().enumerate() {
        if l.span.is_builtin() {
            continue;
        }
        if i >= MAX_LABELS_SHOWN {
            hidden += 1;
            continue;
        }
        if l.span.file == primary.file {
            labels.push(labeled(l.span, &l.message, i == 0));
        } else {
            related.push(Report {
                message: format!("{} ({})", visible(&l.message), sources.locate(l.span)),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: source_of(sources, l.span),
                labels: vec![labeled(l.span, &l.message, true)],
                related: Vec::new(),
            });
        }
    }
    let mut help = d.help.as_deref().map(visible);
    if hidden > 0 {
        let more = format!("{hidden} more place(s) not shown; `--format json` lists every one");
        help = Some(Cow::Owned(match help {
            Some(h) => format!("{h}\n{more}"),
            None => more,
        }));
    }
    Report {
        message: visible(&d.message).into_owned(),
        code: Some(d.code.as_str().to_string()),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help,
        source: if primary.is_builtin() {
            None
        } else {
            source_of(sources, primary)
        },
        labels,
        related,
    }
}

/// The diagnostics with every value masked in the sources (a literal
/// secret) scrubbed from their messages, help and labels: the redaction
/// layer every printed message passes through, human or JSON.
fn scrubbed<'a>(
    diags: &'a [Diagnostic],
    sources: &SourceMap,
) -> std::borrow::Cow<'a, [Diagnostic]> {
    let dirty = |s: &str| matches!(sources.scrub(s), std::borrow::Cow::Owned(_));
    let any = diags.iter().any(|d| {
        dirty(&d.message)
            || d.help.as_deref().is_some_and(dirty)
            || d.labels.iter().any(|l| dirty(&l.message))
    });
    if !any {
        return std::borrow::Cow::Borrowed(diags);
    }
    std::borrow::Cow::Owned(
        diags
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.message = sources.scrub(&d.message).into_owned();
                d.help = d.help.map(|h| sources.scrub(&h).into_owned());
                for l in &mut d.labels {
                    l.message = sources.scrub(&l.message).into_owned();
                }
                d
            })
            .collect(),
    )
}

/// The graphical report of every diagnostic, in the order given.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: ColorChoice) -> String {
    let diags = &*scrubbed(diags, sources);
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
            out.push_str(&format!("{}: {}\n", d.code, visible(&d.message)));
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
    let diags = &*scrubbed(diags, sources);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_of_labels_are_cut_to_a_readable_report() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!("profile p{i} {{ include p{}; }}\n", i + 1));
        }
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new("site/a.kdl", text.clone()));
        let mut d = Diagnostic::error(super::super::Code::ProfileCycle, "cycle");
        let mut at = 0usize;
        for line in text.lines() {
            d = d.label(Span::new(id, at, at + 7), "here");
            at += line.len() + 1;
        }
        let out = render_human(&[d.clone()], &sources, ColorChoice::Never);
        assert_eq!(out.matches("here").count(), MAX_LABELS_SHOWN, "{out}");
        assert!(
            out.contains("936 more place(s) not shown; `--format json` lists every one"),
            "{out}"
        );
        let json = render_json(&[d], &sources);
        assert_eq!(json.matches("\"here\"").count(), 1000);
    }

    #[test]
    fn control_characters_from_site_files_are_shown_escaped() {
        assert_eq!(visible("plain\n\ttext"), "plain\n\ttext");
        assert_eq!(visible("a\0b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        let d = Diagnostic::error(
            super::super::Code::InvalidHostname,
            "`a\0\u{1b}]0;x\u{7}` is bad",
        )
        .help("h\u{1b}");
        let text = render_human(&[d], &SourceMap::default(), ColorChoice::Never);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("`a\\u{0}\\u{1b}]0;x\\u{7}` is bad"), "{text}");
        assert!(text.contains("h\\u{1b}"), "{text}");
    }

    #[test]
    fn a_file_name_is_printed_escaped_in_the_snippet_header() {
        let mut sources = SourceMap::default();
        let name = "site/a\u{1b}[31m\u{7}\n```\n# gate: pass.kdl";
        let id = sources.add(SourceFile::new(name, "node {\n".to_string()));
        let d =
            Diagnostic::error(super::super::Code::Syntax, "bad").label(Span::new(id, 5, 6), "here");
        let text = render_human(&[d], &sources, ColorChoice::Never);
        assert!(
            text.contains("site/a\\u{1b}[31m\\u{7}\\u{a}```\\u{a}# gate: pass.kdl:1:6"),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("```")), "{text}");
        assert_eq!(
            sources.locate(Span::new(id, 0, 1)),
            "site/a\\u{1b}[31m\\u{7}\\u{a}```\\u{a}# gate: pass.kdl:1:1"
        );
    }

    /// Reading a window gives what miette reads from the whole text.
    #[test]
    fn windowed_read_span_matches_the_whole_text() {
        let mut text = String::new();
        for i in 0..300 {
            let eol = if i % 7 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!("line {i} {}{eol}", "é".repeat(i % 4)));
        }
        text.push_str("last line, no newline");
        let file = SourceFile::new("f.kdl", text.clone());
        let src = FileSource {
            name: Cow::Borrowed("f.kdl"),
            file: &file,
        };
        let starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
        let spans = [
            (0, 4),
            (starts[0], 6),
            (starts[150] + 2, 3),
            (starts[150], starts[153] - starts[150] + 4),
            (starts[298], text.len() - starts[298]),
            (text.len(), 0),
        ];
        for (off, len) in spans {
            for (before, after) in [(0, 0), (1, 1), (3, 2), (20, 20)] {
                let s = SourceSpan::new(off.into(), len);
                let want = text.as_str().read_span(&s, before, after).unwrap();
                let got = src.read_span(&s, before, after).unwrap();
                assert_eq!(got.data(), want.data(), "{off}+{len} ({before},{after})");
                assert_eq!(got.span(), want.span());
                assert_eq!(got.line(), want.line());
                assert_eq!(got.column(), want.column());
                assert_eq!(
                    got.line_count(),
                    want.line_count(),
                    "{off}+{len} ({before},{after})"
                );
                assert_eq!(got.name(), Some("f.kdl"));
            }
        }
    }
}
