//! Driving the nodes of one batch together, and what they share: whether one failed.

use std::cell::RefCell;

use super::{Driver, DriverError, RunOutcome, phases::StepCtx};
use crate::history::replay;
use crate::workflow::node::reached_goal;

/// What the nodes of one batch share: whether one of them failed (then the others
/// schedule nothing more).
#[derive(Default)]
pub(crate) struct BatchGate {
    failed: RefCell<Option<String>>,
}

impl BatchGate {
    /// Records that `node` failed (the first failure is the one named).
    pub(crate) fn fail(&self, node: &str) {
        self.failed.borrow_mut().get_or_insert_with(|| node.to_string());
    }

    /// Returns the node that failed first, if one did.
    pub(crate) fn failed(&self) -> Option<String> {
        self.failed.borrow().clone()
    }
}

impl Driver<'_> {
    /// Returns true when every node of the batch has already completed its pass (a
    /// resumed run walks past such a batch without acting).
    pub(crate) fn batch_done(&self, ctxs: &[StepCtx<'_>]) -> bool {
        let events = self.events.borrow();
        ctxs.iter().all(|c| reached_goal(replay(&events, &c.node.name, &c.pass.name, self.workflow.drain_before_restart).state(), false))
    }

    /// Drives the nodes of one batch concurrently to their ends. The first failure halts
    /// the batch: nodes that have not restarted yet stop at their next safe point, nodes
    /// already restarted (or rolling back) go on to the end; then the run stops.
    pub(crate) async fn drive_batch(&self, ctxs: &[StepCtx<'_>]) -> Result<Option<RunOutcome>, DriverError> {
        let gate = BatchGate::default();
        let machine = |ctx: &StepCtx<'_>| replay(&self.events.borrow(), &ctx.node.name, &ctx.pass.name, self.workflow.drain_before_restart);
        let ends = if let [ctx] = ctxs {
            // One node: no concurrency, exactly the runbook's sequence.
            vec![self.drive_node(ctx, machine(ctx), &gate).await]
        } else {
            let names: Vec<&str> = ctxs.iter().map(|c| c.node.name.as_str()).collect();
            self.ui.line(&format!("[{}] batch {}: {} together", ctxs[0].pass.name, ctxs[0].batch + 1, names.join(", ")));
            futures::future::join_all(ctxs.iter().map(|ctx| self.drive_node(ctx, machine(ctx), &gate))).await
        };
        let mut interrupted = None;
        let mut failed = None;
        for end in ends {
            match end? {
                Some(o @ RunOutcome::Failed { .. }) => {
                    failed.get_or_insert(o);
                }
                Some(o @ RunOutcome::Interrupted { .. }) => {
                    interrupted.get_or_insert(o);
                }
                None | Some(RunOutcome::Done | RunOutcome::Paused { .. }) => {}
            }
        }
        Ok(failed.or(interrupted))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_failure_is_the_one_named() {
        let gate = super::BatchGate::default();
        assert_eq!(gate.failed(), None);
        gate.fail("node2");
        gate.fail("node3");
        assert_eq!(gate.failed().as_deref(), Some("node2"));
    }
}
