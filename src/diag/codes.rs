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
        "A site file is not valid KDL or TOML. The parser's own message is shown at the exact place; nothing else in that file is checked until it parses.";
    UnknownEntity "SC0002" "unknown-entity" Error
        "A top-level entry is not one of the site's entities (site, network, rack, switch, node, bgp-peer, profile, group). Usually a typo: the hint names the closest entity.";
    UnknownField "SC0003" "unknown-field" Error
        "A field that the entity does not have. Silently ignoring it would hide a typo such as `postion`, so it is an error; the hint names the closest field.";
    WrongType "SC0004" "wrong-type" Error
        "A field has a value of the wrong kind (a string where a number is expected, a list where one value is expected, a block where a value is expected).";
    MissingField "SC0005" "missing-field" Error
        "A required field is absent, e.g. a node without `rack` or a network without any prefix.";
    DuplicateField "SC0006" "duplicate-field" Error
        "A field given twice in one block. Which one should win is not obvious to a reader, so both places are shown.";
    InvalidValue "SC0007" "invalid-value" Error
        "A value that is not valid for its field: out of range, not one of the allowed words, a malformed range.";
    ProjectConfig "SC0008" "project-config" Error
        "siteconf.toml or another project file could not be read or is invalid.";
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
        "A name used as a host name or DNS label that is not 1–63 letters, digits and hyphens, starting and ending with a letter or digit.";
    InvalidFqdn "SC0017" "invalid-fqdn" Error
        "A domain or fully qualified name longer than 253 characters or with an invalid label.";
    InvalidSshKey "SC0018" "invalid-ssh-key" Error
        "An SSH public key that is not `TYPE BASE64 [comment]` with a known key type and a base64 body whose embedded type matches.";
    InvalidRepoUrl "SC0019" "invalid-repo-url" Error
        "A package repository URI that is not an absolute http, https or file URL.";
    InvalidRackUnit "SC0020" "invalid-rack-unit" Error
        "A rack position or height that is zero or larger than any rack (60U).";
    ProjectPathRefused "SC0021" "project-path-refused" Error
        "A project file or directory is a symbolic link, or a configured directory (`site-dir`, `templates-dir`) is absolute or leaves the project with `..`. siteconf reads only regular files inside the project, so a committed link to `/proc/self/environ` or `.git/config` is never read or quoted.";
    // --- duplicates ----------------------------------------------------------
    DuplicateName "SC0101" "duplicate-name" Error
        "Two entities of the same kind share a name (hostnames, racks, switches, networks, profiles, groups). Names are identities: inventory, DNS and output paths would collide.";
    DuplicateIp "SC0102" "duplicate-ip" Error
        "The same IP address is given to two places (node addresses, loopbacks, switch loopbacks, gateways). Both places are shown.";
    DuplicateMac "SC0103" "duplicate-mac" Error
        "Two interfaces declare the same MAC address; DHCP reservations and netplan matching would pick the wrong machine.";
    DuplicateAsn "SC0104" "duplicate-asn" Error
        "Two devices that must have distinct AS numbers share one (each node and each switch has its own ASN in routing on the host).";
    DuplicateVlan "SC0105" "duplicate-vlan" Error
        "Two networks use the same VLAN id.";
    DuplicatePrefix "SC0106" "overlapping-prefix" Error
        "Two networks have overlapping prefixes, so an address could belong to either.";
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
        "A node or profile names a profile that is not declared.";
    UnknownInterface "SC0206" "unknown-interface" Error
        "An address, bond, VLAN or BGP session names an interface the node does not have.";
    // --- addressing --------------------------------------------------------------
    AddressOutsideNetwork "SC0301" "address-outside-network" Error
        "An address (or gateway, reserved range, pool) is not inside its network's prefix.";
    AddressIsNetworkOrBroadcast "SC0302" "address-not-host" Error
        "An address equals its network's network address or IPv4 broadcast address, which no host may use.";
    AddressIsGateway "SC0303" "address-is-gateway" Error
        "A host address equals the network's gateway.";
    AddressInReserved "SC0304" "address-in-reserved-range" Error
        "A host address falls inside a range the network reserves (for switches, VIPs, DHCP).";
    MissingAddressFamily "SC0305" "network-lacks-family" Error
        "An address of a family (IPv4 or IPv6) the network has no prefix for.";
    // --- racks ---------------------------------------------------------------------
    RackUnitOverlap "SC0401" "rack-unit-overlap" Error
        "Two devices occupy the same rack unit. Both devices are shown.";
    BeyondRackHeight "SC0402" "beyond-rack-height" Error
        "A device extends above the top of its rack.";
    // --- cabling and links -------------------------------------------------------------
    PortCabledTwice "SC0501" "port-cabled-twice" Error
        "Two interfaces are cabled to the same switch port. Both are shown.";
    MtuExceedsNetwork "SC0502" "mtu-exceeds-network" Error
        "An interface's MTU is larger than that of the network it carries: frames would be dropped on the path.";
    VlanMismatch "SC0503" "vlan-mismatch" Error
        "A VLAN interface carries a network whose VLAN id is a different one.";
    InterfaceKind "SC0504" "interface-kind" Error
        "An interface's fields do not fit its kind: a bond without members, a VLAN without a parent, an ethernet without a MAC, a member that is itself in another bond.";
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
        "An unnumbered BGP session runs over an interface that is not cabled to that switch.";
    SecretVarInvalid "SC0607" "secret-var-invalid" Error
        "A secret reference in `vars` (`NAME secret=\"ipmi/r01\"`) that is not one: `secret` beside other keys, a `secret` that is not a string, or a secret name that is not a path-like name of letters, digits, `-`, `_`, `.` and `/`.";
    // --- profiles and groups ---------------------------------------------------------------
    ProfileCycle "SC0701" "profile-cycle" Error
        "Profiles include each other in a cycle; the whole cycle is shown.";
    // --- allocation and lock -----------------------------------------------------------------
    PoolExhausted "SC0801" "pool-exhausted" Error
        "An address, loopback or ASN pool has no free value left for a node that asks for one.";
    LockDuplicate "SC0802" "lock-duplicate" Error
        "siteconf.lock gives one value to two owners, typically after merging two branches that each took the next free value.";
    AllocationCollision "SC0803" "allocation-collision" Error
        "A fixed value equals a value allocated to another owner in siteconf.lock.";
    LockOutOfDate "SC0804" "lock-out-of-date" Error
        "With --locked: the site needs allocations that siteconf.lock does not have yet (run `siteconf lock`).";
    LockSyntax "SC0805" "lock-syntax" Error
        "A line of siteconf.lock that cannot be read.";
    NoPool "SC0806" "no-pool" Error
        "A value is asked for with `auto` but there is no pool to allocate it from.";
    LockConflictMarkers "SC0807" "lock-conflict-markers" Error
        "siteconf.lock still holds git conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`). One finding per conflict block; where both sides give a value to the same owner and key, both are named.";
    LockTwoValues "SC0808" "lock-two-values" Error
        "Two lines of siteconf.lock for one owner and key (a merge that kept both sides). Neither wins: the node could otherwise be renumbered. Both lines and values are named.";
    LockUnknownEntry "SC0809" "lock-unknown-entry" Error
        "A lock line whose owner kind, key kind or network does not exist (`ipv3`, a network the site does not declare). It is never silently released or re-allocated.";
    LockDamagedLine "SC0810" "lock-damaged-line" Error
        "A lock line for an owner or key that is not in the site but one character away from a request that has no lock line (`r01m02` for `r01n02`): a damaged line, which would otherwise make the node get a new value.";
    LockVersion "SC0811" "lock-version" Error
        "siteconf.lock declares a format version this siteconf does not read, or a `version` line that is not the first entry.";
    // --- rendering -----------------------------------------------------------------------------
    TemplateError "SC0901" "template-error" Error
        "A template failed to render (syntax error, undefined variable, failing filter). The template file, line and the node being rendered are named.";
    SecretUnresolved "SC0902" "secret-unresolved" Error
        "A template asks for a secret that no secret source provides.";
    UnsafePath "SC0903" "unsafe-path" Error
        "An output path derived from site data would leave the output directory or is not a plain relative path.";
    // --- fleet state ---------------------------------------------------------------------------
    StateNeverSeen "SC1001" "never-seen" Warning
        "A declared node appears in none of the observed inputs.";
    StateMiscabled "SC1002" "miscabled" Error
        "LLDP shows an interface on another switch or port than declared.";
    StateMacMismatch "SC1003" "mac-mismatch" Error
        "An observed interface has another MAC address than declared.";
    StateHostnameMismatch "SC1004" "hostname-mismatch" Error
        "The host reports a different hostname or FQDN than the compiled artifacts give it.";
    StateAddressMismatch "SC1005" "address-mismatch" Error
        "The host's addresses differ from the declared ones.";
    StateBgpDown "SC1006" "bgp-not-established" Error
        "A declared BGP session is not in state Established.";
    StateUnknownMachine "SC1007" "unknown-machine" Warning
        "A MAC address was observed that no node declares.";
    StateInput "SC1008" "state-input" Error
        "An observed-state input file could not be read or parsed: the file is named, with the line and column where it is broken. The other files are still compared.";
    StateUnknownHost "SC1009" "unknown-host" Warning
        "An observed-state file (LLDP dump, BGP summary) is named after a host the site declares neither as a node nor as a switch, so what it says cannot be compared.";
    StateBgpWrongPeer "SC1010" "bgp-wrong-peer" Error
        "A declared BGP session is established, but with another router than the declared peer (FRR's `hostname` of the neighbour): usually a cable on the wrong switch.";
    StateInterfaceMissing "SC1011" "interface-missing" Error
        "A declared interface is not on the host: absent altogether (error), or present under another name, found by its MAC (warning).";
}
