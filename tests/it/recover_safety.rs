//! The safety items of issue 14 [recover]: a symlinked cassandra.yaml, node commands shielded
//! from the terminal's Ctrl-C, secrets kept out of child environments, whole-value password
//! masking, the backup suffix, stale temp files, newlines in key paths, a world-readable
//! config, and workflows Cassandra would misread.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::support::journal::events;
use crate::support::run;
use crate::support::sandbox::Sandbox;
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

/// Rewrites the inventory's `key = "..."` line of [defaults] with `f(old value)`.
fn edit_default(sb: &Sandbox, key: &str, f: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(sb.inventory()).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    let defaults = doc.get_mut("defaults").unwrap().as_table_mut().unwrap();
    let old = defaults[key].as_str().unwrap().to_string();
    defaults.insert(key.into(), toml::Value::String(f(&old)));
    std::fs::write(sb.inventory(), toml::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn recover_4_ctrl_c_to_the_process_group_does_not_kill_a_running_restart() {
    let sb = Sandbox::new(3, "0s");
    let marker = sb.path().join("restart-started");
    let done = sb.path().join("restart-finished");
    // A restart that takes a moment, and says when it started and when it finished.
    edit_default(&sb, "restart_command", |old| format!("touch '{}'; sleep 1; {old} && touch '{}'", marker.display(), done.display()));
    use std::os::unix::process::CommandExt;
    let child = sb
        .cmd(&["run", "--yes", "-i"])
        .arg(sb.inventory())
        .process_group(0) // ringmaster leads a group, as a shell's foreground job does
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !marker.exists() {
        assert!(std::time::Instant::now() < deadline, "the restart never started");
        std::thread::sleep(std::time::Duration::from_millis(10)); // poll interval
    }
    // What a terminal's Ctrl-C does: SIGINT to every process of the foreground group.
    // SAFETY: kill has no memory preconditions; the group is the child's own.
    assert_eq!(unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    eprintln!("[exit {:?}]\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(done.exists(), "the restart command ran to its end");
    let evs = events(&sb.journal());
    let node1 = |phase: &str, kind| evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase == phase && e.kind == kind);
    assert!(node1("restart", EventKind::Ok), "node1's restart completed");
    assert!(!node1("restart", EventKind::Fail) && !node1("rollback", EventKind::Enter), "node1 was not rolled back");
    assert_eq!(out.status.code(), Some(4), "stopped at a safe point");
}

#[test]
fn recover_low_secret_env_does_not_reach_node_commands() {
    let sb = Sandbox::new(3, "0s");
    let dump = sb.path().join("env-of-nodetool");
    edit_default(&sb, "nodetool_command", |old| format!("env > '{}'; {old}", dump.display()));
    let (keystore, _) = secrets_of(&sb);
    let out = run(sb.cmd(&["preflight", "-i"]).arg(sb.inventory()).env("RINGMASTER_SECRET_KEYSTORE_PASSWORD", &keystore));
    assert_eq!(out.status.code(), Some(0));
    let env = std::fs::read_to_string(&dump).expect("nodetool ran through the local transport");
    assert!(env.contains("PATH="), "{env}");
    assert!(!env.contains("RINGMASTER_SECRET_") && !env.contains(&keystore), "{env}");
}

fn secrets_of(sb: &Sandbox) -> (String, String) {
    let v: toml::Table = sb.secrets_text().parse().unwrap();
    (v["keystore_password"].as_str().unwrap().to_string(), v["truststore_password"].as_str().unwrap().to_string())
}

/// The master that ringmaster now starts itself (in its own process group) still reports
/// ssh's failure the way the operator needs, and leaves no socket directory behind. Real
/// `ssh`, loopback, no sshd: nothing listens on 127.0.0.99 port 1.
#[tokio::test]
async fn recover_4_own_ssh_master_still_classifies_a_refused_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ssh_config");
    std::fs::write(&config, "Host *\n  UserKnownHostsFile /dev/null\n").unwrap();
    let mut t = ringmaster::transport::ssh::SshTarget::new("node9", "ssh://root@127.0.0.99:1");
    t.ssh_config = Some(config);
    t.control_dir = Some(dir.path().join("ctl"));
    let err = ringmaster::transport::ssh::Ssh::connect(&t).await.expect_err("nothing listens there");
    assert!(
        matches!(&err, ringmaster::transport::TransportError::Unreachable { host, detail } if host == "node9" && detail.contains("Connection refused")),
        "got {err:?}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("ctl")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn recover_low_short_password_is_a_blocker_and_masks_only_whole_values() {
    let sb = Sandbox::new(3, "0s");
    let out = run(sb.cmd(&["preflight", "--json", "-i"]).arg(sb.inventory()).env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "e"));
    assert_eq!(out.status.code(), Some(3));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for node in &sb.nodes {
        let r = rows.iter().find(|r| r["node"] == node.as_str() && r["check"] == "password_length").expect("a password_length row");
        assert_eq!(r["severity"], "blocker", "{r}");
        assert!(
            r["message"].as_str().unwrap().contains("truststore_password") && r["message"].as_str().unwrap().contains("at least 6"),
            "{r}"
        );
    }
    // The plan's diff stays readable: only the password's values are masked.
    let out = run(sb.cmd(&["plan", "-i"]).arg(sb.inventory()).env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "e"));
    assert_eq!(out.status.code(), Some(0));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("+  internode_encryption: all"), "{plan}");
    assert!(plan.contains("+  truststore_password: ********"), "{plan}");
}

#[test]
fn recover_low_a_newline_in_a_key_path_does_not_break_the_key_files_check() {
    let sb = Sandbox::new(3, "0s");
    let ssl = sb.path().join("nodes/node1/etc/cassandra/ssl");
    let odd = sb.path().join("nodes/node1/etc/cassandra/ss\nl");
    std::fs::rename(&ssl, &odd).unwrap();
    let mut doc: toml::Table = std::fs::read_to_string(sb.inventory()).unwrap().parse().unwrap();
    let nodes = doc.get_mut("node").unwrap().as_array_mut().unwrap();
    let node1 = nodes.iter_mut().find(|n| n["name"].as_str() == Some("node1")).unwrap().as_table_mut().unwrap();
    node1.insert("ssl_dir".into(), toml::Value::String(odd.display().to_string()));
    std::fs::write(sb.inventory(), toml::to_string(&doc).unwrap()).unwrap();
    let (_, rows) = preflight_rows(&sb);
    let r = rows.iter().find(|r| r["node"] == "node1" && r["check"] == "key_files").expect("a key_files row");
    assert_eq!(r["severity"], "ok", "{r}");
    let keystore = rows.iter().find(|r| r["node"] == "node1" && r["check"] == "keystore").unwrap();
    assert_eq!(keystore["severity"], "ok", "the keystore under the odd path was read: {keystore}");
}

#[test]
fn recover_low_resume_removes_the_temp_file_a_killed_backup_left() {
    if !crate::support::crash_hooks("recover_low_resume_removes_the_temp_file_a_killed_backup_left") {
        return;
    }
    use std::os::unix::process::ExitStatusExt;
    let sb = Sandbox::new(3, "0s");
    let originals = sb.read_configs();
    let child = sb
        .cmd(&["run", "--yes", "-i"])
        .arg(sb.inventory())
        .env("RINGMASTER_TEST_CRASH_AT", "after journaling node1 optional backup enter")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(9), "killed in the backup");
    // What the killed process leaves when SIGKILL comes mid-copy: its half-written temp file.
    let dir = sb.config("node1").parent().unwrap().to_path_buf();
    let stale = dir.join(format!(".cassandra.yaml.before-internode-tls.ringmaster-{pid}.tmp"));
    std::fs::write(&stale, &originals[0][..100]).unwrap();
    // A temp file of another naming is not ours to remove.
    let foreign = dir.join(".cassandra.yaml.swp.tmp");
    std::fs::write(&foreign, b"editor").unwrap();
    let out = run(&mut sb.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(!stale.exists(), "the stale temp file is gone");
    assert!(foreign.exists(), "a file of another naming stays");
    let evs = events(&sb.journal());
    let backup = evs.iter().find(|e| e.node.as_deref() == Some("node1") && e.phase == "backup" && e.kind == EventKind::Ok).unwrap();
    assert_eq!(backup.detail["removed_stale_temp_files"], serde_json::json!([stale.display().to_string()]), "{}", backup.detail);
    assert!(std::fs::read(sb.backup("node1")).unwrap() == originals[0]);
}

#[test]
fn recover_low_a_world_readable_config_is_a_warning_with_the_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(3, "0s");
    std::fs::set_permissions(sb.config("node2"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, rows) = preflight_rows(&sb);
    assert_eq!(code, Some(0), "a warning, not a blocker");
    let r = rows.iter().find(|r| r["node"] == "node2" && r["check"] == "config_mode").expect("a config_mode row");
    assert_eq!(r["severity"], "warning", "{r}");
    let message = r["message"].as_str().unwrap();
    let chmod = &message[message.find("`chmod o-r ").expect("the chmod command") + 1..];
    let chmod = &chmod[..chmod.find('`').unwrap()];
    let fixed = crate::support::run(std::process::Command::new("sh").arg("-c").arg(chmod));
    assert!(fixed.status.success(), "{chmod}");
    assert_eq!(std::fs::metadata(sb.config("node2")).unwrap().permissions().mode() & 0o777, 0o640, "the shown command fixes it");
    let ok = rows.iter().find(|r| r["node"] == "node1" && r["check"] == "config_mode").expect("a config_mode row");
    assert_eq!(ok["severity"], "ok", "the sandbox's own files are not world-readable: {ok}");
}
