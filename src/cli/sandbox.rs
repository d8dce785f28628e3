//! `ringmaster sandbox ...`: create and drive the simulated Cassandra cluster.
//!
//! The inventory written by `init` calls `sandbox restart` and `sandbox nodetool` as the
//! nodes' restart and nodetool commands, so these subcommands behave like `systemctl restart
//! cassandra` (returns at once) and `nodetool` (its output format and exit codes).

use std::path::PathBuf;
use std::time::Duration;

use crate::sandbox::init::TopologyOptions;
use crate::sandbox::topology::{KeyspaceDef, parse_keyspace_spec};
use crate::sandbox::{self, InitOptions, SandboxError};

fn parse_keyspace(spec: &str) -> Result<KeyspaceDef, String> {
    parse_keyspace_spec(spec).map_err(|e| e.to_string())
}

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
        /// Number of nodes (1 to 1000; addresses 127.0.0.1..254, then 127.0.1.1.., ...).
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Number of datacenters: `datacenter1` when 1, else `dc1`..`dcN`. Nodes are placed
        /// round-robin, DC first, then rack (node1 dc1/rack1, node2 dc2/rack1, ...).
        #[arg(long, default_value_t = 1)]
        dcs: usize,
        /// Racks per datacenter, `rack1`..`rackR`.
        #[arg(long, default_value_t = 1)]
        racks: usize,
        /// Vnodes per node (`num_tokens`, 2 to 256); fewer tokens make replicas of
        /// different nodes overlap less.
        #[arg(long, default_value_t = 16)]
        tokens: usize,
        /// A user keyspace, repeatable: `NAME:SimpleStrategy:RF` or
        /// `NAME:NetworkTopologyStrategy:dc1=3,dc2=3`.
        #[arg(long = "keyspace", value_name = "SPEC", value_parser = parse_keyspace)]
        keyspaces: Vec<KeyspaceDef>,
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
    /// Run nodetool against a node: `status [keyspace]`, `describecluster`,
    /// `describering KS`, `tablestats [KS]`, `drain`, `version`, `netstats`.
    Nodetool {
        #[arg(long)]
        dir: PathBuf,
        node: String,
        /// nodetool's own arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Wait until AT_MS (unix ms), then write what is due to the nodes' logs (started in
    /// the background by `restart` and `start`; not for direct use).
    #[command(hide = true)]
    Wake {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        at_ms: u64,
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
        SandboxCommand::Init { dir, nodes, dcs, racks, tokens, keyspaces, start_delay, force, ssh_config } => {
            let topology = TopologyOptions { dcs: *dcs, racks: *racks, keyspaces: keyspaces.clone(), tokens: *tokens };
            let report = sandbox::init::init_with(
                &InitOptions {
                    dir: dir.clone(),
                    nodes: *nodes,
                    start_delay: *start_delay,
                    force: *force,
                    ringmaster_exe: None,
                    ssh_config: ssh_config.as_ref().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
                },
                &topology,
            )?;
            crate::outln!(
                "sandbox with {} nodes ({}) in `{}`\ninventory: {}\nnext: ringmaster run -i {}",
                report.nodes.len(),
                report.nodes.join(", "),
                report.dir.display(),
                report.inventory.display(),
                crate::transport::shell_quote(&report.inventory.display().to_string()),
            )
            .map_err(|e| SandboxError::Io { action: "write to", path: "standard output".into(), source: e.source })?;
            Ok(0)
        }
        SandboxCommand::Restart { dir, node } => sandbox::restart(dir, node).map(|up| wake_later(dir, up)),
        SandboxCommand::Stop { dir, node } => sandbox::stop(dir, node).map(|()| 0),
        SandboxCommand::Start { dir, node } => sandbox::start(dir, node).map(|up| wake_later(dir, up)),
        SandboxCommand::Wake { dir, at_ms } => sandbox::wake(dir, *at_ms).map(|()| 0),
        SandboxCommand::Nodetool { dir, node, args } => {
            sandbox::nodetool(dir, node, args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock())
        }
        SandboxCommand::Set { dir, node, start_delay } => sandbox::set_start_delay(dir, node.as_deref(), *start_delay).map(|()| 0),
    }
}

/// Delays longer than this are left to the next command to materialise: nobody waits
/// for them, and a process sleeping for hours would outlive the test that made it.
const WAKE_AT_MOST: Duration = Duration::from_secs(600);

/// Starts a detached `sandbox wake` that writes a node's join lines at `up_ms`, so its
/// system.log shows the join when it happens (as a real node's does) and not only when the
/// next command looks. Best effort: without it the next command still writes them. Returns
/// the exit code of the command that called it (0).
fn wake_later(dir: &std::path::Path, up_ms: Option<u64>) -> i32 {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let now = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
    let Some(up) = up_ms.filter(|&up| up > now && up - now <= WAKE_AT_MOST.as_millis() as u64) else { return 0 };
    let Ok(exe) = std::env::current_exe() else { return 0 };
    // Its own process group and no inherited stdio: an SSH session running `restart`
    // ends when `restart` does, not when the wake does.
    let _ = Command::new(exe)
        .args(["sandbox", "wake", "--dir"])
        .arg(dir)
        .args(["--at-ms", &up.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    0
}
