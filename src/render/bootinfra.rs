//! A bootinfra's files: the DHCP, DNS and network-boot configuration of
//! one set of boot hosts that serves several sites (`[bootinfra.NAME]
//! serves = [...]` in siteconf.toml). Each served site renders its own
//! `site/dhcp/`, `site/dns/` and `site/boot/ipxe/` as always; the
//! bootinfra's are those files joined:
//!
//! - `dhcp/kea-dhcp4.json`: one Kea configuration with every served
//!   site's subnets and reservations (the sites' client classes, which
//!   their `boot` blocks make, must agree);
//! - `dns/`: every served site's zone files (an origin served by two sites
//!   is a conflict);
//! - `boot/ipxe/`: every per-MAC script, and the one `unknown.ipxe`.
//!
//! `check` refuses what would make these conflict (overlapping prefixes,
//! one domain, different boot servers: see `validate::cross_site`), so a
//! conflict here means a template override made the sites disagree; it is
//! reported, never resolved by picking one.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic};
use crate::output::{Artifact, Owner};

/// One served site's rendered files under `site/` (path → bytes).
pub struct ServedFiles<'a> {
    pub site: &'a str,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// The path prefixes of a site's output that a bootinfra takes over.
pub const PREFIXES: &[&str] = &["site/dhcp/", "site/dns/", "site/boot/ipxe/"];

/// Joins the served sites' files into the bootinfra's.
pub fn join(name: &str, served: &[ServedFiles]) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut out: BTreeMap<String, (Vec<u8>, &str)> = BTreeMap::new();
    let mut kea: Option<Json> = None;
    for s in served {
        for (path, bytes) in &s.files {
            if path == "site/dhcp/kea-dhcp4.json" {
                match serde_json::from_slice::<Json>(bytes) {
                    Ok(j) => match kea.as_mut() {
                        None => kea = Some(j),
                        Some(base) => {
                            if let Err(e) = join_kea(base, j, s.site) {
                                errors.push(conflict(name, e));
                            }
                        }
                    },
                    Err(e) => errors.push(conflict(
                        name,
                        format!("{}'s Kea configuration is not JSON: {e}", s.site),
                    )),
                }
                continue;
            }
            let Some(rest) = path.strip_prefix("site/") else {
                continue;
            };
            if !PREFIXES.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            match out.get(rest) {
                Some((prev, by)) if prev != bytes => errors.push(conflict(
                    name,
                    format!("`{rest}` differs between site `{by}` and site `{}`", s.site),
                )),
                Some(_) => {}
                None => {
                    out.insert(rest.to_string(), (bytes.clone(), s.site));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut artifacts: Vec<Artifact> = out
        .into_iter()
        .map(|(path, (bytes, _))| artifact(path, bytes))
        .collect();
    if let Some(k) = kea {
        let mut text = serde_json::to_string_pretty(&k).unwrap_or_default();
        text.push('\n');
        artifacts.push(artifact("dhcp/kea-dhcp4.json".into(), text.into_bytes()));
    }
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(artifacts)
}

fn artifact(path: String, bytes: Vec<u8>) -> Artifact {
    let kind = if path.starts_with("dhcp/") {
        "kea4"
    } else if path.starts_with("dns/") {
        "zone"
    } else {
        "ipxe"
    };
    Artifact {
        path,
        bytes,
        mode: 0o644,
        owner: Owner::Site,
        kind: kind.to_string(),
        secret: false,
    }
}

fn conflict(name: &str, what: String) -> Diagnostic {
    Diagnostic::error(
        Code::BootinfraConflict,
        format!("bootinfra `{name}`: {what}"),
    )
    .help("the sites a bootinfra serves must not overlap: run `siteconf check`, and look for a template override that differs between them")
}

/// Adds `other`'s subnets and client classes to `base`.
fn join_kea(base: &mut Json, other: Json, site: &str) -> Result<(), String> {
    let take = |j: &Json, key: &str| -> Vec<Json> {
        j.get("Dhcp4")
            .and_then(|d| d.get(key))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let subnets = take(&other, "subnet4");
    let classes = take(&other, "client-classes");
    let not_unique = other
        .get("Dhcp4")
        .and_then(|d| d.get("ip-reservations-unique"))
        .cloned();
    let Some(d) = base.get_mut("Dhcp4").and_then(Json::as_object_mut) else {
        return Err("a Kea configuration has no `Dhcp4`".into());
    };
    // A site whose bond members share a reserved address needs it for the
    // joined configuration too.
    if not_unique == Some(Json::Bool(false)) {
        d.insert("ip-reservations-unique".into(), Json::Bool(false));
    }
    let list = d
        .entry("subnet4")
        .or_insert_with(|| Json::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return Err("`subnet4` is not a list".into());
    };
    for s in subnets {
        let clash = list
            .iter()
            .find(|x| x.get("id") == s.get("id") || x.get("subnet") == s.get("subnet"));
        if let Some(x) = clash {
            return Err(format!(
                "subnet {} of site `{site}` collides with subnet {} (id {})",
                s.get("subnet").unwrap_or(&Json::Null),
                x.get("subnet").unwrap_or(&Json::Null),
                x.get("id").unwrap_or(&Json::Null)
            ));
        }
        list.push(s);
    }
    if !classes.is_empty() {
        let list = d
            .entry("client-classes")
            .or_insert_with(|| Json::Array(Vec::new()));
        let Some(list) = list.as_array_mut() else {
            return Err("`client-classes` is not a list".into());
        };
        for c in classes {
            match list.iter().find(|x| x.get("name") == c.get("name")) {
                Some(x) if *x != c => {
                    return Err(format!(
                        "client class {} of site `{site}` differs from the other sites' (their `boot` blocks disagree)",
                        c.get("name").unwrap_or(&Json::Null)
                    ))
                }
                Some(_) => {}
                None => list.push(c),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kea(subnets: &str) -> Vec<u8> {
        format!(r#"{{"Dhcp4": {{"subnet4": [{subnets}], "client-classes": [{{"name": "ipxe", "test": "x"}}]}}}}"#)
            .into_bytes()
    }

    fn served<'a>(site: &'a str, files: &[(&str, Vec<u8>)]) -> ServedFiles<'a> {
        ServedFiles {
            site,
            files: files
                .iter()
                .map(|(p, b)| (p.to_string(), b.clone()))
                .collect(),
        }
    }

    #[test]
    fn subnets_and_zones_of_every_site_are_joined() {
        let a = served(
            "prod",
            &[
                (
                    "site/dhcp/kea-dhcp4.json",
                    kea(r#"{"id": 1, "subnet": "10.0.0.0/24"}"#),
                ),
                ("site/dns/prod.example.net.zone", b"prod".to_vec()),
                ("site/inventory/hosts.yml", b"not the bootinfra's".to_vec()),
            ],
        );
        let b = served(
            "lab",
            &[
                (
                    "site/dhcp/kea-dhcp4.json",
                    kea(r#"{"id": 2, "subnet": "10.1.0.0/24"}"#),
                ),
                ("site/dns/lab.example.net.zone", b"lab".to_vec()),
            ],
        );
        let out = join("core", &[a, b]).expect("joined");
        let paths: Vec<&str> = out.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "dhcp/kea-dhcp4.json",
                "dns/lab.example.net.zone",
                "dns/prod.example.net.zone"
            ]
        );
        let k: Json = serde_json::from_slice(&out[0].bytes).unwrap();
        assert_eq!(k["Dhcp4"]["subnet4"].as_array().unwrap().len(), 2);
        assert_eq!(k["Dhcp4"]["client-classes"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_subnet_or_zone_served_twice_is_a_conflict() {
        let a = served(
            "prod",
            &[
                (
                    "site/dhcp/kea-dhcp4.json",
                    kea(r#"{"id": 1, "subnet": "10.0.0.0/24"}"#),
                ),
                ("site/dns/example.net.zone", b"prod".to_vec()),
            ],
        );
        let b = served(
            "lab",
            &[
                (
                    "site/dhcp/kea-dhcp4.json",
                    kea(r#"{"id": 1, "subnet": "10.0.0.0/24"}"#),
                ),
                ("site/dns/example.net.zone", b"lab".to_vec()),
            ],
        );
        let errs = join("core", &[a, b]).expect_err("conflicts");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().all(|d| d.code == Code::BootinfraConflict));
    }
}
