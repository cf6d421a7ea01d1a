//! Rule `boot-image-missing`: a node that cannot network-boot.
//!
//! **What it does.** When the site declares a boot service, warns (SC1202)
//! about each node whose merged settings have no `boot-image` (neither the
//! site defaults, its profiles nor the node set one).
//!
//! **Why it matters.** Such a node gets no iPXE script: when it is powered
//! on, Kea sends it to `<base-url>/boot/<its MAC>.ipxe`, which does not
//! exist, and it stops at iPXE. A warning, not an error: a node may be
//! installed some other way on purpose.
//!
//! **Example.**
//! ```kdl
//! site dc1 { boot { servers "10.0.0.2"; image debian { kernel "http://…"; } } }
//! node r01n01 { rack r01; position 1; }   // SC1202: no boot-image
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "boot-image-missing",
    codes: &[Code::BootImageMissing],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    let example = boot
        .images
        .first()
        .map(|i| i.name.value.as_str())
        .unwrap_or("NAME");
    for rn in &rs.nodes {
        if rn.settings.boot_image.is_some() {
            continue;
        }
        let node = &cx.site.nodes[rn.index];
        diags.push(
            Diagnostic::warning(
                Code::BootImageMissing,
                format!(
                    "node `{}` has no `boot-image`: it cannot network-boot",
                    node.name.value
                ),
            )
            .label(node.name.span, "no boot image, no boot script")
            .help(format!(
                "set `boot-image {example}` on the node, one of its profiles or the site defaults"
            )),
        );
    }
}
