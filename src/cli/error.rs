//! The one error type the command line shows, and the exit codes it maps to.
//!
//! Each layer has its own thiserror enum (journal, transport, yaml, workflow, ...); the
//! CLI converts them into a [`CommandError`] with a kind (which picks the exit code) and
//! `Hint:` lines that give the exact next command. All operator-facing wording of an
//! error lives in the layers' `Display` impls and in the hints added here. The layer's
//! error itself is kept as the [`source`](std::error::Error::source), so a caller can
//! still ask what went wrong in types, not by reading the message.
//!
//! This module depends on the layers, never the other way round.

use std::fmt;

/// The underlying error of a [`CommandError`].
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Exit codes, documented in README.md.
pub mod exit {
    /// The run (or command) completed.
    pub const OK: i32 = 0;
    /// The run failed: a node was rolled back or needs an operator.
    pub const FAILED: i32 = 1;
    /// Usage or configuration error (inventory, secrets, workflow, arguments).
    pub const USAGE: i32 = 2;
    /// Preflight found blockers; nothing was touched.
    pub const PREFLIGHT: i32 = 3;
    /// Interrupted by a signal at a safe point; `resume` continues.
    pub const INTERRUPTED: i32 = 4;
    /// Another run holds the cluster lock.
    pub const LOCKED: i32 = 5;
}

/// Which kind of failure, and so which exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Failed,
    Usage,
    Preflight,
    Interrupted,
    Locked,
}

impl ErrorKind {
    /// Returns the process exit code of this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed => exit::FAILED,
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::Preflight => exit::PREFLIGHT,
            ErrorKind::Interrupted => exit::INTERRUPTED,
            ErrorKind::Locked => exit::LOCKED,
        }
    }
}

/// An error as the operator sees it: `error: ...` then `Hint: ...` lines.
#[derive(Debug)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
    source: Option<Source>,
}

impl CommandError {
    /// Returns a usage/configuration error.
    pub fn usage(message: impl fmt::Display) -> CommandError {
        CommandError::new(ErrorKind::Usage, message)
    }
    /// Returns a failure of the job itself.
    pub fn failed(message: impl fmt::Display) -> CommandError {
        CommandError::new(ErrorKind::Failed, message)
    }
    /// Returns an error of the given kind.
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> CommandError {
        CommandError { kind, message: message.to_string(), hints: vec![], source: None }
    }
    /// Returns an error of the given kind whose message is `error`'s, keeping `error` as the source.
    pub fn from_source(kind: ErrorKind, error: impl std::error::Error + Send + Sync + 'static) -> CommandError {
        CommandError::new(kind, &error).caused_by(error)
    }
    /// Keeps `error` as the source of this error; the message stays as it is.
    pub fn caused_by(mut self, error: impl Into<Source>) -> CommandError {
        self.source = Some(error.into());
        self
    }
    /// Adds a `Hint:` line.
    pub fn hinted(mut self, hint: impl fmt::Display) -> CommandError {
        self.hints.push(hint.to_string());
        self
    }
    /// Returns the underlying error when it is an `E`.
    pub fn source_as<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.as_deref().and_then(|e| e.downcast_ref::<E>())
    }
    /// Returns the underlying error (the message as one when there is none) and the hints.
    pub fn into_parts(self) -> (Source, Vec<String>) {
        let message = self.message;
        (self.source.unwrap_or_else(|| message.into()), self.hints)
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for hint in &self.hints {
            write!(f, "\nHint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

macro_rules! usage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> CommandError {
                CommandError::from_source(ErrorKind::Usage, e)
            }
        }
    )*};
}

usage_from!(
    crate::inventory::InventoryError,
    crate::secrets::SecretsError,
    crate::workflow::WorkflowError,
    crate::cassandra::yaml::YamlError,
    crate::cassandra::status::StatusParseError
);

impl From<crate::run::RunError> for CommandError {
    fn from(e: crate::run::RunError) -> CommandError {
        use crate::run::RunError as R;
        match e {
            R::Journal(j) => j.into(),
            R::Stopped { run, rm, error } => {
                CommandError::from(*error).hinted(format!("`{rm} resume {run}` continues from where it stopped"))
            }
            e => {
                let kind = match &e {
                    R::Inventory(_) | R::Workflow(_) | R::Secrets(_) | R::NoRun { .. } | R::ResumeRefused { .. } => ErrorKind::Usage,
                    R::LockHeld { .. } | R::LockStale { .. } => ErrorKind::Locked,
                    R::Refused { .. } => ErrorKind::Preflight,
                    _ => ErrorKind::Failed,
                };
                let hints = e.hints();
                hints.into_iter().fold(CommandError::from_source(kind, e), CommandError::hinted)
            }
        }
    }
}

impl From<crate::journal::JournalError> for CommandError {
    fn from(e: crate::journal::JournalError) -> CommandError {
        use crate::journal::JournalError as J;
        match &e {
            J::LockHeld { .. } => CommandError::from_source(ErrorKind::Locked, e),
            J::NotAJournal { .. } | J::Foreign { .. } => CommandError::from_source(ErrorKind::Usage, e).hinted(
                "name the journal with `--journal PATH` (or `RINGMASTER_JOURNAL`); to start a new journal here, move this file aside first",
            ),
            _ if e.is_damaged() => {
                let p = crate::transport::shell_quote(&e.path().display().to_string());
                let recovered = crate::transport::shell_quote(&format!("{}.recovered", e.path().display()));
                let hint = format!(
                    "the journal file is damaged: keep a copy for the post-mortem, recover what SQLite can read with \
                     `sqlite3 {p} .recover | sqlite3 {recovered}` and run the command again with `--journal {recovered}`"
                );
                CommandError::from_source(ErrorKind::Failed, e).hinted(hint)
            }
            _ => CommandError::from_source(ErrorKind::Failed, e),
        }
    }
}

impl From<crate::transport::TransportError> for CommandError {
    fn from(e: crate::transport::TransportError) -> CommandError {
        CommandError::from_source(ErrorKind::Failed, e)
    }
}

impl From<crate::ui::out::StdoutError> for CommandError {
    fn from(e: crate::ui::out::StdoutError) -> CommandError {
        CommandError::from_source(ErrorKind::Failed, e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> CommandError {
        CommandError::from_source(ErrorKind::Failed, e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::{CommandError, ErrorKind};
    use crate::journal::{JournalError, LockHolder, RunId};

    #[test]
    fn house_6_a_command_error_keeps_the_journal_error_as_its_source_under_its_hints() {
        let holder = LockHolder {
            run_id: RunId("r1".into()),
            fingerprint: "f".into(),
            pid: 7,
            host: "h".into(),
            user: "u".into(),
            acquired_at: 0,
            start_time: None,
        };
        let journal_error = JournalError::LockHeld { path: "j.db".into(), cluster: "c1".into(), holder: Box::new(holder) };
        let shown = journal_error.to_string();
        let e = CommandError::from(journal_error).hinted("wait for that run");
        assert_eq!(e.kind, ErrorKind::Locked);
        assert_eq!(e.to_string(), format!("error: {shown}\nHint: wait for that run"), "the operator sees what they saw before");
        let source = e.source().expect("the journal error is the source");
        assert!(matches!(source.downcast_ref::<JournalError>(), Some(JournalError::LockHeld { cluster, .. }) if cluster == "c1"));
        assert!(e.source_as::<JournalError>().is_some());
        assert!(CommandError::failed("plain").source().is_none());
    }
}
