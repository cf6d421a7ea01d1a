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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            site_dir: "site".into(),
            templates_dir: "templates".into(),
            out_dir: "out".into(),
            secrets: SecretsConfig::default(),
            diff: DiffConfig::default(),
            gate: toml::Table::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsConfig {
    /// A TOML file of `name = "value"`, outside git in real use.
    pub file: Option<String>,
    /// Environment variables `PREFIX<NAME>` (name upper-cased, `-`/`/`/`.` → `_`).
    pub env_prefix: String,
}

impl Default for SecretsConfig {
    fn default() -> SecretsConfig {
        SecretsConfig {
            file: None,
            env_prefix: "SITECONF_SECRET_".into(),
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

/// The result of the front half of the pipeline.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub sources: SourceMap,
    pub site: Site,
    pub index: SiteIndex,
    /// The lock file's text, if there is one (parsed by `crate::resolve`).
    pub lock: Option<(FileId, String)>,
}

fn io_diag(e: SourceError) -> Diagnostic {
    let refused = e.message == crate::source::fs::SYMLINK_REFUSED
        || e.message == crate::source::fs::OUTSIDE_REFUSED;
    if refused {
        // Only the path is named: never the link's target or its content.
        return Diagnostic::error(
            Code::ProjectPathRefused,
            format!("cannot read {}: {}", e.path, e.message),
        )
        .help(format!(
            "replace `{}` by a regular file (or directory) inside the project; siteconf does not follow links",
            e.path
        ));
    }
    Diagnostic::error(
        Code::ProjectConfig,
        format!("cannot read {}: {}", e.path, e.message),
    )
}

/// The directory keys of siteconf.toml, with their spans, to report one
/// that leaves the project at the exact value.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct DirSpans {
    site_dir: Option<toml::Spanned<String>>,
    templates_dir: Option<toml::Spanned<String>>,
}

/// `site-dir` and `templates-dir` must name a directory inside the project
/// (relative, no `..`): site files and templates are read from the
/// repository under review, never from elsewhere on the machine. `out-dir`
/// may be anywhere (it is where the operator wants output written; the
/// writer refuses to replace a directory that is not a siteconf output),
/// and so may `[secrets] file` (kept outside git by design).
fn check_dirs(id: FileId, text: &str, config: &mut Config, diags: &mut Diagnostics) {
    let spans: DirSpans = toml::from_str(text).unwrap_or_default();
    let keys = [
        ("site-dir", spans.site_dir, &mut config.site_dir),
        (
            "templates-dir",
            spans.templates_dir,
            &mut config.templates_dir,
        ),
    ];
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

/// What a refused `site-dir`/`templates-dir` becomes: a name no source can
/// list (a NUL), so nothing outside the project is read and no second
/// "no site files" finding follows the first.
pub const REFUSED_DIR: &str = "\0refused";

/// Reads `siteconf.toml` (optional) from a source.
pub fn read_config(src: &dyn Source, sources: &mut SourceMap, diags: &mut Diagnostics) -> Config {
    match src.read_text(CONFIG_FILE) {
        Ok(None) => Config::default(),
        Err(e) => {
            diags.push(io_diag(e));
            Config::default()
        }
        Ok(Some(text)) => {
            let id = sources.add(SourceFile::new(CONFIG_FILE, text.clone()));
            match toml::from_str::<Config>(&text) {
                Ok(mut c) => {
                    check_dirs(id, &text, &mut c, diags);
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
}

impl ConfigFile {
    pub fn read(src: &dyn Source) -> ConfigFile {
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::new();
        let config = read_config(src, &mut sources, &mut diags);
        ConfigFile {
            config,
            sources,
            diags,
        }
    }
}

/// discover → parse → lower. Files are parsed in parallel; the documents
/// are lowered in path order so diagnostics and the model are deterministic.
pub fn load(src: &dyn Source, diags: &mut Diagnostics) -> Loaded {
    load_configured(src, ConfigFile::read(src), diags)
}

/// [`load`] with `siteconf.toml` already read ([`ConfigFile::read`]); its
/// findings join `diags`.
pub fn load_configured(src: &dyn Source, config: ConfigFile, diags: &mut Diagnostics) -> Loaded {
    let ConfigFile {
        config,
        mut sources,
        diags: config_diags,
    } = config;
    diags.extend(config_diags);
    let refused = config.site_dir == REFUSED_DIR;
    let (paths, unread): (Vec<String>, Vec<String>) = match src.list(&config.site_dir) {
        _ if refused => (Vec::new(), Vec::new()),
        Ok(p) => p.into_iter().partition(|p| Format::from_path(p).is_some()),
        Err(e) => {
            diags.push(io_diag(e));
            (Vec::new(), Vec::new())
        }
    };
    if paths.is_empty() && !refused {
        diags.push(
            Diagnostic::error(
                Code::ProjectConfig,
                format!(
                    "no site files (*.kdl, *.toml) under `{}/` in the {}",
                    config.site_dir,
                    src.describe()
                ),
            )
            .help("run `siteconf init DIR` to create a site, or use `-C DIR` to point at one"),
        );
    }
    let texts: Vec<(String, Result<Option<String>, SourceError>)> = paths
        .par_iter()
        .map(|p| (p.clone(), src.read_text(p)))
        .collect();
    let mut files = Vec::new();
    for (path, t) in texts {
        match t {
            Ok(Some(text)) => {
                let format = Format::from_path(&path).unwrap_or(Format::Kdl);
                let id = sources.add(SourceFile::new(path, text));
                files.push((id, format));
            }
            Ok(None) => {}
            Err(e) => diags.push(io_diag(e)),
        }
    }
    // Parse and lower each file on its own thread; its document tree is
    // dropped as soon as it is lowered, so peak memory holds one tree per
    // thread, not all of them.
    let lowered: Vec<(Site, Diagnostics)> = files
        .par_iter()
        .map(|&(id, format)| {
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
            (part, d)
        })
        .collect();
    // Parsed and lowered: the kept texts can now lose every value at a
    // secret-bearing position, before anything can print them.
    for &(id, format) in &files {
        sources.redact_secrets(id, format);
    }
    let mut site = Site::default();
    for (part, d) in lowered {
        diags.extend(d);
        site = lower::merge(site, part, diags);
    }
    site.strays = strays(src, &config, &unread, &mut sources);
    let index = SiteIndex::build(&site);
    let lock = match src.read_text(LOCK_FILE) {
        Ok(Some(text)) => {
            let id = sources.add(SourceFile::new(LOCK_FILE, text.clone()));
            Some((id, text))
        }
        Ok(None) => None,
        Err(e) => {
            let mut d = io_diag(e);
            if d.code == Code::ProjectConfig {
                // Not valid UTF-8, unreadable: a lock finding, so that
                // `check --locked` does not add "not current" to it.
                d.code = Code::LockSyntax;
                d = d.help("restore siteconf.lock from git (`git checkout siteconf.lock`), then run `siteconf lock`");
            }
            diags.push(d);
            None
        }
    };
    Loaded {
        config,
        sources,
        site,
        index,
        lock,
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
    unread: &[String],
    sources: &mut SourceMap,
) -> Vec<crate::model::StrayFile> {
    use crate::model::{StrayFile, StrayKind};
    let mut out = Vec::new();
    for path in unread {
        let hidden = path.split('/').any(|c| c.starts_with('.'));
        if hidden || path.to_ascii_lowercase().ends_with(".md") {
            continue;
        }
        // A binary file (an image of the rack) is deliberately not a site file.
        let Ok(Some(text)) = src.read_text(path) else {
            continue;
        };
        let id = sources.add(SourceFile::new(path.clone(), text));
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
    let skip = [site_dir, dir(&config.templates_dir), dir(&config.out_dir)];
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
    let mut paths = vec![CONFIG_FILE.to_string(), LOCK_FILE.to_string()];
    paths.extend(src.list(&config.site_dir)?);
    if config.templates_dir != config.site_dir {
        paths.extend(src.list(&config.templates_dir)?);
    }
    paths.sort();
    paths.dedup();
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
