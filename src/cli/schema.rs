//! `siteconf schema [site|config|secrets]`: prints a JSON Schema — of site
//! files in TOML form (from `model::schema`), of siteconf.toml or of a
//! secrets file (from `project`) — or with `--markdown` the field reference
//! of `docs/site-format.md`. This repository commits them under `schema/`,
//! and `siteconf init` writes them into a new project, where the `#:schema`
//! line of each TOML file names its schema for editors (taplo, Even Better
//! TOML).

use super::common::{fail, Status};
use crate::model::{schema, schema_doc};
use crate::project;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    /// Site files (schema/site.schema.json).
    #[default]
    Site,
    /// siteconf.toml (schema/siteconf.schema.json).
    Config,
    /// A secrets file, `[secrets] file` (schema/secrets.schema.json).
    Secrets,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "After upgrading siteconf, refresh a project's copies:\n\n    \
    siteconf schema > schema/site.schema.json\n    \
    siteconf schema config > schema/siteconf.schema.json\n    \
    siteconf schema secrets > schema/secrets.schema.json"
)]
pub struct Args {
    /// Which schema.
    #[arg(value_enum, default_value = "site")]
    pub which: Which,
    /// Print the Markdown field reference of site files instead.
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: Args) -> Status {
    match (args.which, args.markdown) {
        (Which::Site, true) => print!("{}", schema_doc::markdown()),
        (_, true) => return fail("--markdown is the field reference of site files only"),
        (Which::Site, false) => print!("{}", schema::json_schema_text()),
        (Which::Config, false) => {
            print!(
                "{}",
                project::schema_text(&crate::gate::config_json_schema())
            )
        }
        (Which::Secrets, false) => {
            print!("{}", project::schema_text(&project::secrets_json_schema()))
        }
    }
    Status::Ok
}
