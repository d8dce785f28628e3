//! Shared helpers for the integration tests: run the real `ringmaster` binary in a
//! sealed environment (no RINGMASTER_* variables leak in, journal in a temp dir).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Returns a Command for the built binary with a clean RINGMASTER_* environment.
pub fn ringmaster() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ringmaster"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RINGMASTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RINGMASTER_LOG", "off");
    cmd
}

/// Runs the command and returns its output, printing it when the test fails later.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn ringmaster");
    eprintln!(
        "$ {:?}\n[exit {:?}]\n--- stdout\n{}--- stderr\n{}",
        cmd,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A sandbox cluster made by `ringmaster sandbox init` in a temp dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<String>,
}

impl Sandbox {
    pub fn new(nodes: usize, start_delay: &str) -> Sandbox {
        Sandbox::with_args(nodes, start_delay, &[])
    }

    /// A sandbox whose nodes are reached over SSH through the test bed's `ssh_config`.
    pub fn over_ssh(nodes: usize, start_delay: &str, ssh_config: &Path) -> Sandbox {
        Sandbox::with_args(nodes, start_delay, &["--ssh-config", &ssh_config.display().to_string()])
    }

    pub fn with_args(nodes: usize, start_delay: &str, extra: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = run(ringmaster()
            .args(["sandbox", "init", "--dir"])
            .arg(dir.path())
            .args(["--nodes", &nodes.to_string(), "--start-delay", start_delay])
            .args(extra));
        assert!(out.status.success(), "sandbox init failed");
        Sandbox { dir, nodes: (1..=nodes).map(|i| format!("node{i}")).collect() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn inventory(&self) -> PathBuf {
        self.path().join("cluster.toml")
    }
    pub fn journal(&self) -> PathBuf {
        self.path().join("journal.db")
    }
    pub fn config(&self, node: &str) -> PathBuf {
        self.path().join(format!("nodes/{node}/etc/cassandra/cassandra.yaml"))
    }
    pub fn backup(&self, node: &str) -> PathBuf {
        self.path().join(format!("nodes/{node}/etc/cassandra/cassandra.yaml.before-internode-tls"))
    }
    pub fn log(&self, node: &str) -> PathBuf {
        self.path().join(format!("nodes/{node}/var/log/cassandra/system.log"))
    }
    pub fn read_configs(&self) -> Vec<Vec<u8>> {
        self.nodes.iter().map(|n| std::fs::read(self.config(n)).expect("config")).collect()
    }

    /// `ringmaster <args> --journal <journal>`
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = ringmaster();
        cmd.arg("--journal").arg(self.journal()).args(args);
        cmd
    }

    /// `status --json` of the newest run.
    pub fn status_json(&self) -> serde_json::Value {
        let out = run(&mut self.cmd(&["status", "--json"]));
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("status json")
    }

    /// Returns the live `server_encryption_options` of a node's config.
    pub fn server_encryption(&self, node: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
        let path = self.config(node);
        let bytes = std::fs::read(&path).unwrap();
        ringmaster::cassandra::yaml::read_server_encryption(&path.display().to_string(), &bytes).expect("read block")
    }

    pub fn secrets_text(&self) -> String {
        std::fs::read_to_string(self.path().join("secrets.toml")).unwrap()
    }
}

/// Returns the events of the newest run in `journal` as (node, pass, phase, kind) rows.
pub fn events(journal: &Path) -> Vec<ringmaster::journal::Event> {
    let j = ringmaster::journal::Journal::open(journal).expect("open journal");
    let run = j.latest_run(None).expect("query").expect("a run");
    j.events(&run.id).expect("events")
}

/// The `ok` phases of a node in a pass that completed without trouble.
pub const PHASES: [&str; 7] = ["pending", "backup", "edit", "drain", "restart", "await_un", "verify_log"];

/// Returns how many times `node` booted, from its system.log.
pub fn boots(sandbox: &Sandbox, node: &str) -> usize {
    std::fs::read_to_string(sandbox.log(node)).unwrap().lines().filter(|l| l.contains("Configuration location: ")).count()
}

/// Every node done in both passes, enforce values live, backups identical to `originals`.
pub fn assert_completed(sandbox: &Sandbox, originals: &[Vec<u8>]) {
    let status = sandbox.status_json();
    assert_eq!(status["state"], "finished", "{status:#}");
    for node in status["nodes"].as_array().unwrap() {
        assert_eq!(node["passes"]["optional"], "done", "{node}");
        assert_eq!(node["passes"]["enforce"], "done", "{node}");
    }
    let secrets = sandbox.secrets_text();
    for (i, node) in sandbox.nodes.iter().enumerate() {
        let block = sandbox.server_encryption(node);
        assert_eq!(block["internode_encryption"], "all", "{node}");
        assert_eq!(block["optional"], false, "{node}");
        assert_eq!(block["require_client_auth"], true, "{node}");
        assert_eq!(block["store_type"], "PKCS12", "{node}");
        let keystore = block["keystore"].as_str().unwrap();
        assert!(keystore.ends_with(&format!("/nodes/{node}/etc/cassandra/ssl/{node}-keystore.p12")), "{keystore}");
        let password = block["keystore_password"].as_str().unwrap();
        assert!(secrets.contains(&format!("\"{password}\"")), "the node got the secrets file's keystore password");
        let backup = std::fs::read(sandbox.backup(node)).expect("backup exists");
        assert!(backup == originals[i], "backup of {node} is byte-identical to the original");
    }
}

/// For every node and pass, the `ok` phases are exactly the whole path, once each.
pub fn assert_no_phase_skipped(sandbox: &Sandbox) {
    let events = events(&sandbox.journal());
    for node in &sandbox.nodes {
        for pass in ["optional", "enforce"] {
            let oks: Vec<&str> = events
                .iter()
                .filter(|e| {
                    e.node.as_deref() == Some(node.as_str())
                        && e.pass.as_deref() == Some(pass)
                        && e.kind == ringmaster::journal::EventKind::Ok
                })
                .map(|e| e.phase.as_str())
                .collect();
            assert_eq!(oks, PHASES, "{node} {pass}");
        }
    }
}

/// Polls the journal at `journal` (with a deadline) until `pred` holds for its newest run's
/// events. A journal that does not exist yet, or is being created, reads as no events.
pub fn wait_for(journal: &Path, what: &str, deadline: std::time::Duration, pred: impl Fn(&[ringmaster::journal::Event]) -> bool) {
    let until = std::time::Instant::now() + deadline;
    loop {
        let evs = if journal.exists() { std::panic::catch_unwind(|| events(journal)).unwrap_or_default() } else { vec![] };
        if pred(&evs) {
            return;
        }
        assert!(std::time::Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20)); // poll interval
    }
}

/// Returns true when the events hold `kind` of `phase` for `node` in `pass`.
pub fn has(evs: &[ringmaster::journal::Event], node: &str, pass: &str, phase: &str, kind: ringmaster::journal::EventKind) -> bool {
    evs.iter().any(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass) && e.phase == phase && e.kind == kind)
}
