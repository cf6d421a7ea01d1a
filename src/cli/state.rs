//! `siteconf state`: compare the fleet as observed (LLDP, Ansible facts,
//! DHCP leases, BGP) with the fleet as declared, or print a node stub for
//! an unknown machine.

use std::path::{Path, PathBuf};

use super::common::{fail, print_diagnostics, Format, Global, Status};
use crate::check;
use crate::model::Mac;
use crate::source::FsSource;
use crate::state::{self, compare::Declared, html, input, report, stub};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any finding, warnings included (never seen, unknown machines).
    Warning,
    /// Only errors (drift, unreadable inputs).
    Error,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Inputs (each optional, at least one required):\n  --lldp DIR    `lldpcli -f json show neighbors details` (or -f json0), one <host>.json per node or switch\n  --facts DIR   Ansible fact cache (jsonfile plugin), one file per inventory host\n  --leases FILE Kea DHCPv4 memfile lease file (kea-leases4.csv)\n  --bgp DIR     FRR `vtysh -c 'show bgp summary json'`, one <host>.json per node or switch (a switch's summary is checked for its node sessions, its `link`s and its `bgp-peer`s, and the AS it runs)\n\nAge: a lease whose `expire` is before the lease file's newest client activity had lapsed when the file was written: it is not compared, and counted in the inputs line. A fact file gathered more than 7 days before the newest fact file is old (SC1022): the findings read from it say so; age alone is no finding (a rack a rolling maintenance has not reached yet). Ages are judged within the inputs, never against the clock.\n\nSkipped, not machines to declare: the project's other sites' hosts (a fact cache shared by the sites; counted in the inputs line), an LLDP neighbour on a switch's `bgp-peer` port (the transit router) or on its management port `eth0` (the OOB switch), the `localhost` fact file (the controller). A switch's fact file with network facts (`ansible_net_*`) is read for its hostname.\n\nExit codes: 0 no findings, 1 findings (see --fail-on), 2 usage error, unusable input path, or a site with errors."
)]
pub struct Args {
    /// Directory of LLDP neighbour dumps.
    #[arg(long, value_name = "DIR")]
    pub lldp: Option<PathBuf>,
    /// Directory of the Ansible fact cache.
    #[arg(long, value_name = "DIR")]
    pub facts: Option<PathBuf>,
    /// Kea DHCPv4 lease file.
    #[arg(long, value_name = "FILE")]
    pub leases: Option<PathBuf>,
    /// Directory of FRR BGP summaries.
    #[arg(long, value_name = "DIR")]
    pub bgp: Option<PathBuf>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the report as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print a node declaration (KDL) for the unknown machine with this MAC.
    #[arg(long, value_name = "MAC")]
    pub stub: Option<String>,
    /// Which findings make the exit status 1.
    #[arg(long, value_enum, default_value = "warning")]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub site: StateSite,
}

/// `--site NAME` as `state` takes it: observations belong to one cluster,
/// so a project of several sites needs it (not "default: all", as for
/// the other commands).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct StateSite {
    /// The site to compare what was observed with: required in a project
    /// of several sites (observations belong to one cluster).
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
}

/// Writes through a temporary file in the same directory, so a reader
/// never sees half a page (the one atomic-write helper).
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    crate::output::fs::write_file_atomic(path, text.as_bytes(), 0o644)
}

/// A path made absolute (from the current directory) without `.` and
/// `..`, with its existing part resolved as the file system sees it, so
/// that `./site/../site/site.kdl` and a link to the project are caught.
fn normalize(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    // Resolve the longest existing ancestor, keep the rest as written.
    let mut rest = Vec::new();
    let mut base = out.clone();
    loop {
        if let Ok(c) = base.canonicalize() {
            let mut r = c;
            for x in rest.iter().rev() {
                r.push(x);
            }
            return r;
        }
        match (base.file_name().map(|f| f.to_os_string()), base.parent()) {
            (Some(f), Some(parent)) => {
                rest.push(f);
                base = parent.to_path_buf();
            }
            _ => return out,
        }
    }
}

/// Why `--html PATH` must not be written: it is a file the project reads
/// (siteconf.toml, a lock file, the secrets file) or lies in a directory
/// of site files, shared definitions or templates. Writing the report
/// there would replace the site with an HTML page (and the next `check`
/// would fail on it, or a template would render it).
fn html_refused(root: &Path, config: &crate::project::Config, html: &Path) -> Option<String> {
    let target = normalize(html);
    let root = normalize(root);
    let mut files: Vec<(String, &str)> = vec![
        ("siteconf.toml".to_string(), "the project's configuration"),
        ("siteconf.lock".to_string(), "the lock file"),
        (config.lock_file.clone(), "the lock file"),
    ];
    if let Some(f) = &config.secrets.file {
        files.push((f.clone(), "the secrets file"));
    }
    let mut dirs: Vec<(String, &str)> = vec![
        (config.site_dir.clone(), "the site directory"),
        (config.templates_dir.clone(), "the templates directory"),
    ];
    if let Some(d) = &config.shared_dir {
        dirs.push((d.clone(), "the shared definitions directory"));
    }
    for sc in config.sites.values() {
        dirs.push((sc.dir.clone(), "a site's directory"));
        files.push((format!("{}/siteconf.lock", sc.dir), "a lock file"));
    }
    for (f, what) in files {
        if normalize(&root.join(&f)) == target {
            return Some(format!("it is {what} (`{f}`)"));
        }
    }
    for (d, what) in dirs {
        if d.is_empty() || d == "." {
            continue;
        }
        if target.starts_with(normalize(&root.join(&d))) {
            return Some(format!("it is inside {what} (`{d}`)"));
        }
    }
    None
}

pub fn run(g: &Global, args: Args) -> Status {
    let paths = input::InputPaths {
        lldp: args.lldp.clone(),
        facts: args.facts.clone(),
        leases: args.leases.clone(),
        bgp: args.bgp.clone(),
    };
    if paths.lldp.is_none()
        && paths.facts.is_none()
        && paths.leases.is_none()
        && paths.bgp.is_none()
    {
        return fail("give at least one input: --lldp DIR, --facts DIR, --leases FILE or --bgp DIR (see `siteconf state --help`)");
    }
    let stub_mac = match args.stub.as_deref().map(str::parse::<Mac>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => return fail(format!("--stub: {e}")),
    };
    let root = match g.project_root() {
        Ok(r) => r,
        Err(d) => return super::common::no_project(g, d, super::common::Format::Text),
    };
    let src = FsSource::new(&root);
    let mut project = check::check_project(&src, args.site.site.as_deref(), false);
    if project.diags.has_errors() || project.sites.is_empty() {
        let sources = project.sources().cloned().unwrap_or_default();
        let errors = project.diags.error_count();
        let list = project.diags.sorted(&sources);
        print_diagnostics(g, &list, &sources, Format::Text);
        return fail(format!(
            "the site has {errors} error(s); observed state is compared only with a site that passes `siteconf check`"
        ));
    }
    if project.sites.len() > 1 {
        let names: Vec<&str> = project
            .sites
            .iter()
            .filter_map(|c| c.loaded.config.site.as_deref())
            .collect();
        return fail(format!(
            "this project has several sites ({}): compare what was observed with one of them, `--site NAME`",
            names.join(", ")
        ));
    }
    let checked = project.sites.remove(0);
    let others = std::mem::take(&mut project.others);
    if let Some(html) = &args.html {
        if let Some(why) = html_refused(&root, &checked.loaded.config, html) {
            return fail(format!(
                "--html {}: {why}; siteconf reads that as project input, so the page would replace it or be read as a site file. Write the report elsewhere (e.g. `--html state.html`, or a path outside the project)",
                html.display()
            ));
        }
    }
    let loaded = &checked.loaded;
    let eff = checked.effective();
    // Leases of the declared fleet's MACs are all kept; of other clients
    // (a swapped NIC naming its node among them), a bounded number: a
    // lease file is written by the machines, and any client may call
    // itself by a node's name.
    let declared = Declared::new(&eff).with_others(&others);
    let known = |m: Mac, _host: Option<&str>| declared.mac_owner(m).is_some();
    let observed = match input::read_limited(&paths, &known) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let rep = state::run(loaded, &eff, &others, &observed);

    if let Some(mac) = stub_mac {
        return match stub::stub(&declared, &observed, &rep.unknown, &rep.node_macs, mac) {
            Ok(s) => {
                print!("{}", s.text);
                if !s.diags.is_empty() {
                    print_diagnostics(g, &s.diags, &rep.sources, Format::Text);
                }
                Status::Ok
            }
            Err(e) => fail(e),
        };
    }

    if let Some(path) = &args.html {
        let page = match html::render(&rep) {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        if let Err(e) = write_atomic(path, &page) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    }
    match args.format {
        Format::Text => print!("{}", report::render_text(&rep, g.color_stdout())),
        Format::Json => println!("{}", report::render_json(&rep)),
    }
    if let (Some(path), Format::Text) = (&args.html, args.format) {
        eprintln!("wrote {}", path.display());
    }
    let s = rep.summary();
    let failing = match args.fail_on {
        FailOn::Warning => s.errors + s.warnings,
        FailOn::Error => s.errors,
    };
    if failing > 0 {
        Status::Findings
    } else {
        Status::Ok
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_says_site_is_needed_with_several_sites() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli
            .find_subcommand_mut("state")
            .expect("state")
            .render_long_help()
            .to_string();
        let site = help
            .split("--site <NAME>")
            .nth(1)
            .expect("--site in the help");
        assert!(
            site.contains("required in a project of several sites"),
            "{help}"
        );
        assert!(!site.split("\n\n").next().unwrap().contains("default: all"));
    }
}
