//! The `siteconf` binary: parse arguments, dispatch, return the exit code.

use std::process::ExitCode;

/// Rendering a fleet allocates and frees millions of small strings from
/// several threads; glibc's allocator spent a sixth of a 10k-node build in
/// malloc/free and fragmented the heap. See benches/build.rs.
///
/// Built without transparent huge pages (`no_thp`): mimalloc asked for
/// them, and each first touch of its arenas then zeroed 2 MB at once; a
/// 10,000-node build spent up to a third of its time in the kernel
/// clearing pages it mostly never used (a fresh build 4.0-4.4 s, now
/// 3.7-3.8 s; an edit 1.5-2.3 s, now 1.4-1.5 s, on this 2-core VM).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `siteconf inventory --list | head` would make
    // every print fail and panic. Like other Unix tools, stop quietly when
    // the reader goes away.
    // SAFETY: setting a signal disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // mimalloc hands freed memory back to the kernel after 10 ms, and takes
    // it again, zeroed page by page, moments later: at 10,000 nodes that
    // was 13,000-20,000 page faults and about a third of a build's system
    // time. A command lives seconds; it keeps what it has freed.
    // SAFETY: sets one option of the allocator, which takes it at any time
    // (`mi_option_purge_delay` is 15 in mimalloc.h; -1: never purge).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    siteconf::cli::main()
}
