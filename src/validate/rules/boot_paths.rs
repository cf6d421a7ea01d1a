//! Rule `boot-path`: boot directories and URL paths the generated nginx
//! configuration cannot carry.
//!
//! **What it does.** Reports (SC1204) a `serve-dir`, `images-dir` or
//! `firmware-dir` that is not an absolute path or holds white space,
//! quotes, `;`, `{`, `}`, `$` or `#`, and a `base-url` whose path holds
//! anything but letters, digits, `-`, `_` and `/`.
//!
//! **Why it matters.** These values are written into
//! `site/boot/nginx.conf` (as `alias` paths, and the URL path inside
//! regular expressions): such a character would end the directive, start
//! a comment or a variable, or change what a location matches — a broken
//! service at best, files served that should not be at worst.
//!
//! **Example.**
//! ```kdl
//! boot { servers "10.0.0.2"; serve-dir "srv/siteconf"; }   // SC1204: not absolute
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "boot-path",
    codes: &[Code::BootPathUnsafe],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    for (d, field) in [
        (&boot.serve_dir, "serve-dir"),
        (&boot.images_dir, "images-dir"),
        (&boot.firmware_dir, "firmware-dir"),
    ] {
        if let Some(d) = d {
            dir(diags, d, field);
        }
    }
    if let Some(u) = &boot.base_url {
        let path = crate::model::names::url_path(&u.value);
        if let Some(c) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/')))
        {
            diags.push(
                Diagnostic::error(
                    Code::BootPathUnsafe,
                    format!("the path of `base-url` holds `{c}`, which the nginx configuration cannot match literally"),
                )
                .label(u.span, "unsupported character in the URL path")
                .help("use a path of letters, digits, `-`, `_` and `/` (`http://10.0.0.2/pxe`), or none"),
            );
        }
    }
}

fn dir(diags: &mut Diagnostics, d: &Sp<String>, field: &str) {
    let bad = d.value.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '"' | '\'' | ';' | '{' | '}' | '$' | '#' | '\\')
    });
    let (label, help) = if !d.value.starts_with('/') {
        (
            "not an absolute path",
            format!("write the absolute path on the boot server: `{field} \"/srv/siteconf\"`"),
        )
    } else if let Some(c) = bad {
        (
            "unsafe in an nginx configuration",
            format!(
                "`{c}` would change the meaning of the generated nginx.conf: rename the directory"
            ),
        )
    } else if d.value.split('/').any(|s| s == "..") {
        (
            "holds `..`",
            "write the directory's own path, without `..`".to_string(),
        )
    } else {
        return;
    };
    diags.push(
        Diagnostic::error(
            Code::BootPathUnsafe,
            format!("`{field}` `{}` cannot be served", d.value),
        )
        .label(d.span, label)
        .help(help),
    );
}
