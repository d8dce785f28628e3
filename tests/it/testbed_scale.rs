//! `bin/testbed` beyond 16 nodes (one sshd per 16 listen addresses) and the B3/B4 bench
//! scripts in `--quick` mode. Nothing here measures or compares times: the scripts only have
//! to run to the end and write their tables. Each test uses its own state dir and port, so
//! the shared testbed (/tmp/ringmaster-testbed, port 2222) is never touched.
//!
//! Skipped (with a message) when sshd or python3 is missing, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn available(test: &str, what: &str, path: &str) -> bool {
    let found = Path::new(path).is_file()
        || Command::new("sh").args(["-c", &format!("command -v {path}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{test}: {what} (`{path}`) is missing under CI");
        eprintln!("skipping {test}: {what} (`{path}`) is missing");
    }
    found
}

fn testbed(dir: &Path, port: &str, args: &[&str]) -> Output {
    Command::new(root().join("bin/testbed"))
        .args(args)
        .env("RINGMASTER_TESTBED_DIR", dir)
        .env("RINGMASTER_TESTBED_PORT", port)
        .env("RINGMASTER_BIN", env!("CARGO_BIN_EXE_ringmaster"))
        .output()
        .expect("run bin/testbed")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Stops the testbed of `dir` even when an assertion fails half-way.
struct Down(PathBuf, &'static str);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = testbed(&self.0, self.1, &["down"]);
    }
}

#[test]
fn testbed_serves_17_nodes_from_two_sshd_and_stops_both() {
    let test = "testbed_serves_17_nodes_from_two_sshd_and_stops_both";
    if !available(test, "OpenSSH server", "/usr/sbin/sshd") || !available(test, "OpenSSH client", "ssh") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("tb");
    let port = "2431";
    let _down = Down(dir.clone(), port);
    let up = testbed(&dir, port, &["up", "--nodes", "17"]);
    assert!(up.status.success(), "up --nodes 17 failed: {}", text(&up));
    let config = std::fs::read_to_string(dir.join("sshd_config.2")).expect("second sshd config");
    assert_eq!(config.lines().filter(|l| l.starts_with("ListenAddress")).collect::<Vec<_>>(), ["ListenAddress 127.0.0.27:2431"]);
    let first = std::fs::read_to_string(dir.join("sshd_config")).expect("first sshd config");
    assert_eq!(first.lines().filter(|l| l.starts_with("ListenAddress")).count(), 16);
    // node16 is served by the first sshd, node17 by the second.
    for node in ["node16", "node17"] {
        let out = Command::new("ssh").arg("-F").arg(dir.join("ssh_config")).args([node, "echo", "ok"]).output().expect("ssh");
        assert!(out.status.success() && out.stdout == b"ok\n", "ssh {node}: {}", text(&out));
    }
    let status = testbed(&dir, port, &["status"]);
    assert!(status.status.success(), "status: {}", text(&status));
    assert!(String::from_utf8_lossy(&status.stderr).contains("17 nodes on port 2431"), "status: {}", text(&status));
    let pids: Vec<String> =
        ["sshd.pid", "sshd.2.pid"].iter().map(|f| std::fs::read_to_string(dir.join(f)).expect("pid file").trim().to_string()).collect();
    let down = testbed(&dir, port, &["down"]);
    assert!(down.status.success(), "down: {}", text(&down));
    for pid in &pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "sshd {pid} still runs after down");
    }
    let status = testbed(&dir, port, &["status"]);
    assert_eq!(status.status.code(), Some(1), "status after down: {}", text(&status));
}

fn bench(script: &str, args: &[&str], out: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("bench").join(script))
        .args(args)
        .arg("--out")
        .arg(out)
        .env("RINGMASTER_BIN", env!("CARGO_BIN_EXE_ringmaster"))
        .output()
        .expect("run python3")
}

#[test]
fn b4_journal_quick_writes_its_table() {
    if !available("b4_journal_quick_writes_its_table", "Python 3", "python3") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let md = tmp.path().join("b4.md");
    let out = bench("b4_journal.py", &["--quick"], &md);
    assert!(out.status.success(), "b4 --quick: {}", text(&out));
    let written = std::fs::read_to_string(&md).expect("fragment written");
    assert!(written.starts_with("## B4: journal"), "{written}");
    assert!(written.contains("| committed events/s (200 events per run) |"), "{written}");
    // The resumed run really finished on the sandbox.
    assert!(written.contains("Last event of each resume: `finished`"), "{written}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), written.trim());
}

#[test]
fn b3_scale_quick_on_17_nodes_writes_its_table() {
    let test = "b3_scale_quick_on_17_nodes_writes_its_table";
    if !available(test, "Python 3", "python3") || !available(test, "OpenSSH server", "/usr/sbin/sshd") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let md = tmp.path().join("b3.md");
    let dir = tmp.path().join("tb");
    let _down = Down(dir.clone(), "2432");
    let out =
        bench("b3_scale.py", &["--quick", "--sizes", "17", "--port", "2432", "--testbed-dir", dir.to_str().expect("utf-8 path")], &md);
    assert!(out.status.success(), "b3 --quick: {}", text(&out));
    let written = std::fs::read_to_string(&md).expect("fragment written");
    assert!(written.starts_with("## B3: scale"), "{written}");
    // Every node answered over SSH and preflight found no blocker.
    let row = written.lines().find(|l| l.starts_with("| 17 |")).unwrap_or_else(|| panic!("no row for 17 nodes:\n{written}"));
    assert!(row.contains("| 17/17 | none |"), "{row}");
}
