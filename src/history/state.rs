//! Where a run stands, from its run-level events.

use super::event::{RunEvent, run_events};
use crate::journal::{Event, EventKind};

/// Where a run stands, from its run-level events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Refused before touching anything (preflight blockers, or the cluster lock): not a
    /// run that commands default to, and not one that `resume` continues.
    Refused,
    /// Started or resumed, and no end journaled: running now, or its process died.
    Running,
    /// Stopped by a signal at a safe point.
    Interrupted,
    /// Stopped cleanly where the operator asked (`--stop-after`, a pause after a pass), the
    /// lock released; `resume` continues it (after preflight of the nodes not yet touched).
    /// Not an interruption: nothing was cut short.
    Paused,
    /// A node failed (rolled back, or needs an operator).
    Failed,
    /// Every node completed every pass.
    Finished,
    /// `ringmaster rollback` is undoing the run (or its process died doing so).
    Undoing,
    /// `ringmaster rollback` restored every node the run touched.
    Undone,
}

/// Returns the state of a run from its journal.
pub fn run_state(events: &[Event]) -> RunState {
    let mut state = RunState::Running;
    for (_, e) in run_events(events) {
        state = match e {
            RunEvent::Undone => RunState::Undone,
            RunEvent::UndoStarted { .. } => RunState::Undoing,
            RunEvent::Resumed { .. } if state == RunState::Undoing => RunState::Undoing,
            RunEvent::Resumed { .. } => RunState::Running,
            // Preflight refusing the resume of a paused run leaves it paused: it touched nodes.
            RunEvent::Refused { .. } if state == RunState::Paused => RunState::Paused,
            RunEvent::Refused { .. } => RunState::Refused,
            RunEvent::Paused { .. } => RunState::Paused,
            RunEvent::Finished => RunState::Finished,
            RunEvent::Failed { .. } => RunState::Failed,
            RunEvent::Interrupted { .. } | RunEvent::Stopped { .. } => RunState::Interrupted,
            _ => state,
        };
    }
    state
}

impl RunState {
    /// Returns the state's one lowercase name (status, runs, export, journal details).
    pub fn name(self) -> &'static str {
        match self {
            RunState::Refused => "refused",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Paused => "paused",
            RunState::Failed => "failed",
            RunState::Finished => "finished",
            RunState::Undoing => "undoing",
            RunState::Undone => "undone",
        }
    }
}

/// Returns true when the run has begun acting on a node: any phase of any node (a backup,
/// a key staging, an edit, ...) was entered. Such a run is one `rollback` and `resume`
/// default to, and `resume` continues it as it is (its own backups would now block a
/// preflight); a run that never got that far must pass preflight again before it may act.
pub fn touched_a_node(events: &[Event]) -> bool {
    events.iter().any(|e| e.node.is_some() && e.kind == EventKind::Enter)
}

/// Returns the nodes the run has begun acting on (any phase entered), in journal order.
pub fn touched_nodes(events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for node in events.iter().filter(|e| e.kind == EventKind::Enter).filter_map(|e| e.node.as_ref()) {
        if !out.contains(node) {
            out.push(node.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::RunId;

    fn run_event(seq: i64, e: RunEvent) -> Event {
        Event {
            run_id: RunId("r".into()),
            seq,
            at: seq,
            node: None,
            pass: None,
            phase: e.phase().into(),
            kind: e.kind(),
            detail: e.detail(),
            reverts: None,
        }
    }

    #[test]
    fn a_resume_of_an_undo_is_still_undoing_and_refusals_are_refused() {
        let started = RunEvent::Started { workflow: "w".into(), passes: vec![], nodes: vec![], pause_after_pass: false };
        let resumed = RunEvent::Resumed { pid: 1, host: "h".into(), user: "u".into(), previous_state: "undoing".into(), by: None };
        let undo =
            RunEvent::UndoStarted { stages: vec![], force: false, previous_state: "finished".into(), user: "u".into(), host: "h".into() };
        let mut evs = vec![run_event(1, started.clone())];
        assert_eq!(run_state(&evs), RunState::Running);
        evs.push(run_event(2, RunEvent::Finished));
        assert_eq!(run_state(&evs), RunState::Finished);
        evs.push(run_event(3, undo));
        evs.push(run_event(4, resumed));
        assert_eq!(run_state(&evs), RunState::Undoing);
        evs.push(run_event(5, RunEvent::Undone));
        assert_eq!(run_state(&evs), RunState::Undone);
        let refused = vec![run_event(1, started), run_event(2, RunEvent::Refused { error: Some("lock".into()), blockers: vec![] })];
        assert_eq!(run_state(&refused), RunState::Refused);
    }

    #[test]
    fn a_paused_run_stays_paused_when_preflight_refuses_its_resume() {
        use crate::history::pause::PauseReason;
        let started = RunEvent::Started { workflow: "w".into(), passes: vec![], nodes: vec![], pause_after_pass: false };
        let paused = RunEvent::Paused { pass: "optional".into(), reason: PauseReason::StopAfter, completed: Some(1) };
        let mut evs = vec![run_event(1, started), run_event(2, paused)];
        assert_eq!(run_state(&evs), RunState::Paused);
        evs.push(run_event(3, RunEvent::Refused { error: None, blockers: vec![] }));
        assert_eq!(run_state(&evs), RunState::Paused, "a refused resume does not make a run that changed nodes `refused`");
        let resumed = RunEvent::Resumed { pid: 1, host: "h".into(), user: "u".into(), previous_state: "paused".into(), by: None };
        evs.push(run_event(4, resumed));
        assert_eq!(run_state(&evs), RunState::Running);
    }
}
