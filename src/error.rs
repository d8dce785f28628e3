//! The one error type the command line shows, and the exit codes it maps to.
//!
//! Each layer has its own thiserror enum (journal, transport, yaml, workflow, ...); the
//! CLI converts them into a [`CommandError`] with a kind (which picks the exit code) and
//! `Hint:` lines that give the exact next command. All operator-facing wording of an
//! error lives in the layers' `Display` impls and in the hints added here.

use std::fmt;

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
}

impl CommandError {
    /// Returns a usage/configuration error.
    pub fn usage(message: impl fmt::Display) -> CommandError {
        CommandError { kind: ErrorKind::Usage, message: message.to_string(), hints: vec![] }
    }
    /// Returns a failure of the job itself.
    pub fn failed(message: impl fmt::Display) -> CommandError {
        CommandError { kind: ErrorKind::Failed, message: message.to_string(), hints: vec![] }
    }
    /// Returns an error of the given kind.
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> CommandError {
        CommandError { kind, message: message.to_string(), hints: vec![] }
    }
    /// Adds a `Hint:` line.
    pub fn hinted(mut self, hint: impl fmt::Display) -> CommandError {
        self.hints.push(hint.to_string());
        self
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

impl std::error::Error for CommandError {}

macro_rules! usage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> CommandError {
                CommandError::usage(e)
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

impl From<crate::journal::JournalError> for CommandError {
    fn from(e: crate::journal::JournalError) -> CommandError {
        use crate::journal::JournalError as J;
        match &e {
            J::LockHeld { .. } => CommandError::new(ErrorKind::Locked, e),
            J::NotAJournal { .. } | J::Foreign { .. } => CommandError::usage(e).hinted(
                "name the journal with `--journal PATH` (or `RINGMASTER_JOURNAL`); to start a new journal here, move this file aside first",
            ),
            _ if e.is_damaged() => {
                let p = crate::transport::shell_quote(&e.path().display().to_string());
                let recovered = crate::transport::shell_quote(&format!("{}.recovered", e.path().display()));
                CommandError::new(ErrorKind::Failed, e).hinted(format!(
                    "the journal file is damaged: keep a copy for the post-mortem, recover what SQLite can read with \
                     `sqlite3 {p} .recover | sqlite3 {recovered}` and run the command again with `--journal {recovered}`"
                ))
            }
            _ => CommandError::new(ErrorKind::Failed, e),
        }
    }
}

impl From<crate::transport::TransportError> for CommandError {
    fn from(e: crate::transport::TransportError) -> CommandError {
        CommandError::failed(e)
    }
}

impl From<crate::ui::out::StdoutError> for CommandError {
    fn from(e: crate::ui::out::StdoutError) -> CommandError {
        CommandError::failed(e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> CommandError {
        CommandError::failed(e)
    }
}

/// Returns the 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(super::line_col("ab\ncd", 0), (1, 1));
        assert_eq!(super::line_col("ab\ncd", 4), (2, 2));
    }
}
