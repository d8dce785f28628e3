//! The whole two-pass rollout on the local sandbox: it completes, it survives SIGKILL at
//! several points and resumes without skipping or repeating work, and the journal says so.

use crate::support::journal::events;
use crate::support::sandbox::{Sandbox, assert_completed, assert_no_phase_skipped, boots};
use crate::support::{ringmaster, run};
use ringmaster::journal::EventKind;

#[test]
fn run_completes_both_passes_on_three_nodes() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let boots_before: Vec<usize> = sandbox.nodes.iter().map(|n| boots(&sandbox, n)).collect();
    let out = run(sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
    assert_no_phase_skipped(&sandbox);
    for (i, node) in sandbox.nodes.iter().enumerate() {
        assert_eq!(boots(&sandbox, node), boots_before[i] + 2, "{node} restarted once per pass");
        let log = std::fs::read_to_string(sandbox.log(node)).unwrap();
        let last_listener = log.lines().rev().find(|l| l.contains("Listening on ")).unwrap();
        assert!(
            last_listener.ends_with("encryption: encrypted(jdk)") || last_listener.contains("encryption: encrypted("),
            "{last_listener}"
        );
    }
    // Passwords reach the nodes' config files and nowhere else.
    let passwords: Vec<String> = sandbox
        .secrets_text()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_string()))
        .filter(|v| !v.is_empty())
        .collect();
    assert_eq!(passwords.len(), 2, "keystore and truststore password");
    let mut journal_bytes = std::fs::read(sandbox.journal()).unwrap();
    journal_bytes.extend(std::fs::read(sandbox.journal().with_extension("db-wal")).unwrap_or_default());
    for p in &passwords {
        let needle = p.as_bytes();
        assert!(!journal_bytes.windows(needle.len()).any(|w| w == needle), "a password is in the journal");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(p.as_str()));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(p.as_str()));
    }
    // The enforce pass starts only when every node finished the optional pass.
    let events = events(&sandbox.journal());
    let last_optional = events.iter().filter(|e| e.pass.as_deref() == Some("optional")).map(|e| e.seq).max().unwrap();
    let first_enforce = events.iter().filter(|e| e.pass.as_deref() == Some("enforce")).map(|e| e.seq).min().unwrap();
    assert!(last_optional < first_enforce);
    // Intent first: every `ok`/`fail` of a node phase follows its `enter`.
    for (i, e) in events.iter().enumerate() {
        if e.node.is_some() && e.phase != "pending" && matches!(e.kind, EventKind::Ok | EventKind::Fail) {
            let prev = &events[i - 1];
            assert!(prev.kind == EventKind::Enter && prev.phase == e.phase && prev.node == e.node, "{e:?} after {prev:?}");
        }
    }
}

#[test]
fn demo_runs_the_whole_job() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let journal = tmp.path().join("demo.db");
    let out = run(ringmaster().args(["demo", "--nodes", "3", "--start-delay", "0s", "--dir"]).arg(&dir).arg("--journal").arg(&journal));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&journal.display().to_string()), "demo prints the journal path");
    let status = run(ringmaster().args(["status", "--json", "--journal"]).arg(&journal));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["state"], "finished");
    assert_eq!(status["nodes"].as_array().unwrap().len(), 3);
}

/// SIGKILL the run at `point` (a crash-point label), resume, and check the end state.
fn kill_and_resume(point: &str) {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let boots_before: Vec<usize> = sandbox.nodes.iter().map(|n| boots(&sandbox, n)).collect();
    let out = run(sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()).env("RINGMASTER_TEST_CRASH_AT", point));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(9), "killed at `{point}`");
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0), "resume after `{point}`");
    assert_completed(&sandbox, &originals);
    assert_no_phase_skipped(&sandbox);
    for (i, node) in sandbox.nodes.iter().enumerate() {
        assert_eq!(boots(&sandbox, node), boots_before[i] + 2, "{node}: one restart per pass, none repeated (`{point}`)");
    }
    let events = events(&sandbox.journal());
    let run_info: Vec<&str> =
        events.iter().filter(|e| e.node.is_none() && e.kind == EventKind::Info).filter_map(|e| e.detail["event"].as_str()).collect();
    assert!(run_info.contains(&"interrupted") && run_info.contains(&"resumed"), "{run_info:?}");
    // Resuming a finished run says so and succeeds.
    let again = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already finished"));
}

#[test]
fn sigkill_just_after_a_restart_intent_is_journaled() {
    if !crate::support::crash_hooks("sigkill_just_after_a_restart_intent_is_journaled") {
        return;
    }
    kill_and_resume("after journaling node2 optional restart enter");
}

#[test]
fn sigkill_mid_restart_after_the_command_ran() {
    if !crate::support::crash_hooks("sigkill_mid_restart_after_the_command_ran") {
        return;
    }
    kill_and_resume("after acting node2 optional restart");
}

#[test]
fn sigkill_between_the_passes() {
    if !crate::support::crash_hooks("sigkill_between_the_passes") {
        return;
    }
    kill_and_resume("after journaling node3 optional verify_log ok");
}

#[test]
fn sigkill_mid_enforce_pass_after_the_edit() {
    if !crate::support::crash_hooks("sigkill_mid_enforce_pass_after_the_edit") {
        return;
    }
    kill_and_resume("after acting node1 enforce edit");
}

#[test]
fn resume_without_a_run_fails_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(ringmaster().args(["resume", "--journal"]).arg(tmp.path().join("none.db")));
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run to resume"));
}

#[test]
fn sigint_stops_at_a_safe_point_and_resume_finishes() {
    let sandbox = Sandbox::new(3, "1s");
    let originals = sandbox.read_configs();
    let child = sandbox
        .cmd(&["run", "--yes", "-i"])
        .arg(sandbox.inventory())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Poll the journal (with a deadline) until node1 is waiting to be UN, then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(std::time::Instant::now() < deadline, "node1 never reached await_un");
        let seen = sandbox.journal().exists()
            && std::panic::catch_unwind(|| events(&sandbox.journal())).ok().is_some_and(|evs| {
                evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase == "await_un" && e.kind == EventKind::Enter)
            });
        if seen {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50)); // poll interval, not synchronisation
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&sandbox.journal());
    let interrupted = evs.iter().find(|e| e.node.is_none() && e.detail["event"] == "interrupted").expect("journaled");
    assert_eq!(interrupted.detail["signal"], "SIGINT");
    // The safe point came after node1 was proven healthy, before node2 was touched.
    assert!(evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase == "verify_log" && e.kind == EventKind::Ok));
    assert!(!evs.iter().any(|e| e.node.as_deref() == Some("node2") && e.kind == EventKind::Enter));
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
}

#[test]
fn rollback_of_a_completed_run_restores_every_node_byte_for_byte() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let boots_before: Vec<usize> = sandbox.nodes.iter().map(|n| boots(&sandbox, n)).collect();
    assert_eq!(run(sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory())).status.code(), Some(0));
    let out = run(&mut sandbox.cmd(&["rollback", "--yes"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(sandbox.read_configs(), originals, "every config is the original again");
    for (i, node) in sandbox.nodes.iter().enumerate() {
        assert_eq!(boots(&sandbox, node), boots_before[i] + 4, "{node}: two passes forward, two back");
        assert!(std::fs::read(sandbox.backup(node)).unwrap() == originals[i], "the backup is kept");
    }
    let status = sandbox.status_json();
    assert_eq!(status["state"], "undone");
    for node in status["nodes"].as_array().unwrap() {
        assert_eq!(node["passes"]["undo-enforce"], "rolled_back", "{node}");
        assert_eq!(node["passes"]["undo-optional"], "rolled_back", "{node}");
    }
    // Pass by pass in reverse, newest node first, and each restore names the edit it reverts.
    let evs = events(&sandbox.journal());
    let restores: Vec<&ringmaster::journal::Event> = evs
        .iter()
        .filter(|e| e.pass.as_deref().is_some_and(|p| p.starts_with("undo-")) && e.phase == "rollback" && e.kind == EventKind::Ok)
        .collect();
    let order: Vec<(&str, &str)> = restores.iter().map(|e| (e.pass.as_deref().unwrap(), e.node.as_deref().unwrap())).collect();
    assert_eq!(
        order,
        [
            ("undo-enforce", "node3"),
            ("undo-enforce", "node2"),
            ("undo-enforce", "node1"),
            ("undo-optional", "node3"),
            ("undo-optional", "node2"),
            ("undo-optional", "node1")
        ]
    );
    for r in restores {
        let reverted = evs.iter().find(|e| Some(e.seq) == r.reverts).expect("reverts an event");
        let undone = r.pass.as_deref().unwrap().trim_start_matches("undo-");
        assert_eq!(
            (reverted.phase.as_str(), reverted.kind, reverted.node.as_deref(), reverted.pass.as_deref()),
            ("edit", EventKind::Ok, r.node.as_deref(), Some(undone))
        );
    }
    // Each node serving clients is drained before its rollback restart, as before a
    // forward restart: the intent names the drain, the outcome records it.
    for e in evs.iter().filter(|e| e.phase == "rollback_restart") {
        match e.kind {
            EventKind::Enter => assert!(e.detail["drain"].as_str().is_some_and(|d| d.ends_with(" drain")), "{}", e.detail),
            EventKind::Ok => assert_eq!(e.detail["drain"]["exit"], 0, "{}", e.detail),
            _ => panic!("rollback_restart {:?}: {}", e.kind, e.detail),
        }
    }
    // A second rollback has nothing to do.
    let again = run(&mut sandbox.cmd(&["rollback", "--yes"]));
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already rolled back"));
}
