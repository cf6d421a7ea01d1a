//! Rule `package-conflicts`: two packages of one node that apt cannot
//! install together.
//!
//! **What it does.** Reports (SC0084) two entries of a node's `packages`
//! (after the site defaults, profiles and the node are merged) that provide
//! one of Debian's *exclusive* virtual packages: each provider also
//! conflicts with it (Debian Policy 7.6.2), so only one can be installed —
//! `chrony` and `ntpsec` (`time-daemon`), `postfix` and `exim4-daemon-light`
//! (`mail-transport-agent`), `rsyslog` and `syslog-ng-core`. A transitional
//! package that pulls in one of them counts as it (`ntp` installs
//! `ntpsec`). The list is data: `data/debian-bookworm-exclusive-virtuals.txt`,
//! made from the bookworm archive's package index by
//! `scripts/gen-exclusive-virtuals.py`. Reported at the later package, once
//! for all the nodes that have both.
//!
//! **Why it matters.** cloud-init hands the whole `packages` list to one
//! `apt-get install`, which refuses it ("chrony : Conflicts: time-daemon,
//! ntpsec : Conflicts: time-daemon … Unable to correct problems"): the node
//! comes up without any of its packages, FRR and lldpd included, so it runs
//! no BGP.
//!
//! **Example.**
//! ```kdl
//! profile base { packages chrony frr }
//! profile legacy { packages ntp }   // SC0084 on a node with both: ntp (ntpsec) and chrony are both a time-daemon
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::super::{Ctx, Rule};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "package-conflicts",
    codes: &[Code::PackageConflict],
    check,
    resolved: true,
};

const DATA: &str = include_str!("../../../data/debian-bookworm-exclusive-virtuals.txt");

/// Package name → the exclusive virtual packages it provides.
fn providers() -> &'static BTreeMap<&'static str, Vec<&'static str>> {
    static MAP: OnceLock<BTreeMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in DATA.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let Some(virtual_name) = words.next() else {
                continue;
            };
            for p in words {
                map.entry(p).or_default().push(virtual_name);
            }
        }
        map
    })
}

/// The package a `packages` entry installs: `name[:arch][=version|/release]`.
fn package_of(spec: &str) -> &str {
    let end = spec.find([':', '=', '/']).unwrap_or(spec.len());
    &spec[..end]
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let providers = providers();
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        if rn.settings.packages.len() < 2 {
            continue;
        }
        let name = cx.site.nodes[rn.index].name.value.as_str();
        // Virtual package → the first entry that provides it.
        let mut first: BTreeMap<&str, &crate::model::Sp<String>> = BTreeMap::new();
        for p in &rn.settings.packages {
            let pkg = package_of(p.value.trim());
            let Some(virtuals) = providers.get(pkg) else {
                continue;
            };
            for v in virtuals {
                match first.get(v) {
                    None => {
                        first.insert(v, p);
                    }
                    Some(prev) if package_of(prev.value.trim()) == pkg => {}
                    Some(prev) => {
                        let other = package_of(prev.value.trim());
                        found.push(
                            name,
                            Diagnostic::error(
                                Code::PackageConflict,
                                format!(
                                    "packages `{other}` and `{pkg}` are both a `{v}`, of which Debian installs one only: cloud-init's single `apt-get install` of the node's packages fails (\"Conflicts: {v}\"), and the node comes up without any of them, FRR included"
                                ),
                            )
                            .label(p.span, format!("a second `{v}`"))
                            .label(prev.span, format!("`{other}` is the first"))
                            .help(format!(
                                "keep one `{v}` per node: remove `{pkg}` or `{other}` (`packages` adds to what a node inherits: a profile or node that needs the other one says `reset packages` and lists its own)"
                            )),
                        );
                        break;
                    }
                }
            }
        }
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    fn site(packages: &str) -> String {
        format!(
            "site s {{ domain \"s.example\" }}
rack r01 {{ }}
profile base {{ packages chrony frr }}
node n1 {{ rack r01; position 1; profiles base; packages {packages} }}"
        )
    }

    #[test]
    fn the_data_knows_the_time_daemons_and_mail_agents() {
        let p = providers();
        for pkg in ["chrony", "ntpsec", "ntp", "openntpd", "systemd-timesyncd"] {
            assert_eq!(p.get(pkg), Some(&vec!["time-daemon"]), "{pkg}");
        }
        assert!(p["postfix"].contains(&"mail-transport-agent"));
        assert!(!p.contains_key("frr"));
        assert_eq!(
            package_of("ntp=1:4.2.8p15+dfsg-2~1.2.2+dfsg1-1+deb12u1"),
            "ntp"
        );
        assert_eq!(package_of("ntpsec:amd64"), "ntpsec");
        assert_eq!(package_of("chrony/bookworm-backports"), "chrony");
    }

    #[test]
    fn two_providers_of_one_exclusive_virtual_package() {
        let f = |p: &str| -> Vec<&'static str> {
            codes(&site(p))
                .into_iter()
                .filter(|c| *c == "SC0084")
                .collect()
        };
        assert_eq!(f("ntp"), ["SC0084"]);
        assert_eq!(f("\"ntpsec=1.2.2\""), ["SC0084"]);
        assert_eq!(f("systemd-timesyncd"), ["SC0084"]);
        // The same package twice, or unrelated packages: fine.
        assert!(f("chrony").is_empty());
        assert!(f("\"chrony=4.3-2+deb12u1\"").is_empty());
        assert!(f("postfix lldpd").is_empty());
        assert_eq!(f("postfix exim4-daemon-light"), ["SC0084"]);
    }
}
