//! Rule `secret-env-collision`: two secret names, one environment
//! variable.
//!
//! **What it does.** Reports (SC0905) two different secret names
//! referenced in the site (BGP passwords, `secret=` in `vars` of the site
//! defaults, profiles, nodes, switches and groups) that map to the same
//! environment variable (`model::names::env_var_name`: upper-cased, `-`
//! `.` `/` → `_`): `bgp/transit-a` and `bgp-transit/a` are both
//! `SITECONF_SECRET_BGP_TRANSIT_A`. Both references are shown, and the
//! variable. Names that are not secret names are SC0046/SC0607's.
//!
//! **Why it matters.** The environment wins over the secrets file: a value
//! set for one secret silently becomes the other's too (transit-b gets
//! transit-a's password, and its session is refused), while the secrets
//! file, keyed by the exact names, hides the problem until someone uses
//! the environment.
//!
//! **Example.**
//! ```kdl
//! bgp-peer transit-a { …; password secret="bgp/transit-a" }
//! bgp-peer transit-b { …; password secret="bgp-transit/a" }   // SC0905
//! ```

use rustc_hash::FxHashMap;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::names::{env_var_name, is_secret_name};
use crate::syntax::Span;

pub static RULE: Rule = Rule {
    name: "secret-env-collision",
    codes: &[Code::SecretEnvCollision],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    // Every reference, in declaration order: (name, where).
    let refs = crate::model::site_secret_references(cx.site);
    if refs.len() < 2 {
        return;
    }
    let prefix = cx.env_prefix;
    // Variable → the first name and where; a name seen with its variable
    // is reported once.
    let mut first: FxHashMap<String, (&str, Span)> = FxHashMap::default();
    let mut reported: Vec<(&str, &str)> = Vec::new();
    for (name, span) in refs {
        if !is_secret_name(name) {
            continue;
        }
        let var = env_var_name(prefix, name);
        match first.get(&var) {
            None => {
                first.insert(var, (name, span));
            }
            Some(&(other, at)) if other != name => {
                if reported.contains(&(other, name)) {
                    continue;
                }
                reported.push((other, name));
                diags.push(
                    Diagnostic::error(
                        Code::SecretEnvCollision,
                        format!(
                            "secrets `{other}` and `{name}` are two names for one environment variable, {var}: a value set there is used for both"
                        ),
                    )
                    .label(span, format!("`{name}` is {var}"))
                    .label(at, format!("`{other}` is {var} too"))
                    .help("the environment wins over the secrets file, so one secret's value would silently become the other's: rename one so that their variables differ (names that differ only in letter case or in `-` `.` `/` share one)"),
                );
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn site(b: &str, var: &str) -> Vec<&'static str> {
        let text = format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.2"; }}
rack r01 {{ height 42; }}
switch r01-tor1 {{ rack r01; position 42; asn 4201000011; loopback4 "10.255.0.1"; ports swp1-56; vars {{ bmc secret="{var}"; }} }}
bgp-peer transit-a {{ asn 64496; address "203.0.113.1"; multihop 2; password secret="bgp/transit-a"; switches r01-tor1; }}
bgp-peer transit-b {{ asn 64497; address "203.0.113.2"; multihop 2; password secret="{b}"; switches r01-tor1; }}
"#
        );
        codes(&text)
            .into_iter()
            .filter(|c| *c == "SC0905")
            .collect()
    }

    #[test]
    fn two_names_one_variable() {
        assert!(site("bgp/transit-b", "bmc/r01").is_empty());
        // The same name twice is one secret.
        assert!(site("bgp/transit-a", "bmc/r01").is_empty());
        assert_eq!(site("bgp-transit/a", "bmc/r01"), ["SC0905"]);
        assert_eq!(site("BGP/transit-a", "bmc/r01"), ["SC0905"]);
        assert_eq!(site("bgp/transit-b", "bgp.transit.a"), ["SC0905"]);
    }
}
