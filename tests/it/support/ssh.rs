//! Shared helpers of the `ssh_*` integration tests: finding the sshd testbed (`bin/testbed
//! up`), building targets for its `node1..nodeN` aliases, and watching local processes
//! (the testbed runs on loopback, so the "remote" processes are visible in /proc).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ringmaster::transport::ssh::{Ssh, SshTarget};

/// Returns the testbed's ssh_config from `RINGMASTER_TESTBED`, or `None` after printing why
/// the test is skipped. Under `CI` a missing testbed is a failure, not a skip.
pub fn testbed(test: &str) -> Option<PathBuf> {
    match std::env::var_os("RINGMASTER_TESTBED") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "RINGMASTER_TESTBED={} is not a file; run `bin/testbed up`", path.display());
            Some(path)
        }
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but RINGMASTER_TESTBED is not: run `bin/testbed up` and export its last line")
        }
        None => {
            skip(test, "RINGMASTER_TESTBED is unset (run `bin/testbed up` and export its last line)");
            None
        }
    }
}

/// Prints why `test` is skipped straight to stderr: the test harness captures `eprintln!` of
/// passing tests, and a skip must stay visible.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipping {test}: {why}");
}

/// Returns a target for the testbed alias `node` (e.g. `node1`) with default settings.
pub fn target(config: &Path, node: &str) -> SshTarget {
    let mut t = SshTarget::new(node, node);
    t.ssh_config = Some(config.to_path_buf());
    t
}

/// Connects to `node` of the testbed, failing the test with the transport's message.
pub async fn connect(config: &Path, node: &str) -> Ssh {
    match Ssh::connect(&target(config, node)).await {
        Ok(ssh) => ssh,
        Err(e) => panic!("connect to {node}: {e}"),
    }
}

/// The testbed's state directory (where `ssh_config` lives).
pub fn state_dir(config: &Path) -> PathBuf {
    config.parent().expect("ssh_config has a parent").to_path_buf()
}

/// Runs `bin/testbed <args>` against the testbed that wrote `config`, failing on error.
pub fn testbed_cmd(config: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/testbed");
    let out =
        std::process::Command::new(script).args(args).env("RINGMASTER_TESTBED_DIR", state_dir(config)).output().expect("run bin/testbed");
    assert!(out.status.success(), "bin/testbed {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Returns the pids whose command line contains `needle` (arguments joined by NUL).
pub fn pids_with_cmdline(needle: &[u8]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| c.windows(needle.len()).any(|w| w == needle)).unwrap_or(false))
        .collect()
}

/// Polls `cond` every 20 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // poll interval until the deadline
    }
}

/// Content that exercises quoting and binary safety: quotes, newlines, NULs, every byte.
pub fn nasty_bytes() -> Vec<u8> {
    let mut v = b"it's \"quoted\" $HOME `id` \\ \n\r\n'\n".to_vec();
    v.extend(0u8..=255);
    v.extend_from_slice(b"\0\0 end without newline");
    v
}
