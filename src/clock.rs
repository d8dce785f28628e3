//! The one clock: now as unix milliseconds, for the journal, the lock and the sandbox, and
//! how such a time is shown (RFC 3339, UTC).
//!
//! Test builds only (`--features test-crash-hooks`, like the crash points):
//! `RINGMASTER_TEST_CLOCK_OFFSET_MS` moves this process's clock by that many milliseconds,
//! so a test can resume a paused run "the next day". A normal build never reads it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Returns the current time in unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX).saturating_add(test_offset_ms())
}

/// The test clock's offset, read once (`RINGMASTER_TEST_CLOCK_OFFSET_MS`, default 0).
#[cfg(feature = "test-crash-hooks")]
fn test_offset_ms() -> i64 {
    static OFFSET: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| std::env::var("RINGMASTER_TEST_CLOCK_OFFSET_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// No offset: a build without `test-crash-hooks` reads the wall clock only.
#[cfg(not(feature = "test-crash-hooks"))]
#[inline(always)]
fn test_offset_ms() -> i64 {
    0
}

/// Formats unix milliseconds as an RFC 3339 UTC time.
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_is_unix_milliseconds() {
        let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let ms = super::now_ms();
        assert!((ms / 1000 - seconds).abs() <= 1, "{ms} ms vs {seconds} s");
    }
}
