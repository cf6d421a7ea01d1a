//! The `siteconf` binary: parse arguments, dispatch, return the exit code.

use std::process::ExitCode;

/// Rendering a fleet allocates and frees millions of small strings from
/// several threads; glibc's allocator spent a sixth of a 10k-node build in
/// malloc/free and fragmented the heap. See benches/build.rs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
