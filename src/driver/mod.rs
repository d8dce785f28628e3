//! The driver runs the node machines of a run, pass by pass and node by node.
//!
//! For every step it (1) journals the intent (`enter`, with whatever a repeat of the
//! step needs, such as the log offset before a restart), (2) acts on the node, (3)
//! journals the outcome (`ok` or `fail` with evidence) and (4) feeds the outcome to the
//! node's machine ([`crate::workflow::node`]), which decides the next phase. Nothing
//! touches a node before its intent is committed.
//!
//! Resume is the same loop: each machine is rebuilt by replaying the journaled outcomes,
//! and a phase with an `enter` but no outcome is run again; every phase is safe to
//! repeat (see [`phases`]). The first failure stops scheduling: no further node starts.

mod health;
mod keys;
mod phases;

pub use health::{View, judge_un};
pub use keys::{KEYS_PASS, STAGE_KEYS};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Value as Json, json};

use crate::cassandra::log::LogPatterns;
use crate::history::{RunEvent, UNDO_PREFIX, journaled_batches, journaled_undo_stages, open_enter, replay, replay_undo, undo_plan};
use crate::inventory::{Inventory, Node};
use crate::journal::{Event, EventKind, Journal, JournalError, NewEvent, Run};
use crate::secrets::Secrets;
use crate::transport::Transport;
use crate::ui::Ui;
use crate::workflow::node::{self, Event as MachineEvent, State};
use crate::workflow::{Pass, Workflow};

/// How a run (or the part of it this process ran) ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Every node finished every pass.
    Done,
    /// A node failed; `state` is `rolled_back` or `failed` (operator needed).
    Failed { node: String, pass: String, state: String, evidence: Vec<Json> },
    /// A signal asked us to stop; the run stopped at a safe point.
    Interrupted { signal: String },
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

/// Everything a run needs.
pub struct Driver<'a> {
    pub journal: &'a Journal,
    pub run: Run,
    pub inventory: &'a Inventory,
    pub workflow: &'a Workflow,
    pub secrets: &'a Secrets,
    pub transports: std::collections::BTreeMap<String, Transport>,
    pub ui: &'a Ui,
    /// Set by the signal handler; checked at safe points.
    pub stop: Arc<StopFlag>,
    /// `rollback --force`: restore a backup even when its hash is not the journaled one.
    pub force_backup: bool,
    /// Called with every event this driver journals, after its commit (`--events-json`).
    pub on_event: Option<EventHook<'a>>,
    /// The run's journaled events; a `RefCell` because the nodes of a batch are driven
    /// concurrently (on one task, by `join_all`), each appending through `&self`. No borrow is
    /// held across an `.await`.
    events: std::cell::RefCell<Vec<Event>>,
    patterns: LogPatterns,
    fatal: Vec<regex::Regex>,
    expected_after_restore: Vec<regex::Regex>,
    crash: CrashPoints,
}

/// A stop request from a signal.
#[derive(Default)]
pub struct StopFlag {
    requested: AtomicBool,
    signal: std::sync::Mutex<String>,
}

impl StopFlag {
    /// Records that `signal` asked the run to stop.
    pub fn request(&self, signal: &str) {
        *self.signal.lock().expect("BUG: poisoned") = signal.to_string();
        self.requested.store(true, Ordering::SeqCst);
    }
    /// Returns the signal's name when a stop was requested.
    pub fn requested(&self) -> Option<String> {
        self.requested.load(Ordering::SeqCst).then(|| self.signal.lock().expect("BUG: poisoned").clone())
    }
}

/// Test-only fault injection: `RINGMASTER_TEST_CRASH_AT` names a crash point, either by
/// number (the N-th point reached) or by its label (`after journaling node2 optional
/// restart enter`, `after acting node2 optional restart`), and this process SIGKILLs
/// itself there. Points sit after every journal commit and after every action, before its
/// outcome is journaled, so tests can prove that resume works from every one of them.
/// `RINGMASTER_TEST_CRASH_TRACE=1` prints every point reached.
struct CrashPoints {
    at: Option<String>,
    count: AtomicU64,
}

impl CrashPoints {
    fn from_env() -> CrashPoints {
        CrashPoints { at: std::env::var("RINGMASTER_TEST_CRASH_AT").ok(), count: AtomicU64::new(0) }
    }

    fn point(&self, label: &str) {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if std::env::var_os("RINGMASTER_TEST_CRASH_TRACE").is_some() {
            eprintln!("crash-point {n}: {label}");
        }
        let hit = match &self.at {
            None => false,
            Some(at) => at.parse::<u64>().map(|k| k == n).unwrap_or_else(|_| at == label),
        };
        if hit {
            // SAFETY: kill(2) on our own pid with SIGKILL has no memory-safety concerns.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// The outcome of one phase, before it is journaled.
pub(crate) enum PhaseResult {
    Ok(Json),
    Fail(Json),
}

impl<'a> Driver<'a> {
    /// Returns a driver for `run`, loading the journal's events for it.
    #[allow(clippy::too_many_arguments)] // each is a distinct part of a run; a builder would only rename them
    pub fn new(
        journal: &'a Journal,
        run: Run,
        inventory: &'a Inventory,
        workflow: &'a Workflow,
        secrets: &'a Secrets,
        transports: std::collections::BTreeMap<String, Transport>,
        ui: &'a Ui,
        stop: Arc<StopFlag>,
    ) -> Result<Driver<'a>, DriverError> {
        let events = journal.events(&run.id)?;
        let patterns = LogPatterns::new(&workflow.log.success, &workflow.log.errors, &workflow.log.boot)
            .expect("BUG: workflow patterns were validated at load");
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
            on_event: None,
            events: std::cell::RefCell::new(events),
            patterns,
            fatal: compile(&workflow.log.fatal),
            expected_after_restore: compile(&workflow.log.expected_after_restore),
            crash: CrashPoints::from_env(),
        })
    }

    /// Returns the journaled events of the run, as this driver knows them.
    pub fn events(&self) -> Vec<Event> {
        self.events.borrow().clone()
    }

    /// Appends an event (details are redacted once more, as defence in depth).
    pub(crate) fn append(
        &self,
        node: Option<&str>,
        pass: Option<&str>,
        phase: &str,
        kind: EventKind,
        detail: Json,
    ) -> Result<Event, DriverError> {
        self.append_reverting(node, pass, phase, kind, detail, None)
    }

    /// Appends a typed run event (or a node-level marker when `node` is given).
    pub(crate) fn record(&self, node: Option<&str>, pass: Option<&str>, event: RunEvent) -> Result<Event, DriverError> {
        self.append(node, pass, event.phase(), event.kind(), event.detail())
    }

    /// Appends an event that reverts the event `reverts` (a rollback undoing an edit).
    pub(crate) fn append_reverting(
        &self,
        node: Option<&str>,
        pass: Option<&str>,
        phase: &str,
        kind: EventKind,
        detail: Json,
        reverts: Option<i64>,
    ) -> Result<Event, DriverError> {
        let detail = redact_json(self.secrets, detail);
        let ev = self.journal.append(
            &self.run.id,
            &NewEvent { node: node.map(str::to_string), pass: pass.map(str::to_string), phase: phase.to_string(), kind, detail, reverts },
        )?;
        self.events.borrow_mut().push(ev.clone());
        if let Some(on_event) = &self.on_event {
            on_event(&ev);
        }
        self.crash.point(&format!("after journaling {} {} {} {}", node.unwrap_or("-"), pass.unwrap_or("-"), phase, kind));
        Ok(ev)
    }

    /// Runs (or resumes) the whole workflow until done, failed or interrupted: pass by
    /// pass, batch by batch (see [`journaled_batches`]); the nodes of a batch are driven
    /// concurrently and the next batch starts only when every one of them is done.
    pub async fn execute(&mut self) -> Result<RunOutcome, DriverError> {
        let inventory = self.inventory;
        let workflow = self.workflow;
        // Optional first phase: install key material named by the inventory.
        if let Some(stop) = self.stage_keys().await? {
            return Ok(stop);
        }
        let batches = journaled_batches(&self.events.borrow(), inventory);
        for (pass_index, pass) in workflow.passes.iter().enumerate() {
            for (batch_index, batch) in batches.iter().enumerate() {
                let ctxs: Vec<phases::StepCtx<'_>> = batch
                    .iter()
                    .map(|&position| phases::StepCtx { node: &inventory.nodes[position], pass, pass_index, position, batch: batch_index })
                    .collect();
                if let Some(stop) = self.drive_batch(&ctxs).await? {
                    return Ok(stop);
                }
            }
            self.ui.line(&format!("[{}] pass complete on all {} nodes", pass.name, inventory.nodes.len()));
        }
        Ok(RunOutcome::Done)
    }

    /// Drives the nodes of one batch concurrently to their ends. The first failure halts
    /// the batch: nodes that have not restarted yet stop at their next safe point, nodes
    /// already restarted (or rolling back) go on to the end; then the run stops.
    async fn drive_batch(&self, ctxs: &[phases::StepCtx<'_>]) -> Result<Option<RunOutcome>, DriverError> {
        let gate = BatchGate::default();
        let ends = if let [ctx] = ctxs {
            // One node: no concurrency, exactly the runbook's sequence.
            let machine = replay(&self.events.borrow(), &ctx.node.name, &ctx.pass.name, self.workflow.drain_before_restart);
            vec![self.drive_node(ctx, machine, &gate).await]
        } else {
            let names: Vec<&str> = ctxs.iter().map(|c| c.node.name.as_str()).collect();
            self.ui.line(&format!("[{}] batch {}: {} together", ctxs[0].pass.name, ctxs[0].batch + 1, names.join(", ")));
            futures::future::join_all(ctxs.iter().map(|ctx| {
                let machine = replay(&self.events.borrow(), &ctx.node.name, &ctx.pass.name, self.workflow.drain_before_restart);
                self.drive_node(ctx, machine, &gate)
            }))
            .await
        };
        let mut interrupted = None;
        let mut failed = None;
        for end in ends {
            match end? {
                None => {}
                Some(o @ RunOutcome::Failed { .. }) => {
                    failed.get_or_insert(o);
                }
                Some(o @ RunOutcome::Interrupted { .. }) => {
                    interrupted.get_or_insert(o);
                }
                Some(RunOutcome::Done) => {}
            }
        }
        Ok(failed.or(interrupted))
    }

    /// Undoes the run, stage by stage (see [`undo_plan`]): one node at a time, restore,
    /// restart, await UN, verify.
    pub async fn execute_undo(&mut self) -> Result<RunOutcome, DriverError> {
        let inventory = self.inventory;
        // The plan is fixed when the undo starts, so a resumed undo walks the same stages.
        let stages = {
            let events = self.events.borrow();
            journaled_undo_stages(&events).unwrap_or_else(|| undo_plan(&events, self.workflow))
        };
        for stage in &stages {
            let pass = Pass { name: stage.name.clone(), description: "undo".into(), listener: None, tolerate: vec![], settings: vec![] };
            for (position, name) in stage.nodes.iter().enumerate() {
                let Some(node) = inventory.nodes.iter().find(|n| &n.name == name) else { continue };
                let machine = replay_undo(&self.events.borrow(), &node.name, &stage.name);
                // Between two nodes is an undo's safe point: a node not yet begun is not
                // begun after a stop request (a node mid-restore always finishes).
                let begun =
                    self.events.borrow().iter().any(|e| e.node.as_deref() == Some(&node.name) && e.pass.as_deref() == Some(&stage.name));
                if !begun && let Some(signal) = self.stop.requested() {
                    self.record(
                        None,
                        None,
                        RunEvent::Interrupted {
                            signal: Some(signal.clone()),
                            node: Some(node.name.clone()),
                            pass: Some(stage.name.clone()),
                            next_phase: Some("rollback".into()),
                            detected: None,
                            last_seq: None,
                        },
                    )?;
                    return Ok(RunOutcome::Interrupted { signal });
                }
                let ctx = phases::StepCtx { node, pass: &pass, pass_index: stage.pass_index, position, batch: position };
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
        ctx: &phases::StepCtx<'_>,
        mut machine: statig::blocking::StateMachine<node::NodeMachine>,
        gate: &BatchGate,
    ) -> Result<Option<RunOutcome>, DriverError> {
        let (node, pass) = (ctx.node, ctx.pass);
        let undoing = pass.name.starts_with(UNDO_PREFIX);
        if node::reached_goal(machine.state(), undoing) {
            return Ok(None);
        }
        if matches!(machine.state(), State::RolledBack {} | State::Failed {}) {
            gate.fail(&node.name);
            return Ok(Some(self.failed_outcome(node, pass, machine.state())));
        }
        loop {
            let state = *machine.state();
            if node::is_terminal(&state) {
                break;
            }
            if interruptible(&state) {
                if let Some(signal) = self.stop.requested() {
                    let next_phase = Some(node::phase_name(&state).to_string());
                    let (node, pass) = (Some(node.name.clone()), Some(pass.name.clone()));
                    self.record(
                        None,
                        None,
                        RunEvent::Interrupted { signal: Some(signal.clone()), node, pass, next_phase, detected: None, last_seq: None },
                    )?;
                    return Ok(Some(RunOutcome::Interrupted { signal }));
                }
                if let Some(failed) = gate.failed() {
                    // Another node of the batch failed: schedule nothing more here.
                    self.record(
                        Some(&node.name),
                        Some(&pass.name),
                        RunEvent::Halted { because: failed, next_phase: node::phase_name(&state).to_string() },
                    )?;
                    return Ok(None);
                }
            }
            let ok = self.step(ctx, node::phase_name(&state)).await?;
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
            .map(|e| json!({"phase": e.phase, "detail": e.detail}))
            .collect();
        RunOutcome::Failed { node: node.name.clone(), pass: pass.name.clone(), state: node::phase_name(state).into(), evidence }
    }

    /// Journals intent, runs one phase, journals the outcome. Returns whether it succeeded.
    #[tracing::instrument(level = "debug", skip_all, fields(node = %ctx.node.name, pass = %ctx.pass.name, phase))]
    async fn step(&self, ctx: &phases::StepCtx<'_>, phase: &str) -> Result<bool, DriverError> {
        let node = ctx.node;
        let pass = ctx.pass;
        if phase == "pending" {
            // Scheduling a node is a decision, not an action: one `ok` records it.
            self.append(
                Some(&node.name),
                Some(&pass.name),
                phase,
                EventKind::Ok,
                json!({"position": ctx.position + 1, "of": self.inventory.nodes.len(), "batch": ctx.batch + 1}),
            )?;
            return Ok(true);
        }
        let repeat = open_enter(&self.events.borrow(), &node.name, &pass.name, phase).cloned();
        let intent = self.intent(ctx, phase, repeat.as_ref()).await;
        let mut enter_detail = intent;
        if repeat.is_some() {
            enter_detail["repeat"] = json!(true);
        }
        self.ui.status(&format!("[{}] {}: {phase}", pass.name, node.name));
        self.append(Some(&node.name), Some(&pass.name), phase, EventKind::Enter, enter_detail.clone())?;
        let is_repeat = repeat.is_some();
        let first_enter = repeat.map(|e| e.detail).unwrap_or(enter_detail);
        let result = self.act(ctx, phase, &first_enter, is_repeat).await?;
        self.crash.point(&format!("after acting {} {} {}", node.name, pass.name, phase));
        let (kind, detail, ok) = match result {
            PhaseResult::Ok(d) => (EventKind::Ok, d, true),
            PhaseResult::Fail(d) => (EventKind::Fail, d, false),
        };
        self.ui.line(&format!("[{}] {}: {phase} {}", pass.name, node.name, if ok { "ok" } else { "FAILED" }));
        // A restore reverts the edit of the pass it undoes; the journal links the two.
        let undone_pass = &self.workflow.passes[ctx.pass_index].name;
        let reverts = (phase == "rollback" && ok)
            .then(|| {
                self.events
                    .borrow()
                    .iter()
                    .rev()
                    .find(|e| {
                        e.node.as_deref() == Some(&node.name)
                            && e.pass.as_ref() == Some(undone_pass)
                            && e.phase == "edit"
                            && e.kind == EventKind::Ok
                    })
                    .map(|e| e.seq)
            })
            .flatten();
        self.append_reverting(Some(&node.name), Some(&pass.name), phase, kind, detail, reverts)?;
        Ok(ok)
    }

    pub(crate) fn transport(&self, node: &str) -> Result<&Transport, DriverError> {
        self.transports.get(node).ok_or_else(|| DriverError::NoTransport(node.into()))
    }
}

/// What the nodes of one batch share: whether one of them failed (then the others
/// schedule nothing more).
#[derive(Default)]
struct BatchGate {
    failed: std::cell::RefCell<Option<String>>,
}

impl BatchGate {
    fn fail(&self, node: &str) {
        self.failed.borrow_mut().get_or_insert_with(|| node.to_string());
    }
    fn failed(&self) -> Option<String> {
        self.failed.borrow().clone()
    }
}

fn compile(patterns: &[String]) -> Vec<regex::Regex> {
    patterns.iter().map(|p| regex::Regex::new(p).expect("BUG: workflow patterns were validated at load")).collect()
}

/// Phases during which a stop request waits: the node is between a restart and proof
/// that it is healthy again, or a rollback is under way.
fn interruptible(state: &State) -> bool {
    !matches!(
        state,
        State::AwaitUn {}
            | State::VerifyLog {}
            | State::Rollback {}
            | State::RollbackRestart {}
            | State::RollbackAwaitUn {}
            | State::RollbackVerify {}
    )
}

/// Returns `detail` with every secret value masked, recursively.
fn redact_json(secrets: &Secrets, detail: Json) -> Json {
    match detail {
        Json::String(s) => Json::String(secrets.redact(&s)),
        Json::Array(a) => Json::Array(a.into_iter().map(|v| redact_json(secrets, v)).collect()),
        Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, redact_json(secrets, v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_reaches_nested_strings() {
        let secrets = Secrets::parse(std::path::Path::new("s"), "keystore_password = \"hunter2\"\n").unwrap();
        let out = redact_json(&secrets, json!({"a": ["x hunter2 y"], "b": {"c": "hunter2"}}));
        assert!(!out.to_string().contains("hunter2"));
    }
}
