//! Test-only fault injection, compiled only with the cargo feature `test-crash-hooks`
//! (`bin/test` enables it; a normal or release build has none of it).
//!
//! `RINGMASTER_TEST_CRASH_AT` names a crash point, either by number (the N-th point
//! reached) or by its label (`after journaling node2 optional restart enter`, `after acting
//! node2 optional restart`), and this process SIGKILLs itself there. Points sit after every
//! journal commit and after every action, before its outcome is journaled, so tests can
//! prove that resume works from every one of them. `RINGMASTER_TEST_CRASH_TRACE=1` prints
//! every point reached.
//!
//! Without the feature a point is an empty inline function and its label is never built:
//! the variables are not read, and their names are not even in the binary.

/// The crash points of one process.
#[cfg(feature = "test-crash-hooks")]
pub(crate) struct CrashPoints {
    at: Option<String>,
    count: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "test-crash-hooks")]
impl CrashPoints {
    pub(crate) fn from_env() -> CrashPoints {
        CrashPoints { at: std::env::var("RINGMASTER_TEST_CRASH_AT").ok(), count: std::sync::atomic::AtomicU64::new(0) }
    }

    /// Reaches the point `label` names (built only when hooks are compiled in).
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

/// The crash points of one process: none, in a build without `test-crash-hooks`.
#[cfg(not(feature = "test-crash-hooks"))]
pub(crate) struct CrashPoints;

#[cfg(not(feature = "test-crash-hooks"))]
impl CrashPoints {
    pub(crate) fn from_env() -> CrashPoints {
        CrashPoints
    }

    /// Does nothing: the label is not even built.
    #[inline(always)]
    pub(crate) fn point(&self, _label: impl FnOnce() -> String) {}
}

#[cfg(all(test, not(feature = "test-crash-hooks")))]
mod tests {
    /// A build without the feature reads no crash variable: the points hold no state and
    /// never build their label. (Setting the variable here would SIGKILL this test binary
    /// if a hook were compiled in; the binary-level proof is the integration test
    /// `recover_low_a_build_without_test_crash_hooks_ignores_the_crash_variables`.)
    #[test]
    fn recover_low_crash_points_are_a_no_op_without_the_feature() {
        assert_eq!(std::mem::size_of::<super::CrashPoints>(), 0);
        let points = super::CrashPoints::from_env();
        points.point(|| unreachable!("the label of a crash point is never built without test-crash-hooks"));
    }
}
