//! The local transport: the node's files live on this machine (the sandbox, or a
//! single-host test), commands run through `sh -c`, files are written in-process.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::{CommandOutput, FileStat, TransportError, sha256_hex};

/// Runs commands and file operations on this machine, on behalf of one node.
#[derive(Clone, Debug)]
pub struct Local {
    host: String,
}

impl Local {
    /// Returns a local transport that names itself `host` in messages.
    pub fn new(host: impl Into<String>) -> Local {
        Local { host: host.into() }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn io(&self, op: &'static str, path: &str, e: std::io::Error) -> TransportError {
        match e.kind() {
            std::io::ErrorKind::NotFound => TransportError::NotFound { host: self.host.clone(), path: path.into() },
            std::io::ErrorKind::AlreadyExists => TransportError::AlreadyExists { host: self.host.clone(), path: path.into() },
            std::io::ErrorKind::PermissionDenied => {
                TransportError::PermissionDenied { host: self.host.clone(), detail: format!("{op} `{path}`: {e}") }
            }
            _ => TransportError::Io { host: self.host.clone(), op, path: path.into(), detail: e.to_string() },
        }
    }

    pub async fn run(&self, command: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<CommandOutput, TransportError> {
        let mut cmd = tokio::process::Command::new("sh");
        super::shield(&mut cmd);
        let mut child = cmd
            .arg("-c")
            .arg(command)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| self.io("spawn", "sh", e))?;
        // The command leads its own process group: a timeout ends all of it, not only `sh`.
        let group = child.id().map(|id| id as i32);
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("BUG: stdin was piped");
            pipe.write_all(input).await.map_err(|e| self.io("write stdin of", command, e))?;
            drop(pipe);
        }
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Ok(Ok(out)) => {
                let output = CommandOutput { status: out.status.code(), stdout: out.stdout, stderr: out.stderr };
                if output.status == Some(127) {
                    return Err(TransportError::CommandNotFound { host: self.host.clone(), command: command.into() });
                }
                Ok(output)
            }
            Ok(Err(e)) => Err(self.io("wait for", command, e)),
            Err(_) => {
                if let Some(pgid) = group {
                    // SAFETY: kill has no memory preconditions; the group is the one we made.
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                }
                Err(TransportError::Timeout { host: self.host.clone(), command: command.into(), timeout })
            }
        }
    }

    pub async fn read_file(&self, path: &str, offset: u64) -> Result<Vec<u8>, TransportError> {
        let bytes = std::fs::read(path).map_err(|e| self.io("read", path, e))?;
        let start = (offset as usize).min(bytes.len());
        Ok(bytes[start..].to_vec())
    }

    pub async fn write_file_atomic(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), TransportError> {
        let target = Path::new(path);
        let existing = std::fs::metadata(target).ok();
        let tmp = temp_path(target);
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(contents)?;
            match &existing {
                Some(meta) => {
                    std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
                    f.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
                }
                None => f.set_permissions(std::fs::Permissions::from_mode(mode))?,
            }
            f.sync_all()?;
            std::fs::rename(&tmp, target)?;
            sync_dir(target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|e| self.io("write", path, e))
    }

    pub async fn create_file_new(&self, path: &str, contents: &[u8], like: Option<&str>) -> Result<(), TransportError> {
        let target = Path::new(path);
        let like_meta = match like {
            Some(l) => Some(std::fs::metadata(l).map_err(|e| self.io("stat", l, e))?),
            None => None,
        };
        let tmp = temp_path(target);
        let result = (|| {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(contents)?;
            if let Some(meta) = &like_meta {
                std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
                f.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            }
            f.sync_all()?;
            // link(2) fails when the target exists: the no-clobber, all-or-nothing step.
            std::fs::hard_link(&tmp, target)?;
            std::fs::remove_file(&tmp)?;
            sync_dir(target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|e| self.io("create", path, e))
    }

    pub async fn symlink_target(&self, path: &str) -> Result<Option<String>, TransportError> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| self.io("stat", path, e))?;
        if !meta.file_type().is_symlink() {
            return Ok(None);
        }
        match std::fs::canonicalize(path) {
            Ok(target) => Ok(Some(target.to_string_lossy().into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link: name what it points to (one level, made absolute).
                let link = std::fs::read_link(path).map_err(|e| self.io("read the link", path, e))?;
                let dir = Path::new(path).parent().unwrap_or(Path::new("/"));
                Err(TransportError::NotFound { host: self.host.clone(), path: dir.join(link).to_string_lossy().into_owned() })
            }
            Err(e) => Err(self.io("resolve the link", path, e)),
        }
    }

    /// Returns the names of the hidden `*.tmp` files in `dir` (none when `dir` is missing).
    pub async fn list_temp_files(&self, dir: &str) -> Result<Vec<String>, TransportError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("list", dir, e)),
        };
        Ok(entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.starts_with('.') && n.ends_with(".tmp")).collect())
    }

    /// Removes `paths` (a missing one is not an error).
    pub async fn remove_files(&self, paths: &[String]) -> Result<(), TransportError> {
        for p in paths {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.io("remove", p, e)),
            }
        }
        Ok(())
    }

    pub async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("stat", path, e)),
        };
        let bytes = std::fs::read(path).map_err(|e| self.io("read", path, e))?;
        Ok(Some(FileStat { uid: meta.uid(), gid: meta.gid(), mode: meta.mode() & 0o7777, size: meta.len(), sha256: sha256_hex(&bytes) }))
    }
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!("{}{}.tmp", super::temp_file_prefix(&name), std::process::id()))
}

fn sync_dir(target: &Path) -> std::io::Result<()> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}
