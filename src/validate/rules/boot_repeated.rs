//! Rule `boot-list-repeated`: a firmware class or boot server listed twice.
//!
//! **What it does.** Warns (SC1215) about a `firmware` class or a
//! `servers` address of the site's `boot` that an earlier entry of the
//! same list already names, at the repeat.
//!
//! **Why it matters.** The repeat changes nothing — each firmware class is
//! one Kea client class, and only the first server is `next-server` — so
//! it is almost always a typo for another entry (`firmware bios bios` for
//! `bios uefi`): the class or server meant is missing, and the machines
//! that need it do not boot.
//!
//! **Example.**
//! ```kdl
//! boot { servers "10.0.0.2"; firmware bios bios; }   // SC1215
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "boot-list-repeated",
    codes: &[Code::BootListRepeated],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    let firmware: Vec<(String, Span)> = boot
        .firmware
        .iter()
        .map(|f| (f.value.as_str().to_string(), f.span))
        .collect();
    repeated(diags, &firmware, "firmware class", "firmware", "each class is one Kea client class: list each once, and check whether another class (`bios`, `uefi`, `ipxe`, `uefi-http`) was meant");
    let servers: Vec<(String, Span)> = boot
        .servers
        .iter()
        .map(|s| (s.value.to_string(), s.span))
        .collect();
    repeated(
        diags,
        &servers,
        "boot server",
        "servers",
        "list each boot server once, and check whether another server's address was meant",
    );
}

fn repeated(
    diags: &mut Diagnostics,
    items: &[(String, Span)],
    what: &str,
    field: &str,
    help: &str,
) {
    for (k, (v, span)) in items.iter().enumerate() {
        let Some((_, first)) = items[..k].iter().find(|(w, _)| w == v) else {
            continue;
        };
        diags.push(
            Diagnostic::warning(
                Code::BootListRepeated,
                format!("{what} `{v}` is listed twice in `{field}`"),
            )
            .label(*span, "listed again: changes nothing")
            .label(*first, "first listed here")
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn repeats(boot: &str) -> Vec<String> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ {boot}; images-dir "/srv/images"; image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; }}"#
        );
        check_kdl(&text)
            .into_iter()
            .filter(|d| d.code.as_str() == "SC1215")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn repeats_are_warned_once_each() {
        assert!(repeats(r#"servers "10.0.0.2" "10.0.0.4"; firmware bios uefi"#).is_empty());
        let m = repeats(r#"servers "10.0.0.2"; firmware bios bios"#);
        assert_eq!(m, ["firmware class `bios` is listed twice in `firmware`"]);
        let m = repeats(r#"servers "10.0.0.2" "10.0.0.2""#);
        assert_eq!(m.len(), 1, "{m:?}");
    }
}
