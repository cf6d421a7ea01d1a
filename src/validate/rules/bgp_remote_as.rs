//! Rule `bgp-remote-as`: a session expecting another ASN than the switch
//! has.
//!
//! **What it does.** Reports (SC0602) a node's BGP session whose
//! `remote-as` differs from the `asn` of the switch it goes to (after
//! profiles are merged), showing both.
//!
//! **Why it matters.** BGP checks the peer's AS number in its OPEN
//! message: a mismatch means the session never establishes, and the node
//! is not reachable through that switch.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { asn 4200000001; … }
//! node r01n01 { bgp asn=auto { session r01-tor1 interface=eno1 remote-as=4200000002; } }   // SC0602
//! ```

use super::super::{Ctx, Rule};
use super::{set_in, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "bgp-remote-as",
    codes: &[Code::BgpAsnMismatch],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let name = cx.site.nodes[rn.index].name.as_str();
        let Some(bgp) = &rn.settings.bgp else {
            continue;
        };
        for s in &bgp.sessions {
            let Some(ra) = &s.remote_as else { continue };
            let Some(sw) = cx.site.switch(cx.index, s.peer.as_str()) else {
                continue;
            };
            // A switch without an ASN is node-required's finding.
            let Some(sa) = &sw.asn else { continue };
            if ra.value == sa.value {
                continue;
            }
            out.push(
                name,
                Diagnostic::error(
                    Code::BgpAsnMismatch,
                    format!(
                        "BGP session to `{}` expects ASN {}, but the switch has ASN {}{}",
                        sw.name.value,
                        ra.value,
                        sa.value,
                        set_in(rn, &format!("bgp.sessions.{}.remote-as", s.peer.value))
                    ),
                )
                .label(ra.span, format!("expects {}", ra.value))
                .label(sa.span, format!("`{}` has ASN {}", sw.name.value, sa.value))
                .help(format!(
                    "the session would never establish; write `remote-as={}`, or leave `remote-as` out to use the switch's ASN",
                    sa.value
                )),
            );
        }
    }
    out.finish(diags);
}
