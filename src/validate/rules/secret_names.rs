//! Rule `secret-names`: a BGP peer's password names a secret by a name
//! that no environment variable can hold.
//!
//! **What it does.** Reports (SC0046) `password secret="…"` of a
//! `bgp-peer` whose name is not a secret name: letters, digits, `-`, `_`,
//! `.` and `/`, starting with a letter or digit (the rule is
//! `render::secrets::is_secret_name`, the same one `vars` secrets are held
//! to, SC0607). The hint names the variable a corrected name maps to.
//!
//! **Why it matters.** A secret is provided as `SITECONF_SECRET_<NAME>`
//! (upper-cased, `-` `.` `/` → `_`) or from the secrets file. A name with a
//! space or a quote maps to a variable no shell can set, so `build` fails
//! at the first switch holding the session, with a hint nobody can follow;
//! `check` should say so where the name is written.
//!
//! **Example.**
//! ```kdl
//! bgp-peer transit-a { asn 64496; address "192.0.2.1"; password secret="bgp transit-a"; switches r01-tor1 }   // SC0046
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{env_var_name, is_secret_name};
use crate::model::SecretSpec;
use crate::project::SecretsConfig;

pub static RULE: Rule = Rule {
    name: "secret-names",
    codes: &[Code::InvalidSecretName],
    check,
    resolved: false,
};

/// `name` with every character a secret name cannot have made `-`, and
/// a leading non-alphanumeric dropped: a name to propose.
fn mend(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for p in &cx.site.bgp_peers {
        let Some(pw) = &p.password else { continue };
        let SecretSpec::Ref(name) = &pw.value else {
            continue; // a literal is SC0605
        };
        if is_secret_name(name) {
            continue;
        }
        let fixed = mend(name);
        let hint = if is_secret_name(&fixed) {
            format!(
                "write e.g. `secret=\"{fixed}\"`, provided as {} (with the default `[secrets] env-prefix`) or in the secrets file",
                env_var_name(&SecretsConfig::default().env_prefix, &fixed)
            )
        } else {
            "a secret name is letters, digits, `-`, `_`, `.` and `/`, starting with a letter or digit (`bgp/transit-a`)".into()
        };
        diags.push(
            Diagnostic::error(
                Code::InvalidSecretName,
                format!(
                    "the password of BGP peer `{}` names the secret {:?}, which is not a secret name",
                    p.name.value, name
                ),
            )
            .label(pw.span, "not a secret name")
            .help(hint),
        );
    }
}
