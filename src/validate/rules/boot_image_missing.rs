//! Rule `boot-image-missing`: a node that cannot network-boot.
//!
//! **What it does.** When the site declares a boot service, warns (SC1202)
//! about the nodes whose merged settings have no `boot-image` (neither the
//! site defaults, their profiles nor the node set one): one finding at the
//! first, naming a few more and counting the rest. Nodes that inherit a
//! `boot-image` refused as a name (SC0016), an undeclared profile or lost
//! site defaults are left out: that mistake is the finding.
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
use super::Gaps;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::resolve::Layer;

pub static RULE: Rule = Rule {
    name: "boot-image-missing",
    codes: &[Code::BootImageMissing],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let Some(boot) = cx.site.boot() else {
        return;
    };
    let example = boot
        .images
        .first()
        .map(|i| i.name.value.as_str())
        .unwrap_or("NAME");
    let gaps = Gaps::new(cx);
    let mut missing = Vec::new();
    for rn in &rs.nodes {
        if rn.settings.boot_image.is_some() {
            continue;
        }
        let node = &cx.site.nodes[rn.index];
        // A `boot-image` that was refused (SC0016) or a layer that is not
        // there may be what this node lacks: that is the one finding.
        if gaps.node(cx, node) || rn.layers.iter().any(|(l, _)| refused(cx, l, node)) {
            continue;
        }
        missing.push(node);
    }
    let Some(first) = missing.first() else { return };
    // The nodes usually lack it for one reason (no layer they share sets
    // one): one finding, naming a few of them.
    let message = match &missing[1..] {
        [] => format!(
            "node `{}` has no `boot-image`: it cannot network-boot",
            first.name.value
        ),
        more => {
            let names: Vec<String> = more
                .iter()
                .take(3)
                .map(|n| format!("`{}`", n.name.value))
                .collect();
            let tail = if more.len() > 3 { ", …" } else { "" };
            format!(
                "node `{}` and {} more ({}{tail}) have no `boot-image`: they cannot network-boot",
                first.name.value,
                more.len(),
                names.join(", ")
            )
        }
    };
    diags.push(
        Diagnostic::warning(Code::BootImageMissing, message)
            .label(first.name.span, "no boot image, no boot script")
            .help(format!(
                "set `boot-image {example}` on the node, one of its profiles or the site defaults"
            )),
    );
}

/// Whether layer `l` of `node` wrote a `boot-image` that was refused.
fn refused(cx: &Ctx, l: &Layer, node: &crate::model::Node) -> bool {
    match l {
        Layer::Defaults => cx
            .site
            .site
            .as_ref()
            .is_some_and(|s| s.defaults.boot_image_invalid),
        Layer::Profile(p) => cx
            .index
            .profiles
            .get(p.as_str())
            .is_some_and(|&i| cx.site.profiles[i].settings.boot_image_invalid),
        Layer::Node(_) => node.settings.boot_image_invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check_kdl;

    fn site(defaults: &str, nodes: usize) -> Vec<(String, String)> {
        let mut text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers "10.0.0.2"; images-dir "/srv/images"; image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}
                defaults {{ {defaults} }} }}
            rack r01 {{ height 42; }}
"#
        );
        for i in 1..=nodes {
            text.push_str(&format!("node r01n{i:02} {{ rack r01; position {i}; }}\n"));
        }
        check_kdl(&text)
            .into_iter()
            .map(|d| (d.code.as_str().to_string(), d.message))
            .collect()
    }

    #[test]
    fn one_finding_for_every_node_without_an_image() {
        let d = site("", 5);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC1202");
        assert!(
            d[0].1
                .contains("`r01n01` and 4 more (`r01n02`, `r01n03`, `r01n04`, …)"),
            "{d:?}"
        );
        let d = site("", 1);
        assert_eq!(
            d[0].1,
            "node `r01n01` has no `boot-image`: it cannot network-boot"
        );
    }

    #[test]
    fn a_refused_image_name_is_the_only_finding() {
        let d = site(r#"boot-image "debian 12""#, 5);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "SC0016");
    }
}
