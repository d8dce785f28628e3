//! `JournalError`: everything that can go wrong between ringmaster and its journal.
//!
//! Every message names the journal file, because an operator with several journals
//! (`--journal`, `RINGMASTER_JOURNAL`) must know which one is meant. Hints ("run
//! `ringmaster ...`") are left to the CLI, which knows the command names; the variants
//! carry the data it needs (the lock holder, the ambiguous matches, the versions).

use std::path::PathBuf;

use super::types::LockHolder;

/// An error from the journal; every variant names the journal file in `path`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal's parent directory could not be created.
    #[error("cannot create directory `{}` for journal `{}`: {source}", .dir.display(), .path.display())]
    CreateDir {
        /// The journal file.
        path: PathBuf,
        /// The directory that could not be created.
        dir: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The file could not be opened or configured as a SQLite database.
    #[error("cannot open journal `{}`: {source}", .path.display())]
    Open {
        /// The journal file.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },

    /// A schema migration failed; the journal is left at the previous version.
    #[error("journal `{}`: migration `{migration}` failed: {}", .path.display(), sqlite_message(.source))]
    Migrate {
        /// The journal file.
        path: PathBuf,
        /// The migration's file stem, e.g. `0001_create_journal`.
        migration: &'static str,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },

    /// The file is not a SQLite database at all, or a damaged one.
    #[error("`{}` is not a ringmaster journal: {}", .path.display(), sqlite_message(.source))]
    NotAJournal {
        /// The file given as journal.
        path: PathBuf,
        /// What SQLite reported (not a database, malformed).
        #[source]
        source: rusqlite::Error,
    },

    /// The file is a SQLite database of something else: it has tables but no journal schema.
    #[error("`{}` is a SQLite database but not a ringmaster journal (it has tables of its own: {tables}); ringmaster leaves it as it is", .path.display())]
    Foreign {
        /// The file given as journal.
        path: PathBuf,
        /// Some of its tables, for recognising it.
        tables: String,
    },

    /// The journal was written by a newer ringmaster whose schema this one does not know.
    #[error(
        "journal `{}` has schema version {found}, but this ringmaster knows only up to version {known}; it was written by a newer ringmaster",
        .path.display()
    )]
    TooNew {
        /// The journal file.
        path: PathBuf,
        /// The journal's `PRAGMA user_version`.
        found: i64,
        /// The newest version this binary can migrate to.
        known: i64,
    },

    /// A read-only open found an older schema, which only a writable open can migrate.
    #[error(
        "journal `{}` has schema version {found}, older than version {known} of this ringmaster, and it cannot be migrated while it is read-only",
        .path.display()
    )]
    NeedsMigration {
        /// The journal file.
        path: PathBuf,
        /// The journal's `PRAGMA user_version`.
        found: i64,
        /// The version this binary migrates to.
        known: i64,
    },

    /// A query or write failed.
    #[error("journal `{}`: cannot {op}: {source}", .path.display())]
    Sqlite {
        /// The journal file.
        path: PathBuf,
        /// What was being done, e.g. `append an event`.
        op: &'static str,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },

    /// A value could not be encoded as JSON for storage.
    #[error("journal `{}`: cannot encode {what} as JSON: {source}", .path.display())]
    Json {
        /// The journal file.
        path: PathBuf,
        /// Which value, e.g. `event detail`.
        what: &'static str,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },

    /// The run named by an append or a lock does not exist in this journal.
    #[error("journal `{}` has no run `{run_id}`", .path.display())]
    UnknownRun {
        /// The journal file.
        path: PathBuf,
        /// The id that was asked for.
        run_id: String,
    },

    /// A run id prefix matches more than one run.
    #[error(
        "journal `{}`: run id prefix `{prefix}` is ambiguous; it matches {}",
        .path.display(),
        .matches.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousRunId {
        /// The journal file.
        path: PathBuf,
        /// The prefix that was given.
        prefix: String,
        /// The ids it matches, oldest first.
        matches: Vec<String>,
    },

    /// An event would revert an event that its run does not have (yet).
    #[error(
        "journal `{}`: an event of run `{run_id}` cannot revert event {reverts}: the run's events are numbered 1 to {last}",
        .path.display()
    )]
    InvalidReverts {
        /// The journal file.
        path: PathBuf,
        /// The run being appended to.
        run_id: String,
        /// The `seq` the new event claimed to revert.
        reverts: i64,
        /// The run's last `seq` so far (0 when it has none).
        last: i64,
    },

    /// Another run holds the cluster's lock.
    #[error(
        "journal `{}`: cluster `{cluster}` is locked by run `{}` (pid {} on host `{}`, user `{}`, since {})",
        .path.display(), .holder.run_id, .holder.pid, .holder.host, .holder.user,
        format_unix_ms(.holder.acquired_at)
    )]
    LockHeld {
        /// The journal file.
        path: PathBuf,
        /// The cluster whose lock was asked for.
        cluster: String,
        /// Who holds it.
        holder: Box<LockHolder>,
    },

    /// A run tried to release a lock that another run holds.
    #[error(
        "journal `{}`: run `{run_id}` cannot release the lock on cluster `{cluster}`: it is held by run `{}` (pid {} on host `{}`)",
        .path.display(), .holder.run_id, .holder.pid, .holder.host
    )]
    LockNotOwned {
        /// The journal file.
        path: PathBuf,
        /// The cluster whose lock was to be released.
        cluster: String,
        /// The run that tried to release it.
        run_id: String,
        /// Who actually holds it.
        holder: Box<LockHolder>,
    },
}

impl JournalError {
    /// Returns the journal file the error is about.
    pub fn path(&self) -> &std::path::Path {
        use JournalError::*;
        match self {
            CreateDir { path, .. }
            | Open { path, .. }
            | Migrate { path, .. }
            | NotAJournal { path, .. }
            | Foreign { path, .. }
            | TooNew { path, .. }
            | NeedsMigration { path, .. }
            | Sqlite { path, .. }
            | Json { path, .. }
            | UnknownRun { path, .. }
            | AmbiguousRunId { path, .. }
            | InvalidReverts { path, .. }
            | LockHeld { path, .. }
            | LockNotOwned { path, .. } => path,
        }
    }

    /// Returns true when SQLite found the file damaged ("malformed") or no database at all,
    /// whichever operation noticed it.
    pub fn is_damaged(&self) -> bool {
        match self {
            JournalError::NotAJournal { .. } => true,
            JournalError::Open { source, .. } | JournalError::Sqlite { source, .. } | JournalError::Migrate { source, .. } => {
                is_not_a_database(source)
            }
            _ => false,
        }
    }
}

/// Returns SQLite's own message for `e`, without the SQL text rusqlite appends to a failed
/// statement (a migration's whole file).
pub(crate) fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

/// Returns true when `e` says the file is no database or a damaged one.
pub(crate) fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
}

/// Returns a unix-millisecond time as RFC 3339 UTC, or the raw number if out of range.
pub fn format_unix_ms(ms: i64) -> String {
    let formatted = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok());
    formatted.unwrap_or_else(|| format!("{ms} ms after the unix epoch"))
}
