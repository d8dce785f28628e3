//! The driver runs the node machines of a run, pass by pass and node by node.
//!
//! For every step it (1) journals the intent (`enter`, with whatever a repeat of the
//! step needs, such as the log offset before a restart), (2) acts on the node, (3)
//! journals the outcome (`ok` or `fail` with evidence) and (4) feeds the outcome to the
//! node's machine ([`crate::workflow::node`]), which decides the next phase. Nothing
//! touches a node before its intent is committed. Key staging takes the same step.
//!
//! Resume is the same loop: each machine is rebuilt by replaying the journaled outcomes,
//! and a phase with an `enter` but no outcome is run again; every phase is safe to
//! repeat (see [`phases`]). The first failure stops scheduling: no further node starts.
//!
//! Parts: [`step`] (enter, act, outcome, and every journal write), [`phases`] (what each
//! phase does), [`keys`] (key staging), [`batch`] (a batch's nodes together), [`health`]
//! (judging `UN`), [`stop`] (the stop flag), [`pause`] (where a run pauses), [`crash`]
//! (test-only crash points).

mod batch;
mod crash;
mod health;
mod keys;
mod pause;
mod phases;
mod step;
mod stop;

pub use health::{View, judge_un};
pub use keys::{KEYS_PASS, STAGE_KEYS};
pub use pause::Pauses;
pub use stop::StopFlag;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cassandra::log::LogPatterns;
use crate::history::detail::{Detail, Failure};
use crate::history::{
    PauseReason, RunEvent, UNDO_PREFIX, journaled_batches, journaled_undo_stages, pause_after_pass, replay_undo, undo_plan,
};
use crate::inventory::{Inventory, Node};
use crate::journal::{Event, EventKind, Journal, JournalError, Run};
use crate::secrets::Secrets;
use crate::transport::Transport;
use crate::ui::Ui;
use crate::workflow::node::{self, Event as MachineEvent, State};
use crate::workflow::{Pass, Workflow};
use batch::BatchGate;
use pause::PassCount;
use phases::StepCtx;
use step::Step;

pub(crate) use step::PhaseResult;

/// How a run (or the part of it this process ran) ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Every node finished every pass.
    Done,
    /// A node failed; `state` is `rolled_back` or `failed` (operator needed).
    Failed { node: String, pass: String, state: String, evidence: Vec<FailedStep> },
    /// A signal asked us to stop; the run stopped at a safe point.
    Interrupted { signal: String },
    /// Paused as asked after a batch of `pass` (`completed`: batches driven, `--stop-after`).
    Paused { pass: String, reason: PauseReason, completed: Option<u32> },
}

/// One journaled failure of the node that failed: its phase and what it said.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedStep {
    pub phase: String,
    pub failure: Failure,
}

/// What a driver step can fail with, other than a failed phase (which is an outcome).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("no transport for node `{0}` (BUG)")]
    NoTransport(String),
}

/// A callback that sees every event the driver journals.
pub type EventHook<'a> = Box<dyn Fn(&Event) + 'a>;

/// What a run works on: the cluster, the workflow and the secrets it renders with.
#[derive(Clone, Copy)]
pub struct JobRef<'a> {
    pub inventory: &'a Inventory,
    pub workflow: &'a Workflow,
    pub secrets: &'a Secrets,
}

/// Drives one run: its job, over its journal and connections.
pub struct Driver<'a> {
    pub journal: &'a Journal,
    pub run: Run,
    pub inventory: &'a Inventory,
    pub workflow: &'a Workflow,
    pub secrets: &'a Secrets,
    pub transports: BTreeMap<String, Transport>,
    pub ui: &'a Ui,
    /// Set by the signal handler; checked at safe points.
    pub stop: Arc<StopFlag>,
    /// `rollback --force`: restore a backup even when its hash is not the journaled one.
    pub force_backup: bool,
    /// Where the run pauses (forward only).
    pub pauses: Pauses,
    /// Called with every event this driver journals, after its commit (`--events-json`).
    pub on_event: Option<EventHook<'a>>,
    /// The run's journaled events; a `RefCell` because the nodes of a batch are driven
    /// concurrently (on one task, by `join_all`), each appending through `&self`. No borrow is
    /// held across an `.await`.
    events: RefCell<Vec<Event>>,
    patterns: LogPatterns,
    fatal: Vec<regex::Regex>,
    expected_after_restore: Vec<regex::Regex>,
    crash: crash::CrashPoints,
}

impl<'a> Driver<'a> {
    /// Returns a driver for `run` of `job`, loading the journal's events for it.
    pub fn new(
        journal: &'a Journal,
        run: Run,
        job: JobRef<'a>,
        transports: BTreeMap<String, Transport>,
        ui: &'a Ui,
        stop: Arc<StopFlag>,
    ) -> Result<Driver<'a>, DriverError> {
        let JobRef { inventory, workflow, secrets } = job;
        let events = journal.events(&run.id)?;
        let log = &workflow.log;
        let patterns = LogPatterns::new(&log.success, &log.errors, &log.boot).expect("BUG: workflow patterns were validated at load");
        Ok(Driver {
            journal,
            run,
            inventory,
            workflow,
            secrets,
            transports,
            ui,
            stop,
            force_backup: false,
            pauses: Pauses::default(),
            on_event: None,
            events: RefCell::new(events),
            patterns,
            fatal: compile(&log.fatal),
            expected_after_restore: compile(&log.expected_after_restore),
            crash: crash::CrashPoints::from_env(),
        })
    }

    /// Returns the journaled events of the run, as this driver knows them.
    pub fn events(&self) -> Vec<Event> {
        self.events.borrow().clone()
    }

    /// Runs (or resumes) the whole workflow until done, failed, interrupted or paused (see
    /// [`pause`]): pass by pass, batch by batch (see [`journaled_batches`]); the nodes of a
    /// batch are driven concurrently and the next batch starts only when all of them are done.
    pub async fn execute(&mut self) -> Result<RunOutcome, DriverError> {
        let (inventory, workflow) = (self.inventory, self.workflow);
        // Optional first phase: install key material named by the inventory.
        if let Some(stop) = self.stage_keys().await? {
            return Ok(stop);
        }
        let batches = journaled_batches(&self.events.borrow(), inventory);
        let after_every_pass = self.pauses.after_pass || pause_after_pass(&self.events.borrow());
        for (pass_index, pass) in workflow.passes.iter().enumerate() {
            let mut count = PassCount::new(self.pauses, pass, after_every_pass && pass_index + 1 < workflow.passes.len());
            for (batch_index, batch) in batches.iter().enumerate() {
                let ctxs: Vec<StepCtx<'_>> = batch
                    .iter()
                    .map(|&position| StepCtx { node: &inventory.nodes[position], pass, pass_index, position, batch: batch_index })
                    .collect();
                let had_work = !self.batch_done(&ctxs);
                if let Some(stop) = self.drive_batch(&ctxs).await? {
                    return Ok(stop);
                }
                if let Some(pause) = count.after_batch(had_work, batch_index + 1 == batches.len()) {
                    return Ok(pause);
                }
            }
            self.ui.line(&format!("[{}] pass complete on all {} nodes", pass.name, inventory.nodes.len()));
            if let Some(pause) = count.at_pass_end(pass_index + 1 == workflow.passes.len()) {
                return Ok(pause);
            }
        }
        Ok(RunOutcome::Done)
    }

    /// Undoes the run, stage by stage (see [`undo_plan`]): one node at a time, restore,
    /// restart, await UN, verify.
    pub async fn execute_undo(&mut self) -> Result<RunOutcome, DriverError> {
        // The plan is fixed when the undo starts, so a resumed undo walks the same stages.
        let stages = {
            let events = self.events.borrow();
            journaled_undo_stages(&events).unwrap_or_else(|| undo_plan(&events, self.workflow))
        };
        for stage in &stages {
            let pass = Pass::bare(&stage.name, "undo");
            for (position, name) in stage.nodes.iter().enumerate() {
                let Some(node) = self.inventory.nodes.iter().find(|n| &n.name == name) else { continue };
                let machine = replay_undo(&self.events.borrow(), &node.name, &stage.name);
                // Between two nodes is an undo's safe point: a node not yet begun is not
                // begun after a stop request (a node mid-restore always finishes).
                let begun =
                    self.events.borrow().iter().any(|e| e.node.as_deref() == Some(&node.name) && e.pass.as_deref() == Some(&stage.name));
                if !begun && let Some(signal) = self.stop.requested() {
                    let next_phase = Some(node::phase_name(machine.state()).to_string());
                    let (node, pass) = (Some(node.name.clone()), Some(stage.name.clone()));
                    let event =
                        RunEvent::Interrupted { signal: Some(signal.clone()), node, pass, next_phase, detected: None, last_seq: None };
                    self.record(None, None, event)?;
                    return Ok(RunOutcome::Interrupted { signal });
                }
                let ctx = StepCtx { node, pass: &pass, pass_index: stage.pass_index, position, batch: position };
                if let Some(stop) = self.drive_node(&ctx, machine, &BatchGate::default()).await? {
                    return Ok(stop);
                }
            }
        }
        Ok(RunOutcome::Done)
    }

    /// Drives one node's machine to a terminal state; returns why the run must stop, if it must.
    async fn drive_node(
        &self,
        ctx: &StepCtx<'_>,
        mut machine: statig::blocking::StateMachine<node::NodeMachine>,
        gate: &BatchGate,
    ) -> Result<Option<RunOutcome>, DriverError> {
        let (node, pass) = (ctx.node, ctx.pass);
        let undoing = pass.name.starts_with(UNDO_PREFIX);
        if node::reached_goal(machine.state(), undoing) {
            return Ok(None);
        }
        if node::stopped_short(machine.state(), undoing) {
            gate.fail(&node.name);
            return Ok(Some(self.failed_outcome(node, pass, machine.state())));
        }
        loop {
            let state = *machine.state();
            if node::is_terminal(&state) {
                break;
            }
            if node::is_interruptible(&state) {
                let next_phase = node::phase_name(&state).to_string();
                if let Some(signal) = self.stop.requested() {
                    let (node, pass) = (Some(node.name.clone()), Some(pass.name.clone()));
                    let next_phase = Some(next_phase);
                    let event =
                        RunEvent::Interrupted { signal: Some(signal.clone()), node, pass, next_phase, detected: None, last_seq: None };
                    self.record(None, None, event)?;
                    return Ok(Some(RunOutcome::Interrupted { signal }));
                }
                if let Some(because) = gate.failed() {
                    // Another node of the batch failed: schedule nothing more here.
                    self.record(Some(&node.name), Some(&pass.name), RunEvent::Halted { because, next_phase })?;
                    return Ok(None);
                }
            }
            let ok = self.step(ctx, Step::Phase(state)).await?;
            if !ok {
                gate.fail(&node.name);
            }
            machine.handle(if ok { &MachineEvent::PhaseSucceeded } else { &MachineEvent::PhaseFailed });
        }
        let end = *machine.state();
        if node::reached_goal(&end, undoing) {
            self.ui.line(&format!("[{}] {}: {}", pass.name, node.name, node::phase_name(&end)));
            return Ok(None);
        }
        Ok(Some(self.failed_outcome(node, pass, &end)))
    }

    fn failed_outcome(&self, node: &Node, pass: &Pass, state: &State) -> RunOutcome {
        let evidence = self
            .events
            .borrow()
            .iter()
            .filter(|e| e.kind == EventKind::Fail && e.node.as_deref() == Some(&node.name) && e.pass.as_deref() == Some(&pass.name))
            .map(|e| FailedStep { phase: e.phase.clone(), failure: Failure::of(&e.detail).unwrap_or_default() })
            .collect();
        RunOutcome::Failed { node: node.name.clone(), pass: pass.name.clone(), state: node::phase_name(state).into(), evidence }
    }

    pub(crate) fn transport(&self, node: &str) -> Result<&Transport, DriverError> {
        self.transports.get(node).ok_or_else(|| DriverError::NoTransport(node.into()))
    }
}

fn compile(patterns: &[String]) -> Vec<regex::Regex> {
    patterns.iter().map(|p| regex::Regex::new(p).expect("BUG: workflow patterns were validated at load")).collect()
}
