//! The plan of undoing a run, and the plan `rollback` journaled when it started.

use super::event::{RunEvent, UndoStage, run_events};
use super::replay::replay;
use crate::journal::{Event, EventKind};
use crate::workflow::Workflow;
use crate::workflow::node::State;

/// The prefix of an undo stage's pass name: `undo-<pass>`.
pub const UNDO_PREFIX: &str = "undo-";

/// Plans how to undo a run: passes in reverse order, and within each pass the nodes
/// that pass changed (and that were not already rolled back), most recent first.
/// Undoing pass by pass keeps every step a configuration the cluster already ran
/// with: jumping a node from `optional: false` straight back to plaintext would cut it
/// off from peers that still require TLS.
pub fn undo_plan(events: &[Event], workflow: &Workflow) -> Vec<UndoStage> {
    let mut stages = Vec::new();
    for (pass_index, pass) in workflow.passes.iter().enumerate().rev() {
        let mut nodes: Vec<(i64, String)> = Vec::new();
        for e in events.iter().filter(|e| e.pass.as_deref() == Some(&pass.name) && e.phase == "edit" && e.kind == EventKind::Ok) {
            let Some(node) = &e.node else { continue };
            if nodes.iter().any(|(_, n)| n == node) {
                continue;
            }
            if matches!(replay(events, node, &pass.name, workflow.drain_before_restart).state(), State::RolledBack {}) {
                continue;
            }
            let newest = events
                .iter()
                .filter(|x| x.node.as_ref() == Some(node) && x.pass.as_deref() == Some(&pass.name))
                .map(|x| x.seq)
                .max()
                .unwrap_or(e.seq);
            nodes.push((newest, node.clone()));
        }
        if nodes.is_empty() {
            continue;
        }
        nodes.sort_by_key(|n| std::cmp::Reverse(n.0));
        stages.push(UndoStage {
            pass_index,
            name: format!("{UNDO_PREFIX}{}", pass.name),
            nodes: nodes.into_iter().map(|(_, n)| n).collect(),
        });
    }
    stages
}

/// Returns the undo stages fixed when `ringmaster rollback` started, if it did.
pub fn journaled_undo_stages(events: &[Event]) -> Option<Vec<UndoStage>> {
    run_events(events).find_map(|(_, e)| match e {
        RunEvent::UndoStarted { stages, .. } => Some(stages),
        _ => None,
    })
}

/// Returns true when `ringmaster rollback` was started on this run.
pub fn undo_started(events: &[Event]) -> bool {
    journaled_undo_stages(events).is_some()
}
