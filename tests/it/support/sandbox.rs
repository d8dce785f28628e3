//! The sandbox cluster in tests: one made by the real `ringmaster sandbox init` in a temp
//! dir, its files found by the library's own paths (`ringmaster::sandbox::config_path`, ...),
//! its nodes driven through the binary (`restart`, `nodetool`, a node's
//! `server_encryption_options` edited), and the checks of a completed rollout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ringmaster::journal::EventKind;

use super::journal::events;
use super::{ringmaster, run};

/// A sandbox cluster: a temp dir of its own (made by `sandbox init`), or one a test made
/// itself and opened with [`Sandbox::open`].
pub struct Sandbox {
    _tmp: Option<tempfile::TempDir>,
    dir: PathBuf,
    pub nodes: Vec<String>,
}

/// Runs `ringmaster sandbox <args>` (in the sealed environment of [`ringmaster`]).
pub fn sandbox(args: &[&str]) -> Output {
    ringmaster().arg("sandbox").args(args).output().expect("ringmaster runs")
}

/// Runs a command line through `sh -c`, as ringmaster does with the inventory's commands.
pub fn sh(command: &str) -> Output {
    Command::new("sh").arg("-c").arg(command).output().expect("sh runs")
}

impl Sandbox {
    /// `sandbox init --nodes N --start-delay D`.
    pub fn new(nodes: usize, start_delay: &str) -> Sandbox {
        Sandbox::with_args(nodes, start_delay, &[])
    }

    /// A sandbox whose nodes are reached over SSH through the test bed's `ssh_config`.
    pub fn over_ssh(nodes: usize, start_delay: &str, ssh_config: &Path) -> Sandbox {
        Sandbox::with_args(nodes, start_delay, &["--ssh-config", &ssh_config.display().to_string()])
    }

    /// `sandbox init --nodes N --start-delay D EXTRA...` in `TMP/sb`, which init creates.
    pub fn with_args(nodes: usize, start_delay: &str, extra: &[&str]) -> Sandbox {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("sb");
        let out = run(ringmaster()
            .args(["sandbox", "init", "--dir"])
            .arg(&dir)
            .args(["--nodes", &nodes.to_string(), "--start-delay", start_delay])
            .args(extra));
        assert!(out.status.success(), "sandbox init failed");
        let dir = std::fs::canonicalize(dir).expect("dir exists");
        Sandbox { _tmp: Some(tmp), dir, nodes: (1..=nodes).map(|i| format!("node{i}")).collect() }
    }

    /// The sandbox a test made itself in `dir` (not removed on drop); nodes from its inventory.
    pub fn open(dir: &Path) -> Sandbox {
        let mut sb = Sandbox { _tmp: None, dir: dir.to_path_buf(), nodes: Vec::new() };
        let inventory = sb.inventory_toml();
        let nodes = inventory["node"].as_array().expect("nodes");
        sb.nodes = nodes.iter().map(|n| n["name"].as_str().expect("name").to_owned()).collect();
        sb
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
    fn dir_arg(&self) -> &str {
        self.dir.to_str().expect("utf-8 sandbox dir")
    }
    pub fn inventory(&self) -> PathBuf {
        self.path().join("cluster.toml")
    }
    pub fn journal(&self) -> PathBuf {
        self.path().join("journal.db")
    }
    /// The node's cassandra.yaml.
    pub fn config(&self, node: &str) -> PathBuf {
        ringmaster::sandbox::config_path(self.path(), node)
    }
    /// The backup a rollout makes of the node's cassandra.yaml (the built-in workflow's suffix).
    pub fn backup(&self, node: &str) -> PathBuf {
        let mut path = self.config(node).into_os_string();
        path.push(ringmaster::workflow::Workflow::builtin().backup_suffix);
        path.into()
    }
    /// The node's system.log.
    pub fn log(&self, node: &str) -> PathBuf {
        ringmaster::sandbox::log_path(self.path(), node)
    }
    /// The node's key material directory.
    pub fn ssl_dir(&self, node: &str) -> PathBuf {
        ringmaster::sandbox::ssl_dir(self.path(), node)
    }
    /// The node's PKCS12 keystore.
    pub fn keystore(&self, node: &str) -> PathBuf {
        ringmaster::sandbox::keystore_path(self.path(), node)
    }
    /// The node's copy of the shared truststore.
    pub fn truststore(&self, node: &str) -> PathBuf {
        ringmaster::sandbox::truststore_path(self.path(), node)
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
    pub fn server_encryption(&self, node: &str) -> BTreeMap<String, serde_json::Value> {
        let path = self.config(node);
        let bytes = std::fs::read(&path).unwrap();
        ringmaster::cassandra::yaml::read_server_encryption(&path.display().to_string(), &bytes).expect("read block")
    }

    pub fn secrets_text(&self) -> String {
        std::fs::read_to_string(self.path().join("secrets.toml")).unwrap()
    }

    /// The keystore and truststore passwords from `secrets.toml`.
    pub fn store_passwords(&self) -> (String, String) {
        let v: toml::Value = toml::from_str(&self.secrets_text()).expect("toml");
        (
            v["keystore_password"].as_str().expect("keystore_password").to_owned(),
            v["truststore_password"].as_str().expect("truststore_password").to_owned(),
        )
    }

    /// Parses the inventory, `cluster.toml`.
    pub fn inventory_toml(&self) -> toml::Value {
        toml::from_str(&std::fs::read_to_string(self.inventory()).expect("inventory")).expect("toml")
    }

    /// Reads a node's system.log.
    pub fn log_text(&self, node: &str) -> String {
        std::fs::read_to_string(self.log(node)).expect("system.log")
    }

    /// The part of a node's log written by its last start (from the last boot marker on).
    pub fn last_boot(&self, node: &str) -> String {
        let text = self.log_text(node);
        let at = text.rfind("YamlConfigurationLoader.java:104 - Configuration location:").expect("a boot marker");
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        text[start..].to_owned()
    }

    /// Replaces the node's `server_encryption_options` block (up to the client options' comment).
    pub fn set_server_options(&self, node: &str, body: &str) {
        let path = self.config(node);
        let text = std::fs::read_to_string(&path).expect("yaml");
        let start = text.find("\nserver_encryption_options:\n").expect("block") + 1;
        let end = text.find("# Configure client-to-server encryption.").expect("next section");
        let new = format!("{}server_encryption_options:\n{body}\n{}", &text[..start], &text[end..]);
        std::fs::write(&path, new).expect("write yaml");
    }

    /// Gives `node` its own key material with the encryption keys in `extra`.
    pub fn configure_tls(&self, node: &str, keystore_password: &str, truststore_password: &str, extra: &str) {
        let block = format!(
            "{extra}\n  keystore: {}\n  keystore_password: \"{keystore_password}\"\n  truststore: {}\n  truststore_password: \"{truststore_password}\"\n  require_client_auth: false\n",
            self.keystore(node).display(),
            self.truststore(node).display(),
        );
        self.set_server_options(node, &block);
    }

    /// Restarts a node through the binary.
    pub fn restart(&self, node: &str) {
        let out = sandbox(&["restart", "--dir", self.dir_arg(), node]);
        assert!(out.status.success(), "restart {node}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Runs `ringmaster sandbox <command> --dir DIR <args>`.
    pub fn sandbox(&self, command: &str, args: &[&str]) -> Output {
        let mut all = vec![command, "--dir", self.dir_arg()];
        all.extend_from_slice(args);
        sandbox(&all)
    }

    /// Runs `nodetool <args>` on a node.
    pub fn nodetool(&self, node: &str, args: &[&str]) -> Output {
        let mut all = vec![node];
        all.extend_from_slice(args);
        self.sandbox("nodetool", &all)
    }

    /// `nodetool status` on `node` as address -> two-letter status, or `None` if it failed.
    pub fn status(&self, node: &str) -> Option<BTreeMap<String, String>> {
        let out = self.nodetool(node, &["status"]);
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).expect("utf-8");
        Some(
            text.lines()
                .filter(|l| l.len() > 3 && matches!(&l[..1], "U" | "D") && l.as_bytes()[2] == b' ')
                .map(|l| {
                    let mut f = l.split_whitespace();
                    let st = f.next().expect("status").to_owned();
                    (f.next().expect("address").to_owned(), st)
                })
                .collect(),
        )
    }

    /// Asserts what `observer` reports for each address.
    pub fn assert_view(&self, observer: &str, expected: &[(&str, &str)]) {
        let view = self.status(observer).unwrap_or_else(|| panic!("nodetool status on {observer} failed"));
        let expected: BTreeMap<String, String> = expected.iter().map(|(a, s)| ((*a).to_owned(), (*s).to_owned())).collect();
        assert_eq!(view, expected, "view of {observer}");
    }
}

/// The `ok` phases of a node in a pass that completed without trouble.
pub const PHASES: [&str; 7] = ["pending", "backup", "edit", "drain", "restart", "await_un", "verify_log"];

/// Returns how many times `node` booted, from its system.log.
pub fn boots(sandbox: &Sandbox, node: &str) -> usize {
    sandbox.log_text(node).lines().filter(|l| l.contains("Configuration location: ")).count()
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
                .filter(|e| e.node.as_deref() == Some(node.as_str()) && e.pass.as_deref() == Some(pass) && e.kind == EventKind::Ok)
                .map(|e| e.phase.as_str())
                .collect();
            assert_eq!(oks, PHASES, "{node} {pass}");
        }
    }
}
