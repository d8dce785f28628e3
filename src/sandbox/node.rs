//! One simulated node: its `state.json`, its `system.log` in Cassandra's logback format, and
//! what a boot does (load cassandra.yaml, validate key material, or fail with Cassandra's
//! exact error chain).
//!
//! Log lines follow `%-5level [%thread] %date{ISO8601} %F:%L - %msg%n`. Messages and the
//! `%F:%L` of the boot marker (`YamlConfigurationLoader.java:104`), the TLS line
//! (`SSLFactory.java:389`), the startup failure (`CassandraDaemon.java:887`) and
//! `Startup complete` (`CassandraDaemon.java:744`) are those of 5.0.2 per cassandra-notes.md;
//! the other line numbers are placeholders, so consumers must match messages, never `%L`.
//! Stack frames in error chains carry no line numbers (Java's `(File.java)` form) for the
//! same reason.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::certs::{self, StoreFailure};
use super::model::{EffectiveTls, OptionsError, Policy, RawConfig, Secret, ServerOptions};
use super::{STORAGE_PORT, SandboxError};

/// Whether the simulated JVM process exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessStatus {
    /// Stopped, never started, or exited after a startup failure.
    #[default]
    Down,
    /// Started (it may still be booting until `up_at_ms`).
    Running,
}

/// The content of `DIR/nodes/<node>/state.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    pub status: ProcessStatus,
    /// When the current (or last) process started, unix ms.
    pub boot_ms: Option<u64>,
    /// When the running process finishes joining (boot + start delay), unix ms.
    pub up_at_ms: Option<u64>,
    /// True once the join lines (`Startup complete`, ...) were written to system.log.
    pub joined: bool,
    /// When `nodetool drain` ran on the current process, unix ms.
    pub drained_at_ms: Option<u64>,
    /// How many times the node was started (successfully or not).
    pub boots: u32,
    /// The TLS configuration loaded by the current process.
    pub tls: Option<EffectiveTls>,
    /// The exception of the last failed start, one line, for humans.
    pub last_failure: Option<String>,
}

impl NodeState {
    /// Returns true when the process runs and has finished joining at time `t` (unix ms).
    pub fn is_up(&self, t: u64) -> bool {
        self.status == ProcessStatus::Running && self.up_at_ms.is_some_and(|up| up <= t)
    }

    /// Returns true when the node is up and not drained at `t`, i.e. it gossips.
    pub fn serving(&self, t: u64) -> bool {
        self.is_up(t) && self.drained_at_ms.is_none_or(|d| d > t)
    }
}

/// Reads a node's state file; a missing file means a node that never ran.
pub fn load_state(path: &Path) -> Result<NodeState, SandboxError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SandboxError::State { path: path.to_owned(), detail: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NodeState::default()),
        Err(source) => Err(SandboxError::Io { action: "read", path: path.to_owned(), source }),
    }
}

/// Formats a unix-ms instant like logback's `%date{ISO8601}` in local time.
pub fn log_timestamp(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // The local offset is unavailable in multi-threaded processes (time's soundness
    // guard); UTC is then the honest fallback.
    let local = time::UtcOffset::current_local_offset().map_or(utc, |off| utc.to_offset(off));
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second],[subsecond digits:3]");
    local.format(&fmt).unwrap_or_default()
}

/// Formats one log line (without the newline).
pub fn line(level: &str, thread: &str, ms: u64, source: &str, msg: &str) -> String {
    format!("{level:<5} [{thread}] {} {source} - {msg}", log_timestamp(ms))
}

/// Appends lines (each gets a newline) to a node's system.log, creating it if needed.
pub fn append_log(path: &Path, lines: &[String]) -> Result<(), SandboxError> {
    if lines.is_empty() {
        return Ok(());
    }
    let io = |source| SandboxError::Io { action: "append to", path: path.to_owned(), source };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    let mut text = lines.join("\n");
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(io)
}

/// `InetAddressAndPort.toString()` of a node's storage endpoint.
pub fn endpoint(address: &str) -> String {
    format!("/{address}:{STORAGE_PORT}")
}

/// Why a start failed, as Cassandra reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupFailure {
    /// A ConfigurationException logged without stack trace (`logStackTrace=false`).
    Config(String),
    /// The SSL context of "Internode messaging" could not be built.
    Ssl(SslFailure),
}

/// Which part of the internode SSL context failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslFailure {
    /// `keystore_password` is null (5.0: checked before the file is opened).
    MissingKeystorePassword,
    /// The keystore could not be loaded.
    KeyManager { path: String, failure: StoreFailure },
    /// The truststore could not be loaded.
    TrustManager { path: String, failure: StoreFailure },
}

const TOP_FRAMES: &[&str] = &[
    "org.apache.cassandra.config.DatabaseDescriptor.applySslContext(DatabaseDescriptor.java)",
    "org.apache.cassandra.config.DatabaseDescriptor.applyAll(DatabaseDescriptor.java)",
    "org.apache.cassandra.config.DatabaseDescriptor.daemonInitialization(DatabaseDescriptor.java)",
    "org.apache.cassandra.service.CassandraDaemon.applyConfig(CassandraDaemon.java)",
    "org.apache.cassandra.service.CassandraDaemon.activate(CassandraDaemon.java)",
    "org.apache.cassandra.service.CassandraDaemon.main(CassandraDaemon.java)",
];

/// Appends a `Caused by:` block with one frame and Java's `... N more` elision.
fn caused_by(out: &mut Vec<String>, exception: &str, frame: &str) {
    out.push(format!("Caused by: {exception}"));
    out.push(format!("\tat {frame}"));
    out.push(format!("\t... {} more", TOP_FRAMES.len()));
}

/// The JDK exceptions under the Cassandra layers for a store failure (Java 17 texts).
fn jdk_causes(out: &mut Vec<String>, path: &str, failure: &StoreFailure) {
    let load = "java.base/sun.security.pkcs12.PKCS12KeyStore.engineLoad(PKCS12KeyStore.java)";
    let open = "java.base/sun.nio.fs.UnixFileSystemProvider.newByteChannel(UnixFileSystemProvider.java)";
    match failure {
        StoreFailure::Missing => caused_by(out, &format!("java.nio.file.NoSuchFileException: {path}"), open),
        StoreFailure::AccessDenied => caused_by(out, &format!("java.nio.file.AccessDeniedException: {path}"), open),
        StoreFailure::Unreadable(text) => caused_by(out, &format!("java.io.IOException: {text}"), open),
        StoreFailure::WrongPassword => {
            caused_by(out, "java.io.IOException: keystore password was incorrect", load);
            caused_by(
                out,
                "java.security.UnrecoverableKeyException: failed to decrypt safe contents entry: \
                 javax.crypto.BadPaddingException: Given final block not properly padded. Such issues \
                 can arise if a bad key is used during decryption.",
                load,
            );
        }
        StoreFailure::InvalidFormat => caused_by(
            out,
            "java.io.IOException: Invalid keystore format",
            "java.base/sun.security.provider.JavaKeyStore.engineLoad(JavaKeyStore.java)",
        ),
    }
}

impl StartupFailure {
    /// Renders the log entry Cassandra writes before `System.exit(3)`.
    pub fn render(&self, ms: u64) -> Vec<String> {
        let source = "CassandraDaemon.java:887";
        let header = "Exception encountered during startup";
        let ssl = match self {
            Self::Config(msg) => {
                return vec![line("ERROR", "main", ms, source, &format!("{header}: {msg}"))];
            }
            Self::Ssl(ssl) => ssl,
        };
        let mut out = vec![
            line("ERROR", "main", ms, source, header),
            "org.apache.cassandra.exceptions.ConfigurationException: Failed to initialize SSL".to_owned(),
        ];
        out.extend(TOP_FRAMES.iter().map(|f| format!("\tat {f}")));
        caused_by(
            &mut out,
            "java.io.IOException: Failed to create SSL context using Internode messaging",
            "org.apache.cassandra.security.SSLFactory.validateSslContext(SSLFactory.java)",
        );
        let factory = "org.apache.cassandra.security.FileBasedSslContextFactory";
        match ssl {
            SslFailure::MissingKeystorePassword => caused_by(
                &mut out,
                "java.lang.IllegalArgumentException: 'keystore_password' must be specified",
                &format!("{factory}.buildKeyManagerFactory(FileBasedSslContextFactory.java)"),
            ),
            SslFailure::KeyManager { path, failure } => {
                caused_by(
                    &mut out,
                    "javax.net.ssl.SSLException: failed to build key manager store for secure connections",
                    &format!("{factory}.getKeyManagerFactory(FileBasedSslContextFactory.java)"),
                );
                jdk_causes(&mut out, path, failure);
            }
            SslFailure::TrustManager { path, failure } => {
                caused_by(
                    &mut out,
                    "javax.net.ssl.SSLException: failed to build trust manager store for secure connections",
                    &format!("{factory}.buildTrustManagerFactory(FileBasedSslContextFactory.java)"),
                );
                jdk_causes(&mut out, path, failure);
            }
        }
        out
    }

    /// One line for `state.json` and error messages: the deepest exception text.
    pub fn summary(&self, ms: u64) -> String {
        self.render(ms).iter().rev().find_map(|l| l.strip_prefix("Caused by: ").map(str::to_owned)).unwrap_or_else(|| match self {
            Self::Config(msg) => msg.clone(),
            Self::Ssl(_) => "Failed to initialize SSL".to_owned(),
        })
    }
}

/// Resolves a configured path the way the JVM does: relative to its working directory, which
/// for a sandbox node is the node's root (so the stock `conf/.keystore` does not exist).
fn resolve(node_root: &Path, configured: &str) -> PathBuf {
    node_root.join(configured)
}

/// Loads cassandra.yaml and, unless the policy is UNENCRYPTED, opens the key material.
pub fn load_tls(config_path: &Path, node_root: &Path) -> Result<(EffectiveTls, ServerOptions), StartupFailure> {
    let url = format!("file:{}", config_path.display());
    let text = std::fs::read_to_string(config_path).map_err(|_| StartupFailure::Config(format!("Cannot locate {url}")))?;
    let raw: RawConfig = serde_saphyr::from_str(&text).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or_default().to_owned();
        StartupFailure::Config(format!("Invalid yaml: {url}\n Error: {first}"))
    })?;
    let options = ServerOptions::from_raw(raw.server_encryption_options.as_ref()).map_err(|e| {
        StartupFailure::Config(match e {
            OptionsError::UnknownKeys(keys) => {
                format!("Invalid yaml. Please remove properties [{}] from your cassandra.yaml", keys.join(", "))
            }
            OptionsError::BadInternode(v) => format!(
                "Invalid yaml: {url}\n Error: Cannot create property=server_encryption_options \
                 ... No enum constant org.apache.cassandra.config.EncryptionOptions.ServerEncryptionOptions.InternodeEncryption.{v}"
            ),
            OptionsError::LegacyPortWithoutEncryption => "legacy_ssl_storage_port_enabled is true (enabled) with \
                 internode encryption disabled (none). Enable encryption or disable the legacy ssl storage port."
                .to_owned(),
        })
    })?;
    let keystore_path = resolve(node_root, &options.keystore);
    let policy = options.policy(keystore_path.is_file());
    let mut tls = EffectiveTls {
        internode: options.internode,
        explicit_optional: options.explicit_optional,
        policy,
        require_client_auth: options.require_client_auth,
        require_endpoint_verification: options.require_endpoint_verification,
        cert: None,
        trusted: Vec::new(),
    };
    if policy == Policy::Unencrypted {
        return Ok((tls, options));
    }
    let ssl = |f| StartupFailure::Ssl(f);
    let password = options.keystore_password.as_ref().map(Secret::expose).ok_or(ssl(SslFailure::MissingKeystorePassword))?;
    let key_failure = |failure| ssl(SslFailure::KeyManager { path: options.keystore.clone(), failure });
    let keystore = certs::read_store(&keystore_path).map_err(key_failure)?;
    let keystore = certs::open_store(&keystore, password).map_err(key_failure)?;
    tls.cert = certs::leaf_cert(&keystore);

    let trust_failure = |failure| ssl(SslFailure::TrustManager { path: options.truststore.clone(), failure });
    let truststore = certs::read_store(&resolve(node_root, &options.truststore)).map_err(trust_failure)?;
    // A null truststore_password loads the PKCS12 without an integrity check, and the JDK then
    // skips the encrypted certificate bags: the node starts but trusts nobody.
    if let Some(password) = options.truststore_password.as_ref().map(Secret::expose) {
        let truststore = certs::open_store(&truststore, password).map_err(trust_failure)?;
        tls.trusted = certs::trusted_certs(&truststore);
    }
    Ok((tls, options))
}

/// The lines of a successful boot up to `Listening on ...` (written at boot time).
pub fn boot_lines(ms: u64, address: &str, tls: &EffectiveTls) -> Vec<String> {
    let mut out = Vec::new();
    if tls.policy != Policy::Unencrypted {
        out.push(line("INFO", "main", ms, "SSLFactory.java:389", "Internode messaging enabled TLS protocols: TLSv1.3, TLSv1.2"));
    }
    out.push(line(
        "INFO",
        "main",
        ms,
        "InboundConnectionInitiator.java:165",
        &format!("Listening on address: ({}), nic: lo, encryption: {}", endpoint(address), tls.policy.listener_word()),
    ));
    out
}

/// The boot marker: the first line every start writes.
pub fn boot_marker(ms: u64, config_path: &Path) -> String {
    line("INFO", "main", ms, "YamlConfigurationLoader.java:104", &format!("Configuration location: file:{}", config_path.display()))
}

/// The lines written when the start delay has elapsed and the node joins the ring.
pub fn join_lines(ms: u64, address: &str) -> Vec<String> {
    vec![
        line("INFO", "main", ms, "StorageService.java:3260", &format!("Node {} state jump to NORMAL", endpoint(address))),
        line(
            "INFO",
            "main",
            ms,
            "PipelineConfigurator.java:130",
            &format!("Starting listening for CQL clients on /{address}:9042 (unencrypted)..."),
        ),
        line("INFO", "main", ms, "CassandraDaemon.java:744", "Startup complete"),
    ]
}

/// The lines of a SIGTERM on a running node (the StorageServiceShutdownHook).
pub fn shutdown_lines(ms: u64, was_serving: bool) -> Vec<String> {
    let thread = "StorageServiceShutdownHook";
    let mut out = vec![line("INFO", thread, ms, "HintsService.java:222", "Paused hints dispatch")];
    if was_serving {
        out.push(line("INFO", thread, ms, "Gossiper.java:2271", "Announcing shutdown"));
    }
    out.push(line("INFO", thread, ms, "MessagingService.java:622", "Waiting for messaging service to quiesce"));
    out
}

/// The lines of `nodetool drain` (StorageService.setMode).
pub fn drain_lines(ms: u64) -> Vec<String> {
    let thread = "RMI TCP Connection(2)-127.0.0.1";
    vec![
        line("INFO", thread, ms, "StorageService.java:1985", "DRAINING: starting drain process"),
        line("INFO", thread, ms, "HintsService.java:222", "Paused hints dispatch"),
        line("INFO", thread, ms, "Gossiper.java:2271", "Announcing shutdown"),
        line("INFO", thread, ms, "MessagingService.java:622", "Waiting for messaging service to quiesce"),
        line("INFO", thread, ms, "StorageService.java:1985", "DRAINED"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_matches_logback_pattern() {
        let l = line("INFO", "main", 0, "SSLFactory.java:389", "x");
        let re = regex::Regex::new(r"^INFO  \[main\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} SSLFactory\.java:389 - x$").expect("regex");
        assert!(re.is_match(&l), "{l}");
        assert!(line("ERROR", "main", 0, "A:1", "m").starts_with("ERROR [main] "));
    }

    #[test]
    fn wrong_password_chain_is_exact() {
        let failure =
            StartupFailure::Ssl(SslFailure::KeyManager { path: "/x/node1-keystore.p12".into(), failure: StoreFailure::WrongPassword });
        let lines = failure.render(0);
        assert!(lines[0].ends_with("CassandraDaemon.java:887 - Exception encountered during startup"));
        let chain: Vec<&str> = lines.iter().filter(|l| !l.starts_with('\t')).skip(1).map(String::as_str).collect();
        assert_eq!(
            chain,
            vec![
                "org.apache.cassandra.exceptions.ConfigurationException: Failed to initialize SSL",
                "Caused by: java.io.IOException: Failed to create SSL context using Internode messaging",
                "Caused by: javax.net.ssl.SSLException: failed to build key manager store for secure connections",
                "Caused by: java.io.IOException: keystore password was incorrect",
                "Caused by: java.security.UnrecoverableKeyException: failed to decrypt safe contents entry: \
                 javax.crypto.BadPaddingException: Given final block not properly padded. Such issues can \
                 arise if a bad key is used during decryption.",
            ]
        );
        assert!(failure.summary(0).starts_with("java.security.UnrecoverableKeyException"));
    }

    #[test]
    fn missing_password_has_no_ssl_exception_layer() {
        let lines = StartupFailure::Ssl(SslFailure::MissingKeystorePassword).render(0);
        let causes: Vec<&String> = lines.iter().filter(|l| l.starts_with("Caused by")).collect();
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[1], "Caused by: java.lang.IllegalArgumentException: 'keystore_password' must be specified");
    }

    #[test]
    fn state_up_and_serving() {
        let s = NodeState { status: ProcessStatus::Running, up_at_ms: Some(100), drained_at_ms: Some(200), ..NodeState::default() };
        assert!(!s.is_up(99));
        assert!(s.is_up(100) && s.serving(150));
        assert!(s.is_up(250) && !s.serving(250));
    }
}
