//! Character classes of KDL v2 (spec 2.0, "Whitespace", "Newline",
//! "Disallowed Literal Code Points" and `identifier-char`).
//!
//! The lexer works on bytes. ASCII bytes are classified with one table
//! lookup; the only non-ASCII code points that matter to the grammar
//! (Unicode spaces, NEL/LS/PS newlines, bidi controls and U+FEFF) all start
//! with the lead bytes C2, E1, E2, E3 or EF, so the hot scanning loops stop
//! only on those and decode a `char` there.

/// ASCII byte that may appear in a bare identifier.
pub(super) const IDENT: u8 = 1 << 0;
/// Byte that ends the fast scan of a single-line quoted string: `"`, `\`,
/// ASCII controls (newlines and disallowed ones) and lead bytes of
/// interesting non-ASCII code points.
pub(super) const STR_STOP: u8 = 1 << 1;
/// Byte that ends the fast scan of a `//` comment or a single-line raw
/// string (newlines, disallowed code points). Raw strings also stop on `"`.
pub(super) const LINE_STOP: u8 = 1 << 2;
/// Byte that ends the fast scan of a `/* */` comment: `*`, `/`, and
/// disallowed code points (newlines are fine inside block comments).
pub(super) const BLOCK_STOP: u8 = 1 << 3;

const fn build_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0u8;
        // Every ASCII control except TAB is either a newline (LF, VT, FF,
        // CR) or a disallowed code point; DEL is disallowed too.
        let control = (b < 0x20 && b != b'\t') || b == 0x7F;
        let is_ident = b > 0x20
            && b < 0x7F
            && !matches!(
                b,
                b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b';' | b'[' | b']' | b'"' | b'#' | b'='
            );
        if is_ident {
            c |= IDENT;
        }
        // Inside strings and comments spaces are plain content: only NEL
        // (C2), LS/PS and bidi controls (E2) and U+FEFF (EF) need a look.
        let content_lead = matches!(b, 0xC2 | 0xE2 | 0xEF);
        if control || content_lead || b == b'"' || b == b'\\' {
            c |= STR_STOP;
        }
        if control || content_lead {
            c |= LINE_STOP;
        }
        let newline = matches!(b, b'\n' | 0x0B | 0x0C | b'\r');
        if (control && !newline) || b == b'*' || b == b'/' || matches!(b, 0xE2 | 0xEF) {
            c |= BLOCK_STOP;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Per-byte class flags, see the constants above.
pub(super) static CLASS: [u8; 256] = build_classes();

#[inline]
pub(super) fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

/// `unicode-space`: whitespace that is not a newline.
pub(super) fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// `newline` code points (CRLF is handled by the caller as one newline).
pub(super) fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{B}' | '\u{C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Code points that may not appear literally anywhere in a document
/// (U+FEFF is allowed only as the very first code point, which the parser
/// strips before scanning).
pub(in crate::syntax) fn is_disallowed(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{E}'..='\u{1F}'
            | '\u{7F}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `identifier-char`.
pub(super) fn is_ident_char(c: char) -> bool {
    if c.is_ascii() {
        return class(c as u8) & IDENT != 0;
    }
    !(is_unicode_space(c) || is_newline(c) || is_disallowed(c))
}

/// Length in bytes of the `newline` starting at `pos` (CRLF counts as one),
/// or 0.
#[inline]
pub(super) fn newline_len(b: &[u8], pos: usize) -> usize {
    match b.get(pos) {
        Some(b'\n' | 0x0B | 0x0C) => 1,
        Some(b'\r') => {
            if b.get(pos + 1) == Some(&b'\n') {
                2
            } else {
                1
            }
        }
        Some(0xC2) if b.get(pos + 1) == Some(&0x85) => 2,
        Some(0xE2)
            if b.get(pos + 1) == Some(&0x80) && matches!(b.get(pos + 2), Some(0xA8 | 0xA9)) =>
        {
            3
        }
        _ => 0,
    }
}

/// Length in bytes of the `unicode-space` starting at `pos`, or 0.
#[inline]
pub(super) fn space_len(b: &[u8], pos: usize) -> usize {
    match b.get(pos) {
        Some(b' ' | b'\t') => 1,
        // U+00A0
        Some(0xC2) if b.get(pos + 1) == Some(&0xA0) => 2,
        // U+1680
        Some(0xE1) if b.get(pos + 1) == Some(&0x9A) && b.get(pos + 2) == Some(&0x80) => 3,
        // U+2000–U+200A, U+202F (E2 80 xx) and U+205F (E2 81 9F)
        Some(0xE2) => match (b.get(pos + 1), b.get(pos + 2)) {
            (Some(0x80), Some(0x80..=0x8A | 0xAF)) | (Some(0x81), Some(0x9F)) => 3,
            _ => 0,
        },
        // U+3000
        Some(0xE3) if b.get(pos + 1) == Some(&0x80) && b.get(pos + 2) == Some(&0x80) => 3,
        _ => 0,
    }
}

/// How to show a code point in a message: the character itself when it is
/// printable, a word for common whitespace, `U+XXXX` otherwise.
pub(super) fn describe(c: char) -> String {
    match c {
        '\n' => return "a newline".into(),
        '\r' => return "a carriage return".into(),
        ' ' => return "a space".into(),
        '\t' => return "a tab".into(),
        _ => {}
    }
    if c.is_control() || is_disallowed(c) || is_unicode_space(c) || is_newline(c) {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lead bytes of the non-ASCII code points KDL gives a meaning to:
    /// C2 (U+0085 NEL, U+00A0), E1 (U+1680), E2 (U+2000–U+206F: spaces, LS,
    /// PS, bidi controls), E3 (U+3000) and EF (U+FEFF).
    fn is_special_lead(b: u8) -> bool {
        matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3 | 0xEF)
    }

    #[test]
    fn byte_helpers_agree_with_char_predicates() {
        for c in (0u32..0x11000).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let s = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(space_len(s, 0) > 0, is_unicode_space(c), "{c:?}");
            assert_eq!(newline_len(s, 0) > 0, is_newline(c), "{c:?}");
            if is_unicode_space(c) || is_newline(c) || is_disallowed(c) {
                assert!(
                    s[0].is_ascii() || is_special_lead(s[0]),
                    "{c:?} must start with a special lead byte"
                );
            }
            // The string and comment scans stop only on C2/E2/EF: every
            // newline or disallowed code point must start with one.
            if (is_newline(c) || is_disallowed(c)) && !s[0].is_ascii() {
                assert!(class(s[0]) & STR_STOP != 0 && class(s[0]) & LINE_STOP != 0);
            }
            if is_disallowed(c) && !s[0].is_ascii() {
                assert!(class(s[0]) & BLOCK_STOP != 0);
            }
            if c.is_ascii() && (is_newline(c) || is_disallowed(c)) {
                assert!(class(s[0]) & STR_STOP != 0 && class(s[0]) & LINE_STOP != 0);
                assert_eq!(class(s[0]) & BLOCK_STOP != 0, is_disallowed(c), "{c:?}");
            }
            if c.is_ascii() {
                let ident = !(is_unicode_space(c)
                    || is_newline(c)
                    || is_disallowed(c)
                    || "\\/(){};[]\"#=".contains(c));
                assert_eq!(is_ident_char(c), ident, "{c:?}");
            }
        }
    }
}
