//! Typed run events: what a run journals about itself (no node, phase `run`), plus the
//! node-level `retry` marker. Each variant is one `event` name on disk; the JSON is the
//! event's `detail` (`{"event": "started", ...}`), unchanged from the untyped journals, so
//! every journal ever written still reads back. docs/journal-schema.json is tested
//! against these types (`tests/it/journal_schema.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::pause::PauseReason;
use crate::journal::{Event, EventKind};
use crate::topology::Topology;

/// The phase name of run-level events.
pub const RUN_PHASE: &str = "run";

/// The phase name of the node-level event that restarts a node's machine.
pub const RETRY_PHASE: &str = "retry";

/// The phase name of the node-level event of a node stopped because another one failed.
pub const HALTED_PHASE: &str = "halted";

/// One run-level event, as journaled in an event's `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// `ringmaster run` created the run (journaled as `enter`).
    Started {
        workflow: String,
        passes: Vec<String>,
        nodes: Vec<String>,
        /// `--pause-after-pass`: the run pauses at the end of every pass but the last.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pause_after_pass: bool,
    },
    /// Refused before any node was touched: by the lock (`error`) or by preflight (`blockers`).
    Refused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        blockers: Vec<Blocker>,
    },
    /// The ring as read when the run started (`--batch rack|auto`).
    Topology { topology: Topology },
    /// The batches fixed when the run started: a resumed run walks the same ones.
    Batches(BatchesEvent),
    /// Another process took the run over (`resume`, or `rollback` with `by`).
    Resumed {
        pid: u32,
        host: String,
        user: String,
        previous_state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A node's machine starts again from its first phase (node-level, phase `retry`).
    Retry { was: String },
    /// Stopped at a safe point by `signal`, or (no signal) found dead at resume.
    Interrupted {
        signal: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_phase: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detected: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<i64>,
    },
    /// A node of the batch failed: this node stopped at a safe point (node-level, phase `halted`).
    Halted { because: String, next_phase: String },
    /// The process stopped on an error of its own (transport, journal), not a node's failure.
    Stopped { error: String },
    /// `ringmaster rollback` fixed its plan: the stages, newest pass first.
    UndoStarted {
        stages: Vec<UndoStage>,
        #[serde(default)]
        force: bool,
        previous_state: String,
        user: String,
        host: String,
    },
    /// The cluster lock was taken from a holder whose process is gone.
    LockTakenOver { previous_holder: Option<PreviousHolder>, explicit: bool },
    /// Preflight ran (under the lock, before the first change or before a resume of a
    /// paused run): from `started_at` (unix ms) to this event, over `nodes`.
    Preflight { started_at: i64, nodes: Vec<String>, blockers: usize, warnings: usize },
    /// The run stopped cleanly where the operator asked, after a batch of `pass`
    /// (`--stop-after`: `completed` batches of it) or at its end; `resume` continues.
    Paused {
        pass: String,
        reason: PauseReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        completed: Option<u32>,
    },
    /// Every node completed every pass (`ok`).
    Finished,
    /// `rollback` restored every node the run touched (`ok`).
    Undone,
    /// A node failed (`fail`): rolled back, or it needs an operator.
    Failed { node: String, pass: String, state: String },
}

/// A preflight blocker, as journaled with a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub node: Option<String>,
    pub check: String,
    pub message: String,
}

/// The `batches` event: how the run groups its restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchesEvent {
    pub mode: String,
    #[serde(default)]
    pub max_batch: Option<u32>,
    #[serde(default)]
    pub dc_parallel: bool,
    #[serde(default)]
    pub fallback: bool,
    #[serde(default)]
    pub ignored_keyspaces: Vec<String>,
    pub batches: Vec<JournaledBatch>,
}

/// One batch: the nodes restarted together, and why that is safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournaledBatch {
    pub nodes: Vec<String>,
    #[serde(default)]
    pub why: String,
}

/// One stage of undoing a run: the pass it undoes and the nodes to restore, newest first.
/// On disk a stage is `[pass_index, name, nodes]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(usize, String, Vec<String>)", into = "(usize, String, Vec<String>)")]
pub struct UndoStage {
    /// Index of the workflow pass this stage undoes: a node gets the previous pass's
    /// values back, or its backup for the first pass.
    pub pass_index: usize,
    /// The journal's pass name for this stage, `undo-<pass>`.
    pub name: String,
    pub nodes: Vec<String>,
}

impl From<(usize, String, Vec<String>)> for UndoStage {
    fn from((pass_index, name, nodes): (usize, String, Vec<String>)) -> UndoStage {
        UndoStage { pass_index, name, nodes }
    }
}

impl From<UndoStage> for (usize, String, Vec<String>) {
    fn from(s: UndoStage) -> (usize, String, Vec<String>) {
        (s.pass_index, s.name, s.nodes)
    }
}

/// The holder of a lock that was taken over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousHolder {
    pub run: String,
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub since: i64,
}

impl RunEvent {
    /// Returns the event's name on disk (`started`, `undo_started`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            RunEvent::Started { .. } => "started",
            RunEvent::Refused { .. } => "refused",
            RunEvent::Topology { .. } => "topology",
            RunEvent::Batches(_) => "batches",
            RunEvent::Resumed { .. } => "resumed",
            RunEvent::Retry { .. } => "retry",
            RunEvent::Interrupted { .. } => "interrupted",
            RunEvent::Halted { .. } => "halted",
            RunEvent::Stopped { .. } => "stopped",
            RunEvent::UndoStarted { .. } => "undo_started",
            RunEvent::LockTakenOver { .. } => "lock_taken_over",
            RunEvent::Preflight { .. } => "preflight",
            RunEvent::Paused { .. } => "paused",
            RunEvent::Finished => "finished",
            RunEvent::Undone => "undone",
            RunEvent::Failed { .. } => "failed",
        }
    }

    /// Returns the journal kind the event is written with: a run opens with `enter`, ends
    /// with `ok` or `fail`; everything between is `info`.
    pub fn kind(&self) -> EventKind {
        match self {
            RunEvent::Started { .. } => EventKind::Enter,
            RunEvent::Refused { .. } | RunEvent::Failed { .. } => EventKind::Fail,
            RunEvent::Finished | RunEvent::Undone => EventKind::Ok,
            _ => EventKind::Info,
        }
    }

    /// Returns the journal phase of the event: `retry` for the node-level retry, else `run`.
    pub fn phase(&self) -> &'static str {
        match self {
            RunEvent::Retry { .. } => RETRY_PHASE,
            RunEvent::Halted { .. } => HALTED_PHASE,
            _ => RUN_PHASE,
        }
    }

    /// Returns the journal event that records this run event (`node`/`pass` for the
    /// node-level markers, `None` for run-level events).
    pub fn to_new_event(&self, node: Option<&str>, pass: Option<&str>) -> crate::journal::NewEvent {
        crate::journal::NewEvent {
            node: node.map(str::to_string),
            pass: pass.map(str::to_string),
            phase: self.phase().to_string(),
            kind: self.kind(),
            detail: self.detail(),
            reverts: None,
        }
    }

    /// Returns the event as the journal's `detail`.
    pub fn detail(&self) -> Json {
        serde_json::to_value(self).expect("BUG: a run event always serializes")
    }

    /// Reads the run event a journaled event holds: run-level events and the node-level
    /// `retry` and `halted` markers. `None` for phase events, and for a detail this version
    /// does not know.
    pub fn of(e: &Event) -> Option<RunEvent> {
        let ours = (e.node.is_none() && e.phase == RUN_PHASE)
            || (e.kind == EventKind::Info && [RETRY_PHASE, HALTED_PHASE].contains(&e.phase.as_str()));
        if !ours {
            return None;
        }
        serde_json::from_value(e.detail.clone()).ok()
    }
}

/// Returns the `event` name of a run-level detail, also of one this version does not know
/// (a newer ringmaster's), so a reader can still name it.
pub fn event_name(detail: &Json) -> Option<&str> {
    detail.get("event").and_then(Json::as_str)
}

/// Returns every run event of `events` with the journaled event it came from, in order.
pub fn run_events(events: &[Event]) -> impl Iterator<Item = (&Event, RunEvent)> {
    events.iter().filter_map(|e| RunEvent::of(e).map(|r| (e, r)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_untyped_details_of_older_journals_read_back_as_typed_events() {
        let cases = [
            json!({"event": "started", "workflow": "internode-tls", "passes": ["optional", "enforce"], "nodes": ["node1"]}),
            json!({"event": "refused", "error": "cluster lock held"}),
            json!({"event": "refused", "blockers": [{"node": "node1", "check": "keystore", "message": "wrong password"}]}),
            json!({"event": "resumed", "pid": 7, "host": "h", "user": "u", "previous_state": "interrupted", "by": "rollback"}),
            json!({"event": "interrupted", "signal": null, "detected": "at resume", "last_seq": 12}),
            json!({"event": "interrupted", "signal": "SIGINT", "node": "node1", "pass": "optional", "next_phase": "edit"}),
            json!({"event": "halted", "because": "node2", "next_phase": "restart"}),
            json!({"event": "stopped", "error": "broken pipe"}),
            json!({"event": "undo_started", "stages": [[1, "undo-enforce", ["node3", "node1"]]], "force": false, "previous_state": "finished", "user": "u", "host": "h"}),
            json!({"event": "lock_taken_over", "previous_holder": {"run": "r1", "pid": 9, "host": "h", "user": "u", "since": 5}, "explicit": true}),
            json!({"event": "lock_taken_over", "previous_holder": null, "explicit": false}),
            json!({"event": "batches", "mode": "rack", "max_batch": null, "dc_parallel": false, "fallback": false, "ignored_keyspaces": [], "batches": [{"nodes": ["a", "b"], "why": "rack r1"}]}),
            json!({"event": "started", "workflow": "w", "passes": ["optional"], "nodes": ["node1"], "pause_after_pass": true}),
            json!({"event": "preflight", "started_at": 5, "nodes": ["node2"], "blockers": 0, "warnings": 1}),
            json!({"event": "paused", "pass": "optional", "reason": "stop_after", "completed": 1}),
            json!({"event": "paused", "pass": "optional", "reason": "pass_end"}),
            json!({"event": "finished"}),
            json!({"event": "undone"}),
            json!({"event": "failed", "node": "node2", "pass": "optional", "state": "rolled_back"}),
            json!({"event": "retry", "was": "restart"}),
        ];
        for detail in cases {
            let typed: RunEvent = serde_json::from_value(detail.clone()).unwrap_or_else(|e| panic!("{detail}: {e}"));
            assert_eq!(typed.name(), detail["event"].as_str().unwrap());
            assert_eq!(typed.detail(), detail, "written back byte for byte");
        }
    }

    #[test]
    fn each_event_has_its_journal_kind() {
        assert_eq!(RunEvent::Finished.kind(), EventKind::Ok);
        assert_eq!(RunEvent::Refused { error: Some("x".into()), blockers: vec![] }.kind(), EventKind::Fail);
        assert_eq!(
            RunEvent::Started { workflow: "w".into(), passes: vec![], nodes: vec![], pause_after_pass: false }.kind(),
            EventKind::Enter
        );
        assert_eq!(RunEvent::Stopped { error: "e".into() }.kind(), EventKind::Info);
        assert_eq!(RunEvent::Retry { was: "edit".into() }.phase(), RETRY_PHASE);
    }
}
