//! The safety items of issue 14 [recover]: a symlinked cassandra.yaml, node commands shielded
//! from the terminal's Ctrl-C, secrets kept out of child environments, whole-value password
//! masking, the backup suffix, stale temp files, newlines in key paths, a world-readable
//! config, and workflows Cassandra would misread.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{Sandbox, events, run};
use ringmaster::journal::EventKind;

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).unwrap().file_type().is_symlink()
}

/// Moves node1's cassandra.yaml to `cm/cassandra.yaml` (as configuration management keeps
/// it) and leaves a symlink in its place; returns the target.
fn symlink_config(sb: &Sandbox, node: &str) -> std::path::PathBuf {
    let cm = sb.path().join("cm").join(node);
    std::fs::create_dir_all(&cm).unwrap();
    let target = cm.join("cassandra.yaml");
    std::fs::rename(sb.config(node), &target).unwrap();
    symlink(&target, sb.config(node)).unwrap();
    target
}

#[test]
fn recover_5_symlinked_config_keeps_its_link_and_rollback_restores_the_target() {
    let sb = Sandbox::new(3, "0s");
    let originals = sb.read_configs();
    let target = symlink_config(&sb, "node1");
    let (code, rows) = preflight_rows(&sb);
    assert_eq!(code, Some(0));
    let info = rows.iter().find(|r| r["node"] == "node1" && r["check"] == "config_link").expect("a config_link row");
    assert_eq!(info["severity"], "info", "{info}");
    assert!(info["message"].as_str().unwrap().contains(&target.display().to_string()), "{info}");

    let out = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(0));
    assert!(is_link(&sb.config("node1")), "the link is still a link");
    assert_eq!(std::fs::read_link(sb.config("node1")).unwrap(), target);
    let block = sb.server_encryption("node1");
    assert_eq!(
        (block["internode_encryption"].as_str(), block["optional"].as_bool()),
        (Some("all"), Some(false)),
        "the target got the edits"
    );
    assert!(std::fs::read(sb.backup("node1")).unwrap() == originals[0], "the backup next to the link holds the target's bytes");
    assert!(!is_link(&sb.backup("node1")));
    // Both paths are journaled, before and after.
    let evs = events(&sb.journal());
    for phase in ["backup", "edit"] {
        for kind in [EventKind::Enter, EventKind::Ok] {
            let e = evs
                .iter()
                .find(|e| e.node.as_deref() == Some("node1") && e.phase == phase && e.kind == kind)
                .unwrap_or_else(|| panic!("{phase} {kind:?}"));
            assert_eq!(e.detail["config"], sb.config("node1").display().to_string(), "{phase} {kind:?}: {}", e.detail);
            assert_eq!(e.detail["config_target"], target.display().to_string(), "{phase} {kind:?}: {}", e.detail);
        }
    }

    let out = run(&mut sb.cmd(&["rollback", "--yes"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(is_link(&sb.config("node1")), "the link survives the rollback");
    assert!(std::fs::read(&target).unwrap() == originals[0], "the target is byte-identical to the original");
    assert_eq!(sb.read_configs(), originals);
}

#[test]
fn recover_5_a_dangling_config_link_is_a_blocker() {
    let sb = Sandbox::new(3, "0s");
    let target = symlink_config(&sb, "node2");
    std::fs::remove_file(&target).unwrap();
    let (code, rows) = preflight_rows(&sb);
    assert_eq!(code, Some(3));
    let r = rows.iter().find(|r| r["node"] == "node2" && r["check"] == "config_link").expect("a config_link row");
    assert_eq!(r["severity"], "blocker", "{r}");
    assert!(r["message"].as_str().unwrap().contains(&target.display().to_string()), "{r}");
}

fn preflight_rows(sb: &Sandbox) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = run(sb.cmd(&["preflight", "--json", "-i"]).arg(sb.inventory()));
    (out.status.code(), serde_json::from_slice(&out.stdout).expect("preflight --json prints an array"))
}
