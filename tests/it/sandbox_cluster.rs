//! The simulated cluster's behaviour: restarts, TLS policies, connectivity as seen by
//! `nodetool status`, startup failures, start delays and drain.

use std::time::{Duration, Instant};

use crate::support::bin;
use crate::support::sandbox::Sandbox;

const ALL_UN: [(&str, &str); 3] = [("127.0.0.1", "UN"), ("127.0.0.2", "UN"), ("127.0.0.3", "UN")];

fn s(dir: &std::path::Path) -> &str {
    dir.to_str().expect("utf-8")
}

#[test]
fn stock_restart_stays_unencrypted_and_all_un() {
    let sb = Sandbox::new(3, "0s");
    sb.restart("node2");
    let boot = sb.last_boot("node2");
    assert!(boot.contains("Listening on address: (/127.0.0.2:7000), nic: lo, encryption: unencrypted"), "{boot}");
    assert!(!boot.contains("enabled TLS protocols"), "stock keystore conf/.keystore does not exist");
    assert!(boot.contains("CassandraDaemon.java:744 - Startup complete"));
    assert!(sb.log_text("node2").contains("StorageServiceShutdownHook"), "shutdown lines before the boot");
    for n in ["node1", "node2", "node3"] {
        sb.assert_view(n, &ALL_UN);
    }
    let out = sb.nodetool("node1", &["status"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("UN")).collect();
    assert!(rows[0].contains("127.0.0.2") && rows[1].contains("127.0.0.1"), "HashMap order, not sorted");
    assert!(text.ends_with("rack1\n\n"), "ends with an empty line");
    assert!(text.contains("--  Address    Load"), "{text}");
    assert!(rows.iter().all(|r| r.contains("  16      66.7%  ")), "{text}");
}

#[test]
fn optional_pass_keeps_everyone_up_at_every_step() {
    let sb = Sandbox::new(3, "0s");
    let (ks, ts) = sb.store_passwords();
    for n in ["node1", "node2", "node3"] {
        sb.configure_tls(n, &ks, &ts, "  internode_encryption: all\n  optional: true");
        sb.restart(n);
        let boot = sb.last_boot(n);
        assert!(boot.contains("SSLFactory.java:389 - Internode messaging enabled TLS protocols: TLSv1.3, TLSv1.2"), "{boot}");
        assert!(boot.contains("encryption: optionally encrypted(jdk)"), "{boot}");
        for observer in ["node1", "node2", "node3"] {
            sb.assert_view(observer, &ALL_UN);
        }
    }
    // Pass 2 (optional: false) with every peer already sending TLS stays up too.
    for n in ["node1", "node2", "node3"] {
        sb.configure_tls(n, &ks, &ts, "  internode_encryption: all\n  optional: false");
        sb.restart(n);
        assert!(sb.last_boot(n).contains("encryption: encrypted(jdk)"));
        assert!(!sb.last_boot(n).contains("attempted to establish an unencrypted connection"));
        for observer in ["node1", "node2", "node3"] {
            sb.assert_view(observer, &ALL_UN);
        }
    }
}

#[test]
fn enforcing_node_and_plaintext_peer_see_each_other_down() {
    let sb = Sandbox::new(3, "0s");
    let (ks, ts) = sb.store_passwords();
    sb.configure_tls("node1", &ks, &ts, "  internode_encryption: all\n  optional: false");
    sb.restart("node1");
    sb.assert_view("node1", &[("127.0.0.1", "UN"), ("127.0.0.2", "DN"), ("127.0.0.3", "DN")]);
    sb.assert_view("node2", &[("127.0.0.1", "DN"), ("127.0.0.2", "UN"), ("127.0.0.3", "UN")]);
    sb.assert_view("node3", &[("127.0.0.1", "DN"), ("127.0.0.2", "UN"), ("127.0.0.3", "UN")]);
    let boot = sb.last_boot("node1");
    assert!(boot.contains("encryption: encrypted(jdk)"));
    assert!(boot.contains("WARN  [Messaging-EventLoop-3-1]"), "{boot}");
    assert!(boot.contains("attempted to establish an unencrypted connection (broadcast address /127.0.0.2:7000)"));
    assert!(
        sb.log_text("node2").contains("Rejected incoming TLS connection before negotiating from /127.0.0.1:"),
        "the plaintext peer rejects node1's TLS"
    );
    // Unset optional with a keystore present refuses plaintext the same way.
    sb.configure_tls("node1", &ks, &ts, "  internode_encryption: all");
    sb.restart("node1");
    assert!(sb.last_boot("node1").contains("encryption: optionally encrypted(jdk)"));
    sb.assert_view("node2", &[("127.0.0.1", "DN"), ("127.0.0.2", "UN"), ("127.0.0.3", "UN")]);
}

#[test]
fn wrong_keystore_password_keeps_the_node_down_with_the_real_chain() {
    let sb = Sandbox::new(3, "0s");
    let (_, ts) = sb.store_passwords();
    sb.configure_tls("node3", "not-the-password", &ts, "  internode_encryption: all\n  optional: true");
    sb.restart("node3");
    let boot = sb.last_boot("node3");
    let chain: Vec<&str> = boot.lines().filter(|l| !l.starts_with('\t')).collect();
    assert!(
        chain[1].starts_with("ERROR [main] ") && chain[1].ends_with("CassandraDaemon.java:887 - Exception encountered during startup"),
        "{boot}"
    );
    assert_eq!(
        &chain[2..],
        &[
            "org.apache.cassandra.exceptions.ConfigurationException: Failed to initialize SSL",
            "Caused by: java.io.IOException: Failed to create SSL context using Internode messaging",
            "Caused by: javax.net.ssl.SSLException: failed to build key manager store for secure connections",
            "Caused by: java.io.IOException: keystore password was incorrect",
            "Caused by: java.security.UnrecoverableKeyException: failed to decrypt safe contents entry: javax.crypto.BadPaddingException: Given final block not properly padded. Such issues can arise if a bad key is used during decryption.",
        ]
    );
    assert!(!boot.contains("Listening on"), "nothing listens after a config failure");
    let out = sb.nodetool("node3", &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nodetool: Failed to connect to '127.0.0.3:7199' - ConnectException: 'Connection refused'.\n"
    );
    sb.assert_view("node1", &[("127.0.0.1", "UN"), ("127.0.0.2", "UN"), ("127.0.0.3", "DN")]);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("nodes/node3/state.json")).expect("state")).expect("json");
    assert_eq!(state["status"], "down");
    assert!(!std::fs::read_to_string(sb.path().join("nodes/node3/state.json")).expect("state").contains("not-the-password"));
}

#[test]
fn missing_keystore_and_missing_password_fail_like_cassandra() {
    let sb = Sandbox::new(2, "0s");
    sb.set_server_options("node1", "  internode_encryption: all\n  keystore: conf/missing.p12\n  keystore_password: x\n");
    sb.restart("node1");
    // With the keystore absent the policy is ENCRYPTED (no keystore-exists rule), so it is opened.
    assert!(sb.last_boot("node1").contains("Caused by: java.nio.file.NoSuchFileException: conf/missing.p12"));

    let ks = sb.keystore("node2");
    sb.set_server_options("node2", &format!("  internode_encryption: none\n  keystore: {}\n", ks.display()));
    sb.restart("node2");
    let boot = sb.last_boot("node2");
    assert!(boot.contains("Caused by: java.lang.IllegalArgumentException: 'keystore_password' must be specified"), "{boot}");
    assert!(!boot.contains("failed to build key manager store"), "no SSLException layer");
}

#[test]
fn unknown_key_fails_startup() {
    let sb = Sandbox::new(2, "0s");
    sb.set_server_options("node2", "  internode_encryption: all\n  optionnal: true\n");
    sb.restart("node2");
    assert!(sb.last_boot("node2").contains(
        "CassandraDaemon.java:887 - Exception encountered during startup: Invalid yaml. Please remove properties [optionnal] from your cassandra.yaml"
    ));
    assert!(sb.status("node2").is_none());
}

#[test]
fn start_delay_keeps_the_node_down_until_it_has_passed() {
    let sb = Sandbox::new(3, "0s");
    let out = sb.sandbox("set", &["node2", "--start-delay", "1h"]);
    assert!(out.status.success());
    sb.restart("node2");
    assert!(sb.status("node2").is_none(), "still booting: JMX refuses");
    sb.assert_view("node1", &[("127.0.0.1", "UN"), ("127.0.0.2", "DN"), ("127.0.0.3", "UN")]);
    assert!(sb.last_boot("node2").contains("Listening on"));
    assert!(!sb.last_boot("node2").contains("Startup complete"));

    // A short delay: down right after the restart, then up once it passed (polled).
    let out = sb.sandbox("set", &["node2", "--start-delay", "3s"]);
    assert!(out.status.success());
    // Taken before the restart: the node's boot time is at or after this instant.
    let restarted = Instant::now();
    sb.restart("node2");
    let first = sb.status("node1").expect("node1 is up");
    if restarted.elapsed() < Duration::from_secs(3) {
        assert_eq!(first["127.0.0.2"], "DN");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if sb.status("node1").is_some_and(|v| v["127.0.0.2"] == "UN") {
            break;
        }
        assert!(Instant::now() < deadline, "node2 never came up");
        // The loop ends on the observed state, not on time.
        std::thread::sleep(Duration::from_millis(50)); // poll interval until the deadline
    }
    assert!(restarted.elapsed() >= Duration::from_secs(3), "not before the delay");
    let boot = sb.last_boot("node2");
    assert_eq!(boot.matches("Startup complete").count(), 1, "join lines written once");
    sb.assert_view("node2", &ALL_UN);
}

#[test]
fn drain_takes_the_node_out_until_restart() {
    let sb = Sandbox::new(3, "0s");
    let out = sb.nodetool("node3", &["drain"]);
    assert!(out.status.success());
    let text = sb.log_text("node3");
    assert!(text.contains("StorageService.java:1985 - DRAINING: starting drain process"));
    assert!(text.trim_end().ends_with("- DRAINED"));
    assert!(sb.log_text("node1").contains("InetAddress /127.0.0.3:7000 is now DOWN"));
    sb.assert_view("node1", &[("127.0.0.1", "UN"), ("127.0.0.2", "UN"), ("127.0.0.3", "DN")]);
    sb.assert_view("node3", &[("127.0.0.1", "DN"), ("127.0.0.2", "DN"), ("127.0.0.3", "UN")]);
    sb.restart("node3");
    sb.assert_view("node1", &ALL_UN);
    assert!(sb.log_text("node1").contains("Node /127.0.0.3:7000 has restarted, now UP"));
}

#[test]
fn stop_start_and_nodetool_usage() {
    let sb = Sandbox::new(2, "0s");
    assert!(sb.sandbox("stop", &["node1"]).status.success());
    assert!(sb.status("node1").is_none());
    sb.assert_view("node2", &[("127.0.0.1", "DN"), ("127.0.0.2", "UN")]);
    assert!(sb.sandbox("start", &["node1"]).status.success());
    sb.assert_view("node2", &[("127.0.0.1", "UN"), ("127.0.0.2", "UN")]);

    let out = sb.nodetool("node1", &["frobnicate", "-x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("nodetool: Found unexpected parameters: [frobnicate, -x]"));
    let out = sb.nodetool("node1", &["status", "system_traces"]);
    assert!(out.status.success(), "keyspace argument accepted");
    let out = sb.nodetool("node9", &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node `node9`"));
}

#[test]
fn concurrent_commands_are_serialised_by_the_lock() {
    let sb = Sandbox::new(3, "0s");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut cmd = std::process::Command::new(bin());
            cmd.arg("sandbox");
            if i % 2 == 0 {
                cmd.args(["restart", "--dir", s(sb.path()), &format!("node{}", i % 3 + 1)]);
            } else {
                cmd.args(["nodetool", "--dir", s(sb.path()), "node1", "status"]);
            }
            cmd.stdout(std::process::Stdio::null()).spawn().expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    for n in ["node1", "node2", "node3"] {
        sb.assert_view(n, &ALL_UN);
        let text = sb.log_text(n);
        assert_eq!(
            text.matches("Configuration location:").count(),
            text.matches("Startup complete").count(),
            "every boot joined exactly once on {n}"
        );
    }
}

#[test]
fn truststore_without_password_starts_but_trusts_nobody() {
    let sb = Sandbox::new(2, "0s");
    let (ks, ts) = sb.store_passwords();
    sb.configure_tls("node1", &ks, &ts, "  internode_encryption: all\n  optional: true");
    sb.restart("node1");
    sb.set_server_options(
        "node2",
        &format!(
            "  internode_encryption: all\n  optional: false\n  keystore: {}\n  keystore_password: \"{ks}\"\n  truststore: {}\n",
            sb.keystore("node2").display(),
            sb.truststore("node2").display()
        ),
    );
    sb.restart("node2");
    let boot = sb.last_boot("node2");
    assert!(boot.contains("Startup complete"), "a null truststore password is not fatal: {boot}");
    assert!(boot.contains("Failed to handshake with peer /127.0.0.1:7000(/127.0.0.1:7000)"), "{boot}");
    assert!(boot.contains("SunCertPathBuilderException"));
    sb.assert_view("node1", &[("127.0.0.1", "UN"), ("127.0.0.2", "DN")]);
}
