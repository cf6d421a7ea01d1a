//! Fleet state: the fleet as observed against the fleet as declared.
//!
//! ```text
//! input   (LLDP dumps, Ansible fact cache, Kea leases, FRR BGP summaries → typed observations)
//!   → compare (observations attributed to declared nodes / switches / unknown machines,
//!              each node checked against its compiled views)
//!   → report  (summary, findings as Diagnostics, JSON document, HTML page)
//!   | stub    (a node declaration for an unknown machine, ready to paste)
//! ```
//!
//! The declared side is a site that passed `check`; [`run`] takes it with
//! what was observed and returns a [`StateReport`]. Nothing here prints.

pub mod compare;
pub mod html;
pub mod input;
pub mod report;
pub mod stub;

use crate::diag::{Code, Diagnostic};
use crate::project::Loaded;
use crate::render::context::{rack_views, RackView};
use crate::resolve::effective::EffSite;
use crate::syntax::{SourceFile, SourceMap, Span};

pub use compare::{
    Comparison, Finding, NodeState, NodeStatus, SeenIn, SwitchState, UnknownMachine,
};
pub use input::{InputCounts, InputPaths, Observed};

/// Everything a state run found, ready to render.
#[derive(Debug, Clone)]
pub struct StateReport {
    pub site: String,
    pub nodes: Vec<NodeState>,
    pub switches: Vec<SwitchState>,
    pub racks: Vec<RackView>,
    pub unknown: Vec<UnknownMachine>,
    /// (MAC, node): MACs no interface declares that a lease naming the
    /// node came from (not unknown machines; `--stub` says whose).
    pub node_macs: Vec<(String, String)>,
    /// Every finding, sorted by (file, position, code, message).
    pub findings: Vec<Finding>,
    /// Site files plus the input files that findings point into.
    pub sources: SourceMap,
    pub counts: InputCounts,
    /// Input files and leases about the project's other sites' hosts
    /// (skipped, not compared), by site.
    pub other_sites: std::collections::BTreeMap<String, usize>,
    /// Allocations were compared as `siteconf lock` would make them,
    /// because siteconf.lock is not current.
    pub lock_stale: bool,
}

/// The counts of the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub declared: usize,
    pub seen: usize,
    pub drifting: usize,
    pub never_seen: usize,
    pub unknown: usize,
    pub errors: usize,
    pub warnings: usize,
    pub bad_inputs: usize,
}

impl StateReport {
    pub fn summary(&self) -> Summary {
        let count = |s: NodeStatus| self.nodes.iter().filter(|n| n.status == s).count();
        let (errors, warnings) = crate::diag::count(&self.diagnostics());
        Summary {
            declared: self.nodes.len(),
            seen: self.nodes.len() - count(NodeStatus::NeverSeen),
            drifting: count(NodeStatus::Drift),
            never_seen: count(NodeStatus::NeverSeen),
            unknown: self.unknown.len(),
            errors,
            warnings,
            bad_inputs: self
                .findings
                .iter()
                .filter(|f| f.diag.code == Code::StateInput)
                .count(),
        }
    }

    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.findings.iter().map(|f| f.diag.clone()).collect()
    }
}

/// Compares a checked site (`eff` is its effective site) with what was
/// observed.
/// `others` are the hosts of the project's other sites, which shared
/// inputs hold too: they are skipped and counted.
pub fn run(
    loaded: &Loaded,
    eff: &EffSite,
    others: &[crate::check::SiteHosts],
    observed: &Observed,
) -> StateReport {
    let resolved = eff.resolved;
    let declared = compare::Declared::new(eff).with_others(others);
    let cmp = compare::compare(&declared, observed);
    let mut sources = loaded.sources.clone();
    let mut findings = cmp.findings;
    findings.extend(input_findings(&mut sources, observed));
    sort_findings(&mut findings, &sources);
    let findings = cap_findings(findings);
    StateReport {
        site: loaded
            .site
            .site
            .as_ref()
            .map(|s| s.name.value.clone())
            .unwrap_or_default(),
        nodes: cmp.nodes,
        switches: cmp.switches,
        racks: rack_views(&loaded.site),
        unknown: cmp.unknown,
        node_macs: cmp.node_macs,
        findings,
        sources,
        counts: observed.counts,
        other_sites: cmp.other_sites,
        lock_stale: resolved.lock_changed,
    }
}

/// SC1008 for every input problem (SC1013 for a file larger than what is
/// kept); files that a problem points into join the source map (once
/// each) so the diagnostic shows the broken line.
fn input_findings(sources: &mut SourceMap, observed: &Observed) -> Vec<Finding> {
    let mut added: std::collections::BTreeMap<String, crate::syntax::FileId> = Default::default();
    let mut out = Vec::new();
    for p in &observed.problems {
        if p.truncated {
            out.push(Finding {
                node: None,
                diag: Diagnostic::warning(Code::StateInputLimit, format!("{}: {}", p.path, p.message))
                    .help("the file holds more than a fleet's worth of unknown clients (a DHCP flood, or a file that is not this site's): what was kept is reported; clean up the lease file or compare a current one"),
            });
            continue;
        }
        let mut d = Diagnostic::error(Code::StateInput, format!("{}: {}", p.path, p.message));
        // Every problem points into its file, so that the JSON report
        // names it (`file`, `line`): at the place found, else at the
        // start; a file that could not be read joins the map empty.
        let id = *added.entry(p.path.clone()).or_insert_with(|| {
            sources.add(SourceFile::new(
                p.path.clone(),
                p.text.clone().unwrap_or_default(),
            ))
        });
        d = match p.range {
            Some((s, e)) => d.label(Span::new(id, s, e), "here"),
            None => d.label(Span::new(id, 0, 0), "in this file"),
        };
        d = d.help(if p.fatal {
            "this file was skipped; findings from the other files are still reported"
        } else {
            "the rest of this file was read"
        });
        out.push(Finding {
            node: None,
            diag: d,
        });
    }
    out
}

/// At most [`crate::diag::MAX_PER_CODE_PER_FILE`] findings of one code per
/// file (the file of the primary label; for findings without one, the
/// input they came from is not a source, so they share one budget), the
/// rest counted into one summary finding per (code, file), as `check`
/// does. `findings` is sorted, so the ones kept are the first.
fn cap_findings(findings: Vec<Finding>) -> Vec<Finding> {
    use crate::diag::MAX_PER_CODE_PER_FILE;
    let mut kept: std::collections::HashMap<(Code, crate::syntax::FileId), usize> =
        Default::default();
    let mut hidden: std::collections::BTreeMap<(Code, crate::syntax::FileId), (usize, Diagnostic)> =
        Default::default();
    let mut out = Vec::with_capacity(findings.len().min(4096));
    for f in findings {
        let key = (f.diag.code, f.diag.primary_span().file);
        let n = kept.entry(key).or_insert(0);
        if *n < MAX_PER_CODE_PER_FILE {
            *n += 1;
            out.push(f);
        } else {
            hidden.entry(key).or_insert((0, f.diag)).0 += 1;
        }
    }
    for ((code, _), (count, first)) in hidden {
        let mut d = Diagnostic::error(
            code,
            format!(
                "{count} more {} finding(s) are not shown: only the first {MAX_PER_CODE_PER_FILE} of a code are kept per file",
                code.as_str()
            ),
        )
        .help("the same drift is probably repeated: `--format json` lists the same; fix the ones shown, then compare again");
        d.severity = first.severity;
        d.hidden = count;
        let span = first.primary_span();
        if !span.is_builtin() {
            d = d.label(span, "the first one not shown");
        }
        out.push(Finding {
            node: None,
            diag: d,
        });
    }
    out
}

/// Sorts like `Diagnostics::sorted`: by file path, position, code, message.
fn sort_findings(findings: &mut [Finding], sources: &SourceMap) {
    findings.sort_by_cached_key(|f| {
        let s = f.diag.primary_span();
        let path = sources
            .get(s.file)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        (path, s.start, f.diag.code, f.diag.message.clone())
    });
}
