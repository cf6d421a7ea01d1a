//! Strings and keywords: bare identifiers, `"quoted"` strings with escapes,
//! `#"raw"#` strings, their `"""` multi-line forms, and `#true`-style
//! keywords.
//!
//! Single-line strings are the hot path: a table-driven scan finds the
//! closing quote, and a string without escapes costs one allocation.
//! Multi-line strings are rare, so they take a simpler route: build the
//! "logical" text (newlines normalised to `\n`, whitespace escapes removed,
//! other escapes kept verbatim), dedent it by the closing line's
//! whitespace, then resolve the escapes.

use super::chars::{class, is_unicode_space, newline_len, space_len, LINE_STOP, STR_STOP};
use super::{PResult, Parser, Scalar, SyntaxError};

const ESCAPES_HELP: &str = "valid escapes are `\\n`, `\\r`, `\\t`, `\\\\`, `\\\"`, `\\b`, `\\f`, \
                            `\\s`, `\\u{…}`, and `\\` before whitespace or a newline (which \
                            removes the whitespace)";

impl Parser<'_> {
    /// A bare identifier (`unambiguous-ident | signed-ident | dotted-ident`),
    /// at its first character (already known to be a valid start).
    pub(super) fn ident(&mut self) -> PResult<String> {
        let start = self.pos;
        self.scan_ident_chars();
        let text = self.slice(start, self.pos);
        if matches!(text, "true" | "false" | "null" | "inf" | "-inf" | "nan") {
            return Err(self.error(
                start,
                self.pos,
                format!("bare identifier `{text}` must be written `#{text}`"),
                Some(format!(
                    "KDL v2 spells keywords with `#`; to mean the string, quote it: `\"{text}\"`"
                )),
            ));
        }
        Ok(text.to_owned())
    }

    /// Moves past `identifier-char`s.
    fn scan_ident_chars(&mut self) {
        loop {
            match self.b.get(self.pos) {
                Some(&b) if b < 0x80 => {
                    if class(b) & super::IDENT == 0 {
                        return;
                    }
                    self.pos += 1;
                }
                Some(_) => match self.char_at(self.pos) {
                    Some(c) if super::is_ident_char(c) => self.pos += c.len_utf8(),
                    _ => return,
                },
                None => return,
            }
        }
    }

    /// `#true`, `#false`, `#null`, `#inf`, `#-inf`, `#nan`, at the `#`.
    pub(super) fn keyword(&mut self) -> PResult<Scalar> {
        let start = self.pos;
        self.pos += 1;
        self.scan_ident_chars();
        let scalar = match self.slice(start + 1, self.pos) {
            "true" => Scalar::Bool(true),
            "false" => Scalar::Bool(false),
            "null" => Scalar::Null,
            "inf" => Scalar::Float(f64::INFINITY),
            "-inf" => Scalar::Float(f64::NEG_INFINITY),
            "nan" => Scalar::Float(f64::NAN),
            word => {
                let end = if word.is_empty() {
                    self.char_end(self.pos)
                } else {
                    self.pos
                };
                return Err(self.error(
                    start,
                    end.max(start + 1),
                    format!("unknown keyword `{}`", self.slice(start, end)),
                    Some(
                        "the keywords are `#true`, `#false`, `#null`, `#inf`, `#-inf` and \
                         `#nan`; raw strings are written `#\"…\"#`"
                            .into(),
                    ),
                ));
            }
        };
        Ok(scalar)
    }

    /// A `"…"` or `"""…"""` string, at the first `"`.
    pub(super) fn quoted_string(&mut self) -> PResult<String> {
        let open = self.pos;
        if self.peek_at(1) == Some(b'"') && self.peek_at(2) == Some(b'"') {
            return self.multiline_quoted(open);
        }
        self.pos += 1;
        // Only strings with escapes need a buffer of their own.
        let mut out: Option<String> = None;
        let mut seg = self.pos;
        loop {
            while let Some(&b) = self.b.get(self.pos) {
                if class(b) & STR_STOP != 0 {
                    break;
                }
                self.pos += 1;
            }
            let Some(b) = self.peek() else {
                return Err(self.unterminated_string(open, self.pos));
            };
            match b {
                b'"' => {
                    let tail = self.slice(seg, self.pos);
                    self.pos += 1;
                    return Ok(match out {
                        Some(mut s) => {
                            s.push_str(tail);
                            s
                        }
                        None => tail.to_owned(),
                    });
                }
                b'\\' => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(self.slice(seg, self.pos));
                    self.escape(open, s)?;
                    seg = self.pos;
                }
                _ => {
                    if newline_len(self.b, self.pos) > 0 {
                        return Err(self.unterminated_string(open, self.pos));
                    }
                    self.advance_checked()?;
                }
            }
        }
    }

    fn unterminated_string(&self, open: usize, at: usize) -> Box<SyntaxError> {
        self.error(
            open,
            at.max(open + 1),
            "unterminated string",
            Some(
                "close it with `\"` on the same line; for a line break write `\\n`, or use a \
                 multi-line string `\"\"\"`"
                    .into(),
            ),
        )
    }

    /// One escape sequence, at the `\`, appended to `out`. `open` is the
    /// string's opening quote, for "unterminated" errors.
    fn escape(&mut self, open: usize, out: &mut String) -> PResult<()> {
        let bs = self.pos;
        let simple = match self.peek_at(1) {
            None => return Err(self.unterminated_string(open, bs)),
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'\\') => '\\',
            Some(b'"') => '"',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{C}',
            Some(b's') => ' ',
            Some(b'u') => {
                let (c, end) = self.unicode_escape(bs)?;
                out.push(c);
                self.pos = end;
                return Ok(());
            }
            Some(_) => {
                // `\` + whitespace/newlines: the whole run is removed.
                self.pos = bs + 1;
                if self.skip_escaped_whitespace() {
                    return Ok(());
                }
                return Err(self.invalid_escape(bs));
            }
        };
        out.push(simple);
        self.pos = bs + 2;
        Ok(())
    }

    /// Skips `(unicode-space | newline)*`; returns whether any was skipped.
    fn skip_escaped_whitespace(&mut self) -> bool {
        let start = self.pos;
        loop {
            let n = space_len(self.b, self.pos).max(newline_len(self.b, self.pos));
            if n == 0 {
                return self.pos != start;
            }
            self.pos += n;
        }
    }

    fn invalid_escape(&self, bs: usize) -> Box<SyntaxError> {
        let end = self.char_end(bs + 1).max(bs + 1);
        let seq = self.slice(bs, end);
        let help = if seq == "\\/" {
            format!("`\\/` was removed in KDL v2: write `/`; {ESCAPES_HELP}")
        } else {
            ESCAPES_HELP.to_string()
        };
        self.error(bs, end, format!("invalid escape `{seq}`"), Some(help))
    }

    /// `\u{…}` at `bs` (the `\`): the character and the offset after `}`.
    fn unicode_escape(&self, bs: usize) -> PResult<(char, usize)> {
        let help = || {
            Some(
                "write a Unicode escape as `\\u{` + 1 to 6 hex digits + `}`, e.g. `\\u{1F600}`"
                    .to_string(),
            )
        };
        let mut p = bs + 2;
        if self.b.get(p) != Some(&b'{') {
            return Err(self.error(
                bs,
                p,
                "invalid unicode escape: expected `{` after `\\u`",
                help(),
            ));
        }
        p += 1;
        let digits = p;
        while self.b.get(p).is_some_and(u8::is_ascii_hexdigit) && p - digits <= 6 {
            p += 1;
        }
        let n = p - digits;
        let close = self.b.get(p) == Some(&b'}');
        if n == 0 || n > 6 || !close {
            let end = if close {
                p + 1
            } else {
                self.char_end(p).max(p)
            };
            let what = if n == 0 {
                "no hex digits"
            } else if n > 6 {
                "more than 6 hex digits"
            } else {
                "missing `}`"
            };
            return Err(self.error(bs, end, format!("invalid unicode escape: {what}"), help()));
        }
        let value = u32::from_str_radix(self.slice(digits, p), 16).unwrap_or(u32::MAX);
        match char::from_u32(value) {
            Some(c) => Ok((c, p + 1)),
            None => Err(self.error(
                bs,
                p + 1,
                format!(
                    "invalid unicode escape `{}`: not a Unicode scalar value",
                    self.slice(bs, p + 1)
                ),
                Some("surrogates (D800–DFFF) and values above 10FFFF cannot be escaped".into()),
            )),
        }
    }

    /// `#"…"#` (any number of `#`), or its multi-line form, at the first `#`.
    pub(super) fn raw_string(&mut self) -> PResult<String> {
        let open = self.pos;
        let mut p = open;
        while self.b.get(p) == Some(&b'#') {
            p += 1;
        }
        let hashes = p - open;
        if self.b.get(p) != Some(&b'"') {
            return Err(self.error(
                open,
                self.char_end(p).max(p),
                format!(
                    "expected `\"` after `{}` to start a raw string",
                    self.slice(open, p)
                ),
                Some(
                    "raw strings are written `#\"…\"#`; keywords like `#true` take one `#`".into(),
                ),
            ));
        }
        if self.b.get(p + 1) == Some(&b'"') && self.b.get(p + 2) == Some(&b'"') {
            return self.multiline_raw(open, hashes, p);
        }
        p += 1;
        let body = p;
        self.pos = p;
        loop {
            while let Some(&b) = self.b.get(self.pos) {
                if b == b'"' || class(b) & LINE_STOP != 0 {
                    break;
                }
                self.pos += 1;
            }
            match self.peek() {
                None => return Err(self.unterminated_raw(open, body, hashes)),
                Some(b'"') => {
                    let close = self.pos;
                    if self.hashes_at(close + 1, hashes) {
                        self.pos = close + 1 + hashes;
                        return Ok(self.slice(body, close).to_owned());
                    }
                    self.pos += 1;
                }
                Some(_) => {
                    if newline_len(self.b, self.pos) > 0 {
                        return Err(self.unterminated_raw(open, body, hashes));
                    }
                    self.advance_checked()?;
                }
            }
        }
    }

    /// Whether `n` `#` characters start at `pos`.
    fn hashes_at(&self, pos: usize, n: usize) -> bool {
        self.b
            .get(pos..pos + n)
            .is_some_and(|h| h.iter().all(|&b| b == b'#'))
    }

    fn unterminated_raw(&self, open: usize, body: usize, hashes: usize) -> Box<SyntaxError> {
        self.error(
            open,
            body,
            "unterminated raw string",
            Some(format!(
                "close it on the same line with `\"{}`; for several lines use `{}\"\"\"` … \
                 `\"\"\"{}`",
                "#".repeat(hashes),
                "#".repeat(hashes),
                "#".repeat(hashes)
            )),
        )
    }

    fn multiline_opener_error(&self, open: usize, quotes_end: usize) -> Box<SyntaxError> {
        self.error(
            open,
            quotes_end,
            "the opening `\"\"\"` of a multi-line string must be followed by a newline",
            Some(
                "start the text on the next line, or use a single-line string: `\"…\"` (a `\"` \
                 inside it is written `\\\"`)"
                    .into(),
            ),
        )
    }

    /// `"""` newline … newline ws `"""`, at the first `"`.
    fn multiline_quoted(&mut self, open: usize) -> PResult<String> {
        let mut p = open + 3;
        let nl = newline_len(self.b, p);
        if nl == 0 {
            return Err(self.multiline_opener_error(open, open + 3));
        }
        p += nl;
        let mut logical = String::new();
        let mut line_starts = vec![p];
        let close = loop {
            let Some(&b) = self.b.get(p) else {
                return Err(self.unterminated_multiline(open, open + 3, ""));
            };
            match b {
                b'"' if self.b.get(p + 1) == Some(&b'"') && self.b.get(p + 2) == Some(&b'"') => {
                    break p;
                }
                b'\\' => {
                    self.pos = p + 1;
                    if self.skip_escaped_whitespace() {
                        p = self.pos;
                        continue;
                    }
                    match self.b.get(p + 1) {
                        None => return Err(self.unterminated_multiline(open, open + 3, "")),
                        Some(b'n' | b'r' | b't' | b'\\' | b'"' | b'b' | b'f' | b's') => {
                            // Kept verbatim: resolved after dedenting, so
                            // `\s` or `\t` never counts as indentation.
                            logical.push_str(self.slice(p, p + 2));
                            p += 2;
                        }
                        Some(b'u') => {
                            let (_, end) = self.unicode_escape(p)?;
                            logical.push_str(self.slice(p, end));
                            p = end;
                        }
                        Some(_) => return Err(self.invalid_escape(p)),
                    }
                }
                _ => {
                    let n = newline_len(self.b, p);
                    if n > 0 {
                        logical.push('\n');
                        p += n;
                        line_starts.push(p);
                        continue;
                    }
                    self.pos = p;
                    self.advance_checked()?;
                    logical.push_str(self.slice(p, self.pos));
                    p = self.pos;
                }
            }
        };
        self.pos = close + 3;
        let dedented = self.dedent(&logical, &line_starts, close, 3)?;
        Ok(unescape(&dedented))
    }

    fn unterminated_multiline(&self, open: usize, end: usize, hashes: &str) -> Box<SyntaxError> {
        self.error(
            open,
            end,
            "unterminated multi-line string",
            Some(format!(
                "close it with `\"\"\"{hashes}` on a line of its own (only whitespace before it)"
            )),
        )
    }

    /// `#"""` newline … newline ws `"""#`; `q` is the first `"`.
    fn multiline_raw(&mut self, open: usize, hashes: usize, q: usize) -> PResult<String> {
        let mut p = q + 3;
        let nl = newline_len(self.b, p);
        if nl == 0 {
            return Err(self.multiline_opener_error(open, q + 3));
        }
        p += nl;
        let mut logical = String::new();
        let mut line_starts = vec![p];
        let close = loop {
            let Some(&b) = self.b.get(p) else {
                let h = "#".repeat(hashes);
                return Err(self.unterminated_multiline(open, q + 3, &h));
            };
            if b == b'"'
                && self.b.get(p + 1) == Some(&b'"')
                && self.b.get(p + 2) == Some(&b'"')
                && self.hashes_at(p + 3, hashes)
            {
                break p;
            }
            let n = newline_len(self.b, p);
            if n > 0 {
                logical.push('\n');
                p += n;
                line_starts.push(p);
                continue;
            }
            self.pos = p;
            self.advance_checked()?;
            logical.push_str(self.slice(p, self.pos));
            p = self.pos;
        };
        self.pos = close + 3 + hashes;
        self.dedent(&logical, &line_starts, close, 3 + hashes)
    }

    /// Multi-line string dedent. `logical` holds the lines between the
    /// opening and closing quotes; the last one, before the closing quotes
    /// (at `close`, `close_len` bytes), must be whitespace and is the prefix
    /// every other non-blank line must start with. Blank lines become empty.
    /// `line_starts[i]` is where line `i` starts in the source (for errors).
    fn dedent(
        &self,
        logical: &str,
        line_starts: &[usize],
        close: usize,
        close_len: usize,
    ) -> PResult<String> {
        let (body, prefix) = match logical.rfind('\n') {
            Some(i) => (Some(&logical[..i]), &logical[i + 1..]),
            None => (None, logical),
        };
        if !prefix.chars().all(is_unicode_space) {
            return Err(self.error(
                close,
                close + close_len,
                "the closing `\"\"\"` of a multi-line string must be on a line of its own",
                Some("only whitespace may come before the closing quotes on their line".into()),
            ));
        }
        let Some(body) = body else {
            return Ok(String::new());
        };
        let mut out = String::with_capacity(body.len());
        for (i, line) in body.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            if line.chars().all(is_unicode_space) {
                continue;
            }
            match line.strip_prefix(prefix) {
                Some(rest) => out.push_str(rest),
                None => {
                    let at = line_starts.get(i).copied().unwrap_or(close);
                    return Err(self.error(
                        at,
                        self.char_end(at).max(at),
                        "this line of a multi-line string is not indented like its closing \
                         `\"\"\"`",
                        Some(format!(
                            "every non-blank line must start with exactly the whitespace before \
                             the closing quotes ({})",
                            describe_prefix(prefix)
                        )),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// "4 spaces", "1 tab, 2 spaces", … for the dedent error.
fn describe_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        return "none".into();
    }
    let mut parts: Vec<(String, usize)> = Vec::new();
    for c in prefix.chars() {
        let name = match c {
            ' ' => "space".to_string(),
            '\t' => "tab".to_string(),
            c => format!("U+{:04X}", c as u32),
        };
        match parts.last_mut() {
            Some((n, k)) if *n == name => *k += 1,
            _ => parts.push((name, 1)),
        }
    }
    parts
        .into_iter()
        .map(|(n, k)| {
            if k == 1 {
                format!("1 {n}")
            } else {
                format!("{k} {n}s")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves the escapes a multi-line string kept verbatim. They were all
/// validated while scanning, so anything unexpected is copied unchanged.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{C}'),
            Some('s') => out.push(' '),
            Some('u') => {
                let rest = chars.as_str();
                let parsed = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(hex, _)| {
                        let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        Some((c, hex.len() + 2))
                    });
                match parsed {
                    Some((c, len)) => {
                        out.push(c);
                        chars = rest.get(len..).unwrap_or("").chars();
                    }
                    None => out.push_str("\\u"),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
