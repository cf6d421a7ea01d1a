//! LLDP neighbour tables: `lldpcli -f json show neighbors details` (or
//! `-f json0`) from lldpd, one file per host, named `<host>.json`.
//!
//! lldpd's `json` writer collapses one-element lists and keys objects by
//! their `name`, so the same table has several shapes:
//!
//! ```text
//! one neighbour:   {"lldp": {"interface": {"eno1": {"chassis": {"sw1": {"id": …}}, "port": {…}}}}}
//! several:         {"lldp": {"interface": [{"eno1": {…}}, {"eno2": {…}}]}}
//! no sysname:      "chassis": {"id": {"type": "mac", "value": "…"}, …}
//! json0 (stable):  {"lldp": [{"interface": [{"name": "eno1", "chassis": [{"name": [{"value": "sw1"}], …}], …}]}]}
//! ```
//!
//! All are read the same way: [`one`] takes the first element of a list,
//! [`text`] unwraps `{"value": …}`, so the walk below never cares which
//! writer produced the file.

use serde_json::Value;

use super::{parse_json_pruned, ParseProblem};
use crate::model::Mac;

/// What the comparison never reads: skipped while parsing (a switch's
/// table with 48 neighbours is mostly this). Skipped at any depth, so
/// only names that cannot be a host or interface name (in the `json`
/// format those are keys too) are listed.
const SKIP: &[&str] = &[
    "capability",
    "auto-negotiation",
    "mgmt-ip",
    "mgmt-iface",
    "lldp-med",
    "unknown-tlvs",
    "ppvid",
];

/// One host's neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LldpDump {
    /// The host the file is named after.
    pub host: String,
    pub path: String,
    pub neighbors: Vec<LldpNeighbor>,
}

/// What one local interface hears from its neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LldpNeighbor {
    /// The interface of the host that wrote the dump.
    pub local_port: String,
    /// The neighbour's system name (often its FQDN).
    pub sysname: Option<String>,
    /// Chassis id: subtype (`mac`, `local`, `ip`, …) and value.
    pub chassis_id: Option<(String, String)>,
    /// Port id: subtype (`ifname`, `mac`, `local`, …) and value.
    pub port_id: Option<(String, String)>,
    pub port_descr: Option<String>,
}

impl LldpNeighbor {
    /// The MAC of the neighbour's port: the port id when it is a MAC
    /// (lldpd's default on Linux), else the chassis MAC.
    pub fn port_mac(&self) -> Option<Mac> {
        match &self.port_id {
            Some((t, v)) if t == "mac" => v.parse().ok(),
            _ => self.chassis_mac(),
        }
    }

    pub fn chassis_mac(&self) -> Option<Mac> {
        match &self.chassis_id {
            Some((t, v)) if t == "mac" => v.parse().ok(),
            _ => None,
        }
    }

    /// The neighbour's port name: the port id when it is an interface name
    /// or locally assigned, else the port description (lldpd puts the
    /// interface name there when the id is a MAC).
    pub fn port_name(&self) -> Option<&str> {
        match &self.port_id {
            Some((t, v)) if t == "ifname" || t == "local" || t == "ifalias" => Some(v.as_str()),
            _ => self.port_descr.as_deref(),
        }
    }
}

/// The first element of a list, or the value itself.
fn one(v: &Value) -> &Value {
    match v {
        Value::Array(a) => a.first().unwrap_or(&Value::Null),
        _ => v,
    }
}

/// A scalar as text: a string, a number, or json0's `[{"value": …}]`.
fn text(v: &Value) -> Option<String> {
    match one(v) {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("value").and_then(text),
        _ => None,
    }
}

/// A typed id (`{"type": …, "value": …}`).
fn typed(v: Option<&Value>) -> Option<(String, String)> {
    let v = one(v?);
    Some((text(v.get("type")?)?, text(v.get("value")?)?))
}

/// What a JSON value is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The interface entries, as (local name, body) pairs, in file order,
/// and what has a shape neither lldpd format gives (each said once): a
/// dump that says nothing must not pass for a host without neighbours.
fn interfaces(lldp: &Value) -> (Vec<(String, &Value)>, Vec<String>) {
    fn entry<'v>(e: &'v Value, out: &mut Vec<(String, &'v Value)>, odd: &mut Vec<String>) {
        let Value::Object(m) = e else {
            odd.push(format!(
                "an `interface` entry is {}, not an object",
                kind(e)
            ));
            return;
        };
        // json0 keeps the name as a field; json makes it the key.
        if let Some(name) = m.get("name").and_then(text) {
            if m.contains_key("chassis") || m.contains_key("port") || m.contains_key("via") {
                out.push((name, e));
                return;
            }
        }
        for (k, v) in m {
            if !matches!(one(v), Value::Object(_)) {
                odd.push(format!(
                    "interface `{k}` is {}, not an object with `chassis` and `port`",
                    kind(v)
                ));
                continue;
            }
            out.push((k.clone(), v));
        }
    }
    let mut out = Vec::new();
    let mut odd = Vec::new();
    match one(lldp) {
        Value::Object(m) => match m.get("interface") {
            Some(Value::Array(items)) => {
                for i in items {
                    entry(i, &mut out, &mut odd);
                }
            }
            Some(v @ Value::Object(_)) => entry(v, &mut out, &mut odd),
            Some(v) => odd.push(format!(
                "`lldp.interface` is {}, not an object or an array of interfaces",
                kind(v)
            )),
            None => {}
        },
        // `{"lldp": []}`, `{"lldp": null}`: no neighbours.
        Value::Null => {}
        v => odd.push(format!("`lldp` is {}, not an object", kind(v))),
    }
    odd.dedup();
    (out, odd)
}

/// The chassis: (sysname, the object holding `id`).
fn chassis(c: &Value) -> (Option<String>, &Value) {
    let c = one(c);
    if let Some(name) = c.get("name").and_then(text) {
        return (Some(name), c);
    }
    if c.get("id").is_some_and(|id| one(id).get("type").is_some()) {
        return (None, c);
    }
    if let Value::Object(m) = c {
        if let Some((k, v)) = m.iter().next() {
            if v.is_object() {
                return (Some(k.clone()), v);
            }
        }
    }
    (None, c)
}

/// Parses one dump. An entry without a port id is kept (its chassis still
/// says which switch the interface sees) but reported.
pub fn parse(host: &str, path: &str, text_: &str) -> (Option<LldpDump>, Vec<ParseProblem>) {
    let root = match parse_json_pruned(text_, SKIP) {
        Ok(v) => v,
        Err(p) => return (None, vec![p]),
    };
    let Some(lldp) = root.get("lldp") else {
        return (
            None,
            vec![ParseProblem::new(
                "no `lldp` key at the top: expected the output of `lldpcli -f json show neighbors details`",
            )],
        );
    };
    let (entries, odd) = interfaces(lldp);
    let mut problems: Vec<ParseProblem> = odd
        .into_iter()
        .map(|m| {
            ParseProblem::new(format!(
                "{m}: not the output of `lldpcli -f json show neighbors details`; skipped"
            ))
        })
        .collect();
    let mut neighbors = Vec::new();
    for (local_port, body) in entries {
        let (sysname, ch) = match body.get("chassis") {
            Some(c) => chassis(c),
            None => (None, &Value::Null),
        };
        let chassis_id = typed(ch.get("id"));
        let port = body.get("port").map(one);
        let port_id = typed(port.and_then(|p| p.get("id")));
        let port_descr = port.and_then(|p| p.get("descr")).and_then(text);
        if sysname.is_none() && chassis_id.is_none() {
            problems.push(ParseProblem::new(format!(
                "neighbour on `{local_port}` has neither a system name nor a chassis id; skipped"
            )));
            continue;
        }
        neighbors.push(LldpNeighbor {
            local_port,
            sysname,
            chassis_id,
            port_id,
            port_descr,
        });
    }
    (
        Some(LldpDump {
            host: host.to_string(),
            path: path.to_string(),
            neighbors,
        }),
        problems,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(t: &str) -> Vec<LldpNeighbor> {
        let (d, p) = parse("h", "h.json", t);
        assert!(p.is_empty(), "{p:?}");
        d.unwrap().neighbors
    }

    #[test]
    fn single_object_form() {
        let n = parse_ok(
            r#"{"lldp": {"interface": {"eno1": {"via": "LLDP", "rid": "1",
              "chassis": {"r01-tor1.dc1.example.net": {"id": {"type": "mac", "value": "0c:42:a1:00:00:01"}, "descr": "Cumulus Linux"}},
              "port": {"id": {"type": "ifname", "value": "swp1"}, "descr": "swp1", "ttl": "120"}}}}}"#,
        );
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].local_port, "eno1");
        assert_eq!(n[0].sysname.as_deref(), Some("r01-tor1.dc1.example.net"));
        assert_eq!(n[0].port_name(), Some("swp1"));
        assert_eq!(
            n[0].chassis_mac().map(|m| m.to_string()).as_deref(),
            Some("0c:42:a1:00:00:01")
        );
    }

    #[test]
    fn list_form_and_mac_port_ids() {
        let n = parse_ok(
            r#"{"lldp": {"interface": [
              {"swp1": {"chassis": {"r01n01": {"id": {"type": "mac", "value": "52:54:00:01:01:01"}}},
                        "port": {"id": {"type": "mac", "value": "52:54:00:01:01:01"}, "descr": "eno1"}}},
              {"swp2": {"chassis": {"id": {"type": "local", "value": "abc"}},
                        "port": {"id": {"type": "mac", "value": "52:54:00:01:02:01"}}}}]}}"#,
        );
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].port_name(), Some("eno1"));
        assert_eq!(
            n[1].port_mac().map(|m| m.to_string()).as_deref(),
            Some("52:54:00:01:02:01")
        );
        assert_eq!(n[1].sysname, None);
    }

    #[test]
    fn json0_form() {
        let n = parse_ok(
            r#"{"lldp": [{"interface": [{"name": "eno1", "via": "LLDP",
              "chassis": [{"id": [{"type": "mac", "value": "0c:42:a1:00:00:01"}], "name": [{"value": "r01-tor1"}]}],
              "port": [{"id": [{"type": "ifname", "value": "swp1"}], "descr": [{"value": "to r01n01"}]}]}]}]}"#,
        );
        assert_eq!(n[0].sysname.as_deref(), Some("r01-tor1"));
        assert_eq!(n[0].port_name(), Some("swp1"));
        assert_eq!(n[0].port_descr.as_deref(), Some("to r01n01"));
    }

    #[test]
    fn empty_tables() {
        assert!(parse_ok(r#"{"lldp": {}}"#).is_empty());
        assert!(parse_ok(r#"{"lldp": [{"interface": []}]}"#).is_empty());
    }

    #[test]
    fn malformed() {
        let (d, p) = parse("h", "h.json", "{\"lldp\": ");
        assert!(d.is_none());
        assert_eq!(p.len(), 1);
        let (d, p) = parse("h", "h.json", "[1, 2]");
        assert!(d.is_none());
        assert!(p[0].message.contains("no `lldp` key"));
        // Strange shapes never panic.
        for t in [
            r#"{"lldp": "x"}"#,
            r#"{"lldp": {"interface": 3}}"#,
            r#"{"lldp": {"interface": [null, 1, {"eno1": 2}]}}"#,
            r#"{"lldp": {"interface": {"eno1": {"chassis": [], "port": 1}}}}"#,
        ] {
            let _ = parse("h", "h.json", t);
        }
        // Odd shapes are said, not read as "no neighbours".
        for t in [
            r#"{"lldp": {"interface": "eno1"}}"#,
            r#"{"lldp": "x"}"#,
            r#"{"lldp": {"interface": [null, {"eno1": 2}]}}"#,
        ] {
            let (d, p) = parse("h", "h.json", t);
            assert!(d.unwrap().neighbors.is_empty());
            assert!(!p.is_empty(), "{t}");
        }
        // A host without neighbours is no problem.
        for t in [
            r#"{"lldp": {}}"#,
            r#"{"lldp": []}"#,
            r#"{"lldp": [{"interface": []}]}"#,
        ] {
            assert!(parse("h", "h.json", t).1.is_empty(), "{t}");
        }
    }
}
