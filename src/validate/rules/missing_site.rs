//! Rule `missing-site`: the site files declare no `site` block.
//!
//! **What it does.** Reports a site without `site NAME { domain … }`
//! (SC0005).
//!
//! **Why it matters.** The site block carries the DNS domain every FQDN is
//! built from and the ASN pool `asn auto` draws from; without it every
//! node's hostname, DNS zone and inventory entry would be wrong.
//!
//! **Example.**
//! ```kdl
//! // site/racks.kdl — and no `site dc1 { domain "dc1.example.net" }` anywhere
//! rack r01 { height 42; }
//! ```

use super::super::{Ctx, Rule};
use super::loc;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "missing-site",
    codes: &[Code::MissingField],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    // A file that failed to parse may hold the site block: its syntax
    // error is the finding.
    if site.site.is_some() || site.lost.may_declare("site") {
        return;
    }
    // There is no place for the missing block; point at the first thing the
    // site files do declare, so the report still has a file and a line.
    let first = site
        .networks
        .iter()
        .map(|x| x.name.span)
        .chain(site.racks.iter().map(|x| x.name.span))
        .chain(site.switches.iter().map(|x| x.name.span))
        .chain(site.nodes.iter().map(|x| x.name.span))
        .chain(site.bgp_peers.iter().map(|x| x.name.span))
        .chain(site.profiles.iter().map(|x| x.name.span))
        .chain(site.groups.iter().map(|x| x.name.span))
        .min_by_key(|s| loc(cx, *s));
    let Some(first) = first else {
        // Nothing declared at all. A syntax error or "no site files"
        // already explains why, unless the site files are there, parse,
        // and are empty: then the build would replace a fleet's output
        // with an empty one.
        if let Some((id, f)) = cx.sources.files().find(|(_, f)| {
            (f.path.ends_with(".kdl") || f.path.ends_with(".toml"))
                && f.path != crate::project::CONFIG_FILE
        }) {
            diags.push(
                Diagnostic::error(Code::MissingField, "the site files declare nothing: no `site` block, no node")
                    .label(crate::syntax::Span::new(id, 0, 0), format!("{} declares nothing, nor does any other site file", f.path))
                    .help("declare the site, e.g. `site dc1 { domain \"dc1.example.net\" }`, and its racks, switches and nodes (`siteconf init` writes a complete example)"),
            );
        }
        return;
    };
    diags.push(
        Diagnostic::error(Code::MissingField, "no `site` block in any site file")
            .label(first, "the site files start here, without a `site` block")
            .help("declare the site once, e.g. `site dc1 { domain \"dc1.example.net\"; asn-pool \"4200000000-4200099999\" }`"),
    );
}
