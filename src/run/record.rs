//! The one writer of run events: it redacts every string of the event with the run's
//! secrets, journals it, and hands the journaled copy to the event stream when one is
//! attached (`--events-json`).

use crate::history::RunEvent;
use crate::journal::{Event, Journal, JournalError, RunId};
use crate::secrets::Secrets;

/// A callback that sees every journaled event of a run, after its commit.
pub type EventHook<'a> = &'a (dyn Fn(&Event) + 'a);

/// Writes the run events of one run.
#[derive(Clone, Copy)]
pub struct Recorder<'a> {
    pub journal: &'a Journal,
    pub run: &'a RunId,
    pub secrets: &'a Secrets,
    pub hook: Option<EventHook<'a>>,
}

impl<'a> Recorder<'a> {
    /// Returns a writer of `run`'s events without an event stream.
    pub fn new(journal: &'a Journal, run: &'a RunId, secrets: &'a Secrets) -> Recorder<'a> {
        Recorder { journal, run, secrets, hook: None }
    }

    /// Journals a run-level event.
    pub fn record(&self, event: &RunEvent) -> Result<Event, JournalError> {
        self.write(None, None, event)
    }

    /// Journals a node-level marker (`retry`) of `node` in `pass`.
    pub fn record_for(&self, node: &str, pass: &str, event: &RunEvent) -> Result<Event, JournalError> {
        self.write(Some(node), Some(pass), event)
    }

    fn write(&self, node: Option<&str>, pass: Option<&str>, event: &RunEvent) -> Result<Event, JournalError> {
        let mut new = event.to_new_event(node, pass);
        new.detail = self.secrets.redact_json(new.detail);
        let ev = self.journal.append(self.run, &new)?;
        if let Some(hook) = self.hook {
            hook(&ev);
        }
        Ok(ev)
    }
}
