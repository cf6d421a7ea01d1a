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
//!
//! A client keeps one lease: of several rows for one MAC (at different
//! addresses: an old lease not yet reclaimed, a reservation that took
//! effect later) the newest is kept, by `expire`, an active one before a
//! declined or reclaimed one. The file is written by the machines' DHCP
//! traffic, so what is kept is bounded: every MAC [`Limits::known`]
//! accepts (the declared fleet), and at most [`Limits::max_other`] others
//! (unknown machines, declined leases); rows beyond that are counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use super::ParseProblem;
use crate::model::Mac;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaseState {
    Default,
    Declined,
    ExpiredReclaimed,
    /// State 0 (in effect) in the file, but its `expire` is earlier than
    /// the newest client activity the file records (`expire` −
    /// `valid_lifetime` of its newest row): it had lapsed when the file was
    /// written, and Kea had not reclaimed it yet. History, not the
    /// machine's address now.
    Lapsed,
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
            LeaseState::Lapsed => "lapsed",
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
    /// When the lease ends (seconds since the epoch), if the row says.
    pub expire: Option<u64>,
    /// 1-based line of the row that set this lease.
    pub line: usize,
}

impl Lease {
    /// Whether this row stands for its client rather than `held`, an
    /// earlier row of the same MAC.
    fn replaces(&self, held: &Lease) -> bool {
        if self.address == held.address {
            // The journal's update of the same lease.
            return true;
        }
        let active = |l: &Lease| l.state == LeaseState::Default;
        match (active(self), active(held)) {
            (true, false) => true,
            (false, true) => false,
            _ => match (self.expire, held.expire) {
                (Some(a), Some(b)) => a >= b,
                _ => true,
            },
        }
    }
}

/// What a lease file may make the reader keep.
pub struct Limits<'a> {
    /// MACs always kept (told the client's host name too): the declared
    /// fleet's. Never every client naming a node: any client can.
    pub known: &'a (dyn Fn(Mac, Option<&str>) -> bool + Sync),
    /// How many other clients (unknown MACs, declined leases) are kept.
    pub max_other: usize,
}

/// The most bad rows of one file reported one by one; the rest are
/// counted into one problem (as `check` keeps 100 findings of a code per
/// file).
pub const MAX_PROBLEMS: usize = crate::diag::MAX_PER_CODE_PER_FILE;

/// The leases in effect and the rows that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// By address.
    pub leases: Vec<Lease>,
    pub rows: usize,
    pub problems: Vec<ParseProblem>,
    /// The file as a whole was unusable (no header).
    pub fatal: bool,
    /// Rows of clients beyond [`Limits::max_other`]: counted, not kept.
    pub dropped_rows: usize,
    /// Leases of the declared fleet (MACs [`Limits::known`] accepts) whose
    /// address a later row gave to another client: the node's lease is
    /// over, and who took its address is worth saying.
    pub displaced: Vec<Lease>,
    /// Leases kept as [`LeaseState::Lapsed`].
    pub lapsed: usize,
}

/// The replay of the journal: one lease per client.
#[derive(Default)]
struct Replay {
    by_mac: HashMap<Mac, Lease>,
    /// Address → the MAC whose kept lease is at it.
    owner: HashMap<Ipv4Addr, Mac>,
    /// Leases without a MAC (declined), by address.
    no_mac: BTreeMap<Ipv4Addr, Lease>,
    /// Unknown MACs kept (at most `max_other`, with `no_mac`).
    others: HashSet<Mac>,
    /// Fleet leases whose address another client took, by address (the
    /// latest).
    displaced: BTreeMap<Ipv4Addr, Lease>,
}

impl Replay {
    /// The lease at `address` is over (deleted, or the address given to
    /// another client).
    fn vacate(&mut self, address: Ipv4Addr, except: Option<Mac>) {
        if let Some(m) = self.owner.get(&address).copied() {
            if Some(m) != except {
                self.owner.remove(&address);
                if self.by_mac.get(&m).is_some_and(|l| l.address == address) {
                    let gone = self.by_mac.remove(&m);
                    // Taken by another client (not deleted), from a MAC of
                    // the fleet: bounded by the fleet's size.
                    if let (Some(gone), Some(_)) = (gone, except) {
                        if !self.others.contains(&m) {
                            self.displaced.insert(address, gone);
                        }
                    }
                }
            }
        }
        if except.is_some() {
            self.no_mac.remove(&address);
        }
    }

    fn add(&mut self, lease: Lease, limits: &Limits, dropped: &mut usize) {
        let Some(m) = lease.hwaddr else {
            if self.no_mac.contains_key(&lease.address)
                || self.others.len() + self.no_mac.len() < limits.max_other
            {
                self.no_mac.insert(lease.address, lease);
            } else {
                *dropped += 1;
            }
            return;
        };
        if let Some(held) = self.by_mac.get(&m) {
            if lease.replaces(held) {
                if self.owner.get(&held.address) == Some(&m) {
                    self.owner.remove(&held.address);
                }
                self.owner.insert(lease.address, m);
                self.by_mac.insert(m, lease);
            }
            return;
        }
        if !(limits.known)(m, lease.hostname.as_deref()) {
            if self.others.len() + self.no_mac.len() >= limits.max_other {
                *dropped += 1;
                return;
            }
            self.others.insert(m);
        }
        self.owner.insert(lease.address, m);
        self.by_mac.insert(m, lease);
    }
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

/// Parses the whole file, keeping every client. Bad rows are reported
/// with their line and skipped; they never stop the rows after them.
pub fn parse(path: &str, text: &str) -> Parsed {
    parse_limited(
        path,
        text,
        &Limits {
            known: &|_, _| true,
            max_other: usize::MAX,
        },
    )
}

/// [`parse`], keeping what `limits` allows.
pub fn parse_limited(_path: &str, text: &str, limits: &Limits) -> Parsed {
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
    let (c_valid, c_expire, c_subnet, c_host, c_state) = (
        col("valid_lifetime"),
        col("expire"),
        col("subnet_id"),
        col("hostname"),
        col("state"),
    );
    let mut replay = Replay::default();
    // The newest client activity the file records: what "now" was when
    // it was written (never the clock, so archived files read the same).
    let mut newest: Option<u64> = None;
    let mut more_problems = 0usize;
    let mut problem = |out: &mut Parsed, p: ParseProblem| {
        if out.problems.len() < MAX_PROBLEMS {
            out.problems.push(p);
        } else {
            more_problems += 1;
        }
    };
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
            problem(
                &mut out,
                bad(format!(
                    "{} fields where the header has {} (an unescaped comma?)",
                    f.len(),
                    cols.len()
                )),
            );
            continue;
        }
        let address: Ipv4Addr = match f[c_addr].trim().parse() {
            Ok(a) => a,
            Err(_) => {
                problem(
                    &mut out,
                    bad(format!("`{}` is not an IPv4 address", f[c_addr])),
                );
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
                    problem(&mut out, bad(e));
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
        let (valid, expire, subnet, state) =
            match (num(c_valid), num(c_expire), num(c_subnet), num(c_state)) {
                (Ok(v), Ok(x), Ok(s), Ok(st)) => (v, x, s, st),
                (Err(e), _, _, _) | (_, Err(e), _, _) | (_, _, Err(e), _) | (_, _, _, Err(e)) => {
                    problem(&mut out, bad(e));
                    continue;
                }
            };
        if let (Some(v), Some(x)) = (valid, expire) {
            if v > 0 && x >= v {
                newest = newest.max(Some(x - v));
            }
        }
        if valid == Some(0) {
            // Kea's way of recording that the lease was deleted.
            replay.vacate(address, None);
            continue;
        }
        // The address now belongs to this client, whatever held it.
        replay.vacate(address, hwaddr);
        let hostname = c_host
            .map(|i| unescape(f[i].trim()))
            .filter(|h| !h.is_empty());
        let lease = Lease {
            address,
            hwaddr,
            hostname,
            subnet_id: subnet.and_then(|s| u32::try_from(s).ok()),
            state: LeaseState::from_code(state.and_then(|s| u32::try_from(s).ok()).unwrap_or(0)),
            expire,
            line: lineno,
        };
        replay.add(lease, limits, &mut out.dropped_rows);
    }
    if more_problems > 0 {
        out.problems.push(ParseProblem::new(format!(
            "{more_problems} more bad row(s) are not shown: only the first {MAX_PROBLEMS} are reported one by one"
        )));
    }
    let mut leases: Vec<Lease> = replay.by_mac.into_values().collect();
    leases.extend(replay.no_mac.into_values());
    leases.sort_by_key(|l| l.address);
    for l in &mut leases {
        if l.state == LeaseState::Default && l.expire.zip(newest).is_some_and(|(x, n)| x < n) {
            l.state = LeaseState::Lapsed;
            out.lapsed += 1;
        }
    }
    out.leases = leases;
    // A displaced lease whose MAC has a lease again elsewhere is no loss.
    let held: HashSet<Mac> = out.leases.iter().filter_map(|l| l.hwaddr).collect();
    out.displaced = replay
        .displaced
        .into_values()
        .filter(|l| l.hwaddr.is_some_and(|m| !held.contains(&m)))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n";

    #[test]
    fn lapsed_and_displaced() {
        // The newest activity is 1767229200 - 3600: the 2024 row had lapsed.
        let t = format!(
            "{HEADER}\
10.0.0.40,52:54:00:01:01:03,,3600,1733529600,1,0,0,r01n01,0,,0\n\
10.0.0.41,52:54:00:01:02:03,,3600,1767225600,1,0,0,r01n02,0,,0\n\
10.0.0.42,52:54:00:01:03:03,,3600,1767225600,1,0,0,r01n03,0,,0\n\
10.0.0.42,52:54:00:aa:bb:02,,3600,1767229200,1,0,0,,0,,0\n"
        );
        let p = parse("l.csv", &t);
        assert_eq!(p.lapsed, 1);
        assert_eq!(p.leases[0].state, LeaseState::Lapsed);
        assert_eq!(p.leases[1].state, LeaseState::Default);
        assert_eq!(p.displaced.len(), 1);
        assert_eq!(p.displaced[0].line, 4);
        assert_eq!(p.displaced[0].address.to_string(), "10.0.0.42");
    }

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
    fn the_newest_row_of_a_mac_stands_for_it() {
        // An older active lease (10.0.0.99) not yet reclaimed, then the
        // reservation took effect (10.0.0.40, later expiry): the client is
        // at 10.0.0.40. A reclaimed row of another address does not
        // displace an active one; a row of an earlier expiry does not
        // either.
        let t = format!(
            "{HEADER}\
10.0.0.99,52:54:00:01:01:03,,3600,1767225600,1,0,0,r01n01,0,,0\n\
10.0.0.40,52:54:00:01:01:03,,3600,1767229200,1,0,0,r01n01,0,,0\n\
10.0.0.98,52:54:00:01:01:03,,3600,1767229300,1,0,0,r01n01,2,,0\n\
10.0.0.97,52:54:00:01:01:03,,3600,1767000000,1,0,0,r01n01,0,,0\n\
10.0.0.50,52:54:00:aa:bb:01,,3600,1767229200,1,0,0,a,0,,0\n\
10.0.0.50,52:54:00:aa:bb:02,,3600,1767229300,1,0,0,b,0,,0\n"
        );
        let p = parse("l.csv", &t);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let got: Vec<(String, String, usize)> = p
            .leases
            .iter()
            .map(|l| {
                (
                    l.address.to_string(),
                    l.hwaddr.map(|m| m.to_string()).unwrap_or_default(),
                    l.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("10.0.0.40".into(), "52:54:00:01:01:03".into(), 3),
                // The address went to another client: the first one's
                // lease is over.
                ("10.0.0.50".into(), "52:54:00:aa:bb:02".into(), 7),
            ]
        );
        assert_eq!(p.leases[0].expire, Some(1767229200));
    }

    #[test]
    fn what_is_kept_is_bounded() {
        let mut t = HEADER.to_string();
        for i in 0..5000u32 {
            t.push_str(&format!(
                "10.1.{}.{},52:54:01:00:{:02x}:{:02x},,3600,1767225600,1,0,0,x,0,,0\n",
                i / 250,
                i % 250,
                i / 256,
                i % 256
            ));
        }
        // The declared node's row comes last, after the cap is reached.
        t.push_str("10.0.0.40,52:54:00:01:01:03,,3600,1767225600,1,0,0,r01n01,0,,0\n");
        for _ in 0..300 {
            t.push_str("10.0.0.41,zz,,3600,1767225600,1,0,0,x,0,,0\n");
        }
        let declared: Mac = "52:54:00:01:01:03".parse().unwrap();
        let p = parse_limited(
            "l.csv",
            &t,
            &Limits {
                known: &|m, _| m == declared,
                max_other: 10,
            },
        );
        assert_eq!(p.rows, 5301);
        assert_eq!(p.leases.len(), 11);
        assert!(p.leases.iter().any(|l| l.hwaddr == Some(declared)));
        assert_eq!(p.dropped_rows, 4990);
        // 100 bad rows one by one, the other 200 in one problem.
        assert_eq!(p.problems.len(), MAX_PROBLEMS + 1);
        assert!(p.problems[MAX_PROBLEMS]
            .message
            .starts_with("200 more bad row(s)"));
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
