//! Rule `boot-image-unknown`: a boot image that is not declared.
//!
//! **What it does.** Reports (SC1201) a `boot-image` (site defaults,
//! profile or node) or a `discovery-image` that names no `image` of the
//! site's `boot`, with the closest image name as a hint; and a `boot-image`
//! on a site that has no `boot` at all. One finding per name, at its first
//! reference, counting the others.
//!
//! **Why it matters.** A node whose image does not exist gets no boot
//! script: it powers on, gets its address and stops at iPXE.
//!
//! **Example.**
//! ```kdl
//! site dc1 { boot { servers "10.0.0.2"; image debian-12 { kernel "http://10.0.0.2/images/vmlinuz"; } } }
//! profile compute { boot-image debian12; }   // SC1201: did you mean `debian-12`?
//! ```

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "boot-image-unknown",
    codes: &[Code::BootImageUnknown],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let boot = cx.site.boot();
    let names: Vec<&str> = boot
        .map(|b| b.images.iter().map(|i| i.name.as_str()).collect())
        .unwrap_or_default();
    let mut wanted = Vec::new();
    for (what, s) in layers(cx.site) {
        if let Some(i) = &s.boot_image {
            wanted.push((i, format!("`boot-image` of {what}")));
        }
    }
    if let Some(i) = boot.and_then(|b| b.discovery_image.as_ref()) {
        wanted.push((i, "`discovery-image`".to_string()));
    }
    // One finding per unknown name, at its first reference: a typo copied
    // onto every node is one mistake.
    let mut unknown: Vec<(&crate::model::Sp<String>, String, usize)> = Vec::new();
    for (i, what) in wanted {
        if names.contains(&i.as_str()) {
            continue;
        }
        match unknown.iter_mut().find(|(j, _, _)| j.value == i.value) {
            Some((_, _, more)) => *more += 1,
            None => unknown.push((i, what, 0)),
        }
    }
    for (i, what, more) in unknown {
        let what = match more {
            0 => what,
            1 => format!("{what} (and 1 more reference)"),
            n => format!("{what} (and {n} more references)"),
        };
        let d = if boot.is_none() {
            Diagnostic::error(
                Code::BootImageUnknown,
                format!("{what} is `{}`, but the site has no `boot`", i.value),
            )
            .label(i.span, "no boot service declared")
            .help("declare the boot service and its images in the site: `boot { servers \"10.0.0.2\"; image NAME { kernel \"http://…\"; } }`")
        } else {
            Diagnostic::error(
                Code::BootImageUnknown,
                format!(
                    "{what} is `{}`, which the site's `boot` does not declare",
                    i.value
                ),
            )
            .label(i.span, "no such image")
            .help(suggest(&i.value, names.iter().copied(), || {
                format!(
                    "declare it in the site's `boot`: `image {} {{ kernel \"http://…\"; }}`",
                    i.value
                )
            }))
        };
        diags.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    #[test]
    fn one_finding_per_unknown_name() {
        let mut text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot { servers "10.0.0.2"; images-dir "/srv/images"; image debian-12 { kernel "http://10.0.0.2/images/vmlinuz"; } } }
            rack r01 { height 42; }
"#
        .to_string();
        for i in 1..=4 {
            text.push_str(&format!(
                "node r01n{i:02} {{ rack r01; position {i}; boot-image debian12; }}\n"
            ));
        }
        let d: Vec<String> = check_kdl(&text)
            .into_iter()
            .map(|d| format!("{} {}", d.code.as_str(), d.message))
            .collect();
        assert_eq!(
            d,
            ["SC1201 `boot-image` of node `r01n01` (and 3 more references) is `debian12`, which the site's `boot` does not declare"]
        );
    }
}
