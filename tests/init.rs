//! `siteconf init`: the generated site passes `check` at every size and in
//! both formats, holds together where validation rules do not look yet
//! (cabling, rack units, uniqueness), the committed example site is exactly
//! what `init` writes, and the command never writes over a user's files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use siteconf::check::{check, Checked};
use siteconf::diag::{render_human, ColorChoice};
use siteconf::init::{generate, Options};
use siteconf::model::SiteIndex;
use siteconf::source::MemSource;
use siteconf::syntax::Format;

fn gen(nodes: u32, racks: Option<u32>, format: Format) -> Vec<(String, String)> {
    generate(&Options {
        nodes,
        racks,
        format,
    })
    .unwrap_or_else(|e| panic!("init --nodes {nodes}: {e:?}"))
    .files
}

fn check_files(files: &[(String, String)]) -> Checked {
    let mut src = MemSource::new();
    for (p, c) in files {
        src.insert(p.clone(), c.as_bytes().to_vec());
    }
    check(&src)
}

/// Checks a generated site and fails with the rendered diagnostics if it
/// has any finding at all (warnings included).
fn assert_clean(label: &str, files: &[(String, String)]) -> Checked {
    let checked = check_files(files);
    if !checked.diags.is_empty() {
        let list = checked.diags.clone().sorted(&checked.loaded.sources);
        panic!(
            "{label}: {} finding(s)\n{}",
            list.len(),
            render_human(&list, &checked.loaded.sources, ColorChoice::Never)
        );
    }
    checked
}

#[test]
fn generated_sites_pass_check_at_every_size() {
    for (nodes, racks) in [
        (1, None),
        (2, None),
        (3, None),
        (5, Some(2)),
        (41, None),
        (48, Some(4)),
        (200, None),
        (200, Some(20)),
    ] {
        for format in [Format::Kdl, Format::Toml] {
            let checked = assert_clean(
                &format!("--nodes {nodes} --racks {racks:?} {format:?}"),
                &gen(nodes, racks, format),
            );
            assert_eq!(checked.loaded.site.nodes.len(), nodes as usize);
        }
    }
}

#[test]
fn a_thousand_nodes_pass_check() {
    let checked = assert_clean("--nodes 1000", &gen(1000, None, Format::Toml));
    assert_eq!(checked.loaded.site.nodes.len(), 1000);
    invariants(&checked);
}

#[test]
fn kdl_and_toml_forms_are_the_same_site() {
    let kdl = assert_clean("kdl", &gen(200, None, Format::Kdl));
    let toml = assert_clean("toml", &gen(200, None, Format::Toml));
    // The lock records every allocation by owner and key: equal locks mean
    // the same nodes asked for the same things from the same pools.
    assert_eq!(kdl.resolved.lock.to_text(), toml.resolved.lock.to_text());
    assert_eq!(
        format!("{:?}", names(&kdl)),
        format!("{:?}", names(&toml)),
        "same entities in both forms"
    );
}

fn names(c: &Checked) -> Vec<Vec<String>> {
    let s = &c.loaded.site;
    vec![
        s.networks.iter().map(|x| x.name.value.clone()).collect(),
        s.racks.iter().map(|x| x.name.value.clone()).collect(),
        s.switches.iter().map(|x| x.name.value.clone()).collect(),
        s.nodes.iter().map(|x| x.name.value.clone()).collect(),
        s.profiles.iter().map(|x| x.name.value.clone()).collect(),
        s.groups.iter().map(|x| x.name.value.clone()).collect(),
        s.bgp_peers.iter().map(|x| x.name.value.clone()).collect(),
    ]
}

#[test]
fn same_arguments_give_byte_identical_files() {
    assert_eq!(gen(300, None, Format::Kdl), gen(300, None, Format::Kdl));
    assert_ne!(
        gen(300, None, Format::Kdl),
        gen(300, Some(30), Format::Kdl),
        "racks change the layout"
    );
}

/// What the validation rules will catch once they exist, checked here on
/// the generated site directly so that `init` is right independently of
/// them: every cable lands on a real, unused port; racks hold their
/// devices; names, MACs, addresses and ASNs are unique; links and BGP
/// sessions agree at both ends; MTUs fit their networks.
fn invariants(c: &Checked) {
    let site = &c.loaded.site;
    let ix = SiteIndex::build(site);
    // Rack units.
    let mut units: BTreeMap<(String, u32), String> = BTreeMap::new();
    let placements = site
        .switches
        .iter()
        .map(|s| (&s.name.value, s.placement.as_ref()))
        .chain(
            site.nodes
                .iter()
                .map(|n| (&n.name.value, n.placement.as_ref())),
        );
    for (name, p) in placements {
        let p = p.unwrap_or_else(|| panic!("{name} has no placement"));
        let rack = site
            .rack(&ix, &p.rack.value)
            .unwrap_or_else(|| panic!("{name}: unknown rack"));
        for u in p.units() {
            assert!(u <= rack.height.value, "{name} above its rack");
            if let Some(other) = units.insert((p.rack.value.clone(), u), name.clone()) {
                panic!("{name} and {other} share U{u} of {}", p.rack.value);
            }
        }
    }
    // Ports: every cabled port exists and is used once.
    let mut used: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut use_port = |switch: &str, port: &str, by: String| {
        let sw = site
            .switch(&ix, switch)
            .unwrap_or_else(|| panic!("{by}: unknown switch {switch}"));
        assert!(
            sw.ports.iter().any(|p| p.value == port),
            "{by}: {switch} has no port {port}"
        );
        if let Some(prev) = used.insert((switch.to_string(), port.to_string()), by.clone()) {
            panic!("{switch} {port} cabled to both {prev} and {by}");
        }
    };
    for s in &site.switches {
        for l in &s.links {
            use_port(
                &s.name.value,
                &l.port.value,
                format!("link of {}", s.name.value),
            );
            let peer = site.switch(&ix, &l.peer.value).expect("link peer");
            assert!(
                peer.links.iter().any(|b| b.port.value == l.peer_port.value
                    && b.peer.value == s.name.value
                    && b.peer_port.value == l.port.value),
                "link {} {} is not declared at the far end",
                s.name.value,
                l.port.value
            );
        }
    }
    let mut macs = BTreeSet::new();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut unique = |v: String, owner: String| {
        if let Some(prev) = values.insert(v.clone(), owner.clone()) {
            panic!("{v} given to both {prev} and {owner}");
        }
    };
    for s in &site.switches {
        let owner = format!("switch/{}", s.name.value);
        for v in [
            s.loopback4.as_ref().map(|x| x.value.to_string()),
            s.loopback6.as_ref().map(|x| x.value.to_string()),
            s.asn.as_ref().map(|x| x.value.to_string()),
        ] {
            unique(
                v.expect("switch loopbacks and ASN are fixed"),
                owner.clone(),
            );
        }
    }
    for e in &c.resolved.lock.entries {
        unique(e.value.clone(), e.owner.clone());
    }
    for rn in &c.resolved.nodes {
        let node = &site.nodes[rn.index];
        let st = &rn.settings;
        let iface = |name: &str| {
            st.interfaces
                .iter()
                .find(|i| i.name.value == name)
                .unwrap_or_else(|| panic!("{}: no interface {name}", node.name.value))
        };
        for i in &st.interfaces {
            if let Some(m) = &i.mac {
                assert!(macs.insert(m.value), "MAC {} twice", m.value);
            }
            if let (Some(sw), Some(port)) = (&i.switch, &i.port) {
                use_port(
                    &sw.value,
                    &port.value,
                    format!("{} {}", node.name.value, i.name.value),
                );
            }
            for m in i.members.iter().chain(i.link.iter()) {
                iface(&m.value);
            }
        }
        for a in &st.addresses {
            let net = site
                .network(&ix, &a.network.value)
                .expect("address network");
            let i = iface(&a.interface.as_ref().expect("address interface").value);
            let mtu = i.mtu.as_ref().map(|m| m.value).unwrap_or(1500);
            assert!(mtu <= net.mtu(), "{} MTU above its network", i.name.value);
        }
        let bgp = st.bgp.as_ref().expect("bgp");
        assert_eq!(bgp.sessions.len(), 2);
        for s in &bgp.sessions {
            let i = iface(&s.interface.as_ref().expect("unnumbered").value);
            assert_eq!(
                i.switch.as_ref().map(|x| x.value.as_str()),
                Some(s.peer.value.as_str()),
                "{}: session over an interface not cabled to its peer",
                node.name.value
            );
        }
        for p in &rn.profiles {
            assert!(site.profile(&ix, p).is_some());
        }
        for g in &st.groups {
            assert!(
                ix.groups.contains_key(&g.value),
                "unknown group {}",
                g.value
            );
        }
    }
    for p in &site.bgp_peers {
        for s in &p.switches {
            assert!(site.switch(&ix, &s.value).is_some());
        }
    }
}

#[test]
fn generated_sites_hold_together() {
    for (nodes, racks) in [(48, Some(4)), (200, None), (7, Some(3))] {
        invariants(&assert_clean("invariants", &gen(nodes, racks, Format::Kdl)));
    }
}

// ---- the committed example ----------------------------------------------------

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_site_is_what_init_writes() {
    let files = gen(48, Some(4), Format::Kdl);
    for (path, contents) in &files {
        let committed =
            std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            &committed == contents,
            "{path} differs from `siteconf init --nodes 48 --racks 4`; regenerate with\n  \
             cargo run -- init . --nodes 48 --racks 4 --force"
        );
    }
    let ours: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for e in walkdir::WalkDir::new(repo().join("site")) {
        let e = e.expect("walk site/");
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(repo()).expect("prefix");
            let rel = rel.to_string_lossy().replace('\\', "/");
            assert!(
                ours.contains(rel.as_str()),
                "{rel} is not part of the example"
            );
        }
    }
}

// ---- the command ------------------------------------------------------------------

fn siteconf(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run siteconf");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_writes_a_project_that_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, err) = siteconf(&["init", "dc1", "--nodes", "20"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("20 nodes"), "{err}");
    let (code, err) = siteconf(&["-C", "dc1", "check"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 error(s), 0 warning(s)"), "{err}");
    // Nothing but the project: no temporary directory left beside it.
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("read tmp")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(entries, ["dc1"]);
    // Same arguments, same bytes, wherever the project is written.
    let (code, _) = siteconf(&["-C", "other", "init", "dc1", "--nodes", "20"], tmp.path());
    assert_eq!(code, 0);
    for (path, _) in gen(20, None, Format::Kdl) {
        let a = std::fs::read(tmp.path().join("dc1").join(&path)).expect("a");
        let b = std::fs::read(tmp.path().join("other/dc1").join(&path)).expect("b");
        assert!(a == b, "{path} differs between two runs");
    }
}

#[test]
fn init_refuses_a_non_empty_directory_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("notes.txt"), "keep me").expect("write");
    let (code, err) = siteconf(&["init", "mine", "--nodes", "4"], tmp.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert!(!dir.join("site").exists(), "wrote despite refusing");
    let (code, err) = siteconf(&["init", "mine", "--nodes", "4", "--force"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).expect("notes"),
        "keep me"
    );
    assert!(dir.join("site/site.kdl").is_file());
    // A smaller site over a bigger one: the leftover rack file is named.
    let (code, _) = siteconf(&["init", "big", "--nodes", "100"], tmp.path());
    assert_eq!(code, 0);
    let (code, err) = siteconf(&["init", "big", "--nodes", "4", "--force"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning") && err.contains("site/racks/r02.kdl"),
        "{err}"
    );
}

#[test]
fn init_writes_into_an_empty_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Only a fresh repository in it: that counts as empty.
    std::fs::create_dir(tmp.path().join(".git")).expect("mkdir .git");
    let (code, err) = siteconf(
        &["init", ".", "--nodes", "3", "--format", "toml"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(tmp.path().join("site/site.toml").is_file());
    let (code, err) = siteconf(&["check"], tmp.path());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn impossible_options_are_usage_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (args, expect) in [
        (&["init", "x", "--nodes", "0"][..], "at least one node"),
        (
            &["init", "x", "--nodes", "80", "--racks", "1"][..],
            "--racks 3",
        ),
        (&["init", "x", "--nodes", "5", "--racks", "6"][..], "empty"),
        (&["init", "x", "--nodes", "9999999"][..], "at most"),
    ] {
        let (code, err) = siteconf(args, tmp.path());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!tmp.path().join("x").exists(), "{args:?} wrote files");
    }
}
