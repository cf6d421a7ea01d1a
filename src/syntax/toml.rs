//! TOML site files → the common [`Document`] tree.
//!
//! Mapping (the inverse of what `docs/site-format.md` shows side by side):
//! - `key = scalar` → node `key` with one argument;
//! - `key = [scalars]` → node `key` with those arguments;
//! - `key = { … }` / `[key]` → node `key` whose children are the table's keys;
//! - `[[key]]` (array of tables) → one node `key` per element.
//!
//! So `[node.r01n01]` with `rack = "r01"` becomes `node { r01n01 { rack "r01" } }`,
//! which lowering reads exactly like KDL's `node r01n01 { rack r01 }`.

use ::toml::de::{DeTable, DeValue};
use ::toml::Spanned;

use super::{Document, FileId, Ident, Node, Scalar, Span, SyntaxError, Value};

pub fn parse(file: FileId, text: &str) -> (Document, Vec<SyntaxError>) {
    let (table, errors) = DeTable::parse_recoverable(text);
    let errors: Vec<SyntaxError> = errors
        .into_iter()
        .map(|e| {
            let range = e.span().unwrap_or(0..0);
            if e.message().starts_with("unexpected leading zero") {
                return leading_zero(file, text, range);
            }
            SyntaxError {
                message: first_line(e.message()),
                span: Span::new(file, range.start, range.end),
                help: None,
            }
        })
        .collect();
    let errors = one_per_table_declared_twice(file, text, errors);
    let mut cx = Cx {
        file,
        text,
        errors: Vec::new(),
    };
    let nodes = cx.table(table.get_ref());
    let mut all = errors;
    all.extend(cx.errors);
    all.extend(hidden_code_points(file, text));
    (Document { nodes }, all)
}

/// Bidirectional controls, direction marks and a byte order mark past the
/// start: legal in a TOML string, invisible in an editor and a review, and
/// they reorder what a reader sees ("Trojan Source"). A KDL file may not
/// hold them literally either (its parser refuses them), so the site's two
/// formats accept the same text. The control characters TOML itself
/// refuses are its parser's findings.
fn hidden_code_points(file: FileId, text: &str) -> Vec<SyntaxError> {
    if text.is_ascii() {
        return Vec::new();
    }
    text.char_indices()
        .filter(|&(i, c)| {
            !c.is_control() && super::kdl::chars::is_disallowed(c) && !(i == 0 && c == '\u{FEFF}')
        })
        .map(|(i, c)| SyntaxError {
            message: format!("disallowed code point U+{:04X}", c as u32),
            span: Span::new(file, i, i + c.len_utf8()),
            help: Some(
                "bidirectional-override characters, direction marks and a byte order mark past the start may not appear literally in a site file (they hide what a reviewer reads); in a TOML string write them as a `\\u` escape if they are meant".into(),
            ),
        })
        .collect()
}

/// A table declared twice (`[node.r01n02]` pasted again) is one mistake:
/// the parser reports its header and then every key under it again, each
/// a "duplicate key". Keep one finding, at the second header, that says
/// what happened and where the first one is; drop the repeats of its keys.
fn one_per_table_declared_twice(
    file: FileId,
    text: &str,
    errors: Vec<SyntaxError>,
) -> Vec<SyntaxError> {
    const DUPLICATE: &str = "duplicate key";
    let line_of = |at: usize| {
        let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        (start, end)
    };
    // `[a.b]` → `a.b` without blanks, for comparing two headers; `None`
    // for anything else (an array of tables `[[…]]`, a key line).
    let header = |line: &str| {
        let l = line.trim();
        let l = l.split_once('#').map_or(l, |(h, _)| h).trim_end();
        (l.starts_with('[') && !l.starts_with("[[") && l.ends_with(']'))
            .then(|| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
    };
    let mut out: Vec<SyntaxError> = Vec::with_capacity(errors.len());
    // The body of a table declared again: (from, to) in bytes.
    let mut bodies: Vec<(usize, usize)> = Vec::new();
    for e in errors {
        if e.message != DUPLICATE {
            out.push(e);
            continue;
        }
        let at = e.span.start as usize;
        if bodies.iter().any(|&(from, to)| at >= from && at < to) {
            continue;
        }
        let (ls, le) = line_of(at);
        let Some(h) = header(&text[ls..le]) else {
            out.push(e);
            continue;
        };
        // The body runs to the next header of any kind.
        let mut to = text.len();
        let mut pos = (le + 1).min(text.len());
        while pos < text.len() {
            let (s, end) = line_of(pos);
            if text[s..end].trim_start().starts_with('[') {
                to = s;
                break;
            }
            pos = end + 1;
        }
        bodies.push((le, to));
        let mut first = None;
        let mut pos = 0;
        while pos < ls {
            let (s, end) = line_of(pos);
            if header(&text[s..end]).as_deref() == Some(h.as_str()) {
                first = Some(text[..s].matches('\n').count() + 1);
                break;
            }
            pos = end + 1;
        }
        let shown = text[ls..le].trim();
        let first = match first {
            Some(n) => format!("the first `{shown}` is at line {n}"),
            None => {
                "it is declared earlier in this file (as a table, an inline table or dotted keys)"
                    .into()
            }
        };
        out.push(SyntaxError {
            message: format!("table `{shown}` is declared twice"),
            span: Span::new(file, ls + (text[ls..le].len() - text[ls..le].trim_start().len()), ls + text[ls..le].trim_end().len()),
            help: Some(format!(
                "{first}: merge the two tables into one, or rename one of them (a TOML file may declare a table once)"
            )),
        });
    }
    out
}

/// The parser's "unexpected leading zero" said of the whole number, with
/// what to write instead: a serial number or an identifier written as a
/// bare number (`serial = 0123456`) is a string.
fn leading_zero(file: FileId, text: &str, at: std::ops::Range<usize>) -> SyntaxError {
    let stop = |c: char| c.is_whitespace() || matches!(c, '=' | ',' | '[' | ']' | '{' | '}' | '#');
    let start = text
        .get(..at.start)
        .and_then(|t| t.rfind(stop))
        .map_or(0, |i| i + 1)
        .min(at.start);
    let end = text
        .get(start..)
        .and_then(|t| t.find(stop))
        .map_or(text.len(), |i| start + i)
        .max(at.end.min(text.len()));
    let raw = text.get(start..end).unwrap_or("");
    SyntaxError {
        message: format!("`{raw}`: a TOML number cannot start with a zero"),
        span: Span::new(file, start, end),
        help: Some(format!(
            "write it as a string, `\"{raw}\"`, to keep the zeros (a serial number, an identifier), or as a number without them"
        )),
    }
}

fn first_line(msg: &str) -> String {
    msg.lines().next().unwrap_or(msg).trim().to_string()
}

struct Cx<'t> {
    file: FileId,
    /// The file's text, for what the parser could not keep of a value.
    text: &'t str,
    errors: Vec<SyntaxError>,
}

impl Cx<'_> {
    fn span<T>(&self, s: &Spanned<T>) -> Span {
        let r = s.span();
        Span::new(self.file, r.start, r.end)
    }

    fn table(&mut self, table: &DeTable<'_>) -> Vec<Node> {
        let mut out = Vec::with_capacity(table.len());
        for (key, value) in table.iter() {
            let name = Ident {
                text: key.get_ref().to_string(),
                span: self.span(key),
            };
            self.entry(name, value, &mut out);
        }
        out
    }

    fn entry(&mut self, name: Ident, value: &Spanned<DeValue<'_>>, out: &mut Vec<Node>) {
        let vspan = self.span(value);
        let node_span = if vspan.start >= name.span.start && !vspan.is_empty() {
            name.span.to(vspan)
        } else {
            name.span
        };
        match value.get_ref() {
            DeValue::Table(t) => {
                let children = self.table(t);
                out.push(Node {
                    ty: None,
                    name,
                    args: Vec::new(),
                    props: Vec::new(),
                    children: Some(children),
                    span: node_span,
                });
            }
            DeValue::Array(items) => {
                let all_tables = !items.is_empty()
                    && items
                        .iter()
                        .all(|i| matches!(i.get_ref(), DeValue::Table(_)));
                if all_tables {
                    for item in items.iter() {
                        if let DeValue::Table(t) = item.get_ref() {
                            let children = self.table(t);
                            out.push(Node {
                                ty: None,
                                name: name.clone(),
                                args: Vec::new(),
                                props: Vec::new(),
                                children: Some(children),
                                span: self.span(item),
                            });
                        }
                    }
                    return;
                }
                let mut args = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match self.scalar(item) {
                        Some(v) => args.push(v),
                        None => self.errors.push(SyntaxError {
                            message: format!(
                                "`{}` mixes tables or nested arrays with values",
                                name.text
                            ),
                            span: self.span(item),
                            help: Some(
                                "site files use arrays of plain values, or arrays of tables".into(),
                            ),
                        }),
                    }
                }
                out.push(Node {
                    ty: None,
                    name,
                    args,
                    props: Vec::new(),
                    children: None,
                    span: node_span,
                });
            }
            _ => {
                let arg = self.scalar(value).into_iter().collect();
                out.push(Node {
                    ty: None,
                    name,
                    args: arg,
                    props: Vec::new(),
                    children: None,
                    span: node_span,
                });
            }
        }
    }

    fn scalar(&mut self, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        let span = self.span(value);
        let scalar = match value.get_ref() {
            DeValue::String(s) => Scalar::String(s.to_string()),
            DeValue::Integer(i) => {
                match i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Scalar::Int(n),
                    // An integer the parser refused (a leading zero) and
                    // reported: kept as the text the file has, so that the
                    // key does not also look empty.
                    Err(_) if i.as_str().is_empty() => {
                        let raw = self.text.get(value.span()).unwrap_or("").trim();
                        Scalar::String(raw.to_string())
                    }
                    Err(_) => {
                        self.errors.push(SyntaxError {
                            message: format!("integer `{}` is out of range", i.as_str()),
                            span,
                            help: None,
                        });
                        return None;
                    }
                }
            }
            DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
                Ok(x) => Scalar::Float(x),
                Err(_) => Scalar::String(f.as_str().to_string()),
            },
            DeValue::Boolean(b) => Scalar::Bool(*b),
            // Dates are not part of the site model: lowering reports a type
            // error where a value has a type, and `vars` says it becomes a
            // string (SC0062).
            DeValue::Datetime(d) => Scalar::Datetime(d.to_string()),
            DeValue::Array(_) | DeValue::Table(_) => return None,
        };
        Some(Value {
            ty: None,
            scalar,
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_zero_is_one_finding_that_says_to_quote() {
        let text = "[node.r01n01]\nserial = 0123456\nposition = 3\n";
        let (doc, errs) = parse(FileId(0), text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].message,
            "`0123456`: a TOML number cannot start with a zero"
        );
        assert!(errs[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("`\"0123456\"`"));
        let at = errs[0].span;
        assert_eq!(&text[at.start as usize..at.end as usize], "0123456");
        // The key keeps the text written, so it is not also "no value".
        let serial = &doc.nodes[0].children()[0].children()[0];
        assert_eq!(serial.args[0].scalar, Scalar::String("0123456".into()));
    }

    #[test]
    fn keyed_tables_become_nested_nodes() {
        let (doc, errs) = parse(
            FileId(0),
            "[node.r01n01]\nrack = \"r01\"\nprofiles = [\"base\", \"compute\"]\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let node = &doc.nodes[0];
        assert_eq!(node.name.text, "node");
        let host = &node.children()[0];
        assert_eq!(host.name.text, "r01n01");
        assert_eq!(host.children()[0].name.text, "rack");
        assert_eq!(
            host.children()[0].args[0].scalar,
            Scalar::String("r01".into())
        );
        assert_eq!(host.children()[1].args.len(), 2);
    }

    #[test]
    fn a_table_declared_twice_is_one_error() {
        let text = "[node.a]\nrack = \"r01\"\nposition = 1\n\n[node.b]\nrack = \"r01\"\n\n[node.a]\nrack = \"r01\"\nposition = 1\n";
        let (_, errs) = parse(FileId(0), text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].message, "table `[node.a]` is declared twice");
        assert_eq!(
            &text[errs[0].span.start as usize..errs[0].span.end as usize],
            "[node.a]"
        );
        assert!(
            errs[0].help.as_deref().unwrap_or("").contains("line 1"),
            "{errs:?}"
        );
        // A key given twice inside one table is still its own finding.
        let (_, errs) = parse(FileId(0), "[node.a]\nrack = 1\nrack = 2\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].message, "duplicate key");
    }

    #[test]
    fn dates_stay_dates() {
        let (doc, errs) = parse(FileId(0), "when = 2024-05-01\n");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            doc.nodes[0].args[0].scalar,
            Scalar::Datetime("2024-05-01".into())
        );
    }

    #[test]
    fn syntax_errors_carry_spans() {
        let (_, errs) = parse(FileId(0), "a = \n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].span.start <= 5);
    }
}
