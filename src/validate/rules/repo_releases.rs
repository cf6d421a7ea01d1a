//! Rule `repo-releases`: one node's repos on Debian or Ubuntu archives
//! name suites of different releases.
//!
//! **What it does.** Warns (SC0039) when the enabled repos of a node (the
//! site defaults, profiles and the node merged) that point at a Debian or
//! Ubuntu archive (see `repo-suites`) name suites of two or more release
//! codenames (`bookworm` and `bullseye-security`; `bookworm` and `jammy`),
//! once for all the nodes that have the same pair, at the later suite.
//! Suite names that move (`stable`, `testing`) and a repository's own suite
//! names are not judged, and `sid`/`experimental` are not mixed with a
//! release on purpose often enough to count: a node that names them is
//! not judged.
//!
//! **Why it matters.** apt takes every repository as one pool: a node of
//! bookworm given `bullseye-security` gets no security update from it
//! (bullseye's versions are older than bookworm's, so apt never picks
//! them) while it looks covered, and one given another release's main
//! archive installs packages built against other libraries — Debian's
//! "Don't break Debian" page calls this a FrankenDebian. A repository of
//! another distribution's release (an Ubuntu `jammy` beside Debian
//! `bookworm`) is the same mistake.
//!
//! **Example.**
//! ```kdl
//! repo debian { uris "http://deb.debian.org/debian"; suites bookworm bookworm-updates }
//! repo debian-security { uris "http://security.debian.org/debian-security"; suites bullseye-security }   // SC0039
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::repo_suites::{base_of, distribution_of, distro_mirror};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "repo-releases",
    codes: &[Code::RepoMixedReleases],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        if rn.settings.repos.is_empty() {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.value.as_str();
        // Release codename → the first suite (and its repo) that names it.
        let mut releases: BTreeMap<&str, (&str, &Sp<String>)> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        let mut unstable = false;
        for r in &rn.settings.repos {
            if r.enabled.as_ref().is_some_and(|e| !e.value) {
                continue;
            }
            if !r.uris.iter().any(|u| distro_mirror(&u.value)) {
                continue;
            }
            for suite in &r.suites {
                let base = base_of(suite.value.trim());
                if matches!(base, "sid" | "experimental") {
                    unstable = true;
                }
                if distribution_of(base).is_none() {
                    continue;
                }
                if !releases.contains_key(base) {
                    releases.insert(base, (r.name.value.as_str(), suite));
                    order.push(base);
                }
            }
        }
        if unstable || order.len() < 2 {
            continue;
        }
        let (first, (first_repo, first_suite)) = (order[0], releases[order[0]]);
        for other in &order[1..] {
            let (repo, suite) = releases[other];
            let shown = |c: &str| match distribution_of(c) {
                Some("ubuntu") => "Ubuntu",
                _ => "Debian",
            };
            let (da, db) = (shown(first), shown(other));
            let which = if da == db {
                format!("{da} releases `{first}` and `{other}`")
            } else {
                format!("releases of two distributions, {da} `{first}` and {db} `{other}`")
            };
            found.push(
                name,
                Diagnostic::warning(
                    Code::RepoMixedReleases,
                    format!(
                        "the node's repos name {which}: apt takes them as one pool, so packages of one release are installed beside the other's libraries, or (a `-security` suite of an older release) no update ever comes from it"
                    ),
                )
                .label(suite.span, format!("`{other}`, in repo `{repo}`"))
                .label(first_suite.span, format!("`{first}`, in repo `{first_repo}`"))
                .help(format!(
                    "name the node's release in every suite (`{first}`, `{first}-updates`, `{first}-security`), or the other one everywhere if the node runs that"
                )),
            );
        }
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(security: &str, extra: &str) -> String {
        format!(
            "site s {{ domain \"s.example\" }}
rack r01 {{ }}
profile base {{
  repo debian {{ uris \"http://deb.debian.org/debian\"; suites bookworm bookworm-updates; components main }}
  repo security {{ uris \"http://security.debian.org/debian-security\"; suites {security}; components main }}
  {extra}
}}
node n1 {{ rack r01; position 1; profiles base }}"
        )
    }

    fn found(security: &str, extra: &str) -> Vec<&'static str> {
        codes(&site(security, extra))
            .into_iter()
            .filter(|c| *c == "SC0039")
            .collect()
    }

    #[test]
    fn releases_of_one_node() {
        assert!(found("bookworm-security", "").is_empty());
        assert_eq!(found("bullseye-security", ""), ["SC0039"]);
        // Backports of the same release, a vendor's own suite: fine.
        assert!(found(
            "bookworm-security",
            "repo bp { uris \"http://deb.debian.org/debian\"; suites bookworm-backports; components main }"
        )
        .is_empty());
        assert!(found(
            "bookworm-security",
            "repo internal { uris \"https://apt.example.net/internal\"; suites bullseye; components main }"
        )
        .is_empty());
        // Another distribution's release on its archive.
        assert_eq!(
            found(
                "bookworm-security",
                "repo u { uris \"http://archive.ubuntu.com/ubuntu\"; suites jammy; components main }"
            ),
            ["SC0039"]
        );
        // A disabled repo, moving suite names, unstable on purpose: not judged.
        assert!(found(
            "bookworm-security",
            "repo old { uris \"http://deb.debian.org/debian\"; suites bullseye; components main; enabled #false }"
        )
        .is_empty());
        assert!(found("stable-security", "").is_empty());
        assert!(found(
            "bookworm-security",
            "repo sid { uris \"http://deb.debian.org/debian\"; suites sid; components main }"
        )
        .is_empty());
    }
}
