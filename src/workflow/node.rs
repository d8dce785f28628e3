//! The per-node phase machine of one pass, as a pure transition function.
//!
//! ```text
//!  pending ─▶ backup ─▶ edit ─▶ [drain] ─▶ restart ─▶ await_un ─▶ verify_log ─▶ done
//!     │         │        │  │                      └──── restarted ───┘
//!     │         │        │  └──────── changed (any failure) ───────────┘
//!     └─────────┴────────┴─▶ failed          │
//!                                            ▼
//!              rollback ─▶ rollback_restart ─▶ rollback_await_un ─▶ rollback_verify ─▶ rolled_back
//!                 └──────────── any failure ──────────────────────────────▶ failed
//! ```
//!
//! The machine is statig in blocking mode with no I/O in any handler: the driver journals
//! the intent to run the current phase, runs it, journals the outcome and only then feeds
//! the outcome back here as an event. Resume replays the journaled outcomes through a
//! fresh machine, so the machine's state is always derived from the journal, never stored.
//! A failure before `edit` has written anything needs no rollback (nothing changed on the
//! node); a failure after it does, and a failure during rollback needs an operator.
//!
//! What the driver needs to know of a state is asked here, from the superstates:
//! [`is_changed`], [`is_restarted`], [`is_rolling_back`], [`is_interruptible`].

use statig::prelude::*;

/// What happened to the phase the machine is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The phase completed (journaled `ok`).
    PhaseSucceeded,
    /// The phase failed (journaled `fail`).
    PhaseFailed,
    /// `ringmaster rollback`: undo this node's change (only from `pending`).
    UndoRequested,
}

/// Shared storage of a node's machine: the workflow's options that shape the path.
#[derive(Debug, Default, Clone)]
pub struct NodeMachine {
    /// Run `nodetool drain` before the restart.
    pub drain: bool,
}

#[state_machine(initial = "State::pending()", state(derive(Debug, Clone, Copy, PartialEq, Eq)))]
impl NodeMachine {
    #[state]
    fn pending(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::backup()),
            Event::PhaseFailed => Transition(State::failed()),
            Event::UndoRequested => Transition(State::rollback()),
        }
    }

    #[state]
    fn backup(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::edit()),
            Event::PhaseFailed => Transition(State::failed()),
            Event::UndoRequested => Handled,
        }
    }

    /// An edit is atomic: when it fails, the file is still the original.
    #[state]
    fn edit(&self, event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded if self.drain => Transition(State::drain()),
            Event::PhaseSucceeded => Transition(State::restart()),
            Event::PhaseFailed => Transition(State::failed()),
            Event::UndoRequested => Handled,
        }
    }

    #[state(superstate = "changed")]
    fn drain(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::restart()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "changed")]
    fn restart(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::await_un()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "restarted")]
    fn await_un(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::verify_log()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "restarted")]
    fn verify_log(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::done()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    /// Between a restart and the proof that the node is healthy on its new configuration:
    /// a stop request waits until the node is proven (or rolled back).
    #[superstate(superstate = "changed")]
    fn restarted(event: &Event) -> Outcome<State> {
        let _ = event;
        Super
    }

    /// Every phase after the edit fails into a rollback: the node's file has changed.
    #[superstate]
    fn changed(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseFailed => Transition(State::rollback()),
            Event::PhaseSucceeded | Event::UndoRequested => Handled,
        }
    }

    #[state]
    fn done(event: &Event) -> Outcome<State> {
        let _ = event;
        Handled
    }

    #[state(superstate = "rolling_back")]
    fn rollback(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::rollback_restart()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "rolling_back")]
    fn rollback_restart(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::rollback_await_un()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "rolling_back")]
    fn rollback_await_un(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::rollback_verify()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    #[state(superstate = "rolling_back")]
    fn rollback_verify(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseSucceeded => Transition(State::rolled_back()),
            Event::PhaseFailed | Event::UndoRequested => Super,
        }
    }

    /// A rollback that fails leaves the node to an operator.
    #[superstate]
    fn rolling_back(event: &Event) -> Outcome<State> {
        match event {
            Event::PhaseFailed => Transition(State::failed()),
            Event::PhaseSucceeded | Event::UndoRequested => Handled,
        }
    }

    #[state]
    fn rolled_back(event: &Event) -> Outcome<State> {
        let _ = event;
        Handled
    }

    #[state]
    fn failed(event: &Event) -> Outcome<State> {
        let _ = event;
        Handled
    }
}

/// The phase a state stands for, as journaled (`phase` column).
pub fn phase_name(state: &State) -> &'static str {
    match state {
        State::Pending {} => "pending",
        State::Backup {} => "backup",
        State::Edit {} => "edit",
        State::Drain {} => "drain",
        State::Restart {} => "restart",
        State::AwaitUn {} => "await_un",
        State::VerifyLog {} => "verify_log",
        State::Done {} => "done",
        State::Rollback {} => "rollback",
        State::RollbackRestart {} => "rollback_restart",
        State::RollbackAwaitUn {} => "rollback_await_un",
        State::RollbackVerify {} => "rollback_verify",
        State::RolledBack {} => "rolled_back",
        State::Failed {} => "failed",
    }
}

/// Returns true when `state` lies in the superstate `wanted` picks, at any depth.
fn within(state: &State, wanted: fn(&Superstate) -> bool) -> bool {
    fn up(superstate: &mut Superstate, wanted: fn(&Superstate) -> bool) -> bool {
        wanted(superstate) || statig::blocking::Superstate::superstate(superstate).is_some_and(|mut s| up(&mut s, wanted))
    }
    let mut state = *state;
    statig::blocking::State::superstate(&mut state).is_some_and(|mut s| up(&mut s, wanted))
}

/// Returns true in the phases after the edit and before the pass's end (`changed`): the
/// node's file holds the pass's values, and a failure rolls it back.
pub fn is_changed(state: &State) -> bool {
    within(state, |s| matches!(s, Superstate::Changed {}))
}

/// Returns true between a restart and the proof that the node is healthy (`restarted`).
pub fn is_restarted(state: &State) -> bool {
    within(state, |s| matches!(s, Superstate::Restarted {}))
}

/// Returns true in the steps of a rollback (`rolling_back`): restore, restart, await UN, verify.
pub fn is_rolling_back(state: &State) -> bool {
    within(state, |s| matches!(s, Superstate::RollingBack {}))
}

/// Returns true when a stop request may be honoured before `state`'s phase runs: not while
/// the node is between a restart and proof that it is healthy again, nor during a rollback.
pub fn is_interruptible(state: &State) -> bool {
    !is_restarted(state) && !is_rolling_back(state)
}

/// Returns true for states in which the machine stops: done, rolled_back, failed.
pub fn is_terminal(state: &State) -> bool {
    matches!(state, State::Done {} | State::RolledBack {} | State::Failed {})
}

/// Returns true when `state` is where the node's pass means to end: `done` in a forward
/// pass, `rolled_back` in an undo pass (there a restore is the goal, not a failure).
pub fn reached_goal(state: &State, undo: bool) -> bool {
    matches!(state, State::Done {}) || (undo && matches!(state, State::RolledBack {}))
}

/// Returns true when the node stopped short of its pass's goal (a retry starts it afresh).
pub fn stopped_short(state: &State, undo: bool) -> bool {
    is_terminal(state) && !reached_goal(state, undo)
}

/// Returns a machine that undoes a node's change: `rollback` and its steps.
pub fn new_undo_machine() -> StateMachine<NodeMachine> {
    let mut m = new_machine(false);
    m.handle(&Event::UndoRequested);
    m
}

/// Returns a machine for one node and pass, positioned at `pending`.
pub fn new_machine(drain: bool) -> StateMachine<NodeMachine> {
    NodeMachine { drain }.state_machine()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(drain: bool, events: &[Event]) -> Vec<&'static str> {
        let mut m = new_machine(drain);
        let mut seen = vec![phase_name(m.state())];
        for e in events {
            m.handle(e);
            seen.push(phase_name(m.state()));
        }
        seen
    }

    use Event::{PhaseFailed as F, PhaseSucceeded as S};

    #[test]
    fn happy_path_with_and_without_drain() {
        assert_eq!(walk(true, &[S, S, S, S, S, S, S]), ["pending", "backup", "edit", "drain", "restart", "await_un", "verify_log", "done"]);
        assert_eq!(walk(false, &[S, S, S, S, S, S]), ["pending", "backup", "edit", "restart", "await_un", "verify_log", "done"]);
    }

    #[test]
    fn failure_before_the_edit_needs_no_rollback() {
        assert_eq!(walk(true, &[S, F]), ["pending", "backup", "failed"]);
        assert_eq!(walk(true, &[S, S, F]), ["pending", "backup", "edit", "failed"]);
    }

    #[test]
    fn failure_after_the_edit_rolls_back() {
        for failing_at in 3..=6 {
            let mut events = vec![S; failing_at];
            events.push(F);
            let seen = walk(true, &events);
            assert_eq!(*seen.last().unwrap(), "rollback", "failure after {:?}", seen);
        }
        let seen = walk(false, &[S, S, S, S, F, S, S, S, S]);
        assert_eq!(seen[5..], ["rollback", "rollback_restart", "rollback_await_un", "rollback_verify", "rolled_back"]);
    }

    #[test]
    fn undo_walks_the_rollback_steps_only() {
        let mut m = new_undo_machine();
        let mut seen = vec![phase_name(m.state())];
        for e in [S, S, S, S] {
            m.handle(&e);
            seen.push(phase_name(m.state()));
        }
        assert_eq!(seen, ["rollback", "rollback_restart", "rollback_await_un", "rollback_verify", "rolled_back"]);
        let mut m = new_machine(true);
        m.handle(&S);
        m.handle(&Event::UndoRequested);
        assert_eq!(phase_name(m.state()), "backup", "undo is only taken from pending");
    }

    /// Every state, in the order of the diagram.
    const ALL: [State; 14] = [
        State::Pending {},
        State::Backup {},
        State::Edit {},
        State::Drain {},
        State::Restart {},
        State::AwaitUn {},
        State::VerifyLog {},
        State::Done {},
        State::Rollback {},
        State::RollbackRestart {},
        State::RollbackAwaitUn {},
        State::RollbackVerify {},
        State::RolledBack {},
        State::Failed {},
    ];

    fn names(pick: fn(&State) -> bool) -> Vec<&'static str> {
        ALL.iter().filter(|s| pick(s)).map(phase_name).collect()
    }

    #[test]
    fn house_21_the_machine_answers_changed_restarted_rolling_back_and_interruptible() {
        assert_eq!(names(is_changed), ["drain", "restart", "await_un", "verify_log"]);
        assert_eq!(names(is_restarted), ["await_un", "verify_log"]);
        assert_eq!(names(is_rolling_back), ["rollback", "rollback_restart", "rollback_await_un", "rollback_verify"]);
        // The states the driver listed by hand before: a stop request waits in these.
        let waits: Vec<&str> = ALL.iter().filter(|s| !is_interruptible(s)).map(phase_name).collect();
        assert_eq!(waits, ["await_un", "verify_log", "rollback", "rollback_restart", "rollback_await_un", "rollback_verify"]);
        // A failure in `changed` rolls back, a failure in `rolling_back` needs an operator.
        for s in ALL.into_iter().filter(is_changed) {
            let mut m = new_machine(true);
            while *m.state() != s {
                m.handle(&S);
            }
            m.handle(&F);
            assert_eq!(*m.state(), State::Rollback {}, "failure in {}", phase_name(&s));
        }
    }

    #[test]
    fn failed_rollback_needs_an_operator_and_terminal_states_stay() {
        let seen = walk(false, &[S, S, S, F, S, F, S, F]);
        assert_eq!(seen[3..], ["restart", "rollback", "rollback_restart", "failed", "failed", "failed"]);
        assert!(is_terminal(&State::Failed {}));
        assert!(is_terminal(&State::Done {}));
        assert!(!is_terminal(&State::Restart {}));
    }
}
