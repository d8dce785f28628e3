//! The cluster lock: one process drives a cluster at a time.

use super::RunError;
use super::record::Recorder;
use crate::history::{PreviousHolder, RunEvent};
use crate::inventory::Inventory;
use crate::journal::{Journal, LockHolder, Run};
use crate::secrets::Secrets;

/// Takes the cluster lock for `run`, or says who holds it. A holder whose process is gone
/// is taken over when it was this run's own (a resume after a crash) or with
/// `break_lock`; the takeover is journaled.
pub fn take(journal: &Journal, run: &Run, inventory: &Inventory, secrets: &Secrets, break_lock: bool) -> Result<(), RunError> {
    let pid = std::process::id();
    let me = LockHolder {
        run_id: run.id.clone(),
        fingerprint: inventory.fingerprint(),
        pid,
        host: crate::host::hostname(),
        user: crate::host::username(),
        acquired_at: crate::clock::now_ms(),
        start_time: crate::host::process_start_time(pid),
    };
    if let Some(holder) = journal.lock_holder(&inventory.cluster)? {
        let alive = holder.is_alive();
        let ours_and_gone = holder.run_id == run.id && !alive;
        if alive && holder.pid != me.pid {
            return Err(RunError::LockHeld { cluster: inventory.cluster.clone(), holder: Box::new(holder) });
        }
        if !ours_and_gone && !break_lock {
            return Err(RunError::LockStale { cluster: inventory.cluster.clone(), holder: Box::new(holder) });
        }
        let broken = journal.break_lock(&inventory.cluster)?;
        let previous_holder =
            broken.map(|b| PreviousHolder { run: b.run_id.to_string(), pid: b.pid, host: b.host, user: b.user, since: b.acquired_at });
        Recorder::new(journal, &run.id, secrets).record(&RunEvent::LockTakenOver { previous_holder, explicit: break_lock })?;
    }
    journal.acquire_lock(&inventory.cluster, &me)?;
    Ok(())
}

/// Releases the cluster lock that `run` holds.
pub fn release(journal: &Journal, run: &Run, inventory: &Inventory) -> Result<(), RunError> {
    Ok(journal.release_lock(&inventory.cluster, &run.id)?)
}
