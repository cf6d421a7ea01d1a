//! `siteconf inventory`: Ansible's script inventory protocol, answered from
//! the compiled site (check → resolve → views), so Ansible can use the
//! site without a build:
//!
//! ```sh
//! #!/bin/sh
//! exec siteconf -C /path/to/repo inventory "$@"
//! ```
//!
//! `--list` prints every group with its hosts, children and vars, and
//! `_meta.hostvars` (so Ansible never calls `--host`); `--host NAME` prints
//! one host's variables, and `{}` for a host it does not know, as the
//! script plugin expects. The answer is the same data the built-in
//! templates write to `out/site/inventory/` (a project that overrides
//! those templates changes the files, not this answer). A site with errors prints its
//! diagnostics on stderr and exits 1 with nothing on stdout, so Ansible
//! fails instead of running against a partial inventory.
//!
//! # The lock
//!
//! Ansible must only see addresses the committed lock gives. A site that
//! asks for allocated values while siteconf.lock is missing (SC0813) gets
//! no answer (exit 1, the finding as an error on stderr): every value
//! would be allocated anew, and a host whose neighbour was removed would
//! get the neighbour's old address. Values the lock does not hold yet are
//! answered with a warning (SC0063, exit 0): with a lock in place they can
//! only be new requests (a new node in a merge request), never a deployed
//! machine renumbered — see [`unlocked_values`].
//!
//! `--list` is written as it is made, a few hundred hosts' variables at a
//! time ([`inventory::write_list`]): a fleet's variables are never all in
//! memory, nor the text of the answer.
//!
//! # The answer cache
//!
//! Checking a fleet takes a good part of a second, and Ansible may ask
//! for one host at a time. So the working tree's answer is kept beside
//! the output directory, like the build stamp: `.<out>.siteconf-inventory`
//! (`.<out>.siteconf-inventory-<site>` for `--site NAME`), with `<out>`
//! the `out-dir` of siteconf.toml. Every run first digests the inputs —
//! the tool, siteconf.toml, every lock and every file of the site and
//! template directories of every site ([`crate::project::input_digests`],
//! [`crate::output::stamp::inputs_digest`]; no secret is read, so a fixed
//! digest stands for them), then the site selection — and when the cache
//! holds that key it answers from the cache alone: `--list` copies the
//! answer out, `--host` reads the index and that one host's text. Anything
//! else (no cache, another key, a file that does not parse, a length or a
//! digest that does not match) is no cache: the site is checked as
//! without one, and the answer written again.
//!
//! The file (mode 0600, written to a temporary beside it and renamed into
//! place, not flushed: a file lost or torn by a power cut fails its
//! digests and is rebuilt) holds, after the key and a line of lengths and
//! digests, the `--list` answer exactly as printed, then an index: the
//! warnings the answer printed (shown again from the cache, so a cached
//! answer says what an uncached one says), and for each host its site,
//! FQDN, short name, and where its variables are in the answer with a
//! digest of them. `--host` prints that text moved back to the left margin
//! ([`inventory::host_answer`]), byte for byte what it prints without the
//! cache. The answer holds no secret (a secret variable is an environment
//! lookup, see `render::site::inventory`), so neither does the cache.
//!
//! It is written only from a site that checked without errors, and only
//! when the files the check read are the ones digested before it (a file
//! edited during the check is not cached under the old key). Failing to
//! write it is not an error: the answer is printed all the same.
//! `--rev` and `--staged` answer without a cache: they read git objects,
//! and are for reviews and hooks, not for Ansible.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::common::{print_diagnostics, Format, Global, Status};
use crate::check;
use crate::diag::{Code, Diagnostic, Severity};
use crate::output::{hex, DigestWriter};
use crate::project::{Config, ConfigFile};
use crate::render::context::{site_view, SiteView};
use crate::render::site::inventory::{self, Inventory, ListSite};
use crate::source::{Source, SourceError};
use crate::syntax::SourceMap;

#[derive(clap::Args, Debug)]
#[command(
    group(clap::ArgGroup::new("mode").required(true).args(["list", "host"])),
    after_help = "Use it as an Ansible inventory through an executable wrapper:\n\n    #!/bin/sh\n    exec siteconf -C /path/to/repo inventory \"$@\"\n\nThe answer is cached beside the output directory (.<out>.siteconf-inventory), keyed by a digest of every input: while nothing changes, --host reads one host from the cache and --list copies it out, without checking the site again.\n\nThe lock: a site that asks for allocated values without its siteconf.lock gets no answer (every address would be allocated anew, and Ansible would run a host's play on whichever machine answers at its new address); values the lock does not hold yet (new nodes before `siteconf lock`) are answered with a warning on stderr.\n\nExit codes: 0 answered (an unknown --host is {}), 1 the site has errors or its lock is missing (diagnostics on stderr, nothing on stdout)."
)]
pub struct Args {
    /// Print the whole inventory as JSON (groups, hosts, vars, _meta.hostvars).
    #[arg(long)]
    pub list: bool,
    /// Print the variables of one host (its FQDN, or its short name) as JSON.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    #[command(flatten)]
    pub from: super::common::SourceArgs,
    #[command(flatten)]
    pub site: super::common::SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return e.report(g, super::common::Format::Text),
    };
    let only = args.site.site.as_deref();
    let config = ConfigFile::read(&*src);
    let cache = if args.from.rev.is_none() && !args.from.staged {
        Cache::locate(g, &*src, &config.config, only)
    } else {
        None
    };
    if let Some(status) = cache.as_ref().and_then(|c| c.answer(args.host.as_deref())) {
        return status;
    }
    let top = config.config.clone();
    let project = check::check_project_configured(&*src, config, only, false);
    if project.diags.has_errors() || project.sites.is_empty() {
        let sources = project.sources().cloned().unwrap_or_default();
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        return Status::Findings;
    }
    if let Some(status) = refuse_without_lock(g, &project) {
        return status;
    }
    // Cache only what was checked from the very files digested above.
    let cache = cache.filter(|c| {
        project
            .sources()
            .and_then(|read| inputs_key(&*src, &top, only, read))
            .is_some_and(|k| k == c.key)
    });
    let status = answer(&project, args.host.as_deref(), cache.as_ref());
    // The OS frees the checked project faster than drop would.
    std::mem::forget(project);
    status
}

/// A site that asks for allocated values while its lock is gone (SC0813,
/// a warning for `check` and `build`) gets no answer: every value would be
/// allocated anew, so a host whose neighbour was removed is handed the
/// neighbour's old address, and Ansible, which shows a successful script's
/// stderr to nobody, would run that host's play on the machine still
/// answering there. The finding is printed as an error, nothing goes to
/// stdout, and the exit is 1, as for a site with errors. (Nothing is
/// cached either; and the cache's key digests the lock's presence, so an
/// answer cached before the lock vanished is not served after.)
fn refuse_without_lock(g: &Global, project: &check::CheckedProject) -> Option<Status> {
    let list: Vec<Diagnostic> = project
        .diags
        .iter()
        .filter(|d| d.code == Code::LockMissing)
        .map(|d| {
            let mut d = d.clone();
            d.severity = Severity::Error;
            d.message = format!(
                "{}; the inventory refuses to answer: Ansible would reach hosts at addresses they do not have, and run one host's play on another machine",
                d.message
            );
            d
        })
        .collect();
    if list.is_empty() {
        return None;
    }
    let sources = project.sources().cloned().unwrap_or_default();
    print_diagnostics(g, &list, &sources, Format::Text);
    Some(Status::Findings)
}

/// The warning for values the answer gives that the lock does not hold
/// yet (SC0063): requests allocated by this run. Not an error: with a lock
/// in place allocation never renumbers — a request the lock answers keeps
/// its value, and a new one takes a value no line of the lock holds,
/// released ones included — so such a value belongs to a node or address
/// that is new in this checkout (the usual state of a merge request before
/// `siteconf lock`), and no deployed machine was given it by this lock.
/// What can renumber, a lost lock, is refused ([`refuse_without_lock`]).
/// It is still not committed: another branch may take the same value, so
/// the warning says to lock and commit before Ansible relies on it.
fn unlocked_values(sites: &[SiteInv]) -> Option<String> {
    let mut new: Vec<String> = Vec::new();
    let mut total = 0;
    let mut lock_file = None;
    for s in sites {
        let lock = &s.checked.resolved.lock;
        for e in lock.entries.iter().filter(|e| e.line == 0 && !e.released) {
            total += 1;
            lock_file.get_or_insert(s.checked.loaded.config.lock_file.as_str());
            if new.len() < 5 {
                new.push(format!("{} {} {}", e.owner, e.key, e.value));
            }
        }
    }
    let lock_file = lock_file?;
    let more = if total > new.len() {
        format!(" and {} more", total - new.len())
    } else {
        String::new()
    };
    Some(format!(
        "[{}] {lock_file} is not current: this answer gives {total} allocated value(s) it does not hold yet ({}{more}); they are new, not renumbered, but not committed: run `siteconf lock` and commit {lock_file} before Ansible relies on them",
        Code::InventoryNotLocked.as_str(),
        new.join("; ")
    ))
}

/// One site, ready to answer: its view and its inventory outline.
struct SiteInv<'a> {
    checked: &'a check::Checked,
    view: SiteView,
    inv: Inventory,
}

impl SiteInv<'_> {
    fn env_prefix(&self) -> &str {
        &self.checked.loaded.config.secrets.env_prefix
    }

    fn list_site(&self) -> ListSite<'_> {
        ListSite {
            view: &self.view,
            inv: &self.inv,
            env_prefix: self.env_prefix(),
        }
    }
}

/// The answer from a checked project (no errors), written to `cache` too
/// when there is one.
fn answer(project: &check::CheckedProject, host: Option<&str>, cache: Option<&Cache>) -> Status {
    let multi = project.sites[0].loaded.config.is_multi_site();
    let sites: Vec<SiteInv> = project
        .sites
        .iter()
        .map(|checked| {
            let view = site_view(&checked.effective());
            let inv = inventory::outline(&view, &checked.loaded.config.secrets.env_prefix);
            SiteInv { checked, view, inv }
        })
        .collect();
    // Ansible shows a successful script's stderr only when asked to, so
    // this is for the person running it by hand.
    let unlocked = unlocked_values(&sites);
    let warnings: Vec<&String> = sites
        .iter()
        .flat_map(|s| s.inv.warnings.iter().map(|(_, w)| w))
        .chain(unlocked.as_ref())
        .collect();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    // The answer's hosts are a JSON object's keys: unique. A check without
    // errors guarantees it (SC0110 across sites); should it not, the
    // answer is made whole, as a JSON value merges same-named keys.
    let mut names: Vec<&str> = sites
        .iter()
        .flat_map(|s| s.inv.hosts.iter().map(|h| h.name.as_str()))
        .collect();
    names.sort_unstable();
    let unique = names.windows(2).all(|w| w[0] != w[1]);
    match host {
        Some(name) => {
            let status = print_host(&sites, name);
            if let (Some(cache), true) = (cache, unique) {
                if let Some(mut w) = cache.writer() {
                    let outline = merged_outline(&sites, multi);
                    let mut tee = Tee {
                        out: None,
                        cache: &mut w,
                    };
                    let mut index = Index::default();
                    if write_answer(&mut tee, &outline, &sites, &mut index).is_ok() {
                        w.finish(&warnings, &index, &sites);
                    }
                }
            }
            status
        }
        None if !unique => print_whole_list(&sites, multi),
        None => {
            let mut w = cache.and_then(Cache::writer);
            let outline = merged_outline(&sites, multi);
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            let mut index = Index::default();
            let written = match w.as_mut() {
                Some(cw) => {
                    let mut tee = Tee {
                        out: Some(&mut out),
                        cache: cw,
                    };
                    write_answer(&mut tee, &outline, &sites, &mut index)
                }
                None => write_answer(&mut out, &outline, &sites, &mut index),
            };
            match written.and_then(|()| out.flush()) {
                Ok(()) => {
                    if let Some(w) = w {
                        w.finish(&warnings, &index, &sites);
                    }
                    Status::Ok
                }
                Err(e) => super::common::fail(format!("cannot write the inventory: {e}")),
            }
        }
    }
}

/// Every selected site's outline as one `--list` answer (`_meta.hostvars`
/// left for [`inventory::write_list`]).
fn merged_outline(sites: &[SiteInv], multi: bool) -> serde_json::Map<String, serde_json::Value> {
    let mut list = serde_json::Map::new();
    for s in sites {
        let mut one = s.inv.list_outline();
        if multi {
            let site = s.checked.loaded.config.site.clone().unwrap_or_default();
            add_site_group(&mut one, &site, &s.inv);
        }
        merge_list(&mut list, one);
    }
    list
}

/// Where each host's variables are in a `--list` answer, for the cache:
/// (site, host, offset, length, digest).
#[derive(Default)]
struct Index {
    placed: Vec<(usize, usize, u64, u64, [u8; 16])>,
}

/// Writes the `--list` answer (and its final newline) to `out`, noting in
/// `index` where each host is.
fn write_answer(
    out: &mut dyn Write,
    outline: &serde_json::Map<String, serde_json::Value>,
    sites: &[SiteInv],
    index: &mut Index,
) -> io::Result<()> {
    let list_sites: Vec<ListSite> = sites.iter().map(SiteInv::list_site).collect();
    inventory::write_list(out, outline, &list_sites, &mut |p| {
        index.placed.push((
            p.site,
            p.host,
            p.offset,
            p.text.len() as u64,
            short_digest(p.text),
        ));
    })?;
    out.write_all(b"\n")
}

/// The host `--host NAME` names: `NAME` as `--list` prints hosts (the
/// FQDN, also with the root dot a DNS name may be written with), else as
/// a short name. A short name two sites' hosts have is refused (see
/// [`ambiguous_host`]), as `explain` refuses it: the first site's host
/// would be answered silently for a play meant for the other.
fn host_key(name: &str) -> &str {
    match name.strip_suffix('.') {
        Some(n) if !n.is_empty() && !n.ends_with('.') => n,
        _ => name,
    }
}

/// `--host NAME` from the checked sites (see [`host_key`]).
fn print_host(sites: &[SiteInv], name: &str) -> Status {
    let key = host_key(name);
    let by_fqdn = sites.iter().find_map(|s| s.inv.host(key).map(|h| (s, h)));
    let found = match by_fqdn {
        Some(f) => Some(f),
        None => {
            let mut short: Vec<(&SiteInv, &inventory::InvHost)> = Vec::new();
            for s in sites {
                for h in s.inv.hosts.iter().filter(|h| h.node == key) {
                    if !short.iter().any(|(_, o)| o.name == h.name) {
                        short.push((s, h));
                    }
                }
            }
            if short.len() > 1 {
                let fqdns: Vec<&str> = short.iter().map(|(_, h)| h.name.as_str()).collect();
                return ambiguous_host(name, &fqdns);
            }
            short.pop()
        }
    };
    if let Some((s, h)) = found {
        return match inventory::host_json(&s.view, h, s.env_prefix()) {
            Ok(text) => print_answer(text.as_bytes()),
            Err(e) => super::common::fail(format!("cannot write the inventory as JSON: {e}")),
        };
    }
    let names: Vec<&str> = sites
        .iter()
        .flat_map(|s| s.inv.hosts.iter().map(|h| h.node.as_str()))
        .collect();
    unknown_host(name, &names)
}

/// A short name that hosts of several sites have: refused (exit 2,
/// nothing on stdout) with their FQDNs, which is what `--list` names them.
fn ambiguous_host(name: &str, fqdns: &[&str]) -> Status {
    let list: Vec<String> = fqdns.iter().map(|f| format!("`{f}`")).collect();
    eprintln!(
        "error: {} hosts have the short name `{name}`: {}\n  hint: give the FQDN, as `--list` names hosts (or narrow with `--site NAME`)",
        fqdns.len(),
        list.join(", ")
    );
    Status::Error
}

/// The protocol's answer for an unknown host is `{}` (exit 0); stderr says
/// why, for a person at a terminal.
fn unknown_host(name: &str, names: &[&str]) -> Status {
    eprint!(
        "{}",
        super::explain::unknown_node(name, names, "host").replacen("error: ", "note: ", 1)
    );
    print_answer(b"{}")
}

/// `text` and a newline on stdout.
fn print_answer(text: &[u8]) -> Status {
    let mut out = io::stdout().lock();
    match out
        .write_all(text)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
    {
        Ok(()) => Status::Ok,
        Err(e) => super::common::fail(format!("cannot write the inventory: {e}")),
    }
}

/// `--list` made whole in memory, for sites whose host names repeat (see
/// [`answer`]): never cached.
fn print_whole_list(sites: &[SiteInv], multi: bool) -> Status {
    let mut list = serde_json::Map::new();
    for s in sites {
        let inv = inventory::build(&s.view, s.env_prefix());
        let mut one = inv.to_list_json();
        if let (true, Some(o)) = (multi, one.as_object_mut()) {
            let site = s.checked.loaded.config.site.clone().unwrap_or_default();
            add_site_group(o, &site, &inv);
        }
        if let serde_json::Value::Object(one) = one {
            merge_list(&mut list, one);
        }
    }
    match serde_json::to_string_pretty(&serde_json::Value::Object(list)) {
        Ok(text) => print_answer(text.as_bytes()),
        Err(e) => super::common::fail(format!("cannot write the inventory as JSON: {e}")),
    }
}

/// Adds group `site_<name>` (every host of the site) to one site's list.
fn add_site_group(
    one: &mut serde_json::Map<String, serde_json::Value>,
    site: &str,
    inv: &Inventory,
) {
    use serde_json::{json, Value};
    // The site's hosts, each once, in the order of its `_meta.hostvars`.
    let mut seen = std::collections::HashSet::new();
    let hosts: Vec<Value> = inv
        .hosts
        .iter()
        .filter(|h| seen.insert(h.name.as_str()))
        .map(|h| json!(h.name))
        .collect();
    let name = format!("site_{}", crate::model::names::group_name(site));
    if let Some(children) = one
        .get_mut("all")
        .and_then(|a| a.get_mut("children"))
        .and_then(Value::as_array_mut)
    {
        children.push(json!(name));
    }
    // The site's own facts (`siteconf_site`: its name, domain, resolvers)
    // go with its hosts, not on `all`, which the sites share: there the
    // first site's would be every host's.
    let facts = one
        .get_mut("all")
        .and_then(|a| a.get_mut("vars"))
        .and_then(Value::as_object_mut)
        .and_then(|v| v.remove(crate::model::names::SITE_FACTS));
    let mut group = json!({ "hosts": hosts });
    if let Some(f) = facts {
        group["vars"] = json!({ crate::model::names::SITE_FACTS: f });
    }
    one.insert(name, group);
}

/// Merges one site's `--list` answer into the project's: hosts and their
/// variables side by side (FQDNs are unique across sites), a group's hosts
/// and children joined; a group's vars are those of the first site that
/// has the group (shared groups have the same vars everywhere).
fn merge_list(
    into: &mut serde_json::Map<String, serde_json::Value>,
    one: serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    for (k, v) in one {
        match into.get_mut(&k) {
            None => {
                into.insert(k, v);
            }
            Some(existing) => merge_value(existing, v),
        }
    }
    fn merge_value(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    match a.get_mut(&k) {
                        None => {
                            a.insert(k, v);
                        }
                        // Group and host variables: the first site's.
                        Some(_) if k == "vars" => {}
                        Some(x) => merge_value(x, v),
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                // Each of `b` that `a` lacks, once. Host and group names
                // are strings, looked up in a set (a fleet's lists are
                // long); anything else by a scan of `a`.
                let mut have: std::collections::HashSet<String> = a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                for v in b {
                    let new = match v.as_str() {
                        Some(s) => have.insert(s.to_string()),
                        None => !a.contains(&v),
                    };
                    if new {
                        a.push(v);
                    }
                }
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
            _ => {}
        }
    }
}

// ---- the answer cache (see the module doc) ---------------------------------

/// The first line of a cache file; a new layout is a new number.
const CACHE_HEADER: &str = "siteconf-inventory 1";
/// Stands for the secrets in the inputs digest: the inventory reads none.
const NO_SECRETS: [u8; 32] = [0; 32];
/// The width of the line of lengths and digests, written last in place.
const SIZES_LINE: usize = 20 + 1 + 20 + 1 + 64 + 1 + 64 + 1;
/// Where the `--list` answer starts: after the header, the key and the
/// line of lengths and digests.
const HEAD_LEN: usize = CACHE_HEADER.len() + 1 + 64 + 1 + SIZES_LINE;

/// The first 16 bytes of the SHA-256 of `bytes`: enough to notice a
/// damaged host entry.
fn short_digest(bytes: &[u8]) -> [u8; 16] {
    let d: [u8; 32] = Sha256::digest(bytes).into();
    let mut out = [0; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// The SHA-256 of every input file of `config` (of every site, in a
/// project of several: `--site` narrows what is answered, not what is
/// checked), hashing what `read` holds from memory and reading the rest.
fn input_files(
    src: &dyn Source,
    config: &Config,
    read: &SourceMap,
) -> Result<BTreeMap<String, [u8; 32]>, SourceError> {
    if !config.is_multi_site() {
        return crate::project::input_digests(src, config, read);
    }
    let mut all = BTreeMap::new();
    for name in config.sites.keys() {
        if let Some(c) = config.for_site(name) {
            all.extend(crate::project::input_digests(src, &c, read)?);
        }
    }
    Ok(all)
}

/// The cache key of an answer: the inputs and the site selection. `None`
/// when an input cannot be read or the tool cannot be identified.
fn inputs_key(
    src: &dyn Source,
    config: &Config,
    only: Option<&str>,
    read: &SourceMap,
) -> Option<[u8; 32]> {
    let files = input_files(src, config, read).ok()?;
    let inputs = crate::output::stamp::inputs_digest(&files, &NO_SECRETS)?;
    let mut h = Sha256::new();
    h.update(CACHE_HEADER.as_bytes());
    h.update(inputs);
    match only {
        None => h.update([0]),
        Some(site) => {
            h.update([1]);
            h.update(site.as_bytes());
        }
    }
    Some(h.finalize().into())
}

/// The cache of one invocation's answers: where, and under which key.
struct Cache {
    path: PathBuf,
    key: [u8; 32],
}

/// A cache file's contents as far as its header and index: what `--host`
/// reads.
struct Opened {
    file: File,
    /// Where the `--list` answer starts in the file.
    list_at: u64,
    list_len: u64,
    list_digest: String,
    warnings: Vec<String>,
    hosts: Vec<Entry>,
}

/// One host in the cache's index.
struct Entry {
    fqdn: String,
    short: String,
    offset: u64,
    len: u64,
    digest: String,
}

impl Cache {
    /// The cache of the working tree `src` for site selection `only`, and
    /// its key; `None` when there is none to have (the project cannot be
    /// found, an input cannot be read, a site name unfit for a file name).
    fn locate(g: &Global, src: &dyn Source, config: &Config, only: Option<&str>) -> Option<Cache> {
        let root = g.project_root().ok()?;
        let out = crate::output::fs::resolve_target(&root.join(&config.out_dir)).ok()?;
        let name = out.file_name()?.to_string_lossy().into_owned();
        let file = match only {
            None => format!(".{name}.siteconf-inventory"),
            Some(site)
                if !site.is_empty()
                    && site.len() <= 64
                    && site
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                format!(".{name}.siteconf-inventory-{site}")
            }
            Some(_) => return None,
        };
        let key = inputs_key(src, config, only, &SourceMap::default())?;
        Some(Cache {
            path: out.with_file_name(file),
            key,
        })
    }

    /// The answer from the cache, printed, if the cache holds this key
    /// and is whole; `None` (nothing printed) otherwise.
    fn answer(&self, host: Option<&str>) -> Option<Status> {
        let mut c = self.open()?;
        match host {
            Some(name) => {
                let found = match find_host(&c.hosts, name) {
                    Ok(found) => found,
                    Err(fqdns) => {
                        for w in &c.warnings {
                            eprintln!("warning: {w}");
                        }
                        return Some(ambiguous_host(name, &fqdns));
                    }
                };
                let text = match found {
                    Some(e) => {
                        let mut buf = vec![0; usize::try_from(e.len).ok()?];
                        c.file.read_exact_at(&mut buf, c.list_at + e.offset).ok()?;
                        if hex(&short_digest(&buf)) != e.digest {
                            return None;
                        }
                        Some(inventory::host_answer(&buf))
                    }
                    None => None,
                };
                for w in &c.warnings {
                    eprintln!("warning: {w}");
                }
                Some(match text {
                    Some(text) => print_answer(&text),
                    None => {
                        let names: Vec<&str> = c.hosts.iter().map(|e| e.short.as_str()).collect();
                        unknown_host(name, &names)
                    }
                })
            }
            None => {
                // The whole answer is checked before a byte of it is printed.
                c.file.seek(SeekFrom::Start(c.list_at)).ok()?;
                let mut h = Sha256::new();
                io::copy(&mut (&c.file).take(c.list_len), &mut DigestWriter(&mut h)).ok()?;
                if hex(&h.finalize()) != c.list_digest {
                    return None;
                }
                for w in &c.warnings {
                    eprintln!("warning: {w}");
                }
                c.file.seek(SeekFrom::Start(c.list_at)).ok()?;
                let stdout = io::stdout();
                let mut out = stdout.lock();
                let copied =
                    io::copy(&mut (&c.file).take(c.list_len), &mut out).and_then(|_| out.flush());
                Some(match copied {
                    Ok(()) => Status::Ok,
                    Err(e) => super::common::fail(format!("cannot write the inventory: {e}")),
                })
            }
        }
    }

    /// The cache file, if it holds this key and its index is whole.
    fn open(&self) -> Option<Opened> {
        let file = File::open(&self.path).ok()?;
        let size = file.metadata().ok()?.len();
        let mut head = vec![0; HEAD_LEN];
        file.read_exact_at(&mut head, 0).ok()?;
        let head = std::str::from_utf8(&head).ok()?;
        let sizes = head
            .strip_prefix(CACHE_HEADER)?
            .strip_prefix('\n')?
            .strip_prefix(hex(&self.key).as_str())?
            .strip_prefix('\n')?
            .strip_suffix('\n')?;
        let mut f = sizes.split(' ');
        let list_len: u64 = f.next()?.parse().ok()?;
        let index_len: u64 = f.next()?.parse().ok()?;
        let list_digest = f.next()?.to_string();
        let index_digest = f.next()?.to_string();
        let list_at = HEAD_LEN as u64;
        if list_at.checked_add(list_len)?.checked_add(index_len)? != size {
            return None;
        }
        let mut index = vec![0; usize::try_from(index_len).ok()?];
        file.read_exact_at(&mut index, list_at + list_len).ok()?;
        if hex(&Sha256::digest(&index)) != index_digest {
            return None;
        }
        let (warnings, hosts) = parse_index(std::str::from_utf8(&index).ok()?)?;
        Some(Opened {
            file,
            list_at,
            list_len,
            list_digest,
            warnings,
            hosts,
        })
    }

    /// A new cache file for this key, not yet in place; `None` when it
    /// cannot be created (a read-only project: no cache, no error).
    fn writer(&self) -> Option<CacheWriter> {
        crate::output::fs::remove_stale_temps(&self.path);
        let (tmp, file) = crate::output::fs::create_temp_beside(&self.path, 0o600).ok()?;
        let mut w = CacheWriter {
            path: self.path.clone(),
            tmp,
            file: Some(BufWriter::with_capacity(1 << 16, file)),
            placed: false,
            list: Sha256::new(),
            list_len: 0,
        };
        let head = format!(
            "{CACHE_HEADER}\n{}\n{}\n",
            hex(&self.key),
            " ".repeat(SIZES_LINE - 1)
        );
        w.put(head.as_bytes());
        Some(w)
    }
}

/// The host `--host NAME` means, as [`print_host`] finds it: `Err` with
/// the FQDNs of the hosts a short name is ambiguous between.
fn find_host<'a>(hosts: &'a [Entry], name: &str) -> Result<Option<&'a Entry>, Vec<&'a str>> {
    let key = host_key(name);
    if let Some(e) = hosts.iter().find(|e| e.fqdn == key) {
        return Ok(Some(e));
    }
    let mut short: Vec<&Entry> = Vec::new();
    for e in hosts.iter().filter(|e| e.short == key) {
        if !short.iter().any(|o| o.fqdn == e.fqdn) {
            short.push(e);
        }
    }
    if short.len() > 1 {
        return Err(short.iter().map(|e| e.fqdn.as_str()).collect());
    }
    Ok(short.pop())
}

/// The index of a cache file: `w <warning>` lines, then one `h <site>
/// <offset> <length> <digest> <fqdn> <short name>` line per host (strings
/// as JSON).
fn parse_index(text: &str) -> Option<(Vec<String>, Vec<Entry>)> {
    let mut warnings = Vec::new();
    let mut hosts = Vec::new();
    for line in text.lines() {
        if let Some(w) = line.strip_prefix("w ") {
            warnings.push(serde_json::from_str(w).ok()?);
            continue;
        }
        let mut f = line.strip_prefix("h ")?.splitn(5, ' ');
        // The site's index: written for the layout's sake, not needed
        // to find a host (FQDNs are unique, short names checked).
        let _site: usize = f.next()?.parse().ok()?;
        let offset = f.next()?.parse().ok()?;
        let len = f.next()?.parse().ok()?;
        let digest = f.next()?.to_string();
        let mut names = serde_json::Deserializer::from_str(f.next()?).into_iter::<String>();
        let fqdn = names.next()?.ok()?;
        let short = names.next()?.ok()?;
        if names.next().is_some() {
            return None;
        }
        hosts.push(Entry {
            fqdn,
            short,
            offset,
            len,
            digest,
        });
    }
    Some((warnings, hosts))
}

/// A cache file being written: the temporary, and the answer's length and
/// digest so far. Dropped before it is in place, it removes the temporary.
struct CacheWriter {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once a write failed: the cache is given up.
    file: Option<BufWriter<File>>,
    /// Renamed into place.
    placed: bool,
    list: Sha256,
    list_len: u64,
}

impl CacheWriter {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(f) = &mut self.file {
            if f.write_all(bytes).is_err() {
                self.file = None;
            }
        }
    }

    /// Bytes of the `--list` answer.
    fn put_list(&mut self, bytes: &[u8]) {
        self.put(bytes);
        self.list.update(bytes);
        self.list_len += bytes.len() as u64;
    }

    /// Writes the index and the line of lengths and digests, and puts the
    /// file in place. Best effort.
    fn finish(mut self, warnings: &[&String], index: &Index, sites: &[SiteInv]) {
        let mut text = String::new();
        for w in warnings {
            text.push_str("w ");
            text.push_str(&serde_json::Value::from(w.as_str()).to_string());
            text.push('\n');
        }
        for &(s, h, offset, len, digest) in &index.placed {
            let host = &sites[s].inv.hosts[h];
            text.push_str(&format!(
                "h {s} {offset} {len} {} {} {}\n",
                hex(&digest),
                serde_json::Value::from(host.name.as_str()),
                serde_json::Value::from(host.node.as_str()),
            ));
        }
        self.put(text.as_bytes());
        let sizes = format!(
            "{:020} {:020} {} {}\n",
            self.list_len,
            text.len(),
            hex(&self.list.clone().finalize()),
            hex(&Sha256::digest(text.as_bytes())),
        );
        debug_assert_eq!(sizes.len(), SIZES_LINE);
        let Some(file) = self.file.take() else {
            return;
        };
        let placed = (|| {
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.write_all_at(sizes.as_bytes(), (HEAD_LEN - SIZES_LINE) as u64)?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        self.placed = placed.is_ok();
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The `--list` answer going to stdout (`out`, when printing it) and to
/// the cache. A failed cache write only gives up the cache; with nothing
/// left to write to, writing stops.
struct Tee<'a> {
    out: Option<&'a mut dyn Write>,
    cache: &'a mut CacheWriter,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.cache.put_list(buf);
        match &mut self.out {
            Some(out) => out.write_all(buf)?,
            None if self.cache.file.is_none() => {
                return Err(io::Error::other("the inventory cache cannot be written"))
            }
            None => {}
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{find_host, host_key, Entry};

    fn entry(fqdn: &str, short: &str) -> Entry {
        Entry {
            fqdn: fqdn.into(),
            short: short.into(),
            offset: 0,
            len: 0,
            digest: String::new(),
        }
    }

    #[test]
    fn a_host_is_named_as_list_prints_it_or_by_a_short_name_of_one_site() {
        assert_eq!(
            host_key("r01n01.dc1.example.net."),
            "r01n01.dc1.example.net"
        );
        assert_eq!(host_key("r01n01"), "r01n01");
        assert_eq!(host_key("."), ".");
        let hosts = [
            entry("r01n01.dc1.example.net", "r01n01"),
            entry("r01n02.dc1.example.net", "r01n02"),
            entry("r01n01.dc2.example.net", "r01n01"),
        ];
        let fqdn = |n: &str| find_host(&hosts, n).map(|e| e.map(|e| e.fqdn.clone()));
        assert_eq!(
            fqdn("r01n01.dc2.example.net.").unwrap().as_deref(),
            Some("r01n01.dc2.example.net")
        );
        assert_eq!(
            fqdn("r01n02").unwrap().as_deref(),
            Some("r01n02.dc1.example.net")
        );
        assert_eq!(fqdn("r09n01").unwrap(), None);
        assert_eq!(
            find_host(&hosts, "r01n01").err(),
            Some(vec!["r01n01.dc1.example.net", "r01n01.dc2.example.net"])
        );
    }
}
