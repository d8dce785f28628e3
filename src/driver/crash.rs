//! Test-only fault injection.
//!
//! `RINGMASTER_TEST_CRASH_AT` names a crash point, either by number (the N-th point
//! reached) or by its label (`after journaling node2 optional restart enter`, `after acting
//! node2 optional restart`), and this process SIGKILLs itself there. Points sit after every
//! journal commit and after every action, before its outcome is journaled, so tests can
//! prove that resume works from every one of them. `RINGMASTER_TEST_CRASH_TRACE=1` prints
//! every point reached.

/// The crash points of one process.
pub(crate) struct CrashPoints {
    at: Option<String>,
    count: std::sync::atomic::AtomicU64,
}

impl CrashPoints {
    pub(crate) fn from_env() -> CrashPoints {
        CrashPoints { at: std::env::var("RINGMASTER_TEST_CRASH_AT").ok(), count: std::sync::atomic::AtomicU64::new(0) }
    }

    /// Reaches the point `label` names.
    pub(crate) fn point(&self, label: impl FnOnce() -> String) {
        let label = label();
        let n = self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if std::env::var_os("RINGMASTER_TEST_CRASH_TRACE").is_some() {
            eprintln!("crash-point {n}: {label}");
        }
        let hit = match &self.at {
            None => false,
            Some(at) => at.parse::<u64>().map(|k| k == n).unwrap_or_else(|_| *at == label),
        };
        if hit {
            // SAFETY: kill(2) on our own pid with SIGKILL has no memory-safety concerns.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}
