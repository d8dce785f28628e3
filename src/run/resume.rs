//! Continuing a run: which run a command means, what its previous process left behind
//! (a silent end, nodes to retry), and the checks a resume must pass first.

use super::drive::{Mode, Pauses};
use super::record::Recorder;
use super::{Cluster, Job, RunError, lock, start};
use crate::history::{
    RunEvent, RunState, journaled_undo_stages, replay, replay_undo, run_state, touched_a_node, touched_nodes, undo_started,
};
use crate::journal::{Event, Journal, Run};
use crate::preflight::Report;
use crate::workflow::node::{phase_name, stopped_short};

/// Which run a command takes when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The newest run that was not refused (`status`, `export`).
    NewestRun,
    /// The newest run that changed a node (`rollback`, `resume`): a refusal or a run that
    /// never touched a node is not what an operator means by "undo the last run".
    NewestChange,
}

/// The run a command takes, and why, when it was not named.
pub struct Picked {
    pub run: Run,
    /// Set when the run was chosen by [`Pick::NewestChange`]: the command should say which.
    pub why: Option<&'static str>,
}

/// Returns the run named by `id`, or the one `pick` chooses.
pub fn find_run(journal: &Journal, id: Option<&str>, pick: Pick) -> Result<Picked, RunError> {
    let journal_path = || journal.path().map(|p| p.display().to_string()).unwrap_or_default();
    if let Some(id) = id {
        return match journal.run(id)? {
            Some(run) => Ok(Picked { run, why: None }),
            None => Err(RunError::NoRun { id: Some(id.to_string()), journal: journal_path() }),
        };
    }
    let mut chosen = None;
    let mut fallback = None;
    for run in journal.runs()? {
        let events = journal.events(&run.id)?;
        if run_state(&events) == RunState::Refused {
            continue;
        }
        if pick == Pick::NewestRun || touched_a_node(&events) {
            chosen = Some(run);
            break;
        }
        fallback.get_or_insert(run);
    }
    // `resume` of a run stopped before its first change still continues it.
    let why = match (pick, chosen.is_some()) {
        (Pick::NewestRun, _) => None,
        (Pick::NewestChange, true) => Some("the newest run that changed a node"),
        (Pick::NewestChange, false) => Some("the newest run that was not refused"),
    };
    match chosen.or(fallback) {
        Some(run) => Ok(Picked { run, why }),
        None => Err(RunError::NoRun { id: None, journal: journal_path() }),
    }
}

/// Journals a `retry` for every node of the run that stopped in `rolled_back` or `failed`
/// (in an undo, only `failed`: `rolled_back` is an undo's goal), so that replay starts its
/// pass afresh. Every phase is safe to repeat, and the backup made earlier is kept.
pub fn journal_retries(rec: &Recorder<'_>, events: &[Event], job: &Job) -> Result<(), RunError> {
    let (inventory, workflow) = (&job.inventory, &job.workflow);
    let mut stuck = Vec::new();
    if undo_started(events) {
        for stage in journaled_undo_stages(events).unwrap_or_default() {
            for node in stage.nodes {
                let m = replay_undo(events, &node, &stage.name);
                if stopped_short(m.state(), true) {
                    stuck.push((node, stage.name.clone(), phase_name(m.state())));
                }
            }
        }
    } else {
        for pass in &workflow.passes {
            for node in &inventory.nodes {
                let m = replay(events, &node.name, &pass.name, workflow.drain_before_restart);
                if stopped_short(m.state(), false) {
                    stuck.push((node.name.clone(), pass.name.clone(), phase_name(m.state())));
                }
            }
        }
    }
    for (node, pass, was) in stuck {
        rec.record_for(&node, &pass, &RunEvent::Retry { was: was.to_string() })?;
    }
    Ok(())
}

/// Journals that the previous process of a run ended without a word, if it did.
pub fn journal_silent_end(rec: &Recorder<'_>, events: &[Event]) -> Result<(), RunError> {
    if matches!(run_state(events), RunState::Running | RunState::Undoing) {
        rec.record(&RunEvent::Interrupted {
            signal: None,
            node: None,
            pass: None,
            next_phase: None,
            detected: Some("at resume: the previous process ended without a word (killed, crashed or lost its terminal)".into()),
            last_seq: events.last().map(|e| e.seq),
        })?;
    }
    Ok(())
}

/// Journals that this process takes the run over (`by` names `rollback` when it does).
pub fn journal_resumed(rec: &Recorder<'_>, state: RunState, by: Option<&str>) -> Result<(), RunError> {
    rec.record(&RunEvent::Resumed {
        pid: std::process::id(),
        host: crate::host::hostname(),
        user: crate::host::username(),
        previous_state: state.name().to_string(),
        by: by.map(str::to_string),
    })?;
    Ok(())
}

/// How a run ended that `resume` has nothing to continue of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every node completed every pass.
    Finished,
    /// It was rolled back.
    Undone,
}

/// Returns how the run ended when there is nothing to resume, `None` when it can be
/// continued; a refused run is an error (resuming it would skip the checks that refused it).
pub fn ended(run: &Run, events: &[Event]) -> Result<Option<Ended>, RunError> {
    match run_state(events) {
        RunState::Finished => Ok(Some(Ended::Finished)),
        RunState::Undone => Ok(Some(Ended::Undone)),
        RunState::Refused => Err(RunError::ResumeRefused { run: run.id.to_string(), inventory_path: run.inventory_path.clone() }),
        _ => Ok(None),
    }
}

/// Takes `run` over to continue it: takes the lock, runs preflight again when no node was
/// touched yet (the cluster may have moved on since) or the run was paused (then the node
/// findings count only for the nodes it has not touched: the others carry its own backups
/// and edits), and journals the silent end, the retries and the resume. A paused run is
/// no crash: nothing is found dead and nothing is retried. Returns the direction to drive.
pub fn take_over(
    journal: &Journal,
    run: &Run,
    job: &Job,
    cluster: &mut Cluster<'_>,
    break_lock: bool,
    on_report: impl FnOnce(&Report),
) -> Result<Mode, RunError> {
    let events = journal.events(&run.id)?;
    let state = run_state(&events);
    lock::take(journal, run, &job.inventory, &job.secrets, break_lock)?;
    if !touched_a_node(&events) {
        start::preflight_gate(journal, run, job, cluster, None, on_report)?;
    } else if state == RunState::Paused {
        let touched = touched_nodes(&events);
        let untouched: Vec<String> = job.inventory.nodes.iter().map(|n| n.name.clone()).filter(|n| !touched.contains(n)).collect();
        start::preflight_gate(journal, run, job, cluster, Some(&untouched), on_report)?;
    }
    let rec = Recorder::new(journal, &run.id, &job.secrets);
    journal_silent_end(&rec, &events)?;
    if state == RunState::Failed {
        journal_retries(&rec, &events, job)?;
    }
    journal_resumed(&rec, state, None)?;
    Ok(if undo_started(&events) { Mode::Undo { force: false } } else { Mode::Forward(Pauses::default()) })
}
