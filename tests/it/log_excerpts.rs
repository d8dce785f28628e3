//! system.log scanner against the excerpts in `tests/data/log/`, built from the exact
//! Cassandra message strings of cassandra-notes.md section 3 (see the README there).
//! Each test writes out the full expected scan: boots, listener mode, success lines and
//! every error with its line number and `Caused by:` chain.

use ringmaster::cassandra::log::{Evidence, ListenerEncryption, LogPatterns, LogScan, scan, scan_bytes};

const PASS1: &str = include_str!("../data/log/boot-5.0-pass1-optional.log");
const PASS2: &str = include_str!("../data/log/boot-5.0-pass2-encrypted.log");
const HANDSHAKE: &str = include_str!("../data/log/handshake-failures-5.0.log");
const KEYSTORE_PKCS12_PASSWORD: &str = include_str!("../data/log/fail-5.0-keystore-wrong-password-pkcs12.log");
const KEYSTORE_MISSING: &str = include_str!("../data/log/fail-5.0-keystore-missing.log");
const TRUSTSTORE_JKS_PASSWORD: &str = include_str!("../data/log/fail-5.0-truststore-wrong-password-jks.log");
const KEYSTORE_PASSWORD_UNSET: &str = include_str!("../data/log/fail-5.0-keystore-password-unset.log");
const INVALID_YAML_311: &str = include_str!("../data/log/fail-3.11-invalid-yaml.log");

/// The first `n` lines of `text`, each with its newline.
fn first_lines(text: &str, n: usize) -> String {
    text.split_inclusive('\n').take(n).collect()
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn pass1_boot_is_optionally_encrypted_and_complete() {
    let result = scan(PASS1, &LogPatterns::defaults());
    assert_eq!(
        result,
        LogScan {
            success_lines: lines(&[
                "INFO  [main] 2024-11-29 10:00:11,020 SSLFactory.java:389 - Internode messaging enabled TLS protocols: TLSv1.2, TLSv1.3"
            ]),
            errors: vec![],
            error_count: 0,
            listener: Some(ListenerEncryption::Optional),
            startup_complete: true,
            boots: 2,
            last_boot_line: Some(24),
        }
    );
}

#[test]
fn pass1_state_resets_at_the_new_boot_marker() {
    let patterns = LogPatterns::defaults();
    // The previous plaintext run up to its drain.
    let old = scan(&first_lines(PASS1, 23), &patterns);
    assert_eq!(old.listener, Some(ListenerEncryption::Unencrypted));
    assert!(old.startup_complete);
    assert_eq!((old.boots, old.last_boot_line), (1, Some(1)));
    assert!(old.success_lines.is_empty());

    // New boot has begun: the old run's listener and `Startup complete` no longer count.
    let booting = scan(&first_lines(PASS1, 30), &patterns);
    assert_eq!(booting.listener, None);
    assert!(!booting.startup_complete);
    assert_eq!((booting.boots, booting.last_boot_line), (2, Some(24)));
    assert_eq!(booting.success_lines.len(), 1);

    // Listener is up, startup not yet complete.
    let listening = scan(&first_lines(PASS1, 40), &patterns);
    assert_eq!(listening.listener, Some(ListenerEncryption::Optional));
    assert!(!listening.startup_complete);
}

#[test]
fn pass2_boot_is_encrypted_and_the_unterminated_last_line_is_ignored() {
    // The excerpt ends mid-line on purpose, and the fragment already matches an error
    // pattern: scanning it would report an error that is not fully written yet.
    assert!(PASS2.ends_with("Failed to handshake with pe"));
    let patterns = LogPatterns::defaults();
    let expected = LogScan {
        success_lines: lines(&[
            "INFO  [main] 2024-11-29 11:00:01,020 SSLFactory.java:389 - Internode messaging enabled TLS protocols: TLSv1.3, TLSv1.2",
        ]),
        errors: vec![],
        error_count: 0,
        listener: Some(ListenerEncryption::Encrypted),
        startup_complete: true,
        boots: 1,
        last_boot_line: Some(1),
    };
    assert_eq!(scan(PASS2, &patterns), expected);

    let (from_bytes, consumed) = scan_bytes(PASS2.as_bytes(), &patterns);
    assert_eq!(from_bytes, expected);
    let complete_len = PASS2.rfind('\n').expect("has newlines") + 1;
    assert_eq!(consumed, complete_len);

    // Once the node finishes writing the line, the next read reports it.
    let finished = format!("{PASS2}er /127.0.0.3:7000(/127.0.0.3:7000)\n");
    let later = scan(&finished, &patterns);
    assert_eq!(
        later.errors,
        vec![Evidence {
            line_no: 21,
            line: "ERROR [Messaging-EventLoop-3-1] 2024-11-29 11:00:09,120 OutboundConnectionInitiator.java:255 - Failed to handshake with peer /127.0.0.3:7000(/127.0.0.3:7000)".into(),
            context: vec![],
        }]
    );
    // Reading on from the consumed offset sees the same line as line 1 of the new text.
    let (tail, tail_consumed) = scan_bytes(&finished.as_bytes()[consumed..], &patterns);
    assert_eq!(tail.errors.len(), 1);
    assert_eq!(tail.errors[0].line_no, 1);
    assert_eq!(consumed + tail_consumed, finished.len());
}

#[test]
fn handshake_failures_are_one_evidence_per_event_with_cause_chain() {
    let result = scan(HANDSHAKE, &LogPatterns::defaults());
    assert_eq!(
        result,
        LogScan {
            success_lines: lines(&[
                "INFO  [main] 2024-11-29 11:30:01,020 SSLFactory.java:389 - Internode messaging enabled TLS protocols: TLSv1.3, TLSv1.2"
            ]),
            errors: vec![
                Evidence {
                    line_no: 15,
                    line: "ERROR [Messaging-EventLoop-3-1] 2024-11-29 11:30:04,870 OutboundConnectionInitiator.java:255 - Failed to handshake with peer /127.0.0.2:7000(/127.0.0.2:7000)".into(),
                    context: lines(&[
                        "io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                        "Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                        "Caused by: sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                        "Caused by: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                    ]),
                },
                Evidence {
                    line_no: 30,
                    line: "WARN  [Messaging-EventLoop-3-3] 2024-11-29 11:30:05,210 InboundConnectionInitiator.java:395 - peer /127.0.0.3:7000 attempted to establish an unencrypted connection (broadcast address /127.0.0.3:7000)".into(),
                    context: vec![],
                },
                Evidence {
                    line_no: 31,
                    line: "ERROR [Messaging-EventLoop-3-4] 2024-11-29 11:30:05,640 InboundConnectionInitiator.java:353 - Failed to properly handshake with peer /127.0.0.2:51234. Closing the channel.".into(),
                    context: lines(&[
                        "io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown",
                        "Caused by: javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown",
                    ]),
                },
            ],
            error_count: 3,
            listener: Some(ListenerEncryption::Encrypted),
            startup_complete: true,
            boots: 1,
            last_boot_line: Some(1),
        }
    );
}

const STARTUP_ERROR: &str = "ERROR [main] 2024-11-29 10:05:01,233 CassandraDaemon.java:887 - Exception encountered during startup";
const CHAIN_TOP: [&str; 2] = [
    "org.apache.cassandra.exceptions.ConfigurationException: Failed to initialize SSL",
    "Caused by: java.io.IOException: Failed to create SSL context using Internode messaging",
];

/// Asserts a 5.0 boot that died in SSL validation: one evidence at line 5 whose context
/// is `CHAIN_TOP` followed by `causes`, and nothing that looks like a started node.
fn assert_ssl_startup_failure(text: &str, causes: &[&str]) {
    let mut context = lines(&CHAIN_TOP);
    context.extend(lines(causes));
    assert_eq!(scan(text, &LogPatterns::defaults()), failed_boot(Evidence { line_no: 5, line: STARTUP_ERROR.into(), context }));
}

/// The scan of a single boot (marker on line 1) that died with one error event.
fn failed_boot(evidence: Evidence) -> LogScan {
    LogScan {
        success_lines: vec![],
        errors: vec![evidence],
        error_count: 1,
        listener: None,
        startup_complete: false,
        boots: 1,
        last_boot_line: Some(1),
    }
}

#[test]
fn keystore_wrong_password_pkcs12_chain() {
    assert_ssl_startup_failure(
        KEYSTORE_PKCS12_PASSWORD,
        &[
            "Caused by: javax.net.ssl.SSLException: failed to build key manager store for secure connections",
            "Caused by: java.io.IOException: keystore password was incorrect",
            "Caused by: java.security.UnrecoverableKeyException: failed to decrypt safe contents entry: javax.crypto.BadPaddingException: Given final block not properly padded. Such issues can arise if a bad key is used during decryption.",
        ],
    );
}

#[test]
fn keystore_missing_chain() {
    assert_ssl_startup_failure(
        KEYSTORE_MISSING,
        &[
            "Caused by: javax.net.ssl.SSLException: failed to build key manager store for secure connections",
            "Caused by: java.nio.file.NoSuchFileException: /etc/cassandra/tls/node1-keystore.p12",
        ],
    );
}

#[test]
fn truststore_wrong_password_jks_chain() {
    assert_ssl_startup_failure(
        TRUSTSTORE_JKS_PASSWORD,
        &[
            "Caused by: javax.net.ssl.SSLException: failed to build trust manager store for secure connections",
            "Caused by: java.io.IOException: Keystore was tampered with, or password was incorrect",
            "Caused by: java.security.UnrecoverableKeyException: Password verification failed",
        ],
    );
}

#[test]
fn keystore_password_unset_chain() {
    assert_ssl_startup_failure(
        KEYSTORE_PASSWORD_UNSET,
        &["Caused by: java.lang.IllegalArgumentException: 'keystore_password' must be specified"],
    );
}

#[test]
fn invalid_yaml_on_3_11() {
    assert_eq!(
        scan(INVALID_YAML_311, &LogPatterns::defaults()),
        failed_boot(Evidence {
            line_no: 2,
            line: "ERROR [main] 2024-11-29 10:20:00,412 CassandraDaemon.java:803 - Exception encountered during startup: Invalid yaml. Please remove properties [optional] from your cassandra.yaml".into(),
            context: vec![],
        })
    );
}

#[test]
fn each_failure_is_caught_by_its_specific_pattern_alone() {
    // Without the generic startup-failure headers, the TLS-specific patterns still
    // find every failure, at the first line of the chain that names the cause.
    let specific: Vec<String> = ringmaster::cassandra::log::DEFAULT_ERROR_PATTERNS
        .iter()
        .filter(|p| !p.contains("encountered during startup") && !p.contains("Fatal configuration"))
        .map(|p| (*p).to_owned())
        .collect();
    let patterns = LogPatterns::new(ringmaster::cassandra::log::DEFAULT_SUCCESS, &specific, ringmaster::cassandra::log::DEFAULT_BOOT)
        .expect("patterns compile");
    for (text, line_no) in [
        (KEYSTORE_PKCS12_PASSWORD, 6),
        (KEYSTORE_MISSING, 6),
        (TRUSTSTORE_JKS_PASSWORD, 6),
        (KEYSTORE_PASSWORD_UNSET, 6),
        (INVALID_YAML_311, 2),
    ] {
        let result = scan(text, &patterns);
        assert_eq!(result.error_count, 1, "{text}");
        assert_eq!(result.errors[0].line_no, line_no);
    }
}
