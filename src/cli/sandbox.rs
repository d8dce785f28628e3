//! `ringmaster sandbox ...`: create and drive the simulated Cassandra cluster.
//!
//! The inventory written by `init` calls `sandbox restart` and `sandbox nodetool` as the
//! nodes' restart and nodetool commands, so these subcommands behave like `systemctl restart
//! cassandra` (returns at once) and `nodetool` (its output format and exit codes).

use std::path::PathBuf;
use std::time::Duration;

use crate::sandbox::{self, InitOptions, SandboxError};

/// Create and drive a simulated Cassandra 5.0 cluster (for demos and fast tests).
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

/// The sandbox subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Create N simulated nodes, their key material and `DIR/cluster.toml`.
    Init {
        /// The sandbox directory (must be empty unless --force).
        #[arg(long)]
        dir: PathBuf,
        /// Number of nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Time a restarted node needs to join, e.g. `0s`, `2s`, `1h`.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
        start_delay: Duration,
        /// Initialise a non-empty directory (replaces a previous sandbox there).
        #[arg(long)]
        force: bool,
        /// Reach the nodes over SSH with this ssh_config (Host aliases node1..nodeN,
        /// as `bin/testbed up` writes them) instead of locally
        #[arg(long, value_name = "FILE")]
        ssh_config: Option<PathBuf>,
    },
    /// Restart a node like `systemctl restart` (returns at once).
    Restart {
        #[arg(long)]
        dir: PathBuf,
        node: String,
    },
    /// Stop a node.
    Stop {
        #[arg(long)]
        dir: PathBuf,
        node: String,
    },
    /// Start a stopped node.
    Start {
        #[arg(long)]
        dir: PathBuf,
        node: String,
    },
    /// Run nodetool against a node: `status [keyspace]`, `drain`, `version`.
    Nodetool {
        #[arg(long)]
        dir: PathBuf,
        node: String,
        /// nodetool's own arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Change the start delay of one node, or the default of all nodes without NODE.
    Set {
        #[arg(long)]
        dir: PathBuf,
        node: Option<String>,
        #[arg(long, value_parser = humantime::parse_duration)]
        start_delay: Duration,
    },
}

/// Runs a sandbox subcommand and returns the process exit code.
pub fn cmd_sandbox(args: &SandboxArgs) -> Result<i32, SandboxError> {
    match &args.command {
        SandboxCommand::Init {
            dir,
            nodes,
            start_delay,
            force,
            ssh_config,
        } => {
            let report = sandbox::init(&InitOptions {
                dir: dir.clone(),
                nodes: *nodes,
                start_delay: *start_delay,
                force: *force,
                ringmaster_exe: None,
                ssh_config: ssh_config.as_ref().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
            })?;
            println!(
                "sandbox with {} nodes ({}) in `{}`\ninventory: {}\nnext: ringmaster run -i {}",
                report.nodes.len(),
                report.nodes.join(", "),
                report.dir.display(),
                report.inventory.display(),
                report.inventory.display(),
            );
            Ok(0)
        }
        SandboxCommand::Restart { dir, node } => sandbox::restart(dir, node).map(|()| 0),
        SandboxCommand::Stop { dir, node } => sandbox::stop(dir, node).map(|()| 0),
        SandboxCommand::Start { dir, node } => sandbox::start(dir, node).map(|()| 0),
        SandboxCommand::Nodetool { dir, node, args } => sandbox::nodetool(
            dir,
            node,
            args,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
        SandboxCommand::Set {
            dir,
            node,
            start_delay,
        } => sandbox::set_start_delay(dir, node.as_deref(), *start_delay).map(|()| 0),
    }
}
