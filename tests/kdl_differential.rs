//! Differential test: our KDL parser against the `kdl` crate
//! (`KdlDocument::parse_v2`), the reference implementation.
//!
//! On every input both must agree on accept/reject, and on accept produce
//! the same tree (compared span-free, properties after rightmost-wins).
//! Inputs: the compliance suite, a corpus of hand-picked edge cases, and
//! generated documents (proptest): documents from a grammar of KDL pieces,
//! the same documents with a byte deleted/duplicated or a token inserted,
//! and free "token soup".
//!
//! Where the two disagree because the `kdl` crate deviates from the KDL 2.0
//! spec, the case is recognised by *our* precise error (see
//! [`known_crate_deviation`]) and skipped; each such deviation is listed
//! there with an example input. Nothing else is skipped.

#[path = "kdl_support/mod.rs"]
mod support;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use kdl::{KdlDocument, KdlEntry, KdlValue};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use siteconf::syntax::{kdl as ours, FileId, SyntaxError};
use support::{from_doc, normalise_props, TNode, TVal, Val};

// ---- conversion of the reference's tree -----------------------------------

fn kdl_val(e: &KdlEntry) -> TVal {
    TVal {
        ty: e.ty().map(|t| t.value().to_string()),
        val: match e.value() {
            KdlValue::String(s) => Val::Str(s.clone()),
            KdlValue::Integer(i) => Val::Int(*i),
            KdlValue::Float(x) => Val::Float(*x),
            KdlValue::Bool(b) => Val::Bool(*b),
            KdlValue::Null => Val::Null,
        },
    }
}

fn from_kdl(doc: &KdlDocument) -> Vec<TNode> {
    doc.nodes()
        .iter()
        .map(|n| TNode {
            ty: n.ty().map(|t| t.value().to_string()),
            name: n.name().value().to_string(),
            args: n
                .entries()
                .iter()
                .filter(|e| e.name().is_none())
                .map(kdl_val)
                .collect(),
            props: normalise_props(
                n.entries()
                    .iter()
                    .filter_map(|e| e.name().map(|k| (k.value().to_string(), kdl_val(e))))
                    .collect(),
            ),
            children: n.children().map(from_kdl),
        })
        .collect()
}

// ---- known deviations of the reference -----------------------------------

/// Whether a disagreement is one of the `kdl` crate's (6.7.1) known
/// deviations from the KDL 2.0 spec, where our parser follows the spec.
///
/// Each is recognised from our precise error (or, when the crate is the
/// one rejecting, from its error). Those that can be repaired are: the input
/// is fixed where the disagreement arises, and the check goes on with the
/// fixed input until both parsers accept it, when the trees must match;
/// that keeps a deviation from hiding a real difference elsewhere in the
/// same input. The others are recognised by their error alone.
fn known_crate_deviation(
    text: &str,
    ours: &Result<Vec<TNode>, SyntaxError>,
    theirs: &Result<KdlDocument, kdl::KdlError>,
) -> Option<&'static str> {
    match (ours, theirs) {
        // We reject, the crate accepts.
        (Err(e), Ok(their_doc)) => {
            let their_tree = from_kdl(their_doc);
            let mut fixed = text.to_string();
            let mut e = e.clone();
            let mut why = None;
            for _ in 0..32 {
                if let Some(reason) = deviation_by_our_error(&fixed, &e) {
                    return Some(why.unwrap_or(reason));
                }
                // A missing node terminator, which the crate supplies
                // itself: `node #true/-foo`, `#null\u{fffd}`, `/-a #true(t)b`
                // (it does not check what follows a keyword), `node {} /-foo`
                // at the end of a block, `/-a {}b` (a slashdashed node needs
                // no terminator for it). The grammar requires a
                // `node-terminator` after every node but the last one of a
                // block, and whitespace before `/-` (suite:
                // zero_space_before_slashdash_arg_fail). Repair: a newline
                // where we stop.
                let at = missing_terminator_at(&fixed, &e)?;
                fixed.insert(at, '\n');
                why.get_or_insert("crate accepts a missing node terminator");
                match ours::parse(FileId(0), &fixed) {
                    Ok(d) => return why.filter(|_| from_doc(&d, false) == their_tree),
                    Err(mut errs) => e = errs.remove(0),
                }
            }
            None
        }
        // We accept, the crate rejects.
        (Ok(our_doc), Err(ke)) => {
            let mut fixed = text.to_string();
            let mut diagnostics = ke.diagnostics.clone();
            let mut why = None;
            for _ in 0..32 {
                let d = diagnostics.first()?;
                let at = d.span.offset();
                let msg = d.message.as_deref().unwrap_or("");
                // `#"""\n"\n"""#`: a multi-line raw string whose value is
                // `"`. The crate's check against `#"""#` (a single-line raw
                // string that looks like a multi-line one) also fires for
                // real multi-line ones.
                if msg == "Single-line raw strings cannot look like multi-line ones"
                    && fixed
                        .get(at..)
                        .unwrap_or("")
                        .trim_start_matches('#')
                        .strip_prefix("\"\"\"")
                        .is_some_and(|r| {
                            r.starts_with([
                                '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
                            ])
                        })
                {
                    return Some(why.unwrap_or("multi-line raw string holding just `\"`"));
                }
                // `node -170141183460469231731687303715884105728` (i128::MIN),
                // `node 1e99999999999999999999999999999999999999999`,
                // `node 999999999999999999999999999999999999999.5`: the crate
                // parses the magnitude, the integer part and the exponent of
                // every number as an i128 first. We accept i128::MIN and give
                // floats their f64 value (a huge exponent gives ±inf or 0).
                if has_39_digit_number(&fixed) {
                    return Some(why.unwrap_or("number with 39+ digits"));
                }
                if msg == "Found invalid node name" && fixed.as_bytes().get(at) == Some(&b';') {
                    // `/-a;` or `x {a; /-b;}`: the crate rejects a
                    // slashdashed node terminated by `;` ("Found invalid
                    // node name" at the `;`). Repair: a newline instead.
                    fixed.replace_range(at..at + 1, "\n");
                    why.get_or_insert("crate rejects `;` after a slashdashed node");
                } else if let Some(sd) = fixed
                    .get(..at)
                    .and_then(|t| t.rfind("/-"))
                    .filter(|&sd| fixed.get(..sd).is_some_and(|t| t.ends_with('}')))
                    .filter(|_| msg == "Found child block instead of node name")
                {
                    // `a /-{}/-{}`: the crate wants whitespace between two
                    // slashdashed children blocks (not in `a {}/-{}`,
                    // though); the grammar has `(node-space* slashdash
                    // node-children)*`. Repair: a space before the `/-`.
                    fixed.insert(sd, ' ');
                    why.get_or_insert("crate wants a space between slashdashed children");
                } else {
                    return None;
                }
                match KdlDocument::parse_v2(&fixed) {
                    Ok(doc) => return why.filter(|_| from_kdl(&doc) == *our_doc),
                    Err(e) => diagnostics = e.diagnostics,
                }
            }
            None
        }
        _ => None,
    }
}

/// The deviations recognised by our error alone (we reject, the crate
/// accepts).
fn deviation_by_our_error(text: &str, e: &SyntaxError) -> Option<&'static str> {
    let at = e.span.start as usize;
    let m = e.message.as_str();
    // `node "\x7f"`, `// \x7f`, or any disallowed code point inside a
    // comment: the crate's disallowed set lacks U+007F (the suite's
    // unicode_delete_fail.kdl), and it never checks comments. The spec says
    // these "may not appear literally anywhere".
    if m.starts_with("disallowed code point") || m.starts_with("byte order mark") {
        return Some("disallowed code point the crate lets through");
    }
    // `node -inf`: the crate reads bare `-inf` as the string "-inf"; the
    // spec's `disallowed-keyword-identifiers` includes `-inf`.
    if m == "bare identifier `-inf` must be written `#-inf`" {
        return Some("bare -inf");
    }
    // `a /-/-1 2`: the crate lets a slashdashed entry start with its own
    // slashdashed entries, so this drops both `1` and `2`; in the grammar
    // `/-` is followed by exactly one prop or value.
    if m == "`/-` cannot comment out another `/-`" {
        return Some("slashdash of a slashdash");
    }
    // `node #"""one line"""#`: the crate falls back to a single-line raw
    // string with body `""one line""` (the suite's
    // multiline_raw_string_single_line_err_fail.kdl says it must fail).
    if m.starts_with("the opening `\"\"\"` of a multi-line string")
        && text.as_bytes().get(at) == Some(&b'#')
    {
        return Some("raw string opening with three quotes on one line");
    }
    // `node 0X1F`: the crate accepts upper-case radix prefixes; the grammar
    // spells them `0x`, `0o`, `0b`.
    if e.help
        .as_deref()
        .is_some_and(|h| h.starts_with("radix prefixes are lowercase"))
    {
        return Some("upper-case radix prefix");
    }
    None
}

fn has_39_digit_number(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                run += 1;
                if run >= 39 {
                    return true;
                }
            }
            b'_' => {}
            _ => run = 0,
        }
    }
    false
}

/// Where a node terminator is missing according to our error `e`, if it is
/// one of the errors for that.
fn missing_terminator_at(text: &str, e: &SyntaxError) -> Option<usize> {
    let at = e.span.start as usize;
    let m = e.message.as_str();
    if m == "`/-` must be preceded by whitespace"
        || m.starts_with("after a children block, `/-` can only comment out")
        || m.starts_with("expected `;` or a newline after the children block")
    {
        return Some(at);
    }
    let keywords = ["#true", "#false", "#null", "#inf", "#-inf", "#nan"];
    if keywords
        .iter()
        .any(|k| m.starts_with(&format!("expected whitespace after `{k}`, found")))
    {
        return Some(at);
    }
    if m.starts_with("unknown keyword") {
        let word = text.get(at + 1..)?;
        let keyword = ["true", "false", "null", "inf", "-inf", "nan"]
            .into_iter()
            .find(|k| word.starts_with(k))?;
        return Some(at + 1 + keyword.len());
    }
    None
}

// ---- the comparison -----------------------------------------------------

#[derive(Debug)]
enum Outcome {
    Agree,
    KnownDeviation(&'static str),
}

fn compare(text: &str) -> Result<Outcome, String> {
    let ours = ours::parse(FileId(0), text)
        .map(|d| from_doc(&d, false))
        .map_err(|mut e| e.remove(0));
    let theirs = catch_unwind(AssertUnwindSafe(|| KdlDocument::parse_v2(text)))
        .map_err(|_| format!("the kdl crate panicked on {text:?}"))?;
    if let Some(why) = known_crate_deviation(text, &ours, &theirs) {
        return Ok(Outcome::KnownDeviation(why));
    }
    match (&ours, theirs) {
        (Ok(a), Ok(b)) => {
            let b = from_kdl(&b);
            if *a == b {
                Ok(Outcome::Agree)
            } else {
                Err(format!(
                    "different trees for {text:?}\n  ours:   {a:?}\n  theirs: {b:?}"
                ))
            }
        }
        (Err(_), Err(_)) => Ok(Outcome::Agree),
        (Err(e), Ok(b)) => Err(format!(
            "we reject, kdl accepts {text:?}\n  our error: {} at {}..{}\n  theirs: {:?}",
            e.message,
            e.span.start,
            e.span.end,
            from_kdl(&b)
        )),
        (Ok(a), Err(e)) => Err(format!(
            "we accept, kdl rejects {text:?}\n  ours: {a:?}\n  kdl: {:?}",
            e.diagnostics
                .iter()
                .map(|d| (d.message.clone(), d.span))
                .collect::<Vec<_>>()
        )),
    }
}

// ---- fixed inputs -------------------------------------------------------

/// Edge cases found while writing the parser, plus one example of each
/// known deviation (which must be recognised as such, not silently agree).
const CORPUS: &[&str] = &[
    "",
    "node",
    "node -inf",
    "node +inf",
    "a;;b",
    "a {} b",
    "a{}",
    "a\"b\"",
    "node #\"\"\"foo\"\"\"#",
    "node #\"\"\"\"#",
    "node #\"\"a\"#",
    "node a = 1",
    "(t) a",
    "node (t) 1",
    "node ( t )1",
    "node 1e1000",
    "node 99999999999999999999999999999999999999999.0",
    "node -170141183460469231731687303715884105728",
    "node -170141183460469231731687303715884105729",
    "node 170141183460469231731687303715884105727",
    "node 170141183460469231731687303715884105728",
    "node 0x7fffffffffffffffffffffffffffffff",
    "node 0x80000000000000000000000000000000",
    "node 0x_1",
    "node 1._5",
    "node 1.5_",
    "node 1e_5",
    "node 1_e5",
    "node .5",
    "node +.5",
    "node -.",
    "node +.x",
    "-",
    "--",
    "node 1.",
    ";",
    "a; ;b",
    "a;\n;b",
    "node #true/-foo",
    "node #true/-foo bar",
    "node #true/-{}",
    "node #true{}",
    "node #truex",
    "node #true\"a\"",
    "node #true#false",
    "node #true(t)1",
    "node \"a\"{}",
    "node 1{}",
    "node a=1{}",
    "node (t)(u)a",
    "node /-foo",
    "node /- foo bar",
    "node /-(t)foo bar",
    "node (t)/-foo bar",
    "node a=/-1 2",
    "node /-a=1 b=2",
    "node {} /-{}",
    "node /-{} {}",
    "node {} {}",
    "node /-{} a",
    "node #\"a\"#{}",
    "node #\"a\"#b",
    "node a /-",
    "node a/*x*/b",
    "node a/*x*/=1",
    "node a=/*x*/1",
    "node (/*c*/t/*d*/)1",
    "(t)node",
    "node (t)",
    "node #\"\"\"\nfoo\n\"\"\"#",
    "node \"\\u{D800}\"",
    "node \"\\u{110000}\"",
    "node \"\\u{0}\"",
    "node \"\\u{}\"",
    "node \"\\u{1234567}\"",
    "node \"\\q\"",
    "node {}/-foo",
    "node {} /-foo",
    "node {} /-foo\nbar",
    "a { b {}/-c }",
    "node 1/-foo",
    "node \"a\"/-foo",
    "node #null /-foo",
    "node;/-foo",
    "/-foo\n/-bar",
    "node \\\n",
    "node \\ // c\n  a",
    "node \\ a",
    "node\\\na",
    "node a\\\n=1",
    "a\n\\\n\\\nb",
    "node 0b2",
    "node 0o8",
    "node 0xg",
    "node 1a",
    "node 1.5a",
    "node -1x",
    "node 0x",
    "node 1e",
    "node 1.0E+5",
    "node 1_000.000_1e-1_0",
    "node 01",
    "node -0",
    "node -0.0",
    "node +0x10",
    "node -0b1",
    "node 1e5.0",
    "node 0X10",
    "node 0B1",
    "node 0O7",
    "node \u{7f}",
    "node \"\u{7f}\"",
    "// \u{200e}\nnode",
    "node\u{b}arg",
    "\u{feff}node",
    "node \u{feff}",
    "node ##\"a\"#\"##",
    "node \"a\" \"b\"",
    "r\"foo\"",
    "node r#\"foo\"#",
    "node true",
    "node null",
    "node \"\\/\"",
    "node key=value key=other",
    "node \"\"\"\n  a\n   b\n  \"\"\"",
    "node \"\"\"\n  a\n \\s b\n  \"\"\"",
    "node \"\"\"\n\ta\n  \"\"\"",
    "node \"\"\"\n  a \\\n  b\n  \"\"\"",
    "node \"\"\"\r\n  a\r\n  \"\"\"",
    "node \"\"\"\n\"\"\"",
    "node \"\"\"\n  a\n  b\"\"\"",
    "node \"a\\\n   b\"",
    "node \"a\nb\"",
    "a /* /* nested */ */ b",
    "a /* /* unterminated */ b",
    "a // comment\u{2028}b",
    "a\u{85}b",
    "a\rb",
    "a\u{c}b",
    "a\u{3000}b\u{a0}c",
    "(t\n)a",
    "(t)\\\n a",
    "a {\n b {\n c\n }\n}",
    "a { b; c }",
    "a {\n/- b\n}",
    "a { /-b }",
    "a (u8)1 k=(i32)-5",
    "a \"key\"=1 #\"raw\"#=2",
    "a =1",
    "a b= 1",
    "a 1=2",
    "a #true=1",
    "a [1]",
    "a ,",
    "a <b>",
    "\"quoted name\" 1",
    "#\"raw name\"# 1",
    "1 2",
    "#true",
    "{ }",
    "}",
    "a }",
    "a {",
    "/-",
    "/- /- a",
    "a /- /- b",
    "/-a\n",
    "a \\",
    "/-{}",
    "a \"\\s\\b\\f\\t\\r\\n\"",
    "/-a;",
    "/-\"\";",
    "x {a; /-b;}",
    "/-a {}b",
    "x {/-a{}b}",
    "\u{feff}/-(\"aa\")a a;\na a\n/-\"aa\" 0 \"aaa\";",
    "n #null\u{fffd};\u{fffd}\n",
    "a /-/-1 2",
    "a /- /- 1",
    "\"\"\"\n\"\"\"{\"\"/**//-/-1/**/-}",
    "a /-{}/-{}",
    "a {}/-{}/-{}",
    "a {}/-{}/- {}",
    "~{/-#\"\"# ###\"\"### #true(a)a}",
    "n #\"\"\"\n\"\n\"\"\"#",
    "/- a #true\u{fffd}0 --{}\r#\"\"\"\"#",
    "a /-{}/-/**/ {}",
];

#[test]
fn compliance_inputs_and_corpus_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kdl_compliance/input");
    let mut inputs: Vec<(String, String)> = fs::read_dir(&dir)
        .expect("compliance inputs")
        .map(|e| {
            let p = e.expect("dir entry").path();
            let text = fs::read_to_string(&p).expect("UTF-8 input");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 320);
    inputs.extend(
        CORPUS
            .iter()
            .map(|s| (format!("corpus {s:?}"), s.to_string())),
    );

    let mut failures = Vec::new();
    let mut deviations = Vec::new();
    for (name, text) in &inputs {
        match compare(text) {
            Ok(Outcome::Agree) => {}
            Ok(Outcome::KnownDeviation(why)) => deviations.push(format!("{name}: {why}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "differential (fixed inputs): {} passed, {} failed, {} skipped as known kdl crate deviations",
        inputs.len() - failures.len() - deviations.len(),
        failures.len(),
        deviations.len()
    );
    for d in &deviations {
        println!("  known deviation: {d}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- generated inputs ---------------------------------------------------

/// A document generator driven by a list of choices (like Hypothesis): each
/// decision consumes the next number, and a missing one counts as 0, which
/// always picks the simplest option. Shrinking the list therefore shrinks
/// the document.
struct Gen<'a> {
    choices: &'a [u32],
    next: usize,
    out: String,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        c as usize % n
    }

    fn one_of(&mut self, options: &[&str]) {
        let i = self.pick(options.len());
        self.out.push_str(options[i]);
    }

    /// Inside a node: between name and entries, around `=`.
    fn space(&mut self) {
        self.one_of(&[
            " ",
            "  ",
            "\t",
            " /* c */ ",
            "/**/ ",
            " \\\n  ",
            " \\ // c\n ",
            "\u{3000}",
            "\u{a0}",
            " /* /* n */ */ ",
            " \\\r\n",
        ]);
    }

    fn terminator(&mut self) {
        self.one_of(&[
            "\n", ";", "\r\n", " // c\n", "\n\n", ";\n", "\r", "\u{85}", "\u{2028}", "\u{c}",
            "\u{b}", "\u{2029}", " ;", "\n// x\n",
        ]);
    }

    fn bare(&mut self) {
        self.one_of(&[
            "a", "node", "foo-bar", "r01-tor1", "-", "--", "+", "-x", ".", "..", ".x", "+.", "-.",
            "x.y", "é", "日本", "a,b", "<a>", "r", "true1", "nulls", "inf0", "_", "x?", "a'b", "ß",
            "😀", "+inf", "-nan", "a:b", "~", "@", "x-1.5",
        ]);
    }

    fn quoted(&mut self) {
        self.out.push('"');
        for _ in 0..self.pick(4) {
            self.one_of(&[
                "a",
                " ",
                "\\n",
                "\\t",
                "\\\"",
                "\\\\",
                "\\s",
                "\\u{1F600}",
                "\\u{0}",
                "\\   \n  ",
                "é",
                "#",
                "=",
                "{",
                "'",
                "/",
                "\\b\\f\\r",
                "\\u{10FFFF}",
                "\t",
            ]);
        }
        self.out.push('"');
    }

    fn raw(&mut self) {
        let hashes = "#".repeat(1 + self.pick(3));
        self.out.push_str(&hashes);
        self.out.push('"');
        for _ in 0..self.pick(4) {
            self.one_of(&["a", " ", "\\n", "\"", "\"#a", "\\", "é", "\t"]);
        }
        self.out.push('"');
        self.out.push_str(&hashes);
    }

    fn multiline(&mut self) {
        let raw = self.pick(2) == 1;
        let hashes = if raw {
            "#".repeat(1 + self.pick(2))
        } else {
            String::new()
        };
        let indent = ["", "  ", "\t", "    "][self.pick(4)];
        self.out.push_str(&hashes);
        self.out.push_str("\"\"\"\n");
        for _ in 0..self.pick(4) {
            match self.pick(6) {
                0 => {}                        // empty line
                1 => self.out.push_str("   "), // whitespace-only line
                _ => {
                    self.out.push_str(indent);
                    self.one_of(&[
                        "a",
                        "  b",
                        "\\tc",
                        "\"q\"",
                        "\"\"two",
                        "x \\\n  y",
                        "\\s",
                        "é",
                    ]);
                }
            }
            self.out.push('\n');
        }
        self.out.push_str(indent);
        self.out.push_str("\"\"\"");
        self.out.push_str(&hashes);
    }

    fn string(&mut self) {
        match self.pick(8) {
            0..=3 => self.bare(),
            4 | 5 => self.quoted(),
            6 => self.raw(),
            _ => self.multiline(),
        }
    }

    fn number(&mut self) {
        self.one_of(&[
            "0",
            "1",
            "-1",
            "+7",
            "9000",
            "1_000",
            "12_",
            "0x1F",
            "0xdead_beef",
            "-0x10",
            "0o755",
            "0b1010",
            "+0b1",
            "1.5",
            "-0.0",
            "1e10",
            "2.5E-3",
            "1_000.5",
            "+3.0e+2",
            "0.1",
            "1e-400",
            "007",
            "1_2.3_4e5_6",
        ]);
    }

    fn value(&mut self) {
        if self.pick(6) == 0 {
            self.ty();
            if self.pick(3) == 0 {
                self.space();
            }
        }
        match self.pick(6) {
            0 | 1 => self.string(),
            2 | 3 => self.number(),
            4 => self.one_of(&["#true", "#false", "#null", "#inf", "#-inf", "#nan"]),
            _ => self.quoted(),
        }
    }

    fn ty(&mut self) {
        self.out.push('(');
        self.one_of(&["", " ", "/* c */"]);
        match self.pick(3) {
            0 => self.bare(),
            1 => self.quoted(),
            _ => self.raw(),
        }
        self.one_of(&["", " ", "/* c */"]);
        self.out.push(')');
    }

    fn entry(&mut self) {
        if self.pick(3) == 0 {
            self.string();
            self.one_of(&["=", "=", " = ", "= ", " =", "=/* c */"]);
        }
        self.value();
    }

    fn children(&mut self, depth: usize) {
        self.out.push('{');
        self.nodes(depth + 1);
        self.out.push('}');
    }

    fn node(&mut self, depth: usize) {
        if self.pick(8) == 0 {
            self.one_of(&["/-", "/- ", "/-\n"]);
        }
        if self.pick(6) == 0 {
            self.ty();
            if self.pick(3) == 0 {
                self.space();
            }
        }
        self.string();
        for _ in 0..self.pick(5) {
            self.space();
            if self.pick(8) == 0 {
                self.one_of(&["/-", "/- ", "/-\n"]);
            }
            self.entry();
        }
        if depth < 3 && self.pick(3) == 0 {
            if self.pick(4) == 0 {
                self.space();
                self.out.push_str("/-");
                self.children(depth);
            }
            if self.pick(2) == 0 {
                self.space();
            }
            self.children(depth);
            if self.pick(4) == 0 {
                self.space();
                self.out.push_str("/-");
                self.children(depth);
            }
        }
        if self.pick(5) == 0 {
            self.space();
        }
    }

    fn nodes(&mut self, depth: usize) {
        if self.pick(4) == 0 {
            self.one_of(&["\n", " ", "// lead\n", "/* lead */"]);
        }
        let n = self.pick(4);
        for i in 0..n {
            self.node(depth);
            // The last node of a block or file may skip its terminator.
            if i + 1 < n || self.pick(2) == 0 {
                self.terminator();
            }
        }
    }

    fn document(mut self) -> String {
        if self.pick(20) == 0 {
            self.out.push('\u{feff}');
        }
        self.nodes(0);
        self.out
    }

    /// Free concatenation of pieces, valid or not, to reach error paths.
    fn soup(mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "node", " ", "\n", ";", "{", "}", "(", ")", "=", "/-", "/*", "*/", "//", "\\",
            "\"", "\"\"\"", "#", "#\"", "\"#", "1", "-", ".", "0x", "e", "_", "#true", "#inf", "é",
            "\r", "\t", "[", "]", ",", "\\n", "\\u{", "r", "true", "-inf", "\u{3000}", "\u{2028}",
            "/", "*", "x",
        ];
        for _ in 0..self.pick(24) {
            self.one_of(PIECES);
        }
        self.out
    }
}

fn gen_document(choices: &[u32]) -> String {
    Gen {
        choices,
        next: 0,
        out: String::new(),
    }
    .document()
}

fn gen_soup(choices: &[u32]) -> String {
    Gen {
        choices,
        next: 0,
        out: String::new(),
    }
    .soup()
}

/// Applies byte-level mutations (`op % 3`: delete, duplicate, insert a
/// piece) at positions scaled into the text. Bytes that stop being UTF-8
/// become U+FFFD, a plain identifier character.
fn mutate(text: &str, edits: &[(u32, u32)]) -> String {
    const INSERTS: &[&str] = &[
        "{", "}", ";", "\"", "/-", "\n", " ", "=", "(", ")", "#", "\\", "/*",
    ];
    let mut bytes = text.as_bytes().to_vec();
    for &(at, op) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = at as usize % bytes.len();
        match op % 3 {
            0 => {
                bytes.remove(i);
            }
            1 => {
                let b = bytes[i];
                bytes.insert(i, b);
            }
            _ => {
                let piece = INSERTS[(op / 3) as usize % INSERTS.len()];
                bytes.splice(i..i, piece.bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match compare(text) {
        Ok(_) => Ok(()),
        Err(e) => Err(TestCaseError::fail(e)),
    }
}

/// Cases per property: `PROPTEST_CASES` if set (for long runs), else 1500.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn choices() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 0..160)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn generated_documents_agree(c in choices()) {
        check(&gen_document(&c))?;
    }

    #[test]
    fn mutated_documents_agree(
        c in choices(),
        edits in prop::collection::vec((any::<u32>(), any::<u32>()), 1..4),
    ) {
        check(&mutate(&gen_document(&c), &edits))?;
    }

    #[test]
    fn token_soup_agrees(c in choices()) {
        check(&gen_soup(&c))?;
    }
}

/// Most generated documents must be valid: a generator that only produced
/// errors would make the tree comparison above vacuous.
#[test]
fn generator_mostly_produces_valid_documents() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = choices();
    let (mut valid, total) = (0, 500);
    for _ in 0..total {
        let c = strategy.new_tree(&mut runner).expect("strategy").current();
        if ours::parse(FileId(0), &gen_document(&c)).is_ok() {
            valid += 1;
        }
    }
    assert!(
        valid * 10 >= total * 6,
        "only {valid} of {total} generated documents parse"
    );
}
