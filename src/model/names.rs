//! Names and spellings that consumers accept or expect, shared by the
//! stages that check them (`validate`) and the stages that write them
//! (`render`): Ansible group and variable names, secret names and their
//! environment variables, sshd keywords, switch-port order, URL paths.
//! Pure functions on strings; nothing here knows a site.

/// Ansible group names allow letters, digits and `_`.
pub fn group_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `permit-root-login` → `PermitRootLogin`.
pub fn sshd_keyword(s: &str) -> String {
    s.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Whether two sshd keywords as written are one keyword to sshd, which
/// ignores case, once hyphens are dropped (`permit-root-login`,
/// `PermitRootLogin`, `permitrootlogin`).
pub fn same_sshd_keyword(a: &str, b: &str) -> bool {
    a == b || fold_sshd_keyword(a) == fold_sshd_keyword(b)
}

/// An sshd keyword as sshd compares it: no hyphens, lower case.
pub fn fold_sshd_keyword(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Sorts `swp2` before `swp10`.
pub fn port_key(p: &str) -> (String, u64, String) {
    let digits_at = p.find(|c: char| c.is_ascii_digit()).unwrap_or(p.len());
    let (prefix, rest) = p.split_at(digits_at);
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let n = rest[..end].parse().unwrap_or(0);
    (prefix.to_string(), n, rest[end..].to_string())
}

/// Whether Ansible takes `s` as a group name without a warning
/// ("Invalid characters were found in group names"): letters, digits and
/// `_`, not starting with a digit.
pub fn is_group_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Whether Ansible would read `s` as a Jinja template (an expression,
/// a statement or a comment): the inventory marks such a value
/// untrusted, so Ansible keeps it as text, and a connection variable
/// holding one is not judged by its text.
pub fn ansible_templated(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Whether Ansible accepts `s` as a variable name (ansible-core's
/// `validate_variable_name`: an ASCII identifier that is not one of the
/// names Jinja treats as constants or operators).
pub fn is_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !matches!(
            s,
            "true" | "false" | "none" | "True" | "False" | "None" | "not"
        )
}

/// Whether `name` is a secret name: letters, digits, `-`, `_`, `.` and
/// `/`, starting with a letter or digit (`bgp/transit-a`, `ipmi.r01`).
/// The one rule for names, used by `check` wherever a site file names a
/// secret: exactly these names map, through [`env_var_name`], to a
/// variable a user can set (`SITECONF_SECRET_BGP_TRANSIT_A`: upper-case
/// letters, digits and `_`).
pub fn is_secret_name(name: &str) -> bool {
    name.as_bytes()
        .first()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
}

/// The environment variable that holds secret `name` (a name
/// [`is_secret_name`] accepts; anything else has no variable a shell can
/// set, and `check` refuses it).
pub fn env_var_name(prefix: &str, name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| match c {
            '-' | '.' | '/' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("{prefix}{tail}")
}

/// The part of the base URL after the host: `` or `/pxe`.
pub fn url_path(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// The port of the base URL (80 or 443 by default).
pub fn url_port(base: &str) -> u16 {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or("");
    let port = if authority.starts_with('[') {
        authority.split_once("]:").map(|(_, p)| p)
    } else {
        authority.rsplit_once(':').map(|(_, p)| p)
    };
    port.and_then(|p| p.parse().ok())
        .unwrap_or(if scheme == "https" { 443 } else { 80 })
}

/// An absolute `http(s)://` URL taken apart: what the boot rules compare
/// (which host and port serve it, under which path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Lower-cased by the caller where it matters; as written here,
    /// without the brackets of an IPv6 literal.
    pub host: &'a str,
    /// The port, or the scheme's (80, 443).
    pub port: u16,
    /// From the first `/` after the host (query and fragment cut off);
    /// `/` when there is none.
    pub path: &'a str,
}

/// `u`'s host, port and path, if it is `http(s)://HOST[:PORT][/…]`.
pub fn url_parts(u: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = u.split_once("://")?;
    let default = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.strip_prefix('[') {
        Some(r) => {
            let (h, p) = r.split_once(']')?;
            (h, p.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default,
    };
    let path = tail.split(['?', '#']).next().unwrap_or("");
    Some(UrlParts {
        host,
        port,
        path: if path.is_empty() { "/" } else { path },
    })
}

/// The group the inventory puts every switch in.
pub const SWITCHES_GROUP: &str = "switches";

/// What the inventory makes group `name` (as the inventory writes it) of,
/// if it makes it itself: `switches` (every switch), `role_<role>`,
/// `rack_<rack>` and `profile_<profile>` (nodes and switches by their
/// role, rack and profiles). A host put into such a group by hand is
/// treated as a switch, or as a node of that role, rack or profile, by
/// every play that targets the group.
pub fn generated_group(name: &str) -> Option<&'static str> {
    if name == SWITCHES_GROUP {
        return Some("every switch");
    }
    [
        ("role_", "the nodes and switches of a role"),
        ("rack_", "the nodes and switches of a rack"),
        ("profile_", "the nodes of a profile"),
    ]
    .into_iter()
    .find(|(prefix, _)| name.starts_with(prefix))
    .map(|(_, what)| what)
}

/// The host variable of a node's facts.
pub const NODE_FACTS: &str = "siteconf_node";
/// The host variable of a switch's facts.
pub const SWITCH_FACTS: &str = "siteconf_switch";
/// The `all` variable of the site's facts.
pub const SITE_FACTS: &str = "siteconf_site";

/// Whether the inventory keeps variable `name` of `vars` whose owner's
/// facts are the variable `facts` (`""` for an owner without facts): a
/// name Ansible accepts ([`is_var_name`]) that is not the facts'. The
/// one rule for both: the inventory leaves the others out, `check`
/// reports them.
pub fn inventory_keeps_var(name: &str, facts: &str) -> bool {
    is_var_name(name) && name != facts
}
