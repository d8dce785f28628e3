//! No secret on any command line: while a large `write_file_atomic` carrying a distinctive
//! password runs over SSH, no process on the machine (client ssh, sshd, remote shell, cat)
//! shows it in `/proc/*/cmdline`. The testbed is on loopback, so the remote side is visible.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::ssh::{connect, pids_with_cmdline, testbed};

#[tokio::test]
async fn write_file_atomic_keeps_the_secret_off_every_command_line() {
    let Some((cfg, _turn)) = testbed("write_file_atomic_keeps_the_secret_off_every_command_line") else { return };
    let ssh = connect(&cfg, "node1").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keystore-settings.yaml").to_string_lossy().into_owned();
    // No quote characters: a leak must show up verbatim, not shell-escaped.
    let secret = b"Pa55-ringmaster-secret-7f3a";

    // Big enough that the upload lasts long enough to be observed in flight.
    let mut content = Vec::with_capacity(48 << 20);
    while content.len() < 48 << 20 {
        content.extend_from_slice(b"keystore_password: ");
        content.extend_from_slice(secret);
        content.extend_from_slice(b"\n# padding padding padding padding padding padding padding\n");
    }

    let done = Arc::new(AtomicBool::new(false));
    let scanner = {
        let done = done.clone();
        let needle = path.clone().into_bytes();
        tokio::task::spawn_blocking(move || {
            let (mut leaks, mut saw_op, mut scans) = (std::collections::BTreeSet::new(), false, 0u32);
            while !done.load(Ordering::SeqCst) {
                leaks.extend(pids_with_cmdline(secret));
                saw_op |= !pids_with_cmdline(&needle).is_empty();
                scans += 1;
            }
            (leaks, saw_op, scans)
        })
    };
    let result = ssh.write_file_atomic(&path, &content, 0o600).await;
    done.store(true, Ordering::SeqCst);
    let (leaks, saw_op, scans) = scanner.await.expect("scanner");
    result.expect("write");

    assert!(saw_op, "the scan never saw the remote script (path on its command line) in {scans} scans: the test observed nothing");
    assert!(leaks.is_empty(), "the secret was on the command line of pids {leaks:?}");
    let written = std::fs::read(&path).expect("read back");
    assert!(written == content, "content differs after the write");
}
