//! The batches a run walks, as journaled when it started.

use super::event::{RunEvent, run_events};
use crate::inventory::Inventory;
use crate::journal::Event;

/// Returns the run's batches as inventory positions: the ones journaled when the run
/// started (so a resumed run walks the same batches), else one node per batch in
/// inventory order, the runbook's rule. Journaled names missing from the inventory are
/// skipped and inventory nodes missing from the batches run alone at the end, so every
/// node is driven exactly once either way.
pub fn journaled_batches(events: &[Event], inventory: &Inventory) -> Vec<Vec<usize>> {
    let position = |name: &str| inventory.nodes.iter().position(|n| n.name == name);
    let journaled = run_events(events).find_map(|(_, e)| match e {
        RunEvent::Batches(b) => Some(b.batches),
        _ => None,
    });
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut seen = vec![false; inventory.nodes.len()];
    for b in journaled.into_iter().flatten() {
        let batch: Vec<usize> = b.nodes.iter().filter_map(|n| position(n)).filter(|&i| !std::mem::replace(&mut seen[i], true)).collect();
        if !batch.is_empty() {
            batches.push(batch);
        }
    }
    batches.extend((0..inventory.nodes.len()).filter(|&i| !seen[i]).map(|i| vec![i]));
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::event::{BatchesEvent, JournaledBatch};
    use crate::journal::RunId;

    #[test]
    fn journaled_batches_cover_every_node_once_in_journal_order() {
        let text = "cluster = \"c\"\n[[node]]\nname = \"a\"\naddress = \"10.0.0.1\"\n[[node]]\nname = \"b\"\naddress = \"10.0.0.2\"\n[[node]]\nname = \"c\"\naddress = \"10.0.0.3\"\n";
        let inventory = Inventory::parse(std::path::Path::new("/c.toml"), text).unwrap();
        // No batches journaled: the runbook's one node at a time, inventory order.
        assert_eq!(journaled_batches(&[], &inventory), vec![vec![0], vec![1], vec![2]]);
        // A name twice, an unknown name, and `b` missing: every node still runs exactly once.
        let batch = |nodes: &[&str]| JournaledBatch { nodes: nodes.iter().map(|n| n.to_string()).collect(), why: String::new() };
        let event = RunEvent::Batches(BatchesEvent {
            mode: "rack".into(),
            max_batch: None,
            dc_parallel: false,
            fallback: false,
            ignored_keyspaces: vec![],
            batches: vec![batch(&["c", "a"]), batch(&["a", "zz"])],
        });
        let e = Event {
            run_id: RunId("r".into()),
            seq: 1,
            at: 1,
            node: None,
            pass: None,
            phase: event.phase().into(),
            kind: event.kind(),
            detail: event.detail(),
            reverts: None,
        };
        assert_eq!(journaled_batches(&[e], &inventory), vec![vec![2, 0], vec![1]]);
    }
}
