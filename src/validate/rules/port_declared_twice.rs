//! Rule `port-declared-twice`: a switch's port patterns overlap.
//!
//! **What it does.** Expands each switch's `ports` patterns (as lowering
//! does) and reports (SC0108, a warning) once per pair of patterns that
//! declare the same ports, naming them (`swp40`–`swp48`).
//!
//! **Why it matters.** Overlapping ranges are a typo in a range: `ports
//! swp1-48 swp40-56` was meant as `swp1-48 swp49-56` or the like. The
//! overlap itself is harmless, but the ports that were meant are then
//! usually missing, and the port plan no longer says what is cabled where.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { ports swp1-48 swp40-56; … }   // SC0108: swp40–swp48 twice
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::FxMap;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "port-declared-twice",
    codes: &[Code::PortDeclaredTwice],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for sw in &cx.site.switches {
        let mut first: FxMap<&str, Span> = FxMap::default();
        // (first pattern, repeating pattern) → the ports, in order.
        let mut twice: BTreeMap<(Span, Span), Vec<&str>> = BTreeMap::new();
        for p in &sw.ports {
            match first.get(p.as_str()) {
                None => {
                    first.insert(p.as_str(), p.span);
                }
                Some(&f) => twice.entry((f, p.span)).or_default().push(p.as_str()),
            }
        }
        for ((f, again), ports) in twice {
            let which = match ports.as_slice() {
                [one] => format!("port `{one}` is"),
                [a, .., b] => format!("ports `{a}`–`{b}` ({} ports) are", ports.len()),
                [] => continue,
            };
            let (msg, help) = if f == again {
                (
                    format!(
                        "{which} listed twice in one pattern of switch `{}`",
                        sw.name.value
                    ),
                    "list each port once".to_string(),
                )
            } else {
                (
                    format!("{which} declared twice in the `ports` of switch `{}`", sw.name.value),
                    format!(
                        "the patterns overlap: correct the range (did you mean to start after `{}`?)",
                        ports.last().copied().unwrap_or_default()
                    ),
                )
            };
            let mut d = Diagnostic::warning(Code::PortDeclaredTwice, msg)
                .label(again, "declared again here");
            if f != again {
                d = d.label(f, "first declared here");
            }
            diags.push(d.help(help));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    #[test]
    fn overlapping_ranges_warn_once_with_the_overlap() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1-48 swp40-56 swp60; }
"#;
        let d: Vec<_> = check_kdl(site)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC0108")
            .collect();
        assert_eq!(d.len(), 1);
        assert!(
            d[0].message.contains("`swp40`–`swp48` (9 ports)"),
            "{}",
            d[0].message
        );
    }
}
