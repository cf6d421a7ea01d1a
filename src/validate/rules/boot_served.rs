//! Rule `boot-not-served`: files the boot chain asks the boot service's
//! own nginx for that it does not serve.
//!
//! **What it does.** Reports (SC1210) an image URL (`kernel`, `initrd`,
//! `root`) on the boot service — the base URL's host or a boot server's
//! address, at the base URL's port, where the generated
//! `site/boot/nginx.conf` listens — that the configuration maps to no
//! file: under `<base-url>/images/` while no `images-dir` is set, or at
//! any path but `/images/` (with `images-dir`) and `/firmware/` (with
//! `firmware-dir`). Also `firmware uefi-http` without `firmware-dir`.
//!
//! **Why it matters.** nginx answers 404 to everything else (`location /
//! { return 404; }`), so every node stops at iPXE's `kernel` line. UEFI
//! HTTP boot firmware is handed `<base-url>/firmware/ipxe.efi` by Kea,
//! which exists only when `firmware-dir` is served. Without a `firmware`
//! line the classes served are all those the site can serve:
//! `uefi-http` only with `firmware-dir` (`Boot::firmware`).
//!
//! **Example.**
//! ```kdl
//! boot { servers "10.0.0.2"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; } }   // SC1210: no images-dir
//! boot { servers "10.0.0.2"; firmware uefi-http; }                                          // SC1210: no firmware-dir
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{url_parts, url_path};
use crate::model::{Boot, Firmware, Sp};

pub static RULE: Rule = Rule {
    name: "boot-not-served",
    codes: &[Code::BootNotServed],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.site.as_ref().and_then(|s| s.boot.as_ref()) else {
        return;
    };
    if boot.firmware_dir.is_none() {
        if let Some(f) = boot.firmware.iter().find(|f| f.value == Firmware::UefiHttp) {
            let base = boot.base_url().unwrap_or_else(|| "<base-url>".into());
            diags.push(
                Diagnostic::error(
                    Code::BootNotServed,
                    format!("`firmware uefi-http` without `firmware-dir`: Kea hands UEFI HTTP boot firmware `{base}/firmware/ipxe.efi`, which the boot service's nginx does not serve (404)"),
                )
                .label(f.span, "UEFI HTTP boot needs `/firmware/` served")
                .help("set `firmware-dir \"/usr/lib/ipxe\"` in `boot` (Debian's `ipxe` package puts ipxe.efi there), or take `uefi-http` out of `firmware`"),
            );
        }
    }
    let Some(base) = boot.base_url() else { return };
    let Some(bp) = url_parts(&base) else { return };
    let base_host = bp.host.to_ascii_lowercase();
    let prefix = url_path(&base);
    // A base URL path nginx cannot match is SC1204: where its locations
    // would be is unknown.
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
    {
        return;
    }
    // One missing `images-dir` is one mistake, however many URLs it
    // breaks: (first URL, what it is, how many more).
    let mut no_dir: Option<(&Sp<String>, String, usize)> = None;
    for i in &boot.images {
        let urls = std::iter::once((&i.kernel, "kernel"))
            .chain(i.initrds.iter().map(|u| (u, "initrd")))
            .chain(i.root.iter().map(|u| (u, "root")));
        for (u, field) in urls {
            let what = format!("the `{field}` of image `{}`", i.name.value);
            match served(boot, &base_host, bp.port, &prefix, u) {
                Served::Yes => {}
                Served::NoImagesDir => match &mut no_dir {
                    Some((_, _, more)) => *more += 1,
                    None => no_dir = Some((u, what, 0)),
                },
                Served::Never => diags.push(
                    Diagnostic::error(
                        Code::BootNotServed,
                        format!("{what} is on the boot service (a boot server or the base URL's host, port {}) at a path its nginx does not serve: it answers 404", bp.port),
                    )
                    .label(u.span, "not under `/images/` or `/firmware/` of the base URL")
                    .help(format!(
                        "the boot service serves files only under `{base}/images/` (from `images-dir`) and `{base}/firmware/` (from `firmware-dir`): put the file in `images-dir` and point the URL there"
                    )),
                ),
            }
        }
    }
    if let Some((u, what, more)) = no_dir {
        let also = match more {
            0 => String::new(),
            1 => " (and 1 more image URL)".to_string(),
            n => format!(" (and {n} more image URLs)"),
        };
        diags.push(
            Diagnostic::error(
                Code::BootNotServed,
                format!("{what}{also} is under `{base}/images/`, but the boot service has no `images-dir`: its nginx serves nothing there and answers 404"),
            )
            .label(u.span, "no `/images/` location in site/boot/nginx.conf")
            .help("set `images-dir \"/srv/images\"` in `boot`: the directory on the boot servers that holds the images, served as `<base-url>/images/`"),
        );
    }
}

enum Served {
    /// By the boot service, or by another server (not checked).
    Yes,
    /// Under `/images/`, which is served only from `images-dir`.
    NoImagesDir,
    /// At a path of the boot service that is never a file.
    Never,
}

fn served(boot: &Boot, base_host: &str, base_port: u16, prefix: &str, u: &Sp<String>) -> Served {
    let Some(p) = url_parts(&u.value) else {
        return Served::Yes;
    };
    let host = p.host.to_ascii_lowercase();
    let on_service = host == base_host || boot.servers.iter().any(|s| s.value.to_string() == host);
    if !on_service || p.port != base_port || host.contains('$') {
        return Served::Yes;
    }
    if p.path.starts_with(&format!("{prefix}/images/")) {
        if boot.images_dir.is_some() {
            Served::Yes
        } else {
            Served::NoImagesDir
        }
    } else if p.path.starts_with(&format!("{prefix}/firmware/")) && boot.firmware_dir.is_some() {
        Served::Yes
    } else {
        Served::Never
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn served(boot: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; {boot} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1210")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn images_on_the_boot_service_need_a_served_directory() {
        let img = r#"image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#;
        assert!(served(&format!(r#"images-dir "/srv/images"; {img}"#)).is_empty());
        let m = served(img);
        assert!(m[0].contains("no `images-dir`"), "{m:?}");
        // Another host, or another port of the same host: not this nginx.
        assert!(served(r#"image debian { kernel "http://10.0.0.9/images/vmlinuz"; }"#).is_empty());
        assert!(
            served(r#"image debian { kernel "http://10.0.0.2:8080/images/vmlinuz"; }"#).is_empty()
        );
        // Outside /images/ and /firmware/: 404 whatever is set.
        let m = served(
            r#"images-dir "/srv/images"; image debian { kernel "http://10.0.0.2/vmlinuz"; }"#,
        );
        assert!(m[0].contains("does not serve"), "{m:?}");
        // The base URL's path prefixes the locations.
        let m = served(
            r#"base-url "http://10.0.0.2/pxe"; images-dir "/srv/images"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#,
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(served(r#"base-url "http://boot.dc1.example.net/pxe/"; images-dir "/srv/images"; image debian { kernel "http://BOOT.dc1.example.net/pxe/images/vmlinuz"; }"#).is_empty());
    }

    #[test]
    fn uefi_http_needs_the_firmware_directory() {
        let img = r#"images-dir "/srv/images"; image debian { kernel "http://10.0.0.2/images/vmlinuz"; }"#;
        let m = served(&format!("firmware bios uefi-http; {img}"));
        assert!(m[0].contains("firmware-dir"), "{m:?}");
        assert!(served(&format!(
            r#"firmware uefi-http; firmware-dir "/usr/lib/ipxe"; {img}"#
        ))
        .is_empty());
        // The default set leaves uefi-http out without a firmware-dir.
        assert!(served(img).is_empty());
    }
}
