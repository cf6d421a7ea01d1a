//! `siteconf man`: the manual page, generated from the clap definition
//! (clap_mangen). Without `--dir`, `siteconf(1)` in roff on stdout
//! (`siteconf man | man -l -`); with `--dir DIR`, one page per command
//! (`siteconf.1`, `siteconf-check.1` …) written into DIR, which is what
//! scripts/release.sh puts in the Debian package.

use std::path::PathBuf;

use clap::CommandFactory;

use super::common::{fail, Status};

#[derive(clap::Args, Debug)]
#[command(after_help = "Read it without installing:  siteconf man | man -l -")]
pub struct Args {
    /// Write siteconf.1 and one page per command (siteconf-check.1 …) into
    /// this directory (created if missing) instead of printing siteconf.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args) -> Status {
    let cmd = super::Cli::command();
    match args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => Status::Ok,
                Err(e) => fail(format!("cannot write the man page: {e}")),
            }
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                return fail(format!("cannot create {}: {e}", dir.display()));
            }
            match clap_mangen::generate_to(cmd, &dir) {
                Ok(()) => Status::Ok,
                Err(e) => fail(format!(
                    "cannot write the man pages into {}: {e}",
                    dir.display()
                )),
            }
        }
    }
}
