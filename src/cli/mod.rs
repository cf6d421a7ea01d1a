//! The command line: one file per subcommand. The only code that prints or
//! chooses an exit code. Exit codes: 0 ok, 1 findings, 2 usage or internal
//! error.

mod build;
mod check;
mod codes;
mod common;
mod completions;
mod diff;
mod explain;
mod gate;
mod init;
mod inventory;
mod lock;
mod man;
mod schema;
mod state;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use common::{Global, SourceArgs, Status};

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
    /// Show a node's resolved values, each with where it was set and what it overrode.
    Explain(explain::Args),
    /// Write allocations to siteconf.lock.
    Lock(lock::Args),
    /// List every diagnostic code.
    Codes(codes::Args),
    /// Create a new project with a complete, valid example site.
    Init(init::Args),
    /// Print the JSON Schema of site files (TOML form), siteconf.toml or a secrets file.
    Schema(schema::Args),
    /// Compare the fleet as observed (LLDP, facts, leases, BGP) with the site.
    State(state::Args),
    /// Answer Ansible's script inventory protocol (--list, --host NAME) from the site.
    Inventory(inventory::Args),
    /// Show what a change does to the rendered artifacts, base vs head.
    Diff(diff::Args),
    /// Apply the [gate] policy to a change (exit 1 if blocked).
    Gate(gate::Args),
    /// Compile the site into every artifact and write the output directory.
    Build(build::Args),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page (roff), or write one page per command with --dir.
    Man(man::Args),
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
        Command::Explain(a) => explain::run(&cli.global, a),
        Command::Lock(a) => lock::run(&cli.global, a),
        Command::Codes(a) => codes::run(&cli.global, a),
        Command::Init(a) => init::run(&cli.global, a),
        Command::Schema(a) => schema::run(a),
        Command::State(a) => state::run(&cli.global, a),
        Command::Inventory(a) => inventory::run(&cli.global, a),
        Command::Diff(a) => diff::run(&cli.global, a),
        Command::Gate(a) => gate::run(&cli.global, a),
        Command::Build(a) => build::run(&cli.global, a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    };
    status.into()
}
