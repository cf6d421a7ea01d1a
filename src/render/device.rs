//! Per-device rendering: which templates make a node's and a switch's files,
//! and rendering them for one device.
//!
//! Every template under `node/` renders once per node into
//! `nodes/<host>/<path>`, and every template under `switch/` once per switch
//! into `switches/<host>/<path>`, where `<path>` is the template's path
//! below `node/` or `switch/` without `.j2`. A template whose output is
//! empty (only whitespace) makes no file: that is how a template applies to
//! some devices only (FRR for nodes with BGP). Files and directories whose
//! name starts with `_` are partials (for `include`/`import`), not rendered
//! on their own.
//!
//! A placeholder in a node template's path renders it once per item, with
//! the item in the context: `{repo}` once per repository (`repo`), `{user}`
//! once per user with SSH keys (`user`, `keys`).
//!
//! Templates under `node/cloud-init/` render last and see `files`: every
//! other file of the node with its target path on the machine, mode, kind,
//! content and base64 content, for `write_files`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, Value};
use minijinja::Environment;
use serde::Serialize;

use super::context::{NodeView, SiteView, SwitchView};

use super::engine::{base64, failure_key, FailureKey, RenderFlags, Templates};
use super::secrets::Secrets;
use crate::diag::Code;
use crate::output::{Artifact, Owner};

/// Any serialisable view as a template value.
pub fn to_value<T: Serialize>(x: &T) -> Value {
    Value::from(minijinja::value::Serde(x))
}

/// What a device's path placeholder iterates over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    Once,
    Repo,
    User,
}

/// One template that makes files for each device of a kind.
#[derive(Debug, Clone)]
pub struct Entry {
    pub template: String,
    /// Output path below the device directory, placeholders unexpanded.
    pub rel: String,
    pub kind: &'static str,
    pub expand: Expand,
    /// The project's own text ([`Templates::overridden`]): its output is
    /// checked (SC0906, SC0907); a built-in template's is not.
    pub overridden: bool,
}

/// The entry templates of a build, in name order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub node: Vec<Entry>,
    /// `node/cloud-init/…`: rendered after the node's other files.
    pub node_late: Vec<Entry>,
    pub switch: Vec<Entry>,
}

/// The artifact kind of a file, by its path below the device directory.
pub fn kind_of(rel: &str) -> &'static str {
    match rel {
        "hostname" => "hostname",
        "hosts" => "hosts",
        "etc/frr/frr.conf" => "frr",
        "etc/frr/daemons" => "frr-daemons",
        "cloud-init/user-data" => "cloud-init-user-data",
        "cloud-init/meta-data" => "cloud-init-meta-data",
        "cloud-init/network-config" => "cloud-init-network-config",
        r if r.starts_with("etc/netplan/") => "netplan",
        r if r.starts_with("etc/apt/sources.list.d/") => "apt-sources",
        r if r.starts_with("etc/ssh/sshd_config.d/") => "sshd",
        r if r.starts_with("etc/ssh/authorized_keys/") => "authorized-keys",
        _ => "file",
    }
}

/// The mode a kind of file gets unless its template asks for another:
/// netplan ignores (and warns about) a netplan file others can read.
fn default_mode(kind: &str) -> u32 {
    match kind {
        "netplan" => 0o600,
        _ => 0o644,
    }
}

/// Where a node file goes on the machine: files at the top of the node's
/// directory (`hostname`, `hosts`) are `/etc/<name>`, the rest mirror the
/// root filesystem (`etc/frr/frr.conf` → `/etc/frr/frr.conf`).
pub fn target_path(rel: &str) -> String {
    if rel.contains('/') {
        format!("/{rel}")
    } else {
        format!("/etc/{rel}")
    }
}

/// Finds the entry templates; a path placeholder that is not known is a
/// template error (returned with the template's name).
pub fn plan(templates: &Templates) -> (Plan, Vec<(String, String)>) {
    let mut p = Plan::default();
    let mut bad = Vec::new();
    for f in templates.files() {
        let name = f.name.as_str();
        let Some(stem) = name.strip_suffix(".j2") else {
            continue;
        };
        if stem.split('/').any(|c| c.starts_with('_')) {
            continue;
        }
        let (device, rel) = match stem.split_once('/') {
            Some((d @ ("node" | "switch"), rel)) => (d, rel),
            _ => continue,
        };
        // (`.` and `..` are not hidden names: the output path check
        // refuses them for what they are.)
        if let Some(c) = rel
            .split('/')
            .find(|c| c.starts_with('.') && *c != "." && *c != "..")
        {
            // Refused where it is declared, once, rather than per device.
            bad.push((
                name.to_string(),
                format!(
                    "the output name has a hidden component `{c}`; siteconf writes no hidden files (they escape a reviewer's listing)"
                ),
            ));
            continue;
        }
        let mut expand = Expand::Once;
        let mut rest = rel;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let ph = &rest[open..open + close + 1];
            match (device, ph, expand) {
                ("node", "{repo}", Expand::Once) => expand = Expand::Repo,
                ("node", "{user}", Expand::Once) => expand = Expand::User,
                _ => bad.push((
                    name.to_string(),
                    format!(
                        "unknown placeholder `{ph}` in the template's file name; node templates may use one of {{repo}}, {{user}}; switch templates none"
                    ),
                )),
            }
            rest = &rest[open + close + 1..];
        }
        let e = Entry {
            template: name.to_string(),
            rel: rel.to_string(),
            kind: kind_of(rel),
            expand,
            overridden: templates.overridden(name),
        };
        match device {
            "node" if rel.starts_with("cloud-init/") => p.node_late.push(e),
            "node" => p.node.push(e),
            _ => p.switch.push(e),
        }
    }
    (p, bad)
}

/// The files and failures of one device.
#[derive(Debug, Default)]
pub struct DeviceOut {
    /// (artifact, holds a secret)
    pub files: Vec<(Artifact, bool)>,
    /// (failure, help, secret name for SC0902)
    pub failures: Vec<(FailureKey, Option<String>, Option<String>)>,
    /// Per file that holds a secret (its path), the names of the secrets
    /// `secret()` resolved into it.
    pub secret_names: BTreeMap<String, BTreeSet<String>>,
    /// A node whose NoCloud seed holds a secret (SC1214).
    pub seed_secret: Option<SeedSecret>,
    /// Templates the device depends on that rendered empty (SC0906).
    pub empty: Vec<&'static str>,
    /// The node's files an overridden `user-data` does not carry (SC0909):
    /// (target on the machine, kind).
    pub unseeded: Vec<Unseeded>,
}

/// A file of a node its `user-data` does not carry: (target on the
/// machine, kind).
pub type Unseeded = (String, &'static str);

/// The kinds of a node's files its `user-data` must carry to the machine
/// (SC0909): what the node cannot be reached, logged into or routed
/// without.
pub const SEED_CARRIES: &[&str] = &[
    "authorized-keys",
    "sshd",
    "netplan",
    "frr",
    "frr-daemons",
    "apt-sources",
];

/// The files of [`SEED_CARRIES`] among the node's `files` (below `dir`)
/// that a `#cloud-config` user-data does not carry: neither a
/// `write_files` entry has its target path nor a `bootcmd` or `runcmd`
/// command fetches or writes it ([`command_writes`]: `curl`, `wget`, `cp`,
/// `install`, `tee` … with the path, or a `>` into it; a `chmod` or
/// `chown` of it carries nothing). A command that unpacks an archive
/// (`curl … | tar -x`, `tar -xf`, `unzip`) may carry any file: then none
/// is missing. A cloud-config behind cloud-init's Jinja header (`##
/// template: jinja` on the first line) is looked into too. A user-data
/// that is not `#cloud-config` (a script, a MIME archive, `#include`) is
/// not, nor one that does not parse (SC0907's).
pub fn seed_missing(
    text: &str,
    dir: &str,
    files: &[(Artifact, bool)],
) -> Vec<(String, &'static str)> {
    use serde_norway::Value as Yaml;
    if !cloud_config(text) {
        return Vec::new();
    }
    let Ok(doc) = serde_norway::from_str::<Yaml>(text) else {
        return Vec::new();
    };
    let written: BTreeSet<String> = doc
        .get("write_files")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("path")?.as_str())
        .map(|p| p.trim().to_string())
        .collect();
    // Each command as a shell line: a list's words joined.
    let commands: Vec<String> = ["bootcmd", "runcmd"]
        .iter()
        .filter_map(|k| doc.get(*k)?.as_sequence())
        .flatten()
        .filter_map(|c| match c {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Sequence(words) => Some(
                words
                    .iter()
                    .filter_map(|w| match w {
                        Yaml::String(s) => Some(s.clone()),
                        Yaml::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
        .collect();
    if commands.iter().any(|c| unpacks(c)) {
        return Vec::new();
    }
    let mut missing: Vec<(String, &'static str)> = files
        .iter()
        .filter_map(|(a, _)| {
            let kind = *SEED_CARRIES.iter().find(|k| **k == a.kind)?;
            let rel = a.path.strip_prefix(dir)?.trim_start_matches('/');
            let target = target_path(rel);
            (!written.contains(&target) && !commands.iter().any(|c| command_writes(c, &target)))
                .then_some((target, kind))
        })
        .collect();
    // The worst losses first: keys, sshd, the network, routing, packages.
    missing.sort_by_key(|(t, kind)| (SEED_CARRIES.iter().position(|k| k == kind), t.clone()));
    missing
}

/// Whether a user-data is cloud-config: `#cloud-config` on its first line,
/// or on the line after cloud-init's Jinja header (`## template: jinja`,
/// which cloud-init renders first, then reads as the rest says).
pub fn cloud_config(text: &str) -> bool {
    if text.starts_with("#cloud-config") {
        return true;
    }
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let header = first.trim_end().strip_prefix("##").map(str::trim_start);
    header
        .and_then(|h| h.get(..9))
        .is_some_and(|h| h.eq_ignore_ascii_case("template:"))
        && header.is_some_and(|h| h[9..].trim().eq_ignore_ascii_case("jinja"))
        && rest.starts_with("#cloud-config")
}

/// The commands that fetch or write a file given its path as an argument.
const WRITERS: &[&str] = &[
    "curl", "wget", "cp", "install", "tee", "mv", "rsync", "scp", "dd", "ln",
];

/// The words of a shell line, quotes dropped (no more is needed to tell
/// which command a path is given to).
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | '`'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The simple commands of a shell line: split at `;`, `&`, `|` and line
/// breaks (so `&&`, `||` and pipes too).
fn simple_commands(line: &str) -> impl Iterator<Item = &str> {
    line.split([';', '&', '|', '\n'])
}

/// Whether a command (a shell line) fetches or writes the file at
/// `target`: a simple command of it names the path and is one of
/// [`WRITERS`] (by its base name, wherever it stands: `sh -c 'curl …'`,
/// `sudo cp …`), or redirects into it (`> /etc/frr/frr.conf`). A `chmod`,
/// `chown` or `ls` of the path only names it.
pub fn command_writes(line: &str, target: &str) -> bool {
    simple_commands(line).any(|cmd| {
        let Some(at) = cmd.find(target) else {
            return false;
        };
        let after = cmd[at + target.len()..].chars().next();
        // `/etc/frr/frr.conf.bak` is another file.
        if after.is_some_and(|c| !(c.is_whitespace() || matches!(c, '"' | '\''))) {
            return false;
        }
        let before = cmd[..at].trim_end_matches(['"', '\'']).trim_end();
        if before.ends_with('>') {
            return true;
        }
        words(cmd)
            .iter()
            .any(|w| WRITERS.contains(&w.rsplit('/').next().unwrap_or(w)))
    })
}

/// Whether a command unpacks an archive (`tar -x`, `tar xzf`, `tar
/// --extract`, `unzip`, `cpio -i`): a bundle of files the user-data does
/// not list one by one.
pub fn unpacks(line: &str) -> bool {
    simple_commands(line).any(|cmd| {
        let w = words(cmd);
        let base = |x: &str| x.rsplit('/').next().unwrap_or(x).to_string();
        w.iter().enumerate().any(|(i, x)| match base(x).as_str() {
            "tar" | "bsdtar" => w[i + 1..].iter().enumerate().any(|(k, o)| {
                (o.starts_with('-') && !o.starts_with("--") && o.contains('x'))
                    || *o == "--extract"
                    || *o == "--get"
                    // The old style: `tar xzf bundle.tar.gz`.
                    || (k == 0
                        && o.starts_with('x')
                        && o.chars().all(|c| c.is_ascii_alphabetic()))
            }),
            "unzip" => true,
            "cpio" => w[i + 1..]
                .iter()
                .any(|o| o.starts_with('-') && !o.starts_with("--") && o.contains('i')),
            _ => false,
        })
    })
}

/// The templates a device cannot do without, by name, and whether a
/// device needs it (`routed`: a node with BGP sessions, a switch with an
/// ASN): an override that renders nothing for it is SC0906 (the code's
/// text says why each is here).
pub const REQUIRED: &[(&str, bool)] = &[
    ("node/etc/netplan/50-siteconf.yaml.j2", false),
    ("node/etc/ssh/sshd_config.d/50-siteconf.conf.j2", false),
    ("node/hostname.j2", false),
    ("node/cloud-init/meta-data.j2", false),
    ("node/cloud-init/user-data.j2", false),
    ("node/etc/frr/frr.conf.j2", true),
    ("node/etc/frr/daemons.j2", true),
    ("switch/etc/frr/frr.conf.j2", true),
];

fn required(template: &str, routed: bool) -> Option<&'static str> {
    REQUIRED
        .iter()
        .find(|(t, only_routed)| *t == template && (routed || !only_routed))
        .map(|(t, _)| *t)
}

/// Whether a file at `rel` (below a device's directory, or a site-wide
/// path) is YAML or JSON its consumer parses, and which; `None` for other
/// files. A `user-data` that is not `#cloud-config` (a script, a MIME
/// archive) is not YAML.
pub fn structured(rel: &str, text: &str) -> Option<&'static str> {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    if base.ends_with(".json") {
        return Some("JSON");
    }
    if base.ends_with(".yaml") || base.ends_with(".yml") {
        return Some("YAML");
    }
    match rel {
        "cloud-init/meta-data" | "cloud-init/network-config" => Some("YAML"),
        "cloud-init/user-data" if text.starts_with("#cloud-config") => Some("YAML"),
        _ => None,
    }
}

/// Why the text of a structured file does not parse: the parser's message.
pub fn parse_problem(format: &str, text: &str) -> Option<String> {
    match format {
        // The syntax only (`IgnoredAny`): a repeated key, which the
        // consumers take (the last one wins), is not refused here.
        "JSON" => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .map(|e| e.to_string()),
        _ => {
            // Every document of the stream (netplan and cloud-init read one).
            use serde::Deserialize;
            for doc in serde_norway::Deserializer::from_str(text) {
                if let Err(e) = serde::de::IgnoredAny::deserialize(doc) {
                    return Some(e.to_string());
                }
            }
            None
        }
    }
}

/// A node's seed files that hold a secret: written 0600, which the boot
/// service's nginx cannot read (403).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSecret {
    /// The seed files (`user-data`, …).
    pub seeds: Vec<String>,
    /// The node's other files holding a secret, below its directory
    /// (`etc/ipmi.conf`): what the seed embeds.
    pub embedded: Vec<String>,
    /// The secrets' names, where known (not for a device kept from an
    /// earlier build).
    pub names: BTreeSet<String>,
}

/// What every render of a build shares.
pub struct Shared<'a> {
    pub env: &'a Environment<'static>,
    pub templates: &'a Templates,
    pub plan: &'a Plan,
    pub secrets: &'a Secrets,
    pub site: Value,
}

impl Shared<'_> {
    #[allow(clippy::too_many_arguments)]
    fn render_file(
        &self,
        entry: &Entry,
        rel: String,
        ctx: Value,
        routed: bool,
        owner: &Owner,
        dir: &str,
        out: &mut DeviceOut,
    ) {
        super::engine::begin_render();
        let result = self.env.get_template(&entry.template).and_then(|t| {
            let cap = t.render_captured(ctx)?;
            let flags = cap
                .state()
                .get_extension::<RenderFlags>()
                .cloned()
                .unwrap_or_default();
            Ok((cap.into_output(), flags))
        });
        let (text, flags) = match result {
            Ok(r) => r,
            Err(e) => {
                out.failures
                    .push((failure_key(self.templates, &entry.template, &e), None, None));
                return;
            }
        };
        if !flags.missing_secrets.is_empty() {
            for name in &flags.missing_secrets {
                if name == super::engine::COMPUTED_NAME {
                    let key = FailureKey {
                        code: Code::SecretUnresolved,
                        template: self.templates.index_of(&entry.template),
                        range: None,
                        line: None,
                        what: "a secret whose name was computed after a secret was read is not set (name withheld)".into(),
                    };
                    let help = "a secret's name must not be derived from a secret's value: pass secret() a name the site or the template spells out".to_string();
                    out.failures.push((key, Some(help), None));
                    continue;
                }
                let key = FailureKey {
                    code: Code::SecretUnresolved,
                    template: self.templates.index_of(&entry.template),
                    range: None,
                    line: None,
                    what: format!("secret `{name}` is not set"),
                };
                let help = format!(
                    "set the environment variable {} or add `\"{name}\" = \"…\"` to the secrets file named by `[secrets] file` in siteconf.toml",
                    self.secrets.env_var(name)
                );
                out.failures.push((key, Some(help), Some(name.clone())));
            }
            return;
        }
        if text.trim().is_empty() {
            if entry.overridden {
                out.empty.extend(required(&entry.template, routed));
            }
            return;
        }
        let kind = kind_of(&rel);
        if entry.overridden {
            if let Some(format) = structured(&rel, &text) {
                if let Some(why) = parse_problem(format, &text) {
                    let why = if flags.secret_used || super::engine::secret_was_read() {
                        super::engine::WITHHELD.to_string()
                    } else {
                        why
                    };
                    let key = FailureKey {
                        code: Code::TemplateOutputInvalid,
                        template: self.templates.index_of(&entry.template),
                        range: None,
                        line: None,
                        what: format!("the rendered `{rel}` is not valid {format} ({why}; lines of the rendered file)"),
                    };
                    let help = format!("{} refuses the file as it is; fix the template (render it with `siteconf build` and read the file), or remove the override to use the built-in template", consumer(&rel));
                    out.failures.push((key, Some(help), None));
                    return;
                }
            }
        }
        if entry.overridden && rel == "cloud-init/user-data" {
            out.unseeded = seed_missing(&text, dir, &out.files);
        }
        // The rendered string grew by doubling; a fleet's worth of that
        // slack is hundreds of megabytes held until the write.
        let mut text = text;
        text.shrink_to_fit();
        // `secret()` resolved a value here, or the render read the text
        // of a file that holds one.
        let secret_used = flags.secret_used || super::engine::secret_was_read();
        let mode = if secret_used {
            0o600
        } else {
            flags.mode.unwrap_or_else(|| default_mode(kind))
        };
        if secret_used && !flags.resolved_secrets.is_empty() {
            out.secret_names
                .insert(format!("{dir}/{rel}"), flags.resolved_secrets.clone());
        }
        out.files.push((
            Artifact {
                path: format!("{dir}/{rel}"),
                bytes: text.into_bytes(),
                mode,
                owner: owner.clone(),
                kind: kind.to_string(),
                secret: secret_used,
            },
            secret_used,
        ));
    }

    #[allow(clippy::too_many_arguments)]
    fn render_entries(
        &self,
        entries: &[Entry],
        base: &[(&str, Value)],
        node: Option<&NodeView>,
        routed: bool,
        owner: &Owner,
        dir: &str,
        out: &mut DeviceOut,
    ) {
        let ctx = |extra: Vec<(&str, Value)>| -> Value {
            Value::from_pairs(base.iter().cloned().chain(extra))
        };
        for e in entries {
            match (e.expand, node) {
                (Expand::Repo, Some(n)) => {
                    for r in &n.repos {
                        let rel = e.rel.replace("{repo}", &r.name);
                        let c = ctx(vec![("repo", to_value(r))]);
                        self.render_file(e, rel, c, routed, owner, dir, out);
                    }
                }
                (Expand::User, Some(n)) => {
                    for (user, keys) in n.users.iter() {
                        let rel = e.rel.replace("{user}", user);
                        let c = ctx(vec![
                            ("user", Value::from(user.as_str())),
                            ("keys", to_value(keys)),
                        ]);
                        self.render_file(e, rel, c, routed, owner, dir, out);
                    }
                }
                _ => self.render_file(e, e.rel.clone(), ctx(Vec::new()), routed, owner, dir, out),
            }
        }
    }

    /// Every file of one node.
    pub fn node(&self, n: &NodeView) -> DeviceOut {
        let mut out = DeviceOut::default();
        let owner = Owner::Node(n.name.clone());
        let dir = format!("nodes/{}", n.name);
        let base = [("node", to_value(n)), ("site", self.site.clone())];
        let routed = !n.sessions.is_empty();
        self.render_entries(
            &self.plan.node,
            &base,
            Some(n),
            routed,
            &owner,
            &dir,
            &mut out,
        );
        let files: Vec<FileView> = out
            .files
            .iter()
            .map(|(a, secret)| {
                let rel = a.path.strip_prefix(&dir).unwrap_or(&a.path);
                FileView::new(rel.trim_start_matches('/'), &a.kind, a.mode, &a.bytes)
                    .holding_secret(*secret)
            })
            .collect();
        let mut late = base.to_vec();
        late.push(("files", FileView::values(files)));
        // A secret embedded in another file travels into user-data too:
        // a seed file that reads the text of a file holding a secret is
        // marked by that read (`FileView::get_value`), and only it — the
        // seed files that embed none stay readable by the boot service.
        self.render_entries(
            &self.plan.node_late,
            &late,
            Some(n),
            routed,
            &owner,
            &dir,
            &mut out,
        );
        out.seed_secret = seed_secret(&dir, &out);
        out
    }

    /// Every file of one switch.
    pub fn switch(&self, s: &SwitchView) -> DeviceOut {
        let mut out = DeviceOut::default();
        let owner = Owner::Switch(s.name.clone());
        let dir = format!("switches/{}", s.name);
        let base = [("switch", to_value(s)), ("site", self.site.clone())];
        let routed = s.asn.is_some();
        self.render_entries(
            &self.plan.switch,
            &base,
            None,
            routed,
            &owner,
            &dir,
            &mut out,
        );
        out
    }
}

/// Who reads a structured file, for a finding's help.
pub fn consumer(path: &str) -> &'static str {
    match path {
        p if p.contains("netplan/") => "netplan (`netplan generate`: \"Invalid YAML\")",
        p if p.contains("cloud-init/network-config") => {
            "cloud-init (and netplan, which it hands the network config to)"
        }
        p if p.contains("cloud-init/") => "cloud-init",
        p if p.contains("inventory/") => "Ansible (ansible-inventory)",
        p if p.contains("kea-dhcp4") => "kea-dhcp4",
        _ => "its consumer",
    }
}

/// The seed files of a node's render that hold a secret, with what they
/// embed; `None` when none does.
fn seed_secret(dir: &str, out: &DeviceOut) -> Option<SeedSecret> {
    let seed_dir = format!("{dir}/cloud-init/");
    let mut found = SeedSecret::default();
    for (a, secret) in &out.files {
        if !secret {
            continue;
        }
        let rel = a.path.strip_prefix(dir).unwrap_or(&a.path);
        let rel = rel.trim_start_matches('/').to_string();
        match a.path.strip_prefix(&seed_dir) {
            Some(seed) => found.seeds.push(seed.to_string()),
            None => found.embedded.push(rel),
        }
        if let Some(names) = out.secret_names.get(&a.path) {
            found.names.extend(names.iter().cloned());
        }
    }
    (!found.seeds.is_empty()).then_some(found)
}

/// A node file as cloud-init templates see it.
#[derive(Debug, Serialize)]
pub struct FileView {
    /// Below the node's directory.
    path: String,
    /// On the machine.
    target: String,
    kind: String,
    /// `"0644"`
    mode: String,
    /// The file's text, as written (`network-config` is the netplan
    /// file's: rendered once, not again from its template).
    content: String,
    content_b64: String,
    /// A template resolved a secret into this file: a render that reads
    /// its text (`content`, `content_b64`) holds the secret too.
    secret: bool,
}

/// Each field a template value on first use: a node's `files` carry every
/// file's text and base64 (tens of kilobytes), and a template reads a few
/// fields of a few files, so nothing is converted that is not read.
impl Object for FileView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let s = match key.as_str()? {
            "path" => &self.path,
            "target" => &self.target,
            "kind" => &self.kind,
            "mode" => &self.mode,
            "content" | "content_b64" if self.secret => {
                // The reading render now holds the secret: its file is
                // written 0600 and its errors withhold values.
                super::engine::mark_secret_read();
                if key.as_str() == Some("content") {
                    &self.content
                } else {
                    &self.content_b64
                }
            }
            "content" => &self.content,
            "content_b64" => &self.content_b64,
            _ => return None,
        };
        Some(Value::from(s.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["path", "target", "kind", "mode", "content", "content_b64"])
    }
}

impl FileView {
    /// `files` in a template: a list of [`FileView`] objects.
    pub fn values(files: Vec<FileView>) -> Value {
        Value::from(
            files
                .into_iter()
                .map(Value::from_object)
                .collect::<Vec<_>>(),
        )
    }

    /// The file at `rel` below the node's directory.
    pub fn new(rel: &str, kind: &str, mode: u32, bytes: &[u8]) -> FileView {
        FileView {
            path: rel.to_string(),
            target: target_path(rel),
            kind: kind.to_string(),
            mode: format!("{mode:04o}"),
            content: String::from_utf8_lossy(bytes).into_owned(),
            content_b64: base64(bytes),
            secret: false,
        }
    }

    /// The same, for a file into which a template resolved a secret.
    pub fn holding_secret(mut self, secret: bool) -> FileView {
        self.secret = secret;
        self
    }
}

const SITE_FIELDS: &[&str] = &[
    "name",
    "domain",
    "dns_servers",
    "ntp_servers",
    "timezone",
    "automation_user",
    "networks",
    "racks",
    "nodes",
    "switches",
    "groups",
    "boot",
    "bgp_peers",
];

/// `site` in templates: the whole [`SiteView`], each field converted to a
/// template value the first time any template reads it (a node template
/// that never looks at `site.nodes` costs nothing for it, and one that does
/// shares one conversion with every other node).
#[derive(Debug)]
pub struct SiteObject {
    view: Arc<SiteView>,
    cache: Vec<OnceLock<Value>>,
}

impl SiteObject {
    pub fn new(view: Arc<SiteView>) -> SiteObject {
        SiteObject {
            view,
            cache: SITE_FIELDS.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn field(&self, i: usize) -> Value {
        let v = &self.view;
        match SITE_FIELDS[i] {
            "name" => Value::from(v.name.as_str()),
            "domain" => Value::from(v.domain.as_str()),
            "dns_servers" => to_value(&v.dns_servers),
            "ntp_servers" => to_value(&v.ntp_servers),
            "timezone" => Value::from(v.timezone.as_str()),
            "automation_user" => to_value(&v.automation_user),
            "networks" => to_value(&v.networks),
            "racks" => to_value(&v.racks),
            "nodes" => to_value(&v.nodes),
            "switches" => to_value(&v.switches),
            "groups" => to_value(&v.groups),
            "boot" => to_value(&v.boot),
            _ => to_value(&v.bgp_peers),
        }
    }
}

impl Object for SiteObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = SITE_FIELDS.iter().position(|f| Some(*f) == key.as_str())?;
        Some(self.cache[i].get_or_init(|| self.field(i)).clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(SITE_FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::engine::{TemplateFile, TemplateOrigin};

    #[test]
    fn user_data_must_carry_the_nodes_files() {
        let file = |rel: &str| {
            (
                Artifact {
                    path: format!("nodes/n1/{rel}"),
                    bytes: Vec::new(),
                    mode: 0o644,
                    owner: Owner::Node("n1".into()),
                    kind: kind_of(rel).to_string(),
                    secret: false,
                },
                false,
            )
        };
        let files = vec![
            file("hostname"),
            file("etc/netplan/50-siteconf.yaml"),
            file("etc/ssh/authorized_keys/ops"),
            file("etc/frr/frr.conf"),
            file("cloud-init/meta-data"),
        ];
        let missing = |text: &str| -> Vec<String> {
            seed_missing(text, "nodes/n1", &files)
                .into_iter()
                .map(|(t, _)| t)
                .collect()
        };
        // Nothing written: every file that matters, keys first; not the
        // hostname (user-data sets it) nor the seed's own files.
        assert_eq!(
            missing("#cloud-config\nhostname: n1\n"),
            vec![
                "/etc/ssh/authorized_keys/ops",
                "/etc/netplan/50-siteconf.yaml",
                "/etc/frr/frr.conf"
            ]
        );
        // Written by write_files, or fetched by a command.
        let text = "#cloud-config\nwrite_files:\n  - path: \"/etc/netplan/50-siteconf.yaml\"\n    content: x\n  - path: /etc/ssh/authorized_keys/ops\n    content: y\nruncmd:\n  - [curl, -o, /etc/frr/frr.conf, http://boot/frr.conf]\n";
        assert!(missing(text).is_empty(), "{:?}", missing(text));
        // A path named in a comment is not written.
        let text = "#cloud-config\n# /etc/frr/frr.conf comes later\nwrite_files:\n  - path: /etc/netplan/50-siteconf.yaml\n  - path: /etc/ssh/authorized_keys/ops\n";
        assert_eq!(missing(text), vec!["/etc/frr/frr.conf"]);
        // Not cloud-config, or not YAML: not looked into.
        assert!(missing("#!/bin/sh\necho hi\n").is_empty());
        assert!(missing("#cloud-config\n: : [\n").is_empty());
        // cloud-init's Jinja header, then cloud-config: looked into.
        assert_eq!(
            missing("## template: jinja\n#cloud-config\nhostname: n1\n").len(),
            3
        );
        assert_eq!(
            missing("##template:JINJA\n#cloud-config\nhostname: n1\n").len(),
            3
        );
        // A command that only names a path (chmod, chown, the built-in
        // template's `chown frr:frr "$@"` with the paths as arguments)
        // carries nothing.
        let text = "#cloud-config\nwrite_files:\n  - path: /etc/netplan/50-siteconf.yaml\n  - path: /etc/ssh/authorized_keys/ops\nruncmd:\n  - [chmod, \"0600\", /etc/frr/frr.conf]\n  - - sh\n    - -c\n    - 'if getent passwd frr >/dev/null; then chown frr:frr \"$@\"; fi'\n    - frr-files\n    - /etc/frr/frr.conf\n";
        assert_eq!(missing(text), vec!["/etc/frr/frr.conf"]);
        // Written by a redirection, a shell line or `install`.
        for cmd in [
            "  - echo x > /etc/frr/frr.conf\n",
            "  - \"base64 -d >'/etc/frr/frr.conf' <<EOF\"\n",
            "  - [sh, -c, \"wget -qO /etc/frr/frr.conf http://boot/f && chmod 0640 /etc/frr/frr.conf\"]\n",
            "  - [/usr/bin/install, -m, \"0640\", /tmp/f, /etc/frr/frr.conf]\n",
        ] {
            let text = format!("#cloud-config\nwrite_files:\n  - path: /etc/netplan/50-siteconf.yaml\n  - path: /etc/ssh/authorized_keys/ops\nbootcmd:\n{cmd}");
            assert!(missing(&text).is_empty(), "{cmd}");
        }
        // A bundle fetched and unpacked may carry every file.
        for cmd in [
            "  - [sh, -c, \"curl -fsS http://boot/bundle.tar | tar -C / -x\"]\n",
            "  - tar -xzf /tmp/bundle.tgz -C /\n",
            "  - [tar, xf, /tmp/bundle.tar]\n",
        ] {
            let text = format!("#cloud-config\nruncmd:\n{cmd}");
            assert!(missing(&text).is_empty(), "{cmd}");
        }
        // `--exclude` is no extraction.
        assert_eq!(
            missing("#cloud-config\nruncmd:\n  - tar --exclude x -cf /tmp/a.tar /etc\n").len(),
            3
        );
    }

    #[test]
    fn plan_finds_entries_partials_and_placeholders() {
        let mut t = Templates::default();
        for name in [
            "node/hostname.j2",
            "node/_macros.j2",
            "node/etc/_parts/x.j2",
            "node/etc/apt/sources.list.d/{repo}.sources.j2",
            "node/cloud-init/user-data.j2",
            "node/etc/{bogus}.j2",
            "switch/etc/frr/frr.conf.j2",
            "site/hosts.yml.j2",
            "node/README.md",
        ] {
            t.insert(TemplateFile {
                name: name.into(),
                text: String::new(),
                origin: TemplateOrigin::Builtin,
            });
        }
        let (p, bad) = plan(&t);
        let names = |v: &[Entry]| v.iter().map(|e| e.rel.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&p.node),
            vec![
                "etc/apt/sources.list.d/{repo}.sources",
                "etc/{bogus}",
                "hostname"
            ]
        );
        assert_eq!(p.node[0].expand, Expand::Repo);
        assert_eq!(names(&p.node_late), vec!["cloud-init/user-data"]);
        assert_eq!(names(&p.switch), vec!["etc/frr/frr.conf"]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, "node/etc/{bogus}.j2");
    }

    #[test]
    fn structured_outputs_are_parsed_and_others_not() {
        assert_eq!(structured("etc/netplan/50-siteconf.yaml", ""), Some("YAML"));
        assert_eq!(structured("site/dhcp/kea-dhcp4.json", ""), Some("JSON"));
        assert_eq!(structured("cloud-init/meta-data", ""), Some("YAML"));
        assert_eq!(
            structured("cloud-init/user-data", "#cloud-config\n"),
            Some("YAML")
        );
        assert_eq!(structured("cloud-init/user-data", "#!/bin/sh\n"), None);
        assert_eq!(structured("etc/frr/frr.conf", ""), None);
        let bad = "network:\n  version: 2\n renderer: networkd\n";
        assert!(parse_problem("YAML", bad).is_some());
        assert!(parse_problem("YAML", "network:\n  version: 2\n").is_none());
        assert!(parse_problem("JSON", "{\"a\": }").is_some());
        assert!(parse_problem("JSON", "{}").is_none());
        // What the consumers take is not refused: a repeated key, a tag.
        assert!(parse_problem("YAML", "a: 1\na: 2\n").is_none());
        assert!(parse_problem("YAML", "a: !foo 1\n").is_none());
        assert!(parse_problem("YAML", "").is_none());
    }

    #[test]
    fn what_a_device_depends_on() {
        assert!(required("node/etc/netplan/50-siteconf.yaml.j2", false).is_some());
        assert!(required("node/etc/frr/frr.conf.j2", false).is_none());
        assert!(required("node/etc/frr/frr.conf.j2", true).is_some());
        assert!(required("node/hosts.j2", true).is_none());
    }

    #[test]
    fn targets_mirror_the_root_filesystem() {
        assert_eq!(target_path("hostname"), "/etc/hostname");
        assert_eq!(target_path("etc/frr/frr.conf"), "/etc/frr/frr.conf");
    }
}
