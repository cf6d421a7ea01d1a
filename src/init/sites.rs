//! A project of several sites from the generated site (`siteconf init
//! --sites prod,lab`; docs/sites.md).

use super::*;

/// A project of several sites (`siteconf init --sites prod,lab`): the
/// site of [`generate`] once per name, under `sites/<name>/`, with the
/// profiles and groups shared under `common/` (docs/sites.md). Each site
/// gets its own name and domain (`<name>.example.net`), and MACs and
/// serials of its own, which must differ across sites; networks, VLANs,
/// racks and node names repeat, as each site is its own namespace.
pub fn generate_sites(opts: &Options, names: &[String]) -> Result<Generated, InitError> {
    let bad = |message: String| {
        InitError {
        message,
        help: "give site names of letters, digits, `-` and `_`, each once (case aside), e.g. `--sites prod,lab`"
            .into(),
    }
    };
    if names.is_empty() || names.len() > 200 {
        return Err(bad(format!("{} sites: give 1 to 200", names.len())));
    }
    // The names siteconf.toml accepts (`project::valid_site_name`), checked
    // here so that nothing is written for a project that fails its own
    // check.
    for (i, n) in names.iter().enumerate() {
        if n == "bootinfra" {
            return Err(bad(
                "`bootinfra` cannot be a site name: `out/bootinfra/` holds the bootinfras' files"
                    .into(),
            ));
        }
        if !crate::project::valid_site_name(n) {
            let shown = if n.is_empty() {
                "an empty site name (two commas, or one at an end)".to_string()
            } else {
                format!("`{n}` is not a site name")
            };
            return Err(bad(format!(
                "{shown}: a site name is letters, digits, `-` and `_` (it names the directory `out/<site>/`)"
            )));
        }
        if let Some(prev) = names[..i].iter().find(|p| p.eq_ignore_ascii_case(n)) {
            let message = if prev == n {
                format!("site `{n}` is given twice")
            } else {
                format!(
                    "sites `{prev}` and `{n}` differ only in case: their domains (`{prev}.example.net`, `{n}.example.net`) are one DNS name, and `out/{prev}/`, `out/{n}/` one directory on a case-insensitive file system"
                )
            };
            return Err(bad(message));
        }
    }
    let g = generate(opts)?;
    let mut files = Vec::new();
    for (path, text) in &g.files {
        if path == CONFIG_FILE {
            files.push((path.clone(), sites_config(names)));
            continue;
        }
        let Some(rest) = path.strip_prefix("site/") else {
            files.push((path.clone(), text.clone()));
            continue;
        };
        if rest.starts_with("profiles.") || rest.starts_with("groups.") {
            files.push((format!("common/{rest}"), text.clone()));
            continue;
        }
        for (i, name) in names.iter().enumerate() {
            // The first site keeps the generator's MACs and serials; the
            // others get their own (`52:54:0N:…`, `SN…`).
            let mut t = text.replace("dc1", name);
            if i > 0 {
                t = prefix_serials(&t.replace("52:54:00:", &format!("52:54:{:02x}:", i)), i);
            }
            files.push((format!("sites/{name}/{rest}"), t));
        }
    }
    let n = names.len() as u32;
    Ok(Generated {
        files,
        racks: g.racks * n,
        control: g.control * n,
        compute: g.compute * n,
        storage: g.storage * n,
    })
}

/// Every `serial` value with `S<i>` in front, however it is written
/// (`serial ABC`, `serial "0AB"`, `serial = "ABC"`).
fn prefix_serials(text: &str, i: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find("serial ") {
        let (head, tail) = rest.split_at(at + "serial ".len());
        out.push_str(head);
        let value_at = tail
            .find(|c: char| c != ' ' && c != '=' && c != '"')
            .unwrap_or(0);
        out.push_str(&tail[..value_at]);
        out.push_str(&format!("S{i}"));
        rest = &tail[value_at..];
    }
    out.push_str(rest);
    out
}

/// siteconf.toml of a project of several sites.
fn sites_config(names: &[String]) -> String {
    let single = project_config();
    let mut s = single.replacen(
        "site-dir = \"site\"\n",
        "# Several sites (docs/sites.md): shared definitions, then one table per site.\n\
         shared-dir = \"common\"\n",
        1,
    );
    for n in names {
        s.push_str(&format!("\n[sites.{n}]\ndir = \"sites/{n}\"\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_that_would_fail_the_check_are_refused() {
        let opts = Options {
            nodes: 2,
            racks: None,
            format: Format::Kdl,
        };
        for (names, says) in [
            (&["Prod", "prod"][..], "differ only in case"),
            (&["prod", "prod"][..], "given twice"),
            (&["a b"][..], "not a site name"),
            (&[""][..], "empty site name"),
            (&["bootinfra"][..], "`bootinfra` cannot"),
        ] {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let e = match generate_sites(&opts, &names) {
                Err(e) => e,
                Ok(_) => panic!("{names:?} accepted"),
            };
            assert!(e.message.contains(says), "{names:?}: {}", e.message);
        }
    }

    #[test]
    fn serials_get_a_prefix_however_written() {
        assert_eq!(
            prefix_serials("serial AB\nserial \"0C\"\nserial = \"D\"\n", 2),
            "serial S2AB\nserial \"S20C\"\nserial = \"S2D\"\n"
        );
    }

    #[test]
    fn a_generated_project_of_several_sites_passes_check() {
        for format in [Format::Kdl, Format::Toml] {
            let names = ["prod".to_string(), "lab".to_string(), "dc2".to_string()];
            let opts = Options {
                nodes: 6,
                racks: None,
                format,
            };
            let g = generate_sites(&opts, &names).expect("generated");
            let mut src = crate::source::MemSource::new();
            for (p, t) in &g.files {
                src.insert(p.clone(), t.as_bytes().to_vec());
            }
            let p = crate::check::check_project(&src, None, false);
            let sources = p.sources().cloned().unwrap_or_default();
            // The site files alone: the locks init writes beside them are
            // not in `g.files`, so SC0813 (no lock) is expected here.
            let found: Vec<String> = p
                .diags
                .sorted(&sources)
                .iter()
                .filter(|d| d.code != crate::diag::Code::LockMissing)
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            assert!(found.is_empty(), "{format:?}: {found:?}");
            assert_eq!(p.sites.len(), 3);
            assert_eq!(g.control + g.compute + g.storage, 18);
        }
    }
}
