//! Driving a run to an end: under signal handling (SIGINT, SIGTERM and SIGHUP stop it at
//! the next safe point), with every event journaled and streamed, the end journaled and
//! the lock released whatever happens.

use std::sync::Arc;

use super::record::{EventHook, Recorder};
use super::report::FailureReport;
use super::{Cluster, Job, RunError, lock};
use crate::driver::{Driver, RunOutcome, StopFlag};
use crate::history::{Next, PauseReason, RunEvent, next_work};
use crate::journal::{Journal, Run};
use crate::ui::Ui;

/// Which way a run is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward through the workflow's passes, pausing where asked.
    Forward(Pauses),
    /// Back: restore every touched node's backup (`ringmaster rollback`).
    Undo { force: bool },
}

pub use crate::driver::Pauses;

/// How driving a run ended (its end is journaled, the lock released).
pub enum Ending {
    /// Every node completed every pass.
    Finished,
    /// Every node the run touched has its original configuration again.
    Undone,
    /// A signal stopped it at a safe point; `resume` continues.
    Interrupted { signal: String },
    /// It paused where the operator asked, after a batch of `pass`; `next` is what `resume`
    /// runs then.
    Paused { pass: String, reason: PauseReason, completed: Option<u32>, next: Option<Next> },
    /// A node failed: what the operator needs to know, redacted.
    Failed(FailureReport),
}

/// Drives `run` (holding its lock) to its end. `hook` sees every journaled event.
pub fn drive(
    journal: &Journal,
    run: Run,
    job: &Job,
    cluster: &mut Cluster<'_>,
    mode: Mode,
    hook: Option<EventHook<'_>>,
) -> Result<Ending, RunError> {
    let run_for_lock = run.clone();
    let run_id = run.id.clone();
    let result = drive_to_outcome(journal, run, job, cluster, mode, hook);
    let rec = Recorder { hook, ..Recorder::new(journal, &run_id, &job.secrets) };
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = rec.record(&RunEvent::Stopped { error: job.secrets.redact(&e.to_string()) });
            let _ = lock::release(journal, &run_for_lock, &job.inventory);
            return Err(RunError::Stopped { run: run_id.to_string(), rm: super::command_prefix(journal), error: Box::new(e) });
        }
    };
    let ending = match outcome {
        RunOutcome::Done if matches!(mode, Mode::Undo { .. }) => {
            rec.record(&RunEvent::Undone)?;
            Ending::Undone
        }
        RunOutcome::Done => {
            rec.record(&RunEvent::Finished)?;
            Ending::Finished
        }
        RunOutcome::Interrupted { signal } => Ending::Interrupted { signal },
        RunOutcome::Paused { pass, reason, completed } => {
            rec.record(&RunEvent::Paused { pass: pass.clone(), reason, completed })?;
            let next = next_work(&journal.events(&run_id)?, &job.inventory, &job.workflow);
            Ending::Paused { pass, reason, completed, next }
        }
        RunOutcome::Failed { node, pass, state, evidence } => {
            rec.record(&RunEvent::Failed { node: node.clone(), pass: pass.clone(), state: state.clone() })?;
            Ending::Failed(FailureReport::new(journal, &run_id, &node, &pass, &state, &evidence, &job.secrets))
        }
    };
    lock::release(journal, &run_for_lock, &job.inventory)?;
    Ok(ending)
}

/// Drives the run with the progress display and the signal handlers, and returns the
/// driver's outcome; the display is finished whatever happens.
fn drive_to_outcome(
    journal: &Journal,
    run: Run,
    job: &Job,
    cluster: &mut Cluster<'_>,
    mode: Mode,
    hook: Option<EventHook<'_>>,
) -> Result<RunOutcome, RunError> {
    let ui = Ui::new();
    let stop = Arc::new(StopFlag::default());
    // The handlers first: from here on a signal means "stop at the next safe point".
    cluster.runtime().block_on(async { install_signal_handlers(stop.clone()) });
    let result = match cluster.all() {
        Err(e) => Err(e),
        Ok(transports) => cluster.runtime().block_on(async {
            let mut driver = Driver::new(journal, run, job.parts(), transports, &ui, stop)?;
            if let Some(hook) = hook {
                driver.on_event = Some(Box::new(hook));
            }
            Ok(match mode {
                Mode::Forward(pauses) => {
                    driver.pauses = pauses;
                    driver.execute().await?
                }
                Mode::Undo { force } => {
                    driver.force_backup = force;
                    driver.execute_undo().await?
                }
            })
        }),
    };
    ui.finish();
    result
}

fn install_signal_handlers(stop: Arc<StopFlag>) {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, name) in [(SignalKind::interrupt(), "SIGINT"), (SignalKind::terminate(), "SIGTERM"), (SignalKind::hangup(), "SIGHUP")] {
        let stop = stop.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                if s.recv().await.is_some() {
                    stop.request(name);
                }
            });
        }
    }
}
