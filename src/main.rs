//! The `siteconf` binary: parse arguments, dispatch, return the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    siteconf::cli::main()
}
