//! `siteconf lock`: write the allocations `check` computed to
//! siteconf.lock (atomically), optionally pruning released values.
//!
//! A plain `siteconf lock` never changes a value the lock holds: a running
//! machine keeps its addresses. `--renumber NETWORK` is the one explicit
//! way to move machines after a network's prefix changed: it drops the
//! lock lines of that network whose value its prefix no longer holds,
//! allocates them again inside the new prefix, and prints each change.

use super::common::{fail, no_project, print_diagnostics, Format, Global, Status};
use crate::check;
use crate::output::fs::write_file_atomic;
use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostics};
use crate::model::{Network, Purpose};
use crate::resolve::lock::LockEntry;
use crate::resolve::{AllocKey, AllocValue, Lock};
use crate::source::{FsSource, Source, SourceError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Drop released values, so they can be allocated again. Only do this
    /// once the machines that had them are gone for good.
    #[arg(long)]
    pub prune_released: bool,
    /// After NETWORK's prefix changed: give every value of NETWORK the lock
    /// holds outside its current prefix a new one inside it (the nodes get
    /// new addresses), printing old and new. Repeatable. Values inside the
    /// prefix are kept; other networks are not touched.
    #[arg(long, value_name = "NETWORK")]
    pub renumber: Vec<String>,
    #[command(flatten)]
    pub site: super::common::SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let root = match g.project_root() {
        Ok(r) => r,
        Err(d) => return no_project(g, d, Format::Text),
    };
    let src = FsSource::new(&root);
    if !args.renumber.is_empty() {
        return renumber(g, &root, &src, &args);
    }
    let project = check::check_project(&src, args.site.site.as_deref(), false);
    let Some(sources) = project.sources().cloned() else {
        let list = project.diags.sorted(&Default::default());
        print_diagnostics(g, &list, &Default::default(), Format::Text);
        return Status::Findings;
    };
    // A zone serial below a committed one (SC0031) is what `lock` repairs.
    if project.diags.has_errors_except(Code::LockZoneSerialBehind) {
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        eprintln!("lock not written: fix the errors above first");
        return Status::Findings;
    }
    let mut status = Status::Ok;
    for checked in &project.sites {
        let s = write_lock(g, &root, &src, checked, args.prune_released, &[]);
        if s != Status::Ok {
            status = s;
        }
    }
    status
}

/// Writes one site's lock (siteconf.lock, or `<dir>/siteconf.lock` for a
/// site of several) when it changes.
fn write_lock(
    g: &Global,
    root: &std::path::Path,
    src: &FsSource,
    checked: &check::Checked,
    prune_released: bool,
    renumbered: &[LockEntry],
) -> Status {
    let lock_file = &checked.loaded.config.lock_file;
    // Zone serials as a build into the configured output would give them.
    let previous = crate::build::previous_zones(&root.join(&checked.loaded.config.out_dir));
    let (mut lock, failed) = crate::build::lock(checked, src, previous);
    if let Some(f) = failed {
        print_diagnostics(g, &f.diags, &f.sources, Format::Text);
        eprintln!("note: the zones do not render, so their serials are left as they were");
    }
    let pruned = if prune_released {
        lock.prune_released()
    } else {
        0
    };
    let text = lock.to_text();
    let old = checked.loaded.lock.as_ref().map(|(_, t)| t.as_str());
    for e in renumbered {
        let new = lock
            .entries
            .iter()
            .find(|n| n.owner == e.owner && n.key == e.key && !n.released)
            .map_or("(none)", |n| n.value.as_str());
        let released = if e.released { " (released)" } else { "" };
        eprintln!(
            "  renumbered {} {}: {}{released} -> {new}",
            e.owner, e.key, e.value
        );
    }
    if old == Some(text.as_str()) && renumbered.is_empty() {
        eprintln!("{lock_file} is up to date ({} entries)", lock.entries.len());
        return Status::Ok;
    }
    if let Err(e) = write_file_atomic(&root.join(lock_file), text.as_bytes(), 0o644) {
        return fail(format!("cannot write {lock_file}: {e}"));
    }
    // Zone serials that move (a build of a changed zone, or a serial
    // raised above a committed one): said, as they are not allocations.
    for z in &lock.zones {
        let before = checked.resolved.lock.zone(&z.origin).map(|o| o.serial);
        if before.is_some_and(|b| b != z.serial) {
            eprintln!(
                "  zone/{} serial {} -> {}",
                z.origin,
                before.unwrap_or_default(),
                z.serial
            );
        }
    }
    const SHOWN: usize = 20;
    // With `--renumber`, the changes are the lines printed above.
    let shown = if renumbered.is_empty() { SHOWN } else { 0 };
    for c in checked.resolved.lock_changes.iter().take(shown) {
        eprintln!("  {c}");
    }
    if renumbered.is_empty() && checked.resolved.lock_changes.len() > SHOWN {
        eprintln!(
            "  … and {} more (see `git diff {lock_file}`)",
            checked.resolved.lock_changes.len() - SHOWN
        );
    }
    eprintln!(
        "wrote {lock_file}: {} entries ({} change(s){})",
        lock.entries.len(),
        checked.resolved.lock_changes.len(),
        if pruned > 0 {
            format!(", {pruned} released value(s) pruned")
        } else {
            String::new()
        }
    );
    Status::Ok
}

/// A source whose lock files read as given (the lock without the lines
/// `--renumber` drops), every other file as on disk.
struct Relocked<'a> {
    inner: &'a FsSource,
    locks: BTreeMap<String, String>,
}

impl Source for Relocked<'_> {
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list(dir)
    }
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        match self.locks.get(path) {
            Some(t) => Ok(Some(t.clone().into_bytes())),
            None => self.inner.read(path),
        }
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
    fn links_under(&self, dir: &str) -> Vec<String> {
        self.inner.links_under(dir)
    }
    fn list_top(&self) -> Result<Vec<String>, SourceError> {
        self.inner.list_top()
    }
    fn earlier(&self, path: &str) -> Vec<crate::source::Earlier> {
        self.inner.earlier(path)
    }
}

/// Whether a lock value of `key` still fits network `net`: an address of
/// a family the network has a prefix for, inside it.
fn fits(net: &Network, key: &AllocKey<&str>, value: &str) -> bool {
    let Some(v) = key.parse_value(value) else {
        // Not an address of its key's kind: the lock reader reports it.
        return true;
    };
    match v {
        AllocValue::V4(a) => net.ipv4.as_ref().is_some_and(|p| p.value.contains(&a)),
        AllocValue::V6(a) => net.ipv6.as_ref().is_some_and(|p| p.value.contains(&a)),
        _ => true,
    }
}

/// The lock entries of the networks named that their prefix no longer
/// holds: `address.NETWORK.*` lines, and `loopback.*` lines when NETWORK
/// is the loopback network.
fn stale_entries(checked: &check::Checked, networks: &[String]) -> Vec<LockEntry> {
    let Some((id, text)) = &checked.loaded.lock else {
        return Vec::new();
    };
    let site = &checked.loaded.site;
    let lock = Lock::parse(*id, text, &mut Diagnostics::new());
    lock.entries
        .into_iter()
        .filter(|e| {
            let Some(key) = AllocKey::parse(&e.key) else {
                return false;
            };
            networks.iter().any(|name| {
                let Some(net) = site.network(&checked.loaded.index, name) else {
                    return false;
                };
                let ours = match key {
                    AllocKey::Address { network, .. } => network == name.as_str(),
                    AllocKey::Loopback(_) => net.purpose.value == Purpose::Loopback,
                    AllocKey::Asn => false,
                };
                ours && !fits(net, &key, &e.value)
            })
        })
        .collect()
}

/// `siteconf lock --renumber NETWORK…`.
fn renumber(g: &Global, root: &std::path::Path, src: &FsSource, args: &Args) -> Status {
    let project = check::check_project(src, args.site.site.as_deref(), false);
    let Some(sources) = project.sources().cloned() else {
        let list = project.diags.sorted(&Default::default());
        print_diagnostics(g, &list, &Default::default(), Format::Text);
        return Status::Findings;
    };
    // `--renumber mgmt --renumber mgmt` names one network.
    let mut names: Vec<&String> = Vec::new();
    for n in &args.renumber {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    for name in names.iter().copied() {
        let known = project
            .sites
            .iter()
            .any(|c| c.loaded.index.networks.contains_key(name));
        if !known {
            let names: Vec<&str> = project
                .sites
                .iter()
                .flat_map(|c| c.loaded.site.networks.iter().map(|n| n.name.as_str()))
                .collect();
            let hint = crate::diag::did_you_mean(name, names.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return fail(format!(
                "--renumber {name}: the site has no network `{name}`{hint}"
            ));
        }
    }
    // Which lines go, per lock file.
    let mut stale: BTreeMap<String, Vec<LockEntry>> = BTreeMap::new();
    let mut locks = BTreeMap::new();
    for c in &project.sites {
        let entries = stale_entries(c, &args.renumber);
        let Some((_, text)) = &c.loaded.lock else {
            continue;
        };
        if entries.is_empty() {
            continue;
        }
        let drop: std::collections::HashSet<usize> = entries.iter().map(|e| e.line).collect();
        let kept: String = text
            .split_inclusive('\n')
            .enumerate()
            .filter(|(i, _)| !drop.contains(&(i + 1)))
            .map(|(_, l)| l)
            .collect();
        let file = c.loaded.config.lock_file.clone();
        locks.insert(file.clone(), kept);
        stale.insert(file, entries);
    }
    if stale.is_empty() {
        if project.diags.has_errors() {
            let list = project.diags.sorted(&sources);
            print_diagnostics(g, &list, &sources, Format::Text);
            eprintln!("lock not written: fix the errors above first");
            return Status::Findings;
        }
        eprintln!(
            "nothing to renumber: every value of {} in the lock is inside its prefix",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Status::Ok;
    }
    let relocked = Relocked { inner: src, locks };
    let project = check::check_project(&relocked, args.site.site.as_deref(), false);
    let sources = project.sources().cloned().unwrap_or(sources);
    if project.diags.has_errors_except(Code::LockZoneSerialBehind) {
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        eprintln!(
            "lock not written: fix the errors above first (the renumbered values are left out)"
        );
        return Status::Findings;
    }
    let mut status = Status::Ok;
    for checked in &project.sites {
        let renumbered = stale
            .get(&checked.loaded.config.lock_file)
            .map_or(&[][..], Vec::as_slice);
        let s = write_lock(g, root, src, checked, args.prune_released, renumbered);
        if s != Status::Ok {
            status = s;
        }
    }
    status
}
