//! Rule `unknown-port`: cabling to a port the switch does not have.
//!
//! **What it does.** Reports (SC0203) a node interface whose `port` is not
//! one of its switch's `ports` (checked on resolved nodes, since `switch`
//! and `port` may be written in different layers), a switch link whose
//! local port or `peer-port` is not a port of its switch, and a routed
//! switch port (`interface swp50 address=…`) the switch does not have. The hint lists
//! the switch's port declarations.
//!
//! **Why it matters.** The port is what the switch configuration and the
//! LLDP comparison use; a port the switch does not have is a typo that
//! leaves the real port unconfigured.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { rack r01; position 42; ports "swp1-48"; }
//! node r01n01 { interface eno1 { switch r01-tor1; port swp49; } }   // SC0203
//! ```

use super::super::{Ctx, Rule};
use super::{closest, set_in, switch_index, FxSet, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Sp, Switch};

pub static RULE: Rule = Rule {
    name: "unknown-port",
    codes: &[Code::UnknownSwitchPort],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    // Port sets by switch index, so a check is two hash lookups.
    let ports: Vec<FxSet<&str>> = site
        .switches
        .iter()
        .map(|s| s.ports.iter().map(|p| p.as_str()).collect())
        .collect();
    let index_of = switch_index(site);
    let has = |sw: usize, port: &str| ports[sw].contains(port);
    if let Some(rs) = cx.resolved {
        let mut out = PerNode::new();
        for rn in &rs.nodes {
            let name = site.nodes[rn.index].name.as_str();
            for i in &rn.settings.interfaces {
                let (Some(sw), Some(port)) = (&i.switch, &i.port) else {
                    continue;
                };
                let Some(&si) = index_of.get(sw.as_str()) else {
                    continue;
                };
                if has(si, port) {
                    continue;
                }
                let sw = &site.switches[si];
                let note = set_in(rn, &format!("interfaces.{}.port", i.name.value));
                out.push(
                    name,
                    finding(
                        cx,
                        sw,
                        port,
                        format!("interface `{}` is cabled to", i.name.value),
                        &note,
                    ),
                );
            }
        }
        out.finish(diags);
    }
    for (si, sw) in site.switches.iter().enumerate() {
        for i in &sw.interfaces {
            if !has(si, &i.port) {
                diags.push(finding(
                    cx,
                    sw,
                    &i.port,
                    "an interface address is declared on".to_string(),
                    "",
                ));
            }
        }
        for l in &sw.links {
            if !has(si, &l.port) {
                diags.push(finding(
                    cx,
                    sw,
                    &l.port,
                    "a link is declared on".to_string(),
                    "",
                ));
            }
            if let Some(&pi) = index_of.get(l.peer.as_str()) {
                let peer = &site.switches[pi];
                if !has(pi, &l.peer_port) {
                    diags.push(finding(
                        cx,
                        peer,
                        &l.peer_port,
                        format!("the link from `{}` {} goes to", sw.name.value, l.port.value),
                        "",
                    ));
                }
            }
        }
    }
}

fn finding(cx: &Ctx, sw: &Switch, port: &Sp<String>, what: String, note: &str) -> Diagnostic {
    // The declarations as written ("swp1-48"), not 48 expanded names.
    let mut decls: Vec<crate::syntax::Span> = sw.ports.iter().map(|p| p.span).collect();
    decls.dedup();
    let written: Vec<String> = decls
        .iter()
        .map(|s| cx.sources.text(*s).to_string())
        .collect();
    // A near miss ("SWP1", "sw1") is worth naming; a port number past the
    // end ("swp49" for swp1-48) would only suggest another wrong port.
    let near = closest(port, sw.ports.iter().map(|p| p.as_str()))
        .filter(|s| trailing_digits(s) == trailing_digits(port));
    let help = match near {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "switch `{}` declares ports {}",
            sw.name.value,
            written.join(" ")
        ),
    };
    let mut d = Diagnostic::error(
        Code::UnknownSwitchPort,
        format!(
            "{what} port `{}` of switch `{}`, which has no such port{note}",
            port.value, sw.name.value
        ),
    )
    .label(port.span, "no such port");
    if let Some(first) = decls.first() {
        d = d.label(*first, format!("the ports of `{}`", sw.name.value));
    }
    d.help(help)
}

fn trailing_digits(s: &str) -> &str {
    let cut = s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    &s[cut..]
}
