//! Rule `bgp-uplink-idle`: a routed node's uplink with no session on it.
//!
//! **What it does.** Reports (SC0621, a warning) an Ethernet interface of a
//! resolved node that has BGP sessions, when the interface is cabled to a
//! switch that runs BGP (has an `asn`), carries no session (`session SW
//! interface=IF`), no address, no VLAN and is in no bond, while another
//! interface of the node does carry a session and the node has no session
//! at all with that switch. A management NIC (it has an address) and bond
//! members are not uplinks; a node without sessions does not route; a node
//! with a session over an interface it lacks (a typo, reported as such)
//! is not weighed.
//!
//! **Why it matters.** The cable is plugged and the port is up, but
//! nothing runs over it: the node has one path into the fabric, and when
//! that switch or cable fails it is gone, while `check` is green. The
//! same mistake as a bond of one leg (SC0508), for a routed node: usually
//! the second `session` line was deleted or left out of a profile.
//!
//! **Example.**
//! ```kdl
//! node r01n02 {
//!     interface eno1 { switch r01-tor1; port swp2; … }
//!     interface eno2 { switch r01-tor2; port swp2; … }   // SC0621
//!     bgp { session r01-tor1 interface=eno1; }
//! }
//! ```

use super::super::{Ctx, Rule};
use super::{switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::InterfaceKind;

pub static RULE: Rule = Rule {
    name: "bgp-uplink-idle",
    codes: &[Code::BgpUplinkIdle],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let switches = switch_index(cx.site);
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let st = &rn.settings;
        let Some(bgp) = &st.bgp else { continue };
        // The interfaces sessions run over (a bond or VLAN over cabled
        // members counts for them through the exclusions below).
        let used: Vec<&str> = bgp
            .sessions
            .iter()
            .filter_map(|s| s.interface.as_ref().map(|i| i.as_str()))
            .collect();
        let Some(&routed) = used.first() else {
            continue;
        };
        let ifaces = &st.interfaces;
        // A session over an interface the node lacks is a typo another
        // rule reports; which cable it meant is unknown.
        if used
            .iter()
            .any(|u| !ifaces.iter().any(|i| i.name.value == *u))
        {
            continue;
        }
        for i in ifaces {
            let kind = i.kind.as_ref().map(|k| k.value);
            if !matches!(kind, None | Some(InterfaceKind::Ethernet)) || i.kind_invalid {
                continue;
            }
            let (Some(sw), Some(port)) = (&i.switch, &i.port) else {
                continue;
            };
            let runs_bgp = switches
                .get(sw.as_str())
                .is_some_and(|&k| cx.site.switches[k].asn.is_some());
            let name = i.name.as_str();
            // A session with that switch, numbered or over another
            // interface (SC0606 if that one is not cabled there), may be
            // what this cable is for.
            let peers_it = bgp.sessions.iter().any(|s| s.peer.value == sw.value);
            if !runs_bgp || peers_it || used.contains(&name) {
                continue;
            }
            let carries = st
                .addresses
                .iter()
                .any(|a| a.interface.as_ref().is_some_and(|x| x.value == name))
                || ifaces.iter().any(|o| {
                    o.link.as_ref().is_some_and(|l| l.value == name)
                        || o.members.iter().any(|m| m.value == name)
                });
            if carries {
                continue;
            }
            let node = cx.site.nodes[rn.index].name.as_str();
            out.push(
                node,
                Diagnostic::warning(
                    Code::BgpUplinkIdle,
                    format!(
                        "interface `{name}` is cabled to `{sw}` port {port}, a BGP switch, but no BGP session runs over it while `{routed}` has one: the node has no second path into the fabric",
                        sw = sw.value,
                        port = port.value
                    ),
                )
                .label(sw.span, format!("`{name}` is cabled to `{}` here, and idle", sw.value))
                .help(format!(
                    "add `session {} interface={name}` to the node's `bgp` block (or to its profile); if the cable is not an uplink, give the interface its address or remove its `switch`/`port`",
                    sw.value
                )),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(bgp: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; asn-pool "4200000000-4200999999"; }}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }}
network loopback {{ purpose loopback; ipv4 "10.255.0.0/16"; reserved "10.255.0.1-10.255.0.255"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; link swp55 {{ peer r01-tor2; peer-port swp55; }} }}
switch r01-tor2 {{ rack r01; position 41; asn 4201000012; loopback4 "10.255.0.2"; ports swp1-56; link swp55 {{ peer r01-tor1; peer-port swp55; }} }}
node r01n01 {{
    rack r01; position 1; loopback ipv4=auto
    interface eno1 {{ mac "52:54:00:01:01:01"; switch r01-tor1; port swp1; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; switch r01-tor2; port swp1; }}
    interface eno3 {{ mac "52:54:00:01:01:03"; switch r01-tor1; port swp40; }}
    address mgmt interface=eno3 ipv4="10.0.0.10"
    {bgp}
}}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| *c == "SC0621")
            .collect()
    }

    #[test]
    fn an_uplink_without_a_session() {
        let both =
            "bgp asn=auto { session r01-tor1 interface=eno1; session r01-tor2 interface=eno2; }";
        assert!(site(both).is_empty());
        // eno3 has the management address: not an uplink.
        assert_eq!(
            site("bgp asn=auto { session r01-tor1 interface=eno1; }"),
            ["SC0621"]
        );
        // A node that does not route.
        assert!(site("").is_empty());
    }
}
