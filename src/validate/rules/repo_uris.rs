//! Rule `repo-uris`: package repository URIs apt cannot use.
//!
//! **What it does.** Reports (SC0019) a repo `uris` entry that is not an
//! absolute `http://HOST…`, `https://HOST…` or `file:/PATH` URL: a missing
//! scheme, an unsupported one, an empty host, a bad port, or white space.
//! Repos are checked in every layer they are written in, once each.
//! Reports (SC0058) a password in a URI (`https://user:password@host/`):
//! the sources file is world-readable, and is embedded in user-data.
//!
//! **Why it matters.** apt rejects the whole sources file at the first bad
//! URI, so a typo in one repo stops every package install on the node —
//! at first boot, where nobody is watching.
//!
//! **Example.**
//! ```kdl
//! repo debian { uris "deb.debian.org/debian"; suites bookworm; }   // SC0019: no scheme
//! ```

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "repo-uris",
    codes: &[Code::InvalidRepoUrl, Code::RepoUriCredentials],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for r in &s.repos {
            for u in &r.uris {
                if let Some(user) = credentials(&u.value) {
                    diags.push(
                        Diagnostic::error(
                            Code::RepoUriCredentials,
                            format!(
                                "repo `{}` of {what} has a password in its URI (user `{user}`)",
                                r.name.value
                            ),
                        )
                        .label(u.span, "the password is written into every node's sources file")
                        .help("apt reads credentials from /etc/apt/auth.conf.d/ (mode 0600; see apt_auth.conf(5)): write the URI without `user:password@` and deliver the login there, e.g. with Ansible from a vault"),
                    );
                    continue;
                }
                if let Err((label, help)) = validate(&u.value) {
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidRepoUrl,
                            format!(
                                "repo `{}` of {what} has an invalid URI `{}`",
                                r.name.value, u.value
                            ),
                        )
                        .label(u.span, label)
                        .help(help),
                    );
                }
            }
        }
    }
}

/// The user of an `http(s)://user:password@host` URI that carries a
/// password. The password itself is masked in the kept text
/// (`syntax::redact`) and never quoted.
fn credentials(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(user)
}

/// Checks one URI; the error is (label, hint).
pub(crate) fn validate(uri: &str) -> Result<(), (String, String)> {
    if uri.is_empty() {
        return Err((
            "empty URI".into(),
            "give an absolute URL such as `https://deb.debian.org/debian`".into(),
        ));
    }
    if uri.chars().any(char::is_whitespace) {
        return Err((
            "contains white space".into(),
            "one URI per value: write `uris \"http://a/\" \"http://b/\"` for several".into(),
        ));
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(no_scheme(uri));
    };
    match scheme {
        "http" | "https" => {
            let Some(rest) = rest.strip_prefix("//") else {
                return Err((
                    format!("`{scheme}:` must be followed by `//` and a host"),
                    format!("write `{scheme}://HOST/PATH`"),
                ));
            };
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let (host, port) = if host_port.starts_with('[') {
                match host_port.split_once(']') {
                    Some((h, p)) => (&h[1..], p.strip_prefix(':')),
                    None => {
                        return Err((
                            "unclosed `[` in the host".into(),
                            "write an IPv6 host as `[2001:db8::1]`".into(),
                        ))
                    }
                }
            } else {
                match host_port.split_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (host_port, None),
                }
            };
            if host.is_empty() {
                return Err(("no host".into(), format!("write `{scheme}://HOST/PATH`")));
            }
            if let Some(p) = port {
                if p.parse::<u16>().map_or(true, |n| n == 0) {
                    return Err((
                        format!("`{p}` is not a port"),
                        "a port is a number 1–65535".into(),
                    ));
                }
            }
            Ok(())
        }
        "file" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.starts_with('/') {
                Ok(())
            } else {
                Err((
                    "not an absolute path".into(),
                    "write `file:/srv/mirror/debian` or `file:///srv/mirror/debian`".into(),
                ))
            }
        }
        s if s.eq_ignore_ascii_case("http")
            || s.eq_ignore_ascii_case("https")
            || s.eq_ignore_ascii_case("file") =>
        {
            Err((
                format!("scheme `{s}` must be lower case"),
                format!("write `{}:{rest}`", s.to_ascii_lowercase()),
            ))
        }
        s if s.contains('.') || s.contains('/') => Err(no_scheme(uri)),
        s => Err((
            format!("unsupported scheme `{s}`"),
            "siteconf writes http, https and file repositories only".into(),
        )),
    }
}

fn no_scheme(uri: &str) -> (String, String) {
    let help = if uri.starts_with('/') {
        format!("did you mean `file:{uri}`?")
    } else {
        format!("did you mean `http://{uri}`?")
    };
    ("no scheme: not an absolute URL".into(), help)
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts() {
        for u in [
            "http://deb.debian.org/debian",
            "https://mirror.example.net:8443/debian/",
            "http://[2001:db8::1]/debian",
            "http://user@mirror/debian",
            "file:/srv/mirror",
            "file:///srv/mirror",
        ] {
            assert_eq!(validate(u), Ok(()), "{u}");
        }
    }

    #[test]
    fn rejects() {
        for (u, why) in [
            ("deb.debian.org/debian", "no scheme"),
            ("/srv/mirror", "no scheme"),
            ("ftp://ftp.debian.org/debian", "unsupported scheme `ftp`"),
            ("HTTP://deb.debian.org/", "lower case"),
            ("http:/deb.debian.org/", "`//`"),
            ("https:///debian", "no host"),
            ("http://mirror:99999/", "not a port"),
            ("file:srv/mirror", "absolute path"),
            ("http://a/ http://b/", "white space"),
            ("", "empty"),
        ] {
            let e = validate(u).expect_err(u);
            assert!(e.0.contains(why), "{u}: {e:?}");
        }
    }
}
