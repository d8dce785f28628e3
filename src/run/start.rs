//! Starting a run: create it in the journal, take the lock, pass preflight under the lock
//! (or be refused, journaled as a refusal), and fix the batches a resume will walk again.

use std::path::Path;

use super::record::Recorder;
use super::{Cluster, Job, RunError, lock};
use crate::history::{BatchesEvent, Blocker, RunEvent};
use crate::journal::{Journal, NewRun, Run};
use crate::preflight::{self, Report};
use crate::topology::Topology;

/// The batches a run walks, as planned before it started (`--batch rack|auto`).
pub struct FixedBatches {
    pub topology: Topology,
    pub batches: BatchesEvent,
}

/// Creates a run of `job` in the journal (`pause_after_pass`: it pauses at the end of every
/// pass but the last, whichever process drives it).
pub fn create(journal: &Journal, inventory_path: &Path, job: &Job, pause_after_pass: bool) -> Result<Run, RunError> {
    let (inventory, workflow) = (&job.inventory, &job.workflow);
    let run = journal.create_run(&NewRun {
        cluster: inventory.cluster.clone(),
        operator: crate::host::username(),
        host: crate::host::hostname(),
        pid: std::process::id(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        inventory_path: std::fs::canonicalize(inventory_path).unwrap_or(inventory_path.into()).display().to_string(),
        inventory: inventory.snapshot(),
        workflow: workflow.source.clone(),
    })?;
    let rec = Recorder::new(journal, &run.id, &job.secrets);
    rec.record(&RunEvent::Started {
        workflow: workflow.name.clone(),
        passes: workflow.passes.iter().map(|p| p.name.clone()).collect(),
        nodes: inventory.nodes.iter().map(|n| n.name.clone()).collect(),
        pause_after_pass,
    })?;
    Ok(run)
}

/// Takes the cluster lock for a run that has just been created; a refusal is journaled.
pub fn lock(journal: &Journal, run: &Run, job: &Job, break_lock: bool) -> Result<(), RunError> {
    if let Err(e) = lock::take(journal, run, &job.inventory, &job.secrets, break_lock) {
        Recorder::new(journal, &run.id, &job.secrets).record(&RunEvent::Refused { error: Some(e.to_string()), blockers: vec![] })?;
        return Err(e);
    }
    Ok(())
}

/// Under the lock (so a concurrent run is reported as such), the same checks as
/// `ringmaster preflight`, journaled as a `preflight` event. `only` limits the node findings
/// to the nodes named (the resume of a paused run: the nodes it has not touched; the
/// cluster-wide checks always count). Returns the report; with a blocker the refusal is
/// journaled, the lock released, and the error lists the blockers (`on_report` sees the
/// report first either way, so the operator reads every finding before the verdict).
pub fn preflight_gate(
    journal: &Journal,
    run: &Run,
    job: &Job,
    cluster: &mut Cluster<'_>,
    only: Option<&[String]>,
    on_report: impl FnOnce(&Report),
) -> Result<Report, RunError> {
    let started_at = crate::clock::now_ms();
    let mut report = preflight_report(job, cluster, preflight::Options::default());
    if let Some(only) = only {
        report.findings.retain(|f| f.node.as_ref().is_none_or(|n| only.contains(n)));
    }
    let nodes = match only {
        Some(only) => only.to_vec(),
        None => job.inventory.nodes.iter().map(|n| n.name.clone()).collect(),
    };
    let warnings = report.findings.iter().filter(|f| f.severity == preflight::Severity::Warning).count();
    let preflight = RunEvent::Preflight { started_at, nodes, blockers: report.blockers().len(), warnings };
    Recorder::new(journal, &run.id, &job.secrets).record(&preflight)?;
    on_report(&report);
    let blockers: Vec<Blocker> = report
        .blockers()
        .iter()
        .map(|b| Blocker { node: b.node.clone(), check: b.check.to_string(), message: job.secrets.redact(&b.message) })
        .collect();
    if !blockers.is_empty() {
        Recorder::new(journal, &run.id, &job.secrets).record(&RunEvent::Refused { error: None, blockers: blockers.clone() })?;
        lock::release(journal, run, &job.inventory)?;
        let resume = only.map(|_| format!("{} resume {}", super::command_prefix(journal), run.id));
        return Err(RunError::Refused { blockers, inventory_path: run.inventory_path.clone(), resume });
    }
    Ok(report)
}

/// Runs every preflight check on the cluster's nodes (connecting them, once) and returns
/// the report; a node without a connection is a finding, not an abort. Its commands get
/// the workflow's `command_timeout`, like every other command of the run: a `nodetool` on
/// a busy node can take more than a minute to start (seen on 6 real nodes sharing 2 cores).
pub fn preflight_report(job: &Job, cluster: &mut Cluster<'_>, options: preflight::Options) -> Report {
    let options = preflight::Options { command_timeout: job.workflow.command_timeout, ..options };
    let (rt, transports) = cluster.each();
    let ctx = preflight::Context { inventory: &job.inventory, workflow: &job.workflow, secrets: &job.secrets, transports, options };
    rt.block_on(preflight::run(&ctx))
}

/// Journals the topology and the batches: a resumed run walks the same batches.
pub fn fix_batches(journal: &Journal, run: &Run, job: &Job, fixed: FixedBatches) -> Result<(), RunError> {
    let rec = Recorder::new(journal, &run.id, &job.secrets);
    rec.record(&RunEvent::Topology { topology: fixed.topology })?;
    rec.record(&RunEvent::Batches(fixed.batches))?;
    Ok(())
}
