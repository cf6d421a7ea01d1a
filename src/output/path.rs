//! Output path safety: every path of an [`OutputSet`] is a plain relative
//! path that cannot leave the output directory, checked where paths are
//! made (render) and again where they are used (write).
//!
//! Names from site files end up in paths (`nodes/<host>/…`, a repo name
//! in `…/sources.list.d/<repo>.sources`). Validation checks names, but the
//! writer must not depend on every rule being right: a path is refused
//! (SC0903) unless it is `/`-separated components, none empty, `.`, `..`
//! or hidden (starting with `.`),
//! none longer than 255 bytes (the filesystems' limit), without NUL or
//! other control characters or a backslash. And no file may sit where
//! another path needs a directory.

use std::collections::BTreeSet;

use super::OutputSet;
use crate::diag::{Code, Diagnostic};

/// Longest component most Linux filesystems accept.
pub const MAX_COMPONENT: usize = 255;
/// Longest path `open(2)` accepts.
pub const MAX_PATH: usize = 4095;

/// Why `path` is not a safe relative output path, if it is not.
pub fn unsafe_reason(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("the path is empty".into());
    }
    if path.starts_with('/') {
        return Some("the path is absolute".into());
    }
    if path.len() > MAX_PATH {
        return Some(format!("the path is longer than {MAX_PATH} bytes"));
    }
    if let Some(c) = path.chars().find(|c| c.is_control() || *c == '\\') {
        return Some(format!("the path holds the character {c:?}"));
    }
    for comp in path.split('/') {
        match comp {
            "" => return Some("the path has an empty component (`//` or a trailing `/`)".into()),
            "." | ".." => return Some(format!("the path has a `{comp}` component")),
            // A hidden name (`.ssh`, `.x`) is invisible in a listing and
            // is how a template could slip a file past a reviewer.
            c if c.starts_with('.') => {
                return Some(format!("the path has a hidden component `{c}`"))
            }
            c if c.len() > MAX_COMPONENT => {
                return Some(format!(
                    "a component is {} bytes long; filesystems allow {MAX_COMPONENT}",
                    c.len()
                ))
            }
            _ => {}
        }
    }
    None
}

/// The SC0903 diagnostic for a path.
pub fn unsafe_path(path: &str, reason: &str, origin: &str) -> Diagnostic {
    // `{:?}` so a control character in the path is visible, not executed
    // by the terminal.
    Diagnostic::error(
        Code::UnsafePath,
        format!("refusing to write {path:?} ({origin}): {reason}"),
    )
    .help("output paths come from names in the site files (a host's FQDN: its name and the site's domain; repo and user names) and from the templates' paths: shorten or rename the name this path is made from so that it is a plain file name of at most 255 bytes, or fix the template's path")
}

/// Every problem with the paths of a set: unsafe paths, and a file where
/// another file's path needs a directory.
/// The directories a relative `/`-separated path needs, parents first:
/// `nodes/a/etc/hosts` → `nodes`, `nodes/a`, `nodes/a/etc`.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

pub fn check_set(set: &OutputSet) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for (path, a) in &set.files {
        if let Some(reason) = unsafe_reason(path) {
            diags.push(unsafe_path(path, &reason, &owner_text(&a.owner)));
            continue;
        }
        if a.path != *path {
            diags.push(unsafe_path(
                path,
                &format!("the artifact says its path is {:?}", a.path),
                &owner_text(&a.owner),
            ));
        }
        dirs.extend(ancestors(path));
    }
    for d in &dirs {
        if let Some(a) = set.files.get(*d) {
            diags.push(unsafe_path(
                d,
                "it is a file, but other files need it to be a directory",
                &owner_text(&a.owner),
            ));
        }
    }
    diags
}

pub(crate) fn owner_text(o: &super::Owner) -> String {
    match o {
        super::Owner::Node(n) => format!("node {n}"),
        super::Owner::Switch(s) => format!("switch {s}"),
        super::Owner::Site => "site-wide".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Artifact, Owner};

    #[test]
    fn plain_relative_paths_pass() {
        for p in ["a", "nodes/r01n01/etc/frr/frr.conf", "a/b..c/d"] {
            assert_eq!(unsafe_reason(p), None, "{p}");
        }
    }

    #[test]
    fn escapes_and_oddities_are_refused() {
        let long = "x".repeat(256);
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "a\nb",
            "a\\..\\b",
            "x/.hidden",
            "nodes/a/.ssh/authorized_keys",
            long.as_str(),
        ] {
            assert!(unsafe_reason(p).is_some(), "{p:?} should be refused");
        }
        assert_eq!(unsafe_reason(&"x".repeat(255)), None);
    }

    #[test]
    fn a_file_where_a_directory_is_needed_is_reported() {
        let mut set = OutputSet::default();
        for p in ["nodes/a", "nodes/a/hostname"] {
            set.insert(Artifact {
                path: p.into(),
                bytes: b"x".to_vec(),
                mode: 0o644,
                owner: Owner::Node("a".into()),
                kind: "file".into(),
                secret: false,
            });
        }
        let d = check_set(&set);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnsafePath);
        assert!(d[0].message.contains("\"nodes/a\""), "{}", d[0].message);
    }
}
