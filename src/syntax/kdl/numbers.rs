//! Numbers: decimal integers and floats (with `_` separators and
//! exponents), and `0x` / `0o` / `0b` integers.
//!
//! Integers are accumulated directly into a `u128` magnitude (no string
//! building); a literal outside `i128` is an error rather than a silent
//! float, since site files use integers for things like VLAN ids and sizes.
//! Floats go through the standard library's correctly rounded parser,
//! from the source slice itself unless it contains `_`.

use super::{PResult, Parser, Scalar};

impl Parser<'_> {
    /// A number, at its sign or first digit (the caller checked that a
    /// digit follows any sign).
    pub(super) fn number(&mut self) -> PResult<Scalar> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some(b'0'), Some(b'x')) => 16,
            (Some(b'0'), Some(b'o')) => 8,
            (Some(b'0'), Some(b'b')) => 2,
            _ => 10,
        };
        if radix != 10 {
            return self.radix_integer(start, negative, radix);
        }

        let mut magnitude = Some(0u128);
        self.decimal_digits(&mut magnitude);
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            if !matches!(self.peek_at(1), Some(b'0'..=b'9')) {
                let at = self.pos + 1;
                return Err(self.error(
                    start,
                    self.char_end(at).max(at),
                    format!(
                        "expected a digit after the decimal point in `{}`",
                        self.slice(start, at)
                    ),
                    Some("write `1.0`, not `1.`; `_` may only follow a digit".into()),
                ));
            }
            self.pos += 1;
            self.decimal_digits(&mut None);
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mut p = self.pos + 1;
            if matches!(self.b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !matches!(self.b.get(p), Some(b'0'..=b'9')) {
                return Err(self.error(
                    start,
                    self.char_end(p).max(p),
                    format!(
                        "expected digits in the exponent of `{}`",
                        self.slice(start, p)
                    ),
                    Some("write exponents like `1e10` or `2.5E-3`".into()),
                ));
            }
            self.pos = p;
            self.decimal_digits(&mut None);
            is_float = true;
        }
        if is_float {
            return self.float(start);
        }
        self.finish_integer(start, negative, magnitude)
    }

    /// `[0-9_]*` after a first digit; folds digits into `magnitude` (which
    /// becomes `None` on overflow) when one is given.
    fn decimal_digits(&mut self, magnitude: &mut Option<u128>) {
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' => {
                    if let Some(m) = magnitude {
                        *magnitude = m
                            .checked_mul(10)
                            .and_then(|m| m.checked_add(u128::from(b - b'0')));
                    }
                }
                b'_' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// `0x…`, `0o…` or `0b…`, with `pos` at the `0`.
    fn radix_integer(&mut self, start: usize, negative: bool, radix: u32) -> PResult<Scalar> {
        self.pos += 2;
        let (name, example) = match radix {
            16 => ("hexadecimal", "`0xff`"),
            8 => ("octal", "`0o755`"),
            _ => ("binary", "`0b1010`"),
        };
        let first_ok = self.peek().is_some_and(|b| char::from(b).is_digit(radix));
        if !first_ok {
            return Err(self.error(
                start,
                self.char_end(self.pos).max(self.pos),
                format!(
                    "expected a {name} digit after `{}`",
                    self.slice(start, self.pos)
                ),
                Some(format!(
                    "{name} numbers look like {example}; `_` may only follow a digit"
                )),
            ));
        }
        let mut magnitude = Some(0u128);
        while let Some(b) = self.peek() {
            if b != b'_' {
                let Some(d) = char::from(b).to_digit(radix) else {
                    break;
                };
                magnitude = magnitude
                    .and_then(|m| m.checked_mul(u128::from(radix)))
                    .and_then(|m| m.checked_add(u128::from(d)));
            }
            self.pos += 1;
        }
        self.finish_integer(start, negative, magnitude)
    }

    fn finish_integer(
        &self,
        start: usize,
        negative: bool,
        magnitude: Option<u128>,
    ) -> PResult<Scalar> {
        const LIMIT: u128 = 1 << 127;
        let value = match magnitude {
            // -2^127 is i128::MIN; `wrapping_neg` maps its magnitude there.
            Some(m) if negative && m <= LIMIT => (m as i128).wrapping_neg(),
            Some(m) if !negative && m < LIMIT => m as i128,
            _ => {
                return Err(self.error(
                    start,
                    self.pos,
                    "integer out of range",
                    Some(
                        "integers must fit in 128 bits (about ±1.7e38); add `.0` or an \
                         exponent to make it a float"
                            .into(),
                    ),
                ));
            }
        };
        Ok(Scalar::Int(value))
    }

    fn float(&self, start: usize) -> PResult<Scalar> {
        let text = self.slice(start, self.pos);
        let parsed = if text.contains('_') {
            text.replace('_', "").parse::<f64>()
        } else {
            text.parse::<f64>()
        };
        match parsed {
            Ok(x) => Ok(Scalar::Float(x)),
            // The grammar above only lets through what `f64::from_str`
            // accepts; keep an error rather than a panic all the same.
            Err(e) => Err(self.error(start, self.pos, format!("invalid number: {e}"), None)),
        }
    }
}
