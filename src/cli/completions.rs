//! `siteconf completions SHELL`: the shell completion script, generated from
//! the same clap definition as the parser, so it never lags behind a new
//! flag. The Debian package installs the bash, zsh and fish ones
//! (scripts/release.sh); by hand:
//!
//! ```sh
//! siteconf completions bash > ~/.local/share/bash-completion/completions/siteconf
//! siteconf completions zsh  > ~/.zfunc/_siteconf          # with fpath+=~/.zfunc
//! siteconf completions fish > ~/.config/fish/completions/siteconf.fish
//! ```

use clap::CommandFactory;
use clap_complete::Shell;

use super::common::Status;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Install (bash):  siteconf completions bash > ~/.local/share/bash-completion/completions/siteconf\nInstall (zsh):   siteconf completions zsh > ~/.zfunc/_siteconf   (and fpath+=~/.zfunc before compinit)\nInstall (fish):  siteconf completions fish > ~/.config/fish/completions/siteconf.fish\nThe Debian package installs the bash, zsh and fish scripts already."
)]
pub struct Args {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args) -> Status {
    let mut cmd = super::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "siteconf", &mut out);
    Status::Ok
}
