//! The SSH transport's operations against the real sshd testbed (`bin/testbed up`):
//! commands, timeouts, reads, atomic writes, create-new, stat, concurrency and sudo.

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use crate::support::ssh::{connect, eventually, nasty_bytes, pids_with_cmdline, target, testbed};
use ringmaster::transport::ssh::Ssh;
use ringmaster::transport::{TransportError, sha256_hex};

const T: Duration = Duration::from_secs(20);

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn p(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

#[tokio::test]
async fn run_reports_exit_code_stdout_stderr_and_feeds_stdin() {
    let Some((cfg, _turn)) = testbed("run_reports_exit_code_stdout_stderr_and_feeds_stdin") else { return };
    let ssh = connect(&cfg, "node1").await;
    assert_eq!(ssh.host(), "node1");

    let out = ssh.run("printf out; printf 'it'\\''s err' >&2; exit 3", None, T).await.expect("run");
    assert_eq!(out.status, Some(3));
    assert_eq!(out.stdout, b"out");
    assert_eq!(out.stderr, b"it's err");
    assert!(!out.success());

    let input = nasty_bytes();
    let out = ssh.run("cat", Some(&input), T).await.expect("cat");
    assert!(out.success());
    assert_eq!(out.stdout, input, "stdin must round-trip byte for byte");

    // The command runs under sh, not the login shell (bash for root here).
    let out = ssh.run("echo \"$0\"; readlink /proc/$$/exe", None, T).await.expect("run");
    assert_eq!(out.stdout_str().lines().next(), Some("sh"));

    let out = ssh.run("kill -9 $$", None, T).await.expect("killed command still returns");
    assert_eq!(out.status, None, "a signal death has no exit code");
}

#[tokio::test]
async fn run_maps_exit_127_to_command_not_found() {
    let Some((cfg, _turn)) = testbed("run_maps_exit_127_to_command_not_found") else { return };
    let ssh = connect(&cfg, "node1").await;
    let err = ssh.run("ringmaster-no-such-command --x", None, T).await.expect_err("127");
    match err {
        TransportError::CommandNotFound { host, command } => {
            assert_eq!(host, "node1");
            assert_eq!(command, "ringmaster-no-such-command --x");
        }
        other => panic!("expected CommandNotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn run_times_out_and_the_remote_command_is_killed() {
    let Some((cfg, _turn)) = testbed("run_times_out_and_the_remote_command_is_killed") else { return };
    let ssh = connect(&cfg, "node2").await;
    let started = Instant::now();
    let err = ssh.run("sleep 31.4159", None, Duration::from_millis(800)).await.expect_err("timeout");
    assert!(matches!(err, TransportError::Timeout { .. }), "got {err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(
        eventually(Duration::from_secs(10), || pids_with_cmdline(b"sleep\x0031.4159").is_empty()).await,
        "the remote sleep outlived its timeout"
    );
    // The master is still fine afterwards.
    assert!(ssh.run("true", None, T).await.expect("run after timeout").success());
}

#[tokio::test]
async fn read_file_honours_offset_and_reports_missing_files() {
    let Some((cfg, _turn)) = testbed("read_file_honours_offset_and_reports_missing_files") else { return };
    let ssh = connect(&cfg, "node1").await;
    let dir = tempdir();
    let f = p(&dir, "log with space's.txt");
    std::fs::write(&f, b"0123456789").expect("write");
    assert_eq!(ssh.read_file(&f, 0).await.expect("read"), b"0123456789");
    assert_eq!(ssh.read_file(&f, 4).await.expect("read"), b"456789");
    assert_eq!(ssh.read_file(&f, 10).await.expect("read"), b"");
    assert_eq!(ssh.read_file(&f, 1000).await.expect("read"), b"");
    let bin = p(&dir, "bin");
    std::fs::write(&bin, nasty_bytes()).expect("write");
    assert_eq!(ssh.read_file(&bin, 0).await.expect("read"), nasty_bytes());

    let missing = p(&dir, "missing");
    match ssh.read_file(&missing, 0).await {
        Err(TransportError::NotFound { host, path }) => {
            assert_eq!((host.as_str(), path.as_str()), ("node1", missing.as_str()))
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn write_file_atomic_keeps_owner_and_mode_and_leaves_no_temp() {
    let Some((cfg, _turn)) = testbed("write_file_atomic_keeps_owner_and_mode_and_leaves_no_temp") else { return };
    let ssh = connect(&cfg, "node1").await;
    let dir = tempdir();
    let f = p(&dir, "cassandra.yaml");
    let setup = format!("printf old > '{f}' && chown 1234:5678 '{f}' && chmod 640 '{f}'");
    assert!(ssh.run(&setup, None, T).await.expect("setup").success());

    let content = nasty_bytes();
    ssh.write_file_atomic(&f, &content, 0o600).await.expect("write");
    assert_eq!(std::fs::read(&f).expect("read back"), content);
    let meta = std::fs::metadata(&f).expect("meta");
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (1234, 5678, 0o640), "owner/mode of the replaced file");

    // A new file gets the given mode and belongs to the remote user (root on the testbed).
    let g = p(&dir, "new.yaml");
    ssh.write_file_atomic(&g, b"", 0o604).await.expect("write new");
    let meta = std::fs::metadata(&g).expect("meta");
    assert_eq!((meta.uid(), meta.mode() & 0o7777, meta.len()), (0, 0o604, 0));

    let mut names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("e").file_name()).collect();
    names.sort();
    assert_eq!(names, ["cassandra.yaml", "new.yaml"], "temp files left behind");

    let err = ssh.write_file_atomic(&p(&dir, "no/such/dir/f"), b"x", 0o600).await.expect_err("missing dir");
    assert!(matches!(err, TransportError::NotFound { .. }), "got {err:?}");
}

#[tokio::test]
async fn create_file_new_refuses_to_overwrite_and_copies_like() {
    let Some((cfg, _turn)) = testbed("create_file_new_refuses_to_overwrite_and_copies_like") else { return };
    let ssh = connect(&cfg, "node3").await;
    let dir = tempdir();
    let orig = p(&dir, "cassandra.yaml");
    let setup = format!("printf 'original\\n' > '{orig}' && chown 4321:8765 '{orig}' && chmod 604 '{orig}'");
    assert!(ssh.run(&setup, None, T).await.expect("setup").success());

    match ssh.create_file_new(&orig, b"replacement", None).await {
        Err(TransportError::AlreadyExists { host, path }) => {
            assert_eq!((host.as_str(), path.as_str()), ("node3", orig.as_str()))
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(std::fs::read(&orig).expect("read"), b"original\n", "the original must be byte-identical");

    let backup = p(&dir, "cassandra.yaml.bak");
    ssh.create_file_new(&backup, &nasty_bytes(), Some(&orig)).await.expect("create");
    assert_eq!(std::fs::read(&backup).expect("read"), nasty_bytes());
    let meta = std::fs::metadata(&backup).expect("meta");
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (4321, 8765, 0o604));

    let plain = p(&dir, "plain");
    ssh.create_file_new(&plain, b"x", None).await.expect("create plain");
    assert_eq!(std::fs::metadata(&plain).expect("meta").mode() & 0o7777, 0o600);

    let missing_like = p(&dir, "nope");
    match ssh.create_file_new(&p(&dir, "other"), b"x", Some(&missing_like)).await {
        Err(TransportError::NotFound { path, .. }) => assert_eq!(path, missing_like),
        other => panic!("expected NotFound for `like`, got {other:?}"),
    }
    let count = std::fs::read_dir(dir.path()).expect("ls").count();
    assert_eq!(count, 3, "only the original, the backup and plain may exist");
}

#[tokio::test]
async fn stat_reports_owner_mode_size_and_hash() {
    let Some((cfg, _turn)) = testbed("stat_reports_owner_mode_size_and_hash") else { return };
    let ssh = connect(&cfg, "node2").await;
    let dir = tempdir();
    let f = p(&dir, "keystore.p12");
    let setup = format!("printf 'abc' > '{f}' && chown 111:222 '{f}' && chmod 2750 '{f}'");
    assert!(ssh.run(&setup, None, T).await.expect("setup").success());
    let st = ssh.stat(&f).await.expect("stat").expect("exists");
    assert_eq!((st.uid, st.gid, st.mode, st.size), (111, 222, 0o2750, 3));
    assert_eq!(st.sha256, sha256_hex(b"abc"));
    assert_eq!(ssh.stat(&p(&dir, "missing")).await.expect("stat"), None);
}

#[tokio::test]
async fn twenty_concurrent_commands_share_one_master_within_the_cap() {
    let Some((cfg, _turn)) = testbed("twenty_concurrent_commands_share_one_master_within_the_cap") else { return };
    let mut t = target(&cfg, "node1");
    t.max_concurrent = 8;
    let ssh = Ssh::connect(&t).await.expect("connect");
    let dir = tempdir();
    let d = dir.path().to_string_lossy().into_owned();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let ssh = ssh.clone();
        // Each command counts the commands in flight (marker files) while it runs.
        let cmd = format!("touch '{d}/{i}'; n=$(ls '{d}' | wc -l); sleep 0.3; rm '{d}/{i}'; echo \"$n {i}\"");
        set.spawn(async move { ssh.run(&cmd, None, T).await });
    }
    let mut seen = Vec::new();
    let mut peak = 0;
    while let Some(res) = set.join_next().await {
        let out = res.expect("join").expect("run");
        assert!(out.success(), "stderr: {}", out.stderr_str());
        let line = out.stdout_str();
        let mut it = line.split_whitespace();
        peak = peak.max(it.next().and_then(|n| n.parse::<usize>().ok()).expect("count"));
        seen.push(it.next().and_then(|n| n.parse::<usize>().ok()).expect("index"));
    }
    seen.sort();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
    assert!(peak <= 8, "{peak} commands ran at once; the cap is 8");
    assert!(peak >= 2, "commands did not overlap at all");
}

#[tokio::test]
async fn sudo_as_root_runs_commands_and_file_ops() {
    let Some((cfg, _turn)) = testbed("sudo_as_root_runs_commands_and_file_ops") else { return };
    let mut t = target(&cfg, "node1");
    t.sudo = true;
    let ssh = Ssh::connect(&t).await.expect("connect");
    let out = ssh.run("id -u; echo \"$SUDO_USER\"", None, T).await.expect("run");
    assert_eq!(out.stdout_str(), "0\nroot\n", "commands must run through sudo");
    let dir = tempdir();
    let f = p(&dir, "f");
    ssh.write_file_atomic(&f, b"via sudo", 0o640).await.expect("write");
    assert_eq!(ssh.read_file(&f, 4).await.expect("read"), b"sudo");
}

#[tokio::test]
async fn sudo_needing_a_password_is_reported() {
    let Some((cfg, _turn)) = testbed("sudo_needing_a_password_is_reported") else { return };
    let known = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    if !known.lines().any(|l| l.starts_with("ringmaster-test:")) {
        crate::support::ssh::skip(
            "sudo_needing_a_password_is_reported",
            "user ringmaster-test is missing (`bin/testbed up` as root creates it)",
        );
        return;
    }
    let mut t = target(&cfg, "node1");
    t.destination = "ringmaster-test@node1".into();
    t.sudo = true;
    let ssh = Ssh::connect(&t).await.expect("connect as ringmaster-test");
    let err = ssh.run("true", None, T).await.expect_err("sudo -n must fail");
    assert!(matches!(&err, TransportError::SudoNeedsPassword { host } if host == "node1"), "got {err:?}");
    let dir = tempdir();
    let err = ssh.write_file_atomic(&p(&dir, "f"), b"x", 0o600).await.expect_err("sudo -n must fail");
    assert!(matches!(err, TransportError::SudoNeedsPassword { .. }), "got {err:?}");
    let err = ssh.stat(&p(&dir, "f")).await.expect_err("sudo -n must fail");
    assert!(matches!(err, TransportError::SudoNeedsPassword { .. }), "got {err:?}");
}
