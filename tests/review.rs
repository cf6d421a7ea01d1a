//! Review from git, end to end: sources that read revisions and the index,
//! `siteconf diff` (grouping, summary, lock and session changes, formats,
//! secrets) and `siteconf gate` (pass, blocked, unblocked by approval), on
//! throwaway repositories with several commits.

#[path = "review_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use siteconf::check::Checked;
use siteconf::diag::Diagnostics;
use siteconf::output::{Artifact, OutputSet, Owner};
use siteconf::review::{self, Compiled, Filter, Review};
use siteconf::source::{GitProject, Source};
use support::{with_lock, Files, Gen, TestRepo};

// ---------------------------------------------------------------- helpers

fn siteconf(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_siteconf"));
    cmd.args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env_remove("SITECONF_APPROVED_BY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run siteconf")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(o), stderr(o)))
}

/// A repository with `main` = `base` and branch `feature` = `head`
/// checked out (working tree = head).
/// `siteconf diff main feature` in `repo`, with `extra` arguments: its stdout.
fn diff_main_feature(repo: &TestRepo, extra: &[&str]) -> String {
    let mut args = vec!["diff", "main", "feature"];
    args.extend_from_slice(extra);
    stdout(&siteconf(repo.path(), &args, &[]))
}

fn two_commits(base: &Files, head: &Files) -> TestRepo {
    let repo = TestRepo::new();
    let b = repo.commit("", base, "base");
    repo.branch("feature", b);
    repo.commit("", head, "head");
    // `main` stays at base.
    {
        let c = repo.repo.find_commit(b).expect("base commit");
        repo.repo.branch("main", &c, true).expect("main");
    }
    repo
}

fn compile_rev(repo: &TestRepo, rev: &str, renderer: &dyn review::Renderer) -> Compiled {
    let project = GitProject::discover(repo.path()).expect("discover");
    let src = project.rev_source(rev).expect("rev");
    match review::compile(&src, rev, renderer) {
        Ok(c) => c,
        Err(f) => panic!("{rev} does not compile: {:?}", f.diagnostics),
    }
}

/// `main` and `feature` compiled together, as `siteconf diff` does
/// (`compile_both`: each side leaves out what has the other's key).
fn compile_main_feature(repo: &TestRepo) -> (Compiled, Compiled) {
    let project = GitProject::discover(repo.path()).expect("discover");
    let (bs, hs) = (
        project.rev_source("main").expect("main"),
        project.rev_source("feature").expect("feature"),
    );
    let (kb, kh) = review::compile_both((&bs, "main"), (&hs, "feature"), &review::Engine);
    (kb.expect("base compiles"), kh.expect("head compiles"))
}

/// The review `siteconf diff` builds: both sides rendered by the engine.
fn review_of(repo: &TestRepo, base: &str, head: &str) -> Review {
    let mut b = compile_rev(repo, base, &review::Engine);
    let h = compile_rev(repo, head, &review::Engine);
    // As `compile_both` does: a renamed site's devices are compared with
    // themselves.
    review::rename_sites(&mut b, &h);
    review::rename_nodes::rename_nodes(&mut b, &h);
    Review::build(&b, &h, &Filter::default())
}

fn base_site() -> Files {
    with_lock(Gen::new(3, 4).files(), None)
}

// ---------------------------------------------------------------- sources

#[test]
fn rev_source_reads_objects_not_the_working_tree() {
    let repo = TestRepo::new();
    let mut v1 = Files::new();
    v1.insert("site/a.kdl".into(), "one\n".into());
    v1.insert("site/deep/b.toml".into(), "two\n".into());
    v1.insert("docs/readme.md".into(), "x\n".into());
    repo.commit("", &v1, "v1");
    let mut v2 = v1.clone();
    v2.insert("site/a.kdl".into(), "changed\n".into());
    repo.commit("", &v2, "v2");
    // Uncommitted edit in the working tree.
    std::fs::write(repo.path().join("site/a.kdl"), "dirty\n").expect("write");

    let project = GitProject::discover(repo.path()).expect("discover");
    let old = project.rev_source("HEAD~1").expect("HEAD~1");
    assert_eq!(
        old.read_text("site/a.kdl").expect("read"),
        Some("one\n".into())
    );
    assert_eq!(
        old.list("site").expect("list"),
        vec!["site/a.kdl", "site/deep/b.toml"]
    );
    assert_eq!(old.list("nope").expect("list"), Vec::<String>::new());
    assert_eq!(old.read("site/missing.kdl").expect("read"), None);
    assert!(old.read("site").is_err(), "a directory is not a file");
    assert!(old.describe().contains("HEAD~1"), "{}", old.describe());
    let new = project.rev_source("HEAD").expect("HEAD");
    assert_eq!(
        new.read_text("site/a.kdl").expect("read"),
        Some("changed\n".into())
    );
    // Tags and full ids resolve too.
    let head = project.resolve("HEAD").expect("resolve");
    let tagged = repo.repo.find_object(head, None).expect("obj");
    repo.repo
        .tag_lightweight("v1.0", &tagged, false)
        .expect("tag");
    assert!(project.rev_source("v1.0").is_ok());
    assert!(project.rev_source(&head.to_string()).is_ok());
}

#[test]
fn unknown_revision_is_a_clear_error() {
    let repo = TestRepo::new();
    let mut f = Files::new();
    f.insert("site/a.kdl".into(), "x\n".into());
    repo.commit("", &f, "one");
    let project = GitProject::discover(repo.path()).expect("discover");
    let e = project.rev_source("no-such-branch").expect_err("must fail");
    assert!(
        e.message.contains("revision `no-such-branch` not found"),
        "{e}"
    );
    assert!(e.help.is_some());
    let e = project.rev_source("HEAD~5").expect_err("must fail");
    assert!(e.message.contains("HEAD~5"), "{e}");

    let o = siteconf(repo.path(), &["check", "--rev", "nope"], &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("revision `nope` not found"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn project_in_a_subdirectory_maps_paths() {
    let repo = TestRepo::new();
    let files = base_site();
    repo.commit("infra/fleet", &files, "site in a subdirectory");
    let root = repo.path().join("infra/fleet");
    let project = GitProject::discover(&root).expect("discover");
    assert_eq!(project.prefix(), "infra/fleet");
    let src = project.rev_source("HEAD").expect("HEAD");
    let listed = src.list("site").expect("list");
    assert!(listed.contains(&"site/r001.kdl".to_string()), "{listed:?}");
    assert!(src.read("siteconf.toml").expect("read").is_some());

    let o = siteconf(&root, &["check", "--rev", "HEAD"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("check passed (revision HEAD"),
        "{}",
        stderr(&o)
    );
    // From a deeper directory, the project is still found.
    std::fs::create_dir_all(root.join("site/sub")).expect("mkdir");
    let o = siteconf(&root.join("site/sub"), &["check", "--rev", "HEAD"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn symlinks_submodules_and_non_utf8_are_skipped_with_a_note() {
    use std::os::unix::ffi::OsStrExt;
    let repo = TestRepo::new();
    let files = base_site();
    repo.write_tree("", &files);
    std::os::unix::fs::symlink("/etc/passwd", repo.path().join("site/link.kdl")).expect("symlink");
    let odd = std::ffi::OsStr::from_bytes(b"site/\xffodd.kdl");
    std::fs::write(repo.path().join(odd), "x\n").expect("odd name");
    let mut index = repo.repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    // A submodule is a gitlink entry: a commit id under mode 160000.
    let entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o160000,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: git2::Oid::from_str("0123456789abcdef0123456789abcdef01234567").expect("oid"),
        flags: 0,
        flags_extended: 0,
        path: b"site/vendor".to_vec(),
    };
    index.add(&entry).expect("gitlink");
    index.write().expect("write index");
    let tree = repo
        .repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::now("T", "t@example.net").expect("sig");
    repo.repo
        .commit(Some("HEAD"), &sig, &sig, "odd entries", &tree, &[])
        .expect("commit");

    let project = GitProject::discover(repo.path()).expect("discover");
    for src in [
        Box::new(project.rev_source("HEAD").expect("rev")) as Box<dyn Source>,
        Box::new(project.index_source(None).expect("index")),
    ] {
        let listed = src.list("site").expect("list");
        assert!(
            !listed
                .iter()
                .any(|p| p.contains("link") || p.contains("vendor") || p.contains("odd")),
            "{listed:?}"
        );
        let notes = src.notes().join("\n");
        assert!(notes.contains("site/link.kdl: a symbolic link"), "{notes}");
        assert!(notes.contains("site/vendor: a submodule"), "{notes}");
        assert!(notes.contains("not valid UTF-8"), "{notes}");
        let e = src.read("site/link.kdl").expect_err("reading a symlink");
        assert!(e.message.contains("symbolic link"), "{e}");
    }
    // The CLI shows the notes and still checks the site.
    let o = siteconf(repo.path(), &["check", "--rev", "HEAD"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: skipped site/link.kdl"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn non_utf8_content_is_a_diagnostic() {
    let repo = TestRepo::new();
    let files = base_site();
    repo.write_tree("", &files);
    std::fs::write(repo.path().join("site/bad.kdl"), b"node \xff {}\n").expect("write");
    let mut index = repo.repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write");
    let o = siteconf(repo.path(), &["check", "--staged"], &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("site/bad.kdl: file is not valid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn staged_reads_the_index_not_the_working_tree() {
    let files = base_site();
    let repo = TestRepo::new();
    repo.commit("", &files, "base");
    // Stage a broken file, then fix it in the working tree only: the
    // commit would be broken, so --staged must fail while plain check passes.
    let broken = files["site/r001.kdl"].replace("position 1\n", "postion 1\n");
    std::fs::write(repo.path().join("site/r001.kdl"), &broken).expect("write");
    let mut index = repo.repo.index().expect("index");
    index.add_path(Path::new("site/r001.kdl")).expect("stage");
    index.write().expect("write");
    std::fs::write(repo.path().join("site/r001.kdl"), &files["site/r001.kdl"]).expect("fix");

    let o = siteconf(repo.path(), &["check", "--staged"], &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("SC0003"), "{}", stderr(&o));
    assert!(stderr(&o).contains("git index"), "{}", stderr(&o));
    let o = siteconf(repo.path(), &["check"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // GIT_INDEX_FILE (set by `git commit -a`) names the index to check.
    let tmp_index = repo.path().join(".git/index.commit");
    let mut other = git2::Index::open(&tmp_index).expect("new index");
    let head_tree = repo
        .repo
        .head()
        .expect("head")
        .peel_to_tree()
        .expect("tree");
    other.read_tree(&head_tree).expect("read tree");
    other.write().expect("write");
    let o = siteconf(
        repo.path(),
        &["check", "--staged"],
        &[("GIT_INDEX_FILE", ".git/index.commit")],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

// ---------------------------------------------------------------- diff

#[test]
fn profile_change_is_one_group_over_every_node() {
    let base = base_site();
    let mut g = Gen::new(3, 4);
    g.permit_root_login = "prohibit-password".into();
    let head = with_lock(g.files(), Some(&base));
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");

    assert_eq!(r.summary.nodes.changed, 12);
    assert_eq!(r.summary.nodes.added + r.summary.nodes.removed, 0);
    // The sshd drop-in, its copy in cloud-init's user-data, the manifest.
    assert_eq!(
        r.summary.kinds.keys().collect::<Vec<_>>(),
        vec!["cloud-init-user-data", "manifest", "sshd"]
    );
    assert_eq!(r.summary.allocations.allocated, 0);
    let sshd: Vec<_> = r.groups.iter().filter(|g| g.kind == "sshd").collect();
    assert_eq!(sshd.len(), 1, "{:?}", r.groups);
    let g0 = sshd[0];
    assert_eq!(g0.len(), 12);
    assert!(!g0.normalized, "identical lines are shown exactly");
    assert_eq!(
        g0.path,
        "nodes/<node>/etc/ssh/sshd_config.d/50-siteconf.conf"
    );
    let changed: Vec<String> = g0.hunks[0]
        .lines
        .iter()
        .map(|l| l.unified())
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert_eq!(
        changed,
        vec!["-PermitRootLogin no", "+PermitRootLogin prohibit-password"]
    );
    assert_eq!(r.inputs.len(), 1);
    assert_eq!(r.inputs[0].path, "site/profiles.kdl");

    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "── same change on 12 nodes: r001n01–r001n04, r002n01–r002n04, r003n01–r003n04"
        ),
        "{out}"
    );
    assert!(out.contains("  nodes        12 changed (of 12)"), "{out}");
    // The summary comes before the diff.
    assert!(out.find("by kind").expect("summary") < out.find("@@").expect("hunk"));
}

#[test]
fn node_specific_lines_group_by_normalised_text() {
    let base = base_site();
    let mut head = base.clone();
    for r in 1..=3 {
        let k = format!("site/{}.kdl", Gen::rack(r));
        head.insert(k.clone(), head[&k].replace("mtu 9000", "mtu 1500"));
    }
    let repo = two_commits(&base, &head);
    // A renderer whose netplan has each node's MAC in the hunk's context.
    let b = compile_rev(&repo, "main", &support::mac_in_context);
    let h = compile_rev(&repo, "feature", &support::mac_in_context);
    let r = Review::build(&b, &h, &Filter::default());
    let netplan: Vec<_> = r.groups.iter().filter(|g| g.kind == "netplan").collect();
    assert_eq!(netplan.len(), 1, "{:?}", r.groups);
    let g = netplan[0];
    assert_eq!(g.len(), 12);
    assert!(g.normalized, "each node's MAC is in the context");
    let text: Vec<String> = g.hunks[0].lines.iter().map(|l| l.unified()).collect();
    assert!(
        text.contains(&"         macaddress: \"<mac:eno1>\"".to_string()),
        "{text:?}"
    );
    assert!(text.contains(&"-      mtu: 9000".to_string()), "{text:?}");

    // The CLI renders with the real engine: its netplan hunk's context
    // (set-name, dhcp4, dhcp6) holds no node's own value, so the 12 members
    // are identical and the group shows the exact lines, no placeholders.
    // Normalisation itself is checked above, on `mac_in_context`'s output.
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--kind", "netplan"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("filter: --kind netplan"), "{out}");
    assert!(
        out.contains(
            "── same change on 12 nodes: r001n01–r001n04, r002n01–r002n04, r003n01–r003n04\n\
             nodes/<node>/etc/netplan/50-siteconf.yaml (netplan) changed\n"
        ),
        "{out}"
    );
    assert_eq!(out.matches("── ").count(), 1, "one group: {out}");
    assert!(out.contains("\n-      mtu: 9000\n"), "{out}");
    assert!(!out.contains("placeholders"), "{out}");
    assert!(!out.contains("<mac:"), "{out}");
    // The filter hides the other kinds the change touches (cloud-init's
    // embedded copy, the inventory's host_vars, the manifest).
    for other in ["sshd", "cloud-init", "inventory", "manifest"] {
        assert!(!out.contains(other), "{other}: {out}");
    }
    let o = siteconf(
        repo.path(),
        &[
            "diff",
            "main",
            "feature",
            "--kind",
            "netplan",
            "--name-only",
        ],
        &[],
    );
    let names = stdout(&o);
    let paths: Vec<&str> = names.lines().collect();
    assert_eq!(paths.len(), 12, "{paths:?}");
    assert!(
        paths
            .iter()
            .all(|p| p.starts_with("M\tnodes/r00") && p.ends_with("/etc/netplan/50-siteconf.yaml")),
        "{paths:?}"
    );
}

#[test]
fn renamed_node_is_removed_and_added_with_allocations() {
    let base = base_site();
    let mut head = base.clone();
    let old = Gen::node_block(1, 4);
    // Not `r001n09`: a lock line one character away from a node that has
    // none is taken for a damaged line (SC0810) unless marked released.
    let new = old.replace("node r001n04", "node r001n19");
    head.insert(
        "site/r001.kdl".into(),
        head["site/r001.kdl"].replace(&old, &new),
    );
    let head = with_lock(head, Some(&base));
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");

    let s = &r.summary;
    assert_eq!(
        (s.nodes.added, s.nodes.removed, s.nodes.changed),
        (1, 1, 0),
        "{s:?}"
    );
    // The same machine (same MACs) under a new name, whose address,
    // loopback and ASN are allocated anew: 3 values renumbered, counted
    // once — not also as 3 released and 3 allocated. The lock changes
    // still list the lines.
    assert_eq!(
        s.allocations.renumbered, 3,
        "address, loopback, ASN: {:?}",
        r.lock
    );
    assert_eq!(
        (s.allocations.released, s.allocations.allocated),
        (0, 0),
        "{:?}",
        r.lock
    );
    assert!(r
        .lock
        .iter()
        .any(|l| l.owner == "node/r001n04" && l.change.as_str() == "released"));
    assert!(r
        .lock
        .iter()
        .all(|l| l.owner == "node/r001n04" || l.owner == "node/r001n19"));
    let sessions: Vec<String> = r
        .sessions
        .iter()
        .map(|x| format!("{} {}", x.status.as_str(), x.session))
        .collect();
    assert_eq!(
        sessions,
        vec![
            "removed r001n04 ↔ r001-tor1 over eno1",
            "added r001n19 ↔ r001-tor1 over eno1"
        ]
    );
    // The ToR's FRR; site-wide, the node's host_vars go and come, and
    // files listing every node (zones, DHCP, inventory …) change.
    assert!(
        s.switches.changed == 1 && s.site_files.added == 1 && s.site_files.removed == 1,
        "{s:?}"
    );
    assert!(r.inputs.iter().any(|i| i.path == "siteconf.lock"));

    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json", "--full"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        v["summary"]["nodes"],
        serde_json::json!({"added": 1, "removed": 1, "changed": 0})
    );
    assert_eq!(v["summary"]["allocations"]["renumbered"], 3);
    assert_eq!(v["summary"]["allocations"]["released"], 0);
    let changes = v["changes"].as_array().expect("changes");
    // Every artifact of the old name is removed and the same set appears
    // under the new name: nothing of the node is silently lost.
    let of_node = |name: &str, status: &str| -> Vec<String> {
        changes
            .iter()
            .filter(|c| c["owner"]["name"] == name)
            .map(|c| {
                assert_eq!(c["status"], status, "{c}");
                let p = c["path"].as_str().expect("path");
                p.strip_prefix(&format!("nodes/{name}/"))
                    .unwrap_or_else(|| panic!("{p} is not under nodes/{name}/"))
                    .to_string()
            })
            .collect()
    };
    let removed = of_node("r001n04", "removed");
    let added = of_node("r001n19", "added");
    assert_eq!(removed, added);
    for rel in [
        "hostname",
        "etc/netplan/50-siteconf.yaml",
        "etc/frr/frr.conf",
    ] {
        assert!(added.iter().any(|p| p == rel), "{rel}: {added:?}");
    }
    // The old name's site-wide traces go too: its host_vars file goes, the
    // new one comes, and its ToR's FRR drops one neighbour for another.
    let status_of = |path: &str| {
        changes
            .iter()
            .find(|c| c["path"] == path)
            .map(|c| c["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        status_of("site/inventory/host_vars/r001n04.dc1.example.net.yml").as_deref(),
        Some("removed")
    );
    assert_eq!(
        status_of("site/inventory/host_vars/r001n19.dc1.example.net.yml").as_deref(),
        Some("added")
    );
    assert_eq!(
        status_of("switches/r001-tor1/etc/frr/frr.conf").as_deref(),
        Some("changed")
    );
    assert!(
        changes
            .iter()
            .filter(|c| c["owner"]["type"] == "switch")
            .all(|c| c["owner"]["name"] == "r001-tor1"),
        "only the renamed node's ToR changes"
    );
    let hostname = changes
        .iter()
        .find(|c| c["path"] == "nodes/r001n19/hostname")
        .expect("new node's hostname");
    assert_eq!(hostname["status"], "added");
    assert_eq!(
        hostname["owner"],
        serde_json::json!({"type": "node", "name": "r001n19"})
    );
    assert_eq!(hostname["kind"], "hostname");
    assert_eq!(hostname["content"], "text");
    assert_eq!(
        hostname["hunks"][0]["lines"],
        serde_json::json!(["+r001n19"])
    );
    assert_eq!(hostname["new_mode"], "0644");
    // The new hostname and its copy embedded in user-data: one group.
    let gi = hostname["groups"][0].as_u64().expect("group") as usize;
    let g = &v["groups"][gi];
    assert_eq!(g["owners"], serde_json::json!(["r001n19"]));
    assert_eq!(g["files"][1]["embedded"], "/etc/hostname", "{g}");
    let user_data = changes
        .iter()
        .find(|c| c["path"] == "nodes/r001n19/cloud-init/user-data")
        .expect("user-data");
    assert!(
        user_data["groups"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x.as_u64() == Some(gi as u64))),
        "{user_data}"
    );
    // Its lines are user-data's own, base64 taken out; the embedded files
    // are listed decoded.
    let own = user_data["hunks"].to_string();
    assert!(own.contains("content: <base64: /etc/hostname>"), "{own}");
    assert!(
        user_data["embedded"]
            .as_array()
            .is_some_and(|e| e.iter().any(|f| f["path"] == "/etc/hostname"
                && f["hunks"][0]["lines"] == serde_json::json!(["+r001n19"]))),
        "{user_data}"
    );
    // The old and new host_vars are site files about one node each.
    let hv = v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["representative"] == "site/inventory/host_vars/r001n19.dc1.example.net.yml")
        .expect("host_vars group");
    assert_eq!(hv["about"], "node");
    assert_eq!(hv["owners"], serde_json::json!(["r001n19"]));
    assert_eq!(v["bgp_sessions"][0]["status"], "removed");
    assert_eq!(v["allocations"][0]["owner"], "node/r001n04");
}

/// A renderer that reads a template from the side's own source: proves
/// each side renders from its revision's templates.
fn motd_renderer(checked: &Checked, src: &dyn Source) -> Result<OutputSet, Diagnostics> {
    let tpl = src
        .read_text("templates/motd.txt")
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut out = OutputSet::default();
    for n in &checked.loaded.site.nodes {
        let name = &n.name.value;
        out.insert(Artifact::new(
            format!("nodes/{name}/etc/motd"),
            tpl.replace("{{name}}", name),
            Owner::Node(name.clone()),
            "motd",
        ));
    }
    Ok(out)
}

#[test]
fn template_change_renders_each_side_from_its_revision() {
    let mut base = base_site();
    base.insert("templates/motd.txt".into(), "Welcome to {{name}}\n".into());
    let mut head = base.clone();
    head.insert(
        "templates/motd.txt".into(),
        "Welcome to {{name}}\nAuthorised use only.\n".into(),
    );
    let repo = two_commits(&base, &head);
    let b = compile_rev(&repo, "main", &motd_renderer);
    let h = compile_rev(&repo, "feature", &motd_renderer);
    let r = Review::build(&b, &h, &Filter::default());
    assert_eq!(r.groups.len(), 1);
    let g = &r.groups[0];
    assert_eq!(g.len(), 12);
    assert!(g.normalized, "the context line holds each node's name");
    let lines: Vec<String> = g.hunks[0].lines.iter().map(|l| l.unified()).collect();
    assert_eq!(lines, vec![" Welcome to <node>", "+Authorised use only."]);
    assert_eq!(
        r.inputs.iter().map(|i| i.path.as_str()).collect::<Vec<_>>(),
        vec!["templates/motd.txt"]
    );
}

const CANARY: &str = "CANARY-5ecret-7f3a";

/// A file that holds a secret (the ToR's FRR config with the upstream's
/// BGP password) is shown with every line that holds the secret masked: the
/// peer's new ASN is visible, the password never — not its value (which
/// the review never reads), not even its placeholder.
#[test]
fn secret_artifacts_show_their_lines_with_the_secret_masked() {
    let base = base_site();
    let mut head = base.clone();
    head.insert(
        "site/site.kdl".into(),
        head["site/site.kdl"].replace("asn 64512", "asn 64513"),
    );
    let repo = two_commits(&base, &head);
    // The canary is the secret's value, where a run would find it: in the
    // environment (the CLI's secret lookup) and in a secrets file. `diff`
    // renders secrets as placeholders, so it must show neither.
    let secrets_file = repo.path().join(".git/secrets.toml");
    std::fs::write(&secrets_file, format!("upstream1 = \"{CANARY}\"\n")).expect("secrets");
    let secrets_file = secrets_file.to_str().expect("utf-8 path").to_string();
    let env = [
        ("SITECONF_SECRET_UPSTREAM1", CANARY),
        ("SITECONF_SECRETS", secrets_file.as_str()),
    ];
    for format in ["text", "markdown", "json"] {
        let o = siteconf(
            repo.path(),
            &["diff", "main", "feature", "--format", format, "--full"],
            &env,
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains(CANARY), "{format} leaks the secret:\n{all}");
        assert!(
            !all.contains("<secret:"),
            "{format} names the secret:\n{all}"
        );
        assert!(
            all.contains("64513"),
            "{format} hides the peer's new ASN:\n{all}"
        );
        assert!(
            all.contains("password <secret>"),
            "{format} does not mask the password line:\n{all}"
        );
        match format {
            "json" => {
                let v = json(&o);
                let changes = v["changes"].as_array().expect("changes");
                // The ToR's FRR config (it holds the BGP password) and the
                // manifest that lists it; nothing else.
                let paths: Vec<&str> = changes
                    .iter()
                    .map(|c| c["path"].as_str().unwrap_or(""))
                    .collect();
                assert_eq!(
                    paths,
                    vec!["manifest.json", "switches/r001-tor1/etc/frr/frr.conf"]
                );
                assert_eq!(changes[0]["content"], "summarised");
                assert!(changes[0].get("hunks").is_none());
                let c = &changes[1];
                assert_eq!(c["status"], "changed");
                assert_eq!(c["content"], "text");
                let g = &v["groups"][c["groups"][0].as_u64().expect("group") as usize];
                assert_eq!(g["content"], "text");
                assert!(g.get("hunks").is_some(), "{g}");
                // The session to the upstream, with its ASN before and after.
                let s = &v["bgp_sessions"][0];
                assert_eq!(s["status"], "changed", "{v}");
                assert_eq!(s["old_remote_as"], 64512, "{v}");
                assert_eq!(s["remote_as"], 64513, "{v}");
                // The manifest is summarised, never a group.
                assert_eq!(v["groups"].as_array().map(Vec::len), Some(1), "{v}");
                assert_eq!(v["manifests"][0]["path"], "manifest.json");
            }
            _ => assert!(!all.contains("contains secrets"), "{all}"),
        }
    }
    for extra in [["--stat"], ["--name-only"]] {
        let mut args = vec!["diff", "main", "feature"];
        args.extend(extra);
        let o = siteconf(repo.path(), &args, &env);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains(CANARY), "{all}");
        assert!(all.contains("switches/r001-tor1/etc/frr/frr.conf"), "{all}");
    }
    // The engine as review runs it renders the placeholder, never the
    // value (the CLI runs above had it in the environment and a file).
    let b = compile_rev(&repo, "main", &review::Engine);
    let h = compile_rev(&repo, "feature", &review::Engine);
    let frr = &h.output.files["switches/r001-tor1/etc/frr/frr.conf"];
    assert!(
        frr.secret,
        "the file with the BGP password is marked secret"
    );
    let text = String::from_utf8_lossy(&frr.bytes);
    // The placeholder holds a digest of the secret's name, not the name.
    let placeholder = siteconf::render::secrets::placeholder_of("upstream1");
    assert!(text.contains(&placeholder), "{text}");
    assert!(!placeholder.contains("upstream1"), "{placeholder}");
    let rv = Review::build(&b, &h, &Filter::default());
    for out in [
        review::format::text::render(&rv, &Default::default()),
        review::format::markdown::render(&rv, &Default::default()),
        review::format::json::render(&rv),
    ] {
        assert!(!out.contains(CANARY), "{out}");
        assert!(!out.contains("<secret:"), "{out}");
        assert!(out.contains("switches/r001-tor1/etc/frr/frr.conf"), "{out}");
    }
    // A secret artifact without a placeholder (a renderer that had the
    // value) is hidden whole.
    let b = compile_rev(&repo, "main", &review::Engine);
    let mut h = compile_rev(&repo, "feature", &review::Engine);
    let mut planted = Artifact::new(
        "site/secret.env",
        format!("KEY={CANARY}\n"),
        Owner::Site,
        "env",
    );
    planted.secret = true;
    planted.mode = 0o600;
    h.output.insert(planted);
    let rv = Review::build(&b, &h, &Filter::default());
    let outs = [
        review::format::text::render(&rv, &Default::default()),
        review::format::markdown::render(&rv, &Default::default()),
        review::format::json::render(&rv),
    ];
    for out in outs {
        assert!(!out.contains(CANARY), "{out}");
        assert!(out.contains("site/secret.env"), "{out}");
    }
}

#[test]
fn markdown_has_collapsed_sections_and_a_hard_cap() {
    let base = base_site();
    let mut g = Gen::new(3, 4);
    g.permit_root_login = "prohibit-password".into();
    let mut head = with_lock(g.files(), Some(&base));
    for r in 1..=3 {
        let k = format!("site/{}.kdl", Gen::rack(r));
        head.insert(k.clone(), head[&k].replace("mtu 9000", "mtu 1500"));
    }
    let repo = two_commits(&base, &head);
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "markdown"],
        &[],
    );
    let md = stdout(&o);
    assert!(md.starts_with("### siteconf diff:"), "{md}");
    assert!(
        md.contains("<details><summary><b>same change on 12 nodes</b>"),
        "{md}"
    );
    assert!(md.contains("```diff\n"), "{md}");
    assert!(!md.contains("Cut"), "{md}");

    let o = siteconf(
        repo.path(),
        &[
            "diff",
            "main",
            "feature",
            "--format",
            "markdown",
            "--max-bytes",
            "1500",
        ],
        &[],
    );
    let md = stdout(&o);
    assert!(md.len() <= 1500, "{} bytes", md.len());
    assert!(md.contains("**Cut:**"), "{md}");
    assert!(md.contains("siteconf diff main feature"), "{md}");
    // Sections are cut whole: every <details> that opens, closes.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
}

#[test]
fn default_base_is_the_merge_base_with_main() {
    let base = base_site();
    let repo = TestRepo::new();
    let b = repo.commit("", &base, "base");
    // main moves on after the branch point: its change must not show.
    let mut on_main = base.clone();
    on_main.insert(
        "site/profiles.kdl".into(),
        on_main["site/profiles.kdl"].replace("groups compute", "groups compute web"),
    );
    repo.commit("", &on_main, "main moves on");
    repo.branch("feature", b);
    // Uncommitted edit in the working tree (HEAD = feature).
    let mut head = base.clone();
    head.insert(
        "site/profiles.kdl".into(),
        head["site/profiles.kdl"].replace("\"no\"", "\"prohibit-password\""),
    );
    repo.write_tree("", &head);

    let o = siteconf(repo.path(), &["diff"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("siteconf diff: main (merge base "), "{out}");
    assert!(out.contains("→ working tree"), "{out}");
    assert!(out.contains("sshd: 12 changed"), "{out}");
    assert!(
        !out.contains("inventory"),
        "main's later change leaked in:\n{out}"
    );

    // --exit-code: 1 when different, 0 when not.
    assert_eq!(
        code(&siteconf(repo.path(), &["diff", "--exit-code"], &[])),
        1
    );
    repo.write_tree("", &base);
    let o = siteconf(repo.path(), &["diff", "--exit-code"], &[]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("no changes"), "{}", stdout(&o));
}

#[test]
fn missing_default_branch_falls_back_or_says_what_to_do() {
    let base = base_site();
    let repo = TestRepo::new();
    repo.repo.set_head("refs/heads/master").expect("master");
    repo.commit("", &base, "base on master");
    // No `main`: `master` is the fallback for the built-in default.
    let o = siteconf(repo.path(), &["diff"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("master (merge base"), "{}", stdout(&o));
    // A configured branch that does not exist is an error with a hint.
    let mut conf = base.clone();
    conf.insert(
        "siteconf.toml".into(),
        "[diff]\ndefault-branch = \"trunk\"\n".into(),
    );
    repo.write_tree("", &conf);
    let o = siteconf(repo.path(), &["diff"], &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot find the default branch `trunk`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("siteconf diff BASE"), "{}", stderr(&o));
}

#[test]
fn a_side_with_errors_reports_its_diagnostics() {
    let base = base_site();
    let mut head = base.clone();
    head.insert(
        "site/r002.kdl".into(),
        head["site/r002.kdl"].replace("position 2\n", "postion 2\n"),
    );
    let repo = two_commits(&base, &head);
    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("error: head (feature"), "{err}");
    assert!(err.contains("SC0003"), "{err}");
    assert!(stdout(&o).is_empty());
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    );
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["sides"][0]["side"], "head");
}

#[test]
fn filters_narrow_what_is_shown() {
    let base = base_site();
    let mut g = Gen::new(3, 4);
    g.permit_root_login = "prohibit-password".into();
    let head = with_lock(g.files(), Some(&base));
    let repo = two_commits(&base, &head);
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--node", "r002*", "--name-only"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let paths: Vec<&str> = out.lines().collect();
    // Rack 2's four nodes, each with its sshd drop-in and the cloud-init
    // user-data that embeds it; nothing of other nodes, no site file.
    let expected: Vec<String> = (1..=4)
        .flat_map(|n| {
            let node = Gen::node(2, n);
            [
                format!("M\tnodes/{node}/cloud-init/user-data"),
                format!("M\tnodes/{node}/etc/ssh/sshd_config.d/50-siteconf.conf"),
            ]
        })
        .collect();
    assert_eq!(paths, expected);
    let o = siteconf(
        repo.path(),
        &[
            "diff",
            "main",
            "feature",
            "--role",
            "compute",
            "--exit-code",
        ],
        &[],
    );
    assert_eq!(code(&o), 1, "every node is a compute node: changes");
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--node", "[", "--stat"],
        &[],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("invalid --node pattern"),
        "{}",
        stderr(&o)
    );
    // A filter that names nothing on either side is a mistake, not "no
    // changes" (which `--exit-code` would report as success).
    for (args, says) in [
        (
            ["--node", "r002n01.dc1.example.net"],
            "matches no node or switch",
        ),
        (["--role", "storgae"], "no node has this role"),
        (["--kind", "sshd_config"], "did you mean `sshd`?"),
    ] {
        let mut all = vec!["diff", "main", "feature", "--exit-code"];
        all.extend(args);
        let o = siteconf(repo.path(), &all, &[]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

// ---------------------------------------------------------------- gate

const POLICY: &str = r#"[diff]
default-branch = "main"

[gate]
max-nodes = 6
max-nodes-per-rack = 3
approvers = ["sre-leads"]

[[gate.owners]]
paths = ["site/site.kdl", "siteconf.toml"]
owners = ["netops"]

[[gate.rules]]
name = "bgp-session-removed"
on = "bgp-session-removed"
approvers = ["@netops"]

[[gate.rules]]
name = "wide-sshd-change"
kinds = ["sshd"]
more-than = 5
approvers = ["security"]
"#;

fn with_policy(mut f: Files) -> Files {
    f.insert("siteconf.toml".into(), POLICY.into());
    f
}

#[test]
fn gate_passes_blocks_and_is_unblocked_by_approval() {
    let base = with_policy(base_site());

    // A small change: nothing fires.
    let mut small = base.clone();
    small.insert(
        "site/r001.kdl".into(),
        small["site/r001.kdl"].replace("position 1\n", "position 1\n    serial \"SN1\"\n"),
    );
    let repo = two_commits(&base, &small);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("gate: passed (no rule fired)"),
        "{}",
        stdout(&o)
    );

    // A profile change on all 12 nodes: blast radius and the sshd rule.
    let mut wide = base.clone();
    wide.insert(
        "site/profiles.kdl".into(),
        wide["site/profiles.kdl"].replace("\"no\"", "\"prohibit-password\""),
    );
    let repo = two_commits(&base, &wide);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("BLOCKED  max-nodes: 12 nodes change (12 changed); the limit is 6"),
        "{out}"
    );
    assert!(
        out.contains("needs approval from one of: sre-leads"),
        "{out}"
    );
    assert!(
        out.contains("BLOCKED  max-nodes-per-rack: 3 rack(s) have more than 3 changed nodes"),
        "{out}"
    );
    assert!(out.contains("BLOCKED  rule: wide-sshd-change: artifact-changed: 12 device(s) or site file(s) (kinds: sshd), more than 5"), "{out}");
    assert!(
        out.contains("needs approval from one of: security"),
        "{out}"
    );
    assert!(
        out.contains("gate: blocked (3 of 3 fired rule(s) need approval)"),
        "{out}"
    );

    // One approval is not enough…
    let o = siteconf(
        repo.path(),
        &["gate", "main", "feature", "--approved-by", "sre-leads"],
        &[],
    );
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("gate: blocked (1 of 3"),
        "{}",
        stdout(&o)
    );
    // … both are; names compare without `@`, from the flag or the environment.
    let o = siteconf(
        repo.path(),
        &[
            "gate",
            "main",
            "feature",
            "--approved-by",
            "@sre-leads,security",
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("gate: passed (3 rule(s) fired, all approved)"),
        "{}",
        stdout(&o)
    );
    let o = siteconf(
        repo.path(),
        &["gate", "main", "feature"],
        &[("SITECONF_APPROVED_BY", "security,sre-leads")],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    let o = siteconf(
        repo.path(),
        &[
            "gate",
            "main",
            "feature",
            "--format",
            "json",
            "--approved-by",
            "security",
        ],
        &[],
    );
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["passed"], false);
    let findings = v["findings"].as_array().expect("findings");
    let sshd = findings
        .iter()
        .find(|f| f["rule"] == "rule: wide-sshd-change")
        .expect("sshd rule");
    assert_eq!(sshd["blocking"], false);
    assert_eq!(sshd["approved_by"], serde_json::json!(["security"]));
    assert_eq!(sshd["matched"], 12);
    let radius = findings
        .iter()
        .find(|f| f["rule"] == "max-nodes")
        .expect("max-nodes");
    assert_eq!(radius["blocking"], true);
    assert_eq!(radius["approvers"], serde_json::json!(["sre-leads"]));
}

#[test]
fn gate_owners_and_bgp_session_removal() {
    let base = with_policy(base_site());
    let mut head = base.clone();
    let old = Gen::node_block(3, 4);
    head.insert(
        "site/r003.kdl".into(),
        head["site/r003.kdl"].replace(&old, ""),
    );
    head.insert(
        "site/site.kdl".into(),
        head["site/site.kdl"].replace("asn 64512", "asn 64513"),
    );
    let head = with_lock(head, Some(&base));
    let repo = two_commits(&base, &head);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains(
            "BLOCKED  owners: site/site.kdl: the change touches 1 protected input file(s)"
        ),
        "{out}"
    );
    assert!(
        out.contains("BLOCKED  rule: bgp-session-removed: bgp-session-removed: 1 BGP session(s)"),
        "{out}"
    );
    assert!(out.contains("r003n04 ↔ r003-tor1 over eno1"), "{out}");
    let o = siteconf(
        repo.path(),
        &["gate", "main", "feature", "--approved-by", "netops"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn gate_uses_base_policy_and_reports_a_bad_one() {
    let base = with_policy(base_site());
    // Head drops every limit: still judged by base's policy.
    let mut head = base.clone();
    head.insert(
        "siteconf.toml".into(),
        "[diff]\ndefault-branch = \"main\"\n".into(),
    );
    head.insert(
        "site/profiles.kdl".into(),
        head["site/profiles.kdl"].replace("\"no\"", "\"yes\""),
    );
    let repo = two_commits(&base, &head);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("note: the [gate] policy in siteconf.toml changes"),
        "{out}"
    );
    assert!(
        out.contains("owners: site/site.kdl"),
        "siteconf.toml is protected too:\n{out}"
    );

    // A bad policy is SC0008, in check and in gate.
    let mut bad = base.clone();
    bad.insert(
        "siteconf.toml".into(),
        POLICY.replace("max-nodes = 6", "max-node = 6"),
    );
    let repo = two_commits(&bad, &bad);
    let o = siteconf(repo.path(), &["check"], &[]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SC0008"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown field `max-node`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("siteconf.toml:"),
        "located in the file: {}",
        stderr(&o)
    );
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("gate: blocked (the [gate] policy"),
        "{}",
        stderr(&o)
    );

    let mut glob = base.clone();
    glob.insert(
        "siteconf.toml".into(),
        POLICY.replace("\"site/site.kdl\"", "\"site/[\""),
    );
    let repo = two_commits(&glob, &glob);
    let o = siteconf(repo.path(), &["check"], &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("gate.owners[0].paths: invalid pattern `site/[`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn json_lists_each_group_once_and_every_change_with_full() {
    let base = base_site();
    let mut g = Gen::new(3, 4);
    g.permit_root_login = "prohibit-password".into();
    let head = with_lock(g.files(), Some(&base));
    let repo = two_commits(&base, &head);
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    );
    let v = json(&o);
    for key in [
        "base",
        "head",
        "filter",
        "summary",
        "inputs",
        "manifests",
        "groups",
        "bgp_sessions",
        "allocations",
        "notes",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    // The per-file list only on request: a group is one entry.
    assert!(v.get("changes").is_none(), "{v}");
    // One group: the sshd change on all 12 nodes, with its copy embedded
    // in each node's user-data, shown once with exact lines.
    let groups = v["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{groups:?}");
    let g = &groups[0];
    assert_eq!(g["kind"], "sshd");
    assert_eq!(
        g["path"],
        "nodes/<node>/etc/ssh/sshd_config.d/50-siteconf.conf"
    );
    assert_eq!(
        g["representative"],
        "nodes/r001n01/etc/ssh/sshd_config.d/50-siteconf.conf"
    );
    assert_eq!(g["count"], 12);
    assert_eq!(g["artifacts"], 24);
    let owners: Vec<String> = (1..=3)
        .flat_map(|r| (1..=4).map(move |n| Gen::node(r, n)))
        .collect();
    assert_eq!(g["owners"], serde_json::json!(owners));
    assert_eq!(
        g["files"],
        serde_json::json!([
            {"path": "nodes/<node>/etc/ssh/sshd_config.d/50-siteconf.conf",
             "kind": "sshd", "embedded": null, "count": 12},
            {"path": "nodes/<node>/cloud-init/user-data",
             "kind": "cloud-init-user-data",
             "embedded": "/etc/ssh/sshd_config.d/50-siteconf.conf", "count": 12}
        ])
    );
    assert_eq!(g["normalized"], false);
    assert_eq!(g["content"], "text");
    assert_eq!(
        (g["added"].as_u64(), g["removed"].as_u64()),
        (Some(1), Some(1))
    );
    let sshd_hunks = serde_json::json!([{
        "old_start": 1, "old_lines": 3, "new_start": 1, "new_lines": 3,
        "lines": [
            " # Generated by siteconf from the site files: do not edit by hand.",
            "-PermitRootLogin no",
            "+PermitRootLogin prohibit-password",
            " AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized_keys/%u"
        ]
    }]);
    assert_eq!(g["hunks"], sshd_hunks);
    // The manifest, summarised entry by entry.
    assert_eq!(
        v["manifests"],
        serde_json::json!([{
            "path": "manifest.json", "status": "changed",
            "entries": {
                "old_entries": v["manifests"][0]["entries"]["old_entries"],
                "new_entries": v["manifests"][0]["entries"]["new_entries"],
                "added": 0, "removed": 0, "changed": 24,
                "fields": {"sha256": 24, "size": 24}
            }
        }])
    );

    // --full: every change besides, in path order, each naming its groups.
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json", "--full"],
        &[],
    );
    let full = json(&o);
    assert_eq!(full["groups"], v["groups"]);
    let changes = full["changes"].as_array().expect("changes");
    // Each node's sshd drop-in and the cloud-init user-data that embeds it,
    // plus the manifest that lists both; every change once, in path order.
    let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in changes {
        assert_eq!(c["status"], "changed", "{c}");
        let owner = match c["owner"]["type"].as_str() {
            Some("node") => c["owner"]["name"].as_str().unwrap_or("").to_string(),
            other => format!("{other:?}"),
        };
        by_owner
            .entry(owner)
            .or_default()
            .push(format!("{} {} {}", c["kind"], c["path"], c["content"]));
    }
    assert_eq!(
        by_owner.remove("Some(\"site\")"),
        Some(vec![
            r#""manifest" "manifest.json" "summarised""#.to_string()
        ])
    );
    assert_eq!(by_owner.len(), 12, "{by_owner:?}");
    for (node, kinds) in &by_owner {
        assert_eq!(
            kinds,
            &vec![
                format!(r#""cloud-init-user-data" "nodes/{node}/cloud-init/user-data" "text""#),
                format!(r#""sshd" "nodes/{node}/etc/ssh/sshd_config.d/50-siteconf.conf" "text""#),
            ]
        );
    }
    let paths: Vec<&str> = changes.iter().filter_map(|c| c["path"].as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);

    let c = changes
        .iter()
        .find(|c| c["path"] == "nodes/r002n03/etc/ssh/sshd_config.d/50-siteconf.conf")
        .expect("r002n03's sshd drop-in");
    assert_eq!(
        c["owner"],
        serde_json::json!({"type": "node", "name": "r002n03"})
    );
    assert_eq!(c["kind"], "sshd");
    assert_eq!(c["added"], 1);
    assert_eq!(c["removed"], 1);
    assert_eq!(c["hunks"], sshd_hunks);
    assert_eq!(c["groups"], serde_json::json!([0]));
    // The user-data: no line of its own changed; its embedded sshd drop-in
    // did, decoded, and that is the group's change.
    let u = changes
        .iter()
        .find(|c| c["path"] == "nodes/r002n03/cloud-init/user-data")
        .expect("r002n03's user-data");
    assert_eq!(u["hunks"], serde_json::json!([]));
    assert_eq!(
        (u["added"].as_u64(), u["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(u["groups"], serde_json::json!([0]));
    assert_eq!(
        u["embedded"][0]["path"],
        "/etc/ssh/sshd_config.d/50-siteconf.conf"
    );
    assert_eq!(u["embedded"][0]["hunks"], sshd_hunks);
    assert!(!o.stdout.is_empty() && o.stdout.len() > 4 * v.to_string().len());
}

#[test]
fn documented_policy_example_is_valid() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/review.md"))
        .expect("docs/review.md");
    let section = doc
        .split("### The gate policy")
        .nth(1)
        .expect("policy section");
    let toml_text = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("toml block");
    let config: siteconf::project::Config = toml::from_str(toml_text).expect("valid siteconf.toml");
    let mut sources = siteconf::syntax::SourceMap::default();
    sources.add(siteconf::syntax::SourceFile::new(
        "siteconf.toml",
        toml_text,
    ));
    let policy = siteconf::gate::policy::from_config(&config, &sources)
        .unwrap_or_else(|d| panic!("documented policy is invalid: {:?}", d.into_vec()));
    assert_eq!(policy.rules.len(), 3);
    assert_eq!(policy.owners.len(), 2);
    assert_eq!(policy.policy.role_limits.get("storage"), Some(&5));
}

/// The gate examples of docs/review.md and docs/sites.md are the policies
/// of the data cases `fp-gate-policy-ahead` and `fp-gate-sites`, verbatim,
/// whose snapshots show `check --deny warnings` passing: a documented
/// policy written ahead of the fleet (`templates/**` before any override,
/// a `storage` role before any storage node, `prod/**` over a site's
/// output) is no SC0056.
#[test]
fn documented_policies_pass_check_deny_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    let review = read("docs/review.md");
    let review_block = review
        .split("### The gate policy")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("review.md policy");
    assert!(
        read("tests/cases/fp-gate-policy-ahead/siteconf.toml").contains(review_block),
        "tests/cases/fp-gate-policy-ahead/siteconf.toml must hold docs/review.md's policy verbatim"
    );
    let sites = read("docs/sites.md");
    let sites_block = sites
        .split("```toml\n")
        .find(|b| b.contains("[[gate.owners]]"))
        .and_then(|b| b.split("```").next())
        .expect("sites.md policy");
    assert!(
        read("tests/cases/fp-gate-sites/siteconf.toml").contains(sites_block),
        "tests/cases/fp-gate-sites/siteconf.toml must hold docs/sites.md's gate example verbatim"
    );
    for case in ["fp-gate-policy-ahead", "fp-gate-sites"] {
        let snap = read(&format!(
            "tests/cases/{case}/01-check-{}.snap",
            if case == "fp-gate-sites" {
                "locked-deny-warnings"
            } else {
                "deny-warnings"
            }
        ));
        assert!(snap.contains("0 error(s), 0 warning(s)"), "{case}: {snap}");
    }
}

#[test]
fn a_base_without_the_project_shows_everything_added() {
    let repo = TestRepo::new();
    let mut readme = Files::new();
    readme.insert("README.md".into(), "fleet\n".into());
    let b = repo.commit("", &readme, "empty repository");
    repo.branch("feature", b);
    let mut head = base_site();
    head.insert("README.md".into(), "fleet\n".into());
    repo.commit("", &head, "create the site");
    let r = review_of(&repo, &b.to_string(), "feature");
    assert_eq!(r.summary.nodes.added, 12);
    assert_eq!(r.summary.switches.added, 3);
    assert_eq!(r.summary.allocations.allocated, 36);
    assert!(r.changes.iter().all(|c| c.status.as_str() == "added"));
}

#[test]
fn toml_and_kdl_sites_render_the_same() {
    let kdl = with_lock(Gen::new(2, 3).files(), None);
    let mut g = Gen::new(2, 3);
    g.toml = true;
    let toml = with_lock(g.files(), None);
    assert!(toml.contains_key("site/r001.toml"));
    let repo = TestRepo::new();
    let b = repo.commit("", &kdl, "kdl");
    repo.commit("", &toml, "toml");
    let r = review_of(&repo, &b.to_string(), "HEAD");
    assert!(
        r.changes.is_empty(),
        "{:?}",
        r.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    // Two .kdl files removed, two .toml added; the lock is the same.
    assert_eq!(r.inputs.len(), 4, "{:?}", r.inputs);
    assert!(!r.inputs.iter().any(|i| i.path == "siteconf.lock"));
}

#[test]
fn a_node_added_without_running_lock_shows_its_allocations_and_a_warning() {
    let base = base_site();
    let mut head = base.clone();
    // A fifth node in rack 2, and siteconf.lock left as it was.
    let block = Gen::node_block(2, 5);
    head.insert(
        "site/r002.kdl".into(),
        format!("{}{block}", head["site/r002.kdl"]),
    );
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(r.summary.nodes.added, 1);
    assert_eq!(r.summary.allocations.allocated, 3, "{:?}", r.lock);
    assert!(r.lock.iter().all(|l| l.owner == "node/r002n05"));
    assert_eq!(r.head_lock_pending, 3);
    assert!(!r.inputs.iter().any(|i| i.path == "siteconf.lock"));
    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "warning: head's siteconf.lock is not current (3 allocation change(s) not committed)"
        ),
        "{out}"
    );
    assert!(
        out.contains("+ node/r002n05 address.mgmt.ipv4 10.0.0."),
        "{out}"
    );
    // Capped: a new node's many added files are one line; --full shows
    // them all.
    assert!(out.lines().count() <= 200, "{out}");
    assert!(out.contains("\n+ node added ("), "{out}");
    assert!(out.contains("): r002n05\n"), "{out}");
    assert!(!out.contains("nodes/r002n05/"), "{out}");
    let o = siteconf(repo.path(), &["diff", "main", "feature", "--full"], &[]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "nodes/r002n05/hostname (hostname) added\n  also embedded in nodes/r002n05/cloud-init/user-data as /etc/hostname (cloud-init-user-data; base64, the same change decoded)\n@@ -0,0 +1 @@\n+r002n05\n"
        ),
        "{out}"
    );
    // The new node's records reach the site-wide files and its ToR; no other
    // node and no other switch changes.
    assert!(out.contains("+r002n05 IN A 10.0.0."), "{out}");
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--name-only"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let names = stdout(&o);
    let paths: Vec<&str> = names.lines().collect();
    for p in [
        "M\tsite/inventory/hosts.yml",
        "A\tsite/inventory/host_vars/r002n05.dc1.example.net.yml",
        "M\tsite/dns/dc1.example.net.zone",
        "M\tsite/dns/0.10.in-addr.arpa.zone",
        "M\tsite/dns/255.10.in-addr.arpa.zone",
        "M\tsite/dhcp/kea-dhcp4.json",
        "M\tsite/racks/r002.svg",
        "M\tsite/fabric.json",
        "M\tmanifest.json",
        "M\tswitches/r002-tor1/etc/frr/frr.conf",
        "A\tnodes/r002n05/etc/netplan/50-siteconf.yaml",
        "A\tnodes/r002n05/cloud-init/user-data",
    ] {
        assert!(paths.contains(&p), "{p} missing: {paths:?}");
    }
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("\tnodes/") || p.starts_with("A\tnodes/r002n05/")),
        "only the new node's own files: {paths:?}"
    );
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("\tswitches/") || p.contains("\tswitches/r002-tor1/")),
        "only its ToR: {paths:?}"
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("racks/r001.svg") || p.contains("racks/r003.svg")),
        "{paths:?}"
    );
}

#[test]
fn real_renderer_end_to_end() {
    // The renderer `siteconf diff` uses: a profile change reaches every
    // node's real sshd drop-in (and its cloud-init copy), nothing else.
    let base = base_site();
    let mut g = Gen::new(3, 4);
    g.permit_root_login = "prohibit-password".into();
    let head = with_lock(g.files(), Some(&base));
    let repo = two_commits(&base, &head);
    let b = compile_rev(&repo, "main", &review::Engine);
    let h = compile_rev(&repo, "feature", &review::Engine);
    assert!(b.output.files.contains_key("site/inventory/hosts.yml"));
    let changed: Vec<&String> = h
        .output
        .files
        .iter()
        .filter(|(p, a)| {
            b.output
                .files
                .get(*p)
                .map(|x| x.bytes != a.bytes)
                .unwrap_or(true)
        })
        .map(|(p, _)| p)
        .filter(|p| p.as_str() != "manifest.json")
        .collect();
    let sshd: Vec<&&String> = changed
        .iter()
        .filter(|p| p.ends_with("50-siteconf.conf"))
        .collect();
    assert_eq!(sshd.len(), 12, "{changed:?}");
    assert!(
        changed
            .iter()
            .all(|p| p.ends_with("50-siteconf.conf") || p.ends_with("cloud-init/user-data")),
        "{changed:?}"
    );
    let one = String::from_utf8_lossy(&h.output.files[*sshd[0]].bytes).into_owned();
    assert!(one.contains("PermitRootLogin prohibit-password"), "{one}");
}

// ---------------------------------------------------------------- snapshots

/// What `siteconf diff` prints, rendered by the real engine, in each
/// format, for a small site (one rack, two nodes) and three kinds of change
/// at once: a profile setting (both nodes), one node's MTU, and the
/// upstream peer's ASN (a file holding a secret: its password line masked).
/// Reviewers read this output; a change to it must be looked at (`cargo
/// insta review`).
#[test]
fn diff_output_in_every_format() {
    let base = with_lock(Gen::new(1, 2).files(), None);
    let mut g = Gen::new(1, 2);
    g.permit_root_login = "prohibit-password".into();
    let mut head = g.files();
    let one = Gen::node_block(1, 2);
    head.insert(
        "site/r001.kdl".into(),
        head["site/r001.kdl"].replace(&one, &one.replace("mtu 9000", "mtu 1500")),
    );
    head.insert(
        "site/site.kdl".into(),
        head["site/site.kdl"].replace("asn 64512", "asn 64513"),
    );
    let head = with_lock(head, Some(&base));
    let repo = two_commits(&base, &head);
    for format in ["text", "markdown", "json"] {
        let o = siteconf(
            repo.path(),
            &["diff", "main", "feature", "--format", format],
            &[],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        insta::assert_snapshot!(format!("diff_{format}"), stdout(&o));
    }
}

// ---------------------------------------------------------------- at fleet scale

/// The site `siteconf init --nodes 300` writes, as a project (with its lock).
fn init_site(nodes: u32) -> Files {
    use siteconf::init::{generate, project_files, Ci, Options};
    let generated = generate(&Options {
        nodes,
        racks: None,
        format: siteconf::syntax::Format::Kdl,
    })
    .expect("init");
    let mut files: Files = generated.files.iter().cloned().collect();
    files.extend(project_files(&generated, Ci::None).expect("project files"));
    files
}

/// One MTU line in the profile every node of `siteconf init`'s site
/// includes: each node's netplan, cloud-init's network-config (the same
/// file), the netplan embedded as base64 in each user-data, each node's
/// host_vars, and the manifest change. The review is a plan a person reads
/// in a minute: the summary, the manifest in one line, one group for the
/// netplan and its copies, one for the host_vars — not 297 base64 blobs.
#[test]
fn an_mtu_change_on_300_nodes_reads_like_a_plan() {
    let base = init_site(300);
    let mut head = base.clone();
    let profiles = "site/profiles.kdl";
    let line = "    interface eno1 { mtu 9000 }\n";
    assert_eq!(head[profiles].matches(line).count(), 1, "the profile moved");
    head.insert(
        profiles.into(),
        head[profiles].replace(line, "    interface eno1 { mtu 1500 }\n"),
    );
    let repo = two_commits(&base, &head);

    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 200, "{} lines:\n{text}", lines.len());
    // The summary first, the manifest one line of it.
    assert!(lines[0].starts_with("siteconf diff: main "), "{text}");
    assert_eq!(lines[1], "  nodes        300 changed (of 300)", "{text}");
    let manifest = text
        .find("\n  manifest     manifest.json: 1200 entries changed")
        .unwrap_or_else(|| panic!("no manifest summary:\n{text}"));
    assert!(manifest < text.find("@@").expect("a hunk"), "{text}");
    assert!(!text.contains("sha256\""), "manifest lines shown:\n{text}");
    // The netplan change once, over every node, with its copies folded in.
    assert_eq!(text.matches("── ").count(), 2, "two groups:\n{text}");
    assert!(
        text.contains(
            "── same change on 300 nodes: r01n01–r01n30, r02n01–r02n30, r03n01–r03n30, r04n01–r04n30, r05n01–r05n30, r06n01–r06n30, r07n01–r07n30, … r10n01–r10n30 (+2 more)\n\
             nodes/<node>/etc/netplan/50-siteconf.yaml (netplan) changed\n  \
             also in nodes/<node>/cloud-init/network-config (cloud-init-network-config)\n  \
             also embedded in nodes/<node>/cloud-init/user-data as /etc/netplan/50-siteconf.yaml (cloud-init-user-data; base64, the same change decoded)\n\
             @@ -13,7 +13,6 @@\n"
        ),
        "{text}"
    );
    // host_vars, site-wide files one per node, group too.
    assert!(
        text.contains(
            "── same change in 300 site files, one per node: r01n01–r01n30, r02n01–r02n30, "
        ),
        "{text}"
    );
    assert!(
        text.contains("site/inventory/host_vars/<fqdn>.yml (inventory) changed\n"),
        "{text}"
    );
    assert_eq!(text.matches("\n-      mtu: 9000\n").count(), 2, "{text}");
    // eno1 and eno2 are on the same port number of two switches: a port
    // placeholder names no interface (eno2's line read `<port:eno1>`).
    assert!(text.contains("      port: \"<port>\"\n"), "{text}");
    assert!(!text.contains("<port:"), "{text}");
    assert!(!text.contains("content: \""), "base64 shown:\n{text}");
    assert!(!text.contains("single changes"), "{text}");

    // --full shows more: every device of a group named.
    let o = siteconf(repo.path(), &["diff", "main", "feature", "--full"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let full = stdout(&o);
    assert!(full.len() > text.len(), "{full}");
    assert!(
        !text.contains("r08n01–r08n30")
            && full.contains("r08n01–r08n30, r09n01–r09n30, r10n01–r10n30\n"),
        "{full}"
    );

    // JSON: the same two groups, small; markdown: the groups, no cut.
    let r = review_of(&repo, "main", "feature");
    let v: Value = serde_json::from_str(&review::format::json::render(&r)).expect("json");
    let groups = v["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0]["count"], 300);
    assert_eq!(groups[0]["artifacts"], 900);
    assert_eq!(groups[0]["files"].as_array().map(Vec::len), Some(3));
    assert_eq!(groups[1]["about"], "node");
    assert_eq!(groups[1]["owners"].as_array().map(Vec::len), Some(300));
    assert_eq!(v["manifests"][0]["entries"]["changed"], 1200);
    let json_len = review::format::json::render(&r).len();
    assert!(json_len < 32_000, "{json_len} bytes of JSON");
    let md = review::format::markdown::render(&r, &Default::default());
    assert!(md.len() < 8_000, "{} bytes of markdown", md.len());
    assert!(!md.contains("Cut"), "{md}");
    assert_eq!(md.matches("<details>").count(), 2, "{md}");
    assert!(
        md.contains("**Manifest:** manifest.json: 1200 entries changed"),
        "{md}"
    );
}

/// A project of several sites keeps its `<site>/` prefixes through the
/// grouping: each site's netplan change is its own group of `<site>/<node>`
/// devices, each site's host_vars group under its nodes, and each site's
/// manifest is summarised on its own line.
#[test]
fn several_sites_group_and_summarise_per_site() {
    let base = case_files("sites-two-clusters");
    let mut head = base.clone();
    let line = "    interface eno1 { mtu 9000 }\n";
    assert!(head["common/profiles.kdl"].contains(line));
    head.insert(
        "common/profiles.kdl".into(),
        head["common/profiles.kdl"].replace(line, "    interface eno1 { mtu 1500 }\n"),
    );
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(
        r.summary.sites.keys().collect::<Vec<_>>(),
        vec!["lab", "prod"]
    );
    let manifests: Vec<&str> = r.manifests.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(manifests, vec!["lab/manifest.json", "prod/manifest.json"]);
    let groups: Vec<(String, usize, Vec<String>)> = r
        .groups
        .iter()
        .map(|g| {
            (
                review::format::file_label(&g.path, g.embedded.as_deref()),
                g.artifacts(),
                review::group::member_names(g, &r.pieces)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            )
        })
        .collect();
    let nodes =
        |site: &str| -> Vec<String> { (1..=4).map(|n| format!("{site}/r01n0{n}")).collect() };
    let group =
        |path: &str, artifacts: usize, site: &str| (path.to_string(), artifacts, nodes(site));
    // The netplan with its network-config and user-data copies; the host_vars.
    assert_eq!(
        groups,
        vec![
            group("lab/nodes/<node>/etc/netplan/50-siteconf.yaml", 12, "lab"),
            group("lab/site/inventory/host_vars/<fqdn>.yml", 4, "lab"),
            group("prod/nodes/<node>/etc/netplan/50-siteconf.yaml", 12, "prod"),
            group("prod/site/inventory/host_vars/<fqdn>.yml", 4, "prod"),
        ]
    );
    let text = review::format::text::render(&r, &Default::default());
    assert!(
        text.contains("  manifest     lab/manifest.json: ")
            && text.contains("  manifest     prod/manifest.json: "),
        "{text}"
    );
    assert!(
        text.contains("── same change on 4 nodes: lab/r01n01–lab/r01n04\n"),
        "{text}"
    );
    // The rule docs/sites.md gives for "production changes need netops":
    // a change to a shared profile reaches production and needs netops…
    let policy = sites_doc_policy();
    let v = siteconf::gate::evaluate(&policy, &r, &[]);
    let production: Vec<&siteconf::gate::Finding> = v
        .findings
        .iter()
        .filter(|f| f.rule.contains("production"))
        .collect();
    assert_eq!(production.len(), 1, "{:?}", v.findings);
    assert!(production[0].blocking && production[0].approvers == ["netops"]);
    // …and a lab-only change does not.
    let mut lab_only = base.clone();
    lab_only.insert(
        "sites/lab/site.kdl".into(),
        base["sites/lab/site.kdl"].replace("ntp1.lab.example.net", "ntp9.lab.example.net"),
    );
    let repo = two_commits(&base, &lab_only);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(r.summary.sites.keys().collect::<Vec<_>>(), vec!["lab"]);
    let v = siteconf::gate::evaluate(&policy, &r, &[]);
    assert!(
        v.findings.iter().all(|f| !f.rule.contains("production")),
        "{:?}",
        v.findings
    );
}

/// In a project of several sites the all-sites inventory joins groups by
/// name: a group renamed in the shared definitions is a renamed group, as
/// in a single site (it used to be left out).
#[test]
fn several_sites_report_a_renamed_group() {
    let base = case_files("sites-two-clusters");
    let mut head = base.clone();
    let groups = "common/groups.kdl";
    let profiles = "common/profiles.kdl";
    assert!(
        head[groups].contains("group control {") && head[profiles].contains("groups control\n")
    );
    let lab = "sites/lab/profiles.kdl";
    head.insert(
        groups.into(),
        head[groups]
            .replace("group control {", "group ctrl {")
            .replace("children control compute", "children ctrl compute"),
    );
    for f in [profiles, lab] {
        head.insert(
            f.into(),
            head[f].replace("groups control\n", "groups ctrl\n"),
        );
    }
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    let renamed: Vec<String> = r.inventory_groups.iter().map(|g| g.to_string()).collect();
    assert!(
        renamed
            .iter()
            .any(|g| g.starts_with("renamed control → ctrl (")),
        "{renamed:?}"
    );
}

/// Renaming a site (`[sites.lab]` → `[sites.staging]`) renders the same
/// files: the review says the site is renamed, compares its devices with
/// themselves (no node, session or file added and removed) and lists the
/// one thing that changes for playbooks, the group `site_lab`. The starter
/// gate does not block it on node counts or removed sessions.
#[test]
fn a_renamed_site_is_reported_as_renamed_not_rebuilt() {
    let mut base = case_files("sites-two-clusters");
    let toml = format!("{}{}", base["siteconf.toml"], siteconf::init::GATE_POLICY);
    base.insert("siteconf.toml".into(), toml);
    let mut head = base.clone();
    let renamed = head["siteconf.toml"]
        .replace("[sites.lab]", "[sites.staging]")
        .replace(
            "serves = [\"prod\", \"lab\"]",
            "serves = [\"prod\", \"staging\"]",
        );
    assert_ne!(renamed, head["siteconf.toml"]);
    head.insert("siteconf.toml".into(), renamed);
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    let sites: Vec<String> = r.site_renames.iter().map(|x| x.to_string()).collect();
    assert_eq!(sites, vec!["lab → staging (4 nodes)"]);
    assert_eq!(r.summary.nodes.total(), 0, "{:?}", r.summary.nodes);
    assert_eq!(r.summary.switches.total(), 0, "{:?}", r.summary.switches);
    assert!(r.sessions.is_empty(), "{:?}", r.sessions);
    assert!(r.renumbered.is_empty() && r.lock.is_empty());
    assert!(
        r.changes
            .iter()
            .all(|c| c.status == siteconf::output::diff::Status::Changed),
        "{:?}",
        r.changes
            .iter()
            .map(|c| (&c.path, c.status))
            .collect::<Vec<_>>()
    );
    let groups: Vec<String> = r.inventory_groups.iter().map(|g| g.to_string()).collect();
    assert!(
        groups
            .iter()
            .any(|g| g.starts_with("renamed site_lab → site_staging (")),
        "{groups:?}"
    );
    let text = review::format::text::render(&r, &Default::default());
    assert!(
        text.contains("  site renamed lab → staging (4 nodes)\n"),
        "{text}"
    );
    // siteconf.toml is netops' (the starter policy) and the group `site_lab`
    // becomes `site_staging` (plays naming it match no host: sre-leads');
    // nothing else fires.
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    let out = stdout(&o);
    assert!(
        !out.contains("max-nodes-percent") && !out.contains("bgp-session-removed"),
        "{out}"
    );
    assert!(out.contains("renamed site_lab → site_staging"), "{out}");
    let o = siteconf(
        repo.path(),
        &[
            "gate",
            "main",
            "feature",
            "--approved-by",
            "netops",
            "--approved-by",
            "sre-leads",
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// The project files of a data case under `tests/cases/` (its snapshots
/// and command list left out).
fn case_files(name: &str) -> Files {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name);
    let mut files = Files::new();
    let mut stack = vec![case.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("case dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_none_or(|x| x != "snap") && !p.ends_with("cmd") {
                let rel = p.strip_prefix(&case).expect("under case");
                files.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).expect("text"),
                );
            }
        }
    }
    files
}

/// `siteconf diff` of a project of several sites renders, in each site,
/// only the devices whose key differs between the sides (a one-node edit
/// costs one node, not every site's fleet) and still reviews exactly what
/// rendering everything reviews — including the files a shared bootinfra
/// joins from the sites, which both sides render whole.
#[test]
fn several_sites_diff_renders_only_what_differs() {
    // The two-site bootinfra case with the lab's boot service taken out:
    // one site of a bootinfra can have one (SC1221).
    let mut base = case_files("sites-bootinfra-boot");
    let lab = "sites/lab/site.kdl";
    let text = &base[lab];
    let (from, to) = (
        text.find("    // One boot service")
            .expect("the lab's boot block"),
        text.find("    defaults {").expect("the lab's defaults"),
    );
    let text =
        format!("{}{}", &text[..from], &text[to..]).replace("        boot-image debian-12\n", "");
    base.insert(lab.into(), text);
    let rack = "sites/prod/racks/r01.kdl";
    let edits: [(&str, &str); 3] = [
        // One node's serial: its own files and host_vars.
        ("serial YL4HP8K", "serial YL4HP8X"),
        // One node's MAC: its Kea reservation and iPXE script, which the
        // bootinfra joins.
        (
            "interface eno1 { mac \"52:54:00:01:01:01\"",
            "interface eno1 { mac \"52:54:00:01:01:0a\"",
        ),
        // Nothing rendered changes.
        ("// Port plan of both ToRs", "// The port plan of both ToRs"),
    ];
    let mut ran = 0;
    for (from, to) in edits {
        let mut head = base.clone();
        assert!(head[rack].contains(from), "{from}");
        head.insert(rack.into(), head[rack].replace(from, to));
        let repo = two_commits(&base, &head);
        let (kb, kh) = compile_main_feature(&repo);
        let full_b = compile_rev(&repo, "main", &review::Engine);
        let full_h = compile_rev(&repo, "feature", &review::Engine);
        // Only the edited node (of 4 per site) and the site files are rendered.
        let rendered = |c: &Compiled| {
            c.output
                .files
                .values()
                .filter(|a| matches!(a.owner, Owner::Node(_) | Owner::Switch(_)))
                .count()
        };
        assert!(
            rendered(&kh) * 4 < rendered(&full_h),
            "{from}: {} of {} device files rendered",
            rendered(&kh),
            rendered(&full_h)
        );
        assert!(kh
            .output
            .files
            .keys()
            .any(|p| p.starts_with("bootinfra/core/dhcp/")));
        let opts = review::format::text::Options {
            max_lines: None,
            ..Default::default()
        };
        let keyed = Review::build(&kb, &kh, &Filter::default());
        let full = Review::build(&full_b, &full_h, &Filter::default());
        assert_eq!(
            review::format::text::render(&keyed, &opts),
            review::format::text::render(&full, &opts),
            "{from}"
        );
        ran += 1;
    }
    assert_eq!(ran, 3);
}

/// A zone whose records are the same on both sides is rendered by
/// neither, though the sides' histories differ: head's parent commit holds
/// base's lock, base has no parent — serials below the lock's own change
/// nothing, so they do not make the zones new. A node's serial edit
/// renders no zone; a node's new name renders the zones it is in, on both
/// sides; either way the review is the one rendering everything gives.
#[test]
fn a_zone_is_rendered_only_when_its_records_change() {
    let base = init_site(8);
    let rack = "site/racks/r01.kdl";
    assert!(base[rack].contains("serial YL4HP8K"), "{}", base[rack]);
    let edits: [(&str, &str, usize); 2] = [
        ("serial YL4HP8K", "serial YL4HP8X", 0),
        // r01n01 → r01n09: the forward zone and the reverse zones holding
        // its addresses (management and loopback, IPv4 and IPv6).
        ("node r01n01 {", "node r01n09 {", 1),
    ];
    let mut ran = 0;
    for (from, to, least) in edits {
        let mut head = base.clone();
        head.insert(rack.into(), head[rack].replace(from, to));
        if least > 0 {
            // A rename keeps the node's values: its lock lines are renamed too.
            let lock = head["siteconf.lock"].replace("node/r01n01 ", "node/r01n09 ");
            head.insert("siteconf.lock".into(), lock);
        }
        let repo = two_commits(&base, &head);
        let (kb, kh) = compile_main_feature(&repo);
        let zones = |c: &Compiled| {
            c.output
                .files
                .keys()
                .filter(|p| p.ends_with(".zone"))
                .count()
        };
        let full_h = compile_rev(&repo, "feature", &review::Engine);
        assert!(zones(&full_h) > 2, "{} zones", zones(&full_h));
        if least == 0 {
            assert_eq!((zones(&kb), zones(&kh)), (0, 0), "{from}");
        } else {
            assert!(
                zones(&kb) > least && zones(&kb) == zones(&kh),
                "{from}: {} {}",
                zones(&kb),
                zones(&kh)
            );
            assert!(zones(&kh) < zones(&full_h), "{from}: every zone rendered");
        }
        let opts = review::format::text::Options {
            max_lines: None,
            ..Default::default()
        };
        assert_eq!(
            review::format::text::render(&Review::build(&kb, &kh, &Filter::default()), &opts),
            review::format::text::render(&review_of(&repo, "main", "feature"), &opts),
            "{from}"
        );
        ran += 1;
    }
    assert_eq!(ran, 2);
}

/// The gate policy of docs/sites.md (scoping a rule to a site), compiled.
fn sites_doc_policy() -> siteconf::gate::policy::Compiled {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sites.md"))
        .expect("docs/sites.md");
    let toml_text = doc
        .split("```toml\n")
        .find(|b| b.contains("[[gate.owners]]"))
        .and_then(|b| b.split("```").next())
        .expect("the gate example of docs/sites.md");
    let config: siteconf::project::Config = toml::from_str(toml_text).expect("valid siteconf.toml");
    let mut sources = siteconf::syntax::SourceMap::default();
    sources.add(siteconf::syntax::SourceFile::new(
        "siteconf.toml",
        toml_text,
    ));
    siteconf::gate::policy::from_config(&config, &sources)
        .unwrap_or_else(|d| panic!("documented policy is invalid: {:?}", d.into_vec()))
}

// ---------------------------------------------------------------- renumbering

/// A careless lock merge: main adds r001n05 and runs `siteconf lock`; a
/// branch adds r001n06 and runs it too; both get the same next values.
/// Merging the branch and taking its side of the lock drops r001n05's
/// lines, and `siteconf lock` gives r001n05 new ones. `check` cannot see
/// it from one revision; the review shows it first and the gate blocks it.
#[test]
fn a_careless_lock_merge_is_renumbered_and_blocks_the_gate() {
    let common = with_policy(base_site());
    let add = |f: &Files, n: u32| {
        let mut f = f.clone();
        f.insert(
            "site/r001.kdl".into(),
            format!("{}{}", f["site/r001.kdl"], Gen::node_block(1, n)),
        );
        f
    };
    let main = with_lock(add(&common, 5), Some(&common));
    let branch = with_lock(add(&common, 6), Some(&common));
    let merged = with_lock(add(&add(&common, 5), 6), Some(&branch));
    let repo = two_commits(&main, &merged);
    let r = review_of(&repo, "main", "feature");
    let got: Vec<String> = r
        .renumbered
        .iter()
        .map(|x| format!("{} {}", x.owner, x.key))
        .collect();
    assert_eq!(
        got,
        [
            "node/r001n05 address.mgmt.ipv4",
            "node/r001n05 asn",
            "node/r001n05 loopback.ipv4"
        ]
    );
    assert!(r
        .renumbered
        .iter()
        .all(|x| x.old != x.new && x.renamed_from.is_none()));
    assert_eq!(r.summary.renumbered_nodes, 1);
    assert_eq!(r.summary.allocations.renumbered, 3);
    // Each renumbered value counts once: not also as its new value
    // allocated and its old one dropped. Only r001n06's 3 are allocated
    // (the values main gave r001n05).
    assert_eq!(r.summary.allocations.allocated, 3, "{:?}", r.lock);
    assert_eq!(r.summary.allocations.dropped, 0, "{:?}", r.lock);
    assert!(r.renames.is_empty());

    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    let out = stdout(&o);
    let first = out.lines().nth(1).unwrap_or("");
    assert!(
        first.contains("RENUMBERED   3 value(s) of 1 device(s) change:"),
        "listed first: {out}"
    );
    let old = &r.renumbered[0];
    assert!(
        out.contains(&format!(
            "    r001n05: address.mgmt.ipv4 {} → {}, asn ",
            old.old, old.new
        )),
        "{out}"
    );
    assert!(
        out.contains("allocations  3 renumbered, 3 allocated\n"),
        "{out}"
    );
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "markdown"],
        &[],
    );
    assert!(
        stdout(&o).contains("> ⛔ **Renumbered:** 3 value(s) of 1 device(s) change:"),
        "{}",
        stdout(&o)
    );
    let o = siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    );
    let v = json(&o);
    assert_eq!(v["summary"]["allocations"]["renumbered"], 3);
    assert_eq!(v["summary"]["renumbered_nodes"], 1);
    assert_eq!(v["renumbered"][0]["owner"], "node/r001n05");
    assert_eq!(v["renumbered"][0]["old"], old.old.as_str());
    assert_eq!(v["renumbered"][0]["new"], old.new.as_str());

    // The gate blocks it by default (no limit set); gate.approvers may
    // approve it, like the blast-radius limits.
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("BLOCKED  renumbered: 3 allocated value(s) of 1 device(s) change"),
        "{}",
        stdout(&o)
    );
    let o = siteconf(
        repo.path(),
        &["gate", "main", "feature", "--approved-by", "sre-leads"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // Merged with both sides of the lock kept: nothing is renumbered.
    let kept = with_lock(add(&add(&common, 5), 6), Some(&main));
    let repo = two_commits(&main, &kept);
    let r = review_of(&repo, "main", "feature");
    assert!(r.renumbered.is_empty(), "{:?}", r.renumbered);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

/// Without a policy the gate still blocks a renumbering, and a policy may
/// allow some with `max-renumbered-nodes`.
#[test]
fn renumbering_blocks_without_a_policy_unless_allowed() {
    let base = base_site();
    let mut head = base.clone();
    // Edit a value in the lock by hand.
    let lock = &base["siteconf.lock"];
    let line = lock
        .lines()
        .find(|l| l.starts_with("node/r001n01 asn "))
        .expect("asn line");
    head.insert(
        "siteconf.lock".into(),
        lock.replace(line, "node/r001n01 asn 4200000777"),
    );
    let repo = two_commits(&base, &head);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("BLOCKED  renumbered: 1 allocated value(s)"),
        "{out}"
    );
    assert!(
        out.contains("nobody may approve this (no gate.approvers in base's policy)"),
        "{out}"
    );
    assert!(out.contains("r001n01: asn "), "{out}");

    let mut allowing = base.clone();
    allowing.insert(
        "siteconf.toml".into(),
        "[diff]\ndefault-branch = \"main\"\n\n[gate]\nmax-renumbered-nodes = 1\n".into(),
    );
    let mut head = head.clone();
    head.insert("siteconf.toml".into(), allowing["siteconf.toml"].clone());
    let repo = two_commits(&allowing, &head);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

/// A node renamed with the same MAC is the same machine: the review says
/// so, and its values allocated anew are renumbered. Renaming the owner in
/// siteconf.lock too keeps them.
#[test]
fn a_renamed_node_is_shown_as_a_rename_and_its_new_values_as_renumbered() {
    let base = with_policy(base_site());
    let mut renamed = base.clone();
    let old = Gen::node_block(1, 4);
    renamed.insert(
        "site/r001.kdl".into(),
        renamed["site/r001.kdl"].replace(&old, &old.replace("node r001n04", "node db-01")),
    );
    let head = with_lock(renamed.clone(), Some(&base));
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(r.renames.len(), 1, "{:?}", r.renames);
    let x = &r.renames[0];
    assert_eq!((x.from.as_str(), x.to.as_str()), ("r001n04", "db-01"));
    assert_eq!(x.same, "MAC 52:54:00:01:00:04");
    assert_eq!(x.renumbered, 3);
    assert!(r
        .renumbered
        .iter()
        .all(|n| n.owner == "node/db-01" && n.renamed_from.as_deref() == Some("node/r001n04")));
    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    let out = stdout(&o);
    assert!(
        out.contains("    db-01 (was r001n04): address.mgmt.ipv4 "),
        "{out}"
    );
    assert!(
        out.contains("  renamed      r001n04 → db-01 (same MAC 52:54:00:01:00:04): the same machine under a new name; its 3 allocated value(s) (addresses, ASN, loopback) change; to keep them rename the owner in siteconf.lock (node/r001n04 → node/db-01)"),
        "{out}"
    );
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("BLOCKED  renumbered:"),
        "{}",
        stdout(&o)
    );
    let v = json(&siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    ));
    assert_eq!(v["renames"][0]["from"], "r001n04");
    assert_eq!(v["renames"][0]["to"], "db-01");
    assert_eq!(v["renumbered"][0]["renamed_from"], "node/r001n04");

    // The owner renamed in the lock as the help says: the values stay.
    let mut kept = renamed;
    kept.insert(
        "siteconf.lock".into(),
        base["siteconf.lock"].replace("node/r001n04 ", "node/db-01 "),
    );
    let kept = with_lock(kept.clone(), Some(&kept));
    let repo = two_commits(&base, &kept);
    let r = review_of(&repo, "main", "feature");
    assert!(r.renumbered.is_empty(), "{:?}", r.renumbered);
    assert_eq!(r.renames[0].renumbered, 0);
    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    assert!(
        stdout(&o)
            .contains("r001n04 → db-01 (same MAC 52:54:00:01:00:04): its allocated values stay"),
        "{}",
        stdout(&o)
    );
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert!(!stdout(&o).contains("renumbered:"), "{}", stdout(&o));
}

/// The `[gate]` policy `siteconf init` writes holds back what a team
/// reviews: an external peer's new ASN, a removed peer (netops), a change
/// on every node (sre-leads); a change on one node of ten passes.
#[test]
fn the_starter_gate_policy_of_init_blocks_what_needs_review() {
    let base = init_site(10);
    let peers = "site/bgp-peers.kdl";
    let profiles = "site/profiles.kdl";
    let racks = "site/racks/r01.kdl";
    let edit = |path: &str, from: &str, to: &str| {
        let mut head = base.clone();
        assert!(head[path].contains(from), "{path} has no `{from}`");
        head.insert(path.into(), head[path].replacen(from, to, 1));
        head
    };
    let cases = [
        (
            edit(peers, "asn 64496", "asn 64499"),
            vec!["external-peer-changed", "routing, templates and policy"],
            "netops",
        ),
        (
            edit(
                profiles,
                "interface eno1 { mtu 9000 }",
                "interface eno1 { mtu 1500 }",
            ),
            vec!["max-nodes-percent"],
            "sre-leads",
        ),
    ];
    for (head, fired, approver) in cases {
        let repo = two_commits(&base, &head);
        let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
        let out = stdout(&o);
        assert_eq!(code(&o), 1, "{out}{}", stderr(&o));
        for f in &fired {
            assert!(out.contains(f), "{f} did not fire:\n{out}");
        }
        let o = siteconf(
            repo.path(),
            &["gate", "main", "feature", "--approved-by", approver],
            &[],
        );
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    }
    // One node's change passes.
    let head = edit(
        racks,
        "model \"Dell PowerEdge R650\"\n    serial YL4HP8K",
        "model \"Dell PowerEdge R660\"\n    serial YL4HP8K",
    );
    let repo = two_commits(&base, &head);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // Six nodes added to a site of ten (60% more) change no running
    // machine: `max-nodes-percent` counts nodes changed or removed, so
    // growing a small site needs no sre-leads (the MTU above still does).
    let grown = init_site(16);
    let repo = two_commits(&base, &grown);
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    let out = stdout(&o);
    assert!(out.contains("nodes 6 added (fleet 10)"), "{out}");
    assert!(!out.contains("max-nodes-percent"), "{out}");
}

// ------------------------------------------------- probe 14b: what breaks

/// `POLICY` plus the rules a team writes for sessions, nodes and the lock.
fn with_session_rules(f: Files) -> Files {
    let mut f = with_policy(f);
    let toml = f["siteconf.toml"].clone()
        + "\n[[gate.rules]]\nname = \"external-peer-changed\"\non = \"bgp-session-changed\"\napprovers = [\"netops\"]\n\
           \n[[gate.rules]]\nname = \"bgp-session-added\"\non = \"bgp-session-added\"\napprovers = [\"netops\"]\n\
           \n[[gate.rules]]\nname = \"node-removed\"\non = \"node-removed\"\napprovers = [\"sre-leads\"]\n\
           \n[[gate.rules]]\nname = \"released\"\non = \"allocation-released\"\napprovers = [\"sre-leads\"]\n";
    f.insert("siteconf.toml".into(), toml);
    f
}

/// A switch's own AS changes: every session of it resets, and its
/// external peer, configured for the old AS, refuses the new one. The
/// sessions are the same on both sides, yet each is a changed session —
/// the external peer's first — and the session rules fire.
#[test]
fn a_switch_whose_own_as_changes_changes_every_session_external_first() {
    let base = with_session_rules(base_site());
    let mut head = base.clone();
    head.insert(
        "site/r001.kdl".into(),
        head["site/r001.kdl"].replace("asn 4200100001;", "asn 4200100081;"),
    );
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert!(!r.sessions.is_empty());
    assert!(
        r.sessions
            .iter()
            .all(|x| x.status == siteconf::output::diff::Status::Changed),
        "{:?}",
        r.sessions
    );
    // The external peer first; then the switch links and the nodes.
    let lines: Vec<String> = r.sessions.iter().map(|x| x.to_string()).collect();
    assert_eq!(
        lines[0],
        "upstream1 ↔ r001-tor1 over 192.0.2.1 (AS 64512) (r001-tor1's AS 4200100001 → 4200100081)"
    );
    assert!(
        lines.contains(
            &"r001n01 ↔ r001-tor1 over eno1 (r001-tor1's AS 4200100001 → 4200100081)".to_string()
        ),
        "{lines:?}"
    );
    // Sessions of other switches that do not touch r001-tor1 stay out.
    assert!(
        !lines.iter().any(|l| l.starts_with("r002n01 ")),
        "{lines:?}"
    );
    assert_eq!(r.summary.bgp_sessions.changed, r.sessions.len());
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("BLOCKED  rule: external-peer-changed: bgp-session-changed:"),
        "{}",
        stdout(&o)
    );
    let v = json(&siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    ));
    assert_eq!(v["bgp_sessions"][0]["local_as"][0]["device"], "r001-tor1");
    assert_eq!(v["bgp_sessions"][0]["local_as"][0]["old"], 4200100001u64);
}

/// Two nodes' MACs swapped: nothing is renamed or reallocated, yet the
/// machines swap management addresses and identities. The review says so
/// first, counted like renumbering, and the gate blocks it by default.
#[test]
fn swapped_macs_are_a_headline_and_block_the_gate() {
    let base = with_policy(base_site());
    let mut head = base.clone();
    let (a, b) = ("52:54:00:01:00:01", "52:54:00:01:00:02");
    head.insert(
        "site/r001.kdl".into(),
        head["site/r001.kdl"]
            .replace(a, "X")
            .replace(b, a)
            .replace("\"X\"", &format!("\"{b}\"")),
    );
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(r.mac_moves.len(), 1, "{:?}", r.mac_moves);
    assert_eq!(r.summary.renumbered_nodes, 2);
    let o = siteconf(repo.path(), &["diff", "main", "feature"], &[]);
    let out = stdout(&o);
    assert!(
        out.contains("  MACS MOVED   MAC addresses moved between devices: r001n01 ↔ r001n02 (2 MAC addresses)"),
        "{out}"
    );
    assert!(out.find("MACS MOVED") < out.find("  nodes "), "{out}");
    let md = diff_main_feature(&repo, &["--format", "markdown"]);
    assert!(
        md.contains("> ⛔ MAC addresses moved between devices: r001n01 ↔ r001n02"),
        "{md}"
    );
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("BLOCKED  renumbered: MAC addresses moved between 2 device(s)"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("r001n01 ↔ r001n02 (2 MAC addresses)"),
        "{}",
        stdout(&o)
    );
}

/// A rack added: the running ToR's frr.conf (its link to the new rack's)
/// is what a reviewer must read; the new devices' files are one line per
/// kind of device in the capped text and the markdown, and come last
/// with `--full`.
#[test]
fn changes_to_running_devices_come_before_added_devices() {
    let base = with_policy(base_site());
    let head = with_lock(with_policy(Gen::new(4, 4).files()), Some(&base));
    let repo = two_commits(&base, &head);
    let out = diff_main_feature(&repo, &[]);
    assert!(
        out.contains("switches/r003-tor1/etc/frr/frr.conf (frr) changed"),
        "{out}"
    );
    assert!(!out.contains("nodes/<node>/"), "{out}");
    assert!(
        out.contains("+ 4 nodes added (") && out.contains("): r004n01–r004n04"),
        "{out}"
    );
    assert!(out.contains("+ switch added ("), "{out}");
    let md = diff_main_feature(&repo, &["--format", "markdown"]);
    assert!(md.contains("<b>Devices added or removed</b>"), "{md}");
    assert!(md.contains("r003-tor1"), "{md}");
    assert!(!md.contains("nodes/&lt;node&gt;/"), "{md}");
    assert!(!md.contains("nodes/<node>/"), "{md}");
    let full = stdout(&siteconf(
        repo.path(),
        &["diff", "main", "feature", "--full"],
        &[],
    ));
    let tor = full
        .find("switches/r003-tor1/etc/frr/frr.conf")
        .expect("tor");
    let new = full
        .find("nodes/<node>/")
        .expect("new nodes' files with --full");
    assert!(tor < new, "{full}");
}

/// A node renamed with its lock owner renamed too (values kept) is
/// compared with itself: its files are changed, not added and removed;
/// no session, allocation or node goes away, and the gate's rules for
/// those stay quiet.
#[test]
fn a_renamed_node_whose_values_stay_is_compared_with_itself() {
    let base = with_session_rules(base_site());
    let mut renamed = base.clone();
    let old = Gen::node_block(1, 4);
    renamed.insert(
        "site/r001.kdl".into(),
        renamed["site/r001.kdl"].replace(&old, &old.replace("node r001n04", "node db-01")),
    );
    renamed.insert(
        "siteconf.lock".into(),
        base["siteconf.lock"].replace("node/r001n04 ", "node/db-01 "),
    );
    let head = with_lock(renamed.clone(), Some(&renamed));
    let repo = two_commits(&base, &head);
    let r = review_of(&repo, "main", "feature");
    assert_eq!(r.renames.len(), 1, "{:?}", r.renames);
    assert_eq!(r.renames[0].renumbered, 0);
    assert_eq!(
        (
            r.summary.nodes.added,
            r.summary.nodes.removed,
            r.summary.nodes.changed
        ),
        (0, 0, 1)
    );
    assert!(r.sessions.is_empty(), "{:?}", r.sessions);
    assert!(r.lock.is_empty(), "{:?}", r.lock);
    assert!(
        r.changes
            .iter()
            .filter(|c| c.path.starts_with("nodes/"))
            .all(|c| c.status == siteconf::output::diff::Status::Changed
                && c.path.starts_with("nodes/db-01/")),
        "{:?}",
        r.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    let out = diff_main_feature(&repo, &[]);
    assert!(
        out.contains(
            "renamed      r001n04 → db-01 (same MAC 52:54:00:01:00:04): its allocated values stay"
        ),
        "{out}"
    );
    assert!(out.contains("-r001n04\n+db-01\n"), "{out}");
    // The manifest reads base's entries under the new name: the renamed
    // node's files changed, none added or removed.
    assert_eq!(r.manifests.len(), 1, "{:?}", r.manifests);
    let m = r.manifests[0]
        .entries
        .as_ref()
        .expect("both manifests read");
    assert_eq!((m.added, m.removed), (0, 0), "{m:?}");
    assert!(m.changed > 0, "{m:?}");
    // Its cloud-init instance-id is of its name: a new instance, said.
    assert_eq!(r.new_instances.len(), 1, "{:?}", r.new_instances);
    assert_eq!(r.new_instances[0].node, "db-01");
    assert!(
        out.contains("  NEW INSTANCE db-01: instance-id iid-r001n04"),
        "{out}"
    );
    let o = siteconf(repo.path(), &["gate", "main", "feature"], &[]);
    let g = stdout(&o);
    for rule in [
        "node-removed",
        "released",
        "bgp-session-removed",
        "bgp-session-added",
    ] {
        assert!(!g.contains(&format!("rule: {rule}:")), "{g}");
    }
}

/// What `check` finds on head is at the top of the review and the gate's
/// report: the automation key's `from=` that covers no network locks
/// Ansible out, and its diff is a harmless-looking two-line hunk.
#[test]
fn head_warnings_are_at_the_top_of_diff_and_gate() {
    let base = init_site(4);
    let mut head = base.clone();
    let profiles = "site/profiles.kdl";
    assert!(
        head[profiles].contains(r#"from=\"10.0.0.0/16\""#),
        "{}",
        head[profiles]
    );
    head.insert(
        profiles.into(),
        head[profiles].replace(r#"from=\"10.0.0.0/16\""#, r#"from=\"10.9.0.0/16\""#),
    );
    let repo = two_commits(&base, &head);
    let out = diff_main_feature(&repo, &[]);
    assert!(
        out.contains("  CHECK        head: 1 warning(s) (all new)"),
        "{out}"
    );
    assert!(
        out.contains("    warning[SC0085] site/profiles.kdl:"),
        "{out}"
    );
    assert!(out.find("warning[SC0085]") < out.find("  nodes "), "{out}");
    let md = diff_main_feature(&repo, &["--format", "markdown"]);
    assert!(
        md.contains("> ⚠️ **check on head:** 1 warning(s) (all new)"),
        "{md}"
    );
    assert!(md.contains("> - warning&#91;SC0085&#93;"), "{md}");
    let v = json(&siteconf(
        repo.path(),
        &["diff", "main", "feature", "--format", "json"],
        &[],
    ));
    assert_eq!(v["head_check"]["warnings"], 1);
    assert_eq!(v["head_check"]["findings"][0]["code"], "SC0085");
    assert_eq!(v["head_check"]["findings"][0]["new"], true);
    let g = stdout(&siteconf(repo.path(), &["gate", "main", "feature"], &[]));
    assert!(g.contains("  check on head: 1 warning(s) (all new)"), "{g}");
    assert!(g.contains("    warning[SC0085] site/profiles.kdl:"), "{g}");
}
