//! Shared helpers for the integration tests: run the real `ringmaster` binary in a
//! sealed environment (no RINGMASTER_* variables leak in, journal in a temp dir).

#![allow(dead_code)]

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
        let dir = tempfile::tempdir().expect("tempdir");
        let out = run(ringmaster().args(["sandbox", "init", "--dir"]).arg(dir.path()).args([
            "--nodes",
            &nodes.to_string(),
            "--start-delay",
            start_delay,
        ]));
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
