//! Secret-bearing artifacts shown with their secret lines masked.
//!
//! One BGP password line marks a switch's whole `frr.conf` secret, and the
//! plain diff (`crate::output::diff`) shows a secret artifact only as
//! changed: a transit peer's new ASN — the site's exit — would be invisible
//! in the review. The review never holds a secret's value: its engine
//! renders every secret as a placeholder (`<secret:NAME>`, see
//! [`super::Engine`]). So the lines of such a file can be diffed, and every
//! placeholder is masked: a whole one becomes [`MASK`] and what surrounds it
//! is kept (`neighbor 203.0.113.1 password <secret>`, and whatever a
//! template put after it on the line: `<secret> PermitRootLogin yes` is
//! a change a reviewer must see). A placeholder a template transformed
//! (reversed, base64, a slice, upper-cased: anything but exactly as the
//! engine writes it) has no end the review can find, and the value the
//! device gets is not the secret as stored: the line is cut there and says
//! so ([`CUT`]). Not even the secret's name is shown. A removed and an
//! added line that read the same once masked, while what they render
//! differs (another secret, a transformed one's changed tail), say so
//! ([`CHANGED`]): the device's password changes, and the reviewer must see
//! that something did.
//!
//! Defence in depth, for a renderer that is not the review's engine (a
//! test's, a future one): a secret side is shown only when it holds a
//! placeholder — a file marked secret without one holds a value, or
//! something derived from one, and stays `Content::Secret`. A container
//! that embeds files (cloud-init user-data, iPXE) stays secret too: its
//! embedded copies are base64 that masking by line cannot see into.

use crate::output::diff::{self as odiff, Content};
use crate::output::Artifact;

/// What a masked secret line shows instead of a placeholder.
pub const MASK: &str = "<secret>";

/// What a line cut at a transformed placeholder shows after [`MASK`]: the
/// rest is not shown, and the reviewer is told so.
pub const CUT: &str = " [rest of the line not shown: a transformed secret]";

/// What a masked line shows when the line it is paired with on the other
/// side reads the same once masked, but what was masked differs.
pub const CHANGED: &str = " [changed in what is not shown]";

/// The hex digits of a whole placeholder, after [`PLACEHOLDER`] and before
/// its `>` (`render::secrets::placeholder_of`).
const PLACEHOLDER_HEX: usize = 16;

/// How a placeholder starts (`render::secrets::placeholder_of`). Found
/// ignoring ASCII case (a template may upper-case it), whole only as the
/// engine writes it.
const PLACEHOLDER: &str = "<secret:";

/// The same, reversed (a template's `reverse` filter): matched ignoring
/// ASCII case; the line is cut at the `>` that starts it.
const REVERSED: &str = ":terces<";

/// `<secret:` base64-encoded at each of the three alignments (a template's
/// `b64encode`): the bytes every encoding of it holds. Matched exactly;
/// the line is cut where the base64 run starts.
const BASE64: [&str; 3] = ["PHNlY3Jl", "ZWNyZXQ6", "c2VjcmV0"];

/// The masked line diff of a secret-bearing change, or `None` when it must
/// stay hidden (see the module's text).
pub fn masked_content(old: Option<&Artifact>, new: Option<&Artifact>) -> Option<Content> {
    let o = side(old)?;
    let n = side(new)?;
    let mut content = odiff::line_diff(o.unwrap_or(""), n.unwrap_or(""));
    if let Content::Text { hunks, .. } = &mut content {
        for h in hunks.iter_mut() {
            let raw: Vec<String> = h.lines.iter().map(|l| l.text.clone()).collect();
            for l in h.lines.iter_mut() {
                if let Some(m) = mask_line(&l.text) {
                    l.text = m;
                }
            }
            mark_hidden_changes(&mut h.lines, &raw);
        }
    }
    Some(content)
}

/// Appends [`CHANGED`] to each removed line and the added line of its
/// hunk it pairs with (the first not paired yet) that read the same once
/// masked while their rendered text (`raw`) differs: otherwise the review
/// shows two identical lines for a device whose password changes.
fn mark_hidden_changes(lines: &mut [odiff::Line], raw: &[String]) {
    use odiff::LineOp;
    let mut paired = vec![false; lines.len()];
    for i in 0..lines.len() {
        if lines[i].op != LineOp::Removed || lines[i].text == raw[i] {
            continue;
        }
        let Some(j) = (0..lines.len()).find(|&j| {
            !paired[j]
                && lines[j].op == LineOp::Added
                && lines[j].text == lines[i].text
                && raw[j] != raw[i]
        }) else {
            continue;
        };
        paired[j] = true;
        lines[i].text.push_str(CHANGED);
        lines[j].text.push_str(CHANGED);
    }
}

/// The text of one side (`Some(None)`: absent), or `None` when it must
/// stay hidden: not text, a secret without a placeholder, a container.
fn side(a: Option<&Artifact>) -> Option<Option<&str>> {
    match a {
        None => Some(None),
        Some(a) => {
            let t = odiff::as_text(&a.bytes)?;
            if a.secret && find_placeholder(t).is_none() {
                return None;
            }
            if super::embed::split(t).is_some() {
                return None;
            }
            Some(Some(t))
        }
    }
}

/// Byte offset where the first placeholder in `s` starts, in any form the
/// module knows (plain, reversed, base64): where a masked line is cut.
fn find_placeholder(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let find = |p: &str, fold: bool| {
        let p = p.as_bytes();
        b.windows(p.len()).position(|w| {
            if fold {
                w.eq_ignore_ascii_case(p)
            } else {
                w == p
            }
        })
    };
    let plain = find(PLACEHOLDER, true);
    let reversed = find(REVERSED, true).map(|at| s[..at].rfind('>').unwrap_or(at));
    let base64 = BASE64
        .iter()
        .filter_map(|p| find(p, false))
        .min()
        .map(|at| {
            let run = b[..at]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'))
                .count();
            at - run
        });
    [plain, reversed, base64].into_iter().flatten().min()
}

/// The length of the whole placeholder at the start of `s`, exactly as
/// `render::secrets::placeholder_of` writes it (`<secret:`, 16 lower-case
/// hex digits, `>`), if it is one. In another case (`| upper`, `| title`)
/// it is a transformed secret: the device gets the value transformed.
fn whole_placeholder(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let len = PLACEHOLDER.len() + PLACEHOLDER_HEX + 1;
    let whole = b.len() >= len
        && &b[..PLACEHOLDER.len()] == PLACEHOLDER.as_bytes()
        && b[PLACEHOLDER.len()..len - 1]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        && b[len - 1] == b'>';
    whole.then_some(len)
}

/// The line with every whole placeholder replaced by [`MASK`] and the rest
/// kept; at the first transformed one (reversed, base64, cut short), the
/// line ends with [`MASK`] and [`CUT`]. `None` when it holds none.
pub fn mask_line(line: &str) -> Option<String> {
    let mut at = find_placeholder(line)?;
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    loop {
        // Every cut is at an ASCII byte, so `at` is a character boundary.
        out.push_str(&rest[..at]);
        out.push_str(MASK);
        let Some(len) = whole_placeholder(&rest[at..]) else {
            out.push_str(CUT);
            return Some(out);
        };
        rest = &rest[at + len..];
        match find_placeholder(rest) {
            Some(next) => at = next,
            None => {
                out.push_str(rest);
                return Some(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Owner;

    fn art(text: &str, secret: bool) -> Artifact {
        let mut a = Artifact::new(
            "switches/s1/etc/frr/frr.conf",
            text,
            Owner::Switch("s1".into()),
            "frr",
        );
        a.secret = secret;
        a
    }

    #[test]
    fn placeholder_lines_are_masked_and_the_rest_shown() {
        let old = art(
            &format!("router bgp 65000\n neighbor 203.0.113.1 remote-as 64496\n neighbor 203.0.113.1 password {}\n", crate::render::secrets::placeholder_of("bgp-transit")),
            true,
        );
        let new = art(
            &format!("router bgp 65000\n neighbor 203.0.113.1 remote-as 64499\n neighbor 203.0.113.1 password {}\n", crate::render::secrets::placeholder_of("bgp-transit2")),
            true,
        );
        let Some(Content::Text {
            hunks,
            added,
            removed,
        }) = masked_content(Some(&old), Some(&new))
        else {
            panic!("not shown");
        };
        assert_eq!((added, removed), (2, 2));
        let lines: Vec<String> = hunks[0].lines.iter().map(|l| l.unified()).collect();
        assert_eq!(
            lines,
            vec![
                " router bgp 65000",
                "- neighbor 203.0.113.1 remote-as 64496",
                "- neighbor 203.0.113.1 password <secret> [changed in what is not shown]",
                "+ neighbor 203.0.113.1 remote-as 64499",
                "+ neighbor 203.0.113.1 password <secret> [changed in what is not shown]",
            ]
        );
    }

    /// A secret a template upper-cased (`secret(…) | upper`) is no whole
    /// placeholder: the line is cut and says the secret is transformed,
    /// and a pair of lines that read the same says what is hidden changed.
    #[test]
    fn an_upper_cased_secret_is_transformed_and_its_change_shown() {
        let line = |name: &str| {
            format!(
                " neighbor 203.0.113.1 password {}\n",
                crate::render::secrets::placeholder_of(name).to_uppercase()
            )
        };
        let Some(Content::Text { hunks, .. }) = masked_content(
            Some(&art(&line("bgp-transit"), true)),
            Some(&art(&line("bgp-transit2"), true)),
        ) else {
            panic!("not shown");
        };
        let lines: Vec<String> = hunks[0].lines.iter().map(|l| l.unified()).collect();
        assert_eq!(
            lines,
            vec![
                "- neighbor 203.0.113.1 password <secret> [rest of the line not shown: a transformed secret] [changed in what is not shown]",
                "+ neighbor 203.0.113.1 password <secret> [rest of the line not shown: a transformed secret] [changed in what is not shown]",
            ]
        );
        // The same secret on both sides, another line changed: no mark.
        let a = format!("a 1\n{}", line("x"));
        let b = format!("a 2\n{}", line("x"));
        let Some(Content::Text { hunks, .. }) =
            masked_content(Some(&art(&a, true)), Some(&art(&b, true)))
        else {
            panic!("not shown");
        };
        assert!(hunks
            .iter()
            .flat_map(|h| &h.lines)
            .all(|l| !l.text.contains(CHANGED)));
    }

    #[test]
    fn a_secret_file_without_a_placeholder_stays_hidden() {
        // Rendered with a value, not by the review's engine.
        let old = art("password hunter2-value\n", true);
        let new = art("password other-value\n", true);
        assert!(masked_content(Some(&old), Some(&new)).is_none());
        assert!(masked_content(None, Some(&new)).is_none());
    }

    #[test]
    fn a_container_stays_hidden() {
        let t = "#cloud-config\nwrite_files:\n  - path: /etc/frr/frr.conf\n    encoding: b64\n    content: PHNlY3JldDp4Pgo=\n# <secret:x>\n";
        assert!(masked_content(
            Some(&art(t, true)),
            Some(&art(&t.replace("x>", "y>"), true))
        )
        .is_none());
    }

    #[test]
    fn masking_finds_any_case_and_keeps_what_surrounds_the_placeholder() {
        let p = crate::render::secrets::placeholder_of("bgp/transit-a");
        let up = p.to_uppercase();
        assert_eq!(
            mask_line(&format!("  password: \"{up}\"")).as_deref(),
            Some("  password: \"<secret> [rest of the line not shown: a transformed secret]")
        );
        // What a template puts after a secret is part of the change.
        assert_eq!(
            mask_line(&format!("{p} PermitRootLogin yes")).as_deref(),
            Some("<secret> PermitRootLogin yes")
        );
        assert_eq!(
            mask_line(&format!("{{\"a\": {p}, \"evil\": \"HIDDENTAIL\" }}")).as_deref(),
            Some("{\"a\": <secret>, \"evil\": \"HIDDENTAIL\" }")
        );
        assert_eq!(
            mask_line(&format!("a={p} b={p}{p}c")).as_deref(),
            Some("a=<secret> b=<secret><secret>c")
        );
        assert_eq!(mask_line("plain"), None);
    }

    /// A placeholder cut short or transformed has no end to find: the line
    /// stops there and says the rest is not shown.
    #[test]
    fn a_transformed_placeholder_cuts_the_line_and_says_so() {
        let p = crate::render::secrets::placeholder_of("x");
        assert_eq!(
            mask_line(&format!("k={} tail", &p[..20])).as_deref(),
            Some("k=<secret> [rest of the line not shown: a transformed secret]")
        );
        assert_eq!(
            mask_line(&format!("k={p} then {} tail", &p[..20])).as_deref(),
            Some("k=<secret> then <secret> [rest of the line not shown: a transformed secret]")
        );
    }

    /// A template filter that transforms the placeholder (`reverse`,
    /// `b64encode`) is masked too: the line shows neither the placeholder
    /// nor anything after it.
    #[test]
    fn transformed_placeholders_are_masked() {
        let p = crate::render::secrets::placeholder_of("ipmi/root");
        let reversed: String = p.chars().rev().collect();
        assert_eq!(
            mask_line(&format!("rev={reversed}")).as_deref(),
            Some("rev=<secret> [rest of the line not shown: a transformed secret]")
        );
        use base64::Engine as _;
        for pad in ["", "a", "ab"] {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{pad}{p}"));
            assert_eq!(
                mask_line(&format!("b64: {b}")).as_deref(),
                Some("b64: <secret> [rest of the line not shown: a transformed secret]"),
                "{b}"
            );
        }
    }

    /// The placeholder carries no name: whatever a filter does to it
    /// (a slice, `length`), the secret's name cannot reach the review.
    #[test]
    fn the_placeholder_holds_no_name() {
        let p = crate::render::secrets::placeholder_of("ipmi/root");
        assert!(!p.contains("ipmi") && !p.contains("root"), "{p}");
        assert_eq!(p.len(), crate::render::secrets::placeholder_of("x").len());
        assert_ne!(p, crate::render::secrets::placeholder_of("ipmi/admin"));
    }
}
