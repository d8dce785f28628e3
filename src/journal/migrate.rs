//! Schema migrations, applied when the journal opens and tracked by `PRAGMA user_version`.
//!
//! Each `migrations/NNNN_verb_noun.sql` is embedded at compile time and listed in
//! [`MIGRATIONS`]; migration N brings `user_version` from N-1 to N. We use this small
//! migrator rather than `rusqlite_migration` or `refinery` because neither resolves
//! with rusqlite 0.43 (docs/dependencies.md, section 3).
//!
//! Several processes may open a fresh journal at the same moment, so each migration
//! runs in its own IMMEDIATE transaction that re-reads `user_version` after taking the
//! write lock: whoever comes second sees the work done and skips it.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::error::JournalError;

/// One embedded schema migration.
pub(super) struct Migration {
    /// The `user_version` the journal has after this migration.
    pub version: i64,
    /// The file stem, e.g. `0001_create_journal`.
    pub name: &'static str,
    /// The SQL text, run as one batch.
    pub sql: &'static str,
}

/// Every migration, in order; `version` is the position counted from 1.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_create_journal", sql: include_str!("../../migrations/0001_create_journal.sql") },
    Migration { version: 2, name: "0002_add_lock_start_time", sql: include_str!("../../migrations/0002_add_lock_start_time.sql") },
];

/// Returns the schema version this binary migrates journals to.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the journal at `conn` up to [`latest_version`], or refuses a newer one.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_path_buf(), source };
    let too_new = |found| JournalError::TooNew { path: path.to_path_buf(), found, known: latest_version() };

    let current = user_version(conn).map_err(open_err)?;
    if current > latest_version() {
        return Err(too_new(current));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let fail = |source| JournalError::Migrate { path: path.to_path_buf(), migration: m.name, source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        // Re-read under the write lock: another process may have migrated meanwhile.
        let now = user_version(&tx).map_err(fail)?;
        if now > latest_version() {
            return Err(too_new(now));
        }
        if now >= m.version {
            continue;
        }
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", m.version).map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::debug!(journal = %path.display(), migration = m.name, "applied migration");
    }
    Ok(())
}

/// Fails unless the journal at `conn` has exactly this binary's schema version (for a
/// read-only open, which can neither migrate an older journal nor read a newer one).
pub(super) fn require_current(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let found = user_version(conn).map_err(|source| JournalError::Open { path: path.to_path_buf(), source })?;
    let known = latest_version();
    refuse_foreign(conn, path)?;
    match found.cmp(&known) {
        std::cmp::Ordering::Greater => Err(JournalError::TooNew { path: path.to_path_buf(), found, known }),
        std::cmp::Ordering::Less => Err(JournalError::NeedsMigration { path: path.to_path_buf(), found, known }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Fails with [`JournalError::Foreign`] when a database that no migration has touched
/// (`user_version` 0) already has tables: some other program's file, which the first
/// migration would fail on (or, worse, write its tables into).
///
/// Runs before anything is written (the WAL switch rewrites the file header).
pub(super) fn refuse_foreign(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    // One statement reads one snapshot: another process's first migration commits its
    // tables and its user_version together, so they are seen both or neither.
    let sql = "SELECT (SELECT user_version FROM pragma_user_version), name FROM sqlite_master
               WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 4";
    let open_err = |source| JournalError::Open { path: path.to_path_buf(), source };
    let mut stmt = conn.prepare(sql).map_err(open_err)?;
    let rows: Vec<(i64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(open_err)?.collect::<rusqlite::Result<_>>().map_err(open_err)?;
    if rows.is_empty() || rows[0].0 != 0 {
        return Ok(());
    }
    let mut shown = rows.iter().take(3).map(|(_, t)| format!("`{t}`")).collect::<Vec<_>>().join(", ");
    if rows.len() > 3 {
        shown.push_str(", ...");
    }
    Err(JournalError::Foreign { path: path.to_path_buf(), tables: shown })
}

/// Returns the journal's `PRAGMA user_version`.
pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_and_names_carry_the_number() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let expected = i64::try_from(i).expect("few migrations") + 1;
            assert_eq!(m.version, expected, "migration `{}` is out of order", m.name);
            assert!(m.name.starts_with(&format!("{expected:04}_")), "migration `{}` should be named `{expected:04}_verb_noun`", m.name);
            assert!(m.sql.trim_start().starts_with("--"), "migration `{}` must open with a comment saying why", m.name);
        }
    }

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|m| m.name.to_owned()).collect();
        assert_eq!(on_disk, embedded, "migrations/ and MIGRATIONS disagree");
    }

    #[test]
    fn fresh_database_reaches_latest_version_and_reapplying_is_a_no_op() {
        let mut conn = Connection::open_in_memory().expect("in-memory sqlite");
        migrate(&mut conn, Path::new(":memory:")).expect("first migration");
        assert_eq!(user_version(&conn).expect("user_version"), latest_version());
        migrate(&mut conn, Path::new(":memory:")).expect("second migration is a no-op");
        assert_eq!(user_version(&conn).expect("user_version"), latest_version());
    }

    #[test]
    fn newer_schema_is_refused_naming_both_versions() {
        let mut conn = Connection::open_in_memory().expect("in-memory sqlite");
        conn.pragma_update(None, "user_version", latest_version() + 1).expect("set user_version");
        let err = migrate(&mut conn, Path::new("/x/journal.db")).expect_err("newer schema");
        assert!(matches!(err, JournalError::TooNew { found, known, .. } if found == latest_version() + 1 && known == latest_version()));
        let msg = err.to_string();
        assert!(msg.contains("`/x/journal.db`") && msg.contains("newer ringmaster"), "{msg}");
    }
}
