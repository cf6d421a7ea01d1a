//! The examples of `docs/site-format.md` are real: every KDL example and
//! its TOML twin parse, say the same thing (one tree), and lower without a
//! single diagnostic; and together they show every entity and every field
//! of the schema, so the page cannot fall behind the model.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};
use siteconf::diag::Diagnostics;
use siteconf::lower::lower;
use siteconf::model::schema::{Field, Ty, ENTITIES};
use siteconf::model::schema_doc::is_settings;
use siteconf::syntax::{self, Document, FileId, Format, Node, Scalar};

mod support;

fn parse(format: Format, text: &str, line: usize) -> Document {
    let (doc, errors) = syntax::parse(format, FileId(0), text);
    assert!(
        errors.is_empty(),
        "docs/site-format.md:{line}: {format:?} example does not parse: {errors:?}"
    );
    doc
}

fn scalar(s: &Scalar) -> Json {
    match s {
        Scalar::String(s) => Json::String(s.clone()),
        Scalar::Int(i) => Json::String(format!("int:{i}")),
        Scalar::Float(f) => Json::String(format!("float:{f}")),
        Scalar::Bool(b) => Json::Bool(*b),
        Scalar::Null => Json::Null,
        Scalar::Datetime(d) => Json::String(format!("datetime:{d}")),
    }
}

/// The tree both formats mean: `key NAME { … }` and `key { NAME { … } }`
/// are `{key: {NAME: {…}}}`; properties and children are the same; a list
/// of one value is that value.
fn normalize_block(props: &[(syntax::Ident, syntax::Value)], children: &[Node]) -> Json {
    let mut m = Map::new();
    for (k, v) in props {
        m.insert(k.text.clone(), scalar(&v.scalar));
    }
    for c in children {
        let (k, v) = normalize_node(c);
        match (m.get_mut(&k), v) {
            (Some(Json::Object(old)), Json::Object(new)) => old.extend(new),
            (Some(old), new) => panic!("`{k}` given twice: {old} and {new}"),
            (None, v) => {
                m.insert(k, v);
            }
        }
    }
    Json::Object(m)
}

fn normalize_node(n: &Node) -> (String, Json) {
    let key = n.name.text.clone();
    if n.children.is_some() || !n.props.is_empty() {
        let body = normalize_block(&n.props, n.children());
        match n.args.as_slice() {
            [] => (key, body),
            [name] => {
                let Scalar::String(name) = &name.scalar else {
                    panic!("`{key}` has a non-string name")
                };
                let mut m = Map::new();
                m.insert(name.clone(), body);
                (key, Json::Object(m))
            }
            _ => panic!("`{key}` has several names"),
        }
    } else if n.args.len() == 1 {
        (key, scalar(&n.args[0].scalar))
    } else {
        (
            key,
            Json::Array(n.args.iter().map(|a| scalar(&a.scalar)).collect()),
        )
    }
}

#[test]
fn kdl_and_toml_examples_are_the_same_tree_and_lower_cleanly() {
    let pairs = support::example_pairs();
    assert!(pairs.len() >= 10, "docs lost their examples");
    for (kdl, toml) in &pairs {
        let k = parse(Format::Kdl, &kdl.text, kdl.line);
        let t = parse(Format::Toml, &toml.text, toml.line);
        let (kn, tn) = (
            normalize_block(&[], &k.nodes),
            normalize_block(&[], &t.nodes),
        );
        assert!(
            kn == tn,
            "docs/site-format.md:{} and :{}: the KDL and TOML examples differ\nKDL:  {kn}\nTOML: {tn}",
            kdl.line,
            toml.line
        );
        for (doc, line) in [(&k, kdl.line), (&t, toml.line)] {
            let mut diags = Diagnostics::new();
            lower(std::slice::from_ref(doc), &mut diags);
            let msgs: Vec<String> = diags
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            assert!(
                msgs.is_empty(),
                "docs/site-format.md:{line}: example does not lower cleanly: {msgs:?}"
            );
        }
    }
}

/// `context.field` for every field of the schema. Fields of the shared
/// settings count once (`settings.…`), wherever they are shown.
fn schema_paths() -> BTreeSet<String> {
    fn walk(ctx: &str, fields: &[Field], out: &mut BTreeSet<String>) {
        for f in fields {
            out.insert(format!("{ctx}.{}", f.name));
            if let Ty::Block(inner) | Ty::Named(inner) = &f.ty {
                let sub = if is_settings(inner) {
                    "settings".to_string()
                } else {
                    format!("{ctx}.{}", f.name)
                };
                walk(&sub, inner, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    for e in ENTITIES {
        out.insert(e.name.to_string());
        for g in e.fields {
            let ctx = if is_settings(g) { "settings" } else { e.name };
            walk(ctx, g, &mut out);
        }
    }
    out
}

/// The `context.field` paths an example shows, named as in [`schema_paths`].
fn example_paths(doc: &Json, out: &mut BTreeSet<String>) {
    fn descend(ctx: &str, f: &Field, v: &Json, out: &mut BTreeSet<String>) {
        let (Ty::Block(inner) | Ty::Named(inner)) = &f.ty else {
            return;
        };
        let sub = if is_settings(inner) {
            "settings".to_string()
        } else {
            format!("{ctx}.{}", f.name)
        };
        let bodies: Vec<&Json> = match (&f.ty, v) {
            (Ty::Named(_), Json::Object(entries)) => entries.values().collect(),
            _ => vec![v],
        };
        for body in bodies {
            let Json::Object(m) = body else { continue };
            for (k, v) in m {
                if let Some(g) = inner.iter().find(|g| g.name == k) {
                    out.insert(format!("{sub}.{k}"));
                    descend(&sub, g, v, out);
                }
            }
        }
    }
    let Json::Object(top) = doc else { return };
    for (kind, entities) in top {
        let Some(e) = ENTITIES.iter().find(|e| e.name == kind) else {
            continue;
        };
        out.insert(kind.clone());
        let Json::Object(entities) = entities else {
            continue;
        };
        for body in entities.values() {
            let Json::Object(m) = body else { continue };
            for (k, v) in m {
                // Which of the entity's field groups the field is in.
                let Some(group) = e.fields.iter().find(|g| g.iter().any(|f| f.name == k)) else {
                    continue;
                };
                let ctx = if is_settings(group) {
                    "settings"
                } else {
                    kind.as_str()
                };
                if let Some(f) = group.iter().find(|f| f.name == k) {
                    out.insert(format!("{ctx}.{k}"));
                    descend(ctx, f, v, out);
                }
            }
        }
    }
}

#[test]
fn examples_show_every_entity_and_field() {
    let mut shown = BTreeSet::new();
    for (kdl, _) in support::example_pairs() {
        let doc = parse(Format::Kdl, &kdl.text, kdl.line);
        example_paths(&normalize_block(&[], &doc.nodes), &mut shown);
    }
    let missing: Vec<String> = schema_paths().difference(&shown).cloned().collect();
    assert!(
        missing.is_empty(),
        "docs/site-format.md has no example of: {missing:?}"
    );
}

/// Every example of a whole `site` block (KDL or TOML) in site-format.md
/// and boot.md names `dns-servers`, which `check` requires (SC0005) as it
/// does `domain`: a site copied from the docs must pass.
#[test]
fn site_examples_name_the_required_fields() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["docs/site-format.md", "docs/boot.md"] {
        let text = std::fs::read_to_string(root.join(doc)).expect(doc);
        for fence in ["```kdl\n", "```toml\n"] {
            for block in text.split(fence).skip(1) {
                let block = block.split("```").next().unwrap_or("");
                let is_site = block
                    .lines()
                    .any(|l| l.starts_with("    domain ") || l.starts_with("domain = "));
                assert!(
                    !is_site || block.contains("dns-servers"),
                    "{doc}: a site example without dns-servers (SC0005):\n{block}"
                );
            }
        }
    }
}

/// Removes the `node NAME { … }` blocks of `names` from a KDL file.
fn without_nodes(text: &str, names: &[String]) -> String {
    let mut out = String::new();
    let mut depth = 0i32;
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if !skipping {
            let t = line.trim_start();
            skipping = names.iter().any(|n| t.starts_with(&format!("node {n} {{")));
            depth = 0;
        }
        if skipping {
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth <= 0 {
                skipping = false;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Every example of nodes in site-format.md, pasted into the site
/// `siteconf init --nodes 10` makes (in place of a node of the same name),
/// passes `check` without an error but those of what the fragment leaves
/// out: no example takes another node's rack units, ports, MACs or
/// addresses.
#[test]
fn node_examples_paste_into_an_init_site() {
    let opts = siteconf::init::Options {
        nodes: 10,
        racks: None,
        format: Format::Kdl,
    };
    let generated = siteconf::init::generate(&opts).unwrap();
    // With its lock: a fixed address an allocated one already holds is a
    // collision (SC0803).
    let mut files = generated.files.clone();
    files.extend(siteconf::init::project_files(&generated, siteconf::init::Ci::None).unwrap());
    let mut tried = 0;
    for (kdl, _) in support::example_pairs() {
        let doc = parse(Format::Kdl, &kdl.text, kdl.line);
        if doc.nodes.is_empty() || doc.nodes.iter().any(|n| n.name.text != "node") {
            continue;
        }
        let names: Vec<String> = doc
            .nodes
            .iter()
            .filter_map(|n| match n.args.first().map(|a| &a.scalar) {
                Some(Scalar::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let mut m = siteconf::source::MemSource::new();
        for (p, t) in &files {
            let t = if p.ends_with(".kdl") {
                without_nodes(t, &names)
            } else {
                t.clone()
            };
            m.insert(p.clone(), t.into_bytes());
        }
        m.insert("site/zz-example.kdl", kdl.text.clone().into_bytes());
        let checked = siteconf::check::check(&m);
        let errors: Vec<String> = checked
            .diags
            .sorted(&checked.loaded.sources)
            .into_iter()
            .filter(|d| d.severity == siteconf::diag::Severity::Error)
            // What an example leaves out because another one shows it (the
            // profiles with the automation user's key, an interface, the
            // loopback) is no collision.
            .filter(|d| !matches!(d.code.as_str(), "SC0910" | "SC0206" | "SC0603"))
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        assert!(
            errors.is_empty(),
            "docs/site-format.md:{}: the example does not paste into an init site: {errors:?}",
            kdl.line
        );
        tried += 1;
    }
    assert!(tried >= 3, "docs lost their node examples");
}
