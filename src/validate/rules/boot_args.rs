//! Rule `boot-args-seed`: kernel arguments that name a seed of their own.
//!
//! **What it does.** Reports (SC1205) an image `args` with a `ds=` word,
//! and (SC1209) an image `args` that uses `${root-url}` when the image has
//! no `root`: the script sets that iPXE variable only from `root`, and
//! iPXE expands an unset one to nothing (`fetch=`), so the kernel boots
//! without its root.
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
    codes: &[Code::BootArgsSeed, Code::BootRootUrlUnset],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    for i in &boot.images {
        let Some(a) = &i.args else { continue };
        if i.root.is_none() && a.value.contains("${root-url}") {
            diags.push(
                Diagnostic::error(
                    Code::BootRootUrlUnset,
                    format!(
                        "the `args` of image `{}` use `${{root-url}}`, but the image has no `root`",
                        i.name.value
                    ),
                )
                .label(a.span, "iPXE expands `${root-url}` to nothing here")
                .label(i.name.span, "no `root` in this image")
                .help("add `root \"http://…\"` (the root image or installer URL) to the image, or take `${root-url}` out of its args"),
            );
        }
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
