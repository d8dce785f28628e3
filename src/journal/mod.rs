//! STUB
use std::path::{Path, PathBuf};
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunId(pub String);
impl std::fmt::Display for RunId { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) } }
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventKind { Enter, Ok, Fail, Info }
impl std::fmt::Display for EventKind { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{:?}", self) } }
pub struct NewRun { pub cluster: String, pub operator: String, pub host: String, pub pid: u32, pub command: String, pub inventory_path: String, pub inventory: serde_json::Value, pub workflow: String }
#[derive(Debug, Clone)]
pub struct Run { pub id: RunId, pub cluster: String, pub started_at: i64, pub operator: String, pub host: String, pub pid: u32, pub command: String, pub inventory_path: String, pub inventory: serde_json::Value, pub workflow: String }
pub struct NewEvent { pub node: Option<String>, pub pass: Option<String>, pub phase: String, pub kind: EventKind, pub detail: serde_json::Value, pub reverts: Option<i64> }
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event { pub run_id: RunId, pub seq: i64, pub at: i64, pub node: Option<String>, pub pass: Option<String>, pub phase: String, pub kind: EventKind, pub detail: serde_json::Value, pub reverts: Option<i64> }
pub struct LockHolder { pub run_id: RunId, pub fingerprint: String, pub pid: u32, pub host: String, pub user: String, pub acquired_at: i64 }
#[derive(Debug, thiserror::Error)]
pub enum JournalError { #[error("x")] LockHeld { cluster: String }, #[error("y")] Other }
type R<T> = Result<T, JournalError>;
pub struct Journal;
impl Journal {
  pub fn open(_p: &Path) -> R<Journal> { Err(JournalError::Other) }
  pub fn path(&self) -> Option<&Path> { None }
  pub fn create_run(&self, _r: &NewRun) -> R<Run> { Err(JournalError::Other) }
  pub fn append(&self, _r: &RunId, _e: &NewEvent) -> R<Event> { Err(JournalError::Other) }
  pub fn events(&self, _r: &RunId) -> R<Vec<Event>> { Err(JournalError::Other) }
  pub fn run(&self, _id: &str) -> R<Option<Run>> { Err(JournalError::Other) }
  pub fn latest_run(&self, _c: Option<&str>) -> R<Option<Run>> { Err(JournalError::Other) }
  pub fn acquire_lock(&self, _c: &str, _h: &LockHolder) -> R<()> { Err(JournalError::Other) }
  pub fn lock_holder(&self, _c: &str) -> R<Option<LockHolder>> { Err(JournalError::Other) }
  pub fn release_lock(&self, _c: &str, _r: &RunId) -> R<()> { Err(JournalError::Other) }
  pub fn break_lock(&self, _c: &str) -> R<Option<LockHolder>> { Err(JournalError::Other) }
}
pub fn default_path() -> PathBuf { PathBuf::new() }
