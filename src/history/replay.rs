//! Rebuilds a node's machine in a pass from the journal: forward passes and undo passes
//! replay the same way, from a fresh machine of their kind.

use statig::blocking::StateMachine;

use super::event::RETRY_PHASE;
use crate::journal::{Event, EventKind};
use crate::workflow::node::{self, Event as MachineEvent, NodeMachine};

/// Rebuilds the machine of `node` in forward pass `pass` from the journal.
pub fn replay(events: &[Event], node: &str, pass: &str, drain: bool) -> StateMachine<NodeMachine> {
    replay_from(events, node, pass, || node::new_machine(drain))
}

/// Rebuilds the undo machine of `node` in undo stage `stage` from the journal.
pub fn replay_undo(events: &[Event], node: &str, stage: &str) -> StateMachine<NodeMachine> {
    replay_from(events, node, stage, node::new_undo_machine)
}

/// Feeds every journaled outcome of `node` in `pass` to a machine from `fresh`; a `retry`
/// starts it over.
fn replay_from(events: &[Event], node: &str, pass: &str, fresh: impl Fn() -> StateMachine<NodeMachine>) -> StateMachine<NodeMachine> {
    let mut machine = fresh();
    for e in events.iter().filter(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass)) {
        match e.kind {
            EventKind::Info if e.phase == RETRY_PHASE => machine = fresh(),
            EventKind::Ok if e.phase == node::phase_name(machine.state()) => machine.handle(&MachineEvent::PhaseSucceeded),
            EventKind::Fail if e.phase == node::phase_name(machine.state()) => machine.handle(&MachineEvent::PhaseFailed),
            _ => {}
        }
    }
    machine
}

/// Returns the first `enter` of `phase` that has no outcome yet (an interrupted step).
pub fn open_enter<'e>(events: &'e [Event], node: &str, pass: &str, phase: &str) -> Option<&'e Event> {
    let mut open = None;
    for e in events.iter().filter(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass)) {
        match e.kind {
            EventKind::Enter if e.phase == phase && open.is_none() => {
                open = Some(e);
            }
            EventKind::Ok | EventKind::Fail => open = None,
            EventKind::Info if e.phase == RETRY_PHASE => open = None,
            _ => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::RunId;
    use serde_json::json;

    fn ev(seq: i64, phase: &str, kind: EventKind) -> Event {
        Event {
            run_id: RunId("r".into()),
            seq,
            at: seq,
            node: Some("n1".into()),
            pass: Some("optional".into()),
            phase: phase.into(),
            kind,
            detail: json!({}),
            reverts: None,
        }
    }

    #[test]
    fn replay_lands_on_the_interrupted_phase_and_open_enter_finds_its_first_intent() {
        use EventKind::*;
        let events = vec![
            ev(1, "pending", Ok),
            ev(2, "backup", Enter),
            ev(3, "backup", Ok),
            ev(4, "edit", Enter),
            ev(5, "edit", Ok),
            ev(6, "restart", Enter),
            ev(7, "restart", Enter),
        ];
        let m = replay(&events, "n1", "optional", false);
        assert_eq!(node::phase_name(m.state()), "restart");
        assert_eq!(open_enter(&events, "n1", "optional", "restart").unwrap().seq, 6);
        assert!(open_enter(&events, "n1", "optional", "edit").is_none());
        assert_eq!(node::phase_name(replay(&events, "n1", "enforce", false).state()), "pending");
    }

    #[test]
    fn replay_restarts_the_machine_on_retry() {
        use EventKind::*;
        let mut events = vec![ev(1, "pending", Ok), ev(2, "backup", Enter), ev(3, "backup", Fail)];
        assert_eq!(node::phase_name(replay(&events, "n1", "optional", true).state()), "failed");
        events.push(ev(4, "retry", Info));
        assert_eq!(node::phase_name(replay(&events, "n1", "optional", true).state()), "pending");
    }
}
