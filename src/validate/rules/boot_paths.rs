//! Rule `boot-path`: boot directories and URL paths the generated nginx
//! configuration cannot carry.
//!
//! **What it does.** Reports (SC1204) a `serve-dir`, `images-dir` or
//! `firmware-dir` that is not an absolute path or holds white space,
//! quotes, `;`, `{`, `}`, `$` or `#`, and a `base-url` whose path holds
//! anything but letters, digits, `-`, `_` and `/`. Also an `images-dir` or
//! `firmware-dir` that is `/`, or is `serve-dir` (default `/srv/siteconf`),
//! lies inside it or contains it; and a `serve-dir` that is `/`.
//!
//! **Why it matters.** These values are written into
//! `site/boot/nginx.conf` (as `alias` paths, and the URL path inside
//! regular expressions): such a character would end the directive, start
//! a comment or a variable, or change what a location matches — a broken
//! service at best, files served that should not be at worst. The
//! `images-dir` and `firmware-dir` are served whole (`alias DIR/;`): `/`
//! serves the whole filesystem (`/images/etc/passwd`), and a directory
//! that is, holds or lies inside the deployed build output serves the
//! output tree (Kea configuration, inventory, every seed) around the
//! locations that are meant to guard it.
//!
//! **Example.**
//! ```kdl
//! boot { servers "10.0.0.2"; serve-dir "srv/siteconf"; }   // SC1204: not absolute
//! boot { servers "10.0.0.2"; images-dir "/"; }               // SC1204: the whole filesystem
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Boot, Sp, DEFAULT_SERVE_DIR};

pub static RULE: Rule = Rule {
    name: "boot-path",
    codes: &[Code::BootPathUnsafe],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    let mut ok = [true; 3];
    for (i, (d, field)) in [
        (&boot.serve_dir, "serve-dir"),
        (&boot.images_dir, "images-dir"),
        (&boot.firmware_dir, "firmware-dir"),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(d) = d {
            ok[i] = dir(diags, d, field);
        }
    }
    served_whole(diags, boot, ok);
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

/// The components of an absolute path, without empty and `.` ones: `/`
/// is none, `/srv//siteconf/./` is `srv`, `siteconf`.
fn components(p: &str) -> Vec<&str> {
    p.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// `images-dir` and `firmware-dir`, which nginx serves whole, must be
/// neither `/` nor overlap the deployed build output (`serve-dir`), of
/// which only the scripts and seeds are to be served; `serve-dir` must
/// not be `/`. `ok`: whether `serve-dir`, `images-dir` and
/// `firmware-dir` passed [`dir`] (each is reported otherwise).
fn served_whole(diags: &mut Diagnostics, boot: &Boot, ok: [bool; 3]) {
    let serve = boot
        .serve_dir
        .as_ref()
        .map_or(DEFAULT_SERVE_DIR, |d| d.value.as_str());
    let serve_c = components(serve);
    if let (Some(d), true) = (&boot.serve_dir, ok[0] && serve_c.is_empty()) {
        diags.push(
            Diagnostic::error(
                Code::BootPathUnsafe,
                format!("`serve-dir` `{}` is the root directory", d.value),
            )
            .label(d.span, "the build output would be deployed over `/`")
            .help(
                "deploy the build output in a directory of its own: `serve-dir \"/srv/siteconf\"`",
            ),
        );
    }
    for (d, field, url, fine) in [
        (&boot.images_dir, "images-dir", "images", ok[1]),
        (&boot.firmware_dir, "firmware-dir", "firmware", ok[2]),
    ] {
        let Some(d) = d.as_ref().filter(|_| fine) else {
            continue;
        };
        let c = components(&d.value);
        let overlap = !c.is_empty();
        let (message, label) = if c.is_empty() {
            (
                format!("`{field}` `{}` would serve the whole filesystem", d.value),
                format!("`/{url}/etc/passwd` and every file nginx can read would be served"),
            )
        } else if serve_c.is_empty() || !ok[0] {
            // `serve-dir "/"` is reported above, a broken one by `dir`.
            continue;
        } else if c == serve_c {
            (
                format!("`{field}` `{}` is the `serve-dir`", d.value),
                format!("the whole build output would be served under `/{url}/`"),
            )
        } else if c.starts_with(&serve_c) {
            (
                format!(
                    "`{field}` `{}` lies inside the `serve-dir` `{serve}`",
                    d.value
                ),
                format!("part of the build output would be served under `/{url}/`"),
            )
        } else if serve_c.starts_with(&c) {
            (
                format!("`{field}` `{}` contains the `serve-dir` `{serve}`", d.value),
                format!("the whole build output would be served under `/{url}/`"),
            )
        } else {
            continue;
        };
        let mut diag = Diagnostic::error(Code::BootPathUnsafe, message).label(d.span, label);
        if let Some(s) = boot.serve_dir.as_ref().filter(|_| overlap) {
            diag = diag.label(s.span, "the deployed build output");
        }
        diags.push(diag.help(format!(
            "nginx serves `{field}` whole: give it a directory of its own that holds only {}, outside the `serve-dir` `{serve}`",
            if url == "images" { "boot images" } else { "iPXE binaries" }
        )));
    }
}

/// Reports a directory the nginx configuration cannot carry; whether it
/// passed.
fn dir(diags: &mut Diagnostics, d: &Sp<String>, field: &str) -> bool {
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
        return true;
    };
    diags.push(
        Diagnostic::error(
            Code::BootPathUnsafe,
            format!("`{field}` `{}` cannot be served", d.value),
        )
        .label(d.span, label)
        .help(help),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn boot(fields: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"
                boot {{ servers "10.0.0.2"; {fields}; image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1204")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn directories_served_whole_stay_off_the_root_and_the_output() {
        assert!(boot(r#"images-dir "/srv/images"; firmware-dir "/usr/lib/ipxe""#).is_empty());
        assert!(boot(r#"serve-dir "/srv/siteconf"; images-dir "/srv/siteconf-images""#).is_empty());
        let m = boot(r#"images-dir "/""#);
        assert!(m[0].contains("whole filesystem"), "{m:?}");
        let m = boot(r#"firmware-dir "//./""#);
        assert!(m[0].contains("whole filesystem"), "{m:?}");
        // The default serve-dir is /srv/siteconf.
        let m = boot(r#"images-dir "/srv/siteconf/""#);
        assert!(m[0].contains("is the `serve-dir`"), "{m:?}");
        let m = boot(r#"serve-dir "/srv/out"; images-dir "/srv/out/site""#);
        assert!(m[0].contains("lies inside"), "{m:?}");
        let m = boot(r#"serve-dir "/srv/out"; firmware-dir "/srv""#);
        assert!(m[0].contains("contains"), "{m:?}");
        let m = boot(r#"serve-dir "/"; images-dir "/srv/images""#);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("root directory"), "{m:?}");
        // A directory already refused is not reported again; a broken
        // serve-dir leaves only the root to check.
        assert_eq!(boot(r#"images-dir "/srv/siteconf/../""#).len(), 1);
        assert_eq!(boot(r#"serve-dir "srv/out"; images-dir "/srv""#).len(), 1);
        let m = boot(r#"serve-dir "srv/out"; images-dir "/""#);
        assert_eq!(m.len(), 2, "{m:?}");
    }
}
