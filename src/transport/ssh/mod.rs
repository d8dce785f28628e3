//! The SSH transport: the system's OpenSSH driven through the `openssh` crate (native mux),
//! one master connection per host, reused by every command.
//!
//! Why this shape:
//! * The master is started once by [`Ssh::connect`] (by `master.rs`, in a process group of its
//!   own so a terminal's Ctrl-C does not kill it) and every command is a new session on it
//!   (about 4 ms on loopback instead of a ~200-300 ms handshake per `ssh` process). `Ssh` is
//!   a cheap `Clone` around an `Arc`, so one value is shared by everything talking to a host.
//! * The system `ssh` means the operator's `~/.ssh/config` (or the given `-F` file), agent,
//!   ProxyJump and known_hosts all apply. Host keys are checked strictly unless the target
//!   opts in to accept-new.
//! * A semaphore caps concurrent sessions per host below sshd's `MaxSessions` (10 by
//!   default; the 11th session on a master fails).
//! * When the master dies (network blip, sshd restart, idle `ControlPersist` exit), the next
//!   command notices, confirms with `check()`, and reconnects with a bounded backoff (5 tries
//!   over about 10 s) before failing with [`TransportError::Disconnected`].
//! * Retrying after a reconnect: a command that never started is always retried. A command
//!   interrupted while running is retried only for the file operations, which are safe to
//!   repeat: reads and stat have no effect; `write_file_atomic` renames a complete,
//!   length-checked temp file, so a repeat yields the same file; `create_file_new` uses
//!   link(2), and a repeat that finds the file already there with our exact content counts as
//!   done. An arbitrary [`Ssh::run`] is not repeated once it may have run: it fails with
//!   `Disconnected` and the caller (the journaled driver) decides.
//! * Secrets never reach a command line: file contents go over stdin, and the remote command
//!   line carries only paths, sizes and modes (see `script.rs`).
//! * The node needs a POSIX `sh` and GNU coreutils (`timeout`, `mktemp`, `stat -c`,
//!   `chown --reference`, `ln -T`, `sync FILE`), as every Linux distribution has.

mod errors;
mod master;
mod script;

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssh::{Session, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::{CommandOutput, FileStat, TransportError, sha256_hex};

/// Pauses between reconnect attempts: 5 tries spread over about 10 s.
const RECONNECT_PAUSES: [Duration; 4] = [Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(3), Duration::from_secs(4)];

/// How many times one operation is attempted in total (first try plus retries).
const MAX_ATTEMPTS: usize = 3;

/// How long an idle master stays up. It reconnects transparently when needed, and a crashed
/// ringmaster leaves no master behind for longer than this.
const MASTER_IDLE_SECS: usize = 300;

/// Keepalive interval of the master, so a dead peer is noticed within about 45 s.
const SERVER_ALIVE: Duration = Duration::from_secs(15);

/// Longest control directory we accept: ssh binds `<dir>/.ssh-connectionXXXXXX/master` plus
/// a 17-byte temporary suffix, and a unix socket path must fit in 108 bytes.
const MAX_CONTROL_DIR_LEN: usize = 60;

/// Where and how to reach one node over SSH.
#[derive(Debug, Clone)]
pub struct SshTarget {
    /// Node name used in messages.
    pub host: String,
    /// The ssh destination (`[user@]host`, an ssh_config `Host` alias, or `ssh://user@host:port`).
    pub destination: String,
    /// ssh_config passed as `ssh -F`; when set, ssh reads only this file (not
    /// `~/.ssh/config`), as plain `ssh -F` does. `None` uses the user's usual config.
    pub ssh_config: Option<PathBuf>,
    /// known_hosts file (`UserKnownHostsFile`); `None` uses ssh's default or the config's.
    pub known_hosts: Option<PathBuf>,
    /// Accept and record the key of a host never seen before (`StrictHostKeyChecking=accept-new`).
    /// A changed key is always refused.
    pub accept_new_host_keys: bool,
    /// Directory for the master's control socket; `None` uses `/tmp/ringmaster-ssh-<uid>`.
    /// Must be at most 60 bytes long (unix socket path limit) and private (mode 700).
    pub control_dir: Option<PathBuf>,
    /// Wrap every remote command in `sudo -n` (never prompts; a password prompt is an error).
    pub sudo: bool,
    /// Most commands in flight at once on this host; keep below sshd's `MaxSessions` (10).
    pub max_concurrent: usize,
    /// TCP connect timeout of the master (`ConnectTimeout`, whole seconds).
    pub connect_timeout: Duration,
}

impl SshTarget {
    /// Returns a target with the defaults: strict host keys, no sudo, 8 concurrent commands,
    /// 10 s connect timeout, the user's ssh config.
    pub fn new(host: impl Into<String>, destination: impl Into<String>) -> SshTarget {
        SshTarget {
            host: host.into(),
            destination: destination.into(),
            ssh_config: None,
            known_hosts: None,
            accept_new_host_keys: false,
            control_dir: None,
            sudo: false,
            max_concurrent: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A node reached over SSH (one multiplexed master connection per host, shared by clones).
#[derive(Clone)]
pub struct Ssh {
    inner: Arc<Inner>,
}

struct Inner {
    target: SshTarget,
    options: master::MasterOptions,
    /// The current master; replaced (never mutated) on reconnect.
    master: Mutex<Arc<master::Master>>,
    /// Serialises reconnects so concurrent failures trigger one reconnect, not many.
    reconnecting: tokio::sync::Mutex<()>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Ssh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ssh")
            .field("host", &self.inner.target.host)
            .field("destination", &self.inner.target.destination)
            .field("sudo", &self.inner.target.sudo)
            .finish_non_exhaustive()
    }
}

/// Whether an operation may be repeated after the connection dropped while it ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Only when it provably never started (arbitrary commands).
    IfNotStarted,
    /// Also when interrupted mid-way (the file operations, which are idempotent).
    Always,
}

/// Why one attempt did not produce an exit status.
enum Failure {
    /// The session could not be opened on the master: nothing ran.
    NotStarted(openssh::Error),
    /// The connection dropped while the command ran: it may or may not have had effects.
    Interrupted(String),
    Timeout,
}

/// The result of a command that ran to completion, possibly after a reconnect.
struct Finished {
    output: CommandOutput,
    /// True when an earlier attempt was interrupted mid-way, so effects may already exist.
    repeated: bool,
}

impl Ssh {
    /// Starts the master connection to `target` and returns the transport.
    ///
    /// Fails fast (no retry) with [`TransportError::HostKeyChanged`],
    /// [`TransportError::HostKeyUnknown`], [`TransportError::PermissionDenied`] or
    /// [`TransportError::Unreachable`], each carrying ssh's own explanation.
    pub async fn connect(target: &SshTarget) -> Result<Ssh, TransportError> {
        if let Some(problem) = destination_problem(&target.destination) {
            return Err(TransportError::Unreachable {
                host: target.host.clone(),
                detail: format!("the ssh destination `{}` {problem}", target.destination.escape_debug()),
            });
        }
        let control_dir = prepare_control_dir(target)?;
        let options = master::MasterOptions {
            program: "ssh".into(),
            destination: target.destination.clone(),
            ssh_config: target.ssh_config.clone(),
            known_hosts: target.known_hosts.clone(),
            accept_new_host_keys: target.accept_new_host_keys,
            connect_timeout: target.connect_timeout.max(Duration::from_secs(1)),
            server_alive: SERVER_ALIVE,
            idle_secs: MASTER_IDLE_SECS,
        };
        let started = Instant::now();
        let session = launch(&options, target, &control_dir).await?;
        tracing::debug!(host = %target.host, elapsed = ?started.elapsed(), "ssh master up");
        Ok(Ssh {
            inner: Arc::new(Inner {
                target: target.clone(),
                options,
                master: Mutex::new(Arc::new(session)),
                reconnecting: tokio::sync::Mutex::new(()),
                permits: Arc::new(Semaphore::new(target.max_concurrent.max(1))),
            }),
        })
    }

    /// Returns the host name used in messages.
    pub fn host(&self) -> &str {
        &self.inner.target.host
    }

    /// Runs `command` through the node's `sh -c` (under `sudo -n` when the target says so),
    /// feeding `stdin` if given, and waits at most `timeout` (not counting the wait for a
    /// free session slot). A non-zero exit is not an error: callers read `status`.
    /// Exit 127 is [`TransportError::CommandNotFound`].
    pub async fn run(&self, command: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<CommandOutput, TransportError> {
        let done = self.exec(command, command, stdin, timeout, Retry::IfNotStarted).await?;
        let out = done.output;
        if let Some(e) = self.sudo_failure(&out) {
            return Err(e);
        }
        if out.status == Some(127) {
            // `env` failing to find `sudo` or `timeout` is our wrapper, not the caller's command.
            let stderr = out.stderr_str();
            let command = match stderr.lines().find(|l| l.starts_with("env: ")) {
                Some(line) => line.to_string(),
                None => command.to_string(),
            };
            return Err(TransportError::CommandNotFound { host: self.host().into(), command });
        }
        Ok(out)
    }

    /// Returns the bytes of `path` from `offset` on (0 = whole file; past the end = empty).
    pub async fn read_file(&self, path: &str, offset: u64) -> Result<Vec<u8>, TransportError> {
        let done = self.exec(&format!("read `{path}`"), &script::read_file(path, offset), None, file_timeout(0), Retry::Always).await?;
        match done.output.status {
            Some(0) => Ok(done.output.stdout),
            _ => Err(self.file_failure("read", path, None, &done.output)),
        }
    }

    /// Replaces `path` atomically: temp file in the same directory, fsync, rename.
    /// Keeps owner, group and mode of the file it replaces (new files get `mode`).
    pub async fn write_file_atomic(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), TransportError> {
        let script = script::write_file_atomic(path, contents.len(), mode);
        let done = self.exec(&format!("write `{path}`"), &script, Some(contents), file_timeout(contents.len()), Retry::Always).await?;
        match done.output.status {
            Some(0) => Ok(()),
            _ => Err(self.file_failure("write", path, None, &done.output)),
        }
    }

    /// Creates `path` with `contents` only if it does not exist yet (never overwrites);
    /// owner, group and mode are copied from `like` when given (else 0600, owned by the
    /// remote user). The file appears whole or not at all. Fails with
    /// [`TransportError::AlreadyExists`].
    pub async fn create_file_new(&self, path: &str, contents: &[u8], like: Option<&str>) -> Result<(), TransportError> {
        let script = script::create_file_new(path, contents.len(), like);
        let done = self.exec(&format!("create `{path}`"), &script, Some(contents), file_timeout(contents.len()), Retry::Always).await?;
        match done.output.status {
            Some(0) => Ok(()),
            Some(script::EXIT_EXISTS) if done.repeated => {
                // The interrupted attempt may have linked the file before the drop: if what is
                // there is exactly our content, that attempt succeeded.
                match self.stat(path).await? {
                    Some(st) if st.sha256 == sha256_hex(contents) => Ok(()),
                    _ => Err(TransportError::AlreadyExists { host: self.host().into(), path: path.into() }),
                }
            }
            _ => Err(self.file_failure("create", path, like, &done.output)),
        }
    }

    /// Returns the file a symlink at `path` finally points to (`readlink -f` on the node), or
    /// `None` when `path` is not a symlink. A dangling link fails with `NotFound` naming the
    /// target.
    pub async fn symlink_target(&self, path: &str) -> Result<Option<String>, TransportError> {
        let done = self.exec(&format!("resolve `{path}`"), &script::symlink_target(path), None, file_timeout(0), Retry::Always).await?;
        let out = &done.output;
        let target = script::parse_symlink_target(&out.stdout);
        match out.status {
            Some(0) => Ok(target),
            Some(script::EXIT_NOT_FOUND) if self.sudo_failure(out).is_none() => {
                Err(TransportError::NotFound { host: self.host().into(), path: target.unwrap_or_else(|| path.into()) })
            }
            _ => Err(self.file_failure("resolve", path, None, out)),
        }
    }

    /// Returns the names of the hidden `*.tmp` files in `dir` (none when `dir` is missing).
    pub async fn list_temp_files(&self, dir: &str) -> Result<Vec<String>, TransportError> {
        let done = self.exec(&format!("list `{dir}`"), &script::list_temp_files(dir), None, file_timeout(0), Retry::Always).await?;
        match done.output.status {
            Some(0) => Ok(done
                .output
                .stdout
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .filter_map(|p| std::str::from_utf8(p).ok())
                .filter_map(|p| p.rsplit('/').next().map(str::to_string))
                .collect()),
            _ => Err(self.file_failure("list", dir, None, &done.output)),
        }
    }

    /// Removes `paths` (a missing one is not an error).
    pub async fn remove_files(&self, paths: &[String]) -> Result<(), TransportError> {
        let label = format!("remove {} file(s)", paths.len());
        let done = self.exec(&label, &script::remove_files(paths), None, file_timeout(0), Retry::Always).await?;
        match done.output.status {
            Some(0) => Ok(()),
            _ => Err(self.file_failure("remove", &paths.join(" "), None, &done.output)),
        }
    }

    /// Returns owner, mode, size and SHA-256 of `path` (following symlinks), or `None` when
    /// it does not exist.
    pub async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        let done = self.exec(&format!("stat `{path}`"), &script::stat(path), None, file_timeout(0), Retry::Always).await?;
        let out = &done.output;
        match out.status {
            Some(0) => {
                let (uid, gid, mode, size, sha256) = script::parse_stat(&out.stdout_str()).ok_or_else(|| TransportError::Io {
                    host: self.host().into(),
                    op: "stat",
                    path: path.into(),
                    detail: format!("unexpected output {:?}", out.stdout_str()),
                })?;
                Ok(Some(FileStat { uid, gid, mode, size, sha256 }))
            }
            Some(script::EXIT_NOT_FOUND) if self.sudo_failure(out).is_none() => Ok(None),
            _ => Err(self.file_failure("stat", path, None, out)),
        }
    }

    /// Maps a failed file-operation script to the variant `Local` would return.
    fn file_failure(&self, op: &'static str, path: &str, like: Option<&str>, out: &CommandOutput) -> TransportError {
        if let Some(e) = self.sudo_failure(out) {
            return e;
        }
        let host = self.host().to_string();
        let stderr = out.stderr_str().trim().to_string();
        match out.status {
            Some(script::EXIT_NOT_FOUND) => return TransportError::NotFound { host, path: path.into() },
            Some(script::EXIT_EXISTS) => return TransportError::AlreadyExists { host, path: path.into() },
            Some(script::EXIT_LIKE_NOT_FOUND) => {
                return TransportError::NotFound { host, path: like.unwrap_or(path).into() };
            }
            Some(127) => return TransportError::CommandNotFound { host, command: stderr },
            _ => {}
        }
        if stderr.contains("Permission denied") || stderr.contains("Operation not permitted") {
            return TransportError::PermissionDenied { host, detail: format!("{op} `{path}`: {stderr}") };
        }
        if stderr.contains("No such file or directory") {
            return TransportError::NotFound { host, path: path.into() };
        }
        let detail = match (stderr.is_empty(), out.status) {
            (false, _) => stderr,
            (true, Some(code)) => format!("exit status {code}"),
            (true, None) => "killed by a signal".into(),
        };
        TransportError::Io { host, op, path: path.into(), detail }
    }

    /// Recognises a refusal by `sudo -n` itself (only when the target uses sudo).
    fn sudo_failure(&self, out: &CommandOutput) -> Option<TransportError> {
        if !self.inner.target.sudo {
            return None;
        }
        errors::classify_sudo(self.host(), out.status, &out.stderr_str())
    }

    fn current(&self) -> Arc<master::Master> {
        self.inner.master.lock().expect("BUG: master lock poisoned").clone()
    }

    /// Runs `script` on the node with the retry policy of the module doc.
    /// `label` names the operation in errors (the command itself for `run`).
    async fn exec(
        &self,
        label: &str,
        script: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
        retry: Retry,
    ) -> Result<Finished, TransportError> {
        let remote = script::wrap(script, self.inner.target.sudo, timeout);
        let mut repeated = false;
        let mut last = String::new();
        for _ in 0..MAX_ATTEMPTS {
            let session = self.current();
            match self.exec_once(&session.session, &remote, stdin, timeout).await {
                Ok(output) => return Ok(Finished { output, repeated }),
                Err(Failure::Timeout) => {
                    return Err(TransportError::Timeout { host: self.host().into(), command: label.into(), timeout });
                }
                Err(Failure::NotStarted(openssh::Error::InvalidCommand)) => {
                    return Err(TransportError::Io {
                        host: self.host().into(),
                        op: "run",
                        path: label.into(),
                        detail: "the command contains a NUL byte".into(),
                    });
                }
                Err(Failure::NotStarted(e)) => last = error_chain(&e),
                Err(Failure::Interrupted(detail)) => {
                    if retry == Retry::IfNotStarted {
                        return Err(TransportError::Disconnected {
                            host: self.host().into(),
                            detail: format!("{detail}; the command may or may not have run"),
                        });
                    }
                    repeated = true;
                    last = detail;
                }
            }
            self.recover(&session, &last).await?;
        }
        Err(TransportError::Disconnected { host: self.host().into(), detail: last })
    }

    /// One attempt: open a session on `session`'s master, feed stdin, collect output.
    async fn exec_once(&self, session: &Session, remote: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<CommandOutput, Failure> {
        let _permit = self.inner.permits.clone().acquire_owned().await.expect("BUG: semaphore closed");
        let mut cmd = session.raw_command(remote);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().await.map_err(Failure::NotStarted)?;
        let work = async {
            let feed_pipe = child.stdin().take();
            let mut out_pipe = child.stdout().take().expect("BUG: stdout was piped");
            let mut err_pipe = child.stderr().take().expect("BUG: stderr was piped");
            let feed = async move {
                if let (Some(mut pipe), Some(data)) = (feed_pipe, stdin) {
                    // A command may exit without reading all of stdin; its exit status is
                    // what matters, so a broken pipe here is not an error.
                    let _ = pipe.write_all(data).await;
                    let _ = pipe.shutdown().await;
                }
            };
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let (_, out_read, err_read) = tokio::join!(feed, out_pipe.read_to_end(&mut stdout), err_pipe.read_to_end(&mut stderr));
            if let Err(e) = out_read.and(err_read) {
                return Err(Failure::Interrupted(format!("reading the output failed: {e}")));
            }
            let status = match child.wait().await {
                Ok(status) => status.code(),
                // The crate turns exit 127 into this error; keep it an exit status like Local.
                Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => Some(127),
                // Killed by a signal and a dead connection look alike; the master decides.
                Err(openssh::Error::RemoteProcessTerminated) if session.check().await.is_ok() => None,
                Err(e) => return Err(Failure::Interrupted(error_chain(&e))),
            };
            Ok(CommandOutput { status, stdout, stderr })
        };
        tokio::time::timeout(timeout, work).await.unwrap_or(Err(Failure::Timeout))
    }

    /// Makes the master usable again after `failed` let a command down: nothing to do when
    /// another task already replaced it or it still answers; otherwise reconnect with backoff.
    async fn recover(&self, failed: &Arc<master::Master>, why: &str) -> Result<(), TransportError> {
        let _guard = self.inner.reconnecting.lock().await;
        if !Arc::ptr_eq(&self.current(), failed) || failed.session.check().await.is_ok() {
            return Ok(());
        }
        tracing::info!(host = %self.host(), why, "ssh master lost; reconnecting");
        let mut last = None;
        for attempt in 0..=RECONNECT_PAUSES.len() {
            if attempt > 0 {
                tokio::time::sleep(RECONNECT_PAUSES[attempt - 1]).await;
            }
            // The control directory may have been cleaned away (tmp reaper) since connect.
            let relaunched = match prepare_control_dir(&self.inner.target) {
                Ok(dir) => launch(&self.inner.options, &self.inner.target, &dir).await,
                Err(e) => Err(e),
            };
            match relaunched {
                Ok(session) => {
                    *self.inner.master.lock().expect("BUG: master lock poisoned") = Arc::new(session);
                    tracing::info!(host = %self.host(), attempt, "ssh master reconnected");
                    return Ok(());
                }
                Err(
                    e @ (TransportError::HostKeyChanged { .. }
                    | TransportError::HostKeyUnknown { .. }
                    | TransportError::PermissionDenied { .. }
                    | TransportError::Io { .. }),
                ) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        let last = last.map(|e| e.to_string()).unwrap_or_default();
        Err(TransportError::Disconnected {
            host: self.host().into(),
            detail: format!("{why}; {} reconnect attempts over about 10 s failed, the last with: {last}", RECONNECT_PAUSES.len() + 1),
        })
    }
}

/// Returns why `destination` cannot be an ssh destination (`None` when it can be one).
///
/// `ssh` would read a leading `-` as an option (`-oProxyCommand=...`), and whitespace or
/// control characters as a second word or a broken config line; none of them is part of a
/// `user@host` or a `Host` alias.
pub fn destination_problem(destination: &str) -> Option<&'static str> {
    if destination.is_empty() {
        Some("is empty")
    } else if destination.starts_with('-') {
        Some("starts with `-`, which ssh would read as an option")
    } else if destination.chars().any(char::is_whitespace) {
        Some("holds whitespace; give `user@host` or a `Host` alias of your ssh_config")
    } else if destination.chars().any(char::is_control) {
        Some("holds a control character")
    } else {
        None
    }
}

/// Starts one master and maps ssh's failure text to a [`TransportError`].
async fn launch(options: &master::MasterOptions, target: &SshTarget, control_dir: &Path) -> Result<master::Master, TransportError> {
    master::launch(options, control_dir).await.map_err(|e| match e {
        master::LaunchError::Failed(log) => {
            let known_hosts = target.known_hosts.as_deref().map(|p| p.to_string_lossy().into_owned());
            errors::classify_connect(&target.host, known_hosts.as_deref(), &log)
        }
        master::LaunchError::Spawn(io) => {
            TransportError::Unreachable { host: target.host.clone(), detail: format!("cannot run `ssh`: {io}; install the OpenSSH client") }
        }
        master::LaunchError::Dir(io) => TransportError::Io {
            host: target.host.clone(),
            op: "create the control socket of",
            path: target.destination.clone(),
            detail: io.to_string(),
        },
    })
}

/// Returns the control directory for `target`, created private (0700) if missing.
///
/// An existing directory must belong to us and be closed to others: whoever can write
/// there could plant a socket and see our commands.
fn prepare_control_dir(target: &SshTarget) -> Result<PathBuf, TransportError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let dir = target.control_dir.clone().unwrap_or_else(|| PathBuf::from(format!("/tmp/ringmaster-ssh-{uid}")));
    let fail = |detail: String| TransportError::Io {
        host: target.host.clone(),
        op: "prepare the ssh control directory",
        path: dir.to_string_lossy().into_owned(),
        detail,
    };
    if dir.as_os_str().len() > MAX_CONTROL_DIR_LEN {
        return Err(fail(format!("the path is longer than {MAX_CONTROL_DIR_LEN} bytes; unix socket paths are limited to 108 bytes")));
    }
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let meta = std::fs::metadata(&dir).map_err(|e| fail(e.to_string()))?;
    if !meta.is_dir() || meta.uid() != uid {
        return Err(fail(format!("not a directory owned by uid {uid}")));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| fail(e.to_string()))?;
    }
    Ok(absolute(&dir))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The time a file operation of `size` bytes may take: generous, as files here are small.
fn file_timeout(size: usize) -> Duration {
    Duration::from_secs(60 + (size / (1 << 20)) as u64)
}

/// Formats an error with its sources, since the crate's top-level messages are generic.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
