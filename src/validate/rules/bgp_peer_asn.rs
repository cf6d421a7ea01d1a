//! Rule `bgp-peer-same-asn`: an external peer in the switch's own AS.
//!
//! **What it does.** Reports (SC0616) a `bgp-peer` whose `asn` equals the
//! `asn` of a switch in its `switches`. Both are shown.
//!
//! **Why it matters.** FRR takes a neighbour whose `remote-as` is its own
//! AS for an iBGP peer: the transit session silently becomes iBGP. The
//! provider's OPEN carries its real AS, so the session is refused (bad
//! peer AS); were it to come up, none of the eBGP handling written for an
//! external peer would apply. Usually the switch's ASN was pasted into
//! the peer, or the provider's ASN into the switch.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { asn 4201000011; … }
//! bgp-peer transit-a { asn 4201000011; address "192.0.2.1"; switches r01-tor1 }   // SC0616
//! ```

use super::super::{Ctx, Rule};
use super::switch_index;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "bgp-peer-same-asn",
    codes: &[Code::BgpPeerSameAsn],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let switches = switch_index(cx.site);
    for p in &cx.site.bgp_peers {
        for w in &p.switches {
            // An unknown switch is SC0202's.
            let Some(&si) = switches.get(w.as_str()) else {
                continue;
            };
            let sw = &cx.site.switches[si];
            let Some(asn) = &sw.asn else { continue };
            if asn.value != p.asn.value {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Code::BgpPeerSameAsn,
                    format!(
                        "external BGP peer `{}` has ASN {}, the ASN of switch `{}` that holds its session",
                        p.name.value, p.asn.value, sw.name.value
                    ),
                )
                .label(p.asn.span, "the peer's ASN")
                .label(asn.span, format!("the ASN of `{}`", sw.name.value))
                .help("an external peer is in another AS: with the switch's own ASN FRR makes the session iBGP; write the provider's ASN on the peer"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn n(asn: u32) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{
    rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports "swp1-56"
    interface swp51 {{ address "192.0.2.2/29"; }}
}}
bgp-peer transit-a {{ asn {asn}; address "192.0.2.1"; switches r01-tor1; }}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0616").count()
    }

    #[test]
    fn peer_in_the_switch_as() {
        assert_eq!(n(64496), 0);
        assert_eq!(n(4201000011), 1);
    }
}
