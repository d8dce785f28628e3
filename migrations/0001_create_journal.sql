-- 0001_create_journal: the initial schema of the ringmaster journal.
--
-- Why: ringmaster changes a live cluster one node at a time and must be able to resume
-- or roll back from any point after a crash, so every phase transition is written here
-- (and fsync'd) before and after it acts. Three tables:
--   runs    one row per invocation that changes a cluster: who, where, with what
--           inventory and workflow text (snapshots, so a post-mortem does not depend
--           on files that may have changed since).
--   events  the append-only log of a run; resume replays it, export prints it.
--   locks   at most one run per cluster at a time.
-- Tables are STRICT so a wrongly typed value is an error rather than silently coerced.
-- This file has shipped once it is released: never edit it, add 0002_... instead.

CREATE TABLE runs (
    -- uuid v7 (text, lowercase, hyphenated): unique across hosts and sorts by creation time.
    id             TEXT    NOT NULL PRIMARY KEY,
    cluster        TEXT    NOT NULL,
    -- unix milliseconds, UTC
    started_at     INTEGER NOT NULL,
    operator       TEXT    NOT NULL,
    host           TEXT    NOT NULL,
    pid            INTEGER NOT NULL CHECK (pid >= 0),
    -- argv joined with spaces; the caller guarantees it holds no secret.
    command        TEXT    NOT NULL,
    inventory_path TEXT    NOT NULL,
    inventory      TEXT    NOT NULL CHECK (json_valid(inventory)),
    workflow       TEXT    NOT NULL
) STRICT;

-- `latest_run(cluster)` and `runs()` read newest first.
CREATE INDEX runs_by_cluster_time ON runs (cluster, started_at);

-- A run is a historical record as much as its events are: it is never rewritten.
CREATE TRIGGER runs_are_immutable BEFORE UPDATE ON runs
BEGIN
    SELECT RAISE(ABORT, 'runs are immutable: a run row cannot be changed');
END;
CREATE TRIGGER runs_are_kept BEFORE DELETE ON runs
BEGIN
    SELECT RAISE(ABORT, 'runs are immutable: a run row cannot be removed');
END;

CREATE TABLE events (
    run_id  TEXT    NOT NULL REFERENCES runs (id),
    -- 1, 2, 3, ... per run, assigned inside the IMMEDIATE transaction that inserts the row,
    -- so two processes sharing the file can never hand out the same number.
    seq     INTEGER NOT NULL CHECK (seq >= 1),
    -- unix milliseconds, UTC
    at      INTEGER NOT NULL,
    -- NULL for run-level events (lock broken, run started, ...).
    node    TEXT,
    -- workflow pass (`optional`, `enforce`, ...), NULL outside a pass.
    pass    TEXT,
    phase   TEXT    NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('enter', 'ok', 'fail', 'info')),
    detail  TEXT    NOT NULL CHECK (json_valid(detail)),
    -- A rollback never rewrites history: it appends new events, each naming the earlier
    -- event of the same run that it undoes. The composite foreign key makes the database
    -- check that the target exists; NULL (the common case) is not checked.
    reverts INTEGER CHECK (reverts >= 1 AND reverts < seq),
    PRIMARY KEY (run_id, seq),
    FOREIGN KEY (run_id, reverts) REFERENCES events (run_id, seq)
) STRICT;

-- Resume rebuilds each node's state from its own events, in order.
CREATE INDEX events_by_node ON events (run_id, node, seq);

-- Append-only at the database level too, so that no code path (or hand-run sqlite3
-- session) can quietly rewrite what happened during a maintenance window.
CREATE TRIGGER events_are_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: an event cannot be changed');
END;
CREATE TRIGGER events_are_kept BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: an event cannot be removed');
END;

-- One row per locked cluster. Taking the lock is an INSERT (or, for the run that already
-- holds it, a refresh) inside an IMMEDIATE transaction, so it is atomic across processes.
CREATE TABLE locks (
    cluster     TEXT    NOT NULL PRIMARY KEY,
    -- fingerprint of the inventory the holder works from, shown to whoever is refused.
    fingerprint TEXT    NOT NULL,
    run_id      TEXT    NOT NULL REFERENCES runs (id),
    pid         INTEGER NOT NULL CHECK (pid >= 0),
    host        TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    -- unix milliseconds, UTC
    acquired_at INTEGER NOT NULL
) STRICT;
