//! The append-only SQLite journal: the only module in ringmaster that knows SQL.
//!
//! A run is a row in `runs`; everything it does is a row in `events`, written and
//! fsync'd before and after each action, so an interrupted run resumes where it
//! stopped and a post-mortem can be exported from it. History is never rewritten: a
//! rollback appends events that name what they revert (`reverts`), and triggers make
//! the database itself refuse to change or remove an event. The `locks` table lets at
//! most one run change a cluster at a time, across processes and hosts sharing the file.
//!
//! Durability over speed: `synchronous=FULL` in WAL mode costs well under a millisecond
//! per committed event on an SSD, nothing next to an SSH round-trip, and a power cut
//! must never lose the record of a node that was already restarted.
//!
//! Layout: `types` (the records), `error` (`JournalError`), `migrate` (schema
//! migrations run by [`Journal::open`]), `lock` (the cluster lock); this file opens the
//! database and reads and writes runs and events.

mod error;
mod lock;
mod migrate;
mod types;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::types::Type;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use crate::clock::now_ms;

pub use error::{JournalError, format_unix_ms};
pub use types::{Event, EventKind, LockHolder, NewEvent, NewRun, ParseEventKindError, Run, RunId};

/// Shorthand for results of journal operations.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What error messages call a journal that has no file.
const IN_MEMORY: &str = ":memory:";

const RUN_COLUMNS: &str = "id, cluster, started_at, operator, host, pid, command, inventory_path, inventory, workflow";
const EVENT_COLUMNS: &str = "run_id, seq, at, node, pass, phase, kind, detail, reverts";

/// An open journal; the only writer of ringmaster's state.
///
/// The connection sits behind a mutex so one `Journal` can be shared (`Arc`) by the
/// tasks driving several nodes; each call holds it for one short statement or
/// transaction.
#[derive(Debug)]
pub struct Journal {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// `path`, or `:memory:`, for error messages.
    label: PathBuf,
}

impl Journal {
    /// Opens (creating it and its parent directories if needed) and migrates the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::CreateDir {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        // No SQLITE_OPEN_URI: a path is always a file name, never a `file:` URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| JournalError::Open { path: path.to_path_buf(), source })?;
        Self::setup(conn, Some(path.to_path_buf())).map_err(not_a_journal)
    }

    /// Opens the existing journal at `path` for reading only (`SQLITE_OPEN_READ_ONLY`), for
    /// the commands that only look (`runs`, `status`, `export`): no WAL switch, no
    /// migration, nothing written, so a read-only file (a copy taken for a post-mortem, a
    /// journal on a read-only mount) can be inspected. Every write fails.
    ///
    /// Refuses a journal whose schema is not exactly this binary's: a newer one
    /// ([`JournalError::TooNew`]) and an older one that would need a migration
    /// ([`JournalError::NeedsMigration`]).
    pub fn open_read_only(path: &Path) -> Result<Journal> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open_err = |source| JournalError::Open { path: path.to_path_buf(), source };
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        migrate::require_current(&conn, path).map_err(not_a_journal)?;
        Ok(Journal { conn: Mutex::new(conn), path: Some(path.to_path_buf()), label: path.to_path_buf() })
    }

    /// Opens a fresh, migrated journal that lives in memory only (for tests and demos).
    pub fn open_in_memory() -> Result<Journal> {
        let conn = Connection::open_in_memory().map_err(|source| JournalError::Open { path: PathBuf::from(IN_MEMORY), source })?;
        Self::setup(conn, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Journal> {
        let label = path.clone().unwrap_or_else(|| PathBuf::from(IN_MEMORY));
        let fail = |op| {
            let label = label.clone();
            move |source| JournalError::Sqlite { path: label, op, source }
        };
        // The busy timeout first: switching to WAL needs a lock another opener may hold.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail("set the busy timeout"))?;
        migrate::refuse_foreign(&conn, &label)?;
        let mode = enable_wal(&conn).map_err(fail("switch to WAL mode"))?;
        if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
            // Some network file systems cannot do WAL; the rollback journal is still
            // correct (busy_timeout + IMMEDIATE transactions), only slower.
            tracing::warn!(journal = %label.display(), mode, "journal is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail("set synchronous=FULL"))?;
        conn.pragma_update(None, "foreign_keys", true).map_err(fail("enable foreign keys"))?;
        migrate::migrate(&mut conn, &label)?;
        Ok(Journal { conn: Mutex::new(conn), path, label })
    }

    /// Returns the journal's file, or `None` for an in-memory journal.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Records a new run and returns it with its fresh uuid v7 id and start time.
    #[tracing::instrument(level = "debug", skip_all, fields(cluster = %run.cluster), err)]
    pub fn create_run(&self, run: &NewRun) -> Result<Run> {
        let inventory = self.to_json("run inventory", &run.inventory)?;
        let created = Run {
            id: RunId(uuid::Uuid::now_v7().to_string()),
            cluster: run.cluster.clone(),
            started_at: now_ms(),
            operator: run.operator.clone(),
            host: run.host.clone(),
            pid: run.pid,
            command: run.command.clone(),
            inventory_path: run.inventory_path.clone(),
            inventory: run.inventory.clone(),
            workflow: run.workflow.clone(),
        };
        self.conn()
            .execute(
                &format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    created.id.0,
                    created.cluster,
                    created.started_at,
                    created.operator,
                    created.host,
                    created.pid,
                    created.command,
                    created.inventory_path,
                    inventory,
                    created.workflow,
                ],
            )
            .map_err(self.sql("record a run"))?;
        Ok(created)
    }

    /// Appends an event to `run` in one IMMEDIATE transaction and returns it with its `seq`.
    ///
    /// The next `seq` is read and the row inserted under SQLite's write lock, so several
    /// processes appending to one file get distinct, gap-free numbers; the commit is
    /// fsync'd (`synchronous=FULL`) before this returns.
    #[must_use = "the appended event carries its seq; record or check it"]
    #[tracing::instrument(level = "debug", skip_all, fields(run = %run, node = ev.node.as_deref(), phase = %ev.phase, kind = %ev.kind), err)]
    pub fn append(&self, run: &RunId, ev: &NewEvent) -> Result<Event> {
        let detail = self.to_json("event detail", &ev.detail)?;
        self.write("append an event", |tx| {
            self.require_run(tx, run)?;
            let last: i64 = tx
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?1", [&run.0], |r| r.get(0))
                .map_err(self.sql("number an event"))?;
            if let Some(reverts) = ev.reverts.filter(|r| !(1..=last).contains(r)) {
                return Err(JournalError::InvalidReverts { path: self.label.clone(), run_id: run.0.clone(), reverts, last });
            }
            let event = Event {
                run_id: run.clone(),
                seq: last + 1,
                at: now_ms(),
                node: ev.node.clone(),
                pass: ev.pass.clone(),
                phase: ev.phase.clone(),
                kind: ev.kind,
                detail: ev.detail.clone(),
                reverts: ev.reverts,
            };
            tx.execute(
                &format!("INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    event.run_id.0,
                    event.seq,
                    event.at,
                    event.node,
                    event.pass,
                    event.phase,
                    event.kind.as_str(),
                    detail,
                    event.reverts,
                ],
            )
            .map_err(self.sql("append an event"))?;
            Ok(event)
        })
    }

    /// Returns every event of `run`, ordered by `seq` (empty if the run has none).
    pub fn events(&self, run: &RunId) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE run_id = ?1 ORDER BY seq");
        self.query(&sql, [&run.0], event_from_row, "read events")
    }

    /// Returns the run whose id is `id` or starts with it (like git); an ambiguous prefix is an error.
    pub fn run(&self, id: &str) -> Result<Option<Run>> {
        let prefix = id.trim().to_ascii_lowercase();
        if prefix.is_empty() {
            return Ok(None);
        }
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id");
        let mut found = self.query(&sql, [&prefix], run_from_row, "look up a run")?;
        if found.len() > 1 {
            return Err(JournalError::AmbiguousRunId {
                path: self.label.clone(),
                prefix,
                matches: found.into_iter().map(|r| r.id.0).collect(),
            });
        }
        Ok(found.pop())
    }

    /// Returns every run, newest first.
    pub fn runs(&self) -> Result<Vec<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC");
        self.query(&sql, [], run_from_row, "list runs")
    }

    /// Returns the newest run, of `cluster` if given.
    pub fn latest_run(&self, cluster: Option<&str>) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR cluster = ?1 ORDER BY started_at DESC, id DESC LIMIT 1");
        let mut found = self.query(&sql, [cluster], run_from_row, "find the latest run")?;
        Ok(found.pop())
    }

    /// Locks the connection; a panic in another thread cannot leave a transaction open
    /// (rusqlite rolls back on drop), so a poisoned mutex is still safe to use.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in an IMMEDIATE transaction and commits it if `f` succeeds.
    fn write<T>(&self, op: &'static str, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sql(op))?;
        let out = f(&tx)?;
        tx.commit().map_err(self.sql(op))?;
        Ok(out)
    }

    /// Runs a read query and maps every row with `map`.
    fn query<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
        op: &'static str,
    ) -> Result<Vec<T>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(self.sql(op))?;
        let rows = stmt.query_map(params, map).map_err(self.sql(op))?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(self.sql(op))
    }

    /// Fails with `UnknownRun` unless `run` exists.
    fn require_run(&self, conn: &Connection, run: &RunId) -> Result<()> {
        let exists =
            conn.query_row("SELECT 1 FROM runs WHERE id = ?1", [&run.0], |_| Ok(())).optional().map_err(self.sql("look up a run"))?;
        match exists {
            Some(()) => Ok(()),
            None => Err(JournalError::UnknownRun { path: self.label.clone(), run_id: run.0.clone() }),
        }
    }

    /// Returns a mapper from a SQLite error to a `JournalError` naming this journal and `op`.
    fn sql(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        move |source| JournalError::Sqlite { path: self.label.clone(), op, source }
    }

    fn to_json(&self, what: &'static str, value: &serde_json::Value) -> Result<String> {
        serde_json::to_string(value).map_err(|source| JournalError::Json { path: self.label.clone(), what, source })
    }
}

/// Returns where the journal lives when `--journal` is not given.
///
/// In order: `$RINGMASTER_JOURNAL`, `$XDG_STATE_HOME/ringmaster/journal.db`,
/// `~/.local/state/ringmaster/journal.db`; with no home directory at all, the relative
/// `ringmaster-journal.db`.
pub fn default_path() -> PathBuf {
    path_from_env(|name| std::env::var_os(name), std::env::home_dir())
}

/// [`default_path`] with the environment and home directory passed in, for tests.
fn path_from_env(var: impl Fn(&str) -> Option<std::ffi::OsString>, home: Option<PathBuf>) -> PathBuf {
    let set = |name| var(name).filter(|v: &std::ffi::OsString| !v.is_empty()).map(PathBuf::from);
    if let Some(explicit) = set("RINGMASTER_JOURNAL") {
        return explicit;
    }
    // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
    let state = set("XDG_STATE_HOME").filter(|p| p.is_absolute()).or_else(|| home.map(|h| h.join(".local").join("state")));
    match state {
        Some(dir) => dir.join("ringmaster").join("journal.db"),
        None => PathBuf::from("ringmaster-journal.db"),
    }
}

/// Turns an open error that says "not a database" or "malformed" into [`JournalError::NotAJournal`].
fn not_a_journal(e: JournalError) -> JournalError {
    match e {
        JournalError::Open { path, source } | JournalError::Sqlite { path, source, .. } | JournalError::Migrate { path, source, .. }
            if error::is_not_a_database(&source) =>
        {
            JournalError::NotAJournal { path, source }
        }
        other => other,
    }
}

/// Switches the database to WAL mode and returns the mode now in effect.
///
/// Switching a fresh file needs an exclusive lock, and SQLite reports `SQLITE_BUSY`
/// for it at once instead of calling the busy handler, so when several processes open
/// a new journal together the losers retry here until [`BUSY_TIMEOUT`]. Once the file
/// is in WAL mode (a persistent setting) this succeeds on the first try.
fn enable_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// Reads a TEXT column holding JSON.
fn json_column(row: &Row<'_>, idx: usize) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// Reads an INTEGER column holding a process id.
fn pid_column(row: &Row<'_>, idx: usize) -> rusqlite::Result<u32> {
    let pid: i64 = row.get(idx)?;
    u32::try_from(pid).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: RunId(row.get(0)?),
        cluster: row.get(1)?,
        started_at: row.get(2)?,
        operator: row.get(3)?,
        host: row.get(4)?,
        pid: pid_column(row, 5)?,
        command: row.get(6)?,
        inventory_path: row.get(7)?,
        inventory: json_column(row, 8)?,
        workflow: row.get(9)?,
    })
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    let kind: String = row.get(6)?;
    Ok(Event {
        run_id: RunId(row.get(0)?),
        seq: row.get(1)?,
        at: row.get(2)?,
        node: row.get(3)?,
        pass: row.get(4)?,
        phase: row.get(5)?,
        kind: kind.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(6, Type::Text, Box::new(e)))?,
        detail: json_column(row, 7)?,
        reverts: row.get(8)?,
    })
}

#[cfg(test)]
mod tests;
