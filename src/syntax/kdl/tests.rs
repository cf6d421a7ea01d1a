//! Unit tests: the tree's shape, spans, and error positions and messages.
//! Conformance is covered by `tests/kdl_compliance.rs` (official suite) and
//! `tests/kdl_differential.rs` (against the `kdl` crate).

use super::*;

fn ok(text: &str) -> Document {
    match parse(FileId(7), text) {
        Ok(d) => d,
        Err(e) => panic!("{text:?} failed: {e:?}"),
    }
}

fn err(text: &str) -> SyntaxError {
    match parse(FileId(7), text) {
        Ok(d) => panic!("{text:?} parsed: {d:?}"),
        Err(mut e) => {
            assert_eq!(e.len(), 1);
            e.remove(0)
        }
    }
}

/// The text a span covers.
fn at(text: &str, span: Span) -> &str {
    assert_eq!(span.file, FileId(7));
    &text[span.start as usize..span.end as usize]
}

/// Asserts the error's message contains `msg` and its span covers exactly
/// `covered`, found at the given byte offset.
fn assert_err(text: &str, msg: &str, start: usize, covered: &str) {
    let e = err(text);
    assert!(
        e.message.contains(msg),
        "{text:?}: message {:?} lacks {msg:?}",
        e.message
    );
    assert_eq!(
        (e.span.start as usize, at(text, e.span)),
        (start, covered),
        "{text:?}: wrong span for {:?}",
        e.message
    );
}

fn str_arg(v: &Value) -> &str {
    match &v.scalar {
        Scalar::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

// ---- tree shape ---------------------------------------------------------

#[test]
fn realistic_node() {
    let d =
        ok("interface eno1 { mac \"52:54:00:00:01:01\"; switch r01-tor1; port swp1; mtu 9000 }\n");
    let n = &d.nodes[0];
    assert_eq!(n.name.text, "interface");
    assert_eq!(str_arg(&n.args[0]), "eno1");
    let kids: Vec<&str> = n.children().iter().map(|c| c.name.text.as_str()).collect();
    assert_eq!(kids, ["mac", "switch", "port", "mtu"]);
    assert_eq!(str_arg(&n.children()[0].args[0]), "52:54:00:00:01:01");
    assert_eq!(n.children()[3].args[0].scalar, Scalar::Int(9000));
}

#[test]
fn duplicate_properties_are_kept_in_order() {
    let d = ok("n a=1 b=2 a=3");
    let props: Vec<(&str, &Scalar)> = d.nodes[0]
        .props
        .iter()
        .map(|(k, v)| (k.text.as_str(), &v.scalar))
        .collect();
    assert_eq!(
        props,
        [
            ("a", &Scalar::Int(1)),
            ("b", &Scalar::Int(2)),
            ("a", &Scalar::Int(3))
        ]
    );
}

#[test]
fn values_of_every_kind() {
    let d = ok(
        "n \"s\" #\"r\\n\"# bare 1_000 -0x10 0o17 0b101 1.5e3 #true #false #null #inf #-inf #nan",
    );
    let a = &d.nodes[0].args;
    assert_eq!(str_arg(&a[0]), "s");
    assert_eq!(str_arg(&a[1]), "r\\n");
    assert_eq!(str_arg(&a[2]), "bare");
    assert_eq!(a[3].scalar, Scalar::Int(1000));
    assert_eq!(a[4].scalar, Scalar::Int(-16));
    assert_eq!(a[5].scalar, Scalar::Int(15));
    assert_eq!(a[6].scalar, Scalar::Int(5));
    assert_eq!(a[7].scalar, Scalar::Float(1500.0));
    assert_eq!(a[8].scalar, Scalar::Bool(true));
    assert_eq!(a[9].scalar, Scalar::Bool(false));
    assert_eq!(a[10].scalar, Scalar::Null);
    assert_eq!(a[11].scalar, Scalar::Float(f64::INFINITY));
    assert_eq!(a[12].scalar, Scalar::Float(f64::NEG_INFINITY));
    assert!(matches!(a[13].scalar, Scalar::Float(x) if x.is_nan()));
}

#[test]
fn i128_limits() {
    let d =
        ok("n 170141183460469231731687303715884105727 -170141183460469231731687303715884105728");
    assert_eq!(d.nodes[0].args[0].scalar, Scalar::Int(i128::MAX));
    assert_eq!(d.nodes[0].args[1].scalar, Scalar::Int(i128::MIN));
    assert_err(
        "n 170141183460469231731687303715884105728",
        "integer out of range",
        2,
        "170141183460469231731687303715884105728",
    );
}

#[test]
fn slashdash_drops_nodes_entries_and_children() {
    let d = ok("/-gone 1\nn /-1 2 /-k=v {\n a\n} /-{ b }\n/- also { x }\nlast");
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.text.as_str()).collect();
    assert_eq!(names, ["n", "last"]);
    let n = &d.nodes[0];
    assert_eq!(n.args.len(), 1);
    assert_eq!(n.args[0].scalar, Scalar::Int(2));
    assert!(n.props.is_empty());
    assert_eq!(n.children().len(), 1);
    // Only slashdashed children: no children block at all.
    assert_eq!(ok("n /-{ a }").nodes[0].children, None);
    assert_eq!(ok("n {}").nodes[0].children, Some(vec![]));
}

#[test]
fn multiline_strings_dedent() {
    let d = ok("n \"\"\"\n    a\n      b\n\n    c \\\n    d\\s\n    \"\"\"");
    assert_eq!(str_arg(&d.nodes[0].args[0]), "a\n  b\n\nc d ");
    let d = ok("n #\"\"\"\r\n  x \\n\r\n  \"\"\"#");
    assert_eq!(str_arg(&d.nodes[0].args[0]), "x \\n");
}

#[test]
fn whitespace_and_newline_code_points() {
    // U+3000 and U+00A0 separate values; NEL, LS, PS, VT, FF and a lone CR
    // end nodes.
    let d = ok("a\u{3000}1\u{a0}2\u{85}b\u{2028}c\u{2029}d\u{b}e\u{c}f\rg");
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.text.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g"]);
    assert_eq!(d.nodes[0].args.len(), 2);
    // A BOM is allowed first, and spans still count its bytes.
    let text = "\u{feff}n";
    assert_eq!(at(text, ok(text).nodes[0].span), "n");
}

// ---- spans --------------------------------------------------------------

#[test]
fn name_span_of_third_node() {
    let text = "first 1\nsecond { x }\n(t)\"third node\" a=1 // c\n";
    let d = ok(text);
    let third = &d.nodes[2];
    assert_eq!(third.name.text, "third node");
    assert_eq!(at(text, third.name.span), "\"third node\"");
    assert_eq!(
        third.name.span.start as usize,
        text.find("\"third").unwrap()
    );
    // The node span runs from the type annotation to the last value.
    assert_eq!(at(text, third.span), "(t)\"third node\" a=1");
    let ty = third.ty.as_ref().unwrap();
    assert_eq!((ty.text.as_str(), at(text, ty.span)), ("t", "t"));
}

#[test]
fn property_value_span() {
    let text = "bmc address=\"10.0.1.101\" user = (name)admin vlan=100";
    let n = &ok(text).nodes[0];
    let (k, v) = &n.props[0];
    assert_eq!(at(text, k.span), "address");
    assert_eq!(at(text, v.span), "\"10.0.1.101\"");
    assert_eq!(v.span.start, 12);
    // The value span excludes its type annotation, which has its own span.
    let (k, v) = &n.props[1];
    assert_eq!(at(text, k.span), "user");
    assert_eq!(at(text, v.span), "admin");
    assert_eq!(at(text, v.ty.as_ref().unwrap().span), "name");
    assert_eq!(at(text, n.props[2].1.span), "100");
}

#[test]
fn node_spans_end_at_last_token_or_brace() {
    let text = "a 1 2 ;\nb {\n  c #true /* x */\n} /-{ d }  // trailing\ne\\\n  f\n";
    let d = ok(text);
    assert_eq!(at(text, d.nodes[0].span), "a 1 2");
    assert_eq!(
        at(text, d.nodes[1].span),
        "b {\n  c #true /* x */\n} /-{ d }"
    );
    assert_eq!(at(text, d.nodes[1].children()[0].span), "c #true");
    assert_eq!(at(text, d.nodes[2].span), "e\\\n  f");
    assert_eq!(at(text, d.nodes[2].args[0].span), "f");
}

#[test]
fn string_token_spans_include_quotes_and_hashes() {
    let text = "n ##\"x\"## \"\"\"\n  y\n  \"\"\" 0xff_";
    let n = &ok(text).nodes[0];
    assert_eq!(at(text, n.args[0].span), "##\"x\"##");
    assert_eq!(at(text, n.args[1].span), "\"\"\"\n  y\n  \"\"\"");
    assert_eq!(at(text, n.args[2].span), "0xff_");
}

// ---- errors -------------------------------------------------------------

#[test]
fn error_unterminated_string() {
    assert_err("n \"abc", "unterminated string", 2, "\"abc");
    assert_err("n \"abc\nnext", "unterminated string", 2, "\"abc");
    assert_err("n #\"abc\"", "unterminated raw string", 2, "#\"");
    assert_err(
        "n \"\"\"\n  abc\n",
        "unterminated multi-line string",
        2,
        "\"\"\"",
    );
}

#[test]
fn error_invalid_escapes() {
    assert_err("n \"a\\qb\"", "invalid escape `\\q`", 4, "\\q");
    assert_err("n \"\\/\"", "invalid escape `\\/`", 3, "\\/");
    assert_err(
        "n \"\\u{D800}\"",
        "not a Unicode scalar value",
        3,
        "\\u{D800}",
    );
    assert_err(
        "n \"\\u{1234567}\"",
        "more than 6 hex digits",
        3,
        "\\u{1234567}",
    );
    assert_err("n \"\"\"\n  \\q\n  \"\"\"", "invalid escape", 8, "\\q");
    let e = err("n \"\\/\"");
    assert!(e.help.unwrap().contains("removed in KDL v2"));
}

#[test]
fn error_bare_keywords() {
    assert_err(
        "n true",
        "bare identifier `true` must be written `#true`",
        2,
        "true",
    );
    assert_err("n k=null", "`#null`", 4, "null");
    assert_err("nan", "`#nan`", 0, "nan");
    assert_err("n -inf", "`#-inf`", 2, "-inf");
    assert_err("n #yes", "unknown keyword `#yes`", 2, "#yes");
    assert!(err("n true").help.unwrap().contains("\"true\""));
}

#[test]
fn error_unclosed_and_stray_braces() {
    assert_err(
        "a {\n  b {\n  }\n",
        "expected `}` to close the children block opened here",
        2,
        "{",
    );
    assert_err("a\n}", "unexpected `}`", 2, "}");
    assert_err("a {} {}", "already has a children block", 5, "{");
    assert_err("a {} b", "after the children block", 5, "b");
}

#[test]
fn error_values_running_together() {
    assert_err(
        "node\"string\"",
        "unexpected `\"` right after `node`",
        4,
        "\"",
    );
    assert_err(
        "n foo(bar)",
        "`(` cannot appear in a bare identifier",
        5,
        "(",
    );
    assert_err("n 12px", "invalid character `p` in number", 4, "p");
    assert_err("n \"a\"/-b", "`/-` must be preceded by whitespace", 5, "/-");
    assert_err("n 0X1f", "invalid character `X`", 3, "X");
    assert!(err("n 0X1f").help.unwrap().contains("lowercase"));
    assert_err("n r\"x\"", "KDL v1 syntax", 2, "r\"");
    assert_err(
        "n foo\\bar",
        "`\\` cannot appear in a bare identifier",
        5,
        "\\",
    );
    // A continuation right after a value is fine.
    assert_eq!(ok("n foo\\ // c\n  bar").nodes[0].args.len(), 2);
    assert_err(
        "n k=\n1",
        "expected a property value after `=`, found a newline",
        4,
        "\n",
    );
}

#[test]
fn error_numbers() {
    assert_err("n 1.", "expected a digit after the decimal point", 2, "1.");
    assert_err(
        "n 1._5",
        "expected a digit after the decimal point",
        2,
        "1._",
    );
    assert_err("n 1e+", "expected digits in the exponent", 2, "1e+");
    assert_err("n 0x_1", "expected a hexadecimal digit", 2, "0x_");
    assert_err("n .5", "digit before the decimal point", 2, ".5");
}

#[test]
fn error_structure() {
    assert_err("a;;b", "expected a node name, found `;`", 2, ";");
    assert_err("{ a }", "expected a node name, found `{`", 0, "{");
    assert_err("n 1=2", "unexpected `=`", 3, "=");
    assert_err(
        "n (t)k=1",
        "a property key cannot have a type annotation",
        3,
        "t",
    );
    assert_err("n ()1", "empty type annotation", 2, "()");
    assert_err("n (a b)1", "expected `)`", 5, "b");
    assert_err("n /-", "`/-` must be followed by", 2, "/-");
    assert_err("a {\n  /-\n}", "`/-` must be followed by the node", 6, "/-");
    assert_err(
        "n 1 \\ 2",
        "expected a newline after the line continuation",
        4,
        "\\",
    );
    assert_err("n /* open", "unterminated block comment", 2, "/*");
    assert_err("n [1]", "unexpected `[`", 2, "[");
    assert_err("123", "a node name must be a string", 0, "123");
}

#[test]
fn error_disallowed_code_points() {
    assert_err("n a\u{7f}b", "disallowed code point U+007F", 3, "\u{7f}");
    assert_err("n \"\u{202e}\"", "U+202E", 3, "\u{202e}");
    assert_err("// \u{1}\nn", "U+0001", 3, "\u{1}");
    assert_err("n \u{feff}", "byte order mark", 2, "\u{feff}");
}

#[test]
fn error_multiline_dedent_points_at_the_line() {
    let text = "n \"\"\"\n    ok\n  bad\n    \"\"\"";
    assert_err(text, "not indented like its closing", 13, " ");
    assert_err(
        "n \"\"\"one line\"\"\"",
        "must be followed by a newline",
        2,
        "\"\"\"",
    );
    assert_err(
        "n \"\"\"\n  a\n  b\"\"\"",
        "must be on a line of its own",
        13,
        "\"\"\"",
    );
}

// ---- robustness ---------------------------------------------------------

#[test]
fn nesting_limit() {
    let deep = |n: usize| format!("{}{}", "a {".repeat(n), "}".repeat(n));
    // At the limit: fine, even on a test thread's small stack.
    let d = ok(&deep(MAX_DEPTH));
    let mut depth = 0;
    let mut n = &d.nodes[0];
    while let Some(c) = n.children().first() {
        n = c;
        depth += 1;
    }
    assert_eq!(depth, MAX_DEPTH - 1);
    // One more, and far more: an error at the first block too deep.
    let text = deep(MAX_DEPTH + 1);
    assert_err(&text, "nesting too deep", 3 * MAX_DEPTH + 2, "{");
    let e = err(&deep(100_000));
    assert_eq!(e.message, "nesting too deep");
    // Block comments nest without recursion.
    ok(&format!(
        "n {}x{} 1",
        "/*".repeat(100_000),
        "*/".repeat(100_000)
    ));
}

#[test]
fn every_prefix_parses_or_fails_without_panicking() {
    let text = "\u{feff}(t)\"a\\u{e9}\" #\"r\"# 1.5e3 0xf_ k=(u8)#true /* c */ \\\n  {\n    b \"\"\"\n      x\n      \"\"\"; c /-{ d }\n    ##\"\"\"\n    y\n    \"\"\"## é\u{3000}日本\u{2028}}\n// end";
    for (i, _) in text.char_indices() {
        let _ = parse(FileId(0), &text[..i]);
    }
    ok(text);
}
