//! Files embedded in other files, diffed as the files they are.
//!
//! A node's cloud-init user-data carries every other file of the node in
//! `write_files`, each one's content base64-encoded (the template
//! `templates/node/cloud-init/user-data.j2`):
//!
//! ```yaml
//! write_files:
//!   - path: "/etc/netplan/50-siteconf.yaml"
//!     owner: "root:root"
//!     permissions: "0600"
//!     encoding: b64
//!     content: "IyBHZW5lcmF0ZWQg…"
//! ```
//!
//! A change to the netplan therefore also changes one long base64 line in
//! the user-data, which no reviewer can read, and which differs on every
//! node (the netplan holds the node's own addresses), so the line diff of
//! the user-data never groups. Here a container is split into its
//! *skeleton* — its text with each embedded content replaced by a marker
//! naming the file (`content: <base64: /etc/netplan/50-siteconf.yaml>`) —
//! and the embedded files, decoded. The review diffs the skeletons (what
//! changed in the user-data itself: packages, users …) and each embedded
//! file on its own; an embedded file whose change is the same as the real
//! file's then groups with it (see [`super::group`]).
//!
//! The same holds for a node's iPXE script (`site/boot/ipxe/<mac>.ipxe`,
//! kind `ipxe`), whose kernel command line carries the node's network config
//! as `network-config=<base64 of its gzip>` (`render::site::netcfg`): it is
//! taken out as the embedded file [`KERNEL_NETWORK_CONFIG`].
//!
//! What is recognised, and why so little: a YAML list item (under any key)
//! with `path:`, `encoding:` one of cloud-init's base64 encodings (`b64`,
//! `base64`, and the gzip ones, decompressed) and a one-line `content:`
//! scalar — what cloud-init accepts and the shipped template writes; and a
//! `network-config=` word of base64 (of gzip, or plain: cloud-init reads
//! both) anywhere in a line. The scan is line by line and never fails:
//! anything else (a block scalar, an encoding it does not know, base64
//! that does not decode) stays in the skeleton as it is, and is diffed as
//! text.

use std::io::Read;

use base64::Engine as _;

use crate::output::diff::{as_text, line_diff, Content, Status};

/// One file carried inside another file's text, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// Where the file lands on the machine (`/etc/netplan/50-siteconf.yaml`),
    /// unique within its container (a second file of the same path gets
    /// ` (2)` appended).
    pub target: String,
    pub bytes: Vec<u8>,
}

/// A container's text, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The text with each embedded content replaced by a marker.
    pub skeleton: String,
    /// The embedded files, in the order they appear.
    pub files: Vec<Embedded>,
}

/// The change of one embedded file between two versions of its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedChange {
    pub target: String,
    pub status: Status,
    /// A line diff of the decoded text, or `Binary` when it is not text.
    pub content: Content,
}

/// The name of the network config a kernel command line carries.
pub const KERNEL_NETWORK_CONFIG: &str = "network-config= (kernel command line)";

/// The marker an embedded content is replaced by in the skeleton.
pub fn marker(target: &str) -> String {
    format!("<base64: {target}>")
}

/// A list item being read: its keys' values and the line of its content.
#[derive(Default)]
struct Item {
    path: Option<String>,
    encoding: Option<String>,
    /// Line index, the line's text up to the value, the value.
    content: Option<(usize, String, String)>,
}

/// A YAML flow scalar on one line: `"…"`, `'…'` or plain (a trailing
/// ` # comment` dropped). `None` for anything else (block scalars).
fn scalar(v: &str) -> Option<String> {
    let v = v.trim();
    if let Some(rest) = v.strip_prefix('"') {
        let inner = rest.strip_suffix('"')?;
        // The escapes a path or base64 can need; base64 needs none.
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next()? {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    _ => return None,
                }
            } else {
                out.push(c);
            }
        }
        return Some(out);
    }
    if let Some(rest) = v.strip_prefix('\'') {
        return Some(rest.strip_suffix('\'')?.replace("''", "'"));
    }
    if v.is_empty() || v.starts_with(['|', '>', '&', '*', '!', '[', '{']) {
        return None;
    }
    let v = v.split(" #").next().unwrap_or(v).trim_end();
    Some(v.to_string())
}

/// `key: value` of a mapping line (after a list item's `- `).
fn key_value(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once(':')?;
    let k = k.trim();
    (!k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some((k, v))
}

fn decode(encoding: &str, value: &str) -> Option<Vec<u8>> {
    let b64 = || {
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
    };
    match encoding {
        "b64" | "base64" => b64(),
        "gz+b64" | "gzip+b64" | "gz+base64" | "gzip+base64" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(b64()?.as_slice())
                .read_to_end(&mut out)
                .ok()?;
            Some(out)
        }
        _ => None,
    }
}

/// Splits `text` into its skeleton and embedded files; `None` when it
/// embeds none.
pub fn split(text: &str) -> Option<Split> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut files: Vec<Embedded> = Vec::new();
    // Lines of the skeleton that differ from the text's, by index.
    let mut replaced: Vec<(usize, String)> = Vec::new();
    // Cheap tests first: most changed files embed nothing.
    if text.contains("encoding:") && text.contains("content:") {
        write_files(&lines, &mut files, &mut replaced);
    }
    if text.contains("network-config=") {
        kernel_args(&lines, &mut files, &mut replaced);
    }
    if files.is_empty() {
        return None;
    }
    replaced.sort_by_key(|(i, _)| *i);
    let mut skeleton = String::with_capacity(text.len());
    let mut next = replaced.iter().peekable();
    for (i, line) in lines.iter().enumerate() {
        match next.peek() {
            Some((at, new)) if *at == i => {
                skeleton.push_str(new);
                next.next();
            }
            _ => skeleton.push_str(line),
        }
    }
    Some(Split { skeleton, files })
}

/// A target name not yet used in `files`: `path`, else `path (2)` …
fn unique(files: &[Embedded], path: &str) -> String {
    let mut target = path.to_string();
    let mut n = 1;
    while files.iter().any(|f| f.target == target) {
        n += 1;
        target = format!("{path} ({n})");
    }
    target
}

/// A line's ending (`\n`, `\r\n` or none).
fn ending(line: &str) -> &str {
    &line[line.trim_end_matches(['\n', '\r']).len()..]
}

/// cloud-init's `write_files` items (see the module's documentation).
fn write_files(lines: &[&str], files: &mut Vec<Embedded>, replaced: &mut Vec<(usize, String)>) {
    let mut items: Vec<Item> = Vec::new();
    // Indentation of the current item's `- `, and of its keys.
    let mut current: Option<(usize, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let rest = body.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let kv = if let Some(after) = rest.strip_prefix("- ") {
            items.push(Item::default());
            let key_indent = indent + 2 + (after.len() - after.trim_start().len());
            current = Some((indent, key_indent));
            after.trim_start()
        } else {
            match current {
                Some((_, key_indent)) if indent == key_indent => rest,
                Some((dash, _)) if indent > dash => continue,
                _ => {
                    current = None;
                    continue;
                }
            }
        };
        let (Some((k, v)), Some(item)) = (key_value(kv), items.last_mut()) else {
            continue;
        };
        match k {
            "path" => item.path = scalar(v),
            "encoding" => item.encoding = scalar(v),
            "content" => {
                if let Some(value) = scalar(v) {
                    let prefix_len = body.len() - v.len();
                    let prefix = format!("{} ", body[..prefix_len].trim_end());
                    item.content = Some((i, prefix, value));
                }
            }
            _ => {}
        }
    }
    for item in items {
        let (Some(path), Some(enc), Some((line, prefix, value))) =
            (item.path, item.encoding, item.content)
        else {
            continue;
        };
        let Some(bytes) = decode(&enc, &value) else {
            continue;
        };
        let target = unique(files, &path);
        replaced.push((
            line,
            format!("{prefix}{}{}", marker(&target), ending(lines[line])),
        ));
        files.push(Embedded { target, bytes });
    }
}

/// A `network-config=` value: base64 of gzip, or of the plain text.
fn kernel_value(value: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Some(raw);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// `network-config=<base64>` words of a kernel command line.
fn kernel_args(lines: &[&str], files: &mut Vec<Embedded>, replaced: &mut Vec<(usize, String)>) {
    const KEY: &str = "network-config=";
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    for (i, line) in lines.iter().enumerate() {
        if !line.contains(KEY) || replaced.iter().any(|(at, _)| *at == i) {
            continue;
        }
        let mut out = String::with_capacity(line.len());
        let mut rest: &str = line;
        let mut found = false;
        while let Some(at) = rest.find(KEY) {
            let word_start = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
            let value_at = at + KEY.len();
            let len = rest.as_bytes()[value_at..]
                .iter()
                .take_while(|b| is_b64(**b))
                .count();
            let value = &rest[value_at..value_at + len];
            let decoded = if word_start && len >= 4 {
                kernel_value(value)
            } else {
                None
            };
            out.push_str(&rest[..value_at]);
            match decoded {
                Some(bytes) => {
                    let target = unique(files, KERNEL_NETWORK_CONFIG);
                    out.push_str(&marker(&target));
                    files.push(Embedded { target, bytes });
                    found = true;
                }
                None => out.push_str(value),
            }
            rest = &rest[value_at + len..];
        }
        if found {
            out.push_str(rest);
            replaced.push((i, out));
        }
    }
}

/// A container's change taken apart: the line diff of its skeletons, and
/// each embedded file that differs. `old`/`new` are `None` when the
/// container does not exist on that side. `None` when neither side embeds
/// anything (diff it as the text it is).
pub fn diff(old: Option<&str>, new: Option<&str>) -> Option<(Content, Vec<EmbeddedChange>)> {
    let (o, n) = (old.and_then(split), new.and_then(split));
    if o.is_none() && n.is_none() {
        return None;
    }
    let skeleton = |s: &Option<Split>, text: Option<&str>| -> String {
        match (s, text) {
            (Some(s), _) => s.skeleton.clone(),
            (None, Some(t)) => t.to_string(),
            (None, None) => String::new(),
        }
    };
    let residual = line_diff(&skeleton(&o, old), &skeleton(&n, new));
    fn files(s: &Option<Split>) -> &[Embedded] {
        s.as_ref().map_or(&[], |s| &s.files)
    }
    let (of_old, of_new) = (files(&o), files(&n));
    let mut changes = Vec::new();
    // Old's order, then what only new has.
    let targets = of_old.iter().map(|f| &f.target).chain(
        of_new
            .iter()
            .map(|f| &f.target)
            .filter(|t| !of_old.iter().any(|f| &f.target == *t)),
    );
    for target in targets {
        let a = of_old
            .iter()
            .find(|f| &f.target == target)
            .map(|f| f.bytes.as_slice());
        let b = of_new
            .iter()
            .find(|f| &f.target == target)
            .map(|f| f.bytes.as_slice());
        let status = match (a, b) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => Status::Changed,
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (None, None) => continue,
        };
        let (a, b) = (a.unwrap_or(&[]), b.unwrap_or(&[]));
        let content = match (as_text(a), as_text(b)) {
            (Some(x), Some(y)) => line_diff(x, y),
            _ => Content::Binary {
                old_size: a.len(),
                new_size: b.len(),
            },
        };
        changes.push(EmbeddedChange {
            target: target.clone(),
            status,
            content,
        });
    }
    Some((residual, changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::diff::Line;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn user_data(netplan: &str, packages: &str) -> String {
        format!(
            "#cloud-config\nhostname: \"n1\"\npackages: [{packages}]\nwrite_files:\n  - path: \"/etc/netplan/50-siteconf.yaml\"\n    owner: \"root:root\"\n    permissions: \"0600\"\n    encoding: b64\n    content: \"{}\"\n  - path: \"/etc/hostname\"\n    encoding: b64\n    content: \"{}\"\n    defer: true\nruncmd:\n  - [netplan, apply]\n",
            b64(netplan),
            b64("n1\n")
        )
    }

    fn lines(c: &Content) -> Vec<String> {
        match c {
            Content::Text { hunks, .. } => hunks
                .iter()
                .flat_map(|h| h.lines.iter().map(Line::unified))
                .filter(|l| !l.starts_with(' '))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn splits_write_files_into_skeleton_and_decoded_files() {
        let s = split(&user_data("mtu: 9000\n", "frr")).expect("embeds");
        assert_eq!(s.files.len(), 2);
        assert_eq!(s.files[0].target, "/etc/netplan/50-siteconf.yaml");
        assert_eq!(s.files[0].bytes, b"mtu: 9000\n");
        assert_eq!(s.files[1].target, "/etc/hostname");
        assert!(s
            .skeleton
            .contains("\n    content: <base64: /etc/netplan/50-siteconf.yaml>\n"));
        assert!(s.skeleton.contains("\n    defer: true\nruncmd:\n"));
        assert!(!s.skeleton.contains(&b64("n1\n")));
        // Text that embeds nothing.
        assert_eq!(split("a: 1\ncontent: x\nencoding: b64\n"), None);
    }

    #[test]
    fn a_changed_embedded_file_is_its_own_decoded_diff() {
        let old = user_data("mtu: 9000\n", "frr");
        let new = user_data("mtu: 1500\n", "frr");
        let (residual, files) = diff(Some(&old), Some(&new)).expect("container");
        assert!(lines(&residual).is_empty(), "{residual:?}");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].target, "/etc/netplan/50-siteconf.yaml");
        assert_eq!(files[0].status, Status::Changed);
        assert_eq!(lines(&files[0].content), vec!["-mtu: 9000", "+mtu: 1500"]);
        // The container's own change stays, as lines of the skeleton.
        let newer = user_data("mtu: 1500\n", "frr, sudo");
        let (residual, files) = diff(Some(&old), Some(&newer)).expect("container");
        assert_eq!(
            lines(&residual),
            vec!["-packages: [frr]", "+packages: [frr, sudo]"]
        );
        assert_eq!(files.len(), 1);
        // A container that appears: every embedded file is added.
        let (_, files) = diff(None, Some(&new)).expect("container");
        assert!(files.iter().all(|f| f.status == Status::Added));
        assert_eq!(files.len(), 2);
    }

    #[test]
    fn a_kernel_command_line_carries_a_network_config() {
        let gz = |s: &str| {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = e.write_all(s.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(e.finish().expect("gzip"))
        };
        let script = |cfg: &str| {
            format!(
                "#!ipxe\nkernel --name kernel http://x/vmlinuz ds=nocloud-net;s=http://x/ network-config={} || goto failed\nboot\n",
                gz(cfg)
            )
        };
        let s = split(&script("mtu: 9000\n")).expect("embeds");
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.files[0].target, KERNEL_NETWORK_CONFIG);
        assert_eq!(s.files[0].bytes, b"mtu: 9000\n");
        assert!(s.skeleton.contains(&format!(
            " network-config={} || goto failed\n",
            marker(KERNEL_NETWORK_CONFIG)
        )));
        let (own, files) =
            diff(Some(&script("mtu: 9000\n")), Some(&script("mtu: 1500\n"))).expect("container");
        assert!(lines(&own).is_empty());
        assert_eq!(lines(&files[0].content), vec!["-mtu: 9000", "+mtu: 1500"]);
        // Not a word of its own, or not base64: left alone.
        assert_eq!(split("xnetwork-config=aGk=\n"), None);
        assert_eq!(split("network-config=%%%\n"), None);
    }

    #[test]
    fn what_is_not_recognised_stays_text() {
        // Unknown encoding, base64 that does not decode, a block scalar.
        for body in [
            "  - path: /a\n    encoding: rot13\n    content: abc\n",
            "  - path: /a\n    encoding: b64\n    content: \"not base64!\"\n",
            "  - path: /a\n    encoding: b64\n    content: |\n      aGk=\n",
        ] {
            assert_eq!(split(&format!("write_files:\n{body}")), None, "{body}");
        }
        // Plain and single-quoted scalars, keys in any order, gzip.
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = e.write_all(b"zipped\n");
            e.finish().expect("gzip")
        };
        let text = format!(
            "write_files:\n- content: {}\n  encoding: 'b64'\n  path: /x # comment\n- path: '/y'\n  encoding: gz+b64\n  content: {}\n",
            b64("plain\n"),
            base64::engine::general_purpose::STANDARD.encode(gz)
        );
        let s = split(&text).expect("embeds");
        let got: Vec<(&str, &[u8])> = s
            .files
            .iter()
            .map(|f| (f.target.as_str(), f.bytes.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/x", b"plain\n".as_slice()),
                ("/y", b"zipped\n".as_slice())
            ]
        );
        assert!(s
            .skeleton
            .starts_with("write_files:\n- content: <base64: /x>\n"));
    }
}
