//! The whole rollout over real SSH: a sandbox cluster whose nodes are reached through
//! the loopback sshd of `bin/testbed` (node1..node3 on 127.0.0.11-13:2222).
//!
//! Skipped with a printed reason when `RINGMASTER_TESTBED` is unset, a failure under CI.
//! Each test has the test bed to itself (`testbed_alone`): one of them restarts sshd.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::journal::events;
use crate::support::run;
use crate::support::sandbox::{Sandbox, assert_completed, assert_no_phase_skipped, boots};
use crate::support::ssh::{testbed_alone, testbed_cmd};
use ringmaster::journal::EventKind;

fn passwords(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .secrets_text()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_string()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Returns the pids (other than ours) whose argv contains `needle`.
fn pids_with(needle: &[u8]) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle)))
        .collect()
}

#[test]
fn full_two_pass_rollout_over_ssh_with_no_password_on_any_command_line() {
    let Some((config, _alone)) = testbed_alone("full_two_pass_rollout_over_ssh") else { return };
    let sandbox = Sandbox::over_ssh(3, "0s", &config);
    assert!(std::fs::read_to_string(sandbox.inventory()).unwrap().contains("transport = \"ssh\""));
    let originals = sandbox.read_configs();
    let before: Vec<usize> = sandbox.nodes.iter().map(|n| boots(&sandbox, n)).collect();
    let secrets = passwords(&sandbox);
    // Trace-level developer logs on: they must not carry a password either.
    let mut child = sandbox
        .cmd(&["run", "--yes", "-i"])
        .arg(sandbox.inventory())
        .env("RINGMASTER_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Scan every process's argv while the run is in flight.
    let mut scans = 0;
    let mut leaks = Vec::new();
    while child.try_wait().unwrap().is_none() {
        for p in &secrets {
            leaks.extend(pids_with(p.as_bytes()));
        }
        scans += 1;
    }
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TRACE") || String::from_utf8_lossy(&out.stderr).contains("DEBUG"),
        "trace logs were on"
    );
    assert!(scans > 10, "the argv scan ran while the run was in flight ({scans} scans)");
    assert!(leaks.is_empty(), "processes with a password in argv: {leaks:?}");
    assert_completed(&sandbox, &originals);
    assert_no_phase_skipped(&sandbox);
    for (i, n) in sandbox.nodes.iter().enumerate() {
        assert_eq!(boots(&sandbox, n), before[i] + 2);
    }
    for p in &secrets {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(p.as_str()) && !String::from_utf8_lossy(&out.stderr).contains(p.as_str()));
    }
}

#[test]
fn sshd_killed_and_restarted_mid_run_then_the_run_finishes() {
    let Some((config, _alone)) = testbed_alone("sshd_killed_and_restarted_mid_run") else { return };
    let sandbox = Sandbox::over_ssh(3, "1s", &config);
    let originals = sandbox.read_configs();
    let child =
        sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let seen = sandbox.journal().exists()
            && std::panic::catch_unwind(|| events(&sandbox.journal())).is_ok_and(|evs| {
                evs.iter().any(|e| e.node.as_deref() == Some("node2") && e.phase == "await_un" && e.kind == EventKind::Enter)
            });
        if seen {
            break;
        }
        assert!(Instant::now() < deadline, "node2 never reached await_un");
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
    testbed_cmd(&config, &["down"]);
    testbed_cmd(&config, &["up"]);
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    if out.status.code() != Some(0) {
        // It may stop cleanly instead, with a journaled reason; resume must then finish.
        assert!(matches!(out.status.code(), Some(1) | Some(4)), "{:?}", out.status);
        let evs = events(&sandbox.journal());
        assert!(evs.iter().any(|e| e.node.is_none() && matches!(e.detail["event"].as_str(), Some("stopped" | "failed" | "interrupted"))));
        let resumed = run(&mut sandbox.cmd(&["resume"]));
        assert_eq!(resumed.status.code(), Some(0));
    }
    assert_completed(&sandbox, &originals);
}

#[test]
fn a_changed_host_key_is_refused_naming_the_host_and_the_fix() {
    let Some((config, _alone)) = testbed_alone("a_changed_host_key_is_refused") else { return };
    let sandbox = Sandbox::over_ssh(3, "0s", &config);
    // A known_hosts where node1's address has someone else's key.
    let real = std::fs::read_to_string(config.parent().unwrap().join("known_hosts")).unwrap();
    let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let forged: String = real
        .lines()
        .map(|l| if l.starts_with("[127.0.0.11]:2222") { format!("[127.0.0.11]:2222 ssh-ed25519 {other}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    let known = sandbox.path().join("forged_known_hosts");
    std::fs::write(&known, forged + "\n").unwrap();
    let inv = std::fs::read_to_string(sandbox.inventory())
        .unwrap()
        .replace("[defaults]\n", &format!("[defaults]\nknown_hosts = \"{}\"\n", known.display()));
    std::fs::write(sandbox.inventory(), inv).unwrap();
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()));
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node1") && err.contains("host key"), "{err}");
    assert!(err.contains("ssh-keygen") && err.contains("-R"), "the fix is named: {err}");
    assert_eq!(sandbox.read_configs(), originals, "nothing was touched");
    assert!(!events(&sandbox.journal()).iter().any(|e| e.node.is_some()));
}

#[test]
fn sudo_that_needs_a_password_is_reported_before_any_node_is_touched() {
    let Some((config, _alone)) = testbed_alone("sudo_that_needs_a_password") else { return };
    let sandbox = Sandbox::over_ssh(3, "0s", &config);
    // The test bed's `ringmaster-test` user may only sudo with a password.
    let inv =
        std::fs::read_to_string(sandbox.inventory()).unwrap().replace("ssh = \"{node}\"", "ssh = \"ringmaster-test@{node}\"\nsudo = true");
    std::fs::write(sandbox.inventory(), inv).unwrap();
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()));
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sudo") && err.contains("password") && err.contains("node1"), "{err}");
    assert_eq!(sandbox.read_configs(), originals);
    assert!(!events(&sandbox.journal()).iter().any(|e| e.node.is_some()), "no node event before the sudo check");
}
