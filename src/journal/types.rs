//! The records the journal stores and hands back: runs, events, lock holders.
//!
//! These are plain data with `serde::Serialize`, so export (jsonl, markdown, html) is a
//! derive rather than hand-built output. Field meanings match the columns documented in
//! `migrations/0001_create_journal.sql`; times are unix milliseconds (UTC).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Identifies a run: a lowercase, hyphenated uuid v7, so ids sort by creation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub String);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an event records about its phase: entering it, its outcome, or a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The phase is about to act (written before anything touches a node).
    Enter,
    /// The phase finished successfully.
    Ok,
    /// The phase failed; `detail` holds the evidence.
    Fail,
    /// A note that changes no phase (lock broken, operator message, ...).
    Info,
}

impl EventKind {
    /// Returns the lowercase name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Enter => "enter",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string names no [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind `{0}` (expected `enter`, `ok`, `fail` or `info`)")]
pub struct ParseEventKindError(pub String);

impl FromStr for EventKind {
    type Err = ParseEventKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "enter" => Ok(EventKind::Enter),
            "ok" => Ok(EventKind::Ok),
            "fail" => Ok(EventKind::Fail),
            "info" => Ok(EventKind::Info),
            other => Err(ParseEventKindError(other.to_owned())),
        }
    }
}

/// Describes a run about to start; the journal adds its id and start time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// Cluster name from the inventory.
    pub cluster: String,
    /// The operator's user name.
    pub operator: String,
    /// The host ringmaster runs on.
    pub host: String,
    /// This process's id.
    pub pid: u32,
    /// The command line, argv joined with spaces; must hold no secret.
    pub command: String,
    /// Where the inventory was read from.
    pub inventory_path: String,
    /// Snapshot of the inventory as JSON; must hold no secret.
    pub inventory: serde_json::Value,
    /// The workflow definition (TOML text) the run follows.
    pub workflow: String,
}

/// A run as recorded in the journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// The run's id.
    pub id: RunId,
    /// Cluster name from the inventory.
    pub cluster: String,
    /// When the run was created, unix milliseconds.
    pub started_at: i64,
    /// The operator's user name.
    pub operator: String,
    /// The host ringmaster ran on.
    pub host: String,
    /// The process id that created the run.
    pub pid: u32,
    /// The command line that created the run.
    pub command: String,
    /// Where the inventory was read from.
    pub inventory_path: String,
    /// Snapshot of the inventory as JSON.
    pub inventory: serde_json::Value,
    /// The workflow definition (TOML text) the run follows.
    pub workflow: String,
}

/// Describes an event to append; the journal adds the run id, `seq` and time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The node the event concerns, `None` for run-level events.
    pub node: Option<String>,
    /// The workflow pass, `None` outside a pass.
    pub pass: Option<String>,
    /// The phase name (`backup`, `edit`, `restart`, ...).
    pub phase: String,
    /// Enter, outcome or note.
    pub kind: EventKind,
    /// Evidence or parameters as JSON; must already be redacted.
    pub detail: serde_json::Value,
    /// `seq` of an earlier event of the same run that this one undoes.
    pub reverts: Option<i64>,
}

/// An event as recorded in the journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The run the event belongs to.
    pub run_id: RunId,
    /// Position in the run, 1, 2, 3, ... with no gaps.
    pub seq: i64,
    /// When the event was written, unix milliseconds.
    pub at: i64,
    /// The node the event concerns, `None` for run-level events.
    pub node: Option<String>,
    /// The workflow pass, `None` outside a pass.
    pub pass: Option<String>,
    /// The phase name.
    pub phase: String,
    /// Enter, outcome or note.
    pub kind: EventKind,
    /// Evidence or parameters as JSON.
    pub detail: serde_json::Value,
    /// `seq` of an earlier event of the same run that this one undoes.
    pub reverts: Option<i64>,
}

/// Who holds (or wants) a cluster's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockHolder {
    /// The run holding the lock; it must exist in the journal.
    pub run_id: RunId,
    /// Fingerprint of the inventory the run works from.
    pub fingerprint: String,
    /// Process id of the holder.
    pub pid: u32,
    /// Host the holder runs on.
    pub host: String,
    /// User running the holder.
    pub user: String,
    /// When the lock was taken, unix milliseconds.
    pub acquired_at: i64,
    /// The holder process's start time (clock ticks since boot, `/proc/PID/stat` field 22),
    /// which tells a live holder from a new process that got its pid; `None` for locks
    /// taken by an older ringmaster.
    pub start_time: Option<u64>,
}

impl LockHolder {
    /// Returns true when the holder process still runs: same host, `/proc/PID` exists and,
    /// when the lock recorded one, that process has the recorded start time (so a pid the
    /// kernel reused for another process does not keep a stale lock alive).
    pub fn is_alive(&self) -> bool {
        if self.host != crate::host::hostname() {
            return false;
        }
        match self.start_time {
            Some(recorded) => crate::host::process_start_time(self.pid) == Some(recorded),
            None => std::path::Path::new(&format!("/proc/{}", self.pid)).exists(),
        }
    }
}
