//! Pauses: where a run stopped because the operator asked it to (`--stop-after N`,
//! `--pause-after-pass`, a pass's `pause_after`), how long each pause lasted, and what
//! `resume` runs next. `status`, the export and the end of a run all read it here.

use serde::{Deserialize, Serialize};

use super::batches::journaled_batches;
use super::event::{RunEvent, run_events};
use super::replay::replay;
use crate::inventory::Inventory;
use crate::journal::Event;
use crate::workflow::Workflow;
use crate::workflow::node::reached_goal;

/// Why a run paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// `--stop-after N`: N batches of the pass completed (or the pass ended first).
    StopAfter,
    /// The end of a pass: `--pause-after-pass`, or the pass's `pause_after = true`.
    PassEnd,
}

impl PauseReason {
    /// Returns the reason's name on disk (`stop_after`, `pass_end`).
    pub fn name(self) -> &'static str {
        match self {
            PauseReason::StopAfter => "stop_after",
            PauseReason::PassEnd => "pass_end",
        }
    }
}

/// Returns where a run paused, for people: "after pass `optional`", or "after 1 batch of
/// pass `optional` (`--stop-after`)".
pub fn paused_where(pass: &str, reason: PauseReason, completed: Option<u32>) -> String {
    match (reason, completed) {
        (PauseReason::StopAfter, Some(n)) => format!("after {n} batch{} of pass `{pass}` (`--stop-after`)", if n == 1 { "" } else { "es" }),
        _ => format!("after pass `{pass}`"),
    }
}

/// One pause of a run, as journaled, and when a resume ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub seq: i64,
    /// Unix milliseconds of the `paused` event.
    pub at: i64,
    pub pass: String,
    pub reason: PauseReason,
    /// With [`PauseReason::StopAfter`]: how many batches of `pass` that process completed.
    pub completed: Option<u32>,
    /// Unix milliseconds at which the process that continued the run began (the start of
    /// the preflight before its `resumed`); `None` while paused.
    pub resumed_at: Option<i64>,
}

impl Pause {
    /// Returns "after pass `optional`" (see [`paused_where`]).
    pub fn place(&self) -> String {
        paused_where(&self.pass, self.reason, self.completed)
    }
}

/// Returns every pause of the run, oldest first, each with the resume that ended it (a
/// resume that preflight refused leaves the run paused).
pub fn pauses(events: &[Event]) -> Vec<Pause> {
    let mut out: Vec<Pause> = Vec::new();
    let mut preflight_from = None;
    for (e, r) in run_events(events) {
        match r {
            RunEvent::Paused { pass, reason, completed } => {
                out.push(Pause { seq: e.seq, at: e.at, pass, reason, completed, resumed_at: None });
            }
            RunEvent::Preflight { started_at, .. } => preflight_from = Some(started_at),
            RunEvent::Refused { .. } => preflight_from = None,
            RunEvent::Resumed { .. } => {
                if let Some(p) = out.last_mut().filter(|p| p.resumed_at.is_none()) {
                    p.resumed_at = Some(preflight_from.unwrap_or(e.at).max(p.at));
                }
                preflight_from = None;
            }
            _ => {}
        }
    }
    out
}

/// Returns true when the run was started with `--pause-after-pass` (journaled in `started`).
pub fn pause_after_pass(events: &[Event]) -> bool {
    run_events(events).any(|(_, e)| matches!(e, RunEvent::Started { pause_after_pass: true, .. }))
}

/// What `resume` of a forward run does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Next {
    /// The first pass with a node that has not completed it.
    pub pass: String,
    /// That pass's nodes still to complete, in the order the run walks them.
    pub nodes: Vec<String>,
    /// The nodes of the batch that runs first.
    pub batch: Vec<String>,
    /// That batch's number in the pass (1-based), and how many batches the pass has.
    pub batch_number: usize,
    pub batches: usize,
}

impl Next {
    /// Returns the sentence `status` and the end of a paused run print:
    /// "resume runs pass `enforce` on node1, node2, node3".
    pub fn describe(&self) -> String {
        let mut text = format!("resume runs pass `{}` on {}", self.pass, self.nodes.join(", "));
        // The batch is worth naming when the pass is under way or batches hold several nodes.
        if self.batch.len() < self.nodes.len() && (self.batch_number > 1 || self.batch.len() > 1) {
            text.push_str(&format!(", starting with {} (batch {} of {})", self.batch.join(", "), self.batch_number, self.batches));
        }
        text
    }
}

/// Returns what a forward resume runs next: the first pass, in workflow order, with a node
/// whose machine has not reached `done`, and its batches from the first such one.
pub fn next_work(events: &[Event], inventory: &Inventory, workflow: &Workflow) -> Option<Next> {
    let batches = journaled_batches(events, inventory);
    for pass in &workflow.passes {
        let open = |i: &usize| {
            let name = &inventory.nodes[*i].name;
            !reached_goal(replay(events, name, &pass.name, workflow.drain_before_restart).state(), false)
        };
        let Some(first) = batches.iter().position(|b| b.iter().any(open)) else { continue };
        let names = |b: &[usize]| b.iter().filter(|i| open(i)).map(|&i| inventory.nodes[i].name.clone()).collect::<Vec<_>>();
        return Some(Next {
            pass: pass.name.clone(),
            nodes: batches[first..].iter().flat_map(|b| names(b)).collect(),
            batch: names(&batches[first]),
            batch_number: first + 1,
            batches: batches.len(),
        });
    }
    None
}
