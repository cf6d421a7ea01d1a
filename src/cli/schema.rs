//! `siteconf schema`: prints the JSON Schema of site files in TOML form
//! (committed as `schema/site.schema.json`), or with `--markdown` the field
//! reference of `docs/site-format.md`. Both come from `model::schema`.

use super::common::Status;
use crate::model::{schema, schema_doc};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the Markdown field reference instead of the JSON Schema.
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: Args) -> Status {
    if args.markdown {
        print!("{}", schema_doc::markdown());
    } else {
        print!("{}", schema::json_schema_text());
    }
    Status::Ok
}
