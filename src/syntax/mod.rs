//! Syntax: site files (KDL or TOML) → one spanned document tree.
//!
//! Both formats parse into the same [`Document`] of [`Node`]s, so lowering
//! (`crate::lower`) and its diagnostics are written once. A node has a name,
//! positional arguments, properties and children, as in KDL; a TOML table
//! `[node.r01n01]` becomes a `node` node whose child `r01n01` holds the
//! fields, and `key = value` becomes a node `key` with one argument.
//!
//! Every name and value keeps its [`Span`]; the text itself stays in the
//! [`SourceMap`] and is only looked at again when a diagnostic is rendered.

pub mod kdl;
pub mod redact;
pub mod toml;

use std::fmt;

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file. Small and `Copy`: the model carries
/// these everywhere and resolves them to line/column only for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// A span that points at nothing in particular (values that come from
    /// built-in defaults rather than from a file).
    pub const BUILTIN: Span = Span {
        file: FileId(u32::MAX),
        start: 0,
        end: 0,
    };

    pub fn is_builtin(self) -> bool {
        self.file.0 == u32::MAX
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One source file: its path relative to the project root (always with `/`)
/// and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<u32>,
    /// For a KDL file that breaks lines with something other than `\n`:
    /// the text with each such line break written as `\n` (padded with
    /// spaces before it to the same byte length), for the snippet renderer,
    /// which splits lines at `\n` only.
    display: Option<String>,
}

/// The line breaks of a file of this path's format, as (offset, length):
/// for KDL, every newline of the KDL spec (CRLF, CR, LF, NEL, FF, LS, PS),
/// so that a line number means what the parser means by one and a file of
/// U+2028-separated lines does not put every finding at "line 1"; for
/// everything else `\n` only (TOML knows no other line break, and a stray
/// U+2028 there is a syntax error at its own place).
fn line_breaks(path: &str, text: &str) -> Vec<(usize, usize)> {
    if !path.ends_with(".kdl") {
        return text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| (i, 1))
            .collect();
    }
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\r' if it.peek().map(|&(_, n)| n) == Some('\n') => {
                it.next();
                out.push((i, 2));
            }
            '\n' | '\r' | '\u{85}' | '\u{0C}' | '\u{2028}' | '\u{2029}' => {
                out.push((i, c.len_utf8()))
            }
            _ => {}
        }
    }
    out
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let path = path.into();
        let text = text.into();
        let breaks = line_breaks(&path, &text);
        let mut line_starts = vec![0u32];
        line_starts.extend(breaks.iter().map(|&(i, n)| (i + n) as u32));
        let display = breaks
            .iter()
            .any(|&(i, n)| !text[i..i + n].ends_with('\n'))
            .then(|| display_text(&text, &breaks));
        SourceFile {
            path,
            text,
            line_starts,
            display,
        }
    }

    /// The text with every line break written as `\n` (same offsets).
    pub fn display_text(&self) -> &str {
        self.display.as_deref().unwrap_or(&self.text)
    }

    /// The byte offset where each line starts.
    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }
}

/// All files read in one compilation, indexed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The values masked by [`SourceMap::redact_secrets`], to scrub from
    /// messages too ([`SourceMap::scrub`]). Never printed.
    masked: Vec<String>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Overwrites the bytes of a span with `*` (same length, so every span
    /// stays valid). Used for secrets written as literals: the diagnostic
    /// about one must not print it in its source snippet.
    pub fn redact(&mut self, span: Span) {
        if let Some(f) = self.files.get_mut(span.file.0 as usize) {
            let (start, end) = (span.start as usize, (span.end as usize).min(f.text.len()));
            if start < end && f.text.is_char_boundary(start) && f.text.is_char_boundary(end) {
                let masked = "*".repeat(end - start);
                f.text.replace_range(start..end, &masked);
                if let Some(d) = &mut f.display {
                    if d.is_char_boundary(start) && d.is_char_boundary(end) {
                        d.replace_range(start..end, &masked);
                    }
                }
            }
        }
    }

    /// Masks every value at a secret-bearing position of a site file (see
    /// [`redact`]): the one redaction every snippet passes through, since
    /// diagnostics only ever show the text kept here. Call it once the
    /// file is parsed.
    pub fn redact_secrets(&mut self, id: FileId, format: Format) {
        let Some(f) = self.files.get(id.0 as usize) else {
            return;
        };
        let ranges = redact::secret_ranges(format, &f.text);
        self.redact_found(id, ranges);
    }

    /// [`SourceMap::redact_secrets`] with the file's secret ranges already
    /// found (`redact::secret_ranges` of its text): the loader finds them
    /// on the thread that parsed the file, and the scan of a large site's
    /// text is no longer done one file after another.
    pub fn redact_found(&mut self, id: FileId, ranges: Vec<redact::Masked>) {
        for redact::Masked {
            start: s,
            end: e,
            scrub,
        } in ranges
        {
            if let Some(v) = self.files[id.0 as usize].text.get(s..e) {
                // Short values (`a`, `1`) are masked in snippets but not
                // scrubbed from messages, where they would mangle words;
                // nor are a private key's short chunks (`redact::KEY_SCRUB_MIN`).
                if scrub && v.chars().count() >= 4 && !self.masked.iter().any(|m| m == v) {
                    self.masked.push(v.to_string());
                }
            }
            self.redact(Span::new(id, s, e));
        }
    }

    /// `text` with every masked value (and its upper-, lower-case and
    /// reversed forms) replaced by `****`. Every message the diagnostic
    /// renderer prints passes through here.
    pub fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        scrub_values(text, self.masked.iter().map(String::as_str))
    }

    /// `path:line:col` of a span, or `<built-in>`.
    pub fn locate(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(f) => {
                let (l, c) = f.line_col(span.start);
                format!("{}:{}:{}", escape_path(&f.path), l, c)
            }
            None => "<built-in>".to_string(),
        }
    }

    /// The source text a span covers.
    pub fn text(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }
}

/// `text` with each line break of `breaks` that is not `\n` (or ends in
/// one, CRLF) replaced by spaces and a `\n` of the same byte length.
fn display_text(text: &str, breaks: &[(usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(i, n) in breaks {
        if bytes[i + n - 1] != b'\n' {
            for b in &mut bytes[i..i + n - 1] {
                *b = b' ';
            }
            bytes[i + n - 1] = b'\n';
        }
    }
    // Whole characters were replaced by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// `text` with each value (of at least 4 characters), and its upper-case,
/// lower-case and reversed forms, replaced by `****`.
pub fn scrub_values<'a, 'v>(
    text: &'a str,
    values: impl Iterator<Item = &'v str>,
) -> std::borrow::Cow<'a, str> {
    let mut out = std::borrow::Cow::Borrowed(text);
    for v in values {
        if v.chars().count() < 4 {
            continue;
        }
        let forms = [
            v.to_string(),
            v.to_uppercase(),
            v.to_lowercase(),
            v.chars().rev().collect::<String>(),
        ];
        for f in forms {
            if out.contains(f.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(f.as_str(), "****"));
            }
        }
    }
    out
}

/// A parsed site file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
}

/// An identifier or string used as a name (node names, property keys,
/// type annotations), with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub text: String,
    pub span: Span,
}

/// A node: `name arg1 arg2 key=value { children }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// KDL type annotation `(type)name`; always `None` from TOML.
    pub ty: Option<Ident>,
    pub name: Ident,
    pub args: Vec<Value>,
    /// Properties in source order. KDL says the rightmost duplicate wins;
    /// the parser keeps all of them so lowering can report duplicates.
    pub props: Vec<(Ident, Value)>,
    /// `None` when the node has no children block at all, `Some(vec![])` for `{}`.
    pub children: Option<Vec<Node>>,
    /// The whole node, from its name (or type annotation) to its end.
    pub span: Span,
}

impl Node {
    pub fn children(&self) -> &[Node] {
        self.children.as_deref().unwrap_or(&[])
    }
}

/// A scalar value with its optional KDL type annotation and span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub ty: Option<Ident>,
    pub scalar: Scalar,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    String(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
    /// A TOML date, time or date-time, as written (`2024-05-01`): no part
    /// of the site model, so lowering refuses it where a value has a type,
    /// and `vars` says it becomes a string. Never from KDL.
    Datetime(String),
}

impl Scalar {
    /// What a user calls this kind of value, for "expected X, found Y".
    pub fn kind(&self) -> &'static str {
        match self {
            Scalar::String(_) => "a string",
            Scalar::Int(_) => "an integer",
            Scalar::Float(_) => "a number",
            Scalar::Bool(_) => "a boolean",
            Scalar::Null => "#null",
            Scalar::Datetime(_) => "a date or time",
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::String(s) => write!(f, "{s:?}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Bool(b) => write!(f, "#{b}"),
            Scalar::Null => write!(f, "#null"),
            Scalar::Datetime(d) => write!(f, "{d}"),
        }
    }
}

/// A syntax error: message and span, from either parser.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

/// Site file formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Kdl,
    Toml,
}

impl Format {
    pub fn from_path(path: &str) -> Option<Format> {
        if path.ends_with(".kdl") {
            Some(Format::Kdl)
        } else if path.ends_with(".toml") {
            Some(Format::Toml)
        } else {
            None
        }
    }
}

/// Parses one file. Returns whatever document could be recovered plus every
/// syntax error found; a file with errors is still lowered as far as it goes
/// only when the parser could recover (TOML); for KDL an error yields an
/// empty document so no follow-on noise is reported.
pub fn parse(format: Format, file: FileId, text: &str) -> (Document, Vec<SyntaxError>) {
    match format {
        Format::Kdl => match kdl::parse(file, text) {
            Ok(doc) => (doc, Vec::new()),
            Err(errors) => (Document::default(), errors),
        },
        Format::Toml => toml::parse(file, text),
    }
}

/// A file name as siteconf prints it: every control character — newline,
/// tab, ESC, BEL, DEL, the C1 range — as `\u{..}`. A name is whatever a
/// merge request commits; printed raw, `ESC [` drives the terminal and a
/// newline starts a line of its own (one beginning with three backticks
/// closes the code fence a CI job pastes the report into, and what follows
/// reads as the job's own words). Every path that reaches a message, a
/// snippet's header or a note passes through here.
pub fn escape_path(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
