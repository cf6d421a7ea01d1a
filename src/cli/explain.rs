//! `siteconf explain NODE [PATH]`: the fully resolved node, each value with
//! the file:line that set it and what it overrode.

use super::common::{print_diagnostics, Format, Global, Status};
use crate::check;
use crate::diag::did_you_mean;
use crate::resolve::explain;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The node's hostname.
    pub node: String,
    /// Only this value (and what is under it), e.g. `interfaces.eno1.mtu`.
    pub path: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub from: super::common::SourceArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return super::common::fail(e),
    };
    let checked = check::check_with(&*src, true);
    let site = &checked.loaded.site;
    let sources = &checked.loaded.sources;
    let Some(rn) = checked.resolved.node(&args.node, site) else {
        let hint = did_you_mean(&args.node, site.nodes.iter().map(|n| n.name.value.as_str()))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        if checked.diags.has_errors() {
            let list = checked.diags.sorted(sources);
            print_diagnostics(g, &list, sources, Format::Text);
        }
        eprintln!("error: no node named `{}`{hint}", args.node);
        return Status::Error;
    };
    let e = explain::explain(site, &checked.resolved, rn, sources, args.path.as_deref());
    if let Some(p) = &args.path {
        if e.values.is_empty() {
            eprintln!("error: node `{}` has no value at `{p}`", args.node);
            return Status::Error;
        }
    }
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&e) {
            Ok(s) => println!("{s}"),
            Err(err) => return super::common::fail(err),
        },
        Format::Text => print!("{}", explain::to_text(&e)),
    }
    // Findings still matter: explain shows them but answers anyway.
    if checked.diags.has_errors() {
        let list = checked.diags.sorted(sources);
        print_diagnostics(g, &list, sources, Format::Text);
        return Status::Findings;
    }
    Status::Ok
}
