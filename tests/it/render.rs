//! `ringmaster render`: what a pass makes of a stock cassandra.yaml, offline.

use std::path::PathBuf;

use crate::support::{ringmaster, run};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/cassandra-yaml").join(name)
}

#[test]
fn render_prints_the_file_as_written_and_a_masked_diff() {
    let config = fixture("cassandra-5.0.2.yaml");
    let original = std::fs::read(&config).unwrap();
    let password = "Pw-render-7f3a";
    let base = |extra: &[&str]| {
        let mut cmd = ringmaster();
        cmd.args(["render", "--pass", "optional", "--node", "db01", "--config"])
            .arg(&config)
            .env("RINGMASTER_SECRET_KEYSTORE_PASSWORD", password)
            .env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "trust-render-9c1d")
            .args(extra);
        cmd
    };
    // The whole file as it would be written to the node: passwords included.
    let out = run(&mut base(&[]));
    assert_eq!(out.status.code(), Some(0));
    let block = ringmaster::cassandra::yaml::read_server_encryption("out", &out.stdout).unwrap();
    assert_eq!(block["internode_encryption"], "all");
    assert_eq!(block["optional"], true);
    assert_eq!(block["keystore"], "/etc/cassandra/ssl/db01-keystore.p12");
    assert_eq!(block["keystore_password"], password);
    assert!(out.stdout.len() > original.len(), "the whole file, with lines added");
    // The diff: only the block, passwords masked.
    let diff = run(&mut base(&["--diff"]));
    assert_eq!(diff.status.code(), Some(0));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("+  internode_encryption: all") || text.contains("internode_encryption: all"), "{text}");
    assert!(!text.contains(password) && !text.contains("trust-render-9c1d"), "passwords masked: {text}");
    assert!(text.contains("********"));
    // --set overrides a setting; `ssl_dir` moves the key paths.
    let out = run(&mut base(&["--set", "store_type=JKS", "--set", "ssl_dir=/srv/ssl"]));
    let block = ringmaster::cassandra::yaml::read_server_encryption("out", &out.stdout).unwrap();
    assert_eq!(block["store_type"], "JKS");
    assert_eq!(block["keystore"], "/srv/ssl/db01-keystore.p12");
    // Nothing was written anywhere.
    assert_eq!(std::fs::read(&config).unwrap(), original);
}

#[test]
fn render_refuses_3_11_and_missing_secrets_without_printing_a_file() {
    let out = run(ringmaster()
        .args(["render", "--pass", "optional", "--config"])
        .arg(fixture("cassandra-3.11.17.yaml"))
        .env("RINGMASTER_SECRET_KEYSTORE_PASSWORD", "k")
        .env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "t"));
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3.11") && err.contains("1063"), "names the release and the line: {err}");
    let out = run(ringmaster().args(["render", "--pass", "optional", "--config"]).arg(fixture("cassandra-5.0.2.yaml")));
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RINGMASTER_SECRET_KEYSTORE_PASSWORD"));
    let out = run(ringmaster().args(["render", "--pass", "nope", "--config"]).arg(fixture("cassandra-5.0.2.yaml")));
    assert_eq!(out.status.code(), Some(2));
}
