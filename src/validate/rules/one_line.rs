//! Rule `one-line`: free text that would break a line-based configuration.
//!
//! **What it does.** Reports (SC0049) an external BGP peer's
//! `description` that holds a line break or another control character.
//! (The other free-text values that reach a line-based file are checked
//! by their own rules: sshd values SC0041, authorized_keys options SC0042,
//! repo fields SC0048.)
//!
//! **Why it matters.** The description is written into the switch's
//! `frr.conf` as `neighbor ADDRESS description TEXT`. The template engine
//! refuses a value that spans lines, so `build` fails for every switch
//! holding the session, though `check` was green.
//!
//! **Example.**
//! ```kdl
//! bgp-peer transit-a { asn 64496; address "192.0.2.1"; switches r01-tor1; description "Transit A\nrouter bgp 1" }   // SC0049
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "one-line",
    codes: &[Code::ValueNotOneLine],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for p in &cx.site.bgp_peers {
        let Some(d) = &p.description else { continue };
        let Some(c) = d.value.chars().find(|c| c.is_control()) else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::ValueNotOneLine,
                format!(
                    "the description of BGP peer `{}` holds a control character ({c:?})",
                    p.name.value
                ),
            )
            .label(d.span, "written into frr.conf as one line")
            .help("a description is one line of text: FRR reads each line as a command"),
        );
    }
}
