//! Secrets never leak: a password written as a literal (a mistake that
//! check reports) must not appear in anything siteconf prints about it —
//! human diagnostics with their source snippets, JSON, explain.

use std::process::Command;

const CANARY: &str = "CANARY-literal-pw-7f3a";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("site")).expect("mkdir");
    std::fs::write(
        dir.path().join("site/site.kdl"),
        format!(
            "site dc1 {{ domain \"dc1.example.net\"; }}\nrack r01 {{ height 42; }}\n\
             switch tor1 {{ rack r01; position 42; asn 4200000001; loopback4 \"10.255.0.1\"; ports \"swp1-4\"; }}\n\
             bgp-peer up1 {{ asn 64512; address \"203.0.113.1\"; password \"{CANARY}\"; switches tor1; }}\n\
             bgp-peer up2 password=\"{CANARY}\" {{ asn 64513; address \"203.0.113.2\"; switches tor1; }}\n\
             node n1 {{ rack r01; position 1; repo internal {{ uris \"https://deploy:{CANARY}@apt.example.net/x\"; suites bookworm; components main; }} }}\n"
        ),
    )
    .expect("write");
    dir
}

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run siteconf");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn literal_password_is_reported_but_never_printed() {
    let dir = project();
    for args in [&["check"][..], &["check", "--format", "json"], &["lock"]] {
        let (code, text) = run(dir.path(), args);
        assert_eq!(code, 1, "{args:?} should report SC0605:\n{text}");
        assert!(text.contains("SC0605"), "{args:?}:\n{text}");
        assert!(
            text.contains("SC0058"),
            "{args:?}: the URI's password:\n{text}"
        );
        assert!(
            !text.contains(CANARY),
            "{args:?} printed the literal password:\n{text}"
        );
    }
    // explain answers despite the errors, with the URI's password masked.
    for args in [
        &["explain", "n1"][..],
        &["explain", "n1", "--format", "json"],
    ] {
        let (_, text) = run(dir.path(), args);
        assert!(text.contains("deploy:"), "{args:?}:\n{text}");
        assert!(
            !text.contains(CANARY),
            "{args:?} printed the password:\n{text}"
        );
    }
}

// ---- canaries: every way in, every way out ---------------------------------
//
// Secrets enter through a BGP password reference and through template
// variables marked secret (`NAME secret="…"` in vars, on a node and on a
// group), with values from the secrets file and from `SITECONF_SECRET_*`
// variables (which win). Whatever siteconf prints — check, build and its
// errors, explain, inventory, diff in every format, gate — and every file
// it writes that no template resolved a secret into must hold none of
// them; the files whose templates resolve one hold it and are mode 0600.
//
// Panics: the binary installs no panic hook, and secret values exist only
// as `String`s returned by `Secrets::get` into a render; no `unwrap`,
// `expect` or `panic!` formats one, and `Secrets`' `Debug` shows names
// only (unit-tested in `render::secrets`), so a panic message cannot hold
// a value.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Values from the secrets file.
const FILE_BGP: &str = "CANARY-bgp-file-7f3a9c0d";
const FILE_VAR: &str = "CANARY-var-file-2b8e41aa";
const FILE_GRP: &str = "CANARY-grp-file-5d0c77e1";
/// Values from the environment (they win over the file).
const ENV_BGP: &str = "CANARY-bgp-env-91ce04b2";
const ENV_VAR: &str = "CANARY-var-env-6a1f3d58";
const ENV_GRP: &str = "CANARY-grp-env-0e7b9c13";
const ALL: [&str; 6] = [FILE_BGP, FILE_VAR, FILE_GRP, ENV_BGP, ENV_VAR, ENV_GRP];

const SITE: &str = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
network mgmt { purpose management; ipv4 "10.0.0.0/24"; gateway4 "10.0.0.1"; }
rack r01 { height 42; }
switch tor1 { rack r01; position 42; asn 4200000001; loopback4 "10.255.0.1"; ports "swp1-4"; interface swp4 address="203.0.113.2/29"; }
bgp-peer transit-a { asn 64512; address "203.0.113.1"; password secret="bgp/transit-a"; switches tor1; }
profile bmc { vars { ipmi_password secret="ipmi/r01"; ipmi_user admin } }
node n1 {
    rack r01; position 1; profiles bmc
    interface eno1 { mac "52:54:00:00:00:01"; switch tor1; port swp1 }
    address mgmt interface=eno1 ipv4="10.0.0.10"
}
group fleet { vars { vault_password secret="ansible/vault" } }
"#;

/// How `text` could carry `secret`: as it is, and base64-encoded (as
/// cloud-init's `write_files` carries other files) at any alignment.
fn encodings(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    for skip in 0..3 {
        let tail = &secret.as_bytes()[skip..];
        let full = tail.len() / 3 * 3;
        out.push(siteconf::render::engine::base64(&tail[..full]));
    }
    out
}

fn leaked<'a>(text: &str, secrets: &[&'a str]) -> Vec<&'a str> {
    secrets
        .iter()
        .copied()
        .filter(|s| encodings(s).iter().any(|e| text.contains(e.as_str())))
        .collect()
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.net"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git")
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Runs siteconf with the secrets file always, and the environment values
/// when `env` is set; returns exit code and stdout + stderr.
fn run_with(dir: &Path, env: bool, args: &[&str]) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_siteconf"));
    c.args(["--color", "never"]).args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("SITECONF_") {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1");
    if env {
        c.env("SITECONF_SECRET_BGP_TRANSIT_A", ENV_BGP)
            .env("SITECONF_SECRET_IPMI_R01", ENV_VAR)
            .env("SITECONF_SECRET_ANSIBLE_VAULT", ENV_GRP);
    }
    let out = c.output().expect("run siteconf");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A git repository of two commits; the second changes what the
/// secret-using templates and variables say.
fn canary_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "siteconf.toml", "[secrets]\nfile = \"secrets.toml\"\n");
    write(
        d,
        "secrets.toml",
        &format!(
            "\"bgp/transit-a\" = \"{FILE_BGP}\"\n\"ipmi/r01\" = \"{FILE_VAR}\"\n\"ansible/vault\" = \"{FILE_GRP}\"\n"
        ),
    );
    write(d, ".gitignore", "secrets.toml\nout/\n");
    write(d, "site/site.kdl", SITE);
    // A node file of the project's own that resolves the secret variable
    // (cloud-init's user-data embeds it), and an override of a site-wide
    // template that does too.
    write(
        d,
        "templates/node/etc/ipmi/bmc.conf.j2",
        "user {{ node.vars.ipmi_user }}\npassword {{ secret(node.vars.ipmi_password) }}\n",
    );
    let index = String::from_utf8(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/site/racks/index.html.j2"
        ))
        .unwrap(),
    )
    .unwrap();
    write(
        d,
        "templates/site/racks/index.html.j2",
        &format!("{index}<!-- {{{{ secret(site.nodes[0].vars.ipmi_password) }}}} -->\n"),
    );
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "one"]);
    write(
        d,
        "site/site.kdl",
        &SITE
            .replace("ipmi_user admin", "ipmi_user root")
            .replace("asn 64512;", "asn 64513;"),
    );
    write(
        d,
        "templates/node/etc/ipmi/bmc.conf.j2",
        "# BMC\nuser {{ node.vars.ipmi_user }}\npassword {{ secret(node.vars.ipmi_password) }}\n",
    );
    git(d, &["commit", "-qam", "two"]);
    dir
}

/// Every file below `dir`, by relative path.
fn files(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, u32)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                out.push((rel, std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// After a build with `bgp` and `var` as the values in effect: each
/// appears exactly in the files whose templates resolve it, which are
/// 0600 and marked secret in the manifest; nothing else holds any canary.
fn check_out(dir: &Path, bgp: &str, var: &str) {
    let expect: &[(&str, &str)] = &[
        ("nodes/n1/cloud-init/user-data", var),
        ("nodes/n1/etc/ipmi/bmc.conf", var),
        ("site/racks/index.html", var),
        ("switches/tor1/etc/frr/frr.conf", bgp),
    ];
    let out = files(&dir.join("out"));
    let manifest = String::from_utf8(
        out.iter()
            .find(|(p, _, _)| p == "manifest.json")
            .expect("manifest.json")
            .1
            .clone(),
    )
    .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let mut secret_in_manifest = Vec::new();
    for group in ["nodes", "switches"] {
        for list in manifest[group].as_object().unwrap().values() {
            for e in list.as_array().unwrap() {
                if e["secret"] == true {
                    secret_in_manifest.push(e["path"].as_str().unwrap().to_string());
                }
            }
        }
    }
    for e in manifest["site"].as_array().unwrap() {
        if e["secret"] == true {
            secret_in_manifest.push(e["path"].as_str().unwrap().to_string());
        }
    }
    for (path, bytes, mode) in &out {
        let text = String::from_utf8_lossy(bytes);
        let found = leaked(&text, &ALL);
        match expect.iter().find(|(p, _)| p == path) {
            Some((_, value)) => {
                assert_eq!(found, vec![*value], "{path} should hold exactly {value}");
                assert_eq!(*mode, 0o600, "{path} holds a secret but is {mode:o}");
                assert!(
                    secret_in_manifest.contains(path),
                    "{path} is not marked secret in manifest.json"
                );
            }
            None => assert!(found.is_empty(), "{path} ({mode:o}) holds {found:?}"),
        }
    }
    for (p, _) in expect {
        assert!(out.iter().any(|(q, _, _)| q == p), "{p} was not built");
    }
}

#[test]
fn canary_secrets_appear_only_where_a_template_resolves_them() {
    let dir = canary_project();
    let d = dir.path();
    let quiet = |env: bool, args: &[&str], want: i32| {
        let (code, text) = run_with(d, env, args);
        assert_eq!(code, want, "{args:?}:\n{text}");
        let found = leaked(&text, &ALL);
        assert!(found.is_empty(), "{args:?} printed {found:?}:\n{text}");
        text
    };

    // Values from the file, then from the environment (which wins).
    for (env, bgp, var) in [(false, FILE_BGP, FILE_VAR), (true, ENV_BGP, ENV_VAR)] {
        quiet(env, &["build"], 0);
        check_out(d, bgp, var);
        quiet(env, &["build", "--format", "json"], 0);
        check_out(d, bgp, var);
    }

    for env in [false, true] {
        quiet(env, &["check"], 0);
        quiet(env, &["check", "--format", "json"], 0);
        let text = quiet(env, &["explain", "n1"], 0);
        assert!(text.contains("secret:ipmi/r01"), "{text}");
        let text = quiet(env, &["explain", "n1", "vars", "--format", "json"], 0);
        assert!(text.contains("secret:ipmi/r01"), "{text}");
        let text = quiet(env, &["inventory", "--list"], 0);
        assert!(text.contains("SITECONF_SECRET_ANSIBLE_VAULT"), "{text}");
        assert!(text.contains("SITECONF_SECRET_IPMI_R01"), "{text}");
        quiet(env, &["inventory", "--host", "n1"], 0);
        quiet(env, &["inventory", "--host", "n1.dc1.example.net"], 0);
        // The answer cache beside the output directory holds none either.
        let cache = d.join(".out.siteconf-inventory");
        let bytes = std::fs::read(&cache).expect("inventory wrote its cache");
        let found = leaked(&String::from_utf8_lossy(&bytes), &ALL);
        assert!(found.is_empty(), "the inventory cache holds {found:?}");
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        for format in ["text", "markdown", "json"] {
            let text = quiet(env, &["diff", "HEAD~1", "HEAD", "--format", format], 0);
            assert!(text.contains("bmc.conf"), "{text}");
        }
        quiet(env, &["diff", "HEAD~1", "HEAD", "--stat"], 0);
        quiet(env, &["diff", "HEAD~1", "HEAD", "--name-only"], 0);
        quiet(env, &["gate", "HEAD~1", "HEAD"], 0);
        quiet(env, &["gate", "HEAD~1", "HEAD", "--format", "json"], 0);
    }

    // Templates that fail with a secret in hand: the messages name the
    // template and the secret, never the value; nothing is written.
    let before = files(&d.join("out"));
    let broken = [
        ("nl", "a {{ secret(node.vars.ipmi_password) ~ \"\\n\" }}\n"),
        ("int", "{{ secret(node.vars.ipmi_password) | int }}\n"),
        ("add", "{{ secret(node.vars.ipmi_password) + 1 }}\n"),
        ("index", "{{ secret(node.vars.ipmi_password)[99] }}\n"),
        ("attr", "{{ secret(node.vars.ipmi_password).nope }}\n"),
        ("call", "{{ secret(node.vars.ipmi_password)() }}\n"),
        (
            "word",
            "{{ (secret(node.vars.ipmi_password) ~ ' x') | word }}\n",
        ),
        ("ref", "{{ node.vars.ipmi_password }}\n"),
        ("missing", "{{ secret(node.vars.bmc_token) }}\n"),
    ];
    for (name, text) in broken {
        write(d, &format!("templates/node/broken/{name}.j2"), text);
    }
    // A secret variable whose secret no source has.
    let site = std::fs::read_to_string(d.join("site/site.kdl")).unwrap();
    write(
        d,
        "site/site.kdl",
        &site.replace(
            "profiles bmc\n",
            "profiles bmc\n    vars { bmc_token secret=\"bmc/token\" }\n",
        ),
    );
    for env in [false, true] {
        let text = quiet(env, &["build"], 1);
        for name in ["nl", "int", "add", "index", "attr", "call", "word", "ref"] {
            assert!(
                text.contains(&format!("templates/node/broken/{name}.j2")),
                "{name}:\n{text}"
            );
        }
        assert!(text.contains("secret `bmc/token` is not set"), "{text}");
        assert!(text.contains("printing the secret reference"), "{text}");
        let text = quiet(env, &["build", "--format", "json"], 1);
        assert!(text.contains("secret:ipmi/r01"), "{text}");
        assert_eq!(files(&d.join("out")), before, "a failed build wrote files");
    }
}

/// A site without secrets, for the tests about where the secrets file is.
const SMALL_SITE: &str =
    "site dc1 { domain \"dc1.example.net\"; dns-servers \"10.0.0.2\"; }\nrack r01 { height 42; }\n";

/// A secrets file moved among the site files (`[secrets] file` pointing
/// inside the site directory) is never read as a site file: `check` says
/// where it is and fails, and no command prints its values, in any form.
#[test]
fn a_secrets_file_among_the_site_files_is_named_never_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "site/site.kdl", SMALL_SITE);
    write(
        d,
        "site/secrets.toml",
        &format!("\"bgp/transit-a\" = \"{CANARY}\"\nunquoted = \"{CANARY}-2\"\n"),
    );
    write(
        d,
        "siteconf.toml",
        "[secrets]\nfile = \"./site/secrets.toml\"\n",
    );
    let mut runs = 0;
    for args in [
        &["check"][..],
        &["check", "--format", "json"],
        &["build"],
        &["explain", "r01n01"],
    ] {
        let (code, text) = run(d, args);
        assert_ne!(code, 0, "{args:?} passed:\n{text}");
        assert!(
            leaked(&text, &[CANARY]).is_empty(),
            "{args:?} printed the secret:\n{text}"
        );
        if args == ["check"] {
            assert!(
                text.contains("the secrets file `site/secrets.toml` is inside the site directory"),
                "{text}"
            );
        }
        runs += 1;
    }
    assert_eq!(runs, 4);
    assert!(
        !d.join("out").exists(),
        "a failed build wrote an output directory"
    );
}

/// A secrets file in the git index is named by every `build` (also one
/// that finds the output up to date), and not once it is untracked.
#[test]
fn a_secrets_file_committed_to_git_is_named_by_every_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "site/site.kdl", SMALL_SITE);
    write(
        d,
        "secrets/local.toml",
        &format!("\"bgp/transit-a\" = \"{CANARY}\"\n"),
    );
    write(
        d,
        "siteconf.toml",
        "[secrets]\nfile = \"secrets/local.toml\"\n",
    );
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    let said =
        |text: &str| text.contains("the secrets file `secrets/local.toml` is committed to git");
    let mut builds = 0;
    for _ in 0..2 {
        let (code, text) = run(d, &["build"]);
        assert_eq!(code, 0, "{text}");
        assert!(said(&text), "{text}");
        assert!(leaked(&text, &[CANARY]).is_empty(), "{text}");
        builds += 1;
    }
    assert_eq!(builds, 2);
    let (code, text) = run(d, &["build", "--deny", "warnings"]);
    assert_ne!(code, 0, "{text}");
    git(d, &["rm", "-q", "--cached", "secrets/local.toml"]);
    let (code, text) = run(d, &["build"]);
    assert_eq!(code, 0, "{text}");
    assert!(!said(&text), "{text}");
    // A committed file of nothing but the fake values `siteconf init`
    // writes (an example project, like this repository's) has nothing to
    // rotate; one real value among them does.
    let fake = siteconf::init::FAKE_SECRET_PREFIX;
    for (values, named) in [
        (format!("\"bgp/transit-a\" = \"{fake}-a\"\n"), false),
        (
            format!("\"bgp/transit-a\" = \"{fake}-a\"\n\"bgp/transit-b\" = \"{CANARY}\"\n"),
            true,
        ),
    ] {
        write(d, "secrets/local.toml", &values);
        git(d, &["add", "-A"]);
        let (code, text) = run(d, &["build"]);
        assert_eq!(code, 0, "{text}");
        assert_eq!(said(&text), named, "{values}: {text}");
        assert!(leaked(&text, &[CANARY]).is_empty(), "{text}");
    }
}

/// A BGP password FRR refuses (empty, with white space, longer than 80
/// bytes) stops the build before anything renders, with SC0904 at the
/// reference in the site file, naming the secret and where its value came
/// from — never the value, in any form, text or JSON.
#[test]
fn a_bgp_password_frr_refuses_is_named_never_shown() {
    let dir = canary_project();
    let d = dir.path();
    let long = format!("CANARY-long-{}", "x".repeat(80));
    let spaced = "CANARY-has space-4d2e";
    let build = |file_value: &str, env_value: Option<&str>, format: &str| {
        write(
            d,
            "secrets.toml",
            &format!(
                "\"bgp/transit-a\" = \"{file_value}\"\n\"ipmi/r01\" = \"{FILE_VAR}\"\n\"ansible/vault\" = \"{FILE_GRP}\"\n"
            ),
        );
        let mut c = Command::new(env!("CARGO_BIN_EXE_siteconf"));
        c.args(["--color", "never", "build", "--format", format])
            .current_dir(d)
            .env("NO_COLOR", "1");
        for (k, _) in std::env::vars() {
            if k.starts_with("SITECONF_") {
                c.env_remove(k);
            }
        }
        if let Some(v) = env_value {
            c.env("SITECONF_SECRET_BGP_TRANSIT_A", v);
        }
        let out = c.output().expect("run siteconf");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    };
    for format in ["text", "json"] {
        for (file_value, env_value, from, why) in [
            (long.as_str(), None, "secrets.toml", "more than the 80"),
            (spaced, None, "secrets.toml", "white space"),
            ("", None, "secrets.toml", "is empty"),
            (
                FILE_BGP,
                Some(spaced),
                "SITECONF_SECRET_BGP_TRANSIT_A",
                "white space",
            ),
            (
                FILE_BGP,
                Some(""),
                "SITECONF_SECRET_BGP_TRANSIT_A",
                "is empty",
            ),
        ] {
            let (code, text) = build(file_value, env_value, format);
            assert_eq!(code, 1, "{text}");
            assert!(text.contains("SC0904"), "{text}");
            assert!(text.contains("bgp/transit-a"), "{text}");
            assert!(text.contains(from), "{from}: {text}");
            assert!(text.contains(why), "{why}: {text}");
            assert!(text.contains("site/site.kdl"), "at the reference: {text}");
            assert!(!text.contains("SC0901"), "not a template error: {text}");
            for v in [long.as_str(), spaced, "CANARY-has", "space-4d2e"] {
                let found = leaked(&text, &[v]);
                assert!(found.is_empty(), "printed {found:?}:\n{text}");
            }
        }
    }
    // 80 bytes is FRR's limit, and accepted.
    let (code, text) = build(&"y".repeat(80), None, "text");
    assert_eq!(code, 0, "{text}");
}
