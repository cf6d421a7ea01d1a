//! Shared by the integration tests that read `docs/site-format.md`.

use std::path::Path;

/// A fenced code block of a Markdown file.
#[allow(dead_code)] // each test crate uses some of the fields
pub struct Fenced {
    /// The info string after the opening fence (`kdl`, `toml`, `text`).
    pub tag: String,
    pub text: String,
    /// 1-based line of the opening fence, for messages.
    pub line: usize,
}

#[allow(dead_code)]
pub fn fenced_blocks(markdown: &str) -> Vec<Fenced> {
    let mut out = Vec::new();
    let mut cur: Option<Fenced> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut cur, fence) {
            (None, Some(tag)) => {
                cur = Some(Fenced {
                    tag: tag.trim().to_string(),
                    text: String::new(),
                    line: i + 1,
                })
            }
            (Some(_), Some(_)) => out.extend(cur.take()),
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[allow(dead_code)]
pub fn site_format_doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/site-format.md");
    std::fs::read_to_string(path).expect("docs/site-format.md")
}

/// The site-file examples: pairs of a `kdl` block and the `toml` block
/// right after it (blocks tagged otherwise, like `text`, are not site files).
#[allow(dead_code)]
pub fn example_pairs() -> Vec<(Fenced, Fenced)> {
    let mut pairs = Vec::new();
    let mut blocks = fenced_blocks(&site_format_doc())
        .into_iter()
        .filter(|b| b.tag == "kdl" || b.tag == "toml")
        .peekable();
    while let Some(b) = blocks.next() {
        assert_eq!(
            b.tag, "kdl",
            "docs/site-format.md:{}: a `toml` example without the `kdl` one before it",
            b.line
        );
        match blocks.next() {
            Some(t) if t.tag == "toml" => pairs.push((b, t)),
            _ => panic!(
                "docs/site-format.md:{}: a `kdl` example without its `toml` twin",
                b.line
            ),
        }
    }
    pairs
}

/// A throwaway copy of `tests/fixtures/small`: a whole project (site files,
/// `siteconf.toml`, secrets file) that builds as it stands.
#[allow(dead_code)] // not every test crate builds a project
pub fn small_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(&from).expect("prefix");
        let dst = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dst).expect("copy");
        }
    }
    dir
}

// Not every test crate runs the binary: hence `allow(dead_code)` below.

/// `siteconf ARGS` in `dir`, as CI runs it: no colour, `CI=true`, no
/// secrets from the caller's environment.
#[allow(dead_code)]
pub fn command(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_siteconf"));
    c.args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("SITECONF_SECRETS")
        .env_remove("SITECONF_SECRET_BGP_UPSTREAM1");
    c
}

/// [`command`], run to completion.
#[allow(dead_code)]
pub fn siteconf(dir: &Path, args: &[&str]) -> std::process::Output {
    command(dir, args).output().expect("run siteconf")
}

/// A run's exit code and output, for an assertion message.
#[allow(dead_code)]
pub fn show(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that a run succeeded, showing its output if not.
#[allow(dead_code)]
pub fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", show(o));
}

/// A consumer tool (`check-jsonschema`, `taplo`, `pre-commit`) from the
/// venv of `scripts/install-consumers.sh` (`SITECONF_CONSUMERS_VENV`); in
/// CI its absence fails the test, elsewhere the test is skipped loudly.
#[allow(dead_code)]
pub fn consumer_tool(name: &str) -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("SITECONF_CONSUMERS_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/opt/siteconf-consumers/venv"));
    let exe = venv.join("bin").join(name);
    if exe.is_file() {
        return Some(exe);
    }
    let msg = format!(
        "{name} not found at {}: install it with scripts/install-consumers.sh \
         (or set SITECONF_CONSUMERS_VENV)",
        exe.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}; CI must run this check");
    }
    eprintln!(
        "\n{}\n!!! SKIPPED: {msg}\n{}\n",
        "!".repeat(78),
        "!".repeat(78)
    );
    None
}

/// `check-jsonschema`: see [`consumer_tool`].
#[allow(dead_code)]
pub fn check_jsonschema() -> Option<std::path::PathBuf> {
    consumer_tool("check-jsonschema")
}

/// Runs a validator to completion: whether it accepted, and all it printed.
#[allow(dead_code)]
pub fn verdict(cmd: &mut std::process::Command) -> (bool, String) {
    let out = cmd.output().expect("run the validator");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Every file under `root`: relative path → (mode, bytes).
#[allow(dead_code)]
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, (u32, Vec<u8>)> {
    use std::os::unix::fs::MetadataExt;
    each_file(root, |path, m| {
        (m.mode() & 0o7777, std::fs::read(path).unwrap())
    })
}

/// Every regular file under `root`: relative path → what `f` makes of its
/// path and metadata.
#[allow(dead_code)]
pub fn each_file<T>(
    root: &Path,
    f: impl Fn(&Path, &std::fs::Metadata) -> T,
) -> std::collections::BTreeMap<String, T> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, f(e.path(), &e.metadata().unwrap()))
        })
        .collect()
}
