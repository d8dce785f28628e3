//! How ringmaster reaches a node: run a command, read, write and stat files.
//!
//! Two implementations share one surface: [`local::Local`] (the node's files are on this
//! machine, as in the sandbox) and [`ssh::Ssh`] (the system's OpenSSH through the
//! `openssh` crate, one multiplexed master per host). [`Transport`] is an enum rather
//! than a trait object because async trait methods are not object safe; it only
//! delegates.
//!
//! Secrets never travel on a command line: file contents go over stdin (ssh) or are
//! written in-process (local).

pub mod local;
mod quote;
pub mod ssh;

pub use quote::shell_quote;

use std::time::Duration;

/// What a finished remote or local command produced.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Exit code; `None` when the process was killed by a signal.
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl CommandOutput {
    /// Returns true when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
    /// Returns how the command ended, for messages: `exited with status 1`, `was killed by a signal`.
    pub fn status_text(&self) -> String {
        match self.status {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        }
    }
    /// Returns stdout as lossy UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Returns stderr as lossy UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Owner, mode, size and content hash of a file on a node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileStat {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits only (e.g. 0o600).
    pub mode: u32,
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
}

/// A node that connected, but where `sudo -n` does not work: the error of that check.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SudoCheckFailed(pub TransportError);

/// Why an operation on a node failed. Every variant names the host.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach `{host}`: {detail}")]
    Unreachable { host: String, detail: String },
    #[error("the host key of `{host}` does not match known_hosts ({detail})")]
    HostKeyChanged { host: String, detail: String },
    #[error("the host key of `{host}` is not in known_hosts ({detail})")]
    HostKeyUnknown { host: String, detail: String },
    #[error("permission denied on `{host}`: {detail}")]
    PermissionDenied { host: String, detail: String },
    #[error("`sudo` on `{host}` wants a password; ringmaster needs passwordless `sudo -n`")]
    SudoNeedsPassword { host: String },
    #[error("command not found on `{host}`: `{command}`")]
    CommandNotFound { host: String, command: String },
    #[error("`{command}` on `{host}` did not finish within {}", humantime::format_duration(*.timeout))]
    Timeout { host: String, command: String, timeout: Duration },
    #[error("`{path}` already exists on `{host}`; refusing to overwrite it")]
    AlreadyExists { host: String, path: String },
    #[error("`{path}` does not exist on `{host}`")]
    NotFound { host: String, path: String },
    #[error("the connection to `{host}` dropped: {detail}")]
    Disconnected { host: String, detail: String },
    #[error("{op} `{path}` on `{host}` failed: {detail}")]
    Io { host: String, op: &'static str, path: String, detail: String },
}

/// A node's transport. Cloning is cheap (shared connection).
#[derive(Clone)]
pub enum Transport {
    Local(local::Local),
    Ssh(ssh::Ssh),
}

macro_rules! delegate {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            Transport::Local($t) => $e,
            Transport::Ssh($t) => $e,
        }
    };
}

impl Transport {
    /// Returns the host name used in messages.
    pub fn host(&self) -> &str {
        delegate!(self, t => t.host())
    }

    /// Runs `command` through the node's `sh -c`, feeding `stdin` if given, and waits
    /// at most `timeout`. A non-zero exit is not an error: callers read `status`.
    #[tracing::instrument(level = "debug", skip_all, fields(host = %self.host(), command), err)]
    pub async fn run(&self, command: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<CommandOutput, TransportError> {
        delegate!(self, t => t.run(command, stdin, timeout).await)
    }

    /// Returns the bytes of `path` from `offset` on (0 = whole file).
    pub async fn read_file(&self, path: &str, offset: u64) -> Result<Vec<u8>, TransportError> {
        delegate!(self, t => t.read_file(path, offset).await)
    }

    /// Replaces `path` atomically: temp file in the same directory, fsync, rename.
    /// Keeps owner, group and mode of the file it replaces (new files get `mode`).
    pub async fn write_file_atomic(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), TransportError> {
        delegate!(self, t => t.write_file_atomic(path, contents, mode).await)
    }

    /// Creates `path` with `contents` only if it does not exist yet (never overwrites);
    /// owner, group and mode are copied from `like` when given. Atomic: the file appears
    /// whole or not at all. Fails with [`TransportError::AlreadyExists`].
    pub async fn create_file_new(&self, path: &str, contents: &[u8], like: Option<&str>) -> Result<(), TransportError> {
        delegate!(self, t => t.create_file_new(path, contents, like).await)
    }

    /// Returns the file a symlink at `path` finally points to (absolute, every link in the
    /// chain followed), or `None` when `path` is not a symlink. A link whose target does not
    /// exist fails with [`TransportError::NotFound`] naming the target; a `path` that does
    /// not exist at all fails with `NotFound` naming `path`.
    pub async fn symlink_target(&self, path: &str) -> Result<Option<String>, TransportError> {
        delegate!(self, t => t.symlink_target(path).await)
    }

    /// Removes the temp files that a ringmaster process which is no longer alive left next to
    /// `path` (killed while writing it: the temp file of [`Self::write_file_atomic`] or
    /// [`Self::create_file_new`]); returns their paths. Files of another naming, and those of
    /// a live ringmaster process on this host, are left alone.
    pub async fn remove_stale_temp_files(&self, path: &str) -> Result<Vec<String>, TransportError> {
        let (dir, name) = split_path(path);
        let names = delegate!(self, t => t.list_temp_files(&dir).await)?;
        let stale: Vec<String> = names
            .iter()
            .filter(|f| temp_file_pid(&name, f).is_some_and(|pid| !live_ringmaster(pid)))
            .map(|f| if dir.ends_with('/') { format!("{dir}{f}") } else { format!("{dir}/{f}") })
            .collect();
        if !stale.is_empty() {
            delegate!(self, t => t.remove_files(&stale).await)?;
        }
        Ok(stale)
    }

    /// Returns owner, mode, size and SHA-256 of `path`, or `None` when it does not exist.
    pub async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        delegate!(self, t => t.stat(path).await)
    }
}

/// Returns the start of the name of ringmaster's temp files for a file called `name`: the
/// whole name is `.NAME.ringmaster-PID.tmp` (local) or `.NAME.ringmaster-PID-XXXXXX.tmp`
/// (ssh, made by `mktemp`), PID being the writing ringmaster's process id.
pub(crate) fn temp_file_prefix(name: &str) -> String {
    format!(".{name}.ringmaster-")
}

/// Returns the PID in `file` when it is one of ringmaster's temp files for `name`.
fn temp_file_pid(name: &str, file: &str) -> Option<u32> {
    let rest = file.strip_prefix(&temp_file_prefix(name))?.strip_suffix(".tmp")?;
    rest.split_once('-').map_or(rest, |(pid, _)| pid).parse().ok()
}

/// Returns true when `pid` is this process or another live ringmaster process on this host.
fn live_ringmaster(pid: u32) -> bool {
    pid == std::process::id() || std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == "ringmaster")
}

/// Splits `path` into its directory (`.` for a bare name) and file name.
fn split_path(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), path.into()),
    }
}

/// Prepares a child process of ringmaster that acts for a node (a local transport's command,
/// the SSH master): it gets a process group of its own, so the terminal's Ctrl-C (SIGINT to
/// the whole foreground group) reaches ringmaster alone, which then stops at its next safe
/// point instead of losing the restart it was waiting for; and its environment holds no
/// `RINGMASTER_SECRET_*` variable.
pub(crate) fn shield(cmd: &mut tokio::process::Command) -> &mut tokio::process::Command {
    cmd.process_group(0);
    for key in secret_env_names(std::env::vars_os().map(|(k, _)| k)) {
        cmd.env_remove(key);
    }
    cmd
}

/// Environment variables with this prefix hold secrets ([`crate::secrets`] reads them): no
/// child process ever sees them.
pub const SECRET_ENV_PREFIX: &str = "RINGMASTER_SECRET_";

/// Returns the names among `names` that hold secrets.
fn secret_env_names(names: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    names.filter(|k| k.as_encoded_bytes().starts_with(SECRET_ENV_PREFIX.as_bytes())).collect()
}

/// Returns the lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn recover_low_temp_file_names_carry_the_writers_pid() {
        assert_eq!(super::temp_file_pid("cassandra.yaml", ".cassandra.yaml.ringmaster-4242.tmp"), Some(4242));
        assert_eq!(super::temp_file_pid("cassandra.yaml", ".cassandra.yaml.ringmaster-4242-aB3xYz.tmp"), Some(4242));
        assert_eq!(
            super::temp_file_pid("cassandra.yaml", ".cassandra.yaml.ringmaster-aB3xYz.tmp"),
            None,
            "an older ssh name: not ours to judge"
        );
        assert_eq!(super::temp_file_pid("cassandra.yaml", ".other.yaml.ringmaster-4242.tmp"), None);
        assert_eq!(super::temp_file_pid("cassandra.yaml", ".cassandra.yaml.ringmaster-4242.tmp.keep"), None);
        assert!(super::live_ringmaster(std::process::id()));
        assert!(!super::live_ringmaster(1), "init is alive but not ringmaster");
    }

    #[test]
    fn recover_low_secret_env_names_are_picked() {
        let names =
            ["PATH", "RINGMASTER_SECRET_KEYSTORE_PASSWORD", "RINGMASTER_JOURNAL", "RINGMASTER_SECRET_"].map(std::ffi::OsString::from);
        let picked = super::secret_env_names(names.into_iter());
        assert_eq!(picked, ["RINGMASTER_SECRET_KEYSTORE_PASSWORD", "RINGMASTER_SECRET_"].map(std::ffi::OsString::from));
    }
}
