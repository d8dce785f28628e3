//! `ringmaster inspect status [FILE|-] --json`: parse `nodetool status` output.

use std::io::Read;
use std::path::PathBuf;

use crate::cassandra::status::parse_status;
use crate::cli::error::{CommandError, exit};

/// Look at Cassandra output the way ringmaster reads it.
#[derive(Debug, clap::Subcommand)]
pub enum InspectCommand {
    /// Parse `nodetool status` output (a file, or `-`/nothing for stdin) into nodes.
    Status {
        /// The file with the output of `nodetool status`
        file: Option<PathBuf>,
        /// Print a JSON array of nodes instead of a table
        #[arg(long)]
        json: bool,
    },
}

pub fn cmd_inspect(cmd: &InspectCommand) -> Result<i32, CommandError> {
    let InspectCommand::Status { file, json } = cmd;
    let (name, text) = match file.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| CommandError::usage(format!("cannot read `{}`: {e}", path.display())))?,
        ),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            ("<stdin>".to_string(), s)
        }
    };
    let nodes = parse_status(&text).map_err(|e| CommandError::failed(format!("{name}: {e}")))?;
    if *json {
        crate::outln!("{}", serde_json::to_string_pretty(&nodes).expect("BUG: nodes serialize"))?;
    } else {
        crate::outln!("{:<12} {:<2} {:<40} {:<12} {:<38} RACK", "DATACENTER", "", "ADDRESS", "LOAD", "HOST ID")?;
        for n in &nodes {
            crate::outln!(
                "{:<12} {}{} {:<40} {:<12} {:<38} {}",
                n.datacenter,
                n.status,
                n.state,
                n.address,
                n.load.as_deref().unwrap_or("?"),
                n.host_id,
                n.rack
            )?;
        }
    }
    Ok(exit::OK)
}
