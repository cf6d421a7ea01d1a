//! Rule `unknown-interface`: a name of an interface the node does not have.
//!
//! **What it does.** On every resolved node (profiles merged), reports
//! (SC0206) an address's `interface`, a bond's `members`, a VLAN's `link`
//! and a BGP session's `interface` that name no interface of the node,
//! with the closest interface name as a hint. A name written in a profile
//! is reported at the profile, once for all nodes lacking the interface.
//!
//! **Why it matters.** netplan and FRR configurations would name an
//! interface that does not exist: the address is never configured, the
//! bond comes up without the member, the session never starts.
//!
//! **Example.**
//! ```kdl
//! node r01n01 {
//!     interface eno3 { mac "52:54:00:01:01:03"; }
//!     address mgmt interface=eno4 ipv4=auto   // SC0206: did you mean `eno3`?
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{interface, set_in, suggest, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{interface_name_problem, Sp};
use crate::resolve::ResolvedNode;

pub static RULE: Rule = Rule {
    name: "unknown-interface",
    codes: &[Code::UnknownInterface],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    let gaps = super::Gaps::new(cx);
    for rn in &rs.nodes {
        let node = &cx.site.nodes[rn.index];
        let gap = gaps.node(cx, node);
        let name = node.name.as_str();
        let st = &rn.settings;
        // The description is built only for a finding.
        let mut check = |r: &Sp<String>, describe: &dyn Fn() -> (String, String)| {
            // A profile the node names but that is not declared may be
            // where it is: the unknown profile is the finding.
            // A name Linux refuses is reported as such (SC0045).
            if interface(rn, &r.value).is_none()
                && interface_name_problem(&r.value).is_none()
                && !(gap && gaps.may_supply_interface(cx, node, &r.value))
            {
                let (what, path) = describe();
                out.push(name, finding(rn, r, what, &path));
            }
        };
        for a in &st.addresses {
            if let Some(i) = &a.interface {
                let net = a.network.as_str();
                check(i, &|| {
                    (
                        format!("address `{net}` is on"),
                        format!("addresses.{net}.interface"),
                    )
                });
            }
        }
        for i in &st.interfaces {
            let n = i.name.as_str();
            for m in &i.members {
                check(m, &|| {
                    (
                        format!("bond `{n}` has member"),
                        format!("interfaces.{n}.members"),
                    )
                });
            }
            if let Some(l) = &i.link {
                check(l, &|| {
                    (
                        format!("VLAN interface `{n}` is on"),
                        format!("interfaces.{n}.link"),
                    )
                });
            }
        }
        if let Some(b) = &st.bgp {
            for s in &b.sessions {
                if let Some(i) = &s.interface {
                    let peer = s.peer.as_str();
                    check(i, &|| {
                        (
                            format!("BGP session to `{peer}` runs over"),
                            format!("bgp.sessions.{peer}.interface"),
                        )
                    });
                }
            }
        }
    }
    out.finish(diags);
}

fn finding(rn: &ResolvedNode, r: &Sp<String>, what: String, path: &str) -> Diagnostic {
    let names = rn.settings.interfaces.iter().map(|i| i.name.as_str());
    let help = suggest(r, names, || {
        format!("declare it on the node: `interface {} {{ … }}`", r.value)
    });
    Diagnostic::error(
        Code::UnknownInterface,
        format!(
            "{what} interface `{}`, which is not declared{}",
            r.value,
            set_in(rn, path)
        ),
    )
    .label(r.span, "no such interface on this node")
    .help(help)
}
