//! The `siteconf` binary: parse arguments, dispatch, return the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `siteconf inventory --list | head` would make
    // every print fail and panic. Like other Unix tools, stop quietly when
    // the reader goes away.
    // SAFETY: setting a signal disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    siteconf::cli::main()
}
