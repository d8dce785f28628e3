//! Undoing a run: the plan (a new one, or the one an interrupted rollback journaled) and
//! the journal entries that begin or continue it. Driving it is [`super::drive`] in
//! [`super::Mode::Undo`].

use super::Job;
use super::RunError;
use super::record::Recorder;
use super::resume::{journal_resumed, journal_retries, journal_silent_end};
use crate::history::{RunEvent, RunState, UndoStage, journaled_undo_stages, replay_undo, run_state, undo_plan};
use crate::journal::Event;
use crate::workflow::node::reached_goal;

/// How a run will be undone.
pub struct UndoPlan {
    /// The stages, newest pass first; empty when the run changed no node.
    pub stages: Vec<UndoStage>,
    /// True when an earlier `rollback` journaled these stages and this one continues it.
    pub continuing: bool,
    /// For each stage, the nodes whose undo is already done.
    pub done: Vec<Vec<String>>,
}

/// Plans the undo of a run from its events: a rollback that was interrupted (killed,
/// stopped, or a node's undo failed) continues with the stages it journaled when it
/// started, nodes already restored being done.
pub fn plan(events: &[Event], job: &Job) -> UndoPlan {
    let journaled = journaled_undo_stages(events);
    let continuing = journaled.is_some();
    let stages = journaled.unwrap_or_else(|| undo_plan(events, &job.workflow));
    let done = stages
        .iter()
        .map(|stage| stage.nodes.iter().filter(|n| reached_goal(replay_undo(events, n, &stage.name).state(), true)).cloned().collect())
        .collect();
    UndoPlan { stages, continuing, done }
}

/// Journals the start of the undo, or (continuing one) the silent end, the retries and the
/// takeover. The lock must be held.
pub fn begin(rec: &Recorder<'_>, events: &[Event], job: &Job, plan: &UndoPlan, force: bool) -> Result<(), RunError> {
    let state: RunState = run_state(events);
    if plan.continuing {
        journal_silent_end(rec, events)?;
        journal_retries(rec, events, job)?;
        journal_resumed(rec, state, Some("rollback"))?;
    } else {
        rec.record(&RunEvent::UndoStarted {
            stages: plan.stages.clone(),
            force,
            previous_state: state.name().to_string(),
            user: crate::host::username(),
            host: crate::host::hostname(),
        })?;
    }
    Ok(())
}
