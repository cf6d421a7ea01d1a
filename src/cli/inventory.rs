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
//! `--list` is written as it is made, a few hundred hosts' variables at a
//! time ([`inventory::write_list`]): a fleet's variables are never all in
//! memory, nor the text of the answer.

use std::io::{self, BufWriter, Write};

use super::common::{print_diagnostics, Format, Global, Status};
use crate::check;
use crate::render::context::{site_view, SiteView};
use crate::render::site::inventory::{self, Inventory, ListSite};

#[derive(clap::Args, Debug)]
#[command(
    group(clap::ArgGroup::new("mode").required(true).args(["list", "host"])),
    after_help = "Use it as an Ansible inventory through an executable wrapper:\n\n    #!/bin/sh\n    exec siteconf -C /path/to/repo inventory \"$@\"\n\nExit codes: 0 answered (an unknown --host is {}), 1 the site has errors (diagnostics on stderr, nothing on stdout)."
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
    let project = check::check_project(&*src, args.site.site.as_deref(), false);
    if project.diags.has_errors() || project.sites.is_empty() {
        let sources = project.sources().cloned().unwrap_or_default();
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        return Status::Findings;
    }
    let status = answer(&project, args.host.as_deref());
    // The OS frees the checked project faster than drop would.
    std::mem::forget(project);
    status
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

/// The answer from a checked project (no errors).
fn answer(project: &check::CheckedProject, host: Option<&str>) -> Status {
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
    for w in sites.iter().flat_map(|s| &s.inv.warnings) {
        eprintln!("warning: {w}");
    }
    if let Some(name) = host {
        return print_host(&sites, name);
    }
    // The answer's hosts are a JSON object's keys: unique. A check without
    // errors guarantees it (SC0110 across sites); should it not, the
    // answer is made whole, as a JSON value merges same-named keys.
    let mut names: Vec<&str> = sites
        .iter()
        .flat_map(|s| s.inv.hosts.iter().map(|h| h.name.as_str()))
        .collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return print_whole_list(&sites, multi);
    }
    let outline = merged_outline(&sites, multi);
    let list_sites: Vec<ListSite> = sites.iter().map(SiteInv::list_site).collect();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = inventory::write_list(&mut out, &outline, &list_sites, &mut |_| {})
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Status::Ok,
        Err(e) => super::common::fail(format!("cannot write the inventory: {e}")),
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

/// `--host NAME` from the checked sites: the first site that has a host by
/// that FQDN, or else by that short name.
fn print_host(sites: &[SiteInv], name: &str) -> Status {
    for s in sites {
        // A short name: the node's FQDN is `name.domain`.
        let found = s
            .inv
            .host(name)
            .or_else(|| s.inv.hosts.iter().find(|h| h.node == name));
        if let Some(h) = found {
            return match inventory::host_json(&s.view, h, s.env_prefix()) {
                Ok(text) => print_answer(text.as_bytes()),
                Err(e) => super::common::fail(format!("cannot write the inventory as JSON: {e}")),
            };
        }
    }
    let names: Vec<&str> = sites
        .iter()
        .flat_map(|s| s.inv.hosts.iter().map(|h| h.node.as_str()))
        .collect();
    unknown_host(name, &names)
}

/// The protocol's answer for an unknown host is `{}` (exit 0); stderr says
/// why, for a person at a terminal.
fn unknown_host(name: &str, names: &[&str]) -> Status {
    eprint!(
        "{}",
        super::explain::unknown_node(name, names).replacen("error: ", "note: ", 1)
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
    one.insert(name, json!({ "hosts": hosts }));
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
