//! Rendering, through the library: the artifacts of one node, one bonded
//! node and one switch of `tests/fixtures/small` as reviewed snapshots
//! (`tests/snapshots/render__*.snap`), and what a user sees when a template
//! or a secret is wrong.
//!
//! Every rendered artifact kind is also accepted by its real consumer
//! (FRR, netplan, sshd, cloud-init, apt): that is checked by the consumer
//! tests on a build of this fixture, not here.

use std::path::Path;

use siteconf::check::check;
use siteconf::diag::{render_human, Code, ColorChoice};
use siteconf::output::OutputSet;
use siteconf::render::{render, RenderFailure, RenderOptions, Secrets};
use siteconf::source::{FsSource, MemSource, Source};

const SECRET: &str = "Fixture-Secret-7f3a";

fn fixture() -> FsSource {
    FsSource::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small"))
}

fn secrets() -> Secrets {
    Secrets::from_values([("bgp-upstream1".to_string(), SECRET.to_string())])
}

fn build(src: &dyn Source, secrets: Secrets) -> Result<OutputSet, RenderFailure> {
    let checked = check(src);
    assert!(
        !checked.diags.has_errors(),
        "fixture does not check: {:?}",
        checked.diags
    );
    let opts = RenderOptions {
        secrets,
        progress: None,
        ..Default::default()
    };
    render(&checked, src, &opts).map(|r| r.set)
}

/// The fixture in memory, plus extra files (template overrides).
fn mem_fixture(extra: &[(&str, &str)]) -> MemSource {
    let fs = fixture();
    let mut m = MemSource::new();
    for dir in ["site"] {
        for p in fs.list(dir).unwrap() {
            m.insert(p.clone(), fs.read(&p).unwrap().unwrap());
        }
    }
    m.insert("siteconf.toml", fs.read("siteconf.toml").unwrap().unwrap());
    for (p, t) in extra {
        m.insert(*p, t.as_bytes().to_vec());
    }
    m
}

fn text(set: &OutputSet, path: &str) -> String {
    let a = set
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} not rendered"));
    String::from_utf8(a.bytes.clone()).unwrap()
}

fn failure_text(f: &RenderFailure) -> String {
    render_human(&f.diags, &f.sources, ColorChoice::Never)
}

#[test]
fn artifacts_of_a_node_a_bonded_node_and_a_switch() {
    let set = build(&fixture(), secrets()).unwrap();
    let mut listing = String::new();
    for (p, a) in &set.files {
        listing.push_str(&format!("{:04o} {:<22} {p}\n", a.mode, a.kind));
    }
    insta::assert_snapshot!("file_list", listing);
    for path in [
        "nodes/r01n01/hostname",
        "nodes/r01n01/hosts",
        "nodes/r01n01/etc/netplan/50-siteconf.yaml",
        "nodes/r01n01/etc/frr/frr.conf",
        "nodes/r01n01/etc/frr/daemons",
        "nodes/r01n01/etc/apt/sources.list.d/debian.sources",
        "nodes/r01n01/etc/ssh/sshd_config.d/50-siteconf.conf",
        "nodes/r01n01/etc/ssh/authorized_keys/ops",
        "nodes/r01n01/cloud-init/user-data",
        "nodes/r01n01/cloud-init/meta-data",
        "nodes/r01n02/etc/netplan/50-siteconf.yaml",
        "nodes/r01n02/cloud-init/network-config",
        "switches/r01-tor1/etc/frr/frr.conf",
        "switches/r02-tor1/etc/frr/frr.conf",
        "site/fabric.json",
    ] {
        let name = path.replace('/', "__");
        insta::assert_snapshot!(name, text(&set, path));
    }
}

#[test]
fn modes_follow_the_consumers() {
    let set = build(&fixture(), secrets()).unwrap();
    for (p, a) in &set.files {
        let want = if a.kind == "netplan" || p == "switches/r01-tor1/etc/frr/frr.conf" {
            0o600
        } else {
            0o644
        };
        assert_eq!(a.mode, want, "{p}");
    }
}

#[test]
fn the_secret_is_only_in_the_switch_config_that_uses_it() {
    let set = build(&fixture(), secrets()).unwrap();
    let holders: Vec<&str> = set
        .files
        .iter()
        .filter(|(_, a)| {
            String::from_utf8_lossy(&a.bytes).contains(SECRET)
                // base64 in user-data would hide it from a plain search
                || String::from_utf8_lossy(&a.bytes).contains("Rml4dHVyZS1TZWNyZXQ")
        })
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(holders, vec!["switches/r01-tor1/etc/frr/frr.conf"]);
    assert!(set.has_secret("switches/r01-tor1/etc/frr/frr.conf"));
    assert_eq!(set.files.values().filter(|a| a.secret).count(), 1);
    let manifest = text(&set, "manifest.json");
    assert!(!manifest.contains(SECRET));
    assert!(manifest.contains("\"secret\": true"));
    // The switch without a password'd peer is not affected.
    assert_eq!(set.files["switches/r02-tor1/etc/frr/frr.conf"].mode, 0o644);
}

#[test]
fn a_missing_secret_names_the_reference_and_how_to_provide_it() {
    let f = build(&fixture(), Secrets::none()).unwrap_err();
    assert_eq!(f.diags.len(), 1);
    assert_eq!(f.diags[0].code, Code::SecretUnresolved);
    insta::assert_snapshot!("missing_secret", failure_text(&f));
}

#[test]
fn the_same_output_whatever_the_thread_count() {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| build(&fixture(), secrets()).unwrap());
    let eight = rayon::ThreadPoolBuilder::new()
        .num_threads(8)
        .build()
        .unwrap()
        .install(|| build(&fixture(), secrets()).unwrap());
    assert_eq!(one, eight);
}

#[test]
fn a_project_template_overrides_the_default_and_can_add_files() {
    let src = mem_fixture(&[
        ("templates/node/hostname.j2", "{{ node.fqdn }}\n"),
        (
            "templates/node/etc/motd.j2",
            "{{ node.name }} in rack {{ node.rack }}\n",
        ),
        // Not a template: ignored.
        ("templates/node/README.md", "notes"),
    ]);
    let set = build(&src, secrets()).unwrap();
    assert_eq!(
        text(&set, "nodes/r01n01/hostname"),
        "r01n01.dc1.example.net\n"
    );
    assert_eq!(text(&set, "nodes/r01n01/etc/motd"), "r01n01 in rack r01\n");
    assert!(!set.files.contains_key("nodes/r01n01/README.md"));
    // The new file travels in user-data like the others.
    assert!(text(&set, "nodes/r01n01/cloud-init/user-data").contains("\"/etc/motd\""));
}

#[test]
fn the_first_boot_seed_brings_the_network_up_and_survives_an_image_without_frr() {
    let set = build(&fixture(), secrets()).unwrap();
    for node in ["r01n01", "r01n02", "r02n01"] {
        // network-config is the node's whole netplan: cloud-init brings it
        // up before anything needs the network.
        let nc = text(&set, &format!("nodes/{node}/cloud-init/network-config"));
        let netplan = text(&set, &format!("nodes/{node}/etc/netplan/50-siteconf.yaml"));
        assert!(
            nc.ends_with(&netplan),
            "{node}: network-config is not the netplan"
        );
        assert!(nc.contains("version: 2") && nc.contains("macaddress:"));
        let ud = text(&set, &format!("nodes/{node}/cloud-init/user-data"));
        // No file is owned by a user that may not exist.
        assert!(!ud.contains("frr:frr\""), "{node}: a file owned by frr");
        if ud.contains("/etc/frr/frr.conf") {
            assert!(
                ud.contains("getent passwd frr"),
                "{node}: FRR started unconditionally"
            );
        }
    }
    // Without `automation-user`, nobody gets sudo.
    assert!(!text(&set, "nodes/r01n01/cloud-init/user-data").contains("sudo:"));
}

#[test]
fn name_servers_are_written_without_a_gateway() {
    // The management network without `gateway4`, the mirror on it (FRR
    // installs without a route and brings the BGP default): no default
    // route in netplan, but the on-link name servers are still written.
    let fs = fixture();
    let site = String::from_utf8(fs.read("site/site.kdl").unwrap().unwrap()).unwrap();
    let no_gw = site
        .replace(r#"gateway4 "10.0.0.1"; "#, "")
        .replace("http://deb.debian.org/debian", "http://10.0.0.5/debian");
    assert_ne!(site, no_gw);
    let set = build(&mem_fixture(&[("site/site.kdl", &no_gw)]), secrets()).unwrap();
    let netplan = text(&set, "nodes/r01n01/etc/netplan/50-siteconf.yaml");
    assert!(!netplan.contains("0.0.0.0/0"), "{netplan}");
    assert!(netplan.contains("nameservers:"), "{netplan}");
}

#[test]
fn the_automation_user_and_only_it_gets_sudo() {
    let fs = fixture();
    let site = String::from_utf8(fs.read("site/site.kdl").unwrap().unwrap()).unwrap();
    let with = |extra: &str| {
        let site = site.replacen(
            "timezone \"Europe/Paris\"",
            &format!("timezone \"Europe/Paris\"; {extra}"),
            1,
        );
        let mut m = mem_fixture(&[]);
        m.insert("site/site.kdl", site.into_bytes());
        build(&m, secrets()).unwrap()
    };
    let set = with("automation-user ops");
    let ud = text(&set, "nodes/r01n01/cloud-init/user-data");
    let sudo = "sudo: \"ALL=(ALL) NOPASSWD:ALL\"";
    assert_eq!(ud.matches(sudo).count(), 1, "{ud}");
    let ops = ud.find("- name: \"ops\"").expect("user ops");
    let next = ud[ops + 1..]
        .find("- name:")
        .map_or(ud.len(), |i| ops + 1 + i);
    assert!(ud[ops..next].contains(sudo), "sudo is not on ops: {ud}");
    assert!(ud.contains("\"sudo\""), "the sudo package is installed");
    let set = with("automation-user ops; automation-sudo #false");
    assert!(!text(&set, "nodes/r01n01/cloud-init/user-data").contains("sudo:"));
}

#[test]
fn a_template_error_names_template_line_and_node_once() {
    let src = mem_fixture(&[(
        "templates/node/hosts.j2",
        "127.0.0.1 localhost\n{{ node.loopback }} {{ node.name }}\n",
    )]);
    let f = build(&src, secrets()).unwrap_err();
    assert_eq!(f.diags.len(), 1, "one diagnostic for all three nodes");
    assert_eq!(f.diags[0].code, Code::TemplateError);
    insta::assert_snapshot!("template_error", failure_text(&f));
}

#[test]
fn a_multi_line_value_from_the_site_cannot_inject_config_lines() {
    let src = mem_fixture(&[(
        "templates/node/etc/ssh/sshd_config.d/50-siteconf.conf.j2",
        "Banner {{ node.vars.banner }}\n",
    )]);
    // A site value with a line break, as KDL allows.
    let mut src = src;
    let site = String::from_utf8(src.read("site/site.kdl").unwrap().unwrap()).unwrap();
    src.insert(
        "site/site.kdl",
        site.replace(
            "profiles base\n    interface eno1 { mac \"52:54:00:01:01:01\"",
            "profiles base\n    vars { banner \"hi\\nPermitRootLogin yes\"; }\n    interface eno1 { mac \"52:54:00:01:01:01\"",
        ),
    );
    let f = build(&src, secrets()).unwrap_err();
    let msg = failure_text(&f);
    assert!(msg.contains("spans lines"), "{msg}");
    assert!(msg.contains("node r01n01"), "{msg}");
}

#[test]
fn unknown_file_name_placeholders_are_refused() {
    let src = mem_fixture(&[("templates/node/etc/{nic}.conf.j2", "x\n")]);
    let f = build(&src, secrets()).unwrap_err();
    assert_eq!(f.diags[0].code, Code::TemplateError);
    assert!(
        f.diags[0].message.contains("{nic}"),
        "{}",
        f.diags[0].message
    );
}

#[test]
fn names_from_the_site_cannot_escape_the_output_directory() {
    // A repository and an SSH key user whose names are paths: the files
    // they would make are refused (SC0903) and the build fails whole.
    let mut src = mem_fixture(&[]);
    let site = String::from_utf8(src.read("site/site.kdl").unwrap().unwrap()).unwrap();
    let site = site
        .replace("repo debian {", "repo \"../../../../../etc/cron.d/evil\" {")
        .replace("user ops;", "user \"../../../root\";");
    src.insert("site/site.kdl", site);
    let checked = check(&src);
    if checked.diags.has_errors() {
        // Validation already refuses such names: nothing to render.
        return;
    }
    let opts = RenderOptions {
        secrets: secrets(),
        progress: None,
        ..Default::default()
    };
    let f = render(&checked, &src, &opts).unwrap_err();
    assert!(
        f.diags.iter().all(|d| d.code == Code::UnsafePath),
        "{}",
        failure_text(&f)
    );
    let msg = failure_text(&f);
    assert!(msg.contains("etc/cron.d/evil.sources"), "{msg}");
    assert!(msg.contains("authorized_keys/../../../root"), "{msg}");
}

/// The lines of `conf` that mention one of `needles`, in order: the part
/// of an FRR config that sets up one session.
fn lines_with(conf: &str, needles: &[&str]) -> String {
    conf.lines()
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Numbered sessions and external peers, rendered on both ends, from the
/// site the BGP interop test runs (which proves they come up): loopback to
/// loopback (IPv4 and IPv6) sourced from the loopbacks with multihop sized
/// to the path, a connected /31 single-hop with the switch port's address,
/// and external peers on a routed port.
#[test]
fn numbered_and_external_sessions_on_both_ends() {
    let src = FsSource::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/consumers/fixtures/interop-site"),
    );
    let secrets = Secrets::from_values([("bgp/transit-a".to_string(), SECRET.to_string())]);
    let set = build(&src, secrets).unwrap();
    let node = |n: &str| text(&set, &format!("nodes/{n}/etc/frr/frr.conf"));
    let switch = |s: &str| text(&set, &format!("switches/{s}/etc/frr/frr.conf"));

    // Loopback to loopback, IPv4: r01n02 (10.255.1.2) <-> r01-tor2 (10.255.0.2),
    // two links apart (r01n02 -> r01-tor1 -> r01-tor2).
    let n = node("r01n02");
    for want in [
        " neighbor 10.255.0.2 update-source 10.255.1.2\n",
        " neighbor 10.255.0.2 ebgp-multihop 2\n",
        "  neighbor 10.255.0.2 route-map TO-TOR out\n",
    ] {
        assert!(n.contains(want), "r01n02 lacks {want:?}:\n{n}");
    }
    assert!(!n.contains(" neighbor 10.255.0.2 peer-group"), "{n}");
    let s = switch("r01-tor2");
    for want in [
        " neighbor 10.255.1.2 remote-as 4200000001\n",
        " neighbor 10.255.1.2 update-source 10.255.0.2\n",
        " neighbor 10.255.1.2 ebgp-multihop 2\n",
        "  neighbor 10.255.1.2 route-map SERVERS-IN in\n",
    ] {
        assert!(s.contains(want), "r01-tor2 lacks {want:?}:\n{s}");
    }
    insta::assert_snapshot!("numbered_fabric_ipv4_node", lines_with(&n, &["10.255.0.2"]));
    insta::assert_snapshot!(
        "numbered_fabric_ipv4_switch",
        lines_with(&s, &["10.255.1.2"])
    );

    // IPv6 loopback to loopback: the IPv4 family is not carried.
    let n = node("r02n02");
    let s = switch("r02-tor2");
    insta::assert_snapshot!(
        "numbered_fabric_ipv6_node",
        lines_with(&n, &["2001:db8:0:ff00::4"])
    );
    insta::assert_snapshot!(
        "numbered_fabric_ipv6_switch",
        lines_with(&s, &["2001:db8:0:ff00::2:2"])
    );
    assert!(
        n.contains("  no neighbor 2001:db8:0:ff00::4 activate\n"),
        "{n}"
    );

    // Connected /31: single-hop, no update-source or multihop; the switch
    // port gets its address.
    let n = node("r02n01");
    assert!(
        n.contains(" neighbor 10.254.2.0 remote-as 4201000022\n"),
        "{n}"
    );
    assert!(
        !n.contains("multihop") && !n.contains("update-source"),
        "{n}"
    );
    assert!(
        s.contains("interface swp1\n ip address 10.254.2.0/31\nexit\n"),
        "{s}"
    );
    assert!(
        s.contains(" neighbor 10.254.2.1 remote-as 4200000003\n"),
        "{s}"
    );
    insta::assert_snapshot!("numbered_connected_switch", lines_with(&s, &["10.254.2"]));

    // External peers on the transit LAN port of both first-rack ToRs.
    let s = switch("r01-tor1");
    assert!(
        s.contains(
            "interface swp48\n ip address 192.0.2.2/29\n ipv6 address 2001:db8:ffff::2/64\nexit\n"
        ),
        "{s}"
    );
    insta::assert_snapshot!(
        "external_peers_switch",
        lines_with(&s, &["192.0.2.", "2001:db8:ffff::", "interface swp48"])
    );
    let fabric = text(&set, "site/fabric.json");
    assert!(fabric.contains("\"port\": \"swp48\""), "{fabric}");
}

/// Every kind a build gives its files is one a gate rule may name
/// (`render::ARTIFACT_KINDS`): a kind missing there would make `check`
/// refuse a policy that names it. The fixture and a site with a boot
/// service (`tests/cases/boot-valid`) have every kind but `file` between
/// them.
#[test]
fn every_artifact_kind_is_one_the_gate_knows() {
    let boot = FsSource::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/boot-valid"));
    let sets = [
        build(&fixture(), secrets()).expect("renders"),
        build(&boot, Secrets::default()).expect("renders"),
    ];
    let kinds: std::collections::BTreeSet<&str> = sets
        .iter()
        .flat_map(|s| s.files.values().map(|a| a.kind.as_str()))
        .collect();
    for k in &kinds {
        assert!(
            siteconf::render::ARTIFACT_KINDS.contains(k),
            "kind `{k}` is not in ARTIFACT_KINDS"
        );
    }
    assert_eq!(
        kinds.len(),
        siteconf::render::ARTIFACT_KINDS.len() - 1,
        "{kinds:?}"
    );
}

/// Kea reserves a bond's address for each MAC DHCP may ask with, its
/// members' (whichever port PXE-boots), even when the bond has a `mac` of
/// its own (a warning, SC0512): that MAC is no NIC's. Two reservations of
/// one address need `ip-reservations-unique: false`.
#[test]
fn a_bond_address_is_reserved_for_each_members_mac() {
    let fs = fixture();
    let site = String::from_utf8(fs.read("site/site.kdl").unwrap().unwrap()).unwrap();
    let site = site
        .replacen(
            "interface bond0 { kind bond; members eno1 eno2; mode \"802.3ad\"; mtu 9000; }",
            "interface bond0 { kind bond; members eno1 eno2; mode \"802.3ad\"; mtu 9000; mac \"52:54:00:01:02:99\"; }",
            1,
        )
        .replacen(
            "address mgmt interface=eno3 ipv4=\"10.0.0.42\"",
            "address mgmt interface=bond0 ipv4=\"10.0.0.42\"",
            1,
        );
    let mut m = mem_fixture(&[]);
    m.insert("site/site.kdl", site.into_bytes());
    let kea = text(&build(&m, secrets()).unwrap(), "site/dhcp/kea-dhcp4.json");
    assert!(kea.contains("52:54:00:01:02:01"), "{kea}");
    assert!(kea.contains("52:54:00:01:02:02"), "{kea}");
    assert!(!kea.contains("52:54:00:01:02:99"), "{kea}");
    assert!(kea.contains("\"ip-reservations-unique\": false"), "{kea}");
    // Without a bond, Kea keeps its default (unique addresses).
    let kea = text(
        &build(&fixture(), secrets()).unwrap(),
        "site/dhcp/kea-dhcp4.json",
    );
    assert!(!kea.contains("ip-reservations-unique"), "{kea}");
}

/// `site/fabric.json` lists devices by name, not in file order: moving
/// node and switch blocks around in a site file changes nothing (it once
/// gave an 84-line diff that read like every ASN and loopback changing).
#[test]
fn fabric_does_not_follow_declaration_order() {
    let fs = fixture();
    let site = String::from_utf8(fs.read("site/site.kdl").unwrap().unwrap()).unwrap();
    // Cut a top-level block (from its first line to the next top-level
    // line) and put it at the end of the file.
    let move_to_end = |text: &str, head: &str| -> String {
        let start = text.find(head).expect("block");
        let len = text[start + 1..]
            .find("\n}\n")
            .map(|i| i + 4)
            .expect("block end");
        let block = &text[start..start + len];
        format!("{}{}", text.replacen(block, "", 1), block)
    };
    let moved = move_to_end(&move_to_end(&site, "node r01n01 {"), "switch r01-tor1 {");
    assert_ne!(moved, site);
    let a = build(&fixture(), secrets()).expect("builds");
    let b = build(&mem_fixture(&[("site/site.kdl", &moved)]), secrets()).expect("builds");
    let fa = text(&a, "site/fabric.json");
    assert!(
        fa.find("\"r01n01\"") < fa.find("\"r02n01\""),
        "nodes by name: {fa}"
    );
    assert_eq!(fa, text(&b, "site/fabric.json"));
}

/// The site `siteconf init --nodes N` makes, with `edit` applied to each
/// file's text.
fn init_source(nodes: u32, edit: impl Fn(&str, &str) -> String) -> MemSource {
    let opts = siteconf::init::Options {
        nodes,
        racks: None,
        format: siteconf::syntax::Format::Kdl,
    };
    let generated = siteconf::init::generate(&opts).unwrap();
    let mut m = MemSource::new();
    for (p, t) in &generated.files {
        m.insert(p.clone(), edit(p, t).into_bytes());
    }
    m
}

/// A fleet of up to 3,000 devices: `check` renders every one.
#[test]
fn check_renders_every_device_of_a_small_fleet() {
    let m = init_source(600, |_, t| t.to_string());
    let checked = check(&m);
    assert!(!checked.diags.has_errors(), "{:?}", checked.diags);
    let eff = checked.effective();
    let picks = siteconf::render::sample_picks(&eff);
    assert!(picks.every);
    assert_eq!(picks.nodes.len(), 600);
    assert_eq!(picks.switches.len(), eff.switches.len());
    // A clean site's templates: nothing found.
    let found = siteconf::render::check_templates(&checked, &m);
    assert!(found.diags.is_empty(), "{:?}", found.diags);
}

/// A larger fleet: `check`'s sample is bounded, covers the first node with
/// each feature a template branches on, each role and profile set, and
/// the one node whose view has a shape no other has — so a template that
/// fails only on that node fails `check`, not the build.
#[test]
fn check_samples_a_large_fleet_by_shape() {
    // One node of 1200 sets a variable the others do not have; a template
    // reads it wrongly, and only on that node.
    let mut m = init_source(1200, |path, text| {
        if path != "site/racks/r20.kdl" {
            return text.to_string();
        }
        let head = "node r20n07 {";
        assert!(text.contains(head), "node r20n07 in {path}");
        text.replace(
            head,
            &format!("{head}\n    vars {{ rack_pdu {{ outlet 3; }} }}"),
        )
    });
    m.insert(
        "templates/node/etc/pdu.j2".to_string(),
        b"{% if node.vars.rack_pdu is defined %}{{ node.vars.rack_pdu.outlet + node.vars.rack_pdu.feed }}{% endif %}\n"
            .to_vec(),
    );
    let checked = check(&m);
    assert!(!checked.diags.has_errors(), "{:?}", checked.diags);
    let eff = checked.effective();
    // Sampled above 1,000 devices here (3,000 in `check`), to keep the
    // test small.
    const EVERY: usize = 1000;
    let siteconf::render::Picks {
        nodes,
        switches,
        every,
    } = siteconf::render::sample_picks_up_to(&eff, EVERY);
    assert!(!every);
    assert!(nodes.len() <= siteconf::render::SAMPLE_NODES);
    assert!(
        nodes.len() < 20,
        "init's nodes have few shapes: {}",
        nodes.len()
    );
    assert_eq!(switches.len(), eff.switches.len(), "every switch");
    assert_eq!(nodes.first(), Some(&0));
    assert!(nodes.iter().any(|i| !eff.nodes[*i].sessions.is_empty()));
    let names: Vec<&str> = nodes.iter().map(|i| eff.nodes[*i].name).collect();
    assert!(names.contains(&"r20n07"), "{names:?}");
    let key = |i: usize| {
        let n = eff.nodes[i].node;
        (
            n.role.as_ref().map(|r| r.value.clone()),
            n.profiles
                .iter()
                .map(|p| p.value.clone())
                .collect::<Vec<_>>(),
        )
    };
    let all: std::collections::BTreeSet<_> = (0..eff.nodes.len()).map(key).collect();
    let sampled: std::collections::BTreeSet<_> = nodes.iter().map(|i| key(*i)).collect();
    assert_eq!(sampled, all, "every role and profile set is in the sample");
    let found = siteconf::render::check_templates_up_to(&checked, &m, EVERY);
    assert_eq!(found.diags.len(), 1, "{:?}", found.diags);
    let s = found.sampled.expect("a sample");
    assert_eq!((s.nodes, s.of_nodes), (nodes.len(), 1200));
    let d = &found.diags[0];
    assert!(
        d.message.contains("pdu.j2") && d.message.contains("r20n07"),
        "{}",
        d.message
    );
}

/// A node whose management address is on a bond PXE-boots from either
/// member: each member's MAC gets its own script, and when the node's whole
/// network config does not fit the kernel command line the script carries
/// the management-only one, the bond with its members matched by MAC (it
/// once had none and the build failed with SC1206 that `check` had passed).
#[test]
fn a_bonded_management_address_boots_from_each_member_and_falls_back() {
    let site = |pad: usize| {
        format!(
            r#"site dc1 {{
    domain "dc1.example.net"; dns-servers "10.0.0.2"
    boot {{
        servers "10.0.0.2"; images-dir "/srv/images"
        image live {{
            kernel "http://10.0.0.2/images/live/vmlinuz"
            args "console=ttyS0,115200 siteconf.pad={}"
        }}
    }}
    defaults {{ boot-image live; }}
}}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; reserved "10.0.0.1-10.0.0.31"; }}
network storage {{ purpose storage; ipv4 "10.1.0.0/24"; vlan 200; }}
network backup {{ purpose storage; ipv4 "10.2.0.0/24"; vlan 201; }}
rack r01 {{ height 42; }}
node r01n01 {{
    rack r01; position 1
    interface eno1 {{ mac "52:54:00:01:01:01"; }}
    interface eno2 {{ mac "52:54:00:01:01:02"; }}
    interface bond0 {{ kind bond; members eno1 eno2; mode "802.3ad"; }}
    interface storage0 {{ kind vlan; link bond0; vlan 200; }}
    interface backup0 {{ kind vlan; link bond0; vlan 201; }}
    address mgmt interface=bond0 ipv4="10.0.0.101"
    address storage interface=storage0 ipv4="10.1.0.101"
    address backup interface=backup0 ipv4="10.2.0.101"
}}
"#,
            "p".repeat(pad)
        )
    };
    let scripts = |pad: usize| {
        let mut m = MemSource::new();
        m.insert("siteconf.toml", b"".to_vec());
        m.insert("site/site.kdl", site(pad).into_bytes());
        build(&m, Secrets::default()).ok().map(|set| {
            [
                "site/boot/ipxe/52-54-00-01-01-01.ipxe",
                "site/boot/ipxe/52-54-00-01-01-02.ipxe",
            ]
            .map(|p| text(&set, p))
        })
    };
    let [a, b] = scripts(0).expect("builds");
    assert!(a.contains("full network config"), "{a}");
    assert_eq!(
        a.replace("52:54:00:01:01:01", "MAC"),
        b.replace("52:54:00:01:01:02", "MAC")
    );
    // Lengthen the arguments until the full config no longer fits: the
    // management-only config must take over before the build gives up.
    let mut pad = 800;
    let script = loop {
        let [a, _] = scripts(pad).unwrap_or_else(|| panic!("build failed at pad {pad}"));
        if a.contains("management-only") {
            break a;
        }
        pad += 20;
        assert!(pad < 2047, "never management-only");
    };
    let arg = script
        .lines()
        .find(|l| l.starts_with("kernel "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("network-config="))
        })
        .expect("network-config=");
    use base64::Engine as _;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(arg)
        .unwrap();
    let mut yaml = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut yaml).unwrap();
    let v: serde_json::Value = serde_json::from_str(&yaml).unwrap();
    let net = &v["network"];
    assert_eq!(
        net["bonds"]["bond0"]["interfaces"],
        serde_json::json!(["eno1", "eno2"]),
        "{yaml}"
    );
    assert_eq!(
        net["bonds"]["bond0"]["addresses"],
        serde_json::json!(["10.0.0.101/24"]),
        "{yaml}"
    );
    assert_eq!(
        net["ethernets"]["eno2"]["match"]["macaddress"], "52:54:00:01:01:02",
        "{yaml}"
    );
    assert!(net.get("vlans").is_none(), "{yaml}");
}

/// Image arguments too long for every node of the image are one SC1206
/// naming the nodes, from `check` as from the build: not one per node
/// (thousands on a large site, all with one cause).
#[test]
fn a_network_config_too_long_is_one_finding_per_image() {
    let nodes: String = (1..=8)
        .map(|i| {
            format!(
                "node r01n0{i} {{ rack r01; position {i}; interface eno1 {{ mac \"52:54:00:01:01:0{i}\"; }}; address mgmt interface=eno1 ipv4=\"10.0.0.10{i}\"; }}\n"
            )
        })
        .collect();
    let site = format!(
        r#"site dc1 {{
    domain "dc1.example.net"; dns-servers "10.0.0.2"
    boot {{
        servers "10.0.0.2"; images-dir "/srv/images"
        image live {{
            kernel "http://10.0.0.2/images/live/vmlinuz"
            args "console=ttyS0,115200 siteconf.pad={}"
        }}
    }}
    defaults {{ boot-image live; }}
}}
network mgmt {{ purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; reserved "10.0.0.1-10.0.0.31"; }}
rack r01 {{ height 42; }}
{nodes}"#,
        "p".repeat(2000)
    );
    let mut m = MemSource::new();
    m.insert("siteconf.toml", b"".to_vec());
    m.insert("site/site.kdl", site.into_bytes());
    let failure = build(&m, Secrets::default()).expect_err("too long for every node");
    let too_long: Vec<&siteconf::diag::Diagnostic> = failure
        .diags
        .iter()
        .filter(|d| d.code == Code::BootNetworkConfigTooLong)
        .collect();
    assert_eq!(too_long.len(), 1, "{too_long:?}");
    let msg = &too_long[0].message;
    assert!(
        msg.starts_with("node `r01n01` (and 7 more node(s) of this image: r01n02, r01n03, r01n04, r01n05, r01n06 and 2 more)"),
        "{msg}"
    );
    // `check` reports it too, once.
    let found = siteconf::render::check_templates(&check(&m), &m);
    let codes: Vec<_> = found.diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::BootNetworkConfigTooLong]);
}
