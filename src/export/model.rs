//! The post-mortem model: one pass over a run's journal that every export format reads.
//!
//! Markdown and HTML must tell the same story, so neither reads the journal itself: both
//! render this model. It derives from the events only (plus the run's journaled
//! workflow for the pass order and the drain flag), never from the live cluster, so an
//! export made a year later reads the same.

use std::collections::BTreeMap;

use crate::history::detail::{self, AwaitUnOk, Detail};
use crate::history::{
    Pause, RETRY_PHASE, RUN_PHASE, RunEvent, RunState, UNDO_PREFIX, event_name, paused_where, pauses, replay, replay_undo, run_events,
    run_state,
};
use crate::journal::{Event, EventKind, Run};
use crate::workflow::Workflow;
use crate::workflow::node::phase_name;

/// How a timeline bar ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarOutcome {
    /// The phase journaled `ok`.
    Ok,
    /// The phase journaled `fail`.
    Fail,
    /// The phase was entered and never journaled an outcome (the process stopped or
    /// died; a resume entered it again).
    Interrupted,
}

impl BarOutcome {
    /// Returns the lowercase name used as CSS class and in text.
    pub fn as_str(self) -> &'static str {
        match self {
            BarOutcome::Ok => "ok",
            BarOutcome::Fail => "fail",
            BarOutcome::Interrupted => "interrupted",
        }
    }
}

/// One attempt at one phase of one node in one pass: from its `enter` to its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub node: String,
    pub pass: String,
    pub phase: String,
    /// `seq` of the `enter` event.
    pub seq: i64,
    /// Unix milliseconds of the `enter`.
    pub start: i64,
    /// Unix milliseconds of the outcome (or of the last event before the phase was
    /// entered again / the journal ends, for an interrupted phase).
    pub end: i64,
    pub outcome: BarOutcome,
    /// The outcome's error message, if it failed.
    pub error: Option<String>,
}

/// A node's row in a pass table.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub node: String,
    /// The node machine's state at the end of the journal (`done`, `rolled_back`, ...).
    pub result: String,
    /// How many times the pass was started on this node (1 + journaled retries).
    pub attempts: usize,
    /// Milliseconds spent in each phase, summed over attempts, in phase order.
    pub phase_ms: Vec<(String, i64)>,
    /// Restart commands that completed (`restart` and `rollback_restart` ok).
    pub restarts: usize,
    /// For each wait for UN that succeeded: its phase and `elapsed_ms` (restart to UN).
    pub restart_to_un_ms: Vec<(String, i64)>,
}

/// One pass of the run (a workflow pass, or an `undo-*` pass of `ringmaster rollback`).
#[derive(Debug, Clone, PartialEq)]
pub struct PassView {
    pub name: String,
    pub undo: bool,
    pub nodes: Vec<NodeRow>,
}

/// A failed phase with the evidence the journal kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub seq: i64,
    pub at: i64,
    /// `None` for a run-level failure (refused start, ...).
    pub node: Option<String>,
    pub pass: Option<String>,
    pub phase: String,
    /// `detail.error`.
    pub error: Option<String>,
    /// `detail.evidence[]`: a log line and the lines after it.
    pub evidence: Vec<(String, Vec<String>)>,
    /// `detail.views`: what `nodetool status` on each node said.
    pub views: Vec<(String, String)>,
    /// `detail.stderr` of a failed command, if any.
    pub stderr: Option<String>,
}

/// A rollback of one node in one pass, and what it reverted.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollback {
    pub node: String,
    pub pass: String,
    /// The rollback steps journaled, in order, with their outcome (`rollback ok`, ...).
    pub steps: Vec<(String, String)>,
    /// `(seq of the rollback, seq it reverts)` for events carrying `reverts`.
    pub reverts: Vec<(i64, i64)>,
    /// `rolled_back`, `unfinished`, or a failed rollback (operator needed).
    pub result: String,
}

/// One preflight of the run (before the first change, or before resuming a pause).
#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    pub seq: i64,
    /// Unix milliseconds it began and ended.
    pub start: i64,
    pub end: i64,
    /// How many nodes its findings counted for.
    pub nodes: usize,
    pub blockers: usize,
    pub warnings: usize,
}

/// A run-level note: interruption, stop, resume, retry, lock take-over, undo start.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub seq: i64,
    pub at: i64,
    /// `interrupted`, `stopped`, `resumed`, `retry`, `lock_taken_over`, `undo_started`, ...
    pub event: String,
    /// A one-line description for people.
    pub text: String,
}

/// Everything the post-mortem says about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct PostMortem {
    pub run: Run,
    pub workflow_name: String,
    pub state: RunState,
    /// `finished`, `failed`, `interrupted`, `undone`, ... with what happened on the way.
    pub outcome: String,
    /// The last event's time (the run's start when it has none).
    pub ended_at: i64,
    pub event_count: usize,
    pub passes: Vec<PassView>,
    pub bars: Vec<Bar>,
    pub failures: Vec<Failure>,
    pub rollbacks: Vec<Rollback>,
    pub notes: Vec<Note>,
    /// Where the run paused as the operator asked, and when it was resumed.
    pub pauses: Vec<Pause>,
    /// Every preflight, oldest first (drawn on the timeline; not a note).
    pub preflights: Vec<Preflight>,
}

/// The phases in the order a pass walks them; anything else sorts after.
const PHASE_ORDER: [&str; 10] = [
    "backup",
    "edit",
    "drain",
    "restart",
    "await_un",
    "verify_log",
    "rollback",
    "rollback_restart",
    "rollback_await_un",
    "rollback_verify",
];

pub(crate) fn phase_rank(phase: &str) -> usize {
    PHASE_ORDER.iter().position(|p| *p == phase).unwrap_or(PHASE_ORDER.len())
}

impl PostMortem {
    /// Builds the post-mortem of `run` from its events (ordered by `seq`).
    pub fn build(run: &Run, events: &[Event]) -> PostMortem {
        let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow).ok();
        let drain = workflow.as_ref().map(|w| w.drain_before_restart).unwrap_or_else(|| events.iter().any(|e| e.phase == "drain"));
        let state = run_state(events);
        let bars = bars(events);
        let passes = passes(events, workflow.as_ref(), drain, &bars);
        let failures =
            events.iter().filter(|e| e.kind == EventKind::Fail).map(failure).filter(|f| f.node.is_some() || f.error.is_some()).collect();
        let rollbacks = rollbacks(events);
        let notes = notes(events);
        let outcome = outcome(state, &rollbacks, &notes, &passes);
        PostMortem {
            run: run.clone(),
            workflow_name: workflow.as_ref().map(|w| w.name.clone()).unwrap_or_else(|| "(unreadable workflow)".into()),
            state,
            outcome,
            ended_at: events.last().map(|e| e.at).unwrap_or(run.started_at),
            event_count: events.len(),
            passes,
            bars,
            failures,
            rollbacks,
            notes,
            pauses: pauses(events),
            preflights: preflights(events),
        }
    }

    /// Returns the run's duration in milliseconds, from its creation to its last event.
    pub fn duration_ms(&self) -> i64 {
        (self.ended_at - self.run.started_at).max(0)
    }
}

/// One bar per `enter` of a node's phase; a second `enter` before an outcome closes the
/// first as interrupted (the process stopped and a resume repeats the phase).
fn bars(events: &[Event]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    let mut open: BTreeMap<(String, String), usize> = BTreeMap::new();
    let last_at = events.last().map(|e| e.at).unwrap_or(0);
    for (i, e) in events.iter().enumerate() {
        let (Some(node), Some(pass)) = (&e.node, &e.pass) else { continue };
        let key = (node.clone(), pass.clone());
        match e.kind {
            EventKind::Enter => {
                if let Some(idx) = open.remove(&key) {
                    // The last thing journaled before this enter is when the earlier
                    // attempt was last known alive.
                    bars[idx].end = events[..i].last().map(|p| p.at).unwrap_or(e.at).max(bars[idx].start);
                }
                open.insert(key, bars.len());
                bars.push(Bar {
                    node: node.clone(),
                    pass: pass.clone(),
                    phase: e.phase.clone(),
                    seq: e.seq,
                    start: e.at,
                    end: e.at,
                    outcome: BarOutcome::Interrupted,
                    error: None,
                });
            }
            EventKind::Ok | EventKind::Fail => {
                if let Some(idx) = open.remove(&key) {
                    let bar = &mut bars[idx];
                    bar.end = e.at.max(bar.start);
                    bar.outcome = if e.kind == EventKind::Ok { BarOutcome::Ok } else { BarOutcome::Fail };
                    bar.error = if e.kind == EventKind::Fail { detail::Failure::of(&e.detail).and_then(|f| f.error) } else { None };
                }
            }
            EventKind::Info => {
                if e.phase == RETRY_PHASE
                    && let Some(idx) = open.remove(&key)
                {
                    bars[idx].end = e.at.max(bars[idx].start);
                }
            }
        }
    }
    for idx in open.into_values() {
        bars[idx].end = last_at.max(bars[idx].start);
    }
    bars
}

/// The passes in the order they ran (their first journaled event: key staging, then the
/// workflow's passes, then any undo stages); a workflow pass not begun yet comes after, in
/// workflow order (and is left out below when no node has an event in it).
fn passes(events: &[Event], workflow: Option<&Workflow>, drain: bool, bars: &[Bar]) -> Vec<PassView> {
    let in_workflow = |name: &str| workflow.is_some_and(|w| w.passes.iter().any(|p| p.name == name));
    let mut names: Vec<String> = Vec::new();
    for e in events {
        if let Some(p) = &e.pass
            && !names.contains(p)
        {
            names.push(p.clone());
        }
    }
    for p in workflow.map(|w| w.passes.as_slice()).unwrap_or_default() {
        if !names.contains(&p.name) {
            names.push(p.name.clone());
        }
    }
    let mut out = Vec::new();
    for name in names {
        let mut nodes: Vec<String> = Vec::new();
        for e in events.iter().filter(|e| e.pass.as_deref() == Some(&name)) {
            if let Some(n) = &e.node
                && !nodes.contains(n)
            {
                nodes.push(n.clone());
            }
        }
        if nodes.is_empty() {
            continue;
        }
        let undo = name.starts_with(UNDO_PREFIX);
        let rows = nodes
            .into_iter()
            .map(|node| {
                let machine = if undo { replay_undo(events, &node, &name) } else { replay(events, &node, &name, drain) };
                let mine = |e: &&Event| e.node.as_deref() == Some(node.as_str()) && e.pass.as_deref() == Some(name.as_str());
                let retries = events.iter().filter(mine).filter(|e| e.kind == EventKind::Info && e.phase == RETRY_PHASE).count();
                let mut phase_ms: BTreeMap<String, i64> = BTreeMap::new();
                for b in bars.iter().filter(|b| b.node == node && b.pass == name) {
                    *phase_ms.entry(b.phase.clone()).or_default() += b.end - b.start;
                }
                let mut phase_ms: Vec<(String, i64)> = phase_ms.into_iter().collect();
                phase_ms.sort_by_key(|(p, _)| phase_rank(p));
                let restarts = events
                    .iter()
                    .filter(mine)
                    .filter(|e| e.kind == EventKind::Ok && matches!(e.phase.as_str(), "restart" | "rollback_restart"))
                    .count();
                let restart_to_un_ms = events
                    .iter()
                    .filter(mine)
                    .filter(|e| e.kind == EventKind::Ok && matches!(e.phase.as_str(), "await_un" | "rollback_await_un"))
                    .filter_map(|e| AwaitUnOk::of(&e.detail).map(|a| (e.phase.clone(), a.elapsed_ms as i64)))
                    .collect();
                // A pass of the workflow or an undo ends where the node's machine stands; a
                // pass outside it (key staging) ends as its last step did.
                let result = if undo || in_workflow(&name) {
                    phase_name(machine.state()).to_string()
                } else {
                    step_result(bars.iter().rfind(|b| b.node == node && b.pass == name))
                };
                NodeRow { result, attempts: 1 + retries, phase_ms, restarts, restart_to_un_ms, node }
            })
            .collect();
        out.push(PassView { name, undo, nodes: rows });
    }
    out
}

/// The result of a node in a pass that has no machine of its own (key staging): `done`
/// when its last step journaled `ok`, else `failed` or `interrupted`.
fn step_result(last: Option<&Bar>) -> String {
    match last.map(|b| b.outcome) {
        Some(BarOutcome::Ok) => "done",
        Some(BarOutcome::Fail) => "failed",
        Some(BarOutcome::Interrupted) => "interrupted",
        None => "pending",
    }
    .to_string()
}

/// Returns every preflight of the run, from its journaled `preflight` events.
fn preflights(events: &[Event]) -> Vec<Preflight> {
    run_events(events)
        .filter_map(|(e, r)| match r {
            RunEvent::Preflight { started_at, nodes, blockers, warnings } => {
                Some(Preflight { seq: e.seq, start: started_at.min(e.at), end: e.at, nodes: nodes.len(), blockers, warnings })
            }
            _ => None,
        })
        .collect()
}

fn failure(e: &Event) -> Failure {
    let f = detail::Failure::of(&e.detail).unwrap_or_default();
    Failure {
        seq: e.seq,
        at: e.at,
        node: e.node.clone(),
        pass: e.pass.clone(),
        phase: e.phase.clone(),
        error: f.error,
        evidence: f.evidence.into_iter().flatten().map(|ev| (ev.line, ev.context)).collect(),
        views: f.views.into_iter().flatten().collect(),
        stderr: f.stderr.filter(|s| !s.trim().is_empty()),
    }
}

fn rollbacks(events: &[Event]) -> Vec<Rollback> {
    let mut out: Vec<Rollback> = Vec::new();
    for e in events.iter().filter(|e| e.phase.starts_with("rollback") && e.kind != EventKind::Enter) {
        let (Some(node), Some(pass)) = (&e.node, &e.pass) else { continue };
        let idx = match out.iter().position(|r| &r.node == node && &r.pass == pass) {
            Some(i) => i,
            None => {
                out.push(Rollback { node: node.clone(), pass: pass.clone(), steps: vec![], reverts: vec![], result: String::new() });
                out.len() - 1
            }
        };
        out[idx].steps.push((e.phase.clone(), e.kind.as_str().to_string()));
        if let Some(r) = e.reverts {
            out[idx].reverts.push((e.seq, r));
        }
    }
    for r in &mut out {
        r.result = match r.steps.last().map(|(p, k)| (p.as_str(), k.as_str())) {
            _ if r.steps.iter().any(|(_, k)| k == "fail") => "failed: the rollback did not complete, operator needed".into(),
            Some(("rollback_verify", "ok")) => "rolled_back".into(),
            _ => "unfinished".into(),
        };
    }
    out
}

fn notes(events: &[Event]) -> Vec<Note> {
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.kind == EventKind::Info || (e.phase == RUN_PHASE && e.kind == EventKind::Fail)) {
        let (event, text) = match RunEvent::of(e) {
            // Preflight has a lane of its own on the timeline and a section in the report.
            Some(RunEvent::Preflight { .. }) => continue,
            Some(r) => (r.name().to_string(), note_text(e, r)),
            // A detail this version does not know: its name and the detail as journaled.
            None => {
                let name = event_name(&e.detail).unwrap_or(&e.phase).to_string();
                let text = format!("{name}: {}", e.detail);
                (name, text)
            }
        };
        out.push(Note { seq: e.seq, at: e.at, event, text });
    }
    out
}

/// Returns the one-line description of run event `r`, journaled as `e`.
fn note_text(e: &Event, r: RunEvent) -> String {
    match r {
        RunEvent::Interrupted { signal: Some(sig), node, pass, next_phase, .. } => format!(
            "stopped by {sig} at a safe point before `{}` of `{}` in pass `{}`",
            next_phase.unwrap_or_default(),
            node.unwrap_or_default(),
            pass.unwrap_or_default()
        ),
        RunEvent::Interrupted { signal: None, detected: Some(how), .. } => format!("interruption detected {how}"),
        RunEvent::Interrupted { .. } => "interrupted".into(),
        RunEvent::Stopped { error } => format!("stopped on an error: {error}"),
        RunEvent::Resumed { pid, host, user, previous_state, .. } => {
            format!("resumed by {user}@{host} (pid {pid}), previous state {previous_state}")
        }
        RunEvent::Retry { was } => {
            format!("retry of `{}` in pass `{}` (was {was})", e.node.as_deref().unwrap_or("-"), e.pass.as_deref().unwrap_or("-"))
        }
        RunEvent::LockTakenOver { explicit, .. } => format!("cluster lock taken over (explicit: {explicit})"),
        RunEvent::UndoStarted { .. } => "`ringmaster rollback` started undoing the run".into(),
        RunEvent::Failed { node, pass, state } => format!("run failed: `{node}` in pass `{pass}` ended {state}"),
        RunEvent::Refused { error: Some(error), .. } => format!("run refused: {error}"),
        RunEvent::Refused { blockers, .. } => format!("refused by preflight: {}", plural(blockers.len(), "blocker")),
        RunEvent::Preflight { started_at, nodes, blockers, warnings } => format!(
            "preflight of {} took {}: {}, {}",
            plural(nodes.len(), "node"),
            super::doc::format_duration_ms((e.at - started_at).max(0)),
            plural(blockers, "blocker"),
            plural(warnings, "warning")
        ),
        RunEvent::Paused { pass, reason, completed } => format!("paused {}", paused_where(&pass, reason, completed)),
        other @ (RunEvent::Started { .. }
        | RunEvent::Topology { .. }
        | RunEvent::Batches(_)
        | RunEvent::Halted { .. }
        | RunEvent::Finished
        | RunEvent::Undone) => format!("{}: {}", other.name(), e.detail),
    }
}

fn outcome(state: RunState, rollbacks: &[Rollback], notes: &[Note], passes: &[PassView]) -> String {
    let count = |what: &str| notes.iter().filter(|n| n.event == what).count();
    let mut extra = Vec::new();
    let forward_rollbacks = rollbacks.iter().filter(|r| !r.pass.starts_with(UNDO_PREFIX)).count();
    if forward_rollbacks > 0 {
        extra.push(plural(forward_rollbacks, "rollback"));
    }
    if passes.iter().any(|p| p.undo) {
        extra.push("an undo (`ringmaster rollback`)".into());
    }
    for (what, word) in [("paused", "pause"), ("interrupted", "interruption"), ("stopped", "stop"), ("resumed", "resume")] {
        let n = count(what);
        if n > 0 {
            extra.push(plural(n, word));
        }
    }
    let name = state.name();
    match extra.split_last() {
        None => name.to_string(),
        Some((last, [])) => format!("{name}, after {last}"),
        Some((last, rest)) => format!("{name}, after {} and {last}", rest.join(", ")),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
