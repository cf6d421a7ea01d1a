//! Site-wide artifacts (inventory, DNS zones, Kea, rack elevations) of the
//! fixture site `tests/fixtures/small-site/`: reviewed snapshots of every
//! file, and the properties a user would notice if they broke — output
//! independent of the engine's settings and of runs, SOA serials that
//! follow content, the script inventory agreeing with the static one,
//! template errors that name the template and line.
//!
//! The Environment here is built the way the render engine builds it
//! (strict undefined, every file under `templates/` by its relative path,
//! then `render::site::register`).
//!
//! ```sh
//! INSTA_UPDATE=always cargo test --test site_artifacts   # then READ the .snap files
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Map, Value as Json};
use siteconf::diag::{Code, Diagnostic};
use siteconf::output::{Artifact, Owner};
use siteconf::render::context::{site_view, SiteView};
use siteconf::render::site::{register, render_site};
use siteconf::source::{FsSource, MemSource, Source};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/small-site")
}

/// Every built-in template, by its path under `templates/`.
fn templates() -> Vec<(String, String)> {
    let dir = root().join("templates");
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let e = e.expect("walk templates");
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(&dir)
                .expect("under templates/")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(e.path()).expect("template")));
        }
    }
    out
}

/// How the engine may be configured; the site templates must not care.
#[derive(Clone, Copy)]
enum Style {
    /// minijinja's defaults: auto-escape by extension (JSON for .yml/.json,
    /// HTML for .html), no trim_blocks, no trailing newline kept.
    Defaults,
    /// No escaping, trim_blocks + lstrip_blocks, trailing newline kept.
    Plain,
}

fn env_with(style: Style, overrides: &[(&str, &str)]) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Style::Plain = style {
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("syntax"),
        );
    }
    let mut all: BTreeMap<String, String> = templates().into_iter().collect();
    for (name, src) in overrides {
        all.insert(name.to_string(), src.to_string());
    }
    for (name, src) in all {
        // Test-only: the Environment borrows its sources for 'static.
        let name: &'static str = Box::leak(name.into_boxed_str());
        let src: &'static str = Box::leak(src.into_boxed_str());
        env.add_template(name, src).expect("template compiles");
    }
    register(&mut env);
    env
}

fn env() -> Environment<'static> {
    env_with(Style::Defaults, &[])
}

/// The errors of a check, as `CODE: message`.
fn errors_of(checked: &siteconf::check::Checked) -> Vec<String> {
    checked
        .diags
        .iter()
        .filter(|d| d.severity == siteconf::diag::Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn view_of(src: &dyn Source) -> SiteView {
    let checked = siteconf::check::check(src);
    let errors = errors_of(&checked);
    assert!(errors.is_empty(), "fixture does not check: {errors:#?}");
    site_view(&checked.effective())
}

fn fixture_view() -> SiteView {
    view_of(&FsSource::new(fixture()))
}

/// The fixture's files in memory, for variants of it.
fn fixture_mem(edit: impl Fn(&str, String) -> String) -> MemSource {
    let fs = FsSource::new(fixture());
    let mut mem = MemSource::new();
    for p in fs.list("").expect("list fixture") {
        let text = fs.read_text(&p).expect("read").expect("exists");
        mem.insert(p.clone(), edit(&p, text));
    }
    mem
}

/// Every site-wide file of `site`, and the diagnostics.
fn site_files(env: &Environment<'_>, site: &SiteView) -> (Vec<Artifact>, Vec<Diagnostic>) {
    render_site(env, &std::sync::Arc::new(site.clone()), "SITECONF_SECRET_")
}

fn render(env: &Environment<'_>, site: &SiteView) -> BTreeMap<String, Artifact> {
    let (artifacts, diags) = site_files(env, site);
    assert!(diags.is_empty(), "diagnostics: {diags:#?}");
    artifacts.into_iter().map(|a| (a.path.clone(), a)).collect()
}

fn text(a: &Artifact) -> &str {
    std::str::from_utf8(&a.bytes).expect("UTF-8")
}

#[test]
fn snapshots_of_every_site_artifact() {
    let out = render(&env(), &fixture_view());
    let listing: String = out
        .values()
        .map(|a| {
            assert_eq!(a.owner, Owner::Site);
            format!("{:o} {:<9} {}\n", a.mode, a.kind, a.path)
        })
        .collect();
    insta::assert_snapshot!("listing", listing);
    for (path, a) in &out {
        insta::assert_snapshot!(path.replace('/', "__"), text(a));
    }
    // For running the real consumers on these files by hand:
    // SITECONF_SITE_ARTIFACTS_OUT=target/site-artifacts cargo test --test site_artifacts snapshots
    if let Some(dir) = std::env::var_os("SITECONF_SITE_ARTIFACTS_OUT") {
        for (path, a) in &out {
            let p = PathBuf::from(&dir).join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, &a.bytes).expect("write");
        }
    }
}

#[test]
fn output_does_not_depend_on_engine_settings_or_runs() {
    let site = fixture_view();
    let a = render(&env_with(Style::Defaults, &[]), &site);
    let b = render(&env_with(Style::Plain, &[]), &site);
    let again = render(&env(), &fixture_view());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    // An iPXE script carries its node's network-config (a node template,
    // which the build renders with its one engine configuration, like the
    // seed's copy): only that argument may differ between settings here.
    let masked = |t: &str| -> String {
        t.split(' ')
            .map(|w| match w.split_once("network-config=H4s") {
                Some((pre, _)) => format!("{pre}network-config=…"),
                None => w.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (path, x) in &a {
        assert_eq!(
            masked(text(x)),
            masked(text(&b[path])),
            "{path} differs between engine settings"
        );
        assert_eq!(text(x), text(&again[path]), "{path} differs between runs");
        assert!(
            text(x).ends_with('\n') && !text(x).ends_with("\n\n"),
            "{path}: one final newline"
        );
    }
}

fn serial_of(zone: &str) -> u32 {
    let line = zone
        .lines()
        .find(|l| l.contains("; serial"))
        .expect("serial line");
    line.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("serial number")
}

#[test]
fn zone_serials_move_forward_with_content_only() {
    use siteconf::render::site::{dns::SerialState, render_site_into};
    let env = env();
    // Zones, and the serials they were given, rendered from `serials`.
    let run = |site: SiteView, serials: &SerialState| {
        let mut files = BTreeMap::new();
        let (diags, zones) = render_site_into(
            &env,
            &std::sync::Arc::new(site),
            "SITECONF_SECRET_",
            serials,
            &Default::default(),
            None,
            &mut |batch: Vec<siteconf::output::Artifact>| {
                for a in batch {
                    files.insert(a.path.clone(), a);
                }
            },
        );
        assert!(diags.is_empty(), "{diags:#?}");
        let state = SerialState {
            recorded: zones
                .iter()
                .map(|z| (z.origin.clone(), (z.serial, z.hash.clone())))
                .collect(),
            previous: files
                .iter()
                .filter(|(p, _)| p.starts_with("site/dns/"))
                .map(|(p, a)| {
                    let origin = p["site/dns/".len()..].trim_end_matches(".zone");
                    (origin.to_string(), text(a).to_string())
                })
                .collect(),
            published: Default::default(),
        };
        (files, state)
    };
    let zone = |set: &BTreeMap<String, Artifact>, name: &str| {
        text(&set[&format!("site/dns/{name}.zone")]).to_string()
    };
    let (before, state) = run(fixture_view(), &SerialState::default());
    // A first render: every zone starts at 1.
    assert_eq!(serial_of(&zone(&before, "dc1.example.net")), 1);
    let edited = view_of(&fixture_mem(|_, t| t.replace("10.0.0.50", "10.0.0.51")));
    let (after, state2) = run(edited.clone(), &state);
    // The zones the change touches go forward…
    for z in ["dc1.example.net", "0.0.10.in-addr.arpa"] {
        assert_ne!(zone(&before, z), zone(&after, z));
        assert_eq!(serial_of(&zone(&after, z)), 2, "{z}");
    }
    // …the others are byte-identical, serial included.
    for z in [
        "1.0.10.in-addr.arpa",
        "255.10.in-addr.arpa",
        "2.0.192.in-addr.arpa",
    ] {
        assert_eq!(zone(&before, z), zone(&after, z), "{z}");
    }
    // The same input again: the same zones. Reverted: forward again, to 3.
    assert_eq!(run(edited, &state2).0, after);
    let (reverted, _) = run(fixture_view(), &state2);
    assert_eq!(serial_of(&zone(&reverted, "dc1.example.net")), 3);
    assert_eq!(serial_of(&zone(&reverted, "1.0.10.in-addr.arpa")), 1);
}

#[test]
fn reverse_zones_cover_every_prefix() {
    let out = render(&env(), &fixture_view());
    let zones: Vec<&str> = out
        .keys()
        .filter_map(|p| p.strip_prefix("site/dns/"))
        .collect();
    assert_eq!(
        zones,
        [
            "0.0.1.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone",
            "0.0.10.in-addr.arpa.zone",
            "0.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone",
            "0.1.10.in-addr.arpa.zone",
            "1.0.10.in-addr.arpa.zone",
            "1.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone",
            "1.1.10.in-addr.arpa.zone",
            "2.0.10.in-addr.arpa.zone",
            "2.0.192.in-addr.arpa.zone",
            "2.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone",
            "2.1.10.in-addr.arpa.zone",
            "255.10.in-addr.arpa.zone",
            "3.0.10.in-addr.arpa.zone",
            "3.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone",
            "3.1.10.in-addr.arpa.zone",
            "dc1.example.net.zone",
            "f.f.f.f.8.b.d.0.1.0.0.2.ip6.arpa.zone",
        ]
    );
    // r02c01's public address in 2001:db8:0:203::/64 has its PTR there.
    let z = text(&out["site/dns/3.0.2.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone"]);
    assert!(
        z.contains("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR r02c01.public.dc1.example.net."),
        "{z}"
    );
}

// ---- inventory: script protocol vs static files -----------------------------

/// `siteconf ARGS` on a copy of the fixture: `inventory` keeps its answer
/// beside the output directory, which is not to be in the source tree.
fn siteconf(args: &[&str]) -> (i32, String, String) {
    let copy = tempfile::tempdir().expect("tempdir");
    for p in FsSource::new(fixture()).list("").expect("list fixture") {
        let to = copy.path().join(&p);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fixture().join(&p), to).expect("copy");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "-C"])
        .arg(copy.path())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run siteconf");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A YAML file as JSON, the way Ansible reads it: `!unsafe "x"` is the
/// untrusted string that JSON spells `{"__ansible_unsafe": "x"}`.
fn yaml(a: &Artifact) -> Json {
    fn conv(v: serde_norway::Value) -> Json {
        use serde_norway::Value as Y;
        match v {
            Y::Null => Json::Null,
            Y::Bool(b) => json!(b),
            Y::Number(n) => serde_json::to_value(&n).expect("number"),
            Y::String(s) => json!(s),
            Y::Sequence(items) => Json::Array(items.into_iter().map(conv).collect()),
            Y::Mapping(m) => Json::Object(
                m.into_iter()
                    .map(|(k, v)| (k.as_str().expect("string key").to_string(), conv(v)))
                    .collect(),
            ),
            Y::Tagged(t) => {
                assert_eq!(t.tag, "!unsafe", "only !unsafe is written");
                json!({ "__ansible_unsafe": conv(t.value) })
            }
        }
    }
    let v: serde_norway::Value =
        serde_norway::from_str(text(a)).unwrap_or_else(|e| panic!("{}: {e}\n{}", a.path, text(a)));
    conv(v)
}

fn names(v: Option<&Json>) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Some(Json::Object(m)) => m.keys().cloned().collect(),
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn inventory_list_matches_the_static_inventory() {
    let out = render(&env(), &fixture_view());
    let (code, stdout, stderr) = siteconf(&["inventory", "--list"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    let list: Json = serde_json::from_str(&stdout).expect("--list is JSON");

    let hosts_yml = yaml(&out["site/inventory/hosts.yml"]);
    let all = &hosts_yml["all"];
    let group_vars = |g: &str| {
        out.get(&format!("site/inventory/group_vars/{g}.yml"))
            .map(yaml)
            .unwrap_or(json!({}))
    };

    // Groups: same names, hosts, children, vars.
    let static_groups = all["children"].as_object().expect("all.children");
    let mut list_groups: Vec<&String> = list
        .as_object()
        .expect("object")
        .keys()
        .filter(|k| *k != "_meta" && *k != "all")
        .collect();
    list_groups.sort();
    let mut static_names: Vec<&String> = static_groups.keys().collect();
    static_names.sort();
    assert_eq!(list_groups, static_names);
    for (g, body) in static_groups {
        let l = &list[g];
        assert_eq!(
            names(body.get("hosts")),
            names(l.get("hosts")),
            "hosts of {g}"
        );
        assert_eq!(
            names(body.get("children")),
            names(l.get("children")),
            "children of {g}"
        );
        assert_eq!(group_vars(g), l["vars"], "vars of {g}");
    }
    assert_eq!(group_vars("all"), list["all"]["vars"]);
    assert_eq!(names(all.get("hosts")), names(list["all"].get("hosts")));

    // Host vars: hosts.yml's inline vars, overridden by host_vars/<host>.yml.
    let hostvars = list["_meta"]["hostvars"]
        .as_object()
        .expect("_meta.hostvars");
    assert_eq!(
        names(all.get("hosts")),
        hostvars.keys().cloned().collect::<Vec<_>>()
    );
    for (h, inline) in all["hosts"].as_object().expect("all.hosts") {
        let mut merged: Map<String, Json> = inline.as_object().cloned().unwrap_or_default();
        let file = yaml(&out[&format!("site/inventory/host_vars/{h}.yml")]);
        for (k, v) in file.as_object().expect("host_vars mapping") {
            merged.insert(k.clone(), v.clone());
        }
        assert_eq!(Json::Object(merged), hostvars[h], "hostvars of {h}");
        // --host gives the same answer.
        let (code, one, _) = siteconf(&["inventory", "--host", h]);
        assert_eq!(code, 0);
        assert_eq!(
            serde_json::from_str::<Json>(&one).expect("JSON"),
            hostvars[h]
        );
    }
    // Nasty strings survive both spellings.
    let n1 = &hostvars["r01n01.dc1.example.net"];
    assert_eq!(n1["yes"], json!("no"));
    assert_eq!(n1["nested"]["<<"], json!("merge?"));
    assert_eq!(n1["nested"]["key: with\nbreak"], json!("- x"));
    assert_eq!(
        n1["motd"],
        json!("Managed by siteconf: \"don't\" edit\nby hand")
    );
    assert_eq!(n1["siteconf_node"]["model"], json!("Dell R650 <2U> & more"));
    // A fact that looks like Jinja reaches Ansible as an untrusted string.
    assert_eq!(
        hostvars["r01s01.dc1.example.net"]["siteconf_node"]["serial"],
        json!({"__ansible_unsafe": "{{ lookup('pipe', 'id') }}"})
    );
}

#[test]
fn variables_ansible_would_refuse_are_left_out_with_a_warning() {
    let site = view_of(&fixture_mem(|_, t| {
        t.replace(
            "        yes \"no\"\n",
            "        yes \"no\"\n        \"my-var\" 1\n",
        )
    }));
    let (artifacts, diags) = site_files(&env(), &site);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].code, Code::InventoryVarName);
    assert_eq!(diags[0].severity, siteconf::diag::Severity::Warning);
    assert!(
        diags[0].message.contains("`my-var` of node r01n01"),
        "{}",
        diags[0].message
    );
    let hv = artifacts
        .iter()
        .find(|a| a.path == "site/inventory/host_vars/r01n01.dc1.example.net.yml")
        .expect("host_vars");
    assert!(!text(hv).contains("my-var"));
    assert!(
        text(hv).contains("\"yes\": \"no\""),
        "a YAML boolean word as a key is quoted"
    );
}

#[test]
fn switches_are_inventory_hosts_with_their_own_groups() {
    let (code, stdout, stderr) = siteconf(&["inventory", "--list"]);
    assert_eq!(code, 0, "{stderr}");
    let list: Json = serde_json::from_str(&stdout).expect("--list is JSON");
    let view = fixture_view();
    assert_eq!(view.switches.len(), 3);
    for sw in &view.switches {
        let hv = &list["_meta"]["hostvars"][&sw.fqdn];
        let os = if sw.name == "r02-tor1" {
            "nvidia.nvue.nvue"
        } else {
            "frr.frr.frr"
        };
        assert_eq!(hv["ansible_network_os"], json!(os), "{}", sw.name);
        assert_eq!(
            hv["ansible_host"],
            json!(sw.loopback4.as_ref().or(sw.loopback6.as_ref())),
            "{}",
            sw.name
        );
        assert_eq!(hv["siteconf_switch"]["name"], json!(sw.name));
        assert_eq!(
            hv["siteconf_switch"]["frr_conf"],
            json!(format!("switches/{}/etc/frr/frr.conf", sw.name))
        );
        let rack = format!("rack_{}", sw.rack.as_deref().expect("rack"));
        for g in ["switches", "role_tor", rack.as_str()] {
            assert!(
                names(list[g].get("hosts")).contains(&sw.fqdn),
                "{} not in {g}",
                sw.name
            );
        }
        assert!(names(list["all"].get("hosts")).contains(&sw.fqdn));
        // By short name too.
        let (_, one, _) = siteconf(&["inventory", "--host", &sw.name]);
        assert_eq!(serde_json::from_str::<Json>(&one).expect("JSON"), *hv);
    }
    // Only switches in `switches`; the racks keep their nodes.
    assert_eq!(names(list["switches"].get("hosts")).len(), 3);
    assert!(names(list["rack_r01"].get("hosts")).contains(&"r01n01.dc1.example.net".to_string()));
}

#[test]
fn inventory_host_takes_a_short_name_too() {
    let (_, by_fqdn, _) = siteconf(&["inventory", "--host", "r01s01.dc1.example.net"]);
    let (code, by_name, _) = siteconf(&["inventory", "--host", "r01s01"]);
    assert_eq!(code, 0);
    assert_eq!(by_fqdn, by_name);
    assert!(
        by_name.contains("\"ansible_host\": \"10.0.0.50\""),
        "{by_name}"
    );
}

#[test]
fn inventory_host_unknown_is_an_empty_object() {
    let (code, stdout, _) = siteconf(&["inventory", "--host", "nope.example.net"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "{}");
}

#[test]
fn inventory_of_a_broken_site_fails_with_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("site")).expect("mkdir");
    std::fs::write(
        dir.path().join("site/site.kdl"),
        "site dc1 { domain \"dc1.example.net\"; }\nrack r01 { heigth 42; }\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "-C"])
        .arg(dir.path())
        .args(["inventory", "--list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for Ansible to misread"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SC0003"));
}

// ---- errors ---------------------------------------------------------------------

/// `hosts.yml` gets each host's variables only when its template asks
/// (the built-in one does not); an override that does sees the same
/// variables as `host_vars/`, and every host's own.
#[test]
fn a_hosts_override_can_read_every_hosts_vars() {
    let env = env_with(
        Style::Plain,
        &[(
            "site/inventory/hosts.yml.j2",
            "{% for h in inventory.hosts %}{% set f = h.vars.siteconf_node if \"siteconf_node\" in h.vars else h.vars.siteconf_switch %}{{ h.name }} {{ h.node }} {{ f.role }} {{ h.vars | length }} {{ h.inventory_vars.ansible_host }}\n{% endfor %}{{ inventory.groups | length }} {{ inventory.all_vars.siteconf_site.domain }}\n",
        )],
    );
    let site = fixture_view();
    let (artifacts, diags) = site_files(&env, &site);
    assert!(diags.is_empty(), "{diags:#?}");
    let by_path: BTreeMap<&str, &Artifact> =
        artifacts.iter().map(|a| (a.path.as_str(), a)).collect();
    let hosts = text(by_path["site/inventory/hosts.yml"]);
    let inv = siteconf::render::site::inventory::build(&site, "SITECONF_SECRET_");
    assert_eq!(hosts.lines().count(), inv.hosts.len() + 1, "{hosts}");
    for (line, h) in hosts.lines().zip(&inv.hosts) {
        // A node's facts, or a switch's.
        let node = h
            .vars
            .get("siteconf_node")
            .or(h.vars.get("siteconf_switch"))
            .expect("facts");
        let want = format!(
            "{} {} {} {} {}",
            h.name,
            h.node,
            node["role"].as_str().unwrap(),
            h.vars.len(),
            h.inventory_vars["ansible_host"].as_str().unwrap()
        );
        assert_eq!(line, want);
    }
    assert!(hosts.ends_with(&format!("{} {}\n", inv.groups.len(), site.domain)));
}

/// `write_list` writes a host at a time the very text of the whole
/// `--list` value, and each host's place in it gives its `--host` answer:
/// the fixture, a variant whose nodes are all gone (no host, and groups
/// with no members), one with a group named like the answer's own `_meta`.
#[test]
fn the_list_written_a_host_at_a_time_is_the_whole_list() {
    use siteconf::render::site::inventory::{self, ListSite};
    let variants: Vec<(&str, SiteView)> = vec![
        ("fixture", fixture_view()),
        (
            "no nodes nor switches",
            SiteView {
                nodes: Vec::new(),
                switches: Vec::new(),
                ..fixture_view()
            },
        ),
        ("a group named _meta", {
            let mut v = fixture_view();
            let mut g = v.groups[0].clone();
            g.name = "_meta".into();
            v.groups.push(g);
            v
        }),
    ];
    let mut hosts_seen = 0;
    for (what, view) in &variants {
        let whole = inventory::build(view, "SITECONF_SECRET_");
        let want = serde_json::to_string_pretty(&whole.to_list_json()).unwrap();
        let outline = inventory::outline(view, "SITECONF_SECRET_");
        let site = ListSite {
            view,
            inv: &outline,
            env_prefix: "SITECONF_SECRET_",
        };
        let mut text = Vec::new();
        let mut placed = Vec::new();
        inventory::write_list(
            &mut text,
            &outline.list_outline(),
            std::slice::from_ref(&site),
            &mut |p| placed.push((p.site, p.host, p.offset, p.text.to_vec())),
        )
        .unwrap();
        assert_eq!(String::from_utf8(text.clone()).unwrap(), want, "{what}");
        assert_eq!(placed.len(), whole.hosts.len(), "{what}");
        for (s, h, offset, bytes) in &placed {
            assert_eq!(*s, 0);
            let at = *offset as usize;
            assert_eq!(&text[at..at + bytes.len()], bytes.as_slice(), "{what}");
            let host = &whole.hosts[*h];
            let answer = serde_json::to_string_pretty(&Json::Object(host.hostvars())).unwrap();
            assert_eq!(
                String::from_utf8(inventory::host_answer(bytes)).unwrap(),
                answer,
                "{what}: {}",
                host.name
            );
            assert_eq!(
                inventory::host_json(view, &outline.hosts[*h], "SITECONF_SECRET_").unwrap(),
                answer
            );
            hosts_seen += 1;
        }
    }
    assert_eq!(hosts_seen, 16, "8 hosts in the fixture, none, 8");
}

#[test]
fn template_error_names_template_line_and_output() {
    let env = env_with(
        Style::Defaults,
        &[(
            "site/dhcp/kea-dhcp4.json.j2",
            "{\n  \"Dhcp4\": {\n{{ subnets[0].nope }}\n}}\n",
        )],
    );
    let (artifacts, diags) = site_files(&env, &fixture_view());
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d.code, Code::TemplateError);
    assert!(
        d.message
            .starts_with("templates/site/dhcp/kea-dhcp4.json.j2:3: "),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("site/dhcp/kea-dhcp4.json"),
        "{}",
        d.message
    );
    // The other artifacts are still rendered; the broken one is left out.
    assert!(artifacts
        .iter()
        .all(|a| a.path != "site/dhcp/kea-dhcp4.json"));
    assert!(artifacts
        .iter()
        .any(|a| a.path == "site/inventory/hosts.yml"));
}

#[test]
fn zones_without_name_servers_are_refused_with_a_reason() {
    let src =
        fixture_mem(|_, t| t.replace("    dns-servers \"10.0.0.2\" \"2001:db8:0:100::2\"\n", ""));
    // `check` says so first…
    let checked = siteconf::check::check(&src);
    let errors = errors_of(&checked);
    assert_eq!(errors, ["SC0005: site `dc1` declares no `dns-servers`"]);
    // …and the zone templates refuse too, should such a site reach them.
    let site = site_view(&checked.effective());
    assert!(site.dns_servers.is_empty());
    let (artifacts, diags) = site_files(&env(), &site);
    assert!(!artifacts.iter().any(|a| a.kind == "zone"));
    assert_eq!(diags.len(), 17, "one per zone: {diags:#?}");
    assert!(diags.iter().all(|d| d.code == Code::TemplateError
        && d.message.contains("no `dns-servers`")
        && d.message.contains(".zone.j2:")));
}

#[test]
fn unsafe_names_never_become_paths() {
    let mut site = fixture_view();
    site.racks[0].name = "../../etc".into();
    let (artifacts, diags) = site_files(&env(), &site);
    assert!(artifacts.iter().all(|a| !a.path.contains("..")));
    assert!(diags.iter().any(|d| d.code == Code::UnsafePath));
}
