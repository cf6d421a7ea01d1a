//! The command line: one file per subcommand. The only code that prints or
//! chooses an exit code. Exit codes: 0 ok, 1 findings, 2 usage or internal
//! error.

mod build;
mod check;
mod common;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use common::{Global, Status};

#[derive(Parser, Debug)]
#[command(
    name = "siteconf",
    version,
    about = "Validate, compile, review and observe a bare-metal fleet declared in site files",
    after_help = "Exit codes: 0 ok, 1 findings (errors in the site, drift, a gate that blocks), 2 usage or internal error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report every mistake in the site files (exit 1 if any).
    Check(check::Args),
    /// Compile the site into every artifact and write the output directory.
    Build(build::Args),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    let status = match cli.command {
        Command::Check(a) => check::run(&cli.global, a),
        Command::Build(a) => build::run(&cli.global, a),
    };
    status.into()
}
