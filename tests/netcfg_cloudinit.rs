//! The network config each node's iPXE script passes on the kernel command
//! line (`network-config=`), decoded by the real cloud-init's own code
//! (`cloudinit.net.cmdline.read_kernel_cmdline_config`, which cloud-init's
//! init-local stage consults before any other source). cloud-init 22.4
//! never fetches `network-config` from an HTTP seed, so this argument is
//! how a network-booted node gets its addresses at first boot.
//!
//! Skips, saying so, where the host's python3 has no cloud-init.

use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/usr/bin/python3";

/// Decodes the `network-config=` of a kernel command line with cloud-init,
/// and parses `seed` (a network-config file) with the YAML loader
/// cloud-init uses; prints both as JSON, one per line.
const DECODE: &str = r#"
import json, sys
from cloudinit import util
from cloudinit.net import cmdline
cfg = cmdline.read_kernel_cmdline_config(cmdline=sys.argv[1])
seed = util.load_yaml(open(sys.argv[2]).read()) if sys.argv[2] else None
print(json.dumps(cfg, sort_keys=True))
print(json.dumps(seed, sort_keys=True))
"#;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cloud_init() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import cloudinit.net.cmdline"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A project holding `site` (a case's site text), built; returns the
/// output directory, or the build's stderr when it fails.
fn build(tmp: &Path, site: &str) -> Result<PathBuf, String> {
    let proj = tmp.join("proj");
    std::fs::create_dir_all(proj.join("site")).expect("mkdir");
    std::fs::write(proj.join("siteconf.toml"), "").expect("write");
    std::fs::write(proj.join("site/site.kdl"), site).expect("write");
    let out = tmp.join("out");
    let r = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .arg("build")
        .arg("-C")
        .arg(&proj)
        .arg("--out")
        .arg(&out)
        .args(["--no-sync", "--color", "never"])
        .output()
        .expect("run siteconf");
    if r.status.success() {
        Ok(out)
    } else {
        Err(String::from_utf8_lossy(&r.stderr).into_owned())
    }
}

/// (kernel command line, iPXE script) of every node script of a build.
fn scripts(out: &Path) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(out.join("site/boot/ipxe")).expect("ipxe dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "unknown.ipxe" {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("read script");
        let line = text
            .lines()
            .find(|l| l.starts_with("kernel "))
            .unwrap_or_else(|| panic!("{name}: no kernel line"))
            .to_string();
        v.push((name, line, text));
    }
    v.sort();
    v
}

/// The node a script boots, from its `ds=…;s=<base>/nodes/<node>/`.
fn node_of(line: &str) -> String {
    let seed = line
        .split(' ')
        .find_map(|w| w.strip_prefix("ds=nocloud-net;s="))
        .expect("ds= argument");
    seed.trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("node")
        .to_string()
}

/// cloud-init's reading of the command line and of the seed's file.
fn decode(line: &str, seed: Option<&Path>) -> (serde_json::Value, serde_json::Value) {
    let seed = seed.map(|p| p.to_string_lossy().into_owned());
    let r = Command::new(PYTHON)
        .args(["-c", DECODE, line, seed.as_deref().unwrap_or("")])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "cloud-init could not decode the command line:\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let mut lines = stdout.lines();
    let parse = |l: Option<&str>| serde_json::from_str(l.expect("a line")).expect("json");
    (parse(lines.next()), parse(lines.next()))
}

/// The ethernets of a network config (with or without its `network` key).
fn ethernets(cfg: &serde_json::Value) -> &serde_json::Map<String, serde_json::Value> {
    let net = cfg.get("network").unwrap_or(cfg);
    net["ethernets"].as_object().expect("ethernets")
}

/// The `boot-valid` case's site, with `args` appended to the image's
/// arguments and, with `more`, twelve more interfaces on r01n01 (a bigger
/// network config).
fn site(args: &str, more: bool) -> String {
    let case = std::fs::read_to_string(repo().join("tests/cases/boot-valid/site/site.kdl"))
        .expect("boot-valid site");
    let eno1 = r#"interface eno1 { mac "52:54:00:01:01:01"; }"#;
    let extra: String = (2..14)
        .map(|i| format!("\n    interface eno{i} {{ mac \"52:54:00:01:09:{i:02x}\"; mtu 9000; }}"))
        .collect();
    let case = if more {
        case.replacen(eno1, &format!("{eno1}{extra}"), 1)
    } else {
        case
    };
    case.replace(
        r#"args "console=ttyS0,115200 boot=live fetch=${root-url}""#,
        &format!(r#"args "console=ttyS0,115200 boot=live fetch=${{root-url}}{args}""#),
    )
}

#[test]
fn cloud_init_reads_each_nodes_network_config_from_the_ipxe_script() {
    if !cloud_init() {
        eprintln!("skipped: {PYTHON} has no cloud-init (cloudinit.net.cmdline)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = build(tmp.path(), &site("", false)).expect("the boot-valid site builds");
    let all = scripts(&out);
    assert!(!all.is_empty(), "no node script built");
    for (name, line, text) in &all {
        assert!(
            text.contains("carries the node's full network config"),
            "{name}"
        );
        let node = node_of(line);
        let seed = out.join(format!("nodes/{node}/cloud-init/network-config"));
        let (cfg, seed) = decode(line, Some(&seed));
        assert_eq!(
            cfg, seed,
            "{name}: cloud-init reads another config than the seed's"
        );
        // The management address is static, on the interface matched by
        // the MAC this script is served for: no DHCP.
        let mac = name.trim_end_matches(".ipxe").replace('-', ":");
        let eth = ethernets(&cfg)
            .values()
            .find(|e| e["match"]["macaddress"] == mac.as_str())
            .unwrap_or_else(|| panic!("{name}: no interface matched by {mac} in {cfg}"));
        assert_eq!(eth["dhcp4"], false, "{name}");
        let addrs = eth["addresses"].to_string();
        let want = match node.as_str() {
            "r01n01" => "10.0.0.101/24",
            "r01n02" => "10.0.0.102/24",
            other => panic!("unexpected node {other}"),
        };
        assert!(addrs.contains(want), "{name}: {want} not in {addrs}");
    }
}

/// The kernel command line a script boots with, as the kernel gets it:
/// after the kernel's URL, `${root-url}` expanded.
fn effective(script: &str) -> String {
    let root = script
        .lines()
        .find_map(|l| l.strip_prefix("set root-url "))
        .unwrap_or("");
    let line = script
        .lines()
        .find(|l| l.starts_with("kernel "))
        .expect("kernel line");
    let args = line
        .strip_prefix("kernel --name kernel ")
        .and_then(|l| l.split_once(' '))
        .map(|(_, rest)| rest.trim_end_matches(" || goto failed"))
        .expect("kernel arguments");
    args.replace("${root-url}", root)
}

#[test]
fn a_command_line_too_short_for_the_whole_config_gets_the_management_one() {
    if !cloud_init() {
        eprintln!("skipped: {PYTHON} has no cloud-init (cloudinit.net.cmdline)");
        return;
    }
    let r01n01 = |out: &Path| {
        scripts(out)
            .into_iter()
            .find(|(_, l, _)| node_of(l) == "r01n01")
            .expect("r01n01's script")
    };
    // First with room: the whole config (r01n01 with thirteen interfaces).
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = build(tmp.path(), &site("", true)).expect("builds");
    let (_, _, text) = r01n01(&out);
    assert!(text.contains("full network config"), "{text}");
    let room = effective(&text).len();
    // Then with image arguments 40 bytes too long for it (the kernel
    // line holds 2047 bytes, less "kernel " iPXE puts before them for an
    // EFI kernel).
    let want = 2047 - "kernel ".len() - room + 40;
    let mut pad = String::from(" siteconf.pad=");
    pad.push_str(&"a".repeat(want - pad.len()));
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = build(tmp.path(), &site(&pad, true)).expect("builds");
    let (name, line, text) = r01n01(&out);
    let len = effective(&text).len();
    assert!(len + "kernel ".len() <= 2047, "{name}: {len} bytes");
    assert!(
        text.contains("management-only network config"),
        "{name}:\n{text}"
    );
    let (cfg, _) = decode(&line, None);
    let eths = ethernets(&cfg);
    assert_eq!(
        eths.len(),
        1,
        "{name}: only the management interface: {cfg}"
    );
    let eth = &eths["eno1"];
    assert_eq!(eth["match"]["macaddress"], "52:54:00:01:01:01");
    assert_eq!(eth["set-name"], "eno1");
    assert_eq!(eth["dhcp4"], false);
    assert_eq!(eth["addresses"], serde_json::json!(["10.0.0.101/24"]));
    assert_eq!(eth["routes"][0]["to"], "0.0.0.0/0");
    assert_eq!(eth["routes"][0]["via"], "10.0.0.1");
    assert_eq!(
        eth["nameservers"]["addresses"],
        serde_json::json!(["10.0.0.2"])
    );
    // The seed still has the whole config (a local seed reads it).
    let seed = std::fs::read_to_string(out.join("nodes/r01n01/cloud-init/network-config"))
        .expect("seed network-config");
    assert!(seed.contains("eno13"), "{seed}");
}
