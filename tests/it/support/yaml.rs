//! Helpers shared by the `yaml_*` test modules of the cassandra.yaml editor:
//! fixture paths, the runbook's two passes, and the "only the block changed" check.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ringmaster::cassandra::yaml::{Release, Setting, Value, read_server_encryption};

/// Returns the shared fixtures directory (`../shared/fixtures` next to the repository).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/cassandra-yaml")
}

/// Returns this crate's own test data directory for the editor.
pub fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml")
}

/// Reads a file or fails the test with its path.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub const KEYSTORE_PASSWORD: &str = "node-keystore-password";
pub const TRUSTSTORE_PASSWORD: &str = "cluster-truststore-password";

/// Returns the runbook settings of pass 1 (`optional: true`) or pass 2 (`optional: false`).
pub fn pass(optional: bool) -> Vec<Setting> {
    vec![
        Setting::new("internode_encryption", "all"),
        Setting::new("optional", optional),
        Setting::new("legacy_ssl_storage_port_enabled", false),
        Setting::new("keystore", "/etc/cassandra/ssl/db01-keystore.p12"),
        Setting::secret("keystore_password", KEYSTORE_PASSWORD),
        Setting::new("truststore", "/etc/cassandra/ssl/cassandra-truststore.p12"),
        Setting::secret("truststore_password", TRUSTSTORE_PASSWORD),
        Setting::new("require_client_auth", true),
        Setting::new("require_endpoint_verification", false),
        Setting::new("store_type", "PKCS12"),
    ]
}

/// Returns the name a release writes for a canonical key.
pub fn file_key(canonical: &str, release: Release) -> &str {
    match (canonical, release) {
        ("legacy_ssl_storage_port_enabled", Release::V4_0) => "enable_legacy_ssl_storage_port",
        _ => canonical,
    }
}

/// Returns the byte range of the block: from the start of its key line to the end (line
/// ending included) of its last indented line. Trailing blank lines and column-0 comments
/// belong to the next section.
pub fn block_span(text: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(text).expect("utf-8");
    let mut offset = 0;
    let mut start = None;
    let mut end = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        match start {
            None if body.starts_with("server_encryption_options:") => {
                start = Some(offset);
                end = offset + line.len();
            }
            Some(_) if body.starts_with(|c: char| c != ' ' && c != '#') => break,
            Some(_) if body.starts_with(' ') && !body.trim().is_empty() => end = offset + line.len(),
            _ => {}
        }
        offset += line.len();
    }
    let start = start.expect("block present");
    (start, end)
}

/// Asserts that `old` and `new` differ only inside the block.
pub fn assert_only_block_changed(old: &[u8], new: &[u8]) {
    let (os, oe) = block_span(old);
    let (ns, ne) = block_span(new);
    assert_eq!(os, ns, "the block moved");
    assert!(old[..os] == new[..ns], "bytes before the block changed");
    assert!(old[oe..] == new[ne..], "bytes after the block changed");
}

/// Asserts that the block of `new` holds the targets and keeps every other key of `old`.
pub fn assert_block_holds(path: &str, old: &[u8], new: &[u8], settings: &[Setting], release: Release) {
    let before = read_server_encryption(path, old).expect("old block readable");
    let after = read_server_encryption(path, new).expect("new block readable");
    let mut expected: BTreeMap<String, serde_json::Value> = before;
    for s in settings {
        expected.insert(file_key(&s.key, release).to_owned(), json(&s.value));
    }
    assert_eq!(after, expected, "{path}: re-parsed block");
}

/// Returns the JSON form of a target value.
pub fn json(v: &Value) -> serde_json::Value {
    v.to_json()
}
