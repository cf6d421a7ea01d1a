//! Rule `secret-vars`: a secret reference in `vars` that is not one.
//!
//! **What it does.** Reports (SC0607) a map in `vars` (of the site
//! defaults, a profile, a node, a switch or a group) that has a `secret`
//! key but is not a secret reference: `secret` beside other keys, a
//! `secret` that is not a string, or a name that is not path-like
//! (letters, digits, `-`, `_`, `.`, `/`, starting with a letter or digit).
//!
//! **Why it matters.** `NAME secret="ipmi/r01"` is how a template variable
//! says that its value is a secret, resolved at build time and never
//! written into the site files, inventories, diffs or logs. Something that
//! only looks like one would be passed on as a plain map: to templates, to
//! Ansible, to `explain`. A name that is not path-like could not be read
//! from the environment (`SITECONF_SECRET_<NAME>`).
//!
//! **Example.**
//! ```kdl
//! node r01n01 { vars { ipmi { secret "ipmi/r01"; user admin } } }   // SC0607
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Vars, SECRET_KEY};
use crate::syntax::Span;
use serde_json::Value as Json;

pub static RULE: Rule = Rule {
    name: "secret-vars",
    codes: &[Code::SecretVarInvalid],
    check,
    resolved: false,
};

pub use crate::model::names::is_secret_name;

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let all = super::layers(site)
        .map(|(layer, s)| (layer.to_string(), &s.vars))
        .chain(
            site.switches
                .iter()
                .map(|s| (format!("switch `{}`", s.name.value), &s.vars)),
        )
        .chain(
            site.groups
                .iter()
                .map(|g| (format!("group `{}`", g.name.value), &g.vars)),
        );
    for (owner, vars) in all {
        check_vars(&owner, vars, diags);
    }
}

fn check_vars(owner: &str, vars: &Vars, diags: &mut Diagnostics) {
    for (key, (value, span)) in &vars.entries {
        walk(owner, key, value, *span, diags);
    }
}

fn walk(owner: &str, path: &str, v: &Json, span: Span, diags: &mut Diagnostics) {
    match v {
        Json::Object(m) => {
            if let Some(s) = m.get(SECRET_KEY) {
                let problem = if m.len() > 1 {
                    Some("`secret` stands alone in a secret reference; here it has other keys beside it".to_string())
                } else {
                    match s.as_str() {
                        None => Some("`secret` must be the name of a secret, a string".to_string()),
                        Some(n) if !is_secret_name(n) => Some(
                            "the name is not a secret name (letters, digits, `-`, `_`, `.` and `/`, starting with a letter or digit)".to_string(),
                        ),
                        Some(_) => None,
                    }
                };
                if let Some(problem) = problem {
                    diags.push(
                        Diagnostic::error(
                            Code::SecretVarInvalid,
                            format!("`vars.{path}` of {owner} is not a valid secret reference: {problem}"),
                        )
                        .label(span, "in this variable")
                        .help("a secret variable is `NAME secret=\"ipmi/r01\"` (TOML: `NAME = { secret = \"ipmi/r01\" }`) and nothing else; templates resolve it with `secret(node.vars.NAME)` (`switch.vars`, …)"),
                    );
                }
                return;
            }
            for (k, x) in m {
                walk(owner, &format!("{path}.{k}"), x, span, diags);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(owner, &format!("{path}[{i}]"), x, span, diags);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn secret_names_are_path_like() {
        for ok in ["ipmi/r01", "bgp-transit_a.v2", "a"] {
            assert!(is_secret_name(ok), "{ok}");
        }
        for bad in ["", "/abs", "has space", "a'b", "x}}"] {
            assert!(!is_secret_name(bad), "{bad}");
        }
    }
}
