//! Rule `boot-not-served`: files the boot chain asks the boot service's
//! own nginx for that it does not serve.
//!
//! **What it does.** Reports (SC1210) an image URL (`kernel`, `initrd`,
//! `root`) on the boot service — the base URL's host or a boot server's
//! address, at the base URL's port, where the generated
//! `site/boot/nginx.conf` listens — that the configuration maps to no
//! file: under `<base-url>/images/` while no `images-dir` is set, or at
//! any path but `/images/` (with `images-dir`) and `/firmware/` (with
//! `firmware-dir`); one whose `..` segments nginx resolves to such a
//! path (or above the root), the path read as nginx reads it (escapes
//! decoded, `//` merged, `.` and `..` resolved: `//images/` and
//! `/./images/` are served, `/images/x/%2e%2e/%2e%2e/site/` is not); one
//! with a `#` (iPXE drops the fragment and asks for the path before it);
//! and one on a boot server's host under
//! `/images/` or `/firmware/` at the default port of the base URL's own
//! scheme (`http://10.0.0.2/pxe/images/…`, or the same URL with `:80`
//! written) while the base URL has another port: the base URL's port left
//! out (nginx listens only there). Another port, or another scheme
//! (`https://10.0.0.2/…`, a TLS proxy on port 443), is another server on
//! that host: SC1212's warning. Also `firmware uefi-http` without
//! `firmware-dir`.
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
    let Some(boot) = cx.site.boot() else {
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
    // So is a base URL port the image URLs left out: (first URL, what it
    // is, its port, how many more).
    let mut other_port: Option<(&Sp<String>, String, u16, usize)> = None;
    for i in &boot.images {
        let urls = std::iter::once((&i.kernel, "kernel"))
            .chain(i.initrds.iter().map(|u| (u, "initrd")))
            .chain(i.root.iter().map(|u| (u, "root")));
        for (u, field) in urls {
            let what = format!("the `{field}` of image `{}`", i.name.value);
            match served(boot, &base, &base_host, bp.port, &prefix, u) {
                Served::Yes => {}
                Served::NoImagesDir => match &mut no_dir {
                    Some((_, _, more)) => *more += 1,
                    None => no_dir = Some((u, what, 0)),
                },
                Served::DotDot(to, encoded) => {
                    let seg = match encoded {
                        true => "a percent-encoded `..` segment (nginx decodes `%2e` to `.` first)",
                        false => "a `..` segment",
                    };
                    let lands = match to.is_empty() {
                        true => "climbs above the root (nginx answers 400)".to_string(),
                        false => format!("lands on `{to}`, which it does not serve (404)"),
                    };
                    diags.push(
                        Diagnostic::error(
                            Code::BootNotServed,
                            format!("{what} holds {seg}: the boot service's nginx resolves it before matching its locations, and the path {lands}"),
                        )
                        .label(u.span, "`..` is resolved by nginx, not looked up in `images-dir`")
                        .help(format!("write the path without `..`, under `{base}/images/` (from `images-dir`)")),
                    )
                }
                Served::Fragment => diags.push(
                    Diagnostic::error(
                        Code::BootNotServed,
                        format!("{what} holds a `#`: iPXE takes what follows as a URL fragment and leaves it out of its request, so the boot service's nginx is asked for the path before the `#`, not for this file"),
                    )
                    .label(u.span, "everything from `#` on is never sent")
                    .help("rename the file (or its directory) without `#`; a `#` in a path must be written `%23`"),
                ),
                Served::OtherPort(port) => match &mut other_port {
                    Some((_, _, _, more)) => *more += 1,
                    None => other_port = Some((u, what, port, 0)),
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
    if let Some((u, what, port, more)) = other_port {
        let also = and_more(more);
        diags.push(
            Diagnostic::error(
                Code::BootNotServed,
                format!("{what}{also} is on the boot service's host at port {port} (the default port of the base URL's scheme, written or not), but the boot service's nginx listens only on the base URL's port {}: nothing siteconf serves answers there", bp.port),
            )
            .label(u.span, format!("port {port}, not {}", bp.port))
            .help(format!(
                "write the URLs under `{base}/`{}; if another server on that host serves these files on port {port}, serve them at a path outside `{prefix}/images/` and `{prefix}/firmware/`",
                match port_written(&base) {
                    true => format!(" (with its port, {})", bp.port),
                    false => String::new(),
                }
            )),
        );
    }
    if let Some((u, what, more)) = no_dir {
        let also = and_more(more);
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

/// " (and N more image URLs)" after the first URL a finding names.
fn and_more(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more image URL)".to_string(),
        n => format!(" (and {n} more image URLs)"),
    }
}

enum Served {
    /// By the boot service, or by another server (not checked).
    Yes,
    /// Under `/images/`, which is served only from `images-dir`.
    NoImagesDir,
    /// At a path of the boot service that is never a file.
    Never,
    /// A `..` segment: nginx resolves it before matching its locations,
    /// and the path it lands on is not served (or climbs above the root);
    /// whether it is written percent-encoded only (`%2e%2e`).
    DotDot(String, bool),
    /// A `#fragment`: iPXE leaves it out of the request, so nginx is asked
    /// for the path before it.
    Fragment,
    /// On a boot server's host under `/images/` or `/firmware/`, at the
    /// default port of the base URL's scheme, while the base URL (where
    /// nginx listens) has another ([`missed_base_port`]).
    OtherPort(u16),
}

/// The path as nginx matches it (`ngx_http_parse_complex_uri`): every
/// `%XX` escape decoded once (a decoded `%` is not decoded again; a decoded
/// `/` or `.` counts as one), runs of `/` merged (`merge_slashes on`, the
/// default), and `.` and `..` segments resolved. `None` when `..` climbs
/// above the root (nginx answers 400).
fn normalised(path: &str) -> Option<String> {
    let decoded = decoded(path);
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = decoded.split('/').skip(1).collect();
    for (k, seg) in segs.iter().enumerate() {
        let last = k + 1 == segs.len();
        match *seg {
            // `//` is one `/`; a trailing `/` stays.
            "" | "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop()?;
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    Some(format!("/{}", out.join("/")))
}

/// `path` with its `%XX` escapes decoded, once, as nginx does before
/// matching locations.
fn decoded(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(c) => {
                out.push(c);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the `..` segments of `path` are all written percent-encoded.
fn encoded(path: &str) -> bool {
    !path.split('/').any(|s| s == "..")
}

/// Whether an image URL on the boot service's host left out the base
/// URL's port: it has the base URL's scheme and that scheme's default port
/// (written or not: `http://h/` and `http://h:80/` are one URL), and the
/// base URL another port. Another port, or another scheme (an `https://`
/// URL of an `http://` base: a TLS proxy), is another server on that host.
pub(super) fn missed_base_port(url: &str, base: &str) -> bool {
    let scheme = |u: &str| u.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let default = |s: &str| match s {
        "https" => 443,
        _ => 80,
    };
    let (Some(us), Some(bs)) = (scheme(url), scheme(base)) else {
        return false;
    };
    let (Some(up), Some(bp)) = (url_parts(url), url_parts(base)) else {
        return false;
    };
    us == bs && up.port == default(&us) && bp.port != up.port
}

/// Whether a URL path, as nginx normalises it, is under the boot
/// service's `/images/` or `/firmware/` (below the base URL's path).
pub(super) fn under_service(base: &str, path: &str) -> bool {
    let prefix = url_path(base);
    normalised(path).is_some_and(|p| {
        p.starts_with(&format!("{prefix}/images/")) || p.starts_with(&format!("{prefix}/firmware/"))
    })
}

/// Whether the URL writes its port (`http://h:8080/…`).
pub(super) fn port_written(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, p)| p);
    after_host.contains(':')
}

fn served(
    boot: &Boot,
    base: &str,
    base_host: &str,
    base_port: u16,
    prefix: &str,
    u: &Sp<String>,
) -> Served {
    let Some(p) = url_parts(&u.value) else {
        return Served::Yes;
    };
    let host = p.host.to_ascii_lowercase();
    let on_service = host == base_host || boot.servers.iter().any(|s| s.value.to_string() == host);
    if !on_service || host.contains('$') {
        return Served::Yes;
    }
    let path = normalised(p.path);
    if p.port != base_port {
        // Another port, or another scheme, is another server on that host
        // (SC1212); the base URL's scheme at its default port, shaped like
        // the boot service's URLs, missed the base URL's port.
        if missed_base_port(&u.value, base) && under_service(base, p.path) {
            return Served::OtherPort(p.port);
        }
        return Served::Yes;
    }
    if u.value.contains('#') {
        return Served::Fragment;
    }
    let Some(path) = path else {
        return Served::DotDot(String::new(), encoded(p.path));
    };
    // `//` and `.` only spell the same path; a `..` (or `%2e%2e`) can move
    // it out of a location, which the finding says.
    if decoded(p.path).split('/').any(|s| s == "..") {
        return match served_path(boot, prefix, &path) {
            Served::Yes => Served::Yes,
            _ => Served::DotDot(path, encoded(p.path)),
        };
    }
    served_path(boot, prefix, &path)
}

/// What the boot service's locations make of a path (dot segments
/// resolved).
fn served_path(boot: &Boot, prefix: &str, path: &str) -> Served {
    let p = path;
    if p.starts_with(&format!("{prefix}/images/")) {
        if boot.images_dir.is_some() {
            Served::Yes
        } else {
            Served::NoImagesDir
        }
    } else if p.starts_with(&format!("{prefix}/firmware/")) && boot.firmware_dir.is_some() {
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
    fn dot_dot_fragments_and_missed_ports() {
        let dir = r#"images-dir "/srv/images";"#;
        let m = served(&format!(
            r#"{dir} image debian {{ kernel "http://10.0.0.2/images/../etc/vmlinuz"; }}"#
        ));
        assert!(m.len() == 1 && m[0].contains("`/etc/vmlinuz`"), "{m:?}");
        let m = served(&format!(
            r#"{dir} image debian {{ kernel "http://10.0.0.2/images/../../vmlinuz"; }}"#
        ));
        assert!(m.len() == 1 && m[0].contains("above the root"), "{m:?}");
        // Still under /images/ once resolved: served.
        assert!(served(&format!(
            r#"{dir} image debian {{ kernel "http://10.0.0.2/images/a/../vmlinuz"; }}"#
        ))
        .is_empty());
        let m = served(&format!(
            r#"{dir} image debian {{ kernel "http://10.0.0.2/images/x#y/vmlinuz"; }}"#
        ));
        assert!(m.len() == 1 && m[0].contains("fragment"), "{m:?}");
        // The base URL at 8080, the image at the default port.
        let m = served(&format!(
            r#"base-url "http://10.0.0.2:8080"; {dir} image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }}"#
        ));
        assert!(m.len() == 1 && m[0].contains("port 80"), "{m:?}");
        // The same URL with its default port written: the same finding.
        let m = served(&format!(
            r#"base-url "http://10.0.0.2:8080"; {dir} image debian {{ kernel "http://10.0.0.2:80/images/vmlinuz"; }}"#
        ));
        assert!(m.len() == 1 && m[0].contains("port 80"), "{m:?}");
        // Another port, or another scheme (a TLS proxy on 443, written or
        // not): another server of that host, SC1212's.
        for url in [
            "http://10.0.0.2:8081/images/vmlinuz",
            "https://10.0.0.2/images/vmlinuz",
            "https://10.0.0.2:443/images/vmlinuz",
        ] {
            assert!(
                served(&format!(
                    r#"base-url "http://10.0.0.2:8080"; {dir} image debian {{ kernel "{url}"; }}"#
                ))
                .is_empty(),
                "{url}"
            );
            assert!(
                served(&format!(r#"{dir} image debian {{ kernel "{url}"; }}"#)).is_empty(),
                "{url}"
            );
        }
    }

    /// nginx merges slashes, decodes escapes and resolves dot segments
    /// before matching its locations (checked against a real nginx 1.22
    /// with the generated configuration: 200 for each served form below).
    #[test]
    fn paths_as_nginx_normalises_them() {
        let dir = r#"base-url "http://10.0.0.2:8080"; images-dir "/srv/images";"#;
        let at = |path: &str| {
            served(&format!(
                r#"{dir} image debian {{ kernel "http://10.0.0.2:8080{path}"; }}"#
            ))
        };
        for ok in [
            "//images/discovery/vmlinuz",
            "/./images/discovery/vmlinuz",
            "/images//discovery/./vmlinuz",
            "/%2e/images/discovery/vmlinuz",
            "/%69mages/discovery/vmlinuz",
            "/images%2fdiscovery/vmlinuz",
            "/images/x/%2e%2e/discovery/vmlinuz",
            "/images/x/.%2e/discovery/vmlinuz",
            "/images/x/..%2fdiscovery/vmlinuz",
        ] {
            assert!(at(ok).is_empty(), "{ok}: {:?}", at(ok));
        }
        let m = at("/images/x/%2e%2e/%2e%2e/site/vmlinuz");
        assert!(
            m.len() == 1 && m[0].contains("percent-encoded") && m[0].contains("`/site/vmlinuz`"),
            "{m:?}"
        );
        let m = at("/%2e%2e/images/vmlinuz");
        assert!(m.len() == 1 && m[0].contains("above the root"), "{m:?}");
        // `//` is not a way around the locations, and `%252e` is decoded once.
        let m = at("//vmlinuz");
        assert!(m.len() == 1 && m[0].contains("does not serve"), "{m:?}");
        assert!(at("/images/%252e%252e/vmlinuz").is_empty());
        assert_eq!(super::normalised("/a//b/./c/"), Some("/a/b/c/".into()));
        assert_eq!(super::normalised("/a/%2E%2E//b"), Some("/b".into()));
        assert_eq!(super::normalised("/a/../.."), None);
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
