//! KDL v2 site files → the common [`Document`] tree.
//!
//! A purpose-built parser because the `kdl` crate is too slow for
//! 10,000-node sites (it keeps every byte of formatting); the crate stays as
//! the reference this parser is checked against (`tests/kdl_differential.rs`)
//! next to the official compliance suite (`tests/kdl_compliance.rs`).
//!
//! It implements KDL 2.0 in one pass of recursive descent over the bytes of
//! the text, without a token buffer: every `String` it allocates ends up in
//! the tree. The submodules hold the lexical pieces: `chars` (character
//! classes), `trivia` (whitespace, comments, line continuations), `strings`
//! (identifier, quoted, raw and multi-line strings) and `numbers`.
//!
//! # What the tree holds
//! - Properties stay in source order with duplicates: KDL's "rightmost
//!   wins" is applied by consumers, which can then also report duplicates.
//! - Slashdashed (`/-`) nodes, entries and children blocks are parsed
//!   (they must be valid KDL) and dropped.
//! - `#inf`, `#-inf` and `#nan` are [`Scalar::Float`]; integers are `i128`
//!   (a literal outside that range is an error), other numbers `f64`.
//!
//! # Spans (byte offsets into the text)
//! - [`Node::span`]: from the node's type annotation `(` (or its name) to the
//!   end of its last argument, property value or children block `}`,
//!   slashdashed ones included (they are part of the node's text); trailing
//!   whitespace, comments and the terminator are not part of it.
//! - [`Ident::span`]: the name token, quotes and `#`s included. For a type
//!   annotation it is the name inside the parentheses.
//! - [`Value::span`]: the value token alone (quotes and `#`s included). Its
//!   type annotation, if any, is *not* included: its span is `ty.span`.
//!
//! # Strictness
//! Where the `kdl` crate (6.7.1) is laxer than the KDL 2.0 spec, this parser
//! follows the spec and says why: U+007F and other disallowed code points
//! anywhere (comments included), bare `-inf`, upper-case radix prefixes
//! (`0X1F`), `#"""` not followed by a newline, and nodes that run into the
//! next one without a terminator (`n #true/-x`, `n {} /-x`) are errors. The
//! differential test lists each such difference with an example.
//!
//! # Errors
//! The parser stops at the first error: KDL has no reliable
//! synchronisation point (an unterminated string or `{` changes the meaning
//! of everything after it), and one precise error beats a cascade. The
//! error's span is the offending token or character; `help` says how to fix
//! it. Nothing panics: all byte access is bounds-checked, and nesting is
//! capped at [`MAX_DEPTH`] children blocks so recursion cannot overflow the
//! stack.

pub(super) mod chars;
mod numbers;
mod strings;
mod trivia;
pub mod write;

#[cfg(test)]
mod tests;

use super::{Document, FileId, Ident, Node, Scalar, Span, SyntaxError, Value};
use chars::{class, describe, is_disallowed, is_ident_char, newline_len, space_len, IDENT};

/// Deepest allowed nesting of children blocks. Recursion uses a few hundred
/// bytes of stack per level, so this stays far from any thread's stack size
/// while being far deeper than any real site file.
pub const MAX_DEPTH: usize = 256;

/// Parses a KDL v2 document. On error, returns the first error found (see
/// the module documentation for why only one).
pub fn parse(file: FileId, text: &str) -> Result<Document, Vec<SyntaxError>> {
    if u32::try_from(text.len()).is_err() {
        return Err(vec![SyntaxError {
            message: "file is too large: KDL files must be smaller than 4 GiB".into(),
            span: Span::new(file, 0, 0),
            help: None,
        }]);
    }
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        pos: 0,
        file,
        node_stack: Vec::new(),
        arg_stack: Vec::new(),
        prop_stack: Vec::new(),
    };
    p.document().map_err(|e| vec![*e])
}

/// Errors are boxed so that `Result`s on the hot path stay two words wide.
type PResult<T> = Result<T, Box<SyntaxError>>;

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Current byte offset; always on a `char` boundary.
    pos: usize,
    file: FileId,
    /// Scratch stacks for the nodes, arguments and properties being
    /// collected at every open nesting level. Each level pushes above the
    /// length it found and moves its items out into an exactly sized `Vec`
    /// when done: one allocation per list, no growth reallocations, no
    /// spare capacity (a `Vec` grown by `push` starts at 4 elements, which
    /// for one-argument nodes wasted most of the memory and time).
    node_stack: Vec<Node>,
    arg_stack: Vec<Value>,
    prop_stack: Vec<(Ident, Value)>,
}

/// What a value token turned out to be. Strings are kept apart because only
/// they can be property keys, node names and type names.
enum Tok {
    Str(String),
    Other(Scalar),
}

impl Tok {
    fn into_scalar(self) -> Scalar {
        match self {
            Tok::Str(s) => Scalar::String(s),
            Tok::Other(s) => s,
        }
    }
}

/// The lexical kind of a value token, for error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Quoted,
    Raw,
    Number,
    Keyword,
}

/// Where a node is in `base-node`: arguments and properties come first, then
/// children blocks (slashdashed ones may come before and after the real one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeState {
    Entries,
    AfterSlashdashedChildren,
    AfterChildren,
}

enum Entry {
    Arg(Value),
    Prop(Ident, Value),
}

impl<'a> Parser<'a> {
    // ---- small helpers -------------------------------------------------

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.text.get(pos..)?.chars().next()
    }

    /// `text[a..b]`, or "" if that is not a valid range (it always is; the
    /// fallback keeps a logic error from becoming a panic).
    #[inline]
    fn slice(&self, a: usize, b: usize) -> &'a str {
        let text: &'a str = self.text;
        text.get(a..b).unwrap_or_default()
    }

    #[inline]
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn error(
        &self,
        start: usize,
        end: usize,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Box<SyntaxError> {
        Box::new(SyntaxError {
            message: message.into(),
            span: self.span(start, end),
            help,
        })
    }

    /// The end of the character at `pos` (for one-character error spans).
    fn char_end(&self, pos: usize) -> usize {
        match self.char_at(pos) {
            Some(c) => pos + c.len_utf8(),
            None => pos,
        }
    }

    /// "`x`", "U+0007" or "end of file", for "found …" messages.
    fn describe_at(&self, pos: usize) -> String {
        match self.char_at(pos) {
            Some(c) => describe(c),
            None => "end of file".to_string(),
        }
    }

    /// The error for a code point that may not appear literally.
    fn disallowed_error(&self, pos: usize, c: char) -> Box<SyntaxError> {
        let end = pos + c.len_utf8();
        if c == '\u{FEFF}' {
            return self.error(
                pos,
                end,
                "byte order mark (U+FEFF) is only allowed at the very start of the file",
                Some("remove it; in a quoted string write `\\u{FEFF}`".into()),
            );
        }
        self.error(
            pos,
            end,
            format!("disallowed code point U+{:04X}", c as u32),
            Some(
                "control characters, U+007F and bidirectional-override characters may not \
                 appear literally in KDL; in a quoted string write them as a `\\u{…}` escape"
                    .into(),
            ),
        )
    }

    /// Moves past the character at `pos`, failing if it is disallowed. Used
    /// by the scanning loops when their fast path stops on a byte that is
    /// not otherwise meaningful to them.
    fn advance_checked(&mut self) -> PResult<()> {
        match self.char_at(self.pos) {
            Some(c) if is_disallowed(c) => Err(self.disallowed_error(self.pos, c)),
            Some(c) => {
                self.pos += c.len_utf8();
                Ok(())
            }
            // Not reachable while `pos` is on a char boundary; advance
            // anyway so no loop can spin.
            None => {
                self.pos += 1;
                Ok(())
            }
        }
    }

    // ---- structure -----------------------------------------------------

    /// `document := bom? nodes`
    fn document(&mut self) -> PResult<Document> {
        if self.b.starts_with("\u{FEFF}".as_bytes()) {
            self.pos = 3;
        }
        let nodes = self.nodes(0, None)?;
        Ok(Document { nodes })
    }

    /// `nodes := (line-space* node)* line-space*`, up to the end of the file
    /// (top level, `open` is `None`) or the `}` of the children block opened
    /// at `open`, which is left for the caller to consume.
    fn nodes(&mut self, depth: usize, open: Option<usize>) -> PResult<Vec<Node>> {
        let mark = self.node_stack.len();
        loop {
            self.skip_line_space()?;
            match self.peek() {
                None => {
                    return match open {
                        Some(o) => Err(self.error(
                            o,
                            o + 1,
                            "expected `}` to close the children block opened here",
                            Some("the file ends before this block is closed".into()),
                        )),
                        None => Ok(self.node_stack.drain(mark..).collect()),
                    };
                }
                Some(b'}') => {
                    return if open.is_some() {
                        Ok(self.node_stack.drain(mark..).collect())
                    } else {
                        Err(self.error(
                            self.pos,
                            self.pos + 1,
                            "unexpected `}`",
                            Some("there is no open children block here to close".into()),
                        ))
                    };
                }
                Some(b'/') if self.peek_at(1) == Some(b'-') => {
                    let sd = self.pos;
                    self.pos += 2;
                    self.skip_line_space()?;
                    self.reject_double_slashdash()?;
                    if matches!(self.peek(), None | Some(b'}')) {
                        return Err(self.error(
                            sd,
                            sd + 2,
                            "`/-` must be followed by the node it comments out",
                            None,
                        ));
                    }
                    self.node(depth, open.is_some())?;
                }
                Some(_) => {
                    let node = self.node(depth, open.is_some())?;
                    self.node_stack.push(node);
                }
            }
        }
    }

    /// One node with its terminator (`;`, newline, `//` comment, end of
    /// file, or — inside a children block — a `}` that is left unconsumed).
    fn node(&mut self, depth: usize, in_block: bool) -> PResult<Node> {
        let start = self.pos;
        let ty = if self.peek() == Some(b'(') {
            let ty = self.type_annotation()?;
            self.skip_node_space()?;
            Some(ty)
        } else {
            None
        };
        let name = self.node_name()?;
        let mut end = self.pos;
        let args_mark = self.arg_stack.len();
        let props_mark = self.prop_stack.len();
        let mut children = None;
        let mut state = NodeState::Entries;
        let mut spaced = self.skip_node_space()?;
        // The end of the file also ends the node.
        while let Some(c) = self.peek() {
            match c {
                b';' => {
                    self.pos += 1;
                    break;
                }
                b'\n' | b'\r' | 0x0B | 0x0C => {
                    self.pos += newline_len(self.b, self.pos);
                    break;
                }
                b'/' if self.peek_at(1) == Some(b'/') => {
                    self.line_comment()?;
                    break;
                }
                b'}' => {
                    if in_block {
                        break;
                    }
                    return Err(self.error(
                        self.pos,
                        self.pos + 1,
                        "unexpected `}`",
                        Some("there is no open children block here to close".into()),
                    ));
                }
                b'{' => {
                    if state == NodeState::AfterChildren {
                        return Err(self.error(
                            self.pos,
                            self.pos + 1,
                            "this node already has a children block",
                            Some(
                                "a node has at most one children block: merge them, or comment \
                                 one out with `/-`"
                                    .into(),
                            ),
                        ));
                    }
                    children = Some(self.children_block(depth)?);
                    end = self.pos;
                    state = NodeState::AfterChildren;
                    spaced = self.skip_node_space()?;
                }
                b'/' if self.peek_at(1) == Some(b'-') => {
                    let sd = self.pos;
                    self.pos += 2;
                    self.skip_line_space()?;
                    self.reject_double_slashdash()?;
                    match self.peek() {
                        Some(b'{') => {
                            self.children_block(depth)?;
                            if state == NodeState::Entries {
                                state = NodeState::AfterSlashdashedChildren;
                            }
                        }
                        None | Some(b'}' | b';') => {
                            return Err(self.error(
                                sd,
                                sd + 2,
                                "`/-` must be followed by the argument, property or children \
                                 block it comments out",
                                None,
                            ));
                        }
                        Some(_) if state != NodeState::Entries => {
                            return Err(self.error(
                                sd,
                                sd + 2,
                                "after a children block, `/-` can only comment out another \
                                 children block",
                                Some(
                                    "arguments and properties must come before children blocks; \
                                     to comment out a node, start it on its own line"
                                        .into(),
                                ),
                            ));
                        }
                        Some(_) => {
                            self.entry()?;
                        }
                    }
                    end = self.pos;
                    spaced = self.skip_node_space()?;
                }
                _ => {
                    let nl = newline_len(self.b, self.pos);
                    if nl > 0 {
                        self.pos += nl;
                        break;
                    }
                    if state != NodeState::Entries {
                        return Err(self.error(
                            self.pos,
                            self.char_end(self.pos),
                            format!(
                                "expected `;` or a newline after the children block, found {}",
                                self.describe_at(self.pos)
                            ),
                            Some(
                                "arguments and properties must come before the children block"
                                    .into(),
                            ),
                        ));
                    }
                    if !spaced {
                        // Only `=` and `)` pass the value-end check without
                        // whitespace; both are misplaced here.
                        return Err(self.unexpected_here(self.pos, "an argument or property"));
                    }
                    match self.entry()? {
                        Entry::Arg(v) => self.arg_stack.push(v),
                        Entry::Prop(k, v) => self.prop_stack.push((k, v)),
                    }
                    end = self.pos;
                    spaced = self.skip_node_space()?;
                }
            }
        }
        Ok(Node {
            ty,
            name,
            args: self.arg_stack.drain(args_mark..).collect(),
            props: self.prop_stack.drain(props_mark..).collect(),
            children,
            span: self.span(start, end),
        })
    }

    /// A `/-` comments out exactly one item, never another `/-`.
    fn reject_double_slashdash(&self) -> PResult<()> {
        if self.peek() == Some(b'/') && self.peek_at(1) == Some(b'-') {
            return Err(self.error(
                self.pos,
                self.pos + 2,
                "`/-` cannot comment out another `/-`",
                Some("each `/-` comments out the one item after it; remove one of them".into()),
            ));
        }
        Ok(())
    }

    /// `'{' nodes final-node? '}'`, at a `{`.
    fn children_block(&mut self, depth: usize) -> PResult<Vec<Node>> {
        let open = self.pos;
        if depth >= MAX_DEPTH {
            return Err(self.error(
                open,
                open + 1,
                "nesting too deep",
                Some(format!(
                    "children blocks may be nested at most {MAX_DEPTH} levels deep"
                )),
            ));
        }
        self.pos += 1;
        let nodes = self.nodes(depth + 1, Some(open))?;
        // `nodes` only returns Ok at the closing `}`.
        self.pos += 1;
        Ok(nodes)
    }

    /// `prop | value`, with an optional type annotation on the value.
    fn entry(&mut self) -> PResult<Entry> {
        if self.peek() == Some(b'(') {
            let ty = self.type_annotation()?;
            self.skip_node_space()?;
            let (tok, start) = self.token("a value after the type annotation")?;
            let end = self.pos;
            if matches!(tok, Tok::Str(_)) {
                let save = self.pos;
                self.skip_node_space()?;
                if self.peek() == Some(b'=') {
                    return Err(self.error(
                        ty.span.start as usize,
                        ty.span.end as usize,
                        "a property key cannot have a type annotation",
                        Some("put the type on the value: `key=(type)value`".into()),
                    ));
                }
                self.pos = save;
            }
            return Ok(Entry::Arg(Value {
                ty: Some(ty),
                scalar: tok.into_scalar(),
                span: self.span(start, end),
            }));
        }
        let (tok, start) = self.token("an argument or property")?;
        let end = self.pos;
        match tok {
            Tok::Str(s) => {
                // `key = value` may have node-space around the `=`; look
                // past it and come back if this string is an argument.
                self.skip_node_space()?;
                if self.peek() == Some(b'=') {
                    self.pos += 1;
                    self.skip_node_space()?;
                    let value = self.value("a property value after `=`")?;
                    Ok(Entry::Prop(
                        Ident {
                            text: s,
                            span: self.span(start, end),
                        },
                        value,
                    ))
                } else {
                    self.pos = end;
                    Ok(Entry::Arg(Value {
                        ty: None,
                        scalar: Scalar::String(s),
                        span: self.span(start, end),
                    }))
                }
            }
            Tok::Other(scalar) => Ok(Entry::Arg(Value {
                ty: None,
                scalar,
                span: self.span(start, end),
            })),
        }
    }

    /// `type? node-space* (string | number | keyword)`
    fn value(&mut self, what: &str) -> PResult<Value> {
        let ty = if self.peek() == Some(b'(') {
            let ty = self.type_annotation()?;
            self.skip_node_space()?;
            Some(ty)
        } else {
            None
        };
        let (tok, start) = self.token(what)?;
        Ok(Value {
            ty,
            scalar: tok.into_scalar(),
            span: self.span(start, self.pos),
        })
    }

    /// `'(' node-space* string node-space* ')'`, at the `(`.
    fn type_annotation(&mut self) -> PResult<Ident> {
        let open = self.pos;
        self.pos += 1;
        self.skip_node_space()?;
        if self.peek() == Some(b')') {
            return Err(self.error(
                open,
                self.pos + 1,
                "empty type annotation",
                Some("write a type name inside the parentheses, e.g. `(u8)`".into()),
            ));
        }
        let (tok, start) = self.token("a type name")?;
        let end = self.pos;
        let Tok::Str(text) = tok else {
            return Err(self.error(
                start,
                end,
                "a type name must be a string",
                Some(format!(
                    "quote it: `(\"{}\")`",
                    self.slice(start, end).replace('"', "\\\"")
                )),
            ));
        };
        self.skip_node_space()?;
        if self.peek() != Some(b')') {
            return Err(self.error(
                self.pos,
                self.char_end(self.pos),
                format!(
                    "expected `)` to close the type annotation, found {}",
                    self.describe_at(self.pos)
                ),
                Some("a type annotation holds exactly one name, e.g. `(u8)`".into()),
            ));
        }
        self.pos += 1;
        Ok(Ident {
            text,
            span: self.span(start, end),
        })
    }

    fn node_name(&mut self) -> PResult<Ident> {
        let (tok, start) = self.token("a node name")?;
        let end = self.pos;
        match tok {
            Tok::Str(text) => Ok(Ident {
                text,
                span: self.span(start, end),
            }),
            Tok::Other(_) => Err(self.error(
                start,
                end,
                format!(
                    "a node name must be a string, found `{}`",
                    self.slice(start, end)
                ),
                Some(format!(
                    "quote it: `\"{}\"`",
                    self.slice(start, end).replace('"', "\\\"")
                )),
            )),
        }
    }

    /// One value token: a string (bare, quoted or raw), number or keyword,
    /// followed by something that may end a value. Returns it with its start.
    fn token(&mut self, what: &str) -> PResult<(Tok, usize)> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error(
                start,
                start,
                format!("expected {what}, found end of file"),
                None,
            ));
        };
        let digit_at = |off: usize| matches!(self.peek_at(off), Some(b'0'..=b'9'));
        let (tok, kind) = match c {
            b'"' => (Tok::Str(self.quoted_string()?), Kind::Quoted),
            b'#' if matches!(self.peek_at(1), Some(b'"' | b'#')) => {
                (Tok::Str(self.raw_string()?), Kind::Raw)
            }
            b'#' => (Tok::Other(self.keyword()?), Kind::Keyword),
            b'0'..=b'9' => (Tok::Other(self.number()?), Kind::Number),
            b'+' | b'-' if digit_at(1) => (Tok::Other(self.number()?), Kind::Number),
            b'+' | b'-' if self.peek_at(1) == Some(b'.') && digit_at(2) => {
                return Err(self.missing_integer_part(start));
            }
            b'.' if digit_at(1) => return Err(self.missing_integer_part(start)),
            _ if class(c) & IDENT != 0 => (Tok::Str(self.ident()?), Kind::Ident),
            0x80.. if self.char_at(start).is_some_and(is_ident_char) => {
                (Tok::Str(self.ident()?), Kind::Ident)
            }
            _ => return Err(self.unexpected_here(start, what)),
        };
        self.check_value_end(start, kind)?;
        Ok((tok, start))
    }

    fn missing_integer_part(&self, start: usize) -> Box<SyntaxError> {
        let mut end = start;
        while matches!(
            self.b.get(end),
            Some(b'0'..=b'9' | b'.' | b'_' | b'+' | b'-')
        ) {
            end += 1;
        }
        self.error(
            start,
            end,
            "a number must have a digit before the decimal point",
            Some("write `0.5`, not `.5`".into()),
        )
    }

    /// The error for a character that cannot start what was expected.
    fn unexpected_here(&self, pos: usize, what: &str) -> Box<SyntaxError> {
        let Some(c) = self.char_at(pos) else {
            return self.error(
                pos,
                pos,
                format!("expected {what}, found end of file"),
                None,
            );
        };
        if is_disallowed(c) {
            return self.disallowed_error(pos, c);
        }
        let end = pos + c.len_utf8();
        let (message, help): (String, Option<&str>) = match c {
            '=' => (
                "unexpected `=`".into(),
                Some("a property needs a string key before the `=`, e.g. `mtu=9000`"),
            ),
            '[' | ']' => (
                format!("unexpected `{c}`"),
                Some(
                    "KDL has no array syntax: use several arguments (`node 1 2 3`) or child \
                     nodes",
                ),
            ),
            '{' if what == "a node name" => (
                "expected a node name, found `{`".into(),
                Some("a children block must follow a node name"),
            ),
            ';' if what == "a node name" => (
                "expected a node name, found `;`".into(),
                Some("empty statements are not allowed: remove the extra `;`"),
            ),
            '/' => (
                format!("expected {what}, found `/`"),
                Some(
                    "comments start with `//` or `/*`, and `/-` comments out the next item; \
                     a bare `/` must be quoted",
                ),
            ),
            _ => (format!("expected {what}, found {}", describe(c)), None),
        };
        self.error(pos, end, message, help.map(str::to_string))
    }

    /// Whether the `\` at `p` starts a line continuation (`\`, spaces, then
    /// a newline, a comment or the end of the file), so that `foo\bar` is
    /// reported as a bad identifier rather than a bad continuation.
    fn escline_follows(&self, p: usize) -> bool {
        let mut q = p + 1;
        loop {
            let n = space_len(self.b, q);
            if n == 0 {
                break;
            }
            q += n;
        }
        self.b.get(q).is_none()
            || newline_len(self.b, q) > 0
            || (self.b.get(q) == Some(&b'/') && matches!(self.b.get(q + 1), Some(b'/' | b'*')))
    }

    /// After a value token only these may follow directly: whitespace, a
    /// newline, a comment, `\`, `;`, `=`, `(`…`)` close, `{` or `}`.
    /// Anything else means two tokens ran together (`"a"b`, `1x`, `foo(`).
    fn check_value_end(&self, start: usize, kind: Kind) -> PResult<()> {
        let p = self.pos;
        let ok = match self.b.get(p) {
            None => true,
            Some(&c) => match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C | b';' | b'=' | b')' | b'{' | b'}' => {
                    true
                }
                b'\\' => self.escline_follows(p),
                b'/' => matches!(self.b.get(p + 1), Some(b'/' | b'*')),
                0x80.. => space_len(self.b, p) > 0 || newline_len(self.b, p) > 0,
                _ => false,
            },
        };
        if ok {
            return Ok(());
        }
        let Some(c) = self.char_at(p) else {
            return Ok(());
        };
        if is_disallowed(c) {
            return Err(self.disallowed_error(p, c));
        }
        let end = p + c.len_utf8();
        if c == '/' && self.b.get(p + 1) == Some(&b'-') {
            return Err(self.error(
                p,
                p + 2,
                "`/-` must be preceded by whitespace",
                Some("add a space before `/-`".into()),
            ));
        }
        let token = self.slice(start, p);
        let err = match kind {
            Kind::Number => {
                let radix_hint =
                    matches!(c, 'X' | 'O' | 'B') && token.trim_start_matches(['+', '-']) == "0";
                self.error(
                    p,
                    end,
                    format!("invalid character {} in number `{token}`", describe(c)),
                    Some(if radix_hint {
                        "radix prefixes are lowercase: `0x`, `0o`, `0b`".into()
                    } else {
                        "numbers are written like `42`, `-1_000`, `2.5e-3`, `0xff`, `0o755` or \
                         `0b1010`; quote the value if it is a string"
                            .into()
                    }),
                )
            }
            Kind::Ident if token == "r" && matches!(c, '"' | '#') => self.error(
                start,
                end,
                "`r\"…\"` raw strings are KDL v1 syntax",
                Some("in KDL v2 a raw string is written `#\"…\"#`".into()),
            ),
            Kind::Ident if c == '"' => self.error(
                p,
                end,
                format!("unexpected `\"` right after `{token}`"),
                Some("separate values with whitespace, or quote the whole string".into()),
            ),
            Kind::Ident => self.error(
                p,
                end,
                format!("{} cannot appear in a bare identifier", describe(c)),
                Some(format!(
                    "quote the string, e.g. `\"{token}{c}…\"`, or separate values with whitespace"
                )),
            ),
            Kind::Quoted | Kind::Raw | Kind::Keyword => self.error(
                p,
                end,
                format!("expected whitespace after `{token}`, found {}", describe(c)),
                Some("separate values with whitespace".into()),
            ),
        };
        Err(err)
    }
}
