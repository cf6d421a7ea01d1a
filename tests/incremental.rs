//! A build that renders only what changed (`render::keys`, the memo, the
//! spare tree) must leave exactly the output a fresh build makes. On a
//! generated project with a boot service, each edit an operator makes is
//! built twice: incrementally into the project's output, and from scratch
//! into another directory; the two trees must be equal, file by file and
//! mode by mode. A one-node edit must also really be incremental: most
//! devices are not rendered (the summary says how many files changed).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

#[allow(dead_code)]
mod support;
use support::{ok, show, siteconf, tree};

/// Replaces the first `from` in `file` with `to` (the edit must apply).
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = fs::read_to_string(&p).expect("read");
    assert!(text.contains(from), "{file} has no {from:?}");
    fs::write(&p, text.replacen(from, to, 1)).expect("write");
}

/// `(changed, unchanged, removed)` from a build's summary line.
fn counts(stdout: &str) -> (usize, usize, usize) {
    let inner = stdout
        .split_once(" changed, ")
        .map(|(a, b)| (a.rsplit('(').next().unwrap_or(""), b))
        .expect("summary with counts");
    let changed = inner.0.trim().parse().expect("changed");
    let unchanged = inner
        .1
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .expect("unchanged");
    let removed = inner
        .1
        .split([',', ';'])
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .expect("removed");
    (changed, unchanged, removed)
}

/// `(rendered, devices)` from "N of M devices rendered".
fn devices_rendered(stdout: &str) -> (usize, usize) {
    let (head, _) = stdout
        .split_once(" devices rendered")
        .expect("devices rendered");
    let mut words = head.rsplit(' ');
    let m = words.next().unwrap().parse().expect("devices");
    assert_eq!(words.next(), Some("of"));
    let n = words.next().unwrap().parse().expect("rendered");
    (n, m)
}

/// Where the block of node `name` starts and ends in a rack file (with
/// the blank line after it).
fn node_block(text: &str, name: &str) -> (usize, usize) {
    let start = text.find(&format!("node {name} {{")).expect("the node");
    let end = start + text[start..].find("\n}\n").expect("its end") + 3;
    let end = if text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    (start, end)
}

fn diff_trees(
    a: &BTreeMap<String, (u32, Vec<u8>)>,
    b: &BTreeMap<String, (u32, Vec<u8>)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (p, v) in a {
        match b.get(p) {
            None => out.push(format!("only incremental: {p}")),
            Some(w) if w != v => out.push(format!("differs: {p}")),
            _ => {}
        }
    }
    for p in b.keys().filter(|p| !a.contains_key(*p)) {
        out.push(format!("only fresh: {p}"));
    }
    out
}

#[test]
fn incremental_builds_equal_fresh_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let init = support::command(tmp.path(), &["init", "--nodes", "120", "--ci", "none", "p"])
        .output()
        .expect("init");
    ok(&init);
    // A boot service, so that the per-node iPXE scripts are built too.
    edit(
        &dir,
        "site/site.kdl",
        "    timezone \"Etc/UTC\"\n",
        "    timezone \"Etc/UTC\"\n    boot {\n        servers \"10.0.0.2\"\n        images-dir \"/srv/images\"\n        image debian-12 { kernel \"http://10.0.0.2/images/vmlinuz\"; }\n    }\n",
    );
    edit(
        &dir,
        "site/profiles.kdl",
        "profile base {\n",
        "profile base {\n    boot-image debian-12\n",
    );
    let first = siteconf(&dir, &["build"]);
    ok(&first);
    let total = tree(&dir.join("out")).len();
    assert!(
        tree(&dir.join("out"))
            .keys()
            .any(|p| p.starts_with("site/boot/ipxe/")),
        "the boot service makes iPXE scripts"
    );

    // (what, the edit, how many devices at most are rendered again: a
    // one-node change renders that node; a change every node reads, all)
    type Edit = Box<dyn Fn(&Path)>;
    let replace = |file: &'static str, from: &'static str, to: &'static str| -> Edit {
        Box::new(move |dir: &Path| edit(dir, file, from, to))
    };
    let rack4 = dir.join("site/racks/r04.kdl");
    let rack4_text = fs::read_to_string(&rack4).unwrap();
    let (start, end) = node_block(&rack4_text, "r04n30");
    let without = format!("{}{}", &rack4_text[..start], &rack4_text[end..]);
    let (few, all) = (Some(2), None);
    let edits: Vec<(&str, Edit, Option<usize>)> = vec![
        (
            "one node's model",
            replace(
                "site/racks/r01.kdl",
                "model \"Dell PowerEdge",
                "model \"Dell PowerEdge X",
            ),
            few,
        ),
        (
            "one node's MAC",
            replace(
                "site/racks/r02.kdl",
                "mac \"52:54:00:02:01:01\"",
                "mac \"52:54:00:02:01:71\"",
            ),
            few,
        ),
        (
            "nothing but a comment",
            replace(
                "site/groups.kdl",
                "group fleet {",
                "// a comment\ngroup fleet {",
            ),
            few,
        ),
        (
            "a group variable",
            replace(
                "site/groups.kdl",
                "openstack_api_workers 8",
                "openstack_api_workers 9",
            ),
            few,
        ),
        (
            "a node removed",
            Box::new(move |_: &Path| fs::write(&rack4, &without).unwrap()),
            few,
        ),
        (
            "the node added back",
            Box::new({
                let rack4 = dir.join("site/racks/r04.kdl");
                move |_: &Path| fs::write(&rack4, &rack4_text).unwrap()
            }),
            Some(3),
        ),
        (
            "a profile every node has",
            replace(
                "site/profiles.kdl",
                "packages chrony",
                "packages chrony htop",
            ),
            all,
        ),
        (
            "a site setting",
            replace(
                "site/site.kdl",
                "timezone \"Etc/UTC\"",
                "timezone \"Europe/Berlin\"",
            ),
            all,
        ),
        (
            "the boot image",
            replace("site/site.kdl", "images/vmlinuz", "images/vmlinuz-2"),
            all,
        ),
    ];
    for (what, apply, at_most) in &edits {
        apply(&dir);
        let inc = siteconf(&dir, &["build"]);
        ok(&inc);
        let stdout = String::from_utf8_lossy(&inc.stdout).into_owned()
            + &String::from_utf8_lossy(&inc.stderr);
        let fresh_dir = tmp.path().join("fresh");
        let _ = fs::remove_dir_all(&fresh_dir);
        let fresh = siteconf(
            &dir,
            &["build", "--force", "--out", fresh_dir.to_str().unwrap()],
        );
        ok(&fresh);
        let (a, b) = (tree(&dir.join("out")), tree(&fresh_dir));
        let d = diff_trees(&a, &b);
        assert!(
            d.is_empty(),
            "after {what}: {} difference(s): {:?}\n{}",
            d.len(),
            &d[..d.len().min(10)],
            show(&inc)
        );
        let (changed, _, _) = counts(&stdout);
        let (rendered, devices) = devices_rendered(&stdout);
        match at_most {
            Some(n) => {
                assert!(
                    changed * 10 < total,
                    "after {what}, {changed} of {total} files changed: {stdout}"
                );
                assert!(
                    rendered <= *n,
                    "after {what}, {rendered} of {devices} devices rendered: {stdout}"
                );
            }
            // Every node (the 8 switches may not read what changed).
            None => assert!(
                rendered >= 119,
                "after {what}, {rendered} of {devices} devices rendered: {stdout}"
            ),
        }
    }
    assert_eq!(edits.len(), 9);

    // A one-node edit keeps the site-wide files that do not depend on it:
    // every rack diagram but its rack's, the rack index, the zones, Kea.
    let racks = tree(&dir.join("out"))
        .keys()
        .filter(|p| p.starts_with("site/racks/") && p.ends_with(".svg"))
        .count();
    replace(
        "site/racks/r01.kdl",
        "model \"Dell PowerEdge",
        "model \"Dell  PowerEdge",
    )(&dir);
    let json = siteconf(&dir, &["build", "--format", "json"]);
    ok(&json);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON summary");
    let kept = v["site_files_kept"].as_u64().expect("site_files_kept") as usize;
    let zones = tree(&dir.join("out"))
        .keys()
        .filter(|p| p.starts_with("site/dns/"))
        .count();
    assert!(
        // (racks - 1) + zones + Kea
        racks >= 4 && zones >= 2 && kept >= racks + zones,
        "{kept} site files kept ({racks} racks, {zones} zones): {v}"
    );

    // A file edited by hand in the output is put back by the next build.
    let victim = dir.join("out/nodes/r01n01/hostname");
    let before = fs::read(&victim).unwrap();
    fs::write(&victim, "tampered\n").unwrap();
    let again = siteconf(&dir, &["build"]);
    ok(&again);
    assert_eq!(fs::read(&victim).unwrap(), before, "{}", show(&again));
    // And a second build from the same inputs does nothing.
    let idle = siteconf(&dir, &["build"]);
    ok(&idle);
    assert!(show(&idle).contains("up to date"), "{}", show(&idle));
}
