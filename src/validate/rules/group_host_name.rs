//! Rule `group-host-name`: a group named like a node or a switch.
//!
//! **What it does.** Reports (SC0088, an error) a group — in `groups` of
//! any layer, a `group` block or its `children` — whose inventory name
//! (the name with every character other than letters, digits and `_`
//! made `_`) is the name of a node or a switch of the site.
//!
//! **Why it matters.** The inventory's hosts are FQDNs
//! (`r01n05.dc1.example.net`), so the short name `r01n05` in a host
//! pattern matches no host but the group: `ansible r01n05 --list-hosts`
//! lists every host of the group, and `ansible-playbook --limit r01n05`
//! or `ansible r01n05 -m reboot`, meant for one machine, runs on all of
//! them. ansible-inventory says nothing.
//!
//! **Example.**
//! ```kdl
//! profile compute { groups compute r01n05 }   // SC0088
//! node r01n05 { … }
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::layers;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::group_name;
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "group-host-name",
    codes: &[Code::GroupNamedLikeHost],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    let mut hosts: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &site.switches {
        hosts.insert(s.name.as_str(), "switch");
    }
    for n in &site.nodes {
        hosts.insert(n.name.as_str(), "node");
    }
    let mut report = |g: &Sp<String>, whose: String| {
        let inv = group_name(&g.value);
        let Some(kind) = hosts.get(inv.as_str()) else {
            return;
        };
        diags.push(
            Diagnostic::error(
                Code::GroupNamedLikeHost,
                format!(
                    "{whose} `{inv}`, the name of {kind} `{inv}`: the inventory's hosts are FQDNs, so the host pattern `{inv}` matches the group, and `--limit {inv}` (or `ansible {inv} -m reboot`) runs on every host of the group, not on the {kind}"
                ),
            )
            .label(g.span, format!("named like {kind} `{inv}`"))
            .help(format!(
                "rename the group (`{inv}_group`, or what its hosts share); to act on the {kind} alone use its FQDN or a pattern like `{inv}.*`"
            )),
        );
    };
    for (what, s) in layers(site) {
        for g in &s.groups {
            report(g, format!("{what} is in the group"));
        }
    }
    for g in &site.groups {
        report(&g.name, "a `group` block is named".to_string());
        for c in &g.children {
            report(c, format!("group `{}` has the child group", g.name.value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(extra: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch tor1 {{ rack r01; position 42; ports swp1-4; }}
node r01n01 {{ rack r01; position 1; groups compute; }}
node r01n02 {{ rack r01; position 2; {extra} }}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0088").count()
    }

    #[test]
    fn a_group_named_like_a_host_is_an_error() {
        assert_eq!(n(""), 0);
        assert_eq!(n("groups r01n01;"), 1);
        assert_eq!(n("groups tor1;"), 1);
        // `r01-n01` is the group `r01_n01` in the inventory: no host's name.
        assert_eq!(n("groups \"r01-n01\";"), 0);
        assert_eq!(n("groups r01n01_x;"), 0);
    }

    #[test]
    fn group_blocks_and_children_too() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
node r01n01 { rack r01; position 1; }
group r01n01 { vars { x 1; } }
group fleet { children r01n01; }
"#;
        assert_eq!(codes(site).iter().filter(|c| **c == "SC0088").count(), 2);
    }
}
