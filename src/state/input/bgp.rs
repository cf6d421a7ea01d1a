//! FRR BGP summaries: `vtysh -c 'show bgp summary json'`, one file per
//! host, named `<host>.json`.
//!
//! The document has one object per address family (`ipv4Unicast`,
//! `ipv6Unicast`, …), each with `peers` keyed by the neighbour: an address
//! for a numbered session, the interface name for an unnumbered one
//! (`idType: "interface"`). Each peer has `state` (`Established`,
//! `Active`, `Idle (Admin)`…), the far end's `hostname` once it has been
//! heard, and `remoteAs`. Each family also gives the host's own AS
//! (`as`) and `routerId`. `show bgp vrf all summary json` wraps the same in
//! an object per VRF; the `default` VRF is read from it. A host without a
//! BGP instance prints `{}`.

use serde_json::Value;

use super::{parse_json, ParseProblem};

/// One host's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpSummary {
    pub host: String,
    pub path: String,
    /// In file order, family by family.
    pub peers: Vec<PeerState>,
    /// The host's own AS (`as` of the first family that gives one).
    pub local_as: Option<u64>,
    /// Peers listed with a `state` that could not be read (reported as
    /// SC1008 once): their sessions are not reported again as missing.
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerState {
    /// `ipv4Unicast`, `ipv6Unicast`, …
    pub family: String,
    /// The peer's key: an address, or an interface name when unnumbered.
    pub key: String,
    /// `Established`, `Active`, `Connect`, `Idle (Admin)`…
    pub state: String,
    /// What the far end calls itself (FRR learns it from the hostname capability).
    pub hostname: Option<String>,
    pub remote_as: Option<u64>,
}

impl PeerState {
    pub fn established(&self) -> bool {
        self.state == "Established"
    }
}

impl BgpSummary {
    /// The peer with this key, preferring IPv4 unicast (an unnumbered
    /// session shows in both families with the same state).
    pub fn peer(&self, key: &str) -> Option<&PeerState> {
        let mut found = self.peers.iter().filter(|p| p.key == key);
        let first = found.next()?;
        if first.family == "ipv4Unicast" {
            return Some(first);
        }
        Some(found.find(|p| p.family == "ipv4Unicast").unwrap_or(first))
    }
}

fn is_family(v: &Value) -> bool {
    v.get("peers").is_some() || v.get("routerId").is_some()
}

/// Parses one summary.
pub fn parse(host: &str, path: &str, text: &str) -> (Option<BgpSummary>, Vec<ParseProblem>) {
    let root = match parse_json(text) {
        Ok(v) => v,
        Err(p) => return (None, vec![p]),
    };
    let Value::Object(top) = &root else {
        return (
            None,
            vec![ParseProblem::new(
                "expected a JSON object (the output of `show bgp summary json`)",
            )],
        );
    };
    // `show bgp vrf all summary json`: families under a VRF name.
    let families = if top.values().any(is_family) || top.is_empty() {
        top
    } else {
        match top.get("default").and_then(Value::as_object) {
            Some(d) => d,
            None => {
                return (
                    None,
                    vec![ParseProblem::new(
                        "no address family (`ipv4Unicast`, …) and no `default` VRF: not the output of `show bgp summary json`",
                    )],
                )
            }
        }
    };
    let mut problems = Vec::new();
    let mut peers = Vec::new();
    let mut local_as = None;
    let mut unreadable: Vec<String> = Vec::new();
    for (family, body) in families {
        if !is_family(body) {
            continue;
        }
        match body.get("as") {
            Some(v) if v.as_u64().is_none() => problems.push(ParseProblem::new(format!(
                "`{family}.as` is {v}, not an AS number; the host's own AS is not compared"
            ))),
            Some(v) if local_as.is_none() => local_as = v.as_u64(),
            _ => {}
        }
        let Some(list) = body.get("peers") else {
            continue;
        };
        let Some(list) = list.as_object() else {
            problems.push(ParseProblem::new(format!(
                "`{family}.peers` is not an object; that family is skipped"
            )));
            continue;
        };
        for (key, p) in list {
            let state = p
                .get("state")
                .and_then(Value::as_str)
                // Builds without `state` have only the coarse peerState.
                .or_else(|| {
                    p.get("peerState").and_then(Value::as_str).map(|s| {
                        if s == "OK" {
                            "Established"
                        } else {
                            s
                        }
                    })
                });
            let Some(state) = state else {
                // At the peer's key, found after its family's.
                let quoted = format!("\"{key}\"");
                let range = text
                    .find(&format!("\"{family}\""))
                    .and_then(|f| text[f..].find(&quoted).map(|i| f + i))
                    .map(|i| (i, i + quoted.len()));
                problems.push(ParseProblem {
                    range,
                    ..ParseProblem::new(match p.get("state") {
                    Some(v) => format!(
                        "peer `{key}` in `{family}` has `state` {v}, not a state name such as \"Established\"; its session is not compared"
                    ),
                    None => format!(
                        "peer `{key}` in `{family}` has no `state`; its session is not compared"
                    ),
                })
                });
                if !unreadable.contains(key) {
                    unreadable.push(key.clone());
                }
                continue;
            };
            // `peerState: "Admin"`: shut down by configuration
            // (`neighbor … shutdown`), which the plain `Idle` hides.
            let admin = p.get("peerState").and_then(Value::as_str) == Some("Admin");
            let state = if admin && state == "Idle" {
                "Idle (admin-down: `neighbor … shutdown`)".to_string()
            } else {
                state.to_string()
            };
            peers.push(PeerState {
                family: family.clone(),
                key: key.clone(),
                state,
                hostname: p
                    .get("hostname")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                remote_as: p.get("remoteAs").and_then(Value::as_u64),
            });
        }
    }
    (
        Some(BgpSummary {
            host: host.to_string(),
            path: path.to_string(),
            peers,
            local_as,
            unreadable,
        }),
        problems,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnumbered_and_numbered() {
        let t = r#"{
          "ipv4Unicast": {"routerId": "10.255.0.5", "as": 4200000005, "peers": {
            "eno1": {"hostname": "r01-tor1", "remoteAs": 4200000001, "state": "Established", "peerState": "OK", "idType": "interface"},
            "10.0.0.1": {"remoteAs": 64512, "state": "Active", "peerState": "OK", "idType": "ipv4"}}},
          "ipv6Unicast": {"routerId": "10.255.0.5", "peers": {
            "eno1": {"hostname": "r01-tor1", "state": "Established", "idType": "interface"}}}
        }"#;
        let (s, p) = parse("r01n01", "b/r01n01.json", t);
        assert!(p.is_empty());
        let s = s.unwrap();
        assert_eq!(s.peers.len(), 3);
        let eno1 = s.peer("eno1").unwrap();
        assert!(eno1.established());
        assert_eq!(eno1.family, "ipv4Unicast");
        assert_eq!(eno1.hostname.as_deref(), Some("r01-tor1"));
        assert_eq!(s.local_as, Some(4200000005));
        assert!(!s.peer("10.0.0.1").unwrap().established());
        assert!(s.peer("eno9").is_none());
    }

    #[test]
    fn vrf_all_and_empty() {
        let t = r#"{"default": {"ipv4Unicast": {"peers": {"swp1": {"state": "Idle (Admin)"}}}}}"#;
        let s = parse("h", "h", t).0.unwrap();
        assert_eq!(s.peers[0].state, "Idle (Admin)");
        assert_eq!(s.local_as, None);
        assert!(parse("h", "h", "{}").0.unwrap().peers.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(parse("h", "h", "% BGP instance not found").0.is_none());
        assert!(parse("h", "h", "[]").0.is_none());
        assert!(parse("h", "h", r#"{"x": {"y": 1}}"#).0.is_none());
        let (s, p) = parse(
            "h",
            "h",
            r#"{"ipv4Unicast": {"peers": {"a": {"remoteAs": 1}, "b": {"state": "Established"}}}}"#,
        );
        let s = s.unwrap();
        assert_eq!(s.peers.len(), 1);
        assert_eq!(s.unreadable, ["a"]);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("has no `state`"), "{}", p[0].message);
        let (s, p) = parse(
            "h",
            "h",
            r#"{"ipv4Unicast": {"as": "x", "peers": {"eno1": {"state": 5}}}}"#,
        );
        assert_eq!(s.unwrap().unreadable, ["eno1"]);
        assert!(
            p[0].message.contains("not an AS number"),
            "{}",
            p[0].message
        );
        assert!(p[1].message.contains("`state` 5"), "{}", p[1].message);
    }

    #[test]
    fn an_admin_down_peer_says_so() {
        let t = r#"{"ipv4Unicast": {"peers": {"swp1": {"state": "Idle", "peerState": "Admin"}, "swp2": {"state": "Idle", "peerState": "OK"}}}}"#;
        let (s, p) = parse("h", "h.json", t);
        assert!(p.is_empty(), "{p:?}");
        let s = s.unwrap();
        assert!(s.peers[0].state.contains("admin-down"), "{:?}", s.peers[0]);
        assert_eq!(s.peers[1].state, "Idle");
    }
}
