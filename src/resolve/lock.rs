//! `siteconf.lock`: every allocated value, one line each, sorted by owner
//! and key, so two branches that allocate for different nodes touch
//! different lines and merge without conflicts.
//!
//! ```text
//! # siteconf.lock — allocated values; commit this file. `siteconf lock` rewrites it.
//! node/r01n01 address.mgmt.ipv4 10.0.1.5
//! node/r01n01 asn 4200000101
//! node/r09n01 loopback.ipv4 10.255.1.9 released
//! ```
//!
//! A `released` line belongs to an owner that no longer asks for it; its
//! value is held back from allocation until `siteconf lock --prune-released`.
//!
//! Besides allocations, the lock records the SOA serial of every DNS zone
//! the build renders, with a digest of the zone's text without its serial
//! (owner kind [`ZONE_OWNER`], key [`ZONE_SERIAL_KEY`]; see
//! `render::site::dns` for how serials move):
//!
//! ```text
//! zone/dc1.example.net serial 7 3f9c…(64 hex digits)
//! ```

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::syntax::{FileId, Span};

#[derive(Debug, Clone)]
pub struct LockEntry {
    pub owner: String,
    pub key: String,
    pub value: String,
    pub released: bool,
    /// Where the line is in the lock file (BUILTIN for new entries).
    pub span: Span,
}

impl PartialEq for LockEntry {
    fn eq(&self, o: &LockEntry) -> bool {
        self.owner == o.owner
            && self.key == o.key
            && self.value == o.value
            && self.released == o.released
    }
}

/// Owner kind of a zone serial line: `zone/<origin> serial <N> <sha256>`.
/// The one place that knows this owner kind exists (the lock reader treats
/// every other owner as an allocation).
pub const ZONE_OWNER: &str = "zone/";
/// The key of a zone serial line.
pub const ZONE_SERIAL_KEY: &str = "serial";

/// A zone's recorded serial: `serial` was given to the zone whose text,
/// rendered with serial 0, has SHA-256 `hash` (lowercase hex).
#[derive(Debug, Clone)]
pub struct ZoneSerial {
    /// The zone's origin without trailing dot (`dc1.example.net`).
    pub origin: String,
    pub serial: u32,
    pub hash: String,
    /// Where the line is in the lock file (BUILTIN for new records).
    pub span: Span,
}

impl PartialEq for ZoneSerial {
    fn eq(&self, o: &ZoneSerial) -> bool {
        self.origin == o.origin && self.serial == o.serial && self.hash == o.hash
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lock {
    pub entries: Vec<LockEntry>,
    /// Zone serials, sorted by origin (written after the allocations:
    /// `zone/` sorts after every other owner kind).
    pub zones: Vec<ZoneSerial>,
}

pub const HEADER: &str = "# siteconf.lock — values allocated by siteconf; commit this file.\n# One line per value: OWNER KEY VALUE [released]. `siteconf lock` rewrites it.\n";

impl Lock {
    pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Lock {
        let mut entries = Vec::new();
        let mut zones = Vec::new();
        let mut offset = 0usize;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            let t = body.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let span = Span::new(file, start, start + body.len());
            let words: Vec<&str> = t.split_whitespace().collect();
            if let Some(origin) = words[0].strip_prefix(ZONE_OWNER) {
                match parse_zone_line(origin, &words[1..]) {
                    Some((serial, hash)) => zones.push(ZoneSerial {
                        origin: origin.to_string(),
                        serial,
                        hash,
                        span,
                    }),
                    None => diags.push(
                        Diagnostic::error(Code::LockSyntax, "cannot read this zone serial line")
                            .label(span, "expected zone/ORIGIN serial N SHA256")
                            .help("delete the line: the next `siteconf build` or `siteconf lock` records the zone's serial again (higher than the last one built here)"),
                    ),
                }
                continue;
            }
            let released = match words.get(3) {
                None => false,
                Some(&"released") if words.len() == 4 => true,
                _ => {
                    diags.push(
                        Diagnostic::error(Code::LockSyntax, "cannot read this lock line")
                            .label(span, "expected OWNER KEY VALUE [released]")
                            .help("fix the line by hand, or delete it and run `siteconf lock` to allocate again"),
                    );
                    continue;
                }
            };
            if words.len() < 3 {
                diags.push(
                    Diagnostic::error(Code::LockSyntax, "cannot read this lock line")
                        .label(span, "expected OWNER KEY VALUE [released]")
                        .help("a merge conflict marker or a truncated line? fix it, then run `siteconf lock`"),
                );
                continue;
            }
            entries.push(LockEntry {
                owner: words[0].to_string(),
                key: words[1].to_string(),
                value: words[2].to_string(),
                released,
                span,
            });
        }
        let mut lock = Lock { entries, zones };
        lock.sort_zones();
        // Two lines for one zone (both sides of a merge kept): an error
        // naming both; the higher serial is kept, so that whatever the
        // build does next still goes forward.
        let mut kept: Vec<ZoneSerial> = Vec::with_capacity(lock.zones.len());
        for z in std::mem::take(&mut lock.zones) {
            match kept.last_mut() {
                Some(prev) if prev.origin == z.origin => {
                    diags.push(
                        Diagnostic::error(
                            Code::LockZoneDuplicate,
                            format!("siteconf.lock records two serials for zone `{}`", z.origin),
                        )
                        .label(prev.span, format!("serial {}", prev.serial))
                        .label(z.span, format!("serial {}", z.serial))
                        .help("delete the line with the lower serial: the next `siteconf build` goes on from the higher one"),
                    );
                    if crate::render::site::dns::serial_gt(z.serial, prev.serial) {
                        *prev = z;
                    }
                }
                _ => kept.push(z),
            }
        }
        lock.zones = kept;
        lock
    }

    fn sort_zones(&mut self) {
        self.zones.sort_by(|a, b| a.origin.cmp(&b.origin));
    }

    /// The lock with its zone serial lines replaced by `zones`.
    pub fn with_zones(&self, zones: Vec<ZoneSerial>) -> Lock {
        let mut l = Lock {
            entries: self.entries.clone(),
            zones,
        };
        l.sort_zones();
        l
    }

    /// The recorded serial of a zone.
    pub fn zone(&self, origin: &str) -> Option<&ZoneSerial> {
        self.zones.iter().find(|z| z.origin == origin)
    }

    pub fn sort(&mut self) {
        self.entries.sort_by(|a, b| {
            (&a.owner, &a.key, a.released, &a.value).cmp(&(&b.owner, &b.key, b.released, &b.value))
        });
        self.entries.dedup();
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        for e in &self.entries {
            out.push_str(&e.owner);
            out.push(' ');
            out.push_str(&e.key);
            out.push(' ');
            out.push_str(&e.value);
            if e.released {
                out.push_str(" released");
            }
            out.push('\n');
        }
        for z in &self.zones {
            out.push_str(&format!(
                "{ZONE_OWNER}{} {ZONE_SERIAL_KEY} {} {}\n",
                z.origin, z.serial, z.hash
            ));
        }
        out
    }

    /// Drops released entries (`siteconf lock --prune-released`).
    pub fn prune_released(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !e.released);
        before - self.entries.len()
    }
}

/// `serial N HASH` of a zone line: N a u32, HASH 64 lowercase hex digits.
fn parse_zone_line(origin: &str, rest: &[&str]) -> Option<(u32, String)> {
    let [key, serial, hash] = rest else {
        return None;
    };
    let hex = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (*key == ZONE_SERIAL_KEY && !origin.is_empty() && hex)
        .then(|| serial.parse::<u32>().ok())
        .flatten()
        .map(|n| (n, hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines_round_trip_and_bad_ones_are_errors() {
        let h = "a".repeat(64);
        let text = format!(
            "{HEADER}node/a asn 1\nzone/b.example serial 3 {h}\nzone/a.example serial 4294967295 {h}\n"
        );
        let mut d = Diagnostics::new();
        let l = Lock::parse(FileId(0), &text, &mut d);
        assert!(!d.has_errors());
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.zones.len(), 2);
        assert_eq!(l.zones[0].origin, "a.example");
        assert_eq!(l.zone("b.example").map(|z| z.serial), Some(3));
        assert_eq!(
            l.to_text(),
            format!("{HEADER}node/a asn 1\nzone/a.example serial 4294967295 {h}\nzone/b.example serial 3 {h}\n")
        );
        let mut d = Diagnostics::new();
        let l = Lock::parse(
            FileId(0),
            &format!("zone/a serial 3 {h}\nzone/a serial 5 {h}\n"),
            &mut d,
        );
        assert!(d.has_errors(), "two lines for one zone");
        assert_eq!(l.zones.len(), 1);
        assert_eq!(l.zones[0].serial, 5, "the higher serial is kept");
        for bad in [
            "zone/x serial 3\n".to_string(),
            format!("zone/x serial -1 {h}\n"),
            format!("zone/x serial 4294967296 {h}\n"),
            format!("zone/x soa 3 {h}\n"),
            "zone/x serial 3 abc\n".to_string(),
            format!("zone/ serial 3 {h}\n"),
        ] {
            let mut d = Diagnostics::new();
            let l = Lock::parse(FileId(0), &bad, &mut d);
            assert!(d.has_errors(), "{bad}");
            assert!(l.zones.is_empty() && l.entries.is_empty(), "{bad}");
        }
    }
}
