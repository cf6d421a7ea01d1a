//! Benchmark: `siteconf state` on a 10,000-node fleet.
//!
//! Generates a site in memory (250 racks of 40 nodes, two ToRs per rack,
//! each node with two cabled uplinks, a management address, a loopback and
//! two BGP sessions) and, in a temporary directory, what such a fleet
//! reports: an Ansible fact cache entry and an LLDP dump per node, an LLDP
//! dump per switch, and a Kea lease file with a lease (and a renewal) per
//! node. About 1 % of the nodes drift (miscabled, replaced NIC, wrong
//! address), 0.5 % never answer, and 20 unknown machines sit on switch
//! ports, so the report has findings to render.
//!
//! Measured, median of 5 runs: the whole report (read and parse every
//! input, compare, render the text report with its diagnostics), given a
//! checked site; and, for reference, the site's own load + check.
//!
//! ```sh
//! cargo bench --bench state
//! STATE_BENCH_SPLIT=1 cargo bench --bench state   # also times each input alone
//! STATE_BENCH_HTML=fleet.html cargo bench --bench state   # and writes the HTML page
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use siteconf::check;
use siteconf::diag::ColorChoice;
use siteconf::source::MemSource;
use siteconf::state::{self, input, report};

const RACKS: usize = 250;
const PER_RACK: usize = 40;

fn mac(kind: u8, n: usize) -> String {
    format!(
        "52:54:{kind:02x}:{:02x}:{:02x}:{:02x}",
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

fn mgmt_ip(n: usize) -> String {
    // 10.0.0.0/18, hosts from 10.0.1.0 on.
    let h = n + 256;
    format!("10.0.{}.{}", h >> 8, h & 0xff)
}

fn lo_ip(n: usize) -> String {
    format!("10.255.{}.{}", n >> 8, n & 0xff)
}

fn rack(r: usize) -> String {
    format!("r{r:03}")
}

fn node(r: usize, i: usize) -> String {
    format!("r{r:03}n{:02}", i + 1)
}

fn site_text() -> String {
    let mut s = String::from(
        "site dc1 { domain \"dc1.example.net\"; asn-pool \"4200000000-4200099999\"; }\n\
network mgmt { purpose management; vlan 100; ipv4 \"10.0.0.0/18\"; gateway4 \"10.0.0.1\"; reserved \"10.0.0.1-10.0.0.255\"; }\n\
network loopbacks { purpose loopback; ipv4 \"10.255.0.0/16\"; reserved \"10.255.255.0-10.255.255.255\"; }\n\
profile compute { groups compute; }\n",
    );
    for r in 0..RACKS {
        let rk = rack(r);
        let _ = writeln!(s, "rack {rk} {{ height 42; }}");
        for t in 1..=2 {
            let _ = writeln!(
                s,
                "switch {rk}-tor{t} {{ rack {rk}; position {}; asn {}; loopback4 \"10.254.{}.{}\"; ports \"swp1-48\"; }}",
                43 - t,
                4_200_090_000 + r * 2 + t,
                r,
                t
            );
        }
        for i in 0..PER_RACK {
            let n = r * PER_RACK + i;
            let _ = writeln!(
                s,
                "node {name} {{ rack {rk}; position {pos}; role compute; profiles compute\n    interface eno1 {{ mac \"{m1}\"; switch {rk}-tor1; port swp{p}; mtu 9000; }}\n    interface eno2 {{ mac \"{m2}\"; switch {rk}-tor2; port swp{p}; mtu 9000; }}\n    address mgmt interface=eno1 ipv4=\"{ip}\"\n    loopback ipv4=\"{lo}\"\n    bgp asn={asn} {{ session {rk}-tor1 interface=eno1; session {rk}-tor2 interface=eno2; }}\n}}",
                name = node(r, i),
                pos = i + 1,
                m1 = mac(1, n),
                m2 = mac(2, n),
                p = i + 1,
                ip = mgmt_ip(n),
                lo = lo_ip(n),
                asn = 4_200_000_000 + n,
            );
        }
    }
    s
}

fn sw_neighbor(sw: &str, port: &str) -> String {
    format!(
        r#"{{"via": "LLDP", "rid": "1", "age": "0 day, 21:14:08", "chassis": {{"{sw}": {{"id": {{"type": "mac", "value": "0c:42:a1:00:00:01"}}, "descr": "Cumulus Linux version 5.9.1 running on Mellanox Technologies Ltd. MSN2410", "mgmt-ip": "10.254.0.1", "capability": [{{"type": "Bridge", "enabled": true}}, {{"type": "Router", "enabled": true}}]}}}}, "port": {{"id": {{"type": "ifname", "value": "{port}"}}, "descr": "{port}", "ttl": "120", "auto-negotiation": {{"supported": false, "enabled": false, "current": "25GbaseCR - 25GBASE-CR PHY"}}}}}}"#
    )
}

fn host_neighbor(sysname: &str, chassis: &str, port_mac: &str, ifname: &str) -> String {
    format!(
        r#"{{"via": "LLDP", "rid": "2", "age": "0 day, 21:13:52", "chassis": {{"{sysname}": {{"id": {{"type": "mac", "value": "{chassis}"}}, "descr": "Debian GNU/Linux 12 (bookworm) Linux 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64", "mgmt-ip": "fe80::5054:ff:fe00:1", "capability": [{{"type": "Bridge", "enabled": false}}, {{"type": "Router", "enabled": true}}]}}}}, "port": {{"id": {{"type": "mac", "value": "{port_mac}"}}, "descr": "{ifname}", "ttl": "120", "mfs": "9216"}}}}"#
    )
}

fn iface_fact(dev: &str, mac: &str, v4: Option<(&str, u8)>, ll: &str) -> String {
    let v4 = match v4 {
        Some((a, p)) => format!(
            r#""ipv4": {{"address": "{a}", "broadcast": "10.0.63.255", "netmask": "255.255.192.0", "network": "10.0.0.0", "prefix": "{p}"}}, "#
        ),
        None => String::new(),
    };
    format!(
        r#""ansible_{dev}": {{"active": true, "device": "{dev}", "features": {{"rx_checksumming": "on", "tx_checksumming": "on", "scatter_gather": "on", "tcp_segmentation_offload": "on", "generic_receive_offload": "on", "large_receive_offload": "off", "rx_vlan_offload": "on", "tx_vlan_offload": "on"}}, {v4}"ipv6": [{{"address": "{ll}", "prefix": "64", "scope": "link"}}], "macaddress": "{mac}", "module": "mlx5_core", "mtu": 9000, "pciid": "0000:3b:00.0", "promisc": false, "speed": 25000, "timestamping": [], "type": "ether"}}"#
    )
}

fn facts(name: &str, n: usize, eno1_mac: &str, ip: &str) -> String {
    let fqdn = format!("{name}.dc1.example.net");
    format!(
        r#"{{"ansible_all_ipv4_addresses": ["{ip}", "{lo}"], "ansible_all_ipv6_addresses": ["fe80::1"], "ansible_architecture": "x86_64", "ansible_bios_date": "03/12/2024", "ansible_bios_vendor": "Dell Inc.", "ansible_bios_version": "1.13.2", "ansible_date_time": {{"date": "2026-01-05", "epoch": "1767601234", "hour": "08", "iso8601": "2026-01-05T08:20:34Z", "tz": "UTC", "weekday": "Monday"}}, "ansible_default_ipv4": {{"address": "{ip}", "alias": "eno1", "gateway": "10.0.0.1", "interface": "eno1", "macaddress": "{eno1_mac}", "mtu": 9000, "netmask": "255.255.192.0", "network": "10.0.0.0", "prefix": "18", "type": "ether"}}, "ansible_distribution": "Debian", "ansible_distribution_major_version": "12", "ansible_distribution_release": "bookworm", "ansible_distribution_version": "12.5", "ansible_dns": {{"nameservers": ["10.0.0.2", "10.0.0.3"], "search": ["dc1.example.net"]}}, "ansible_domain": "dc1.example.net", {eno1}, {eno2}, "ansible_env": {{"HOME": "/root", "LANG": "C.UTF-8", "LOGNAME": "root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PWD": "/root", "SHELL": "/bin/bash", "USER": "root"}}, "ansible_fqdn": "{fqdn}", "ansible_hostname": "{name}", "ansible_interfaces": ["lo", "eno1", "eno2"], "ansible_kernel": "6.1.0-18-amd64", "ansible_lo": {{"active": true, "device": "lo", "ipv4": {{"address": "127.0.0.1", "netmask": "255.0.0.0", "prefix": "8"}}, "ipv4_secondaries": [{{"address": "{lo}", "netmask": "255.255.255.255", "prefix": "32"}}], "macaddress": "00:00:00:00:00:00", "mtu": 65536, "type": "loopback"}}, "ansible_lsb": {{"codename": "bookworm", "description": "Debian GNU/Linux 12 (bookworm)", "id": "Debian", "major_release": "12", "release": "12"}}, "ansible_machine_id": "{n:032x}", "ansible_memtotal_mb": 257672, "ansible_nodename": "{fqdn}", "ansible_os_family": "Debian", "ansible_processor_cores": 32, "ansible_processor_count": 2, "ansible_processor_vcpus": 128, "ansible_product_name": "PowerEdge R650", "ansible_product_serial": "SN{n:07}", "ansible_system_vendor": "Dell Inc.", "ansible_virtualization_role": "host", "discovered_interpreter_python": "/usr/bin/python3", "gather_subset": ["all"], "module_setup": true}}"#,
        lo = lo_ip(n),
        eno1 = iface_fact("eno1", eno1_mac, Some((ip, 18)), "fe80::5054:ff:fe00:1"),
        eno2 = iface_fact("eno2", &mac(2, n), None, "fe80::5054:ff:fe00:2"),
    )
}

/// Writes every observed input of the fleet under `dir`.
fn write_observed(dir: &Path) -> (usize, usize) {
    let (lldp, fdir) = (dir.join("lldp"), dir.join("facts"));
    std::fs::create_dir_all(&lldp).expect("mkdir");
    std::fs::create_dir_all(&fdir).expect("mkdir");
    let mut leases = String::from("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n");
    let mut bytes = 0;
    let mut files = 0;
    let mut write = |p: std::path::PathBuf, t: &str| {
        bytes += t.len();
        files += 1;
        std::fs::write(p, t).expect("write");
    };
    for r in 0..RACKS {
        let rk = rack(r);
        let mut tor = [Vec::new(), Vec::new()];
        for i in 0..PER_RACK {
            let n = r * PER_RACK + i;
            if n % 200 == 7 {
                continue; // never answers
            }
            let name = node(r, i);
            let fqdn = format!("{name}.dc1.example.net");
            // ~1 % drift: a replaced NIC, a cable one port off, a wrong address.
            let m1 = if n % 300 == 11 { mac(9, n) } else { mac(1, n) };
            let port = if n % 300 == 13 {
                format!("swp{}", 41 + i % 7)
            } else {
                format!("swp{}", i + 1)
            };
            let ip = if n % 300 == 17 {
                mgmt_ip(n + 5000)
            } else {
                mgmt_ip(n)
            };
            let dump = format!(
                "{{\"lldp\": {{\"interface\": [{{\"eno1\": {}}}, {{\"eno2\": {}}}]}}}}\n",
                sw_neighbor(&format!("{rk}-tor1"), &port),
                sw_neighbor(&format!("{rk}-tor2"), &format!("swp{}", i + 1))
            );
            write(lldp.join(format!("{name}.json")), &dump);
            write(fdir.join(&fqdn), &facts(&name, n, &m1, &ip));
            tor[0].push((port.clone(), host_neighbor(&fqdn, &m1, &m1, "eno1")));
            tor[1].push((
                format!("swp{}", i + 1),
                host_neighbor(&fqdn, &m1, &mac(2, n), "eno2"),
            ));
            let _ = writeln!(leases, "{ip},{m1},,3600,1767225600,1,0,0,{name},0,,0");
            let _ = writeln!(leases, "{ip},{m1},,3600,1767229200,1,0,0,{name},0,,0");
        }
        if r % 12 == 0 {
            // An unknown machine on a free port.
            let m = mac(0xaa, r);
            tor[0].push(("swp48".into(), host_neighbor("ubuntu", &m, &m, "enp1s0f0")));
            let _ = writeln!(
                leases,
                "10.0.60.{},{m},,3600,1767225600,1,0,0,ubuntu,0,,0",
                r % 250 + 1
            );
        }
        for (t, list) in tor.iter().enumerate() {
            let body: Vec<String> = list
                .iter()
                .map(|(p, nb)| format!("{{\"{p}\": {nb}}}"))
                .collect();
            write(
                lldp.join(format!("{rk}-tor{}.json", t + 1)),
                &format!("{{\"lldp\": {{\"interface\": [{}]}}}}\n", body.join(", ")),
            );
        }
    }
    write(dir.join("leases.csv"), &leases);
    (files, bytes)
}

/// CPU time of this process so far (user + system), from /proc: on a
/// shared machine wall time also counts other processes' turns.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the parenthesised command name come state, ppid, …: utime and
    // stime are the 12th and 13th of those, in clock ticks (100 per second
    // on Linux).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let t = Instant::now();
    let text = site_text();
    let src = MemSource::new().with("site/site.kdl", text.clone());
    let checked = check::check(&src);
    assert!(
        !checked.diags.has_errors(),
        "generated site has errors: {:?}",
        checked.diags.iter().take(3).collect::<Vec<_>>()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (files, bytes) = write_observed(dir.path());
    println!(
        "fleet: {} nodes, {} switches; site {} KiB; {} observed files, {:.1} MiB (generated in {:.1} s)",
        checked.loaded.site.nodes.len(),
        checked.loaded.site.switches.len(),
        text.len() / 1024,
        files,
        bytes as f64 / 1_048_576.0,
        t.elapsed().as_secs_f64()
    );
    let paths = input::InputPaths {
        lldp: Some(dir.path().join("lldp")),
        facts: Some(dir.path().join("facts")),
        leases: Some(dir.path().join("leases.csv")),
        bgp: None,
    };
    if std::env::var_os("STATE_BENCH_SPLIT").is_some() {
        for (what, p) in [
            (
                "lldp",
                input::InputPaths {
                    lldp: paths.lldp.clone(),
                    ..Default::default()
                },
            ),
            (
                "facts",
                input::InputPaths {
                    facts: paths.facts.clone(),
                    ..Default::default()
                },
            ),
            (
                "leases",
                input::InputPaths {
                    leases: paths.leases.clone(),
                    ..Default::default()
                },
            ),
        ] {
            for _ in 0..3 {
                let c0 = cpu_time();
                let t0 = Instant::now();
                std::hint::black_box(input::read(&p).expect("inputs"));
                println!(
                    "  {what}: {:.3} s wall, {:.3} s CPU",
                    t0.elapsed().as_secs_f64(),
                    (cpu_time() - c0).as_secs_f64()
                );
            }
        }
    }
    let mut whole = Vec::new();
    let mut cpu = Vec::new();
    let mut stages: [Vec<Duration>; 4] = Default::default();
    let mut stage_cpu: [Vec<Duration>; 4] = Default::default();
    let mut checks = Vec::new();
    let mut last = String::new();
    for _ in 0..5 {
        let c0 = cpu_time();
        let t0 = Instant::now();
        let observed = input::read(&paths).expect("inputs");
        let (t1, c1) = (Instant::now(), cpu_time());
        let eff = checked.effective();
        let (t2, c2) = (Instant::now(), cpu_time());
        let rep = state::run(&checked.loaded, &eff, &[], &observed);
        let (t3, c3) = (Instant::now(), cpu_time());
        let text = report::render_text(&rep, ColorChoice::Never);
        let (t4, c4) = (Instant::now(), cpu_time());
        cpu.push(c4.saturating_sub(c0));
        for (v, d) in stages.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
            v.push(d);
        }
        let cpus = [c1, c2, c3, c4].map(|c| c.saturating_sub(c0));
        for (i, v) in stage_cpu.iter_mut().enumerate() {
            v.push(cpus[i].saturating_sub(if i == 0 { Duration::ZERO } else { cpus[i - 1] }));
        }
        whole.push(t4 - t0);
        last = report::summary_line(&rep.summary()) + &format!(", {} findings", rep.findings.len());
        std::hint::black_box(text);
        let t5 = Instant::now();
        std::hint::black_box(check::check(&src));
        checks.push(t5.elapsed());
    }
    println!("report: {last}");
    println!(
        "state (read + parse + compare + text render): median {:.3} s wall, {:.3} s CPU (user+sys, both threads), of 5 runs",
        median(whole).as_secs_f64(),
        median(cpu).as_secs_f64()
    );
    for (what, v) in [("wall", stages), ("CPU", stage_cpu)] {
        let [a, b, c, d] = v.map(|v| median(v).as_secs_f64());
        println!(
            "  stages (median {what}): read + parse {a:.3} s, effective site {b:.3} s, compare {c:.3} s, text render {d:.3} s"
        );
    }
    println!(
        "site load + check, for reference: median {:.3} s of 5",
        median(checks).as_secs_f64()
    );
    if let Some(out) = std::env::var_os("STATE_BENCH_HTML") {
        let observed = input::read(&paths).expect("inputs");
        let rep = state::run(&checked.loaded, &checked.effective(), &[], &observed);
        let t = Instant::now();
        let page = siteconf::state::html::render(&rep).expect("html");
        println!(
            "html: {:.1} MiB in {:.3} s",
            page.len() as f64 / 1_048_576.0,
            t.elapsed().as_secs_f64()
        );
        std::fs::write(out, page).expect("write html");
    }
}
