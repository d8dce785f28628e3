//! The editor on the stock upstream cassandra.yaml files in `../shared/fixtures/cassandra-yaml`:
//! 3.11.17 is refused, 4.1.7, 5.0.2 and the 2025+ trunk section are edited through both passes,
//! only inside the block, idempotently, and re-parse to the runbook targets.

use crate::support::yaml::*;
use ringmaster::cassandra::yaml::{EditOptions, Release, YamlError, detect_release, edit_server_encryption, masked_diff, secret_values};

const EDITED: &[(&str, Release)] = &[
    ("cassandra-4.1.7.yaml", Release::V4_1Plus),
    ("cassandra-5.0.2.yaml", Release::V4_1Plus),
    ("server_encryption_options-trunk-2025plus.snippet.yaml", Release::V4_1Plus),
];

fn edit(name: &str, input: &[u8], optional: bool) -> ringmaster::cassandra::yaml::Edit {
    edit_server_encryption(name, input, &pass(optional), &EditOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn stock_files_are_detected_as_their_release() {
    assert_eq!(detect_release(&read(&fixtures().join("cassandra-3.11.17.yaml"))), Some(Release::V3_11));
    for (name, release) in EDITED {
        assert_eq!(detect_release(&read(&fixtures().join(name))), Some(*release), "{name}");
    }
}

#[test]
fn stock_311_is_refused_for_both_passes_with_the_block_line() {
    let input = read(&fixtures().join("cassandra-3.11.17.yaml"));
    for optional in [true, false] {
        let err = edit_server_encryption("cassandra-3.11.17.yaml", &input, &pass(optional), &EditOptions::default())
            .expect_err("3.11 must be refused");
        assert!(matches!(err, YamlError::OptionalOn311 { line: 1063, .. }), "{err}");
        assert!(err.to_string().contains("upgrade the cluster to Cassandra 4.0 or later"), "{err}");
    }
}

#[test]
fn both_passes_touch_only_the_block_and_reparse_to_the_targets() {
    for (name, release) in EDITED {
        let stock = read(&fixtures().join(name));
        let optional = edit(name, &stock, true);
        assert!(optional.changed && optional.release == *release, "{name}");
        assert_only_block_changed(&stock, &optional.bytes);
        assert_block_holds(name, &stock, &optional.bytes, &pass(true), *release);

        let enforced = edit(name, &optional.bytes, false);
        assert_only_block_changed(&stock, &enforced.bytes);
        assert_block_holds(name, &stock, &enforced.bytes, &pass(false), *release);
        let changed: Vec<(&str, &str)> = std::str::from_utf8(&optional.bytes)
            .expect("utf-8")
            .lines()
            .zip(std::str::from_utf8(&enforced.bytes).expect("utf-8").lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed, [("  optional: true", "  optional: false")], "{name}: enforce after optional");
        assert_eq!(optional.bytes.len() + 1, enforced.bytes.len(), "{name}: same line count");
    }
}

#[test]
fn each_pass_is_idempotent_on_stock_files() {
    for (name, _) in EDITED {
        let stock = read(&fixtures().join(name));
        for optional in [true, false] {
            let once = edit(name, &stock, optional);
            let twice = edit(name, &once.bytes, optional);
            assert!(!twice.changed, "{name}: second application changed the file");
            assert_eq!(once.bytes, twice.bytes, "{name}");
        }
    }
}

#[test]
fn stock_blocks_match_the_reviewed_golden_blocks() {
    // The golden files were reviewed by hand: live lines right below their templates
    // (`# optional: true`, `#keystore_password: cassandra` with no space), new keys at the
    // block's own indentation, the column-0 `#  outbound_keystore` comments untouched.
    for (name, _) in EDITED {
        let stock = read(&fixtures().join(name));
        let out = edit(name, &stock, true);
        let (start, end) = block_span(&out.bytes);
        let golden = read(&data().join(format!("golden/{name}.optional.block")));
        assert_eq!(String::from_utf8_lossy(&out.bytes[start..end]), String::from_utf8_lossy(&golden), "{name}");
    }
}

#[test]
fn the_masked_diff_of_a_stock_edit_shows_no_password() {
    let name = "cassandra-4.1.7.yaml";
    let stock = read(&fixtures().join(name));
    let out = edit(name, &stock, true);
    let settings = pass(true);
    let diff = masked_diff(name, &stock, &out.bytes, &secret_values(&settings));
    assert!(!diff.contains(KEYSTORE_PASSWORD) && !diff.contains(TRUSTSTORE_PASSWORD), "{diff}");
    assert!(!diff.contains("password: cassandra"), "stock passwords masked as well: {diff}");
    assert!(diff.contains("+  internode_encryption: all\n") && diff.contains("+  optional: true\n"), "{diff}");
    assert_eq!(diff.lines().filter(|l| l.starts_with("@@")).count(), 1, "one hunk, inside the block: {diff}");
}

#[test]
fn stock_311_takes_the_keys_it_knows_below_its_4_space_templates() {
    let name = "cassandra-3.11.17.yaml";
    let stock = read(&fixtures().join(name));
    // Without `optional` and the 4.0+ legacy flag, a 3.11 edit is possible (e.g. key rotation).
    let settings: Vec<_> = pass(true).into_iter().filter(|s| s.key != "optional" && s.key != "legacy_ssl_storage_port_enabled").collect();
    let out = edit_server_encryption(name, &stock, &settings, &EditOptions::default()).expect("3.11 edit");
    assert_eq!(out.release, Release::V3_11);
    assert_only_block_changed(&stock, &out.bytes);
    assert_block_holds(name, &stock, &out.bytes, &settings, Release::V3_11);
    let text = String::from_utf8(out.bytes.clone()).expect("utf-8");
    assert!(text.contains("    # store_type: JKS\n    store_type: PKCS12\n"), "below its template");
    assert!(text.contains("    # require_client_auth: false\n    require_client_auth: true\n"));
    let (start, end) = block_span(&out.bytes);
    assert!(!text[start..end].contains("optional"), "3.11 must never get `optional`");
    let legacy = [ringmaster::cassandra::yaml::Setting::new("legacy_ssl_storage_port_enabled", false)];
    let err = edit_server_encryption(name, &stock, &legacy, &EditOptions::default()).expect_err("unknown in 3.11");
    assert!(matches!(err, YamlError::KeyUnknownToRelease { line: 1063, release: Release::V3_11, .. }), "{err}");
}
