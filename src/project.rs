//! The project: `siteconf.toml` settings, discovery of site files, and the
//! front half of the pipeline (discover → parse → lower) over any [`Source`].

use rayon::prelude::*;
use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::lower;
use crate::model::{Site, SiteIndex};
use crate::source::{Source, SourceError};
use crate::syntax::{self, FileId, Format, SourceFile, SourceMap, Span};

pub const CONFIG_FILE: &str = "siteconf.toml";
pub const LOCK_FILE: &str = "siteconf.lock";
/// `site-dir` when siteconf.toml does not say (or there is none).
pub const DEFAULT_SITE_DIR: &str = "site";

/// `siteconf.toml`. Every key has a default so an empty file is valid.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Directory of site files (KDL or TOML, any depth).
    pub site_dir: String,
    /// Directory of template overrides.
    pub templates_dir: String,
    /// Default output directory of `build`.
    pub out_dir: String,
    pub secrets: SecretsConfig,
    pub diff: DiffConfig,
    /// The gate policy, interpreted by `crate::gate` (kept raw here so the
    /// config loader stays independent of it).
    pub gate: toml::Table,
    /// Definitions every site uses (profiles, groups, …), in a project of
    /// several sites. A site's own definition of the same kind and name
    /// takes precedence over a shared one.
    pub shared_dir: Option<String>,
    /// The sites of a project of several (`[sites.NAME]`); empty: the
    /// project is one site, its files under `site-dir`.
    pub sites: std::collections::BTreeMap<String, SiteConfig>,
    /// Boot hosts (DHCP, DNS, network boot) shared by several sites
    /// (`[bootinfra.NAME] serves = [...]`); `build` writes their joined
    /// configuration to `<out-dir>/bootinfra/NAME/`.
    pub bootinfra: std::collections::BTreeMap<String, BootinfraConfig>,
    /// Which of `sites` this configuration was narrowed to by
    /// [`load_all`]; `None` in a single-site project.
    #[serde(skip)]
    pub site: Option<String>,
    /// The lock file this site reads and writes: `siteconf.lock`, or
    /// `<dir>/siteconf.lock` for a site of several.
    #[serde(skip)]
    pub lock_file: String,
}

/// `[bootinfra.NAME]`: the sites one set of boot hosts serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BootinfraConfig {
    pub serves: Vec<String>,
}

/// One site of several (`[sites.NAME]` in siteconf.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SiteConfig {
    /// Its site files (and its siteconf.lock).
    pub dir: String,
    /// Sites that name the same routing domain share one address and ASN
    /// space (e.g. a lab and production behind one border): their
    /// addresses and ASNs must not collide. Sites in no domain, or in
    /// different ones, may reuse private prefixes and ASNs.
    #[serde(default)]
    pub routing_domain: Option<String>,
}

impl Config {
    /// Whether the project declares several sites.
    pub fn is_multi_site(&self) -> bool {
        !self.sites.is_empty()
    }

    /// The configuration of one site of several: its directory is the
    /// site directory, its output goes to `<out-dir>/<site>`, its lock
    /// lives in its directory.
    pub fn for_site(&self, name: &str) -> Option<Config> {
        let sc = self.sites.get(name)?;
        let mut c = self.clone();
        c.site_dir = sc.dir.clone();
        c.out_dir = format!("{}/{name}", self.out_dir.trim_end_matches('/'));
        c.lock_file = format!("{}/{LOCK_FILE}", sc.dir.trim_end_matches('/'));
        c.site = Some(name.to_string());
        Some(c)
    }

    /// Directories whose site files this configuration reads: the shared
    /// one (sites of several) and its own.
    pub fn read_dirs(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if self.site.is_some() {
            if let Some(s) = &self.shared_dir {
                v.push(s.as_str());
            }
        }
        v.push(self.site_dir.as_str());
        v
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            site_dir: DEFAULT_SITE_DIR.into(),
            templates_dir: "templates".into(),
            out_dir: "out".into(),
            secrets: SecretsConfig::default(),
            diff: DiffConfig::default(),
            gate: toml::Table::new(),
            shared_dir: None,
            sites: Default::default(),
            bootinfra: Default::default(),
            site: None,
            lock_file: LOCK_FILE.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsConfig {
    /// A TOML file of `name = "value"`, outside git in real use.
    pub file: Option<String>,
    /// Environment variables `PREFIX<NAME>` (name upper-cased, `-`/`/`/`.` → `_`).
    /// Always begins with [`ENV_PREFIX_REQUIRED`] (SC0028 otherwise).
    pub env_prefix: String,
    /// The line of `file` in siteconf.toml (1-based), for an error about
    /// the file it names that says no more than where it was named.
    #[serde(skip)]
    pub file_line: Option<usize>,
}

/// What every `[secrets] env-prefix` begins with: siteconf.toml is
/// committed, and a merge request that could set the prefix to `R` or to
/// nothing would let a template's `secret()` read any variable of the
/// machine that builds (a CI runner's token) into the output.
pub const ENV_PREFIX_REQUIRED: &str = "SITECONF_";

impl Default for SecretsConfig {
    fn default() -> SecretsConfig {
        SecretsConfig {
            file: None,
            env_prefix: "SITECONF_SECRET_".into(),
            file_line: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DiffConfig {
    pub default_branch: String,
}

impl Default for DiffConfig {
    fn default() -> DiffConfig {
        DiffConfig {
            default_branch: "main".into(),
        }
    }
}

/// Where a project keeps the JSON Schemas its TOML files name in their
/// `#:schema` line (taplo and Even Better TOML read it; the path is
/// relative to the file), as `siteconf init` writes them and this
/// repository commits them: `siteconf schema [site|config|secrets]`.
pub const SCHEMA_DIR: &str = "schema";
pub const SITE_SCHEMA: &str = "schema/site.schema.json";
pub const CONFIG_SCHEMA: &str = "schema/siteconf.schema.json";
pub const SECRETS_SCHEMA: &str = "schema/secrets.schema.json";

/// The `#:schema` line for a TOML file at `path` (relative to the project
/// root) that follows `schema` (also relative to the root).
pub fn schema_directive(path: &str, schema: &str) -> String {
    match path.matches('/').count() {
        0 => format!("#:schema ./{schema}\n"),
        up => format!("#:schema {}{schema}\n", "../".repeat(up)),
    }
}

/// The JSON Schema of `siteconf.toml`, field by field as [`Config`] reads
/// it (`deny_unknown_fields`: a misspelt key is an error there, and here).
/// `gate` is the schema of the `[gate]` table, which the gate stage owns
/// (`crate::gate::config_json_schema` puts the two together).
pub fn config_json_schema_with(gate: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let d = Config::default();
    let dir = |what: &str, default: &str| json!({"type": "string", "minLength": 1, "default": default, "description": what});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://siteconf.invalid/schema/siteconf.schema.json",
        "title": "siteconf.toml",
        "description": "The settings of a siteconf project; every key is optional. Generated by `siteconf schema config`; do not edit.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "site-dir": dir("Directory of the site files (KDL or TOML, any depth), relative to the project, without `..`.", &d.site_dir),
            "templates-dir": dir("Directory of template overrides, relative to the project, without `..`.", &d.templates_dir),
            "out-dir": dir("Default output directory of `siteconf build`: anywhere but the project directory itself, or a directory that is, holds or lies inside the site, shared or templates directory (SC0008; `build --out` follows the same rule).", &d.out_dir),
            "secrets": {
                "type": "object",
                "additionalProperties": false,
                "description": "Where secret values come from (never from git): the environment first, then the file.",
                "properties": {
                    "file": {"type": "string", "minLength": 1, "description": "A TOML file of `name = \"value\"`, relative to the project or absolute; keep it out of git."},
                    "env-prefix": {"type": "string", "pattern": "^SITECONF_", "default": d.secrets.env_prefix, "description": "Secret NAME is read from the variable PREFIX + NAME upper-cased, with `-`, `.` and `/` as `_`. Begins with `SITECONF_` (SC0028): no other variable of the machine that builds is read."},
                }
            },
            "diff": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "default-branch": {"type": "string", "minLength": 1, "default": d.diff.default_branch, "description": "The base `siteconf diff` compares with when none is given."}
                }
            },
            "gate": gate,
            "shared-dir": {"type": "string", "minLength": 1, "description": "Several sites: the directory of definitions every site uses (profiles, groups …); a site's own definition of the same kind and name wins. See docs/sites.md."},
            "sites": {
                "type": "object",
                "description": "Several sites in one project, by name (letters, digits, `-`, `_`). Without it the project is one site under `site-dir`.",
                "propertyNames": {"pattern": "^[A-Za-z0-9_-]+$", "not": {"const": "bootinfra"}},
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["dir"],
                    "properties": {
                        "dir": {"type": "string", "minLength": 1, "description": "The site's files and its siteconf.lock, relative to the project, without `..`."},
                        "routing-domain": {"type": "string", "minLength": 1, "description": "Sites naming the same routing domain share one address and ASN space: their addresses and ASNs must not collide."}
                    }
                }
            },
            "bootinfra": {
                "type": "object",
                "description": "Boot hosts (DHCP, DNS, network boot) shared by several sites, by name; `build` writes their joined configuration to `<out-dir>/bootinfra/NAME/`.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["serves"],
                    "properties": {
                        "serves": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": true, "description": "The sites it serves."}
                    }
                }
            },
        }
    })
}

/// The JSON Schema of a secrets file (`[secrets] file`): a table of secret
/// names (as `crate::render::secrets::is_secret_name` accepts them) to
/// string values.
pub fn secrets_json_schema() -> serde_json::Value {
    use serde_json::json;
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://siteconf.invalid/schema/secrets.schema.json",
        "title": "siteconf secrets file",
        "description": "Secret values by name (`\"bgp/transit-a\" = \"…\"`), read by `siteconf build`. Keep this file out of git. Generated by `siteconf schema secrets`; do not edit.",
        "type": "object",
        "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]*$"},
        "additionalProperties": {"type": "string"}
    })
}

/// A schema as committed under `schema/`: pretty JSON and a newline.
pub fn schema_text(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The result of the front half of the pipeline.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub sources: SourceMap,
    pub site: Site,
    pub index: SiteIndex,
    /// The lock file's text, if there is one (parsed by `crate::resolve`).
    pub lock: Option<(FileId, String)>,
    /// The lock file as committed in the revisions this tree continues
    /// from ([`Source::earlier`]): zone serials must not go below theirs,
    /// and the base's copy tells which of two lines changed.
    pub earlier: Vec<crate::source::Earlier>,
}

/// The finding for a project file or directory that cannot be read: SC0021
/// for a link or a path outside the project, else SC0008.
pub fn io_diag(e: SourceError) -> Diagnostic {
    let refused = e.message == crate::source::fs::SYMLINK_REFUSED
        || e.message == crate::source::fs::OUTSIDE_REFUSED;
    if refused {
        // Only the path is named: never the link's target or its content.
        return Diagnostic::error(
            Code::ProjectPathRefused,
            format!("cannot read {}: {}", crate::syntax::escape_path(&e.path), e.message),
        )
        .help(format!(
            "replace `{}` by a regular file (or directory) inside the project; siteconf does not follow links",
            crate::syntax::escape_path(&e.path)
        ));
    }
    Diagnostic::error(
        Code::ProjectConfig,
        format!(
            "cannot read {}: {}",
            crate::syntax::escape_path(&e.path),
            e.message
        ),
    )
}

/// The directory keys of siteconf.toml, with their spans, to report one
/// that leaves the project at the exact value.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct DirSpans {
    out_dir: Option<toml::Spanned<String>>,
    site_dir: Option<toml::Spanned<String>>,
    templates_dir: Option<toml::Spanned<String>>,
    shared_dir: Option<toml::Spanned<String>>,
    sites: std::collections::BTreeMap<String, SiteDirSpan>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SiteDirSpan {
    dir: Option<toml::Spanned<String>>,
}

/// `site-dir` and `templates-dir` must name a directory inside the project
/// (relative, no `..`): site files and templates are read from the
/// repository under review, never from elsewhere on the machine. `out-dir`
/// may be anywhere (it is where the operator wants output written; the
/// writer refuses to replace a directory that is not a siteconf output),
/// and so may `[secrets] file` (kept outside git by design).
fn check_dirs(id: FileId, text: &str, config: &mut Config, diags: &mut Diagnostics) {
    let mut spans: DirSpans = toml::from_str(text).unwrap_or_default();
    let mut keys = vec![
        ("site-dir".to_string(), spans.site_dir, &mut config.site_dir),
        (
            "templates-dir".to_string(),
            spans.templates_dir,
            &mut config.templates_dir,
        ),
    ];
    if let Some(d) = config.shared_dir.as_mut() {
        keys.push(("shared-dir".to_string(), spans.shared_dir, d));
    }
    for (name, sc) in config.sites.iter_mut() {
        let span = spans.sites.remove(name).and_then(|s| s.dir);
        keys.push((format!("sites.{name}.dir"), span, &mut sc.dir));
    }
    for (key, spanned, value) in keys {
        if crate::source::fs::inside_components(value).is_some() {
            continue;
        }
        let r = spanned.map(|s| s.span()).unwrap_or(0..0);
        diags.push(
            Diagnostic::error(
                Code::ProjectPathRefused,
                format!(
                    "`{key}` is outside the project; siteconf reads only files inside the project directory"
                ),
            )
            .label(Span::new(id, r.start, r.end), "an absolute path or one with `..`")
            .help(format!(
                "give `{key}` as a path relative to the directory of {CONFIG_FILE}, without `..`"
            )),
        );
        // Nothing is read from it: an empty marker the loader skips.
        value.clear();
        value.push_str(REFUSED_DIR);
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct SecretsSpans {
    secrets: SecretsKeySpans,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct SecretsKeySpans {
    file: Option<toml::Spanned<String>>,
    env_prefix: Option<toml::Spanned<String>>,
}

/// `[secrets]`: an `env-prefix` that does not begin with
/// [`ENV_PREFIX_REQUIRED`] is SC0028 at its value, and the default is used
/// instead, so nothing after this reads another variable; and where `file`
/// is named, for the build's error about that file.
fn check_secrets(id: FileId, text: &str, config: &mut Config, diags: &mut Diagnostics) {
    let spans: SecretsSpans = toml::from_str(text).unwrap_or_default();
    if let Some(f) = &spans.secrets.file {
        let at = f.span().start.min(text.len());
        config.secrets.file_line = Some(text[..at].matches('\n').count() + 1);
    }
    let prefix = config.secrets.env_prefix.clone();
    if prefix.starts_with(ENV_PREFIX_REQUIRED) {
        return;
    }
    let r = spans.secrets.env_prefix.map(|s| s.span()).unwrap_or(0..0);
    let shown = if prefix.is_empty() {
        "empty".to_string()
    } else {
        format!("`{}`", prefix.escape_debug())
    };
    diags.push(
        Diagnostic::error(
            Code::SecretsEnvPrefix,
            format!(
                "`[secrets] env-prefix` is {shown}, which does not begin with `{ENV_PREFIX_REQUIRED}`; `build` would let a template's `secret()` read any environment variable with that prefix (a CI runner's credentials) into the output"
            ),
        )
        .label(Span::new(id, r.start, r.end), "not a siteconf variable prefix")
        .help(format!(
            "remove `env-prefix` (the default is `SITECONF_SECRET_`) or give a prefix that begins with `{ENV_PREFIX_REQUIRED}`, such as `SITECONF_SECRET_PROD_`"
        )),
    );
    config.secrets.env_prefix = SecretsConfig::default().env_prefix;
}

/// An `out-dir` that is the project directory, or is, holds or lies
/// inside a directory siteconf reads (site files, shared definitions,
/// templates). A build replaces its whole output directory; the writer
/// refuses a directory that is not its own output, but only when `build`
/// runs: `check` says so first. An output inside the site directory would
/// also be read back by every check, one SC0070 per output file (tens of
/// thousands for a fleet), which breaks `--deny warnings`. An `out-dir`
/// outside the project may be anywhere.
fn check_out_dir(id: FileId, text: &str, config: &Config, diags: &mut Diagnostics) {
    use crate::source::fs::inside_components;
    let Some(out) = inside_components(&config.out_dir) else {
        return;
    };
    let Some(what) = out_dir_conflict(config, &out) else {
        return;
    };
    let spans: DirSpans = toml::from_str(text).unwrap_or_default();
    let r = spans.out_dir.map(|s| s.span()).unwrap_or(0..0);
    diags.push(
        Diagnostic::error(
            Code::ProjectConfig,
            format!("`out-dir` `{}` {what}", config.out_dir),
        )
        .label(Span::new(id, r.start, r.end), "where `build` writes")
        .help(OUT_DIR_HELP),
    );
}

/// How to fix an output directory [`out_dir_conflict`] refuses.
pub const OUT_DIR_HELP: &str = "a build replaces its whole output directory, and one inside the site or templates directory is read back by every check (a warning per output file): give it a directory of its own beside them, such as `out`";

/// Why an output directory at `out` (the components of a path inside the
/// project; empty: the project directory itself) cannot be one: it is the
/// project directory, or is, holds or lies inside a directory siteconf
/// reads. `None` when it can. For `out-dir` (SC0008) and `build --out`.
pub fn out_dir_conflict(config: &Config, out: &[&str]) -> Option<String> {
    use crate::source::fs::inside_components;
    if out.is_empty() {
        return Some("is the project directory".to_string());
    }
    let mut read: Vec<(String, &str)> = vec![
        ("site-dir".into(), config.site_dir.as_str()),
        ("templates-dir".into(), config.templates_dir.as_str()),
    ];
    if let Some(d) = &config.shared_dir {
        read.push(("shared-dir".into(), d.as_str()));
    }
    for (name, sc) in &config.sites {
        read.push((format!("sites.{name}.dir"), sc.dir.as_str()));
    }
    for (key, dir) in read {
        let Some(d) = inside_components(dir).filter(|_| dir != REFUSED_DIR) else {
            continue;
        };
        if d.is_empty() {
            // The project directory holds every output directory inside
            // it: only a site directory of `.` could be meant, and that
            // is the site's own finding.
            continue;
        }
        if d.starts_with(out) {
            return Some(if d.len() == out.len() {
                format!("is `{key}`")
            } else {
                format!("holds `{key}` (`{dir}`)")
            });
        }
        if out.starts_with(&d) {
            return Some(format!("is inside `{key}` (`{dir}`)"));
        }
    }
    None
}

/// A `templates-dir` set to a directory that holds no files: the built-in
/// templates are used and the overrides meant are silently ignored. The
/// default (`templates`, which `siteconf init` writes) may well be absent
/// (a project without overrides), so only another name is an error.
fn check_templates_dir(
    src: &dyn Source,
    id: FileId,
    text: &str,
    config: &Config,
    diags: &mut Diagnostics,
) {
    let dir = config.templates_dir.as_str();
    if dir == REFUSED_DIR || dir.trim_end_matches('/') == Config::default().templates_dir {
        return;
    }
    // A listing that fails is reported where the templates are read.
    if !matches!(src.list(dir), Ok(files) if files.is_empty()) {
        return;
    }
    let spans: DirSpans = toml::from_str(text).unwrap_or_default();
    let r = spans.templates_dir.map(|s| s.span()).unwrap_or(0..0);
    diags.push(
        Diagnostic::error(
            Code::ProjectConfig,
            format!("`templates-dir` is `{dir}`, which does not exist or holds no files"),
        )
        .label(Span::new(id, r.start, r.end), "no templates here")
        .help(format!(
            "the built-in templates would be used and the project's overrides ignored: fix the path, or remove `templates-dir` from {CONFIG_FILE} to use the built-in templates"
        )),
    );
}

/// The sites of a project of several: names that can be directory names,
/// directories that do not contain one another (a site's files would be
/// read twice), and bootinfras that serve declared sites, each at most
/// once. A site or bootinfra that is wrong is dropped after its finding.
fn check_sites(id: FileId, text: &str, config: &mut Config, diags: &mut Diagnostics) {
    let at = Span::new(id, 0, 0);
    // Where each site is written: its `[sites.NAME]` key, and its `dir`.
    let spans = SitePlaces::of(id, text);
    let mut refused = Vec::new();
    for name in config.sites.keys() {
        if !valid_site_name(name) {
            diags.push(
                Diagnostic::error(Code::ProjectConfig, format!("`[sites.{name}]`: a site name is letters, digits, `-` and `_`, and not `bootinfra`"))
                    .label(spans.key(name).unwrap_or(at), "this site name")
                    .help("the name is a directory of the output (`out/NAME/`)"),
            );
            refused.push(name.clone());
        }
    }
    // Names that differ only in case are one output directory on a
    // case-insensitive file system (macOS, Windows): one site's build
    // would replace the other's.
    let names: Vec<&String> = config.sites.keys().collect();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            if a.eq_ignore_ascii_case(b) && !refused.contains(*b) {
                let mut d = Diagnostic::error(
                    Code::ProjectConfig,
                    format!("sites `{a}` and `{b}` differ only in case"),
                )
                .help(format!(
                    "`out/{a}/` and `out/{b}/` are one directory on a case-insensitive file system, where one site's build replaces the other's: give the sites names that differ in more than case"
                ));
                if let Some(s) = spans.key(b) {
                    d = d.label(s, "this site");
                }
                if let Some(s) = spans.key(a) {
                    d = d.label(s, "and this one");
                }
                if d.labels.is_empty() {
                    d = d.label(at, "in this file");
                }
                diags.push(d);
                refused.push((*b).clone());
            }
        }
    }
    let dirs: Vec<(String, String)> = config
        .sites
        .iter()
        .map(|(n, s)| (n.clone(), s.dir.trim_end_matches('/').to_string()))
        .chain(config.shared_dir.iter().map(|d| {
            (
                "shared-dir".to_string(),
                d.trim_end_matches('/').to_string(),
            )
        }))
        .collect();
    for (i, (a, da)) in dirs.iter().enumerate() {
        for (b, db) in &dirs[i + 1..] {
            let within = |x: &str, y: &str| x == y || x.starts_with(&format!("{y}/"));
            if within(da, db) || within(db, da) {
                let place = |n: &str| match n {
                    "shared-dir" => spans.shared_dir,
                    n => spans.dir(n),
                };
                let what = |n: &str, d: &str, inner: bool| match (n, inner) {
                    ("shared-dir", true) => format!("`shared-dir` (`{d}`), inside the other"),
                    ("shared-dir", false) => format!("`shared-dir` (`{d}`)"),
                    (n, true) => format!("the directory of site `{n}`, inside the other"),
                    (n, false) => format!("the directory of site `{n}`"),
                };
                let (a_in, b_in) = (within(da, db), within(db, da));
                let mut d = Diagnostic::error(
                    Code::ProjectConfig,
                    format!("the directories of `{a}` (`{da}`) and `{b}` (`{db}`) overlap"),
                )
                .help("a file inside both directories would be read by both: give every site, and the shared definitions, a directory of its own, none inside another");
                if let Some(s) = place(b) {
                    d = d.label(s, what(b, db, b_in && !a_in));
                }
                if let Some(s) = place(a) {
                    d = d.label(s, what(a, da, a_in && !b_in));
                }
                if d.labels.is_empty() {
                    d = d.label(at, "in this file");
                }
                diags.push(d);
                // Refuse the site that holds the other: its files would
                // include the inner one's (each read twice, a cascade of
                // duplicates); the inner one is whole.
                refused.push(if a == "shared-dir" || (b != "shared-dir" && a_in) {
                    b.clone()
                } else {
                    a.clone()
                });
            }
        }
    }
    for name in refused {
        config.sites.remove(&name);
    }
    let mut served_by: std::collections::BTreeMap<String, String> = Default::default();
    let mut drop = Vec::new();
    for (b, bi) in &config.bootinfra {
        for s in &bi.serves {
            if !config.sites.contains_key(s) {
                diags.push(
                    Diagnostic::error(
                        Code::BootinfraConflict,
                        format!(
                            "bootinfra `{b}` serves `{s}`, which is not a site of this project"
                        ),
                    )
                    .label(spans.serves(b).unwrap_or(at), "serves this")
                    .help(format!(
                        "the sites are: {}",
                        config.sites.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
                drop.push(b.clone());
            } else if let Some(other) = served_by.insert(s.clone(), b.clone()) {
                diags.push(
                    Diagnostic::error(
                        Code::BootinfraConflict,
                        format!("site `{s}` is served by bootinfra `{other}` and by `{b}`"),
                    )
                    .label(spans.serves(b).unwrap_or(at), "serves it again")
                    .help("a site's machines get their DHCP answers from one bootinfra"),
                );
                drop.push(b.clone());
            }
        }
    }
    for b in drop {
        config.bootinfra.remove(&b);
    }
}

/// The sites of a project of several whose directory holds no site files
/// (moved or renamed: `mv sites/fra sites/frankfurt`): one finding each, at
/// its `dir` in siteconf.toml, naming the directory it was probably moved
/// to — a directory beside it that holds site files and that no site or
/// `shared-dir` reads —, and the site is left out, so that its absence is
/// not also reported as a site without a `site` block and undeclared
/// networks in the shared files, and the other sites still check and
/// build with `--site`. (When no site's directory holds site files, the
/// sites stay, and the loader says so for each directory.)
fn check_site_dirs(
    src: &dyn Source,
    id: FileId,
    text: &str,
    config: &mut Config,
    out: &mut Vec<(String, Diagnostic)>,
) {
    let is_site_file = |f: &String| Format::from_path(f).is_some();
    let missing: Vec<(String, String, bool)> = config
        .sites
        .iter()
        .filter_map(|(name, s)| {
            let dir = s.dir.trim_end_matches('/');
            match src.list(dir) {
                Ok(files) if !files.iter().any(is_site_file) => {
                    Some((name.clone(), dir.to_string(), files.is_empty()))
                }
                _ => None,
            }
        })
        .collect();
    if missing.is_empty() || missing.len() == config.sites.len() {
        return;
    }
    let spans = SitePlaces::of(id, text);
    let claimed: Vec<String> = config
        .sites
        .values()
        .map(|s| s.dir.trim_end_matches('/').to_string())
        .chain(
            config
                .shared_dir
                .iter()
                .map(|d| d.trim_end_matches('/').to_string()),
        )
        .collect();
    let overlaps = |a: &str, b: &str| {
        a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
    };
    for (name, dir, empty) in missing {
        let (parent, base) = dir.rsplit_once('/').unwrap_or(("", dir.as_str()));
        // The directories beside it that hold site files no one reads.
        let mut beside: Vec<String> = Vec::new();
        for f in src
            .list(parent)
            .unwrap_or_default()
            .iter()
            .filter(|f| is_site_file(f))
        {
            let rel = match parent {
                "" => f.as_str(),
                p => f.strip_prefix(&format!("{p}/")).unwrap_or(f),
            };
            let Some((child, _)) = rel.split_once('/') else {
                continue;
            };
            let cand = match parent {
                "" => child.to_string(),
                p => format!("{p}/{child}"),
            };
            if child.starts_with('.')
                || beside.contains(&cand)
                || claimed.iter().any(|c| overlaps(c, &cand))
            {
                continue;
            }
            beside.push(cand);
        }
        let guess = match beside.as_slice() {
            [one] => Some(one.clone()),
            many => {
                let bases: Vec<&str> = many
                    .iter()
                    .map(|c| c.rsplit('/').next().unwrap_or(c))
                    .collect();
                crate::diag::did_you_mean(base, bases.iter().copied())
                    .and_then(|b| many.iter().find(|c| c.rsplit('/').next() == Some(b)))
                    .cloned()
            }
        };
        let what = match empty {
            true => "does not exist",
            false => "holds no site files (*.kdl, *.toml)",
        };
        let hint = guess
            .as_ref()
            .map(|g| format!("; did you mean `{g}`?"))
            .unwrap_or_default();
        let help = match &guess {
            Some(g) => format!(
                "if the site's files were moved to `{g}`, write `dir = \"{g}\"` under `[sites.{name}]` (its siteconf.lock moves with them); the other sites are still checked, and built with `--site`"
            ),
            None => format!(
                "restore the site's directory, point `dir` at where its files are, or remove `[sites.{name}]` (and the site from any `[bootinfra]`) if the site is gone; the other sites are still checked, and built with `--site`"
            ),
        };
        let d = Diagnostic::error(
            Code::ProjectConfig,
            format!(
                "site `{name}`: its directory `{dir}/` {what} in the {}{hint}",
                src.describe()
            ),
        )
        .label(
            spans
                .dir(&name)
                .or(spans.key(&name))
                .unwrap_or(Span::new(id, 0, 0)),
            "no site files here",
        )
        .help(help);
        out.push((name.clone(), d));
        config.sites.remove(&name);
        // A bootinfra is built only with every site it serves.
        config.bootinfra.retain(|_, b| !b.serves.contains(&name));
    }
}

/// A site name: letters, digits, `-` and `_`, not `bootinfra` (the name
/// is a directory of the output, beside `out/bootinfra/`). `siteconf
/// init --sites` refuses the same names.
pub fn valid_site_name(n: &str) -> bool {
    !n.is_empty()
        && n != "bootinfra"
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where siteconf.toml writes each site and bootinfra: for findings about
/// them, at the value the operator wrote.
#[derive(Default)]
struct SitePlaces {
    keys: std::collections::BTreeMap<String, Span>,
    dirs: std::collections::BTreeMap<String, Span>,
    serves: std::collections::BTreeMap<String, Span>,
    shared_dir: Option<Span>,
}

impl SitePlaces {
    fn of(id: FileId, text: &str) -> SitePlaces {
        use ::toml::de::{DeTable, DeValue};
        let mut out = SitePlaces::default();
        let Ok(root) = DeTable::parse(text) else {
            return out;
        };
        let span = |r: std::ops::Range<usize>| Span::new(id, r.start, r.end);
        let root = root.get_ref();
        if let Some(v) = root.get("shared-dir") {
            out.shared_dir = Some(span(v.span()));
        }
        let table = |key: &str| match root.get(key).map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        };
        if let Some(sites) = table("sites") {
            for (k, v) in sites.iter() {
                out.keys.insert(k.get_ref().to_string(), span(k.span()));
                if let DeValue::Table(s) = v.get_ref() {
                    if let Some(d) = s.get("dir") {
                        out.dirs.insert(k.get_ref().to_string(), span(d.span()));
                    }
                }
            }
        }
        if let Some(bs) = table("bootinfra") {
            for (k, v) in bs.iter() {
                if let DeValue::Table(b) = v.get_ref() {
                    if let Some(s) = b.get("serves") {
                        out.serves.insert(k.get_ref().to_string(), span(s.span()));
                    }
                }
            }
        }
        out
    }
    fn key(&self, site: &str) -> Option<Span> {
        self.keys.get(site).copied()
    }
    fn dir(&self, site: &str) -> Option<Span> {
        self.dirs.get(site).copied()
    }
    fn serves(&self, bootinfra: &str) -> Option<Span> {
        self.serves.get(bootinfra).copied()
    }
}

/// What a refused `site-dir`/`templates-dir` becomes: a name no source can
/// list (a NUL), so nothing outside the project is read and no second
/// "no site files" finding follows the first.
pub const REFUSED_DIR: &str = "\0refused";

/// Reads `siteconf.toml` (optional) from a source.
pub fn read_config(src: &dyn Source, sources: &mut SourceMap, diags: &mut Diagnostics) -> Config {
    let mut about_sites = Vec::new();
    let c = read_config_split(src, sources, diags, &mut about_sites);
    for (_, d) in about_sites {
        diags.push(d);
    }
    c
}

/// [`read_config`], with the findings about one site only (its directory
/// holds no site files: [`check_site_dirs`]) apart in `about_sites`, by
/// site, and that site left out of the configuration.
fn read_config_split(
    src: &dyn Source,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    about_sites: &mut Vec<(String, Diagnostic)>,
) -> Config {
    match src.read_text(CONFIG_FILE) {
        Ok(None) => Config::default(),
        Err(e) => {
            diags.push(io_diag(e));
            Config::default()
        }
        Ok(Some(text)) => {
            let id = sources.add(SourceFile::new(CONFIG_FILE, text.clone()));
            // It is committed like the site files: a private key pasted
            // into it is as exposed, and is masked and reported the same.
            let keys = crate::syntax::redact::private_keys(Format::Toml, &text);
            if !keys.is_empty() {
                sources.redact_secrets(id, Format::Toml);
                private_key_findings(id, &keys, diags);
            }
            match toml::from_str::<Config>(&text) {
                Ok(mut c) => {
                    check_dirs(id, &text, &mut c, diags);
                    check_secrets(id, &text, &mut c, diags);
                    check_out_dir(id, &text, &c, diags);
                    check_templates_dir(src, id, &text, &c, diags);
                    check_sites(id, &text, &mut c, diags);
                    check_site_dirs(src, id, &text, &mut c, about_sites);
                    c
                }
                Err(e) => {
                    let r = e.span().unwrap_or(0..0);
                    diags.push(
                        Diagnostic::error(
                            Code::ProjectConfig,
                            format!("invalid {CONFIG_FILE}: {}", e.message()),
                        )
                        .label(Span::new(id, r.start, r.end), "here"),
                    );
                    Config::default()
                }
            }
        }
    }
}

/// `siteconf.toml` as [`load`] reads it first: the settings, the file
/// (kept for diagnostics that point into it) and its findings. For a
/// caller that needs the settings before the site is loaded — `build`,
/// which looks at its output directory while the site is checked — so
/// that the file is read once and none of its findings is lost.
pub struct ConfigFile {
    pub config: Config,
    sources: SourceMap,
    diags: Diagnostics,
    /// Findings about one site only, by site (its directory holds no
    /// site files): that site is not in `config`.
    about_sites: Vec<(String, Diagnostic)>,
}

impl ConfigFile {
    /// Whether reading `siteconf.toml` gave any finding.
    pub fn has_findings(&self) -> bool {
        !self.diags.is_empty() || !self.about_sites.is_empty()
    }

    pub fn read(src: &dyn Source) -> ConfigFile {
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::new();
        let mut about_sites = Vec::new();
        let config = read_config_split(src, &mut sources, &mut diags, &mut about_sites);
        ConfigFile {
            config,
            sources,
            diags,
            about_sites,
        }
    }

    /// Keeps only the findings about site `name` among those about one
    /// site: `--site NAME` works on while another site's directory is
    /// missing.
    pub fn narrow(&mut self, name: &str) {
        self.about_sites.retain(|(s, _)| s == name);
    }
}

/// discover → parse → lower, for a single-site project (or the first
/// site of several; commands that handle several sites use [`load_all`]).
pub fn load(src: &dyn Source, diags: &mut Diagnostics) -> Loaded {
    load_configured(src, ConfigFile::read(src), diags)
}

/// [`load`] with `siteconf.toml` already read ([`ConfigFile::read`]); its
/// findings join `diags`.
pub fn load_configured(src: &dyn Source, config: ConfigFile, diags: &mut Diagnostics) -> Loaded {
    let mut all = load_all_configured(src, config, None, diags);
    if all.is_empty() {
        // An unknown site was asked for (reported): nothing to load.
        return Loaded {
            config: Config::default(),
            sources: SourceMap::default(),
            site: Site::default(),
            index: SiteIndex::build(&Site::default()),
            lock: None,
            earlier: Vec::new(),
        };
    }
    all.swap_remove(0)
}

/// discover → parse → lower, for every site of the project (one, in a
/// single-site project), or only `only`. Files are read once and parsed
/// in parallel, each once however many sites use it; the documents are
/// lowered in path order so diagnostics and the model are deterministic.
/// Every returned site shares one [`SourceMap`] (the same files under the
/// same ids), so findings from several sites make one list.
pub fn load_all(src: &dyn Source, only: Option<&str>, diags: &mut Diagnostics) -> Vec<Loaded> {
    load_all_configured(src, ConfigFile::read(src), only, diags)
}

/// [`load_all`] with `siteconf.toml` already read.
pub fn load_all_configured(
    src: &dyn Source,
    config: ConfigFile,
    only: Option<&str>,
    diags: &mut Diagnostics,
) -> Vec<Loaded> {
    let ConfigFile {
        config,
        mut sources,
        diags: config_diags,
        about_sites,
    } = config;
    diags.extend(config_diags);
    // `--site NAME` of a site whose directory is missing: that finding says
    // why there is no such site to work on.
    let about_only = only.is_some_and(|n| about_sites.iter().any(|(s, _)| s == n));
    for (_, d) in about_sites {
        diags.push(d);
    }
    let configs: Vec<Config> = if config.is_multi_site() {
        match only {
            Some(_) if about_only => return Vec::new(),
            Some(name) if !config.sites.contains_key(name) => {
                // A name that differs only in case is the site (`FRA`).
                let folded = config
                    .sites
                    .keys()
                    .find(|s| s.eq_ignore_ascii_case(name))
                    .map(String::as_str);
                let hint = folded
                    .or_else(|| {
                        crate::diag::did_you_mean(name, config.sites.keys().map(String::as_str))
                    })
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        Code::ProjectConfig,
                        format!("no site `{name}` in {CONFIG_FILE}"),
                    )
                    .help(format!(
                        "{hint}the sites are: {}",
                        config.sites.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
                return Vec::new();
            }
            Some(name) => config.for_site(name).into_iter().collect(),
            None => config
                .sites
                .keys()
                .filter_map(|n| config.for_site(n))
                .collect(),
        }
    } else {
        if let Some(name) = only {
            diags.push(
                Diagnostic::error(
                    Code::ProjectConfig,
                    format!("`--site {name}`: this project is a single site"),
                )
                .help(format!(
                    "declare sites with `[sites.NAME]` in {CONFIG_FILE} (see docs/sites.md)"
                )),
            );
            return Vec::new();
        }
        vec![config.clone()]
    };
    // Each directory once: the shared one, then every site's.
    let mut dirs: Vec<&str> = Vec::new();
    for c in &configs {
        for d in c.read_dirs() {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    let secrets = config.secrets.file.as_deref();
    let (parts, unread) = read_and_lower(src, &dirs, secrets, &mut sources, diags);
    // A site directory refused at its key (SC0021) was not read: the files
    // elsewhere are not strays of it, and its lock is not compared with
    // a site that was never loaded.
    let refused = dirs.contains(&REFUSED_DIR);
    let strays = if refused {
        Default::default()
    } else {
        strays(src, &config, &configs, &unread, &mut sources, diags)
    };
    template_keys(src, &configs, &dirs, &mut sources, diags);
    // Each part goes to the one site whose directory holds it, by move; the
    // shared definitions are merged once and each site gets a copy.
    let shared_dir = config
        .shared_dir
        .as_deref()
        .filter(|_| config.is_multi_site());
    let mut shared = Site::default();
    let mut own: std::collections::HashMap<String, Site> = std::collections::HashMap::new();
    for (dir, part) in parts {
        if Some(dir.as_str()) == shared_dir {
            shared = lower::merge(shared, part, diags);
        } else {
            let site = own.remove(&dir).unwrap_or_default();
            own.insert(dir, lower::merge(site, part, diags));
        }
    }
    let n = configs.len();
    let mut out = Vec::with_capacity(n);
    for (i, c) in configs.into_iter().enumerate() {
        let mine = own.remove(&c.site_dir).unwrap_or_default();
        let mut site = if c.site.is_some() {
            let base = if i + 1 == n {
                std::mem::take(&mut shared)
            } else {
                shared.clone()
            };
            lower::overlay(base, mine, diags)
        } else {
            mine
        };
        site.strays = strays.clone();
        let index = SiteIndex::build(&site);
        let (lock, earlier) = if refused {
            (None, Vec::new())
        } else {
            (
                read_lock(src, &c.lock_file, &mut sources, diags),
                src.earlier(&c.lock_file),
            )
        };
        out.push((c, site, index, lock, earlier));
    }
    // One source map, the same in every site; the last takes it.
    let mut loaded = Vec::with_capacity(n);
    for (i, (config, site, index, lock, earlier)) in out.into_iter().enumerate() {
        let sources = if i + 1 == n {
            std::mem::take(&mut sources)
        } else {
            sources.clone()
        };
        loaded.push(Loaded {
            config,
            sources,
            site,
            index,
            lock,
            earlier,
        });
    }
    loaded
}

/// One file parsed and lowered: its directory, what it declares, its
/// findings, and where its secret values are (`syntax::redact`).
type LoweredFile = (
    String,
    Site,
    Diagnostics,
    Vec<crate::syntax::redact::Masked>,
);

/// Lists, reads, parses and lowers the site files under `dirs` (each file
/// once): the lowered parts with the directory they came from, in path
/// order, and the files under those directories that are not site files.
fn read_and_lower(
    src: &dyn Source,
    dirs: &[&str],
    secrets_file: Option<&str>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> (Vec<(String, Site)>, Vec<String>) {
    let mut paths: Vec<(String, String)> = Vec::new();
    let mut unread = Vec::new();
    let secrets_file = secrets_file
        .and_then(crate::source::fs::inside_components)
        .map(|c| c.join("/"));
    for dir in dirs {
        if *dir == REFUSED_DIR {
            continue;
        }
        let (mut p, u): (Vec<String>, Vec<String>) = match src.list(dir) {
            Ok(p) => p.into_iter().partition(|p| Format::from_path(p).is_some()),
            Err(e) => {
                diags.push(io_diag(e));
                (Vec::new(), Vec::new())
            }
        };
        // The secrets file is never read as a site file: its values would
        // be quoted by every finding about it. Where it sits among the
        // site files, it is also about to be committed with them.
        if let Some(f) = &secrets_file {
            if let Some(i) = p.iter().position(|x| x == f) {
                p.remove(i);
                diags.push(
                    Diagnostic::error(
                        Code::ProjectConfig,
                        format!("the secrets file `{f}` is inside the site directory `{dir}/`"),
                    )
                    .help(format!(
                        "move it out of `{dir}/` and out of git (e.g. `secrets/local.toml`, git-ignored) and point `[secrets] file` in {CONFIG_FILE} at it; it is not read as a site file, and its values are never shown"
                    )),
                );
            }
        }
        if p.is_empty() {
            diags.push(
                Diagnostic::error(
                    Code::ProjectConfig,
                    format!(
                        "no site files (*.kdl, *.toml) under `{dir}/` in the {}",
                        src.describe()
                    ),
                )
                .help("run `siteconf init DIR` to create a site, or use `-C DIR` to point at one"),
            );
        }
        // A site's lock lives among its files but is not one.
        unread.extend(
            u.into_iter()
                .filter(|x| !x.ends_with(&format!("/{LOCK_FILE}"))),
        );
        paths.extend(p.into_iter().map(|x| (dir.to_string(), x)));
    }
    let texts: Vec<(String, String, Result<Option<String>, SourceError>)> = paths
        .par_iter()
        .map(|(d, p)| (d.clone(), p.clone(), src.read_text(p)))
        .collect();
    let mut files = Vec::new();
    for (dir, path, t) in texts {
        match t {
            Ok(Some(text)) => {
                let format = Format::from_path(&path).unwrap_or(Format::Kdl);
                let id = sources.add(SourceFile::new(path, text));
                files.push((dir, id, format));
            }
            Ok(None) => {}
            Err(e) => diags.push(io_diag(e)),
        }
    }
    // Parse and lower each file on its own thread; its document tree is
    // dropped as soon as it is lowered, so peak memory holds one tree per
    // thread, not all of them.
    let lowered: Vec<LoweredFile> = files
        .par_iter()
        .map(|(dir, id, format)| {
            let (id, format) = (*id, *format);
            let text = sources.get(id).map(|f| f.text.as_str()).unwrap_or("");
            let (doc, errors) = syntax::parse(format, id, text);
            let mut d = Diagnostics::new();
            let broken = !errors.is_empty();
            for e in errors {
                let mut x = Diagnostic::error(Code::Syntax, e.message).label(e.span, "here");
                if let Some(h) = e.help {
                    x = x.help(h);
                }
                d.push(x);
            }
            let mut part = lower::lower_document(&doc, &mut d);
            if broken {
                // What this file declares is missing (in part or whole):
                // references to it elsewhere are not reported (`Lost`).
                part.lost.add(id, text);
            }
            let secrets = crate::syntax::redact::secret_ranges(format, text);
            private_key_findings(
                id,
                &crate::syntax::redact::private_keys(format, text),
                &mut d,
            );
            (dir.clone(), part, d, secrets)
        })
        .collect();
    // Parsed and lowered: the kept texts can now lose every value at a
    // secret-bearing position, before anything can print them.
    let mut parts = Vec::with_capacity(lowered.len());
    for ((dir, part, d, secrets), &(_, id, _)) in lowered.into_iter().zip(&files) {
        sources.redact_found(id, secrets);
        diags.extend(d);
        parts.push((dir, part));
    }
    (parts, unread)
}

/// SC0086 for each private key found in a file's text
/// (`syntax::redact::private_keys`), wherever it is: at its first line,
/// the one part of it left unmasked.
fn private_key_findings(
    id: FileId,
    keys: &[crate::syntax::redact::PrivateKey],
    d: &mut Diagnostics,
) {
    key_findings(
        id,
        keys,
        d,
        "is in this file of the project: it must not be in the repository",
        "treat the key as compromised: remove it from the file and rotate it (a new key pair, the old public half removed wherever it is trusted), since it stays in git history and in every clone and CI log that showed the file; give the public half instead (`gpg --armor --export KEYID` for `signed-by`, the `.pub` line for an `ssh-key`)",
    );
}

/// [`private_key_findings`] for a template: what it renders lands in every
/// node's files and in the user-data its seed serves over HTTP, and a key
/// a template must write comes from the secrets.
fn template_key_findings(
    id: FileId,
    keys: &[crate::syntax::redact::PrivateKey],
    d: &mut Diagnostics,
) {
    key_findings(
        id,
        keys,
        d,
        "is in this template: it must not be in the repository, and every device it renders for gets it in its files (a node also in the user-data its seed serves over HTTP)",
        "treat the key as compromised: remove it from the template and rotate it, since it stays in git history and in every clone and CI log that showed the file; a template that must write a private key reads it from the secrets (`{{ secret(\"NAME\") }}`, which also makes the file 0600 and keeps it out of `diff`)",
    );
}

/// One SC0086 per key: `where_` follows the key's kind in the message.
fn key_findings(
    id: FileId,
    keys: &[crate::syntax::redact::PrivateKey],
    d: &mut Diagnostics,
    where_: &str,
    help: &str,
) {
    for k in keys {
        d.push(
            Diagnostic::error(Code::PrivateKeyInSite, format!("{} {where_}", k.kind))
                .label(
                    syntax::Span::new(id, k.header.0, k.header.1),
                    "a private key (its body is masked here)",
                )
                .help(help),
        );
    }
}

/// SC0086 for a private key in a file of the templates directory
/// (`templates/node/etc/ssh/ssh_host_ed25519_key.j2` holding a host key):
/// committed with the project, and rendered into every node's files and
/// the user-data its seed serves over HTTP. Each such file is added to the
/// source map with the key's body masked, so that the finding (and any
/// other) can point into it and never print the key. A templates directory
/// that is also a site directory was read with the site files.
fn template_keys(
    src: &dyn Source,
    configs: &[Config],
    site_dirs: &[&str],
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) {
    let mut dirs: Vec<&str> = configs
        .iter()
        .map(|c| c.templates_dir.as_str())
        .filter(|d| *d != REFUSED_DIR && !site_dirs.contains(d))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        // An unreadable directory is `Templates::load`'s finding.
        let Ok(paths) = src.list(dir) else {
            continue;
        };
        for path in paths {
            let Ok(Some(text)) = src.read_text(&path) else {
                continue;
            };
            let keys = crate::syntax::redact::private_keys_in_text(&text);
            if keys.is_empty() || sources.files().any(|(_, f)| f.path == path) {
                continue;
            }
            let id = sources.add(SourceFile::new(path, text));
            sources.redact_found(id, keys.iter().flat_map(|k| k.masked()).collect());
            template_key_findings(id, &keys, diags);
        }
    }
}

/// Reads a lock file, if there is one, into the source map.
fn read_lock(
    src: &dyn Source,
    path: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<(FileId, String)> {
    match src.read_text(path) {
        Ok(Some(text)) => {
            let id = sources.add(SourceFile::new(path, text.clone()));
            Some((id, text))
        }
        Ok(None) => None,
        Err(e) => {
            let mut d = io_diag(e);
            if d.code == Code::ProjectConfig {
                // Not valid UTF-8, unreadable: a lock finding, so that
                // `check --locked` does not add "not current" to it.
                d.code = Code::LockSyntax;
                d = d.help(format!(
                    "restore {path} from git (`git checkout {path}`), then run `siteconf lock`"
                ));
            }
            diags.push(d);
            None
        }
    }
}

/// The entities whose presence makes a file a site file. (`profile` and
/// `group` are left out: `[profile.release]` is a Cargo.toml's.)
const SITE_ENTITIES: &[&str] = &["site", "network", "rack", "switch", "node", "bgp-peer"];

/// Site-looking files outside the site directory are only looked for in
/// files up to this size.
const STRAY_MAX_BYTES: usize = 4 << 20;

/// Files around the site that are not read but look meant to be: those
/// under the site directory with another extension (`unread`, except
/// hidden files and `*.md` notes), and `.kdl`/`.toml` files declaring site
/// entities at the top of the project ([`Source::list_top`]) outside the
/// site, template and output directories. Their text is added to
/// `sources` so the warnings can point into them.
fn strays(
    src: &dyn Source,
    config: &Config,
    sites: &[Config],
    unread: &[String],
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<crate::model::StrayFile> {
    use crate::model::{StrayFile, StrayKind};
    let mut out = Vec::new();
    for path in unread {
        let hidden = path.split('/').any(|c| c.starts_with('.'));
        let note = hidden || path.to_ascii_lowercase().ends_with(".md");
        // A binary file (an image of the rack) is deliberately not a site file.
        let Ok(Some(text)) = src.read_text(path) else {
            continue;
        };
        // A private key saved among the site files (`site/deploy_key`,
        // `site/.ipmi.pem`) is committed with them, read or not: masked
        // and reported like one pasted into a site file (SC0086).
        let keys = crate::syntax::redact::private_keys(Format::Kdl, &text);
        if note && keys.is_empty() {
            continue;
        }
        let id = sources.add(SourceFile::new(path.clone(), text));
        if !keys.is_empty() {
            sources.redact_found(id, keys.iter().flat_map(|k| k.masked()).collect());
            private_key_findings(id, &keys, diags);
        }
        // A key file is SC0086's alone: "rename it to be read" is no advice
        // for it.
        if note || !keys.is_empty() {
            continue;
        }
        out.push(StrayFile {
            kind: StrayKind::Ignored,
            path: path.clone(),
            span: Span::new(id, 0, 0),
            entity: String::new(),
        });
    }
    let dir = |d: &str| d.trim_matches('/').trim_start_matches("./").to_string();
    let site_dir = dir(&config.site_dir);
    if site_dir.is_empty() || site_dir == "." {
        return out;
    }
    let inside = |p: &str, d: &str| !d.is_empty() && p.starts_with(&format!("{d}/"));
    let mut skip = vec![site_dir, dir(&config.templates_dir), dir(&config.out_dir)];
    for c in sites {
        skip.extend(c.read_dirs().into_iter().map(dir));
    }
    let Ok(top) = src.list_top() else {
        return out;
    };
    for path in top {
        let Some(format) = Format::from_path(&path) else {
            continue;
        };
        if path == CONFIG_FILE || skip.iter().any(|d| inside(&path, d)) {
            continue;
        }
        let Ok(Some(text)) = src.read_text(&path) else {
            continue;
        };
        if text.len() > STRAY_MAX_BYTES {
            continue;
        }
        // The id the file gets if it is kept.
        let id = FileId(sources.files().count() as u32);
        let (doc, _) = syntax::parse(format, id, &text);
        let Some(first) = doc
            .nodes
            .iter()
            .find(|n| SITE_ENTITIES.contains(&n.name.text.as_str()))
        else {
            continue;
        };
        let (span, entity) = (first.name.span, first.name.text.clone());
        sources.add(SourceFile::new(path.clone(), text));
        out.push(StrayFile {
            kind: StrayKind::Outside,
            path,
            span,
            entity,
        });
    }
    out
}

/// Every input file of a build, sorted: siteconf.toml, the lock, what the
/// site directories and the templates directory hold (the files
/// [`input_digests`] digests, and a gate policy's `paths` name).
pub fn input_paths(src: &dyn Source, config: &Config) -> Result<Vec<String>, SourceError> {
    let mut paths = vec![CONFIG_FILE.to_string(), config.lock_file.clone()];
    for d in config.read_dirs() {
        paths.extend(src.list(d)?);
    }
    if config.templates_dir != config.site_dir {
        paths.extend(src.list(&config.templates_dir)?);
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// The SHA-256 of every file that can change the output, by path: the two
/// project files and everything under the site and template directories.
/// Anything else in the repository (docs, CI files, a build directory)
/// cannot change what lands on machines, so it is not an input. Files the
/// check already read (`read`) are hashed from memory; only the rest
/// (templates, non-site files in the site directory) are read again.
pub fn input_digests(
    src: &dyn Source,
    config: &Config,
    read: &SourceMap,
) -> Result<std::collections::BTreeMap<String, [u8; 32]>, SourceError> {
    use sha2::Digest;
    let known: std::collections::BTreeMap<&str, &str> = read
        .files()
        .map(|(_, f)| (f.path.as_str(), f.text.as_str()))
        .collect();
    let paths = input_paths(src, config)?;
    let hashed: Vec<(String, Option<[u8; 32]>)> = paths
        .into_par_iter()
        .map(|p| {
            let h = match known.get(p.as_str()) {
                Some(text) => Some(sha2::Sha256::digest(text.as_bytes()).into()),
                None => src
                    .read(&p)?
                    .map(|bytes| sha2::Sha256::digest(&bytes).into()),
            };
            Ok((p, h))
        })
        .collect::<Result<_, SourceError>>()?;
    Ok(hashed
        .into_iter()
        .filter_map(|(p, h)| h.map(|h| (p, h)))
        .collect())
}

#[cfg(test)]
mod out_dir_tests {
    use super::{out_dir_conflict, Config};

    #[test]
    fn an_output_directory_is_none_of_the_directories_siteconf_reads() {
        let c = Config::default();
        let conflict = |p: &str| {
            let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            out_dir_conflict(&c, &parts)
        };
        assert_eq!(conflict("").as_deref(), Some("is the project directory"));
        assert_eq!(conflict("site").as_deref(), Some("is `site-dir`"));
        assert_eq!(
            conflict("site/generated").as_deref(),
            Some("is inside `site-dir` (`site`)")
        );
        assert_eq!(
            conflict("templates/x").as_deref(),
            Some("is inside `templates-dir` (`templates`)")
        );
        assert_eq!(conflict("out"), None);
        assert_eq!(conflict("build/out"), None);
        // A name that only starts like the site directory is another one.
        assert_eq!(conflict("site-out"), None);
    }
}

#[cfg(test)]
mod secrets_config_tests {
    use super::*;

    fn read(text: &str) -> (Config, Vec<Diagnostic>) {
        let src = crate::source::mem::MemSource::new().with(CONFIG_FILE, text);
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::new();
        let c = read_config(&src, &mut sources, &mut diags);
        (c, diags.into_iter().collect())
    }

    #[test]
    fn an_env_prefix_that_is_not_siteconfs_is_refused_at_the_key() {
        for prefix in ["R", "", "AWS_", "siteconf_secret_"] {
            let text = format!("[secrets]\nfile = \"s.toml\"\nenv-prefix = \"{prefix}\"\n");
            let (c, d) = read(&text);
            assert_eq!(d.len(), 1, "{prefix:?}: {d:?}");
            assert_eq!(d[0].code, Code::SecretsEnvPrefix);
            // Nothing after the check sees the prefix.
            assert_eq!(c.secrets.env_prefix, "SITECONF_SECRET_");
            assert_eq!(c.secrets.file_line, Some(2));
        }
        for prefix in ["SITECONF_SECRET_", "SITECONF_PROD_"] {
            let (c, d) = read(&format!("[secrets]\nenv-prefix = \"{prefix}\"\n"));
            assert!(d.is_empty(), "{d:?}");
            assert_eq!(c.secrets.env_prefix, prefix);
        }
    }
}
