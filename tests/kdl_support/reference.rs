//! The comparison of our KDL parser with the `kdl` crate
//! (`KdlDocument::parse_v2`), the reference implementation: the reference's
//! tree in the span-free form of [`crate::support`], the reference's known
//! deviations from the KDL 2.0 spec, and [`compare`].
//!
//! Shared by the differential test (tests/kdl_differential.rs) and the
//! differential fuzz target (fuzz/fuzz_targets/kdl_differential.rs); both
//! include it with `#[path]` next to `kdl_support/mod.rs` as `support`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::support::{from_doc, normalise_props, TNode, TVal, Val};
use kdl::{KdlDocument, KdlEntry, KdlValue};
use siteconf::syntax::{kdl as ours, FileId, SyntaxError};

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
pub enum Outcome {
    Agree,
    KnownDeviation(&'static str),
}

/// Slashdashes beyond which the reference is not asked: the `kdl` crate
/// (6.7) takes time exponential in nested slashdashed children blocks
/// (`a /-{` repeated: kdl-org/kdl-rs#177, 132 bytes → 78 s), so a fuzzed
/// input with many of them times the oracle out, not our parser (which
/// the `kdl_parse` target fuzzes on its own, with no such limit).
const REFERENCE_MAX_SLASHDASHES: usize = 6;

pub fn compare(text: &str) -> Result<Outcome, String> {
    if text.matches("/-").count() > REFERENCE_MAX_SLASHDASHES {
        return Ok(Outcome::KnownDeviation(
            "the reference parser is exponential in slashdashes (kdl-rs#177)",
        ));
    }
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
