//! Rule `bgp-peer-password`: an external BGP peer's password written as a
//! literal.
//!
//! **What it does.** Reports (SC0605) a `bgp-peer` whose `password` is a
//! literal rather than `password secret="NAME"`. The literal's text is
//! dropped when the file is read, so it never appears in the message,
//! JSON or any output.
//!
//! **Why it matters.** Everything in the site files is in git, in every
//! clone, in every merge-request diff and CI log. Secrets are references,
//! resolved from the secrets file or environment at render time only.
//!
//! **Example.**
//! ```kdl
//! bgp-peer upstream1 { asn 64512; address "203.0.113.1"; password "hunter2"; switches r01-tor1; }   // SC0605
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SecretSpec;

pub static RULE: Rule = Rule {
    name: "bgp-peer-password",
    codes: &[Code::BgpPasswordLiteral],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for p in &cx.site.bgp_peers {
        let Some(pw) = &p.password else { continue };
        if pw.value != SecretSpec::Literal {
            continue;
        }
        diags.push(
            Diagnostic::error(
                Code::BgpPasswordLiteral,
                format!("the password of BGP peer `{}` is written as a literal", p.name.value),
            )
            .label(pw.span, "a secret written into the site files")
            .help(format!(
                "store it as a secret and write `password secret=\"bgp-{}\"`; it is in git history now, so rotate it with the peer",
                p.name.value
            )),
        );
    }
}
