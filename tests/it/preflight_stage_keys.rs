//! `stage_keys` on the sandbox: key files named in the inventory are installed on every
//! node before the first pass, with the owner, modes and content verified, and the
//! journal records only paths and checksums.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use crate::support::journal::events;
use crate::support::run;
use crate::support::sandbox::Sandbox;
use ringmaster::journal::EventKind;
use ringmaster::sandbox::certs;

pub(crate) fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn secret(sb: &Sandbox, name: &str) -> String {
    let v: toml::Table = sb.secrets_text().parse().unwrap();
    v[name].as_str().unwrap().to_string()
}

/// Writes fresh key material to `DIR/keys/`, removes the nodes' ssl dirs and names the
/// local files in the inventory.
pub(crate) fn prepare(sb: &Sandbox, owner: &str, group: &str) -> PathBuf {
    let keys = sb.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let ca = certs::new_ca("staged").unwrap();
    std::fs::write(keys.join("truststore.p12"), certs::truststore(&ca, &secret(sb, "truststore_password")).unwrap()).unwrap();
    for (i, node) in sb.nodes.iter().enumerate() {
        let ip = format!("127.0.0.{}", i + 1).parse().unwrap();
        std::fs::write(
            keys.join(format!("{node}-keystore.p12")),
            certs::node_keystore(&ca, node, ip, &secret(sb, "keystore_password")).unwrap(),
        )
        .unwrap();
        std::fs::remove_dir_all(sb.ssl_dir(node)).unwrap();
    }
    // The sandbox inventory names the current user as key owner; this one names `owner`.
    let owned = regex::Regex::new(r"(?m)^key_(owner|group) = .*\n").unwrap();
    let inv = owned.replace_all(&std::fs::read_to_string(sb.inventory()).unwrap(), "").replace(
        "[defaults]\n",
        &format!("[defaults]\nkey_owner = \"{owner}\"\nkey_group = \"{group}\"\nkeystore_source = \"keys/{{node}}-keystore.p12\"\ntruststore_source = \"keys/truststore.p12\"\n"),
    );
    std::fs::write(sb.inventory(), inv).unwrap();
    keys
}

#[test]
fn stage_keys_installs_verified_files_then_the_rollout_completes() {
    let sb = Sandbox::new(3, "0s");
    let keys = prepare(&sb, &id("-un"), &id("-gn"));
    let originals = sb.read_configs();
    // Preflight reads the local files that will be staged: a clean set.
    let out = run(sb.cmd(&["preflight", "--json", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.iter().all(|r| r["severity"] == "ok" || r["check"] == "sstable_streaming"), "{rows:#?}");
    assert!(rows.iter().any(|r| r["check"] == "keystore" && r["message"].as_str().unwrap().contains("to be staged")));

    let out = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let uid = unsafe { libc::getuid() };
    for node in &sb.nodes {
        let dir = sb.ssl_dir(node);
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o750, "{node} ssl dir mode");
        assert_eq!(meta.uid(), uid);
        for (file, source) in
            [(format!("{node}-keystore.p12"), format!("{node}-keystore.p12")), ("cassandra-truststore.p12".into(), "truststore.p12".into())]
        {
            let path = dir.join(&file);
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{}", path.display());
            assert_eq!(meta.uid(), uid);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(keys.join(&source)).unwrap(),
                "{} has the staged content",
                path.display()
            );
        }
    }
    let evs = events(&sb.journal());
    for node in &sb.nodes {
        let staged: Vec<_> = evs.iter().filter(|e| e.node.as_deref() == Some(node.as_str()) && e.phase == "stage_keys").collect();
        assert_eq!(staged.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::Enter, EventKind::Ok], "{node}");
        let files = staged[1].detail["files"].as_array().unwrap();
        assert_eq!(files.len(), 2);
        for f in files {
            let path = f["path"].as_str().unwrap();
            assert_eq!(f["sha256"].as_str().unwrap(), ringmaster::transport::sha256_hex(&std::fs::read(path).unwrap()));
        }
        // Staging comes before the first pass touches the node.
        let first_backup = evs.iter().position(|e| e.node.as_deref() == Some(node.as_str()) && e.phase == "backup").unwrap();
        assert!(evs.iter().position(|e| e.node.as_deref() == Some(node.as_str()) && e.phase == "stage_keys").unwrap() < first_backup);
    }
    let journal = std::fs::read(sb.journal()).unwrap();
    for p in [secret(&sb, "keystore_password"), secret(&sb, "truststore_password")] {
        assert!(!journal.windows(p.len()).any(|w| w == p.as_bytes()), "no password in the journal");
    }
    assert_eq!(sb.status_json()["state"], "finished");
    assert_ne!(sb.read_configs(), originals);
}

#[test]
fn staging_that_cannot_set_the_owner_stops_before_any_config_is_touched() {
    let sb = Sandbox::new(3, "0s");
    prepare(&sb, "ringmaster-no-such-user", &id("-gn"));
    let originals = sb.read_configs();
    let out = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node1") && err.contains("install -d"), "{err}");
    let evs = events(&sb.journal());
    assert!(evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase == "stage_keys" && e.kind == EventKind::Fail));
    assert!(!evs.iter().any(|e| e.phase == "backup" || e.node.as_deref() == Some("node2")), "no further step");
    assert_eq!(sb.read_configs(), originals);
}

#[test]
fn house_21_stage_keys_takes_the_same_step_as_every_phase() {
    if !crate::support::crash_hooks("house_21_stage_keys_takes_the_same_step_as_every_phase") {
        return;
    }
    let sb = Sandbox::new(2, "0s");
    prepare(&sb, &id("-un"), &id("-gn"));
    let killed = run(sb
        .cmd(&["run", "--yes", "-i"])
        .arg(sb.inventory())
        .env("RINGMASTER_TEST_CRASH_AT", "after journaling node1 keys stage_keys enter"));
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed.status), Some(9), "killed after the staging intent");
    let resumed = run(&mut sb.cmd(&["resume"]));
    assert_eq!(resumed.status.code(), Some(0));
    let evs = events(&sb.journal());
    let staged: Vec<_> = evs.iter().filter(|e| e.node.as_deref() == Some("node1") && e.phase == "stage_keys").collect();
    assert_eq!(staged.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::Enter, EventKind::Enter, EventKind::Ok]);
    // The interrupted staging is entered again as a repeat, exactly like an interrupted phase.
    assert!(staged[0].detail.get("repeat").is_none(), "{:?}", staged[0].detail);
    assert_eq!(staged[1].detail["repeat"], true, "{:?}", staged[1].detail);
    assert_eq!(staged[1].detail["files"], staged[0].detail["files"], "the same intent");
    assert_eq!(sb.status_json()["state"], "finished");
}
