//! The schema of site files, as users and their editors see it:
//! `schema/site.schema.json` and the field reference in
//! `docs/site-format.md` are what `siteconf schema` generates, and the
//! real validator (`check-jsonschema`) accepts every TOML site we ship or
//! document — and rejects a broken one, so the check itself is known to bite.
//!
//! Regenerate both files with `UPDATE_GENERATED=1 cargo test --test schema`
//! (then review the diff).

use std::path::{Path, PathBuf};
use std::process::Command;

use siteconf::init::{generate, Options};
use siteconf::model::{schema, schema_doc};
use siteconf::project;
use siteconf::syntax::Format;

mod support;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn update() -> bool {
    std::env::var_os("UPDATE_GENERATED").is_some_and(|v| !v.is_empty())
}

const BEGIN: &str = "<!-- BEGIN GENERATED: siteconf schema --markdown -->\n";
const END: &str = "<!-- END GENERATED: siteconf schema --markdown -->";

/// The schemas `siteconf schema [site|config|secrets]` prints, as committed.
fn schemas() -> [(&'static str, &'static str, String); 3] {
    [
        (
            "site",
            "schema/site.schema.json",
            schema::json_schema_text(),
        ),
        (
            "config",
            "schema/siteconf.schema.json",
            project::schema_text(&siteconf::gate::config_json_schema()),
        ),
        (
            "secrets",
            "schema/secrets.schema.json",
            project::schema_text(&project::secrets_json_schema()),
        ),
    ]
}

#[test]
fn committed_json_schema_is_current() {
    for (which, rel, want) in schemas() {
        let path = repo().join(rel);
        if update() {
            std::fs::write(&path, &want).expect("write schema");
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{rel} is not what `siteconf schema {which}` prints.\n\
             Regenerate it: cargo run -- schema {which} > {rel}\n\
             (or UPDATE_GENERATED=1 cargo test --test schema), and review the diff."
        );
    }
}

#[test]
fn the_cli_prints_the_committed_schema() {
    for (which, _, want) in schemas() {
        let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
            .arg("schema")
            .args((which != "site").then_some(which))
            .output()
            .expect("run siteconf schema");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{which}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
}

#[test]
fn field_reference_in_the_docs_is_current() {
    let path = repo().join("docs/site-format.md");
    let doc = std::fs::read_to_string(&path).expect("docs/site-format.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/site-format.md lacks the generated-section markers");
    };
    let body = &doc[b + BEGIN.len()..e];
    let want = schema_doc::markdown();
    if update() && body != want {
        let new = format!("{}{BEGIN}{want}{}", &doc[..b], &doc[e..]);
        std::fs::write(&path, new).expect("write docs");
        return;
    }
    assert!(
        body == want,
        "the field reference in docs/site-format.md is not what `siteconf schema --markdown` \
         prints.\nRegenerate it: UPDATE_GENERATED=1 cargo test --test schema, and review the diff."
    );
}

fn run_validator(exe: &Path, files: &[PathBuf]) -> (bool, String) {
    support::verdict(
        Command::new(exe)
            .arg("--schemafile")
            .arg(repo().join("schema/site.schema.json"))
            .args(files),
    )
}

#[test]
fn real_validator_accepts_generated_and_documented_toml() {
    let Some(exe) = support::check_jsonschema() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    // A site with several racks, both roles on the storage network, and
    // every file kind init writes.
    let site = generate(&Options {
        nodes: 100,
        racks: None,
        format: Format::Toml,
    })
    .expect("init");
    for (path, contents) in &site.files {
        if let Some(rel) = path.strip_prefix("site/") {
            let p = tmp.path().join("site").join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, contents).expect("write");
            files.push(p);
        }
    }
    let examples: Vec<String> = support::example_pairs()
        .into_iter()
        .map(|(_, toml)| toml.text)
        .collect();
    assert!(examples.len() >= 10, "docs lost their TOML examples");
    for (i, text) in examples.iter().enumerate() {
        let p = tmp.path().join(format!("doc-example-{i:02}.toml"));
        std::fs::write(&p, text).expect("write");
        files.push(p);
    }
    let (ok, out) = run_validator(&exe, &files);
    assert!(ok, "check-jsonschema rejected files:\n{out}");

    // The check must be able to fail: a typo'd field, a literal password
    // and an address of the wrong family are all rejected.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[node.r01n01]\nrack = \"r01\"\npostion = 3\n\n\
         [bgp-peer.x]\nasn = 64496\naddress = \"192.0.2.1\"\nswitches = [\"r01-tor1\"]\npassword = \"hunter2\"\n\n\
         [network.mgmt]\npurpose = \"management\"\ngateway4 = \"2001:db8::1\"\n",
    )
    .expect("write");
    let (ok, out) = run_validator(&exe, &[bad]);
    assert!(!ok, "check-jsonschema accepted a broken file:\n{out}");
    for needle in ["postion", "password", "gateway4"] {
        assert!(out.contains(needle), "no complaint about {needle}:\n{out}");
    }
}

/// siteconf.toml and secrets files against their schemas: every one this
/// repository ships and the `[gate]` example of docs/review.md pass; a
/// misspelt key, a gate rule without approvers and a number as a secret
/// do not.
#[test]
fn real_validator_accepts_project_and_secrets_files() {
    let Some(exe) = support::check_jsonschema() else {
        return;
    };
    let validate = |schema: &str, files: &[PathBuf]| {
        support::verdict(
            Command::new(&exe)
                .arg("--schemafile")
                .arg(repo().join(schema))
                .args(files),
        )
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let review = std::fs::read_to_string(repo().join("docs/review.md")).expect("review.md");
    let gate = support::fenced_blocks(&review)
        .into_iter()
        .find(|b| b.tag == "toml" && b.text.contains("[gate]"))
        .expect("the [gate] example of docs/review.md");
    let gate_file = tmp.path().join("gate.toml");
    std::fs::write(&gate_file, &gate.text).expect("write");
    let mut configs: Vec<PathBuf> = [
        "siteconf.toml",
        "tests/fixtures/small/siteconf.toml",
        "tests/fixtures/small-site/siteconf.toml",
        "tests/consumers/fixtures/interop-site/siteconf.toml",
    ]
    .iter()
    .map(|p| repo().join(p))
    .collect();
    configs.push(gate_file);
    let (ok, out) = validate("schema/siteconf.schema.json", &configs);
    assert!(ok, "check-jsonschema rejected a siteconf.toml:\n{out}");
    let secrets: Vec<PathBuf> = [
        "secrets/local.toml",
        "tests/fixtures/small/secrets.toml",
        "tests/consumers/fixtures/interop-site/secrets/test.toml",
    ]
    .iter()
    .map(|p| repo().join(p))
    .collect();
    let (ok, out) = validate("schema/secrets.schema.json", &secrets);
    assert!(ok, "check-jsonschema rejected a secrets file:\n{out}");

    let bad = tmp.path().join("bad-config.toml");
    std::fs::write(
        &bad,
        "out_dir = \"out\"\n[[gate.rules]]\nname = \"x\"\non = \"node-added\"\n",
    )
    .expect("write");
    let (ok, out) = validate("schema/siteconf.schema.json", &[bad]);
    assert!(!ok, "a broken siteconf.toml passed:\n{out}");
    for needle in ["out_dir", "approvers"] {
        assert!(out.contains(needle), "no complaint about {needle}:\n{out}");
    }
    let bad = tmp.path().join("bad-secrets.toml");
    std::fs::write(&bad, "\"bgp/transit-a\" = 42\n").expect("write");
    let (ok, out) = validate("schema/secrets.schema.json", &[bad]);
    assert!(!ok, "a number as a secret passed:\n{out}");
}
