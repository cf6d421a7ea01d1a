//! Rule `repo-fields`: a repo's suites, components or architectures apt's
//! deb822 sources cannot hold.
//!
//! **What it does.** Reports (SC0048) a `suites`, `components` or
//! `architectures` entry with a comma (`components "main,contrib"`, which
//! apt reads as one name, listed separately with a help); a `suites` or
//! `components` entry with white space or empty; a repo with suites that are not exact paths
//! but no `components`, and one with an exact-path suite (ending in `/`)
//! and `components` (apt: "Malformed entry … (Component)" and "(absolute
//! Suite Component)"); and an `architectures` entry that is not a Debian
//! architecture (the names of `dpkg-architecture -L`, kept in
//! `data/dpkg-architectures.txt`), with the closest as a hint. (`types` is
//! one of `deb`, `deb-src`, checked when the file is read.)
//!
//! **Why it matters.** apt refuses the whole sources list on a malformed
//! entry, so no package installs on the nodes that get it; an architecture
//! apt does not know silently matches no package, so every install from
//! the repo fails with "Unable to locate package".
//!
//! **Example.**
//! ```kdl
//! repo internal { uris "https://apt.example.net/"; suites bookworm; architectures amd46 }   // SC0048 twice
//! ```

use super::super::{Ctx, Rule};
use super::{layers, suggest};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "repo-fields",
    codes: &[Code::InvalidRepoField],
    check,
    resolved: false,
};

const ARCHES: &str = include_str!("../../../data/dpkg-architectures.txt");

fn arches() -> impl Iterator<Item = &'static str> + Clone {
    ARCHES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for r in &s.repos {
            let err = |message: String| {
                Diagnostic::error(
                    Code::InvalidRepoField,
                    format!("repo `{}` of {what}: {message}", r.name.value),
                )
            };
            for (field, list) in [("suites", &r.suites), ("components", &r.components)] {
                for v in list.iter() {
                    if comma(diags, &err, field, v) {
                        continue;
                    }
                    if v.value.is_empty()
                        || v.value.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        diags.push(
                            err(format!("`{}` is not one word", v.value.escape_debug()))
                                .label(v.span, format!("one entry of `{field}`"))
                                .help(format!(
                                    "give each entry of `{field}` as its own value: `{field} a b`"
                                )),
                        );
                    }
                }
            }
            let exact = r.suites.iter().find(|s| s.value.ends_with('/'));
            let named = r.suites.iter().find(|s| !s.value.ends_with('/'));
            if let (Some(e), Some(c)) = (exact, r.components.first()) {
                diags.push(
                    err(format!(
                        "suite `{}` is an exact path, which takes no components",
                        e.value
                    ))
                    .label(c.span, "apt refuses components with an exact-path suite")
                    .help(
                        "leave `components` out, or name the suite (`bookworm`) instead of a path",
                    ),
                );
            }
            if let (Some(n), true) = (named, r.components.is_empty()) {
                diags.push(
                    err(format!("suite `{}` needs `components`", n.value))
                        .label(n.span, "apt refuses a suite without components")
                        .help("add e.g. `components main`; only a suite that is an exact path (ending in `/`) has none"),
                );
            }
            for a in &r.architectures {
                if arches().any(|x| x == a.value) || comma(diags, &err, "architectures", a) {
                    continue;
                }
                diags.push(
                    err(format!("`{}` is not a Debian architecture", a.value))
                        .label(a.span, "apt would match no package of this repo")
                        .help(suggest(&a.value, arches(), || {
                            "give Debian architecture names such as `amd64`, `arm64` (`dpkg-architecture -L` lists them)".into()
                        })),
                );
            }
        }
    }
}

/// Reports an entry with a comma (`main,contrib`): apt takes it for one
/// name. Returns whether it did.
fn comma(
    diags: &mut Diagnostics,
    err: &impl Fn(String) -> Diagnostic,
    field: &str,
    v: &Sp<String>,
) -> bool {
    if !v.value.contains(',') {
        return false;
    }
    let words: Vec<&str> = v
        .value
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    diags.push(
        err(format!(
            "`{}` is one entry of `{field}` with a comma in it",
            v.value.escape_debug()
        ))
        .label(v.span, "apt reads this as one name")
        .help(format!(
            "list them as separate values, without commas: `{field} {}`",
            words.join(" ")
        )),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(repo: &str) -> Vec<&'static str> {
        codes(&format!(
            "site s {{ domain \"s.example\"; defaults {{ repo r {{ uris \"https://a.example/\"; {repo} }} }} }}"
        ))
        .into_iter()
        .filter(|c| *c == "SC0048")
        .collect()
    }

    #[test]
    fn repo_fields() {
        assert!(site("suites bookworm; components main; architectures amd64 arm64").is_empty());
        assert!(site("suites \"./\"").is_empty());
        assert_eq!(site("suites bookworm"), ["SC0048"]);
        assert_eq!(site("suites \"./\"; components main"), ["SC0048"]);
        assert_eq!(
            site("suites bookworm; components main; architectures amd46"),
            ["SC0048"]
        );
        assert_eq!(
            site("suites \"bookworm updates\"; components main"),
            ["SC0048"]
        );
        assert_eq!(
            site("suites bookworm; components \"main,non-free-firmware\""),
            ["SC0048"]
        );
        assert_eq!(
            site("suites \"bookworm,bookworm-updates\"; components main"),
            ["SC0048"]
        );
        assert_eq!(
            site("suites bookworm; components main; architectures \"amd64,arm64\""),
            ["SC0048"]
        );
    }
}
