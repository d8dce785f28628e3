//! `ringmaster completions SHELL` and `ringmaster man`: generated from the clap
//! definition itself, so they can never drift from the real flags.

use std::path::PathBuf;

use clap::CommandFactory;

use super::Cli;
use crate::cli::error::{CommandError, exit};

/// Print a shell completion script (e.g. `ringmaster completions bash > /etc/bash_completion.d/ringmaster`).
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff), or write one page per command into a directory.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write ringmaster.1 and ringmaster-COMMAND.1 into DIR instead of printing ringmaster.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn cmd_completions(args: &CompletionsArgs) -> Result<i32, CommandError> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ringmaster", &mut script);
    crate::ui::out::write_raw(&script)?;
    Ok(exit::OK)
}

pub fn cmd_man(args: &ManArgs) -> Result<i32, CommandError> {
    let cmd = Cli::command();
    match &args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            crate::ui::out::write_raw(&page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| CommandError::failed(format!("cannot create `{}`: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| CommandError::failed(format!("cannot write man pages into `{}`: {e}", dir.display())))?;
            crate::ui::out::eprint_line(&format!("wrote man pages into {}", dir.display()));
        }
    }
    Ok(exit::OK)
}
