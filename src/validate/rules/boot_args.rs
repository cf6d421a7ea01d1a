//! Rule `boot-args-seed`: kernel arguments that name a seed of their own.
//!
//! **What it does.** Reports (SC1205) an image `args` with a `ds=` word.
//!
//! **Why it matters.** siteconf appends each node's own seed URL
//! (`ds=nocloud-net;s=<base-url>/nodes/<node>/`) to the kernel command
//! line. With a second `ds=`, which one cloud-init follows depends on its
//! version: a node could configure itself from another seed — another
//! node's hostname and addresses.
//!
//! **Example.**
//! ```kdl
//! image debian { kernel "http://10.0.0.2/images/vmlinuz"; args "console=ttyS0 ds=nocloud"; }   // SC1205
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "boot-args-seed",
    codes: &[Code::BootArgsSeed],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    for i in &boot.images {
        let Some(a) = &i.args else { continue };
        if a.value.split_whitespace().any(|w| w.starts_with("ds=")) {
            diags.push(
                Diagnostic::error(
                    Code::BootArgsSeed,
                    format!("the `args` of image `{}` set `ds=`", i.name.value),
                )
                .label(a.span, "siteconf adds each node's own `ds=`")
                .help(
                    "remove `ds=…`: every node's script points cloud-init at the node's own seed",
                ),
            );
        }
    }
}
