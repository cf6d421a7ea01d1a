//! `--html FILE`: the report as one self-contained page — rack elevations
//! with every machine coloured by its state (ok, drift, never seen,
//! unknown on a port), and a table of findings that clicking a machine
//! filters. Inline CSS and JS only, no external resource, so the file can
//! be mailed, archived as a CI artifact or opened offline.
//!
//! The page is the minijinja template `report.html.j2` beside this file,
//! compiled into the binary (it is not one of the user-overridable
//! templates of `templates/`). This module only computes what the page
//! shows (which unit holds which device, in which state); the environment
//! HTML-escapes every value the template prints, with the same escaping
//! as the rack diagrams and index page ([`esc`]).

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::{report, NodeStatus, StateReport, UnknownMachine};
use crate::diag::Severity;

/// Escapes text for HTML content and attribute values (the same escaping
/// as the rack diagrams and index page).
pub use crate::render::site::filters::xml_escape as esc;

const TEMPLATE: &str = include_str!("report.html.j2");

#[derive(Serialize)]
struct Page<'a> {
    title: String,
    summary: String,
    inputs: String,
    errors: usize,
    warnings: usize,
    racks: Vec<Rack<'a>>,
    /// Unknown machines not seen on a declared switch.
    unracked: Vec<String>,
    findings: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct Rack<'a> {
    name: &'a str,
    room: Option<&'a str>,
    row: Option<&'a str>,
    height: u32,
    /// Top unit first, as racks are drawn.
    units: Vec<Unit<'a>>,
    /// Unknown machines on a switch of this rack.
    unknown: Vec<String>,
}

#[derive(Serialize)]
struct Unit<'a> {
    unit: u32,
    /// Grid row (1 = the top unit).
    row: u32,
    /// The device whose top unit this is.
    device: Option<Device<'a>>,
    /// Free (not covered by a device below): drawn as an empty slot.
    empty: bool,
}

#[derive(Serialize)]
struct Device<'a> {
    name: &'a str,
    class: &'static str,
    state: &'static str,
    position: u32,
    /// Units it spans.
    span: u32,
}

#[derive(Serialize)]
struct Row<'a> {
    severity: &'static str,
    code: &'static str,
    name: &'static str,
    node: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    location: String,
}

fn unknown_line(u: &UnknownMachine) -> String {
    let id = u
        .macs
        .first()
        .cloned()
        .or_else(|| u.hostnames.first().cloned())
        .unwrap_or_default();
    match u.location() {
        Some(l) => format!("? {id} on {l}"),
        None => format!("? {id}"),
    }
}

/// The page's data.
fn page(r: &StateReport) -> Page<'_> {
    let s = r.summary();
    let status: BTreeMap<&str, NodeStatus> = r
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.status))
        .collect();
    let switch_seen: BTreeMap<&str, bool> = r
        .switches
        .iter()
        .map(|x| (x.name.as_str(), x.seen))
        .collect();
    // Unknown machines by the rack of their switch.
    let mut unknown_by_rack: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut unracked = Vec::new();
    for u in &r.unknown {
        match &u.rack {
            Some(rk) => unknown_by_rack
                .entry(rk.as_str())
                .or_default()
                .push(unknown_line(u)),
            None => unracked.push(unknown_line(u)),
        }
    }
    let racks = r
        .racks
        .iter()
        .map(|rack| {
            let h = rack.height.max(1);
            let mut covered = vec![false; h as usize + 1];
            let mut units = Vec::with_capacity(h as usize);
            for unit in (1..=h).rev() {
                let row = h - unit + 1;
                if covered[unit as usize] {
                    units.push(Unit {
                        unit,
                        row,
                        device: None,
                        empty: false,
                    });
                    continue;
                }
                let dev = rack.devices.iter().find(|d| {
                    let top = d.position + d.height.max(1) - 1;
                    d.position <= unit && unit <= top && top.min(h) == unit
                });
                let device = dev.map(|d| {
                    for u in d.position..=unit {
                        if let Some(c) = covered.get_mut(u as usize) {
                            *c = true;
                        }
                    }
                    let (class, state) = if d.kind == "switch" {
                        if switch_seen.get(d.name.as_str()).copied().unwrap_or(false) {
                            ("switch", "switch")
                        } else {
                            ("switch unseen", "switch, not seen")
                        }
                    } else {
                        let st = status
                            .get(d.name.as_str())
                            .copied()
                            .unwrap_or(NodeStatus::NeverSeen);
                        (st.as_str(), st.as_str())
                    };
                    Device {
                        name: &d.name,
                        class,
                        state,
                        position: d.position,
                        span: (unit + 1).saturating_sub(d.position).max(1),
                    }
                });
                units.push(Unit {
                    unit,
                    row,
                    empty: device.is_none(),
                    device,
                });
            }
            Rack {
                name: &rack.name,
                room: rack.room.as_deref(),
                row: rack.row.as_deref(),
                height: h,
                units,
                unknown: unknown_by_rack
                    .remove(rack.name.as_str())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let findings = r
        .findings
        .iter()
        .map(|f| {
            let d = &f.diag;
            let span = d.primary_span();
            Row {
                severity: match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                code: d.code.as_str(),
                name: d.code.name(),
                node: f.node.as_deref().unwrap_or(""),
                message: &d.message,
                help: d.help.as_deref(),
                location: if span.is_builtin() {
                    String::new()
                } else {
                    r.sources.locate(span)
                },
            }
        })
        .collect();
    Page {
        title: format!("siteconf state — {}", r.site),
        summary: report::summary_line(&s),
        inputs: report::inputs_line(r),
        errors: s.errors,
        warnings: s.warnings,
        racks,
        unracked,
        findings,
    }
}

/// The environment the page renders in: strict about undefined values,
/// every printed value HTML-escaped with [`esc`].
fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(|out, state, value: &Value| {
        if value.is_safe() || !matches!(state.auto_escape(), AutoEscape::Html) {
            return minijinja::escape_formatter(out, state, value);
        }
        if value.is_none() {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "printing none",
            ));
        }
        out.write_str(&esc(&value.to_string()))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write"))
    });
    env.add_template("report.html.j2", TEMPLATE)?;
    Ok(env)
}

/// The page. Fails only if the built-in template is broken (a bug, which
/// the tests catch), never because of what the report holds.
pub fn render(r: &StateReport) -> Result<String, String> {
    let env = environment().map_err(|e| format!("the state page template: {e:#}"))?;
    let tmpl = env
        .get_template("report.html.j2")
        .map_err(|e| format!("the state page template: {e:#}"))?;
    tmpl.render(minijinja::value::Serde(page(r)))
        .map_err(|e| format!("rendering the state page: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_template_compiles() {
        assert!(environment().is_ok());
    }
}
