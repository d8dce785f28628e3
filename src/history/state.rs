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
            RunEvent::Refused { .. } => RunState::Refused,
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
        let started = RunEvent::Started { workflow: "w".into(), passes: vec![], nodes: vec![] };
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
}
