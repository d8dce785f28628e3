-- 0002_add_lock_start_time: the lock holder's process start time.
--
-- Why: a lock's liveness was "same host and /proc/PID exists", so a stale lock whose pid
-- the kernel had handed to another process looked alive forever and could not be broken.
-- The holder now records its start time (field 22 of /proc/PID/stat, clock ticks since
-- boot); a holder is alive only when that process still has the same start time.
-- NULL for locks taken by an older ringmaster: they fall back to the pid check.

ALTER TABLE locks ADD COLUMN start_time INTEGER CHECK (start_time >= 0);
