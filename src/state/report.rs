//! Rendering a [`StateReport`] for people (a summary line, then the
//! findings as the same graphical diagnostics `check` shows) and for
//! machines (one JSON document: summary, inputs, per-node status, findings,
//! unknown machines).

use serde_json::{json, Value};

use super::{StateReport, Summary};
use crate::diag::{self, ColorChoice};

/// `12 declared, 10 seen, 3 drifting, 1 unknown`
pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} declared, {} seen, {} drifting, {} unknown",
        s.declared, s.seen, s.drifting, s.unknown
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `inputs: 3 LLDP dumps, 2 fact files, 4 leases (6 rows), no BGP summaries`;
/// leases that had lapsed or were taken over are said in the parentheses.
pub fn inputs_line(r: &StateReport) -> String {
    let c = &r.counts;
    let mut rows = plural(c.lease_rows, "row", "rows");
    if c.lapsed_leases > 0 {
        rows.push_str(&format!(
            "; {} lapsed before the file was written, not compared",
            c.lapsed_leases
        ));
    }
    if c.displaced_leases > 0 {
        rows.push_str(&format!(
            "; {} of a node taken over by another client",
            c.displaced_leases
        ));
    }
    let mut s = format!(
        "inputs: {}, {}, {} ({rows}), {}",
        plural(c.lldp_files, "LLDP dump", "LLDP dumps"),
        plural(c.facts_files, "fact file", "fact files"),
        plural(c.leases, "lease", "leases"),
        plural(c.bgp_files, "BGP summary", "BGP summaries"),
    );
    if c.bad_files > 0 {
        s.push_str(&format!(
            "; {} could not be used",
            plural(c.bad_files, "file", "files")
        ));
    }
    // Shared inputs hold the project's other sites' hosts: skipped.
    if !r.other_sites.is_empty() {
        let each: Vec<String> = r
            .other_sites
            .iter()
            .map(|(site, n)| format!("{n} of site {site}"))
            .collect();
        s.push_str(&format!("; {}, not compared", each.join(", ")));
    }
    s
}

/// The whole human report.
pub fn render_text(r: &StateReport, color: ColorChoice) -> String {
    let s = r.summary();
    let mut out = String::new();
    out.push_str(&summary_line(&s));
    out.push('\n');
    out.push_str(&inputs_line(r));
    out.push('\n');
    if r.lock_stale {
        out.push_str(
            "note: siteconf.lock is not current; `auto` values were compared as `siteconf lock` would allocate them\n",
        );
    }
    if !r.findings.is_empty() {
        out.push('\n');
        out.push_str(&diag::render_human(&r.diagnostics(), &r.sources, color));
    }
    out.push_str(&format!(
        "state: {}, {}\n",
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings")
    ));
    out
}

/// The JSON document of `--format json`.
pub fn to_json(r: &StateReport) -> Value {
    let mut findings = diag::to_json(&r.diagnostics(), &r.sources);
    if let Value::Array(list) = &mut findings {
        for (v, f) in list.iter_mut().zip(&r.findings) {
            if let Value::Object(m) = v {
                m.insert("node".into(), json!(f.node));
                // An unknown machine seen in no site file (a lease, a
                // fact file): its finding names the input it was seen in.
                if f.diag.code == crate::diag::Code::StateUnknownMachine
                    && m.get("file").is_none_or(Value::is_null)
                {
                    let at = r
                        .unknown
                        .iter()
                        .find(|u| {
                            f.diag.message == format!("unknown machine {}", u.ident())
                                || f.diag
                                    .message
                                    .starts_with(&format!("unknown machine {} ", u.ident()))
                        })
                        .and_then(|u| u.first_seen());
                    if let Some((file, line)) = at {
                        m.insert("file".into(), json!(file));
                        m.insert("line".into(), json!(line));
                        m.insert("column".into(), json!(1));
                    }
                }
            }
        }
    }
    json!({
        "site": r.site,
        "summary": r.summary(),
        "inputs": r.counts,
        "other_sites": r.other_sites,
        "lock_stale": r.lock_stale,
        "nodes": r.nodes,
        "switches": r.switches,
        "unknown_machines": r.unknown,
        "findings": findings,
    })
}

pub fn render_json(r: &StateReport) -> String {
    serde_json::to_string_pretty(&to_json(r)).unwrap_or_else(|_| "{}".into())
}
