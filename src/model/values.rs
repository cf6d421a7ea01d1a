//! Small value types of the model, each with the one parser that accepts it.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A unicast MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Mac, String> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
            return Err(format!(
                "`{s}` is not a MAC address (six hex octets, like 52:54:00:12:34:56)"
            ));
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(&parts) {
            *o = u8::from_str_radix(p, 16)
                .map_err(|_| format!("`{s}` is not a MAC address: `{p}` is not a hex octet"))?;
        }
        if out == [0; 6] {
            return Err(format!(
                "`{s}` is the all-zero MAC address, which no NIC has"
            ));
        }
        if out[0] & 1 == 1 {
            return Err(format!(
                "`{s}` is a multicast MAC address (lowest bit of the first octet set); a NIC's address is unicast"
            ));
        }
        Ok(Mac(out))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// An inclusive range of addresses of one family: `10.0.0.1-10.0.0.31`, or a
/// single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.start, self.end, ip) {
            (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(x)) => a <= x && x <= b,
            (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(x)) => a <= x && x <= b,
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;
    fn from_str(s: &str) -> Result<IpRange, String> {
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (s.trim(), s.trim()),
        };
        let start: IpAddr = a
            .parse()
            .map_err(|_| format!("`{a}` is not an IP address"))?;
        let end: IpAddr = b
            .parse()
            .map_err(|_| format!("`{b}` is not an IP address"))?;
        if start.is_ipv4() != end.is_ipv4() {
            return Err(format!("range `{s}` mixes IPv4 and IPv6"));
        }
        if start > end {
            return Err(format!("range `{s}` starts after it ends"));
        }
        Ok(IpRange { start, end })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// An inclusive range of AS numbers: `4200000000-4200099999`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsnRange {
    pub start: u32,
    pub end: u32,
}

impl FromStr for AsnRange {
    type Err = String;
    fn from_str(s: &str) -> Result<AsnRange, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("`{s}` is not an ASN range (START-END)"))?;
        let start: u32 = a
            .trim()
            .parse()
            .map_err(|_| format!("`{a}` is not an AS number"))?;
        let end: u32 = b
            .trim()
            .parse()
            .map_err(|_| format!("`{b}` is not an AS number"))?;
        if start == 0 || start > end {
            return Err(format!(
                "ASN range `{s}` must start at 1 or more and not after its end"
            ));
        }
        Ok(AsnRange { start, end })
    }
}

impl fmt::Display for AsnRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Whether `s` is a valid DNS label / host name (RFC 1123).
pub fn is_hostname_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Why `name` cannot be a network interface name, if it cannot: the
/// kernel's dev_valid_name (1-15 bytes, not `.` or `..`, no `/`, `:` or
/// white space), narrowed to the letters, digits, `-`, `_` and `.` that
/// netplan, FRR and fabric.json's schema all take. Used for node
/// interfaces and switch ports alike (FRR on a switch uses Linux names).
pub fn interface_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty".into());
    }
    if name.len() > 15 {
        return Some(format!("{} bytes long, Linux takes at most 15", name.len()));
    }
    if name == "." || name == ".." {
        return Some("`.` and `..` are not names".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Some(format!(
            "contains {}",
            match c {
                '/' => "`/`".to_string(),
                ':' => "`:` (an alias, not an interface)".to_string(),
                c if c.is_whitespace() => "white space".to_string(),
                c => format!("`{c}`"),
            }
        ));
    }
    None
}

/// Expands port patterns: `swp1-48` → swp1 … swp48; a plain name is itself.
pub fn expand_ports(pattern: &str) -> Result<Vec<String>, String> {
    // After the last character that is neither a digit nor `-`, which
    // may be more than one byte long (`swp1-48\u{a0}`).
    let digits_at = pattern
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '-')
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let (prefix, rest) = pattern.split_at(digits_at);
    if let Some((a, b)) = rest.split_once('-') {
        let a: u32 = a
            .parse()
            .map_err(|_| format!("`{pattern}` is not a port range like swp1-48"))?;
        let b: u32 = b
            .parse()
            .map_err(|_| format!("`{pattern}` is not a port range like swp1-48"))?;
        if a > b || b - a > 4096 {
            return Err(format!("port range `{pattern}` is empty or too large"));
        }
        Ok((a..=b).map(|n| format!("{prefix}{n}")).collect())
    } else {
        Ok(vec![pattern.to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            "52:54:00:AB:cd:01".parse::<Mac>().unwrap().to_string(),
            "52:54:00:ab:cd:01"
        );
        assert!("01:00:5e:00:00:01".parse::<Mac>().is_err());
        assert!("52:54:00:ab:cd".parse::<Mac>().is_err());
        assert!("52:54:00:ab:cd:zz".parse::<Mac>().is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(expand_ports("swp1-3").unwrap(), ["swp1", "swp2", "swp3"]);
        assert_eq!(expand_ports("eth0").unwrap(), ["eth0"]);
        assert_eq!(
            expand_ports("Ethernet1/1-2").unwrap(),
            ["Ethernet1/1", "Ethernet1/2"]
        );
        // A character of several bytes is a name, not a panic.
        assert_eq!(expand_ports("swp1-48\u{a0}").unwrap(), ["swp1-48\u{a0}"]);
        assert_eq!(expand_ports("pörť1-2").unwrap(), ["pörť1", "pörť2"]);
    }

    #[test]
    fn interface_names() {
        for ok in [
            "eno1",
            "bond0.200",
            "storage0",
            "swp1",
            "ens1f0np0",
            "a",
            "eth-0_1",
        ] {
            assert_eq!(interface_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "GigabitEthernet1/0/1",
            "eth0:1",
            "a b",
            "ethernet-port-01x",
            "é",
        ] {
            assert!(interface_name_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ranges() {
        let r: IpRange = "10.0.0.1-10.0.0.31".parse().unwrap();
        assert!(r.contains("10.0.0.5".parse().unwrap()));
        assert!(!r.contains("10.0.0.32".parse().unwrap()));
        assert!("10.0.0.9-10.0.0.1".parse::<IpRange>().is_err());
    }
}
