//! Shared by the review tests and the diff benchmark: a compact generator
//! of sites of any size, the lock file the site would get, and throwaway git
//! repositories with a working tree, built with git2.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Oid, Repository, Signature};
use siteconf::check::Checked;
use siteconf::diag::Diagnostics;
use siteconf::output::{Artifact, OutputSet, Owner};
use siteconf::render::context::site_view;
use siteconf::source::{MemSource, Source};

/// Files of a project, by path.
pub type Files = BTreeMap<String, String>;

/// A generated site: `racks` racks of `per_rack` compute nodes, one ToR per
/// rack, a `compute` profile carrying sshd settings and a repo, and an
/// upstream BGP peer with a password secret on the first ToR.
#[derive(Debug, Clone)]
pub struct Gen {
    pub racks: u32,
    pub per_rack: u32,
    pub permit_root_login: String,
    /// Write rack files as TOML instead of KDL (same site).
    pub toml: bool,
}

impl Gen {
    pub fn new(racks: u32, per_rack: u32) -> Gen {
        Gen {
            racks,
            per_rack,
            permit_root_login: "no".into(),
            toml: false,
        }
    }

    pub fn rack(r: u32) -> String {
        format!("r{r:03}")
    }

    pub fn node(r: u32, n: u32) -> String {
        format!("r{r:03}n{n:02}")
    }

    /// The node block, as it appears in the rack file.
    pub fn node_block(r: u32, n: u32) -> String {
        let rack = Gen::rack(r);
        let name = Gen::node(r, n);
        format!(
            "node {name} {{\n    rack {rack}\n    position {n}\n    role compute\n    profiles compute\n    \
             interface eno1 {{ mac \"52:54:{:02x}:{:02x}:00:{:02x}\"; switch {rack}-tor1; port swp{n}; mtu 9000; }}\n    \
             address mgmt interface=eno1 ipv4=auto\n    loopback ipv4=auto\n    \
             bgp asn=auto {{ session {rack}-tor1 interface=eno1; }}\n}}\n",
            r / 256,
            r % 256,
            n
        )
    }

    pub fn files(&self) -> Files {
        let mut f = Files::new();
        f.insert(
            "siteconf.toml".into(),
            "[diff]\ndefault-branch = \"main\"\n".into(),
        );
        f.insert(
            "site/site.kdl".into(),
            "site dc1 {\n    domain \"dc1.example.net\"\n    asn-pool \"4200000000-4200099999\"\n    dns-servers \"10.0.0.2\"\n}\n\
             network mgmt {\n    purpose management\n    vlan 100\n    ipv4 \"10.0.0.0/16\"\n    gateway4 \"10.0.0.1\"\n    reserved \"10.0.0.1-10.0.0.31\"\n    mtu 9000\n}\n\
             network lo {\n    purpose loopback\n    ipv4 \"10.255.0.0/16\"\n}\n\
             network lo-switches {\n    purpose loopback\n    ipv4 \"10.254.0.0/16\"\n}\n\
             bgp-peer upstream1 {\n    asn 64512\n    address \"192.0.2.1\"\n    password secret=\"upstream1\"\n    switches r001-tor1\n    multihop 2\n}\n"
                .into(),
        );
        f.insert(
            "site/profiles.kdl".into(),
            format!(
                "profile compute {{\n    groups compute\n    sshd {{ permit-root-login \"{}\"; }}\n    \
                 repo main {{ uris \"http://deb.example.net/debian\"; suites \"bookworm\"; components \"main\"; }}\n}}\n",
                self.permit_root_login
            ),
        );
        for r in 1..=self.racks {
            if self.toml {
                f.insert(format!("site/{}.toml", Gen::rack(r)), self.rack_toml(r));
                continue;
            }
            let rack = Gen::rack(r);
            let links: String = self
                .links(r)
                .iter()
                .map(|(port, peer, peer_port)| {
                    format!(" link {port} {{ peer {peer}; peer-port {peer_port}; }};")
                })
                .collect();
            let mut s = format!(
                "rack {rack} {{ height 48; }}\nswitch {rack}-tor1 {{ rack {rack}; position 48; asn {}; loopback4 \"10.254.{}.{}\"; ports \"swp1-50\";{links} }}\n",
                4_200_100_000u64 + u64::from(r),
                r / 256,
                r % 256
            );
            for n in 1..=self.per_rack {
                s.push_str(&Gen::node_block(r, n));
            }
            f.insert(format!("site/{rack}.kdl"), s);
        }
        f
    }
}

impl Gen {
    /// The ToRs are chained rack to rack (swp49 to the next, swp50 to
    /// the previous), so that the fabric is one and reaches the first
    /// rack's external peer: (port, peer, peer port).
    pub fn links(&self, r: u32) -> Vec<(&'static str, String, &'static str)> {
        let mut out = Vec::new();
        if r < self.racks {
            out.push(("swp49", format!("{}-tor1", Gen::rack(r + 1)), "swp50"));
        }
        if r > 1 {
            out.push(("swp50", format!("{}-tor1", Gen::rack(r - 1)), "swp49"));
        }
        out
    }

    /// One rack file in TOML: the same declarations as the KDL one.
    pub fn rack_toml(&self, r: u32) -> String {
        let rack = Gen::rack(r);
        let mut s = format!(
            "[rack.{rack}]\nheight = 48\n\n[switch.{rack}-tor1]\nrack = \"{rack}\"\nposition = 48\nasn = {}\nloopback4 = \"10.254.{}.{}\"\nports = \"swp1-50\"\n",
            4_200_100_000u64 + u64::from(r),
            r / 256,
            r % 256
        );
        for (port, peer, peer_port) in self.links(r) {
            s.push_str(&format!(
                "link.{port} = {{ peer = \"{peer}\", peer-port = \"{peer_port}\" }}\n"
            ));
        }
        for n in 1..=self.per_rack {
            let name = Gen::node(r, n);
            s.push_str(&format!(
                "\n[node.{name}]\nrack = \"{rack}\"\nposition = {n}\nrole = \"compute\"\nprofiles = [\"compute\"]\n\
                 interface.eno1 = {{ mac = \"52:54:{:02x}:{:02x}:00:{:02x}\", switch = \"{rack}-tor1\", port = \"swp{n}\", mtu = 9000 }}\n\
                 address.mgmt = {{ interface = \"eno1\", ipv4 = \"auto\" }}\n\
                 loopback = {{ ipv4 = \"auto\" }}\n\
                 bgp = {{ asn = \"auto\", session = {{ \"{rack}-tor1\" = {{ interface = \"eno1\" }} }} }}\n",
                r / 256,
                r % 256,
                n
            ));
        }
        s
    }
}

/// The lock the site needs, allocated on top of `previous` (so values
/// already allocated stay, as `siteconf lock` keeps them).
pub fn lock_for(files: &Files, previous: Option<&str>) -> String {
    let mut src = MemSource::new();
    for (p, t) in files {
        if p != "siteconf.lock" {
            src.insert(p.clone(), t.clone());
        }
    }
    if let Some(prev) = previous {
        src.insert("siteconf.lock", prev);
    }
    let checked = siteconf::check::check(&src);
    let errors: Vec<String> = checked
        .diags
        .iter()
        .filter(|d| d.severity == siteconf::diag::Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(
        errors.is_empty(),
        "generated site does not check: {errors:?}"
    );
    checked.resolved.lock.to_text()
}

/// Files plus their lock, allocated on top of the previous lock.
pub fn with_lock(mut files: Files, previous: Option<&Files>) -> Files {
    let prev = previous
        .and_then(|p| p.get("siteconf.lock"))
        .map(String::as_str);
    let lock = lock_for(&files, prev);
    files.insert("siteconf.lock".into(), lock);
    files
}

/// A git repository in a temporary directory, with a working tree.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
}

impl TestRepo {
    /// An empty repository whose HEAD is `main`.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("git init");
        repo.set_head("refs/heads/main").expect("HEAD → main");
        TestRepo { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the working tree hold exactly `files` (under `prefix`, a
    /// subdirectory or ""), stages everything and commits on HEAD's branch.
    pub fn commit(&self, prefix: &str, files: &Files, message: &str) -> Oid {
        self.write_tree(prefix, files);
        let mut index = self.repo.index().expect("index");
        index.clear().expect("clear index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("git add");
        index.write().expect("write index");
        let tree_id = index.write_tree().expect("write tree");
        let tree = self.repo.find_tree(tree_id).expect("tree");
        let sig = Signature::new(
            "Test",
            "test@example.net",
            &git2::Time::new(1_700_000_000, 0),
        )
        .expect("signature");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    /// Replaces the working tree's files (all but .git) with `files`.
    pub fn write_tree(&self, prefix: &str, files: &Files) {
        for entry in std::fs::read_dir(self.path()).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                std::fs::remove_dir_all(&p).expect("rm dir");
            } else {
                std::fs::remove_file(&p).expect("rm");
            }
        }
        for (rel, text) in files {
            let path = if prefix.is_empty() {
                self.path().join(rel)
            } else {
                self.path().join(prefix).join(rel)
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(&path, text).expect("write");
        }
    }

    /// Creates branch `name` at `commit` and makes it HEAD (without
    /// touching the working tree).
    pub fn branch(&self, name: &str, commit: Oid) {
        let c = self.repo.find_commit(commit).expect("commit");
        self.repo.branch(name, &c, true).expect("branch");
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set head");
    }
}

/// A renderer for grouping tests (`review::Renderer`): one netplan-like
/// file per node whose diff context holds the node's own MAC. The engine's
/// netplan keeps MACs out of a changed MTU's context, so this is how a test
/// makes grouping normalise node-specific lines (`<mac:eno1>`).
pub fn mac_in_context(checked: &Checked, _src: &dyn Source) -> Result<OutputSet, Diagnostics> {
    let view = site_view(&checked.effective());
    let mut out = OutputSet::default();
    for n in &view.nodes {
        let mut np = String::from("network:\n  version: 2\n  ethernets:\n");
        for i in n.interfaces.iter().filter(|i| i.kind == "ethernet") {
            np.push_str(&format!("    {}:\n", i.name));
            if let Some(mac) = &i.mac {
                np.push_str(&format!("      match:\n        macaddress: \"{mac}\"\n"));
            }
            np.push_str(&format!("      mtu: {}\n", i.mtu));
        }
        out.insert(Artifact::new(
            format!("nodes/{}/etc/netplan/50-siteconf.yaml", n.name),
            np,
            Owner::Node(n.name.clone()),
            "netplan",
        ));
    }
    Ok(out)
}
