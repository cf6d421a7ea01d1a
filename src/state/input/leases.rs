//! Kea DHCPv4 memfile leases (`kea-leases4.csv`).
//!
//! The file is an append-only journal with a header row. Kea 2.x writes
//! `address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,
//! fqdn_rev,hostname,state,user_context` and, since 2.5.3, `,pool_id`;
//! columns are found by name so either works. There is no quoting: Kea
//! escapes `,` (and `&`) inside values as `&#x2c` (`&#x26`). A later row
//! for an address replaces the earlier one, and a row with
//! `valid_lifetime` 0 removes the lease — as Kea itself does when it loads
//! the file. `state` is 0 (default), 1 (declined) or 2 (expired-reclaimed).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::ParseProblem;
use crate::model::Mac;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaseState {
    Default,
    Declined,
    ExpiredReclaimed,
    /// A state this reader does not know (newer Kea); kept, not guessed at.
    Other(u32),
}

impl LeaseState {
    fn from_code(n: u32) -> LeaseState {
        match n {
            0 => LeaseState::Default,
            1 => LeaseState::Declined,
            2 => LeaseState::ExpiredReclaimed,
            n => LeaseState::Other(n),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Default => "active",
            LeaseState::Declined => "declined",
            LeaseState::ExpiredReclaimed => "expired",
            LeaseState::Other(_) => "other",
        }
    }
}

/// One lease as it stands after the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    /// Absent on declined leases, which Kea strips of their client.
    pub hwaddr: Option<Mac>,
    /// The client's host name (unescaped), if it sent one.
    pub hostname: Option<String>,
    pub subnet_id: Option<u32>,
    pub state: LeaseState,
    /// 1-based line of the row that set this lease.
    pub line: usize,
}

/// The leases in effect and the rows that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// By address.
    pub leases: Vec<Lease>,
    pub rows: usize,
    pub problems: Vec<ParseProblem>,
    /// The file as a whole was unusable (no header).
    pub fatal: bool,
}

/// Undoes Kea's `&#xHH` escaping.
pub fn unescape(s: &str) -> String {
    if !s.contains("&#x") {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"&#x") && i + 5 <= b.len() {
            // Bytes, not a str slice: the two bytes may split a character.
            let hex = std::str::from_utf8(&b[i + 3..i + 5]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 5;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const REQUIRED: [&str; 2] = ["address", "hwaddr"];

/// Parses the whole file. Bad rows are reported with their line and
/// skipped; they never stop the rows after them.
pub fn parse(_path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut lines = text.split_inclusive('\n').scan(0usize, |off, l| {
        let start = *off;
        *off += l.len();
        Some((start, l.trim_end_matches(['\n', '\r'])))
    });
    let header = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some(h) => break Some(h),
            None => break None,
        }
    };
    let Some((hstart, header)) = header else {
        out.problems.push(ParseProblem::new(
            "file is empty: expected Kea's header row `address,hwaddr,client_id,…`",
        ));
        out.fatal = true;
        return out;
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    if REQUIRED.iter().any(|c| col(c).is_none()) {
        out.problems.push(ParseProblem {
            message: format!(
                "not a Kea DHCPv4 lease file: the header row lacks `{}` (it is `{}`)",
                REQUIRED
                    .iter()
                    .filter(|c| col(c).is_none())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("`, `"),
                header
            ),
            range: Some((hstart, hstart + header.len())),
        });
        out.fatal = true;
        return out;
    }
    let (c_addr, c_hw) = (col("address").unwrap_or(0), col("hwaddr").unwrap_or(1));
    let (c_valid, c_subnet, c_host, c_state) = (
        col("valid_lifetime"),
        col("subnet_id"),
        col("hostname"),
        col("state"),
    );
    let mut by_addr: BTreeMap<Ipv4Addr, Lease> = BTreeMap::new();
    let header_line = text[..hstart].matches('\n').count() + 1;
    for (n, (start, line)) in lines.enumerate() {
        let lineno = header_line + 1 + n;
        if line.trim().is_empty() {
            continue;
        }
        out.rows += 1;
        let bad = |msg: String| ParseProblem {
            message: format!("line {lineno}: {msg}; row skipped"),
            range: Some((start, start + line.len())),
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != cols.len() {
            out.problems.push(bad(format!(
                "{} fields where the header has {} (an unescaped comma?)",
                f.len(),
                cols.len()
            )));
            continue;
        }
        let address: Ipv4Addr = match f[c_addr].trim().parse() {
            Ok(a) => a,
            Err(_) => {
                out.problems
                    .push(bad(format!("`{}` is not an IPv4 address", f[c_addr])));
                continue;
            }
        };
        let hw = f[c_hw].trim();
        let hwaddr = if hw.is_empty() {
            None
        } else {
            match hw.parse::<Mac>() {
                Ok(m) => Some(m),
                Err(e) => {
                    out.problems.push(bad(e));
                    continue;
                }
            }
        };
        let num = |c: Option<usize>| -> Result<Option<u64>, String> {
            match c.map(|i| f[i].trim()) {
                None | Some("") => Ok(None),
                Some(v) => v
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("`{v}` is not a number")),
            }
        };
        let (valid, subnet, state) = match (num(c_valid), num(c_subnet), num(c_state)) {
            (Ok(v), Ok(s), Ok(st)) => (v, s, st),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                out.problems.push(bad(e));
                continue;
            }
        };
        if valid == Some(0) {
            // Kea's way of recording that the lease was deleted.
            by_addr.remove(&address);
            continue;
        }
        let hostname = c_host
            .map(|i| unescape(f[i].trim()))
            .filter(|h| !h.is_empty());
        by_addr.insert(
            address,
            Lease {
                address,
                hwaddr,
                hostname,
                subnet_id: subnet.and_then(|s| u32::try_from(s).ok()),
                state: LeaseState::from_code(
                    state.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
                ),
                line: lineno,
            },
        );
    }
    out.leases = by_addr.into_values().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n";

    #[test]
    fn replay_and_escapes() {
        let t = format!(
            "{HEADER}\
10.0.0.40,52:54:00:01:01:03,01:52:54:00:01:01:03,3600,1767225600,1,0,0,r01n01,0,,0\n\
10.0.0.41,52:54:00:aa:bb:01,,3600,1767225600,1,0,0,new&#x2cnode,0,{{ \"comment\": \"a&#x2cb\" }},0\n\
10.0.0.40,52:54:00:01:01:03,,3600,1767229200,1,0,0,r01n01.dc1.example.net,0,,0\n\
10.0.0.42,52:54:00:aa:bb:02,,3600,1767225600,1,0,0,gone,0,,0\n\
10.0.0.42,52:54:00:aa:bb:02,,0,1767225600,1,0,0,gone,0,,0\n\
10.0.0.43,,,3600,1767225600,1,0,0,,1,,0\n"
        );
        let p = parse("l.csv", &t);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.rows, 6);
        let addrs: Vec<String> = p.leases.iter().map(|l| l.address.to_string()).collect();
        assert_eq!(addrs, ["10.0.0.40", "10.0.0.41", "10.0.0.43"]);
        assert_eq!(p.leases[0].line, 4);
        assert_eq!(
            p.leases[0].hostname.as_deref(),
            Some("r01n01.dc1.example.net")
        );
        assert_eq!(p.leases[1].hostname.as_deref(), Some("new,node"));
        assert_eq!(p.leases[2].state, LeaseState::Declined);
        assert_eq!(p.leases[2].hwaddr, None);
    }

    #[test]
    fn kea_2_4_columns() {
        let t = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n\
10.0.0.40,52:54:00:01:01:03,,3600,1767225600,1,0,0,r01n01,0,\n";
        let p = parse("l.csv", t);
        assert!(p.problems.is_empty());
        assert_eq!(p.leases.len(), 1);
    }

    #[test]
    fn bad_rows_are_reported_and_skipped() {
        let t = format!(
            "{HEADER}\
10.0.0.40,52:54:00:01:01:03,,3600,1767225600,1,0,0,x,y,0,,0\n\
10.0.0.999,52:54:00:01:01:04,,3600,1767225600,1,0,0,x,0,,0\n\
10.0.0.41,zz:54:00:01:01:04,,3600,1767225600,1,0,0,x,0,,0\n\
10.0.0.42,52:54:00:01:01:05,,soon,1767225600,1,0,0,x,0,,0\n\
10.0.0.44,52:54:00:01:01:06,,3600,1767225600,1,0,0,ok,0,,0\n"
        );
        let p = parse("l.csv", &t);
        assert_eq!(p.problems.len(), 4, "{:?}", p.problems);
        assert!(p.problems[0].message.starts_with("line 2:"));
        assert!(p.problems[1].message.contains("10.0.0.999"));
        assert_eq!(p.leases.len(), 1);
        let (s, e) = p.problems[3].range.unwrap();
        assert!(t[s..e].starts_with("10.0.0.42"));
    }

    #[test]
    fn not_a_lease_file() {
        assert!(parse("x", "").fatal);
        assert!(parse("x", "ip,mac\n1,2\n").fatal);
        assert_eq!(unescape("a&#x2cb&#x26c&#xzz"), "a,b&c&#xzz");
        assert_eq!(unescape("&#xé1"), "&#xé1");
    }
}
