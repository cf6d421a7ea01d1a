//! The template engine: which templates exist, the minijinja environment
//! they run in, and how a template failure becomes a diagnostic.
//!
//! Templates are the defaults embedded from the repository's `templates/`
//! (see `build.rs`), overridden file by file by the project's own templates
//! directory read through [`Source`] (so a build from a git revision uses
//! that revision's overrides). A template's name is its path below
//! `templates/`, e.g. `node/etc/netplan/50-siteconf.yaml.j2`.
//!
//! The environment is strict, so that a typo in a template is an error and
//! never an empty string in a config file:
//! - an undefined value is an error (`UndefinedBehavior::Strict`);
//! - in templates without auto-escaping, `{{ … }}` refuses a value that
//!   spans lines or holds a control character, and refuses `none`, lists and
//!   maps: a site value cannot inject lines into a line-based config (FRR,
//!   sshd, deb822), and a missing optional value cannot print as `none`.
//!   Deliberate multi-line output (a macro's) is printed with `| safe`.
//!   Templates whose name ends in `.yaml.j2`/`.json.j2` print every value as
//!   JSON (minijinja's default auto-escaping), which is also valid YAML;
//!   `.html.j2`/`.xml.j2` escape HTML.
//! - blocks trim their own line (`trim_blocks`, `lstrip_blocks`), and a
//!   template's final newline is kept, as config files want.
//!
//! Helpers templates get: filters `yaml` (alias `to_yaml_str`: a value as a
//! YAML/JSON scalar or flow collection), `b64`, `deb822` (fold a multi-line
//! field value), `word` (refuse whitespace: FRR passwords); functions
//! `secret(name)` (resolve a secret: marks the file 0600; a missing one is
//! SC0902), `file_mode("0600")`, `family(addr)`.

use std::collections::BTreeSet;
use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::secrets::{SecretRef, Secrets};
use crate::diag::{Code, Diagnostic};
use crate::source::Source;
use crate::syntax::{FileId, SourceFile, SourceMap, Span};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));
}

/// Where a template's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// Embedded default.
    Builtin,
    /// The project's own file, by project-relative path.
    Project(String),
}

#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// Path below `templates/`, `/`-separated.
    pub name: String,
    pub text: String,
    pub origin: TemplateOrigin,
}

impl TemplateFile {
    /// The path shown in diagnostics.
    pub fn display_path(&self) -> String {
        match &self.origin {
            TemplateOrigin::Builtin => format!("<built-in templates>/{}", self.name),
            TemplateOrigin::Project(p) => p.clone(),
        }
    }
}

/// Every template of a build, sorted by name, one per name.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    files: Vec<TemplateFile>,
    /// Project-relative paths of the files in the templates directory that
    /// are not templates (no `.j2`): listed by [`Templates::unused`].
    /// (path, path below the directory)
    ignored: Vec<(String, String)>,
}

impl Templates {
    /// The embedded defaults only.
    pub fn builtin() -> Templates {
        Templates {
            files: builtin::BUILTIN
                .iter()
                .map(|(name, text)| TemplateFile {
                    name: (*name).to_string(),
                    text: (*text).to_string(),
                    origin: TemplateOrigin::Builtin,
                })
                .collect(),
            ignored: Vec::new(),
        }
    }

    /// The embedded default of this name, if there is one.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        builtin::BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// Whether template `name` is the project's own text: an override whose
    /// text differs from the built-in one, or a template the project adds.
    /// What the checks of rendered output that built-in templates do not
    /// need (their output is tested with siteconf) apply to.
    pub fn overridden(&self, name: &str) -> bool {
        self.index_of(name).is_some_and(|i| {
            let f = &self.files[i];
            matches!(f.origin, TemplateOrigin::Project(_))
                && Templates::builtin_text(name) != Some(f.text.as_str())
        })
    }

    /// The defaults, overridden (and extended) by every `*.j2` file below
    /// `dir` in `src`. Other files there are not templates and are ignored.
    pub fn load(src: &dyn Source, dir: &str) -> Result<Templates, Vec<Diagnostic>> {
        let mut t = Templates::builtin();
        if dir == crate::project::REFUSED_DIR {
            // `templates-dir` left the project: SC0021 at the key says so,
            // and nothing is read from it.
            return Ok(t);
        }
        let paths = src.list(dir).map_err(|e| {
            let refused = e.message == crate::source::fs::SYMLINK_REFUSED
                || e.message == crate::source::fs::OUTSIDE_REFUSED;
            let path = crate::syntax::escape_path(&e.path);
            vec![if refused {
                Diagnostic::error(Code::ProjectPathRefused, format!("`{path}` {}", e.message))
                    .help(format!(
                        "replace `{path}` by a directory inside the project; siteconf does not follow links"
                    ))
            } else {
                Diagnostic::error(
                    Code::ProjectConfig,
                    format!("cannot list the templates directory {path}: {}", e.message),
                )
            }]
        })?;
        // A link below the templates is an error, not a note as under the
        // site directory: a template the branch meant would silently be
        // the built-in one (or none), and the review would say nothing.
        let mut diags: Vec<Diagnostic> = src
            .links_under(dir)
            .into_iter()
            .map(|link| {
                let link = crate::syntax::escape_path(&link).into_owned();
                Diagnostic::error(
                    Code::ProjectPathRefused,
                    format!("`{link}` {}", crate::source::fs::SYMLINK_REFUSED),
                )
                .help(format!(
                    "replace `{link}` by the template itself (a regular file); siteconf never reads through a link"
                ))
            })
            .collect();
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        t.ignored = paths
            .iter()
            .filter(|p| !p.ends_with(".j2"))
            .map(|p| (p.clone(), p.strip_prefix(&prefix).unwrap_or(p).to_string()))
            .collect();
        for path in paths.iter().filter(|p| p.ends_with(".j2")) {
            let name = path.strip_prefix(&prefix).unwrap_or(path).to_string();
            match src.read_text(path) {
                Ok(Some(text)) => t.insert(TemplateFile {
                    name,
                    text,
                    origin: TemplateOrigin::Project(path.clone()),
                }),
                Ok(None) => {}
                Err(e) => diags.push(Diagnostic::error(
                    Code::TemplateError,
                    format!("cannot read template {}: {}", e.path, e.message),
                )),
            }
        }
        if diags.is_empty() {
            Ok(t)
        } else {
            Err(diags)
        }
    }

    /// Adds a template, replacing one of the same name.
    pub fn insert(&mut self, f: TemplateFile) {
        match self.files.binary_search_by(|x| x.name.cmp(&f.name)) {
            Ok(i) => self.files[i] = f,
            Err(i) => self.files.insert(i, f),
        }
    }

    pub fn files(&self) -> &[TemplateFile] {
        &self.files
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.files
            .binary_search_by(|x| x.name.as_str().cmp(name))
            .ok()
    }

    /// Where the template `name` comes from, as messages show it (its
    /// file in the project, or `<built-in templates>/…`); `name` itself
    /// when there is no such template.
    pub fn display_name(&self, name: &str) -> String {
        self.index_of(name)
            .map(|i| self.files[i].display_path())
            .unwrap_or_else(|| name.to_string())
    }

    /// Adds every template to a copy of `sources`, at `FileId(base + i)`
    /// for template `i` (see [`Templates::file_id`]), so diagnostics can
    /// point into templates.
    pub fn extend_sources(&self, sources: &SourceMap) -> SourceMap {
        let mut s = sources.clone();
        for f in &self.files {
            let id = s.add(SourceFile::new(f.display_path(), f.text.clone()));
            // A private key pasted into a template (SC0086, found when the
            // project is loaded) is never printed by a finding about it.
            let keys = crate::syntax::redact::private_keys_in_text(&f.text);
            if !keys.is_empty() {
                s.redact_found(id, keys.iter().flat_map(|k| k.masked()).collect());
            }
        }
        s
    }

    /// The id template `i` gets in [`Templates::extend_sources`] of a map
    /// that had `base` files.
    pub fn file_id(base: usize, i: usize) -> FileId {
        FileId((base + i) as u32)
    }
}

impl Templates {
    /// SC0083 for each file of the project's templates directory that no
    /// build renders (see the code's text), with the closest known template
    /// where there is one. Partials (`_…`), hidden files and `README`/`.md`
    /// files are not findings.
    pub fn unused(&self) -> Vec<Diagnostic> {
        let known: Vec<&str> = builtin::BUILTIN.iter().map(|(n, _)| *n).collect();
        let mut out = Vec::new();
        let skipped = |rel: &str| {
            rel.split('/')
                .any(|c| c.starts_with('_') || c.starts_with('.'))
                || rel.rsplit('/').next().is_some_and(|b| {
                    b.ends_with(".md") || b.starts_with("README") || b.starts_with("LICENSE")
                })
        };
        let warn = |path: &str, why: String, instead: Option<String>| {
            let help = match instead {
                Some(n) => format!("did you mean `{n}`? Rename the file so that its path below the templates directory is that name"),
                None => "node templates go under `node/` (one file per node), switch templates under `switch/`; `site/` holds only the built-in site-wide templates' overrides; every template's name ends in `.j2` (see templates/README.md)".to_string(),
            };
            Diagnostic::warning(Code::TemplateUnused, format!("{path}: {why}")).help(help)
        };
        for (path, rel) in &self.ignored {
            let rel = rel.as_str();
            if skipped(rel) {
                continue;
            }
            let with = format!("{rel}.j2");
            let instead = known
                .iter()
                .find(|k| **k == with)
                .map(|k| k.to_string())
                .or_else(|| {
                    matches!(rel.split('/').next(), Some("node" | "switch")).then_some(with)
                });
            out.push(warn(
                path,
                "this file does not end in `.j2`, so it is not a template and no build renders or copies it".to_string(),
                instead,
            ));
        }
        for f in &self.files {
            let TemplateOrigin::Project(path) = &f.origin else {
                continue;
            };
            let name = f.name.as_str();
            if skipped(name) {
                continue;
            }
            let (top, rest) = name.split_once('/').unwrap_or(("", name));
            match top {
                "node" | "switch" => {
                    let Some(stem) = rest.strip_prefix("etc/netplan/") else {
                        continue;
                    };
                    let stem = stem.trim_end_matches(".j2");
                    if top == "node" && !stem.ends_with(".yaml") && !stem.contains('/') {
                        let base = stem.rsplit_once('.').map_or(stem, |(b, _)| b);
                        out.push(warn(
                            path,
                            format!("it writes `/etc/netplan/{stem}`, but netplan reads only `/etc/netplan/*.yaml`: the file is written and never applied"),
                            Some(format!("node/etc/netplan/{base}.yaml.j2")),
                        ));
                    }
                }
                "site" => {
                    if known.contains(&name) {
                        continue;
                    }
                    let site_known = known.iter().copied().filter(|k| k.starts_with("site/"));
                    let placeholder = if name.contains('{') {
                        " (a placeholder such as `{repo}` works in node templates only)"
                    } else {
                        ""
                    };
                    out.push(warn(
                        path,
                        format!("not one of the site-wide templates, so no build renders it: site-wide files are a fixed set (templates/README.md lists them), and only `node/` and `switch/` templates add files{placeholder}"),
                        nearest(name, site_known),
                    ));
                }
                _ => {
                    // A misspelt directory (`nodes/`), or a template at the
                    // top (`hosts.j2` for `node/hosts.j2`).
                    let dirs = ["node", "switch", "site"];
                    let instead = if rest != name {
                        dirs.iter()
                            .find(|d| strsim::damerau_levenshtein(top, d) <= 2)
                            .map(|d| format!("{d}/{rest}"))
                    } else {
                        dirs.iter()
                            .map(|d| format!("{d}/{name}"))
                            .find(|n| known.contains(&n.as_str()))
                    }
                    .or_else(|| nearest(name, known.iter().copied()));
                    out.push(warn(
                        path,
                        "not under `node/`, `switch/` or `site/`, so no build renders it"
                            .to_string(),
                        instead,
                    ));
                }
            }
        }
        out
    }
}

/// The known template name closest to a misspelt one: a few edits away.
fn nearest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    known
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k.to_string())
}

/// What a render told about the file it produced (a per-render minijinja
/// extension, read back after the render).
#[derive(Debug, Clone, Default)]
pub struct RenderFlags {
    /// `secret()` resolved a value into this file.
    pub secret_used: bool,
    /// Names `secret()` was asked for and no source had.
    pub missing_secrets: BTreeSet<String>,
    /// Names of the secrets `secret()` resolved here, as the site or a
    /// template spells them (a name computed after a secret was read may
    /// be a value, and is left out): what a finding may name.
    pub resolved_secrets: BTreeSet<String>,
    /// Mode asked for with `file_mode()`.
    pub mode: Option<u32>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\t')
}

/// The guard around every `{{ … }}` (see the module doc). `secrets` are
/// the values a render may resolve: an error message never quotes a value
/// that holds one.
fn formatter(
    secrets: &Secrets,
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    // A secret reference from `vars` is not text to print in any template:
    // printing it would put `secret:NAME` where a password belongs.
    if let Some(r) = value.downcast_object_ref::<SecretRef>() {
        return Err(invalid(format!(
            "printing the secret reference `{r}` itself, not its value: write `secret(…)` around it (`{{{{ secret(node.vars.NAME) }}}}`), which also makes the file mode 0600"
        )));
    }
    if matches!(state.auto_escape(), AutoEscape::None) && !value.is_safe() {
        match value.kind() {
            ValueKind::None => {
                return Err(invalid(
                    "printing `none`: the value is not set here; test it with `{% if … %}` or give a default with `or`",
                ))
            }
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
                return Err(invalid(
                    "printing a list or map directly; loop over it, or use `| join(\" \")` or `| yaml`",
                ))
            }
            ValueKind::String if value.as_str().is_some_and(has_control) => {
                let text = value.as_str().unwrap_or_default();
                // Quote the value to help find it, unless it holds a secret.
                let shown = if secrets.values().any(|v| !v.is_empty() && text.contains(v)) {
                    "(a value holding a secret)".to_string()
                } else {
                    format!("{:?}", text.chars().take(60).collect::<String>())
                };
                return Err(invalid(format!(
                    "the value {shown} spans lines or holds a control character, which would inject lines into this file; print deliberate multi-line text with `| safe`"
                )));
            }
            _ => {}
        }
    }
    minijinja::escape_formatter(out, state, value)
}

/// `yaml`: a value as a YAML scalar or flow collection. JSON is YAML, and
/// serde_json quotes and escapes every string, so nothing can break out.
fn yaml_filter(value: &Value) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "yaml of an undefined value",
        ));
    }
    serde_json::to_string(value)
        .map(Value::from_safe_string)
        .map_err(|e| invalid(format!("cannot write this value as YAML: {e}")))
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    use ::base64::Engine as _;
    ::base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64_filter(value: &Value) -> Result<Value, Error> {
    let bytes: Vec<u8> = match value.as_bytes() {
        Some(b) => b.to_vec(),
        None => value.to_string().into_bytes(),
    };
    Ok(Value::from_safe_string(base64(&bytes)))
}

/// `deb822`: a field value that may span lines (an inline armoured key):
/// continuation lines start with a space, empty ones are ` .`.
fn deb822_filter(value: &str) -> Result<Value, Error> {
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid("a deb822 field value holds a control character"));
    }
    let mut lines = value.trim_end_matches('\n').split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for l in lines {
        out.push_str("\n ");
        out.push_str(if l.trim().is_empty() { "." } else { l });
    }
    Ok(Value::from_safe_string(out))
}

/// `word`: a value that must be one word (FRR passwords, names).
fn word_filter(value: &str) -> Result<String, Error> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "this value must be a single word (no spaces, line breaks or control characters)",
        ));
    }
    Ok(value.to_string())
}

fn file_mode(state: &mut State, mode: &str) -> Result<Value, Error> {
    let m = u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| {
            invalid(format!(
                "file_mode({mode:?}): give an octal mode such as \"0600\""
            ))
        })?;
    state.get_or_insert_extension(RenderFlags::default()).mode = Some(m);
    Ok(Value::from_safe_string(String::new()))
}

fn family(addr: &str) -> &'static str {
    super::context::family(addr)
}

thread_local! {
    /// Whether the render running on this thread has read a secret's value.
    static SECRET_READ: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the start of one render on this thread (a render runs on the
/// thread that started it).
pub fn begin_render() {
    SECRET_READ.with(|c| c.set(false));
}

/// Records that the current render has read a secret's value another way
/// than `secret()`: the text of a file holding one (a node's `files`).
pub fn mark_secret_read() {
    SECRET_READ.with(|c| c.set(true));
}

/// Whether the current render has read a secret. Once it has, any value
/// the template computes may be derived from one (a slice, `upper`, a
/// reverse, an `include` or a `secret()` name built from it), so error
/// text carrying values is not shown: see [`WITHHELD`]. A value can only
/// be derived from a secret after one was read, so this is sound whatever
/// the template does with it.
pub fn secret_was_read() -> bool {
    SECRET_READ.with(|c| c.get())
}

/// What replaces the value-carrying part of a template error once the
/// render has read a secret.
pub const WITHHELD: &str =
    "details withheld: this render had read a secret, and they may quote a value derived from it";

/// What `secret()` records as the name of a missing secret whose name was
/// computed after a secret was read (it may be a secret's value).
pub const COMPUTED_NAME: &str = "\0computed";

/// The environment every template of a build runs in. Errors are the
/// templates that do not parse, by name.
pub fn environment(
    templates: &Templates,
    secrets: Arc<Secrets>,
    known_names: Arc<std::collections::BTreeSet<String>>,
) -> Result<Environment<'static>, Vec<(String, Error)>> {
    // Names a template may show when missing: the site's references and
    // every string literal in the templates (never derived from a value).
    let template_texts: Arc<Vec<String>> =
        Arc::new(templates.files().iter().map(|f| f.text.clone()).collect());
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Debug mode clones template state into every error; the diagnostics
    // here only need name, line and range, which are kept without it.
    env.set_debug(false);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build();
    match syntax {
        Ok(s) => env.set_syntax(s),
        Err(e) => return Err(vec![("<syntax>".to_string(), e)]),
    }
    let for_formatter = secrets.clone();
    env.set_formatter(move |out, state, value| formatter(&for_formatter, out, state, value));
    env.add_filter("yaml", yaml_filter);
    env.add_filter("to_yaml_str", yaml_filter);
    env.add_filter("b64", b64_filter);
    env.add_filter("deb822", deb822_filter);
    env.add_filter("word", word_filter);
    env.add_function("file_mode", file_mode);
    env.add_function("family", family);
    env.add_function(
        "secret",
        move |state: &mut State, name: Value| -> Result<Value, Error> {
            // A name, or a secret reference from `vars`.
            let name = match (name.downcast_object_ref::<SecretRef>(), name.as_str()) {
                (Some(r), _) => r.name.clone(),
                (None, Some(n)) if !n.is_empty() => n.to_string(),
                _ => {
                    return Err(invalid(
                        "secret() takes a secret's name (`secret(\"bgp/transit-a\")`, `secret(peer.password_secret)`) or a secret reference from vars (`secret(vars.NAME)`)",
                    ))
                }
            };
            let name = name.as_str();
            let spelled = |name: &str| {
                known_names.contains(name)
                    || template_texts.iter().any(|t| {
                        t.contains(&format!("\"{name}\"")) || t.contains(&format!("'{name}'"))
                    })
            };
            let nameable = !secret_was_read() || spelled(name);
            let flags = state.get_or_insert_extension(RenderFlags::default());
            match secrets.get(name) {
                Some(v) if has_control(&v) => Err(invalid(format!(
                    "secret `{name}` holds a line break or control character"
                ))),
                Some(v) => {
                    if nameable {
                        flags.resolved_secrets.insert(name.to_string());
                    }
                    flags.secret_used = true;
                    SECRET_READ.with(|c| c.set(true));
                    Ok(Value::from(v))
                }
                None => {
                    // Reported as SC0902 once the render is over; the render goes
                    // on so that every missing secret is named in one run. A
                    // name computed after a secret was read may be one's value:
                    // it is shown only if the site or a template spells it.
                    let shown = if !nameable {
                        COMPUTED_NAME
                    } else {
                        name
                    };
                    flags.missing_secrets.insert(shown.to_string());
                    Ok(Value::from("<unresolved-secret>"))
                }
            }
        },
    );
    let mut errors = Vec::new();
    for f in templates.files() {
        if let Err(e) = env.add_template_owned(f.name.clone(), f.text.clone()) {
            errors.push((f.name.clone(), e));
        }
    }
    super::site::register(&mut env);
    if errors.is_empty() {
        Ok(env)
    } else {
        Err(errors)
    }
}

/// Where a template failure happened, for grouping the same failure on many
/// nodes into one diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailureKey {
    pub code: Code,
    /// Index into [`Templates::files`] of the template the error is in.
    pub template: Option<usize>,
    pub range: Option<(usize, usize)>,
    pub line: Option<usize>,
    pub what: String,
}

/// A template failure as data: what went wrong where. Turned into a
/// diagnostic by [`failure_diagnostic`].
pub fn failure_key(templates: &Templates, fallback: &str, err: &Error) -> FailureKey {
    // The innermost minijinja error that knows where it happened (an error
    // in an included template is wrapped by the includer's).
    let mut best: &Error = err;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(m) = e.downcast_ref::<Error>() {
            if m.line().is_some() {
                best = m;
            }
        }
        cur = e.source();
    }
    let name = best.name().unwrap_or(fallback);
    let mut what = best.kind().to_string();
    if secret_was_read() {
        what = format!("{what} ({WITHHELD})");
    } else if let Some(d) = best.detail() {
        what = format!("{what}: {d}");
    }
    FailureKey {
        code: Code::TemplateError,
        template: templates.index_of(name),
        range: best.range().map(|r| (r.start, r.end)),
        line: best.line(),
        what,
    }
}

/// The diagnostic for a (possibly repeated) template failure. `base` is the
/// number of files the source map had before templates were added.
pub fn failure_diagnostic(
    templates: &Templates,
    base: usize,
    key: &FailureKey,
    subject: &str,
    others: usize,
    help: Option<String>,
) -> Diagnostic {
    let file = key
        .template
        .and_then(|i| templates.files().get(i).map(|f| (i, f)));
    let location = match (file, key.line) {
        (Some((_, f)), Some(line)) => format!("{}:{line}", f.display_path()),
        (Some((_, f)), None) => f.display_path(),
        (None, _) => "a template".to_string(),
    };
    // minijinja says only "undefined value": name what was undefined.
    let mut what = key.what.clone();
    if let (Some((_, f)), Some((s, e))) = (file, key.range) {
        let snippet = f.text.get(s..e).unwrap_or_default().trim();
        if what == "undefined value" && !snippet.is_empty() && !snippet.contains('\n') {
            what = format!("undefined value `{snippet}`");
        }
    }
    let also = match others {
        0 => String::new(),
        1 => " (and 1 more)".to_string(),
        n => format!(" (and {n} more)"),
    };
    let mut d = Diagnostic::error(
        key.code,
        format!("{location}: {what} while rendering {subject}{also}"),
    );
    if let Some((i, f)) = file {
        let span = match (key.range, key.line) {
            (Some((s, e)), _) => Some((s, e)),
            (None, Some(line)) => line_range(&f.text, line),
            _ => None,
        };
        if let Some((s, e)) = span {
            d = d.label(Span::new(Templates::file_id(base, i), s, e), "here");
        }
    }
    let help = help.or_else(|| match key.code {
        Code::TemplateError if key.what.starts_with("undefined value") => Some(
            "templates see only the documented context (node/switch views, `site`, and the loop variables of the file name); an undefined value is an error, never an empty string"
                .to_string(),
        ),
        _ => None,
    });
    if let Some(h) = help {
        d = d.help(h);
    }
    d
}

/// Byte range of 1-based line `line` in `text`.
fn line_range(text: &str, line: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return Some((start, start + l.trim_end_matches('\n').len()));
        }
        start += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(src: &str) -> Environment<'static> {
        let mut t = Templates::default();
        t.insert(TemplateFile {
            name: "t.j2".into(),
            text: src.into(),
            origin: TemplateOrigin::Builtin,
        });
        environment(&t, Arc::new(Secrets::none()), Default::default()).unwrap()
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn yaml_filter_quotes_and_escapes() {
        let env = env_with("{{ x | yaml }} {{ n | yaml }} {{ l | yaml }}");
        let out = env
            .get_template("t.j2")
            .unwrap()
            .render(minijinja::context! { x => "a: b\n- c", n => 5, l => vec!["x", "y"] })
            .unwrap();
        assert_eq!(out, r#""a: b\n- c" 5 ["x","y"]"#);
    }

    #[test]
    fn a_multi_line_value_cannot_be_injected() {
        let env = env_with("PermitRootLogin {{ v }}\n");
        let err = env
            .get_template("t.j2")
            .unwrap()
            .render(minijinja::context! { v => "no\nPasswordAuthentication yes" })
            .unwrap_err();
        assert!(err.to_string().contains("spans lines"), "{err}");
    }

    #[test]
    fn none_and_undefined_are_errors_not_empty_strings() {
        let env = env_with("a {{ v }}\n");
        let t = env.get_template("t.j2").unwrap();
        assert!(t.render(minijinja::context! { v => () }).is_err());
        assert_eq!(
            t.render(minijinja::context! {}).unwrap_err().kind(),
            ErrorKind::UndefinedError
        );
    }

    #[test]
    fn deb822_folds_lines() {
        assert_eq!(
            deb822_filter("-----BEGIN\n\nabc\n-----END\n")
                .unwrap()
                .as_str(),
            Some("-----BEGIN\n .\n abc\n -----END")
        );
    }

    #[test]
    fn word_refuses_spaces() {
        assert!(word_filter("a b").is_err());
        assert!(word_filter("").is_err());
        assert_eq!(word_filter("s3cr3t").unwrap(), "s3cr3t");
    }

    #[test]
    fn templates_nothing_renders_are_named_with_the_known_name() {
        let mut t = Templates::builtin();
        for name in [
            "nodes/hostname.j2",
            "hosts.j2",
            "site/notes.txt.j2",
            "site/inventory/host.yml.j2",
            "node/etc/netplan/50-siteconf.yml.j2",
            "node/_parts/x.j2",
            "node/hostname.j2",
            "site/dns/forward.zone.j2",
        ] {
            t.insert(TemplateFile {
                name: name.into(),
                text: "x\n".into(),
                origin: TemplateOrigin::Project(format!("templates/{name}")),
            });
        }
        t.ignored = vec![
            ("templates/node/etc/motd".into(), "node/etc/motd".into()),
            ("templates/README.md".into(), "README.md".into()),
            ("templates/.gitkeep".into(), ".gitkeep".into()),
        ];
        let found: Vec<(String, Option<String>)> = t
            .unused()
            .into_iter()
            .map(|d| {
                assert_eq!(d.code, Code::TemplateUnused);
                let path = d.message.split(':').next().unwrap_or_default().to_string();
                let hint = d.help.as_deref().and_then(|h| {
                    h.strip_prefix("did you mean `")
                        .and_then(|r| r.split('`').next())
                        .map(str::to_string)
                });
                (path, hint)
            })
            .collect();
        let want = |p: &str, h: Option<&str>| (p.to_string(), h.map(str::to_string));
        assert_eq!(
            found,
            vec![
                want("templates/node/etc/motd", Some("node/etc/motd.j2")),
                want("templates/hosts.j2", Some("node/hosts.j2")),
                want(
                    "templates/node/etc/netplan/50-siteconf.yml.j2",
                    Some("node/etc/netplan/50-siteconf.yaml.j2")
                ),
                want("templates/nodes/hostname.j2", Some("node/hostname.j2")),
                want(
                    "templates/site/inventory/host.yml.j2",
                    Some("site/inventory/hosts.yml.j2")
                ),
                want("templates/site/notes.txt.j2", None),
            ]
        );
    }

    #[test]
    fn only_a_changed_text_is_an_override() {
        let mut t = Templates::builtin();
        let name = "node/hostname.j2";
        let same = Templates::builtin_text(name).unwrap().to_string();
        t.insert(TemplateFile {
            name: name.into(),
            text: same,
            origin: TemplateOrigin::Project(format!("templates/{name}")),
        });
        assert!(!t.overridden(name));
        t.insert(TemplateFile {
            name: name.into(),
            text: "{{ node.fqdn }}\n".into(),
            origin: TemplateOrigin::Project(format!("templates/{name}")),
        });
        assert!(t.overridden(name));
        assert!(!t.overridden("node/hosts.j2"));
    }

    #[test]
    fn a_syntax_error_names_the_template() {
        let mut t = Templates::default();
        t.insert(TemplateFile {
            name: "node/x.j2".into(),
            text: "ok\n{% if %}\n".into(),
            origin: TemplateOrigin::Project("templates/node/x.j2".into()),
        });
        let errs = environment(&t, Arc::new(Secrets::none()), Default::default()).unwrap_err();
        assert_eq!(errs.len(), 1);
        let key = failure_key(&t, &errs[0].0, &errs[0].1);
        assert_eq!(key.line, Some(2));
        let d = failure_diagnostic(&t, 0, &key, "the templates", 0, None);
        assert!(
            d.message.starts_with("templates/node/x.j2:2: syntax error"),
            "{}",
            d.message
        );
        assert_eq!(d.code, Code::TemplateError);
    }
}
