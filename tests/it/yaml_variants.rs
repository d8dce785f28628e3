//! The editor on hand-made variants of cassandra.yaml: the 4.0 shape (4-space indentation,
//! `enable_legacy_ssl_storage_port`), inline comments and quoting, CRLF, BOM, no final newline,
//! the block at the end of the file, a missing block, and every refusal.

use crate::support::yaml::*;
use ringmaster::cassandra::yaml::{
    Edit, EditOptions, Release, Setting, YamlError, detect_release, edit_server_encryption, read_server_encryption,
};

fn edit(name: &str, input: &[u8], settings: &[Setting]) -> Result<Edit, YamlError> {
    edit_server_encryption(name, input, settings, &EditOptions::default())
}

fn stock_41() -> Vec<u8> {
    read(&fixtures().join("cassandra-4.1.7.yaml"))
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

/// Runs both passes and the idempotence checks shared by every editable variant.
fn both_passes(name: &str, input: &[u8], release: Release) -> (Vec<u8>, Vec<u8>) {
    let optional = edit(name, input, &pass(true)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(optional.release, release, "{name}");
    assert_only_block_changed(input, &optional.bytes);
    assert_block_holds(name, input, &optional.bytes, &pass(true), release);
    let again = edit(name, &optional.bytes, &pass(true)).expect("again");
    assert!(!again.changed, "{name}: pass 1 twice");
    let enforced = edit(name, &optional.bytes, &pass(false)).expect("enforce");
    assert_only_block_changed(input, &enforced.bytes);
    assert_block_holds(name, input, &enforced.bytes, &pass(false), release);
    let diff: Vec<_> = text(&optional.bytes).split('\n').zip(text(&enforced.bytes).split('\n')).filter(|(a, b)| a != b).collect();
    assert_eq!(diff.len(), 1, "{name}: enforce changes one line");
    assert!(diff[0].0.contains("optional: true") && diff[0].1.contains("optional: false"), "{name}: {diff:?}");
    assert!(!edit(name, &enforced.bytes, &pass(false)).expect("again").changed, "{name}: pass 2 twice");
    (optional.bytes, enforced.bytes)
}

#[test]
fn four_space_40_file_uses_40_key_names() {
    let input = read(&data().join("cassandra-4.0.15-shape.yaml"));
    assert_eq!(detect_release(&input), Some(Release::V4_0));
    let (optional, _) = both_passes("cassandra-4.0.15-shape.yaml", &input, Release::V4_0);
    let out = text(&optional);
    assert!(out.contains("    # optional: true\n    optional: true\n"), "{out}");
    assert!(out.contains("    enable_legacy_ssl_storage_port: false\n"));
    assert!(!out.contains("legacy_ssl_storage_port_enabled"), "4.0 does not know the 4.1 name");
    assert!(out.contains("    # store_type: JKS\n    store_type: PKCS12\n"), "{out}");
    assert!(out.contains("    keystore_password: \"node-keystore-password\"\n"));
    // The client block's own `# optional: true` template is outside the block and untouched.
    assert!(out.contains("    # optional: true\n    keystore: conf/.keystore\n"));
}

#[test]
fn inline_comments_and_quoting_are_kept_around_new_values() {
    let input = read(&data().join("inline-comments.yaml"));
    let out = edit_server_encryption("inline-comments.yaml", &input, &pass(true), &EditOptions { release: Some(Release::V4_1Plus) })
        .expect("edit");
    let expected = read(&data().join("inline-comments.optional.expected.yaml"));
    assert_eq!(text(&out.bytes), text(&expected));
    let values = read_server_encryption("x", &input).expect("read");
    assert_eq!(values["keystore_password"], serde_json::json!("it's \"old\""), "escapes decoded");
    assert_eq!(values["require_endpoint_verification"], serde_json::json!(false), "YAML 1.1 `no`");
}

#[test]
fn crlf_file_keeps_crlf_everywhere() {
    let input = text(&stock_41()).replace('\n', "\r\n").into_bytes();
    let (optional, enforced) = both_passes("crlf.yaml", &input, Release::V4_1Plus);
    for out in [&optional, &enforced] {
        let t = text(out);
        assert_eq!(t.matches('\n').count(), t.matches("\r\n").count(), "a bare LF was written");
        assert!(t.contains("\r\n  optional: true\r\n") || t.contains("\r\n  optional: false\r\n"));
    }
}

#[test]
fn bom_and_missing_final_newline_with_the_block_at_the_end() {
    let snippet = read(&fixtures().join("server_encryption_options-trunk-2025plus.snippet.yaml"));
    let trimmed = text(&snippet).trim_end().to_owned();
    assert!(trimmed.ends_with("# certificate_validity_warn_threshold: 10d"));
    let input = format!("\u{feff}{trimmed}").into_bytes();
    let (optional, enforced) = both_passes("bom-eof.yaml", &input, Release::V4_1Plus);
    for out in [&optional, &enforced] {
        assert!(out.starts_with("\u{feff}".as_bytes()), "BOM kept");
        assert!(!out.ends_with(b"\n"), "no final newline added");
        assert!(text(out).ends_with("# certificate_validity_warn_threshold: 10d"), "nothing appended after the last line");
    }
}

#[test]
fn a_key_appended_after_a_last_line_without_newline_ends_the_file() {
    // `# optional: true` tells the release (4.0+) and is the template for `optional`.
    let input = b"cluster_name: x\nserver_encryption_options:\n  # optional: true\n  internode_encryption: none";
    let out = edit("eof.yaml", input, &pass(true)).expect("edit");
    let t = text(&out.bytes);
    assert!(
        t.starts_with("cluster_name: x\nserver_encryption_options:\n  # optional: true\n  optional: true\n  internode_encryption: all\n"),
        "{t}"
    );
    assert!(t.ends_with("\n  store_type: PKCS12"), "{t:?}");
    assert!(!edit("eof.yaml", &out.bytes, &pass(true)).expect("again").changed);
}

#[test]
fn missing_block_is_appended_and_everything_else_kept() {
    let stock = stock_41();
    let (start, end) = block_span(&stock);
    let mut input = stock[..start].to_vec();
    input.extend_from_slice(&stock[end..]);
    let out = edit("no-block.yaml", &input, &pass(true)).expect("edit");
    assert!(out.bytes.starts_with(&input), "the original bytes are a prefix");
    let added = text(&out.bytes[input.len()..]);
    assert!(added.starts_with("\nserver_encryption_options:\n  internode_encryption: all\n  optional: true\n"), "{added}");
    assert!(added.ends_with("  store_type: PKCS12\n"), "{added}");
    assert_block_holds("no-block.yaml", &input, &out.bytes, &pass(true), Release::V4_1Plus);
    let enforced = edit("no-block.yaml", &out.bytes, &pass(false)).expect("enforce");
    assert_only_block_changed(&out.bytes, &enforced.bytes);
    assert!(!edit("no-block.yaml", &enforced.bytes, &pass(false)).expect("again").changed);
}

/// Returns the 4.1.7 stock file with `from` replaced once by `to`.
fn stock_with(from: &str, to: &str) -> Vec<u8> {
    let t = text(&stock_41()).to_owned();
    assert!(t.contains(from), "fixture lacks {from:?}");
    t.replacen(from, to, 1).into_bytes()
}

#[test]
fn every_refusal_names_file_and_line_and_hides_secrets() {
    type Check = fn(&YamlError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        ("3.11", read(&fixtures().join("cassandra-3.11.17.yaml")), |e| matches!(e, YamlError::OptionalOn311 { line: 1063, .. })),
        ("tab", stock_with("  keystore: conf/.keystore\n", "\tkeystore: conf/.keystore\n"), |e| {
            matches!(e, YamlError::TabIndentation { line: 1360, .. })
        }),
        ("duplicate block", [stock_41(), b"server_encryption_options:\n  internode_encryption: none\n".to_vec()].concat(), |e| {
            matches!(e, YamlError::DuplicateBlock { first: 1344, second: 1849, .. })
        }),
        ("duplicate key", stock_with("  truststore: conf/.truststore\n", "  truststore: conf/.truststore\n  keystore: x\n"), |e| {
            matches!(e, YamlError::DuplicateKey { first: 1360, second: 1371, .. })
        }),
        (
            "flow style",
            stock_with("server_encryption_options:\n", "server_encryption_options: {internode_encryption: none}\nunused_block:\n"),
            |e| matches!(e, YamlError::FlowStyleBlock { line: 1344, .. }),
        ),
        ("invalid elsewhere", stock_with("cluster_name: 'Test Cluster'\n", "cluster_name: 'Test Cluster'\n  bad: [\n"), |e| {
            matches!(e, YamlError::InvalidYaml { .. })
        }),
        ("multi-line value", stock_with("  keystore: conf/.keystore\n", "  keystore: >\n    conf/.keystore\n"), |e| {
            matches!(e, YamlError::UnsupportedValue { line: 1360, .. })
        }),
    ];
    for (what, input, check) in cases {
        let err = edit("conf/cassandra.yaml", &input, &pass(true)).expect_err(what);
        assert!(check(&err), "{what}: {err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("`conf/cassandra.yaml`:"), "{what}: {msg}");
        assert!(!msg.contains(KEYSTORE_PASSWORD) && !msg.contains(TRUSTSTORE_PASSWORD), "{what}: {msg}");
    }
}

#[test]
fn a_file_of_unknown_release_is_refused_unless_the_release_is_given() {
    let input = b"cluster_name: x\nserver_encryption_options:\n  internode_encryption: none\n";
    assert!(matches!(edit("x.yaml", input, &pass(true)), Err(YamlError::ReleaseUndetected { .. })));
    let out = edit_server_encryption("x.yaml", input, &pass(true), &EditOptions { release: Some(Release::V4_0) }).expect("given");
    assert_eq!(out.release, Release::V4_0);
    assert!(text(&out.bytes).contains("  enable_legacy_ssl_storage_port: false\n"));
}
