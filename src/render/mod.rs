//! Rendering: the resolved site → an in-memory [`OutputSet`], with
//! minijinja templates (built-in defaults under `templates/`, overridable by
//! the project's own `templates/`), per node in parallel.
//!
//! [`render`] builds the template context once ([`context::site_view`]),
//! renders every node in one rayon `par_iter` (then every switch), then the
//! site-wide files ([`site::render_site`]), `site/fabric.json` and
//! `manifest.json`. Results are collected in site order and the set is a
//! `BTreeMap` by path, so the output is byte-identical whatever the number
//! of threads. Nothing is written here: see [`crate::output::write`].
//!
//! Failures are collected, not first-only, and the same failure on many
//! nodes (a broken template fails everywhere) is one diagnostic that names
//! the first node and counts the others.

pub mod context;
pub mod device;
pub mod engine;
pub mod fabric;
pub mod secrets;
pub mod site;

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value;
use rayon::prelude::*;

pub use crate::output::{Artifact, OutputSet};
pub use engine::Templates;
pub use secrets::Secrets;

use crate::check::Checked;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SecretSpec;
use crate::output::{manifest, path};
use crate::source::Source;
use crate::syntax::{SourceMap, Span};
use engine::FailureKey;

/// Called once per node or switch rendered (for a progress bar).
pub type Progress = Arc<dyn Fn() + Send + Sync>;

/// How to render.
#[derive(Clone, Default)]
pub struct RenderOptions {
    pub secrets: Secrets,
    pub progress: Option<Progress>,
}

/// A successful render.
#[derive(Debug)]
pub struct Rendered {
    pub set: OutputSet,
    pub nodes: usize,
    pub switches: usize,
}

/// A failed render: every diagnostic, and the source map to show them with
/// (the site's files plus the templates, which diagnostics point into).
#[derive(Debug)]
pub struct RenderFailure {
    pub diags: Vec<Diagnostic>,
    pub sources: SourceMap,
}

fn failure(diags: Vec<Diagnostic>, sources: SourceMap) -> RenderFailure {
    let mut d = Diagnostics::new();
    d.extend(diags);
    RenderFailure {
        diags: d.sorted(&sources),
        sources,
    }
}

/// Renders every artifact of a checked site. Refuses a site with errors.
pub fn render(
    checked: &Checked,
    src: &dyn Source,
    opts: &RenderOptions,
) -> Result<Rendered, RenderFailure> {
    let sources = &checked.loaded.sources;
    if checked.diags.has_errors() {
        return Err(failure(checked.diags.clone().into_vec(), sources.clone()));
    }
    let templates = Templates::load(src, &checked.loaded.config.templates_dir)
        .map_err(|d| failure(d, sources.clone()))?;
    let base = sources.files().count();
    let with_templates = || templates.extend_sources(sources);

    let env = engine::environment(&templates, Arc::new(opts.secrets.clone())).map_err(|errs| {
        let diags = errs
            .iter()
            .map(|(name, e)| {
                let key = engine::failure_key(&templates, name, e);
                engine::failure_diagnostic(&templates, base, &key, "the templates", 0, None)
            })
            .collect();
        failure(diags, with_templates())
    })?;
    let (plan, bad) = device::plan(&templates);
    if !bad.is_empty() {
        let diags = bad
            .into_iter()
            .map(|(name, why)| {
                let key = FailureKey {
                    code: Code::TemplateError,
                    template: templates.index_of(&name),
                    range: None,
                    line: None,
                    what: why,
                };
                engine::failure_diagnostic(&templates, base, &key, "the templates", 0, None)
            })
            .collect();
        return Err(failure(diags, with_templates()));
    }

    let site = Arc::new(context::site_view(
        &checked.loaded.site,
        &checked.loaded.index,
        &checked.resolved,
    ));
    let shared = device::Shared {
        env: &env,
        templates: &templates,
        plan: &plan,
        secrets: &opts.secrets,
        site: Value::from_object(device::SiteObject::new(site.clone())),
    };
    let tick = || {
        if let Some(p) = &opts.progress {
            p();
        }
    };
    // Site-wide files first: rendering them (the inventory above all)
    // builds large transient values, better freed before every node's
    // files are held in memory.
    let (site_files, site_diags) =
        site::render_site(&env, &site, &checked.loaded.config.secrets.env_prefix);
    // The one point where node rendering goes parallel; `collect` keeps
    // site order whatever thread rendered what.
    let nodes: Vec<device::DeviceOut> = site
        .nodes
        .par_iter()
        .map(|n| {
            let r = shared.node(n);
            tick();
            r
        })
        .collect();
    let switches: Vec<device::DeviceOut> = site
        .switches
        .par_iter()
        .map(|s| {
            let r = shared.switch(s);
            tick();
            r
        })
        .collect();

    // Collect: files into the set, failures grouped by what and where.
    let mut set = OutputSet::default();
    let mut diags: Vec<Diagnostic> = site_diags;
    let mut failures: BTreeMap<FailureKey, Failure> = BTreeMap::new();
    let subjects = site
        .nodes
        .iter()
        .map(|n| format!("node {}", n.name))
        .chain(site.switches.iter().map(|s| format!("switch {}", s.name)));
    for (out, subject) in nodes.into_iter().chain(switches).zip(subjects) {
        for (key, help, secret) in out.failures {
            failures
                .entry(key)
                .and_modify(|f| f.others += 1)
                .or_insert(Failure {
                    subject: subject.clone(),
                    others: 0,
                    help,
                    secret,
                });
        }
        for (mut a, secret) in out.files {
            // Marked before it joins the set: cloud-init files that embed
            // a file holding a secret hold it too (base64), and must be
            // marked as much as the file itself.
            a.secret |= secret;
            add(&mut set, a, &mut diags);
        }
    }
    for a in site_files {
        add(&mut set, a, &mut diags);
    }
    add(&mut set, fabric::fabric(&site), &mut diags);
    diags.extend(path::check_set(&set));

    if !failures.is_empty()
        || diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    {
        let secret_spans = secret_references(checked);
        for (key, f) in &failures {
            let mut d = engine::failure_diagnostic(
                &templates,
                base,
                key,
                &f.subject,
                f.others,
                f.help.clone(),
            );
            if let Some(span) = f.secret.as_ref().and_then(|s| secret_spans.get(s)) {
                d = d.label(*span, "the secret is referenced here");
            }
            diags.push(d);
        }
        scrub(&mut diags, &opts.secrets);
        return Err(failure(diags, with_templates()));
    }
    set.insert(manifest::manifest(&set));
    Ok(Rendered {
        set,
        nodes: site.nodes.len(),
        switches: site.switches.len(),
    })
}

struct Failure {
    subject: String,
    others: usize,
    help: Option<String>,
    secret: Option<String>,
}

/// Adds an artifact, refusing a second file at the same path.
fn add(set: &mut OutputSet, a: Artifact, diags: &mut Vec<Diagnostic>) {
    if let Some(prev) = set.files.get(&a.path) {
        diags.push(path::unsafe_path(
            &a.path,
            &format!(
                "two templates write this file (for {} and for {})",
                path::owner_text(&prev.owner),
                path::owner_text(&a.owner)
            ),
            "a path collision",
        ));
        return;
    }
    set.insert(a);
}

/// Where each secret name is first referenced in the site files: BGP
/// passwords, then secret references in `vars` (at the variable's key).
fn secret_references(checked: &Checked) -> BTreeMap<String, Span> {
    let mut m = BTreeMap::new();
    let site = &checked.loaded.site;
    for p in &site.bgp_peers {
        if let Some(pw) = &p.password {
            if let SecretSpec::Ref(name) = &pw.value {
                m.entry(name.clone()).or_insert(pw.span);
            }
        }
    }
    let vars = site
        .site
        .iter()
        .map(|s| &s.defaults.vars)
        .chain(site.profiles.iter().map(|p| &p.settings.vars))
        .chain(site.nodes.iter().map(|n| &n.settings.vars))
        .chain(site.switches.iter().map(|s| &s.vars))
        .chain(site.groups.iter().map(|g| &g.vars));
    for v in vars {
        for (value, span) in v.entries.values() {
            let mut names = Vec::new();
            crate::model::secret_refs(value, &mut names);
            for name in names {
                m.entry(name.to_string()).or_insert(*span);
            }
        }
    }
    m
}

/// Masks every secret value in the text of diagnostics. Nothing siteconf
/// writes into a message holds one; this is the last line of defence
/// against a template engine message that quotes a value it was given.
fn scrub(diags: &mut [Diagnostic], secrets: &Secrets) {
    let values: Vec<&str> = secrets.values().filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return;
    }
    let clean = |s: &mut String| {
        for v in &values {
            if s.contains(v) {
                *s = s.replace(v, "<secret>");
            }
        }
    };
    for d in diags {
        clean(&mut d.message);
        if let Some(h) = &mut d.help {
            clean(h);
        }
        for l in &mut d.labels {
            clean(&mut l.message);
        }
    }
}
