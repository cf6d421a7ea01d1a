//! `siteconf inventory` and its answer cache (`.out.siteconf-inventory`
//! beside the output directory), through the real binary: an answer from
//! the cache is byte for byte the answer without it (stdout, stderr, exit
//! code); any edit of the site is a new answer; a damaged cache is
//! ignored and written again; a site with errors fails whatever the cache
//! holds; a project of several sites keeps one cache per selection.
//!
//! That an answer came from the cache shows in the file: an answer made
//! without it writes the cache again (a new file renamed into place, so a
//! new inode), one read from it leaves the file alone.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The questions every test asks, as Ansible and people do: the whole
/// list, a node by short name and by FQDN, a switch, unknown names (one
/// with a near miss).
const QUESTIONS: &[&[&str]] = &[
    &["--list"],
    &["--host", "r01n01"],
    &["--host", "r01n01.dc1.example.net"],
    &["--host", "r01s01"],
    &["--host", "r02-tor1.dc1.example.net"],
    &["--host", "r02-tor1"],
    &["--host", "nope.example.net"],
    &["--host", "r01n0"],
];

/// A throwaway copy of the fixture site `tests/fixtures/small-site`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-site");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(&from).expect("prefix");
        let dst = dir.path().join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dst).expect("mkdir");
        } else if !rel.to_string_lossy().starts_with('.') {
            fs::copy(entry.path(), &dst).expect("copy");
        }
    }
    dir
}

/// One run: exit code, stdout, stderr.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    code: i32,
    stdout: String,
    stderr: String,
}

fn inventory(dir: &Path, args: &[&str]) -> Answer {
    let out = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["--color", "never", "-C"])
        .arg(dir)
        .arg("inventory")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run siteconf");
    Answer {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn cache_of(dir: &Path) -> PathBuf {
    dir.join(".out.siteconf-inventory")
}

/// The cache file's identity: a new one is a new inode.
fn inode(path: &Path) -> Option<u64> {
    fs::metadata(path).ok().map(|m| m.ino())
}

/// The answer without a cache (and the cache it leaves).
fn cold(dir: &Path, args: &[&str]) -> Answer {
    let _ = fs::remove_file(cache_of(dir));
    let a = inventory(dir, args);
    assert_eq!(a.code, 0, "{args:?}: {}", a.stderr);
    a
}

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join("site/site.kdl");
    let text = fs::read_to_string(&path).expect("site.kdl");
    assert!(text.contains(from), "the fixture has `{from}`");
    fs::write(&path, text.replacen(from, to, 1)).expect("write site.kdl");
}

#[test]
fn a_warm_cache_answers_byte_for_byte_as_without_it() {
    let p = project();
    // A variable Ansible refuses: its warning must come from the cache too.
    edit(
        p.path(),
        "yes \"no\"\n",
        "yes \"no\"\n        \"my-var\" 1\n",
    );
    let cache = cache_of(p.path());
    let mut asked = 0;
    for args in QUESTIONS {
        let want = cold(p.path(), args);
        assert!(
            want.stderr
                .contains("warning: variable `my-var` of node r01n01"),
            "{args:?}: {}",
            want.stderr
        );
        let written = inode(&cache).expect("the cold answer wrote the cache");
        let mode = fs::metadata(&cache).expect("cache").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the cache is the user's alone");
        for _ in 0..2 {
            assert_eq!(inventory(p.path(), args), want, "{args:?} from the cache");
            assert_eq!(inode(&cache), Some(written), "{args:?} read the cache");
        }
        asked += 1;
    }
    assert_eq!(asked, QUESTIONS.len());
    // The cache written by --host answers --list, and the other way round.
    let list = cold(p.path(), &["--list"]);
    let hosts = cold(p.path(), &["--host", "r01n01"]);
    let written = inode(&cache);
    assert_eq!(inventory(p.path(), &["--list"]), list);
    assert_eq!(inode(&cache), written);
    // And each host's answer is its entry of the list.
    let all: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON");
    let hostvars = all["_meta"]["hostvars"].as_object().expect("hostvars");
    assert_eq!(hostvars.len(), 8, "5 nodes and 3 switches");
    for (name, vars) in hostvars {
        let one = inventory(p.path(), &["--host", name]);
        assert_eq!(one.code, 0);
        assert_eq!(
            one.stdout,
            format!("{}\n", serde_json::to_string_pretty(vars).unwrap())
        );
    }
    assert_eq!(inode(&cache), written, "every host from the cache");
    assert_eq!(
        hosts,
        inventory(p.path(), &["--host", "r01n01"]),
        "as --host wrote it"
    );
}

#[test]
fn any_edit_of_the_site_is_a_new_answer() {
    let p = project();
    let cache = cache_of(p.path());
    let host: &[&str] = &["--host", "r01n01"];
    let list: &[&str] = &["--list"];
    let edits: &[(&str, &str, &str, &[&[&str]])] = &[
        // (what, replaced by, what the answer then holds, in which answers)
        (
            "serial \"SN-0001\"",
            "serial \"SN-0002\"",
            "SN-0002",
            &[host, list],
        ),
        ("yes \"no\"", "yes \"maybe\"", "maybe", &[host, list]),
        (
            "model \"Dell R650 <2U> & more\"",
            "model \"Dell R660\"",
            "Dell R660",
            &[host, list],
        ),
        // Group variables are not the host's.
        (
            "release \"2024.2\"",
            "release \"2025.1\"",
            "2025.1",
            &[list],
        ),
    ];
    for (from, to, holds, questions) in edits {
        for args in questions.iter().copied() {
            let before = inventory(p.path(), args);
            assert_eq!(before.code, 0, "{}", before.stderr);
            assert!(inode(&cache).is_some());
            edit(p.path(), from, to);
            let after = inventory(p.path(), args);
            assert!(after.stdout.contains(holds), "{args:?} after {to}");
            assert_ne!(after, before, "{args:?}");
            assert_eq!(after, cold(p.path(), args), "{args:?}: as without a cache");
            // Back: the answer from before, again.
            edit(p.path(), to, from);
            assert_eq!(inventory(p.path(), args), before, "{args:?}");
        }
    }
    // A file added to the site directory is an input too.
    let before = inventory(p.path(), &["--list"]);
    let extra = p.path().join("site/extra.kdl");
    fs::write(
        &extra,
        "group extra { vars { added 1; }; children compute; }\n",
    )
    .unwrap();
    let after = inventory(p.path(), &["--list"]);
    assert!(after.stdout.contains("\"extra\": {"), "{after:?}");
    assert_eq!(after, cold(p.path(), &["--list"]));
    fs::remove_file(&extra).unwrap();
    assert_eq!(inventory(p.path(), &["--list"]), before);
}

/// Where `needle` is in `bytes`.
fn find(bytes: &[u8], needle: &str) -> usize {
    bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("`{needle}` in the cache"))
}

#[test]
fn a_damaged_cache_is_ignored_and_written_again() {
    let p = project();
    let cache = cache_of(p.path());
    type Damage = fn(&mut Vec<u8>);
    // Each damage, and whether `--host r01n01` reads the damaged part:
    // `--list` checks the whole answer before printing it, `--host` the
    // index and its host's entry (it reads nothing else).
    let damages: &[(&str, bool, Damage)] = &[
        ("empty", true, |b| b.clear()),
        ("cut in half", true, |b| b.truncate(b.len() / 2)),
        ("cut by one byte", true, |b| {
            b.pop();
        }),
        ("a byte more", true, |b| b.push(b'\n')),
        ("another format", true, |b| b[19] = b'9'),
        ("another key", true, |b| {
            let i = find(b, "\n") + 1;
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        }),
        ("lengths not numbers", true, |b| {
            let i = find(b, "\n0000") + 1;
            b[i] = b'x';
        }),
        ("a host's variables", true, |b| {
            // Inside r01n01's entry of `_meta.hostvars`: its model name.
            let i = find(b, "\"hostvars\"");
            let j = i + find(&b[i..], "Dell R650");
            b[j] = b'X';
        }),
        ("a group", false, |b| {
            let i = find(b, "\"nova_cpu_allocation_ratio\"");
            b[i + 2] = b'X';
        }),
        ("the index", true, |b| {
            let n = b.len();
            b[n - 3] = b'X';
        }),
        ("not UTF-8", true, |b| {
            let n = b.len();
            b[n - 3] = 0xff;
        }),
    ];
    let mut tried = 0;
    for (what, host_reads_it, damage) in damages {
        for args in [&["--list"][..], &["--host", "r01n01"][..]] {
            let want = cold(p.path(), args);
            let mut bytes = fs::read(&cache).expect("cache");
            damage(&mut bytes);
            fs::write(&cache, &bytes).expect("damage the cache");
            let damaged = inode(&cache);
            assert_eq!(inventory(p.path(), args), want, "{what}, {args:?}");
            if args[0] == "--list" || *host_reads_it {
                assert_ne!(inode(&cache), damaged, "{what}, {args:?}: written again");
            } else {
                assert_eq!(inode(&cache), damaged, "{what}, {args:?}: not read");
                continue;
            }
            let rewritten = inode(&cache);
            assert_eq!(inventory(p.path(), args), want, "{what}, {args:?}");
            assert_eq!(inode(&cache), rewritten, "{what}, {args:?}: whole again");
            tried += 1;
        }
    }
    assert_eq!(tried, damages.len() * 2 - 1);
    // Not a file at all.
    let want = cold(p.path(), &["--list"]);
    fs::remove_file(&cache).unwrap();
    fs::create_dir(&cache).unwrap();
    assert_eq!(inventory(p.path(), &["--list"]), want);
}

#[test]
fn a_site_with_errors_fails_whatever_the_cache_holds() {
    let p = project();
    let cache = cache_of(p.path());
    for args in QUESTIONS {
        let before = cold(p.path(), args);
        let written = inode(&cache);
        edit(p.path(), "position 3; height 2;", "position 3; heigth 2;");
        let broken = inventory(p.path(), args);
        assert_eq!(broken.code, 1, "{args:?}: {broken:?}");
        assert_eq!(
            broken.stdout, "",
            "{args:?}: nothing for Ansible to misread"
        );
        assert!(broken.stderr.contains("SC0"), "{args:?}: {}", broken.stderr);
        assert_eq!(
            inode(&cache),
            written,
            "{args:?}: no cache of a broken site"
        );
        // Mended as it was: the cache answers again.
        edit(p.path(), "position 3; heigth 2;", "position 3; height 2;");
        assert_eq!(inventory(p.path(), args), before, "{args:?}");
        assert_eq!(inode(&cache), written, "{args:?}");
    }
}

#[test]
fn no_cache_where_it_cannot_be_written() {
    let p = project();
    let want = cold(p.path(), &["--list"]);
    let host = cold(p.path(), &["--host", "r01n01"]);
    fs::remove_file(cache_of(p.path())).unwrap();
    // The output directory's parent does not exist.
    let config = p.path().join("siteconf.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("out-dir = \"missing/out\"\n{text}")).unwrap();
    for _ in 0..2 {
        assert_eq!(inventory(p.path(), &["--list"]), want);
        assert_eq!(inventory(p.path(), &["--host", "r01n01"]), host);
    }
    let left: Vec<String> = walkdir::WalkDir::new(p.path())
        .into_iter()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("siteconf-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_revision_is_answered_without_a_cache() {
    let p = project();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.net"])
            .args(args)
            .current_dir(p.path())
            .output()
            .expect("git")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "site"]);
    let want = cold(p.path(), &["--list"]);
    fs::remove_file(cache_of(p.path())).unwrap();
    for from in [&["--rev", "HEAD"][..], &["--staged"][..]] {
        let args: Vec<&str> = ["--list"].iter().chain(from).copied().collect();
        assert_eq!(inventory(p.path(), &args), want, "{from:?}");
        assert!(inode(&cache_of(p.path())).is_none(), "{from:?}");
    }
}

#[test]
fn several_sites_keep_one_cache_per_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["init", "--nodes", "12", "--sites", "prod,lab"])
        .arg(tmp.path().join("p"))
        .output()
        .expect("init");
    assert!(init.status.success(), "{init:?}");
    let p = tmp.path().join("p");
    let selections: &[(&[&str], &str)] = &[
        (&[], ".out.siteconf-inventory"),
        (&["--site", "lab"], ".out.siteconf-inventory-lab"),
        (&["--site", "prod"], ".out.siteconf-inventory-prod"),
    ];
    let questions: &[&[&str]] = &[
        &["--list"],
        &["--host", "r01n01"],
        &["--host", "r01n01.prod.example.net"],
        &["--host", "nope"],
    ];
    let mut answers = Vec::new();
    for (site, file) in selections {
        for q in questions {
            let args: Vec<&str> = q.iter().chain(site.iter()).copied().collect();
            let cache = p.join(file);
            let _ = fs::remove_file(&cache);
            let want = inventory(&p, &args);
            // A short name two sites' hosts share names no one host of the
            // whole project: refused with both FQDNs, cached or not.
            if site.is_empty() && q == &["--host", "r01n01"] {
                assert_eq!(want.code, 2, "{args:?}: {}", want.stderr);
                assert_eq!(want.stdout, "");
                assert!(
                    want.stderr.contains("r01n01.lab.example.net")
                        && want.stderr.contains("r01n01.prod.example.net"),
                    "{}",
                    want.stderr
                );
                assert_eq!(inventory(&p, &args), want, "{args:?}");
                answers.push(want.stdout);
                continue;
            }
            assert_eq!(want.code, 0, "{args:?}: {}", want.stderr);
            let written = inode(&cache).unwrap_or_else(|| panic!("{args:?} wrote {file}"));
            assert_eq!(inventory(&p, &args), want, "{args:?}");
            assert_eq!(inode(&cache), Some(written), "{args:?}");
            answers.push(want.stdout);
        }
    }
    assert_eq!(answers.len(), selections.len() * questions.len());
    // The selections answer differently: the whole project, lab, prod.
    assert_ne!(answers[0], answers[4]);
    assert_ne!(answers[4], answers[8]);
    // r01n01 of lab with --site lab, of prod with --site prod.
    assert_ne!(answers[5], "");
    assert_ne!(answers[5], answers[9]);
    assert_eq!(answers[2], answers[10], "an FQDN names one host");
    // An unknown site is an error, cached or not.
    for _ in 0..2 {
        let a = inventory(&p, &["--list", "--site", "nope"]);
        assert_eq!(a.code, 1);
        assert_eq!(a.stdout, "");
    }
}

/// In the inventory of every site of a project, each host gets its own
/// site's facts (`siteconf_site`: name, domain, resolvers), on its group
/// `site_<name>`, not the first site's on `all`, which the sites share.
#[test]
fn several_sites_give_each_host_its_own_site_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_siteconf"))
        .args(["init", "--nodes", "6", "--sites", "prod,lab"])
        .arg(tmp.path().join("p"))
        .output()
        .expect("init");
    assert!(init.status.success(), "{init:?}");
    let p = tmp.path().join("p");
    let a = inventory(&p, &["--list"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let list: serde_json::Value = serde_json::from_str(&a.stdout).expect("JSON");
    assert!(
        list["all"]["vars"].get("siteconf_site").is_none(),
        "one site's facts on `all`: {}",
        list["all"]["vars"]
    );
    let mut sites = 0;
    for site in ["prod", "lab"] {
        let g = &list[format!("site_{site}")];
        assert_eq!(g["vars"]["siteconf_site"]["name"], site, "{g}");
        assert_eq!(
            g["vars"]["siteconf_site"]["domain"],
            format!("{site}.example.net"),
            "{g}"
        );
        let hosts = g["hosts"].as_array().expect("hosts");
        assert!(!hosts.is_empty());
        assert!(
            hosts.iter().all(|h| h
                .as_str()
                .unwrap_or("")
                .ends_with(&format!(".{site}.example.net"))),
            "{g}"
        );
        sites += 1;
    }
    assert_eq!(sites, 2);
}
