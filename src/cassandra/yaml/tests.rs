//! Unit tests of the editor's public API on small hand-made files; the stock fixtures and the
//! property test live in `tests/it/yaml_*.rs`.

use super::*;

const PATH: &str = "/etc/cassandra/cassandra.yaml";

fn pass(optional: bool) -> Vec<Setting> {
    vec![
        Setting::new("internode_encryption", "all"),
        Setting::new("optional", optional),
        Setting::new("legacy_ssl_storage_port_enabled", false),
        Setting::new("keystore", "/etc/cassandra/ssl/db01-keystore.p12"),
        Setting::secret("keystore_password", "node-keystore-password"),
        Setting::new("truststore", "/etc/cassandra/ssl/cassandra-truststore.p12"),
        Setting::secret("truststore_password", "cluster-truststore-password"),
        Setting::new("require_client_auth", true),
        Setting::new("require_endpoint_verification", false),
        Setting::new("store_type", "PKCS12"),
    ]
}

fn opts(release: Release) -> EditOptions {
    EditOptions { release: Some(release) }
}

fn edit_str(input: &str, settings: &[Setting], release: Release) -> Result<String, YamlError> {
    let e = edit_server_encryption(PATH, input.as_bytes(), settings, &opts(release))?;
    Ok(String::from_utf8(e.bytes).expect("utf-8"))
}

const SMALL_41: &str = "\
cluster_name: 'Test Cluster'
server_encryption_options:
  internode_encryption: none # off by default
  # optional: true
  legacy_ssl_storage_port_enabled: false
  keystore: conf/.keystore
  #keystore_password: cassandra
  require_client_auth: false
  truststore: 'conf/.truststore'
  #truststore_password: cassandra
  require_endpoint_verification: false
  # store_type: JKS

# next section
client_encryption_options:
  enabled: false
";

#[test]
fn present_keys_are_replaced_in_place_and_templates_go_live_below_their_comment() {
    let out = edit_str(SMALL_41, &pass(true), Release::V4_1Plus).expect("edit");
    let expected = "\
cluster_name: 'Test Cluster'
server_encryption_options:
  internode_encryption: all # off by default
  # optional: true
  optional: true
  legacy_ssl_storage_port_enabled: false
  keystore: \"/etc/cassandra/ssl/db01-keystore.p12\"
  #keystore_password: cassandra
  keystore_password: \"node-keystore-password\"
  require_client_auth: true
  truststore: \"/etc/cassandra/ssl/cassandra-truststore.p12\"
  #truststore_password: cassandra
  truststore_password: \"cluster-truststore-password\"
  require_endpoint_verification: false
  # store_type: JKS
  store_type: PKCS12

# next section
client_encryption_options:
  enabled: false
";
    assert_eq!(out, expected);
}

#[test]
fn second_application_is_identical_and_enforce_changes_only_optional() {
    let once = edit_str(SMALL_41, &pass(true), Release::V4_1Plus).expect("edit");
    let twice = edit_server_encryption(PATH, once.as_bytes(), &pass(true), &opts(Release::V4_1Plus)).expect("again");
    assert!(!twice.changed);
    assert_eq!(twice.bytes, once.as_bytes());
    let enforced = edit_str(&once, &pass(false), Release::V4_1Plus).expect("enforce");
    let diff: Vec<_> = once.lines().zip(enforced.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(diff, [("  optional: true", "  optional: false")]);
    assert_eq!(once.lines().count(), enforced.lines().count());
}

#[test]
fn release_key_names_are_used() {
    let file_40 =
        "server_encryption_options:\n    internode_encryption: none\n    # optional: true\n    enable_legacy_ssl_storage_port: false\n";
    let out = edit_str(file_40, &pass(true), Release::V4_0).expect("4.0");
    assert!(out.contains("    enable_legacy_ssl_storage_port: false\n"));
    assert!(!out.contains("legacy_ssl_storage_port_enabled"), "{out}");
    assert!(out.contains("    # optional: true\n    optional: true\n"), "{out}");
    // The 4.1 name in a file said to be 4.0: wrong release or broken file, refused.
    let file_41 = "x: 1\nserver_encryption_options:\n  legacy_ssl_storage_port_enabled: false\n";
    let err = edit_str(file_41, &pass(true), Release::V4_0).expect_err("mismatch");
    assert!(matches!(err, YamlError::ReleaseMismatch { line: 3, release: Release::V4_0, .. }), "{err}");
    // A 4.1 file that kept the deprecated 4.0 name gets that line edited, not a second alias.
    let kept = "server_encryption_options:\n  enable_legacy_ssl_storage_port: true\n";
    let out = edit_str(kept, &[Setting::new("legacy_ssl_storage_port_enabled", false)], Release::V4_1Plus).expect("alias");
    assert_eq!(out, "server_encryption_options:\n  enable_legacy_ssl_storage_port: false\n");
}

#[test]
fn detection_follows_the_block_then_the_file() {
    assert_eq!(detect_release(SMALL_41.as_bytes()), Some(Release::V4_1Plus));
    assert_eq!(detect_release(b"server_encryption_options:\n    # optional: true\n"), Some(Release::V4_0));
    assert_eq!(detect_release(b"start_rpc: false\nserver_encryption_options:\n    keystore: k\n"), Some(Release::V3_11));
    assert_eq!(detect_release(b"server_encryption_options:\n  keystore: k\n"), None);
    let err = edit_server_encryption(PATH, b"a: 1\n", &pass(true), &EditOptions::default()).expect_err("undetected");
    assert!(matches!(err, YamlError::ReleaseUndetected { .. }));
}

#[test]
fn crlf_bom_and_missing_final_newline_survive() {
    let input = "\u{feff}a: 1\r\nserver_encryption_options:\r\n  internode_encryption: none\r\n  keystore: k";
    let out = edit_str(input, &pass(true), Release::V4_1Plus).expect("edit");
    assert!(out.starts_with("\u{feff}a: 1\r\nserver_encryption_options:\r\n  internode_encryption: all\r\n"));
    assert!(!out.ends_with('\n'), "{out:?}");
    assert!(out.ends_with("  store_type: PKCS12"), "{out:?}");
    assert_eq!(out.matches('\n').count(), out.matches("\r\n").count(), "only CRLF endings: {out:?}");
}

#[test]
fn a_missing_block_is_appended_with_the_file_indentation() {
    let input = "a: 1\nb:\n    c: 2";
    let out = edit_str(input, &pass(false)[..3], Release::V4_0).expect("edit");
    assert_eq!(
        out,
        "a: 1\nb:\n    c: 2\n\nserver_encryption_options:\n    internode_encryption: all\n    optional: false\n    enable_legacy_ssl_storage_port: false"
    );
    let unchanged = edit_server_encryption(PATH, input.as_bytes(), &[], &opts(Release::V4_0)).expect("no settings");
    assert!(!unchanged.changed, "no settings, no empty block appended");
    let out = edit_str("", &pass(false)[..1], Release::V4_1Plus).expect("empty file");
    assert_eq!(out, "server_encryption_options:\n  internode_encryption: all\n");
}

#[test]
fn an_empty_block_and_values_with_comments_or_no_value() {
    let input = "server_encryption_options:\n  # optional: true\nother: 1\n";
    let out = edit_str(input, &pass(true)[..2], Release::V4_1Plus).expect("edit");
    // Both keys land after the last indented line (the template), in the caller's order.
    assert_eq!(out, "server_encryption_options:\n  # optional: true\n  internode_encryption: all\n  optional: true\nother: 1\n");
    let input = "server_encryption_options:\n  keystore:   # set me\n  truststore:\n";
    let out = edit_str(input, &[Setting::new("keystore", "k"), Setting::new("truststore", "t")], Release::V4_1Plus).expect("edit");
    assert_eq!(out, "server_encryption_options:\n  keystore: \"k\"   # set me\n  truststore: \"t\"\n");
}

#[test]
fn values_already_meaning_the_target_are_left_alone() {
    let input = "server_encryption_options:\n  internode_encryption: \"all\"\n  keystore: /etc/ks.p12 # path\n  optional: True\n  store_type: 'PKCS12'\n";
    let settings = [
        Setting::new("internode_encryption", "all"),
        Setting::new("keystore", "/etc/ks.p12"),
        Setting::new("optional", true),
        Setting::new("store_type", "PKCS12"),
    ];
    let e = edit_server_encryption(PATH, input.as_bytes(), &settings, &opts(Release::V4_1Plus)).expect("edit");
    assert!(!e.changed);
    // YAML 1.1 `yes` is true for SnakeYAML but a string for YAML 1.2 readers: rewritten.
    let out = edit_str("server_encryption_options:\n  optional: yes\n", &settings[2..3], Release::V4_1Plus).expect("edit");
    assert_eq!(out, "server_encryption_options:\n  optional: true\n");
}

#[test]
fn refusals_name_the_line_and_never_the_secret() {
    let secret = [Setting::secret("keystore_password", "hunter2-secret")];
    type Check = fn(&YamlError) -> bool;
    let cases: &[(&str, &[Setting], Release, Check)] = &[
        ("server_encryption_options:\n    keystore: k\n", &[Setting::new("optional", true)], Release::V3_11, |e| {
            matches!(e, YamlError::OptionalOn311 { line: 1, .. })
        }),
        ("x: 1\nserver_encryption_options:\n  a: 1\n", &[Setting::new("legacy_ssl_storage_port_enabled", false)], Release::V3_11, |e| {
            matches!(e, YamlError::KeyUnknownToRelease { line: 2, .. })
        }),
        ("server_encryption_options:\n  keystore_password: |\n    x\n", &secret, Release::V4_1Plus, |e| {
            matches!(e, YamlError::UnsupportedValue { line: 2, .. })
        }),
        ("server_encryption_options:\n  keystore_password: a\n    b\n", &secret, Release::V4_1Plus, |e| {
            matches!(e, YamlError::UnsupportedValue { line: 2, .. })
        }),
        (
            "server_encryption_options:\n  legacy_ssl_storage_port_enabled: false\n  enable_legacy_ssl_storage_port: false\n",
            &[Setting::new("legacy_ssl_storage_port_enabled", false)],
            Release::V4_1Plus,
            |e| matches!(e, YamlError::DuplicateKey { first: 2, second: 3, .. }),
        ),
        ("a: [1,\nserver_encryption_options:\n  k: 1\n", &secret, Release::V4_1Plus, |e| matches!(e, YamlError::InvalidYaml { .. })),
        ("server_encryption_options:\n  k: 1\n", &[Setting::new("optional", "yes")], Release::V4_1Plus, |e| {
            matches!(e, YamlError::InvalidSettingValue { .. })
        }),
        ("server_encryption_options:\n  k: 1\n", &[Setting::new("internode_encryption", "everything")], Release::V4_1Plus, |e| {
            matches!(e, YamlError::InvalidSettingValue { .. })
        }),
        ("server_encryption_options:\n  k: 1\n", &[Setting::new("cipher_suites", "x")], Release::V4_1Plus, |e| {
            matches!(e, YamlError::UnknownSetting { .. })
        }),
        (
            "server_encryption_options:\n  k: 1\n",
            &[Setting::new("optional", true), Setting::new("optional", false)],
            Release::V4_1Plus,
            |e| matches!(e, YamlError::DuplicateSetting { .. }),
        ),
    ];
    for (input, settings, release, check) in cases {
        let err = edit_server_encryption(PATH, input.as_bytes(), settings, &opts(*release)).expect_err(input);
        assert!(check(&err), "{input:?}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(PATH) && !msg.contains("hunter2"), "{msg}");
    }
}

#[test]
fn the_311_refusal_explains_what_to_do() {
    let err = edit_server_encryption(
        PATH,
        b"start_rpc: false\nserver_encryption_options:\n    keystore: k\n",
        &pass(true),
        &EditOptions::default(),
    )
    .expect_err("3.11");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("`{PATH}`:2: ")), "{msg}");
    assert!(msg.contains("3.11 has no `optional`") && msg.contains("split") && msg.contains("4.0 or later"), "{msg}");
}

#[test]
fn debug_output_never_shows_a_secret() {
    let settings = pass(true);
    let debug = format!("{settings:?}");
    assert!(!debug.contains("node-keystore-password") && !debug.contains("cluster-truststore-password"), "{debug}");
    assert!(debug.contains("\"all\""), "non-secret values stay visible: {debug}");
    assert_eq!(format!("{:?}", Value::from("pw")), "Str(<redacted>)");
    let e = edit_server_encryption(PATH, SMALL_41.as_bytes(), &settings, &opts(Release::V4_1Plus)).expect("edit");
    assert!(!format!("{e:?}").contains("node-keystore"));
}

#[test]
fn masked_diff_hides_new_and_old_passwords_but_shows_the_change() {
    let new = edit_str(SMALL_41.replace("#keystore_password", "keystore_password").as_str(), &pass(true), Release::V4_1Plus).expect("edit");
    let old = SMALL_41.replace("#keystore_password", "keystore_password");
    let settings = pass(true);
    let diff = masked_diff(PATH, old.as_bytes(), new.as_bytes(), &secret_values(&settings));
    assert!(!diff.contains("node-keystore-password") && !diff.contains("cluster-truststore-password"), "{diff}");
    assert!(!diff.contains(": cassandra"), "old stock passwords masked too: {diff}");
    assert!(diff.contains("\n-  keystore_password: ********\n"), "{diff}");
    assert!(diff.contains("\n+  keystore_password: ********\n"), "{diff}");
    assert!(diff.contains("+  optional: true"), "{diff}");
    assert!(diff.starts_with("--- a/etc/cassandra/cassandra.yaml\n+++ b/etc/cassandra/cassandra.yaml\n"), "{diff}");
    let escaped = masked_diff(PATH, b"a: 1\n", b"a: \"q\\\"x\"\n", &["q\"x"]);
    assert!(!escaped.contains("q\\\"x") && escaped.contains("********"), "{escaped}");
}

#[test]
fn recover_low_a_short_password_masks_only_whole_values_in_a_diff() {
    let old = "server_encryption_options:\n  internode_encryption: none\n  keystore_password: cassandra\n  label: e\n";
    let new = "server_encryption_options:\n  internode_encryption: all\n  keystore_password: \"e\"\n  label: e\n";
    let diff = masked_diff(PATH, old.as_bytes(), new.as_bytes(), &["e"]);
    assert!(diff.contains("+  internode_encryption: all\n") && diff.contains("-  internode_encryption: none\n"), "{diff}");
    assert!(diff.contains("+  keystore_password: ********\n") && diff.contains("-  keystore_password: ********\n"), "{diff}");
    assert!(diff.contains("   label: ********\n"), "a whole-value match is masked anywhere: {diff}");
    assert!(diff.starts_with("--- a/etc/cassandra/cassandra.yaml\n"), "{diff}");
}

#[test]
fn read_reports_live_values_as_snakeyaml_sees_them() {
    let values = read_server_encryption(PATH, SMALL_41.as_bytes()).expect("read");
    assert_eq!(values["internode_encryption"], serde_json::json!("none"));
    assert_eq!(values["truststore"], serde_json::json!("conf/.truststore"));
    assert_eq!(values["require_client_auth"], serde_json::json!(false));
    assert!(!values.contains_key("keystore_password"), "commented keys are not live");
    assert!(read_server_encryption(PATH, b"a: 1\n").expect("no block").is_empty());
}
