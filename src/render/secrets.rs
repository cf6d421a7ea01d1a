//! Secrets: values that site files only *name* (`password secret="bgp-upstream1"`)
//! and that templates resolve at render time with `secret(name)`.
//!
//! Where a value comes from, first match wins:
//! 1. the environment, `SITECONF_SECRET_<NAME>` (the prefix is `[secrets]
//!    env-prefix` in siteconf.toml; the name upper-cased, `-` `.` `/` → `_`);
//! 2. the secrets file (`[secrets] file`, a TOML table of `name = "value"`),
//!    which lives outside git in real use.
//!
//! Values never appear in `Debug` output, diagnostics, logs or JSON: only
//! names do. The CLI reads the environment and the file once
//! ([`Secrets::load`]); everything after that is pure.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::diag::{Code, Diagnostic};
use crate::project::SecretsConfig;

/// Resolved secret values by name.
#[derive(Clone, Default)]
pub struct Secrets {
    /// From the secrets file, by name.
    file: BTreeMap<String, String>,
    /// From the environment, by variable name (already prefixed).
    env: BTreeMap<String, String>,
    env_prefix: String,
    /// The secrets file as configured (or given with `--secrets`), for
    /// naming where a value came from; never read again.
    file_label: Option<String>,
    /// When set, every name resolves to a visible placeholder instead
    /// (for `diff` and review: where a secret is used, never its value).
    placeholder: bool,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: a value must never reach a log through `{:?}`.
        f.debug_struct("Secrets")
            .field("file_names", &self.file.keys().collect::<Vec<_>>())
            .field("env_names", &self.env.keys().collect::<Vec<_>>())
            .field("placeholder", &self.placeholder)
            .finish()
    }
}

pub use crate::model::names::{env_var_name, is_secret_name};

/// The placeholder of secret `name`: `<secret:` 16 hex digits of the
/// SHA-256 of the name `>`. Each secret has its own (a peer given another
/// secret is a changed line), of one length, and the name is not in it: a
/// template filter that transforms the placeholder (`reverse`, a slice,
/// `length`) cannot bring the name into the review.
pub fn placeholder_of(name: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(name.as_bytes());
    let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("<secret:{hex}>")
}

impl Secrets {
    /// No secrets at all: every `secret()` call is reported as unresolved.
    pub fn none() -> Secrets {
        Secrets {
            env_prefix: SecretsConfig::default().env_prefix,
            ..Secrets::default()
        }
    }

    /// Every name resolves to a placeholder, `<secret:` and a digest of
    /// the name (see [`placeholder_of`]): for comparing builds without
    /// access to (or exposure of) the values.
    pub fn placeholder() -> Secrets {
        Secrets {
            placeholder: true,
            ..Secrets::none()
        }
    }

    /// Secrets from explicit values (tests, embedding).
    pub fn from_values(values: impl IntoIterator<Item = (String, String)>) -> Secrets {
        Secrets {
            file: values.into_iter().collect(),
            ..Secrets::none()
        }
    }

    /// Reads the environment (variables with the configured prefix) and the
    /// secrets file, `file` (relative to `root` unless absolute; the config's
    /// `[secrets] file` when `None`). A missing or unreadable file, or one
    /// that is not a table of strings, is an error naming the file only.
    pub fn load(
        config: &SecretsConfig,
        root: &Path,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Result<Secrets, Diagnostic> {
        // Only variables with the prefix are looked at: any other one may
        // be anything (not UTF-8, a credential of another tool) and is
        // neither decoded nor kept. A secret that is not UTF-8 is an error
        // naming the variable, never showing its value.
        use std::os::unix::ffi::OsStrExt;
        // A prefix that is not siteconf's would open the machine's other
        // variables to a template (`check` reports it, SC0028): refused
        // here too, whoever built the config.
        if !config
            .env_prefix
            .starts_with(crate::project::ENV_PREFIX_REQUIRED)
        {
            return Err(Diagnostic::error(
                Code::SecretsEnvPrefix,
                format!(
                    "`[secrets] env-prefix` does not begin with `{}`; no other environment variable is read",
                    crate::project::ENV_PREFIX_REQUIRED
                ),
            )
            .help("remove `env-prefix` from siteconf.toml (the default is `SITECONF_SECRET_`) or give a prefix that begins with `SITECONF_`"));
        }
        let mut kept = BTreeMap::new();
        for (k, v) in env {
            if !k.as_bytes().starts_with(config.env_prefix.as_bytes()) {
                continue;
            }
            let name = k.to_string_lossy().into_owned();
            let Some(k) = k.to_str() else {
                return Err(Diagnostic::error(
                    Code::SecretUnresolved,
                    format!("the environment variable {name} is not valid UTF-8 in its name"),
                )
                .help("rename or unset the variable; secret names are letters, digits and `_`"));
            };
            let Ok(v) = v.into_string() else {
                return Err(Diagnostic::error(
                    Code::SecretUnresolved,
                    format!("the environment variable {k} holds a value that is not valid UTF-8 (not shown)"),
                )
                .help(format!("set {k} to the secret as UTF-8 text, or unset it")));
            };
            kept.insert(k.to_string(), v);
        }
        let env = kept;
        let mut s = Secrets {
            env,
            env_prefix: config.env_prefix.clone(),
            ..Secrets::default()
        };
        let path = match (file, &config.file) {
            (Some(f), _) => Some(root.join(f)),
            (None, Some(f)) => Some(root.join(f)),
            (None, None) => None,
        };
        s.file_label = file
            .map(|f| f.display().to_string())
            .or_else(|| config.file.clone());
        if let Some(path) = path {
            // A file named by siteconf.toml, which a merge request can
            // change, may be any file of the machine: an error about it says
            // only where it was named, never whether it exists, what it
            // holds or how it fails to parse. A file the operator gave
            // (`--secrets`, `SITECONF_SECRETS`) is described in full.
            let named_by_config = file.is_none();
            let vague = || {
                let at = config
                    .file_line
                    .map(|l| format!("{}:{l}", crate::project::CONFIG_FILE))
                    .unwrap_or_else(|| crate::project::CONFIG_FILE.to_string());
                Diagnostic::error(
                    Code::SecretUnresolved,
                    format!("cannot read the secrets file named at {at} (`[secrets] file`)"),
                )
                .help("make `[secrets] file` name a readable TOML file of `name = \"value\"` strings, or give the secrets file with `--secrets` (`SITECONF_SECRETS`), or the secrets through the environment")
            };
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| {
                if named_by_config {
                    return vague();
                }
                Diagnostic::error(
                    Code::SecretUnresolved,
                    format!("cannot read the secrets file {shown}: {e}"),
                )
                .help("give `--secrets` a readable TOML file of `name = \"value\"`, or provide the secrets through the environment")
            })?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                if named_by_config {
                    return vague();
                }
                // The parser's message may quote the offending line, which
                // could hold a value: give the position only.
                let at = e
                    .span()
                    .map(|r| {
                        let line = text[..r.start.min(text.len())].matches('\n').count() + 1;
                        format!(" (line {line})")
                    })
                    .unwrap_or_default();
                Diagnostic::error(
                    Code::SecretUnresolved,
                    format!("the secrets file {shown} is not valid TOML{at}"),
                )
            })?;
            for (k, v) in table {
                match v {
                    toml::Value::String(v) => {
                        s.file.insert(k, v);
                    }
                    _ if named_by_config => return Err(vague()),
                    _ => {
                        return Err(Diagnostic::error(
                            Code::SecretUnresolved,
                            format!("secret `{k}` in {shown} is not a string"),
                        ))
                    }
                }
            }
        }
        Ok(s)
    }

    /// The value of secret `name`, if any source has it.
    pub fn get(&self, name: &str) -> Option<String> {
        if self.placeholder {
            return Some(placeholder_of(name));
        }
        if let Some(v) = self.env.get(&env_var_name(&self.env_prefix, name)) {
            return Some(v.clone());
        }
        self.file.get(name).cloned()
    }

    /// Where the value of `name` comes from, for a message: "the
    /// environment variable X" or "the secrets file F". Never the value.
    pub fn origin(&self, name: &str) -> Option<String> {
        if self.placeholder {
            return None;
        }
        let var = env_var_name(&self.env_prefix, name);
        if self.env.contains_key(&var) {
            return Some(format!("the environment variable {var}"));
        }
        self.file
            .contains_key(name)
            .then(|| match &self.file_label {
                Some(f) => format!("the secrets file {f}"),
                None => "the secrets given to the build".to_string(),
            })
    }

    /// Whether every name resolves to a placeholder (diff, review).
    pub fn is_placeholder(&self) -> bool {
        self.placeholder
    }

    /// Every resolved value (to scrub them from text that must not hold one).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.file
            .values()
            .chain(self.env.values())
            .map(|s| s.as_str())
    }

    /// The variable a user would set to provide `name`.
    pub fn env_var(&self, name: &str) -> String {
        env_var_name(&self.env_prefix, name)
    }

    /// The SHA-256 of every name and value, with where each came from (the
    /// file or the environment) and whether these are placeholders: what
    /// the build stamp records of the secrets, so that a changed value
    /// renders again (`output::stamp`). Only this digest leaves the module
    /// for that; the stamp never sees a value.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(if self.placeholder { b"P" } else { b"R" });
        for (origin, map) in [(b"F", &self.file), (b"E", &self.env)] {
            for (k, v) in map {
                h.update(origin);
                for part in [k, v] {
                    h.update((part.len() as u64).to_le_bytes());
                    h.update(part.as_bytes());
                }
            }
        }
        h.finalize().into()
    }
}

/// FRR's limit on `neighbor … password`: the TCP MD5 key length
/// (TCP_MD5SIG_MAXKEYLEN); bgpd refuses a longer one ("% Invalid value").
pub const BGP_PASSWORD_MAX: usize = 80;

/// Why FRR refuses `value` as a BGP password, if it does: empty, white
/// space or a control character (the line would be cut or broken), or
/// longer than [`BGP_PASSWORD_MAX`] bytes. The reason never quotes it.
pub fn bgp_password_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(
            "holds white space or a control character (FRR reads the password as one word)".into(),
        );
    }
    if value.len() > BGP_PASSWORD_MAX {
        return Some(format!(
            "is {} bytes long, more than the {BGP_PASSWORD_MAX} FRR accepts (the TCP MD5 key limit)",
            value.len()
        ));
    }
    None
}

/// A secret reference from `vars` as templates see it: `secret(ref)`
/// resolves it (and makes the file 0600); printing it with `{{ … }}` is an
/// error; as text (`| string`, `~`, `| yaml`) it is `secret:NAME`, never the
/// value, which it does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::model::secret_display(&self.name))
    }
}

impl minijinja::value::Object for SecretRef {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// `vars` in a view, serialised so that templates get a [`SecretRef`]
/// object for each secret reference and everything else (JSON) gets
/// `"secret:NAME"`: `#[serde(serialize_with = "serialize_vars")]`.
pub fn serialize_vars<S: serde::Serializer>(
    vars: &serde_json::Map<String, serde_json::Value>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(vars.iter().map(|(k, v)| (k, VarValue(v))))
}

struct VarValue<'a>(&'a serde_json::Value);

impl serde::Serialize for VarValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_json::Value as Json;
        if let Some(name) = crate::model::secret_ref(self.0) {
            if minijinja::value::serializing_for_value() {
                let r = SecretRef {
                    name: name.to_string(),
                };
                return minijinja::Value::from_object(r).serialize(s);
            }
            return s.serialize_str(&crate::model::secret_display(name));
        }
        match self.0 {
            Json::Object(m) => s.collect_map(m.iter().map(|(k, v)| (k, VarValue(v)))),
            Json::Array(a) => s.collect_seq(a.iter().map(VarValue)),
            other => other.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_moves_with_every_value_and_its_origin() {
        let pair = |v: &str| vec![("bgp-upstream1".to_string(), v.to_string())];
        let a = Secrets::from_values(pair("one")).digest();
        assert_eq!(a, Secrets::from_values(pair("one")).digest());
        assert_ne!(a, Secrets::from_values(pair("two")).digest());
        assert_ne!(a, Secrets::none().digest());
        assert_ne!(Secrets::none().digest(), Secrets::placeholder().digest());
        // The same name and value from the environment instead of the file.
        let env = Secrets {
            env: [("bgp-upstream1".to_string(), "one".to_string())].into(),
            ..Secrets::none()
        };
        assert_ne!(a, env.digest());
    }

    #[test]
    fn env_wins_over_file_and_names_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("s.toml"),
            "bgp-upstream1 = \"from-file\"\nother = \"o\"\n",
        )
        .unwrap();
        let cfg = SecretsConfig {
            file: Some("s.toml".into()),
            ..SecretsConfig::default()
        };
        let env = vec![
            ("SITECONF_SECRET_BGP_UPSTREAM1".into(), "from-env".into()),
            ("HOME".into(), "/root".into()),
        ];
        let s = Secrets::load(&cfg, dir.path(), None, env).unwrap();
        assert_eq!(s.get("bgp-upstream1").as_deref(), Some("from-env"));
        assert_eq!(s.get("other").as_deref(), Some("o"));
        assert_eq!(s.get("missing"), None);
        // Only prefixed variables are kept.
        assert!(!format!("{s:?}").contains("HOME"));
    }

    #[test]
    fn every_secret_name_maps_to_a_variable_a_shell_can_set() {
        let settable = |v: &str| {
            v.bytes().next().is_some_and(|c| !c.is_ascii_digit())
                && v.bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        };
        for name in ["bgp/transit-a", "ipmi.r01", "a", "0day", "x_y/z-1.2"] {
            assert!(is_secret_name(name), "{name}");
            let v = env_var_name("SITECONF_SECRET_", name);
            assert!(settable(&v), "{name} -> {v}");
        }
        for bad in ["", "/abs", "has space", "a'b", "x}}", "é", "-x", "a=b"] {
            assert!(!is_secret_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn bgp_passwords_frr_refuses() {
        assert_eq!(bgp_password_problem("s3cr3t"), None);
        assert_eq!(bgp_password_problem(&"x".repeat(80)), None);
        for bad in [
            String::new(),
            "a b".into(),
            "a\tb".into(),
            "x".repeat(81),
            "é".repeat(41),
        ] {
            let why = bgp_password_problem(&bad).expect("refused");
            assert!(bad.is_empty() || !why.contains(&bad), "{why}");
        }
    }

    #[test]
    fn debug_never_shows_values() {
        let s = Secrets::from_values([("a".to_string(), "hunter2".to_string())]);
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_file_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), "a = \"hunter2\"\nb = hunter3\n").unwrap();
        let cfg = SecretsConfig {
            file: Some("s.toml".into()),
            ..SecretsConfig::default()
        };
        // Given by the operator (`--secrets`): the line, never the content.
        let given = Some(Path::new("s.toml"));
        let e =
            Secrets::load(&SecretsConfig::default(), dir.path(), given, Vec::new()).unwrap_err();
        assert_eq!(e.code, Code::SecretUnresolved);
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert!(!e.message.contains("hunter"), "{}", e.message);
        // Named by siteconf.toml, which a merge request may change: only
        // where it was named, the same whether the file is missing, not
        // TOML or not a table of strings.
        let cfg = SecretsConfig {
            file_line: Some(7),
            ..cfg
        };
        std::fs::write(dir.path().join("t.toml"), "a = 1\n").unwrap();
        let mut said = Vec::new();
        for f in ["s.toml", "missing.toml", "t.toml", "/etc/passwd"] {
            let cfg = SecretsConfig {
                file: Some(f.into()),
                ..cfg.clone()
            };
            let e = Secrets::load(&cfg, dir.path(), None, Vec::new()).unwrap_err();
            said.push(e.message);
        }
        assert!(
            said.iter()
                .all(|m| m
                    == "cannot read the secrets file named at siteconf.toml:7 (`[secrets] file`)"),
            "{said:?}"
        );
    }

    #[test]
    fn only_siteconf_variables_are_ever_read() {
        let env = || {
            vec![
                ("RUNNER_TOKEN".into(), "CANARY-runner".into()),
                ("SITECONF_SECRET_A".into(), "a".into()),
            ]
        };
        for prefix in ["R", "", "RUNNER_", "siteconf_"] {
            let cfg = SecretsConfig {
                env_prefix: prefix.into(),
                ..SecretsConfig::default()
            };
            let e = Secrets::load(&cfg, Path::new("."), None, env()).unwrap_err();
            assert_eq!(e.code, Code::SecretsEnvPrefix, "{prefix:?}");
            assert!(!e.message.contains("CANARY"));
        }
        let cfg = SecretsConfig {
            env_prefix: "SITECONF_SECRET_".into(),
            ..SecretsConfig::default()
        };
        let s = Secrets::load(&cfg, Path::new("."), None, env()).unwrap();
        assert_eq!(s.get("a").as_deref(), Some("a"));
        assert_eq!(s.values().filter(|v| v.contains("CANARY")).count(), 0);
    }
}
