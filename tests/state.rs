//! Fleet state: the observed-state parsers on realistic sample files
//! (`tests/state/<format>/`: valid, quirky, malformed), the directory
//! reader, and the promise of `--stub`: pasted into the site with a rack
//! unit filled in, it passes `check`.
//!
//! The end-to-end report is a data-driven case (`tests/cases/state-*`).

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use siteconf::state::input::{self, bgp, facts, leases, lldp, InputPaths};

fn sample(rel: &str) -> (String, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/state")
        .join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (rel.to_string(), text)
}

#[test]
fn lldp_list_form_from_a_node() {
    let (path, text) = sample("lldp/node-list.json");
    let (dump, problems) = lldp::parse("r01n01", &path, &text);
    assert!(problems.is_empty(), "{problems:?}");
    let n = dump.expect("parsed").neighbors;
    let seen: Vec<(&str, Option<&str>, Option<&str>)> = n
        .iter()
        .map(|x| (x.local_port.as_str(), x.sysname.as_deref(), x.port_name()))
        .collect();
    assert_eq!(
        seen,
        [
            ("eno1", Some("r01-tor1"), Some("swp1")),
            ("eno2", Some("r01-tor2"), Some("swp1")),
            ("eno3", Some("r01-tor1"), Some("swp33")),
        ]
    );
}

#[test]
fn lldp_single_neighbour_is_an_object_not_a_list() {
    let (path, text) = sample("lldp/node-single-object.json");
    assert!(
        text.contains("\"interface\": {"),
        "the sample must keep lldpd's one-neighbour quirk"
    );
    let (dump, problems) = lldp::parse("r01n03", &path, &text);
    assert!(problems.is_empty());
    let n = dump.expect("parsed").neighbors;
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].local_port, "eno1");
    assert_eq!(n[0].port_name(), Some("swp3"));
}

#[test]
fn lldp_json0_from_a_switch() {
    let (path, text) = sample("lldp/switch-json0.json");
    let (dump, problems) = lldp::parse("r01-tor1", &path, &text);
    assert!(problems.is_empty());
    let n = dump.expect("parsed").neighbors;
    assert_eq!(n.len(), 2);
    assert_eq!(n[0].sysname.as_deref(), Some("r01n01.dc1.example.net"));
    assert_eq!(n[0].port_name(), Some("eno1"));
    // No system name: the machine is known only by its MACs.
    assert_eq!(n[1].sysname, None);
    assert_eq!(
        n[1].port_mac().map(|m| m.to_string()).as_deref(),
        Some("52:54:00:aa:bb:01")
    );
}

#[test]
fn lldp_wrong_command_is_reported() {
    let (path, text) = sample("lldp/malformed-wrong-command.json");
    let (dump, problems) = lldp::parse("x", &path, &text);
    assert!(dump.is_none());
    assert!(
        problems[0].message.contains("no `lldp` key"),
        "{problems:?}"
    );
}

#[test]
fn facts_flat_cache_entry() {
    let (path, text) = sample("facts/r01n01.dc1.example.net");
    let (f, problems) = facts::parse("r01n01.dc1.example.net", &path, &text);
    assert!(problems.is_empty(), "{problems:?}");
    let f = f.expect("parsed");
    assert_eq!(f.hostname.as_deref(), Some("r01n01"));
    assert_eq!(f.fqdn.as_deref(), Some("r01n01.dc1.example.net"));
    let eno3 = f
        .interfaces
        .iter()
        .find(|i| i.name == "eno3")
        .expect("eno3");
    assert_eq!(eno3.ipv4, [("10.0.0.40".parse().unwrap(), 22)]);
    assert_eq!(
        eno3.mac.map(|m| m.to_string()).as_deref(),
        Some("52:54:00:01:01:03")
    );
    // The loopback address FRR announces sits in lo's secondaries.
    assert!(f.all_ipv4.contains(&"10.255.0.1".parse().unwrap()));
    assert_eq!(f.distribution.as_deref(), Some("Debian 12.5"));
}

#[test]
fn facts_nested_without_prefix() {
    let (path, text) = sample("facts/nested-ansible-facts.json");
    let (f, problems) = facts::parse("r02n02", &path, &text);
    assert!(problems.is_empty());
    let f = f.expect("parsed");
    assert_eq!(f.hostname.as_deref(), Some("r02n02"));
    assert_eq!(f.interfaces.len(), 2);
}

#[test]
fn facts_truncated_file_points_at_the_end() {
    let (path, text) = sample("facts/malformed-truncated.json");
    let (f, problems) = facts::parse("x", &path, &text);
    assert!(f.is_none());
    let (start, _) = problems[0].range.expect("located");
    assert!(
        text[start..].trim().len() <= 1,
        "EOF errors point at the end of the text: {}",
        &text[start..]
    );
}

#[test]
fn leases_kea_2_6_replay() {
    let (path, text) = sample("leases/kea-2.6.csv");
    let p = leases::parse(&path, &text);
    assert!(!p.fatal);
    assert_eq!(p.rows, 10);
    // 10.0.0.201 was deleted (lifetime 0); 10.0.0.50 has a bad MAC.
    let addrs: Vec<String> = p.leases.iter().map(|l| l.address.to_string()).collect();
    assert_eq!(
        addrs,
        [
            "10.0.0.40",
            "10.0.0.41",
            "10.0.0.42",
            "10.0.0.60",
            "10.0.0.99",
            "10.0.0.200"
        ]
    );
    assert_eq!(p.leases[0].line, 9, "the later row for 10.0.0.40 wins");
    assert_eq!(p.problems.len(), 1);
    assert!(
        p.problems[0].message.starts_with("line 10:"),
        "{:?}",
        p.problems
    );
}

#[test]
fn leases_kea_2_4_without_pool_id() {
    let (path, text) = sample("leases/kea-2.4.csv");
    let p = leases::parse(&path, &text);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let states: Vec<&str> = p.leases.iter().map(|l| l.state.as_str()).collect();
    assert_eq!(states, ["active", "expired", "declined"]);
}

#[test]
fn leases_of_another_dhcp_server_are_refused() {
    let (path, text) = sample("leases/malformed-dhcpd.csv");
    let p = leases::parse(&path, &text);
    assert!(p.fatal);
    assert!(p.problems[0]
        .message
        .contains("not a Kea DHCPv4 lease file"));
}

#[test]
fn bgp_node_and_vrf_all_switch() {
    let (path, text) = sample("bgp/node-unnumbered.json");
    let s = bgp::parse("r01n04", &path, &text).0.expect("parsed");
    assert!(s.peer("eno1").expect("eno1").established());
    assert_eq!(s.peer("eno2").expect("eno2").state, "Active");
    let (path, text) = sample("bgp/vrf-all-switch.json");
    let s = bgp::parse("r01-tor1", &path, &text).0.expect("parsed");
    assert_eq!(
        s.peer("swp1").and_then(|p| p.hostname.as_deref()),
        Some("r01n01")
    );
    assert_eq!(
        s.peer("10.0.0.254").expect("upstream").state,
        "Idle (Admin)"
    );
    let (path, text) = sample("bgp/malformed-not-json.json");
    assert!(bgp::parse("x", &path, &text).0.is_none());
}

#[test]
fn reading_directories_keeps_going_past_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lldp_dir = dir.path().join("lldp");
    std::fs::create_dir(&lldp_dir).expect("mkdir");
    let (_, good) = sample("lldp/node-list.json");
    std::fs::write(lldp_dir.join("r01n01.json"), good).expect("write");
    std::fs::write(lldp_dir.join("bad.json"), b"\xff\xfe not utf-8").expect("write");
    std::fs::write(lldp_dir.join(".gitkeep"), b"").expect("write");
    std::fs::write(lldp_dir.join("empty.json"), b"").expect("write");
    let obs = input::read(&InputPaths {
        lldp: Some(lldp_dir.clone()),
        ..Default::default()
    })
    .expect("readable");
    assert_eq!(obs.lldp.len(), 1);
    assert_eq!(obs.counts.lldp_files, 3, "hidden files are not hosts");
    assert_eq!(obs.counts.bad_files, 2);
    let msgs: Vec<&str> = obs.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        msgs,
        ["cannot read: file is not valid UTF-8", "file is empty"]
    );
    let missing = input::read(&InputPaths {
        facts: Some(dir.path().join("nope")),
        ..Default::default()
    });
    assert_eq!(missing.unwrap_err().message, "no such directory");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever bytes a file holds, the parsers answer (problems, maybe
    /// nothing) and never panic.
    #[test]
    fn parsers_never_panic(text in "\\PC{0,200}", json in prop::sample::select(vec![
        "{\"lldp\": {\"interface\": ", "{\"ansible_interfaces\": [", "{\"ipv4Unicast\": {\"peers\": {",
        "address,hwaddr,valid_lifetime\n", "",
    ])) {
        let t = format!("{json}{text}");
        let _ = lldp::parse("h", "h", &t);
        let _ = facts::parse("h", "h", &t);
        let _ = bgp::parse("h", "h", &t);
        let _ = leases::parse("h", &t);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dst = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dst).expect("copy");
        }
    }
}

fn siteconf(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run siteconf");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_pasted_stub_passes_check_once_its_position_is_filled_in() {
    let case: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-drift");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&case, work.path());
    let inputs = [
        "state",
        "--lldp",
        "observed/lldp",
        "--facts",
        "observed/facts",
        "--leases",
        "observed/leases.csv",
    ];
    let mut args = inputs.to_vec();
    args.extend(["--stub", "52:54:00:AA:BB:01"]);
    let (code, stub, err) = siteconf(work.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert!(stub.contains("position \"FILL-IN\""), "{stub}");
    let site = work.path().join("site/site.kdl");
    let original = std::fs::read_to_string(&site).expect("site");

    // As printed, the placeholder stops check: nobody commits it by accident.
    std::fs::write(&site, format!("{original}\n{stub}")).expect("write");
    let (code, _, err) = siteconf(work.path(), &["check"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`position` must be an integer"), "{err}");

    // With a free unit from the listed ones, it is a valid declaration …
    let free = stub
        .split("free in r01: ")
        .nth(1)
        .and_then(|s| s.split(['-', ',', '\n']).next())
        .expect("free units listed");
    let filled = stub.replace("\"FILL-IN\"", free.trim());
    std::fs::write(&site, format!("{original}\n{filled}")).expect("write");
    let (code, _, err) = siteconf(work.path(), &["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 error(s)"), "{err}");

    // … and the machine is no longer unknown.
    let (_, report, _) = siteconf(work.path(), &inputs);
    assert!(report.contains("7 declared"), "{report}");
    assert!(
        !report.contains("unknown machine 52:54:00:aa:bb:01"),
        "{report}"
    );
}

#[test]
fn the_report_does_not_depend_on_thread_count() {
    let case: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-drift");
    let args = [
        "state",
        "--lldp",
        "observed/lldp",
        "--facts",
        "observed/facts",
        "--leases",
        "observed/leases.csv",
        "--bgp",
        "observed/bgp",
        "--format",
        "json",
    ];
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_siteconf"))
            .args(args)
            .current_dir(&case)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("run siteconf")
            .stdout
    };
    let one = run("1");
    assert!(one.len() > 1000);
    assert_eq!(one, run("4"), "output differs between 1 and 4 threads");
}

/// A Kea lease file the machines filled with unknown clients (a DHCP
/// flood, a file of another network), plus bad rows: what is kept follows
/// the declared fleet, not the rows (docs/security.md: hostile observed
/// input is a diagnostic naming the file, never a crash). About 21 MB.
#[test]
fn a_flooded_lease_file_is_bounded_and_named() {
    let case: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-clean");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&case, work.path());
    let rows = 300_000u32;
    let bad = 5_000u32;
    let mut t = String::with_capacity(80 * (rows + bad) as usize);
    t.push_str("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n");
    for i in 0..rows {
        let [_, a, b, c] = i.to_be_bytes();
        let net = 100 + a;
        t.push_str(&format!(
            "10.{net}.{b}.{c},02:00:00:{a:02x}:{b:02x}:{c:02x},,3600,1767225600,1,0,0,flood{i},0,,0\n"
        ));
    }
    for _ in 0..bad {
        t.push_str("10.0.0.1,not-a-mac,,3600,1767225600,1,0,0,x,0,,0\n");
    }
    // The declared node's lease, after all of them: still compared.
    t.push_str("10.0.0.40,52:54:00:01:01:03,,3600,1767225600,1,0,0,r01n01,0,,0\n");
    let file = work.path().join("observed/big.csv");
    std::fs::write(&file, &t).expect("write");
    assert!(t.len() > 20 << 20, "{}", t.len());

    // What the reader keeps: the declared client, at most
    // MAX_OTHER_LEASES others, 100 bad rows plus one count, and the
    // file's text once (with the first problem that points into it).
    let declared: siteconf::model::Mac = "52:54:00:01:01:03".parse().unwrap();
    let obs = input::read_limited(
        &InputPaths {
            leases: Some(file.clone()),
            ..Default::default()
        },
        &|m, _| m == declared,
    )
    .expect("read");
    assert_eq!(obs.counts.lease_rows, (rows + bad + 1) as usize);
    assert_eq!(obs.leases.len(), input::MAX_OTHER_LEASES + 1);
    assert!(obs.leases.iter().any(|l| l.hwaddr == Some(declared)));
    assert_eq!(obs.problems.len(), leases::MAX_PROBLEMS + 2);
    assert_eq!(obs.problems.iter().filter(|p| p.text.is_some()).count(), 1);
    let limit = obs.problems.iter().find(|p| p.truncated).expect("limit");
    assert!(limit.path.ends_with("big.csv"), "{}", limit.path);
    assert!(
        limit
            .message
            .contains(&format!("{}", rows as usize - input::MAX_OTHER_LEASES)),
        "{}",
        limit.message
    );

    // The report: at most 100 findings of a code per file, the rest
    // counted, exact totals, and the file named.
    let (code, out, err) = siteconf(
        work.path(),
        &["state", "--leases", "observed/big.csv", "--format", "json"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.len() < 4 << 20, "report of {} bytes", out.len());
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let findings = v["findings"].as_array().expect("findings");
    let of = |c: &str| findings.iter().filter(|f| f["code"] == c).count();
    assert_eq!(of("SC1007"), 101, "100 kept and one summary");
    assert_eq!(of("SC1008"), 101, "100 bad rows and one count");
    assert_eq!(of("SC1013"), 1);
    assert_eq!(of("SC1001"), 0, "the declared node's lease was kept");
    assert_eq!(
        v["summary"]["warnings"],
        input::MAX_OTHER_LEASES as u64 + 1,
        "{}",
        v["summary"]
    );
    let summary = findings
        .iter()
        .find(|f| f["code"] == "SC1007" && f["message"].as_str().unwrap_or("").contains("more"))
        .expect("summary finding");
    assert!(
        summary["message"]
            .as_str()
            .unwrap()
            .starts_with("900 more SC1007"),
        "{summary}"
    );
    let limit = findings.iter().find(|f| f["code"] == "SC1013").unwrap();
    assert!(
        limit["message"]
            .as_str()
            .unwrap()
            .contains("observed/big.csv"),
        "{limit}"
    );
}

/// Adoption: a machine that already runs (a bond, a storage VLAN, a
/// loopback, cabling seen from the host) is pasted from its stub into a
/// site; `check` passes and the build gives it exactly the addresses it
/// has, on the interfaces it has: nothing is renumbered, nothing renamed.
#[test]
fn an_adopted_machine_keeps_its_addresses_through_check_and_build() {
    let case: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/state-stub-adopt");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&case, work.path());
    let inputs = [
        "state",
        "--lldp",
        "observed/lldp",
        "--facts",
        "observed/facts",
        "--leases",
        "observed/leases.csv",
    ];
    let (_, report, _) = siteconf(work.path(), &inputs);
    assert_eq!(
        report.matches("unknown machine 52:54:00:0b").count(),
        1,
        "facts, LLDP and lease of legacy01 are one machine:\n{report}"
    );
    let mut args = inputs.to_vec();
    args.extend(["--bgp", "observed/bgp", "--stub", "52:54:00:0b:00:03"]);
    let (code, stub, err) = siteconf(work.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        !stub.contains("auto"),
        "adoption must not allocate:\n{stub}"
    );
    // Its AS literally; its VLAN `public0` a VLAN, not a NIC with the
    // bond's MAC.
    assert!(stub.contains("bgp asn=4200050000"), "{stub}");
    assert!(
        stub.contains("interface \"public0\" { kind vlan; link \"bond0\"; vlan 300; mtu 1500; }"),
        "{stub}"
    );
    let filled = stub.replacen("\"FILL-IN\"", "7", 1);
    assert!(!filled.contains("FILL-IN"), "{filled}");
    let site = work.path().join("site/site.kdl");
    let original = std::fs::read_to_string(&site).expect("site");
    std::fs::write(&site, format!("{original}\n{filled}")).expect("write");
    let (code, _, err) = siteconf(work.path(), &["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(" 0 error(s)"), "{err}");
    let (code, _, err) = siteconf(work.path(), &["build", "--out", "out"]);
    assert_eq!(code, 0, "{err}");
    let read = |rel: &str| {
        std::fs::read_to_string(work.path().join("out").join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let netplan = read("nodes/legacy01/etc/netplan/50-siteconf.yaml");
    for want in [
        "\"10.255.9.9/32\"",
        "[\"10.0.2.50/22\",\"2001:db8:0:100::250/64\"]",
        "[\"10.1.1.5/22\"]",
        "macaddress: \"52:54:00:0b:00:04\"",
        "macaddress: \"52:54:00:0b:00:05\"",
        "interfaces: [\"ens1f0\",\"ens1f1\"]",
        "\"bond0.200\":",
    ] {
        assert!(netplan.contains(want), "{want} not in\n{netplan}");
    }
    // Its BGP as it runs: both sessions in its FRR, link-local on the
    // uplinks, the ToRs' sessions towards it; and its instance-id keeps
    // the serial (a new one would make cloud-init regenerate host keys).
    assert!(netplan.contains("\"public0\":"), "{netplan}");
    assert_eq!(
        netplan.matches("link-local: [ipv6]").count(),
        2,
        "{netplan}"
    );
    let frr = read("nodes/legacy01/etc/frr/frr.conf");
    for want in [
        "router bgp 4200050000",
        "neighbor eno1 interface",
        "neighbor eno2 interface",
    ] {
        assert!(frr.contains(want), "{want} not in\n{frr}");
    }
    for tor in ["r01-tor1", "r01-tor2"] {
        let conf = read(&format!("switches/{tor}/etc/frr/frr.conf"));
        assert!(conf.contains("neighbor swp11 interface"), "{tor}:\n{conf}");
    }
    let meta = read("nodes/legacy01/cloud-init/meta-data");
    assert!(
        meta.contains("instance-id: \"iid-legacy01-LEG0001\""),
        "{meta}"
    );
    let kea = read("site/dhcp/kea-dhcp4.json");
    assert!(
        kea.contains("\"hw-address\": \"52:54:00:0b:00:03\", \"ip-address\": \"10.0.2.50\""),
        "{kea}"
    );
    let vars = read("site/inventory/host_vars/legacy01.dc1.example.net.yml");
    assert!(vars.contains("mgmt4: \"10.0.2.50\""), "{vars}");
    let zone = read("site/dns/dc1.example.net.zone");
    assert!(zone.contains("legacy01 IN A 10.0.2.50"), "{zone}");
    // Nothing of legacy01's was allocated.
    let lock = std::fs::read_to_string(work.path().join("siteconf.lock")).expect("lock");
    assert!(!lock.contains("node/legacy01"), "{lock}");

    // And the machine is now declared, its cabling as observed.
    let (_, report, _) = siteconf(work.path(), &inputs);
    assert!(!report.contains("unknown machine 52:54:00:0b"), "{report}");
    assert!(!report.contains("SC1002"), "{report}");
}
