//! The `[gate]` policy of siteconf.toml: its schema, parsing and checks.
//! `docs/review.md` documents every key with an example.
//!
//! ```toml
//! [gate]
//! max-nodes = 200             # nodes whose artifacts change (added, removed, changed)
//! max-nodes-percent = 10.0    # … as a share of base's fleet (nodes added do not count)
//! max-nodes-per-rack = 40
//! max-nodes-per-role = 100
//! role-limits = { storage = 5 }   # per-role limits that replace max-nodes-per-role
//! max-switches = 4
//! max-renumbered-nodes = 0    # nodes whose allocated values change (the default: 0)
//! approvers = ["sre-leads"]   # who may approve going over the limits above
//!
//! [[gate.owners]]             # CODEOWNERS-like: changed inputs or artifacts need an owner's approval
//! paths = ["site/bgp-peers.kdl", "templates/**"]
//! owners = ["netops"]
//!
//! [[gate.rules]]
//! name = "bgp-session-removed"
//! on = "bgp-session-removed"
//! approvers = ["netops"]
//!
//! [[gate.rules]]
//! name = "wide-sshd-change"
//! kinds = ["sshd"]            # on = "artifact-changed" is the default
//! more-than = 20              # fires when more than 20 devices are affected
//! approvers = ["security"]
//! ```
//!
//! Parsing errors and semantic mistakes (a bad glob, a rule nobody can
//! approve) are SC0008 diagnostics pointing into siteconf.toml, and
//! `siteconf check` reports them too, so a broken policy is caught before
//! it is merged and starts blocking every merge request.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::project::{Config, CONFIG_FILE};
use crate::syntax::{SourceMap, Span};

/// The policy as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    pub max_nodes: Option<usize>,
    pub max_nodes_percent: Option<f64>,
    pub max_nodes_per_rack: Option<usize>,
    pub max_nodes_per_role: Option<usize>,
    pub role_limits: BTreeMap<String, usize>,
    pub max_switches: Option<usize>,
    /// Devices whose allocated values (addresses, ASN, loopback) change:
    /// renumbered machines. Unlike the limits above it applies when unset,
    /// as 0: siteconf promises never to renumber a machine, so doing it
    /// takes an approval (or a limit raised in base's policy first).
    pub max_renumbered_nodes: Option<usize>,
    /// Who may approve a change over the limits above.
    pub approvers: Vec<String>,
    pub owners: Vec<OwnersRule>,
    pub rules: Vec<Rule>,
}

/// A protected set of input paths and/or rendered artifacts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OwnersRule {
    /// A name for reports (default: the first pattern).
    #[serde(default)]
    pub name: Option<String>,
    /// Globs over input files relative to the project root
    /// (`site/bgp-peers.kdl`, `templates/**`, `siteconf.toml`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Globs over rendered artifact paths (`switches/*/etc/frr/frr.conf`).
    #[serde(default)]
    pub artifacts: Vec<String>,
    pub owners: Vec<String>,
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// Artifacts added, removed or changed (the default).
    #[default]
    ArtifactChanged,
    ArtifactAdded,
    ArtifactRemoved,
    BgpSessionAdded,
    BgpSessionRemoved,
    /// An external peer's session whose remote ASN changes.
    BgpSessionChanged,
    NodeAdded,
    NodeRemoved,
    /// Lock values released or dropped.
    AllocationReleased,
    /// An Ansible inventory group removed or renamed: plays that name it
    /// match no host.
    InventoryGroupRemoved,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ArtifactChanged => "artifact-changed",
            Event::ArtifactAdded => "artifact-added",
            Event::ArtifactRemoved => "artifact-removed",
            Event::BgpSessionAdded => "bgp-session-added",
            Event::BgpSessionRemoved => "bgp-session-removed",
            Event::BgpSessionChanged => "bgp-session-changed",
            Event::NodeAdded => "node-added",
            Event::NodeRemoved => "node-removed",
            Event::AllocationReleased => "allocation-released",
            Event::InventoryGroupRemoved => "inventory-group-removed",
        }
    }
    pub fn is_artifact(self) -> bool {
        matches!(
            self,
            Event::ArtifactChanged | Event::ArtifactAdded | Event::ArtifactRemoved
        )
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub on: Event,
    /// Artifact kinds (`sshd`, `frr` …); artifact events only.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Globs over artifact paths; artifact events only.
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Globs over device names (either end of a BGP session).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Node roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The rule fires when more than this many things match: devices for
    /// artifact events, sessions, nodes or allocations otherwise.
    #[serde(default)]
    pub more_than: usize,
    pub approvers: Vec<String>,
}

/// A policy ready to evaluate: globs compiled.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub policy: Policy,
    pub owners: Vec<CompiledOwners>,
    pub rules: Vec<CompiledRule>,
}

#[derive(Debug, Clone)]
pub struct CompiledOwners {
    pub name: String,
    pub paths: Vec<GlobMatcher>,
    pub artifacts: Vec<GlobMatcher>,
    pub owners: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    pub artifacts: Vec<GlobMatcher>,
    pub nodes: Vec<GlobMatcher>,
}

/// A path glob: `*` stays within one directory, `**` crosses them, as in
/// CODEOWNERS and .gitignore.
fn path_glob(p: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(p)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

fn name_glob(p: &str) -> Result<GlobMatcher, String> {
    Glob::new(p)
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

/// The byte range of `needle` in siteconf.toml's text at or after the
/// `[gate` tables, for labels on semantic errors (the table handed to us
/// has no spans).
fn locate(sources: &SourceMap, needle: &str) -> Option<Span> {
    let (id, file) = sources.files().find(|(_, f)| f.path == CONFIG_FILE)?;
    let text = file.text.as_str();
    let from = text.find("[gate").unwrap_or(0);
    let at = text[from..]
        .find(needle)
        .map(|i| i + from)
        .or_else(|| text.find(needle))?;
    Some(Span::new(id, at, at + needle.len()))
}

fn diag(sources: &SourceMap, message: String, needle: &str, help: &str) -> Diagnostic {
    let mut d = Diagnostic::error(Code::ProjectConfig, message).help(help.to_string());
    if let Some(span) = locate(sources, needle) {
        d = d.label(span, "here");
    }
    d
}

/// Parses and checks the `[gate]` table of `config`. `sources` holds
/// siteconf.toml's text, used to place errors; an absent `[gate]` is the
/// empty policy, which lets everything pass but a renumbering.
pub fn from_config(config: &Config, sources: &SourceMap) -> Result<Compiled, Diagnostics> {
    let mut diags = Diagnostics::new();
    let policy: Policy = match toml::Value::Table(config.gate.clone()).try_into() {
        Ok(p) => p,
        Err(e) => {
            diags.push(parse_error(sources, &e));
            return Err(diags);
        }
    };
    let mut compiled = Compiled {
        policy: policy.clone(),
        ..Compiled::default()
    };
    if let Some(p) = policy.max_nodes_percent {
        if !(p > 0.0 && p <= 100.0) {
            diags.push(diag(
                sources,
                format!("gate.max-nodes-percent is {p}; it must be more than 0 and at most 100"),
                "max-nodes-percent",
                "write a percentage of the fleet, e.g. `max-nodes-percent = 10.0`",
            ));
        }
    }
    // Limits without approvers are hard limits: "split the change".
    check_names(
        sources,
        &mut diags,
        "gate.approvers",
        &policy.approvers,
        false,
    );
    for (i, o) in policy.owners.iter().enumerate() {
        let what = format!("gate.owners[{i}]");
        if o.paths.is_empty() && o.artifacts.is_empty() {
            diags.push(diag(
                sources,
                format!("{what} protects nothing: it has neither `paths` nor `artifacts`"),
                "[[gate.owners]]",
                "add `paths = [\"site/bgp-peers.kdl\"]` or `artifacts = [\"switches/*/etc/frr/frr.conf\"]`",
            ));
        }
        check_names(
            sources,
            &mut diags,
            &format!("{what}.owners"),
            &o.owners,
            true,
        );
        let mut paths = Vec::new();
        for p in &o.paths {
            match path_glob(p) {
                Ok(g) => paths.push(g),
                Err(e) => diags.push(bad_glob(sources, &format!("{what}.paths"), p, &e)),
            }
        }
        let mut artifacts = Vec::new();
        for p in &o.artifacts {
            match path_glob(p) {
                Ok(g) => artifacts.push(g),
                Err(e) => diags.push(bad_glob(sources, &format!("{what}.artifacts"), p, &e)),
            }
        }
        compiled.owners.push(CompiledOwners {
            name: o
                .name
                .clone()
                .or_else(|| o.paths.first().or(o.artifacts.first()).cloned())
                .unwrap_or_else(|| what.clone()),
            paths,
            artifacts,
            owners: o.owners.clone(),
        });
    }
    let mut seen = BTreeMap::new();
    for (i, r) in policy.rules.iter().enumerate() {
        let what = format!("gate.rules[{i}] `{}`", r.name);
        if r.name.trim().is_empty() {
            diags.push(diag(
                sources,
                format!("gate.rules[{i}] has an empty name"),
                "[[gate.rules]]",
                "name the rule: reports say which rule fired by its name",
            ));
        } else if let Some(first) = seen.insert(r.name.clone(), i) {
            diags.push(diag(
                sources,
                format!(
                    "gate.rules[{i}] has the same name as gate.rules[{first}]: `{}`",
                    r.name
                ),
                &format!("\"{}\"", r.name),
                "give every rule its own name",
            ));
        }
        check_names(
            sources,
            &mut diags,
            &format!("{what}.approvers"),
            &r.approvers,
            true,
        );
        if !r.on.is_artifact() && (!r.kinds.is_empty() || !r.artifacts.is_empty()) {
            diags.push(diag(
                sources,
                format!(
                    "{what}: `kinds` and `artifacts` apply to artifact events, not to `{}`",
                    r.on.as_str()
                ),
                &format!("\"{}\"", r.name),
                "remove them, or use `on = \"artifact-changed\"`",
            ));
        }
        for k in &r.kinds {
            if !crate::render::ARTIFACT_KINDS.contains(&k.as_str()) {
                let near =
                    crate::diag::did_you_mean(k, crate::render::ARTIFACT_KINDS.iter().copied())
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                diags.push(diag(
                    sources,
                    format!("{what}.kinds: no artifact has the kind `{k}`, so the rule could never fire{near}"),
                    &format!("\"{k}\""),
                    &format!("artifact kinds are {}", crate::render::ARTIFACT_KINDS.join(", ")),
                ));
            }
        }
        let mut artifacts = Vec::new();
        for p in &r.artifacts {
            match path_glob(p) {
                Ok(g) => artifacts.push(g),
                Err(e) => diags.push(bad_glob(sources, &format!("{what}.artifacts"), p, &e)),
            }
        }
        let mut nodes = Vec::new();
        for p in &r.nodes {
            match name_glob(p) {
                Ok(g) => nodes.push(g),
                Err(e) => diags.push(bad_glob(sources, &format!("{what}.nodes"), p, &e)),
            }
        }
        compiled.rules.push(CompiledRule {
            rule: r.clone(),
            artifacts,
            nodes,
        });
    }
    if diags.is_empty() {
        Ok(compiled)
    } else {
        Err(diags)
    }
}

/// What a policy's patterns can be compared with: the project as checked.
pub struct Project<'a> {
    /// Every input file ([`crate::project::input_paths`]).
    pub inputs: &'a [String],
    /// Globs of the inputs that could be added: everything under the site
    /// (and shared) directories and the templates directory, each site's
    /// lock file.
    pub possible_inputs: Vec<String>,
    /// The sites checked.
    pub sites: Vec<&'a crate::model::Site>,
    /// The sites' names when the project declares several: their artifacts
    /// are `<site>/…`, and a bootinfra's `bootinfra/<name>/…`. Empty for a
    /// project of one site.
    pub site_names: Vec<String>,
    /// The templates a build renders (what device files exist).
    pub templates: &'a crate::render::engine::Templates,
}

/// Warnings (SC0056) for what a valid policy names that cannot occur: a
/// `paths` pattern no input file could match (now or once added: it
/// matches nothing under the site or templates directory, the lock or
/// siteconf.toml), an `artifacts` pattern no artifact could match (for any
/// device, rack, repository or user: the layout of the output, not
/// today's fleet), a role no node has that is a near miss of one that
/// does (`storgae`), a `nodes` pattern no device name matches. Each is a
/// rule that never fires, so the gate passes exactly the change it was
/// written to stop. A pattern or role written ahead of the fleet (an
/// owners entry for `templates/**` before the first override, a limit for
/// `storage` before the first storage node) is quiet.
pub fn unmatched(c: &Compiled, project: &Project, sources: &SourceMap) -> Vec<Diagnostic> {
    use super::meet::{escape, Nfa};
    let mut out = Vec::new();
    let warn = |message: String, needle: &str, help: String| {
        let mut d = Diagnostic::warning(Code::GateMatchesNothing, message).help(help);
        if let Some(span) = locate(sources, needle) {
            d = d.label(span, "matches nothing");
        }
        d
    };
    let roles: std::collections::BTreeSet<&str> = project
        .sites
        .iter()
        .flat_map(|s| s.nodes.iter().filter_map(|n| n.role.as_ref()))
        .map(|r| r.value.as_str())
        .collect();
    let devices = || {
        project.sites.iter().flat_map(|s| {
            let nodes = s.nodes.iter().map(|n| n.name.value.as_str());
            nodes.chain(s.switches.iter().map(|w| w.name.value.as_str()))
        })
    };
    // A role no node has yet is fine (a policy written ahead of the
    // fleet); one a typo away from a role that exists is a mistake.
    let near_role = |role: &str| -> Option<&str> {
        if roles.contains(role) {
            return None;
        }
        roles
            .iter()
            .copied()
            .filter(|r| strsim::osa_distance(role, r) <= 2)
            .min_by_key(|r| strsim::osa_distance(role, r))
    };
    let compile = |globs: &[String]| -> Vec<Nfa> { globs.iter().map(|g| Nfa::new(g)).collect() };
    let inputs = compile(
        &project
            .inputs
            .iter()
            .map(|i| escape(i))
            .chain(project.possible_inputs.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let artifacts = compile(&artifact_shapes(project));
    let can = |shapes: &[Nfa], p: &str| {
        let g = Nfa::new(p);
        shapes.iter().any(|s| g.meets(s))
    };
    let input_help = format!(
        "paths are relative to the project root and match its inputs: siteconf.toml, the lock file and anything under {}; `*` stays within a directory, `**` crosses them",
        project
            .possible_inputs
            .iter()
            .filter_map(|p| p.strip_suffix("/**"))
            .map(|d| format!("`{d}/`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (i, o) in c.policy.owners.iter().enumerate() {
        let what = format!("gate.owners[{i}]");
        for p in &o.paths {
            if !can(&inputs, p) {
                out.push(warn(
                    format!("{what}.paths: `{p}` can match no input file of the project, so it protects nothing"),
                    &format!("\"{p}\""),
                    input_help.clone(),
                ));
            }
        }
        for p in &o.artifacts {
            if !can(&artifacts, p) {
                out.push(warn(
                    format!("{what}.artifacts: `{p}` can match no artifact this project renders, so it protects nothing"),
                    &format!("\"{p}\""),
                    artifact_help(project),
                ));
            }
        }
    }
    for r in &c.rules {
        let what = format!("gate.rules `{}`", r.rule.name);
        for role in &r.rule.roles {
            if let Some(near) = near_role(role) {
                out.push(warn(
                    format!(
                        "{what}: no node has the role `{role}`, so the rule never fires for it"
                    ),
                    &format!("\"{role}\""),
                    format!("did you mean `{near}`?"),
                ));
            }
        }
        for (p, g) in r.rule.nodes.iter().zip(&r.nodes) {
            if !devices().any(|d| g.is_match(d)) {
                out.push(warn(
                    format!("{what}.nodes: `{p}` matches no node or switch name, so the rule never fires for it"),
                    &format!("\"{p}\""),
                    "`nodes` matches device names as declared (`r01n01`, `r01-tor1`), not FQDNs".into(),
                ));
            }
        }
        for p in &r.rule.artifacts {
            if !can(&artifacts, p) {
                out.push(warn(
                    format!("{what}.artifacts: `{p}` can match no artifact this project renders, so the rule never fires"),
                    &format!("\"{p}\""),
                    artifact_help(project),
                ));
            }
        }
    }
    for role in c.policy.role_limits.keys() {
        if let Some(near) = near_role(role) {
            out.push(warn(
                format!(
                    "gate.role-limits: no node has the role `{role}`, so its limit never applies"
                ),
                role,
                format!("did you mean `{near}`?"),
            ));
        }
    }
    out
}

/// Site-wide files whose names are fixed.
const SITE_FILES: &[&str] = &[
    "manifest.json",
    "site/fabric.json",
    "site/inventory/hosts.yml",
    "site/dhcp/kea-dhcp4.json",
    "site/boot/nginx.conf",
    "site/boot/ipxe/unknown.ipxe",
    "site/racks/index.html",
];

/// Site-wide files whose names come from data: racks, hosts, zones, iPXE
/// scripts by MAC, group variables.
const SITE_SHAPES: &[&str] = &[
    "site/racks/*.svg",
    "site/inventory/host_vars/*.yml",
    "site/dns/**",
    "site/boot/ipxe/**",
    "site/inventory/group_vars/**",
];

/// Globs of every artifact path a build of the project could write, for
/// any device, rack, repository or user: each device file of the
/// templates under `nodes/*/` or `switches/*/`, the site-wide files, all
/// below `<site>/` in a project of several sites, plus anything a
/// bootinfra writes (`bootinfra/*/**`).
fn artifact_shapes(project: &Project) -> Vec<String> {
    use super::meet::escape;
    let (plan, _) = crate::render::device::plan(project.templates);
    let rel = |e: &crate::render::device::Entry| {
        escape(&e.rel)
            .replace("\\{repo\\}", "*")
            .replace("\\{user\\}", "*")
    };
    let mut shapes: Vec<String> = SITE_FILES.iter().map(|f| escape(f)).collect();
    shapes.extend(SITE_SHAPES.iter().map(|s| s.to_string()));
    shapes.extend(
        plan.node
            .iter()
            .chain(&plan.node_late)
            .map(|e| format!("nodes/*/{}", rel(e))),
    );
    shapes.extend(plan.switch.iter().map(|e| format!("switches/*/{}", rel(e))));
    if project.site_names.is_empty() {
        return shapes;
    }
    let mut all: Vec<String> = project
        .site_names
        .iter()
        .flat_map(|site| shapes.iter().map(move |s| format!("{}/{s}", escape(site))))
        .collect();
    all.push("bootinfra/*/**".into());
    all
}

fn artifact_help(project: &Project) -> String {
    let prefix = match project.site_names.first() {
        Some(s) => format!("{s}/"),
        None => String::new(),
    };
    format!("artifact paths are relative to the output directory, e.g. `{prefix}switches/*/etc/frr/frr.conf`, `{prefix}nodes/*/etc/ssh/sshd_config.d/*`, `{prefix}site/dns/*.zone` (a build lists every one in manifest.json); `*` stays within a directory, `**` crosses them")
}

fn check_names(
    sources: &SourceMap,
    diags: &mut Diagnostics,
    what: &str,
    names: &[String],
    required: bool,
) {
    if required && names.is_empty() {
        diags.push(diag(
            sources,
            format!("{what} is empty: nobody could approve what this protects"),
            what.rsplit('.').next().unwrap_or(what),
            "name at least one approver (a user or group as your review tool spells it)",
        ));
    }
    for n in names {
        if normalize_name(n).is_empty() || n.contains(',') {
            diags.push(diag(
                sources,
                format!("{what} has an invalid name `{n}`"),
                &format!("\"{n}\""),
                "names are non-empty and without commas (`--approved-by` splits on commas)",
            ));
        }
    }
}

fn bad_glob(sources: &SourceMap, what: &str, pattern: &str, error: &str) -> Diagnostic {
    diag(
        sources,
        format!("{what}: invalid pattern `{pattern}`: {error}"),
        &format!("\"{pattern}\""),
        "patterns use `*` within a directory, `**` across directories, `?` and `[abc]`",
    )
}

/// A serde error about the `[gate]` table, placed in siteconf.toml by
/// parsing its text again (the table itself has no spans).
fn parse_error(sources: &SourceMap, e: &toml::de::Error) -> Diagnostic {
    #[derive(Deserialize)]
    struct File {
        // Read only for the error it produces.
        #[serde(default, rename = "gate")]
        _gate: Option<Policy>,
    }
    let mut d = Diagnostic::error(
        Code::ProjectConfig,
        format!("invalid [gate] policy: {}", e.message().trim()),
    )
    .help("docs/review.md lists every key of [gate], [[gate.owners]] and [[gate.rules]]");
    if let Some((id, file)) = sources.files().find(|(_, f)| f.path == CONFIG_FILE) {
        if let Err(again) = toml::from_str::<File>(&file.text) {
            if let Some(r) = again.span() {
                d = d.label(Span::new(id, r.start, r.end), "here");
            }
        }
    }
    d
}

/// Approver names compare without a leading `@` and surrounding space, so
/// `@netops` in the policy matches `--approved-by netops`.
pub fn normalize_name(n: &str) -> &str {
    n.trim().trim_start_matches('@')
}

/// The JSON Schema of the `[gate]` table, for `schema/siteconf.schema.json`
/// (see `crate::gate::config_json_schema`). It follows [`Policy`],
/// [`OwnersRule`], [`Rule`] and [`Event`] field by field; `siteconf check`
/// stays the judge (globs, names, a rule nobody can approve).
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let names =
        |what: &str| json!({"type": "array", "items": {"type": "string"}, "description": what});
    let count = |what: &str| json!({"type": "integer", "minimum": 0, "description": what});
    let events = [
        Event::ArtifactChanged,
        Event::ArtifactAdded,
        Event::ArtifactRemoved,
        Event::BgpSessionAdded,
        Event::BgpSessionRemoved,
        Event::BgpSessionChanged,
        Event::NodeAdded,
        Event::NodeRemoved,
        Event::AllocationReleased,
        Event::InventoryGroupRemoved,
    ]
    .map(Event::as_str);
    json!({
        "type": "object",
        "description": "The merge policy `siteconf gate` applies to a change (docs/review.md).",
        "additionalProperties": false,
        "properties": {
            "max-nodes": count("Nodes whose artifacts change (added, removed or changed)."),
            "max-nodes-percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "description": "A share of base's fleet: nodes whose files change or that are removed (nodes added do not count)."},
            "max-nodes-per-rack": count("Changed nodes in one rack."),
            "max-nodes-per-role": count("Changed nodes of one role."),
            "role-limits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}, "description": "Per-role limits that replace max-nodes-per-role."},
            "max-switches": count("Switches whose artifacts change."),
            "max-renumbered-nodes": count("Devices whose allocated values (addresses, ASN, loopback) change: renumbered machines. Default 0: any renumbering needs approval."),
            "approvers": names("Who may approve going over the limits above."),
            "owners": {
                "type": "array",
                "description": "CODEOWNERS-like: a changed input or artifact that matches needs an owner's approval.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["owners"],
                    "properties": {
                        "name": {"type": "string", "description": "A name for reports (default: the first pattern)."},
                        "paths": names("Globs over input files relative to the project root."),
                        "artifacts": names("Globs over rendered artifact paths."),
                        "owners": names("Who may approve."),
                    }
                }
            },
            "rules": {
                "type": "array",
                "description": "Rules that need approval when they fire.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "approvers"],
                    "properties": {
                        "name": {"type": "string"},
                        "on": {"enum": events, "description": "What the rule looks at (default artifact-changed)."},
                        "kinds": names("Artifact kinds (sshd, frr …); artifact events only."),
                        "artifacts": names("Globs over artifact paths; artifact events only."),
                        "nodes": names("Globs over device names."),
                        "roles": names("Node roles."),
                        "more-than": count("Fires when more than this many things match."),
                        "approvers": names("Who may approve."),
                    }
                }
            }
        }
    })
}
