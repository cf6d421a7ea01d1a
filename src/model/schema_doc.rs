//! The field reference of `docs/site-format.md`, generated from the schema
//! table in [`super::schema`] (`siteconf schema --markdown`), so the docs
//! list exactly the fields lowering accepts. A test keeps the committed
//! section current.

use std::fmt::Write as _;

use super::schema::{Entity, Field, Ty, ENTITIES, SETTINGS, SWITCH_INTERFACE};

/// Whether two field lists are the same list. By names, not by address:
/// the lists are `const`s, which the compiler may copy at each use.
pub fn same_fields(a: &[Field], b: &[Field]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.name == y.name)
}

/// Whether a field list is the shared [`SETTINGS`].
pub fn is_settings(fields: &[Field]) -> bool {
    same_fields(fields, SETTINGS)
}

/// The Markdown field reference: one table per entity, one per nested
/// block (each written once, where it is first reached).
pub fn markdown() -> String {
    let mut out = String::new();
    let mut blocks: Vec<(String, &'static [Field])> = Vec::new();
    for e in ENTITIES {
        entity_section(&mut out, e, &mut blocks);
    }
    // Nested blocks, breadth first: a block may itself name further blocks.
    let mut i = 0;
    while i < blocks.len() {
        let (title, fields) = blocks[i].clone();
        let _ = writeln!(out, "### {title}\n");
        if is_settings(fields) {
            out.push_str(
                "Shared by site `defaults`, `profile` and `node`; merged in that order \
                 (see [Inheritance](#inheritance-and-merge-order)).\n\n",
            );
        }
        table(&mut out, fields.iter(), &mut blocks);
        i += 1;
    }
    out
}

fn entity_section(out: &mut String, e: &Entity, blocks: &mut Vec<(String, &'static [Field])>) {
    let _ = writeln!(out, "### `{} NAME {{ … }}`\n\n{}\n", e.name, e.doc);
    let own: Vec<&'static Field> = e
        .fields
        .iter()
        .filter(|g| !is_settings(g))
        .flat_map(|g| g.iter())
        .collect();
    table(out, own.into_iter(), blocks);
    if e.fields.iter().any(|g| is_settings(g)) {
        note_block(blocks, "Settings", SETTINGS);
        out.push_str("Plus every field of [Settings](#settings).\n\n");
    }
}

fn note_block(blocks: &mut Vec<(String, &'static [Field])>, title: &str, fields: &'static [Field]) {
    if !blocks.iter().any(|(_, f)| same_fields(f, fields)) {
        blocks.push((title.to_string(), fields));
    }
}

fn table<'a>(
    out: &mut String,
    fields: impl Iterator<Item = &'a Field>,
    blocks: &mut Vec<(String, &'static [Field])>,
) {
    out.push_str("| Field | Type | Required | Description |\n|---|---|---|---|\n");
    for f in fields {
        match &f.ty {
            Ty::Block(inner) => {
                let title = if is_settings(inner) {
                    "Settings".to_string()
                } else {
                    format!("`{} {{ … }}`", f.name)
                };
                note_block(blocks, &title, inner);
            }
            Ty::Named(inner) => {
                note_block(blocks, &named_title(f.name, inner), inner);
            }
            _ => {}
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            f.name,
            cell(&ty_text(&f.ty, f.name)),
            if f.required { "yes" } else { "" },
            cell(f.doc)
        );
    }
    out.push('\n');
}

/// The heading of a keyed block's table. A switch's routed ports share
/// the name `interface` with a node's interfaces: their heading says so.
fn named_title(name: &str, fields: &[Field]) -> String {
    if same_fields(fields, SWITCH_INTERFACE) {
        format!("`{name} PORT {{ … }}` (switch)")
    } else {
        format!("`{name} NAME {{ … }}`")
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn ty_text(ty: &Ty, name: &str) -> String {
    match ty {
        Ty::Str => "string".into(),
        Ty::Label => "name".into(),
        Ty::Fqdn => "domain name".into(),
        Ty::Int(lo, hi) => format!("integer {lo}–{hi}"),
        Ty::Bool => "boolean".into(),
        Ty::Ip => "IP address".into(),
        Ty::Ipv4 => "IPv4 address".into(),
        Ty::Ipv6 => "IPv6 address".into(),
        Ty::Prefix4 => "IPv4 prefix".into(),
        Ty::Prefix6 => "IPv6 prefix".into(),
        Ty::IfAddr => "interface address (`ADDRESS/LENGTH`)".into(),
        Ty::Mac => "MAC address".into(),
        Ty::IpRange => "address range".into(),
        Ty::AsnRange => "ASN range".into(),
        Ty::Url => "URL".into(),
        Ty::SshKey => "SSH public key".into(),
        Ty::Enum(words) => format!(
            "one of {}",
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ty::List(inner) => format!("list of {}", ty_text(inner, name)),
        Ty::Block(inner) if is_settings(inner) => "block of [Settings](#settings)".into(),
        Ty::Block(_) => format!("block (see `{name} {{ … }}`)"),
        Ty::Named(inner) if same_fields(inner, SWITCH_INTERFACE) => {
            format!("blocks keyed by port (see {})", named_title(name, inner))
        }
        Ty::Named(_) => format!("blocks keyed by name (see `{name} NAME {{ … }}`)"),
        Ty::Vars => "free-form block".into(),
        Ty::Ipv4OrAuto => "IPv4 address or `auto`".into(),
        Ty::Ipv6OrAuto => "IPv6 address or `auto`".into(),
        Ty::AsnOrAuto => "integer 1–4294967295 or `auto`".into(),
        Ty::Secret => "secret reference `secret=\"NAME\"`".into(),
        Ty::PortRef => "switch and port".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_in_the_reference() {
        let md = markdown();
        fn walk(md: &str, fields: &[Field]) {
            for f in fields {
                assert!(md.contains(&format!("| `{}` |", f.name)), "{}", f.name);
                if let Ty::Block(inner) | Ty::Named(inner) = &f.ty {
                    walk(md, inner);
                }
            }
        }
        for e in ENTITIES {
            assert!(md.contains(&format!("### `{} NAME", e.name)), "{}", e.name);
            for g in e.fields {
                walk(&md, g);
            }
        }
    }
}
