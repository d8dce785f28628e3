//! Preflight on the sandbox: each bad case of the issue gives exactly the expected
//! blocker or warning on the right node, a clean set gives none; the same on Cassandra's
//! own JKS fixtures; `run` refuses on a blocker and touches nothing; `plan` shows masked
//! diffs. Bad key material is generated here with rcgen + p12-keystore.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::support::journal::events;
use crate::support::sandbox::Sandbox;
use crate::support::{ringmaster, run};
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use ringmaster::journal::EventKind;
use time::{Duration, OffsetDateTime};

fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A 3-node sandbox; its inventory names the current user as the key owner, so the
/// sandbox's own files (mode 600, dir 750) pass the ownership check.
fn sandbox() -> Sandbox {
    let sb = Sandbox::new(3, "0s");
    let inv = std::fs::read_to_string(sb.inventory()).unwrap();
    assert!(inv.contains(&format!("key_owner = \"{}\"", id("-un"))) && inv.contains(&format!("key_group = \"{}\"", id("-gn"))));
    sb
}

fn edit_inventory(sb: &Sandbox, f: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(sb.inventory()).unwrap();
    std::fs::write(sb.inventory(), f(&text)).unwrap();
}

fn secret(sb: &Sandbox, name: &str) -> String {
    let text = sb.secrets_text();
    let v: toml::Table = text.parse().unwrap();
    v[name].as_str().unwrap().to_string()
}

fn ssl(sb: &Sandbox, node: &str) -> PathBuf {
    sb.ssl_dir(node)
}

/// Writes a key file with the sandbox's mode 600.
fn put(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert: Certificate,
}

fn ca(cn: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    let cert = p.self_signed(&key).unwrap();
    Ca { cert: Certificate::from_der(cert.der()).unwrap(), issuer: Issuer::new(p, key) }
}

/// How a generated node keystore deviates from a good one.
#[derive(Clone, Copy, Default)]
struct Bad {
    expired: bool,
    expires_in_days: Option<i64>,
    no_ip_san: bool,
    mismatched_key: bool,
}

fn keystore(ca: &Ca, node: &str, ip: IpAddr, password: &str, bad: Bad) -> Vec<u8> {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, node);
    p.distinguished_name = dn;
    p.subject_alt_names = vec![SanType::DnsName(node.try_into().unwrap())];
    if !bad.no_ip_san {
        p.subject_alt_names.push(SanType::IpAddress(ip));
    }
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(400);
    p.not_after = match (bad.expired, bad.expires_in_days) {
        (true, _) => now - Duration::days(2),
        (_, Some(d)) => now + Duration::days(d),
        _ => now + Duration::days(365),
    };
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    let stored_key = if bad.mismatched_key { KeyPair::generate().unwrap() } else { key };
    let chain = PrivateKeyChain::new(
        vec![1, 2, 3],
        PrivateKey::from_der(&stored_key.serialize_der()).unwrap(),
        [Certificate::from_der(cert.der()).unwrap(), ca.cert.clone()],
    );
    let mut ks = KeyStore::new();
    ks.add_entry(node, KeyStoreEntry::PrivateKeyChain(chain));
    ks.writer(password).write().unwrap()
}

fn truststore(certs: &[&Certificate], password: &str) -> Vec<u8> {
    let mut ks = KeyStore::new();
    for (i, c) in certs.iter().enumerate() {
        ks.add_entry(&format!("ca{i}"), KeyStoreEntry::Certificate((*c).clone()));
    }
    ks.writer(password).write().unwrap()
}

/// Installs fresh key material from a new CA on every node, with `bad(node)` deviations.
fn install_keys(sb: &Sandbox, bad: impl Fn(&str) -> Bad) -> Ca {
    let ca = ca("preflight test CA");
    let (kp, tp) = (secret(sb, "keystore_password"), secret(sb, "truststore_password"));
    let ts = truststore(&[&ca.cert], &tp);
    for (i, node) in sb.nodes.iter().enumerate() {
        let ip: IpAddr = format!("127.0.0.{}", i + 1).parse().unwrap();
        put(&ssl(sb, node).join(format!("{node}-keystore.p12")), &keystore(&ca, node, ip, &kp, bad(node)));
        put(&ssl(sb, node).join("cassandra-truststore.p12"), &ts);
    }
    ca
}

type Row = (Option<String>, String, String);

fn preflight_rows(sb: &Sandbox, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = run(sb.cmd(&["preflight", "--json", "-i"]).arg(sb.inventory()).args(extra));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("preflight --json prints an array");
    (out.status.code(), rows)
}

/// The non-ok rows, minus the cluster-wide streaming note every TLS rollout gets.
fn problems(rows: &[serde_json::Value]) -> BTreeSet<Row> {
    rows.iter()
        .filter(|r| r["severity"] != "ok" && r["check"] != "sstable_streaming")
        .map(|r| {
            (r["node"].as_str().map(str::to_string), r["check"].as_str().unwrap().to_string(), r["severity"].as_str().unwrap().to_string())
        })
        .collect()
}

fn row(node: &str, check: &str, severity: &str) -> Row {
    (Some(node.to_string()), check.to_string(), severity.to_string())
}

fn message<'a>(rows: &'a [serde_json::Value], node: &str, check: &str) -> &'a str {
    rows.iter()
        .find(|r| r["node"] == node && r["check"] == check && r["severity"] != "ok")
        .and_then(|r| r["message"].as_str())
        .unwrap_or("")
}

#[test]
fn clean_sandbox_and_clean_generated_set_have_no_blocker_and_no_warning() {
    let sb = sandbox();
    let (code, rows) = preflight_rows(&sb, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(problems(&rows), BTreeSet::new());
    // Every row has the four documented fields; every check ran on every node.
    for r in &rows {
        assert!(r["check"].is_string() && r["severity"].is_string() && r["message"].is_string() && r.get("node").is_some(), "{r}");
    }
    for check in [
        "ssh",
        "status_un",
        "streaming",
        "release",
        "config",
        "render",
        "backup_space",
        "backup_exists",
        "keystore",
        "key_pair",
        "cert_expiry",
        "truststore",
        "unique_key",
        "chain",
        "key_files",
    ] {
        for node in &sb.nodes {
            assert!(
                rows.iter().any(|r| r["node"] == node.as_str() && r["check"] == check && r["severity"] == "ok"),
                "{check} ok on {node}"
            );
        }
    }
    assert!(rows.iter().any(|r| r["check"] == "sstable_streaming" && r["severity"] == "warning" && r["node"].is_null()));
    install_keys(&sb, |_| Bad::default());
    let (code, rows) = preflight_rows(&sb, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(problems(&rows), BTreeSet::new());
}

#[test]
fn each_bad_key_case_gives_exactly_its_finding_on_its_node() {
    // (what, setup, expected non-ok rows, words the message must hold)
    type Setup = Box<dyn Fn(&Sandbox)>;
    let cases: Vec<(&str, Setup, Vec<Row>, Vec<&str>)> = vec![
        (
            "wrong keystore password",
            Box::new(|sb| {
                install_keys(sb, |_| Bad::default());
                let ca2 = ca("other");
                put(
                    &ssl(sb, "node1").join("node1-keystore.p12"),
                    &keystore(&ca2, "node1", "127.0.0.1".parse().unwrap(), "not-the-password", Bad::default()),
                );
            }),
            vec![row("node1", "keystore", "blocker")],
            vec!["password", "node1-keystore.p12", "keystore_password"],
        ),
        (
            "expired certificate",
            Box::new(|sb| {
                install_keys(sb, |n| Bad { expired: n == "node2", ..Bad::default() });
            }),
            vec![row("node2", "cert_expiry", "blocker")],
            vec!["expired on", "node2"],
        ),
        (
            "certificate expiring within 30 days",
            Box::new(|sb| {
                install_keys(sb, |n| Bad { expires_in_days: (n == "node3").then_some(10), ..Bad::default() });
            }),
            vec![row("node3", "cert_expiry", "warning")],
            vec!["expires on", "30-day"],
        ),
        (
            "certificate that does not match its key",
            Box::new(|sb| {
                install_keys(sb, |n| Bad { mismatched_key: n == "node1", ..Bad::default() });
            }),
            vec![row("node1", "key_pair", "blocker")],
            vec!["does not belong to its private key"],
        ),
        (
            "one private key copied to two nodes",
            Box::new(|sb| {
                install_keys(sb, |_| Bad::default());
                std::fs::copy(ssl(sb, "node1").join("node1-keystore.p12"), ssl(sb, "node2").join("node2-keystore.p12")).unwrap();
            }),
            vec![row("node1", "unique_key", "blocker"), row("node2", "unique_key", "blocker")],
            vec!["same private key", "its own key pair"],
        ),
        (
            "truststore without the issuing CA",
            Box::new(|sb| {
                install_keys(sb, |_| Bad::default());
                let other = ca("someone else's CA");
                put(&ssl(sb, "node2").join("cassandra-truststore.p12"), &truststore(&[&other.cert], &secret(sb, "truststore_password")));
            }),
            vec![row("node2", "chain", "blocker")],
            vec!["does not hold", "preflight test CA", "keytool -importcert"],
        ),
        (
            "truststore with a same-named CA of another key (name alone is not enough)",
            Box::new(|sb| {
                install_keys(sb, |_| Bad::default());
                let impostor = ca("preflight test CA");
                put(&ssl(sb, "node3").join("cassandra-truststore.p12"), &truststore(&[&impostor.cert], &secret(sb, "truststore_password")));
            }),
            vec![row("node3", "chain", "blocker")],
            vec!["not signed by its key"],
        ),
        (
            "key files readable by others",
            Box::new(|sb| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(ssl(sb, "node2").join("node2-keystore.p12"), std::fs::Permissions::from_mode(0o644)).unwrap();
            }),
            vec![row("node2", "key_files", "warning")],
            vec!["mode 644, not 600", "chmod 600"],
        ),
        (
            "a backup that is not this rollout's",
            Box::new(|sb| {
                std::fs::write(sb.backup("node3"), b"cluster_name: old\n").unwrap();
            }),
            vec![row("node3", "backup_exists", "blocker")],
            vec!["already exists", "mv "],
        ),
        (
            "a ring member missing from the inventory",
            Box::new(|sb| {
                edit_inventory(sb, |t| t[..t.rfind("[[node]]").unwrap()].to_string());
            }),
            vec![row("node1", "ring_membership", "blocker"), row("node2", "ring_membership", "blocker")],
            vec!["127.0.0.3", "not in the inventory"],
        ),
    ];
    let mut failures = Vec::new();
    for (what, setup, expected, words) in cases {
        let sb = sandbox();
        setup(&sb);
        let (code, rows) = preflight_rows(&sb, &[]);
        let got = problems(&rows);
        let expected: BTreeSet<Row> = expected.into_iter().collect();
        if got != expected {
            failures.push(format!("{what}: expected {expected:?}, got {got:?}"));
            continue;
        }
        let blocker = expected.iter().any(|r| r.2 == "blocker");
        if code != Some(if blocker { 3 } else { 0 }) {
            failures.push(format!("{what}: exit {code:?}"));
        }
        let first = expected.iter().next().unwrap();
        let msg = message(&rows, first.0.as_deref().unwrap(), &first.1);
        for w in words {
            if !msg.contains(w) {
                failures.push(format!("{what}: message lacks `{w}`: {msg}"));
            }
        }
        for p in [secret(&sb, "keystore_password"), secret(&sb, "truststore_password")] {
            if serde_json::to_string(&rows).unwrap().contains(&p) {
                failures.push(format!("{what}: a password is in the report"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A workflow that turns on endpoint verification.
fn verifying_workflow(dir: &Path) -> PathBuf {
    let text = ringmaster::workflow::BUILTIN_INTERNODE_TLS
        .replace("require_endpoint_verification = false", "require_endpoint_verification = true");
    let path = dir.join("verify.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn endpoint_verification_needs_an_ip_san_for_the_address_peers_dial() {
    let sb = sandbox();
    install_keys(&sb, |n| Bad { no_ip_san: n == "node2", ..Bad::default() });
    // Without endpoint verification a DNS-only certificate is fine.
    let (_, rows) = preflight_rows(&sb, &[]);
    assert_eq!(problems(&rows), BTreeSet::new());
    let wf = verifying_workflow(sb.path());
    let (code, rows) = preflight_rows(&sb, &["--workflow", wf.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    assert_eq!(problems(&rows), BTreeSet::from([row("node2", "endpoint_san", "blocker")]));
    let msg = message(&rows, "node2", "endpoint_san");
    assert!(msg.contains("127.0.0.2") && msg.contains("IP SAN") && msg.contains("DNS:node2"), "{msg}");
}

#[test]
fn expiry_threshold_is_configurable() {
    let sb = sandbox();
    install_keys(&sb, |n| Bad { expires_in_days: (n == "node1").then_some(45), ..Bad::default() });
    let (_, rows) = preflight_rows(&sb, &[]);
    assert_eq!(problems(&rows), BTreeSet::new(), "45 days is beyond the default 30");
    let (code, rows) = preflight_rows(&sb, &["--expiry-warning", "60days"]);
    assert_eq!(code, Some(0), "a warning does not block");
    assert_eq!(problems(&rows), BTreeSet::from([row("node1", "cert_expiry", "warning")]));
}

/// Points node `node`'s nodetool at a wrapper that answers `sub` with `text` and hands
/// everything else to the sandbox's nodetool.
fn fake_nodetool(sb: &Sandbox, node: &str, sub: &str, text: &str) {
    let script = sb.path().join(format!("fake-nodetool-{node}.sh"));
    let real = format!("{} sandbox nodetool --dir {}", env!("CARGO_BIN_EXE_ringmaster"), sb.path().display());
    std::fs::write(
        &script,
        format!("#!/bin/sh\nn=\"$1\"; shift\nif [ \"$1\" = {sub} ]; then printf '%s' '{text}'; exit 0; fi\nexec {real} \"$n\" \"$@\"\n"),
    )
    .unwrap();
    edit_inventory(sb, |t| {
        t.replace(&format!("name = \"{node}\"\n"), &format!("name = \"{node}\"\nnodetool_command = \"sh {} {node}\"\n", script.display()))
    });
}

#[test]
fn cluster_checks_release_streaming_and_down_nodes() {
    // 3.11 on one node: the node is a blocker with the reason, and the lines are mixed.
    let sb = sandbox();
    fake_nodetool(&sb, "node2", "version", "ReleaseVersion: 3.11.17\n");
    let (code, rows) = preflight_rows(&sb, &[]);
    assert_eq!(code, Some(3));
    assert_eq!(problems(&rows), BTreeSet::from([row("node2", "release", "blocker"), (None, "release".into(), "blocker".into())]));
    assert!(message(&rows, "node2", "release").contains("optional"), "explains why 3.11 cannot roll");
    // Streaming in progress.
    let sb = sandbox();
    fake_nodetool(
        &sb,
        "node1",
        "netstats",
        "Mode: NORMAL\nRepair 4a1b2c3d-0000-11ef-8000-000000000001\n    /127.0.0.2\n        Sending 2 files, 100 bytes total. Already sent 1 files (50.00%), 50 bytes total (50.00%)\nRead Repair Statistics:\n",
    );
    let (code, rows) = preflight_rows(&sb, &[]);
    assert_eq!(code, Some(3));
    assert_eq!(problems(&rows), BTreeSet::from([row("node1", "streaming", "blocker")]));
    assert!(message(&rows, "node1", "streaming").contains("Repair 4a1b2c3d"));
    // A joining node.
    let sb = sandbox();
    let status =
        String::from_utf8(run(ringmaster().args(["sandbox", "nodetool", "--dir"]).arg(sb.path()).args(["node3", "status"])).stdout)
            .unwrap();
    let joining = status.replace("UN  127.0.0.2", "UJ  127.0.0.2");
    assert_ne!(joining, status);
    fake_nodetool(&sb, "node3", "status", &joining);
    let (_, rows) = preflight_rows(&sb, &[]);
    assert_eq!(problems(&rows), BTreeSet::from([row("node3", "ring_movement", "blocker")]));
    // A node that is down: its peers see it down, and it does not answer itself.
    let sb = sandbox();
    assert!(run(ringmaster().args(["sandbox", "stop", "--dir"]).arg(sb.path()).arg("node2")).status.success());
    let (code, rows) = preflight_rows(&sb, &[]);
    assert_eq!(code, Some(3));
    let got = problems(&rows);
    for r in [row("node1", "status_un", "blocker"), row("node3", "status_un", "blocker"), row("node2", "status_un", "blocker")] {
        assert!(got.contains(&r), "{r:?} in {got:?}");
    }
    assert!(message(&rows, "node1", "status_un").contains("node2 (127.0.0.2) is D"), "{}", message(&rows, "node1", "status_un"));
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/keystores").join(name)
}

#[test]
fn jks_fixtures_expired_certificates_and_known_passwords() {
    let sb = sandbox();
    let wf = sb.path().join("jks.toml");
    std::fs::write(
        &wf,
        ringmaster::workflow::BUILTIN_INTERNODE_TLS
            .replace("{ssl_dir}/{node}-keystore.p12", "{ssl_dir}/{node}.jks")
            .replace("{ssl_dir}/cassandra-truststore.p12", "{ssl_dir}/truststore.jks")
            .replace("store_type = \"PKCS12\"", "store_type = \"JKS\""),
    )
    .unwrap();
    // Cassandra's test keystores: node1 and node2 have a certificate the truststore
    // holds, node3's (CN=localhost) is in no truststore; every certificate is expired.
    for (node, file) in
        [("node1", "cassandra_ssl_test.keystore"), ("node2", "cassandra_ssl_test_endpoint_verify.keystore"), ("node3", "keystore.jks")]
    {
        put(&ssl(&sb, node).join(format!("{node}.jks")), &std::fs::read(fixture(file)).unwrap());
        put(&ssl(&sb, node).join("truststore.jks"), &std::fs::read(fixture("cassandra_ssl_test.truststore")).unwrap());
    }
    let secrets = sb.path().join("secrets.toml");
    std::fs::write(&secrets, "keystore_password = \"cassandra\"\ntruststore_password = \"cassandra\"\n").unwrap();
    let (code, rows) = preflight_rows(&sb, &["--workflow", wf.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    let mut expected = BTreeSet::new();
    for n in ["node1", "node2", "node3"] {
        expected.insert(row(n, "cert_expiry", "blocker"));
        expected.insert(row(n, "chain", "blocker"));
    }
    assert_eq!(problems(&rows), expected);
    assert!(message(&rows, "node1", "cert_expiry").contains("expired on 2016-06-16"), "{}", message(&rows, "node1", "cert_expiry"));
    assert!(message(&rows, "node2", "chain").contains("`node3`'s certificate"));
    assert!(!message(&rows, "node2", "chain").contains("`node1`'s"));
    for n in ["node1", "node2", "node3"] {
        assert!(
            rows.iter().any(|r| r["node"] == n && r["check"] == "key_pair" && r["severity"] == "ok"),
            "JKS key recovered and matched on {n}"
        );
    }
    // A wrong password is found on every JKS store.
    std::fs::write(&secrets, "keystore_password = \"wrong-password\"\ntruststore_password = \"cassandra\"\n").unwrap();
    let (_, rows) = preflight_rows(&sb, &["--workflow", wf.to_str().unwrap()]);
    let expected: BTreeSet<Row> = ["node1", "node2", "node3"].iter().map(|n| row(n, "keystore", "blocker")).collect();
    assert_eq!(problems(&rows), expected);
    assert!(message(&rows, "node3", "keystore").contains("JKS integrity check failed"));
    // A PKCS12 store type against a JKS file is found too.
    std::fs::write(&secrets, "keystore_password = \"cassandra\"\ntruststore_password = \"cassandra\"\n").unwrap();
    let p12 = std::fs::read_to_string(&wf).unwrap().replace("store_type = \"JKS\"", "store_type = \"PKCS12\"");
    std::fs::write(&wf, p12).unwrap();
    let (_, rows) = preflight_rows(&sb, &["--workflow", wf.to_str().unwrap()]);
    assert!(message(&rows, "node1", "keystore").contains("Invalid keystore format"));
}

#[test]
fn run_refuses_on_a_blocker_touches_nothing_and_journals_the_refusal() {
    let sb = sandbox();
    install_keys(&sb, |n| Bad { expired: n == "node2", ..Bad::default() });
    let originals = sb.read_configs();
    let out = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was touched") && err.contains("node2") && err.contains("expired"), "{err}");
    assert_eq!(sb.read_configs(), originals);
    for n in &sb.nodes {
        assert!(!sb.backup(n).exists());
    }
    let evs = events(&sb.journal());
    assert!(!evs.iter().any(|e| e.node.is_some()), "no node event");
    let refused = evs.iter().find(|e| e.kind == EventKind::Fail && e.detail["event"] == "refused").expect("refusal journaled");
    let blockers = refused.detail["blockers"].as_array().unwrap();
    assert_eq!(blockers.len(), 1, "{blockers:?}");
    assert_eq!(blockers[0]["node"], "node2");
    assert_eq!(blockers[0]["check"], "cert_expiry");
    // A refusal is journaled as a refusal (issue 14, item 3), not as a failed run.
    let out = run(&mut sb.cmd(&["runs", "--json"]));
    assert_eq!(out.status.code(), Some(0));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["state"], "refused", "{runs}");
}

#[test]
fn plan_shows_order_and_masked_diffs_and_changes_nothing() {
    let sb = sandbox();
    let originals = sb.read_configs();
    let out = run(sb.cmd(&["plan", "--json", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passes = plan["passes"].as_array().unwrap();
    assert_eq!(passes.iter().map(|p| p["pass"].as_str().unwrap()).collect::<Vec<_>>(), ["optional", "enforce"]);
    for p in passes {
        assert_eq!(p["order"], serde_json::json!(["node1", "node2", "node3"]));
        assert_eq!(p["nodes"].as_array().unwrap().len(), 3);
    }
    for n in passes[0]["nodes"].as_array().unwrap() {
        let diff = n["diff"].as_str().unwrap();
        assert!(diff.contains("+  keystore_password: ********"), "{diff}");
    }
    assert!(passes[0]["nodes"][0]["diff"].as_str().unwrap().contains("+  optional: true"));
    assert!(passes[1]["nodes"][0]["diff"].as_str().unwrap().contains("+  optional: false"));
    let text = String::from_utf8_lossy(&out.stdout);
    for p in [secret(&sb, "keystore_password"), secret(&sb, "truststore_password")] {
        assert!(!text.contains(&p));
    }
    assert_eq!(sb.read_configs(), originals);
    assert!(!sb.journal().exists(), "plan journals nothing");
    let out = run(sb.cmd(&["plan", "-i"]).arg(sb.inventory()));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pass `enforce`: node1 -> node2 -> node3"));
}
