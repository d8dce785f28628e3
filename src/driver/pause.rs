//! Where a forward run pauses on its own, always between two batches: after N batches of a
//! pass (`--stop-after N`), or when a pass but the last is complete (`--pause-after-pass`,
//! the pass's `pause_after`). Only batches this process drove count, so a resumed run walks
//! past the completed ones without pausing again where it paused before.

use super::RunOutcome;
use crate::history::PauseReason;
use crate::workflow::Pass;

/// Where a forward run pauses on its own, between two batches (`resume` continues it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pauses {
    /// `--stop-after N`: after N batches of the current pass completed by this process; a
    /// pass that ends first pauses at its end (a canary never runs into the next pass).
    pub stop_after: Option<u32>,
    /// `--pause-after-pass`: at the end of every pass but the last (as does a pass with
    /// `pause_after = true`, and a run started with the flag).
    pub after_pass: bool,
}

/// The batches this process completed in one pass, and whether a pause is due.
pub(crate) struct PassCount<'p> {
    pauses: Pauses,
    pass: &'p Pass,
    /// The run pauses at this pass's end whatever the count (`--pause-after-pass` on a pass
    /// but the last).
    pause_at_end: bool,
    completed: u32,
}

impl<'p> PassCount<'p> {
    pub(crate) fn new(pauses: Pauses, pass: &'p Pass, pause_at_end: bool) -> PassCount<'p> {
        PassCount { pauses, pass, pause_at_end, completed: 0 }
    }

    /// Counts a batch that ended well (`had_work`: it was not complete before); returns the
    /// pause when `--stop-after` is reached before the pass's last batch (after it, the end
    /// of the pass decides).
    pub(crate) fn after_batch(&mut self, had_work: bool, last_batch: bool) -> Option<RunOutcome> {
        self.completed += u32::from(had_work);
        (had_work && !last_batch && self.pauses.stop_after == Some(self.completed)).then(|| self.paused(PauseReason::StopAfter))
    }

    /// At the pass's end: pauses when this process did work in it and the pass is not the
    /// workflow's last, for a pause after the pass, or `--stop-after` (which never runs into
    /// the next pass).
    pub(crate) fn at_pass_end(&self, last_pass: bool) -> Option<RunOutcome> {
        if last_pass || self.completed == 0 {
            return None;
        }
        if self.pause_at_end || self.pass.pause_after {
            return Some(self.paused(PauseReason::PassEnd));
        }
        self.pauses.stop_after.is_some().then(|| self.paused(PauseReason::StopAfter))
    }

    fn paused(&self, reason: PauseReason) -> RunOutcome {
        let completed = (reason == PauseReason::StopAfter).then_some(self.completed);
        RunOutcome::Paused { pass: self.pass.name.clone(), reason, completed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(pause_after: bool) -> Pass {
        Pass { pause_after, ..Pass::bare("optional", "") }
    }

    #[test]
    fn stop_after_counts_only_batches_this_process_drove_and_stops_at_the_pass_end() {
        let p = pass(false);
        let mut count = PassCount::new(Pauses { stop_after: Some(2), after_pass: false }, &p, false);
        assert_eq!(count.after_batch(false, false), None, "a batch completed before does not count");
        assert_eq!(count.after_batch(true, false), None);
        let paused = count.after_batch(true, false).expect("two batches driven");
        assert_eq!(paused, RunOutcome::Paused { pass: "optional".into(), reason: PauseReason::StopAfter, completed: Some(2) });
        let mut short = PassCount::new(Pauses { stop_after: Some(5), after_pass: false }, &p, false);
        assert_eq!(short.after_batch(true, true), None, "the last batch leaves it to the pass's end");
        assert!(matches!(short.at_pass_end(false), Some(RunOutcome::Paused { reason: PauseReason::StopAfter, .. })));
        assert_eq!(short.at_pass_end(true), None, "nothing to pause before after the last pass");
    }

    #[test]
    fn a_pass_pauses_at_its_end_only_when_this_process_worked_in_it() {
        let soak = pass(true);
        let mut count = PassCount::new(Pauses::default(), &soak, false);
        assert_eq!(count.at_pass_end(false), None, "a resume past a completed pass does not pause there again");
        count.after_batch(true, true);
        assert!(matches!(count.at_pass_end(false), Some(RunOutcome::Paused { reason: PauseReason::PassEnd, completed: None, .. })));
        let plain = pass(false);
        let mut flagged = PassCount::new(Pauses::default(), &plain, true);
        flagged.after_batch(true, true);
        assert!(matches!(flagged.at_pass_end(false), Some(RunOutcome::Paused { reason: PauseReason::PassEnd, .. })));
    }
}
