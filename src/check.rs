//! The checked front half of the pipeline, shared by every command:
//! load (discover, parse, lower) → validate the declared model → resolve
//! (merge, allocate) → validate the resolved nodes.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::project::{self, ConfigFile, Loaded};
use crate::resolve::{self, Resolved};
use crate::source::Source;
use crate::validate::{self, Ctx};

/// A site that has been through every check. `diags` holds all findings;
/// later stages (render, diff) run only when it has no errors.
pub struct Checked {
    pub loaded: Loaded,
    pub resolved: Resolved,
    pub diags: Diagnostics,
    /// siteconf.lock is not current: allocation would change it
    /// (`resolved.lock_changes` says how). Decided here, once, for every
    /// command that says so (`check`, `check --locked`, `build`,
    /// `build --locked`): false when the changes are not real — part of the
    /// site was lost to a syntax error (what it declares looks released),
    /// the site block is declared twice (which pools were meant is not
    /// known), a node's name is not a valid name (the changes follow the
    /// mistake), or the lock itself cannot be read as it stands (its own
    /// finding; "not current" on top would only repeat it).
    pub lock_not_current: bool,
}

impl Checked {
    /// What `--locked` adds when the lock is not current: the error
    /// SC0804 with the first changes, the same for `check` and `build`.
    pub fn lock_out_of_date(&self) -> Option<Diagnostic> {
        if !self.lock_not_current {
            return None;
        }
        let changes = &self.resolved.lock_changes;
        let lock_file = &self.loaded.config.lock_file;
        let shown: Vec<&str> = changes.iter().take(10).map(|s| s.as_str()).collect();
        // A lock edited by hand can hold every value in effect and still
        // differ from what `siteconf lock` writes (its order, spacing or
        // comments): say so rather than "0 change(s) needed".
        if changes.is_empty() {
            return Some(
                Diagnostic::error(
                    Code::LockOutOfDate,
                    format!(
                        "{lock_file} is not current: it holds the values in effect, but not as `siteconf lock` writes them (the order of its lines, their spacing or comments differ)"
                    ),
                )
                .help(format!(
                    "run `siteconf lock` and commit {lock_file}: no value changes, only how the file is written"
                )),
            );
        }
        Some(
            Diagnostic::error(
                Code::LockOutOfDate,
                format!(
                    "{lock_file} is not current: {} change(s) needed",
                    changes.len()
                ),
            )
            .help(format!(
                "run `siteconf lock` and commit {lock_file}; first changes: {}",
                shown.join("; ")
            )),
        )
    }
}

/// Whether the lock's changes are real (see [`Checked::lock_not_current`]).
fn lock_not_current(loaded: &Loaded, resolved: &Resolved, diags: &Diagnostics) -> bool {
    resolved.lock_changed && lock_changes_are_real(loaded, diags)
}

/// Whether what allocation says about the lock can be believed: no part
/// of the site was lost to a syntax error (what it declares looks
/// released), the site block is declared once (which pools were meant is
/// known), and the lock could be read as it stands.
fn lock_changes_are_real(loaded: &Loaded, diags: &Diagnostics) -> bool {
    let lock_unreadable = diags.iter().any(|d| {
        matches!(
            d.code,
            Code::LockSyntax
                | Code::ProjectPathRefused
                | Code::LockConflictMarkers
                | Code::LockTwoValues
                | Code::LockUnknownEntry
                | Code::LockDamagedLine
                | Code::LockVersion
                | Code::LockZoneDuplicate
        )
    });
    // A node whose name is not a name (`r01n02 ` with a space, SC0016) is
    // that finding's: the lock would change only to follow the mistake.
    let misnamed = loaded
        .site
        .nodes
        .iter()
        .any(|n| !crate::model::is_hostname_label(n.name.as_str()));
    !misnamed && loaded.site.lost.is_empty() && !loaded.site.site_declared_twice && !lock_unreadable
}

/// SC0813: the site asks for allocated values and the lock holds none
/// (no lock file, or one with only zone serials). One revision cannot tell
/// a new site from a deleted lock, so the warning says both.
fn lock_missing(loaded: &Loaded, resolved: &Resolved) -> Option<Diagnostic> {
    // A line read from the lock has its line number; a new one 0.
    if resolved.lock.entries.iter().any(|e| e.line != 0) {
        return None;
    }
    let in_use = resolved.lock.entries.iter().filter(|e| !e.released);
    let wanted = in_use.clone().count();
    if wanted == 0 {
        return None;
    }
    let lock_file = &loaded.config.lock_file;
    let nodes = in_use
        .map(|e| e.owner.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let what = match &loaded.lock {
        None => format!("there is no {lock_file}"),
        Some(_) => format!("{lock_file} holds no allocated value"),
    };
    Some(
        Diagnostic::warning(
            Code::LockMissing,
            format!(
                "{what}, but the site asks for {wanted} allocated value(s) of {nodes} node(s): every one is allocated anew"
            ),
        )
        .help(format!(
            "if this fleet is deployed, it is renumbered (machines change addresses, ASNs and loopbacks; values held back for removed nodes are given out again) and zone serials start over: restore the lock from git (`git checkout {lock_file}`, or `git log -- {lock_file}` if it was committed deleted); for a new site, run `siteconf lock` and commit {lock_file}"
        )),
    )
}

impl Checked {
    /// The site in effect (FQDNs, addresses, groups, session paths), for
    /// the stages that read it: render, state, review.
    pub fn effective(&self) -> resolve::effective::EffSite<'_> {
        resolve::effective::site(&self.loaded.site, &self.loaded.index, &self.resolved)
    }
}

pub fn check(src: &dyn Source) -> Checked {
    check_with(src, false)
}

/// [`check`], recording provenance of every resolved value (for `explain`).
pub fn check_with(src: &dyn Source, provenance: bool) -> Checked {
    check_from(src, ConfigFile::read(src), provenance)
}

/// [`check`] with `siteconf.toml` already read: for `build`, which needs
/// its settings (the output directory) before the check is done.
pub fn check_configured(src: &dyn Source, config: ConfigFile) -> Checked {
    check_from(src, config, false)
}

fn check_from(src: &dyn Source, config: ConfigFile, provenance: bool) -> Checked {
    let mut diags = Diagnostics::new();
    let loaded = project::load_configured(src, config, &mut diags);
    check_loaded(loaded, diags, provenance, Some(&[]))
}

/// The checks after loading: `diags` holds the loader's findings.
fn check_loaded(
    loaded: Loaded,
    mut diags: Diagnostics,
    provenance: bool,
    other_networks: Option<&[ipnet::IpNet]>,
) -> Checked {
    let shared_boot = loaded.config.site.as_deref().is_some_and(|name| {
        loaded
            .config
            .bootinfra
            .values()
            .any(|b| b.serves.len() > 1 && b.serves.iter().any(|s| s == name))
    });
    // A site directory refused at its key (SC0021) was never read: that is
    // the finding, not what an empty site lacks.
    let unread = loaded.config.read_dirs().contains(&project::REFUSED_DIR);
    if !unread {
        let cx = Ctx {
            site: &loaded.site,
            index: &loaded.index,
            sources: &loaded.sources,
            env_prefix: &loaded.config.secrets.env_prefix,
            resolved: None,
            shared_boot,
            other_networks,
        };
        validate::run(&cx, false, &mut diags);
    }
    let resolved = resolve::resolve(
        &loaded.site,
        &loaded.index,
        loaded.lock.as_ref().map(|(id, t)| (*id, t.as_str())),
        &resolve::LockHistory {
            file: &loaded.config.lock_file,
            earlier: &loaded.earlier,
        },
        provenance,
        &mut diags,
    );
    if !unread {
        let cx = Ctx {
            site: &loaded.site,
            index: &loaded.index,
            sources: &loaded.sources,
            env_prefix: &loaded.config.secrets.env_prefix,
            resolved: Some(&resolved),
            shared_boot,
            other_networks,
        };
        validate::run(&cx, true, &mut diags);
    }
    validate::quiet_lost(&loaded.site, &loaded.sources, &mut diags);
    if lock_changes_are_real(&loaded, &diags) {
        diags.extend(lock_missing(&loaded, &resolved));
    }
    let lock_not_current = lock_not_current(&loaded, &resolved, &diags);
    Checked {
        loaded,
        resolved,
        diags,
        lock_not_current,
    }
}

/// Every site of a project (one, in a single-site project), checked.
pub struct CheckedProject {
    /// In site name order.
    pub sites: Vec<Checked>,
    /// Every site's findings, each once (a finding in a shared file is
    /// found by every site using it), and what repeats across sites.
    pub diags: Diagnostics,
    /// The hosts of the sites a `--site NAME` narrowing left out: inputs
    /// shared by the project's sites (one Ansible fact cache) hold theirs,
    /// and `state` skips them instead of reporting unknown machines.
    pub others: Vec<SiteHosts>,
}

/// What identifies another site's machines in observed inputs.
#[derive(Debug, Clone, Default)]
pub struct SiteHosts {
    pub site: String,
    /// Node and switch names and FQDNs.
    pub names: Vec<String>,
    /// Declared MACs of its nodes.
    pub macs: Vec<crate::model::Mac>,
}

impl SiteHosts {
    fn of(c: &Checked) -> SiteHosts {
        let eff = c.effective();
        let mut names = Vec::new();
        for n in &eff.nodes {
            names.push(n.name.to_string());
            names.push(n.fqdn.clone());
        }
        for s in &eff.switches {
            names.push(s.name.to_string());
            names.push(s.fqdn.clone());
        }
        let macs = c
            .resolved
            .nodes
            .iter()
            .flat_map(|n| n.settings.interfaces.iter())
            .filter_map(|i| i.mac.as_ref().map(|m| m.value))
            .collect();
        SiteHosts {
            site: c.loaded.config.site.clone().unwrap_or_default(),
            names,
            macs,
        }
    }
}

impl CheckedProject {
    /// The source map every site shares.
    pub fn sources(&self) -> Option<&crate::syntax::SourceMap> {
        self.sites.first().map(|c| &c.loaded.sources)
    }
}

/// Checks every site of the project, or only `only`. Files are read and
/// parsed once; the sites are checked in parallel.
pub fn check_project(src: &dyn Source, only: Option<&str>, provenance: bool) -> CheckedProject {
    check_project_configured(src, ConfigFile::read(src), only, provenance)
}

/// [`check_project`] with `siteconf.toml` already read.
pub fn check_project_configured(
    src: &dyn Source,
    config: ConfigFile,
    only: Option<&str>,
    provenance: bool,
) -> CheckedProject {
    use rayon::prelude::*;
    // `--site NAME` narrows what is reported and built, not what is
    // checked: what must be unique across sites needs every site, or a
    // MAC taken from production would pass `check --site lab`.
    let narrow = only
        .filter(|n| config.config.sites.contains_key(*n))
        .map(str::to_string);
    let only = if narrow.is_some() { None } else { only };
    // A site refused by siteconf.toml's own findings is missing from the
    // project: the other sites' networks (`Ctx::other_networks`) are then
    // not known.
    let sites_known = config.config.sites.is_empty() || !config.has_findings();
    let mut config = config;
    if let Some(name) = &narrow {
        // Another site whose directory is missing does not stop this one.
        config.narrow(name);
    }
    let mut load_diags = Diagnostics::new();
    let mut all = project::load_all_configured(src, config, only, &mut load_diags);
    if all.len() == 1 && !all[0].config.is_multi_site() {
        if let Some(loaded) = all.pop() {
            let checked = check_loaded(
                loaded,
                load_diags,
                provenance,
                sites_known.then_some(&[][..]),
            );
            let diags = checked.diags.clone();
            return CheckedProject {
                sites: vec![checked],
                diags,
                others: Vec::new(),
            };
        }
    }
    let loaded_diags: Vec<crate::diag::Diagnostic> = load_diags.finish();
    // Every site's network prefixes, by site, so that each site sees the
    // others' (`Ctx::other_networks`).
    let prefixes: Vec<Vec<ipnet::IpNet>> = all
        .iter()
        .map(|l| {
            l.site
                .networks
                .iter()
                .flat_map(|n| {
                    let v4 = n.ipv4.as_ref().map(|p| ipnet::IpNet::V4(p.value));
                    let v6 = n.ipv6.as_ref().map(|p| ipnet::IpNet::V6(p.value));
                    v4.into_iter().chain(v6)
                })
                .collect()
        })
        .collect();
    let sites: Vec<Checked> = all
        .into_par_iter()
        .enumerate()
        .map(|(i, l)| {
            let mut d = Diagnostics::new();
            d.extend(loaded_diags.iter().cloned());
            let others: Vec<ipnet::IpNet> = prefixes
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, p)| p.iter().copied())
                .collect();
            check_loaded(l, d, provenance, sites_known.then_some(others.as_slice()))
        })
        .collect();
    let mut diags = Diagnostics::new();
    if sites.is_empty() {
        // Nothing loaded: the reason is among the loader's findings.
        diags.extend(loaded_diags);
    }
    // What each site declares, made at the first unresolved reference of
    // a project of several sites (most checks have none).
    let declared: std::cell::OnceCell<Vec<Declared>> = std::cell::OnceCell::new();
    let mut seen = std::collections::HashSet::new();
    for s in &sites {
        for mut d in s.diags.clone().finish() {
            if sites.len() > 1 && DECLARED_KINDS.iter().any(|(code, _)| *code == d.code) {
                let declared = declared.get_or_init(|| sites.iter().map(Declared::of).collect());
                declared_elsewhere(&mut d, s, declared);
            }
            if seen.insert(format!("{d:?}")) {
                diags.push(d);
            }
        }
    }
    if !diags.has_errors() {
        let effs: Vec<validate::cross_site::SiteRef> = sites
            .iter()
            .map(|c| {
                let name = c.loaded.config.site.as_deref().unwrap_or("");
                validate::cross_site::SiteRef {
                    name,
                    routing_domain: c
                        .loaded
                        .config
                        .sites
                        .get(name)
                        .and_then(|s| s.routing_domain.as_deref()),
                    site: &c.loaded.site,
                    index: &c.loaded.index,
                    resolved: &c.resolved,
                }
            })
            .collect();
        let config = &sites[0].loaded.config;
        let bootinfra: Vec<(&str, Vec<&str>)> = config
            .bootinfra
            .iter()
            .map(|(n, b)| (n.as_str(), b.serves.iter().map(String::as_str).collect()))
            .collect();
        let mut cross = Diagnostics::new();
        validate::cross_site::check(&effs, &bootinfra, &mut cross);
        diags.extend(cross.finish());
    }
    match narrow {
        Some(name) => narrow_to(sites, diags, &name),
        None => CheckedProject {
            sites,
            diags,
            others: Vec::new(),
        },
    }
}

/// What one site of several declares in its own directory, of the kinds
/// a reference names (profiles, switches, racks, networks): for a
/// reference another site cannot resolve.
struct Declared {
    site: String,
    names: [std::collections::BTreeSet<String>; 4],
}

/// The kinds [`Declared`] holds, by the code of an unresolved reference.
const DECLARED_KINDS: [(Code, &str); 4] = [
    (Code::UnknownProfile, "profile"),
    (Code::UnknownSwitch, "switch"),
    (Code::UnknownRack, "rack"),
    (Code::UnknownNetwork, "network"),
];

impl Declared {
    fn of(c: &Checked) -> Declared {
        let dir = format!("{}/", c.loaded.config.site_dir.trim_end_matches('/'));
        let sources = &c.loaded.sources;
        let own = |span: crate::syntax::Span| {
            sources
                .get(span.file)
                .is_some_and(|f| f.path.starts_with(&dir))
        };
        let site = &c.loaded.site;
        let names = |it: &mut dyn Iterator<Item = (&str, crate::syntax::Span)>| {
            it.filter(|(_, sp)| own(*sp))
                .map(|(n, _)| n.to_string())
                .collect()
        };
        Declared {
            site: c.loaded.config.site.clone().unwrap_or_default(),
            names: [
                names(&mut site.profiles.iter().map(|x| (x.name.as_str(), x.name.span))),
                names(&mut site.switches.iter().map(|x| (x.name.as_str(), x.name.span))),
                names(&mut site.racks.iter().map(|x| (x.name.as_str(), x.name.span))),
                names(&mut site.networks.iter().map(|x| (x.name.as_str(), x.name.span))),
            ],
        }
    }
}

/// An unresolved reference (a profile, switch, rack or network) that
/// another site of the project declares in its own files: each site sees
/// only the shared definitions and its own, so say where the name is, and
/// that it must move to the shared directory or be declared here too.
fn declared_elsewhere(d: &mut Diagnostic, c: &Checked, declared: &[Declared]) {
    let Some(k) = DECLARED_KINDS.iter().position(|(code, _)| *code == d.code) else {
        return;
    };
    let Some(site) = c.loaded.config.site.as_deref() else {
        return;
    };
    let Some(label) = d.labels.first() else {
        return;
    };
    let name = c.loaded.sources.text(label.span).trim_matches('"');
    let kind = DECLARED_KINDS[k].1;
    let elsewhere: Vec<String> = declared
        .iter()
        .filter(|o| o.site != site && o.names[k].contains(name))
        .map(|o| format!("`{}`", o.site))
        .collect();
    if elsewhere.is_empty() {
        return;
    }
    let sites = elsewhere.join(", ");
    let plural = if elsewhere.len() > 1 { "s" } else { "" };
    d.message = format!(
        "{} in site `{site}`: it is declared only in site{plural} {sites}, whose own definitions site `{site}` does not see",
        d.message
    );
    let shared = match c.loaded.config.shared_dir.as_deref() {
        Some(dir) => format!("the shared directory `{}/`", dir.trim_end_matches('/')),
        None => "a shared directory (`shared-dir` in siteconf.toml)".to_string(),
    };
    d.help = Some(format!(
        "move {kind} `{name}` to {shared} so that every site has it, or declare it in site `{site}`'s own files too"
    ));
}

/// The project narrowed to one site: that site, and every finding but
/// those only about other sites' files (a finding in a shared file, in
/// siteconf.toml, or across sites with one end in this site, stays).
fn narrow_to(sites: Vec<Checked>, diags: Diagnostics, name: &str) -> CheckedProject {
    let Some(first) = sites.first() else {
        return CheckedProject {
            sites,
            diags,
            others: Vec::new(),
        };
    };
    let sources = first.loaded.sources.clone();
    let others: Vec<String> = first
        .loaded
        .config
        .sites
        .iter()
        .filter(|(n, _)| *n != name)
        .map(|(_, s)| format!("{}/", s.dir.trim_end_matches('/')))
        .collect();
    let elsewhere = |d: &crate::diag::Diagnostic| {
        !d.labels.is_empty()
            && d.labels.iter().all(|l| {
                sources
                    .get(l.span.file)
                    .is_some_and(|f| others.iter().any(|o| f.path.starts_with(o.as_str())))
            })
    };
    let mut kept = Diagnostics::new();
    kept.extend(diags.finish().into_iter().filter(|d| !elsewhere(d)));
    let (sites, dropped): (Vec<Checked>, Vec<Checked>) = sites
        .into_iter()
        .partition(|c| c.loaded.config.site.as_deref() == Some(name));
    let others = dropped.iter().map(SiteHosts::of).collect();
    CheckedProject {
        sites,
        diags: kept,
        others,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    const SITE: &str = "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\n\
        network public { purpose other; ipv4 \"192.0.2.0/24\"; }\n\
        rack r01 { height 42; }\n\
        node r01n01 {\n    rack r01; position 1\n    interface eno1 { mac \"52:54:00:01:01:01\"; }\n    address public interface=eno1 ipv4=auto\n}\n";

    /// Two sites `prod` and `lab` of one project: prod's files, lab's
    /// files (at `lab_dir`), and the messages and help of `check` (narrowed
    /// to `only`) with the number of sites checked.
    fn two_sites(
        prod: &str,
        lab: &str,
        lab_dir: &str,
        only: Option<&str>,
    ) -> (Vec<(String, String)>, usize) {
        let toml = "shared-dir = \"common\"\n[sites.prod]\ndir = \"sites/prod\"\n[sites.lab]\ndir = \"sites/lab\"\n";
        let site = |name: &str, extra: &str, mac: &str| {
            format!(
                "site {name} {{ domain \"{name}.example.net\"; dns-servers \"10.0.0.2\"; }}\n\
                 network mgmt {{ purpose management; ipv4 \"10.0.0.0/24\"; gateway4 \"10.0.0.1\"; }}\n\
                 rack r01 {{ height 42; }}\n{extra}\n\
                 node db1 {{ rack r01; position 1; profiles base; interface eno1 {{ mac \"{mac}\"; }}; address mgmt interface=eno1 ipv4=\"10.0.0.40\"; }}\n"
            )
        };
        let src = MemSource::new()
            .with("siteconf.toml", toml)
            .with("common/profiles.kdl", "profile base { packages chrony; }\n")
            .with(
                "sites/prod/site.kdl",
                site("prod", prod, "52:54:00:00:00:01"),
            )
            .with(
                format!("{lab_dir}/site.kdl"),
                site("lab", lab, "52:54:00:00:00:02"),
            );
        let p = check_project(&src, only, false);
        let sources = p.sources().cloned().unwrap_or_default();
        let found = p
            .diags
            .sorted(&sources)
            .into_iter()
            .map(|d| (d.message, d.help.unwrap_or_default()))
            .collect();
        (found, p.sites.len())
    }

    #[test]
    fn a_name_only_another_site_declares_says_where() {
        let (found, _) = two_sites(
            "profile gpu { packages nvidia-driver; }",
            "profile lab-gpu { include gpu; }",
            "sites/lab",
            None,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].0.ends_with("in site `lab`: it is declared only in site `prod`, whose own definitions site `lab` does not see"),
            "{found:?}"
        );
        assert!(
            found[0].1.contains("the shared directory `common/`"),
            "{found:?}"
        );
        // A name no site declares keeps the plain finding.
        let (found, _) = two_sites("", "profile lab-gpu { include gpu; }", "sites/lab", None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].0.contains("declared only"), "{found:?}");
    }

    #[test]
    fn a_moved_site_directory_is_one_finding_and_the_others_still_check() {
        let (found, sites) = two_sites("", "", "sites/laboratory", None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].0,
            "site `lab`: its directory `sites/lab/` does not exist in the memory; did you mean `sites/laboratory`?"
        );
        assert_eq!(sites, 1);
        // `--site prod` is not held back by lab's directory.
        let (found, sites) = two_sites("", "", "sites/laboratory", Some("prod"));
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(sites, 1);
        // `--site lab` says why there is no such site.
        let (found, _) = two_sites("", "", "sites/laboratory", Some("lab"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].0.starts_with("site `lab`: its directory"),
            "{found:?}"
        );
    }

    #[test]
    fn a_site_name_in_another_case_is_suggested() {
        let (found, _) = two_sites("", "", "sites/lab", Some("PROD"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.starts_with("did you mean `prod`?"), "{found:?}");
    }

    fn missing(lock: Option<&str>) -> Vec<String> {
        let mut src = MemSource::new();
        src.insert("site/site.kdl", SITE);
        if let Some(l) = lock {
            src.insert("siteconf.lock", l);
        }
        check(&src)
            .diags
            .iter()
            .filter(|d| d.code == Code::LockMissing)
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn a_lock_without_allocations_on_a_site_that_allocates_is_a_warning() {
        assert_eq!(
            missing(None),
            ["there is no siteconf.lock, but the site asks for 1 allocated value(s) of 1 node(s): every one is allocated anew"]
        );
        // Zone serials alone (what a build once wrote): no allocation.
        let zones = format!("zone/dc1.example.net serial 3 {}\n", "a".repeat(64));
        assert_eq!(missing(Some(&zones)).len(), 1);
        // A lock that answers the request, or held it (released: the
        // lock is not lost, the request is new): nothing.
        assert!(missing(Some("node/r01n01 address.public.ipv4 192.0.2.9\n")).is_empty());
        assert!(missing(Some("node/r09n01 address.public.ipv4 192.0.2.9 released\n")).is_empty());
    }
}
