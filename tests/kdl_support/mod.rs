//! Shared by the KDL conformance tests: a span-free, normalised view of a
//! parsed document, so that trees from our parser, from the `kdl` crate and
//! from the compliance suite's expected files can be compared.
//!
//! Normalisation follows what KDL says is meaningful: properties are
//! deduplicated with the rightmost occurrence winning and then sorted by key
//! (their order carries no meaning); argument order is kept.

#![allow(dead_code)] // each test binary uses a different part

use siteconf::syntax::{Document, Node, Scalar, Value};

/// A scalar whose `==` treats two NaNs as equal and tells `0.0` from
/// `-0.0`, so float comparisons are exact.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Float(a), Val::Float(b)) => {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Null, Val::Null) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TVal {
    pub ty: Option<String>,
    pub val: Val,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TNode {
    pub ty: Option<String>,
    pub name: String,
    pub args: Vec<TVal>,
    /// Rightmost wins, sorted by key.
    pub props: Vec<(String, TVal)>,
    pub children: Option<Vec<TNode>>,
}

/// Applies "rightmost property wins" and sorts by key.
pub fn normalise_props(props: Vec<(String, TVal)>) -> Vec<(String, TVal)> {
    let mut out: Vec<(String, TVal)> = Vec::with_capacity(props.len());
    for (k, v) in props.into_iter().rev() {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn val(v: &Value) -> TVal {
    TVal {
        ty: v.ty.as_ref().map(|t| t.text.clone()),
        val: match &v.scalar {
            Scalar::String(s) => Val::Str(s.clone()),
            Scalar::Int(i) => Val::Int(*i),
            Scalar::Float(x) => Val::Float(*x),
            Scalar::Bool(b) => Val::Bool(*b),
            Scalar::Null => Val::Null,
            // TOML only: never from the KDL parser.
            Scalar::Datetime(d) => Val::Str(d.clone()),
        },
    }
}

fn node(n: &Node, drop_empty_children: bool) -> TNode {
    TNode {
        ty: n.ty.as_ref().map(|t| t.text.clone()),
        name: n.name.text.clone(),
        args: n.args.iter().map(val).collect(),
        props: normalise_props(
            n.props
                .iter()
                .map(|(k, v)| (k.text.clone(), val(v)))
                .collect(),
        ),
        children: match &n.children {
            Some(c) if c.is_empty() && drop_empty_children => None,
            Some(c) => Some(c.iter().map(|n| node(n, drop_empty_children)).collect()),
            None => None,
        },
    }
}

/// Our tree, normalised. `drop_empty_children` turns `{}` into "no
/// children block", as the compliance suite's expected files do.
pub fn from_doc(doc: &Document, drop_empty_children: bool) -> Vec<TNode> {
    doc.nodes
        .iter()
        .map(|n| node(n, drop_empty_children))
        .collect()
}
