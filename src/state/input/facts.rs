//! Ansible's fact cache (`fact_caching = jsonfile`): one JSON file per
//! inventory host, named by the inventory hostname (with a `.json`
//! extension or, as the plugin writes it, without one).
//!
//! The cache holds the host's facts as variables: `ansible_hostname`,
//! `ansible_fqdn`, `ansible_interfaces` (names), `ansible_<iface>` with
//! `macaddress`, `ipv4` {address, netmask, prefix}, `ipv4_secondaries`,
//! `ipv6` [{address, prefix, scope}], `ansible_default_ipv4`,
//! `ansible_all_ipv4_addresses`, `ansible_distribution`… Files saved from
//! the setup module (or by tools that keep the `ansible_facts` namespace)
//! nest the same facts under `ansible_facts`, with or without the
//! `ansible_` prefix; [`Facts::get`] looks in all three places. Interface
//! fact names replace `-`, `.` and `:` of the device name by `_`.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ParseProblem;
use crate::model::Mac;

/// What one host reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The inventory hostname (the file's name).
    pub inventory_name: String,
    pub path: String,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    /// By device name, sorted.
    pub interfaces: Vec<IfaceFacts>,
    /// Every IPv4/IPv6 address the host has (Ansible's `all_ipv*_addresses`
    /// plus the per-interface ones).
    pub all_ipv4: Vec<Ipv4Addr>,
    pub all_ipv6: Vec<Ipv6Addr>,
    pub default_ipv4: Option<DefaultIpv4>,
    /// `Debian 12`, for the report.
    pub distribution: Option<String>,
    /// `product_serial` and `product_name` from DMI, placeholders left
    /// out (see [`real_dmi`]).
    pub serial: Option<String>,
    pub model: Option<String>,
    /// When the facts were gathered: `ansible_date_time.epoch` (seconds)
    /// and `.date` (`2026-01-05`, for messages).
    pub gathered: Option<(u64, Option<String>)>,
    /// Network facts (`ansible_net_*`, gathered by a network OS's
    /// collection: a switch in the inventory that `hosts: all` reaches):
    /// `hostname` is `ansible_net_hostname`, and there are no interfaces.
    pub network: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceFacts {
    pub name: String,
    /// The NIC's own MAC: Ansible's `perm_macaddress` where it gives one
    /// (a bond member shows the bond's MAC as `macaddress`), else
    /// `macaddress`.
    pub mac: Option<Mac>,
    /// Primary and secondary addresses with their prefix length.
    pub ipv4: Vec<(Ipv4Addr, u8)>,
    /// Global and link-local addresses with their prefix length.
    pub ipv6: Vec<(Ipv6Addr, u8)>,
    /// Ansible's `type`: `ether`, `bonding`, `bridge`, `loopback`…
    pub kind: Option<String>,
    pub active: Option<bool>,
    pub mtu: Option<u16>,
    /// A bond's members (`slaves`) and mode, as Ansible reports them.
    pub members: Vec<String>,
    pub bond_mode: Option<String>,
    /// A bond's other parameters Ansible reports (`lacp_rate`, `miimon`,
    /// `primary`), by name, as reported (`lacp_rate`'s first word).
    pub bond_params: Vec<(&'static str, String)>,
    /// The kernel driver of the device (`ixgbe`, `mlx5_core`): Ansible
    /// gives it only for an interface backed by a device, so a VLAN,
    /// bond or other software interface has none.
    pub module: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultIpv4 {
    pub address: Option<Ipv4Addr>,
    pub interface: Option<String>,
    pub gateway: Option<Ipv4Addr>,
}

/// The fact lookup over the three layouts a cache file may have.
struct Facts<'a> {
    top: &'a Map<String, Value>,
    nested: Option<&'a Map<String, Value>>,
}

impl<'a> Facts<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        let prefixed = format!("ansible_{key}");
        self.top.get(&prefixed).or_else(|| {
            let n = self.nested?;
            n.get(key).or_else(|| n.get(&prefixed))
        })
    }

    fn str(&self, key: &str) -> Option<String> {
        self.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    }
}

fn prefix_of_mask(mask: &str) -> Option<u8> {
    let m: Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(m);
    // A netmask is contiguous ones; anything else is not one.
    (bits.leading_ones() + bits.trailing_zeros() == 32).then_some(bits.leading_ones() as u8)
}

fn as_u8(v: Option<&Value>) -> Option<u8> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn ipv4_entry(v: &Value) -> Option<(Ipv4Addr, u8)> {
    let addr: Ipv4Addr = v.get("address")?.as_str()?.parse().ok()?;
    let prefix = as_u8(v.get("prefix"))
        .or_else(|| {
            v.get("netmask")
                .and_then(Value::as_str)
                .and_then(prefix_of_mask)
        })
        .unwrap_or(32);
    Some((addr, prefix))
}

fn ipv6_entry(v: &Value) -> Option<(Ipv6Addr, u8)> {
    let addr: Ipv6Addr = v.get("address")?.as_str()?.parse().ok()?;
    Some((addr, as_u8(v.get("prefix")).unwrap_or(128)))
}

fn iface(name: &str, v: &Value) -> IfaceFacts {
    let mut ipv4 = Vec::new();
    if let Some(p) = v.get("ipv4").and_then(ipv4_entry) {
        ipv4.push(p);
    }
    if let Some(Value::Array(sec)) = v.get("ipv4_secondaries") {
        ipv4.extend(sec.iter().filter_map(ipv4_entry));
    }
    let ipv6 = match v.get("ipv6") {
        Some(Value::Array(a)) => a.iter().filter_map(ipv6_entry).collect(),
        _ => Vec::new(),
    };
    IfaceFacts {
        name: v
            .get("device")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string(),
        // Loopbacks report 00:00:00:00:00:00, which is no NIC: no MAC.
        // Bond members all show the bond's MAC; the permanent one is
        // the NIC's (what its firmware PXE-boots with, what LLDP sees).
        mac: ["perm_macaddress", "macaddress"].iter().find_map(|k| {
            v.get(*k)
                .and_then(Value::as_str)
                .and_then(|m| m.parse().ok())
        }),
        ipv4,
        ipv6,
        kind: v.get("type").and_then(Value::as_str).map(str::to_string),
        active: v.get("active").and_then(Value::as_bool),
        mtu: match v.get("mtu") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        },
        members: match v.get("slaves") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        },
        bond_mode: v
            .get("mode")
            .and_then(Value::as_str)
            .filter(|_| v.get("type").and_then(Value::as_str) == Some("bonding"))
            .map(str::to_string),
        bond_params: if v.get("type").and_then(Value::as_str) == Some("bonding") {
            ["lacp_rate", "miimon", "primary"]
                .into_iter()
                .filter_map(|k| {
                    let x = match v.get(k)? {
                        Value::String(s) => s.split_whitespace().next()?.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((k, x))
                })
                .collect()
        } else {
            Vec::new()
        },
        module: v
            .get("module")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string),
    }
}

/// DMI values firmware ships unfilled, and what Ansible reports when it
/// cannot read them (`NA`, without root): none of them names the machine.
/// A real one is kept (a node's `serial` is part of its cloud-init
/// instance-id), a placeholder never (it would be the same on every
/// board of a vendor).
const DMI_PLACEHOLDERS: &[&str] = &[
    "to be filled by o.e.m.",
    "to be filled by oem",
    "system serial number",
    "system product name",
    "chassis serial number",
    "default string",
    "not specified",
    "not applicable",
    "not available",
    "none",
    "na",
    "n/a",
    "0",
    "00000000",
    "0123456789",
    "123456789",
    "unknown",
    "invalid",
];

/// A DMI string that names the machine: not a placeholder, not empty,
/// printable and of a sane length.
fn real_dmi(s: &str) -> Option<String> {
    let t = s.trim();
    let placeholder = DMI_PLACEHOLDERS.iter().any(|p| t.eq_ignore_ascii_case(p))
        || t.bytes().all(|b| b == b'0' || b == b' ');
    (!placeholder && t.len() <= 64 && t.chars().all(|c| !c.is_control())).then(|| t.to_string())
}

/// The fact key of a device name: Ansible replaces `-`, `.` and `:`.
fn fact_key(name: &str) -> String {
    name.replace(['-', '.', ':'], "_")
}

/// Facts read whole; everything else is skipped without being built.
const WANTED: &[&str] = &[
    "hostname",
    "fqdn",
    "interfaces",
    "default_ipv4",
    "all_ipv4_addresses",
    "all_ipv6_addresses",
    "distribution",
    "distribution_version",
    "product_serial",
    "product_name",
    "date_time",
    // Network facts (a switch's entry).
    "net_hostname",
    "net_system",
    "net_version",
    "net_api",
];

/// The keys of an interface fact that are read.
const IFACE_KEYS: &[&str] = &[
    "device",
    "macaddress",
    "perm_macaddress",
    "mtu",
    "slaves",
    "mode",
    "lacp_rate",
    "miimon",
    "primary",
    "ipv4",
    "ipv4_secondaries",
    "ipv6",
    "type",
    "active",
    "module",
];

/// Reads a cache file keeping only what [`parse`] looks at: the wanted
/// facts, and the interface-looking parts of other objects. A real fact
/// cache entry is tens of kilobytes (`ansible_env`, `ansible_mounts`,
/// `ansible_devices`, per-NIC `features`…); building all of it as JSON
/// values would be most of the state report's time on a large fleet.
/// `Ok(None)` when the file is JSON but not an object.
fn pick(text: &str) -> Result<Option<Map<String, Value>>, ParseProblem> {
    let mut de = serde_json::Deserializer::from_str(text);
    let picked = Picker { nested: false }
        .deserialize(&mut de)
        .and_then(|p| de.end().map(|_| p));
    picked.map_err(|e| ParseProblem::json(text, &e))
}

/// The top level (or the `ansible_facts` namespace, `nested`).
struct Picker {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for Picker {
    type Value = Option<Map<String, Value>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Skips any value but an object (then `None`).
macro_rules! not_an_object {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

impl<'de> Visitor<'de> for Picker {
    type Value = Option<Map<String, Value>>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of facts")
    }
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = m.next_key::<String>()? {
            let bare = key.strip_prefix("ansible_").unwrap_or(&key);
            if key == "ansible_facts" && !self.nested {
                if let Some(n) = m.next_value_seed(Picker { nested: true })? {
                    out.insert(key, Value::Object(n));
                }
            } else if WANTED.contains(&bare) {
                let v: Value = m.next_value()?;
                out.insert(key, v);
            } else if let Some(i) = m.next_value_seed(IfacePicker)? {
                out.insert(key, Value::Object(i));
            }
        }
        Ok(Some(out))
    }
}

/// Keeps the interface keys of an object; `None` for anything else.
struct IfacePicker;

impl<'de> DeserializeSeed<'de> for IfacePicker {
    type Value = Option<Map<String, Value>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IfacePicker {
    type Value = Option<Map<String, Value>>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = m.next_key::<String>()? {
            if IFACE_KEYS.contains(&key.as_str()) {
                let v: Value = m.next_value()?;
                out.insert(key, v);
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// Parses one cache file.
pub fn parse(
    inventory_name: &str,
    path: &str,
    text: &str,
) -> (Option<HostFacts>, Vec<ParseProblem>) {
    if text.trim().is_empty() {
        return (None, vec![ParseProblem::new("file is empty")]);
    }
    let picked = match pick(text) {
        Ok(p) => p,
        Err(p) => return (None, vec![p]),
    };
    let Some(top) = &picked else {
        return (
            None,
            vec![ParseProblem::new(
                "expected a JSON object of facts (an Ansible jsonfile fact cache entry)",
            )],
        );
    };
    let facts = Facts {
        top,
        nested: top.get("ansible_facts").and_then(Value::as_object),
    };
    let names: Vec<String> = match facts.get("interfaces") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    // A switch's entry: network facts, no host facts.
    let network = names.is_empty()
        && facts.get("hostname").is_none()
        && facts.get("fqdn").is_none()
        && ["net_hostname", "net_system", "net_version", "net_api"]
            .iter()
            .any(|k| facts.get(k).is_some());
    if names.is_empty()
        && facts.get("hostname").is_none()
        && facts.get("fqdn").is_none()
        && !network
    {
        return (
            None,
            vec![ParseProblem::new(
                "no `ansible_hostname`, `ansible_fqdn` or `ansible_interfaces`: not an Ansible fact cache entry (was the cache written with `gather_facts: false`?)",
            )],
        );
    }
    let mut problems = Vec::new();
    let mut interfaces: Vec<IfaceFacts> = Vec::new();
    for name in &names {
        match facts.get(name).or_else(|| facts.get(&fact_key(name))) {
            Some(v @ Value::Object(_)) => interfaces.push(iface(name, v)),
            _ => problems.push(ParseProblem::new(format!(
                "`ansible_interfaces` lists `{name}` but there is no `ansible_{}` fact; its MAC and addresses are unknown",
                fact_key(name)
            ))),
        }
    }
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    interfaces.dedup_by(|a, b| a.name == b.name);
    let addrs = |key: &str| -> Vec<String> {
        match facts.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut all_ipv4: Vec<Ipv4Addr> = addrs("all_ipv4_addresses")
        .iter()
        .filter_map(|a| a.parse().ok())
        .chain(interfaces.iter().flat_map(|i| i.ipv4.iter().map(|a| a.0)))
        .collect();
    all_ipv4.sort();
    all_ipv4.dedup();
    let mut all_ipv6: Vec<Ipv6Addr> = addrs("all_ipv6_addresses")
        .iter()
        .filter_map(|a| a.parse().ok())
        .chain(interfaces.iter().flat_map(|i| i.ipv6.iter().map(|a| a.0)))
        .collect();
    all_ipv6.sort();
    all_ipv6.dedup();
    let default_ipv4 = facts
        .get("default_ipv4")
        .and_then(Value::as_object)
        .and_then(|d| {
            if d.is_empty() {
                return None;
            }
            Some(DefaultIpv4 {
                address: d
                    .get("address")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok()),
                interface: d
                    .get("interface")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                gateway: d
                    .get("gateway")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok()),
            })
        });
    let gathered = facts.get("date_time").and_then(|dt| {
        let epoch = match dt.get("epoch")? {
            Value::String(e) => e.trim().parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }?;
        let date = dt.get("date").and_then(Value::as_str).map(str::to_string);
        Some((epoch, date))
    });
    let distribution = match (facts.str("distribution"), facts.str("distribution_version")) {
        (Some(d), Some(v)) => Some(format!("{d} {v}")),
        (d, _) => d,
    };
    (
        Some(HostFacts {
            inventory_name: inventory_name.to_string(),
            path: path.to_string(),
            hostname: facts.str("hostname").or_else(|| facts.str("net_hostname")),
            fqdn: facts.str("fqdn"),
            interfaces,
            all_ipv4,
            all_ipv6,
            default_ipv4,
            distribution,
            serial: facts.str("product_serial").as_deref().and_then(real_dmi),
            model: facts.str("product_name").as_deref().and_then(real_dmi),
            gathered,
            network,
        }),
        problems,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAT: &str = r#"{
        "ansible_hostname": "r01n01",
        "ansible_fqdn": "r01n01.dc1.example.net",
        "ansible_interfaces": ["lo", "eno1", "bond0.100"],
        "ansible_lo": {"device": "lo", "macaddress": "00:00:00:00:00:00", "type": "loopback",
                        "ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0", "prefix": "8"},
                        "ipv4_secondaries": [{"address": "10.255.0.5", "netmask": "255.255.255.255", "prefix": "32"}]},
        "ansible_eno1": {"device": "eno1", "macaddress": "52:54:00:01:01:01", "active": true, "type": "ether",
                         "ipv4": {"address": "10.0.0.40", "netmask": "255.255.252.0"},
                         "ipv6": [{"address": "fe80::5054:ff:fe01:101", "prefix": "64", "scope": "link"}]},
        "ansible_bond0_100": {"device": "bond0.100", "macaddress": "52:54:00:01:01:03", "type": "ether"},
        "ansible_default_ipv4": {"address": "10.0.0.40", "interface": "eno1", "gateway": "10.0.0.1"},
        "ansible_distribution": "Debian", "ansible_distribution_version": "12"
    }"#;

    #[test]
    fn gathered_at() {
        let t = r#"{"ansible_hostname": "h", "ansible_date_time": {"epoch": "1733529600", "date": "2024-12-07"}}"#;
        let f = parse("h", "h", t).0.unwrap();
        assert_eq!(
            f.gathered,
            Some((1733529600, Some("2024-12-07".to_string())))
        );
        let t = r#"{"ansible_facts": {"hostname": "h", "date_time": {"epoch": 5}}}"#;
        assert_eq!(parse("h", "h", t).0.unwrap().gathered, Some((5, None)));
        assert_eq!(parse("h", "h", FLAT).0.unwrap().gathered, None);
    }

    #[test]
    fn flat_cache() {
        let (f, p) = parse("r01n01", "f/r01n01", FLAT);
        assert!(p.is_empty(), "{p:?}");
        let f = f.unwrap();
        assert_eq!(f.hostname.as_deref(), Some("r01n01"));
        let names: Vec<&str> = f.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["bond0.100", "eno1", "lo"]);
        let eno1 = &f.interfaces[1];
        assert_eq!(eno1.ipv4, [("10.0.0.40".parse().unwrap(), 22)]);
        assert_eq!(eno1.mac.unwrap().to_string(), "52:54:00:01:01:01");
        assert_eq!(f.interfaces[2].mac, None);
        assert!(f.all_ipv4.contains(&"10.255.0.5".parse().unwrap()));
        assert_eq!(f.distribution.as_deref(), Some("Debian 12"));
        assert_eq!(
            f.default_ipv4.unwrap().gateway,
            Some("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn bond_members_by_their_permanent_mac() {
        // A bond member shows the bond's MAC; its own is `perm_macaddress`.
        let t = r#"{"ansible_hostname": "h", "ansible_interfaces": ["ens1f0", "ens1f1", "bond0"],
            "ansible_ens1f0": {"macaddress": "52:54:00:0b:00:04", "perm_macaddress": "52:54:00:0b:00:04", "type": "ether", "mtu": 9000},
            "ansible_ens1f1": {"macaddress": "52:54:00:0b:00:04", "perm_macaddress": "52:54:00:0b:00:05", "type": "ether", "mtu": "9000"},
            "ansible_bond0": {"macaddress": "52:54:00:0b:00:04", "type": "bonding", "mode": "802.3ad",
                              "slaves": ["ens1f0", "ens1f1"], "miimon": "100"}}"#;
        let (f, p) = parse("h", "h", t);
        assert!(p.is_empty(), "{p:?}");
        let f = f.unwrap();
        let by = |n: &str| f.interfaces.iter().find(|i| i.name == n).unwrap();
        assert_eq!(by("ens1f1").mac.unwrap().to_string(), "52:54:00:0b:00:05");
        assert_eq!(by("ens1f1").mtu, Some(9000));
        let bond = by("bond0");
        assert_eq!(bond.members, ["ens1f0", "ens1f1"]);
        assert_eq!(bond.bond_mode.as_deref(), Some("802.3ad"));
        assert_eq!(bond.bond_params, [("miimon", "100".to_string())]);
        assert_eq!(by("ens1f0").bond_mode, None);
    }

    #[test]
    fn nested_namespaces() {
        // `ansible_facts` with the prefix dropped, as the setup module's
        // own result and some cache writers keep it.
        let t = r#"{"ansible_facts": {"hostname": "x", "interfaces": ["eth0"],
            "eth0": {"macaddress": "52:54:00:00:00:09"}}, "changed": false}"#;
        let (f, p) = parse("x", "x", t);
        assert!(p.is_empty());
        assert_eq!(f.unwrap().interfaces[0].name, "eth0");
        let t = r#"{"ansible_facts": {"ansible_hostname": "y"}}"#;
        assert_eq!(parse("y", "y", t).0.unwrap().hostname.as_deref(), Some("y"));
    }

    #[test]
    fn malformed() {
        assert!(parse("x", "x", "[]").0.is_none());
        assert!(parse("x", "x", "{\"a\": 1}").0.is_none());
        assert!(parse("x", "x", "{\"ansible_hostname\": ").0.is_none());
        let (f, p) = parse(
            "x",
            "x",
            r#"{"ansible_hostname": "x", "ansible_interfaces": ["eth9", 3], "ansible_eth9": "no"}"#,
        );
        assert!(f.is_some());
        assert_eq!(p.len(), 1);
        assert_eq!(prefix_of_mask("255.255.0.255"), None);
        assert_eq!(prefix_of_mask("255.255.255.0"), Some(24));
    }

    #[test]
    fn serial_and_model_without_placeholders() {
        let t = r#"{"ansible_hostname": "h", "ansible_product_serial": "DPF0R36",
            "ansible_product_name": "PowerEdge R760xd2"}"#;
        let f = parse("h", "h", t).0.unwrap();
        assert_eq!(f.serial.as_deref(), Some("DPF0R36"));
        assert_eq!(f.model.as_deref(), Some("PowerEdge R760xd2"));
        for p in [
            "To Be Filled By O.E.M.",
            "None",
            "0",
            "System Serial Number",
            "NA",
            " ",
            "0000",
        ] {
            assert_eq!(real_dmi(p), None, "{p}");
        }
        let t = r#"{"ansible_hostname": "h", "ansible_product_serial": "To Be Filled By O.E.M."}"#;
        assert_eq!(parse("h", "h", t).0.unwrap().serial, None);
    }

    #[test]
    fn a_switch_entry_with_network_facts_is_read_for_its_hostname() {
        let t = r#"{"ansible_net_hostname": "r01-tor1", "ansible_net_system": "frr", "discovered_interpreter_python": "/usr/bin/python3"}"#;
        let (f, p) = parse("r01-tor1", "r01-tor1", t);
        assert!(p.is_empty(), "{p:?}");
        let f = f.unwrap();
        assert!(f.network);
        assert_eq!(f.hostname.as_deref(), Some("r01-tor1"));
        assert!(f.interfaces.is_empty());
        // Nested under `ansible_facts`, without a hostname: still a switch.
        let t = r#"{"ansible_facts": {"net_system": "frr", "net_api": "cliconf"}}"#;
        let (f, p) = parse("s", "s", t);
        assert!(p.is_empty() && f.is_some_and(|f| f.network && f.hostname.is_none()));
        // Neither host nor network facts: still not a fact cache entry.
        let (f, p) = parse("x", "x", r#"{"foo": 1}"#);
        assert!(f.is_none() && p.len() == 1);
    }
}
