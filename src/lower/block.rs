//! Reading the fields of one block (a node's properties and children)
//! against the schema: unknown and duplicate fields are reported once, here,
//! and typed getters report wrong types and invalid values with the exact span.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::model::schema::{Field, Ty};
use crate::model::{AddrSpec, Sp};
use crate::syntax::{Ident, Node, Scalar, Span, Value};

/// One field occurrence: a property `key=value` or a child node `key args… { … }`.
#[derive(Clone, Copy)]
pub enum Entry<'a> {
    Prop(&'a Ident, &'a Value),
    Child(&'a Node),
}

impl<'a> Entry<'a> {
    pub fn key(&self) -> &'a Ident {
        match self {
            Entry::Prop(k, _) => k,
            Entry::Child(n) => &n.name,
        }
    }
    pub fn values(&self) -> &'a [Value] {
        match self {
            Entry::Prop(_, v) => std::slice::from_ref(*v),
            Entry::Child(n) => &n.args,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            Entry::Prop(k, v) => k.span.to(v.span),
            Entry::Child(n) => n.span,
        }
    }
    fn has_block(&self) -> bool {
        match self {
            Entry::Prop(..) => false,
            Entry::Child(n) => !n.props.is_empty() || n.children.is_some(),
        }
    }
}

/// The fields of one block, checked against a field list.
pub struct Block<'a> {
    entries: Vec<(&'static Field, Entry<'a>)>,
    pub span: Span,
    /// The block's head (its name and first argument), where "missing
    /// field" points.
    pub head: Span,
    /// "node `r01n01`", for messages.
    pub what: String,
    /// Fields given more than once (reported here; the first is read).
    twice: Vec<&'static str>,
}

fn entries_of(node: &Node) -> impl Iterator<Item = Entry<'_>> {
    node.props
        .iter()
        .map(|(k, v)| Entry::Prop(k, v))
        .chain(node.children().iter().map(Entry::Child))
}

impl<'a> Block<'a> {
    /// Collects the props and children of `node` as fields of `groups`.
    /// `skip_args` is how many leading arguments the caller has consumed
    /// (the entity's name); any more are reported.
    pub fn new(
        diags: &mut Diagnostics,
        node: &'a Node,
        groups: &[&'static [Field]],
        what: String,
        skip_args: usize,
    ) -> Block<'a> {
        if let Some(extra) = node.args.get(skip_args) {
            diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("unexpected value {} for {what}", extra.scalar),
                )
                .label(extra.span, "not expected here")
                .help(
                    "fields are written as child nodes or properties: `key value` or `key=value`",
                ),
            );
        }
        let mut b = Self::from_entries(diags, entries_of(node), node.span, groups, what);
        b.head = match (skip_args, node.args.first()) {
            (1.., Some(a)) => node.name.span.to(a.span),
            _ => node.name.span,
        };
        b
    }

    pub fn from_entries(
        diags: &mut Diagnostics,
        entries: impl Iterator<Item = Entry<'a>>,
        span: Span,
        groups: &[&'static [Field]],
        what: String,
    ) -> Block<'a> {
        let mut twice: Vec<&'static str> = Vec::new();
        let mut out: Vec<(&'static Field, Entry<'a>)> = Vec::new();
        for e in entries {
            let key = e.key();
            let field = groups
                .iter()
                .flat_map(|g| g.iter())
                .find(|f| f.name == key.text);
            match field {
                None => {
                    let names = groups.iter().flat_map(|g| g.iter()).map(|f| f.name);
                    let mut d = Diagnostic::error(
                        Code::UnknownField,
                        format!("unknown field `{}` in {what}", key.text),
                    )
                    .label(key.span, "unknown field");
                    d = match did_you_mean(&key.text, names) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "the fields of {what} are: {}",
                            groups
                                .iter()
                                .flat_map(|g| g.iter())
                                .map(|f| f.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    diags.push(d);
                }
                Some(f) => {
                    let repeatable = matches!(f.ty, Ty::Named(_));
                    if !repeatable {
                        if let Some((_, first)) = out.iter().find(|(g, _)| g.name == f.name) {
                            diags.push(
                                Diagnostic::error(
                                    Code::DuplicateField,
                                    format!("field `{}` is given twice in {what}", f.name),
                                )
                                .label(key.span, "given again here")
                                .label(first.key().span, "first given here")
                                .help("remove one of them"),
                            );
                            twice.push(f.name);
                            continue;
                        }
                    }
                    out.push((f, e));
                }
            }
        }
        Block {
            entries: out,
            span,
            head: span,
            what,
            twice,
        }
    }

    /// Whether a field was given more than once (already reported as
    /// SC0006; the first is the one read).
    pub fn given_twice(&self, name: &str) -> bool {
        self.twice.contains(&name)
    }

    fn get(&self, name: &str) -> Option<Entry<'a>> {
        self.entries
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, e)| *e)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = Entry<'a>> + '_ {
        let name = name.to_string();
        self.entries
            .iter()
            .filter(move |(f, _)| f.name == name)
            .map(|(_, e)| *e)
    }

    /// Reports a missing required field.
    pub fn require<T>(&self, diags: &mut Diagnostics, name: &str, v: Option<T>) -> Option<T> {
        if v.is_none() && !self.has(name) {
            diags.push(
                Diagnostic::error(Code::MissingField, format!("{} has no `{name}`", self.what))
                    .label(self.head, format!("`{name}` is required here"))
                    .help(format!("add `{name} …` to the block")),
            );
        }
        v
    }

    /// The single value of a field.
    pub fn value(&self, diags: &mut Diagnostics, name: &str) -> Option<&'a Value> {
        let e = self.get(name)?;
        if e.has_block() {
            diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("`{name}` takes a value, not a block"),
                )
                .label(e.span(), "expected a single value"),
            );
            return None;
        }
        match e.values() {
            [v] => Some(v),
            [] => {
                diags.push(
                    Diagnostic::error(Code::WrongType, format!("`{name}` has no value"))
                        .label(e.key().span, "expected one value"),
                );
                None
            }
            [_, second, ..] => {
                diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!("`{name}` takes one value, not a list"),
                    )
                    .label(second.span, "unexpected second value"),
                );
                None
            }
        }
    }

    /// The values of a list field (`key a b c` / `key = ["a", "b"]`), possibly repeated.
    pub fn values(&self, diags: &mut Diagnostics, name: &str) -> Vec<&'a Value> {
        let mut out = Vec::new();
        for e in self.all(name) {
            if e.has_block() {
                diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!("`{name}` takes values, not a block"),
                    )
                    .label(e.span(), "expected values"),
                );
                continue;
            }
            out.extend(e.values());
        }
        out
    }

    /// The one nested block of a field (`loopback ipv4=auto`, `bgp { … }`).
    pub fn block(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        fields: &'static [Field],
    ) -> Option<Block<'a>> {
        let e = self.get(name)?;
        match e {
            Entry::Prop(k, v) => {
                diags.push(
                    Diagnostic::error(Code::WrongType, format!("`{name}` is a block, not a value"))
                        .label(k.span.to(v.span), "expected `{ … }` or properties"),
                );
                None
            }
            Entry::Child(n) => Some(Block::new(
                diags,
                n,
                &[fields],
                format!("`{name}` of {}", self.what),
                0,
            )),
        }
    }

    /// A keyed collection: `interface eno1 { … }` (name as first argument)
    /// or `interface { eno1 { … } }` (the TOML form, `[x.interface.eno1]`).
    pub fn named(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        fields: &'static [Field],
    ) -> Vec<(Sp<String>, Block<'a>)> {
        let mut out = Vec::new();
        for e in self.all(name) {
            let Entry::Child(n) = e else {
                let key = e.key();
                diags.push(
                    Diagnostic::error(Code::WrongType, format!("`{name}` entries need a name"))
                        .label(key.span, format!("write `{name} NAME {{ … }}`")),
                );
                continue;
            };
            if let Some(first) = n.args.first() {
                let Some(item) = string_of(diags, first, &format!("the name of a `{name}`")) else {
                    continue;
                };
                let what = format!("{name} `{}`", item.value);
                out.push((item, Block::new(diags, n, &[fields], what, 1)));
            } else {
                for c in n.children() {
                    let item = Sp::new(c.name.text.clone(), c.name.span);
                    let what = format!("{name} `{}`", item.value);
                    out.push((item, Block::new(diags, c, &[fields], what, 0)));
                }
                if !n.props.is_empty() {
                    let (k, _) = &n.props[0];
                    diags.push(
                        Diagnostic::error(Code::WrongType, format!("`{name}` entries need a name"))
                            .label(k.span, format!("write `{name} NAME {}=…`", k.text)),
                    );
                }
            }
        }
        out
    }

    // ---- typed getters ---------------------------------------------------

    pub fn string(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<String>> {
        let v = self.value(diags, name)?;
        string_of(diags, v, &format!("`{name}`"))
    }

    pub fn strings(&self, diags: &mut Diagnostics, name: &str) -> Vec<Sp<String>> {
        self.values(diags, name)
            .into_iter()
            .filter_map(|v| string_of(diags, v, &format!("`{name}`")))
            .collect()
    }

    pub fn label(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<String>> {
        let s = self.string(diags, name)?;
        check_label(diags, &s).then_some(s)
    }

    pub fn labels(&self, diags: &mut Diagnostics, name: &str) -> Vec<Sp<String>> {
        self.strings(diags, name)
            .into_iter()
            .filter(|s| check_label(diags, s))
            .collect()
    }

    pub fn int(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        lo: i128,
        hi: i128,
        code: Code,
    ) -> Option<Sp<i128>> {
        let v = self.value(diags, name)?;
        int_of(diags, v, name, lo, hi, code)
    }

    pub fn u32(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        lo: u32,
        hi: u32,
        code: Code,
    ) -> Option<Sp<u32>> {
        self.int(diags, name, lo as i128, hi as i128, code)
            .map(|v| Sp::new(v.value as u32, v.span))
    }

    pub fn u16(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        lo: u16,
        hi: u16,
        code: Code,
    ) -> Option<Sp<u16>> {
        self.int(diags, name, lo as i128, hi as i128, code)
            .map(|v| Sp::new(v.value as u16, v.span))
    }

    pub fn bool(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<bool>> {
        let v = self.value(diags, name)?;
        match v.scalar {
            Scalar::Bool(b) => Some(Sp::new(b, v.span)),
            _ => {
                type_error(
                    diags,
                    v,
                    name,
                    "a boolean (`#true`/`#false` in KDL, `true`/`false` in TOML)",
                );
                None
            }
        }
    }

    pub fn parsed<T: std::str::FromStr>(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        code: Code,
        what: &str,
    ) -> Option<Sp<T>> {
        let v = self.value(diags, name)?;
        parse_value(diags, v, name, code, what)
    }

    /// [`Block::parsed`], with the parser's own words as the message.
    pub fn parsed_explained<T: std::str::FromStr<Err = String>>(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        code: Code,
        what: &str,
    ) -> Option<Sp<T>> {
        let v = self.value(diags, name)?;
        parse_explained(diags, v, name, code, what)
    }

    pub fn parsed_list<T: std::str::FromStr>(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        code: Code,
        what: &str,
    ) -> Vec<Sp<T>> {
        self.values(diags, name)
            .into_iter()
            .filter_map(|v| parse_value(diags, v, name, code, what))
            .collect()
    }

    pub fn ipv4(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<Ipv4Addr>> {
        self.parsed(diags, name, Code::InvalidIp, "an IPv4 address")
    }

    pub fn ipv6(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<Ipv6Addr>> {
        self.parsed(diags, name, Code::InvalidIp, "an IPv6 address")
    }

    pub fn ip(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<IpAddr>> {
        self.parsed(diags, name, Code::InvalidIp, "an IP address")
    }

    pub fn prefix4(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<Ipv4Net>> {
        let p: Sp<Ipv4Net> = self.parsed(
            diags,
            name,
            Code::InvalidPrefix,
            "an IPv4 prefix like 10.0.0.0/24",
        )?;
        check_host_bits(
            diags,
            p.span,
            p.value.addr() != p.value.network(),
            &p.value.trunc().to_string(),
        )
        .then_some(p)
    }

    pub fn prefix6(&self, diags: &mut Diagnostics, name: &str) -> Option<Sp<Ipv6Net>> {
        let p: Sp<Ipv6Net> = self.parsed(
            diags,
            name,
            Code::InvalidPrefix,
            "an IPv6 prefix like 2001:db8::/64",
        )?;
        check_host_bits(
            diags,
            p.span,
            p.value.addr() != p.value.network(),
            &p.value.trunc().to_string(),
        )
        .then_some(p)
    }

    pub fn addr_or_auto<T: std::str::FromStr>(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        what: &str,
    ) -> Option<Sp<AddrSpec<T>>> {
        let v = self.value(diags, name)?;
        if let Scalar::String(s) = &v.scalar {
            if s == "auto" {
                return Some(Sp::new(AddrSpec::Auto, v.span));
            }
        }
        parse_value::<T>(diags, v, name, Code::InvalidIp, what)
            .map(|p| Sp::new(AddrSpec::Fixed(p.value), p.span))
    }

    pub fn enumerated<T: Copy>(
        &self,
        diags: &mut Diagnostics,
        name: &str,
        table: &[(&'static str, T)],
    ) -> Option<Sp<T>> {
        let s = self.string(diags, name)?;
        enum_of(diags, &s, name, table)
    }
}

// ---- value helpers (also used for list items) -------------------------------

pub fn type_error(diags: &mut Diagnostics, v: &Value, name: &str, expected: &str) {
    diags.push(
        Diagnostic::error(
            Code::WrongType,
            format!("`{name}` must be {expected}, found {}", v.scalar.kind()),
        )
        .label(v.span, format!("expected {expected}")),
    );
}

pub fn string_of(diags: &mut Diagnostics, v: &Value, what: &str) -> Option<Sp<String>> {
    match &v.scalar {
        Scalar::String(s) => Some(Sp::new(s.clone(), v.span)),
        _ => {
            diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("{what} must be a string, found {}", v.scalar.kind()),
                )
                .label(v.span, "expected a string")
                .help("quote it: \"…\""),
            );
            None
        }
    }
}

pub fn check_label(diags: &mut Diagnostics, s: &Sp<String>) -> bool {
    if crate::model::is_hostname_label(&s.value) {
        return true;
    }
    // White space around a name (a TOML key `"r01n02 "`) is invisible in
    // most views: say so, and what the name was probably meant to be.
    let trimmed = s.value.trim();
    if trimmed != s.value && crate::model::is_hostname_label(trimmed) {
        let (lead, trail) = (
            s.value.len() - s.value.trim_start().len(),
            s.value.len() - s.value.trim_end().len(),
        );
        let what = match (lead > 0, trail > 0) {
            (true, true) => "leading and trailing white space",
            (true, false) => "leading white space",
            _ => "trailing white space",
        };
        diags.push(
            Diagnostic::error(
                Code::InvalidHostname,
                format!(
                    "`{}` is not a valid name: it has {what}",
                    s.value.escape_debug()
                ),
            )
            .label(s.span, format!("{what} inside the quotes"))
            .help(format!(
                "a name is its host name, DNS label and siteconf.lock owner: write `{trimmed}`"
            )),
        );
        return false;
    }
    diags.push(
        Diagnostic::error(
            Code::InvalidHostname,
            format!("`{}` is not a valid name", s.value),
        )
        .label(s.span, "not a host name label")
        .help("use 1–63 letters, digits and hyphens, starting and ending with a letter or digit"),
    );
    false
}

pub fn int_of(
    diags: &mut Diagnostics,
    v: &Value,
    name: &str,
    lo: i128,
    hi: i128,
    code: Code,
) -> Option<Sp<i128>> {
    match v.scalar {
        Scalar::Int(i) if (lo..=hi).contains(&i) => Some(Sp::new(i, v.span)),
        Scalar::Int(i) => {
            diags.push(
                Diagnostic::error(code, format!("`{name}` {i} is out of range"))
                    .label(v.span, format!("must be between {lo} and {hi}")),
            );
            None
        }
        _ => {
            type_error(diags, v, name, "an integer");
            None
        }
    }
}

/// [`Block::parsed`] for a value whose parser says what is wrong with it
/// (a multicast MAC, an octet that is not hex): its words are the
/// message, and `what` the label.
pub fn parse_explained<T: std::str::FromStr<Err = String>>(
    diags: &mut Diagnostics,
    v: &Value,
    name: &str,
    code: Code,
    what: &str,
) -> Option<Sp<T>> {
    parse_with(diags, v, name, code, what, |_, why| why)
}

pub fn parse_value<T: std::str::FromStr>(
    diags: &mut Diagnostics,
    v: &Value,
    name: &str,
    code: Code,
    what: &str,
) -> Option<Sp<T>> {
    parse_with(diags, v, name, code, what, |s, _| {
        format!("`{s}` is not {what}")
    })
}

/// A string value parsed as `T`; a value that does not parse is `code`
/// with `message(text, the parser's error)`, labelled "expected `what`".
fn parse_with<T: std::str::FromStr>(
    diags: &mut Diagnostics,
    v: &Value,
    name: &str,
    code: Code,
    what: &str,
    message: impl FnOnce(&str, T::Err) -> String,
) -> Option<Sp<T>> {
    let Scalar::String(s) = &v.scalar else {
        type_error(diags, v, name, &format!("{what} (a string)"));
        return None;
    };
    match s.parse::<T>() {
        Ok(x) => Some(Sp::new(x, v.span)),
        Err(e) => {
            diags.push(
                Diagnostic::error(code, message(s, e)).label(v.span, format!("expected {what}")),
            );
            None
        }
    }
}

pub fn enum_of<T: Copy>(
    diags: &mut Diagnostics,
    s: &Sp<String>,
    name: &str,
    table: &[(&'static str, T)],
) -> Option<Sp<T>> {
    if let Some((_, t)) = table.iter().find(|(w, _)| *w == s.value) {
        return Some(Sp::new(*t, s.span));
    }
    let words: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
    let mut d = Diagnostic::error(
        Code::InvalidValue,
        format!("`{}` is not a valid {name}", s.value),
    )
    .label(s.span, format!("expected one of: {}", words.join(", ")));
    if let Some(m) = did_you_mean(&s.value, words.iter().copied()) {
        d = d.help(format!("did you mean `{m}`?"));
    }
    diags.push(d);
    None
}

fn check_host_bits(diags: &mut Diagnostics, span: Span, has_host_bits: bool, fixed: &str) -> bool {
    if has_host_bits {
        diags.push(
            Diagnostic::error(Code::InvalidPrefix, "prefix has host bits set")
                .label(span, "host bits set")
                .help(format!("did you mean `{fixed}`?")),
        );
        return false;
    }
    true
}
