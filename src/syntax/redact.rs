//! Where a site file holds a secret's value, found from its raw text.
//!
//! A site file names secrets (`password secret="bgp-x"`); a literal where a
//! reference belongs is an error (SC0605), and its text must never be
//! printed: not in the error's snippet, not in the snippet of any other
//! diagnostic that happens to show that line, not in a syntax error's
//! message. So the masking does not depend on how the mistake is written
//! nor on the file parsing: this scanner works on tokens of the raw text
//! and finds every value at a *secret-bearing position* — anything under a
//! key named `password`, however written — except the name given to
//! `secret`:
//!
//! ```text
//! password "hunter2"                    password value="hunter2"
//! password "a" "hunter2"                password { value "hunter2"; }
//! password = "hunter2"                  password = ["a", "hunter2"]
//! password = { value = "hunter2" }      [bgp-peer.x.password] value = "hunter2"
//! password secret="name"   (kept)       password = { secret = "name" }   (kept)
//! ```
//!
//! The caller masks the returned ranges in the text it keeps for
//! diagnostics ([`super::SourceMap::redact_secrets`]) and remembers the
//! values so that messages quoting them are scrubbed too.

use super::Format;

/// The key that makes a position secret-bearing.
const SECRET_KEY: &str = "password";
/// The key whose value is a reference (a name), not a secret.
const REFERENCE_KEY: &str = "secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A quoted string; `.1` is the range of its contents.
    Str(usize, usize),
    /// A bare word (identifier, number, `#true`).
    Word,
    Punct(u8),
    Newline,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

impl Token {
    /// The value's own bytes: a string's contents, or the whole word.
    fn value_range(&self) -> Option<(usize, usize)> {
        match self.tok {
            Tok::Str(s, e) => Some((s, e)),
            Tok::Word => Some((self.start, self.end)),
            _ => None,
        }
    }
}

fn word_text<'a>(text: &'a str, t: &Token) -> Option<&'a str> {
    match t.tok {
        Tok::Str(s, e) => text.get(s..e),
        Tok::Word => text.get(t.start..t.end),
        _ => None,
    }
}

/// Tokens of a KDL or TOML file, comments dropped. Unterminated strings
/// run to the end of the file (so a broken file masks more, not less).
fn tokens(format: Format, text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    let punct: &[u8] = match format {
        Format::Kdl => b"{};=()[]",
        Format::Toml => b"{}[]=,.",
    };
    while i < n {
        let c = b[i];
        match c {
            b'\n' => {
                out.push(Token {
                    tok: Tok::Newline,
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' if format == Format::Toml => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if format == Format::Kdl && b.get(i + 1) == Some(&b'/') => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if format == Format::Kdl && b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(n, |p| i + 2 + p + 2);
                i = end;
            }
            b'"' | b'\'' if format == Format::Toml || c == b'"' => {
                let start = i;
                let triple = b[i..].starts_with(&[c, c, c]);
                let q = if triple { 3 } else { 1 };
                let body = i + q;
                let mut j = body;
                let literal = c == b'\'';
                let close = loop {
                    if j >= n {
                        break n;
                    }
                    if b[j] == b'\\' && !literal {
                        j += 2;
                        continue;
                    }
                    if !triple && b[j] == b'\n' {
                        break j;
                    }
                    if b[j..].starts_with(&b[start..start + q]) {
                        break j;
                    }
                    j += 1;
                };
                let close = close.min(n);
                // Unterminated (at a line break or the end): the string
                // stops there, and the line break is still a token.
                let terminated = close < n && b[close] != b'\n';
                let end = if terminated {
                    (close + q).min(n)
                } else {
                    close
                };
                out.push(Token {
                    tok: Tok::Str(body.min(close), close),
                    start,
                    end,
                });
                i = end.max(start + 1);
            }
            b'#' if format == Format::Kdl && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) => {
                // A raw string: #"…"#, ##"…"##, #"""…"""#.
                let start = i;
                let hashes = b[i..].iter().take_while(|&&x| x == b'#').count();
                let mut j = i + hashes;
                if b.get(j) != Some(&b'"') {
                    i = j;
                    continue;
                }
                let triple = b[j..].starts_with(b"\"\"\"");
                let q = if triple { 3 } else { 1 };
                j += q;
                let body = j;
                let closing: Vec<u8> = std::iter::repeat_n(b'"', q)
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let close = b[body..]
                    .windows(closing.len())
                    .position(|w| w == closing.as_slice())
                    .map_or(n, |p| body + p);
                let end = if close >= n { n } else { close + closing.len() };
                out.push(Token {
                    tok: Tok::Str(body, close.min(n)),
                    start,
                    end,
                });
                i = end;
            }
            _ if punct.contains(&c) => {
                out.push(Token {
                    tok: Tok::Punct(c),
                    start: i,
                    end: i + 1,
                });
                i += 1;
            }
            _ => {
                let start = i;
                let ends_word = |x: u8| {
                    matches!(x, b' ' | b'\t' | b'\r' | b'\n' | b'"')
                        || punct.contains(&x)
                        || (format == Format::Toml && matches!(x, b'#' | b'\''))
                };
                while i < n && !ends_word(b[i]) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                    continue;
                }
                out.push(Token {
                    tok: Tok::Word,
                    start,
                    end: i,
                });
            }
        }
    }
    out
}

/// A range of a site file's text to mask: in the kept text always, and its
/// value scrubbed from messages too when `scrub` (not a private key's
/// short chunk: see [`KEY_SCRUB_MIN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Masked {
    pub start: usize,
    pub end: usize,
    pub scrub: bool,
}

/// A private key's body chunk shorter than this (in characters) is masked
/// in the kept text but not scrubbed out of messages: a key's lines are 64
/// or 70 characters, and a short last line (`Aw==`) or a one-line paste's
/// word scrubbed from every message would garble siteconf's own words
/// ("repository", "wherever") while hiding nothing of the key.
pub const KEY_SCRUB_MIN: usize = 12;

impl PrivateKey {
    /// The key's body as ranges to mask ([`Masked`]).
    pub fn masked(&self) -> impl Iterator<Item = Masked> + '_ {
        self.body.iter().map(|&(s, e)| Masked {
            start: s,
            end: e,
            scrub: e - s >= KEY_SCRUB_MIN,
        })
    }
}

/// The byte ranges holding secret values, none spanning a line break.
pub fn secret_ranges(format: Format, text: &str) -> Vec<Masked> {
    if !might_hold_secret(text) {
        return Vec::new();
    }
    scan_secret_ranges(format, text)
}

/// Whether the scan can find anything in `text`: every secret-bearing
/// position is matched on the raw text (`password` as written, a URL's
/// `://` and `@`, a private key's header), so a file with none of them —
/// most files of a large site: its racks and nodes — needs no tokens.
fn might_hold_secret(text: &str) -> bool {
    text.contains(SECRET_KEY)
        || (text.contains("://") && text.contains('@'))
        || might_hold_private_key(text)
}

fn scan_secret_ranges(format: Format, text: &str) -> Vec<Masked> {
    let toks = tokens(format, text);
    let values = match format {
        Format::Kdl => kdl_ranges(text, &toks),
        Format::Toml => toml_ranges(text, &toks),
    };
    let mut ranges: Vec<Masked> = values
        .into_iter()
        .chain(toks.iter().filter_map(|t| match t.tok {
            Tok::Str(s, e) => url_password(text, s, e),
            _ => None,
        }))
        .map(|(start, end)| Masked {
            start,
            end,
            scrub: true,
        })
        .collect();
    for k in scan_private_keys(text, Some(&toks)) {
        ranges.extend(k.masked());
    }
    // Split at line breaks: masking keeps the file's lines where they are.
    let mut out = Vec::new();
    ranges.sort_unstable();
    for Masked {
        start: s,
        end: e,
        scrub,
    } in ranges
    {
        let mut a = s;
        for (k, ch) in text[s..e].char_indices() {
            if ch == '\n' {
                if a < s + k {
                    out.push(Masked {
                        start: a,
                        end: s + k,
                        scrub,
                    });
                }
                a = s + k + 1;
            }
        }
        if a < e {
            out.push(Masked {
                start: a,
                end: e,
                scrub,
            });
        }
    }
    out
}

/// A private key found in a site file's text (SC0086).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKey {
    /// The key's first line, kept visible: `-----BEGIN … PRIVATE KEY-----`
    /// or `PuTTY-User-Key-File-N:`.
    pub header: (usize, usize),
    /// What kind of key it is, for the message (`an OpenSSH private key`).
    pub kind: &'static str,
    /// The masked chunks of its body: every run of non-blank characters
    /// (split at `\n`-style escapes too, so that the value a KDL escape
    /// decodes to is scrubbed from messages line by line) up to the end
    /// line, the end of the string holding it, the end of the comment
    /// lines holding it, or the end of the file. A PEM header is a key
    /// only when key material follows it: a first chunk (after any `Name:
    /// value` header lines) in base64's alphabet that is not a word (a
    /// digit, `+`, `=` padding, a key line's length), or any base64 chunk
    /// before the key's end line.
    pub body: Vec<(usize, usize)>,
}

/// The private keys anywhere in a site file's text: in a string at any
/// position, in a comment, or pasted bare into a file that does not parse.
/// Their bodies are masked in the kept text, and the loader reports each
/// one (SC0086). Cheap when there is none (two substring searches).
pub fn private_keys(format: Format, text: &str) -> Vec<PrivateKey> {
    if !might_hold_private_key(text) {
        return Vec::new();
    }
    let toks = tokens(format, text);
    scan_private_keys(text, Some(&toks))
}

/// The private keys in a file that is not a site file (a template): its
/// text read as plain text, a key's body running to its end line or the
/// end of the file.
pub fn private_keys_in_text(text: &str) -> Vec<PrivateKey> {
    scan_private_keys(text, None)
}

fn might_hold_private_key(text: &str) -> bool {
    text.contains("PRIVATE KEY")
        || text.contains("SECRET KEY")
        || text.contains("PuTTY-User-Key-File")
}

/// Whether a value (a signed-by, an SSH key) is a private key: the rules
/// that judge such values leave it to SC0086.
pub fn is_private_key(value: &str) -> bool {
    might_hold_private_key(value) && !scan_private_keys(value, None).is_empty()
}

fn scan_private_keys(text: &str, toks: Option<&[Token]>) -> Vec<PrivateKey> {
    if !might_hold_private_key(text) {
        return Vec::new();
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while from < text.len() {
        let pem = text[from..].find("-----BEGIN ").map(|p| from + p);
        let putty = text[from..].find("PuTTY-User-Key-File").map(|p| from + p);
        let (start, is_pem) = match (pem, putty) {
            (Some(a), Some(b)) if b < a => (b, false),
            (Some(a), _) => (a, true),
            (None, Some(b)) => (b, false),
            (None, None) => break,
        };
        let limit = toks.map_or(text.len(), |ts| container_end(ts, start, text.len()));
        let line_end = |i: usize| text[i..limit].find('\n').map_or(limit, |p| i + p);
        let (header_end, kind, body_end, ended) = if is_pem {
            let after = start + "-----BEGIN ".len();
            if after > limit {
                from = after;
                continue;
            }
            // The header's label, up to its closing dashes on its line;
            // a header that lost them (a truncated paste) ends after the
            // words that make it a private key.
            let line = &text[after..line_end(after)];
            let private = ["PRIVATE KEY BLOCK", "SECRET KEY BLOCK", "PRIVATE KEY"];
            let (label, header_end) = match line.find("-----") {
                Some(close) => (&line[..close], after + close + "-----".len()),
                None => match private
                    .iter()
                    .find_map(|p| line.find(p).map(|i| i + p.len()))
                {
                    Some(end) => (&line[..end], after + end),
                    None => {
                        from = after;
                        continue;
                    }
                },
            };
            if !private.iter().any(|p| label.ends_with(p)) {
                from = after;
                continue;
            }
            let kind = if label.starts_with("PGP") {
                "a PGP private key block"
            } else if label.starts_with("OPENSSH") {
                "an OpenSSH private key"
            } else {
                "a PEM private key"
            };
            let end = text[header_end..limit].find("-----END ");
            let body_end = end.map_or(limit, |p| header_end + p);
            (header_end, kind, body_end, end.is_some())
        } else {
            // A key file's first line is `PuTTY-User-Key-File-3: ssh-…`;
            // the bare words (a comment about converting keys with
            // puttygen) are no key, and would mask the rest of the file.
            let after = &text[start + "PuTTY-User-Key-File".len()..];
            let version = after
                .strip_prefix('-')
                .map_or(0, |v| v.bytes().take_while(u8::is_ascii_digit).count());
            if version == 0 || after.as_bytes().get(1 + version) != Some(&b':') {
                from = start + 1;
                continue;
            }
            let header_end = line_end(start);
            // Up to the end of the `Private-MAC:` line.
            let mac = text[header_end..limit].find("Private-MAC:");
            let body_end = mac.map_or(limit, |p| line_end(header_end + p));
            (header_end, "a PuTTY private key", body_end, mac.is_some())
        };
        let mut body = Vec::new();
        let mut i = header_end;
        // The non-secret fields of a PuTTY file keep their values.
        let mut keep_next = false;
        // The first chunk of key material (not on a `Name: value` header
        // line: PEM's `Proc-Type:`, PGP's `Version:`, PuTTY's fields), and
        // where the header line being read ends.
        let mut material: Option<&str> = None;
        let mut header_line_end = 0;
        while i < body_end {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b[i] == b'\\' {
                // An escape (`\n`) separates chunks.
                i = (i + 2).min(body_end);
                continue;
            }
            let s = i;
            while i < body_end && !b[i].is_ascii_whitespace() && b[i] != b'\\' {
                i += 1;
            }
            let chunk = &text[s..i];
            // A comment's marker on each line of a key pasted into one.
            if chunk.bytes().all(|c| c == b'/' || c == b'#') {
                continue;
            }
            if chunk.ends_with(':') {
                keep_next = matches!(
                    chunk,
                    "Encryption:" | "Public-Lines:" | "Private-Lines:" | "Comment:" | "Version:"
                );
                header_line_end = text[s..body_end].find('\n').map_or(body_end, |p| s + p);
                continue;
            }
            if material.is_none() && s >= header_line_end {
                material = Some(chunk);
            }
            if !std::mem::take(&mut keep_next) {
                body.push((s, i));
            }
        }
        // A PEM header with no key after it is words about keys (`never
        // paste a "-----BEGIN OPENSSH PRIVATE KEY-----" block here`): no
        // finding, and nothing masked. (A PuTTY file's first line, with
        // its version and colon, is no phrase anyone writes about keys.)
        let is_key = !is_pem || material.is_some_and(|c| encoded(c) || (ended && base64ish(c)));
        if !is_key {
            from = header_end.max(start + 1);
            continue;
        }
        out.push(PrivateKey {
            header: (start, header_end),
            kind,
            body,
        });
        from = body_end.max(header_end).max(start + 1);
    }
    out
}

/// Where the body of a key whose header is at `start` can run to, from
/// the tokens of its file: the end of the string holding it; in a comment,
/// the comment and the comment lines right after it (up to the next token
/// that is not a line break); pasted bare (a file that does not parse),
/// the end of the file.
fn container_end(toks: &[Token], start: usize, len: usize) -> usize {
    let at = toks.partition_point(|t| t.end <= start);
    match toks.get(at) {
        Some(t) if t.start <= start => match t.tok {
            Tok::Str(s, e) if s <= start && start < e => e,
            _ => len,
        },
        // Between tokens: in a comment.
        _ => toks[at..]
            .iter()
            .find(|t| t.tok != Tok::Newline)
            .map_or(len, |t| t.start),
    }
}

/// Whether a chunk is written in base64's alphabet (a key's body line).
fn base64ish(chunk: &str) -> bool {
    !chunk.is_empty()
        && chunk
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
}

/// Whether a chunk reads as encoded key material rather than a word
/// (`OpenSSH`, `vault`): in base64's alphabet, and with a digit, a `+`,
/// `=` padding, or the length of a key's line.
fn encoded(chunk: &str) -> bool {
    base64ish(chunk)
        && (chunk.len() >= 24
            || chunk.bytes().any(|c| c.is_ascii_digit() || c == b'+')
            || chunk.ends_with('='))
}

/// The password of a URL's user part (`https://user:PASSWORD@host/`) in
/// the string at `s..e`, wherever the string is: a credential in a repo's
/// URI is refused (SC0058) and never printed.
fn url_password(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = text.get(s..e)?;
    let after = v.find("://")? + 3;
    let authority = &v[after..];
    let authority = &authority[..authority.find(['/', '?', '#']).unwrap_or(authority.len())];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    let (from, to) = (s + after + colon + 1, s + after + at);
    (from < to).then_some((from, to))
}

/// KDL: a node named `password` masks its arguments and property values
/// (except `secret=`), and everything in its children block (except the
/// argument of a child named `secret`); a property `password=` masks its
/// value.
fn kdl_ranges(text: &str, toks: &[Token]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at_node_start = true;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let is_key = |k: usize| toks.get(k + 1).is_some_and(|x| x.tok == Tok::Punct(b'='));
        match t.tok {
            Tok::Newline | Tok::Punct(b';') | Tok::Punct(b'{') | Tok::Punct(b'}') => {
                at_node_start = true;
                i += 1;
                continue;
            }
            Tok::Punct(_) => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let word = word_text(text, &t);
        if word == Some(SECRET_KEY) && is_key(i) {
            // `password=VALUE` as a property.
            if let Some(r) = toks.get(i + 2).and_then(|v| v.value_range()) {
                out.push(r);
            }
            i += 3;
            at_node_start = false;
            continue;
        }
        if at_node_start && word == Some(SECRET_KEY) {
            i = kdl_mask_node(text, toks, i + 1, &mut out);
            at_node_start = true;
            continue;
        }
        at_node_start = false;
        i += 1;
    }
    out
}

/// Masks the rest of a `password` node from token `i`; returns the index
/// after it.
fn kdl_mask_node(text: &str, toks: &[Token], mut i: usize, out: &mut Vec<(usize, usize)>) -> usize {
    let mut depth = 0usize;
    // Inside the children block, whether the next word starts a child.
    let mut child_start = false;
    // Whether the current child is `secret` (its argument is a name).
    let mut in_secret_child = false;
    while i < toks.len() {
        let t = toks[i];
        match t.tok {
            Tok::Newline | Tok::Punct(b';') if depth == 0 => return i,
            Tok::Newline | Tok::Punct(b';') => {
                child_start = true;
                in_secret_child = false;
            }
            Tok::Punct(b'{') => {
                depth += 1;
                child_start = true;
                in_secret_child = false;
            }
            Tok::Punct(b'}') => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                child_start = depth > 0;
                in_secret_child = false;
                if depth == 0 {
                    return i + 1;
                }
            }
            Tok::Punct(_) => {}
            Tok::Str(..) | Tok::Word => {
                let is_key = toks.get(i + 1).is_some_and(|x| x.tok == Tok::Punct(b'='));
                if is_key {
                    let keep = word_text(text, &t) == Some(REFERENCE_KEY);
                    if let Some(v) = toks.get(i + 2) {
                        if !keep {
                            out.extend(v.value_range());
                        }
                    }
                    i += 3;
                    child_start = false;
                    continue;
                }
                if child_start && depth > 0 {
                    // A child's name: kept (it is a field name).
                    in_secret_child = word_text(text, &t) == Some(REFERENCE_KEY);
                    child_start = false;
                } else if !in_secret_child {
                    out.extend(t.value_range());
                }
            }
        }
        i += 1;
    }
    i
}

/// TOML: the value of any key whose path (table header included) has a
/// `password` segment is masked, unless the key's last segment is `secret`.
fn toml_ranges(text: &str, toks: &[Token]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut table_secret = false;
    let mut i = 0;
    let mut line_start = true;
    while i < toks.len() {
        let t = toks[i];
        match t.tok {
            Tok::Newline => {
                line_start = true;
                i += 1;
            }
            Tok::Punct(b'[') if line_start => {
                // A table header: up to `]` on this line.
                let mut j = i;
                let mut secret = false;
                while j < toks.len() && toks[j].tok != Tok::Newline {
                    if word_text(text, &toks[j]) == Some(SECRET_KEY) {
                        secret = true;
                    }
                    j += 1;
                }
                table_secret = secret;
                i = j;
            }
            Tok::Str(..) | Tok::Word if line_start => {
                line_start = false;
                let (next, ranges) = toml_key_value(text, toks, i, table_secret);
                out.extend(ranges);
                i = next;
            }
            _ => {
                line_start = false;
                i += 1;
            }
        }
    }
    out
}

/// A `key.path = value` from token `i`: (index after it, masked ranges).
/// `secret_ctx` is whether an enclosing table or key is `password`.
/// Iterative, with an explicit stack of inline tables: a document nested
/// 100,000 deep must not overflow the stack here either.
fn toml_key_value(
    text: &str,
    toks: &[Token],
    mut i: usize,
    secret_ctx: bool,
) -> (usize, Vec<(usize, usize)>) {
    let mut out = Vec::new();
    // The secret context of each open inline table.
    let mut tables: Vec<bool> = Vec::new();
    let mut ctx = secret_ctx;
    loop {
        // A key path.
        let mut secret = ctx;
        let mut last = None;
        let key_start = i;
        while i < toks.len() {
            match toks[i].tok {
                Tok::Str(..) | Tok::Word => {
                    let w = word_text(text, &toks[i]);
                    if w == Some(SECRET_KEY) {
                        secret = true;
                    }
                    last = w;
                    i += 1;
                }
                Tok::Punct(b'.') => i += 1,
                _ => break,
            }
        }
        if toks.get(i).map(|t| t.tok) != Some(Tok::Punct(b'=')) {
            // Not a key-value: give up on this line.
            return (i.max(key_start + 1), out);
        }
        i += 1;
        let keep = last == Some(REFERENCE_KEY);
        // The value.
        match toks.get(i).map(|t| t.tok) {
            Some(Tok::Punct(b'{')) => {
                tables.push(ctx);
                ctx = secret;
                i += 1;
            }
            Some(Tok::Punct(b'[')) => {
                let mut depth = 0usize;
                while i < toks.len() {
                    match toks[i].tok {
                        Tok::Punct(b'[') => depth += 1,
                        Tok::Punct(b']') => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {
                            if secret && !keep {
                                out.extend(toks[i].value_range());
                            }
                        }
                    }
                    i += 1;
                }
            }
            Some(_) => {
                if secret && !keep {
                    out.extend(toks[i].value_range());
                }
                i += 1;
            }
            None => return (i, out),
        }
        // After a value: inside inline tables, `,` and `}` lead on.
        loop {
            if tables.is_empty() {
                return (i, out);
            }
            match toks.get(i).map(|t| t.tok) {
                None => return (i, out),
                Some(Tok::Punct(b'}')) => {
                    ctx = tables.pop().unwrap_or(secret_ctx);
                    i += 1;
                }
                Some(Tok::Punct(b',')) | Some(Tok::Newline) => i += 1,
                Some(Tok::Str(..)) | Some(Tok::Word) => break,
                Some(_) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(format: Format, text: &str) -> String {
        let mut t = text.to_string();
        for Masked {
            start: s, end: e, ..
        } in secret_ranges(format, text)
        {
            t.replace_range(s..e, &"*".repeat(e - s));
        }
        t
    }

    #[test]
    fn every_shape_of_a_kdl_password_is_masked_but_references_are_kept() {
        for (src, want) in [
            ("password \"hunter2\"\n", "password \"*******\"\n"),
            (
                "password value=\"hunter2\"\n",
                "password value=\"*******\"\n",
            ),
            (
                "password \"a\" \"hunter2\"\n",
                "password \"*\" \"*******\"\n",
            ),
            (
                "password { value \"hunter2\"; }\n",
                "password { value \"*******\"; }\n",
            ),
            (
                "password {\n  value \"hunter2\"\n}\n",
                "password {\n  value \"*******\"\n}\n",
            ),
            ("password 12345\n", "password *****\n"),
            ("password #\"hun\"ter\"#\n", "password #\"*******\"#\n"),
            ("password secret=\"bgp-x\"\n", "password secret=\"bgp-x\"\n"),
            (
                "password { secret \"bgp-x\"; }\n",
                "password { secret \"bgp-x\"; }\n",
            ),
            (
                "password secret=\"bgp-x\" \"hunter2\"\n",
                "password secret=\"bgp-x\" \"*******\"\n",
            ),
            (
                "bgp-peer a { asn 1; password \"hunter2\"; switches s; }\n",
                "bgp-peer a { asn 1; password \"*******\"; switches s; }\n",
            ),
            (
                "bgp-peer a password=\"hunter2\" {}\n",
                "bgp-peer a password=\"*******\" {}\n",
            ),
            // Unterminated: masked to the end of the line.
            ("password \"hunter2\nnext\n", "password \"*******\nnext\n"),
            // Other nodes are untouched.
            ("description \"password\"\n", "description \"password\"\n"),
        ] {
            assert_eq!(masked(Format::Kdl, src), want, "{src:?}");
        }
    }

    #[test]
    fn a_password_in_a_url_is_masked_in_either_format() {
        for (format, src, want) in [
            (
                Format::Kdl,
                "repo x { uris \"https://deploy:s3cr3t@apt.example.net/x\"; }\n",
                "repo x { uris \"https://deploy:******@apt.example.net/x\"; }\n",
            ),
            (
                Format::Toml,
                "uris = [\"http://a:p@ss@h:8080/\", \"http://h/\"]\n",
                "uris = [\"http://a:****@h:8080/\", \"http://h/\"]\n",
            ),
            // A user without a password, and no user: nothing to mask.
            (
                Format::Kdl,
                "uris \"http://user@h/x\"\n",
                "uris \"http://user@h/x\"\n",
            ),
            (
                Format::Kdl,
                "uris \"http://h/a:b@c\"\n",
                "uris \"http://h/a:b@c\"\n",
            ),
        ] {
            assert_eq!(masked(format, src), want, "{src:?}");
        }
    }

    #[test]
    fn every_shape_of_a_toml_password_is_masked_but_references_are_kept() {
        for (src, want) in [
            ("password = \"hunter2\"\n", "password = \"*******\"\n"),
            ("password = 'hunter2'\n", "password = '*******'\n"),
            (
                "password = [\"a\", \"hunter2\"]\n",
                "password = [\"*\", \"*******\"]\n",
            ),
            (
                "password = { value = \"hunter2\" }\n",
                "password = { value = \"*******\" }\n",
            ),
            (
                "password = { secret = \"bgp-x\" }\n",
                "password = { secret = \"bgp-x\" }\n",
            ),
            (
                "password.value = \"hunter2\"\n",
                "password.value = \"*******\"\n",
            ),
            (
                "password.secret = \"bgp-x\"\n",
                "password.secret = \"bgp-x\"\n",
            ),
            (
                "[bgp-peer.a.password]\nvalue = \"hunter2\"\n[bgp-peer.b]\nasn = 1\n",
                "[bgp-peer.a.password]\nvalue = \"*******\"\n[bgp-peer.b]\nasn = 1\n",
            ),
            ("password = 12345\n", "password = *****\n"),
            (
                "[bgp-peer.a]\npassword = \"\"\"hun\nter2\"\"\"\n",
                "[bgp-peer.a]\npassword = \"\"\"***\n****\"\"\"\n",
            ),
            (
                "description = \"password\"\n",
                "description = \"password\"\n",
            ),
        ] {
            assert_eq!(masked(Format::Toml, src), want, "{src:?}");
        }
    }

    #[test]
    fn a_private_key_body_is_masked_wherever_it_is_and_its_header_kept() {
        for (format, src, want) in [
            (
                Format::Kdl,
                "repo x {\n    signed-by \"\"\"\n    -----BEGIN PGP PRIVATE KEY BLOCK-----\n\n    lQOYBGXsecret1\n    =ab12\n    -----END PGP PRIVATE KEY BLOCK-----\n    \"\"\"\n}\n",
                "repo x {\n    signed-by \"\"\"\n    -----BEGIN PGP PRIVATE KEY BLOCK-----\n\n    **************\n    *****\n    -----END PGP PRIVATE KEY BLOCK-----\n    \"\"\"\n}\n",
            ),
            (
                Format::Kdl,
                "key \"-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1r AAAA -----END OPENSSH PRIVATE KEY-----\"\n",
                "key \"-----BEGIN OPENSSH PRIVATE KEY----- ************ **** -----END OPENSSH PRIVATE KEY-----\"\n",
            ),
            // Escapes stay, so the decoded value's lines are scrubbed too.
            (
                Format::Kdl,
                "key \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEsecret\\n-----END RSA PRIVATE KEY-----\"\n",
                "key \"-----BEGIN RSA PRIVATE KEY-----\\n**********\\n-----END RSA PRIVATE KEY-----\"\n",
            ),
            // Truncated: to the end of the string, not beyond.
            (
                Format::Kdl,
                "key \"-----BEGIN OPENSSH PRIVATE KEY----- b3Blbn\"; next \"kept\"\n",
                "key \"-----BEGIN OPENSSH PRIVATE KEY----- ******\"; next \"kept\"\n",
            ),
            // A header without its closing dashes.
            (
                Format::Kdl,
                "key \"-----BEGIN OPENSSH PRIVATE KEY b3BlbnNzaC1r\"\n",
                "key \"-----BEGIN OPENSSH PRIVATE KEY ************\"\n",
            ),
            // In a comment, or bare in a broken file.
            (
                Format::Kdl,
                "// -----BEGIN PRIVATE KEY-----\n// MIIEvQsecret\n// -----END PRIVATE KEY-----\n",
                "// -----BEGIN PRIVATE KEY-----\n// ************\n// -----END PRIVATE KEY-----\n",
            ),
            (
                Format::Kdl,
                "// -----BEGIN PRIVATE KEY----- MIIEvQsecret -----END PRIVATE KEY-----\n",
                "// -----BEGIN PRIVATE KEY----- ************ -----END PRIVATE KEY-----\n",
            ),
            (
                Format::Toml,
                "[[node.r1.ssh-key]]\nkey = '''\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n-----END OPENSSH PRIVATE KEY-----'''\n",
                "[[node.r1.ssh-key]]\nkey = '''\n-----BEGIN OPENSSH PRIVATE KEY-----\n************\n-----END OPENSSH PRIVATE KEY-----'''\n",
            ),
            (
                Format::Kdl,
                "key \"\"\"\nPuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 1\nAAAAC3Nz\nPrivate-Lines: 1\nAAAAIsecret\nPrivate-MAC: 5c3e\n\"\"\"\n",
                "key \"\"\"\nPuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 1\n********\nPrivate-Lines: 1\n***********\nPrivate-MAC: ****\n\"\"\"\n",
            ),
            // A public key block is no secret.
            (
                Format::Kdl,
                "signed-by \"-----BEGIN PGP PUBLIC KEY BLOCK----- mDMEZ -----END PGP PUBLIC KEY BLOCK-----\"\n",
                "signed-by \"-----BEGIN PGP PUBLIC KEY BLOCK----- mDMEZ -----END PGP PUBLIC KEY BLOCK-----\"\n",
            ),
        ] {
            assert_eq!(masked(format, src), want, "{src:?}");
        }
        let keys = private_keys(
            Format::Kdl,
            "a \"x\"\nkey \"-----BEGIN OPENSSH PRIVATE KEY----- b3Bl\"\n",
        );
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kind, "an OpenSSH private key");
        assert_eq!(keys[0].header, (11, 46));
        assert!(is_private_key(
            "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----"
        ));
        assert!(!is_private_key("ssh-ed25519 AAAAC3Nz PRIVATE KEY"));
        assert!(private_keys(Format::Kdl, "description \"no private key here\"\n").is_empty());
        // Words about keys are no key, and mask nothing.
        for text in [
            "// convert the PuTTY-User-Key-File to OpenSSH with puttygen\nnode a {}\n",
            "// the PRIVATE KEY is in vault\n",
            "description \"-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----\"\n",
            "description \"a PuTTY-User-Key-File-3 file\"\n",
            // A header named in a comment, with no key after it.
            "// never paste a \"-----BEGIN OPENSSH PRIVATE KEY-----\" block here\nprofile web {\n    description \"repository b3Bl 2024\"\n}\n",
            "// -----BEGIN OPENSSH PRIVATE KEY----- blocks go in vault\nnode a {}\n",
            "// -----BEGIN RSA PRIVATE KEY----- ... -----END RSA PRIVATE KEY----- is refused\n",
            "description \"-----BEGIN OPENSSH PRIVATE KEY-----\"\n",
        ] {
            assert!(private_keys(Format::Kdl, text).is_empty(), "{text}");
            assert_eq!(masked(Format::Kdl, text), text);
        }
        let text = "# never paste a \"-----BEGIN RSA PRIVATE KEY-----\" here\n[site]\nname = \"dc1 2024\"\n";
        assert!(private_keys(Format::Toml, text).is_empty());
        assert_eq!(masked(Format::Toml, text), text);
        assert!(!is_private_key("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assert!(!is_private_key(
            "-----BEGIN OPENSSH PRIVATE KEY----- goes here -----"
        ));
    }

    /// A key in a comment runs to the end of the comment lines, not into
    /// the site below them; its short chunks are masked but not scrubbed
    /// from messages.
    #[test]
    fn a_key_in_a_comment_ends_with_the_comment_and_short_chunks_stay_in_messages() {
        let text = "// -----BEGIN OPENSSH PRIVATE KEY-----\n// b3BlbnNzaC1rZXktdjEAAAAA\n// Aw==\nnode here {}\n";
        assert_eq!(
            masked(Format::Kdl, text),
            "// -----BEGIN OPENSSH PRIVATE KEY-----\n// ************************\n// ****\nnode here {}\n"
        );
        let scrubbed: Vec<bool> = secret_ranges(Format::Kdl, text)
            .iter()
            .map(|m| m.scrub)
            .collect();
        assert_eq!(scrubbed, vec![true, false]);
    }

    /// The shortcut is sound: texts without the markers, whatever else
    /// they hold, have nothing the full scan would mask.
    #[test]
    fn a_text_without_the_markers_has_nothing_to_mask() {
        let pieces = [
            "pass",
            "word",
            "\"",
            "=",
            "{",
            "}",
            ";",
            "\n",
            "[",
            "]",
            "secret",
            "value",
            "https:",
            "//",
            "user:pw",
            "@host",
            "\"https://u:p@h/",
            "#",
            "/*",
            "*/",
            "-----BEGIN ",
            "KEY-----",
            "PRIVATE",
            "PuTTY",
            " ",
            "r#\"",
            "\\",
        ];
        let mut checked = 0;
        // Every sequence of three pieces, as KDL and as TOML.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}");
                    if might_hold_secret(&text) {
                        continue;
                    }
                    for f in [Format::Kdl, Format::Toml] {
                        assert!(scan_secret_ranges(f, &text).is_empty(), "{text:?}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
        // And the markers do reach the scan.
        for text in [
            "password \"x\"\n",
            "uri \"https://u:p@h/\"\n",
            "k \"-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaA -----END OPENSSH PRIVATE KEY-----\"\n",
        ] {
            assert!(might_hold_secret(text), "{text}");
            assert!(!secret_ranges(Format::Kdl, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for s in [
            "password \"",
            "password #\"",
            "password {",
            "password = [",
            "password = {",
            "[password",
            "\"",
            "#",
            "/*",
            "\"-----BEGIN ",
            "-----BEGIN PRIVATE KEY",
            "-----BEGIN PRIVATE KEY-----",
            "PuTTY-User-Key-File",
            "key \"PuTTY-User-Key-File-2\"\nPrivate-MAC:",
            "\"-----BEGIN PRIVATE KEY-----\\",
        ] {
            let _ = secret_ranges(Format::Kdl, s);
            let _ = secret_ranges(Format::Toml, s);
        }
    }
}
