//! Rule `cabled-to-other-rack`: a node cabled to a switch in another rack.
//!
//! **What it does.** Reports (SC0506, a warning) an interface of a resolved
//! node cabled (`switch …`) to a switch whose rack is not the node's rack.
//! Only top-of-rack switches (`role tor`, the default) are considered:
//! spine and border switches are the fabric's, cabled from every rack, and
//! an out-of-band `role management` switch is commonly shared by a row or a
//! pair of racks (one 48-port switch for the BMC and management NICs of
//! several racks), so a cable from another rack is normal for all three.
//! Only switches with a placement and nodes with a rack are compared. A
//! ToR declared (`mlag-peer`) the MLAG pair of a switch in the node's rack
//! is not reported: a pair run across two racks serves both.
//!
//! **Why it matters.** Nodes are cabled to the switches of their own rack.
//! A switch of another rack is nearly always the wrong name (`r02-tor1`
//! for `r01-tor1`, or a node block copied from another rack): the node's
//! BGP sessions, DHCP and the port plan then all point at the wrong
//! switch, and the technician at the wrong rack.
//!
//! **Example.**
//! ```kdl
//! node r01n05 {
//!     rack r01
//!     interface eno1 { switch r02-tor1; port swp5; … }   // SC0506: r02-tor1 is in r02
//! }
//! ```

use super::super::{Ctx, Rule};
use super::mlag_peer::Pairs;
use super::{set_in, switch_index, PerNode};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::SwitchRole;

pub static RULE: Rule = Rule {
    name: "cabled-to-other-rack",
    codes: &[Code::CabledToOtherRack],
    check,
    resolved: true,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(rs) = cx.resolved else { return };
    let switches = switch_index(cx.site);
    let pairs = Pairs::new(cx.site);
    let mut out = PerNode::new();
    for rn in &rs.nodes {
        let node = &cx.site.nodes[rn.index];
        let Some(place) = &node.placement else {
            continue;
        };
        for i in &rn.settings.interfaces {
            let Some(swname) = &i.switch else { continue };
            let Some(&si) = switches.get(swname.as_str()) else {
                continue;
            };
            let sw = &cx.site.switches[si];
            // Spine, border and management switches serve several racks.
            if sw.role.value != SwitchRole::Tor {
                continue;
            }
            let Some(swplace) = &sw.placement else {
                continue;
            };
            // A rack that is not declared (SC0201) is likely the one meant.
            if swplace.rack.value == place.rack.value
                || !cx.index.racks.contains_key(swplace.rack.as_str())
                || !cx.index.racks.contains_key(place.rack.as_str())
            {
                continue;
            }
            // The declared pair of a switch of the node's own rack.
            let rack_of = |n: &str| {
                switches
                    .get(n)
                    .and_then(|&k| cx.site.switches[k].placement.as_ref())
                    .map(|p| p.rack.as_str())
            };
            if pairs
                .of(sw.name.as_str())
                .iter()
                .any(|(p, _)| rack_of(p) == Some(place.rack.as_str()))
            {
                continue;
            }
            // The switches of the node's own rack, for the hint.
            let local: Vec<&str> = cx
                .site
                .switches
                .iter()
                .filter(|s| {
                    s.placement
                        .as_ref()
                        .is_some_and(|p| p.rack.value == place.rack.value)
                })
                .map(|s| s.name.as_str())
                .collect();
            let help = if local.is_empty() {
                format!(
                    "rack `{}` has no switch: if the cable really crosses racks, check the port plan; else name the right switch",
                    place.rack.value
                )
            } else {
                format!(
                    "the switches in rack `{}` are {}: a cable across racks is almost always the wrong switch name",
                    place.rack.value,
                    super::name_list(local, 4)
                )
            };
            out.push(
                node.name.as_str(),
                Diagnostic::warning(
                    Code::CabledToOtherRack,
                    format!(
                        "interface `{}` in rack `{}` is cabled to switch `{}` in rack `{}`{}",
                        i.name.value,
                        place.rack.value,
                        sw.name.value,
                        swplace.rack.value,
                        set_in(rn, &format!("interfaces.{}.switch", i.name.value))
                    ),
                )
                .label(swname.span, format!("in rack `{}`", swplace.rack.value))
                .label(place.rack.span, "the node's rack")
                .help(help),
            );
        }
    }
    out.finish(diags);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cable_to_another_racks_tor_warns_but_not_to_a_spine() {
        let site = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
rack r02 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1-4; }
switch r02-tor1 { rack r02; position 42; ports swp1-4; }
switch spine1 { rack r02; position 40; role spine; ports swp1-4; }
switch r02-oob1 { rack r02; position 39; role management; ports Ethernet1-48; }
node r01n01 {
    rack r01; position 1
    interface eno1 { mac "52:54:00:01:01:01"; switch r02-tor1; port swp1; }
    interface eno2 { mac "52:54:00:01:01:02"; switch r01-tor1; port swp1; }
    interface eno3 { mac "52:54:00:01:01:03"; switch spine1; port swp1; }
    interface eno4 { mac "52:54:00:01:01:04"; switch r02-oob1; port Ethernet1; }
}
"#;
        let d = super::super::testing::check_kdl(site);
        let m: Vec<&str> = d
            .iter()
            .filter(|d| d.code.as_str() == "SC0506")
            .map(|d| d.message.as_str())
            .collect();
        // Only the ToR of another rack: the spine and the shared
        // out-of-band switch serve several racks.
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("`eno1`"), "{m:?}");
    }
}
