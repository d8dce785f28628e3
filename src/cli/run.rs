//! `ringmaster run -i INV [--yes]`: show the plan, ask, then start a new run.

use std::path::PathBuf;

use super::batch::{BatchArgs, BatchPlan};
use super::session::{self, ConnectArgs};
use crate::error::{CommandError, exit};
use crate::history::{Blocker, RunEvent};
use crate::inventory::Inventory;
use crate::journal::{Journal, NewRun, Run};
use crate::secrets::{MASK, Secrets};
use crate::workflow::Workflow;

/// Start a rollout: both passes over every node, one node (or one proven-safe batch) at a time.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The inventory (cluster.toml)
    #[arg(short = 'i', long, value_name = "INV")]
    pub inventory: PathBuf,
    /// A workflow file instead of the built-in internode-tls workflow
    #[arg(long, value_name = "FILE")]
    pub workflow: Option<PathBuf>,
    /// Do not ask for confirmation (for scripts)
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn cmd_run(journal: Option<PathBuf>, args: &RunArgs) -> Result<i32, CommandError> {
    let (inventory, workflow, secrets) = super::session::load_job(&args.inventory, args.workflow.as_deref())?;
    // Every pass must render for every node before anything starts: a missing secret or
    // template is found now, not after half the cluster was restarted.
    for pass in &workflow.passes {
        for node in &inventory.nodes {
            pass.render(node, &secrets)?;
        }
    }
    let journal_path = super::journal_path(journal);
    // Batches are planned (read-only) before the question, so the operator sees them.
    let batches = super::batch::plan(&inventory, &args.batch, &args.connect)?;
    crate::ui::out::eprint(&plan(&inventory, &workflow, &journal_path));
    if batches.topology.is_some() {
        crate::ui::out::eprint(&batches.render());
    }
    if !session::confirm(args.yes, "plan")? {
        return Ok(exit::OK);
    }
    let journal = Journal::open(&journal_path)?;
    start(&journal, &args.inventory, &inventory, &workflow, &secrets, &args.connect, Some((&args.batch, &batches)))
}

/// Creates a run in the journal and drives it (shared with `demo`).
pub fn start(
    journal: &Journal,
    inventory_path: &std::path::Path,
    inventory: &Inventory,
    workflow: &Workflow,
    secrets: &Secrets,
    connect: &ConnectArgs,
    batches: Option<(&BatchArgs, &BatchPlan)>,
) -> Result<i32, CommandError> {
    let run = journal.create_run(&NewRun {
        cluster: inventory.cluster.clone(),
        operator: session::username(),
        host: session::hostname(),
        pid: std::process::id(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        inventory_path: std::fs::canonicalize(inventory_path).unwrap_or(inventory_path.into()).display().to_string(),
        inventory: inventory.snapshot(),
        workflow: workflow.source.clone(),
    })?;
    let started = RunEvent::Started {
        workflow: workflow.name.clone(),
        passes: workflow.passes.iter().map(|p| p.name.clone()).collect(),
        nodes: inventory.nodes.iter().map(|n| n.name.clone()).collect(),
    };
    session::append_run_event(journal, &run.id, &started)?;
    if let Err(e) = session::lock(journal, &run, inventory, connect.break_lock) {
        session::append_run_event(journal, &run.id, &RunEvent::Refused { error: Some(e.message.clone()), blockers: vec![] })?;
        return Err(e);
    }
    preflight_gate(journal, &run, inventory_path, inventory, workflow, secrets, connect)?;
    // The topology and the batches are fixed now: a resumed run walks the same batches.
    if let Some((args, plan)) = batches.filter(|(_, p)| p.topology.is_some()) {
        if let Some(topology) = &plan.topology {
            session::append_run_event(journal, &run.id, &RunEvent::Topology { topology: topology.clone() })?;
        }
        session::append_run_event(journal, &run.id, &plan.event(args))?;
    }
    crate::ui::out::eprint_line(&format!(
        "run {} started (journal {})",
        run.id,
        journal.path().map(|p| p.display().to_string()).unwrap_or_default()
    ));
    session::drive(journal, run, inventory, workflow, secrets, connect, session::Mode::Forward)
}

/// Under the lock (so a concurrent run is reported as such), the same checks as
/// `ringmaster preflight`; a blocker refuses the run before any node is touched: the
/// refusal is journaled, the lock released, and the error is exit 3.
pub fn preflight_gate(
    journal: &Journal,
    run: &Run,
    inventory_path: &std::path::Path,
    inventory: &Inventory,
    workflow: &Workflow,
    secrets: &Secrets,
    connect: &ConnectArgs,
) -> Result<(), CommandError> {
    let report = match super::preflight::report(inventory, workflow, secrets, connect, crate::preflight::Options::default()) {
        Ok(r) => r,
        Err(e) => {
            journal.release_lock(&inventory.cluster, &run.id)?;
            return Err(e);
        }
    };
    let blockers = report.blockers();
    if !report.findings.iter().all(|f| f.severity == crate::preflight::Severity::Ok) {
        crate::ui::out::eprint(&secrets.redact(&report.render(false)));
    }
    if !blockers.is_empty() {
        let blockers_journaled = blockers
            .iter()
            .map(|b| Blocker { node: b.node.clone(), check: b.check.to_string(), message: secrets.redact(&b.message) })
            .collect();
        session::append_run_event(journal, &run.id, &RunEvent::Refused { error: None, blockers: blockers_journaled })?;
        journal.release_lock(&inventory.cluster, &run.id)?;
        let listed =
            blockers.iter().map(|b| format!("{}: {}", b.node.as_deref().unwrap_or("cluster"), b.message)).collect::<Vec<_>>().join("\n  ");
        return Err(crate::error::CommandError::new(
            crate::error::ErrorKind::Preflight,
            secrets.redact(&format!("preflight found {} blocker(s); nothing was touched:\n  {listed}", blockers.len())),
        )
        .hinted(format!(
            "fix them, check with `ringmaster preflight -i {}`, then run again",
            crate::transport::shell_quote(&inventory_path.display().to_string())
        )));
    }
    Ok(())
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
