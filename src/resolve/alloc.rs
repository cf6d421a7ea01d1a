//! Stable allocation of addresses, loopbacks and ASNs against the lock.
//!
//! A request is (owner, key), e.g. (`node/r01n01`, `address.mgmt.ipv4`).
//! A request the lock already answers keeps its value, whatever else
//! changed. New requests are served in (owner, key) order with the lowest
//! free value of their pool, where "free" excludes every value the site
//! uses otherwise (fixed node addresses and loopbacks, switch loopbacks and
//! routed-port addresses, gateways, external BGP peers, DNS and NTP servers
//! given as addresses), every reserved range, and every value in the lock —
//! released ones included, so an address is not reused while the old
//! machine may still answer on it. Lock entries whose owner no longer asks
//! become released. A lock value that is (now) also one of those fixed
//! values is kept and reported (SC0803): a node is never renumbered by an
//! edit elsewhere.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::key::{AllocKey, AllocValue, IpFamily};
use super::lock::{Lock, LockEntry};
use super::ResolvedNode;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::syntax::Span;

type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;
type FxSet<T> = rustc_hash::FxHashSet<T>;
/// A committed lock's lines: (owner, key) → (value, released).
type CommittedLines<'a> = FxMap<(&'a str, &'a str), (&'a str, bool)>;

/// An empty map with room for `n` entries: the lock's tables hold one
/// entry per line, and growing them step by step rehashed each.
fn map_with<K, V>(n: usize) -> FxMap<K, V> {
    FxMap::with_capacity_and_hasher(n, Default::default())
}

/// [`map_with`], for a set.
fn set_with<T>(n: usize) -> FxSet<T> {
    FxSet::with_capacity_and_hasher(n, Default::default())
}

/// The values in effect for every `auto` request, by node and typed key.
#[derive(Debug, Clone, Default)]
pub struct Allocations {
    /// Node name → its few (key, value) pairs. Nested so that a lookup
    /// borrows its arguments: validation and rendering look values up for
    /// every node, and building an owned key per lookup was most of the
    /// cost. A node has a handful of keys, so a scan beats hashing them.
    /// Never iterated into output.
    map: rustc_hash::FxHashMap<String, Vec<(AllocKey, AllocValue)>>,
    len: usize,
}

impl Allocations {
    pub fn get(&self, node: &str, key: AllocKey<&str>) -> Option<AllocValue> {
        self.map
            .get(node)?
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| *v)
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn insert(&mut self, owner: &str, key: &AllocKey, value: AllocValue) {
        let node = owner.strip_prefix("node/").unwrap_or(owner);
        let entries = self.map.entry(node.to_string()).or_default();
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => {
                entries.push((key.clone(), value));
                self.len += 1;
            }
        }
    }
}

/// A pool of values as u128s (IPv4, IPv6 and ASNs alike), by ranges.
#[derive(Debug, Clone)]
struct Pool {
    ranges: Vec<(u128, u128)>,
    family: Family,
    /// Where the pool is written (`pool` of a network, the site's
    /// `asn-pool`); None for a network's whole prefix.
    written: Option<Span>,
}

impl Pool {
    fn contains(&self, v: u128) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Family {
    V4,
    V6,
    Asn,
}

fn ip_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// An allocated value as the u128 its pool counts in.
fn value_u128(v: AllocValue) -> u128 {
    match v {
        AllocValue::V4(a) => u32::from(a) as u128,
        AllocValue::V6(a) => u128::from(a),
        AllocValue::Asn(n) => n as u128,
    }
}

fn typed_value(f: Family, v: u128) -> AllocValue {
    match f {
        Family::V4 => AllocValue::V4(std::net::Ipv4Addr::from(v as u32)),
        Family::V6 => AllocValue::V6(std::net::Ipv6Addr::from(v)),
        Family::Asn => AllocValue::Asn(v as u32),
    }
}

fn family_of(key: &AllocKey<&str>) -> Family {
    match key.family() {
        Some(IpFamily::V4) => Family::V4,
        Some(IpFamily::V6) => Family::V6,
        None => Family::Asn,
    }
}

fn parse_value(f: Family, s: &str) -> Option<u128> {
    match f {
        Family::V4 => s
            .parse::<std::net::Ipv4Addr>()
            .ok()
            .map(|a| u32::from(a) as u128),
        Family::V6 => s.parse::<std::net::Ipv6Addr>().ok().map(u128::from),
        Family::Asn => s.parse::<u32>().ok().map(|n| n as u128),
    }
}

/// The pool of a network for one family: its `pool` ranges, or the whole
/// prefix without the network and (IPv4) broadcast address.
fn network_pool(n: &Network, f: Family) -> Option<Pool> {
    let written: Vec<&Sp<IpRange>> = n
        .pool
        .iter()
        .filter(|r| r.start.is_ipv4() == (f == Family::V4))
        .collect();
    if let Some(first) = written.first() {
        let ranges = written
            .iter()
            .map(|r| (ip_u128(r.start), ip_u128(r.end)))
            .collect();
        return Some(Pool {
            ranges,
            family: f,
            written: Some(first.span),
        });
    }
    match f {
        Family::V4 => n.ipv4.as_ref().map(|p| {
            let net = u32::from(p.network()) as u128;
            let bc = u32::from(p.broadcast()) as u128;
            let r = if p.prefix_len() >= 31 {
                (net, bc)
            } else {
                (net + 1, bc - 1)
            };
            Pool {
                ranges: vec![r],
                family: f,
                written: None,
            }
        }),
        Family::V6 => n.ipv6.as_ref().map(|p| {
            let net = u128::from(p.network());
            let last = u128::from(p.broadcast());
            // The subnet-router anycast address is left out, except on a
            // point-to-point /127 (RFC 6164) or a /128.
            let first = if p.prefix_len() >= 127 { net } else { net + 1 };
            Pool {
                ranges: vec![(first, last)],
                family: f,
                written: None,
            }
        }),
        Family::Asn => None,
    }
}

/// The `auto` requests among an IPv4 and an IPv6 spec: (span, family, name).
fn autos(
    v4: &Option<Sp<AddrSpec<std::net::Ipv4Addr>>>,
    v6: &Option<Sp<AddrSpec<std::net::Ipv6Addr>>>,
) -> impl Iterator<Item = (Span, Family, IpFamily)> {
    let a = v4
        .as_ref()
        .filter(|s| s.value == AddrSpec::Auto)
        .map(|s| (s.span, Family::V4, IpFamily::V4));
    let b = v6
        .as_ref()
        .filter(|s| s.value == AddrSpec::Auto)
        .map(|s| (s.span, Family::V6, IpFamily::V6));
    a.into_iter().chain(b)
}

/// Every pool a request draws from, each made on first use. A request
/// holds its pool's index: a 10,000-node site makes 60,000 requests, and
/// naming the pool of each (`network/mgmt/ipv4`) was a string formatted
/// and looked up every time.
#[derive(Default)]
struct Pools<'s> {
    /// (name for messages, the pool), by index.
    list: Vec<(String, Pool)>,
    by_network: FxMap<(&'s str, Family), Option<usize>>,
    asn: Option<usize>,
}

impl<'s> Pools<'s> {
    /// The index of a network's pool for one family, created on first
    /// use; `None` when the network has no prefix of that family.
    fn network(&mut self, net: &'s Network, fam: Family, fam_s: &str) -> Option<usize> {
        let list = &mut self.list;
        *self
            .by_network
            .entry((net.name.value.as_str(), fam))
            .or_insert_with(|| {
                let pool = network_pool(net, fam)?;
                list.push((format!("network/{}/{fam_s}", net.name.value), pool));
                Some(list.len() - 1)
            })
    }

    /// The site's ASN pool, written at `span`.
    fn asn(&mut self, range: (u128, u128), span: Span) -> usize {
        let list = &mut self.list;
        *self.asn.get_or_insert_with(|| {
            list.push((
                "asn".into(),
                Pool {
                    ranges: vec![range],
                    family: Family::Asn,
                    written: Some(span),
                },
            ));
            list.len() - 1
        })
    }
}

struct Request {
    owner: String,
    /// `typed` as siteconf.lock spells it.
    key: String,
    typed: AllocKey,
    /// Index into [`Pools::list`].
    pool: usize,
    span: Span,
}

/// Every value fixed in the site, which allocation must avoid: (family, value) → owner.
fn fixed_values(site: &Site, nodes: &[ResolvedNode]) -> BTreeMap<(Family, u128), (String, Span)> {
    let mut out = BTreeMap::new();
    let mut add = |f: Family, v: u128, owner: String, span: Span| {
        out.entry((f, v)).or_insert((owner, span));
    };
    let fam = |ip: IpAddr| if ip.is_ipv4() { Family::V4 } else { Family::V6 };
    for n in &site.networks {
        if let Some(g) = &n.gateway4 {
            add(
                Family::V4,
                ip_u128(IpAddr::V4(g.value)),
                format!("network/{} gateway", n.name.value),
                g.span,
            );
        }
        if let Some(g) = &n.gateway6 {
            add(
                Family::V6,
                ip_u128(IpAddr::V6(g.value)),
                format!("network/{} gateway", n.name.value),
                g.span,
            );
        }
    }
    // The site's resolvers are often hosts on a fleet network; handing
    // their address to a node would take DNS down for everyone.
    for d in site.site.iter().flat_map(|s| &s.dns_servers) {
        add(
            fam(d.value),
            ip_u128(d.value),
            "site dns-server".into(),
            d.span,
        );
    }
    // So are NTP servers given as addresses.
    for n in site.site.iter().flat_map(|s| &s.ntp_servers) {
        if let Ok(ip) = n.value.parse::<IpAddr>() {
            add(fam(ip), ip_u128(ip), "site ntp-server".into(), n.span);
        }
    }
    // An external peer's address is the provider's router, on a subnet a
    // network may also cover (a `public` network over the transit LAN).
    for p in &site.bgp_peers {
        add(
            fam(p.address.value),
            ip_u128(p.address.value),
            format!("bgp-peer/{}", p.name.value),
            p.address.span,
        );
    }
    for s in &site.switches {
        let owner = format!("switch/{}", s.name.value);
        // A routed port's address is the switch's end of that subnet.
        for i in &s.interfaces {
            for a in &i.addresses {
                let ip = a.value.addr();
                add(
                    fam(ip),
                    ip_u128(ip),
                    format!("{owner} port {}", i.port.value),
                    a.span,
                );
            }
        }
        if let Some(l) = &s.loopback4 {
            add(
                Family::V4,
                ip_u128(IpAddr::V4(l.value)),
                owner.clone(),
                l.span,
            );
        }
        if let Some(l) = &s.loopback6 {
            add(
                Family::V6,
                ip_u128(IpAddr::V6(l.value)),
                owner.clone(),
                l.span,
            );
        }
        if let Some(a) = &s.asn {
            add(Family::Asn, a.value as u128, owner, a.span);
        }
    }
    for rn in nodes {
        let owner = format!("node/{}", site.nodes[rn.index].name.value);
        let st = &rn.settings;
        for a in &st.addresses {
            if let Some(Sp {
                value: AddrSpec::Fixed(ip),
                span,
            }) = &a.ipv4
            {
                add(Family::V4, ip_u128(IpAddr::V4(*ip)), owner.clone(), *span);
            }
            if let Some(Sp {
                value: AddrSpec::Fixed(ip),
                span,
            }) = &a.ipv6
            {
                add(Family::V6, ip_u128(IpAddr::V6(*ip)), owner.clone(), *span);
            }
        }
        if let Some(l) = &st.loopback {
            if let Some(Sp {
                value: AddrSpec::Fixed(ip),
                span,
            }) = &l.ipv4
            {
                add(
                    fam(IpAddr::V4(*ip)),
                    ip_u128(IpAddr::V4(*ip)),
                    owner.clone(),
                    *span,
                );
            }
            if let Some(Sp {
                value: AddrSpec::Fixed(ip),
                span,
            }) = &l.ipv6
            {
                add(Family::V6, ip_u128(IpAddr::V6(*ip)), owner.clone(), *span);
            }
        }
        if let Some(Sp {
            value: AddrSpec::Fixed(n),
            span,
        }) = st.bgp.as_ref().and_then(|b| b.asn.as_ref())
        {
            add(Family::Asn, *n as u128, owner.clone(), *span);
        }
    }
    out
}

/// SC0803: the value `owner` has written in the site (at `span`) is one
/// the lock gave to `e.owner`. The allocator never hands out a value the
/// site uses, so the written value is the newer one (a new switch's ASN or
/// loopback typed inside the pool, a gateway moved): the advice is to fix
/// that value first, and to take the allocated one back (renumbering a
/// deployed node) only when the written value must stay.
fn collision(site: &Site, f: Family, owner: &str, span: Span, e: &LockEntry) -> Diagnostic {
    let noun = if f == Family::Asn { "ASN" } else { "address" };
    // A node's value is fixed for it; anything else (a switch, a gateway,
    // a peer) simply uses the value.
    let how = if owner.starts_with("node/") {
        "fixed for"
    } else {
        "used by"
    };
    // Where `auto` takes values of that key from, to pick one outside.
    let outside = match AllocKey::parse(&e.key) {
        Some(AllocKey::Asn) => match site.site.as_ref().and_then(|s| s.asn_pool.as_ref()) {
            Some(p) => format!(
                "an ASN outside `asn-pool` ({}-{}), from which `auto` gives nodes theirs",
                p.value.start, p.value.end
            ),
            None => "an ASN outside `asn-pool`".to_string(),
        },
        Some(AllocKey::Loopback(_)) => {
            let net = site
                .networks
                .iter()
                .find(|n| n.purpose.value == Purpose::Loopback)
                .map(|n| format!("network `{}`", n.name.value))
                .unwrap_or_else(|| "the loopback network".into());
            format!("an address `auto` never hands out: in a `reserved` range of {net}")
        }
        Some(AllocKey::Address { network, .. }) => format!(
            "an address `auto` never hands out: in a `reserved` range of network `{network}`"
        ),
        None => format!("an {noun} no node has been given"),
    };
    // A node's own fixed value can simply go back to `auto`: the lock's
    // line for the node, or a free value, with no collision.
    let back = if owner.starts_with("node/") {
        format!(
            "write `auto` again (the node then gets its own locked value, or a free one from the pool), or give {owner} "
        )
    } else {
        format!("give {owner} ")
    };
    Diagnostic::error(
        Code::AllocationCollision,
        format!(
            "{noun} {} is {how} {owner} but siteconf.lock already gave it to {} ({})",
            e.value, e.owner, e.key
        ),
    )
    .label(span, format!("{how} {owner}"))
    .label(e.span, format!("allocated to {} ({})", e.owner, e.key))
    .help(format!(
        "the value written in the site is usually the newer one (the allocator never gives out a value the site uses): {back}{outside}. Only if {owner} must keep {}: delete the lock line of {} and run `siteconf lock`, which renumbers {} (a deployed node changes its {})",
        e.value, e.owner, e.owner, if f == Family::Asn { "ASN and its BGP sessions reset" } else { "address" }
    ))
}

/// The one network of the site that a lock line of an unknown network
/// could have been renamed to: it has a prefix of `family` holding `value`
/// and no line of that family in the lock yet. Its name and prefix.
fn renamed_network(
    site: &Site,
    locked: &FxSet<(&str, IpFamily)>,
    family: IpFamily,
    value: &str,
) -> Option<(String, String)> {
    let ip: std::net::IpAddr = value.parse().ok()?;
    let mut hits = site.networks.iter().filter_map(|n| {
        if locked.contains(&(n.name.value.as_str(), family)) {
            return None;
        }
        let prefix: ipnet::IpNet = match family {
            IpFamily::V4 => n.ipv4.as_ref()?.value.into(),
            IpFamily::V6 => n.ipv6.as_ref()?.value.into(),
        };
        prefix
            .contains(&ip)
            .then(|| (n.name.value.clone(), prefix.to_string()))
    });
    let first = hits.next()?;
    // Two candidates: which one was meant is not known.
    hits.next().is_none().then_some(first)
}

/// What the strict lock reader cannot know without the site: lines for a
/// network the site does not declare (always an error: a damaged byte in
/// `address.mgmt.ipv4` must not release the node's address), and active
/// lines for an owner or key that is not asked for but one character away
/// from a request that has no line (`node/r01m02` while `node/r01n02`
/// asks): a damaged line, which would otherwise re-allocate the node.
///
/// The rule, documented in docs/security.md: an active line whose owner or
/// key the site no longer asks for is released (removing a node or an
/// address is how a user asks for that) — unless it is such a near miss.
/// Released lines are never near misses: they hold a value back and
/// nothing else, so a damaged one cannot renumber anything.
fn check_against_site(
    site: &Site,
    requests: &[Request],
    asked: &FxSet<(&str, &str)>,
    old: &Lock,
    diags: &mut Diagnostics,
) {
    let networks: std::collections::BTreeSet<&str> = site
        .networks
        .iter()
        .map(|n| n.name.value.as_str())
        .collect();
    let mut in_lock: FxSet<(&str, &str)> = set_with(old.entries.len());
    in_lock.extend(
        old.entries
            .iter()
            .map(|e| (e.owner.as_str(), e.key.as_str())),
    );
    // Requests without a line, by key and by owner, to find near misses
    // without comparing every pair.
    let mut unserved_by_key: BTreeMap<&str, Vec<&Request>> = BTreeMap::new();
    let mut unserved_by_owner: BTreeMap<&str, Vec<&Request>> = BTreeMap::new();
    for r in requests {
        // An owner whose name is not a name (`r01n02 ` with a space, SC0016)
        // is that finding's: the lock's lines for the name meant are not
        // damaged, and a guess at them would only repeat it.
        let named = r
            .owner
            .split_once('/')
            .is_none_or(|(_, n)| crate::model::is_hostname_label(n));
        if !named {
            continue;
        }
        if !in_lock.contains(&(r.owner.as_str(), r.key.as_str())) {
            unserved_by_key.entry(&r.key).or_default().push(r);
            unserved_by_owner.entry(&r.owner).or_default().push(r);
        }
    }
    let near = |a: &str, b: &str| a.len().abs_diff(b.len()) <= 1 && strsim::levenshtein(a, b) == 1;
    // Networks and families the lock has lines for: a network without any
    // may be a renamed one's new name.
    let mut locked_nets: FxSet<(&str, IpFamily)> = set_with(networks.len());
    for e in &old.entries {
        if let Some(AllocKey::Address { network, family }) = AllocKey::parse(&e.key) {
            locked_nets.insert((network, family));
        }
    }
    for e in &old.entries {
        if let Some(AllocKey::Address {
            network: net,
            family,
        }) = AllocKey::parse(&e.key)
        {
            if !networks.contains(net) {
                let hint = crate::diag::did_you_mean(net, networks.iter().copied())
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                let help = match renamed_network(site, &locked_nets, family, &e.value) {
                    Some((new, prefix)) => {
                        let (from, to) = (format!("address.{net}.{}", family.as_str()), format!("address.{new}.{}", family.as_str()));
                        let lines = old.entries.iter().filter(|x| x.key == from).count();
                        format!(
                            "is `{net}` an old name (or a damaged spelling) of network `{new}`? `{new}` has no lines in the lock and its prefix {prefix} holds this value. To keep every machine's address, rename the key on all {lines} line(s) of `{from}` in siteconf.lock to `{to}`, then run `siteconf check`. Deleting the lines instead gives those machines new addresses (renumbered)"
                        )
                    }
                    None => "a damaged line: restore it from git (`git log -p siteconf.lock`). If the network was renamed, rename the key on its lines (`address.OLD.ipv4` → `address.NEW.ipv4`) to keep the addresses. If it was removed on purpose, delete its lines by hand once no machine uses those addresses (deleting lines of machines still on it renumbers them)".to_string(),
                };
                diags.push(
                    Diagnostic::error(
                        Code::LockUnknownEntry,
                        format!(
                            "siteconf.lock line {}: {} {} names network `{net}`, which the site does not declare{hint}",
                            e.line, e.owner, e.key
                        ),
                    )
                    .label(e.span, format!("value {}", e.value))
                    .help(help),
                );
                continue;
            }
        }
        if e.released || asked.contains(&(e.owner.as_str(), e.key.as_str())) {
            continue;
        }
        let by_owner = unserved_by_key
            .get(e.key.as_str())
            .into_iter()
            .flatten()
            .filter(|r| near(&r.owner, &e.owner));
        // A key one character away whose value could not be this line's
        // (`address.mgmt.ipv4 10.0.1.0` beside a request for
        // `address.mgmt.ipv6`) is a changed request, not a damaged line:
        // the old value is released like any other no longer asked for.
        let takes_value =
            |key: &str| AllocKey::parse(key).is_some_and(|k| k.parse_value(&e.value).is_some());
        let by_key = unserved_by_owner
            .get(e.owner.as_str())
            .into_iter()
            .flatten()
            .filter(|r| near(&r.key, &e.key) && takes_value(&r.key));
        if let Some(r) = by_owner.chain(by_key).next() {
            diags.push(
                Diagnostic::error(
                    Code::LockDamagedLine,
                    format!(
                        "siteconf.lock line {} looks damaged: {} {} {} is not in the site, and {} {} has no line",
                        e.line, e.owner, e.key, e.value, r.owner, r.key
                    ),
                )
                .label(e.span, format!("probably `{} {} {}`", r.owner, r.key, e.value))
                .label(r.span, format!("{} asks for {} here", r.owner, r.key))
                .help(format!(
                    "if the line was damaged, correct it to `{} {} {}` so the node keeps its value; if {} was really removed and {} is new, append ` released` to the old line, then run `siteconf lock`",
                    r.owner, r.key, e.value, e.owner, r.owner
                )),
            );
        }
    }
}

/// SC0802's advice for a value two lines give (`a` read first): which line
/// to delete, told by the base's committed lock (`base`: its revision and
/// lines), never guessed. The line that differs from the base — a value
/// edited, or an owner the base has no line for (it came with a merge) —
/// is the one that changed; when both or neither do, or there is no base,
/// the help says so and how to find out.
fn duplicate_help(
    a: &LockEntry,
    b: &LockEntry,
    base: Option<(&str, &CommittedLines<'_>)>,
    lock_file: &str,
) -> String {
    let find_out = format!(
        "`git diff {lock_file}` (uncommitted) or `git log -p {lock_file}` shows which line changed: restore its old value (the one its machine runs with), or delete it and run `siteconf lock` to give that owner a free value"
    );
    let Some((rev, lines)) = base else {
        return format!(
            "siteconf cannot tell which of the two lines is new (the project is not in git, or {lock_file} is not committed): {find_out}"
        );
    };
    // In the base with this very value in use: the line kept its value.
    let kept = |e: &LockEntry| {
        lines
            .get(&(e.owner.as_str(), e.key.as_str()))
            .is_some_and(|&(v, released)| v == e.value && !released)
    };
    let (changed, holder) = match (kept(a), kept(b)) {
        (true, false) => (b, a),
        (false, true) => (a, b),
        (true, true) => {
            return format!(
                "{rev}'s {lock_file} has both lines already, so siteconf cannot tell which owner really has {}: {find_out}",
                a.value
            )
        }
        (false, false) => {
            return format!(
                "neither line is in {rev}'s {lock_file} as it reads here, so siteconf cannot tell which is new: {find_out}"
            )
        }
    };
    match lines.get(&(changed.owner.as_str(), changed.key.as_str())) {
        Some(&(was, _)) if was != changed.value => format!(
            "{} {} changed since {rev} (there it is {was}), while {} had {} there already: restore the line to `{} {} {was}`, the value its machine runs with (`git diff {lock_file}` shows the edit); only if it must move, delete the line and run `siteconf lock` to give it a free value",
            changed.owner, changed.key, holder.owner, holder.value, changed.owner, changed.key
        ),
        _ => format!(
            "{rev}'s {lock_file} has no line for {} {} (it came since, with a merge or an edit), while {} had {} there already: delete the line `{} {} {}` and run `siteconf lock` to give {} a free value",
            changed.owner, changed.key, holder.owner, holder.value, changed.owner, changed.key, changed.value, changed.owner
        ),
    }
}

/// Allocates every `auto` request. Returns the allocations, the lock as it
/// should now read, and a human list of what changed in it.
pub fn allocate(
    site: &Site,
    index: &SiteIndex,
    nodes: &[ResolvedNode],
    old: &Lock,
    history: &super::LockHistory<'_>,
    diags: &mut Diagnostics,
) -> (Allocations, Lock, Vec<String>) {
    // Pools by id.
    let mut pools = Pools::default();
    let loopback_net = site
        .networks
        .iter()
        .find(|n| n.purpose.value == Purpose::Loopback);
    let mut requests = Vec::new();
    let no_pool = |diags: &mut Diagnostics, span: Span, what: String, help: &str| {
        diags.push(
            Diagnostic::error(Code::NoPool, format!("nothing to allocate {what} from"))
                .label(span, "`auto` asked for here")
                .help(help.to_string()),
        );
    };
    for rn in nodes {
        let name = &site.nodes[rn.index].name.value;
        let owner = format!("node/{name}");
        let st = &rn.settings;
        for a in &st.addresses {
            let Some(net) = site.network(index, &a.network.value) else {
                continue;
            };
            for (span, fam, ipf) in autos(&a.ipv4, &a.ipv6) {
                let fam_s = ipf.as_str();
                let Some(pool) = pools.network(net, fam, fam_s) else {
                    // A prefix written but unreadable is reported as such.
                    if net.prefix_invalid[(fam == Family::V6) as usize] {
                        continue;
                    }
                    no_pool(
                        diags,
                        span,
                        format!("an {fam_s} address on `{}`", net.name.value),
                        &format!(
                            "network `{}` has no {fam_s} prefix; add one or give a fixed address",
                            net.name.value
                        ),
                    );
                    continue;
                };
                let typed = AllocKey::Address {
                    network: net.name.value.clone(),
                    family: ipf,
                };
                requests.push(Request {
                    owner: owner.clone(),
                    key: typed.to_string(),
                    typed,
                    pool,
                    span,
                });
            }
        }
        if let Some(l) = &st.loopback {
            for (span, fam, ipf) in autos(&l.ipv4, &l.ipv6) {
                let fam_s = ipf.as_str();
                let Some(net) = loopback_net else {
                    // A network whose `purpose` is a typo may be the
                    // loopback network: its typo is the finding.
                    if site.networks.iter().any(|n| n.purpose_invalid) {
                        continue;
                    }
                    no_pool(
                        diags,
                        span,
                        format!("a loopback {fam_s}"),
                        "declare a network with `purpose loopback`",
                    );
                    continue;
                };
                let Some(pool) = pools.network(net, fam, fam_s) else {
                    if net.prefix_invalid[(fam == Family::V6) as usize] {
                        continue;
                    }
                    no_pool(
                        diags,
                        span,
                        format!("a loopback {fam_s}"),
                        &format!(
                            "loopback network `{}` has no {fam_s} prefix",
                            net.name.value
                        ),
                    );
                    continue;
                };
                let typed = AllocKey::Loopback(ipf);
                requests.push(Request {
                    owner: owner.clone(),
                    key: typed.to_string(),
                    typed,
                    pool,
                    span,
                });
            }
        }
        if let Some(Sp {
            value: AddrSpec::Auto,
            span,
        }) = st.bgp.as_ref().and_then(|b| b.asn.as_ref())
        {
            match site.site.as_ref().and_then(|s| s.asn_pool.as_ref()) {
                Some(p) => {
                    let pool = pools.asn((p.start as u128, p.end as u128), p.span);
                    requests.push(Request {
                        owner: owner.clone(),
                        key: AllocKey::<String>::Asn.to_string(),
                        typed: AllocKey::Asn,
                        pool,
                        span: *span,
                    });
                }
                // An `asn-pool` that is not a range is reported as such.
                None if site.site.as_ref().is_some_and(|s| s.asn_pool_invalid) => {}
                None => no_pool(
                    diags,
                    *span,
                    "an ASN".into(),
                    "add `asn-pool \"START-END\"` to the site",
                ),
            }
        }
    }

    // Served in (owner, key) order.
    requests.sort_by(|a, b| (&a.owner, &a.key).cmp(&(&b.owner, &b.key)));
    let fixed = fixed_values(site, nodes);
    // The strict lock reader refused keys that fit no shape.
    let pool_family = |key: &str| -> Family {
        AllocKey::parse(key)
            .map(|k| family_of(&k))
            .unwrap_or(Family::V4)
    };

    // The old lock, indexed; duplicate values between owners are reported.
    let mut by_request: FxMap<(&str, &str), &LockEntry> = map_with(old.entries.len());
    let mut value_owner: FxMap<(Family, u128), &LockEntry> = map_with(old.entries.len());
    // The base's committed lock lines, read at the first duplicate value.
    let mut base_lines: Option<CommittedLines<'_>> = None;
    for e in &old.entries {
        let f = pool_family(&e.key);
        let Some(v) = parse_value(f, &e.value) else {
            diags.push(
                Diagnostic::error(
                    Code::LockSyntax,
                    format!("`{}` is not a valid value for `{}`", e.value, e.key),
                )
                .label(e.span, "in this lock line")
                .help("delete the line and run `siteconf lock` to allocate again"),
            );
            continue;
        };
        if let Some(prev) = value_owner.get(&(f, v)) {
            // Both inside one conflict block: the block's finding (SC0807)
            // names them and says how to resolve them.
            let in_block = prev.block.is_some() && prev.block == e.block;
            if (prev.owner != e.owner || prev.key != e.key) && !in_block {
                let base = history.earlier.iter().find(|x| x.base);
                let committed = base_lines.get_or_insert_with(|| {
                    base.map(|b| super::lock::committed_entries(&b.text))
                        .unwrap_or_default()
                });
                let help = duplicate_help(
                    prev,
                    e,
                    base.map(|b| (b.rev.as_str(), &*committed)),
                    history.file,
                );
                diags.push(
                    Diagnostic::error(
                        Code::LockDuplicate,
                        format!(
                            "the lock file gives {} to both {} and {}",
                            e.value, prev.owner, e.owner
                        ),
                    )
                    .label(e.span, format!("{} {}", e.owner, e.key))
                    .label(prev.span, format!("{} {}", prev.owner, prev.key))
                    .help(help),
                );
            }
        } else {
            value_owner.insert((f, v), e);
        }
        if !e.released {
            by_request
                .entry((e.owner.as_str(), e.key.as_str()))
                .or_insert(e);
        }
    }
    let mut asked: FxSet<(&str, &str)> = set_with(requests.len());
    asked.extend(requests.iter().map(|r| (r.owner.as_str(), r.key.as_str())));
    check_against_site(site, &requests, &asked, old, diags);
    let released_by_request: FxMap<(&str, &str), &LockEntry> = old
        .entries
        .iter()
        .filter(|e| e.released)
        .map(|e| ((e.owner.as_str(), e.key.as_str()), e))
        .collect();

    // Fixed values that collide with an allocated value of another owner.
    for ((f, v), (owner, span)) in &fixed {
        if let Some(e) = value_owner.get(&(*f, *v)) {
            if &e.owner != owner && !e.released {
                diags.push(collision(site, *f, owner, *span, e));
            }
        }
    }

    // Used values per family: fixed + everything in the lock.
    let mut used: BTreeMap<Family, FxSet<u128>> = BTreeMap::new();
    for (f, v) in fixed.keys() {
        used.entry(*f).or_default().insert(*v);
    }
    for (f, v) in value_owner.keys() {
        used.entry(*f).or_default().insert(*v);
    }
    // Reserved ranges and gateways are skipped per pool below.
    let reserved: Vec<(Family, u128, u128)> = site
        .networks
        .iter()
        .flat_map(|n| n.reserved.iter())
        .map(|r| {
            let f = if r.start.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            };
            (f, ip_u128(r.start), ip_u128(r.end))
        })
        .collect();

    let mut map = Allocations::default();
    let mut new_entries: Vec<LockEntry> = Vec::new();
    let mut changes = Vec::new();
    let mut cursors: Vec<u128> = vec![0; pools.list.len()];
    // Per pool, the lock's values that a written pool no longer holds: the
    // pool was narrowed, or a range reserved, after they were given.
    let mut outside: Vec<Vec<&LockEntry>> = vec![Vec::new(); pools.list.len()];
    for r in &requests {
        let key = (r.owner.as_str(), r.key.as_str());
        if let Some(e) = by_request.get(&key) {
            if let Some(v) = r.typed.parse_value(&e.value) {
                map.insert(&r.owner, &r.typed, v);
                let pool = &pools.list[r.pool].1;
                let n = value_u128(v);
                let reserved_here = reserved
                    .iter()
                    .any(|(f, a, b)| *f == pool.family && *a <= n && n <= *b);
                if pool.written.is_some() && (!pool.contains(n) || reserved_here) {
                    outside[r.pool].push(e);
                }
            }
            new_entries.push(LockEntry {
                released: false,
                ..(*e).clone()
            });
            continue;
        }
        if let Some(e) = released_by_request.get(&key) {
            // The owner came back: it gets its old value again.
            if let Some(v) = r.typed.parse_value(&e.value) {
                map.insert(&r.owner, &r.typed, v);
            }
            new_entries.push(LockEntry {
                released: false,
                ..(*e).clone()
            });
            changes.push(format!("reclaim {} {} {}", r.owner, r.key, e.value));
            continue;
        }
        let (pool_name, pool) = &pools.list[r.pool];
        let set = used.entry(pool.family).or_default();
        let cursor = &mut cursors[r.pool];
        let mut found = None;
        'ranges: for &(lo, hi) in &pool.ranges {
            let mut v = lo.max(*cursor);
            while v <= hi {
                let in_reserved = reserved
                    .iter()
                    .find(|(f, a, b)| *f == pool.family && *a <= v && v <= *b)
                    .map(|(_, _, b)| *b);
                if let Some(end) = in_reserved {
                    v = end.saturating_add(1);
                    continue;
                }
                if !set.contains(&v) {
                    found = Some(v);
                    break 'ranges;
                }
                v += 1;
            }
        }
        match found {
            Some(v) => {
                *cursor = v + 1;
                set.insert(v);
                let value = typed_value(pool.family, v);
                changes.push(format!("add {} {} {}", r.owner, r.key, value));
                map.insert(&r.owner, &r.typed, value);
                new_entries.push(LockEntry {
                    owner: r.owner.clone(),
                    key: r.key.clone(),
                    value: value.to_string(),
                    released: false,
                    span: Span::BUILTIN,
                    line: 0,
                    block: None,
                });
            }
            None => diags.push(
                Diagnostic::error(Code::PoolExhausted, format!("pool `{pool_name}` has no free value left for {}", r.owner))
                    .label(r.span, "`auto` asked for here")
                    .help("widen the network's prefix or `pool`, prune released values with `siteconf lock --prune-released`, or give a fixed value"),
            ),
        }
    }
    for ((name, pool), entries) in pools.list.iter().zip(&outside) {
        let (Some(first), Some(span)) = (entries.first(), pool.written) else {
            continue;
        };
        let more = match entries.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        diags.push(
            Diagnostic::warning(
                Code::LockOutsidePool,
                format!(
                    "siteconf.lock keeps {} value(s) that pool `{name}` no longer offers: {} {} {}{more}",
                    entries.len(),
                    first.owner,
                    first.key,
                    first.value
                ),
            )
            .label(span, "the pool as written now")
            .label(first.span, format!("line {}", first.line))
            .help("values in the lock are kept, so that no machine is renumbered by an edit; if the pool was narrowed to move them, delete their lines from siteconf.lock and run `siteconf lock` to give them values from the pool"),
        );
    }
    // Whatever the old lock had that nobody asks for any more is released.
    for e in &old.entries {
        if asked.contains(&(e.owner.as_str(), e.key.as_str())) {
            continue;
        }
        if !e.released {
            changes.push(format!("release {} {} {}", e.owner, e.key, e.value));
        }
        new_entries.push(LockEntry {
            released: true,
            ..e.clone()
        });
    }
    let mut lock = Lock {
        entries: new_entries,
        // Zone serials are not allocations: `resolve` carries them over.
        zones: Vec::new(),
        version: super::lock::VERSION,
    };
    lock.sort();
    changes.sort();
    (map, lock, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(owner: &str, key: &str, value: &str) -> LockEntry {
        LockEntry {
            owner: owner.into(),
            key: key.into(),
            value: value.into(),
            released: false,
            span: Span::BUILTIN,
            line: 1,
            block: None,
        }
    }

    #[test]
    fn the_line_to_fix_is_the_one_that_differs_from_the_base_never_a_guess() {
        let k = "address.mgmt.ipv4";
        let base =
            "node/r01n03 address.mgmt.ipv4 10.0.1.2\nnode/r01n06 address.mgmt.ipv4 10.0.1.5\n";
        let lines = super::super::lock::committed_entries(base);
        let (a, b) = (
            entry("node/r01n03", k, "10.0.1.5"),
            entry("node/r01n06", k, "10.0.1.5"),
        );
        // r01n03 sorts first, yet it is the edited line: restore it.
        let h = duplicate_help(&a, &b, Some(("HEAD", &lines)), "siteconf.lock");
        assert!(
            h.starts_with(
                "node/r01n03 address.mgmt.ipv4 changed since HEAD (there it is 10.0.1.2)"
            ),
            "{h}"
        );
        assert!(
            h.contains("`node/r01n03 address.mgmt.ipv4 10.0.1.2`"),
            "{h}"
        );
        assert_eq!(
            h,
            duplicate_help(&b, &a, Some(("HEAD", &lines)), "siteconf.lock")
        );
        // An owner the base has no line for came with the merge.
        let c = entry("node/r04n01", k, "10.0.1.5");
        let h = duplicate_help(&b, &c, Some(("HEAD", &lines)), "siteconf.lock");
        assert!(
            h.contains("no line for node/r04n01 address.mgmt.ipv4"),
            "{h}"
        );
        assert!(
            h.contains("delete the line `node/r04n01 address.mgmt.ipv4 10.0.1.5`"),
            "{h}"
        );
        // Neither in the base, or no base: it says it cannot tell.
        let d = entry("node/r04n02", k, "10.0.1.5");
        let h = duplicate_help(&c, &d, Some(("HEAD", &lines)), "siteconf.lock");
        assert!(h.contains("cannot tell"), "{h}");
        let h = duplicate_help(&a, &b, None, "siteconf.lock");
        assert!(
            h.contains("cannot tell") && h.contains("`git diff siteconf.lock`"),
            "{h}"
        );
    }
}
