//! Shared helpers of the sandbox integration tests: run the real binary, edit a node's
//! `server_encryption_options`, and read `nodetool status` by address.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The ringmaster binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ringmaster")
}

/// Runs `ringmaster sandbox <args>` and returns its output.
pub fn sandbox(args: &[&str]) -> Output {
    std::process::Command::new(bin()).arg("sandbox").args(args).output().expect("ringmaster runs")
}

/// Creates a sandbox with `nodes` nodes in a fresh temp dir.
pub fn init(nodes: usize) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sb");
    let out = sandbox(&["init", "--dir", dir.to_str().expect("utf-8"), "--nodes", &nodes.to_string()]);
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
    (tmp, std::fs::canonicalize(dir).expect("dir exists"))
}

/// The passwords from `DIR/secrets.toml`.
pub fn secrets(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(dir.join("secrets.toml")).expect("secrets");
    let v: toml::Value = toml::from_str(&text).expect("toml");
    (
        v["keystore_password"].as_str().expect("keystore_password").to_owned(),
        v["truststore_password"].as_str().expect("truststore_password").to_owned(),
    )
}

/// Path of a node's cassandra.yaml.
pub fn yaml_path(dir: &Path, node: &str) -> PathBuf {
    dir.join("nodes").join(node).join("etc/cassandra/cassandra.yaml")
}

/// Path of a node's system.log.
pub fn log_path(dir: &Path, node: &str) -> PathBuf {
    dir.join("nodes").join(node).join("var/log/cassandra/system.log")
}

/// Reads a node's system.log.
pub fn log(dir: &Path, node: &str) -> String {
    std::fs::read_to_string(log_path(dir, node)).expect("system.log")
}

/// The part of a node's log written by its last start (from the last boot marker on).
pub fn last_boot(dir: &Path, node: &str) -> String {
    let text = log(dir, node);
    let at = text.rfind("YamlConfigurationLoader.java:104 - Configuration location:").expect("a boot marker");
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[start..].to_owned()
}

/// Replaces the node's `server_encryption_options` block (up to the client options' comment).
pub fn set_server_options(dir: &Path, node: &str, body: &str) {
    let path = yaml_path(dir, node);
    let text = std::fs::read_to_string(&path).expect("yaml");
    let start = text.find("\nserver_encryption_options:\n").expect("block") + 1;
    let end = text.find("# Configure client-to-server encryption.").expect("next section");
    let new = format!("{}server_encryption_options:\n{body}\n{}", &text[..start], &text[end..]);
    std::fs::write(&path, new).expect("write yaml");
}

/// A block with the node's own key material; `extra` holds the encryption keys.
pub fn tls_block(dir: &Path, node: &str, keystore_password: &str, truststore_password: &str, extra: &str) -> String {
    let ssl = dir.join("nodes").join(node).join("etc/cassandra/ssl");
    format!(
        "{extra}\n  keystore: {}\n  keystore_password: \"{keystore_password}\"\n  truststore: {}\n  truststore_password: \"{truststore_password}\"\n  require_client_auth: false\n",
        ssl.join(format!("{node}-keystore.p12")).display(),
        ssl.join("cassandra-truststore.p12").display(),
    )
}

/// Restarts a node through the binary.
pub fn restart(dir: &Path, node: &str) {
    let out = sandbox(&["restart", "--dir", dir.to_str().expect("utf-8"), node]);
    assert!(out.status.success(), "restart {node}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `nodetool <args>` on a node.
pub fn nodetool(dir: &Path, node: &str, args: &[&str]) -> Output {
    let mut all = vec!["nodetool", "--dir", dir.to_str().expect("utf-8"), node];
    all.extend_from_slice(args);
    sandbox(&all)
}

/// `nodetool status` on `node` as address -> two-letter status, or `None` if it failed.
pub fn status(dir: &Path, node: &str) -> Option<BTreeMap<String, String>> {
    let out = nodetool(dir, node, &["status"]);
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
pub fn assert_view(dir: &Path, observer: &str, expected: &[(&str, &str)]) {
    let view = status(dir, observer).unwrap_or_else(|| panic!("nodetool status on {observer} failed"));
    let expected: BTreeMap<String, String> = expected.iter().map(|(a, s)| ((*a).to_owned(), (*s).to_owned())).collect();
    assert_eq!(view, expected, "view of {observer}");
}

/// Gives `node` its own key material with the encryption keys in `extra`.
pub fn configure_tls(dir: &Path, node: &str, keystore_password: &str, truststore_password: &str, extra: &str) {
    set_server_options(dir, node, &tls_block(dir, node, keystore_password, truststore_password, extra));
}

/// Parses `DIR/cluster.toml`.
pub fn inventory(dir: &Path) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(dir.join("cluster.toml")).expect("inventory")).expect("toml")
}

/// Runs a command line through `sh -c`, as ringmaster does with the inventory's commands.
pub fn sh(command: &str) -> Output {
    std::process::Command::new("sh").arg("-c").arg(command).output().expect("sh runs")
}
