//! Rule `repo-suites`: repo URIs and suites apt accepts but finds nothing at.
//!
//! **What it does.** Warns (SC0077) about a repo URI that ends in
//! `/dists/<suite>` or `/dists`, and (SC0078) about a suite of a repo on a
//! Debian or Ubuntu mirror (a host under `debian.org` or `ubuntu.com`, or
//! a path ending in `/debian`, `/debian-security`, `/ubuntu`…) that is
//! a misspelt release codename or suite name: its base (what comes before
//! the first `-` or `/`) is no codename nor suite name (`stable`,
//! `testing`, `experimental`…) but within a small edit distance of one
//! (`bookwrom`). A known base takes any suffix: archives add pockets of
//! their own (`noble-infra-security` of Ubuntu ESM, `jammy-updates/caracal`
//! of the Ubuntu Cloud Archive, `bookworm-debug`, a private
//! `noble-internal`), and a suite far from every codename is taken as a
//! repository's own name. The codenames are data:
//! `data/distro-info-0.58-codenames.txt`. The hint names the closest
//! codename (`bookwrom` → `bookworm`). Also (SC0078) `<codename>/updates`
//! for a Debian release from bullseye on: the security suite's name before
//! bullseye, `<codename>-security` since (Debian 11's release notes,
//! "Changed security archive layout").
//!
//! **Why it matters.** apt builds `URI/dists/SUITE/Release` (sources.list(5),
//! deb822 format): a URI that already ends in `dists/bookworm` makes it ask
//! for `…/dists/bookworm/dists/bookworm/Release`, and a misspelt suite for
//! a Release file that does not exist. Either way `apt-get update` fails
//! for that repository, and cloud-init's `package_update` with it.
//!
//! **Example.**
//! ```kdl
//! repo debian { uris "http://deb.debian.org/debian/dists/bookworm"; suites bookworm }   // SC0077
//! repo debian { uris "http://deb.debian.org/debian"; suites bookwrom }                 // SC0078: did you mean `bookworm`?
//! ```

use std::sync::OnceLock;

use super::super::{Ctx, Rule};
use super::{closest, layers};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "repo-suites",
    codes: &[Code::RepoUriDists, Code::RepoUnknownSuite],
    check,
    resolved: false,
};

const DATA: &str = include_str!("../../../data/distro-info-0.58-codenames.txt");

/// Debian's suite names (the archive's `Suite:` field) besides codenames.
const SUITE_NAMES: &[&str] = &[
    "stable",
    "oldstable",
    "oldoldstable",
    "testing",
    "unstable",
    "experimental",
    "rc-buggy",
    "devel",
];

/// What follows a codename or suite name: Debian's and Ubuntu's pockets.
const SUFFIXES: &[&str] = &[
    "updates",
    "security",
    "backports",
    "backports-sloppy",
    "proposed-updates",
    "proposed",
];

fn codenames() -> &'static [&'static str] {
    static TABLE: OnceLock<Vec<&'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Debian codenames (in the data, between `# debian` and `# ubuntu`) from
/// bullseye on: their security suite is `<codename>-security`, no longer
/// `<codename>/updates` (Debian 11's release notes, "Changed security
/// archive layout").
fn security_renamed(codename: &str) -> bool {
    let debian = DATA
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "# debian")
        .take_while(|l| *l != "# ubuntu")
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    debian
        .skip_while(|l| *l != "bullseye")
        .any(|l| l == codename && !matches!(l, "sid" | "experimental"))
}

/// The distribution (`debian`, `ubuntu`) whose release `codename` is,
/// from the data's `# debian` and `# ubuntu` parts.
pub(super) fn distribution_of(codename: &str) -> Option<&'static str> {
    let mut distro = None;
    for l in DATA.lines().map(str::trim) {
        match l {
            "# debian" => distro = Some("debian"),
            "# ubuntu" => distro = Some("ubuntu"),
            _ if l == codename && !l.starts_with('#') => return distro,
            _ => {}
        }
    }
    None
}

/// Whether the URI is a Debian or Ubuntu archive.
pub(super) fn distro_mirror(uri: &str) -> bool {
    let Some((_, rest)) = uri.split_once("://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    ["debian.org", "ubuntu.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || matches!(
            last,
            "debian" | "debian-security" | "debian-ports" | "ubuntu" | "ubuntu-ports"
        )
}

fn known_base(b: &str) -> bool {
    SUITE_NAMES.contains(&b) || codenames().contains(&b)
}

/// Whether `suite` is a codename or suite name, with any suffix or none
/// (`bookworm`, `bookworm-security`, `buster/updates`, `sid`,
/// `noble-infra-security`, `jammy-updates/caracal`).
fn known_suite(suite: &str) -> bool {
    known_base(suite) || known_base(base_of(suite))
}

/// What comes before the first `-` or `/` of a suite.
pub(super) fn base_of(suite: &str) -> &str {
    suite.split(['-', '/']).next().unwrap_or(suite)
}

/// Whether `suite` reads as a misspelt codename or suite name: its base is
/// none of them but within a small edit distance of one (two edits, one
/// for a base of five letters or fewer, where two edits reach unrelated
/// words). Anything farther is taken as a repository's own suite.
fn misspelt(suite: &str) -> bool {
    if known_suite(suite) {
        return false;
    }
    let base = base_of(suite);
    let max = if base.chars().count() <= 5 { 1 } else { 2 };
    let lower = base.to_ascii_lowercase();
    SUITE_NAMES
        .iter()
        .chain(codenames().iter())
        .any(|k| strsim::osa_distance(&lower, k) <= max)
}

/// The known suite closest to a misspelt one.
fn suggestion(suite: &str) -> Option<String> {
    let (base, suffix) = match suite.split_once('-') {
        Some((b, s)) => (b, Some(s)),
        None => (suite, None),
    };
    let bases = SUITE_NAMES.iter().chain(codenames().iter()).copied();
    let base = if known_base(base) {
        base.to_string()
    } else {
        closest(base, bases)?.to_string()
    };
    match suffix {
        None => Some(base),
        Some(s) if SUFFIXES.contains(&s) => Some(format!("{base}-{s}")),
        Some(s) => closest(s, SUFFIXES.iter().copied()).map(|s| format!("{base}-{s}")),
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for (what, s) in layers(cx.site) {
        for r in &s.repos {
            for u in &r.uris {
                let t = u.value.trim_end_matches('/');
                let Some((root, tail)) = t.rsplit_once("/dists") else {
                    continue;
                };
                if !(tail.is_empty() || (tail.starts_with('/') && !tail[1..].contains('/'))) {
                    continue;
                }
                diags.push(
                    Diagnostic::warning(
                        Code::RepoUriDists,
                        format!(
                            "repo `{}` of {what}: the URI ends in `/dists{tail}`, and apt appends `dists/<suite>/` itself",
                            r.name.value
                        ),
                    )
                    .label(u.span, format!("apt asks for `{t}/dists/…/Release`, which does not exist"))
                    .help(format!("give the archive's root: `{root}`")),
                );
            }
            if !r.uris.iter().any(|u| distro_mirror(&u.value)) {
                continue;
            }
            for suite in &r.suites {
                let v = suite.value.as_str();
                if let Some(c) = v.strip_suffix("/updates").filter(|c| security_renamed(c)) {
                    diags.push(
                        Diagnostic::warning(
                            Code::RepoUnknownSuite,
                            format!(
                                "repo `{}` of {what}: `{v}` is the old name of the security suite: since bullseye (Debian 11) it is `{c}-security`, and the archive has no `dists/{v}/Release`, so `apt update` fails at first boot and the nodes get no security updates",
                                r.name.value
                            ),
                        )
                        .label(suite.span, format!("`{c}-security` since bullseye"))
                        .help(format!("write `{c}-security`")),
                    );
                    continue;
                }
                if v.ends_with('/') || v.contains('$') || !misspelt(v) {
                    continue;
                }
                let help = match suggestion(v) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "a suite of a Debian or Ubuntu mirror is a release codename (`bookworm`, `noble`) or `stable`/`testing`/`unstable`, optionally with a pocket (`-updates`, `-security`, `-backports`)".into(),
                };
                diags.push(
                    Diagnostic::warning(
                        Code::RepoUnknownSuite,
                        format!(
                            "repo `{}` of {what}: `{v}` is no Debian or Ubuntu release, so apt finds no `dists/{v}/Release` and the update fails",
                            r.name.value
                        ),
                    )
                    .label(suite.span, "not a known codename or suite")
                    .help(help),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites() {
        for ok in [
            "bookworm",
            "bookworm-updates",
            "bookworm-security",
            "bookworm-backports",
            "bookworm-backports-sloppy",
            "bookworm-proposed-updates",
            "buster/updates",
            "sid",
            "stable",
            "stable-updates",
            "noble",
            "noble-proposed",
            "trixie",
            // Pockets of other archives than the main ones.
            "noble-infra-security",
            "noble-infra-updates",
            "noble-apps-security",
            "noble-apps-updates",
            "jammy-updates/caracal",
            "bookworm-debug",
            "rc-buggy",
            "experimental",
            "devel",
            "noble-internal",
        ] {
            assert!(known_suite(ok), "{ok}");
            assert!(!misspelt(ok), "{ok}");
        }
        for bad in [
            "bookwrom",
            "bookwrom-updates",
            "Bookworm",
            "nobel",
            "jamy-security",
        ] {
            assert!(misspelt(bad), "{bad}");
        }
        // A private repository's own suites: far from every codename.
        for own in ["internal", "prod", "debian", "main", "corp-stable"] {
            assert!(!misspelt(own), "{own}");
        }
        assert_eq!(suggestion("bookwrom").as_deref(), Some("bookworm"));
        assert_eq!(
            suggestion("bookwrom-updates").as_deref(),
            Some("bookworm-updates")
        );
        assert_eq!(
            suggestion("bookworm-update").as_deref(),
            Some("bookworm-updates")
        );
    }

    #[test]
    fn the_security_suite_renamed_in_bullseye() {
        assert!(security_renamed("bullseye"));
        assert!(security_renamed("bookworm"));
        assert!(security_renamed("trixie"));
        assert!(!security_renamed("buster"));
        assert!(!security_renamed("sid"));
        assert!(!security_renamed("noble"));
    }

    #[test]
    fn mirrors() {
        assert!(distro_mirror("http://deb.debian.org/debian"));
        assert!(distro_mirror("http://security.debian.org/debian-security"));
        assert!(distro_mirror("http://archive.ubuntu.com/ubuntu/"));
        assert!(distro_mirror("https://mirror.example.net/debian/"));
        assert!(!distro_mirror("https://apt.example.net/internal"));
        assert!(!distro_mirror("https://download.docker.com/linux/debian-x"));
    }

    #[test]
    fn in_a_site() {
        let site = |uri: &str, suite: &str| {
            format!("site s {{ domain \"s.example\"; defaults {{ repo d {{ uris \"{uri}\"; suites {suite}; components main; signed-by \"/usr/share/keyrings/debian-archive-keyring.gpg\" }} }} }}")
        };
        let found = |uri: &str, suite: &str| -> Vec<&'static str> {
            super::super::testing::codes(&site(uri, suite))
                .into_iter()
                .filter(|c| matches!(*c, "SC0077" | "SC0078"))
                .collect()
        };
        assert_eq!(
            found("http://deb.debian.org/debian/dists/bookworm", "bookworm"),
            ["SC0077"]
        );
        assert_eq!(
            found("http://deb.debian.org/debian", "bookwrom"),
            ["SC0078"]
        );
        assert!(found("http://deb.debian.org/debian", "bookworm").is_empty());
        // Real suites beyond the main archive's pockets.
        for (uri, suite) in [
            (
                "https://esm.ubuntu.com/infra/ubuntu",
                "noble-infra-security",
            ),
            ("https://esm.ubuntu.com/apps/ubuntu", "noble-apps-updates"),
            (
                "http://ubuntu-cloud.archive.canonical.com/ubuntu",
                "jammy-updates/caracal",
            ),
            ("http://deb.debian.org/debian-debug", "bookworm-debug"),
            ("http://deb.debian.org/debian", "rc-buggy"),
            ("https://apt.corp.example.com/debian", "noble-internal"),
        ] {
            assert!(found(uri, suite).is_empty(), "{uri} {suite}");
        }
        assert!(found("https://apt.example.net/internal", "bookwrom").is_empty());
    }
}
