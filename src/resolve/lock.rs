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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lock {
    pub entries: Vec<LockEntry>,
}

pub const HEADER: &str = "# siteconf.lock — values allocated by siteconf; commit this file.\n# One line per value: OWNER KEY VALUE [released]. `siteconf lock` rewrites it.\n";

impl Lock {
    pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Lock {
        let mut entries = Vec::new();
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
        Lock { entries }
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
        out
    }

    /// Drops released entries (`siteconf lock --prune-released`).
    pub fn prune_released(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !e.released);
        before - self.entries.len()
    }
}
