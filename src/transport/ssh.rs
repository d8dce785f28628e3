//! (in progress) The SSH transport: the system's OpenSSH through the `openssh` crate.

use std::time::Duration;

use super::{CommandOutput, FileStat, TransportError};

pub struct SshTarget { pub host: String, pub destination: String, pub ssh_config: Option<std::path::PathBuf>, pub known_hosts: Option<std::path::PathBuf>, pub accept_new_host_keys: bool, pub control_dir: Option<std::path::PathBuf>, pub sudo: bool, pub max_concurrent: usize, pub connect_timeout: Duration }
/// A node reached over SSH (one multiplexed master connection per host).
#[derive(Clone, Debug)]
pub struct Ssh {
    host: String,
}

impl Ssh {
    pub async fn connect(t: &SshTarget) -> Result<Ssh, TransportError> { Err(TransportError::Unreachable { host: t.host.clone(), detail: String::new() }) }
    pub fn host(&self) -> &str {
        &self.host
    }
    pub async fn run(&self, command: &str, _stdin: Option<&[u8]>, _timeout: Duration) -> Result<CommandOutput, TransportError> {
        Err(TransportError::Unreachable { host: self.host.clone(), detail: format!("ssh transport not built yet ({command})") })
    }
    pub async fn read_file(&self, path: &str, _offset: u64) -> Result<Vec<u8>, TransportError> {
        Err(TransportError::NotFound { host: self.host.clone(), path: path.into() })
    }
    pub async fn write_file_atomic(&self, path: &str, _contents: &[u8], _mode: u32) -> Result<(), TransportError> {
        Err(TransportError::NotFound { host: self.host.clone(), path: path.into() })
    }
    pub async fn create_file_new(&self, path: &str, _contents: &[u8], _like: Option<&str>) -> Result<(), TransportError> {
        Err(TransportError::NotFound { host: self.host.clone(), path: path.into() })
    }
    pub async fn stat(&self, _path: &str) -> Result<Option<FileStat>, TransportError> {
        Ok(None)
    }
}
