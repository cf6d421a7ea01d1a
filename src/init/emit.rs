//! Writing a generated site in KDL or TOML from one small tree.
//!
//! The generator builds each file once as a list of [`Item`]s and this
//! module prints it in either format, so the two forms cannot drift apart.
//! The TOML printer follows the mapping of `crate::syntax::toml` in reverse:
//! a top-level entity `node r01n01 { … }` becomes the table `[node.r01n01]`,
//! a keyed block `interface eno1 { … }` becomes `interface.eno1 = { … }`
//! (or a `[… .interface.eno1]` table when it is too long for one line), and
//! KDL properties become ordinary keys.

use std::fmt::Write as _;

use crate::syntax::kdl::write as kdl;

/// A scalar value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}

impl From<u32> for Val {
    fn from(i: u32) -> Val {
        Val::Int(i64::from(i))
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

/// One entry of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A comment line (only kept at the top level and at the start of a
    /// block: TOML moves blocks after values, so comments elsewhere could
    /// end up next to the wrong thing).
    Comment(String),
    /// `key value` / `key = value`. `list` fields are written as TOML arrays
    /// even with one element; `prop` ones as KDL properties `key=value`.
    Value {
        key: String,
        vals: Vec<Val>,
        list: bool,
        prop: bool,
    },
    /// `key [name] { … }`.
    Block {
        key: String,
        name: Option<String>,
        body: Vec<Item>,
    },
}

/// `key value` (a child node in KDL).
pub fn val(key: &str, v: impl Into<Val>) -> Item {
    Item::Value {
        key: key.to_string(),
        vals: vec![v.into()],
        list: false,
        prop: false,
    }
}

/// `key=value` (a property in KDL).
pub fn prop(key: &str, v: impl Into<Val>) -> Item {
    Item::Value {
        key: key.to_string(),
        vals: vec![v.into()],
        list: false,
        prop: true,
    }
}

/// `key a b c` / `key = ["a", "b", "c"]`.
pub fn list<V: Into<Val>>(key: &str, vs: impl IntoIterator<Item = V>) -> Item {
    Item::Value {
        key: key.to_string(),
        vals: vs.into_iter().map(Into::into).collect(),
        list: true,
        prop: false,
    }
}

/// `key { … }`: a nested block.
pub fn block(key: &str, body: Vec<Item>) -> Item {
    Item::Block {
        key: key.to_string(),
        name: None,
        body,
    }
}

/// `key NAME { … }`: an entry of a keyed collection (or a top-level entity).
pub fn named(key: &str, name: &str, body: Vec<Item>) -> Item {
    Item::Block {
        key: key.to_string(),
        name: Some(name.to_string()),
        body,
    }
}

pub fn comment(text: impl Into<String>) -> Item {
    Item::Comment(text.into())
}

/// Lines longer than this are broken up (KDL) or become tables (TOML).
const WIDTH: usize = 100;

// ---- KDL ------------------------------------------------------------------

pub fn to_kdl(items: &[Item]) -> String {
    let mut out = String::new();
    let mut prev_block = false;
    for (i, item) in items.iter().enumerate() {
        // A blank line between top-level entities keeps big files readable.
        // A blank line between top-level entities, and between comment
        // paragraphs, keeps big files readable.
        let is_block = matches!(item, Item::Block { .. });
        let after_comment = i > 0 && matches!(items[i - 1], Item::Comment(_));
        if i > 0 && (prev_block || (after_comment && !is_block) || (is_block && !after_comment)) {
            out.push('\n');
        }
        kdl_item(&mut out, item, 0);
        prev_block = is_block;
    }
    out
}

fn kdl_item(out: &mut String, item: &Item, depth: usize) {
    let pad = "    ".repeat(depth);
    match item {
        Item::Comment(c) => {
            for line in c.lines() {
                if line.is_empty() {
                    let _ = writeln!(out, "{pad}//");
                } else {
                    let _ = writeln!(out, "{pad}// {}", kdl::comment(line));
                }
            }
        }
        Item::Value { .. } => {
            let _ = writeln!(out, "{pad}{}", kdl_leaf(item));
        }
        Item::Block { key, name, body } => {
            let mut head = key.clone();
            if let Some(n) = name {
                head.push(' ');
                head.push_str(&kdl_scalar(&Val::Str(n.clone())));
            }
            let (props, children): (Vec<&Item>, Vec<&Item>) = body
                .iter()
                .partition(|i| matches!(i, Item::Value { prop: true, .. }));
            for p in props {
                head.push(' ');
                head.push_str(&kdl_leaf(p));
            }
            if children.is_empty() {
                let _ = writeln!(out, "{pad}{head}");
                return;
            }
            let simple = children.iter().all(|c| matches!(c, Item::Value { .. }));
            if simple {
                let inner: Vec<String> = children.iter().map(|c| kdl_leaf(c)).collect();
                let line = format!("{pad}{head} {{ {} }}", inner.join("; "));
                if line.len() <= WIDTH {
                    let _ = writeln!(out, "{line}");
                    return;
                }
            }
            let _ = writeln!(out, "{pad}{head} {{");
            for c in children {
                kdl_item(out, c, depth + 1);
            }
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

/// A value entry as KDL: `key v1 v2` or `key=v`.
fn kdl_leaf(item: &Item) -> String {
    match item {
        Item::Value {
            key,
            vals,
            prop: true,
            ..
        } => {
            let v = vals.first().map(kdl_scalar).unwrap_or_default();
            format!("{key}={v}")
        }
        Item::Value { key, vals, .. } => {
            let mut s = key.clone();
            for v in vals {
                s.push(' ');
                s.push_str(&kdl_scalar(v));
            }
            s
        }
        _ => String::new(),
    }
}

fn kdl_scalar(v: &Val) -> String {
    match v {
        Val::Str(s) => kdl::ident(s),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => format!("{f:?}"),
        Val::Bool(b) => format!("#{b}"),
    }
}

/// A TOML basic string (KDL strings are written by `syntax::kdl::write`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---- TOML -------------------------------------------------------------------

pub fn to_toml(items: &[Item]) -> String {
    let mut out = String::new();
    let mut first = true;
    let mut after_comment = false;
    for item in items {
        match item {
            Item::Comment(c) => {
                if !first {
                    out.push('\n');
                }
                toml_comment(&mut out, c);
                first = false;
                after_comment = true;
                continue;
            }
            Item::Block { key, name, body } => {
                let mut path = vec![toml_key(key)];
                if let Some(n) = name {
                    path.push(toml_key(n));
                }
                if !first && !after_comment {
                    out.push('\n');
                }
                toml_table(&mut out, &path, body);
            }
            // Top-level values do not occur in site files (every entity is
            // a block); written as plain keys should a caller ever need one.
            Item::Value { .. } => {
                let _ = writeln!(out, "{}", toml_leaf(item));
            }
        }
        first = false;
        after_comment = false;
    }
    out
}

fn toml_comment(out: &mut String, c: &str) {
    for line in c.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
}

/// `[path]` then its body: values and short blocks as lines, long blocks as
/// sub-tables after them (a TOML table's own keys must precede its
/// sub-tables).
fn toml_table(out: &mut String, path: &[String], body: &[Item]) {
    let _ = writeln!(out, "[{}]", path.join("."));
    let mut tables = Vec::new();
    toml_body(out, &[], path, body, &mut tables);
    for (p, b) in tables {
        out.push('\n');
        toml_table(out, &p, b);
    }
}

/// Writes `body` as lines of the current table, with `prefix` as the dotted
/// key path from that table; long blocks are collected into `tables`.
fn toml_body<'a>(
    out: &mut String,
    prefix: &[String],
    table: &[String],
    body: &'a [Item],
    tables: &mut Vec<(Vec<String>, &'a [Item])>,
) {
    let dotted = |k: &[String]| {
        let mut all = prefix.to_vec();
        all.extend(k.iter().cloned());
        all.join(".")
    };
    for item in body {
        match item {
            Item::Comment(c) => toml_comment(out, c),
            Item::Value { key, .. } => {
                let _ = writeln!(
                    out,
                    "{} = {}",
                    dotted(&[toml_key(key)]),
                    toml_value_of(item)
                );
            }
            Item::Block { .. } => {}
        }
    }
    for item in body {
        let Item::Block { key, name, body } = item else {
            continue;
        };
        let mut k = vec![toml_key(key)];
        if let Some(n) = name {
            k.push(toml_key(n));
        }
        // A block of blocks reads best as dotted keys (`bgp.session.x = …`),
        // a short block as an inline table, a long one as a table of its own.
        let only_blocks = body.iter().all(|i| matches!(i, Item::Block { .. }));
        if only_blocks && !body.is_empty() {
            let mut p = prefix.to_vec();
            p.extend(k);
            toml_body(out, &p, table, body, tables);
            continue;
        }
        if let Some(inline) = toml_inline(body) {
            let line = format!("{} = {inline}", dotted(&k));
            if line.len() <= WIDTH {
                let _ = writeln!(out, "{line}");
                continue;
            }
        }
        let mut p = table.to_vec();
        p.extend(prefix.iter().cloned());
        p.extend(k);
        tables.push((p, body));
    }
}

/// A block as an inline table, if it holds no comments.
fn toml_inline(body: &[Item]) -> Option<String> {
    let mut parts = Vec::new();
    for item in body {
        match item {
            Item::Comment(_) => return None,
            Item::Value { key, .. } => {
                parts.push(format!("{} = {}", toml_key(key), toml_value_of(item)))
            }
            Item::Block { key, name, body } => {
                let inner = toml_inline(body)?;
                let inner = match name {
                    Some(n) => format!("{{ {} = {inner} }}", toml_key(n)),
                    None => inner,
                };
                parts.push(format!("{} = {inner}", toml_key(key)));
            }
        }
    }
    if parts.is_empty() {
        Some("{}".into())
    } else {
        Some(format!("{{ {} }}", parts.join(", ")))
    }
}

fn toml_leaf(item: &Item) -> String {
    match item {
        Item::Value { key, .. } => format!("{} = {}", toml_key(key), toml_value_of(item)),
        _ => String::new(),
    }
}

fn toml_value_of(item: &Item) -> String {
    let Item::Value { vals, list, .. } = item else {
        return String::new();
    };
    if *list || vals.len() != 1 {
        let inner: Vec<String> = vals.iter().map(toml_scalar).collect();
        format!("[{}]", inner.join(", "))
    } else {
        toml_scalar(&vals[0])
    }
}

fn toml_scalar(v: &Val) -> String {
    match v {
        Val::Str(s) => quote(s),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => format!("{f:?}"),
        Val::Bool(b) => b.to_string(),
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Item> {
        vec![
            comment("a node"),
            named(
                "node",
                "r01n01",
                vec![
                    val("rack", "r01"),
                    val("position", 1u32),
                    list("profiles", ["compute"]),
                    named(
                        "interface",
                        "eno1",
                        vec![val("mac", "52:54:00:01:01:01"), val("mtu", 9000u32)],
                    ),
                    named(
                        "address",
                        "mgmt",
                        vec![prop("interface", "eno3"), prop("ipv4", "auto")],
                    ),
                    block(
                        "bgp",
                        vec![named(
                            "session",
                            "r01-tor1",
                            vec![prop("interface", "eno1")],
                        )],
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn kdl_uses_bare_words_props_and_one_line_blocks() {
        assert_eq!(
            to_kdl(&sample()),
            "// a node\nnode r01n01 {\n    rack r01\n    position 1\n    profiles compute\n    \
             interface eno1 { mac \"52:54:00:01:01:01\"; mtu 9000 }\n    \
             address mgmt interface=eno3 ipv4=auto\n    bgp {\n        \
             session r01-tor1 interface=eno1\n    }\n}\n"
        );
    }

    #[test]
    fn toml_uses_dotted_keys_and_inline_tables() {
        assert_eq!(
            to_toml(&sample()),
            "# a node\n[node.r01n01]\nrack = \"r01\"\nposition = 1\nprofiles = [\"compute\"]\n\
             interface.eno1 = { mac = \"52:54:00:01:01:01\", mtu = 9000 }\n\
             address.mgmt = { interface = \"eno3\", ipv4 = \"auto\" }\n\
             bgp.session.r01-tor1 = { interface = \"eno1\" }\n"
        );
    }

    #[test]
    fn long_toml_blocks_become_tables_after_the_values() {
        let long = "x".repeat(120);
        let items = vec![named(
            "profile",
            "base",
            vec![
                named("repo", "debian", vec![list("uris", [long.as_str()])]),
                list("packages", ["frr"]),
            ],
        )];
        let t = to_toml(&items);
        assert_eq!(
            t,
            format!(
                "[profile.base]\npackages = [\"frr\"]\n\n[profile.base.repo.debian]\nuris = [\"{long}\"]\n"
            )
        );
    }

    #[test]
    fn kdl_quotes_what_is_not_a_plain_word() {
        assert_eq!(kdl_scalar(&Val::Str("802.3ad".into())), "\"802.3ad\"");
        assert_eq!(kdl_scalar(&Val::Str("true".into())), "\"true\"");
        assert_eq!(kdl_scalar(&Val::Str("a\"b".into())), "\"a\\\"b\"");
        assert_eq!(kdl_scalar(&Val::Str("swp1-48".into())), "swp1-48");
        assert_eq!(kdl_scalar(&Val::Bool(false)), "#false");
        assert_eq!(kdl_scalar(&Val::Float(4.0)), "4.0");
    }
}
