//! system.log scanner rules on small synthetic logs: custom patterns, event grouping,
//! evidence bounds and partial lines.

use ringmaster::cassandra::log::{LogPatterns, MAX_CONTEXT_LINES, MAX_EVIDENCE, scan, split_complete_lines};

fn custom(success: &str, errors: &[&str], boot: &str) -> LogPatterns {
    let errors: Vec<String> = errors.iter().map(|e| (*e).to_owned()).collect();
    LogPatterns::new(success, &errors, boot).expect("patterns compile")
}

#[test]
fn invalid_patterns_are_rejected() {
    assert!(LogPatterns::new("(", &[], "boot").is_err());
    assert!(LogPatterns::new("ok", &["[unclosed".to_owned()], "boot").is_err());
    assert!(LogPatterns::new("ok", &[], "a{2,1}").is_err());
}

#[test]
fn custom_patterns_replace_the_defaults() {
    let patterns = custom("READY", &["(?i)boom"], "^=== start");
    let text = "=== start\nINFO all fine, Internode messaging enabled TLS protocols: TLSv1.3\nINFO READY\nERROR Boom\n";
    let result = scan(text, &patterns);
    assert_eq!(result.boots, 1);
    assert_eq!(result.success_lines, vec!["INFO READY".to_owned()]);
    assert_eq!(result.errors.len(), 1);
    assert_eq!(result.errors[0].line_no, 4);
}

#[test]
fn an_error_inside_a_stack_trace_starts_evidence_there() {
    let text = concat!(
        "INFO  [main] 2024-11-29 10:00:00,000 Foo.java:1 - reloading certificates\n",
        "java.io.IOException: Keystore was tampered with, or password was incorrect\n",
        "\tat java.base/java.security.KeyStore.load(KeyStore.java:1473)\n",
        "Caused by: java.security.UnrecoverableKeyException: Password verification failed\n",
        "INFO  [main] 2024-11-29 10:00:01,000 Foo.java:2 - next event\n",
    );
    let result = scan(text, &LogPatterns::defaults());
    assert_eq!(result.error_count, 1);
    assert_eq!(result.errors[0].line_no, 2);
    assert_eq!(
        result.errors[0].context,
        vec!["Caused by: java.security.UnrecoverableKeyException: Password verification failed".to_owned()]
    );
}

#[test]
fn evidence_context_is_bounded() {
    let mut text = String::from("ERROR [main] 2024-11-29 10:00:00,000 X.java:1 - Failed to initialize SSL\n");
    for i in 0..(MAX_CONTEXT_LINES + 8) {
        text.push_str(&format!("Caused by: java.io.IOException: layer {i}\n\tat a.B.c(B.java:{i})\n"));
    }
    let result = scan(&text, &LogPatterns::defaults());
    assert_eq!(result.error_count, 1);
    let context = &result.errors[0].context;
    assert_eq!(context.len(), MAX_CONTEXT_LINES);
    assert_eq!(context[0], "Caused by: java.io.IOException: layer 0");
    assert!(context.iter().all(|l| !l.contains("\tat ")));
}

#[test]
fn evidence_count_is_bounded_but_every_event_is_counted() {
    let total = MAX_EVIDENCE + 10;
    let text: String = (0..total)
        .map(|i| {
            format!(
                "WARN  [Messaging-EventLoop-3-3] 2024-11-29 11:30:05,{i:03} InboundConnectionInitiator.java:395 - peer /127.0.0.3:7000 attempted to establish an unencrypted connection (broadcast address /127.0.0.3:7000)\n"
            )
        })
        .collect();
    let result = scan(&text, &LogPatterns::defaults());
    assert_eq!(result.errors.len(), MAX_EVIDENCE);
    assert_eq!(result.error_count, total);
    assert_eq!(result.errors.last().map(|e| e.line_no), Some(MAX_EVIDENCE));
}

#[test]
fn matching_lines_of_one_event_count_once_even_beyond_the_evidence_bound() {
    let event = "ERROR [main] x - Failed to initialize SSL\nCaused by: javax.net.ssl.SSLException: failed to build key manager store for secure connections\n";
    let text = event.repeat(MAX_EVIDENCE + 3);
    let result = scan(&text, &LogPatterns::defaults());
    assert_eq!(result.error_count, MAX_EVIDENCE + 3);
    assert_eq!(result.errors.len(), MAX_EVIDENCE);
}

#[test]
fn unterminated_text_scans_as_nothing() {
    let text = "INFO  [main] 2024-11-29 10:00:00,000 CassandraDaemon.java:744 - Startup complete";
    let result = scan(text, &LogPatterns::defaults());
    assert!(!result.startup_complete);
    assert_eq!(result.boots, 0);
    assert_eq!(split_complete_lines(text.as_bytes()).1, 0);
    assert!(scan(&format!("{text}\n"), &LogPatterns::defaults()).startup_complete);
}

#[test]
fn crlf_lines_scan_like_lf_lines() {
    let text = "INFO  [main] t YamlConfigurationLoader.java:103 - Configuration location: file:/c.yaml\r\nINFO  [main] t X.java:1 - Listening on address: (/127.0.0.1:7000), nic: lo, encryption: encrypted(openssl)\r\nINFO  [main] t CassandraDaemon.java:744 - Startup complete\r\n";
    let result = scan(text, &LogPatterns::defaults());
    assert_eq!(result.boots, 1);
    assert_eq!(result.listener, Some(ringmaster::cassandra::log::ListenerEncryption::Encrypted));
    assert!(result.startup_complete);
}
