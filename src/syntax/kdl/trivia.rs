//! Whitespace, comments and line continuations: everything between tokens.
//!
//! KDL distinguishes `node-space` (inside a node: spaces, `/* */` comments
//! and `\` line continuations) from `line-space` (between nodes: also
//! newlines and `//` comments). Both are skipped here, byte by byte for
//! ASCII and by decoding only at the lead bytes of non-ASCII spaces.

use super::chars::{class, newline_len, space_len, BLOCK_STOP, LINE_STOP};
use super::{PResult, Parser};

impl Parser<'_> {
    /// `ws*`: Unicode spaces and block comments. Returns whether anything
    /// was skipped.
    pub(super) fn skip_ws(&mut self) -> PResult<bool> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.block_comment()?,
                Some(0x80..) => {
                    let n = space_len(self.b, self.pos);
                    if n == 0 {
                        break;
                    }
                    self.pos += n;
                }
                _ => break,
            }
        }
        Ok(self.pos != start)
    }

    /// `node-space*`: whitespace, block comments and line continuations.
    /// Returns whether anything was skipped.
    pub(super) fn skip_node_space(&mut self) -> PResult<bool> {
        let start = self.pos;
        loop {
            self.skip_ws()?;
            if self.peek() == Some(b'\\') {
                self.escline()?;
            } else {
                break;
            }
        }
        Ok(self.pos != start)
    }

    /// `line-space*`: node-space, newlines and `//` comments.
    pub(super) fn skip_line_space(&mut self) -> PResult<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) => self.pos += 1,
                Some(b'/') => match self.peek_at(1) {
                    Some(b'/') => self.line_comment()?,
                    Some(b'*') => self.block_comment()?,
                    _ => return Ok(()),
                },
                Some(b'\\') => self.escline()?,
                Some(0x80..) => {
                    let n = space_len(self.b, self.pos).max(newline_len(self.b, self.pos));
                    if n == 0 {
                        return Ok(());
                    }
                    self.pos += n;
                }
                _ => return Ok(()),
            }
        }
    }

    /// `escline := '\' ws* (single-line-comment | newline | eof)`, at the `\`.
    pub(super) fn escline(&mut self) -> PResult<()> {
        let backslash = self.pos;
        self.pos += 1;
        self.skip_ws()?;
        if self.peek().is_none() {
            return Ok(());
        }
        if self.peek() == Some(b'/') && self.peek_at(1) == Some(b'/') {
            return self.line_comment();
        }
        let n = newline_len(self.b, self.pos);
        if n == 0 {
            return Err(self.error(
                backslash,
                backslash + 1,
                format!(
                    "expected a newline after the line continuation `\\`, found {}",
                    self.describe_at(self.pos)
                ),
                Some(
                    "outside strings, `\\` continues a node on the next line; only whitespace \
                     or a `//` comment may follow it on its line"
                        .into(),
                ),
            ));
        }
        self.pos += n;
        Ok(())
    }

    /// `'//' ^newline* (newline | eof)`, at the `//`; consumes the newline.
    pub(super) fn line_comment(&mut self) -> PResult<()> {
        self.pos += 2;
        loop {
            while let Some(&b) = self.b.get(self.pos) {
                if class(b) & LINE_STOP != 0 {
                    break;
                }
                self.pos += 1;
            }
            if self.peek().is_none() {
                return Ok(());
            }
            let n = newline_len(self.b, self.pos);
            if n > 0 {
                self.pos += n;
                return Ok(());
            }
            self.advance_checked()?;
        }
    }

    /// `/* … */`, nesting, at the `/*`. Iterative (a depth counter), so
    /// deeply nested comments cannot exhaust the stack.
    pub(super) fn block_comment(&mut self) -> PResult<()> {
        let open = self.pos;
        self.pos += 2;
        let mut depth = 1usize;
        loop {
            while let Some(&b) = self.b.get(self.pos) {
                if class(b) & BLOCK_STOP != 0 {
                    break;
                }
                self.pos += 1;
            }
            match self.peek() {
                None => {
                    return Err(self.error(
                        open,
                        open + 2,
                        "unterminated block comment",
                        Some(
                            "close it with `*/` (block comments nest: each `/*` needs one)".into(),
                        ),
                    ));
                }
                Some(b'*') if self.peek_at(1) == Some(b'/') => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    self.pos += 2;
                    depth += 1;
                }
                Some(b'*' | b'/') => self.pos += 1,
                Some(_) => self.advance_checked()?,
            }
        }
    }
}
