//! The entities of the generated site, as emitter items: the site block,
//! networks, profiles, groups, external peers, and each rack with its
//! switches and nodes.

use super::*;

pub(super) fn site_items(plan: &Plan) -> Vec<Item> {
    vec![named(
        "site",
        SITE_NAME,
        vec![
            val("domain", DOMAIN),
            val("asn-pool", format!("{}-{}", ASN_POOL.0, ASN_POOL.1)),
            list("dns-servers", [plan.mgmt_host(2), plan.mgmt_host(3)]),
            list(
                "ntp-servers",
                [format!("ntp1.{DOMAIN}"), format!("ntp2.{DOMAIN}")],
            ),
            val("timezone", "Etc/UTC"),
            // Ansible logs in as `ansible` (its key is in profile `base`)
            // and may sudo (`automation-sudo` defaults to true).
            val("automation-user", "ansible"),
            // Every node gets a loopback and an ASN of its own: routing on
            // the host announces the loopback to both ToRs.
            block(
                "defaults",
                vec![
                    block("loopback", vec![prop("ipv4", "auto"), prop("ipv6", "auto")]),
                    block("bgp", vec![prop("asn", "auto")]),
                ],
            ),
        ],
    )]
}

pub(super) fn network_items(plan: &Plan) -> Vec<Item> {
    let lo_first = plan.switch_loopback4(1);
    let lo_last = plan.switch_loopback4(plan.loopback_reserved - 1);
    vec![
        comment("Management: PXE, DHCP, SSH and Ansible reach nodes here (eno3).\nThe first /24 is kept for the gateway, resolvers and virtual IPs.\n`vlan` is the VLAN of the management segment: the access (native) VLAN of\nthe ToR ports the eno3 NICs are cabled to, so eno3 carries it untagged, as\nPXE firmware sends it; the inventory hands each address its `vlan` for the\nswitch configuration. A node that carries it on a VLAN interface instead\n(`kind vlan; vlan 100`) must be given the same id."),
        named(
            "network",
            "mgmt",
            vec![
                val("purpose", "management"),
                val("vlan", MGMT_VLAN),
                val("ipv4", plan.mgmt4.to_string()),
                val("ipv6", format!("{MGMT6}/64")),
                val("gateway4", plan.mgmt_host(1)),
                val("gateway6", v6(MGMT6, 1)),
                list(
                    "reserved",
                    [
                        format!("{}-{}", plan.mgmt_host(1), plan.mgmt_host(255)),
                        format!("{}-{}", v6(MGMT6, 1), v6(MGMT6, 0xff)),
                    ],
                ),
                val("dhcp", true),
            ],
        ),
        comment("Storage: a VLAN on each compute and storage node's LACP bond, jumbo frames."),
        named(
            "network",
            "storage",
            vec![
                val("purpose", "storage"),
                val("vlan", STORAGE_VLAN),
                val("ipv4", plan.storage4.to_string()),
                val("ipv6", format!("{STORAGE6}/64")),
                val("mtu", 9000u32),
            ],
        ),
        comment("Loopbacks, announced in BGP. The first addresses belong to the switches\n(fixed in their declarations); `reserved` keeps node allocation off them."),
        named(
            "network",
            "loopback",
            vec![
                val("purpose", "loopback"),
                val("ipv4", plan.loopback4.to_string()),
                val("ipv6", format!("{LOOPBACK6}/64")),
                list(
                    "reserved",
                    [
                        format!("{lo_first}-{lo_last}"),
                        format!(
                            "{}-{}",
                            v6(LOOPBACK6, 1),
                            v6(LOOPBACK6, plan.loopback_reserved - 1)
                        ),
                    ],
                ),
            ],
        ),
    ]
}

pub(super) fn repo(name: &str, uri: &str, suites: &[&str], components: &[&str], key: &str) -> Item {
    named(
        "repo",
        name,
        vec![
            list("types", ["deb"]),
            list("uris", [uri]),
            list("suites", suites.iter().copied()),
            list("components", components.iter().copied()),
            val("signed-by", key),
        ],
    )
}

/// The site's own repository: built for amd64 only, signed with its own key.
pub(super) fn internal_repo() -> Item {
    named(
        "repo",
        "internal",
        vec![
            list("types", ["deb"]),
            list("uris", [format!("https://apt.{DOMAIN}/internal")]),
            list("suites", ["bookworm"]),
            list("components", ["main"]),
            val("signed-by", "/etc/apt/keyrings/internal.gpg"),
            list("architectures", ["amd64"]),
            val("enabled", true),
        ],
    )
}

pub(super) fn profile_items(plan: &Plan) -> Vec<Item> {
    let debian_key = "/usr/share/keyrings/debian-archive-keyring.gpg";
    let ops_key = |user: &str| {
        named(
            "ssh-key",
            user,
            vec![
                val("user", user),
                val("key", ssh_ed25519(user, &format!("{user}@ops.{DOMAIN}"))),
            ],
        )
    };
    vec![
        comment("Profiles: what nodes of a role share. A node lists its profiles; each\nprofile first applies the profiles it includes (see docs/site-format.md)."),
        named(
            "profile",
            "base",
            vec![
                list(
                    "packages",
                    ["chrony", "frr", "lldpd", "openssh-server", "python3", "sudo"],
                ),
                repo(
                    "debian",
                    "http://deb.debian.org/debian",
                    &["bookworm", "bookworm-updates"],
                    &["main", "non-free-firmware"],
                    debian_key,
                ),
                repo(
                    "debian-security",
                    "http://security.debian.org/debian-security",
                    &["bookworm-security"],
                    &["main", "non-free-firmware"],
                    debian_key,
                ),
                internal_repo(),
                ops_key("alice"),
                ops_key("bob"),
                named(
                    "ssh-key",
                    "ansible",
                    vec![
                        val("user", "ansible"),
                        val("key", ssh_ed25519("ansible", &format!("ansible@{DOMAIN}"))),
                        // Automation may only log in from the management network.
                        val("options", format!("from=\"{}\",no-agent-forwarding", plan.mgmt4)),
                    ],
                ),
                block(
                    "sshd",
                    vec![
                        val("permit-root-login", "prohibit-password"),
                        val("password-authentication", false),
                        val("kbd-interactive-authentication", false),
                        val("x11-forwarding", false),
                        val("max-auth-tries", 3u32),
                    ],
                ),
                named("interface", "eno1", vec![val("mtu", 9000u32)]),
                named("interface", "eno2", vec![val("mtu", 9000u32)]),
                named(
                    "address",
                    "mgmt",
                    vec![prop("interface", "eno3"), prop("ipv4", "auto")],
                ),
            ],
        ),
        named(
            "profile",
            "storage-net",
            vec![
                named("interface", "ens1f0", vec![val("mtu", 9000u32)]),
                named("interface", "ens1f1", vec![val("mtu", 9000u32)]),
                named(
                    "interface",
                    "bond0",
                    vec![
                        val("kind", "bond"),
                        list("members", ["ens1f0", "ens1f1"]),
                        val("mode", "802.3ad"),
                        val("mtu", 9000u32),
                    ],
                ),
                named(
                    "interface",
                    "storage0",
                    vec![
                        val("kind", "vlan"),
                        val("link", "bond0"),
                        val("vlan", STORAGE_VLAN),
                        val("mtu", 9000u32),
                    ],
                ),
                named(
                    "address",
                    "storage",
                    vec![
                        prop("interface", "storage0"),
                        prop("ipv4", "auto"),
                        prop("ipv6", "auto"),
                    ],
                ),
            ],
        ),
        named(
            "profile",
            "control",
            vec![
                list("include", ["base"]),
                list("groups", ["control"]),
                list("packages", ["haproxy", "keepalived", "mariadb-server", "rabbitmq-server"]),
                block(
                    "vars",
                    vec![
                        val("keepalived_vip", plan.mgmt_host(10)),
                        val("keepalived_router_id", 51u32),
                    ],
                ),
            ],
        ),
        named(
            "profile",
            "compute",
            vec![
                list("include", ["base", "storage-net"]),
                list("groups", ["compute"]),
                list("packages", ["qemu-system-x86", "libvirt-daemon-system"]),
                block(
                    "vars",
                    vec![block(
                        "nova",
                        vec![
                            val("cpu_allocation_ratio", emit::Val::Float(4.0)),
                            val("ram_allocation_ratio", emit::Val::Float(1.0)),
                            val("reserved_host_memory_mb", 8192u32),
                        ],
                    )],
                ),
            ],
        ),
        named(
            "profile",
            "storage",
            vec![
                list("include", ["base", "storage-net"]),
                list("groups", ["storage"]),
                list("packages", ["ceph-osd", "smartmontools"]),
                block(
                    "vars",
                    vec![block(
                        "ceph",
                        vec![
                            val("osd_memory_target", 4_294_967_296i64),
                            val("public_network", plan.storage4.to_string()),
                        ],
                    )],
                ),
            ],
        ),
    ]
}

pub(super) fn group_items() -> Vec<Item> {
    vec![
        comment("Ansible groups. Nodes join them through `groups` in their profiles; every\nnode is also in `role_<role>`."),
        named(
            "group",
            "fleet",
            vec![
                list("children", ["control", "compute", "storage"]),
                block(
                    "vars",
                    vec![
                        val("ansible_user", "ansible"),
                        val("openstack_release", "2024.1"),
                    ],
                ),
            ],
        ),
        named(
            "group",
            "control",
            vec![block("vars", vec![val("openstack_api_workers", 8u32)])],
        ),
        named(
            "group",
            "compute",
            vec![block("vars", vec![val("nova_virt_type", "kvm")])],
        ),
        named(
            "group",
            "storage",
            vec![block("vars", vec![val("ceph_osd_objectstore", "bluestore")])],
        ),
    ]
}

pub(super) fn peer_items(plan: &Plan) -> Vec<Item> {
    let tors = [plan.switch_name(0, 1), plan.switch_name(0, 2)];
    let peer = |name: &str, asn: u32, address: &str, description: &str| {
        named(
            "bgp-peer",
            name,
            vec![
                val("asn", asn),
                val("address", address),
                block("password", vec![prop("secret", format!("bgp/{name}"))]),
                list("switches", tors.iter().map(String::as_str)),
                val("description", description),
            ],
        )
    };
    vec![
        comment("External BGP peers, held by the first rack's ToR switches on their transit\nLAN port (swp51, with an address on each peer's subnet). Passwords are\nsecret references, resolved at build time and never written to git."),
        peer("transit-a", 64496, "192.0.2.1", "Transit provider A (IPv4)"),
        peer("transit-b", 64497, "2001:db8:ffff::1", "Transit provider B (IPv6)"),
    ]
}

/// The first rack's ToR port towards the external peers.
pub(super) const TRANSIT_PORT: &str = "swp51";

/// Port plan of every ToR (see the comment written into each rack file).
pub(super) const PORT_NOTE: &str =
    "Port plan of both ToRs: swp1-40 node uplinks (eno1 on tor1, eno2 on tor2);\n\
swp49 links to the same plane in the next rack, swp50 to the previous one;\n\
swp55-56 the MLAG peer link between tor1 and tor2; swp57-96 storage bond\n\
members (ens1f0 on tor1, ens1f1 on tor2); on tor1, swp97-136 management NICs (eno3).\n\
In the first rack, swp51 is the transit LAN: the external BGP peers' subnets.";

pub(super) fn rack_items(plan: &Plan, r: u32, roles: &[Role], index: &mut u32) -> Vec<Item> {
    let rack = plan.rack_name(r);
    // 16 racks to a row, 20 rows to a hall.
    let (hall, row, pos) = (r / 320 + 1, (r / 16) % 20, r % 16 + 1);
    let mut items = vec![
        comment(PORT_NOTE),
        named(
            "rack",
            &rack,
            vec![
                val("room", format!("hall-{hall}")),
                val("row", ((b'A' + row as u8) as char).to_string()),
                val("position", pos),
                val("height", RACK_HEIGHT),
            ],
        ),
    ];
    for plane in 1..=2u32 {
        let me = plan.switch_name(r, plane);
        let k = 2 * r + plane;
        let mut ports = vec!["swp1-48", "swp49-56", "swp57-96"];
        if plane == 1 {
            ports.push("swp97-136");
        }
        let mut body = vec![
            val("rack", rack.as_str()),
            val("position", RACK_HEIGHT + 1 - plane),
            val("model", "NVIDIA SN4700"),
            val("role", "tor"),
            val("asn", SWITCH_ASN_BASE + (r + 1) * 10 + plane),
            val("loopback4", plan.switch_loopback4(k)),
            val("loopback6", v6(LOOPBACK6, k)),
            list("ports", ports),
        ];
        let link = |port: &str, peer: String, peer_port: &str| {
            named(
                "link",
                port,
                vec![val("peer", peer), val("peer-port", peer_port)],
            )
        };
        if r + 1 < plan.racks {
            body.push(link("swp49", plan.switch_name(r + 1, plane), "swp50"));
        }
        if r > 0 {
            body.push(link("swp50", plan.switch_name(r - 1, plane), "swp49"));
        }
        let other = plan.switch_name(r, 3 - plane);
        body.push(link("swp55", other.clone(), "swp55"));
        body.push(link("swp56", other, "swp56"));
        if r == 0 {
            // The external peers (see `peer_items`) are single-hop: each
            // ToR holding them has an address on their subnets.
            body.push(named(
                "interface",
                TRANSIT_PORT,
                vec![list(
                    "address",
                    [
                        format!("192.0.2.{}/29", 1 + plane),
                        format!("2001:db8:ffff::{}/64", 1 + plane),
                    ],
                )],
            ));
        }
        items.push(named("switch", &me, body));
    }
    let (tor1, tor2) = (plan.switch_name(r, 1), plan.switch_name(r, 2));
    let mut unit = 1;
    for (i, role) in roles.iter().enumerate() {
        let slot = i as u32 + 1;
        let name = format!("{rack}n{slot:02}");
        let nic = |ifname: &str, port_no: u32, switch: &str, port: String| {
            named(
                "interface",
                ifname,
                vec![
                    val("mac", mac(r + 1, slot, port_no)),
                    val("switch", switch),
                    val("port", port),
                ],
            )
        };
        let mut body = vec![val("rack", rack.as_str()), val("position", unit)];
        if role.height() != 1 {
            body.push(val("height", role.height()));
        }
        body.extend([
            val("model", role.model()),
            val("serial", serial(&name, *index)),
            val("role", role.name()),
            list("profiles", [role.name()]),
            nic("eno1", 1, &tor1, format!("swp{slot}")),
            nic("eno2", 2, &tor2, format!("swp{slot}")),
            nic("eno3", 3, &tor1, format!("swp{}", 96 + slot)),
        ]);
        if role.on_storage_net() {
            body.push(nic("ens1f0", 4, &tor1, format!("swp{}", 56 + slot)));
            body.push(nic("ens1f1", 5, &tor2, format!("swp{}", 56 + slot)));
        }
        body.push(block(
            "bgp",
            vec![
                named("session", &tor1, vec![prop("interface", "eno1")]),
                named("session", &tor2, vec![prop("interface", "eno2")]),
            ],
        ));
        items.push(named("node", &name, body));
        unit += role.height();
        *index += 1;
    }
    items
}
