//! No stage imports a later one. The order is the one `docs/architecture.md`
//! states ("Stage order: …"); every `crate::<module>` path in a module's
//! code (not its comments, not its `#[cfg(test)]` tail) must name a module
//! earlier in that order. A new backward import fails here with the file
//! and line, so the pipeline stays readable from the module names alone.

use std::path::{Path, PathBuf};

fn stage_order() -> Vec<String> {
    let doc = std::fs::read_to_string("docs/architecture.md").expect("docs/architecture.md");
    let line = doc
        .lines()
        .find(|l| l.starts_with("Stage order"))
        .expect("docs/architecture.md states the stage order on a line starting `Stage order`");
    // The order is the line's first sentence.
    let first = line.split(". ").next().unwrap_or(line);
    first
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::<name>` paths in a file's code, with their line numbers.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = match t.find("//") {
            Some(c) => &t[..c],
            None => t,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let name: String = rest[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push((i + 1, name));
            rest = &rest[at + 7..];
        }
    }
    out
}

#[test]
fn no_stage_imports_a_later_one() {
    let order = stage_order();
    assert!(order.len() >= 15, "stage order too short: {order:?}");
    let mut modules = Vec::new();
    for e in std::fs::read_dir("src").expect("src") {
        let p = e.expect("entry").path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if stem == "lib" || stem == "main" {
            continue;
        }
        modules.push((stem, p));
    }
    // Every module has its place, and the order names no module that is gone.
    let mut names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let mut listed: Vec<&str> = order.iter().map(String::as_str).collect();
    listed.sort();
    assert_eq!(names, listed, "docs/architecture.md's stage order vs. src/");

    let mut backward = Vec::new();
    let mut checked = 0;
    for (name, path) in &modules {
        let rank = order.iter().position(|o| o == name).unwrap();
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(path, &mut files);
        } else {
            files.push(path.clone());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (line, target) in crate_paths(&text) {
                checked += 1;
                if target == *name {
                    continue;
                }
                match order.iter().position(|o| *o == target) {
                    Some(r) if r < rank => {}
                    Some(_) => backward.push(format!(
                        "{}:{line}: `{name}` imports `{target}`, a later stage",
                        f.display()
                    )),
                    None => backward.push(format!(
                        "{}:{line}: `crate::{target}` is not a stage in the order",
                        f.display()
                    )),
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} crate paths seen");
    assert!(
        backward.is_empty(),
        "imports that point backwards:\n{}",
        backward.join("\n")
    );
}

#[test]
fn the_scan_sees_code_and_skips_comments_and_tests() {
    let text = "use crate::a::b;\n// crate::c\nlet x = crate::d(); // crate::e\n#[cfg(test)]\nuse crate::f;\n";
    let got: Vec<String> = crate_paths(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(got, ["a", "d"]);
}
