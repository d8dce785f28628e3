//! The operator's controls on the sandbox: a canary (`run --stop-after N`, then `resume`),
//! a pause at the end of a pass (`--pause-after-pass`, or `pause_after = true` in the
//! workflow) resumed "the next day" on a test clock, the fresh preflight a paused run's
//! resume passes first, and the shipped workflows (`ringmaster workflows`, `--workflow NAME`).

use std::path::Path;

use crate::support::journal::events;
use crate::support::run;
use crate::support::sandbox::{Sandbox, assert_completed, assert_no_phase_skipped};
use ringmaster::journal::{Event, EventKind, Journal};
use serde_json::Value;

/// The run-level `event` names of the newest run, in journal order.
fn run_event_names(evs: &[Event]) -> Vec<String> {
    evs.iter().filter(|e| e.node.is_none()).filter_map(|e| e.detail["event"].as_str().map(str::to_string)).collect()
}

/// The detail of the run-level event named `name` (the last one when there are several).
fn last_run_event<'e>(evs: &'e [Event], name: &str) -> &'e Event {
    evs.iter().rev().find(|e| e.node.is_none() && e.detail["event"] == name).unwrap_or_else(|| panic!("no `{name}` event"))
}

fn lock_is_free(sandbox: &Sandbox) -> bool {
    Journal::open(&sandbox.journal()).unwrap().lock_holder("sandbox").unwrap().is_none()
}

fn runs_json(sandbox: &Sandbox) -> Value {
    let out = run(&mut sandbox.cmd(&["runs", "--json"]));
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn export(sandbox: &Sandbox, format: &str) -> String {
    let out = run(&mut sandbox.cmd(&["export", "--format", format]));
    assert!(out.status.success());
    text(&out.stdout)
}

#[test]
fn canary_stop_after_one_node_pauses_releases_the_lock_and_resume_finishes() {
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "--stop-after", "1", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0), "a run that paused exits 0");
    let said = text(&out.stdout) + &text(&out.stderr);
    let journal = sandbox.journal().display().to_string();
    assert!(said.contains("paused after 1 batch of pass `optional`"), "{said}");
    assert!(said.contains(&format!("ringmaster --journal {journal} resume ")), "the message names the next command: {said}");

    // Exactly one node of the pass done before the pause, nothing of the next pass begun.
    let evs = events(&sandbox.journal());
    let paused = last_run_event(&evs, "paused");
    assert_eq!(paused.detail["pass"], "optional");
    assert_eq!(paused.detail["reason"], "stop_after");
    assert_eq!(paused.detail["completed"], 1);
    let before: Vec<&Event> = evs.iter().filter(|e| e.seq < paused.seq && e.node.is_some()).collect();
    let done: Vec<&str> =
        before.iter().filter(|e| e.phase == "verify_log" && e.kind == EventKind::Ok).filter_map(|e| e.node.as_deref()).collect();
    assert_eq!(done, ["node1"]);
    assert!(before.iter().all(|e| e.node.as_deref() == Some("node1") && e.pass.as_deref() == Some("optional")), "only node1 was touched");
    assert!(!run_event_names(&evs).contains(&"finished".to_string()));

    // Paused: the lock is free, and status and runs say so and what comes next.
    assert!(lock_is_free(&sandbox), "the cluster lock is released during the pause");
    let status = sandbox.status_json();
    assert_eq!(status["state"], "paused", "{status:#}");
    assert_eq!(status["paused"]["pass"], "optional");
    assert_eq!(status["paused"]["next"]["pass"], "optional");
    assert_eq!(status["paused"]["next"]["nodes"], serde_json::json!(["node2", "node3"]));
    assert_eq!(status["paused"]["next"]["batch"], serde_json::json!(["node2"]));
    let phases: Vec<(&str, &str)> = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["node"].as_str().unwrap(), n["passes"]["optional"].as_str().unwrap()))
        .collect();
    assert_eq!(phases, [("node1", "done"), ("node2", "pending"), ("node3", "pending")]);
    let table = text(&run(&mut sandbox.cmd(&["status"])).stdout);
    assert!(table.contains("state    paused"), "{table}");
    assert!(
        table.contains("resume runs pass `optional` on node2, node3, starting with node2 (batch 2 of 3)"),
        "status says what resume does next: {table}"
    );
    assert_eq!(runs_json(&sandbox)[0]["state"], "paused");
    assert!(text(&run(&mut sandbox.cmd(&["runs"])).stdout).contains("paused"));

    // Resume: a fresh preflight of the untouched nodes, no crash recovery, every node done.
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
    assert_no_phase_skipped(&sandbox);
    let evs = events(&sandbox.journal());
    let names = run_event_names(&evs);
    assert!(!names.contains(&"interrupted".to_string()), "a pause is not an interruption: {names:?}");
    assert!(!evs.iter().any(|e| e.phase == "retry"), "nothing is retried");
    let resumed = last_run_event(&evs, "resumed");
    assert_eq!(resumed.detail["previous_state"], "paused");
    let preflight = last_run_event(&evs, "preflight");
    assert!(preflight.seq > paused.seq && preflight.seq < resumed.seq, "resume ran preflight first");
    assert_eq!(preflight.detail["nodes"], serde_json::json!(["node2", "node3"]), "of the nodes not yet touched");
    assert_eq!(preflight.detail["blockers"], 0, "node1's own backup is no blocker");
    assert!(lock_is_free(&sandbox));

    // The export tells the pause.
    let md = export(&sandbox, "md");
    assert!(md.contains("paused after 1 batch of pass \\`optional\\`"), "{md}");
    let html = export(&sandbox, "html");
    assert!(html.contains("class=\"pause\""), "the timeline draws the pause");
}

#[test]
fn stop_after_counts_batches_of_the_current_pass_and_never_runs_into_the_next() {
    let sandbox = Sandbox::new(3, "0s");
    let out = run(sandbox.cmd(&["run", "--yes", "--stop-after", "1", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    // Two more nodes asked for, one left in the pass: the run pauses at the pass's end.
    let out = run(&mut sandbox.cmd(&["resume", "--stop-after", "5"]));
    assert_eq!(out.status.code(), Some(0));
    let status = sandbox.status_json();
    assert_eq!(status["state"], "paused", "{status:#}");
    assert_eq!(status["paused"]["completed"], 2);
    assert_eq!(status["paused"]["next"]["pass"], "enforce");
    for node in status["nodes"].as_array().unwrap() {
        assert_eq!(node["passes"]["optional"], "done");
        assert_eq!(node["passes"]["enforce"], "pending");
    }
    // The last batch of the last pass is not a pause: the run finishes.
    let out = run(&mut sandbox.cmd(&["resume", "--stop-after", "3"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(sandbox.status_json()["state"], "finished");
}

#[test]
fn resume_of_a_paused_run_refused_by_preflight_leaves_it_paused() {
    let sandbox = Sandbox::new(3, "0s");
    let out = run(sandbox.cmd(&["run", "--yes", "--stop-after", "1", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    // During the pause node3's keystore breaks: the fresh preflight must see it.
    let keystore = sandbox.keystore("node3");
    let original = std::fs::read(&keystore).unwrap();
    std::fs::write(&keystore, b"not a keystore").unwrap();
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(3), "preflight blockers refuse the resume");
    let said = text(&out.stderr);
    assert!(said.contains("node3") && said.contains("the run stays paused"), "{said}");
    assert!(said.contains("resume "), "the hint names the resume: {said}");
    assert_eq!(sandbox.status_json()["state"], "paused", "a refused resume leaves the run paused");
    assert!(lock_is_free(&sandbox));
    let evs = events(&sandbox.journal());
    assert!(!evs.iter().any(|e| e.node.as_deref() == Some("node2") && e.pass.as_deref() == Some("optional") && e.phase == "backup"));
    std::fs::write(&keystore, &original).unwrap();
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(sandbox.status_json()["state"], "finished");
}

/// One day, in milliseconds: the test clock's offset for a resume "the next day".
const DAY_MS: i64 = 86_400_000;

/// Checks a run that paused after its `optional` pass: every node done there, none begun
/// in `enforce`, status saying so; then resumes it a day later and checks the journal.
fn pause_after_optional_then_resume_next_day(sandbox: &Sandbox) {
    let status = sandbox.status_json();
    assert_eq!(status["state"], "paused", "{status:#}");
    assert_eq!(status["paused"]["reason"], "pass_end");
    for node in status["nodes"].as_array().unwrap() {
        assert_eq!(node["passes"]["optional"], "done", "{node}");
        assert_eq!(node["passes"]["enforce"], "pending", "{node}");
    }
    let table = text(&run(&mut sandbox.cmd(&["status"])).stdout);
    let line = table.lines().find(|l| l.starts_with("paused ")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.starts_with("paused   after pass `optional` (20"), "{line}");
    assert!(line.ends_with("; resume runs pass `enforce` on node1, node2, node3"), "{line}");
    assert!(lock_is_free(sandbox));

    let out = run(sandbox.cmd(&["resume"]).env("RINGMASTER_TEST_CLOCK_OFFSET_MS", DAY_MS.to_string()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(sandbox.status_json()["state"], "finished");
    assert_no_phase_skipped(sandbox);
    let evs = events(&sandbox.journal());
    let paused = last_run_event(&evs, "paused");
    let resumed = last_run_event(&evs, "resumed");
    assert!(resumed.at - paused.at >= DAY_MS, "the journal shows a pause of a day: {} ms", resumed.at - paused.at);
    let first_enforce = evs.iter().find(|e| e.pass.as_deref() == Some("enforce")).unwrap();
    assert!(first_enforce.seq > resumed.seq, "the enforce pass began only after the resume");
    assert!(!run_event_names(&evs).contains(&"interrupted".to_string()));
    // The post-mortem shows the pause with its duration.
    let md = export(sandbox, "md");
    assert!(md.contains("paused after pass \\`optional\\` for 24 h 00 min"), "{md}");
    let html = export(sandbox, "html");
    assert!(html.contains("paused 24 h 00 min"), "the timeline's pause gap names its duration");
}

#[test]
fn pause_after_pass_then_resume_the_next_day() {
    if !crate::support::crash_hooks("pause_after_pass_then_resume_the_next_day (the test clock)") {
        return;
    }
    let sandbox = Sandbox::new(3, "0s");
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "--pause-after-pass", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("resume runs pass `enforce` on node1, node2, node3"), "{}", text(&out.stdout));
    assert_eq!(last_run_event(&events(&sandbox.journal()), "started").detail["pause_after_pass"], true);
    pause_after_optional_then_resume_next_day(&sandbox);
    assert_completed(&sandbox, &originals);
}

#[test]
fn a_pass_with_pause_after_in_the_workflow_pauses_the_run() {
    if !crate::support::crash_hooks("a_pass_with_pause_after_in_the_workflow_pauses_the_run (the test clock)") {
        return;
    }
    let sandbox = Sandbox::new(3, "0s");
    let workflow = sandbox.path().join("soak.toml");
    let builtin = ringmaster::workflow::BUILTIN_INTERNODE_TLS;
    let soaking = builtin.replacen("name = \"optional\"\n", "name = \"optional\"\npause_after = true\n", 1);
    assert_ne!(soaking, builtin);
    std::fs::write(&workflow, soaking).unwrap();
    let out = run(sandbox.cmd(&["run", "--yes", "--workflow"]).arg(&workflow).arg("-i").arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    pause_after_optional_then_resume_next_day(&sandbox);
}

#[test]
fn the_test_clock_is_compiled_only_into_test_builds() {
    let binary = std::fs::read(crate::support::bin()).unwrap();
    let named = binary.windows(31).any(|w| w == b"RINGMASTER_TEST_CLOCK_OFFSET_MS");
    assert_eq!(named, cfg!(feature = "test-crash-hooks"), "the binary names the clock variable only with test-crash-hooks");
}

#[test]
fn workflows_lists_the_shipped_workflows_with_their_descriptions() {
    let out = run(crate::support::ringmaster().arg("workflows"));
    assert_eq!(out.status.code(), Some(0));
    let listed = text(&out.stdout);
    let shipped = ringmaster::workflow::Workflow::builtin();
    assert!(listed.starts_with(&format!("internode-tls  {} (default)\n", shipped.description)), "{listed}");
    assert!(listed.contains("pass `optional`: TLS on, plaintext peers still accepted"), "{listed}");
    let out = run(crate::support::ringmaster().args(["workflows", "--json"]));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    let files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    let mut files = files;
    files.sort();
    assert_eq!(sorted, files, "every workflows/*.toml is shipped in the binary, and nothing else");
    assert_eq!(rows[0]["description"], shipped.description.as_str());
    assert_eq!(rows[0]["passes"][0]["pause_after"], false);
}

#[test]
fn workflow_takes_a_shipped_name_or_a_path_and_an_unknown_name_names_the_shipped_ones() {
    let sandbox = Sandbox::new(2, "0s");
    let plan = |workflow: &str| run(sandbox.cmd(&["plan", "--workflow", workflow, "-i"]).arg(sandbox.inventory()));
    let by_name = plan("internode-tls");
    assert_eq!(by_name.status.code(), Some(0), "a shipped name");
    let path = sandbox.path().join("mine.toml");
    std::fs::write(&path, ringmaster::workflow::BUILTIN_INTERNODE_TLS.replace("name = \"internode-tls\"", "name = \"mine\"")).unwrap();
    let by_path = plan(path.to_str().unwrap());
    assert_eq!(by_path.status.code(), Some(0), "a path");
    assert!(text(&by_path.stdout).contains("mine") || text(&by_path.stderr).contains("mine"));
    let unknown = plan("client-tsl");
    assert_eq!(unknown.status.code(), Some(2), "an unknown name is a usage error");
    let said = text(&unknown.stderr);
    assert!(said.contains("`client-tsl`") && said.contains("`internode-tls`") && said.contains("ringmaster workflows"), "{said}");
    let missing = plan("no/such/flow.toml");
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read workflow `no/such/flow.toml`"), "{}", text(&missing.stderr));
    // `run` takes the name too, and journals the workflow it named.
    let out = run(sandbox.cmd(&["run", "--yes", "--workflow", "internode-tls", "--stop-after", "1", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(last_run_event(&events(&sandbox.journal()), "started").detail["workflow"], "internode-tls");
}
