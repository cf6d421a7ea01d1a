//! `--html FILE`: the report as one self-contained page — rack elevations
//! with every machine coloured by its state (ok, drift, never seen,
//! unknown on a port), and a table of findings that clicking a machine
//! filters. Inline CSS and JS only, no external resource, so the file can
//! be mailed, archived as a CI artifact or opened offline.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{report, NodeStatus, StateReport, UnknownMachine};
use crate::diag::Severity;

/// Escapes text for HTML content and attribute values (the same escaping
/// as the rack diagrams and index page).
pub use crate::render::site::filters::xml_escape as esc;

const CSS: &str = r#"
:root { --ok:#2e9d5b; --drift:#d9822b; --never:#9aa3ad; --unknown:#8e44ad; --switch:#3b6ea8; --err:#c0392b; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d232a; background: #f4f6f8; }
header { background: #1d232a; color: #fff; padding: 14px 24px; }
header h1 { margin: 0 0 6px; font-size: 20px; }
header .summary { font-size: 16px; }
header .inputs { color: #b8c2cc; font-size: 13px; }
main { padding: 16px 24px; }
.legend span { display: inline-block; margin-right: 14px; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.racks { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; margin: 14px 0 24px; }
.rack { background: #fff; border: 1px solid #cdd5dd; border-radius: 6px; padding: 8px; width: 210px; }
.rack h2 { font-size: 15px; margin: 0 0 6px; }
.rack .meta { color: #6b7782; font-size: 12px; }
.units { display: grid; grid-template-columns: 22px 1fr; gap: 1px 4px; background: #fff; }
.u { font-size: 9px; color: #8a949e; text-align: right; line-height: 13px; }
.slot { background: repeating-linear-gradient(45deg, #eef1f4, #eef1f4 3px, #f7f8fa 3px, #f7f8fa 6px); min-height: 13px; }
.dev { min-height: 13px; border-radius: 2px; color: #fff; font-size: 10px; line-height: 13px; padding: 0 4px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; cursor: pointer; }
.dev.ok { background: var(--ok); } .dev.drift { background: var(--drift); } .dev.never-seen { background: var(--never); }
.dev.switch { background: var(--switch); } .dev.switch.unseen { background: #8da4bf; }
.dev.selected { outline: 2px solid #1d232a; outline-offset: 1px; }
.unk { margin-top: 6px; font-size: 11px; }
.unk div { background: var(--unknown); color: #fff; border-radius: 3px; padding: 1px 4px; margin-top: 2px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e8ed; vertical-align: top; }
th { background: #e9edf1; position: sticky; top: 0; }
td.code { font-family: ui-monospace, monospace; white-space: nowrap; }
.sev-error { color: var(--err); font-weight: 600; } .sev-warning { color: #a66a00; font-weight: 600; }
.tools { margin: 8px 0; } .tools input { padding: 4px 8px; width: 320px; }
.muted { color: #6b7782; }
"#;

const JS: &str = r#"
(function () {
  var filter = document.getElementById('filter');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#findings tbody tr'));
  var count = document.getElementById('shown');
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (r) {
      var show = q === '' || r.textContent.toLowerCase().indexOf(q) >= 0;
      r.style.display = show ? '' : 'none';
      if (show) { n += 1; }
    });
    count.textContent = String(n);
  }
  filter.addEventListener('input', apply);
  Array.prototype.forEach.call(document.querySelectorAll('.dev[data-name]'), function (d) {
    d.addEventListener('click', function () {
      Array.prototype.forEach.call(document.querySelectorAll('.dev.selected'), function (s) { s.classList.remove('selected'); });
      d.classList.add('selected');
      filter.value = d.getAttribute('data-name');
      apply();
    });
  });
  apply();
  // Marks the page as fully scripted (tests read it from the DOM).
  document.documentElement.setAttribute('data-ready', 'yes');
})();
"#;

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

/// The page.
pub fn render(r: &StateReport) -> String {
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
    let mut out = String::new();
    let title = format!("siteconf state — {}", r.site);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><div class=\"summary\" id=\"summary\">{}</div><div class=\"inputs\">{}; {} error(s), {} warning(s)</div></header>\n<main>\n",
        esc(&title),
        esc(&report::summary_line(&s)),
        esc(&report::inputs_line(r)),
        s.errors,
        s.warnings
    );
    out.push_str("<div class=\"legend\"><span><i class=\"sw\" style=\"background:var(--ok)\"></i>ok</span><span><i class=\"sw\" style=\"background:var(--drift)\"></i>drift</span><span><i class=\"sw\" style=\"background:var(--never)\"></i>never seen</span><span><i class=\"sw\" style=\"background:var(--unknown)\"></i>unknown machine on a port</span><span><i class=\"sw\" style=\"background:var(--switch)\"></i>switch</span></div>\n");

    // Unknown machines by the rack of their switch.
    let mut unknown_by_rack: BTreeMap<&str, Vec<&UnknownMachine>> = BTreeMap::new();
    let mut unracked = Vec::new();
    for u in &r.unknown {
        match &u.rack {
            Some(rk) => unknown_by_rack.entry(rk.as_str()).or_default().push(u),
            None => unracked.push(u),
        }
    }
    out.push_str("<section class=\"racks\" id=\"racks\">\n");
    for rack in &r.racks {
        let h = rack.height.max(1);
        let _ = write!(
            out,
            "<div class=\"rack\" data-rack=\"{0}\"><h2>{0}</h2><div class=\"meta\">{1}U{2}</div><div class=\"units\" style=\"grid-template-rows: repeat({h}, auto)\">",
            esc(&rack.name),
            h,
            match (&rack.room, &rack.row) {
                (Some(a), Some(b)) => format!(" · room {} row {}", esc(a), esc(b)),
                (Some(a), None) => format!(" · room {}", esc(a)),
                _ => String::new(),
            }
        );
        // Top unit first, as racks are drawn.
        let mut covered = vec![false; h as usize + 1];
        for unit in (1..=h).rev() {
            let row = h - unit + 1;
            let _ = write!(
                out,
                "<div class=\"u\" style=\"grid-row:{row};grid-column:1\">{unit}</div>"
            );
            if covered[unit as usize] {
                continue;
            }
            let dev = rack.devices.iter().find(|d| {
                let top = d.position + d.height.max(1) - 1;
                d.position <= unit && unit <= top && top.min(h) == unit
            });
            match dev {
                Some(d) => {
                    let span = (unit + 1).saturating_sub(d.position).max(1);
                    for u in d.position..=unit {
                        if let Some(c) = covered.get_mut(u as usize) {
                            *c = true;
                        }
                    }
                    let (class, state) = if d.kind == "switch" {
                        if switch_seen.get(d.name.as_str()).copied().unwrap_or(false) {
                            ("switch".to_string(), "switch")
                        } else {
                            ("switch unseen".to_string(), "switch, not seen")
                        }
                    } else {
                        let st = status
                            .get(d.name.as_str())
                            .copied()
                            .unwrap_or(NodeStatus::NeverSeen);
                        (st.as_str().to_string(), st.as_str())
                    };
                    let _ = write!(
                        out,
                        "<div class=\"dev {class}\" data-name=\"{n}\" data-state=\"{state}\" title=\"{n} (U{p}, {state})\" style=\"grid-row:{row} / span {span};grid-column:2\">{n}</div>",
                        n = esc(&d.name),
                        p = d.position,
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<div class=\"slot\" style=\"grid-row:{row};grid-column:2\"></div>"
                    );
                }
            }
        }
        out.push_str("</div>");
        if let Some(list) = unknown_by_rack.get(rack.name.as_str()) {
            out.push_str("<div class=\"unk\">");
            for u in list {
                let _ = write!(
                    out,
                    "<div class=\"unknown\">{}</div>",
                    esc(&unknown_line(u))
                );
            }
            out.push_str("</div>");
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
    if !unracked.is_empty() {
        out.push_str("<h2>Unknown machines not seen on a declared switch</h2><div class=\"unk\" id=\"unracked\">");
        for u in unracked {
            let _ = write!(
                out,
                "<div class=\"unknown\">{}</div>",
                esc(&unknown_line(u))
            );
        }
        out.push_str("</div>\n");
    }

    let _ = writeln!(
        out,
        "<h2>Findings</h2><div class=\"tools\"><input id=\"filter\" type=\"search\" placeholder=\"filter: node, code, text… (or click a machine)\"> <span class=\"muted\"><span id=\"shown\">{}</span> of {} shown</span></div>",
        r.findings.len(),
        r.findings.len()
    );
    out.push_str("<table id=\"findings\"><thead><tr><th>severity</th><th>code</th><th>node</th><th>finding</th><th>where</th></tr></thead><tbody>\n");
    for f in &r.findings {
        let d = &f.diag;
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let span = d.primary_span();
        let loc = if span.is_builtin() {
            String::new()
        } else {
            r.sources.locate(span)
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"sev-{sev}\">{sev}</td><td class=\"code\">{} {}</td><td>{}</td><td>{}{}</td><td class=\"code\">{}</td></tr>",
            d.code.as_str(),
            esc(d.code.name()),
            esc(f.node.as_deref().unwrap_or("")),
            esc(&d.message),
            d.help
                .as_deref()
                .map(|h| format!("<br><span class=\"muted\">{}</span>", esc(h)))
                .unwrap_or_default(),
            esc(&loc)
        );
    }
    out.push_str("</tbody></table>\n</main>\n");
    let _ = write!(out, "<script>{JS}</script>\n</body>\n</html>\n");
    out
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
}
