//! The sshd keyword table (`data/openssh-9.2p1-sshd-keywords.txt`) against
//! the real sshd: every keyword is accepted by `sshd -t` with its example
//! value, and where the table says a keyword takes only certain words or a
//! number, sshd refuses something else. So `check` accepts no keyword sshd
//! refuses, and refuses none it accepts.
//!
//! Runs only where OpenSSH's sshd is installed and the test runs as root
//! (sshd -t wants its privilege-separation directory and a host key);
//! elsewhere it says so and passes. CI installs openssh-server through
//! scripts/install-consumers.sh.

use std::path::Path;
use std::process::Command;

const DATA: &str = include_str!("../data/openssh-9.2p1-sshd-keywords.txt");
const SSHD: &str = "/usr/sbin/sshd";

fn usable() -> bool {
    if !Path::new(SSHD).exists() {
        eprintln!("skipped: {SSHD} is not installed");
        return false;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !root {
        eprintln!("skipped: sshd -t needs root");
        return false;
    }
    if !Path::new("/run/sshd").exists() && std::fs::create_dir_all("/run/sshd").is_err() {
        eprintln!("skipped: no /run/sshd");
        return false;
    }
    true
}

/// Runs `sshd -t` on a config of a host key and `line`; Ok or sshd's words.
fn sshd_t(dir: &Path, line: &str) -> Result<(), String> {
    let conf = dir.join("sshd_config");
    std::fs::write(
        &conf,
        format!("HostKey {}\n{line}\n", dir.join("hk").display()),
    )
    .unwrap();
    let out = Command::new(SSHD)
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A directory with a host key `hk`, for `sshd_t`.
fn host_key_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(dir.path().join("hk"))
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

#[test]
fn every_keyword_of_the_table_is_accepted_by_sshd_and_wrong_values_are_refused() {
    if !usable() {
        return;
    }
    let dir = host_key_dir();
    // The test can fail: a keyword sshd does not know is refused.
    assert!(sshd_t(dir.path(), "PermitRootLogon yes").is_err());

    let mut checked = 0;
    for line in DATA
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "malformed line {line:?}");
        let (kw, values, example) = (f[0], f[1], f[2]);
        if values == "-" {
            continue;
        }
        if let Err(e) = sshd_t(dir.path(), &format!("{kw} {example}")) {
            panic!("sshd refuses `{kw} {example}`: {e}");
        }
        let alts: Vec<&str> = values.split('|').collect();
        if !alts.contains(&"<text>") {
            // One word out of the set, or not a number: refused.
            assert!(
                sshd_t(dir.path(), &format!("{kw} siteconf-bogus")).is_err(),
                "sshd accepts `{kw} siteconf-bogus` but the table allows only {values}"
            );
            // Several words where one is expected: refused.
            assert!(
                sshd_t(dir.path(), &format!("{kw} {example} {example}")).is_err(),
                "sshd accepts two values for {kw}"
            );
        }
        checked += 1;
    }
    assert!(checked > 90, "only {checked} keywords checked");
}

const ALGORITHMS: &str = include_str!("../data/openssh-9.2p1-algorithms.txt");

/// The algorithm table (`data/openssh-9.2p1-algorithms.txt`) against the
/// real sshd: every name is accepted by `sshd -t` in each keyword that
/// reads its list, and a name that is not in the table is refused there. So
/// `check`'s SC0041 on an algorithm name is sshd's own verdict.
#[test]
fn every_algorithm_of_the_table_is_accepted_by_sshd_in_its_keywords() {
    if !usable() {
        return;
    }
    let dir = host_key_dir();
    let keywords = |query: &str| -> &[&str] {
        match query {
            "cipher" => &["Ciphers"],
            "mac" => &["MACs"],
            "kex" => &["KexAlgorithms"],
            "kex-gss" => &["GSSAPIKexAlgorithms"],
            "key-sig" => &[
                "HostKeyAlgorithms",
                "PubkeyAcceptedAlgorithms",
                "HostbasedAcceptedAlgorithms",
            ],
            "sig" => &["CASignatureAlgorithms"],
            other => panic!("unknown query {other:?} in the algorithm table"),
        }
    };
    let mut checked = 0;
    let mut queries = std::collections::BTreeSet::new();
    for line in ALGORITHMS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (query, name) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("malformed line {line:?}"));
        for kw in keywords(query) {
            if let Err(e) = sshd_t(dir.path(), &format!("{kw} {name}")) {
                panic!("sshd refuses `{kw} {name}` from the table: {e}");
            }
            checked += 1;
        }
        queries.insert(query);
    }
    // The test can fail: a name outside the table is refused in each list.
    for q in &queries {
        for kw in keywords(q) {
            assert!(
                sshd_t(dir.path(), &format!("{kw} siteconf-bogus@openssh.com")).is_err(),
                "sshd accepts an unknown name in {kw}"
            );
        }
    }
    assert_eq!(queries.len(), 6, "queries in the table: {queries:?}");
    assert!(checked > 80, "only {checked} names checked");
}

/// Several values of a keyword sshd takes once per value (the data case
/// `fp-sshd-several-values`: two listen addresses, two host keys) are
/// built as one line each, and sshd accepts the built drop-in; on one line
/// it refuses them ("bad ListenAddress syntax", "extra arguments at end of
/// line").
#[test]
fn several_values_build_a_drop_in_sshd_accepts() {
    if !usable() {
        return;
    }
    let dir = host_key_dir();
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/fp-sshd-several-values");
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("site")).unwrap();
    // The site, with the host keys pointed at keys that exist here.
    let site = std::fs::read_to_string(case.join("site/site.kdl"))
        .unwrap()
        .replace(
            "\"/etc/ssh/ssh_host_ed25519_key\" \"/etc/ssh/ssh_host_rsa_key\"",
            &format!("\"{0}\" \"{0}\"", dir.path().join("hk").display()),
        );
    std::fs::write(work.path().join("site/site.kdl"), site).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .arg("build")
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drop_in = work
        .path()
        .join("out/nodes/r01n01/etc/ssh/sshd_config.d/50-siteconf.conf");
    let text = std::fs::read_to_string(&drop_in).unwrap();
    assert!(
        text.contains("ListenAddress 10.0.0.101\nListenAddress 2001:db8:0:100::101\n"),
        "{text}"
    );
    assert_eq!(text.matches("HostKey ").count(), 2, "{text}");
    // A whole sshd_config that includes it, as Debian's does.
    let conf = dir.path().join("full_config");
    std::fs::write(
        &conf,
        format!("Include {}\nUsePAM yes\n", drop_in.display()),
    )
    .unwrap();
    let out = Command::new(SSHD)
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}
