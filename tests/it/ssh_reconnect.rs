//! The SSH transport survives its master dying: sshd is stopped (listener and connections,
//! via `bin/testbed down`) and started again while an `Ssh` is in use.
//!
//! One test function on purpose: it stops the shared testbed, so it has the test bed to
//! itself (`testbed_alone`). A guard restarts the testbed even when an assertion fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::ssh::{testbed_alone, testbed_cmd};
use ringmaster::transport::TransportError;

const T: Duration = Duration::from_secs(20);

/// Brings the testbed back up when dropped, so a failing test does not leave it down.
struct Restart(PathBuf);

impl Drop for Restart {
    fn drop(&mut self) {
        testbed_cmd(&self.0, &["up"]);
        let _ = std::fs::remove_dir_all(format!("/tmp/rm-reconnect-{}", std::process::id()));
    }
}

async fn echo(ssh: &ringmaster::transport::ssh::Ssh, word: &str) -> Result<String, TransportError> {
    ssh.run(&format!("echo {word}"), None, T).await.map(|o| o.stdout_str())
}

#[tokio::test]
async fn master_lost_to_an_sshd_restart_is_reconnected() {
    let Some((cfg, _alone)) = testbed_alone("master_lost_to_an_sshd_restart_is_reconnected") else { return };
    let _restart = Restart(cfg.clone());
    // A control directory of our own: masters left by other processes (a SIGKILLed run
    // keeps its ssh masters until they idle out) must not count as ours.
    let mut target = crate::support::ssh::target(&cfg, "node1");
    target.control_dir = Some(control_dir());
    let ssh = ringmaster::transport::ssh::Ssh::connect(&target).await.expect("connect to node1");
    assert_eq!(echo(&ssh, "before").await.expect("run"), "before\n");

    assert_eq!(live_master_sockets(), 1);

    // 1. sshd stays down: the command fails after the bounded backoff, with Disconnected.
    stop_and_wait_for_master_exit(&cfg).await;
    let started = Instant::now();
    let err = echo(&ssh, "down").await.expect_err("nobody listens");
    let waited = started.elapsed();
    assert!(matches!(&err, TransportError::Disconnected { host, .. } if host == "node1"), "got {err:?}");
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(30), "backoff took {waited:?}");

    // 2. sshd is back: the next command reconnects and succeeds.
    testbed_cmd(&cfg, &["up"]);
    assert_eq!(echo(&ssh, "after").await.expect("reconnected"), "after\n");

    // 3. sshd comes back while the command is retrying (its first reconnect is refused at
    // once; `up` takes longer than that): it rides out the gap.
    stop_and_wait_for_master_exit(&cfg).await;
    let pending = tokio::spawn({
        let ssh = ssh.clone();
        async move { echo(&ssh, "during").await }
    });
    testbed_cmd(&cfg, &["up"]);
    assert_eq!(pending.await.expect("join").expect("rode out the restart"), "during\n");

    // 4. A command interrupted while running is not repeated: it fails at once, saying so.
    let marker = format!("sleep 7.{}", std::process::id());
    let pending = tokio::spawn({
        let ssh = ssh.clone();
        let marker = marker.clone();
        async move { ssh.run(&marker, None, T).await }
    });
    let needle = marker.replace(' ', "\0").into_bytes();
    assert!(
        crate::support::ssh::eventually(T, || !crate::support::ssh::pids_with_cmdline(&needle).is_empty()).await,
        "the remote command never started"
    );
    let stopped = Instant::now();
    stop_and_wait_for_master_exit(&cfg).await;
    let err = pending.await.expect("join").expect_err("the connection dropped mid-command");
    assert!(matches!(&err, TransportError::Disconnected { detail, .. } if detail.contains("may or may not have run")), "got {err:?}");
    assert!(stopped.elapsed() < Duration::from_secs(5), "an interrupted command must not wait for a reconnect");
    testbed_cmd(&cfg, &["up"]);

    // File operations work on the new master too.
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("f").to_string_lossy().into_owned();
    ssh.write_file_atomic(&f, b"new master", 0o600).await.expect("write");
    assert_eq!(ssh.read_file(&f, 0).await.expect("read"), b"new master");
}

/// Stops sshd and waits until our master noticed (its control socket is gone), so the next
/// command deterministically finds a dead master rather than racing its exit.
async fn stop_and_wait_for_master_exit(cfg: &Path) {
    testbed_cmd(cfg, &["down"]);
    assert!(
        crate::support::ssh::eventually(Duration::from_secs(10), || live_master_sockets() == 0).await,
        "the ssh master did not exit after sshd went down"
    );
}

/// This test's own control directory (short: unix socket paths are limited).
fn control_dir() -> PathBuf {
    let dir = PathBuf::from(format!("/tmp/rm-reconnect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// Counts master control sockets in this test's control directory.
fn live_master_sockets() -> usize {
    std::fs::read_dir(control_dir()).map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().join("master").exists()).count()).unwrap_or(0)
}
