//! Validation: one rule per file under `rules/`, each with a stable code,
//! registered in [`RULES`]. Rules read the declared model (and, for rules
//! about resolved values, the resolved nodes) and push diagnostics; they
//! never stop early and never depend on each other's order (the final list
//! is sorted).

pub mod cross_site;
pub mod rules;

use crate::diag::{Code, Diagnostics};
use crate::model::{Site, SiteIndex};
use crate::resolve::Resolved;
use crate::syntax::SourceMap;

/// What a rule sees.
pub struct Ctx<'a> {
    pub site: &'a Site,
    pub index: &'a SiteIndex,
    pub sources: &'a SourceMap,
    /// `[secrets] env-prefix` of siteconf.toml: the environment variables
    /// secrets are read from are named with it.
    pub env_prefix: &'a str,
    /// Resolved nodes (profiles merged, allocations applied), when
    /// resolution ran.
    pub resolved: Option<&'a Resolved>,
    /// Whether a bootinfra serves this site together with other sites
    /// (`[bootinfra.NAME] serves`): then the boot servers may sit in a
    /// network of another of those sites, and the cross-site check
    /// (`cross_site`), which sees them all, decides SC1208.
    pub shared_boot: bool,
    /// The prefixes of the networks of the other sites of a project of
    /// several (empty otherwise): a machine of another site (one Ansible
    /// controller for all of them) may be where logins come from. `None`
    /// when some site of the project could not be loaded (already
    /// reported): what its networks are is not known.
    pub other_networks: Option<&'a [ipnet::IpNet]>,
}

/// A validation rule: its codes and the function that checks them.
pub struct Rule {
    pub name: &'static str,
    pub codes: &'static [Code],
    pub check: fn(&Ctx, &mut Diagnostics),
    /// Whether the rule reads resolved nodes (runs after resolution).
    pub resolved: bool,
}

/// Runs every rule of one phase. Rules are independent, so they run in
/// parallel; their findings are collected in registry order (and sorted
/// before they are shown), so the output never depends on scheduling.
pub fn run(cx: &Ctx, resolved_phase: bool, diags: &mut Diagnostics) {
    use rayon::prelude::*;
    let found: Vec<Diagnostics> = rules::RULES
        .par_iter()
        .filter(|rule| rule.resolved == resolved_phase)
        .map(|rule| {
            let mut d = Diagnostics::new();
            (rule.check)(cx, &mut d);
            d
        })
        .collect();
    for d in found {
        diags.extend(d);
    }
}

/// Drops the findings that only follow from a site file that failed to
/// parse (see [`crate::model::Lost`]): a reference to a rack, switch,
/// network, profile, interface or BGP peer whose name occurs in a broken
/// file, and "nothing to allocate from" when the broken text declares
/// networks or the site's pools; and the warnings that weigh the whole
/// site. The syntax error is the one finding; these come back, if they
/// are real, once the file parses.
pub fn quiet_lost(site: &Site, sources: &SourceMap, diags: &mut Diagnostics) {
    let lost = &site.lost;
    if lost.is_empty() && !site.site_declared_twice {
        return;
    }
    let pools_lost =
        lost.may_declare("network") || lost.may_declare("asn-pool") || site.site_declared_twice;
    diags.retain(|d| match d.code {
        Code::UnknownRack
        | Code::UnknownSwitch
        | Code::UnknownNetwork
        | Code::UnknownProfile
        | Code::UnknownInterface
        | Code::BgpUnknownPeer => {
            let name = sources.text(d.primary_span()).trim_matches('"');
            !lost.may_declare(name)
        }
        Code::NoPool => !pools_lost,
        // The automation user's keys may be in the file that was lost.
        Code::AutomationUserNoKey => !lost.may_declare("ssh-key"),
        // Warnings that weigh what the whole site declares (an MTU the
        // others use, the child group nodes join) cannot be trusted
        // while part of it is missing.
        Code::MtuMismatch
        | Code::CabledToOtherRack
        | Code::BondLegsNotPaired
        | Code::BondSingleMember
        | Code::UndeclaredChildGroup
        // A lost file may hold the switches or links that join an island.
        | Code::FabricNoExit => lost.is_empty(),
        _ => true,
    });
}
