//! KDL v2 site files → the common [`Document`] tree.
//!
//! Stopgap: backed by the `kdl` crate until the purpose-built parser lands.

use super::{Document, FileId, Ident, Node, Scalar, Span, SyntaxError, Value};

/// Parses a KDL v2 document. On error, returns every error it could find.
pub fn parse(file: FileId, text: &str) -> Result<Document, Vec<SyntaxError>> {
    match ::kdl::KdlDocument::parse_v2(text) {
        Ok(doc) => Ok(Document {
            nodes: doc.nodes().iter().map(|n| node(file, n)).collect(),
        }),
        Err(e) => Err(e
            .diagnostics
            .iter()
            .map(|d| SyntaxError {
                message: d.message.clone().unwrap_or_else(|| "invalid KDL".into()),
                span: sp(file, d.span),
                help: d.help.clone(),
            })
            .collect()),
    }
}

fn sp(file: FileId, s: miette::SourceSpan) -> Span {
    Span::new(file, s.offset(), s.offset() + s.len())
}

fn ident(file: FileId, i: &::kdl::KdlIdentifier) -> Ident {
    Ident {
        text: i.value().to_string(),
        span: sp(file, i.span()),
    }
}

fn node(file: FileId, n: &::kdl::KdlNode) -> Node {
    let mut args = Vec::new();
    let mut props = Vec::new();
    for e in n.entries() {
        let v = Value {
            ty: e.ty().map(|t| ident(file, t)),
            scalar: match e.value() {
                ::kdl::KdlValue::String(s) => Scalar::String(s.clone()),
                ::kdl::KdlValue::Integer(i) => Scalar::Int(*i),
                ::kdl::KdlValue::Float(f) => Scalar::Float(*f),
                ::kdl::KdlValue::Bool(b) => Scalar::Bool(*b),
                ::kdl::KdlValue::Null => Scalar::Null,
            },
            span: sp(file, e.span()),
        };
        match e.name() {
            Some(k) => props.push((ident(file, k), v)),
            None => args.push(v),
        }
    }
    Node {
        ty: n.ty().map(|t| ident(file, t)),
        name: ident(file, n.name()),
        args,
        props,
        children: n
            .children()
            .map(|c| c.nodes().iter().map(|x| node(file, x)).collect()),
        span: sp(file, n.span()),
    }
}
