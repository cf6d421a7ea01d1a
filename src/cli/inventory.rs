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
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return e.report(g, super::common::Format::Text),
    };
    let checked = check::check(&*src);
    let sources = &checked.loaded.sources;
    if checked.diags.has_errors() {
        let list = checked.diags.sorted(sources);
        print_diagnostics(g, &list, sources, Format::Text);
        return Status::Findings;
    }
    let view = site_view(&checked.effective());
    let inv = inventory::build(&view, &checked.loaded.config.secrets.env_prefix);
    // Ansible shows a successful script's stderr only when asked to, so
    // this is for the person running it by hand.
    for w in &inv.warnings {
        eprintln!("warning: {w}");
    }
    let answer = match &args.host {
        Some(name) => {
            let host = inv.host(name).or_else(|| {
                // A short name: the node's FQDN is `name.domain`.
                inv.hosts.iter().find(|h| &h.node == name)
            });
            match host {
                Some(h) => serde_json::Value::Object(h.hostvars()),
                None => {
                    // The protocol's answer for an unknown host is `{}`
                    // (exit 0); stderr says why, for a person at a terminal.
                    let names: Vec<&str> = inv.hosts.iter().map(|h| h.node.as_str()).collect();
                    eprint!(
                        "{}",
                        super::explain::unknown_node(name, &names).replacen("error: ", "note: ", 1)
                    );
                    serde_json::json!({})
                }
            }
        }
        None => inv.to_list_json(),
    };
    match serde_json::to_string_pretty(&answer) {
        Ok(text) => {
            println!("{text}");
            Status::Ok
        }
        Err(e) => super::common::fail(format!("cannot write the inventory as JSON: {e}")),
    }
}
