//! Rule `network-os`: a switch's `network-os` must name an Ansible platform.
//!
//! **What it does.** Reports (SC0913) a `network-os` that is not one to
//! three dot-separated words of ASCII letters, digits and `_` — the shape
//! of an Ansible platform (`vyos`) or a collection's fully qualified one
//! (`frr.frr.frr`, `nvidia.nvue.nvue`).
//!
//! **Why it matters.** It becomes the switch's `ansible_network_os` in the
//! inventory; Ansible resolves it to a connection plugin only when a play
//! runs, so a typo (`frr frr`, `nvidia/nvue`) fails every push to that
//! switch, late.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { network-os "nvidia/nvue"; ports swp1-48; }   // SC0913
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "network-os",
    codes: &[Code::InvalidNetworkOs],
    check,
    resolved: false,
};

/// One to three dot-separated words of `[A-Za-z0-9_]`.
pub(crate) fn valid_network_os(s: &str) -> bool {
    let words: Vec<&str> = s.split('.').collect();
    words.len() <= 3
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for sw in &cx.site.switches {
        let Some(os) = &sw.network_os else { continue };
        if !valid_network_os(&os.value) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidNetworkOs,
                    format!(
                        "switch `{}`: `{}` is not an Ansible network OS name",
                        sw.name.value, os.value
                    ),
                )
                .label(os.span, "not a platform name")
                .help("write a platform as Ansible names it, e.g. `frr.frr.frr` (the default), `nvidia.nvue.nvue` or `vyos.vyos.vyos`, or leave `network-os` out"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_network_os;

    #[test]
    fn names() {
        for ok in [
            "frr.frr.frr",
            "nvidia.nvue.nvue",
            "vyos",
            "cisco.ios.ios",
            "a_b.c1",
        ] {
            assert!(valid_network_os(ok), "{ok}");
        }
        for bad in [
            "",
            "nvidia/nvue",
            "frr frr",
            "a.b.c.d",
            "a..b",
            ".a",
            "frr.",
            "é",
        ] {
            assert!(!valid_network_os(bad), "{bad}");
        }
    }
}
