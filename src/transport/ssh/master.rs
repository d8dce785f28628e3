//! The SSH master connection, started by us rather than by the `openssh` crate.
//!
//! The crate's `SessionBuilder::launch_master` spawns `ssh -M -f` in ringmaster's own process
//! group. A Ctrl-C in the terminal sends SIGINT to that whole foreground group: it kills a
//! master that is still connecting (at start or on a reconnect mid-run), and, for good, the
//! ProxyCommand / ProxyJump helper that ssh forks before `-f` moves the master itself into a
//! session of its own. Either way the connection dies and takes the command it carried (a
//! restart) with it. So the master is spawned here with the options the crate would use,
//! through [`crate::transport::shield`] (own process group, no `RINGMASTER_SECRET_*`), and
//! handed to the crate with `Session::resume_mux`; every command is then a session on its
//! socket (native mux: no further ssh processes).

use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use openssh::{Session, SessionBuilder};

/// How the master is started: what [`super::SshTarget`] asks for, in ssh's terms.
#[derive(Debug, Clone)]
pub(super) struct MasterOptions {
    /// The program to run (`ssh`; tests put a stand-in here).
    pub program: OsString,
    pub destination: String,
    pub ssh_config: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub accept_new_host_keys: bool,
    pub connect_timeout: Duration,
    pub server_alive: Duration,
    pub idle_secs: usize,
}

/// A running master: the crate's session on its socket, and the private directory that holds
/// the socket and the master's log. Dropping it asks the master to exit and removes the
/// directory, as the crate's own sessions do.
pub(super) struct Master {
    pub session: Session,
    program: OsString,
    dir: PathBuf,
}

impl Drop for Master {
    fn drop(&mut self) {
        // `ssh -O exit` talks to the master over its socket and returns at once.
        let _ = std::process::Command::new(&self.program)
            .arg("-S")
            .arg(self.dir.join("master"))
            .args(["-O", "exit", "ringmaster-master"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

use std::os::unix::process::CommandExt as _;

/// Why a master did not start.
#[derive(Debug)]
pub(super) enum LaunchError {
    /// The per-master directory could not be made.
    Dir(std::io::Error),
    /// `ssh` could not be run at all.
    Spawn(std::io::Error),
    /// `ssh` ran and failed: its log (normalised as the crate does).
    Failed(String),
}

/// Starts a master under `control_dir` (which must exist and be private) and waits until it
/// is up (`ssh -f` returns once it authenticated and listens on its socket).
pub(super) async fn launch(options: &MasterOptions, control_dir: &Path) -> Result<Master, LaunchError> {
    let dir = make_dir(control_dir).map_err(LaunchError::Dir)?;
    let log = dir.join("log");
    let ctl = dir.join("master");
    let mut cmd = tokio::process::Command::new(&options.program);
    crate::transport::shield(&mut cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).args(args(options, &log, &ctl));
    let status = match cmd.status().await {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(LaunchError::Spawn(e));
        }
    };
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        return Err(LaunchError::Failed(normalise_log(&text)));
    }
    let session = Session::resume_mux(ctl.into_boxed_path(), Some(log.into_boxed_path()));
    Ok(Master { session, program: options.program.clone(), dir })
}

/// The arguments of the master, the same the crate's `launch_master` passes.
fn args(o: &MasterOptions, log: &Path, ctl: &Path) -> Vec<OsString> {
    let plain = SessionBuilder::default();
    let (with, destination) = plain.resolve(&o.destination);
    let mut a: Vec<OsString> = vec!["-E".into(), log.into(), "-S".into(), ctl.into(), "-M".into(), "-f".into(), "-N".into()];
    let mut opt = |s: String| {
        a.push("-o".into());
        a.push(s.into());
    };
    opt(format!("ControlPersist={}s", o.idle_secs.max(1)));
    opt("BatchMode=yes".into());
    opt(format!("StrictHostKeyChecking={}", if o.accept_new_host_keys { "accept-new" } else { "yes" }));
    opt(format!("ConnectTimeout={}", o.connect_timeout.as_secs().max(1)));
    opt(format!("ServerAliveInterval={}", o.server_alive.as_secs()));
    if let Some(known_hosts) = &o.known_hosts {
        let mut s = OsString::from("UserKnownHostsFile=");
        s.push(known_hosts);
        a.push("-o".into());
        a.push(s);
    }
    if let Some(port) = with.get_port() {
        a.extend(["-p".into(), port.into()]);
    }
    if let Some(user) = with.get_user() {
        a.extend(["-l".into(), user.into()]);
    }
    if let Some(config) = &o.ssh_config {
        a.extend(["-F".into(), config.into()]);
    }
    a.push(destination.into());
    a
}

/// Makes `control_dir/.ssh-connection-PID-N` (mode 0700): short, unique, ours.
fn make_dir(control_dir: &Path) -> std::io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let dir = control_dir.join(format!(".ssh-connection-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            // Left by an earlier process with our pid: take the next number.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The master's log as the crate hands it on: trimmed, without ssh's `ssh: ` prefix and
/// without the leading "Warning: Permanently added" line of accept-new.
fn normalise_log(text: &str) -> String {
    let mut s = text.trim();
    s = s.strip_prefix("ssh: ").unwrap_or(s);
    if s.starts_with("Warning: Permanently added ") {
        s = s.split_once('\n').map(|x| x.1.trim()).unwrap_or("");
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn options(program: &Path) -> MasterOptions {
        MasterOptions {
            program: program.into(),
            destination: "ssh://admin@db1.example:2222".into(),
            ssh_config: Some("/etc/rm/ssh_config".into()),
            known_hosts: Some("/etc/rm/known_hosts".into()),
            accept_new_host_keys: false,
            connect_timeout: Duration::from_secs(7),
            server_alive: Duration::from_secs(15),
            idle_secs: 300,
        }
    }

    #[test]
    fn args_are_the_crates_with_the_destination_resolved() {
        let a = args(&options(Path::new("ssh")), Path::new("/c/d/log"), Path::new("/c/d/master"));
        let a: Vec<String> = a.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        assert_eq!(
            a.join(" "),
            "-E /c/d/log -S /c/d/master -M -f -N -o ControlPersist=300s -o BatchMode=yes -o StrictHostKeyChecking=yes \
             -o ConnectTimeout=7 -o ServerAliveInterval=15 -o UserKnownHostsFile=/etc/rm/known_hosts -p 2222 -l admin \
             -F /etc/rm/ssh_config db1.example"
        );
    }

    /// A stand-in `ssh` that records its process group, writes a refusal to its `-E` log and
    /// fails, as ssh does when the host refuses the connection. (The environment is
    /// [`crate::transport::shield`]'s, tested there and through the local transport.)
    #[tokio::test]
    async fn recover_4_the_master_runs_in_its_own_process_group() {
        let tmp = std::env::temp_dir().join(format!("rm-master-test-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let record = tmp.join("record");
        let fake = tmp.join("fake-ssh");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nps -o pgid= -p $$ > {r}\nwhile [ \"$1\" != -E ]; do shift; done\n\
                 printf 'ssh: connect to host db1.example port 2222: Connection refused\\n' > \"$2\"\nexit 255\n",
                r = record.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = launch(&options(&fake), &tmp).await.err().expect("the stand-in fails");
        match err {
            LaunchError::Failed(log) => assert_eq!(log, "connect to host db1.example port 2222: Connection refused"),
            other => panic!("{other:?}"),
        }
        let text = std::fs::read_to_string(&record).unwrap();
        let pgid: i32 = text.lines().next().unwrap().trim().parse().unwrap();
        // SAFETY: getpgrp has no preconditions.
        assert_ne!(pgid, unsafe { libc::getpgrp() }, "the master is not in ringmaster's process group");
        let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!left.iter().any(|n| n.to_string_lossy().starts_with(".ssh-connection")), "{left:?}");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
