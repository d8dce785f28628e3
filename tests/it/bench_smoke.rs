//! Smoke test of the benchmark harness: `bin/bench --quick --only B1` (N = 3, outage 1 s,
//! one run of each tool) must finish and print B1's table with a ringmaster row and a cstar
//! row. No timing is asserted: the figures belong in docs/BENCHMARKS.md, not in the suite.
//!
//! The harness needs root, /usr/sbin/sshd, python3 and port 22 free on 127.0.0.1-3; without
//! them the test prints why and passes. It uses its own state directory, so it can run next
//! to the rest of the suite; the harness itself queues on a lock when another benchmark holds
//! port 22 (given up after 2 minutes here, which the harness reports as a skip).

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// Why the harness cannot run here, or None when it can.
fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (the harness runs sshd on port 22)".into());
    }
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some("no /usr/sbin/sshd".into());
    }
    if Command::new("python3").arg("--version").output().is_err() {
        return Some("no python3".into());
    }
    for k in 1..=3 {
        if let Err(e) = TcpListener::bind(("127.0.0.".to_string() + &k.to_string(), 22)) {
            return Some(format!("port 22 on 127.0.0.{k} is not free: {e}"));
        }
    }
    None
}

#[test]
fn bench_quick_b1_prints_both_tools_rows() {
    if let Some(reason) = unavailable() {
        eprintln!("skipping bench_quick_b1_prints_both_tools_rows: {reason}");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(root.join("bin/bench"));
    cmd.args(["--quick", "--only", "B1"])
        .env("RINGMASTER_BIN", env!("CARGO_BIN_EXE_ringmaster"))
        .env("BENCH_STATE", state.path())
        .env("BENCH_LOCK_WAIT_S", "120")
        .env_remove("RINGMASTER_JOURNAL")
        .env_remove("BENCH_INVOCATION");
    let doc = root.join("docs/BENCHMARKS.md");
    let doc_before = std::fs::read(&doc).ok();
    let out = cmd.output().expect("run bin/bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- stdout\n{stdout}--- stderr\n{stderr}");
    if stdout.contains("B1: skipped") {
        let reason = stdout.lines().find(|l| l.starts_with("Skipped on this machine")).unwrap_or("(no reason given)");
        eprintln!("skipping bench_quick_b1_prints_both_tools_rows: the harness skipped B1: {reason}");
        return;
    }
    assert!(out.status.success(), "bin/bench exited {:?}", out.status.code());
    assert!(stdout.contains("## B1: "), "no B1 heading in the output");
    assert!(stdout.contains("| N | outage | tool | total |"), "no B1 table header in the output");
    for tool in ["ringmaster", "cstar"] {
        // --quick is N = 3 with a 1 s outage.
        let row = format!("| 3 | 1s | {tool} | ");
        assert!(stdout.contains(&row), "no `{row}` row in B1's table");
    }
    assert_eq!(std::fs::read(&doc).ok(), doc_before, "--quick must only print, not rewrite docs/BENCHMARKS.md");
}
