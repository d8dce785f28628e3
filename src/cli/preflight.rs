//! `ringmaster preflight -i INV [--json]`: every check before anything is touched, one
//! row per check and node; exit 3 when any row is a blocker. `run` calls [`report`] too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::session::{self, ConnectArgs};
use crate::error::{CommandError, ErrorKind, exit};
use crate::inventory::Inventory;
use crate::preflight::{self, NoConnection, Options, Report};
use crate::secrets::Secrets;
use crate::transport::Transport;
use crate::workflow::Workflow;

/// Check the cluster, the nodes and the key material; change nothing.
#[derive(Debug, clap::Args)]
pub struct PreflightArgs {
    /// The inventory (cluster.toml)
    #[arg(short = 'i', long, value_name = "INV")]
    pub inventory: PathBuf,
    /// A workflow file instead of the built-in internode-tls workflow
    #[arg(long, value_name = "FILE")]
    pub workflow: Option<PathBuf>,
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
    let (inventory, workflow, secrets) = super::session::load_job(&args.inventory, args.workflow.as_deref())?;
    let options = Options { expiry_warning: args.expiry_warning, ..Options::default() };
    let report = report(&inventory, &workflow, &secrets, &args.connect, options)?;
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report).map_err(|e| CommandError::from_source(ErrorKind::Failed, e))?)?;
    } else {
        crate::ui::out::print(&report.render(args.all))?;
    }
    Ok(if report.blockers().is_empty() { exit::OK } else { exit::PREFLIGHT })
}

/// Connects to every node on its own, so one unreachable node is a finding, not an abort.
pub async fn connect_each(inventory: &Inventory, args: &ConnectArgs) -> BTreeMap<String, Result<Transport, NoConnection>> {
    session::connect_all(inventory, args)
        .await
        .into_iter()
        .map(|(name, result)| {
            let result = result.map_err(|e| {
                let (error, hints) = e.into_parts();
                NoConnection { error, hints }
            });
            (name, result)
        })
        .collect()
}

/// Runs every preflight check and returns the report.
pub fn report(
    inventory: &Inventory,
    workflow: &Workflow,
    secrets: &Secrets,
    connect: &ConnectArgs,
    options: Options,
) -> Result<Report, CommandError> {
    let rt = super::runtime()?;
    Ok(rt.block_on(async {
        let transports = connect_each(inventory, connect).await;
        let ctx = preflight::Context { inventory, workflow, secrets, transports: &transports, options };
        preflight::run(&ctx).await
    }))
}
