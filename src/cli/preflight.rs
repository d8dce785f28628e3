//! `ringmaster preflight -i INV [--json]`: every check before anything is touched, one
//! row per check and node; exit 3 when any row is a blocker. `run` runs the same checks
//! under the lock ([`crate::run::start::preflight_gate`]).

use std::path::PathBuf;
use std::time::Duration;

use super::session::ConnectArgs;
use crate::cli::error::{CommandError, ErrorKind, exit};
use crate::preflight::Options;
use crate::run::Cluster;

/// Check the cluster, the nodes and the key material; change nothing.
#[derive(Debug, clap::Args)]
pub struct PreflightArgs {
    /// The inventory (cluster.toml)
    #[arg(short = 'i', long, value_name = "INV")]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub workflow: super::workflows::WorkflowArg,
    /// Print a JSON array of {node, check, severity, message}
    #[arg(long)]
    pub json: bool,
    /// Warn about certificates that expire sooner than this
    #[arg(long, value_name = "DURATION", default_value = "30days", value_parser = humantime::parse_duration)]
    pub expiry_warning: Duration,
    /// Show the `ok` rows too (text output)
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn cmd_preflight(args: &PreflightArgs) -> Result<i32, CommandError> {
    let job = super::session::load_job(&args.inventory, args.workflow.spec.as_deref())?;
    let options = Options { expiry_warning: args.expiry_warning, ..Options::default() };
    let mut cluster = Cluster::new(&job.inventory, args.connect.options())?;
    let report = crate::run::start::preflight_report(&job, &mut cluster, options);
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report).map_err(|e| CommandError::from_source(ErrorKind::Failed, e))?)?;
    } else {
        crate::ui::out::print(&report.render(args.all))?;
    }
    Ok(if report.blockers().is_empty() { exit::OK } else { exit::PREFLIGHT })
}
