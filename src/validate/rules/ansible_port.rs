//! Rule `ansible-port`: an `ansible_port` in `vars` that is not the port
//! the node's sshd listens on.
//!
//! **What it does.** Warns (SC0068) when a node's `ansible_port` (or its
//! old spelling `ansible_ssh_port`, which wins over `ansible_port` wherever
//! each is set: Ansible's ssh connection keeps the last of its variables
//! defined) — from
//! its own vars, a profile's or the site defaults' (host_vars), or the
//! vars of a group it is in (its `groups`, their parents, `all`) — is a
//! number other than the port its sshd listens on (the port of the first
//! `listen-address` that has one, else the first `port`; see
//! `sshd_options::sshd_port`), or 22, sshd's default, when its `sshd`
//! names no port (an image that moves sshd should say so in `sshd`). A
//! value that is not a number (a Jinja expression) is not judged, nor one
//! of the other ports sshd listens on (`port 22 2222`, or a
//! `listen-address` of its own port).
//!
//! **Why it matters.** siteconf writes `ansible_port` into hosts.yml from
//! the sshd settings, but only when no `vars` set it: the operator's value
//! wins. When it names another port, Ansible connects there and is
//! refused, on every node the vars reach.
//!
//! **Example.**
//! ```kdl
//! profile base { sshd { port 2222 }; vars { ansible_port 22 } }   // SC0068
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use super::sshd_options::{sshd_port, value_lines};
use super::PerNode;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{group_name, sshd_keyword};

pub static RULE: Rule = Rule {
    name: "ansible-port",
    codes: &[Code::AnsiblePortDiffers],
    check,
    resolved: true,
};

const ANSIBLE_PORT: &str = "ansible_port";
const ANSIBLE_SSH_PORT: &str = "ansible_ssh_port";

/// A port in `vars`: a number, or a string of digits.
fn as_port(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Every port sshd listens on, as sshd reads its lines: a `ListenAddress`
/// with a port listens there, one without on every `Port`; without
/// `ListenAddress`, every `Port`; without `Port`, 22.
fn sshd_ports(lines: &[(String, String)]) -> BTreeSet<u64> {
    let value = |v: &str| v.trim().trim_matches(['"', '\'']).to_string();
    let mut ports: BTreeSet<u64> = lines
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Port"))
        .filter_map(|(_, v)| value(v).parse().ok())
        .collect();
    if ports.is_empty() {
        ports.insert(22);
    }
    let listen: Vec<String> = lines
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("ListenAddress"))
        .map(|(_, v)| value(v))
        .collect();
    if listen.is_empty() {
        return ports;
    }
    let mut out = BTreeSet::new();
    for l in listen {
        let addr = l.split_whitespace().next().unwrap_or("");
        let p = match addr.strip_prefix('[') {
            Some(rest) => rest.split_once("]:").map(|(_, p)| p),
            None if addr.matches(':').count() == 1 => addr.split_once(':').map(|(_, p)| p),
            None => None,
        };
        match p.and_then(|p| p.parse().ok()) {
            Some(p) => {
                out.insert(p);
            }
            None => out.extend(ports.iter().copied()),
        }
    }
    out
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let groups = &cx.site.groups;
    let mut found = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.value.as_str();
        let lines: Vec<(String, String)> = rn
            .settings
            .sshd
            .iter()
            .flat_map(|o| {
                let k = sshd_keyword(&o.key.value);
                value_lines(&k, &o.value.value)
                    .into_iter()
                    .map(move |l| (k.clone(), l))
            })
            .collect();
        // Without a port in the drop-in, sshd listens on its default, 22
        // (Debian's sshd_config sets none either); an image that moves it
        // should say so in `sshd`, where siteconf can see it.
        let declared = sshd_port(lines.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let port = declared.unwrap_or(22);
        let listening = sshd_ports(&lines);
        // The groups the node is in: its own, `all`, and their parents to
        // any depth.
        let mine = crate::resolve::effective::with_parent_groups(
            cx.site,
            rn.settings
                .groups
                .iter()
                .map(|g| group_name(&g.value))
                .collect(),
        );
        // The operator's value of `var`: host_vars first, then the groups.
        let setting = |var: &'static str| {
            rn.settings
                .vars
                .entries
                .get(var)
                .map(|(v, span)| (var, v, *span, "the node's vars".to_string()))
                .or_else(|| {
                    groups
                        .iter()
                        .filter(|g| mine.contains(&group_name(&g.name.value)))
                        .find_map(|g| {
                            g.vars.entries.get(var).map(|(v, span)| {
                                (
                                    var,
                                    v,
                                    *span,
                                    format!("the vars of group `{}`", g.name.value),
                                )
                            })
                        })
                })
        };
        // Ansible's ssh connection reads `ansible_port`, then
        // `ansible_ssh_port`, and keeps the last one defined: the old
        // spelling wins wherever it is set, even in a group's vars against
        // the `ansible_port` of hosts.yml.
        let set = setting(ANSIBLE_SSH_PORT).or_else(|| setting(ANSIBLE_PORT));
        let Some((var, value, span, owner)) = set else {
            continue;
        };
        let Some(theirs) = as_port(value) else {
            continue;
        };
        // sshd listens on every `port` (`port 22 2222`): any of them is
        // where Ansible may connect.
        if theirs == u64::from(port) || listening.contains(&theirs) {
            continue;
        }
        // `22`, or `22, 2222` when sshd listens on several; the message
        // says "the port …, 22" or "any of the ports … (22, 2222)".
        let ports = if listening.len() > 1 {
            listening
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            port.to_string()
        };
        let not_the_port = if listening.len() > 1 {
            format!("none of the ports sshd listens on ({ports})")
        } else {
            format!("not the port sshd listens on, {ports}")
        };
        let d = if declared.is_some() {
            Diagnostic::warning(
                Code::AnsiblePortDiffers,
                format!(
                    "`{var}` {theirs} (in {owner}) is {not_the_port}: Ansible connects to {theirs} and is refused"
                ),
            )
            .label(span, format!("sshd listens on {ports}"))
            .help(format!(
                "remove `{var}` (siteconf writes `ansible_port: {port}` from the sshd settings into hosts.yml when no vars set `ansible_port` or `ansible_ssh_port`), or set it to {port}"
            ))
        } else {
            Diagnostic::warning(
                Code::AnsiblePortDiffers,
                format!(
                    "`{var}` {theirs} (in {owner}) is not the port sshd listens on, its default 22 (the node's `sshd` sets no `port`): Ansible connects to {theirs} and is refused"
                ),
            )
            .label(span, "sshd listens on 22 (no `port` in `sshd`)")
            .help(format!(
                "remove `{var}`; if the nodes' sshd really listens on {theirs} (set by the image), declare it, `sshd {{ port {theirs} }}`, so the drop-in and hosts.yml say so"
            ))
        };
        found.push(name, d);
    }
    found.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(sshd: &str, vars: &str, group: &str) -> String {
        format!(
            "site s {{ domain \"s.example\" }}
network mgmt {{ purpose management; ipv4 \"10.0.1.0/24\" }}
rack r01 {{ }}
group fleet {{ vars {{ {group} }} }}
node n1 {{ rack r01; position 1; groups fleet; sshd {{ {sshd} }}; vars {{ {vars} }}; address mgmt ipv4=\"10.0.1.5\" }}"
        )
    }

    fn found(sshd: &str, vars: &str, group: &str) -> Vec<&'static str> {
        codes(&site(sshd, vars, group))
            .into_iter()
            .filter(|c| *c == "SC0068")
            .collect()
    }

    #[test]
    fn the_port_of_the_vars_against_sshd() {
        assert_eq!(found("port 2222", "ansible_port 22", "x 1"), ["SC0068"]);
        assert!(found("port 2222", "ansible_port 2222", "x 1").is_empty());
        assert!(found("port 2222", "ansible_port \"2222\"", "x 1").is_empty());
        assert_eq!(found("port 2222", "x 1", "ansible_port 22"), ["SC0068"]);
        assert_eq!(found("port 22", "ansible_port 2222", "x 1"), ["SC0068"]);
        // No port in the drop-in: sshd's default, 22 (from a group too).
        assert_eq!(
            found("permit-root-login no", "ansible_port 2222", "x 1"),
            ["SC0068"]
        );
        assert_eq!(
            found("permit-root-login no", "x 1", "ansible_port 2222"),
            ["SC0068"]
        );
        assert!(found("permit-root-login no", "x 1", "ansible_port 22").is_empty());
        assert!(found(
            "listen-address \"0.0.0.0:2200\"",
            "ansible_port 2200",
            "x 1"
        )
        .is_empty());
        assert!(found("port 2222", "ansible_port \"{{ p }}\"", "x 1").is_empty());
        // sshd listens on every port: any of them will do.
        assert!(found("port 22 2222", "ansible_port 2222", "x 1").is_empty());
        assert!(found("port 22 2222", "x 1", "ansible_port 22").is_empty());
        assert_eq!(
            found("port 22 2222", "ansible_port 2200", "x 1"),
            ["SC0068"]
        );
        assert!(found(
            "listen-address \"10.0.1.5:2200\" \"0.0.0.0\"",
            "ansible_port 22",
            "x 1"
        )
        .is_empty());
        // The node's own vars win over its groups'.
        assert!(found("port 2222", "ansible_port 2222", "ansible_port 22").is_empty());
        // The old spelling, and it wins over ansible_port at any level.
        assert_eq!(found("port 2222", "x 1", "ansible_ssh_port 22"), ["SC0068"]);
        assert_eq!(found("port 2222", "ansible_ssh_port 22", "x 1"), ["SC0068"]);
        assert_eq!(
            found("port 2222", "ansible_port 2222", "ansible_ssh_port 22"),
            ["SC0068"]
        );
        assert!(found("port 2222", "ansible_port 22", "ansible_ssh_port 2222").is_empty());
    }
}
