//! Build script: embeds the default templates (`templates/**/*.j2`) in the
//! binary as a sorted table of (name, text), so `siteconf build` works
//! without a templates directory and the defaults can never be out of step
//! with the code that renders them. Adding a default template means adding
//! a file; nothing here changes.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            collect(&path, root, out);
        } else if ft.is_file() && path.extension().is_some_and(|e| e == "j2") {
            if let Ok(rel) = path.strip_prefix(root) {
                let name: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((name.join("/"), path.clone()));
            }
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir.join("templates");
    println!("cargo:rerun-if-changed=templates");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    // Sorted so the generated table, and everything that iterates it, is
    // the same on every machine whatever order the filesystem lists.
    files.sort();
    let mut code = String::from(
        "/// Built-in templates: (name relative to `templates/`, text), sorted by name.\n\
         pub static BUILTIN: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"))
        .join("builtin_templates.rs");
    fs::write(out, code).expect("write builtin_templates.rs");
}
