//! The registry of diagnostic codes: one line per code, never renumbered.
//!
//! A code is stable once released: tools and CI scripts match on it. The
//! docs page `docs/diagnostics.md` is generated from this table (see
//! `siteconf codes --markdown`), and a test fails when it is stale.

use super::Severity;

/// What the registry knows of one code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    /// The stable `SCnnnn` text.
    pub id: &'static str,
    /// A short kebab-case name.
    pub name: &'static str,
    pub severity: Severity,
    /// What it catches and why it matters.
    pub doc: &'static str,
}

macro_rules! codes {
    ($($variant:ident $id:literal $name:literal $sev:ident $doc:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        pub static ALL_CODES: &[CodeInfo] = &[
            $(CodeInfo { code: Code::$variant, id: $id, name: $name, severity: Severity::$sev, doc: $doc },)*
        ];

        impl Code {
            pub fn info(self) -> &'static CodeInfo {
                &ALL_CODES[self as usize]
            }
        }
    };
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.info().id
    }
    pub fn name(self) -> &'static str {
        self.info().name
    }
    pub fn default_severity(self) -> Severity {
        self.info().severity
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    // --- reading and syntax ---------------------------------------------
    Syntax "SC0001" "syntax-error" Error
        "A site file is not valid KDL or TOML. The parser's own message is shown at the exact place; nothing else in that file is checked until it parses. A TOML table declared twice (`[node.r01n02]` pasted again) is one finding at the second header, not one per key repeated under it.";
    UnknownEntity "SC0002" "unknown-entity" Error
        "A top-level entry is not one of the site's entities (site, network, rack, switch, node, bgp-peer, profile, group). Usually a typo: the hint names the closest entity.";
    UnknownField "SC0003" "unknown-field" Error
        "A field that the entity does not have. Silently ignoring it would hide a typo such as `postion`, so it is an error; the hint names the closest field.";
    WrongType "SC0004" "wrong-type" Error
        "A field has a value of the wrong kind (a string where a number is expected, a list where one value is expected, a block where a value is expected).";
    MissingField "SC0005" "missing-field" Error
        "A required field is absent, e.g. a node without `rack` or a network without any prefix.";
    DuplicateField "SC0006" "duplicate-field" Error
        "A field given twice in one block. Which one should win is not obvious to a reader, so both places are shown. This includes an `sshd` keyword given twice in one `sshd` block, in either spelling (`permit-root-login` and `PermitRootLogin` are one keyword to sshd): only one of the values would reach the drop-in.";
    InvalidValue "SC0007" "invalid-value" Error
        "A value that is not valid for its field: out of range, not one of the allowed words, a malformed range.";
    ProjectConfig "SC0008" "project-config" Error
        "siteconf.toml or another project file could not be read or is invalid: also site names that are not letters, digits, `-` and `_`, or that differ only in case (their output directories `out/<site>/` are one directory on a case-insensitive file system), and site directories that contain one another. A site of several whose directory holds no site files (renamed or moved: `mv sites/fra sites/frankfurt`) is one finding at its `dir` in siteconf.toml, naming the directory beside it that holds site files no site reads (did you mean `sites/frankfurt`?); that site is left out, so the other sites still check, and build with `--site`. `--site NAME` in another letter case than a site's name suggests the name.";
    ProjectNotFound "SC0009" "project-not-found" Error
        "There is no project to read: the directory given with `-C` does not exist, is not a directory, or holds neither siteconf.toml nor a `site/` directory (`-C` names the project directory itself, no parent is searched); or, without `-C`, no siteconf.toml is in the current directory or any above it and there is no `site/` here. The message names every directory looked in. The command stops with exit 2.";
    // --- files (warnings) --------------------------------------------------
    IgnoredFile "SC0070" "ignored-file" Warning
        "A file under the site directory that siteconf does not read: its extension is neither `.kdl` nor `.toml` (`r05.kld`, `nodes.yaml`). Whatever it declares is not part of the site. Hidden files and `*.md` notes are not reported.";
    SiteFileOutside "SC0071" "site-file-outside" Warning
        "A `.kdl` or `.toml` file outside the site directory (at the project root, or directly in another top-level directory) that declares site entities (nodes, switches, racks, networks…): it is not read, so what it declares is missing from the site.";
    // --- logins and packages as the consumer sees them (SC0072–SC0079) --------------------
    SshdAuthMethodDisabled "SC0072" "sshd-auth-method-disabled" Error
        "An `sshd` `authentication-methods` names a method that the effective settings of the node turn off (`publickey,password` with `password-authentication no`; keyboard-interactive is off unless enabled, as in Debian's sshd_config; hostbased and gssapi-with-mic are off by default). When no list can be satisfied, `sshd -t` fails (\"AuthenticationMethods cannot be satisfied by enabled authentication methods\") and sshd does not start after its restart at first boot; a list naming a disabled method can never succeed.";
    SshdListenAddressAbsent "SC0073" "sshd-listen-address-absent" Error
        "An `sshd` `listen-address` that is not one of the node's addresses (its addresses on the networks and its loopback; `0.0.0.0`, `::` and loopback addresses are always there). `sshd -t` accepts it, but the real sshd stops with \"Cannot assign requested address … Cannot bind any address\": the node has no SSH.";
    SshdListenMissesAnsibleHost "SC0069" "sshd-listen-misses-ansible-host" Error
        "An `sshd` `listen-address` none of whose addresses accepts connections to the node's `ansible_host` — the address hosts.yml gives Ansible: the management address (IPv4, else IPv6), else the loopback. Accepting means the address itself (with or without a port) or the wildcard of its family: `0.0.0.0` for IPv4, `::` for IPv6 only, since sshd sets IPV6_V6ONLY on its IPv6 sockets (`[::]:2222` alone leaves no IPv4 listener). `listen-address \"127.0.0.1\" \"::1\"`, or a node listening only on its BGP loopback, passes `sshd -t` and starts, but Ansible, and anyone on the management network, is refused on every node it reaches. Likewise `address-family inet6` (or `inet`) when `ansible_host` is of the other family: sshd opens no socket of that family. Not judged when a value is a host name or the node's own `vars` set `ansible_host`.";
    SshdNoLoginMethod "SC0074" "sshd-no-login-method" Error
        "The effective `sshd` settings of a node turn off public-key, password and keyboard-interactive authentication alike (`pubkey-authentication no` where the others are already off). sshd starts, but every login is refused (\"Permission denied ()\"): nobody, automation included, can reach the node. Likewise `max-auth-tries 0` (\"Too many authentication failures\" at the first key) and `max-sessions 0` (the key is accepted, then \"no more sessions\").";
    SshdHostKeyAbsent "SC0066" "sshd-host-key-absent" Warning
        "An `sshd` `host-key` naming a file Debian 12 does not create (it creates /etc/ssh/ssh_host_rsa_key, ssh_host_ecdsa_key and ssh_host_ed25519_key) and siteconf does not deploy (`/etc/ssh/ssh_host_dsa_key`). Once the drop-in names a host key, sshd loads only the keys named: it logs \"Unable to load host key\" for a missing one, and with none left stops with \"no hostkeys available -- exiting\" at its restart at first boot, leaving the node without SSH. A warning, since an image may bring the key.";
    SshdSessionForced "SC0067" "sshd-session-forced" Warning
        "An `sshd` `force-command` or `chroot-directory` (other than `none`) in the drop-in, outside any Match: it applies to every user, the automation user included. Its key is accepted, then every session runs the forced command or fails to enter the chroot (\"safely_chroot: stat … No such file\"), so Ansible's modules never run on the node.";
    AnsiblePortDiffers "SC0068" "ansible-port-differs" Warning
        "`ansible_port` (or its old spelling `ansible_ssh_port`) set in `vars` (of a node, a profile, the site defaults or a group) differs from the port the node's `sshd` settings make sshd listen on (the port of the first `listen-address` when it has one, else the first `port`; for a node whose `sshd` names no port, sshd's default 22 — an image that moves sshd should say so in `sshd`). siteconf writes `ansible_port` into hosts.yml from the sshd settings only when no `vars` set either, so Ansible connects to the port of the vars and is refused. Where both are set, `ansible_ssh_port` is judged, at whatever level: Ansible's ssh connection reads `ansible_port`, then `ansible_ssh_port`, and keeps the last defined.";
    SshKeyExpired "SC0075" "ssh-key-expired" Warning
        "An `ssh-key`'s `expiry-time=` option lies in the past: sshd refuses the key (\"entry expired\"). When the key is the automation user's, the error is SC0914.";
    RepoConflictingOptions "SC0076" "repo-conflicting-options" Error
        "Two repos of one node name the same repository (the same URI and suite) with different `signed-by`. apt refuses the whole source list (\"Conflicting values set for option Signed-By … The list of sources could not be read\"): no package installs on the node, FRR included. Declare the repository once, or give both the same keyring.";
    RepoUriDists "SC0077" "repo-uri-dists" Warning
        "A repo URI ending in `/dists/<suite>` (or `/dists`): apt appends `dists/<suite>/` to the URI itself, so it looks for `…/dists/bookworm/dists/bookworm/Release` and the repository fails with 404. The URI is the archive's root (`http://deb.debian.org/debian`).";
    RepoUnknownSuite "SC0078" "repo-unknown-suite" Warning
        "A suite of a repo on a Debian or Ubuntu mirror that reads as a misspelt release codename (data/distro-info-0.58-codenames.txt) or suite name (`stable`, `testing`, `experimental`…): its base, before the first `-` or `/`, is none of them but within two edits of one (`bookwrom`, one edit for a base of five letters or fewer): apt finds no Release file and the update fails. A known base takes any suffix (`noble-infra-security`, `jammy-updates/caracal`, `bookworm-debug`, a private `noble-internal`), and a suite far from every codename is taken as the repository's own. The hint names the closest codename. Also the old name of the security suite, `<codename>/updates`, for a Debian release from bullseye on (`bookworm/updates`): since Debian 11 the security archive's suite is `<codename>-security` (the release notes' \"Changed security archive layout\"), there is no `dists/bookworm/updates/Release`, and the nodes get no security updates.";
    DomainNotDns "SC0079" "domain-not-dns" Warning
        "The site `domain` is a single label (`dc1`) or ends in `.local`. A single label makes the domain a top-level domain: only the site's own DNS servers know it, any other resolver asks the root servers and gets NXDOMAIN, and a public TLD of that name may be delegated later (a name collision). `.local` is multicast DNS (RFC 6762): systemd-resolved sends `.local` names only to mDNS, and nss-mdns (`mdns4_minimal [NOTFOUND=return]`) answers \"not found\" without asking DNS, so the nodes' FQDNs in the zones and the inventory do not resolve. Use a name under a domain you own (`dc1.example.net`).";
    DnsServerPublicResolver "SC0038" "dns-server-public-resolver" Warning
        "A site `dns-servers` entry that is a well-known public recursive resolver: the published service addresses, IPv4 and IPv6, of Google (8.8.8.8), Cloudflare (1.1.1.1, and its families service), Quad9 (9.9.9.9, and its variants), OpenDNS, AdGuard, CleanBrowsing and Yandex (the list is data, `data/public-dns-resolvers.txt`, naming each service's page). The list is the nodes' resolvers (netplan, Kea) and the name servers of the zones siteconf builds (their NS records and glue): a public resolver serves neither the site's forward zone nor its reverse zones, so nodes that ask it get NXDOMAIN for the site's own names — its hosts, and NTP servers or repositories named under the site's domain — and the zones name a server that never loads them.";
    RepoMixedReleases "SC0039" "repo-mixed-releases" Warning
        "A node's enabled repos on Debian or Ubuntu archives name suites of two release codenames (`bookworm` and `bullseye-security`, or Debian `bookworm` and Ubuntu `jammy`): apt takes every repository as one pool, so packages built for one release are installed beside the other's libraries (a \"FrankenDebian\"), and a `-security` suite of an older release never supplies an update (its versions are older), while the node looks covered. Moving names (`stable`, `testing`) and a repository's own suite names are not judged; a node that names `sid` or `experimental` is not judged.";
    PackageConflict "SC0084" "package-conflict" Error
        "Two entries of a node's `packages` (site defaults, profiles and the node merged) that provide one of Debian's exclusive virtual packages, of which only one provider can be installed (each provider conflicts with it, Debian Policy 7.6.2): `chrony` and `ntpsec` or `ntp` (`time-daemon`), `postfix` and `exim4-daemon-light` (`mail-transport-agent`), `rsyslog` and `syslog-ng-core` (`system-log-daemon`). The list is data/debian-bookworm-exclusive-virtuals.txt, from the bookworm archive. cloud-init installs the node's packages with one `apt-get install`, which refuses the pair (\"Unable to correct problems\"): the node comes up without any of its packages, FRR and lldpd included.";
    // --- variables for Ansible (warnings) -------------------------------------
    AnsibleReservedVar "SC0080" "ansible-reserved-var" Warning
        "A variable in `vars` (of the site defaults, a profile, a node, a switch or a group) named like an Ansible play keyword or templating name (`tags`, `port`, `name`, `environment`, `vars` …; the list is ansible-core 2.19's own). It goes to host_vars/group_vars as written, Ansible warns \"Found variable using reserved name\" on every run, and a play does not reliably see it. Rename it (`app_port`).";
    InventoryVarName "SC0081" "inventory-var-name" Warning
        "A variable in `vars` (of the site defaults, a profile, a node, a switch or a group) that the inventory cannot carry as written: a name Ansible refuses as a variable name (`my-var`, `with space`, `1st`, `true`; letters, digits and `_`, not starting with a digit), or the name of siteconf's own facts (`siteconf_node`, `siteconf_switch`, `siteconf_site`). The inventory leaves the first kind out, and the facts' own owner too (a node's `siteconf_node`); elsewhere a facts name shadows siteconf's facts or is shadowed by them. Either way a play does not see what `vars` says. Rename it.";
    AnsibleHostVar "SC0082" "ansible-host-var" Warning
        "`ansible_host` (or its old spelling `ansible_ssh_host`) in `vars`: siteconf writes each host's `ansible_host` into hosts.yml (a node's management address, a switch's loopback). In the vars of a node, a profile, the site defaults or a switch it goes to host_vars, which outrank hosts.yml, so Ansible connects to that address instead (every node of a profile or of the site to one machine); in a group's vars it applies only to hosts without an address. Plays meant for one host run on another.";
    // --- authorized_keys `from=` (SC0085) ---------------------------------------
    AutomationKeyFromNowhere "SC0085" "automation-key-from-nowhere" Warning
        "On a node, every `ssh-key` of the automation user has a `from=\"…\"` of only addresses and CIDR blocks, none of which overlaps a network the site (or another site of the project) declares (for instance `10.0.0.0/16` after the management network was renumbered to `10.8.0.0/16`). Unless the automation host sits on a network no site declares (an office bastion), sshd refuses each key from every address it could come from, so Ansible is locked out of the node while the build and the gate look fine. One usable key of the automation user on the node (no `from=`, or one that overlaps a site network) is enough: an extra key for a machine outside the site (a CI runner) is no finding. Other users' `from=` lists are not judged: people log in from outside the site (an office VPN) as a rule. Put the current management prefix (or the automation host's network) in the list. A warning, not an error, for the bastion's sake (declare the bastion's network in the site, `purpose other`, and the warning goes): `check --deny warnings` (what CI runs) stops on it. A host name in the list (`localhost`, `bastion.corp.example`) lets nothing in unless the node's sshd resolves names (`use-dns yes`; OpenSSH and Debian default to `no`, and sshd then compares the list with the client's address); a list holding a wildcard pattern (`10.0.*`), or a host name under `use-dns yes`, is not judged.";
    // --- a private key in a site file (SC0086) ------------------------------------
    PrivateKeyInSite "SC0086" "private-key-in-site" Error
        "A private key in a site file, wherever it is (a repo's `signed-by`, an `ssh-key`'s `key`, a variable, a description, a comment, or pasted bare into a file that does not parse): an armoured block `-----BEGIN … PRIVATE KEY-----` (OpenSSH, PEM, PKCS#8, `PGP PRIVATE KEY BLOCK`) or a PuTTY `.ppk` file (`PuTTY-User-Key-File-N:`). Site files are committed, reviewed and shown in CI logs, so the key is compromised: remove it, rotate it (the old one stays in git history and in every clone), and give the public half instead (`gpg --armor --export KEYID` for `signed-by`, the `.pub` line for an SSH key). siteconf masks the key's body in every snippet and message it prints (`check` in every format, `explain`, `diff`); only its first line is shown. The rules that judge a `signed-by` or an SSH key (SC0043, SC0018) leave such a value to this code.";
    // --- the inventory: connection variables and host patterns (SC0087–SC0088) ---
    AnsibleConnectionVar "SC0087" "ansible-connection-var" Warning
        "A connection variable in `vars` (of the site defaults, a profile, a node, a switch or a group) that takes plays off the hosts or off root: `ansible_connection` other than an SSH connection (`local`: every play for those hosts runs on the Ansible controller, a `reboot` included, and the hosts are never touched), or `ansible_become` (`ansible_sudo`) false, which outranks a play's `become: true` (inventory variables outrank play keywords), so every task that needs root fails. A Jinja value is not judged. `ansible_connection local` in a node's own `vars` (or a profile only that node uses) is accepted: the deploy host managing itself (kolla-ansible's pattern); it is reported where it reaches several nodes. Like SC0082 (`ansible_host`) and SC0912 (`ansible_user`); a wrong `ansible_port` is SC0068.";
    GroupNamedLikeHost "SC0088" "group-named-like-host" Error
        "A group (in `groups`, a `group` block or its `children`) whose inventory name is the name of a node or a switch of the site (`groups compute r01n05`). The inventory's hosts are FQDNs, so the short name in a host pattern matches only the group: `ansible r01n05 --list-hosts` lists every host of the group, and `--limit r01n05` or `ansible r01n05 -m reboot`, meant for one machine, runs on all of them. ansible-inventory accepts it silently. Rename the group.";
    SshKeySharedByUsers "SC0089" "ssh-key-shared-by-users" Warning
        "An `ssh-key` whose public key (type and body; the comment does not count) is the key of an `ssh-key` of another user while its comment names its own user as the holder (`alice`'s key pasted as `bob`'s, the comment edited to `bob@…` or `Bob Smith <bob@example.com>`). Whoever holds the private half logs in as both users, and the user the entry was meant for cannot log in: their own key is not there (when it is, in another entry, the pasted one only lets the other user in). The finding names the other key and user. Give each user their own public key. A person's key given to another account whose comment names no one else (alice's key for `ops`, `root` or the automation user; one break-glass key on two accounts) is a deliberate grant and is not reported, nor is a `cert-authority` key.";
    // --- the templates directory (SC0083) ------------------------------------------------------
    TemplateUnused "SC0083" "template-unused" Warning
        "A file in the project's templates directory that no build renders: not ending in `.j2` (ignored), outside `node/`, `switch/` and `site/` (`nodes/hostname.j2`, `hosts.j2`), a `site/` template that is not one of the fixed site-wide templates (`site/notes.txt.j2`, `site/{repo}.j2`: site-wide files are a fixed set, only `node/` and `switch/` templates add files), or a netplan file not ending in `.yaml` (`50-siteconf.yml.j2`: netplan reads only `/etc/netplan/*.yaml`, so the file is written and never read). The override or addition meant has no effect, silently. The finding names the closest known template where there is one. Partials (a name starting with `_`) and `README`/`.md` files are not findings.";
    // --- values ------------------------------------------------------------
    InvalidMac "SC0010" "invalid-mac" Error
        "A MAC address that is not six hex octets separated by `:`, or that is a multicast or all-zero address, which no NIC has.";
    InvalidIp "SC0011" "invalid-ip" Error
        "An IP address that does not parse, or of the wrong family for its field (an IPv6 address in `ipv4`).";
    InvalidPrefix "SC0012" "invalid-prefix" Error
        "A network prefix that does not parse, or has host bits set (`10.0.0.1/24` where `10.0.0.0/24` is meant).";
    InvalidVlan "SC0013" "invalid-vlan" Error
        "A VLAN id outside 1–4094.";
    InvalidAsn "SC0014" "invalid-asn" Error
        "An AS number outside 1–4294967295, or an ASN pool whose start is after its end.";
    InvalidMtu "SC0015" "invalid-mtu" Error
        "An MTU outside 576–9216 (IPv4 minimum to the largest jumbo frame switches accept).";
    InvalidHostname "SC0016" "invalid-hostname" Error
        "A name used as a host name or DNS label that is not 1–63 letters, digits and hyphens, starting and ending with a letter or digit. A name with white space (a TOML key `\"r01n02 \"`) is one of them: it is reported once, with what is wrong with it, and siteconf.lock's lines for the name meant are not called damaged on top.";
    InvalidFqdn "SC0017" "invalid-fqdn" Error
        "A domain or fully qualified name longer than 253 characters or with an invalid label, or a site `domain` written with a trailing (root) dot, which only the DNS zone would strip. Also a name the output would hold that is too long with the domain: the zone's `<node>.<network>`, `<node>.lo`, `hostmaster` and `nsN` names (253 characters at most, or `named` refuses the whole zone), and the inventory's `host_vars/<fqdn>.yml` file name (255 bytes at most, or `build` cannot write it).";
    InvalidSshKey "SC0018" "invalid-ssh-key" Error
        "An SSH public key that is not `TYPE BASE64 [comment]` with a known key type and a base64 body whose embedded type matches; an `ssh-rsa` key of fewer than 1024 bits, which OpenSSH refuses; two keys pasted into one `key` string, where the second would be read as the first one's comment and never authorized; or a line break inside the key, which would split its authorized_keys line (a line break at its end, as `cat id.pub` pastes it, is dropped when the key is written).";
    InvalidRepoUrl "SC0019" "invalid-repo-url" Error
        "A package repository URI that is not an absolute http, https or file URL.";
    InvalidRackUnit "SC0020" "invalid-rack-unit" Error
        "A rack position or height that is zero or larger than any rack (60U).";
    // values handed to a consumer (sshd, apt, cloud-init, the kernel): checked against what it accepts
    SshdUnknownKeyword "SC0040" "sshd-unknown-keyword" Error
        "An `sshd` keyword that OpenSSH 9.2p1's sshd does not know (`permit-root-logon`), or one a drop-in must not carry (`match`, `include`). sshd refuses to start with it, and every node of the profile loses SSH at its next restart. The keyword list is data/openssh-9.2p1-sshd-keywords.txt.";
    SshdInvalidValue "SC0041" "sshd-invalid-value" Error
        "An `sshd` value that sshd refuses for its keyword: not one of the allowed words (`permit-root-login maybe`), not an integer or time, several words where one is expected (`listen-address`, `host-key`, `host-certificate` and `port` take several values, each written on a line of its own), empty, an unclosed quote, or a line break (which would inject configuration); and an `authorized-keys-command` (or `authorized-principals-command`) in effect on a node without its `…-command-user`, which sshd refuses to start with; a `max-startups` that is not `start` or `start:rate:full` within sshd's bounds (`0`: \"Invalid MaxStartups spec\"); a `subsystem sftp`, which Debian's sshd_config defines after the drop-in (\"Subsystem 'sftp' already defined\"); a `listen-address` of the family `address-family` excludes (`inet6` with `0.0.0.0`: \"bad addr or host … Address family for hostname not supported\"). In the algorithm lists (Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms, PubkeyAcceptedAlgorithms, HostbasedAcceptedAlgorithms, CASignatureAlgorithms, GSSAPIKexAlgorithms), a name OpenSSH 9.2p1 does not know (\"Bad SSH2 cipher spec\"); after `-` too, where sshd would silently remove nothing. The names are data/openssh-9.2p1-algorithms.txt.";
    AuthorizedKeysOption "SC0042" "authorized-keys-option" Error
        "An `ssh-key … options` string that sshd cannot parse as authorized_keys options (sshd(8) AUTHORIZED_KEYS FILE FORMAT of OpenSSH 9.2p1): an unknown option (`no-agent-forwading`), a value on an option that takes none, no value where one is needed, or bad quoting. sshd then rejects the key line and its user is locked out. Also a `from=\"…\"` list sshd cannot use: a CIDR block with host bits set (`10.0.0.1/16`: \"invalid from criteria\", the key is refused from everywhere) or an entry after a comma and a space (`192.168.0.0/24, 10.0.0.0/16`), which sshd reads as a host name pattern that never matches.";
    RepoSignedBy "SC0043" "repo-signed-by" Error
        "A repo's `signed-by` that apt does not accept: a relative path (`internal.gpg`), a keyring that is not `.gpg`/`.asc`, or something that is neither an absolute path, OpenPGP fingerprints nor an armoured key. apt refuses the whole source list.";
    InvalidTimezone "SC0044" "invalid-timezone" Error
        "The site `timezone` is not a zone name of tzdata (`Europe/Berln`); cloud-init fails to set it. The list is data/tzdata-2025b-zones.txt.";
    InvalidInterfaceName "SC0045" "invalid-interface-name" Error
        "An interface or switch port name the Linux kernel refuses (dev_valid_name: 1-15 bytes, not `.` or `..`, no `/`, `:` or white space), or one outside the letters, digits, `-`, `_` and `.` that netplan, FRR and fabric.json accept (`GigabitEthernet1/0/1`). Also a node interface declared as `lo`: the loopback is the node's `loopback`, and a second `lo` gives netplan a duplicate key and lets networkd rename a NIC to `lo`.";
    InvalidSecretName "SC0046" "invalid-secret-name" Error
        "A secret reference (`password secret=\"…\"`) whose name is not a secret name (letters, digits, `-`, `_`, `.` and `/`, starting with a letter or digit): it could not be provided through the environment (`SITECONF_SECRET_<NAME>`).";
    InvalidPackageName "SC0047" "invalid-package-name" Error
        "A package name that is not a Debian package name (Debian Policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`, at least two characters, starting with a letter or digit), optionally with `=VERSION` or `/RELEASE`; apt and cloud-init fail the whole install.";
    InvalidRepoField "SC0048" "invalid-repo-field" Error
        "A repo `types`, `suites`, `components` or `architectures` entry that apt's deb822 sources cannot hold: an unknown type, white space or an empty word, a component beside a suite that is an exact path (`./`), or an architecture that is not a Debian architecture name.";
    ValueNotOneLine "SC0049" "value-not-one-line" Error
        "A free-text value written verbatim into a line-based configuration (an external BGP peer's `description`, into FRR; a boot image's `args`, into the iPXE scripts) holds a line break or another control character: the build refuses it, so check does.";
    InvalidNtpServer "SC0050" "invalid-ntp-server" Error
        "An `ntp-servers` entry that is neither a host name nor an IP address; chrony refuses the line. Or an IP address no time server can have: the unspecified address, a loopback, multicast or broadcast address, an IPv6 link-local address (which needs a zone). (The network or broadcast address of a declared network is SC0302.)";
    SshdIgnoresKeys "SC0052" "sshd-ignores-keys" Error
        "An `sshd` `authorized-keys-file` that leaves out `/etc/ssh/authorized_keys/%u`, where siteconf writes every `ssh-key`: sshd would never read them and their users are locked out.";
    InvalidBondMode "SC0051" "invalid-bond-mode" Error
        "A bond's `mode` that netplan does not know (balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb): `netplan generate` fails and the node has no network.";
    WeakSshKey "SC0053" "weak-ssh-key" Warning
        "An `ssh-rsa` public key of 1024 up to 2047 bits: OpenSSH 9.2p1 still accepts it, but such keys are weak (NIST SP 800-131A disallows RSA under 2048 bits) and OpenSSH refuses keys under 1024 bits (SC0018). Replace it with an Ed25519 key (`ssh-keygen -t ed25519`).";
    InvalidDnsServer "SC0054" "invalid-dns-server" Error
        "A `dns-servers` entry that no host can answer at: the unspecified address (`0.0.0.0`, `::`), a loopback, multicast or broadcast address, or an IPv6 link-local address (usable only with a zone such as `%eth0`, which netplan's nameservers, Kea and the zones' NS glue cannot carry). The list goes to every node's netplan, Kea's `domain-name-servers` and the DNS zones. (The network or broadcast address of a declared network is SC0302.)";
    ServerListIgnored "SC0055" "server-list-ignored" Warning
        "An entry of `dns-servers` or `ntp-servers` that has no effect: the same server listed twice (no fallback to another host). (A fourth and later DNS server is used: nodes resolve through systemd-resolved, which has no three-server limit.)";
    GateMatchesNothing "SC0056" "gate-matches-nothing" Warning
        "A `[gate]` pattern or name in siteconf.toml that can never match: a `paths` glob that matches no input file, now or once added (inputs are siteconf.toml, the lock files and anything under the site, shared and templates directories: `templates/**` before the first override is fine), an `artifacts` glob no rendered file could match for any device, rack, repository or user (`switches/*/frr.conf`; in a project of several sites artifacts are `<site>/…` and `bootinfra/<name>/…`), a role no node has that is within two edits of one that does (`storgae`: a role no node has yet is a policy written ahead of the fleet), a `nodes` glob no device name matches. The rule or owner entry never fires for it, so `siteconf gate` passes exactly the change it was written to stop. (An artifact kind no artifact has is an error, SC0008.)";
    SshdLocksOutAutomationUser "SC0057" "sshd-locks-out-automation-user" Error
        "An `sshd` `allow-users` that leaves out the site's `automation-user`, or a `deny-users` that matches it (OpenSSH patterns: `*`, `?`, `user@host`; a `user@host` whose host part is addresses and CIDR blocks is judged against the `from=` of the automation user's keys when each has one — `allow-users \"ansible@192.168.0.0/24\"` with keys `from=\"10.0.0.0/16\"`, or `deny-users \"*@10.0.0.0/8\"`, leaves no address sshd accepts; a host-name pattern is not judged). Likewise an `allow-groups` that lists none of its groups or a `deny-groups` that matches one (cloud-init gives it only its own primary group, named after it), `use-pam no` (cloud-init creates it with `lock_passwd: true`, and sshd without PAM refuses a locked account even its key), a `pubkey-accepted-algorithms` that leaves out the type of every key it has (`-ssh-ed25519`), and `pubkey-authentication no`. sshd refuses that user's logins on every node the setting reaches, so Ansible can no longer configure them.";
    RepoUriCredentials "SC0058" "repo-uri-credentials" Error
        "A repo URI with a password in it (`https://user:password@host/`). The URI is written as it is into every node's `/etc/apt/sources.list.d/*.sources` (readable by every local user), into cloud-init's user-data, the build output and its diffs, and it sits in git. apt takes credentials from `/etc/apt/auth.conf.d/` (mode 0600, apt_auth.conf(5)) instead. The password is masked wherever siteconf shows the line.";
    GroupNameRewritten "SC0059" "group-name-rewritten" Warning
        "A group name Ansible does not take as written (letters, digits and `_`, not starting with a digit): the inventory replaces every other character by `_`, so `web-tier` and `web_tier` become one group and a play's `hosts: web-tier` matches nothing. Also the group `all`, which every host is in already.";
    DhcpNoIpv4 "SC0060" "dhcp-no-ipv4" Warning
        "A network to be served by DHCP (`dhcp #true`, or a management network by default) with no IPv4 prefix. siteconf serves DHCP with Kea's DHCPv4 only: the network gets no subnet and there is no DHCPv6 config, so no machine on it can get its address or boot file from the network. Add the IPv4 prefix, or say `dhcp #false` when the nodes are installed by other means.";
    VarNotRepresentable "SC0061" "var-not-representable" Error
        "A value in `vars` (a group's, a profile's or a node's) that the Ansible inventory cannot carry as written: a float that is not a number (`nan`) or infinite (`inf`), which JSON has no way to write (the inventory would hold `null`), or an integer outside the signed 64-bit range, which the inventory would hold as a string. Ansible would get a different value than the site says, silently.";
    VarDateAsString "SC0062" "var-date-as-string" Warning
        "A TOML date or time (`2024-05-01`, `07:32:00`, `1979-05-27T07:32:00Z`) in `vars`. The inventory is JSON and YAML written by siteconf: it carries the value as a string of the same text (JSON has no date type, and a YAML date would be read back as one by Ansible only unquoted). The text arrives intact but its type does not: a play that compares or computes with it as a date gets a string. Quote it to say a string is meant (the KDL and TOML forms of a site then agree), or convert it in the play (`| to_datetime`).";
    RoutingDomainReverseZone "SC0064" "routing-domain-reverse-zone" Warning
        "Two sites in one `routing-domain` whose prefixes do not overlap but share a reverse zone (10.0.0.0/25 and 10.0.0.128/25: one `0.0.10.in-addr.arpa`, cut at octets, nibbles in IPv6). Each site writes that zone with only its own PTR records, so whichever site's DNS servers the routing domain asks for it answer NXDOMAIN for the other site's addresses. Give the sites prefixes in different /24 (/124) blocks. (Sites one bootinfra serves are SC1207's, an error there: the bootinfra can serve one file.)";
    DomainUnderOtherSite "SC0065" "domain-under-other-site" Warning
        "A site's domain is under another site's domain (`b.a.example.net` under `a.example.net`), and the zones are on different DNS servers. siteconf writes each site's zone from that site alone, with no NS records for names below it, so the outer site's servers answer NXDOMAIN for the inner site's names. Give the site a domain outside the other's, serve both zones from the same servers (one bootinfra, or the same `dns-servers`), or write the delegation (NS records with glue) in an override of the forward zone template.";
    InventoryNotLocked "SC0063" "inventory-not-locked" Warning
        "`siteconf inventory` (the Ansible inventory script) gives allocated values (`auto` addresses, loopbacks, ASNs) that siteconf.lock does not hold yet, printed as a warning on stderr while the answer goes out (exit 0). With a lock in place allocation never renumbers: a request the lock answers keeps its value, and a new one takes a value no line of the lock holds, released ones included. So these belong to nodes or addresses new in this checkout (the usual state of a merge request before `siteconf lock`), not to a deployed machine. They are still not committed, and another branch may take the same value: run `siteconf lock` and commit the lock before Ansible relies on them. A missing lock is not this warning: the inventory refuses to answer (SC0813).";
    ProjectPathRefused "SC0021" "project-path-refused" Error
        "A project file or directory is a symbolic link, or a configured directory (`site-dir`, `templates-dir`) is absolute or leaves the project with `..`. siteconf reads only regular files inside the project, so a committed link to `/proc/self/environ` or `.git/config` is never read or quoted.";
    SecretsEnvPrefix "SC0028" "secrets-env-prefix" Error
        "`[secrets] env-prefix` in siteconf.toml does not begin with `SITECONF_`. siteconf.toml is committed like the site, and a merge request could set the prefix to `R` (and a template's `secret(\"unner-token\")` reads `RUNNER_TOKEN`) or to nothing (every variable): `build` would write the CI runner's credentials into the output. Secrets come only from variables named for siteconf: remove the key (the default is `SITECONF_SECRET_`) or give another prefix that begins with `SITECONF_`, such as `SITECONF_SECRET_PROD_`.";
    SecretsFileTracked "SC0030" "secrets-file-in-git" Warning
        "The secrets file (`[secrets] file`) is in the git index of the repository that holds the project: its values travel with every clone and stay in the history. Reported by `build`, which reads it; not for a file holding only the fake values `siteconf init` writes (nothing to rotate).";
    // --- duplicates ----------------------------------------------------------
    DuplicateName "SC0101" "duplicate-name" Error
        "Two entities of the same kind share a name (hostnames, racks, switches, networks, profiles, groups). Names are identities: inventory, DNS and output paths would collide.";
    DuplicateIp "SC0102" "duplicate-ip" Error
        "The same IP address is given to two places (node addresses, loopbacks, switch loopbacks, routed switch ports, gateways, external BGP peers). Both places are shown, and a value the allocator gave is called allocated (the allocator skips every address the site uses, so that happens only through siteconf.lock). Across the sites of a project, only between sites in the same `routing-domain`: every kind above, except that two sites may peer with one external router at one address (one transit LAN, each site's switches at their own addresses of it). Overlapping prefixes of such sites are SC1219.";
    DuplicateMac "SC0103" "duplicate-mac" Error
        "Two interfaces declare the same MAC address; DHCP reservations and netplan matching would pick the wrong machine. Checked across all sites of a project too: one machine cannot be racked in two clusters.";
    DuplicateAsn "SC0104" "duplicate-asn" Error
        "Two devices that must have distinct AS numbers share one (each node and each switch has its own ASN in routing on the host). Across the sites of a project, only between sites in the same `routing-domain`.";
    DuplicateVlan "SC0105" "duplicate-vlan" Error
        "Two networks use the same VLAN id.";
    DuplicatePrefix "SC0106" "overlapping-prefix" Error
        "Two networks have overlapping prefixes, so an address could belong to either.";
    DuplicateSerial "SC0107" "duplicate-serial" Warning
        "Two nodes give the same serial number. A serial identifies one physical machine: a copy-pasted block usually means the second machine's serial (and often its MACs) were never filled in. Checked across all sites of a project too.";
    PortDeclaredTwice "SC0108" "port-declared-twice" Warning
        "A switch's `ports` patterns overlap (`ports swp1-48 swp40-56` declares swp40–48 twice): usually a typo in a range, which hides ports that were meant.";
    LoopbackInNetwork "SC0109" "loopback-in-network" Warning
        "A fixed loopback address (node or switch) lies inside the prefix of a network that is not a loopback network (e.g. the management network): it would be announced in BGP and collide with that subnet's hosts and routes. For a family the site has a `loopback` network of, such a loopback is outside it, which SC0617 reports (an error) instead.";
    DuplicateFqdn "SC0110" "duplicate-fqdn" Error
        "Two devices of different sites of one project have the same fully qualified name (the same host name under the same domain): DNS, the inventory and the bootinfra would serve one of them.";
    // --- references ------------------------------------------------------------
    UnknownRack "SC0201" "unknown-rack" Error
        "A device names a rack that is not declared.";
    UnknownSwitch "SC0202" "unknown-switch" Error
        "An interface is cabled to, a switch link or an external BGP peer names, a switch that is not declared. (A node's BGP session to an unknown switch is SC0601.)";
    UnknownSwitchPort "SC0203" "unknown-switch-port" Error
        "An interface is cabled to a port the switch does not have.";
    UnknownNetwork "SC0204" "unknown-network" Error
        "An address names a network that is not declared.";
    UnknownProfile "SC0205" "unknown-profile" Error
        "A node or profile names a profile that is not declared. In a project of several sites, a profile (and likewise a switch, rack or network: SC0202, SC0201, SC0204) that another site declares in its own directory is named with that site: each site sees only the shared definitions and its own, so move it to the shared directory or declare it in this site too.";
    UnknownInterface "SC0206" "unknown-interface" Error
        "An address, bond, VLAN or BGP session names an interface the node does not have.";
    // --- addressing --------------------------------------------------------------
    AddressOutsideNetwork "SC0301" "address-outside-network" Error
        "An address (or gateway, reserved range, pool) is not inside its network's prefix.";
    AddressIsNetworkOrBroadcast "SC0302" "address-not-host" Error
        "An address equals its network's network address or IPv4 broadcast address, which no host may use: a node address, a gateway, or a boot, DNS or NTP server that is the network or broadcast address of a declared network.";
    AddressIsGateway "SC0303" "address-is-gateway" Error
        "A host address equals the network's gateway (also a boot server given the gateway's address: the router runs no TFTP or HTTP service for booting machines).";
    AddressInReserved "SC0304" "address-in-reserved-range" Error
        "A host address falls inside a range the network reserves (for switches, VIPs, DHCP).";
    MissingAddressFamily "SC0305" "network-lacks-family" Error
        "An address of a family (IPv4 or IPv6) the network has no prefix for.";
    NodeNoMgmtAddress "SC0306" "node-no-management-address" Warning
        "A node has no address on a network of `purpose management` although the site declares one: it gets no DHCP reservation (no network boot) and Ansible reaches it on its loopback, if at all.";
    // --- racks ---------------------------------------------------------------------
    RackUnitOverlap "SC0401" "rack-unit-overlap" Error
        "Two devices occupy the same rack unit. Both devices are shown.";
    BeyondRackHeight "SC0402" "beyond-rack-height" Error
        "A device extends above the top of its rack.";
    RackPositionShared "SC0403" "rack-position-shared" Warning
        "Two racks give the same floor position (same room, row and position): one of them is in the wrong place on the floor plan and in the rack diagrams.";
    // --- cabling and links -------------------------------------------------------------
    PortCabledTwice "SC0501" "port-cabled-twice" Error
        "Two interfaces are cabled to the same switch port. Both are shown.";
    MtuExceedsNetwork "SC0502" "mtu-exceeds-network" Error
        "An interface's MTU is larger than that of the network it carries: frames would be dropped on the path.";
    VlanMismatch "SC0503" "vlan-mismatch" Error
        "A VLAN interface carries a network whose VLAN id is a different one.";
    InterfaceKind "SC0504" "interface-kind" Error
        "An interface's fields do not fit its kind: a bond without members, a VLAN without a parent, an ethernet without a MAC, a member that is itself in another bond. And a bond member used as if it were a link of its own: an address on it, a BGP session over it (netplan gives a member no link-local address, so the session never comes up), or a VLAN on it (the bond takes every frame a member receives, so the VLAN receives nothing).";
    MtuMismatch "SC0505" "mtu-mismatch" Warning
        "Interfaces carrying one L2 network have different MTUs on different nodes: hosts with the larger MTU send frames the others drop (large transfers hang while pings work).";
    CabledToOtherRack "SC0506" "cabled-to-other-rack" Warning
        "A node's interface is cabled to a top-of-rack switch placed in another rack than the node: usually the wrong switch name (r02-tor1 for r01-tor1), else a cable across racks nobody will find. Spine, border and `role management` (out-of-band, often shared by several racks) switches are not checked.";
    BondLegsNotPaired "SC0507" "bond-legs-not-paired" Warning
        "An aggregating bond (`802.3ad`, `balance-rr` — also no `mode` —, `balance-xor`, `broadcast`) whose members are cabled to two switches of one role that are not a pair. siteconf writes no MLAG configuration, and renders every `link` — a pair's peer link too — as a BGP FABRIC session, so a pair is what the site says: two switches one of which names the other in `mlag-peer`, whatever their racks; or, for switches with no `mlag-peer` on either side, by convention two switches of the same role in the same rack with a `link` between them. Switches that are no MLAG pair cannot form one aggregate, so the bond does not come up as one. A warning: the pair may only be undeclared (declare it with `mlag-peer`), or a member is cabled to the wrong switch. Legs on switches of different roles not declared a pair are SC0514 (an error).";
    BondSingleMember "SC0508" "bond-single-member" Warning
        "A bond with a single member while the node has another interface cabled to a switch that is in no bond: the bond has no redundancy and the other leg comes up on its own, outside it. Usually the second member was left out of `members`.";
    Ipv6MtuTooSmall "SC0509" "ipv6-mtu-too-small" Error
        "An interface that carries IPv6 (an address of a network with an IPv6 prefix, or an unnumbered BGP session, which runs over the IPv6 link-local address) has an MTU below 1280, the least IPv6 allows (RFC 8200): Linux turns IPv6 off on it, so the address never comes up and the session never establishes. The MTU in effect is the interface's own, else the one of the networks it carries, else (a VLAN) its parent's.";
    VlanInterfaceTwice "SC0510" "vlan-interface-twice" Error
        "Two VLAN interfaces of a node with the same VLAN id on the same parent: netplan writes both, but the kernel refuses the second (EEXIST), so one of the two interfaces, and the networks it carries, is missing after boot.";
    UntaggedVlans "SC0511" "untagged-vlans" Error
        "An interface that is not a VLAN interface carries addresses of networks with different VLAN ids: its frames are untagged, so the switch port (an access port of one VLAN) delivers them to one VLAN only, and the other networks are unreachable. Each VLAN needs its own VLAN interface (`kind vlan`).";
    MacNotRendered "SC0512" "mac-not-rendered" Warning
        "A `mac` on a bond or a VLAN interface: netplan matches only ethernet interfaces by MAC, and Kea's reservations use the MAC DHCP (PXE) asks with, a physical port's (each of a bond's members', a VLAN's parent's), so this value reaches no file. Put the MAC on the physical interface it belongs to. (A member's or the parent's MAC written again on the bond or VLAN is not reported.)";
    BondNoModeOnPair "SC0513" "bond-no-mode-on-pair" Warning
        "A bond without `mode`, or with a static aggregating mode (`balance-rr`, `balance-xor`, `broadcast`), whose members are cabled to two switches that are a pair (declared with `mlag-peer`, or by convention: same role, same rack, a `link` between them; see SC0507). Without a mode netplan writes no `Mode=`, so the kernel's default, balance-rr, applies; none of these modes sends LACPDUs, while an MLAG pair runs LACP (the site format's contract: `802.3ad` behind a pair): the switches see no LACP partner and keep the ports out of the port-channel (or, on ports not bonded, the bond's MAC flaps between the two switches), and every network on the bond is lost. Write `mode \"802.3ad\"`, or `active-backup` if the switch ports are not bonded. A warning, not an error: siteconf writes no switch-side bonding, and a pair configured with a static MLAG port-channel (`mode on`) carries a static bond; `check --deny warnings` (what CI runs) stops on it. `balance-alb`/`balance-tlb`, like `active-backup`, need nothing from the switches (they are for ports that are not bonded) and are not reported. A bond without `mode` on one switch is not reported: balance-rr towards one switch works with a static LAG, which the site files cannot describe.";
    BondLegsAcrossRoles "SC0514" "bond-legs-across-roles" Error
        "The same mistake as SC0507, where the switches surely are no pair: an aggregating bond (`802.3ad`, `balance-rr` — also no `mode` —, `balance-xor`, `broadcast`) with members on switches of different roles (a ToR and a spine, border or management switch) that no `mlag-peer` declares a pair. Switches of different roles do not aggregate together (a `link` between them, like every `link`, is rendered as a BGP FABRIC session). With LACP each switch is a different partner, so only one leg aggregates and the other switch's port stays down; with static modes part of every flow goes to a switch whose port carries none of the node's networks.";
    MlagPeerInvalid "SC0515" "mlag-peer-invalid" Error
        "A switch's `mlag-peer` that cannot describe an MLAG pair: the switch names itself, or it is declared paired with two switches (it names one and another names it, or two switches name it). An MLAG pair is two switches, and the declaration is what tells `check` which two switches a bond may span (SC0507, SC0513, SC0514); siteconf writes no MLAG configuration itself. Declare each pair once, on one switch or on both naming each other. A name that is no declared switch is SC0202.";
    JumboVlanOverNative "SC0516" "jumbo-vlan-over-native" Warning
        "A network carried untagged (native VLAN) on an interface whose MTU is raised above the network's only because a VLAN interface over it needs the larger MTU (jumbo storage on a bond that also carries management untagged, for PXE). The kernel cannot give the untagged network a smaller MTU than the interface, so the node sends frames up to the interface's MTU on that network: TCP works (each side announces its MSS from its own MTU, and the peers announce theirs from 1500), but UDP and ICMP datagrams above the network's MTU sent on the subnet are dropped by the switch or by peers, with no error back (a large DNS answer over UDP, NFS over UDP, `ping -s`). Traffic through the gateway is capped by path MTU discovery. A warning, not SC0502's error: the design is common and works for TCP. To give the network its own MTU, carry it on a NIC of its own, or on a VLAN interface of its own (for PXE see SC1216); or accept it.";
    // --- BGP -------------------------------------------------------------------------------
    BgpUnknownPeer "SC0601" "bgp-unknown-peer" Error
        "A BGP session whose far end is not a declared switch.";
    BgpAsnMismatch "SC0602" "bgp-asn-mismatch" Error
        "The two ends of a BGP session disagree on the far end's AS number.";
    BgpAddressMismatch "SC0603" "bgp-address-mismatch" Error
        "A numbered BGP session's peer address is not an address the far end has, or its local address is not one of the node's own.";
    BgpFamilyMismatch "SC0604" "bgp-family-mismatch" Error
        "A numbered BGP session mixes IPv4 and IPv6 between its two ends.";
    BgpPasswordLiteral "SC0605" "bgp-password-literal" Error
        "A BGP password written as a literal. Secrets are references (`password secret=\"name\"`) resolved at render time, so they never sit in git, diffs or logs.";
    BgpNotCabled "SC0606" "bgp-interface-not-cabled" Error
        "An unnumbered BGP session runs over an interface that is not cabled to that switch. (Over a bond or a VLAN, even one whose members or parent are cabled to it: SC0635.)";
    SecretVarInvalid "SC0607" "secret-var-invalid" Error
        "A secret reference in `vars` (`NAME secret=\"ipmi/r01\"`) that is not one: `secret` beside other keys, a `secret` that is not a string, or a secret name that is not a path-like name of letters, digits, `-`, `_`, `.` and `/`.";
    SwitchNoLoopback "SC0610" "switch-no-loopback" Error
        "A switch with an `asn` (it runs BGP) but no `loopback4`: FRR has no router-id to use and fabric.json would carry `loopback4: null`.";
    AsnTrans "SC0611" "asn-as-trans" Error
        "AS 23456 (AS_TRANS, RFC 6793) is given as an AS number: it stands in for 4-byte ASNs towards old speakers and is never a real AS; FRR refuses it as a remote-as.";
    AsnReserved "SC0612" "asn-reserved" Warning
        "A reserved AS number (65535 and 4294967295, RFC 7300; 0, RFC 7607) is given to a device, a peer or a pool: no session with it should come up.";
    AsnPublicInFabric "SC0613" "asn-public-in-fabric" Warning
        "A node or switch inside the fabric has a public AS number (not 64512-65534 or 4200000000-4294967294, RFC 6996), or the ASN pool reaches outside the private ranges: announcements could clash with the real holder of that AS.";
    BgpPeerOwnAddress "SC0614" "bgp-peer-own-address" Error
        "An external BGP peer's address is an address of a switch that holds the session (its loopback, the address of one of its routed ports, or its end of a numbered session a node declares): FRR refuses a local address as neighbour.";
    NodeNoLoopback "SC0615" "node-no-loopback" Error
        "A node with BGP sessions whose loopback has no IPv4 address (an IPv6-only `loopback ipv6=auto`, or no loopback at all): FRR takes the router-id from it, has none to pick on a BGP-only host, and no session comes up; fabric.json would carry `loopback4: null`.";
    BgpPeerSameAsn "SC0616" "bgp-peer-same-asn" Error
        "An external BGP peer's `asn` is the ASN of a switch holding its session: FRR configures the transit session as iBGP (`remote-as` equal to its own AS). The provider's OPEN carries its real AS, so the session is refused (bad peer AS); and were it to come up, it would be iBGP, with none of the eBGP handling written for an external peer.";
    LoopbackNotAnnounced "SC0617" "loopback-not-announced" Error
        "The loopback of a switch, or of a node that has BGP sessions, lies outside every prefix of the site's `loopback` networks of its family. The fabric's route-maps (FABRIC-LOOPBACKS4/6 in SERVERS-IN, FABRIC-ROUTES, FROM-TOR and EXTERNAL-OUT) carry host routes inside those prefixes only, so no other machine learns a route to it: the address (the BGP router-id, the DNS name of a node's loopback, a switch's `ansible_host`) is unreachable, and numbered sessions to it stay in Active. Reported once per loopback, for sites that declare a loopback prefix of that family; when the values of several nodes allocated in siteconf.lock (for `auto`) are outside, the loopback network was renumbered: one finding per family, counting the nodes, at the first lock line, naming `siteconf lock --renumber` with the loopback network `auto` allocates from (a loopback written literally keeps its own finding).";
    Loopback6NotAnnounced "SC0633" "loopback6-not-announced" Warning
        "The mistake of SC0617 for a whole family: the IPv6 loopback of a switch (`loopback6`), or of a node that has BGP sessions, while no `loopback` network has an IPv6 prefix (the site has IPv4 ones). FRR writes `network <addr>/128`, but the switches get no FABRIC-LOOPBACKS6, so their route-maps pass only `::/0`: nobody learns the address. DNS still publishes it (an AAAA record), so `ssh` and other clients that try it first wait for a timeout. A warning: the address may be meant for the device's own use; declare an IPv6 prefix on the `loopback` network, or drop the address. (An IPv4 loopback on an IPv6-only fabric is not reported: it is the router-id every BGP device needs.)";
    BgpNodeNoSession "SC0634" "bgp-node-no-session" Warning
        "A node with a loopback and no BGP session while its uplinks (Ethernet interfaces with no address, no VLAN, in no bond) are cabled to switches that run BGP, and another node of the same `role` (for a node without a role: sharing a profile with it) has sessions: the node announces nothing, so its loopback (the address the `loopback` block gives to be announced in BGP) is unreachable from the rest of the site, and the node learns no route into the fabric. The usual cause is a `bgp` block left out (an adopted machine's stub, a node whose profile lost it). A node none of whose likes route is not reported: that is a design without BGP on those nodes.";
    BgpSessionNotAPort "SC0635" "bgp-session-not-a-port" Error
        "An unnumbered BGP session (`session SWITCH interface=IF`, no `peer-address`) over a bond or a VLAN interface. The mistake of SC0606 in another form: the session must run over the one cable between the node and its switch, and a bond or VLAN has no cable of its own. The switch names an unnumbered neighbour by the port it hears the node on (`neighbor swp1 interface`); a bond's traffic arrives on several ports, a VLAN's tagged on its parent's, and neither is a port the switch can peer on, so the switch gets no session for the node and the node's BGP stays down (written with no port, FRR would reject the switch's whole configuration). Run one unnumbered session per uplink, each over the Ethernet interface cabled to that switch (a port in a bond has no address of its own: take the uplinks out of the bond), or make the session numbered (`peer-address` of the switch's loopback, or of a routed port).";
    BgpSessionRemoteSwitch "SC0636" "bgp-session-remote-switch" Warning
        "A numbered BGP session from a node to a switch none of its unnumbered sessions ends on, in another rack or more than one switch away, so the session is loopback to loopback over several links (`ebgp-multihop N`). (The other ToR of the node's own rack, one link beyond its switch, is not reported.) It comes up, but that switch announces the routes behind it (its rack's loopbacks, or the rest of the fabric) with a shorter AS path than the node's own switches do, so the node prefers this one session for them: their next hop is the far switch's loopback, reached over whichever uplink the node's route to it uses, and the traffic loses the ECMP across the node's uplinks. And `ebgp-multihop` is exactly the shortest path: when a link on it fails, the session drops even though the fabric still has a longer way round, and the routes move back. Peer with the switches the node is cabled to (their unnumbered sessions already carry every route of the fabric, over every uplink); if the session is needed, accept the warning.";
    SwitchLinkToSelf "SC0618" "switch-link-to-self" Error
        "A switch `link` whose `peer` is the switch itself: FRR gets a FABRIC neighbour on both ports that is the switch itself (the session never establishes) and the cable is an L2 loop. Usually a copy-paste of the other switch's `link`.";
    FabricNoExit "SC0619" "fabric-no-exit" Error
        "BGP switches that no chain of switch-to-switch `link`s joins to the switches holding the site's external BGP peers: an island. Its switches and nodes learn no default route and none of the other loopbacks, and the rest of the fabric none of theirs. The message names the island's switches. Usually a `link` deleted or mistyped on both ends.";
    SwitchLinkNoBgp "SC0637" "switch-link-no-bgp" Error
        "A switch-to-switch `link` (declared on either end) between a switch with an `asn` and one without (a spine whose `asn` was deleted or never written). Every `link` of a BGP switch is an unnumbered fabric session (`neighbor PORT interface peer-group FABRIC`), so the BGP end waits on that port for a peer that never answers, while the switch without `asn` gets no FRR configuration at all: the sessions never come up and no route crosses the link (a spine carries no traffic between racks; a leaf behind it is an island). Reported once per switch without `asn`, naming its BGP peers. Give the switch an `asn` (unique in the site, outside `asn-pool`) and a `loopback4` in the loopback network (its router-id, SC0610); a switch that is not meant to route must not be `link`ed to BGP switches.";
    NoIpv6Exit "SC0638" "no-ipv6-exit" Warning
        "The site has external BGP peers, none at an IPv6 address, while the fabric announces IPv6 (a BGP switch's `loopback6`, or a routing node's IPv6 loopback) and a switch holding the peers has an IPv6 address on a routed port (the IPv6 transit subnet, on which no peer is). A switch activates an external peer only in the family of its address, so the IPv4 peers' sessions carry IPv4 routes only: the fabric learns no `::/0` and none of its IPv6 addresses is announced outside. They reach nothing beyond the site and nothing outside reaches them, while DNS publishes them (AAAA records, which clients try first). Usually the IPv6 transit's `address` was overwritten with an IPv4 one, or its `bgp-peer` deleted. Reported once per site, at the first peer. A site whose peer-holding switches have no IPv6 routed port may mean its IPv6 to stay inside, and is not reported.";
    NodeNoDefaultRoute "SC0639" "node-no-default-route" Error
        "Nodes that get a default route from none of their networks (no address of theirs is on a network with a `gateway4` for IPv4, or a `gateway6` for IPv6), while they install packages (their `packages`, or FRR for their BGP sessions) from a repository first-boot apt cannot reach without a route (its host is an address on none of the nodes' networks, or a name such as `deb.debian.org`; a name the site's own zone gives an address on one of them — a node's or switch's name under the site's domain, `<node>.<network>`, `nsN` — is on-link). netplan writes no default route and Kea no `routers`; at first boot apt fails, no package is installed, and a node whose default would come from BGP (it has sessions and the site has external peers) never gets it either, since FRR, which brings it, is itself installed by apt. Reported once per network (the nodes' management network, else their first addressed one), naming the nodes. Not reported: nodes with an IPv6 address in a site that declares no `gateway6` anywhere (router advertisements may bring their default route), nodes whose repositories are all on-link (apt works, FRR installs and brings the default; one without BGP is an isolated design), nodes that name no repository (the image's own sources, which `check` cannot see). The name servers are written in netplan whatever the gateway.";
    BgpUplinkIdle "SC0621" "bgp-uplink-idle" Warning
        "A node with BGP sessions has an Ethernet interface cabled to a BGP switch that carries no session, no address, no VLAN and is in no bond, while another interface has a session and the node has none with that switch: the cable is plugged and idle, and the node has a single path into the fabric. The same mistake as SC0508 for a routed node; usually a `session` line deleted or left out of a profile.";
    BgpNumberedUnreachable "SC0630" "bgp-numbered-unreachable" Error
        "A numbered BGP session whose peer address nothing the site declares leads to: a switch loopback with no unnumbered session of the node (to a switch joined to it by declared links) to learn the route from, or outside every `loopback` network (the fabric carries no route to it; when the site has a loopback prefix of that family, that is SC0617, reported once per loopback), or a routed switch port that no node interface with an address on its subnet is cabled to. Both ends would stay in Active.";
    BgpNumberedSource "SC0631" "bgp-numbered-source" Error
        "A numbered BGP session sourced from an address its far end cannot reach: a loopback session from something else than the node's loopback of that family (or from none), a session on a routed port from another address than the node's on that link.";
    BgpPeerUnreachable "SC0632" "bgp-peer-unreachable" Error
        "An external BGP peer whose address is on no subnet of a routed port (`interface PORT address=…`) of a switch holding it, without `multihop`: the single-hop session cannot come up.";
    // --- profiles and groups ---------------------------------------------------------------
    ProfileCycle "SC0701" "profile-cycle" Error
        "Profiles include each other in a cycle; the whole cycle is shown.";
    UndeclaredChildGroup "SC0702" "undeclared-child-group" Warning
        "A group lists a child group that is neither declared (`group NAME`) nor joined by any node: the inventory renders it as an empty group, usually a typo of a group nodes do join.";
    GroupCycle "SC0703" "group-cycle" Error
        "Groups list each other as `children` in a cycle (`group compute { children fleet }` while `fleet` has `children compute`); the whole cycle is shown. Ansible refuses the inventory (\"recursive dependency loop\").";
    GeneratedGroupJoined "SC0704" "generated-group-joined" Error
        "A node, profile or the site defaults join (with `groups`) a group the inventory makes itself: `switches` (every switch), `role_<role>`, `rack_<rack>` or `profile_<profile>`. The hosts then get the plays meant for switches, or for another role, rack or profile. Give such a group vars with a `group` block, or list it in a group's `children`; to put a node in a role or rack, set its `role` or `rack`.";
    // --- allocation and lock -----------------------------------------------------------------
    PoolExhausted "SC0801" "pool-exhausted" Error
        "An address, loopback or ASN pool has no free value left for a node that asks for one.";
    LockDuplicate "SC0802" "lock-duplicate" Error
        "siteconf.lock gives one value to two owners, typically after merging two branches that each took the next free value.";
    AllocationCollision "SC0803" "allocation-collision" Error
        "A value the site uses (a node's fixed address, loopback or ASN; a switch loopback or routed-port address; a gateway; an external BGP peer; a DNS or NTP server given as an address) equals a value allocated to another owner in siteconf.lock. The lock's value is kept (an edit never renumbers a machine). Since the allocator never gives out a value the site uses, the written value is usually the newer one (a new switch's `asn` or `loopback4` typed inside `asn-pool` or the loopback network's pool): change it to one `auto` never hands out (an ASN outside `asn-pool`, an address in a `reserved` range), or, for a node's own value, back to `auto` (its locked value, or a free one). Only when the written value must stay, delete the lock line and run `siteconf lock`: that renumbers the deployed node.";
    LockOutOfDate "SC0804" "lock-out-of-date" Error
        "With --locked (`siteconf check` or `siteconf build`): the site needs allocations that siteconf.lock does not have yet (run `siteconf lock`).";
    LockSyntax "SC0805" "lock-syntax" Error
        "A line of siteconf.lock that cannot be read.";
    NoPool "SC0806" "no-pool" Error
        "A value is asked for with `auto` but there is no pool to allocate it from.";
    LockZoneDuplicate "SC0820" "lock-zone-duplicate" Error
        "siteconf.lock records two serials for one DNS zone (a merge that kept both lines): which one secondaries saw is unknown.";
    LockConflictMarkers "SC0807" "lock-conflict-markers" Error
        "siteconf.lock still holds git conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`). One finding per conflict block; where both sides give a value to the same owner and key, both are named.";
    LockTwoValues "SC0808" "lock-two-values" Error
        "Two lines of siteconf.lock for one owner and key (a merge that kept both sides). Neither wins: the node could otherwise be renumbered. Both lines and values are named.";
    LockUnknownEntry "SC0809" "lock-unknown-entry" Error
        "A lock line whose owner kind, key kind or network does not exist (`ipv3`, a network the site does not declare). It is never silently released or re-allocated. For a network renamed in the site (`network mgmt` → `network oob`), the lock keys must be renamed too (`address.mgmt.ipv4` → `address.oob.ipv4`) to keep every machine's address — deleting the lines renumbers them; when exactly one network without lock lines has a prefix holding the value, the help names the keys to rename.";
    LockDamagedLine "SC0810" "lock-damaged-line" Error
        "A lock line for an owner or key that is not in the site but one character away from a request that has no lock line (`r01m02` for `r01n02`): a damaged line, which would otherwise make the node get a new value.";
    LockVersion "SC0811" "lock-version" Error
        "siteconf.lock declares a format version this siteconf does not read, or a `version` line that is not the first entry.";
    LockOutsidePool "SC0812" "lock-outside-pool" Warning
        "siteconf.lock gives values that the pool they were allocated from no longer offers (the `pool` or `asn-pool` was narrowed, or a range reserved, after they were given). They are kept — an edit never renumbers a machine — and named, once per pool.";
    LockMissing "SC0813" "lock-missing" Warning
        "The site asks for allocated values (`auto` addresses, loopbacks, ASNs) but siteconf.lock is missing or holds none of them (deleted, or written by a build with only zone serials). Every value is then allocated anew on every run, and values held back for removed nodes are free again: a deployed fleet is renumbered (machines change addresses, ASNs and loopbacks, and a new node can get an address a removed one still answers on), and the zones' serials start over. Restore the lock from git; for a new site run `siteconf lock` and commit it. `check --locked` fails on it (SC0804), and `siteconf inventory` refuses to answer (exit 1, this finding as an error, nothing on stdout): Ansible would run a host's play on whichever machine answers at its new address.";
    // --- rendering -----------------------------------------------------------------------------
    TemplateError "SC0901" "template-error" Error
        "A template failed to render (syntax error, undefined variable, failing filter, unknown file-name placeholder, hidden output name). The template file, line and the node being rendered are named. `build` renders every device; `check` compiles every template and renders every device of a site of up to 3,000 devices, and of a larger site every switch and a sample of the nodes (the first node, the first with BGP sessions, repositories and SSH users, the first of each role, profile set and view shape: see `siteconf check --help`), and says that it sampled, so a failure that only a device outside the sample meets, by a branch on a value, is found by `build`.";
    SecretUnresolved "SC0902" "secret-unresolved" Error
        "A template asks for a secret that no secret source provides.";
    UnsafePath "SC0903" "unsafe-path" Error
        "An output path derived from site data would leave the output directory or is not a plain relative path, or two templates write one file (an added template with the name of another's output, such as `node/etc/apt/sources.list.d/debian.sources.j2` beside `{repo}.sources.j2` with a repository `debian`): both templates are named. `check` finds the templates' collisions on the devices it renders.";
    SecretInvalid "SC0904" "secret-invalid" Error
        "A secret whose value its consumer refuses. A BGP password (`bgp-peer … password secret=…`, FRR's `neighbor … password`) that is empty, holds white space or a control character, or is longer than 80 bytes (the TCP MD5 key limit: bgpd refuses the line, and the session comes up without authentication, which the provider refuses). Values are read only by `build`, so `check` cannot see it: the build stops before rendering, at the reference in the site files, naming the secret and where its value came from (the environment variable or the secrets file), never the value.";
    SecretEnvCollision "SC0905" "secret-env-collision" Error
        "Two different secret names referenced in the site (BGP passwords, `secret=` in `vars`) map to one environment variable (`bgp/transit-a` and `bgp-transit/a` are both SITECONF_SECRET_BGP_TRANSIT_A: upper-cased, `-` `.` `/` as `_`). The environment wins over the secrets file, so a value set there is used for both: one peer gets the other's password. Both names and the variable are named.";
    TemplateOutputEmpty "SC0906" "template-output-empty" Warning
        "An overridden template that the fleet depends on rendered nothing for a device, so its file is not written (an empty output writes no file). The templates watched, and why: the netplan file (`node/etc/netplan/50-siteconf.yaml.j2`: without it the node has no network config, and cloud-init's `network-config` seed, made from it, is left out too, so cloud-init falls back to DHCP on the first NIC, which on a routed node is a BGP uplink with no DHCP server); the sshd drop-in (`…/sshd_config.d/50-siteconf.conf.j2`: it points sshd at `/etc/ssh/authorized_keys/%u`, where siteconf writes the users' keys, so without it no key works); `node/hostname.j2`; the NoCloud seed's `meta-data` and `user-data` (cloud-init finds no NoCloud datasource without both); and FRR's `frr.conf` and `daemons` on a node with BGP sessions, `frr.conf` on a switch with an ASN (no routes to or from the device). Built-in templates are not watched. `build` checks every device, `check` every device of a site of up to 3,000 and a sample of a larger one's nodes (see `siteconf check --help`).";
    TemplateScriptNoSeed "SC0908" "template-script-no-seed" Warning
        "An overridden node boot script (`site/boot/node.ipxe.j2`) renders a node's script without the node's NoCloud seed argument (`ds=nocloud-net;s=<base-url>/nodes/<node>/`) or without its network config (`network-config=`), both of which the built-in script prints with `{{ script.cmdline }}`. The kernel boots with no seed: cloud-init finds no datasource (no hostname, keys or files) and no network config, and falls back to DHCP on the first NIC, which on a routed node is a BGP uplink with no DHCP server: the node is unreachable. The same kind of mistake as SC0906 (an override that renders nothing), for the boot chain; the scripts of a shared bootinfra are the sites' own, so they are checked with them. `build` checks every node's script, `check` those of the nodes it renders.";
    TemplateSeedNoFiles "SC0909" "template-seed-no-files" Warning
        "An overridden `node/cloud-init/user-data.j2` renders a `#cloud-config` user-data that does not carry files of the node it needs on the machine: its authorized keys, sshd drop-in, netplan file, FRR configuration or apt sources (none of their target paths in `write_files`, nor named by a `bootcmd` or `runcmd` command that could fetch them). cloud-init writes only what user-data lists, so the node comes up with no keys (Ansible and the operators locked out), an sshd that does not read siteconf's keys, no FRR config (its BGP sessions never come up) or no apt sources. The first node and a count are named. A user-data that is not `#cloud-config` (a script, a MIME archive) is not looked into. `build` checks every node, `check` the nodes it renders.";
    TemplateOutputInvalid "SC0907" "template-output-invalid" Error
        "An overridden (or added) template rendered a YAML or JSON file that does not parse: a `.yaml`/`.yml`/`.json` output, the cloud-init seed files (`user-data` when it starts with `#cloud-config`, `meta-data`, `network-config`), or a site-wide inventory or Kea file. Its consumer refuses it (`netplan generate`: \"Invalid YAML\", cloud-init, ansible-inventory, kea-dhcp4). The file and the parser's message are named; details are withheld when the file holds a secret. Built-in templates' output is tested with siteconf and not parsed again (cost).";
    // --- network boot --------------------------------------------------------------------------
    BootUrlInvalid "SC1200" "boot-url" Error
        "A boot URL (`base-url`, an image's `kernel`, `initrd` or `root`) that is not an absolute `http://` or `https://` URL with a host, or a base URL whose boot-file URL would not fit the 128-byte DHCP file field.";
    BootinfraDiscoversOthers "SC1218" "bootinfra-discovers-other-sites" Warning
        "A bootinfra serves a site whose boot service boots unknown machines into the discovery image (`unknown \"discover\"`) and a site without a boot service. The bootinfra's Kea offers the boot service's client classes, matched by the client's architecture alone, in every subnet it serves: a machine of the other site that network-boots (a disk that fails, a boot order with the network first) chains to the boot service, is unknown there, and boots the discovery image instead of its own system.";
    BootUrlHttps "SC1217" "boot-url-https" Error
        "The boot `base-url` is `https://` (or an image URL is `https://` on the boot service's host and port). The boot service siteconf builds (`site/boot/nginx.conf`) serves plain HTTP: with an https base URL its nginx listens on port 443 without TLS, so every TLS handshake fails — iPXE fetching its script and images, cloud-init fetching its NoCloud seed (`ds=nocloud-net;s=<base-url>/nodes/<node>/`), UEFI HTTP boot fetching `ipxe.efi` — and no machine boots. These fetches run over http from the boot network. To use TLS, terminate it in a proxy in front of siteconf's nginx, and give as `base-url` the http URL siteconf serves.";
    BootImageUnknown "SC1201" "boot-image-unknown" Error
        "A `boot-image` or `discovery-image` that names no image of the site's `boot`, or a `boot-image` on a site without `boot`. One finding per name, at its first reference, counting the others.";
    BootImageMissing "SC1202" "boot-image-missing" Warning
        "The site has a boot service but a node has no `boot-image`: it gets no boot script, and when it network-boots iPXE finds nothing for its MAC. One finding for all such nodes (the first, a few names and a count), none for nodes that inherit a `boot-image` refused as a name (SC0016) or an undeclared profile.";
    BootDiscovery "SC1203" "boot-discovery" Error
        "The unknown-MAC setup cannot work or would be unsafe: `unknown \"discover\"` without `discovery-image`, or a `discovery-range` outside every DHCP network or not inside the network's `reserved` ranges (its addresses could be allocated to nodes); two discovery ranges that overlap (Kea refuses the configuration); a discovery range that holds the network's gateway, a boot server or a DNS server (an unknown machine would be leased its address).";
    BootPathUnsafe "SC1204" "boot-path" Error
        "A boot directory (`serve-dir`, `images-dir`, `firmware-dir`) that is not an absolute path or holds characters the generated nginx configuration cannot carry (white space, quotes, `;`, `{`, `}`, `$`, `#`), or a base URL path with characters other than letters, digits, `-`, `_` and `/`. Also an `images-dir` or `firmware-dir` (served whole) that is `/` (the whole filesystem would be served) or is, contains or lies inside `serve-dir` (the build output, Kea configuration and inventory included, would be served), and a `serve-dir` of `/`.";
    BootArgsSeed "SC1205" "boot-args-seed" Error
        "An image's `args` sets `ds=` itself: siteconf appends each node's own seed (`ds=nocloud-net;s=…`), and a second `ds=` would point cloud-init at another seed.";
    BootArgsIpxeCommand "SC1222" "boot-args-ipxe-command" Error
        "An image's `args` (or `kernel`, `initrd`, `root` URL) holds a word that iPXE reads as part of its script rather than as a kernel argument: `;`, `||` or `&&` standing alone end the `kernel` command (iPXE's `command_terminator`), and a word starting with `#` comments out the rest of the line. Each node's script appends the seed (`ds=nocloud-net;s=…`), its `network-config=` and `|| goto failed` to that same line, so they are lost: the kernel boots with no seed (no hostname, keys or static address; cloud-init falls back to DHCP on the first NIC), or iPXE runs the words after `;` as a command of their own (`reboot`: the machine loops). The discovery image's arguments are written the same way. Take the word out, or join it to its neighbour (`a;b`, `x#y` inside a word are kept as written).";
    BootRootUrlUnset "SC1209" "boot-root-url-unset" Error
        "An image's `args` use `${root-url}` but the image has no `root`: each node's iPXE script sets `root-url` only from `root`, and iPXE expands an unset variable to nothing, so the kernel gets `fetch=` (or the like) and boots without its root. The same for `${root-url}` in the image's `kernel`, `initrd` or `root` URL. (Any other variable no script sets is SC1211.)";
    BootNetworkConfigTooLong "SC1206" "boot-network-config-too-long" Error
        "A node's network config does not fit its kernel command line (2047 bytes with the image's `args`), not even the management-only one (the management interface alone: an Ethernet interface with a MAC, or a bond whose members all have one): cloud-init 22.4 takes the network config of an HTTP seed only from the command line (`network-config=`), and without it falls back to DHCP on the first NIC.";
    BootinfraConflict "SC1207" "bootinfra-conflict" Error
        "The sites one bootinfra serves (`[bootinfra.NAME] serves = [...]` in siteconf.toml) cannot share its DHCP, DNS and boot service: their prefixes overlap (one Kea subnet or reverse zone for two sites), they share a domain (one forward zone), their `boot` blocks name different servers or base URLs, or handle unknown machines differently (the one `unknown.ipxe` of the bootinfra: policy and discovery image), their networks share a reverse zone (one `in-addr.arpa` or `ip6.arpa` file for two sites: `10.0.0.0/25` and `10.0.0.128/25`), or a site is served by two bootinfras, or names no site of the project.";
    BootServeCollision "SC1221" "boot-serve-collision" Error
        "Two sites whose boot services run on the same boot server and port (of `base-url`). Each site's boot HTTP service (`site/boot/nginx.conf`) is a whole nginx instance listening on that port on every address of the host: the second cannot bind, and one base URL cannot tell one site's `nodes/<node>/` seeds from the other's (with one `serve-dir`, the second deployment also overwrites the first's files). Give one site other boot servers or another port. The sites of one bootinfra share their boot servers and base URL (SC1207), and a bootinfra joins DHCP, DNS and the iPXE scripts but not the seed service: only one site a bootinfra serves can declare a boot service.";
    RoutingDomainOverlap "SC1219" "routing-domain-overlap" Error
        "Two sites in one `routing-domain` have overlapping network prefixes (both sites' management network 10.0.0.0/16). Each site's nodes have their own prefix on-link, so they look for the other site's addresses on their own link (ARP, neighbour discovery) and never reach them through the router; both sites also write the prefix's reverse zone with only their own PTRs. Give the sites disjoint prefixes, or put them in different routing domains if they never route to each other. (The same addresses in them are SC0102; sites one bootinfra serves are SC1207's.)";
    GroupVarsAcrossSites "SC1220" "group-vars-across-sites" Error
        "A group of the same name has different variables in two sites of one project. The inventory of every site (`siteconf inventory --list`, what Ansible runs) has one group of that name with one set of variables, so one site's hosts would get the other's values. Also reported for different `children`: that inventory joins every site's children of the group, so a site that leaves a child out (`fleet` without `storage`) still has that child's hosts in the group, and in `fleet:&site_b`.";
    BootServerOutside "SC1208" "boot-server-outside" Warning
        "A boot server (`servers`) whose address is inside no declared network's IPv4 prefix: usually a typo; a server on another subnet works only through a DHCP relay and routed TFTP. When one bootinfra serves several sites, a network of any of them counts as declared (they share their boot servers; the one site that declares `boot` may name a server on another site's management network). (A boot server that is a network's network, broadcast or gateway address is SC0302 or SC0303.)";
    BootNotServed "SC1210" "boot-not-served" Error
        "A file the boot chain fetches from the boot service's own nginx (`site/boot/nginx.conf`, which listens on the base URL's port on every address of the boot servers) that it does not serve, so nginx answers 404: an image URL (`kernel`, `initrd`, `root`) under `<base-url>/images/` while no `images-dir` is set, or at any other path of that service than `/images/` (with `images-dir`) and `/firmware/` (with `firmware-dir`); a path whose `..` segments nginx resolves (before matching its locations) to such a path or above the root (the path is read as nginx reads it: `%XX` escapes decoded, so `%2e%2e` is a `..`, runs of `/` merged and `.` segments dropped, so `//images/` and `/./images/` are served); a URL with a `#` (iPXE takes the rest as a fragment and asks for the path before it); or an image URL on a boot server's host under `/images/` or `/firmware/` with no port written while the base URL has another port (nginx listens only on the base URL's port; a port written out is taken as another server on that host); or `firmware uefi-http` without `firmware-dir`, since Kea hands UEFI HTTP boot firmware `<base-url>/firmware/ipxe.efi`. Without a `firmware` line, `uefi-http` is served only when `firmware-dir` is set.";
    BootIpxeVariableUnset "SC1211" "boot-ipxe-variable-unset" Error
        "An image's `kernel`, `initrd`, `root` or `args` holds an iPXE variable (`${name}`) that neither iPXE (its built-in settings: `${netX/mac}`, `${ip}`, `${buildarch}` …) nor siteconf's scripts (`${root-url}`, from the image's `root`) define: iPXE expands it to nothing, so the URL or the kernel argument is cut short (usually a typo: `${root_url}`). (`${root-url}` in an image without `root` is SC1209.)";
    BootForeignHost "SC1212" "boot-foreign-host" Warning
        "An image URL whose host is neither the base URL's host nor one of the boot `servers`: every booting machine fetches it from that host, so it must be reachable from the boot network (routing, firewall, DNS) and stay available. Legitimate for a mirror or an artifact server the site trusts; usually a typo or a leftover from a test setup. Also an image URL on the boot service's host (the base URL's host or a boot server) with a port written out that is not the base URL's (`http://10.0.0.2:8080/images/…` while the base URL is port 80): the boot service's nginx listens only on the base URL's port, so unless another server on that host serves the file, every fetch is refused, iPXE's `kernel` line fails and each machine reboots every 60 s. (The same URL with no port written, while the base URL has one, is SC1210.)";
    BootHostNoRecord "SC1213" "boot-host-no-record" Error
        "The host of `base-url` (or of an image URL) is a name inside the site's own `domain` that the site's zone does not hold (no node, switch or `nsN` name): booting machines resolve it through the site's DNS servers (Kea's `domain-name-servers`), which serve the generated zone, and get NXDOMAIN, so iPXE fetches no script, image or seed.";
    BootSeedSecret "SC1214" "boot-seed-secret" Warning
        "A node's NoCloud seed file (`nodes/<node>/cloud-init/user-data`, …) holds a secret: a template resolved one (`secret()`) into a file the seed embeds. The file is written 0600, so the boot service's nginx, which runs as another user, answers 403 for it and cloud-init's NoCloud datasource gets no seed: the node boots without its identity (hostname, keys, netplan). Only the seed files that embed a secret file are 0600; deliver the secret another way (Ansible).";
    BootListRepeated "SC1215" "boot-list-repeated" Warning
        "A `firmware` class or a boot `servers` address listed twice in the site's `boot`: the repeat changes nothing (each class is one Kea client class; the first server is `next-server`), so it is usually a typo for another class or server.";
    BootNoDhcp "SC1223" "boot-no-dhcp" Error
        "A management network with `dhcp #false` holds the management address of nodes that have a `boot-image` (and no address on a network Kea serves). Kea gets no subnet for that network, so the build writes no host reservation and no iPXE script for those nodes: their PXE firmware gets no lease and they never reach their image or seed, though the site asks for them to be booted over the network. One finding per network, naming a few of the nodes and counting them. Turn DHCP back on for the network, or take `boot-image` away from nodes that are installed another way.";
    BootPxeOverBond "SC1216" "boot-pxe-over-bond" Warning
        "A node the boot service boots (a `boot-image` in effect) has its address on a network Kea serves (`dhcp`, by default `purpose management`) on a VLAN interface: over an LACP (`802.3ad`) bond, over another bond, or over a plain NIC. PXE firmware sends its DHCP untagged from one NIC, while the booted node and cloud-init's network-config send that network tagged on the same port: the node boots only if the switch port carries the network both untagged (native VLAN) and tagged; over an LACP bond it must also let a member forward without LACP (LACP bypass / fallback). The address untagged on the NIC or on the LACP bond itself (native VLAN, with LACP bypass on the switch, which the site cannot express) is not flagged; with a jumbo VLAN on the same interface the untagged network runs at the interface's MTU, which is SC0516, a warning.";
    // --- first boot and automation (SC0910–SC0919) ------------------------------------------------
    AutomationUserNoKey "SC0910" "automation-user-no-key" Error
        "The site's `automation-user` has no `ssh-key` on some nodes: it is created (with sudo) at first boot but nobody can log in as it, so Ansible cannot reach those nodes.";
    AutomationUserInvalid "SC0911" "automation-user-invalid" Error
        "`automation-user` is not a name Debian 12's `useradd` accepts, which is how cloud-init creates it (shadow 4.13: letters, digits, `_`, `.` and `-`, not starting with `-`, not only digits, at most 32 characters; upper case is allowed — only `adduser`'s NAME_REGEX refuses it, and cloud-init does not use adduser), or is `root`, which needs no sudo and must not be reached by automation's key through a sudo rule. The user is not created, so nobody can log in as it.";
    AnsibleUserMismatch "SC0912" "ansible-user-mismatch" Warning
        "A group, or a node's host vars (the site defaults', a profile's or its own `vars`, which outrank every group's), set the Ansible variable `ansible_user` to a user that is not the site's `automation-user`: Ansible logs in as a user that gets no sudo at first boot and cannot `become` root. In host vars it is judged per node against the users holding a key there: a user with no `ssh-key` on the node (`root`, which siteconf gives no key) cannot log in at all, and the node is unreachable. Like SC0068 for `ansible_port`.";
    AutomationKeyExpired "SC0914" "automation-key-expired" Error
        "The automation user's `ssh-key` has an `expiry-time=` option in the past: sshd refuses the key (\"entry expired\") and Ansible cannot log in to any node that has it.";
    AutomationKeyCommand "SC0915" "automation-key-command" Warning
        "The automation user's `ssh-key` has a `command=` option: sshd runs that command instead of what the client asks for, so Ansible's module runs (and its `sftp`/`scp` transfers) all run the forced command and fail.";
    RootKeyUnused "SC0916" "root-key-unused" Warning
        "An `ssh-key` for `root` on nodes whose effective `sshd` has `permit-root-login no`: sshd never accepts the key, so a break-glass key that looks installed does not work.";
    SshKeySystemUser "SC0917" "ssh-key-system-user" Warning
        "An `ssh-key` for a Debian system user (`daemon`, `www-data`, `nobody`…, from base-passwd): cloud-init does not create a user that exists, and that user keeps its shell `/usr/sbin/nologin`, so a login with the key ends at once.";
    UndeclaredGroup "SC0918" "undeclared-group" Warning
        "A `groups` entry of the site defaults, a profile or a node that is no declared group and no group's child, but is close to a declared group (`contrl` beside `control`): the nodes join a new top-level group instead, and leave the declared group and its parents (`fleet`) with their variables, `ansible_user` among them.";
    InvalidNetworkOs "SC0913" "invalid-network-os" Error
        "A switch's `network-os` is not an Ansible platform name (`frr.frr.frr`, `nvidia.nvue.nvue`, `vyos`: one to three dot-separated words of letters, digits and `_`): Ansible cannot load a connection plugin for it, so nothing can push the switch's config.";
    // --- fleet state ---------------------------------------------------------------------------
    StateNeverSeen "SC1001" "never-seen" Warning
        "A declared node appears in none of the observed inputs. A switch's view of a BGP session to it that is not up (Active, Idle, or no session on the port) is no sighting: it is said in the help, as what the node's silence looks like from its switches, not reported as a session to repair (SC1006).";
    StateMiscabled "SC1002" "miscabled" Error
        "LLDP shows an interface on another switch or port than declared. Two machines in each other's place (every interface of each on the ports the other declares) are one finding naming both, not a cable move per interface. When the node's and the switch's LLDP disagree and one of them shows the declared port, it is a warning citing both files: the cable is probably right, and lldpd on the other side is to be checked first.";
    StateMacMismatch "SC1003" "mac-mismatch" Error
        "An observed interface has another MAC address than declared; or a DHCP lease in effect whose client calls itself by a node's name or FQDN comes from a MAC none of the node's interfaces declares (a swapped NIC or a MAC typo: Kea's reservation and netplan match on the declared MAC). Such a MAC is the node's, not an unknown machine.";
    StateHostnameMismatch "SC1004" "hostname-mismatch" Error
        "The host reports a different hostname or FQDN than the compiled artifacts give it.";
    StateAddressMismatch "SC1005" "address-mismatch" Error
        "The host's addresses differ from the declared ones.";
    StateBgpDown "SC1006" "bgp-not-established" Error
        "A declared BGP session is not in state Established, or is missing from a summary given for its host: a node's session to a switch (from either end), a switch's `link` to another switch, or a switch's session to a `bgp-peer`. A node that nothing else sees (no facts, LLDP or lease) and whose switches' sessions to it are down is reported never seen (SC1001) instead, with the switches' view as context: a session that is not up is no sighting.";
    StateUnknownMachine "SC1007" "unknown-machine" Warning
        "A MAC address was observed that no node declares. When that machine has an address the site gives to a node, the collision is an error of its own (SC1021). Not machines to declare, and ignored: an LLDP neighbour on a switch's routed port toward a `bgp-peer` it holds (the transit router), on a switch's out-of-band management port (`eth0`, `mgmt`) that no node is declared on (the OOB switch), the fact file of `localhost` (the Ansible controller), and another site's hosts (SC1009).";
    StateInput "SC1008" "state-input" Error
        "An observed-state input file could not be read or parsed: the file is named, with the line and column where it is broken. The other files are still compared.";
    StateUnknownHost "SC1009" "unknown-host" Warning
        "An observed-state file (LLDP dump, BGP summary; a fact file whose name starts with a declared host's, such as `r01n01.dc2.example.net` beside dc1's `r01n01`) is named after a host the site declares neither as a node nor as a switch, so what it says cannot be compared. Files are matched by exact host name or FQDN. A host that another site of the same project declares (a fact cache or LLDP directory shared by the sites) is that site's: its files, LLDP neighbours and leases are skipped silently and counted in the inputs line (\"10 of site b, not compared\"), never reported here.";
    StateBgpWrongPeer "SC1010" "bgp-wrong-peer" Error
        "A declared BGP session is established, but with another router than the declared peer (FRR's `hostname` of the neighbour): usually a cable on the wrong switch.";
    StateInterfaceMissing "SC1011" "interface-missing" Error
        "A declared interface is not on the host: absent altogether (error), or present under another name, found by its MAC (warning).";
    StateDuplicateInput "SC1012" "duplicate-input" Warning
        "Two observed-state files of one kind (fact files, LLDP dumps, BGP summaries) are about the same declared host, e.g. `r01n01` and `r01n01.dc1.example.net` in one fact cache: only one is compared (the one named by the host's FQDN, then by its short name, then found by a declared MAC), and the other is named so that a stale file never stands in silently for the current one.";
    StateInputLimit "SC1013" "state-input-limit" Warning
        "An observed-state input holds more than is kept of it: a Kea lease file with more than 1,000 clients that no node accounts for (unknown MACs, declined leases). The first are compared, the rows of the others counted, so that memory follows the declared fleet and not a file the machines write (a DHCP flood, or another network's leases); the file is named.";
    StateStubAddressOutside "SC1014" "stub-address-outside" Warning
        "`state --stub` found an address on the machine (fact cache, DHCP lease) in no network the site declares, or a loopback address outside every network of purpose loopback. The stub never writes `auto` for it, which would allocate another address and renumber a machine in production: an interface address is written on the network \"FILL-IN\", which `check` rejects until the network it is on is declared and named there; a loopback is kept as observed and said beside it.";
    StateStubAddressTaken "SC1015" "stub-address-taken" Warning
        "`state --stub` kept an address the machine has that the site already gives to something else or keeps from nodes: another node's address or loopback (fixed or allocated), a switch loopback, a gateway, a DNS server, a `reserved` range, a line of siteconf.lock, or a network's own or broadcast address. The stub writes it as observed, so `check` reports the collision at the stub until someone decides which machine keeps it; writing `auto` instead would silently renumber the machine being adopted. A *released* lock line of another owner is said more softly: siteconf gives the address to no machine and `check` accepts the stub, but the machine that had it may still answer on it. A lock line of the node the stub declares (a machine adopted back under its old name) is its own value: said in the stub's comment, not reported.";
    StateStubAddressNotKept "SC1016" "stub-address-not-kept" Warning
        "`state --stub` found an address the machine has that the stub cannot declare as it is: a second address of a family on one network (a node has one), an address on an interface siteconf does not declare (a bridge, a container's or VM's interface), the same network on two interfaces, or a prefix length other than the network's. Applying the machine's netplan drops or changes it: move what uses it, or correct the site, before building the adopted machine.";
    StateStubBgpUndecided "SC1017" "stub-bgp-undecided" Warning
        "`state --stub` writes the machine's BGP as its FRR runs it (`--bgp`): its own AS literally (never `auto`, which would renumber it) and one session per neighbour, to the declared switch it is cabled to (unnumbered) or whose address it peers with (numbered). Without them the built FRR, netplan (`link-local`) and switches drop its sessions and its loopback becomes unreachable. What it cannot write as observed is commented `DECIDE` and reported here: an AS another node or switch has or the lock holds for another owner, an AS not observed, a neighbour on no declared switch or interface, a second session to one switch, a far end whose ASN or name disagrees with the switch it is cabled to.";
    StateBgpWrongAsn "SC1020" "bgp-wrong-asn" Error
        "A host's FRR runs another AS than declared (the summary's own `as`; for a node without a summary of its own, the `remoteAs` its switches see), or a session is Established with a `remoteAs` other than the declared peer's ASN (a switch's `asn`, a `bgp-peer`'s). The built FRR peers nodes and switches with `remote-as external`, so such sessions come up anyway: with an AS another host runs (named in the message), eBGP loop prevention drops the routes between the two, and their loopbacks cannot reach each other.";
    StateAddressCollision "SC1021" "address-collision" Error
        "A machine no node declares (an unknown MAC in a DHCP lease, an unknown host's facts) has an address the site gives to a node. Two machines answer for one address: ARP flips between them and the node's traffic, DNS name and Ansible connections reach either. A lease of the node at that address that the unknown client's row replaced in Kea's journal is named too. Find the machine (switch port, MAC) and remove it or renumber it; `state --stub` declares it.";
    StateStaleObservation "SC1022" "stale-observation" Warning
        "An observation is old: a fact file whose `ansible_date_time.epoch` is more than 7 days older than the newest fact file of the cache (Ansible keeps a host's cached facts after it stops answering). Age by itself is no drift (a rack that a rolling maintenance has not reached yet): it is never a finding of its own, only a note on the findings read from that file (\"old facts: N days older than the newest fact file, SC1022\"), which may describe the machine as it was then: refresh the facts (`ansible -m setup`) before acting on them. The reference is the newest observation in the inputs, never the clock, so a report made from archived inputs is the same. Kea leases whose `expire` is earlier than the newest client activity in the file (`expire` − `valid_lifetime`) had lapsed when the file was written: they are not compared, and counted in the summary line.";
    StateSwitchSilent "SC1023" "switch-silent" Error
        "A declared switch that nothing hears: no BGP summary, LLDP dump or fact file of its own, no node's LLDP shows it, and every session to it that its peers' summaries show (nodes' uplinks, other switches' links) is down or not configured. One finding at the switch, naming what its peers see, instead of one SC1006 per session: the cause is the switch (power, bgpd), and its nodes run on their other uplink without redundancy. A node in that state is never seen (SC1001).";
    StateStubBondParamsNotKept "SC1019" "stub-bond-params-not-kept" Warning
        "`state --stub` found a bond whose parameters the site format cannot hold: it has `mode` only, and siteconf's netplan sets only the mode, so the stub says `not kept` and, when the machine's netplan is applied, the bond runs the kernel's defaults. Reported for `lacp_rate` other than slow (with slow LACP a member whose partner stops answering while its link stays up is taken out after 90 s instead of 3 s), `miimon` other than 100, and any `primary`. Keep them with a template override of the node's netplan, or accept the defaults knowingly.";
    StateStubVlanUndecided "SC1018" "stub-vlan-undecided" Warning
        "`state --stub` found a VLAN interface whose VLAN id was not observed: Ansible reports a VLAN as `type: ether` with its parent's MAC, without a driver (`module`) and without the id, so a VLAN named other than `parent.id` (siteconf names them `storage0`) is written as `kind vlan` over the bond or NIC whose MAC it has, never as a NIC with that MAC. Its id is the VLAN of the network its address is on, said `DECIDE`, or `FILL-IN` (which `check` rejects) when there is none. A wrong id moves the interface to another VLAN when its netplan is applied. Facts that give no driver at all cannot tell a NIC from a VLAN over it: of two NIC-looking interfaces with one MAC, the first by name is declared and the other left out with this warning.";
}
