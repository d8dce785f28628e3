//! The cluster lock: at most one run changes a cluster at a time.
//!
//! The lock is a row in `locks`, taken by an upsert inside an IMMEDIATE transaction,
//! so two processes (or hosts sharing the journal file) racing for the same cluster
//! cannot both win. The run that already holds the lock may take it again, which is
//! how `resume` continues after a crash from a new process. A lock whose process died
//! stays until its run resumes, releases it, or an operator breaks it; [`Journal::break_lock`]
//! returns the broken holder so the caller can journal who it was.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Journal, JournalError, LockHolder, Result, RunId, pid_column};

impl Journal {
    /// Takes `cluster`'s lock for `holder.run_id`, or refreshes it if that run already holds it.
    ///
    /// Fails with [`JournalError::LockHeld`] when another run holds it, and with
    /// [`JournalError::UnknownRun`] when `holder.run_id` is not a run of this journal.
    #[tracing::instrument(level = "debug", skip_all, fields(cluster, run = %holder.run_id), err)]
    pub fn acquire_lock(&self, cluster: &str, holder: &LockHolder) -> Result<()> {
        self.write("take the cluster lock", |tx| {
            self.require_run(tx, &holder.run_id)?;
            // Insert, or refresh the holder's pid/host after a resume; the WHERE makes
            // the upsert a no-op when another run holds the row.
            let changed = tx
                .execute(
                    "INSERT INTO locks (cluster, fingerprint, run_id, pid, host, user, acquired_at, start_time)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (cluster) DO UPDATE SET
                         fingerprint = excluded.fingerprint, pid = excluded.pid, host = excluded.host,
                         user = excluded.user, acquired_at = excluded.acquired_at, start_time = excluded.start_time
                     WHERE locks.run_id = excluded.run_id",
                    params![
                        cluster,
                        holder.fingerprint,
                        holder.run_id.0,
                        holder.pid,
                        holder.host,
                        holder.user,
                        holder.acquired_at,
                        holder.start_time.map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
                    ],
                )
                .map_err(self.sql("take the cluster lock"))?;
            if changed == 1 {
                return Ok(());
            }
            match self.holder_in(tx, cluster)? {
                Some(other) => {
                    Err(JournalError::LockHeld { path: self.label.clone(), cluster: cluster.to_owned(), holder: Box::new(other) })
                }
                // Unreachable under the write lock, but say so rather than panic.
                None => Err(JournalError::Sqlite {
                    path: self.label.clone(),
                    op: "take the cluster lock",
                    source: rusqlite::Error::QueryReturnedNoRows,
                }),
            }
        })
    }

    /// Returns who holds `cluster`'s lock, if anyone.
    pub fn lock_holder(&self, cluster: &str) -> Result<Option<LockHolder>> {
        self.holder_in(&self.conn(), cluster)
    }

    /// Releases `cluster`'s lock held by `run`; releasing a lock nobody holds is a no-op.
    ///
    /// Fails with [`JournalError::LockNotOwned`] when another run holds it.
    #[tracing::instrument(level = "debug", skip_all, fields(cluster, run = %run), err)]
    pub fn release_lock(&self, cluster: &str, run: &RunId) -> Result<()> {
        self.write("release the cluster lock", |tx| {
            let removed = tx
                .execute("DELETE FROM locks WHERE cluster = ?1 AND run_id = ?2", params![cluster, run.0])
                .map_err(self.sql("release the cluster lock"))?;
            match self.holder_in(tx, cluster)? {
                Some(holder) if removed == 0 => Err(JournalError::LockNotOwned {
                    path: self.label.clone(),
                    cluster: cluster.to_owned(),
                    run_id: run.0.clone(),
                    holder: Box::new(holder),
                }),
                _ => Ok(()),
            }
        })
    }

    /// Removes `cluster`'s lock whoever holds it, and returns the holder it removed.
    #[tracing::instrument(level = "debug", skip_all, fields(cluster), err)]
    pub fn break_lock(&self, cluster: &str) -> Result<Option<LockHolder>> {
        self.write("break the cluster lock", |tx| {
            let holder = self.holder_in(tx, cluster)?;
            tx.execute("DELETE FROM locks WHERE cluster = ?1", [cluster]).map_err(self.sql("break the cluster lock"))?;
            Ok(holder)
        })
    }

    fn holder_in(&self, conn: &Connection, cluster: &str) -> Result<Option<LockHolder>> {
        let sql = "SELECT run_id, fingerprint, pid, host, user, acquired_at, start_time FROM locks WHERE cluster = ?1";
        conn.query_row(sql, [cluster], |row| {
            Ok(LockHolder {
                run_id: RunId(row.get(0)?),
                fingerprint: row.get(1)?,
                pid: pid_column(row, 2)?,
                host: row.get(3)?,
                user: row.get(4)?,
                acquired_at: row.get(5)?,
                start_time: row.get::<_, Option<i64>>(6)?.and_then(|t| u64::try_from(t).ok()),
            })
        })
        .optional()
        .map_err(self.sql("read the cluster lock"))
    }
}
