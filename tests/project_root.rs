//! Where a command finds its project (`cli::common::Global::project_root`):
//! `-C DIR` is the project directory itself, never a parent of it; without
//! `-C` the nearest siteconf.toml from the current directory upwards, else a
//! `site/` here; anything else is SC0009 naming where it looked. The exact
//! messages of `-C` mistakes are the cases `tests/cases/project-not-found`
//! and `first-hour-mistakes`; here the rule itself, and the message that
//! depends on where the test runs (the directories looked in).

use std::path::Path;

mod support;
use support::{command, show};

fn init(dir: &Path, name: &str) {
    support::ok(&support::siteconf(dir, &["init", name, "--nodes", "3"]));
}

#[test]
fn without_c_the_nearest_siteconf_toml_upwards_is_the_project() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path(), "fleet");
    let deep = tmp.path().join("fleet/site/racks");
    let o = command(&deep, &["check", "--locked"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("3 nodes"),
        "{}",
        show(&o)
    );
}

#[test]
fn without_c_and_without_a_project_every_directory_looked_in_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let here = tmp.path().join("a/b");
    std::fs::create_dir_all(&here).expect("mkdir");
    for args in [
        &["check"][..],
        &["build"],
        &["lock"],
        &["explain", "r01n01"],
    ] {
        let o = command(&here, args).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("SC0009") && err.contains("no siteconf.toml found"),
            "{err}"
        );
    }
    // The whole message, unwrapped: every directory from here to the root,
    // nearest first.
    let o = command(&here, &["check", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let looked: Vec<String> = here
        .ancestors()
        .map(|d| format!("`{}`", d.display()))
        .collect();
    assert_eq!(v[0]["code"], "SC0009");
    assert_eq!(
        v[0]["message"],
        format!(
            "no siteconf.toml found (looked in: {}), and no site/ directory here",
            looked.join(", ")
        )
    );
    assert!(
        v[0]["help"]
            .as_str()
            .unwrap_or_default()
            .contains("siteconf init DIR"),
        "{v}"
    );
}

#[test]
fn a_site_directory_without_siteconf_toml_is_a_project_on_defaults() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path(), "fleet");
    let fleet = tmp.path().join("fleet");
    std::fs::remove_file(fleet.join("siteconf.toml")).expect("rm");
    let o = command(&fleet, &["check"]).output().expect("run");
    assert!(o.status.success(), "{}", show(&o));
    let o = command(tmp.path(), &["-C", "fleet", "check"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", show(&o));
}

/// The old fallback: `-C DIR` without siteconf.toml silently checked the
/// project above DIR. Now it names it instead.
#[test]
fn c_never_falls_back_to_a_parent_project() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path(), "fleet");
    std::fs::create_dir(tmp.path().join("fleet/docs")).expect("mkdir");
    let o = command(tmp.path(), &["-C", "fleet/docs", "check"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no siteconf.toml in `fleet/docs`") && err.contains("pass -C fleet"),
        "{err}"
    );
    assert!(!err.contains("check passed"), "{err}");
}
