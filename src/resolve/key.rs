//! Allocation keys and values, typed: the one place a key is spelled
//! (`address.mgmt.ipv4`, `loopback.ipv6`, `asn` — as siteconf.lock writes
//! it) and read back. Everything after resolution looks allocations up by
//! [`AllocKey`] and gets an [`AllocValue`], never a string to parse.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    pub const BOTH: [IpFamily; 2] = [IpFamily::V4, IpFamily::V6];

    /// `ipv4` or `ipv6`, as keys and templates spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }

    pub fn of(ip: IpAddr) -> IpFamily {
        if ip.is_ipv4() {
            IpFamily::V4
        } else {
            IpFamily::V6
        }
    }
}

/// What a node asks to have allocated. `N` is the network name: `String`
/// when stored, `&str` for a lookup that borrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AllocKey<N = String> {
    /// An address on a network: `address.<network>.ipv4|ipv6`.
    Address { network: N, family: IpFamily },
    /// `loopback.ipv4|ipv6`
    Loopback(IpFamily),
    /// `asn`
    Asn,
}

/// The shapes of a key, for messages about a line that fits none.
pub const KEY_SHAPES: &[&str] = &[
    "address.NETWORK.ipv4|ipv6",
    "loopback.ipv4",
    "loopback.ipv6",
    "asn",
];

impl<N: AsRef<str>> AllocKey<N> {
    /// The key borrowed, for lookups.
    pub fn borrow(&self) -> AllocKey<&str> {
        match self {
            AllocKey::Address { network, family } => AllocKey::Address {
                network: network.as_ref(),
                family: *family,
            },
            AllocKey::Loopback(f) => AllocKey::Loopback(*f),
            AllocKey::Asn => AllocKey::Asn,
        }
    }

    /// The family of an address key; `None` for an ASN.
    pub fn family(&self) -> Option<IpFamily> {
        match self {
            AllocKey::Address { family, .. } | AllocKey::Loopback(family) => Some(*family),
            AllocKey::Asn => None,
        }
    }

    /// Reads a value of this key's kind (`10.0.0.5` for an IPv4 key).
    pub fn parse_value(&self, s: &str) -> Option<AllocValue> {
        match self.family() {
            Some(IpFamily::V4) => s.parse().ok().map(AllocValue::V4),
            Some(IpFamily::V6) => s.parse().ok().map(AllocValue::V6),
            None => s.parse().ok().map(AllocValue::Asn),
        }
    }
}

impl<'a> AllocKey<&'a str> {
    /// Reads a key as siteconf.lock writes it; `None` when it fits no
    /// shape (see [`KEY_SHAPES`]).
    pub fn parse(key: &'a str) -> Option<AllocKey<&'a str>> {
        if key == "asn" {
            return Some(AllocKey::Asn);
        }
        if let Some(f) = key.strip_prefix("loopback.") {
            return family(f).map(AllocKey::Loopback);
        }
        per_network(key.strip_prefix("address.")?)
    }

    /// The key of the value at a settings path, as `explain` and
    /// provenance name it: `addresses.mgmt.ipv4`, `loopback.ipv6`,
    /// `bgp.asn`.
    pub fn of_settings_path(path: &'a str) -> Option<AllocKey<&'a str>> {
        match path {
            "bgp.asn" => Some(AllocKey::Asn),
            p if p.starts_with("loopback.") => AllocKey::parse(p),
            p => per_network(p.strip_prefix("addresses.")?),
        }
    }
}

fn family(s: &str) -> Option<IpFamily> {
    match s {
        "ipv4" => Some(IpFamily::V4),
        "ipv6" => Some(IpFamily::V6),
        _ => None,
    }
}

/// `mgmt.ipv4` → the address key of network `mgmt`.
fn per_network(rest: &str) -> Option<AllocKey<&str>> {
    let (network, f) = rest.rsplit_once('.')?;
    if network.is_empty() {
        return None;
    }
    Some(AllocKey::Address {
        network,
        family: family(f)?,
    })
}

impl<N: AsRef<str>> fmt::Display for AllocKey<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocKey::Address { network, family } => {
                write!(f, "address.{}.{}", network.as_ref(), family.as_str())
            }
            AllocKey::Loopback(fam) => write!(f, "loopback.{}", fam.as_str()),
            AllocKey::Asn => f.write_str("asn"),
        }
    }
}

/// An allocated value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AllocValue {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Asn(u32),
}

impl fmt::Display for AllocValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocValue::V4(a) => a.fmt(f),
            AllocValue::V6(a) => a.fmt(f),
            AllocValue::Asn(n) => n.fmt(f),
        }
    }
}

/// A Rust type an allocated value is read as.
pub trait FromAlloc: Sized {
    fn from_alloc(v: AllocValue) -> Option<Self>;
}

impl FromAlloc for Ipv4Addr {
    fn from_alloc(v: AllocValue) -> Option<Self> {
        match v {
            AllocValue::V4(a) => Some(a),
            _ => None,
        }
    }
}

impl FromAlloc for Ipv6Addr {
    fn from_alloc(v: AllocValue) -> Option<Self> {
        match v {
            AllocValue::V6(a) => Some(a),
            _ => None,
        }
    }
}

impl FromAlloc for u32 {
    fn from_alloc(v: AllocValue) -> Option<Self> {
        match v {
            AllocValue::Asn(n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_what_they_write() {
        let keys = [
            AllocKey::Address {
                network: "mgmt.v2".to_string(),
                family: IpFamily::V6,
            },
            AllocKey::Loopback(IpFamily::V4),
            AllocKey::Asn,
        ];
        for k in &keys {
            let s = k.to_string();
            assert_eq!(AllocKey::parse(&s), Some(k.borrow()), "{s}");
        }
        assert_eq!(keys[0].to_string(), "address.mgmt.v2.ipv6");
        assert_eq!(
            AllocKey::of_settings_path("addresses.mgmt.ipv4"),
            AllocKey::parse("address.mgmt.ipv4")
        );
        assert_eq!(AllocKey::of_settings_path("bgp.asn"), Some(AllocKey::Asn));
        assert_eq!(AllocKey::of_settings_path("addresses.mgmt.mtu"), None);
        for bad in [
            "address..ipv4",
            "address.mgmt.ipv3",
            "loopback.v4",
            "asn2",
            "ipv4",
        ] {
            assert_eq!(AllocKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_parse_by_the_kind_of_their_key() {
        let k = AllocKey::<&str>::Loopback(IpFamily::V4);
        assert_eq!(
            k.parse_value("10.0.0.1"),
            Some(AllocValue::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(k.parse_value("fd00::1"), None);
        assert_eq!(
            AllocKey::<&str>::Asn.parse_value("65001"),
            Some(AllocValue::Asn(65001))
        );
    }
}
