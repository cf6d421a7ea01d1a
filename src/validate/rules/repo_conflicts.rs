//! Rule `repo-conflicts`: one repository declared twice with different keys.
//!
//! **What it does.** Reports (SC0076) two enabled repos of one node (after
//! the site defaults, profiles and the node are merged) that share a URI
//! (a trailing `/` aside) and a suite, under two names, with different
//! `signed-by` — a `signed-by` on one and none on the other included. It
//! is reported at the later repo's `signed-by` (or its name, when it has
//! none), once for all the nodes that have both.
//!
//! **Why it matters.** apt reads every `.sources` file into one list, and
//! all the entries of one URI and suite must agree on `Signed-By`. When
//! they do not, apt says "Conflicting values set for option Signed-By
//! regarding source … The list of sources could not be read" and stops:
//! `apt-get update` and every install fail, so cloud-init installs no
//! package (FRR included: the node gets no BGP).
//!
//! **Example.**
//! ```kdl
//! repo debian { uris "http://deb.debian.org/debian"; suites bookworm; signed-by "/usr/share/keyrings/debian-archive-keyring.gpg" }
//! repo debian-main { uris "http://deb.debian.org/debian"; suites bookworm; signed-by "/etc/apt/keyrings/debian.gpg" }   // SC0076
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Repo;

pub static RULE: Rule = Rule {
    name: "repo-conflicts",
    codes: &[Code::RepoConflictingOptions],
    check,
    resolved: true,
};

fn signed_by(r: &Repo) -> &str {
    r.signed_by.as_ref().map_or("", |s| s.value.trim())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        if rn.settings.repos.len() < 2 {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.value.as_str();
        // (URI, suite) → the first repo that names it.
        let mut first: BTreeMap<(&str, &str), &Repo> = BTreeMap::new();
        for r in &rn.settings.repos {
            if r.enabled.as_ref().is_some_and(|e| !e.value) {
                continue;
            }
            let mut reported = false;
            for u in &r.uris {
                let uri = u.value.trim_end_matches('/');
                for s in &r.suites {
                    let key = (uri, s.value.as_str());
                    let Some(&prev) = first.get(&key) else {
                        first.insert(key, r);
                        continue;
                    };
                    if reported
                        || prev.name.value == r.name.value
                        || signed_by(prev) == signed_by(r)
                    {
                        continue;
                    }
                    reported = true;
                    let show = |r: &Repo| match &r.signed_by {
                        Some(s) if s.value.trim().starts_with("-----BEGIN") => {
                            "an embedded key".to_string()
                        }
                        Some(s) => format!("`{}`", s.value.trim()),
                        None => "no `signed-by`".to_string(),
                    };
                    let mut d = Diagnostic::error(
                        Code::RepoConflictingOptions,
                        format!(
                            "repos `{}` and `{}` are one repository ({uri} {}) with different keys ({} and {}): apt stops with \"Conflicting values set for option Signed-By\" and installs nothing",
                            prev.name.value, r.name.value, s.value, show(prev), show(r)
                        ),
                    );
                    d = match &r.signed_by {
                        Some(sb) => d.label(sb.span, "a second Signed-By for the same repository"),
                        None => d.label(r.name.span, "the same repository without Signed-By"),
                    };
                    d = match &prev.signed_by {
                        Some(sb) => d.label(sb.span, "first declared with this key"),
                        None => d.label(prev.name.span, "first declared here, without Signed-By"),
                    };
                    found.push(
                        name,
                        d.help(format!(
                            "declare the repository once (add the suites or components to `{}`), or give both the same `signed-by`",
                            prev.name.value
                        )),
                    );
                }
            }
        }
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(a: &str, b: &str) -> String {
        format!(
            "site s {{ domain \"s.example\" }}
rack r01 {{ }}
profile base {{
  repo a {{ uris \"http://deb.debian.org/debian\"; suites bookworm bookworm-updates; components main; {a} }}
  repo b {{ uris \"http://deb.debian.org/debian/\"; suites bookworm; components contrib; {b} }}
}}
node n1 {{ rack r01; position 1; profiles base }}"
        )
    }

    fn found(a: &str, b: &str) -> usize {
        codes(&site(a, b))
            .iter()
            .filter(|c| **c == "SC0076")
            .count()
    }

    /// What apt 2.6 says (apt-get update over the two files).
    #[test]
    fn conflicting_keys() {
        let k1 = "signed-by \"/usr/share/keyrings/debian-archive-keyring.gpg\"";
        let k2 = "signed-by \"/etc/apt/keyrings/debian.gpg\"";
        assert_eq!(found(k1, k2), 1);
        assert_eq!(found(k1, ""), 1);
        assert_eq!(found(k1, k1), 0);
        assert_eq!(found(k1, &format!("{k2}; enabled #false")), 0);
    }
}
