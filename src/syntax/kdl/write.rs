//! Writing KDL v2 text. The generators (`siteconf init`'s site files,
//! `siteconf state --stub`'s node block) print strings and comments through
//! these, so that whatever a name or an observed value contains, the text
//! parses back to it (the tests below check that with [`super::parse`]).

use std::fmt::Write as _;

use super::chars::{is_disallowed, is_newline};

/// A quoted string. `"` and `\` are escaped, `\n`, `\r` and `\t` written as
/// such, and every other control character, newline (U+0085, U+2028, …)
/// and code point KDL forbids in a document (bidi controls, U+FEFF) as
/// `\u{…}`, so none can end the string or the line.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_newline(c) || is_disallowed(c) => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written as a bare identifier. Deliberately narrower
/// than the spec (an ASCII letter, then ASCII letters, digits, `-` and `_`)
/// so that nothing can be misread as a number or a keyword.
pub fn is_bare(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !matches!(s, "true" | "false" | "null" | "inf" | "nan")
}

/// `s` bare when [`is_bare`], else as a quoted [`string`].
pub fn ident(s: &str) -> String {
    if is_bare(s) {
        s.to_string()
    } else {
        string(s)
    }
}

/// The text of a `// comment` (after the `// `): newlines and code points
/// KDL forbids are written as `\u{…}`, so the comment stays on its line and
/// the document stays valid whatever the text contains (such as a host
/// name a machine reported about itself).
pub fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\t' {
            out.push(c);
        } else if c.is_control() || is_newline(c) || is_disallowed(c) {
            let _ = write!(out, "\\u{{{:X}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{FileId, Scalar};

    /// Strings with every kind of character KDL treats specially.
    fn awkward() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            "plain",
            "a b",
            "\"q\"",
            "back\\slash",
            "tab\there",
            "cr\rlf\n",
            "\u{85}nel",
            "ls\u{2028}ps\u{2029}",
            "\u{FEFF}bom",
            "bidi\u{202E}x\u{2066}",
            "\u{7F}del",
            "true",
            "#true",
            "1.5",
            "-x",
            "r#\"raw\"#",
            "/* c */",
            "// c",
            "é ü 中",
            "{ } ; =",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push((0u8..0x20).map(char::from).collect());
        v
    }

    #[test]
    fn strings_parse_back_to_themselves() {
        for s in awkward() {
            for written in [string(&s), ident(&s)] {
                let text = format!("n {written}\n");
                let doc = match super::super::parse(FileId(0), &text) {
                    Ok(d) => d,
                    Err(e) => panic!("{s:?} written as {written:?}: {e:?}"),
                };
                assert_eq!(doc.nodes.len(), 1, "{text:?}");
                assert_eq!(doc.nodes[0].args[0].scalar, Scalar::String(s.clone()));
            }
        }
    }

    #[test]
    fn comments_stay_on_their_line() {
        for s in awkward() {
            let text = format!("// {}\nn 1\n", comment(&s));
            let doc = match super::super::parse(FileId(0), &text) {
                Ok(d) => d,
                Err(e) => panic!("{s:?}: {e:?}"),
            };
            assert_eq!(doc.nodes.len(), 1, "{text:?}");
            assert_eq!(doc.nodes[0].name.text, "n");
        }
    }

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(ident("eno1"), "eno1");
        assert_eq!(ident("r01-tor1"), "r01-tor1");
        assert_eq!(ident("true"), "\"true\"");
        assert_eq!(ident("1a"), "\"1a\"");
        assert_eq!(string("a\u{1}b"), "\"a\\u{1}b\"");
    }
}
