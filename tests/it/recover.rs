//! Issue 14 [recover] items 1-4 on the sandbox: an interrupted `rollback` (SIGKILL at any
//! crash point, SIGINT, a failed restart fixed by hand) is finished by a second `rollback`
//! or by `resume`; a run refused by preflight cannot be resumed into action; a refusal
//! (preflight or lock) never becomes "the newest run"; a command that needs the lock and
//! cannot take it exits 5; Ctrl-C (SIGINT to the whole process group) stops at a safe point.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::sandbox::{Sandbox, boots};
use crate::support::{ringmaster, run};
use ringmaster::journal::{Event, EventKind, Journal, RunId};

/// Deadline for anything a loaded 2-core machine should manage in seconds.
const DEADLINE: Duration = Duration::from_secs(180);

/// A crash point in the middle of the undo: node1's undo-enforce restart has been done,
/// node3 and node2 are already `rolled_back` in that pass.
const MID_UNDO: &str = "after acting node1 undo-enforce rollback_restart";

// ---------------------------------------------------------------- helpers

/// stdout and stderr of a finished command, as one string.
fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn inventory_arg(sandbox: &Sandbox) -> String {
    sandbox.inventory().display().to_string()
}

/// `ringmaster --journal J <args>` on the sandbox, run to the end (output echoed on failure).
fn rm(sandbox: &Sandbox, args: &[&str]) -> Output {
    run(&mut sandbox.cmd(args))
}

/// `run --yes -i cluster.toml`.
fn rm_run(sandbox: &Sandbox) -> Output {
    rm(sandbox, &["run", "--yes", "-i", &inventory_arg(sandbox)])
}

/// Every run in the journal, newest first (empty while the journal does not exist yet or
/// cannot be read: a run being created or written by another process).
fn runs(journal: &Path) -> Vec<ringmaster::journal::Run> {
    if !journal.exists() {
        return vec![];
    }
    Journal::open(journal).ok().and_then(|j| j.runs().ok()).unwrap_or_default()
}

/// Every event of `run`.
fn events_of(journal: &Path, run: &RunId) -> Vec<Event> {
    Journal::open(journal).expect("open journal").events(run).expect("events")
}

/// A full rollout to the end; returns its run id (the only run in the fresh journal).
fn finished_run(sandbox: &Sandbox) -> RunId {
    let out = rm_run(sandbox);
    assert_eq!(out.status.code(), Some(0), "the rollout finishes");
    let all = runs(&sandbox.journal());
    assert_eq!(all.len(), 1, "one run in a fresh journal");
    all[0].id.clone()
}

/// Polls the journal (with a deadline) until the events of some run satisfy `pred`, and
/// returns that run's id.
fn wait_for_run(journal: &Path, what: &str, pred: impl Fn(&[Event]) -> bool) -> RunId {
    let until = Instant::now() + DEADLINE;
    loop {
        let found = runs(journal)
            .into_iter()
            .find(|r| Journal::open(journal).ok().and_then(|j| j.events(&r.id).ok()).is_some_and(|evs| pred(&evs)));
        if let Some(r) = found {
            return r.id;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}

/// Polls (with a deadline) until `cond` holds.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}

/// Waits (with a deadline) for a spawned ringmaster; kills it when the deadline passes.
fn wait_child(child: &mut Child, what: &str) -> ExitStatus {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}

/// Spawns `ringmaster --journal J <args>` with its output in files of the sandbox
/// (`<name>.out`, `<name>.err`, shown by [`spawned_output`]).
fn spawn(sandbox: &Sandbox, args: &[&str], name: &str, own_group: bool) -> Child {
    let mut cmd = sandbox.cmd(args);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(sandbox.path().join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(sandbox.path().join(format!("{name}.err"))).unwrap());
    if own_group {
        cmd.process_group(0);
    }
    cmd.spawn().expect("spawn ringmaster")
}

fn spawned_output(sandbox: &Sandbox, name: &str) -> String {
    let read = |ext: &str| std::fs::read_to_string(sandbox.path().join(format!("{name}.{ext}"))).unwrap_or_default();
    let out = format!("--- {name} stdout\n{}--- {name} stderr\n{}", read("out"), read("err"));
    eprintln!("{out}");
    out
}

/// `ringmaster sandbox set --dir D [NODE] --start-delay DELAY`.
fn set_start_delay(sandbox: &Sandbox, node: Option<&str>, delay: &str) {
    let mut cmd = ringmaster();
    cmd.args(["sandbox", "set", "--dir"]).arg(sandbox.path());
    cmd.args(node).args(["--start-delay", delay]);
    assert!(run(&mut cmd).status.success(), "sandbox set");
}

/// Returns what is not `UN` in the view of every node (`sandbox nodetool NODE status`),
/// or `None` when every node sees every node `UN`.
fn not_un(sandbox: &Sandbox) -> Option<String> {
    for on in &sandbox.nodes {
        let out = ringmaster().args(["sandbox", "nodetool", "--dir"]).arg(sandbox.path()).args([on, "status"]).output().unwrap();
        if !out.status.success() {
            return Some(format!("`nodetool status` on {on}: {}", text(&out)));
        }
        let rows = match ringmaster::cassandra::status::parse_status(&String::from_utf8_lossy(&out.stdout)) {
            Ok(rows) => rows,
            Err(e) => return Some(format!("`nodetool status` on {on}: {e}")),
        };
        if rows.len() != sandbox.nodes.len() {
            return Some(format!("{on} sees {} nodes", rows.len()));
        }
        if let Some(row) = rows.iter().find(|r| !r.is_up_normal()) {
            return Some(format!("{on} sees {} as {}{}", row.address, row.status, row.state));
        }
    }
    None
}

/// Returns the first node whose cassandra.yaml is not byte-identical to `originals`.
fn config_differs(sandbox: &Sandbox, originals: &[Vec<u8>]) -> Option<String> {
    sandbox
        .nodes
        .iter()
        .zip(originals)
        .find(|(n, orig)| std::fs::read(sandbox.config(n)).ok().as_ref() != Some(*orig))
        .map(|(n, _)| n.clone())
}

/// Every cassandra.yaml is byte-identical to the original and every node `UN` everywhere.
fn assert_undone(sandbox: &Sandbox, originals: &[Vec<u8>], ctx: &str) {
    if let Some(node) = config_differs(sandbox, originals) {
        panic!("{ctx}: the cassandra.yaml of {node} is not byte-identical to the original");
    }
    if let Some(what) = not_un(sandbox) {
        panic!("{ctx}: not every node is UN: {what}");
    }
}

/// Every node holds the enforce values, its backup is the original, and every node is `UN`.
fn assert_tls_everywhere(sandbox: &Sandbox, originals: &[Vec<u8>], ctx: &str) {
    for (i, node) in sandbox.nodes.iter().enumerate() {
        let block = sandbox.server_encryption(node);
        assert_eq!(block["internode_encryption"], "all", "{ctx}: {node}");
        assert_eq!(block["optional"], false, "{ctx}: {node}");
        assert!(std::fs::read(sandbox.backup(node)).ok().as_ref() == Some(&originals[i]), "{ctx}: backup of {node} is the original");
    }
    if let Some(what) = not_un(sandbox) {
        panic!("{ctx}: not every node is UN: {what}");
    }
}

fn boots_of(sandbox: &Sandbox) -> Vec<usize> {
    sandbox.nodes.iter().map(|n| boots(sandbox, n)).collect()
}

/// The run-level `interrupted` events of `evs` (optionally only those after `after_seq`).
fn interrupted(evs: &[Event], after_seq: i64) -> Vec<&Event> {
    evs.iter().filter(|e| e.node.is_none() && e.seq > after_seq && e.detail["event"] == "interrupted").collect()
}

fn is_undo(e: &Event) -> bool {
    e.pass.as_deref().is_some_and(|p| p.starts_with("undo-"))
}

/// Replaces the password `key` in the sandbox's secrets file; returns the old text.
fn set_secret(sandbox: &Sandbox, key: &str, value: &str) -> String {
    let path = sandbox.path().join("secrets.toml");
    let old = std::fs::read_to_string(&path).unwrap();
    let new: String =
        old.lines().map(|l| if l.starts_with(&format!("{key} =")) { format!("{key} = \"{value}\"\n") } else { format!("{l}\n") }).collect();
    assert_ne!(new, old, "{key} is in the secrets file");
    std::fs::write(&path, new).unwrap();
    old
}

fn restore_secrets(sandbox: &Sandbox, text: &str) {
    std::fs::write(sandbox.path().join("secrets.toml"), text).unwrap();
}

/// Kills `rollback --yes` of the finished run at crash point `at` (a label or a number).
fn rollback_killed_at(sandbox: &Sandbox, at: &str) {
    let out = run(sandbox.cmd(&["rollback", "--yes"]).env("RINGMASTER_TEST_CRASH_AT", at));
    assert_eq!(out.status.signal(), Some(9), "the rollback is SIGKILLed at `{at}`");
}

// ---------------------------------------------------------------- item 1

#[test]
fn recover_1_rollback_killed_mid_undo_then_rollback_again_finishes() {
    if !crate::support::crash_hooks("recover_1_rollback_killed_mid_undo_then_rollback_again_finishes") {
        return;
    }
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    rollback_killed_at(&sandbox, MID_UNDO);
    let out = rm(&sandbox, &["rollback", &id.0, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "a second rollback finishes the interrupted one: {}", text(&out));
    assert_undone(&sandbox, &originals, "rollback after a SIGKILL mid-undo");
    // Nothing is left to do, and saying so succeeds.
    let again = rm(&sandbox, &["rollback", &id.0, "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_undone(&sandbox, &originals, "a third rollback");
}

#[test]
fn recover_1_rollback_killed_mid_undo_then_rollback_with_force_or_break_lock_finishes() {
    // The variants: `--force` (restore a backup whatever its hash) and `--break-lock`
    // (take over the dead rollback's lock explicitly) must continue the undo too.
    for flag in ["--force", "--break-lock"] {
        let sandbox = Sandbox::new(3, "0s");
        let originals = sandbox.read_configs();
        let id = finished_run(&sandbox);
        rollback_killed_at(&sandbox, MID_UNDO);
        let out = rm(&sandbox, &["rollback", &id.0, "--yes", flag]);
        assert_eq!(out.status.code(), Some(0), "`rollback {flag}` finishes the interrupted rollback: {}", text(&out));
        assert!(text(&out).contains("continue undoing"), "`rollback {flag}` continues the journaled undo: {}", text(&out));
        assert_undone(&sandbox, &originals, &format!("rollback {flag} after a SIGKILL mid-undo"));
        let evs = events_of(&sandbox.journal(), &id);
        let undo_starts = evs.iter().filter(|e| e.node.is_none() && e.detail["event"] == "undo_started").count();
        assert_eq!(undo_starts, 1, "`rollback {flag}` journals no second plan");
    }
}

#[test]
fn recover_1_rollback_killed_mid_undo_then_resume_finishes_the_rollback() {
    if !crate::support::crash_hooks("recover_1_rollback_killed_mid_undo_then_resume_finishes_the_rollback") {
        return;
    }
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    rollback_killed_at(&sandbox, MID_UNDO);
    let out = rm(&sandbox, &["resume", &id.0]);
    assert_eq!(out.status.code(), Some(0), "resume continues the interrupted rollback: {}", text(&out));
    assert_undone(&sandbox, &originals, "resume after a SIGKILL mid-undo");
}

#[test]
fn recover_1_sigint_stops_a_rollback_at_a_safe_point_and_a_second_rollback_finishes() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    let forward_end = events_of(&sandbox.journal(), &id).last().unwrap().seq;
    // Slow joins, so that the undo is still under way when the signal comes.
    set_start_delay(&sandbox, None, "2s");
    let mut child = spawn(&sandbox, &["rollback", "--yes"], "rollback", false);
    wait_for_run(&sandbox.journal(), "node3's undo-enforce rollback_await_un", |evs| {
        crate::support::journal::has(evs, "node3", "undo-enforce", "rollback_await_un", EventKind::Enter)
    });
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = wait_child(&mut child, "the interrupted rollback");
    let output = spawned_output(&sandbox, "rollback");
    assert_eq!(status.code(), Some(4), "SIGINT stops a rollback at the next safe point (exit 4): {output}");
    let evs = events_of(&sandbox.journal(), &id);
    let int = interrupted(&evs, forward_end);
    assert!(int.iter().any(|e| e.detail["signal"] == "SIGINT"), "an `interrupted` event is journaled for the rollback: {int:?}");
    assert!(config_differs(&sandbox, &originals).is_some(), "the rollback stopped before its end");
    set_start_delay(&sandbox, None, "0s");
    let out = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "a second rollback finishes it: {}", text(&out));
    assert!(text(&out).contains(&id.0), "it names the run it rolls back");
    assert_undone(&sandbox, &originals, "rollback after SIGINT");
}

#[test]
fn recover_1_rollback_whose_restart_failed_is_finished_after_the_fault_is_fixed() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    // node3 is undone first (undo-enforce puts the optional values back, which need its
    // keystore): a keystore that no longer opens makes that restart fail.
    let keystore = sandbox.path().join("nodes/node3/etc/cassandra/ssl/node3-keystore.p12");
    let good = std::fs::read(&keystore).unwrap();
    std::fs::write(&keystore, b"this is not a PKCS12 keystore").unwrap();
    let failed = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(failed.status.code(), Some(1), "the rollback fails on node3");
    assert!(text(&failed).contains("node3"), "it names the node");
    let evs = events_of(&sandbox.journal(), &id);
    assert!(evs.iter().any(|e| is_undo(e) && e.node.as_deref() == Some("node3") && e.kind == EventKind::Fail), "node3's undo failed");
    // The operator fixes the keystore by hand and rolls back again.
    std::fs::write(&keystore, good).unwrap();
    let out = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "the rollback finishes once the fault is fixed: {}", text(&out));
    assert_undone(&sandbox, &originals, "rollback after a failed restart was fixed");
}

/// Copies the directory `from` into `to` (files with their permission bits).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Puts the sandbox directory back to the snapshot: the sandbox and its journal hold
/// absolute paths, so a copy only works in the same place.
fn restore(snapshot: &Path, sandbox: &Sandbox) {
    for entry in std::fs::read_dir(sandbox.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { std::fs::remove_dir_all(&path).unwrap() } else { std::fs::remove_file(&path).unwrap() }
    }
    copy_dir(snapshot, sandbox.path());
}

/// A 3-node sandbox after a finished rollout, its original configs and a snapshot of the
/// whole directory (journal included) to restore before each kill point.
struct FinishedRollout {
    sandbox: Sandbox,
    originals: Vec<Vec<u8>>,
    snapshot: tempfile::TempDir,
}

impl FinishedRollout {
    fn new() -> FinishedRollout {
        let sandbox = Sandbox::new(3, "0s");
        let originals = sandbox.read_configs();
        finished_run(&sandbox);
        let snapshot = tempfile::tempdir().unwrap();
        copy_dir(sandbox.path(), snapshot.path());
        FinishedRollout { sandbox, originals, snapshot }
    }

    /// The labels of every crash point of an uninterrupted rollback of the finished run.
    fn rollback_crash_points(&self) -> Vec<String> {
        restore(self.snapshot.path(), &self.sandbox);
        let out = self.sandbox.cmd(&["rollback", "--yes"]).env("RINGMASTER_TEST_CRASH_TRACE", "1").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_undone(&self.sandbox, &self.originals, "an uninterrupted rollback");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("crash-point "))
            .map(|l| l.split_once(": ").expect("numbered").1.to_string())
            .collect()
    }

    /// From the finished rollout: rollback killed at point `n`, then `rollback --yes`.
    fn check_point(&self, n: usize, label: &str) -> Result<(), String> {
        let sandbox = &self.sandbox;
        restore(self.snapshot.path(), sandbox);
        let killed = sandbox.cmd(&["rollback", "--yes"]).env("RINGMASTER_TEST_CRASH_AT", n.to_string()).output().unwrap();
        if killed.status.signal() != Some(9) {
            return Err(format!("point {n} ({label}): not killed: {:?}", killed.status));
        }
        let again = sandbox.cmd(&["rollback", "--yes"]).output().unwrap();
        if again.status.code() != Some(0) {
            let stderr = String::from_utf8_lossy(&again.stderr);
            let first = stderr.lines().find(|l| l.starts_with("error")).unwrap_or_default();
            return Err(format!("point {n} ({label}): second rollback exit {:?}: {first}", again.status.code()));
        }
        if let Some(node) = config_differs(sandbox, &self.originals) {
            return Err(format!("point {n} ({label}): the cassandra.yaml of {node} is not the original"));
        }
        if let Some(what) = not_un(sandbox) {
            return Err(format!("point {n} ({label}): {what}"));
        }
        Ok(())
    }
}

#[test]
fn recover_1_rollback_crash_harness_every_kill_point_then_a_second_rollback_restores_every_node() {
    if !crate::support::crash_hooks("recover_1_rollback_crash_harness_every_kill_point_then_a_second_rollback_restores_every_node") {
        return;
    }
    let started = Instant::now();
    // One finished rollout per worker thread, restored from its snapshot for each point
    // (the same state a fresh sandbox and a full run would give, in a fraction of the time).
    let workers: Vec<FinishedRollout> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(FinishedRollout::new)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let points = workers[0].rollback_crash_points();
    assert!(
        points.len() >= 3 * 2 * 4 * 3,
        "a rollback of 3 nodes in 2 undo passes has a crash point per journal commit and action: {}",
        points.len()
    );
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for worker in &workers {
            let (next, failures, points) = (&next, &failures, &points);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= points.len() {
                        break;
                    }
                    if let Err(e) = worker.check_point(i + 1, &points[i]) {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    eprintln!("rollback crash harness: {} kill points, {} failures, {:.0?}", points.len(), failures.len(), started.elapsed());
    assert!(failures.is_empty(), "{} of {} kill points fail: {failures:#?}", failures.len(), points.len());
}

// ---------------------------------------------------------------- item 2

#[test]
fn recover_2_resume_of_a_run_refused_by_preflight_touches_nothing() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let boots_before = boots_of(&sandbox);
    let good = set_secret(&sandbox, "truststore_password", "not-the-truststore-password");
    let refused = rm_run(&sandbox);
    assert_eq!(refused.status.code(), Some(3), "preflight refuses the wrong truststore password");
    assert!(text(&refused).contains("nothing was touched"));
    let resumed = rm(&sandbox, &["resume"]);
    let code = resumed.status.code();
    assert!(code == Some(3) || code == Some(2), "resume of a refused run refuses again (exit 2 or 3), got {code:?}: {}", text(&resumed));
    for node in &sandbox.nodes {
        assert!(!sandbox.backup(node).exists(), "resume made no backup on {node}");
    }
    assert_eq!(sandbox.read_configs(), originals, "resume edited no config");
    assert_eq!(boots_of(&sandbox), boots_before, "resume restarted no node");
    assert!(not_un(&sandbox).is_none());
    // With the password fixed, a fresh run does the whole job.
    restore_secrets(&sandbox, &good);
    let out = rm_run(&sandbox);
    assert_eq!(out.status.code(), Some(0), "a fresh run after the fix: {}", text(&out));
    assert_tls_everywhere(&sandbox, &originals, "a fresh run after the fix");
}

// ---------------------------------------------------------------- item 3

/// The lines of `runs` (text).
fn runs_rows(sandbox: &Sandbox) -> Vec<String> {
    let out = rm(sandbox, &["runs"]);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn recover_3_preflight_refusals_are_not_the_newest_run_and_rollback_undoes_the_finished_run() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    // Refused by preflight twice: a wrong password, then the finished run's own backups.
    let good = set_secret(&sandbox, "truststore_password", "not-the-truststore-password");
    assert_eq!(rm_run(&sandbox).status.code(), Some(3));
    restore_secrets(&sandbox, &good);
    assert_eq!(rm_run(&sandbox).status.code(), Some(3), "the finished run's backups make a new run refuse");
    // `status` without RUN shows the finished run.
    assert_eq!(sandbox.status_json()["run"], id.0, "status without RUN shows the finished run, not a refusal");
    // `runs` shows the refusals as refusals, and the finished run as not refused.
    let rows = runs_rows(&sandbox);
    assert!(rows.iter().any(|r| r.contains("refused") && !r.contains(&id.0)), "a refusal row says `refused`: {rows:#?}");
    let finished_row = rows.iter().find(|r| r.contains(&id.0)).expect("the finished run is listed");
    assert!(!finished_row.contains("refused"), "{finished_row}");
    // `resume` without RUN picks the finished run: nothing to do.
    let resumed = rm(&sandbox, &["resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(text(&resumed).contains(&id.0), "resume names the run it picked");
    assert_tls_everywhere(&sandbox, &originals, "resume without RUN after refusals");
    // `rollback` without RUN undoes the finished run and says which run it picked.
    let out = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains(&id.0), "rollback names the run it picked: {}", text(&out));
    assert_undone(&sandbox, &originals, "rollback without RUN after refusals");
}

#[test]
fn recover_3_lock_refusals_are_not_the_newest_run_and_commands_that_need_the_lock_exit_5() {
    // Joins take a minute: the first run holds the lock while node1 restarts.
    let sandbox = Sandbox::new(3, "60s");
    let originals = sandbox.read_configs();
    let mut holder = spawn(&sandbox, &["run", "--yes", "-i", &inventory_arg(&sandbox)], "holder", false);
    let id = wait_for_run(&sandbox.journal(), "the first run's node1 restart", |evs| {
        crate::support::journal::has(evs, "node1", "optional", "restart", EventKind::Enter)
    });
    let before = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(before.status.code(), Some(5), "rollback while a live run holds the lock: {}", text(&before));
    let second = rm_run(&sandbox);
    assert_eq!(second.status.code(), Some(5), "a second run while the first holds the lock");
    let after = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(after.status.code(), Some(5), "rollback after a lock refusal still needs the lock: {}", text(&after));
    let resumed = rm(&sandbox, &["resume"]);
    assert_eq!(resumed.status.code(), Some(5), "resume while a live run holds the lock: {}", text(&resumed));
    assert!(holder.try_wait().unwrap().is_none(), "the first run was still running throughout");
    assert_eq!(sandbox.status_json()["run"], id.0, "status without RUN shows the live run, not a refusal");
    let rows = runs_rows(&sandbox);
    assert!(rows.iter().any(|r| r.contains("refused") && !r.contains(&id.0)), "the lock refusal says `refused`: {rows:#?}");
    // The holder dies; `rollback` without RUN undoes what it did (node1), not the refusal.
    holder.kill().unwrap();
    assert_eq!(wait_child(&mut holder, "the killed holder").signal(), Some(9));
    set_start_delay(&sandbox, None, "0s");
    let out = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&id.0), "rollback names the run it picked");
    assert_undone(&sandbox, &originals, "rollback of the killed run after a lock refusal");
}

// ---------------------------------------------------------------- item 4

/// Makes node1's first restart command sleep 5 s after touching a marker file (returned),
/// so that the restart command is certainly running when the marker appears.
fn slow_first_restart_of_node1(sandbox: &Sandbox) -> PathBuf {
    let marker = sandbox.path().join("node1-restart-started");
    let m = marker.display();
    let inventory = std::fs::read_to_string(sandbox.inventory()).unwrap();
    let prefix = format!("restart_command = \"if [ {{node}} = node1 ] && [ ! -e '{m}' ]; then touch '{m}'; sleep 5; fi; ");
    let edited = inventory.replacen("restart_command = \"", &prefix, 1);
    assert_ne!(edited, inventory);
    std::fs::write(sandbox.inventory(), edited).unwrap();
    marker
}

#[test]
fn recover_4_sigint_to_the_process_group_during_a_restart_stops_at_a_safe_point() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let marker = slow_first_restart_of_node1(&sandbox);
    // As a shell runs a foreground job: its own process group, which Ctrl-C signals whole.
    let mut child = spawn(&sandbox, &["run", "--yes", "-i", &inventory_arg(&sandbox)], "run", true);
    let id = wait_for_run(&sandbox.journal(), "node1's optional restart", |evs| {
        crate::support::journal::has(evs, "node1", "optional", "restart", EventKind::Enter)
    });
    wait_until("node1's restart command to start", || marker.exists());
    let pgid = child.id() as i32;
    assert_eq!(unsafe { libc::kill(-pgid, libc::SIGINT) }, 0, "signal the process group");
    let status = wait_child(&mut child, "the interrupted run");
    let output = spawned_output(&sandbox, "run");
    assert_eq!(status.code(), Some(4), "Ctrl-C stops at the next safe point (exit 4), the restart is not killed: {output}");
    let evs = events_of(&sandbox.journal(), &id);
    assert!(interrupted(&evs, 0).iter().any(|e| e.detail["signal"] == "SIGINT"), "an `interrupted` event is journaled");
    assert!(crate::support::journal::has(&evs, "node1", "optional", "restart", EventKind::Ok), "node1's restart completed");
    let node1_rolled_back = evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase.starts_with("rollback"));
    assert!(!node1_rolled_back, "node1 was not rolled back");
    assert_eq!(sandbox.server_encryption("node1")["optional"], true, "node1 keeps the optional pass's values");
    let out = rm(&sandbox, &["resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_tls_everywhere(&sandbox, &originals, "resume after Ctrl-C");
}

#[test]
fn recover_4_sigint_to_the_process_group_during_a_rollback_stops_at_a_safe_point() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let id = finished_run(&sandbox);
    let forward_end = events_of(&sandbox.journal(), &id).last().unwrap().seq;
    set_start_delay(&sandbox, None, "2s");
    let mut child = spawn(&sandbox, &["rollback", "--yes"], "rollback", true);
    wait_for_run(&sandbox.journal(), "node3's undo-enforce rollback_restart", |evs| {
        crate::support::journal::has(evs, "node3", "undo-enforce", "rollback_restart", EventKind::Enter)
    });
    let pgid = child.id() as i32;
    assert_eq!(unsafe { libc::kill(-pgid, libc::SIGINT) }, 0, "signal the process group");
    let status = wait_child(&mut child, "the interrupted rollback");
    let output = spawned_output(&sandbox, "rollback");
    assert_eq!(status.code(), Some(4), "Ctrl-C stops a rollback at the next safe point (exit 4): {output}");
    let evs = events_of(&sandbox.journal(), &id);
    assert!(interrupted(&evs, forward_end).iter().any(|e| e.detail["signal"] == "SIGINT"), "an `interrupted` event is journaled");
    set_start_delay(&sandbox, None, "0s");
    let out = rm(&sandbox, &["rollback", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_undone(&sandbox, &originals, "rollback after Ctrl-C");
}
