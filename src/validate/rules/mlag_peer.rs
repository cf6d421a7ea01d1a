//! Rule `mlag-peer`: a switch's declared MLAG pair that cannot be one.
//!
//! **What it does.** A switch's `mlag-peer` names the other switch of its
//! MLAG pair; the declaration may be written on one switch of the pair or
//! on both (like a `link`, either side is enough). Reports (SC0515, an
//! error) a switch that names itself, and a switch that ends up paired with
//! two switches: it names one and another names it (`A mlag-peer B`,
//! `B mlag-peer C`), or two switches name it. A name that is no declared
//! switch is SC0202 (`unknown-switch`).
//!
//! [`Pairs`] is the one reading of the declarations, shared with the bond
//! rules (SC0507, SC0513, SC0514): two switches are a pair when one names
//! the other; a switch with no declaration on either side keeps the
//! convention (same role, same rack, a `link` between them).
//!
//! **Why it matters.** siteconf writes no MLAG configuration (the
//! switches' own tooling does, often from their `vars`): the declaration
//! tells `check` which two switches a bond may span. A switch with two
//! pairs, or paired with itself, makes every bond check on it meaningless,
//! and is not a configuration an MLAG pair can have.
//!
//! **Example.**
//! ```kdl
//! switch r01-tor1 { mlag-peer r02-tor1; … }
//! switch r02-tor1 { mlag-peer r02-tor2; … }   // SC0515: r02-tor1 paired with r01-tor1 and r02-tor2
//! ```

use std::collections::BTreeMap;

use super::super::{Ctx, Rule};
use super::switch_index;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Site, Sp};

pub static RULE: Rule = Rule {
    name: "mlag-peer",
    codes: &[Code::MlagPeerInvalid],
    check,
    resolved: false,
};

/// The declared MLAG pairs of a site: for each switch, the switches it is
/// declared paired with (its own `mlag-peer` and those naming it), each
/// with the span of the declaration. Unknown names and a switch naming
/// itself are left out.
pub(super) struct Pairs<'a> {
    declared: BTreeMap<&'a str, Vec<(&'a str, &'a Sp<String>)>>,
}

impl<'a> Pairs<'a> {
    pub(super) fn new(site: &'a Site) -> Pairs<'a> {
        let known = switch_index(site);
        let mut declared: BTreeMap<&str, Vec<(&str, &Sp<String>)>> = BTreeMap::new();
        for sw in &site.switches {
            let Some(p) = &sw.mlag_peer else { continue };
            let (a, b) = (sw.name.as_str(), p.as_str());
            if a == b || !known.contains_key(b) {
                continue;
            }
            for (x, y) in [(a, b), (b, a)] {
                let v = declared.entry(x).or_default();
                if !v.iter().any(|(o, _)| *o == y) {
                    v.push((y, p));
                }
            }
        }
        Pairs { declared }
    }

    /// The switches `sw` is declared paired with (one, unless SC0515).
    pub(super) fn of(&self, sw: &str) -> &[(&'a str, &'a Sp<String>)] {
        self.declared.get(sw).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Whether `sw` has a declaration on either side: then only it counts,
    /// and the same-rack convention does not.
    pub(super) fn declared(&self, sw: &str) -> bool {
        !self.of(sw).is_empty()
    }

    /// Whether `a` and `b` are declared a pair.
    pub(super) fn paired(&self, a: &str, b: &str) -> bool {
        self.of(a).iter().any(|(o, _)| *o == b)
    }
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let site = cx.site;
    for sw in &site.switches {
        if let Some(p) = sw.mlag_peer.as_ref().filter(|p| p.value == sw.name.value) {
            diags.push(
                Diagnostic::error(
                    Code::MlagPeerInvalid,
                    format!(
                        "switch `{}` names itself as its MLAG peer: a pair is two switches, so this says nothing about which switches its bonds may span",
                        sw.name.value
                    ),
                )
                .label(p.span, "the switch itself")
                .help("name the other switch of the pair, or remove `mlag-peer`"),
            );
        }
    }
    let pairs = Pairs::new(site);
    for sw in &site.switches {
        let with = pairs.of(sw.name.as_str());
        if with.len() < 2 {
            continue;
        }
        let names: Vec<String> = with.iter().map(|(o, _)| format!("`{o}`")).collect();
        let mut d = Diagnostic::error(
            Code::MlagPeerInvalid,
            format!(
                "switch `{}` is declared the MLAG pair of {} switches ({}): an MLAG pair is two switches, so `check` cannot tell which two a bond may span",
                sw.name.value,
                with.len(),
                names.join(", ")
            ),
        );
        for (o, p) in with {
            let by = if p.value == sw.name.value {
                format!("`{o}` names `{}` here", sw.name.value)
            } else {
                format!("`{}` names `{o}` here", sw.name.value)
            };
            d = d.label(p.span, by);
        }
        diags.push(d.help(format!(
            "keep one `mlag-peer` declaration for `{}`'s pair; the two switches of a pair name each other or only one names the other",
            sw.name.value
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(t1: &str, t2: &str, t3: &str) -> usize {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; ports swp1-56; {t1} }}
switch r01-tor2 {{ rack r01; position 41; ports swp1-56; {t2} }}
switch r01-tor3 {{ rack r01; position 40; ports swp1-56; {t3} }}
"#
        );
        codes(&text).iter().filter(|c| **c == "SC0515").count()
    }

    #[test]
    fn declared_pairs() {
        // One side, or both naming each other: fine.
        assert_eq!(site("mlag-peer r01-tor2;", "", ""), 0);
        assert_eq!(site("mlag-peer r01-tor2;", "mlag-peer r01-tor1;", ""), 0);
        // Itself.
        assert_eq!(site("mlag-peer r01-tor1;", "", ""), 1);
        // r01-tor2 paired with two switches, either way round.
        assert_eq!(site("mlag-peer r01-tor2;", "mlag-peer r01-tor3;", ""), 1);
        assert_eq!(site("mlag-peer r01-tor2;", "", "mlag-peer r01-tor2;"), 1);
    }

    #[test]
    fn an_unknown_peer_is_sc0202() {
        let text = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
rack r01 { height 42; }
switch r01-tor1 { rack r01; position 42; ports swp1-56; mlag-peer r01-tor9; }
"#;
        let c = codes(text);
        assert!(c.contains(&"SC0202"), "{c:?}");
        assert!(!c.contains(&"SC0515"), "{c:?}");
    }
}
