//! Scanner for Cassandra's `system.log`: after a restart ringmaster reads the new part of
//! the log and needs to know whether the node booted, whether internode TLS came up in
//! the intended mode, and which TLS errors it logged.
//!
//! The scan is line based and pure: the driver reads the file from a byte offset taken
//! before the restart, cuts the bytes at the last newline with [`split_complete_lines`]
//! (the node may be writing a line right now) and hands the text to [`scan`]. Lines follow
//! logback's `%-5level [%thread] %date{ISO8601} %F:%L - %msg%n` (notes section 3); stack
//! traces follow their log line as unprefixed continuation lines, and one error event is
//! reported once, with its `Caused by:` chain as evidence, however many of its lines match.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Default success pattern: the line `SSLFactory` logs once per boot when the internode
/// TLS context validated (4.0+; also logged in OPTIONAL mode, see notes section 3.1).
pub const DEFAULT_SUCCESS: &str = "Internode messaging enabled TLS protocols: ";

/// Default error patterns (case-insensitive), from cassandra-notes.md sections 3.4/3.5.
///
/// The suggested single regex of section 3.5 split into one readable pattern per failure,
/// plus the two startup-failure headers of sections 3.4/6.5 so that any failed boot counts
/// even when its cause is not TLS related.
pub const DEFAULT_ERROR_PATTERNS: &[&str] = &[
    // Startup failures (4.0+ `Exception encountered during startup`, 3.11 initServer).
    r"(?i)Exception encountered during startup",
    r"(?i)Fatal configuration error",
    // Bad key material while the SSL context is built (3.4).
    r"(?i)Failed to initialize SSL",
    r"(?i)failed to build (key|trust) manager store",
    r"(?i)keystore_password' must be specified",
    r"(?i)Keystore was tampered",
    r"(?i)password was incorrect",
    r"(?i)Unable to create ssl socket",
    // An option the running version does not know (3.11 `optional`, misspelt keys).
    r"(?i)Invalid yaml",
    // Handshake failures at runtime (3.5).
    r"(?i)SSLHandshakeException",
    r"(?i)PKIX path",
    r"(?i)certificate_unknown",
    r"(?i)CERTIFICATE_VERIFY_FAILED",
    r"(?i)Empty client certificate chain",
    r"(?i)No subject alternative names",
    r"(?i)SSL handshake error",
    r"(?i)Failed to (properly )?handshake",
    // Plaintext and TLS peers refusing each other (3.5).
    r"(?i)attempted to establish an unencrypted connection",
    r"(?i)Rejected incoming TLS connection",
];

/// Default boot marker: the first INFO line of every Cassandra start (3.11 to 5.0).
///
/// Source (apache/cassandra, `CassandraDaemon.java`, 4.x/5.0 and trunk): `activate()`
/// calls `applyConfig()` = `DatabaseDescriptor.daemonInitialization()`, whose
/// `setConfig(loadConfig())` reaches `YamlConfigurationLoader.getStorageConfigURL()`,
/// which logs `logger.info("Configuration location: {}", url)` (same call in
/// `YamlConfigurationLoader` of every line). Only then does `applyAll()` validate the SSL
/// contexts (the TLS line, or `Failed to initialize SSL`), and only after that does
/// `setup()` call `logSystemInfo()`, which logs `Hostname: {}`. So `Hostname:` would
/// come too late: it is never written by a boot that fails on key material, and the TLS
/// line of a good boot precedes it.
pub const DEFAULT_BOOT: &str = "Configuration location: ";

/// How many evidence entries a scan keeps; later matches are only counted.
pub const MAX_EVIDENCE: usize = 50;

/// How many continuation lines one evidence entry keeps.
pub const MAX_CONTEXT_LINES: usize = 12;

/// Encryption of the internode listener, from its `Listening on ...` line (4.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListenerEncryption {
    /// `encryption: unencrypted`: TLS connections are refused.
    Unencrypted,
    /// `encryption: optionally encrypted(...)`: TLS and plaintext both accepted (pass 1).
    Optional,
    /// `encryption: encrypted(...)`: TLS only (pass 2).
    Encrypted,
}

/// One matched error line with the stack-trace lines that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// 1-based line number within the scanned text.
    pub line_no: usize,
    /// The first matching line of the log event, trailing whitespace removed.
    pub line: String,
    /// The event's following exception and `Caused by:` lines (stack frames and
    /// `... N more` lines skipped), at most [`MAX_CONTEXT_LINES`].
    pub context: Vec<String>,
}

/// What one scan of a stretch of `system.log` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogScan {
    /// Lines matching the success pattern, in order.
    pub success_lines: Vec<String>,
    /// The first [`MAX_EVIDENCE`] error events, one entry per event.
    pub errors: Vec<Evidence>,
    /// Number of error events matched, including those beyond [`MAX_EVIDENCE`].
    pub error_count: usize,
    /// Encryption of the last internode listener line since the last boot marker.
    pub listener: Option<ListenerEncryption>,
    /// Whether `Startup complete` was logged since the last boot marker.
    pub startup_complete: bool,
    /// Number of boot markers seen.
    pub boots: usize,
    /// 1-based line number of the last boot marker, if any.
    pub last_boot_line: Option<usize>,
}

/// Compiled patterns for [`scan`].
#[derive(Debug, Clone)]
pub struct LogPatterns {
    /// A line proving TLS came up.
    pub success: Regex,
    /// Lines that are failures.
    pub errors: Vec<Regex>,
    /// The first line of every boot.
    pub boot: Regex,
}

impl LogPatterns {
    /// Compiles the success, error and boot patterns (Rust `regex` syntax).
    pub fn new(success: &str, errors: &[String], boot: &str) -> Result<Self, regex::Error> {
        Ok(LogPatterns {
            success: Regex::new(success)?,
            errors: errors.iter().map(|pattern| Regex::new(pattern)).collect::<Result<_, _>>()?,
            boot: Regex::new(boot)?,
        })
    }

    /// Returns the patterns built from [`DEFAULT_SUCCESS`], [`DEFAULT_ERROR_PATTERNS`]
    /// and [`DEFAULT_BOOT`].
    pub fn defaults() -> Self {
        let errors: Vec<String> = DEFAULT_ERROR_PATTERNS.iter().map(|p| (*p).to_owned()).collect();
        // The defaults are constants covered by a unit test, so this cannot fail at runtime.
        LogPatterns::new(DEFAULT_SUCCESS, &errors, DEFAULT_BOOT).expect("BUG: a default system.log pattern does not compile")
    }

    fn is_error(&self, line: &str) -> bool {
        self.errors.iter().any(|re| re.is_match(line))
    }
}

impl Default for LogPatterns {
    fn default() -> Self {
        LogPatterns::defaults()
    }
}

/// Splits off the complete lines of a byte buffer read from a growing log file.
///
/// Returns the bytes up to and including the last `\n`, and their count, which is how far
/// the caller's read offset may advance; an unterminated tail is left for the next read.
pub fn split_complete_lines(bytes: &[u8]) -> (&[u8], usize) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => (&bytes[..=last], last + 1),
        None => (&[], 0),
    }
}

/// Returns `text` from its first boot marker on (all of it when there is none): what a
/// restart's checks judge. The lines before it are the previous JVM's shutdown, on the
/// configuration it ran before: a node shutting down while its peers switch TLS modes
/// logs failed handshakes that say nothing about the configuration it boots with.
pub fn from_first_boot<'a>(text: &'a str, patterns: &LogPatterns) -> &'a str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if patterns.boot.is_match(line.trim_end()) {
            return &text[at..];
        }
        at += line.len();
    }
    text
}

/// Scans the complete lines of raw log bytes; returns the scan and the bytes consumed.
///
/// Invalid UTF-8 is replaced, never an error: a log is evidence, not input to trust.
pub fn scan_bytes(bytes: &[u8], patterns: &LogPatterns) -> (LogScan, usize) {
    let (complete, consumed) = split_complete_lines(bytes);
    (scan(&String::from_utf8_lossy(complete), patterns), consumed)
}

/// Scans log text for boots, the success line, the listener mode and error events.
///
/// An unterminated final line is ignored (it is still being written). `listener` and
/// `startup_complete` describe the latest boot: both reset at every boot marker, while
/// success lines and errors accumulate over the whole text (filter by
/// [`LogScan::last_boot_line`] to keep only the latest boot's).
pub fn scan(text: &str, patterns: &LogPatterns) -> LogScan {
    let complete = match text.rfind('\n') {
        Some(last) => &text[..=last],
        None => "",
    };
    let mut result = LogScan::default();
    // Whether the current log event (a line and its continuation lines) already matched,
    // so its other matching lines are context, not new errors; and whether it is the
    // latest evidence entry (it is not once MAX_EVIDENCE entries are kept).
    let mut event_matched = false;
    let mut event_kept = false;

    for (index, raw) in complete.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim_end();
        if is_continuation(line) {
            if event_matched {
                if let Some(evidence) = result.errors.last_mut()
                    && event_kept
                    && !is_frame(line)
                    && evidence.context.len() < MAX_CONTEXT_LINES
                {
                    evidence.context.push(line.to_owned());
                }
                continue;
            }
        } else {
            event_matched = false;
            event_kept = false;
        }

        if patterns.boot.is_match(line) {
            result.boots += 1;
            result.last_boot_line = Some(line_no);
            result.listener = None;
            result.startup_complete = false;
        }
        if patterns.success.is_match(line) {
            result.success_lines.push(line.to_owned());
        }
        if let Some(encryption) = listener_encryption(line) {
            result.listener = Some(encryption);
        }
        if is_startup_complete(line) {
            result.startup_complete = true;
        }
        if patterns.is_error(line) {
            result.error_count += 1;
            event_matched = true;
            if result.errors.len() < MAX_EVIDENCE {
                result.errors.push(Evidence { line_no, line: line.to_owned(), context: Vec::new() });
                event_kept = true;
            }
        }
    }
    result
}

/// Reads the internode listener's encryption from a `Listening on address: (...)` line
/// (`InboundConnectionSettings.toString`: `address: (%s), nic: %s, encryption: %s`).
pub fn listener_encryption(line: &str) -> Option<ListenerEncryption> {
    let (_, settings) = line.split_once("Listening on address: (")?;
    let (_, encryption) = settings.split_once("), nic: ")?.1.split_once(", encryption: ")?;
    let encryption = encryption.trim_end();
    if encryption == "unencrypted" {
        Some(ListenerEncryption::Unencrypted)
    } else if encryption.starts_with("optionally encrypted") {
        Some(ListenerEncryption::Optional)
    } else if encryption.starts_with("encrypted") {
        Some(ListenerEncryption::Encrypted)
    } else {
        None
    }
}

/// `CassandraDaemon.activate()` logs `Startup complete` as the last line of a good start.
fn is_startup_complete(line: &str) -> bool {
    line.trim_end().ends_with("Startup complete")
}

/// True for lines that continue the previous log event: stack frames, `Caused by:`,
/// `Suppressed:`, wrapped messages and the exception line itself
/// (`org.example.FooException: message`). Any other line starts a new event.
fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t'])
        || line.starts_with("Caused by: ")
        || line.starts_with("Suppressed: ")
        || line.starts_with("...")
        || is_throwable_line(line)
}

/// A stack frame or an elided-frames marker, which evidence leaves out.
fn is_frame(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.starts_with("at ")
        || (trimmed.starts_with("... ") && (trimmed.ends_with(" more") || trimmed.ends_with("common frames omitted")))
}

/// `java.io.IOException: ...` or a bare `com.example.SomeError`: a fully qualified class
/// name (at least one dot, lowercase package) ending the line or followed by `: `.
fn is_throwable_line(line: &str) -> bool {
    let name = match line.split_once(": ") {
        Some((name, _)) => name,
        None => line,
    };
    let mut parts = name.split('.');
    let package_ok = parts.next().is_some_and(|p| p.starts_with(|c: char| c.is_ascii_lowercase()));
    let segments_ok =
        name.split('.').all(|segment| !segment.is_empty() && segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$'));
    package_ok && segments_ok && name.contains('.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_restart_is_judged_from_its_first_boot_marker() {
        let p = LogPatterns::new("TLS protocols", &["SSLHandshakeException".to_string()], "Configuration location: ").unwrap();
        let shutdown = "ERROR x - failed to connect\n\tSuppressed: io.netty.handler.ssl.StacklessSSLHandshakeException: closed\n";
        let boot = "INFO [main] Configuration location: file:/c.yaml\nINFO ok\n";
        let text = format!("{shutdown}{boot}");
        assert_eq!(from_first_boot(&text, &p), boot);
        assert_eq!(scan(from_first_boot(&text, &p), &p).errors.len(), 0);
        assert_eq!(scan(&text, &p).errors.len(), 1, "the shutdown's line is an error by the patterns");
        // No boot at all: everything is judged (and the missing boot is the finding).
        assert_eq!(from_first_boot(shutdown, &p), shutdown);
        // An error after the boot still counts.
        let bad = format!("{boot}ERROR javax.net.ssl.SSLHandshakeException: PKIX\n");
        assert_eq!(scan(from_first_boot(&bad, &p), &p).errors.len(), 1);
    }

    use super::*;

    #[test]
    fn default_patterns_compile() {
        let patterns = LogPatterns::defaults();
        assert_eq!(patterns.errors.len(), DEFAULT_ERROR_PATTERNS.len());
    }

    #[test]
    fn listener_modes_are_recognised() {
        let line = |enc: &str| {
            format!(
                "INFO  [main] 2024-11-29 10:00:05,000 InboundConnectionInitiator.java:165 - \
                 Listening on address: (/127.0.0.1:7000), nic: lo, encryption: {enc}"
            )
        };
        assert_eq!(listener_encryption(&line("unencrypted")), Some(ListenerEncryption::Unencrypted));
        assert_eq!(listener_encryption(&line("optionally encrypted(openssl)")), Some(ListenerEncryption::Optional));
        assert_eq!(listener_encryption(&line("encrypted(jdk)")), Some(ListenerEncryption::Encrypted));
        assert_eq!(listener_encryption(&line("sideways")), None);
        assert_eq!(listener_encryption("INFO  [main] x - Starting listening for CQL clients on /127.0.0.1:9042 (encrypted)..."), None);
    }

    #[test]
    fn continuation_lines_are_recognised() {
        assert!(is_continuation("org.apache.cassandra.exceptions.ConfigurationException: Failed to initialize SSL"));
        assert!(is_continuation("java.lang.OutOfMemoryError"));
        assert!(is_continuation("\tat java.base/java.lang.Thread.run(Thread.java:840)"));
        assert!(is_continuation("Caused by: java.io.IOException: x"));
        assert!(is_continuation("\t... 7 common frames omitted"));
        assert!(!is_continuation("ERROR [main] 2024-11-29 10:05:01,233 CassandraDaemon.java:887 - Exception encountered during startup"));
        assert!(!is_continuation("Startup complete"));
        assert!(is_frame("\tat org.example.Foo.bar(Foo.java:1)"));
        assert!(is_frame("\t... 18 more"));
        assert!(!is_frame("Caused by: java.io.IOException: x"));
    }

    #[test]
    fn split_complete_lines_keeps_the_unterminated_tail() {
        assert_eq!(split_complete_lines(b"a\nb\npart"), (&b"a\nb\n"[..], 4));
        assert_eq!(split_complete_lines(b"a\n"), (&b"a\n"[..], 2));
        assert_eq!(split_complete_lines(b"partial"), (&b""[..], 0));
        assert_eq!(split_complete_lines(b""), (&b""[..], 0));
    }
}
