//! `ringmaster run -i INV [--yes]`: show the plan, ask, then start a new run.

use std::path::PathBuf;

use super::batch::{BatchArgs, BatchPlan};
use super::session::{self, ConnectArgs, PauseArgs};
use crate::cli::error::{CommandError, exit};
use crate::inventory::Inventory;
use crate::journal::Journal;
use crate::run::start::FixedBatches;
use crate::run::{Cluster, Job, Mode, Pauses};
use crate::secrets::MASK;
use crate::workflow::Workflow;

/// Start a rollout: both passes over every node, one node (or one proven-safe batch) at a time.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The inventory (cluster.toml)
    #[arg(short = 'i', long, value_name = "INV")]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub workflow: super::workflows::WorkflowArg,
    /// Do not ask for confirmation (for scripts)
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub pause: PauseArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn cmd_run(journal: Option<PathBuf>, args: &RunArgs) -> Result<i32, CommandError> {
    let job = session::load_job(&args.inventory, args.workflow.spec.as_deref())?;
    // Every pass must render for every node before anything starts: a missing secret or
    // template is found now, not after half the cluster was restarted.
    for pass in &job.workflow.passes {
        for node in &job.inventory.nodes {
            pass.render(node, &job.secrets)?;
        }
    }
    let journal_path = super::journal_path(journal);
    let mut cluster = Cluster::new(&job.inventory, args.connect.options())?;
    // Batches are planned (read-only) before the question, so the operator sees them.
    let batches = super::batch::plan(&args.batch, &mut cluster)?;
    crate::ui::out::eprint(&plan(&job.inventory, &job.workflow, &journal_path));
    if batches.topology.is_some() {
        crate::ui::out::eprint(&batches.render());
    }
    if !session::confirm(args.yes, "plan")? {
        return Ok(exit::OK);
    }
    let journal = Journal::open(&journal_path)?;
    start(&journal, &args.inventory, &job, &mut cluster, &args.connect, Some((&args.batch, &batches)), args.pause.pauses())
}

/// Creates a run in the journal and drives it (shared with `demo`): the lock, preflight
/// under the lock, the batches fixed, then the run, pausing where `pauses` says.
pub fn start(
    journal: &Journal,
    inventory_path: &std::path::Path,
    job: &Job,
    cluster: &mut Cluster<'_>,
    connect: &ConnectArgs,
    batches: Option<(&BatchArgs, &BatchPlan)>,
    pauses: Pauses,
) -> Result<i32, CommandError> {
    let run = crate::run::start::create(journal, inventory_path, job, pauses.after_pass)?;
    crate::run::start::lock(journal, &run, job, connect.break_lock)?;
    crate::run::start::preflight_gate(journal, &run, job, cluster, None, |report| session::print_findings(report, job))?;
    if let Some((args, plan @ BatchPlan { topology: Some(topology), .. })) = batches {
        crate::run::start::fix_batches(journal, &run, job, FixedBatches { topology: topology.clone(), batches: plan.event(args) })?;
    }
    crate::ui::out::eprint_line(&format!(
        "run {} started (journal {})",
        run.id,
        journal.path().map(|p| p.display().to_string()).unwrap_or_default()
    ));
    session::drive(journal, run, job, cluster, connect, Mode::Forward(pauses))
}

/// Returns the plan shown before a run: order of nodes and what each pass sets.
pub fn plan(inventory: &Inventory, workflow: &Workflow, journal: &std::path::Path) -> String {
    let mut out = format!(
        "ringmaster will run workflow `{}` on cluster `{}` ({} nodes), journal {}\n",
        workflow.name,
        inventory.cluster,
        inventory.nodes.len(),
        journal.display()
    );
    let order = inventory.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(" -> ");
    for pass in &workflow.passes {
        let settings = pass
            .settings
            .iter()
            .map(|(k, v)| {
                let shown = match v.as_str() {
                    Some(s) if s.contains("{secret:") => MASK.to_string(),
                    Some(s) => s.to_string(),
                    None => v.to_string(),
                };
                format!("{k}={shown}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!("  pass `{}`: {order}\n    sets {settings}\n", pass.name));
    }
    out.push_str(&format!(
        "  each node: back up cassandra.yaml to cassandra.yaml{}, edit, {}restart, wait until UN everywhere (up to {}), verify system.log\n",
        workflow.backup_suffix,
        if workflow.drain_before_restart { "nodetool drain, " } else { "" },
        humantime::format_duration(workflow.await_un_timeout)
    ));
    out
}
