//! `siteconf init`: the generated site passes `check` at every size and in
//! both formats, holds together where validation rules do not look yet
//! (cabling, rack units, uniqueness), the committed example site is exactly
//! what `init` writes, the command never writes over a user's files, and a
//! new project is green and wired from its first commit: `git commit` runs
//! its pre-commit hook (the real pre-commit), `check --locked` and `build`
//! pass, nothing built or secret is committed, every TOML file follows the
//! schema its `#:schema` line names (the real taplo), and the CI file is the
//! recipe of `docs/ci/`, valid for its platform (check-jsonschema).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use siteconf::check::{check, Checked};
use siteconf::diag::{render_human, ColorChoice};
use siteconf::init::{generate, Options};
use siteconf::model::SiteIndex;
use siteconf::source::MemSource;
use siteconf::syntax::Format;

mod support;

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
    // The site files alone, without the lock `init` writes beside them
    // (`project_files`): the missing lock (SC0813) is expected here.
    let list: Vec<_> = checked
        .diags
        .clone()
        .sorted(&checked.loaded.sources)
        .into_iter()
        .filter(|d| d.code != siteconf::diag::Code::LockMissing)
        .collect();
    if !list.is_empty() {
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

/// The files of `siteconf init . --nodes 48 --racks 4` that this repository
/// holds as its example project: all but the `.gitignore` and the
/// pre-commit configuration, which in this repository are siteconf's own.
fn example_files() -> Vec<(String, String)> {
    let generated = generate(&Options {
        nodes: 48,
        racks: Some(4),
        format: Format::Kdl,
    })
    .expect("init --nodes 48 --racks 4");
    let mut files = generated.files.clone();
    files.extend(
        siteconf::init::project_files(&generated, siteconf::init::Ci::None)
            .expect("project files")
            .into_iter()
            .filter(|(p, _)| p != ".gitignore" && p != ".pre-commit-config.yaml"),
    );
    files
}

#[test]
fn the_example_site_is_what_init_writes() {
    let files = example_files();
    let update = std::env::var_os("UPDATE_GENERATED").is_some_and(|v| !v.is_empty());
    for (path, contents) in &files {
        if update {
            std::fs::write(repo().join(path), contents).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let committed =
            std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            &committed == contents,
            "{path} differs from `siteconf init --nodes 48 --racks 4`; regenerate the example with\n  \
             UPDATE_GENERATED=1 cargo test --test init the_example_site\n\
             (then review the diff)"
        );
    }
    let ours: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for dir in ["site", "secrets", "schema"] {
        for e in walkdir::WalkDir::new(repo().join(dir)) {
            let e = e.expect("walk");
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
    // Same arguments, same bytes, wherever the project is written (`-C`
    // names an existing directory, as for every command).
    std::fs::create_dir(tmp.path().join("other")).expect("mkdir other");
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

// ---- a new project, end to end ---------------------------------------------------

/// `git ARGS` in `dir` as a user with no configuration of their own would
/// run it; `path` first on PATH (where `siteconf` is).
fn git(dir: &Path, home: &Path, path: &str, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("PATH", path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "First Hour")
        .env("GIT_AUTHOR_EMAIL", "first-hour@example.net")
        .env("GIT_COMMITTER_NAME", "First Hour")
        .env("GIT_COMMITTER_EMAIL", "first-hour@example.net")
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env("NO_COLOR", "1")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .output()
        .expect("run git")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// PATH with the siteconf under test first: the hook and the CI recipes
/// call `siteconf` by name, as on a machine with the .deb installed.
fn path_with_siteconf() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_siteconf"))
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    match std::env::var("PATH") {
        Ok(p) => format!("{bin}:{p}"),
        Err(_) => bin,
    }
}

#[test]
fn a_new_project_is_green_and_wired_from_its_first_commit() {
    let Some(pre_commit) = support::consumer_tool("pre-commit") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).expect("mkdir home");
    let path = path_with_siteconf();
    let (code, err) = siteconf(
        &["init", "fleet", "--nodes", "10", "--ci", "gitlab"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let fleet = tmp.path().join("fleet");
    // The pre-commit configuration and the CI file are the recipes of docs/ci/.
    for (file, recipe) in [
        (".pre-commit-config.yaml", "docs/ci/pre-commit-config.yaml"),
        (".gitlab-ci.yml", "docs/ci/gitlab-ci.yml"),
    ] {
        let written = std::fs::read(fleet.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let ours = std::fs::read(repo().join(recipe)).expect("recipe");
        assert!(written == ours, "{file} is not {recipe}");
    }
    assert!(
        !fleet.join(".github").exists(),
        "--ci gitlab wrote a GitHub workflow"
    );

    // The first commit: pre-commit's own hook runs siteconf check on it.
    let ok = |o: std::process::Output, what: &str| {
        assert!(o.status.success(), "{what} failed:\n{}", text(&o));
        text(&o)
    };
    ok(git(&fleet, &home, &path, &["init", "-q"]), "git init");
    let o = Command::new(&pre_commit)
        .arg("install")
        .current_dir(&fleet)
        .env("HOME", &home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .output()
        .expect("run pre-commit install");
    ok(o, "pre-commit install");
    ok(git(&fleet, &home, &path, &["add", "-A"]), "git add");
    let out = ok(
        git(&fleet, &home, &path, &["commit", "-m", "fleet: a new site"]),
        "the first commit",
    );
    assert!(
        out.contains("siteconf check (staged)") && out.contains("Passed"),
        "the hook did not run on the first commit:\n{out}"
    );
    let files = ok(git(&fleet, &home, &path, &["ls-files"]), "git ls-files");
    let files: BTreeSet<&str> = files.lines().collect();
    for f in [
        "siteconf.toml",
        "siteconf.lock",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".gitlab-ci.yml",
        "schema/site.schema.json",
        "schema/siteconf.schema.json",
        "schema/secrets.schema.json",
        "site/site.kdl",
        "site/racks/r01.kdl",
    ] {
        assert!(files.contains(f), "{f} was not committed: {files:?}");
    }
    assert!(
        !files.iter().any(|f| f.starts_with("secrets/")),
        "the secrets file was committed: {files:?}"
    );
    assert!(fleet.join("secrets/local.toml").is_file());

    // Green: check against the committed lock, and a build.
    let run = |args: &[&str]| {
        support::command(&fleet, args)
            .env("PATH", &path)
            .output()
            .expect("run siteconf")
    };
    support::ok(&run(&["check", "--locked", "--deny", "warnings"]));
    support::ok(&run(&["build"]));
    assert!(fleet.join("out/nodes/r01n01").is_dir());
    support::ok(&run(&["inventory", "--host", "r01n01"]));
    assert!(fleet.join(".out.siteconf-inventory").is_file());
    // The build left nothing to commit: out/, its stamp, the inventory's
    // cache and the secrets are ignored, and the lock it may rewrite (zone
    // serials) is as init wrote it.
    let status = ok(
        git(&fleet, &home, &path, &["status", "--porcelain"]),
        "git status",
    );
    assert!(status.is_empty(), "the build left changes: {status}");

    // pre-commit runs the hook over the whole repository, and it passes.
    let o = Command::new(&pre_commit)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(&fleet)
        .env("HOME", &home)
        .env("PATH", &path)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .output()
        .expect("run pre-commit");
    let out = ok(o, "pre-commit run --all-files");
    assert!(out.contains("Passed"), "{out}");

    // The hook bites: a node in a rack that does not exist is not committed.
    let site = fleet.join("site/site.kdl");
    let mut broken = std::fs::read_to_string(&site).expect("site.kdl");
    broken.push_str("node r99n01 { rack r99; position 1; }\n");
    std::fs::write(&site, broken).expect("write");
    ok(git(&fleet, &home, &path, &["add", "-A"]), "git add");
    let o = git(&fleet, &home, &path, &["commit", "-m", "broken"]);
    assert!(!o.status.success(), "a broken site was committed");
    assert!(text(&o).contains("r99"), "{}", text(&o));
}

#[test]
fn toml_files_name_their_schema_and_the_ci_file_is_valid() {
    let (Some(taplo), Some(cjs)) = (
        support::consumer_tool("taplo"),
        support::consumer_tool("check-jsonschema"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    for (ci, file, schema) in [
        (
            "github",
            ".github/workflows/siteconf.yml",
            "vendor.github-workflows",
        ),
        ("gitlab", ".gitlab-ci.yml", "vendor.gitlab-ci"),
    ] {
        let (code, err) = siteconf(
            &["init", ci, "--nodes", "5", "--format", "toml", "--ci", ci],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        let dir = tmp.path().join(ci);
        let (valid, out) = support::verdict(
            Command::new(&cjs)
                .args(["--builtin-schema", schema])
                .arg(dir.join(file)),
        );
        assert!(valid, "{file} is not a valid {schema} file:\n{out}");
    }
    let dir = tmp.path().join("github");
    let tomls: Vec<String> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let rel = e.path().strip_prefix(&dir).expect("prefix");
            rel.to_string_lossy().into_owned()
        })
        .collect();
    for must in ["siteconf.toml", "secrets/local.toml", "site/racks/r01.toml"] {
        assert!(tomls.iter().any(|t| t == must), "no {must}: {tomls:?}");
    }
    for t in &tomls {
        let first = std::fs::read_to_string(dir.join(t)).expect("read");
        let first = first.lines().next().unwrap_or_default().to_string();
        assert!(first.starts_with("#:schema "), "{t}: {first}");
        let target = dir.join(t).parent().expect("parent").join(&first[9..]);
        assert!(
            target.is_file(),
            "{t} names {first}, which init did not write"
        );
    }
    // taplo (the engine of Even Better TOML) follows each file's #:schema.
    let lint = |files: &[String]| {
        support::verdict(
            Command::new(&taplo)
                .args(["lint", "--colors", "never", "--no-auto-config"])
                .args(files)
                .current_dir(&dir),
        )
    };
    let (valid, out) = lint(&tomls);
    assert!(valid, "taplo rejects what init wrote:\n{out}");
    // … and bites: a misspelt key in siteconf.toml, a number as a secret.
    let config = dir.join("siteconf.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, text.replacen("out-dir", "out_dir", 1)).expect("write");
    let secrets = dir.join("secrets/local.toml");
    let text = std::fs::read_to_string(&secrets).expect("read");
    std::fs::write(&secrets, format!("{text}\"ipmi/r01\" = 42\n")).expect("write");
    for (file, needle) in [("siteconf.toml", "out_dir"), ("secrets/local.toml", "42")] {
        let (valid, out) = lint(&[file.to_string()]);
        assert!(
            !valid && out.contains(needle),
            "taplo accepted {file}:\n{out}"
        );
    }
}

#[test]
fn force_keeps_a_users_gitignore() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join(".gitignore"), "/vault.toml\n").expect("write");
    let (code, err) = siteconf(&["init", "mine", "--nodes", "4", "--force"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).expect("read");
    assert!(ignore.starts_with("/vault.toml\n"), "{ignore}");
    for line in ["/out", "/secrets/", ".*.siteconf-*"] {
        assert!(
            ignore.lines().any(|l| l == line),
            "{line} missing:\n{ignore}"
        );
    }
    assert!(err.contains("yours, kept"), "{err}");
}
