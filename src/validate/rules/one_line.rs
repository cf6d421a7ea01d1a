//! Rule `one-line`: free text that would break a line-based configuration.
//!
//! **What it does.** Reports (SC0049) an external BGP peer's
//! `description` that holds a line break or another control character,
//! a boot image's `args` that holds one (other than a tab), and a node's
//! or switch's `model` or `serial` that holds one.
//! (The other free-text values that reach a line-based file are checked
//! by their own rules: sshd values SC0041, authorized_keys options SC0042,
//! repo fields SC0048.)
//!
//! **Why it matters.** The description is written into the switch's
//! `frr.conf` as `neighbor ADDRESS description TEXT`. The template engine
//! refuses a value that spans lines, so `build` fails for every switch
//! holding the session, though `check` was green. An image's `args` go
//! into every node's iPXE script as the `kernel` line: `build` would fail
//! for every node that boots the image, blaming the template.
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
    boot_args(cx, diags);
    hardware(cx, diags);
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

/// A node's or switch's `model` and `serial`: written into cloud-init's
/// meta-data (the serial is part of the `instance-id`), the inventory and
/// the rack diagrams, each as one value on one line.
fn hardware(cx: &Ctx, diags: &mut Diagnostics) {
    let nodes = cx.site.nodes.iter().flat_map(|n| {
        [("model", &n.model), ("serial", &n.serial)]
            .into_iter()
            .map(move |(f, v)| ("node", &n.name.value, f, v))
    });
    let switches = cx
        .site
        .switches
        .iter()
        .map(|s| ("switch", &s.name.value, "model", &s.model));
    for (what, name, field, value) in nodes.chain(switches) {
        let Some(v) = value else { continue };
        let Some(c) = v.value.chars().find(|c| c.is_control() && *c != '\t') else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::ValueNotOneLine,
                format!("the {field} of {what} `{name}` holds a control character ({c:?})"),
            )
            .label(
                v.span,
                "written into cloud-init, the inventory and the rack diagrams",
            )
            .help(format!(
                "a {field} is one line of text, as printed on the machine's label"
            )),
        );
    }
}

/// Image `args`: the template refuses a control character but a tab.
fn boot_args(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    for i in &boot.images {
        let Some(a) = &i.args else { continue };
        let Some(c) = a.value.chars().find(|c| c.is_control() && *c != '\t') else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                Code::ValueNotOneLine,
                format!(
                    "the `args` of boot image `{}` hold a control character ({c:?})",
                    i.name.value
                ),
            )
            .label(a.span, "written into each node's iPXE script as one line")
            .help("kernel arguments are one line, separated by spaces: put them on one line"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(args: &str) -> usize {
        let text = format!(
            r#"site dc1 {{
    domain "dc1.example.net"; dns-servers "10.0.0.2"
    boot {{
        servers "10.0.0.2"; base-url "http://10.0.0.2/boot"
        image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; initrd "http://10.0.0.2/images/initrd"; args "{args}"; }}
    }}
}}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0049").count()
    }

    #[test]
    fn serial_and_model_on_one_line() {
        let site = |serial: &str| {
            format!(
                r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
node r01n01 {{ rack r01; position 1; model "R650"; serial "{serial}"; }}
"#
            )
        };
        let n = |serial: &str| {
            codes(&site(serial))
                .iter()
                .filter(|c| **c == "SC0049")
                .count()
        };
        assert_eq!(n("4BWHP8K"), 0);
        assert_eq!(
            n("4BWHP8K\\\\n\\\"x"),
            0,
            "a backslash and a quote are text"
        );
        assert_eq!(n("4BWHP8K\\nx"), 1);
    }

    #[test]
    fn boot_args_on_one_line() {
        assert_eq!(n("console=ttyS0 quiet"), 0);
        // KDL escapes: a tab is white space on the kernel line, a line
        // break is not.
        assert_eq!(n("console=ttyS0\\tquiet"), 0);
        assert_eq!(n("console=ttyS0\\nquiet"), 1);
    }
}
