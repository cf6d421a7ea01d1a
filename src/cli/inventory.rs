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

use super::common::{print_diagnostics, Format, Global, Status};
use crate::check;
use crate::render::context::site_view;
use crate::render::site::inventory;

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
    let multi = project.sites[0].loaded.config.is_multi_site();
    let mut list = serde_json::Map::new();
    let mut found = None;
    let mut names: Vec<String> = Vec::new();
    for checked in &project.sites {
        let view = site_view(&checked.effective());
        let inv = inventory::build(&view, &checked.loaded.config.secrets.env_prefix);
        // Ansible shows a successful script's stderr only when asked to, so
        // this is for the person running it by hand.
        for w in &inv.warnings {
            eprintln!("warning: {w}");
        }
        match &args.host {
            Some(name) => {
                if found.is_none() {
                    // A short name: the node's FQDN is `name.domain`.
                    let host = inv
                        .host(name)
                        .or_else(|| inv.hosts.iter().find(|h| &h.node == name));
                    found = host.map(|h| serde_json::Value::Object(h.hostvars()));
                }
                names.extend(inv.hosts.iter().map(|h| h.node.clone()));
            }
            None => {
                let mut one = inv.to_list_json();
                if multi {
                    let site = checked.loaded.config.site.clone().unwrap_or_default();
                    add_site_group(&mut one, &site);
                }
                merge_list(&mut list, one);
            }
        }
    }
    let answer = match &args.host {
        Some(name) => found.unwrap_or_else(|| {
            // The protocol's answer for an unknown host is `{}` (exit 0);
            // stderr says why, for a person at a terminal.
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            eprint!(
                "{}",
                super::explain::unknown_node(name, &names).replacen("error: ", "note: ", 1)
            );
            serde_json::json!({})
        }),
        None => serde_json::Value::Object(list),
    };
    match serde_json::to_string_pretty(&answer) {
        Ok(text) => {
            println!("{text}");
            Status::Ok
        }
        Err(e) => super::common::fail(format!("cannot write the inventory as JSON: {e}")),
    }
}

/// Adds group `site_<name>` (every host of the site) to one site's list.
fn add_site_group(one: &mut serde_json::Value, site: &str) {
    use serde_json::{json, Value};
    let hosts: Vec<Value> = one
        .get("_meta")
        .and_then(|m| m.get("hostvars"))
        .and_then(Value::as_object)
        .map(|h| h.keys().map(|k| json!(k)).collect())
        .unwrap_or_default();
    let name = format!("site_{}", crate::model::names::group_name(site));
    if let Some(o) = one.as_object_mut() {
        if let Some(children) = o
            .get_mut("all")
            .and_then(|a| a.get_mut("children"))
            .and_then(Value::as_array_mut)
        {
            children.push(json!(name));
        }
        o.insert(name, json!({ "hosts": hosts }));
    }
}

/// Merges one site's `--list` answer into the project's: hosts and their
/// variables side by side (FQDNs are unique across sites), a group's hosts
/// and children joined; a group's vars are those of the first site that
/// has the group (shared groups have the same vars everywhere).
fn merge_list(into: &mut serde_json::Map<String, serde_json::Value>, one: serde_json::Value) {
    use serde_json::Value;
    let serde_json::Value::Object(one) = one else {
        return;
    };
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
                for v in b {
                    if !a.contains(&v) {
                        a.push(v);
                    }
                }
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
            _ => {}
        }
    }
}
