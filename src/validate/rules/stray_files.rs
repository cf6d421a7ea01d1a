//! Rule `stray-files`: files that look like part of the site but are not
//! read.
//!
//! **What it does.** Reports two kinds of file, found when the project is
//! loaded (`crate::project::load`):
//! - (SC0070, a warning) a file under the site directory whose extension is
//!   neither `.kdl` nor `.toml` — `racks/r05.kld`, `nodes.yaml`,
//!   `site.kdl.bak`. Hidden files and `*.md` notes are not reported, nor
//!   files that are not text (images).
//! - (SC0071, a warning) a `.kdl` or `.toml` file outside the site
//!   directory — at the project root or directly in another top-level
//!   directory, not in the template or output directories — that declares
//!   site entities (`site`, `network`, `rack`, `switch`, `node`,
//!   `bgp-peer`). `siteconf.toml` is the project's settings, not a site
//!   file. (Only the working tree and the git index are looked at this
//!   way; `--rev` does not.)
//!
//! **Why it matters.** Nothing in such a file is part of the site, and
//! nothing says so: the rack in `r05.kld` is not built, its nodes get no
//! DHCP reservation, and `check` is green. A misspelt extension or a file
//! saved next to `siteconf.toml` instead of in `site/` is an easy slip.
//!
//! **Example.**
//! ```text
//! site/racks/r05.kld      // SC0070: not read (did you mean `.kdl`?)
//! nodes-new.kdl           // SC0071: declares nodes, outside `site/`
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::StrayKind;

pub static RULE: Rule = Rule {
    name: "stray-files",
    codes: &[Code::IgnoredFile, Code::SiteFileOutside],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for f in &cx.site.strays {
        let d = match f.kind {
            StrayKind::Ignored => {
                let ext = f
                    .path
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.rsplit_once('.'))
                    .map(|(_, e)| e)
                    .unwrap_or("");
                let close = ["kdl", "toml"]
                    .into_iter()
                    .find(|x| !ext.is_empty() && strsim::damerau_levenshtein(ext, x) <= 1);
                let help = match close {
                    Some(x) => format!("did you mean `.{x}`? rename the file so it is read"),
                    None => "site files are `*.kdl` or `*.toml`: rename it to be read, or move it out of the site directory".to_string(),
                };
                Diagnostic::warning(
                    Code::IgnoredFile,
                    format!("`{}` is in the site directory but is not read: only `.kdl` and `.toml` files are", f.path),
                )
                .label(f.span, "this file is ignored")
                .help(help)
            }
            StrayKind::Outside => Diagnostic::warning(
                Code::SiteFileOutside,
                format!(
                    "`{}` declares a `{}` but is outside the site directory, so it is not read",
                    f.path, f.entity
                ),
            )
            .label(f.span, "not part of the site")
            .help("move it into the site directory (`site-dir` in siteconf.toml), or delete it"),
        };
        diags.push(d);
    }
}
