//! Connection failures of the SSH transport against the real sshd testbed: each one must
//! come back as the variant that tells the operator what to fix.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::ssh::{state_dir, target, testbed};
use ringmaster::transport::TransportError;
use ringmaster::transport::ssh::Ssh;

/// Generates a fresh ed25519 key pair at `path` (and `path.pub`).
fn keygen(path: &Path) {
    let out =
        std::process::Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(path).output().expect("run ssh-keygen");
    assert!(out.status.success(), "ssh-keygen: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_host_and_fix() {
    let Some((cfg, _turn)) = testbed("changed_host_key_is_refused_naming_host_and_fix") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let impostor = dir.path().join("impostor");
    keygen(&impostor);
    let pubkey = std::fs::read_to_string(impostor.with_extension("pub")).expect("pub");
    let key: Vec<&str> = pubkey.split_whitespace().take(2).collect();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.11]:2222 {}\n", key.join(" "))).expect("write known_hosts");

    let mut t = target(&cfg, "node1");
    t.known_hosts = Some(known_hosts.clone());
    t.accept_new_host_keys = true; // even accept-new must refuse a changed key
    let err = Ssh::connect(&t).await.expect_err("a changed key must be refused");
    let TransportError::HostKeyChanged { host, detail } = &err else { panic!("expected HostKeyChanged, got {err:?}") };
    assert_eq!(host, "node1");
    let fix = format!("ssh-keygen -f \"{}\" -R \"[127.0.0.11]:2222\"", known_hosts.display());
    assert!(detail.contains(&fix), "the fix must name the right known_hosts file: {detail}");
    assert!(err.to_string().contains("`node1`"), "{err}");
}

#[tokio::test]
async fn unknown_host_key_is_refused_unless_accept_new() {
    let Some((cfg, _turn)) = testbed("unknown_host_key_is_refused_unless_accept_new") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, "").expect("write");
    let mut t = target(&cfg, "node2");
    t.known_hosts = Some(known_hosts.clone());
    let err = Ssh::connect(&t).await.expect_err("strict by default");
    assert!(matches!(&err, TransportError::HostKeyUnknown { host, .. } if host == "node2"), "got {err:?}");

    t.accept_new_host_keys = true;
    let ssh = Ssh::connect(&t).await.expect("accept-new connects");
    assert!(ssh.run("true", None, Duration::from_secs(10)).await.expect("run").success());
    let recorded = std::fs::read_to_string(&known_hosts).expect("read");
    let testbed_key = std::fs::read_to_string(state_dir(&cfg).join("ssh_host_ed25519_key.pub")).expect("host key");
    let key_b64 = testbed_key.split_whitespace().nth(1).expect("key");
    assert!(recorded.contains(key_b64), "accept-new must record the key: {recorded}");
}

#[tokio::test]
async fn wrong_identity_is_permission_denied() {
    let Some((cfg, _turn)) = testbed("wrong_identity_is_permission_denied") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("stranger");
    keygen(&key);
    let config = dir.path().join("ssh_config");
    let known_hosts = state_dir(&cfg).join("known_hosts");
    std::fs::write(
        &config,
        format!(
            "Host stranger\n  HostName 127.0.0.11\n  Port 2222\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n",
            key.display(),
            known_hosts.display()
        ),
    )
    .expect("write config");
    let mut t = target(&config, "stranger");
    t.host = "node1".into();
    let err = Ssh::connect(&t).await.expect_err("key is not authorized");
    assert!(
        matches!(&err, TransportError::PermissionDenied { host, detail } if host == "node1" && detail.contains("publickey")),
        "got {err:?}"
    );
}

#[tokio::test]
async fn closed_port_is_unreachable_quickly() {
    let Some((cfg, _turn)) = testbed("closed_port_is_unreachable_quickly") else { return };
    let mut t = target(&cfg, "node9");
    t.destination = "ssh://root@127.0.0.99:2222".into();
    let started = Instant::now();
    let err = Ssh::connect(&t).await.expect_err("nothing listens there");
    assert!(
        matches!(&err, TransportError::Unreachable { host, detail } if host == "node9" && detail.contains("Connection refused")),
        "got {err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn overlong_control_dir_is_rejected_before_ssh_runs() {
    let Some((cfg, _turn)) = testbed("overlong_control_dir_is_rejected_before_ssh_runs") else { return };
    let mut t = target(&cfg, "node1");
    t.control_dir = Some(Path::new("/tmp").join("d".repeat(80)));
    let err = Ssh::connect(&t).await.expect_err("socket path would not fit");
    assert!(matches!(&err, TransportError::Io { detail, .. } if detail.contains("108 bytes")), "got {err:?}");
}
