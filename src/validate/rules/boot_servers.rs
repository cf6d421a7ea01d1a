//! Rule `boot-servers`: boot server addresses no host can have, or that no
//! declared network holds.
//!
//! **What it does.** For each of the boot `servers`:
//! - the network address or IPv4 broadcast address of a declared network
//!   (SC0302);
//! - the `gateway4` of a declared network (SC0303);
//! - an address inside no declared network's IPv4 prefix (SC1208,
//!   warning: it may be a routed server, reached through the gateway),
//!   when the site declares networks. In a project where one bootinfra
//!   serves this site and others, the server may sit in another of those
//!   sites' networks (the sites share their boot servers, SC1207, and
//!   only one of them runs the boot service): the cross-site check, which
//!   sees every site of the bootinfra, reports SC1208 then ([`outside`]).
//!
//! **Why it matters.** The first server is DHCP's `next-server` (where PXE
//! ROMs fetch iPXE by TFTP) and, without `base-url`, the host of every
//! script, seed and image URL. The network or broadcast address reaches no
//! host (or every host), and the gateway's address is the router's, which
//! runs no TFTP or HTTP service: every machine fails to boot. An address
//! in no network is usually a typo (`10.0.1.2` for `10.0.0.2`); a boot
//! server on another subnet also needs a DHCP relay and routed TFTP.
//!
//! **Example.**
//! ```kdl
//! network mgmt { purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }
//! site dc1 { boot { servers "10.0.0.1" "10.0.0.255" "10.9.0.2"; } }   // SC0303, SC0302, SC1208
//! ```

use std::net::Ipv4Addr;

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::Sp;

pub static RULE: Rule = Rule {
    name: "boot-servers",
    codes: &[
        Code::AddressIsNetworkOrBroadcast,
        Code::AddressIsGateway,
        Code::BootServerOutside,
    ],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(boot) = cx.site.boot() else {
        return;
    };
    // A bootinfra shared with other sites: the cross-site check decides.
    let may_be_unknown = cx.shared_boot || networks_unknown(cx.site);
    for s in &boot.servers {
        server(cx, diags, s, may_be_unknown);
    }
}

/// Whether the site's networks may hold an address without saying so: a
/// network whose prefix is lost or invalid may hold it; a site that
/// declares no network yet says nothing about where it is.
pub(crate) fn networks_unknown(site: &crate::model::Site) -> bool {
    site.networks.is_empty()
        || site.lost.may_declare("network")
        || site.networks.iter().any(|n| n.prefix_invalid[0])
}

/// SC1208 for boot server `s`; `sites`: the sites of the bootinfra whose
/// networks were searched, when it serves several.
pub(crate) fn outside(s: &Sp<Ipv4Addr>, sites: Option<&[&str]>) -> Diagnostic {
    let ip = s.value;
    let (message, label) = match sites {
        None => (
            format!("boot server {ip} is in no declared network"),
            "inside no network's `ipv4` prefix".to_string(),
        ),
        Some(sites) => {
            let list = sites
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!("boot server {ip} is in no declared network of the sites its bootinfra serves ({list})"),
                format!("inside no `ipv4` prefix of {list}"),
            )
        }
    };
    Diagnostic::warning(Code::BootServerOutside, message)
        .label(s.span, label)
        .help("if it is a typo, give the server's address on the management network; a server on another subnet needs a DHCP relay and routed TFTP to the booting machines")
}

fn server(cx: &Ctx, diags: &mut Diagnostics, s: &Sp<Ipv4Addr>, may_be_unknown: bool) {
    let ip = s.value;
    let net = cx
        .site
        .networks
        .iter()
        .find(|n| n.ipv4.as_ref().is_some_and(|p| p.value.contains(&ip)));
    let Some(net) = net else {
        if !may_be_unknown {
            diags.push(outside(s, None));
        }
        return;
    };
    let Some(p) = &net.ipv4 else { return };
    let name = &net.name.value;
    if p.value.prefix_len() < 31 && (ip == p.value.network() || ip == p.value.broadcast()) {
        let which = if ip == p.value.network() {
            "network"
        } else {
            "broadcast"
        };
        diags.push(
            Diagnostic::error(
                Code::AddressIsNetworkOrBroadcast,
                format!(
                    "boot server {ip} is the {which} address of network `{name}` ({})",
                    p.value
                ),
            )
            .label(s.span, "not a host address")
            .label(p.span, "the network's prefix")
            .help("give the address of the host that runs TFTP and the HTTP service"),
        );
    } else if let Some(g) = net.gateway4.as_ref().filter(|g| g.value == ip) {
        diags.push(
            Diagnostic::error(
                Code::AddressIsGateway,
                format!("boot server {ip} is the gateway of network `{name}`"),
            )
            .label(s.span, "the router's address")
            .label(g.span, format!("the gateway of `{name}`"))
            .help("machines would ask the router for iPXE (TFTP) and their scripts (HTTP): give the address of the host that runs them"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    fn servers(list: &str) -> Vec<&'static str> {
        codes(&format!(
            r#"site dc1 {{ domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot {{ servers {list}; base-url "http://10.0.0.2"; images-dir "/srv/images"; image debian {{ kernel "http://10.0.0.2/images/vmlinuz"; }} }}
                defaults {{ boot-image debian; }} }}
            network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }}
            network p2p {{ purpose other; ipv4 "10.8.0.0/31"; }}"#
        ))
    }

    #[test]
    fn host_addresses_on_a_network_pass() {
        assert!(servers(r#""10.0.0.2" "10.0.0.254" "10.8.0.0""#).is_empty());
    }

    #[test]
    fn network_broadcast_and_gateway_addresses_are_errors() {
        assert_eq!(servers(r#""10.0.0.0""#), ["SC0302"]);
        assert_eq!(servers(r#""10.0.0.255""#), ["SC0302"]);
        assert_eq!(servers(r#""10.0.0.1""#), ["SC0303"]);
    }

    #[test]
    fn a_server_in_no_network_is_a_warning() {
        let d = super::super::testing::check_kdl(
            r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.3"
                boot { servers "10.9.0.2"; images-dir "/srv/images"; image debian { kernel "http://10.9.0.2/images/vmlinuz"; } }
                defaults { boot-image debian; } }
            network mgmt { purpose management; ipv4 "10.0.0.0/24"; }"#,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code.as_str(), "SC1208");
        assert_eq!(d[0].severity, crate::diag::Severity::Warning);
    }
}
