//! Rule `ansible-connection-vars`: connection variables in `vars` that
//! take plays off the nodes or off root.
//!
//! **What it does.** Warns (SC0087) about, as a top-level key of `vars`
//! of the site defaults, a profile, a node, a switch or a group:
//!
//! - `ansible_connection` with a value other than an SSH connection
//!   (`ssh`, `smart`, `paramiko`, their `ansible.builtin.` names): `local`,
//!   `docker`, `winrm` …;
//! - `ansible_become` (or its old spelling `ansible_sudo`) false (`#false`,
//!   `"no"`, `"false"`, `"off"`, `0`).
//!
//! A Jinja expression (`"{{ … }}"`) is not judged.
//!
//! `ansible_connection local` in a node's own `vars` (or in a profile
//! only that node uses, a group only it joins, or the defaults of a
//! one-node site) is accepted: that is the deploy host managing itself
//! (kolla-ansible's pattern), where running on the controller is the
//! point. It is reported where it reaches several nodes (a group, the
//! defaults, a shared profile): all of them would run on one machine.
//! `ansible_become` false is reported everywhere but beside `ansible_user
//! root` in the same `vars`: a login as root needs no become.
//!
//! Vars that reach switches only (a switch's own, or a group the inventory
//! fills with switches alone: `switches`, `role_<a switch role>`, or a
//! group whose children are all such) are judged as a network device's:
//! the network connections (`network_cli`, `netconf`, `httpapi`, the
//! plugins `network-os` platforms use) are what they are for, and
//! `ansible_become` false only leaves out enable mode, so it is not
//! reported. Vars that reach nodes only (the site defaults, a profile, a
//! node) with a network connection are reported: a Linux node has no
//! `ansible_network_os`, and every play fails on it.
//!
//! **Why it matters.** siteconf's inventory is for hosts reached over SSH
//! as the automation user, with root through `become`. Inventory variables
//! outrank a play's keywords (Ansible's variable precedence): with
//! `ansible_connection local` every play for the hosts that get the vars
//! runs on the controller — a `reboot` or a package upgrade hits the
//! Ansible host, once per node, while the nodes are never touched; with
//! `ansible_become` false a play's `become: true` is overridden and every
//! root task fails with "Permission denied".
//!
//! **Example.**
//! ```kdl
//! group compute { vars { ansible_connection local; } }   // SC0087
//! node r01n01 { vars { ansible_become #false; } }         // SC0087
//! ```

use std::collections::BTreeSet;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{group_name, SWITCHES_GROUP};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "ansible-connection-vars",
    codes: &[Code::AnsibleConnectionVar],
    check,
    // Resolved: a group is judged by the nodes that join it (their merged
    // `groups`), a deploy host's own group being accepted.
    resolved: true,
};

/// Connection plugins that reach the host over SSH.
const SSH: &[&str] = &[
    "ssh",
    "smart",
    "paramiko",
    "paramiko_ssh",
    "ansible.builtin.ssh",
    "ansible.builtin.paramiko_ssh",
    "ansible.netcommon.network_cli",
    "ansible.netcommon.netconf",
    "network_cli",
    "netconf",
];

/// Connection plugins for network devices: right for switches, a failure
/// on a node (no `ansible_network_os`).
const NETWORK: &[&str] = &[
    "network_cli",
    "netconf",
    "httpapi",
    "ansible.netcommon.network_cli",
    "ansible.netcommon.netconf",
    "ansible.netcommon.httpapi",
];

/// Who a `vars` owner's variables reach.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    Nodes,
    Switches,
    Either,
}

/// Whether the inventory group `name` (declared groups' children followed)
/// holds switches only: `switches`, `role_<r>` for a role of switches and
/// of no node, or a declared group whose children all are such.
fn switches_only(cx: &Ctx, name: &str, depth: usize) -> bool {
    let site = cx.site;
    let inv = group_name(name);
    if inv == SWITCHES_GROUP {
        return true;
    }
    if let Some(role) = inv.strip_prefix("role_") {
        let switch_role = site.switches.iter().any(|s| s.role.value.as_str() == role);
        let node_role = site.nodes.iter().any(|n| {
            n.role
                .as_ref()
                .is_some_and(|r| group_name(&r.value) == role)
        });
        return switch_role && !node_role;
    }
    // Nodes may join a declared group by name; then it is not switches only.
    let joined =
        super::layers(site).any(|(_, s)| s.groups.iter().any(|g| group_name(&g.value) == inv));
    if joined || depth > 8 {
        return false;
    }
    let children: Vec<&Sp<String>> = site
        .groups
        .iter()
        .filter(|g| group_name(&g.name.value) == inv)
        .flat_map(|g| &g.children)
        .collect();
    !children.is_empty()
        && children
            .iter()
            .all(|c| switches_only(cx, &c.value, depth + 1))
}

/// A value Ansible reads as false (its `boolean` filter's words).
fn is_false(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0" | "n" | "f"
        ),
        _ => false,
    }
}

fn templated(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(crate::model::names::ansible_templated)
}

/// Whether the vars of `owner` (as `inventory_vars::owners` names it)
/// reach one node at most: the node's own, a profile only one node names
/// (and no profile includes), the defaults of a site of
/// one node.
fn one_node(cx: &Ctx, owner: &str) -> bool {
    let site = cx.site;
    if owner.starts_with("node `") {
        return true;
    }
    if owner == super::LayerName::Defaults.to_string() {
        return site.nodes.len() <= 1;
    }
    if let Some(g) = owner
        .strip_prefix("group `")
        .and_then(|g| g.strip_suffix('`'))
    {
        return group_nodes(cx, g) <= 1;
    }
    let Some(p) = owner
        .strip_prefix("profile `")
        .and_then(|p| p.strip_suffix('`'))
    else {
        return false;
    };
    let included = site
        .profiles
        .iter()
        .any(|q| q.includes.iter().any(|i| i.value == p));
    let users = site
        .nodes
        .iter()
        .filter(|n| n.profiles.iter().any(|i| i.value == p))
        .count();
    !included && users <= 1
}

/// How many nodes a declared group reaches: those that join it, or one of
/// its children (to any depth), by name in their merged `groups`. A group
/// that switches reach (by a switch role's or the switches' group) is never
/// a deploy host's own: counted as many.
fn group_nodes(cx: &Ctx, name: &str) -> usize {
    let site = cx.site;
    let Some(rs) = cx.resolved else {
        return usize::MAX;
    };
    if !switches_only(cx, name, 0) && switch_reaches(cx, name, 0) {
        return usize::MAX;
    }
    // The group and its descendants, by inventory name.
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut todo = vec![group_name(name)];
    while let Some(g) = todo.pop() {
        if names.len() > 256 || !names.insert(g.clone()) {
            continue;
        }
        todo.extend(
            site.groups
                .iter()
                .filter(|x| group_name(&x.name.value) == g)
                .flat_map(|x| &x.children)
                .map(|c| group_name(&c.value)),
        );
    }
    rs.nodes
        .iter()
        .filter(|rn| {
            rn.settings
                .groups
                .iter()
                .any(|g| names.contains(&group_name(&g.value)))
        })
        .count()
}

/// Whether switches reach the declared group `name` (the switches' group,
/// a switch role's, or through a child).
fn switch_reaches(cx: &Ctx, name: &str, depth: usize) -> bool {
    let inv = group_name(name);
    if inv == SWITCHES_GROUP {
        return true;
    }
    if let Some(role) = inv.strip_prefix("role_") {
        return cx
            .site
            .switches
            .iter()
            .any(|s| s.role.value.as_str() == role);
    }
    depth < 8
        && cx
            .site
            .groups
            .iter()
            .filter(|g| group_name(&g.name.value) == inv)
            .flat_map(|g| &g.children)
            .any(|c| switch_reaches(cx, &c.value, depth + 1))
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let groups: BTreeSet<&str> = cx.site.groups.iter().map(|g| g.name.as_str()).collect();
    for (owner, _, vars) in super::inventory_vars::owners(cx) {
        let kind = if owner.starts_with("switch ") {
            Reach::Switches
        } else if let Some(g) = owner
            .strip_prefix("group `")
            .and_then(|g| g.strip_suffix('`'))
            .filter(|g| groups.contains(g))
        {
            if switches_only(cx, g, 0) {
                Reach::Switches
            } else {
                Reach::Either
            }
        } else {
            Reach::Nodes
        };
        let reach = if owner.starts_with("group ") {
            "the group's hosts"
        } else {
            "the hosts that get these vars"
        };
        for name in ["ansible_connection"] {
            let Some((v, span)) = vars.entries.get(name) else {
                continue;
            };
            if templated(v) {
                continue;
            }
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let network = NETWORK.contains(&shown.trim());
            let fine = match kind {
                Reach::Switches => SSH.contains(&shown.trim()) || network,
                Reach::Either => SSH.contains(&shown.trim()),
                Reach::Nodes => SSH.contains(&shown.trim()) && !network,
            };
            // The deploy host managing itself.
            if fine || (shown.trim() == "local" && kind != Reach::Switches && one_node(cx, &owner))
            {
                continue;
            }
            let effect = if shown.trim() == "local" {
                format!("plays for {reach} run on the Ansible controller itself (a `reboot` or an upgrade hits the controller, once per host), and those hosts are never touched")
            } else if network {
                format!("Ansible reaches {reach}, Linux nodes, with the network-device plugin `{shown}`, which needs an `ansible_network_os` they do not have: every play fails on them")
            } else {
                format!("Ansible reaches {reach} with the `{shown}` connection plugin instead of SSH, and the plays fail or act elsewhere")
            };
            diags.push(
                Diagnostic::warning(
                    Code::AnsibleConnectionVar,
                    format!(
                        "variable `{name}` `{shown}` of {owner}: inventory variables outrank a play's `connection`, so {effect}"
                    ),
                )
                .label(*span, format!("`{shown}`: not SSH"))
                .help(if network {
                    format!("remove `{name}` here: nodes are reached over SSH at the address the inventory writes; a network connection belongs in the vars of switches (a switch's `vars`, or `group switches`)")
                } else if shown.trim() == "local" && kind != Reach::Switches {
                    format!("remove `{name}`: siteconf's inventory reaches every host over SSH at the address it writes; a play meant for the controller says `hosts: localhost` or `delegate_to: localhost`; a deploy host that manages itself sets `{name} local` in its own node's `vars`")
                } else {
                    format!("remove `{name}`: siteconf's inventory reaches every host over SSH at the address it writes; a play meant for the controller says `hosts: localhost` or `delegate_to: localhost`")
                }),
            );
        }
        for name in ["ansible_become", "ansible_sudo"] {
            let Some((v, span)) = vars.entries.get(name) else {
                continue;
            };
            // On a network device become is enable mode, not root; a
            // login as root needs no become.
            let as_root = vars
                .entries
                .get("ansible_user")
                .is_some_and(|(u, _)| u.as_str().is_some_and(|u| u.trim() == "root"));
            if templated(v) || !is_false(v) || kind == Reach::Switches || as_root {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    Code::AnsibleConnectionVar,
                    format!(
                        "variable `{name}` is false in {owner}: inventory variables outrank a play's `become: true`, so every task that needs root fails on {reach} (\"Permission denied\")"
                    ),
                )
                .label(*span, "outranks `become: true` in plays")
                .help(format!(
                    "remove `{name}` and say `become` in the plays or tasks that need (or must not have) root"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(vars: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
group fleet {{ vars {{ {vars} }} }}
node r01n01 {{ rack r01; position 1; groups fleet; }}
node r01n02 {{ rack r01; position 2; groups fleet; }}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0087").count()
    }

    /// A group only the deploy host joins is its own, as its profile or
    /// its `vars` are; a login as root needs no become.
    #[test]
    fn a_deploy_hosts_own_group_and_a_root_login_are_accepted() {
        let site = |extra: &str| {
            format!(
                r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
group control {{ children deploy; }}
group deploy {{ vars {{ ansible_connection local; }} }}
node r01n01 {{ rack r01; position 1; groups deploy; }}
node r01n02 {{ rack r01; position 2; groups control; }}
{extra}
"#
            )
        };
        let count = |t: &str| codes(t).iter().filter(|c| **c == "SC0087").count();
        assert_eq!(count(&site("")), 0);
        // A second node in the group (or in a child of it): reported.
        assert_eq!(
            count(&site(
                "node r01n03 { rack r01; position 3; groups deploy; }"
            )),
            1
        );
        assert_eq!(
            count(&site(
                "group all-ctl { children control; vars { ansible_connection local; } }
node r01n04 { rack r01; position 4; groups deploy; }"
            )),
            2
        );
        assert_eq!(n("ansible_user root; ansible_become #false"), 0);
        assert_eq!(n("ansible_user ops; ansible_become #false"), 1);
    }

    #[test]
    fn connection_vars_that_leave_ssh_or_root_warn() {
        assert_eq!(n("ansible_connection local"), 1);
        assert_eq!(n("ansible_connection winrm"), 1);
        assert_eq!(n("ansible_connection ssh"), 0);
        assert_eq!(n("ansible_connection \"ansible.builtin.ssh\""), 0);
        assert_eq!(n("ansible_connection \"{{ conn }}\""), 0);
        assert_eq!(n("ansible_become #false"), 1);
        assert_eq!(n("ansible_become no"), 1);
        assert_eq!(n("ansible_become 0"), 1);
        assert_eq!(n("ansible_become #true"), 0);
        assert_eq!(n("ansible_become_user postgres"), 0);
        assert_eq!(n("ansible_connection local; ansible_sudo \"false\""), 2);
    }

    fn on_switches(extra: &str) -> usize {
        let site = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-4; }}
node r01n01 {{ rack r01; position 1; groups fleet; }}
{extra}
"#
        );
        codes(&site).iter().filter(|c| **c == "SC0087").count()
    }

    #[test]
    fn switches_get_network_connections_and_no_become() {
        // Vars that reach switches only: a network plugin, become off.
        for vars in [
            "ansible_connection \"ansible.netcommon.network_cli\"; ansible_become #false",
            "ansible_connection httpapi; ansible_become no",
            "ansible_connection netconf",
        ] {
            assert_eq!(
                on_switches(&format!("group switches {{ vars {{ {vars}; }} }}")),
                0,
                "{vars}"
            );
            assert_eq!(
                on_switches(&format!("group role_tor {{ vars {{ {vars}; }} }}")),
                0,
                "{vars}"
            );
            assert_eq!(
                on_switches(&format!(
                    "group net {{ children switches; vars {{ {vars}; }} }}"
                )),
                0,
                "{vars}"
            );
        }
        assert_eq!(
            on_switches("switch r01-tor2 { rack r01; position 41; ports swp1-4; vars { ansible_connection httpapi; ansible_become #false; } }"),
            0
        );
        // `local` on switches is still the controller.
        assert_eq!(
            on_switches("group switches { vars { ansible_connection local; } }"),
            1
        );
        // A group nodes join is judged as theirs.
        assert_eq!(
            on_switches("group fleet { vars { ansible_become #false; } }"),
            1
        );
        // The deploy host managing itself: a node's own `local`, or a
        // profile of that node alone; not a profile two nodes share.
        assert_eq!(
            on_switches("node r01n02 { rack r01; position 2; vars { ansible_connection local; } }"),
            0
        );
        assert_eq!(
            on_switches("profile deploy { vars { ansible_connection local; } }\nnode r01n02 { rack r01; position 2; profiles deploy; }"),
            0
        );
        assert_eq!(
            on_switches("profile deploy { vars { ansible_connection local; } }\nnode r01n02 { rack r01; position 2; profiles deploy; }\nnode r01n03 { rack r01; position 3; profiles deploy; }"),
            1
        );
        assert_eq!(
            on_switches("node r01n02 { rack r01; position 2; vars { ansible_connection winrm; ansible_become #false; } }"),
            2
        );
        // A network plugin on nodes only fails every play on them.
        assert_eq!(n("ansible_connection network_cli"), 0);
        assert_eq!(
            on_switches(
                "profile p { vars { ansible_connection \"ansible.netcommon.network_cli\"; } }"
            ),
            1
        );
        assert_eq!(
            on_switches(
                "node r01n02 { rack r01; position 2; vars { ansible_connection httpapi; } }"
            ),
            1
        );
        assert_eq!(
            on_switches(
                "profile p { vars { ansible_connection paramiko; ansible_become #true; } }"
            ),
            0
        );
    }
}
