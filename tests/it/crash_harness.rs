//! Crash safety at every step: SIGKILL the run at every crash point of a 3-node,
//! two-pass rollout in turn (one run per point), resume, and require the same end state
//! as an uninterrupted run: every node done in both passes, byte-identical backups, no
//! phase skipped, and no node restarted again once it had booted after the intent.

use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::journal::events;
use crate::support::ringmaster;
use crate::support::sandbox::{PHASES, Sandbox, boots};
use ringmaster::journal::EventKind;

/// Returns the labels of every crash point of an uninterrupted run.
fn crash_points() -> Vec<String> {
    let sandbox = Sandbox::new(3, "0s");
    let out = sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()).env("RINGMASTER_TEST_CRASH_TRACE", "1").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("crash-point "))
        .map(|l| l.split_once(": ").expect("numbered").1.to_string())
        .collect()
}

/// Kills the run at point `n`, resumes, and returns a description of what is wrong.
fn check_point(n: usize, label: &str) -> Result<(), String> {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let boots_before: Vec<usize> = sandbox.nodes.iter().map(|n| boots(&sandbox, n)).collect();
    let killed =
        sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()).env("RINGMASTER_TEST_CRASH_AT", n.to_string()).output().unwrap();
    if killed.status.signal() != Some(9) {
        return Err(format!("point {n} ({label}): not killed: {:?}", killed.status));
    }
    let resumed = sandbox.cmd(&["resume"]).output().unwrap();
    if resumed.status.code() != Some(0) {
        return Err(format!("point {n} ({label}): resume exit {:?}: {}", resumed.status, String::from_utf8_lossy(&resumed.stderr)));
    }
    let evs = events(&sandbox.journal());
    for node in &sandbox.nodes {
        for pass in ["optional", "enforce"] {
            let oks: Vec<&str> = evs
                .iter()
                .filter(|e| e.node.as_deref() == Some(node.as_str()) && e.pass.as_deref() == Some(pass) && e.kind == EventKind::Ok)
                .map(|e| e.phase.as_str())
                .collect();
            if oks != PHASES {
                return Err(format!("point {n} ({label}): {node} {pass} ok phases {oks:?}"));
            }
        }
    }
    for (i, node) in sandbox.nodes.iter().enumerate() {
        if std::fs::read(sandbox.backup(node)).ok().as_ref() != Some(&originals[i]) {
            return Err(format!("point {n} ({label}): backup of {node} differs from the original"));
        }
        let b = boots(&sandbox, node);
        if b != boots_before[i] + 2 {
            return Err(format!("point {n} ({label}): {node} booted {} times, expected 2", b - boots_before[i]));
        }
        let block = sandbox.server_encryption(node);
        if block["optional"] != false || block["internode_encryption"] != "all" {
            return Err(format!("point {n} ({label}): {node} does not hold the enforce values"));
        }
    }
    Ok(())
}

#[test]
fn sigkill_at_every_crash_point_then_resume_ends_like_an_uninterrupted_run() {
    if !crate::support::crash_hooks("sigkill_at_every_crash_point_then_resume_ends_like_an_uninterrupted_run") {
        return;
    }
    let points = crash_points();
    assert!(points.len() > 100, "a 3-node two-pass run has a crash point per journal commit and action: {}", points.len());
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= points.len() {
                        break;
                    }
                    if let Err(e) = check_point(i + 1, &points[i]) {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!("crash harness: {} kill points, {} failures", points.len(), failures.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigterm_and_sighup_stop_at_a_safe_point_with_exit_4() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")] {
        let sandbox = Sandbox::new(2, "1s");
        let mut child = sandbox
            .cmd(&["run", "--yes", "-i"])
            .arg(sandbox.inventory())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !(sandbox.journal().exists()
            && std::panic::catch_unwind(|| events(&sandbox.journal())).ok().is_some_and(|evs| evs.iter().any(|e| e.phase == "await_un")))
        {
            assert!(std::time::Instant::now() < deadline, "no await_un within the deadline");
            std::thread::sleep(std::time::Duration::from_millis(50)); // poll interval
        }
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        assert_eq!(child.wait().unwrap().code(), Some(4), "{name}");
        let evs = events(&sandbox.journal());
        assert!(evs.iter().any(|e| e.node.is_none() && e.detail["event"] == "interrupted" && e.detail["signal"] == name), "{name}");
        let out = ringmaster().args(["resume", "--journal"]).arg(sandbox.journal()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The crash hooks exist only in a test build (`--features test-crash-hooks`): the binary
/// under test holds the variable's name exactly when it was built with the feature (a
/// normal or release build compiles the same code as one without it), and without the
/// feature a run given both variables finishes and reaches no crash point.
#[test]
fn recover_low_crash_hooks_are_compiled_only_into_test_builds() {
    let binary = std::fs::read(crate::support::bin()).unwrap();
    let named = regex::bytes::Regex::new("RINGMASTER_TEST_CRASH_(AT|TRACE)").unwrap().is_match(&binary);
    assert_eq!(named, cfg!(feature = "test-crash-hooks"), "the binary names the crash variables only with test-crash-hooks");
    let sandbox = Sandbox::new(2, "0s");
    let out = sandbox
        .cmd(&["run", "--yes", "-i"])
        .arg(sandbox.inventory())
        .env("RINGMASTER_TEST_CRASH_AT", "1")
        .env("RINGMASTER_TEST_CRASH_TRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if cfg!(feature = "test-crash-hooks") {
        assert_eq!(out.status.signal(), Some(9), "a test build dies at crash point 1: {stderr}");
    } else {
        assert_eq!(out.status.code(), Some(0), "a build without the feature ignores RINGMASTER_TEST_CRASH_AT: {stderr}");
        assert!(!stderr.contains("crash-point"), "and RINGMASTER_TEST_CRASH_TRACE: {stderr}");
    }
}
