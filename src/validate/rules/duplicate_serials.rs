//! Rule `duplicate-serials`: two nodes with one serial number.
//!
//! **What it does.** Reports (SC0107, a warning) a node whose `serial` is
//! that of a node declared before it (compared without case and
//! surrounding spaces), with both places.
//!
//! **Why it matters.** A serial number identifies one physical machine
//! (asset records, vendor support, out-of-band inventory). Two nodes with
//! one serial are almost always a copied block whose serial — and often
//! MACs — were never changed for the second machine.
//!
//! **Example.**
//! ```kdl
//! node r01n01 { serial YL4HP8K; … }
//! node r01n02 { serial YL4HP8K; … }   // SC0107
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "duplicate-serials",
    codes: &[Code::DuplicateSerial],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let serial_of = |n: &crate::model::Node| {
        let key = n.serial.as_ref()?.value.trim().to_ascii_uppercase();
        (!key.is_empty()).then_some(key)
    };
    for (prev, n) in super::repeats(&cx.site.nodes, serial_of, |n| n.name.as_str()) {
        let Some(serial) = &n.serial else { continue };
        let prev_span = prev
            .serial
            .as_ref()
            .map(|s| s.span)
            .unwrap_or(prev.name.span);
        diags.push(
            Diagnostic::warning(
                Code::DuplicateSerial,
                format!(
                    "node `{}` has serial `{}`, as node `{}` does",
                    n.name.value,
                    serial.value,
                    prev.name.value
                ),
            )
            .label(serial.span, "the same serial")
            .label(prev_span, format!("serial of `{}`", prev.name.value))
            .help("a serial belongs to one machine: copy this node's from its label (check its MACs too)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn a_repeated_serial_warns() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
node r01n01 { rack r01; position 1; serial ABC123; }
node r01n02 { rack r01; position 2; serial abc123; }
node r01n03 { rack r01; position 3; serial XYZ999; }
"#;
        let c = codes(site);
        assert_eq!(c.iter().filter(|c| **c == "SC0107").count(), 1, "{c:?}");
    }
}
