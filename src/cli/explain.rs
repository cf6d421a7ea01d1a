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
    #[command(flatten)]
    pub site: super::common::SiteArgs,
}

pub fn run(g: &Global, args: Args) -> Status {
    let src = match g.open_source(args.from.rev.as_deref(), args.from.staged) {
        Ok(s) => s,
        Err(e) => return e.report(g, super::common::Format::Text),
    };
    let project = check::check_project(&*src, args.site.site.as_deref(), true);
    // The site that declares the node; in a project of several, a name
    // that two sites declare needs `--site`.
    let holders: Vec<usize> = project
        .sites
        .iter()
        .enumerate()
        .filter(|(_, c)| c.resolved.node(&args.node, &c.loaded.site).is_some())
        .map(|(i, _)| i)
        .collect();
    if holders.len() > 1 {
        let names: Vec<&str> = holders
            .iter()
            .filter_map(|&i| project.sites[i].loaded.config.site.as_deref())
            .collect();
        eprintln!(
            "error: node `{}` is declared in sites {}: say which with `--site {}`",
            args.node,
            names.join(", "),
            names.first().copied().unwrap_or("NAME")
        );
        return Status::Error;
    }
    let Some(checked) = holders
        .first()
        .map(|&i| &project.sites[i])
        .or(project.sites.first())
    else {
        let list = project.diags.sorted(&Default::default());
        print_diagnostics(g, &list, &Default::default(), Format::Text);
        return Status::Error;
    };
    let site = &checked.loaded.site;
    let sources = &checked.loaded.sources;
    let Some(rn) = checked.resolved.node(&args.node, site) else {
        if project.diags.has_errors() {
            let list = project.diags.clone().sorted(sources);
            print_diagnostics(g, &list, sources, Format::Text);
        }
        let names: Vec<&str> = project
            .sites
            .iter()
            .flat_map(|c| c.loaded.site.nodes.iter().map(|n| n.name.value.as_str()))
            .collect();
        eprint!("{}", unknown_name(&project, &args.node, &names));
        return Status::Error;
    };
    let e = explain::explain(site, &checked.resolved, rn, sources, args.path.as_deref());
    if let Some(p) = &args.path {
        if e.values.is_empty() && e.group_vars.is_empty() {
            if let Some(text) = default_mtu(checked, &args.node, p) {
                // JSON lists values set in site files: this one is not.
                if args.format == Format::Json {
                    eprintln!("error: node `{}` has no value set at `{p}`", args.node);
                    eprintln!("  note: {text}");
                    return Status::Error;
                }
                print!("{}", explain::to_text(&e));
                println!("{text}");
                return Status::Ok;
            }
            eprintln!("error: node `{}` has no value at `{p}`", args.node);
            let every = explain::explain(site, &checked.resolved, rn, sources, None);
            let mut all: Vec<String> = every
                .values
                .into_iter()
                .map(|v| v.path)
                .chain(every.group_vars.into_iter().map(|v| v.path))
                .collect();
            all.sort();
            all.dedup();
            let close = explain::closest_paths(&all, p);
            if close.is_empty() {
                eprintln!(
                    "  hint: `siteconf explain {}` lists every path it has",
                    args.node
                );
            } else {
                let list: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
                let (what, is) = if list.len() == 1 {
                    ("path", "is")
                } else {
                    ("paths", "are")
                };
                eprintln!(
                    "  hint: the closest valid {what} {is} {} (`siteconf explain {}` lists them all)",
                    list.join(", "),
                    args.node
                );
            }
            return Status::Error;
        }
    }
    // A value the site files hold where a secret belongs (a literal BGP
    // password, a password in a repo URI) is masked like in every snippet.
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&e) {
            Ok(s) => println!("{}", sources.scrub(&s)),
            Err(err) => return super::common::fail(err),
        },
        Format::Text => print!("{}", sources.scrub(&explain::to_text(&e))),
    }
    // Findings still matter: explain shows them but answers anyway.
    if project.diags.has_errors() {
        let list = project.diags.clone().sorted(sources);
        print_diagnostics(g, &list, sources, Format::Text);
        return Status::Findings;
    }
    Status::Ok
}

/// `interfaces.NAME.mtu` of an interface the node has but whose MTU no
/// site file sets: the MTU in effect (the largest of the networks whose
/// addresses it carries, else 1500) and where it comes from, instead of
/// "no value" — netplan, the switches and the state checks use it.
fn default_mtu(checked: &check::Checked, node: &str, path: &str) -> Option<String> {
    let iface = path.strip_prefix("interfaces.")?.strip_suffix(".mtu")?;
    let eff = checked.effective();
    let n = eff.nodes.iter().find(|n| n.name == node)?;
    let i = n.interfaces.iter().find(|i| i.name == iface)?;
    if i.decl.mtu.is_some() {
        return None;
    }
    let from_net = n
        .addresses
        .iter()
        .filter(|a| a.interface == Some(iface))
        .max_by_key(|a| a.mtu())
        .filter(|a| a.mtu() == i.mtu && a.net.is_some_and(|net| net.mtu.is_some()));
    Some(match from_net {
        Some(a) => format!(
            "{path} = {} (in effect: no site file sets it; the largest MTU of the networks its addresses are on, network `{}`)",
            i.mtu, a.network
        ),
        None => format!(
            "{path} = {} (in effect: the default; no site file sets it, and no network of its addresses sets an `mtu`)",
            i.mtu
        ),
    })
}

/// The error for a name `explain` has no node by: a switch's name says
/// what explain covers; a name close to a switch's suggests it as one;
/// anything else as [`unknown_node`].
fn unknown_name(project: &check::CheckedProject, name: &str, nodes: &[&str]) -> String {
    let switches: Vec<(&str, String)> = project
        .sites
        .iter()
        .flat_map(|c| {
            c.loaded.site.switches.iter().map(|s| {
                let at = c
                    .loaded
                    .sources
                    .get(s.name.span.file)
                    .map(|f| {
                        let (line, col) = f.line_col(s.name.span.start);
                        format!("{}:{line}:{col}", f.path)
                    })
                    .unwrap_or_default();
                (s.name.value.as_str(), at)
            })
        })
        .collect();
    let covers = "explain shows a node's settings as merged from the site defaults and its profiles, each with where it was set; a switch has no such layers, its settings are all in its `switch` block";
    if let Some((_, at)) = switches.iter().find(|(s, _)| *s == name) {
        return format!(
            "error: `{name}` is a switch, not a node (declared at {at})\n  hint: {covers}\n"
        );
    }
    let all: Vec<&str> = nodes
        .iter()
        .copied()
        .chain(switches.iter().map(|(s, _)| *s))
        .collect();
    if let Some(s) = did_you_mean(name, all.iter().copied()).filter(|s| !nodes.contains(s)) {
        return format!("error: no node named `{name}` (did you mean switch `{s}`? {covers})\n");
    }
    unknown_node(name, nodes, "node")
}

/// The error for a node name the site does not have, with the likeliest
/// meant name: the same name spelled almost the same, or the short name of
/// an FQDN (`r01n01.dc1.example.net` → `r01n01`); else how many nodes there
/// are and how to list them. Also used by `inventory --host`.
/// `what`: `node` (explain: nodes only) or `host` (the inventory: nodes
/// and switches).
pub(super) fn unknown_node(name: &str, names: &[&str], what: &str) -> String {
    let mut out = format!("error: no {what} named `{name}`");
    let short = name.split('.').next().unwrap_or(name);
    if short != name && names.iter().filter(|n| **n == short).count() > 1 {
        out.push_str(&format!(
            " (hosts of several sites are named `{short}`: give the FQDN of the one meant, as `siteconf inventory --list` prints it)\n"
        ));
    } else if short != name && names.contains(&short) {
        let how = if what == "host" {
            "`--host` takes a host's FQDN, as `--list` prints it, or its short name"
        } else {
            "nodes are named by their short host name"
        };
        out.push_str(&format!(" (did you mean `{short}`? {how})\n"));
    } else if let Some(s) = did_you_mean(name, names.iter().copied()) {
        out.push_str(&format!(" (did you mean `{s}`?)\n"));
    } else {
        out.push('\n');
        match names.first() {
            None => out.push_str(&format!("  hint: the site has no {what}s\n")),
            Some(first) => out.push_str(&format!(
                "  hint: the site has {} {what}{} (the first is `{first}`); `siteconf inventory --list` lists them\n",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
            )),
        }
    }
    out
}
