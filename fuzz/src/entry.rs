//! The entry point of every fuzz target, one function per target taking
//! the fuzzer's bytes. Each panics on a bug (a panic, or a broken
//! invariant checked here) and returns quietly otherwise.
//!
//! Shared by the fuzz targets (fuzz/fuzz_targets/*.rs, through the fuzz
//! crate's library) and by tests/fuzz_regressions.rs, which feeds every
//! saved crash to the same function; both include this file with `#[path]`
//! and declare `support` and `reference` (tests/kdl_support) at their crate
//! root for [`kdl_differential`].

use std::sync::{Arc, OnceLock};

use minijinja::Value;
use siteconf::check::{check, Checked};
use siteconf::diag::{render_human, render_json, Code, ColorChoice, Diagnostic};
use siteconf::render::context::{site_view, SiteView};
use siteconf::render::device::{self, Shared};
use siteconf::render::engine::{self, FailureKey, TemplateFile, TemplateOrigin, Templates};
use siteconf::render::{site as site_render, RenderOptions, Secrets};
use siteconf::source::MemSource;
use siteconf::state::input::{self, InputProblem, Observed, ParseProblem};
use siteconf::syntax::{self, Document, FileId, Format, Node, SourceMap, Span};

/// A target's entry point.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression test and the corpus tools.
pub const TARGETS: &[(&str, Target)] = &[
    ("kdl_parse", kdl_parse),
    ("kdl_differential", kdl_differential),
    ("toml_parse", toml_parse),
    ("lock_parse", lock_parse),
    ("config_parse", config_parse),
    ("check_site", check_site),
    ("template", template),
    ("state_lldp", state_lldp),
    ("state_facts", state_facts),
    ("state_leases", state_leases),
    ("state_bgp", state_bgp),
];

// ---- invariants -----------------------------------------------------------

/// A span of file `file` must lie inside `text` on character boundaries
/// (diagnostics slice the text with it), unless it is the built-in span.
fn check_span(text: &str, file: FileId, span: Span, what: &str) {
    if span.is_builtin() {
        return;
    }
    let (s, e) = (span.start as usize, span.end as usize);
    assert_eq!(span.file, file, "{what}: span of another file");
    assert!(
        s <= e && e <= text.len(),
        "{what}: span {s}..{e} outside the text (len {})",
        text.len()
    );
    assert!(
        text.is_char_boundary(s) && text.is_char_boundary(e),
        "{what}: span {s}..{e} not on character boundaries"
    );
}

fn check_node(text: &str, file: FileId, n: &Node) {
    check_span(text, file, n.span, "node");
    check_span(text, file, n.name.span, "node name");
    if let Some(t) = &n.ty {
        check_span(text, file, t.span, "type annotation");
    }
    for v in n.args.iter().chain(n.props.iter().map(|(_, v)| v)) {
        check_span(text, file, v.span, "value");
        if let Some(t) = &v.ty {
            check_span(text, file, t.span, "value type annotation");
        }
    }
    for (k, _) in &n.props {
        check_span(text, file, k.span, "property key");
    }
    for c in n.children() {
        check_node(text, file, c);
    }
}

fn check_document(text: &str, file: FileId, doc: &Document) {
    for n in &doc.nodes {
        check_node(text, file, n);
    }
}

/// Renders diagnostics the way the CLI does (human and JSON): this slices
/// the sources with every label's span.
fn show(diags: &[Diagnostic], sources: &SourceMap) {
    let _ = render_human(diags, sources, ColorChoice::Never);
    let _ = render_json(diags, sources);
}

// ---- syntax ---------------------------------------------------------------

/// The KDL parser: no panic, no stack overflow, every span in bounds.
pub fn kdl_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = FileId(0);
    match syntax::kdl::parse(file, text) {
        Ok(doc) => check_document(text, file, &doc),
        Err(errors) => {
            assert!(!errors.is_empty(), "rejected without an error");
            for e in &errors {
                check_span(text, file, e.span, "syntax error");
            }
        }
    }
}

/// The KDL parser against the `kdl` crate: same accept/reject, same tree
/// (see tests/kdl_support/reference.rs for what is compared and the known
/// deviations of the crate).
pub fn kdl_differential(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = crate::reference::compare(text) {
        panic!("{e}");
    }
}

/// The TOML path (the `toml` crate's parser, then our conversion into a
/// document): no panic, every span in bounds.
pub fn toml_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = FileId(0);
    let (doc, errors) = syntax::parse(Format::Toml, file, text);
    check_document(text, file, &doc);
    for e in &errors {
        check_span(text, file, e.span, "syntax error");
    }
}

/// The strict lock reader: no panic; every diagnostic's span inside the
/// text; a lock read without findings is written back (`to_text`) as a
/// lock that reads the same entries without findings; and the secret
/// scanner's ranges (run on the same bytes as KDL and as TOML) lie on
/// character boundaries, within one line.
pub fn lock_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = FileId(0);
    let mut diags = siteconf::diag::Diagnostics::new();
    let lock = siteconf::resolve::Lock::parse(file, text, &mut diags);
    for d in diags.iter() {
        for l in &d.labels {
            check_span(text, file, l.span, "lock diagnostic");
        }
    }
    let mut sources = SourceMap::default();
    sources.add(syntax::SourceFile::new("siteconf.lock", text));
    let clean = diags.is_empty();
    let list = diags.sorted(&sources);
    show(&list, &sources);
    if clean {
        let again_text = lock.to_text();
        let mut again_diags = siteconf::diag::Diagnostics::new();
        let again = siteconf::resolve::Lock::parse(file, &again_text, &mut again_diags);
        assert!(
            again_diags.is_empty(),
            "a lock written from a clean one has findings: {:?}",
            again_diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        assert_eq!(again, lock, "the lock changed through to_text");
    }
    for format in [Format::Kdl, Format::Toml] {
        for syntax::redact::Masked {
            start: s, end: e, ..
        } in syntax::redact::secret_ranges(format, text)
        {
            assert!(
                s <= e && e <= text.len(),
                "redaction range {s}..{e} outside the text"
            );
            assert!(
                text.is_char_boundary(s) && text.is_char_boundary(e),
                "redaction range {s}..{e} not on character boundaries"
            );
            assert!(
                !text[s..e].contains('\n'),
                "redaction range {s}..{e} spans a line break"
            );
        }
    }
}

/// `siteconf.toml`: read as every command reads it (`project::read_config`
/// from an in-memory project): no panic, its diagnostics render, and
/// `site-dir`/`templates-dir` that come out are inside the project.
pub fn config_parse(data: &[u8]) {
    let src = MemSource::new().with("siteconf.toml", data.to_vec());
    let mut sources = SourceMap::default();
    let mut diags = siteconf::diag::Diagnostics::new();
    let config = siteconf::project::read_config(&src, &mut sources, &mut diags);
    for dir in [&config.site_dir, &config.templates_dir] {
        assert!(
            dir == siteconf::project::REFUSED_DIR
                || siteconf::source::fs::inside_components(dir).is_some(),
            "a directory outside the project was accepted: {dir:?}"
        );
    }
    let list = diags.sorted(&sources);
    show(&list, &sources);
}

// ---- the whole check --------------------------------------------------------

/// A whole project from one input: the first byte picks the site file's
/// format (`T` TOML, anything else KDL), the rest up to the first NUL byte
/// is the site file, what follows the NUL is `siteconf.lock`. The whole
/// check runs (parse, lower, validate, resolve, validate), its diagnostics
/// are rendered, and a site without errors is rendered too.
pub fn check_site(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let path = if kind == b'T' {
        "site/a.toml"
    } else {
        "site/a.kdl"
    };
    let (site, lock) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut src = MemSource::new().with(path, site.to_vec());
    if let Some(lock) = lock {
        src.insert("siteconf.lock", lock.to_vec());
    }
    let c = check(&src);
    let has_errors = c.diags.has_errors();
    let list = c.diags.clone().sorted(&c.loaded.sources);
    show(&list, &c.loaded.sources);
    if !has_errors {
        if let Err(f) = siteconf::render::render(&c, &src, &RenderOptions::default()) {
            show(&f.diags, &f.sources);
        }
    }
}

// ---- the example site -------------------------------------------------------

/// The example site, checked once (templates and state are fuzzed against
/// it).
pub struct Example {
    pub checked: Checked,
    pub view: Arc<SiteView>,
}

const EXAMPLE_FILES: &[(&str, &str)] = &[
    ("siteconf.toml", include_str!("../../siteconf.toml")),
    ("siteconf.lock", include_str!("../../siteconf.lock")),
    ("site/site.kdl", include_str!("../../site/site.kdl")),
    ("site/networks.kdl", include_str!("../../site/networks.kdl")),
    ("site/profiles.kdl", include_str!("../../site/profiles.kdl")),
    ("site/groups.kdl", include_str!("../../site/groups.kdl")),
    (
        "site/bgp-peers.kdl",
        include_str!("../../site/bgp-peers.kdl"),
    ),
    (
        "site/racks/r01.kdl",
        include_str!("../../site/racks/r01.kdl"),
    ),
    (
        "site/racks/r02.kdl",
        include_str!("../../site/racks/r02.kdl"),
    ),
    (
        "site/racks/r03.kdl",
        include_str!("../../site/racks/r03.kdl"),
    ),
    (
        "site/racks/r04.kdl",
        include_str!("../../site/racks/r04.kdl"),
    ),
];

pub fn example() -> &'static Example {
    static EXAMPLE: OnceLock<Example> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let mut src = MemSource::new();
        for (p, t) in EXAMPLE_FILES {
            src.insert(*p, t.as_bytes().to_vec());
        }
        let checked = check(&src);
        assert!(
            !checked.diags.has_errors(),
            "the example site has errors: {:?}",
            checked.diags
        );
        let view = Arc::new(site_view(&checked.effective()));
        assert!(!view.nodes.is_empty() && !view.switches.is_empty());
        Example { checked, view }
    })
}

// ---- templates --------------------------------------------------------------

/// A user template rendered against the example site. The first byte picks
/// which template the rest replaces: one of the built-in templates (by index
/// in name order), or past their end a new node template. The template set
/// is compiled as a build does; a template that does not compile must give
/// a diagnostic. Then one node and one switch are rendered (and the
/// site-wide files when a `site/` template or a macro file changed); every
/// failure becomes a diagnostic, which is rendered.
pub fn template(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let ex = example();
    let mut templates = Templates::builtin();
    let names: Vec<String> = templates.files().iter().map(|f| f.name.clone()).collect();
    let name = names
        .get(pick as usize)
        .cloned()
        .unwrap_or_else(|| "node/fuzz.j2".to_string());
    templates.insert(TemplateFile {
        name: name.clone(),
        text: text.to_string(),
        origin: TemplateOrigin::Project(format!("templates/{name}")),
    });
    let sources = &ex.checked.loaded.sources;
    let base = sources.files().count();
    let all = templates.extend_sources(sources);
    let diag = |key: &FailureKey, subject: &str| {
        engine::failure_diagnostic(&templates, base, key, subject, 0, None)
    };

    let secrets = Secrets::default();
    let env = match engine::environment(&templates, Arc::new(secrets.clone()), Default::default()) {
        Ok(env) => env,
        Err(errors) => {
            assert!(!errors.is_empty());
            let diags: Vec<Diagnostic> = errors
                .iter()
                .map(|(n, e)| diag(&engine::failure_key(&templates, n, e), "the templates"))
                .collect();
            show(&diags, &all);
            return;
        }
    };
    let (plan, bad) = device::plan(&templates);
    if !bad.is_empty() {
        let diags: Vec<Diagnostic> = bad
            .into_iter()
            .map(|(n, what)| {
                let key = FailureKey {
                    code: Code::TemplateError,
                    template: templates.index_of(&n),
                    range: None,
                    line: None,
                    what,
                };
                diag(&key, "the templates")
            })
            .collect();
        show(&diags, &all);
        return;
    }
    let shared = Shared {
        env: &env,
        templates: &templates,
        plan: &plan,
        secrets: &secrets,
        site: Value::from_object(device::SiteObject::new(ex.view.clone())),
    };
    let mut diags = Vec::new();
    if name.starts_with("node/") || name.contains("/_") {
        let out = shared.node(&ex.view.nodes[0]);
        diags.extend(out.failures.iter().map(|(k, _, _)| diag(k, "node")));
    }
    if name.starts_with("switch/") || name.contains("/_") {
        let out = shared.switch(&ex.view.switches[0]);
        diags.extend(out.failures.iter().map(|(k, _, _)| diag(k, "switch")));
    }
    if name.starts_with("site/") {
        let (_, d) = site_render::render_site(&env, &ex.view, "SITECONF_SECRET_");
        diags.extend(d);
    }
    show(&diags, &all);
}

// ---- observed state -----------------------------------------------------------

/// Problems of one parsed file as the state command reports them (see
/// `state::input::read`).
fn problems(path: &str, text: &str, found: Vec<ParseProblem>, fatal: bool) -> Vec<InputProblem> {
    found
        .into_iter()
        .map(|p| {
            if let Some((s, e)) = p.range {
                assert!(
                    s <= e
                        && e <= text.len()
                        && text.is_char_boundary(s)
                        && text.is_char_boundary(e),
                    "problem range {s}..{e} outside the text or not on character boundaries"
                );
            }
            InputProblem {
                path: path.to_string(),
                message: p.message,
                text: p.range.map(|_| text.to_string()),
                range: p.range,
                fatal,
                truncated: false,
            }
        })
        .collect()
}

/// Compares what was observed with the example site and renders the
/// findings, as `siteconf state` does.
fn compare(observed: &Observed) {
    let ex = example();
    let report = siteconf::state::run(&ex.checked.loaded, &ex.checked.effective(), &[], observed);
    let _ = report.summary();
    // Only the input's own problems point into the fuzzed text; rendering
    // the findings about the rest of the fleet (the same on every run)
    // would only slow the fuzzer down.
    let input: Vec<Diagnostic> = report
        .diagnostics()
        .into_iter()
        .filter(|d| d.code == Code::StateInput)
        .collect();
    show(&input, &report.sources);
}

/// The host the fuzzed per-host files describe: a node of the example site.
fn host() -> &'static str {
    &example().view.nodes[0].name
}

/// An LLDP dump (`lldpctl -f json`) of a node of the example site.
pub fn state_lldp(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = "lldp/host.json";
    let (dump, found) = input::lldp::parse(host(), path, text);
    let obs = Observed {
        problems: problems(path, text, found, dump.is_none()),
        lldp: dump.into_iter().collect(),
        ..Observed::default()
    };
    compare(&obs);
}

/// An Ansible fact cache file of a node of the example site.
pub fn state_facts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = "facts/host";
    let (facts, found) = input::facts::parse(host(), path, text);
    let obs = Observed {
        problems: problems(path, text, found, facts.is_none()),
        facts: facts.into_iter().collect(),
        ..Observed::default()
    };
    compare(&obs);
}

/// A Kea lease file (CSV) against the example site.
pub fn state_leases(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = "kea-leases4.csv";
    let parsed = input::leases::parse(path, text);
    let obs = Observed {
        problems: problems(path, text, parsed.problems, parsed.fatal),
        leases: parsed.leases,
        leases_path: Some(path.to_string()),
        ..Observed::default()
    };
    compare(&obs);
}

/// An FRR `show bgp summary json` of a node of the example site.
pub fn state_bgp(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = "bgp/host.json";
    let (summary, found) = input::bgp::parse(host(), path, text);
    let obs = Observed {
        problems: problems(path, text, found, summary.is_none()),
        bgp: summary.into_iter().collect(),
        ..Observed::default()
    };
    compare(&obs);
}
