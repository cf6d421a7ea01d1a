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
             switch tor1 {{ rack r01; position 42; asn 4200000001; ports \"swp1-4\"; }}\n\
             bgp-peer up1 {{ asn 64512; address \"203.0.113.1\"; password \"{CANARY}\"; switches tor1; }}\n\
             bgp-peer up2 password=\"{CANARY}\" {{ asn 64513; address \"203.0.113.2\"; switches tor1; }}\n"
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
            !text.contains(CANARY),
            "{args:?} printed the literal password:\n{text}"
        );
    }
}
