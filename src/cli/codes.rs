//! `siteconf codes`: list every diagnostic code (or the docs page).

use super::common::{Global, Status};
use crate::diag::docs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the Markdown reference page (docs/diagnostics.md).
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(_g: &Global, args: Args) -> Status {
    if args.markdown {
        print!("{}", docs::markdown());
    } else {
        print!("{}", docs::text());
    }
    Status::Ok
}
