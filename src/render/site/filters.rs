//! Filters and functions the site-wide templates use, as plain Rust
//! functions (unit-tested here) plus their minijinja wrappers.
//!
//! Every filter that produces text returns a *safe* string: the
//! Environment may auto-escape by file extension (minijinja's default does
//! JSON escaping for `*.yml.j2`/`*.json.j2` and HTML escaping for
//! `*.html.j2`), and a filter's output is already in the target syntax, so
//! it must pass through unchanged whatever the engine's escaping setting.

use std::fmt::Write as _;
use std::net::IpAddr;

use minijinja::{Error, ErrorKind, Value};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::dns;

/// A YAML double-quoted scalar that reads back as exactly `s`.
///
/// Always quoted, so no value can become a number, a boolean, `null`, an
/// alias, a tag, a merge key or a comment, and escaped so that no value can
/// end the line and inject keys. Escapes what YAML (and PyYAML, Ansible's
/// parser) refuse raw or would fold: C0/C1 controls, DEL, NEL, the Unicode
/// line and paragraph separators, the BOM and the non-characters U+FFFE/F.
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A mapping key: plain when it cannot be misread (an identifier-like
/// name that is not one of YAML 1.1's boolean or null words), so files stay
/// readable (`ansible_host:`, `r01n01.dc1.example.net:`); otherwise
/// [`yaml_quote`]d.
pub fn yaml_key(s: &str) -> String {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    let b = s.as_bytes();
    let plain = !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(s));
    if plain {
        s.to_string()
    } else {
        yaml_quote(s)
    }
}

/// A YAML scalar for a JSON leaf. Floats are written in plain decimal
/// with a `.` because YAML 1.1 (PyYAML) reads `1e10` as a string.
fn yaml_scalar(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let s = format!("{f}");
                out.push_str(&s);
                if !s.contains('.') {
                    out.push_str(".0");
                }
            }
        }
        Json::String(s) => out.push_str(&yaml_quote(s)),
        // Collections are handled by the callers.
        Json::Array(_) | Json::Object(_) => out.push_str("null"),
    }
}

/// The string of Ansible's JSON spelling of an untrusted string,
/// `{"__ansible_unsafe": "…"}`, which YAML spells `!unsafe "…"`.
fn unsafe_str(v: &Json) -> Option<&str> {
    match v {
        Json::Object(m) if m.len() == 1 => m.get(UNSAFE_KEY).and_then(Json::as_str),
        _ => None,
    }
}

/// The key Ansible's JSON uses to mark a string it must never template.
pub const UNSAFE_KEY: &str = "__ansible_unsafe";

/// Writes `v` in the position after `key:` (block style): a scalar or an
/// empty collection on the same line, a collection on the following lines
/// indented by `indent` spaces.
pub fn yaml_value(v: &Json, indent: usize, out: &mut String) {
    if let Some(s) = unsafe_str(v) {
        out.push_str(" !unsafe ");
        out.push_str(&yaml_quote(s));
        return;
    }
    match v {
        Json::Object(m) if m.is_empty() => out.push_str(" {}"),
        Json::Array(a) if a.is_empty() => out.push_str(" []"),
        Json::Object(m) => {
            for (k, val) in m {
                out.push('\n');
                push_indent(out, indent);
                out.push_str(&yaml_key(k));
                out.push(':');
                yaml_value(val, indent + 2, out);
            }
        }
        Json::Array(a) => {
            for item in a {
                out.push('\n');
                push_indent(out, indent);
                out.push('-');
                yaml_item(item, indent + 2, out);
            }
        }
        scalar => {
            out.push(' ');
            yaml_scalar(scalar, out);
        }
    }
}

/// Writes a sequence item after its `-`: a mapping starts on the dash's
/// line (`- key: value`), its other keys aligned under the first.
fn yaml_item(v: &Json, indent: usize, out: &mut String) {
    match v {
        Json::Object(m) if !m.is_empty() && unsafe_str(v).is_none() => {
            for (i, (k, val)) in m.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                } else {
                    out.push('\n');
                    push_indent(out, indent);
                }
                out.push_str(&yaml_key(k));
                out.push(':');
                yaml_value(val, indent + 2, out);
            }
        }
        Json::Array(a) if !a.is_empty() => {
            for (i, item) in a.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                } else {
                    out.push('\n');
                    push_indent(out, indent);
                }
                out.push('-');
                yaml_item(item, indent + 2, out);
            }
        }
        other => yaml_value(other, indent, out),
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A whole YAML document body for a mapping (`key: value` lines, each
/// ending in a newline); `{}` for an empty one. A non-mapping becomes a
/// single scalar or sequence document.
pub fn to_yaml(v: &Json) -> String {
    let mut out = String::new();
    match v {
        Json::Object(m) if !m.is_empty() && unsafe_str(v).is_none() => {
            yaml_value(v, 0, &mut out);
            // yaml_value starts every key on a new line; a document starts
            // with its first key.
            out.remove(0);
        }
        Json::Array(a) if !a.is_empty() => {
            yaml_value(v, 0, &mut out);
            out.remove(0);
        }
        other => {
            yaml_value(other, 0, &mut out);
            out.remove(0);
        }
    }
    out.push('\n');
    out
}

/// Text for XML/HTML content and attribute values: escapes `& < > " '`,
/// and replaces characters XML 1.0 forbids even as references (C0
/// controls other than tab/newline/CR, U+FFFE/F) with U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A DNS SOA serial derived from the zone's content: the first 32 bits of
/// SHA-256 of `text`, mapped into 1..=4294967295 (0 is avoided because
/// some tools read it as "unset"). Same content → same serial, whatever
/// the clock; see `dns` for why this is not monotonic.
pub fn zone_serial(text: &str) -> u32 {
    let h = Sha256::digest(text.as_bytes());
    let v = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    v.max(1)
}

// ---- minijinja wrappers ---------------------------------------------------

/// Data made as JSON (a host's variables) in a template: read like any
/// map, and written by `to_yaml`/`yaml_value` straight from the JSON,
/// without a round trip through template values.
#[derive(Debug)]
pub struct JsonData(pub Json);

impl JsonData {
    pub fn value(json: Json) -> Value {
        Value::from_object(JsonData(json))
    }
}

impl minijinja::value::Object for JsonData {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        match &self.0 {
            Json::Array(_) => minijinja::value::ObjectRepr::Seq,
            _ => minijinja::value::ObjectRepr::Map,
        }
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        let item = match &self.0 {
            Json::Object(m) => m.get(key.as_str()?)?,
            Json::Array(a) => a.get(key.as_usize()?)?,
            _ => return None,
        };
        Some(Value::from(minijinja::value::Serde(item)))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::Enumerator;
        match &self.0 {
            Json::Object(m) => {
                Enumerator::Values(m.keys().map(|k| Value::from(k.as_str())).collect())
            }
            Json::Array(a) => Enumerator::Seq(a.len()),
            _ => Enumerator::Empty,
        }
    }
}

/// `v` as JSON, borrowed when it is [`JsonData`].
fn with_json<T>(v: &Value, f: impl FnOnce(&Json) -> T) -> Result<T, Error> {
    match v.downcast_object_ref::<JsonData>() {
        Some(d) => Ok(f(&d.0)),
        None => Ok(f(&to_json(v)?)),
    }
}

fn to_json(v: &Value) -> Result<Json, Error> {
    serde_json::to_value(v).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            "value cannot be written as data",
        )
        .with_source(e)
    })
}

fn string_arg(v: &Value, what: &str) -> Result<String, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{what}: the value is undefined"),
        ));
    }
    Ok(match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    })
}

pub(super) fn f_yaml_quote(v: &Value) -> Result<Value, Error> {
    if v.is_none() {
        return Ok(Value::from_safe_string("null".into()));
    }
    Ok(Value::from_safe_string(yaml_quote(&string_arg(
        v,
        "yaml_quote",
    )?)))
}

pub(super) fn f_yaml_key(v: &Value) -> Result<Value, Error> {
    Ok(Value::from_safe_string(yaml_key(&string_arg(
        v, "yaml_key",
    )?)))
}

pub(super) fn f_yaml_value(v: &Value, indent: Option<usize>) -> Result<Value, Error> {
    let mut out = String::new();
    with_json(v, |j| yaml_value(j, indent.unwrap_or(2), &mut out))?;
    Ok(Value::from_safe_string(out))
}

pub(super) fn f_to_yaml(v: &Value) -> Result<Value, Error> {
    Ok(Value::from_safe_string(with_json(v, to_yaml)?))
}

pub(super) fn f_xml_escape(v: &Value) -> Result<Value, Error> {
    if v.is_none() {
        return Ok(Value::from_safe_string(String::new()));
    }
    Ok(Value::from_safe_string(xml_escape(&string_arg(
        v,
        "xml_escape",
    )?)))
}

pub(super) fn f_zone_serial(v: &Value) -> Result<Value, Error> {
    Ok(Value::from(zone_serial(&string_arg(v, "zone_serial")?)))
}

fn parse_ip(s: &str) -> Result<IpAddr, Error> {
    s.parse::<IpAddr>().map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{s}` is not an IP address"),
        )
    })
}

/// `ptr_name("10.0.0.5")` → `5.0.0.10.in-addr.arpa.`;
/// `ptr_name("10.0.0.5", "0.0.10.in-addr.arpa")` → `5` (relative to the
/// zone, when the address is inside it).
pub(super) fn f_ptr_name(ip: &Value, origin: Option<String>) -> Result<Value, Error> {
    let ip = parse_ip(&string_arg(ip, "ptr_name")?)?;
    let name = dns::ptr_name(ip);
    let out = match origin {
        Some(o) => dns::relative_to(&name, &o).unwrap_or(format!("{name}.")),
        None => format!("{name}."),
    };
    Ok(Value::from_safe_string(out))
}

/// `reverse_zones("10.0.0.0/22")` → the reverse zones that cover the
/// prefix, split at octet (IPv4) or nibble (IPv6) boundaries.
pub(super) fn f_reverse_zones(prefix: &Value) -> Result<Value, Error> {
    let s = string_arg(prefix, "reverse_zones")?;
    let net: ipnet::IpNet = s.parse().map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{s}` is not a prefix like 10.0.0.0/22"),
        )
    })?;
    Ok(Value::from(
        dns::reverse_zones(net)
            .into_iter()
            .map(|z| z.name)
            .collect::<Vec<_>>(),
    ))
}

/// `raise("message")`: lets a template refuse to render with a message
/// for the user (reported as a template error at that line).
pub(super) fn f_raise(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_quote_escapes_what_yaml_would_misread() {
        assert_eq!(yaml_quote("plain"), r#""plain""#);
        assert_eq!(yaml_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(yaml_quote("x\ny: 1"), r#""x\ny: 1""#);
        assert_eq!(
            yaml_quote("\u{0}\u{7f}\u{85}\u{9f}\u{2028}\u{feff}"),
            r#""\0\x7F\N\x9F\L\uFEFF""#
        );
        // Printable non-ASCII stays as it is (the file is UTF-8).
        assert_eq!(yaml_quote("Zürich ☃ 😀"), "\"Zürich ☃ 😀\"");
    }

    #[test]
    fn yaml_quote_round_trips_nasty_strings() {
        let nasty = [
            "yes",
            "no",
            "null",
            "~",
            "1e3",
            "0x1F",
            "010",
            "- item",
            "key: value",
            "# comment",
            "&anchor",
            "*alias",
            "!tag",
            "<<",
            "|",
            ">",
            "'single'",
            "\"double\"",
            "trailing space ",
            " leading",
            "{{ lookup('pipe', 'id') }}",
            "line1\nline2\r\n\ttab",
            "\u{0}\u{1}\u{1b}\u{7f}\u{85}\u{a0}\u{2028}\u{2029}\u{feff}\u{fffe}",
            "---",
            "...",
            "",
        ];
        for s in nasty {
            let doc = format!("k: {}\n", yaml_quote(s));
            let parsed: std::collections::BTreeMap<String, String> =
                serde_norway::from_str(&doc).unwrap_or_else(|e| panic!("{s:?}: {e}\n{doc}"));
            assert_eq!(parsed.get("k").map(String::as_str), Some(s), "{doc}");
        }
    }

    #[test]
    fn yaml_keys_are_plain_only_when_unambiguous() {
        assert_eq!(yaml_key("ansible_host"), "ansible_host");
        assert_eq!(yaml_key("r01n01.dc1.example.net"), "r01n01.dc1.example.net");
        assert_eq!(yaml_key("base-os"), "base-os");
        for quoted in [
            "yes", "No", "ON", "null", "y", "<<", "1", "1.5", "-x", ".inf", "a b", "a:b", "",
        ] {
            assert!(yaml_key(quoted).starts_with('"'), "{quoted}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_round_trips_as_value_and_key(s in "\\PC*|[\\x00-\\x{ff}\\x{2028}\\x{feff}\\x{fffe}\\x{ffff}]*") {
            let doc = to_yaml(&json!({ s.clone(): s.clone() }));
            let back: Json = serde_norway::from_str(&doc).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{e}: {doc}"))
            })?;
            proptest::prop_assert_eq!(back, json!({ s.clone(): s }));
        }
    }

    #[test]
    fn to_yaml_writes_nested_data_that_reads_back_equal() {
        let v = json!({
            "name": "r01n01",
            "yes": "no",
            "<<": {"a": 1},
            "n": [1, -2, 3.5, 1e20, 1e-7, true, null],
            "empty_map": {},
            "empty_list": [],
            "list_of_maps": [{"a": "x", "b": [1, 2]}, {"c": {}}],
            "list_of_lists": [[1, 2], [], [[3]]],
            "text": "a: b\n# c",
        });
        let text = to_yaml(&v);
        let back: Json = serde_norway::from_str(&text).expect("valid YAML");
        assert_eq!(back, v, "{text}");
        assert_eq!(to_yaml(&json!({})), "{}\n");
    }

    #[test]
    fn untrusted_strings_are_tagged_unsafe() {
        let v =
            json!({"a": {"__ansible_unsafe": "{{ x }}"}, "b": [{"__ansible_unsafe": "{% y %}"}]});
        assert_eq!(
            to_yaml(&v),
            "a: !unsafe \"{{ x }}\"\nb:\n  - !unsafe \"{% y %}\"\n"
        );
    }

    #[test]
    fn to_yaml_layout_is_block_style() {
        let v = json!({"a": {"b": [{"c": 1, "d": "x"}]}, "e": []});
        assert_eq!(to_yaml(&v), "a:\n  b:\n    - c: 1\n      d: \"x\"\ne: []\n");
    }

    #[test]
    fn xml_escape_escapes_markup_and_drops_forbidden_chars() {
        assert_eq!(
            xml_escape(r#"A & B <hall> "x" 'y'"#),
            "A &amp; B &lt;hall&gt; &quot;x&quot; &#39;y&#39;"
        );
        assert_eq!(xml_escape("a\u{1}b\u{ffff}"), "a\u{fffd}b\u{fffd}");
    }

    #[test]
    fn zone_serial_depends_only_on_content() {
        let a = zone_serial("www IN A 192.0.2.1\n");
        assert_eq!(a, zone_serial("www IN A 192.0.2.1\n"));
        assert_ne!(a, zone_serial("www IN A 192.0.2.2\n"));
        assert_ne!(zone_serial(""), 0);
    }
}
