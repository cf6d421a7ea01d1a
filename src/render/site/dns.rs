//! DNS: which zones the site has and which records go in each. The zone
//! files themselves are laid out by `templates/site/dns/*.zone.j2`.
//!
//! Naming scheme (one name per address, so every PTR has one answer):
//!
//! | record                                   | name                         |
//! | ---------------------------------------- | ---------------------------- |
//! | a node's management address (A/AAAA)     | `<node>` (its FQDN)          |
//! | … or, without one, its loopback          | `<node>`                     |
//! | every node address, per network          | `<node>.<network>`           |
//! | a node's loopback                        | `<node>.lo`                  |
//! | a switch's loopback                      | `<switch>`                   |
//! | name servers (the site's `dns-servers`)  | `ns1`, `ns2` … (glue)        |
//!
//! PTRs point at the most specific meaning of an address: the node's FQDN
//! for the address its bare name has, `<node>.<network>` for other addresses,
//! `<node>.lo` for loopbacks, the switch's FQDN, then the `nsN` name.
//!
//! Name servers: the zones are served by the site's `dns-servers` (the
//! resolvers nodes use are, in this model, also where the site's zones
//! live). Each gets an in-zone name `nsN.<domain>` with glue, so
//! `named-checkzone -n fail` finds an address for every NS; `nsN` skips
//! names a device already uses. A site without `dns-servers` has no NS to
//! write: the zone template refuses to render and says so.
//!
//! Reverse zones are cut at octet (IPv4) or nibble (IPv6) boundaries, the
//! only cuts a plain BIND zone can have. A prefix whose length is not on a
//! boundary is split into the zones of the next boundary down: a /22 is
//! four /24 zones, a /62 four /64 zones; every address of the network has
//! a zone, none outside it (at most 128 zones per IPv4 prefix, 8 per IPv6
//! one). A prefix longer than /24 (IPv4) goes in its covering /24 zone,
//! shared with any other network in that /24: classless delegation
//! (RFC 2317) only matters when the /24 is delegated to someone else.
//!
//! SOA serial: a counter that only moves forward, chosen per zone by
//! [`crate::model::serial::choose_serial`] (see there) from the lock's
//! record, the previous output's zone file and, in a git repository, the
//! lock as committed in HEAD and the revisions being merged
//! ([`SerialState`]): a zone's serial never goes below one of them.
//! `siteconf build` (of the working tree) and `siteconf lock` write the
//! chosen serials back to the lock, so a fresh clone continues from what
//! was committed.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use crate::render::context::{NodeView, SiteView};

/// Time values of every zone, in seconds.
pub const TTL: u32 = 3600;
pub const REFRESH: u32 = 3600;
pub const RETRY: u32 = 600;
pub const EXPIRE: u32 = 1_209_600;
pub const NEGATIVE_TTL: u32 = 300;

/// One zone as templates see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Zone {
    /// `dc1.example.net`, `0.0.10.in-addr.arpa` (no trailing dot).
    pub name: String,
    /// `forward` or `reverse`.
    pub kind: &'static str,
    /// Primary name server and responsible mailbox, absolute.
    pub mname: String,
    pub rname: String,
    pub ttl: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub negative_ttl: u32,
    /// NS targets, absolute (`ns1.dc1.example.net.`).
    pub ns: Vec<String>,
    /// For a reverse zone: the prefix it covers (`10.0.1.0/24`).
    pub prefix: Option<String>,
    /// Forward zones: address records. Reverse zones: PTR records.
    pub records: Vec<Record>,
}

/// A record: `owner` relative to the zone (`r01n01.storage`, `32`), `type`
/// (`A`, `AAAA`, `PTR`) and `data` (an address, or an absolute name).
/// Reverse records also carry the address they answer for.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    pub owner: String,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    pub data: String,
    pub ip: Option<String>,
}

impl Zone {
    /// A digest of everything the zone holds, for its job's key: its
    /// fields fed one by one (serialising a zone of a large fleet to JSON
    /// cost half as much as rendering it). Destructured, so that a field
    /// added to `Zone` or `Record` must be added here.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut put = |b: &[u8]| {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        };
        let Zone {
            name,
            kind,
            mname,
            rname,
            ttl,
            refresh,
            retry,
            expire,
            negative_ttl,
            ns,
            prefix,
            records,
        } = self;
        for t in [name.as_str(), kind, mname, rname] {
            put(t.as_bytes());
        }
        for n in [ttl, refresh, retry, expire, negative_ttl] {
            put(&n.to_le_bytes());
        }
        put(&(ns.len() as u64).to_le_bytes());
        for n in ns {
            put(n.as_bytes());
        }
        put(prefix.as_deref().unwrap_or("\0-").as_bytes());
        put(&(records.len() as u64).to_le_bytes());
        for r in records {
            let Record {
                owner,
                rtype,
                data,
                ip,
            } = r;
            put(owner.as_bytes());
            put(rtype.as_bytes());
            put(data.as_bytes());
            put(ip.as_deref().unwrap_or("\0-").as_bytes());
        }
        h.finalize().into()
    }
}

/// A reverse zone's name and the prefix it covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReverseZone {
    pub name: String,
    pub net: IpNet,
}

/// `10.0.0.5` → `5.0.0.10.in-addr.arpa`; IPv6 → 32 nibbles `.ip6.arpa`.
pub fn ptr_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::with_capacity(72);
            for n in nibbles(a).iter().rev() {
                s.push(char::from_digit(u32::from(*n), 16).unwrap_or('0'));
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

fn nibbles(a: Ipv6Addr) -> [u8; 32] {
    let mut n = [0u8; 32];
    for (i, b) in a.octets().iter().enumerate() {
        n[2 * i] = b >> 4;
        n[2 * i + 1] = b & 0xf;
    }
    n
}

/// `name` relative to `origin` (both without trailing dots), if it is
/// inside it: `5.0.0.10.in-addr.arpa` in `0.0.10.in-addr.arpa` → `5`;
/// the origin itself → `@`.
pub fn relative_to(name: &str, origin: &str) -> Option<String> {
    let origin = origin.trim_end_matches('.');
    let name = name.trim_end_matches('.');
    if name.eq_ignore_ascii_case(origin) {
        return Some("@".into());
    }
    let cut = name.len().checked_sub(origin.len() + 1)?;
    let (head, tail) = name.split_at(cut);
    if tail.starts_with('.') && tail[1..].eq_ignore_ascii_case(origin) {
        Some(head.to_string())
    } else {
        None
    }
}

/// The reverse zone of the first `bits` bits (a multiple of 8 for IPv4, of
/// 4 for IPv6) of `net`'s address.
fn zone_name(net: IpNet) -> String {
    match net {
        IpNet::V4(n) => {
            let o = n.network().octets();
            let k = usize::from(n.prefix_len() / 8);
            let mut labels: Vec<String> = o[..k].iter().rev().map(|b| b.to_string()).collect();
            labels.push("in-addr.arpa".into());
            labels.join(".")
        }
        IpNet::V6(n) => {
            let ns = nibbles(n.network());
            let k = usize::from(n.prefix_len() / 4);
            let mut labels: Vec<String> = ns[..k].iter().rev().map(|d| format!("{d:x}")).collect();
            labels.push("ip6.arpa".into());
            labels.join(".")
        }
    }
}

/// The reverse zones covering a prefix, cut at the boundary rules of the
/// module doc, sorted by address.
pub fn reverse_zones(net: IpNet) -> Vec<ReverseZone> {
    let (step, max_zone_len) = match net {
        IpNet::V4(_) => (8u8, 24u8),
        IpNet::V6(_) => (4u8, 124u8),
    };
    let len = net.prefix_len();
    let zone_len = if len >= max_zone_len {
        max_zone_len
    } else {
        len.div_ceil(step) * step
    };
    let subnets: Vec<IpNet> = if zone_len <= len {
        vec![match net {
            IpNet::V4(n) => IpNet::V4(
                Ipv4Net::new(n.network(), zone_len)
                    .map(|x| x.trunc())
                    .unwrap_or(n),
            ),
            IpNet::V6(n) => IpNet::V6(
                Ipv6Net::new(n.network(), zone_len)
                    .map(|x| x.trunc())
                    .unwrap_or(n),
            ),
        }]
    } else {
        net.subnets(zone_len)
            .map(|it| it.collect())
            .unwrap_or_default()
    };
    subnets
        .into_iter()
        .map(|n| ReverseZone {
            name: zone_name(n),
            net: n,
        })
        .collect()
}

/// One address → name mapping, with how strongly it names the address
/// (lower wins when two names claim one address).
struct Entry {
    ip: IpAddr,
    owner: String,
    rank: u8,
}

/// The forward zone and every reverse zone of the site, sorted: the
/// forward zone first, then reverse zones by address (IPv4 before IPv6).
pub fn zones(site: &SiteView) -> Vec<Zone> {
    let domain = site.domain.trim_end_matches('.');
    if domain.is_empty() {
        return Vec::new();
    }
    let abs = |owner: &str| {
        if owner == "@" {
            format!("{domain}.")
        } else {
            format!("{owner}.{domain}.")
        }
    };

    // Every address with the name it gets.
    let mut entries: Vec<Entry> = Vec::new();
    let mut used_names: std::collections::BTreeSet<String> = Default::default();
    for n in &site.nodes {
        used_names.insert(n.name.to_ascii_lowercase());
        // The node's own name: its management address, or its loopback
        // when it has none (routing on the host reaches it there).
        let (a4, a6) = canonical_addresses(n);
        for ip in [a4, a6].into_iter().flatten() {
            push_entry(&mut entries, ip, n.name.clone(), 0);
        }
        for a in &n.addresses {
            for ip in [&a.ipv4, &a.ipv6].into_iter().flatten() {
                push_entry(&mut entries, ip, format!("{}.{}", n.name, a.network), 1);
            }
        }
        for ip in [&n.loopback4, &n.loopback6].into_iter().flatten() {
            push_entry(&mut entries, ip, format!("{}.lo", n.name), 2);
        }
    }
    for s in &site.switches {
        used_names.insert(s.name.to_ascii_lowercase());
        for ip in [&s.loopback4, &s.loopback6].into_iter().flatten() {
            push_entry(&mut entries, ip, s.name.clone(), 3);
        }
    }
    // Name servers: nsN, skipping labels a device already has.
    let mut ns = Vec::new();
    let mut k = 1;
    for ip in &site.dns_servers {
        let name = loop {
            let cand = format!("ns{k}");
            k += 1;
            if !used_names.contains(&cand) {
                break cand;
            }
        };
        ns.push(abs(&name));
        push_entry(&mut entries, ip, name, 4);
    }

    let mname = ns.first().cloned().unwrap_or_else(|| abs("ns1"));
    let rname = abs("hostmaster");
    let zone = |name: String, kind, prefix, records| Zone {
        name,
        kind,
        mname: mname.clone(),
        rname: rname.clone(),
        ttl: TTL,
        refresh: REFRESH,
        retry: RETRY,
        expire: EXPIRE,
        negative_ttl: NEGATIVE_TTL,
        ns: ns.clone(),
        prefix,
        records,
    };

    // Forward: every name with every address, by name then type then
    // address (numerically).
    let mut fwd: Vec<(String, &'static str, (u8, u128), String)> = entries
        .iter()
        .map(|e| {
            (
                e.owner.clone(),
                if e.ip.is_ipv4() { "A" } else { "AAAA" },
                addr_key(e.ip),
                e.ip.to_string(),
            )
        })
        .collect();
    fwd.sort_unstable();
    fwd.dedup();
    let fwd: Vec<Record> = fwd
        .into_iter()
        .map(|(owner, rtype, _, data)| Record {
            owner,
            rtype,
            data,
            ip: None,
        })
        .collect();
    let mut out = vec![zone(domain.to_string(), "forward", None, fwd)];

    // Reverse: one zone set per network prefix; each address once, named
    // by its strongest entry.
    let mut rzones: BTreeMap<(u8, IpNet), ReverseZone> = BTreeMap::new();
    for net in &site.networks {
        for p in [&net.ipv4, &net.ipv6].into_iter().flatten() {
            if let Ok(p) = p.parse::<IpNet>() {
                for z in reverse_zones(p) {
                    let fam = if z.net.addr().is_ipv4() { 4 } else { 6 };
                    rzones.insert((fam, z.net), z);
                }
            }
        }
    }
    let mut best: BTreeMap<IpAddr, (u8, &str)> = BTreeMap::new();
    for e in &entries {
        let slot = best.entry(e.ip).or_insert((e.rank, &e.owner));
        if (e.rank, e.owner.as_str()) < *slot {
            *slot = (e.rank, &e.owner);
        }
    }
    // The zone of an address is found by cutting the address at each zone
    // length in use, longest first: a few map lookups per address.
    let zone_lens: std::collections::BTreeSet<(u8, u8)> =
        rzones.keys().map(|(f, n)| (*f, n.prefix_len())).collect();
    let mut per_zone: BTreeMap<(u8, IpNet), Vec<Record>> = BTreeMap::new();
    for (ip, (_, owner)) in &best {
        // The longest zone that contains the address (zones of one family
        // never nest unless network prefixes overlap, which check refuses).
        let fam = if ip.is_ipv4() { 4 } else { 6 };
        let Some(key) = zone_lens
            .iter()
            .rev()
            .filter(|(f, _)| *f == fam)
            .filter_map(|&(f, len)| {
                let net = IpNet::new(*ip, len).ok()?.trunc();
                rzones.contains_key(&(f, net)).then_some((f, net))
            })
            .next()
        else {
            continue;
        };
        let name = ptr_name(*ip);
        let rel = relative_to(&name, &rzones[&key].name).unwrap_or(format!("{name}."));
        per_zone.entry(key).or_default().push(Record {
            owner: rel,
            rtype: "PTR",
            data: abs(owner),
            ip: Some(ip.to_string()),
        });
    }
    for (key, z) in rzones {
        let records = per_zone.remove(&key).unwrap_or_default();
        out.push(zone(z.name, "reverse", Some(z.net.to_string()), records));
    }
    out
}

/// The addresses a node's bare name (and `ansible_host`) stand for: the
/// management address, else the loopback.
pub fn canonical_addresses(n: &NodeView) -> (Option<&String>, Option<&String>) {
    match &n.mgmt {
        Some(m) if m.ipv4.is_some() || m.ipv6.is_some() => (m.ipv4.as_ref(), m.ipv6.as_ref()),
        _ => (n.loopback4.as_ref(), n.loopback6.as_ref()),
    }
}

fn push_entry(entries: &mut Vec<Entry>, ip: &str, owner: String, rank: u8) {
    if let Ok(ip) = ip.parse::<IpAddr>() {
        entries.push(Entry { ip, owner, rank });
    }
}

/// Sorts addresses numerically (`10.0.0.9` before `10.0.0.10`).
fn addr_key(ip: IpAddr) -> (u8, u128) {
    match ip {
        IpAddr::V4(a) => (4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (6, u128::from(a)),
    }
}

/// What a zone's serial is chosen from: the lock's records (origin →
/// serial, digest), the previous output's zone files (origin → text), and
/// the records of the lock as committed in the revisions the tree
/// continues from (origin → each (serial, digest); see
/// `source::Source::earlier`), which may have been published.
#[derive(Debug, Clone, Default)]
pub struct SerialState {
    pub recorded: BTreeMap<String, (u32, String)>,
    pub previous: BTreeMap<String, String>,
    pub published: BTreeMap<String, Vec<(u32, String)>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        reverse_zones(p.parse().expect("prefix"))
            .into_iter()
            .map(|z| z.name)
            .collect()
    }

    #[test]
    fn ipv4_reverse_zones_cut_at_octets() {
        assert_eq!(names("10.0.0.0/24"), ["0.0.10.in-addr.arpa"]);
        assert_eq!(
            names("10.0.0.0/22"),
            [
                "0.0.10.in-addr.arpa",
                "1.0.10.in-addr.arpa",
                "2.0.10.in-addr.arpa",
                "3.0.10.in-addr.arpa"
            ]
        );
        assert_eq!(names("10.255.0.0/16"), ["255.10.in-addr.arpa"]);
        assert_eq!(names("10.0.0.0/8"), ["10.in-addr.arpa"]);
        assert_eq!(names("172.16.0.0/12").len(), 16);
        assert_eq!(names("172.16.0.0/12")[15], "31.172.in-addr.arpa");
        // Longer than /24: the covering /24.
        assert_eq!(names("192.0.2.128/25"), ["2.0.192.in-addr.arpa"]);
        assert_eq!(names("192.0.2.7/32"), ["2.0.192.in-addr.arpa"]);
    }

    #[test]
    fn ipv6_reverse_zones_cut_at_nibbles() {
        assert_eq!(
            names("2001:db8:0:100::/64"),
            ["0.0.1.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"]
        );
        assert_eq!(
            names("2001:db8:ffff::/48"),
            ["f.f.f.f.8.b.d.0.1.0.0.2.ip6.arpa"]
        );
        let z = names("2001:db8:0:200::/62");
        assert_eq!(z.len(), 4);
        assert_eq!(z[0], "0.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        assert_eq!(z[3], "3.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        assert_eq!(names("2001:db8::/29").len(), 8);
        assert_eq!(names("2001:db8::1/128").len(), 1);
    }

    #[test]
    fn ptr_names() {
        assert_eq!(
            ptr_name("10.0.1.32".parse().expect("ip")),
            "32.1.0.10.in-addr.arpa"
        );
        assert_eq!(
            ptr_name("2001:db8::1".parse().expect("ip")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
        assert_eq!(
            relative_to("32.1.0.10.in-addr.arpa", "10.in-addr.arpa").as_deref(),
            Some("32.1.0")
        );
        assert_eq!(
            relative_to("32.1.0.10.in-addr.arpa", "0.10.in-addr.arpa").as_deref(),
            Some("32.1")
        );
        assert_eq!(
            relative_to("32.1.0.110.in-addr.arpa", "10.in-addr.arpa"),
            None
        );
        assert_eq!(relative_to("a.b", "a.b.").as_deref(), Some("@"));
    }
}
