//! Typed phase details: what a node's phase journals with its `enter` (what a repeat of the
//! phase needs) and with its outcome (`ok`, or `fail` with evidence), and the read-backs of
//! them that the driver and the export need.
//!
//! The JSON is the same as the untyped details before these types (serde_json sorts an
//! object's keys, so field order does not matter); a field added after the first journals
//! is `#[serde(default)]`, so every journal ever written still reads back. A field is
//! `required` in docs/journal-schema.json exactly when these types need it to read a detail
//! (`tests/it/journal_schema.rs` holds the two together).
//!
//! Left as JSON, because nothing reads them back: the `pending` ok (`position`, `of`,
//! `batch`) and the `stage_keys` details, written by the driver's step and key staging.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::journal::{Event, EventKind};

/// A phase detail: written as the journal's `detail`, read back from it.
pub trait Detail: Serialize + DeserializeOwned {
    /// Returns the detail as the journal stores it.
    fn to_json(&self) -> Json {
        serde_json::to_value(self).expect("BUG: a phase detail always serializes")
    }

    /// Reads the detail back; `None` when `detail` is not one of this kind.
    fn of(detail: &Json) -> Option<Self> {
        Self::deserialize(detail).ok()
    }
}

/// `edit` and `rollback` `enter`: the config path and the file it resolves to (the same
/// path unless it is a symlink; `None` when it could not be resolved, and the action then
/// fails and says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigIntent {
    pub config: String,
    pub config_target: Option<String>,
}

/// `backup` `enter`: the backup's path and both config paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupIntent {
    pub backup: String,
    #[serde(default)]
    pub config: Option<String>,
    #[serde(default)]
    pub config_target: Option<String>,
}

/// `drain` `enter`: the command it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandIntent {
    pub command: String,
}

/// `restart` and `rollback_restart` `enter`: the size of system.log before the restart (a
/// boot after it is one this step caused) and the command. A repeat of an interrupted
/// restart journals only the first intent's offset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestartIntent {
    #[serde(default)]
    pub log_offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `rollback_restart` with `drain_before_restart`: the drain run first (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<String>,
}

/// `backup` `ok`: the backup made (or found and adopted, `existing`) and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupOk {
    pub backup: String,
    pub sha256: String,
    pub size: u64,
    pub existing: bool,
    #[serde(default)]
    pub config: Option<String>,
    #[serde(default)]
    pub config_target: Option<String>,
    /// Temp files of an interrupted write that a killed ringmaster left, removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_stale_temp_files: Vec<String>,
}

/// `backup` `fail`: the copy does not hold the original's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupMismatch {
    pub error: String,
    /// The copy's hash; `None` when the copy is gone.
    pub found_sha256: Option<String>,
    pub expected_sha256: String,
}

/// `edit` `ok` (and the `rollback` `ok` of a later pass, which puts the previous pass's
/// values back with the same editor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditOk {
    #[serde(default)]
    pub config: Option<String>,
    #[serde(default)]
    pub config_target: Option<String>,
    pub changed: bool,
    /// The pass whose values were rendered.
    pub values: String,
    pub before_sha256: String,
    pub after_sha256: String,
    pub release: String,
    /// Unified diff, passwords masked.
    pub diff: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_stale_temp_files: Vec<String>,
    /// A rollback's: the pass whose values were put back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_values_of: Option<String>,
}

/// `rollback` `ok` of the first pass: the backup put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreOk {
    pub restored_from: String,
    pub sha256: String,
    #[serde(default)]
    pub config: Option<String>,
    #[serde(default)]
    pub config_target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_stale_temp_files: Vec<String>,
}

/// The outcome of a command (`drain`, `restart`, `rollback_restart`), `ok` or `fail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    pub command: String,
    /// The exit status; `None` when a signal ended the command.
    pub exit: Option<i32>,
    /// The last lines of its output.
    pub stdout: String,
    pub stderr: String,
    /// A restart's `ok`: the log offset of its intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_offset: Option<u64>,
    /// A `rollback_restart`'s drain, run first, whatever it answered: a node that failed
    /// to start has nothing to drain, and that must not stop its rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<Box<CommandOutcome>>,
}

/// The `ok` of a repeated restart that found the node had already booted after the
/// first intent (the command is not run again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlreadyBooted {
    pub already_booted: bool,
    pub boot_line: String,
    pub log_offset: u64,
}

/// `restart` and `rollback_restart` `ok`: the command ran, or the node had already booted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RestartOk {
    AlreadyBooted(AlreadyBooted),
    Ran(CommandOutcome),
}

impl RestartOk {
    /// Returns the log offset before the restart: only log lines after it count.
    pub fn log_offset(&self) -> u64 {
        match self {
            RestartOk::AlreadyBooted(b) => b.log_offset,
            RestartOk::Ran(c) => c.log_offset.unwrap_or(0),
        }
    }
}

/// `await_un` and `rollback_await_un` `ok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitUnOk {
    /// From the restart to UN in every node's view.
    pub elapsed_ms: u64,
    pub polls: u32,
    /// The workflow's `log.joined` line showed before UN.
    #[serde(default)]
    pub joined_line_seen: bool,
    /// What each node's `nodetool status` said.
    pub views: BTreeMap<String, String>,
}

/// `await_un` and `rollback_await_un` `fail`: the node logged a fatal error (`evidence`)
/// or was not UN everywhere in time (`polls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitUnFailure {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<Evidence>>,
    pub views: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polls: Option<u32>,
}

/// `verify_log` and `rollback_verify` outcome: what the log said after the restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyLog {
    pub log: String,
    /// Where the scan began: the restart's offset, or 0 for a rotated log.
    pub from_offset: u64,
    pub rotated: bool,
    pub success_line: Option<String>,
    pub listener_line: Option<String>,
    pub evidence: Vec<Evidence>,
    /// A `fail`'s problems, `; `-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A log line that matched an error pattern, and the lines after it (the `Caused by:`
/// chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub line: String,
    #[serde(default)]
    pub context: Vec<String>,
}

impl From<&crate::cassandra::log::Evidence> for Evidence {
    fn from(e: &crate::cassandra::log::Evidence) -> Evidence {
        Evidence { line: e.line.clone(), context: e.context.clone() }
    }
}

/// A `fail` detail as every reader reads it (the export, the failure report): each phase
/// writes its own failure ([`CommandOutcome`], [`VerifyLog`], [`AwaitUnFailure`], ...),
/// and these are the keys they share. The phases with nothing more to say than an error
/// (and a hint) write this one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Failure {
    /// One line naming the node (a failed command says it with `stderr` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the operator should do next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<Evidence>>,
    /// What each node's `nodetool status` said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<BTreeMap<String, String>>,
    /// A failed command's standard error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

impl Failure {
    /// Returns a failure that says `error`.
    pub fn new(error: impl Into<String>) -> Failure {
        Failure { error: Some(error.into()), ..Failure::default() }
    }

    /// Returns the failure with a hint of what to do next.
    pub fn hinted(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

impl Detail for ConfigIntent {}
impl Detail for BackupIntent {}
impl Detail for CommandIntent {}
impl Detail for RestartIntent {}
impl Detail for BackupOk {}
impl Detail for BackupMismatch {}
impl Detail for EditOk {}
impl Detail for RestoreOk {}
impl Detail for CommandOutcome {}
impl Detail for AlreadyBooted {}
impl Detail for RestartOk {}
impl Detail for AwaitUnOk {}
impl Detail for AwaitUnFailure {}
impl Detail for VerifyLog {}
impl Detail for Failure {}

/// Returns the journaled SHA-256 of `node`'s backup, if this run made or adopted one.
pub fn journaled_backup_sha(events: &[Event], node: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| e.node.as_deref() == Some(node) && e.phase == "backup" && e.kind == EventKind::Ok)
        .find_map(|e| BackupOk::of(&e.detail).map(|b| b.sha256))
}

/// Returns the log offset before the latest successful `restart_phase` of `node` in
/// `pass` (0 when there is none): only log lines after it count.
pub fn restart_offset(events: &[Event], node: &str, pass: &str, restart_phase: &str) -> u64 {
    events
        .iter()
        .rev()
        .filter(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass))
        .find(|e| e.phase == restart_phase && e.kind == EventKind::Ok)
        .and_then(|e| RestartOk::of(&e.detail))
        .map(|r| r.log_offset())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Details as the first journals wrote them (before `config`, `config_target` and
    /// `joined_line_seen`): they still read back.
    #[test]
    fn the_phase_details_of_the_first_journals_read_back_typed() {
        let backup = BackupOk::of(&json!({"backup": "/c.yaml.bak", "sha256": "ab", "size": 3, "existing": true})).unwrap();
        assert_eq!((backup.sha256.as_str(), backup.config), ("ab", None));
        let edit =
            json!({"changed": true, "values": "optional", "before_sha256": "a", "after_sha256": "b", "release": "V5_0", "diff": "-x\n+y"});
        assert!(EditOk::of(&edit).unwrap().changed);
        assert_eq!(RestoreOk::of(&json!({"restored_from": "/c.yaml.bak", "sha256": "ab"})).unwrap().restored_from, "/c.yaml.bak");
        assert_eq!(AwaitUnOk::of(&json!({"elapsed_ms": 1500, "polls": 3, "views": {"n1": "all UN"}})).unwrap().elapsed_ms, 1500);
        assert_eq!(RestartIntent::of(&json!({"log_offset": 42, "command": "systemctl restart cassandra"})).unwrap().log_offset, 42);
        assert_eq!(RestartIntent::of(&json!({})).unwrap().log_offset, 0, "an intent without offset reads as 0, as before");
    }

    #[test]
    fn restart_outcomes_read_back_their_offset_either_way() {
        let ran = json!({"command": "restart", "exit": 0, "stdout": "", "stderr": "", "log_offset": 7});
        let booted = json!({"already_booted": true, "boot_line": "Starting", "log_offset": 9});
        assert_eq!(RestartOk::of(&ran).unwrap().log_offset(), 7);
        assert_eq!(RestartOk::of(&booted).unwrap().log_offset(), 9);
        assert_eq!(RestartOk::of(&ran).unwrap().to_json(), ran, "written back byte for byte");
        assert_eq!(RestartOk::of(&booted).unwrap().to_json(), booted);
    }

    #[test]
    fn a_failure_reads_the_shared_keys_of_any_phase_failure() {
        let verify = json!({"log": "/l", "from_offset": 0, "rotated": false, "success_line": null, "listener_line": null,
            "evidence": [{"line": "ERROR x", "context": ["Caused by: y"]}], "error": "no boot"});
        let f = Failure::of(&verify).unwrap();
        assert_eq!(f.error.as_deref(), Some("no boot"));
        assert_eq!(f.evidence.unwrap()[0].context, vec!["Caused by: y".to_string()]);
        assert_eq!(Failure::new("gone").hinted("move it").to_json(), json!({"error": "gone", "hint": "move it"}));
    }
}
