//! DNS zone serials: pure functions on serial numbers and zone text.
//!
//! They live here, below every stage, because three stages read them: the
//! lock reader (`resolve::lock`, a zone's serial recorded twice keeps the
//! higher), rendering (`render::site::dns` chooses each zone's serial) and
//! the output diff (`output::diff` does not show a zone whose serial alone
//! moved).
//!
//! SOA serial: a counter that only moves forward (RFC 1982), recorded in
//! `siteconf.lock` per zone with the SHA-256 of the zone's text rendered
//! with serial 0 (`zone/<origin> serial <N> <sha256>`). A zone's serial is
//! chosen by [`choose_serial`] from the two places a serial was given
//! before — the lock's record (N, and whether its digest is this zone's)
//! and the zone file of the previous output (P, and whether it is this
//! zone's text with serial P) — never from the clock:
//!
//! - S = the higher of N and P (serial arithmetic); if the record or the
//!   file holding S is this very zone, the serial is S (the same input
//!   gives the same serial, in CI from the lock, on an operator's machine
//!   from the lock or the last build);
//! - otherwise S + 1 (so an edit, and an edit reverted, both go forward);
//! - with neither, 1.
//!
//! In a git repository the lock as committed in the revisions the tree
//! continues from (HEAD, MERGE_HEAD during a merge, a revision's parents)
//! counts too ([`choose_serial_among`]): those serials may have been
//! published, and a lock whose zone lines a merge lost or lowered must
//! not take a zone back below them.

use std::ops::Range;

/// RFC 1982 "a is greater than b" for 32-bit serials (a pair exactly 2^31
/// apart is undefined there; it counts as not greater).
pub fn serial_gt(a: u32, b: u32) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < (1 << 31)
}

/// The next serial: +1, skipping 0 (read as "unset" by some tools); an
/// increment of 1 or 2 is well inside RFC 1982's limit of 2^31 - 1.
pub fn next_serial(s: u32) -> u32 {
    match s.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// The serial of a zone: `recorded` is the lock's (N, whether its digest
/// is this zone's), `previous` the last output's (P, whether that file is
/// this zone rendered with P). See the module doc.
pub fn choose_serial(recorded: Option<(u32, bool)>, previous: Option<(u32, bool)>) -> u32 {
    choose_serial_among(recorded.into_iter().chain(previous))
}

/// [`choose_serial`] over any number of places a serial was given before
/// (the lock, the last output, the lock as committed in HEAD and in the
/// revisions being merged), each (serial, whether it was given to this
/// very zone): the highest (serial arithmetic), kept if any record of it is
/// this zone, else one more; with none, 1.
pub fn choose_serial_among(known: impl IntoIterator<Item = (u32, bool)>) -> u32 {
    match top_serial(known) {
        None => 1,
        Some((s, given)) if given.contains(&true) => s,
        Some((s, _)) => next_serial(s),
    }
}

/// The highest of the serials given before, as [`choose_serial_among`]
/// folds them (in the given order: serial arithmetic is not transitive
/// for serials 2^31 apart), with what came with each entry at that serial.
/// The serials below it play no part in the choice: a zone's key holds
/// this top only, so that a serial committed long ago, or a parent's lock,
/// does not make every zone new to a build or a diff.
pub fn top_serial<T>(known: impl IntoIterator<Item = (u32, T)>) -> Option<(u32, Vec<T>)> {
    let mut top: Option<(u32, Vec<T>)> = None;
    for (s, what) in known {
        match &mut top {
            Some((t, at)) if *t == s => at.push(what),
            Some((t, _)) if !serial_gt(s, *t) => {}
            _ => top = Some((s, vec![what])),
        }
    }
    top
}

/// The SOA serial of a zone file and where it is: the third field of the
/// first SOA record (after MNAME and RNAME), comments and parentheses
/// skipped.
pub fn soa_serial(text: &str) -> Option<(u32, Range<usize>)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut after_soa: Option<usize> = None;
    while i < b.len() {
        match b[i] {
            b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            c if c.is_ascii_whitespace() || c == b'(' || c == b')' => i += 1,
            _ => {
                let start = i;
                while i < b.len()
                    && !b[i].is_ascii_whitespace()
                    && !matches!(b[i], b';' | b'(' | b')')
                {
                    i += 1;
                }
                let word = &text[start..i];
                match after_soa {
                    None if word.eq_ignore_ascii_case("SOA") => after_soa = Some(0),
                    None => {}
                    Some(2) => return word.parse().ok().map(|n| (n, start..i)),
                    Some(k) => after_soa = Some(k + 1),
                }
            }
        }
    }
    None
}

/// A zone file's text with its SOA serial replaced by 0: what two zone
/// files are compared by when only their content matters (`siteconf diff`).
pub fn without_serial(text: &str) -> Option<String> {
    let (_, r) = soa_serial(text)?;
    Some(format!("{}0{}", &text[..r.start], &text[r.end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_and_step_by_rfc_1982() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 2));
        assert!(!serial_gt(5, 5));
        assert!(serial_gt(0, u32::MAX));
        assert!(serial_gt(3, u32::MAX - 3));
        assert!(!serial_gt(u32::MAX - 3, 3));
        assert!(serial_gt(1 << 30, 0));
        assert_eq!(next_serial(1), 2);
        assert_eq!(next_serial(u32::MAX), 1);
    }

    #[test]
    fn the_top_keeps_only_what_was_given_at_the_highest_serial() {
        assert_eq!(top_serial(Vec::<(u32, char)>::new()), None);
        let given = [(3, 'a'), (5, 'b'), (4, 'c'), (5, 'd'), (1, 'e')];
        assert_eq!(top_serial(given), Some((5, vec!['b', 'd'])));
        // Past the wrap: 2 follows u32::MAX.
        assert_eq!(
            top_serial([(u32::MAX, 'a'), (2, 'b')]),
            Some((2, vec!['b']))
        );
    }

    #[test]
    fn serial_choice() {
        // Nothing known: 1.
        assert_eq!(choose_serial(None, None), 1);
        // The lock's record is this zone: its serial, whatever else.
        assert_eq!(choose_serial(Some((7, true)), None), 7);
        assert_eq!(choose_serial(Some((7, true)), Some((7, false))), 7);
        assert_eq!(choose_serial(Some((7, true)), Some((3, false))), 7);
        // … unless the last build went higher with other content.
        assert_eq!(choose_serial(Some((7, true)), Some((8, false))), 9);
        assert_eq!(choose_serial(Some((7, true)), Some((8, true))), 8);
        // The last build is this zone: its serial.
        assert_eq!(choose_serial(Some((7, false)), Some((8, true))), 8);
        assert_eq!(choose_serial(None, Some((8, true))), 8);
        // Changed: past both.
        assert_eq!(choose_serial(Some((7, false)), Some((3, false))), 8);
        assert_eq!(choose_serial(Some((7, false)), Some((3, true))), 8);
        assert_eq!(choose_serial(Some((u32::MAX, false)), None), 1);
        assert_eq!(choose_serial(Some((2, false)), Some((u32::MAX, false))), 3);
        // A committed lock (HEAD, a side of a merge) raises the floor: a
        // lock whose lines were lost in a merge does not start over.
        assert_eq!(choose_serial_among([(3, false), (3, false)]), 4);
        assert_eq!(choose_serial_among([(1, true), (3, false)]), 4);
        assert_eq!(choose_serial_among([(1, false), (3, true), (3, false)]), 3);
        assert_eq!(choose_serial_among([]), 1);
    }

    #[test]
    fn soa_serial_is_found_past_comments_and_parentheses() {
        let z = "; SOA in a comment 9 9 9\n$ORIGIN a.\n@ IN SOA ns1.a. hostmaster.a. (\n    42 ; serial\n    3600 ; refresh\n)\n";
        let (n, r) = soa_serial(z).expect("serial");
        assert_eq!(n, 42);
        assert_eq!(&z[r], "42");
        assert_eq!(
            without_serial(z).expect("zone"),
            z.replace("    42 ;", "    0 ;")
        );
        assert_eq!(
            soa_serial("@ 3600 IN SOA a. b. (7 1 2 3 4)").map(|x| x.0),
            Some(7)
        );
        assert_eq!(soa_serial("@ IN NS a."), None);
        assert_eq!(soa_serial("@ IN SOA a. b. ( x"), None);
    }
}
