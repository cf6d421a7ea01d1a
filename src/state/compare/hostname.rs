//! Host names (SC1004): what the host says it is called (fact cache),
//! then what it announces over LLDP unless that is the same wrong name
//! again, against the declared name and FQDN.

use crate::diag::{Code, Diagnostic};

use super::{join_ev, Declared, NodeObs};

pub(super) fn check(d: &Declared, k: usize, o: &NodeObs, push: &mut impl FnMut(Diagnostic)) {
    let nv = &d.eff.nodes[k];
    let node = d.node(k);
    let name = nv.name;
    let eq = |a: &str, b: &str| a.trim_end_matches('.').eq_ignore_ascii_case(b);
    let mut reported: Vec<String> = Vec::new();
    if let Some(f) = o.facts {
        let bad_host = f.hostname.as_deref().filter(|h| !eq(h, name));
        let bad_fqdn = f.fqdn.as_deref().filter(|h| !eq(h, &nv.fqdn));
        let msg = match (bad_host, bad_fqdn) {
            (Some(h), Some(q)) => Some(format!("`{name}` reports hostname `{h}` and FQDN `{q}`")),
            (Some(h), None) => Some(format!("`{name}` reports hostname `{h}`")),
            (None, Some(q)) => Some(format!(
                "`{name}` reports FQDN `{q}`, declared `{}`",
                nv.fqdn
            )),
            (None, None) => None,
        };
        if let Some(msg) = msg {
            reported.extend(bad_host.into_iter().chain(bad_fqdn).map(str::to_string));
            push(
                Diagnostic::error(Code::StateHostnameMismatch, msg)
                    .label(node.name.span, format!("declared `{name}` (`{}`)", nv.fqdn))
                    .help(format!(
                        "per {}; the compiled hostname, hosts file and DNS zone say `{name}` / `{}`",
                        f.path, nv.fqdn
                    )),
            );
        }
    }
    for (s, ev) in &o.sysnames {
        if !eq(s, name) && !eq(s, &nv.fqdn) && !reported.iter().any(|r| eq(r, s)) {
            push(
                Diagnostic::error(
                    Code::StateHostnameMismatch,
                    format!("`{name}` announces itself over LLDP as `{s}`"),
                )
                .label(node.name.span, format!("declared `{name}`"))
                .help(format!("seen in {}", join_ev(ev))),
            );
        }
    }
}
