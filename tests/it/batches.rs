//! `run --batch rack|auto` on sandbox clusters with racks and keyspaces: a rack at a time
//! when NetworkTopologyStrategy RF 3 proves it safe, a refusal that names the range when a
//! SimpleStrategy keyspace makes it unsafe, `auto` batches that are all provably safe, a
//! failure inside a batch, and a resumed batched run.

use std::collections::BTreeMap;

use crate::support::journal::{events, has, wait_for};
use crate::support::run;
use crate::support::sandbox::{Sandbox, assert_completed, assert_no_phase_skipped};
use ringmaster::journal::{Event, EventKind};
use ringmaster::topology::{Topology, check_batch};

/// 3 racks, system keyspaces altered the way production clusters run them (NTS RF 3 in the
/// DC), as an operator does before batching; `extra` adds sandbox init arguments.
fn racked(nodes: usize, start_delay: &str, extra: &[&str]) -> Sandbox {
    let mut args = vec!["--racks".to_string(), "3".to_string()];
    for ks in ["app", "system_auth", "system_distributed", "system_traces"] {
        args.push("--keyspace".into());
        args.push(format!("{ks}:NetworkTopologyStrategy:datacenter1=3"));
    }
    args.extend(extra.iter().map(|e| (*e).to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Sandbox::with_args(nodes, start_delay, &args)
}

fn run_event<'e>(evs: &'e [Event], name: &str) -> &'e Event {
    evs.iter().find(|e| e.node.is_none() && e.detail["event"] == name).unwrap_or_else(|| panic!("no `{name}` event"))
}

/// The journaled batches, by node name.
fn batches(evs: &[Event]) -> Vec<Vec<String>> {
    run_event(evs, "batches").detail["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["nodes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .collect()
}

fn topology(evs: &[Event]) -> Topology {
    serde_json::from_value(run_event(evs, "topology").detail["topology"].clone()).expect("journaled topology")
}

/// node name -> address, from the sandbox inventory.
fn addresses(sandbox: &Sandbox) -> BTreeMap<String, String> {
    let inv = ringmaster::inventory::Inventory::load(&sandbox.inventory()).unwrap();
    inv.nodes.iter().map(|n| (n.name.clone(), n.address.clone())).collect()
}

fn seq_of(evs: &[Event], node: &str, pass: &str, phase: &str, kind: EventKind) -> Option<i64> {
    evs.iter()
        .find(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass) && e.phase == phase && e.kind == kind)
        .map(|e| e.seq)
}

#[test]
fn rack_mode_restarts_one_rack_at_a_time_and_every_batch_is_proven_safe() {
    let sandbox = racked(12, "1s", &[]);
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "--batch", "rack", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("batches (`--batch rack`): 3 per pass"), "the plan shows the batches: {stderr}");
    assert_completed(&sandbox, &originals);
    let evs = events(&sandbox.journal());
    let topo = topology(&evs);
    let addr = addresses(&sandbox);
    let list = batches(&evs);
    assert_eq!(list.len(), 3, "{list:?}");
    for batch in &list {
        assert_eq!(batch.len(), 4, "{list:?}");
        let racks: std::collections::BTreeSet<_> = batch.iter().map(|n| topo.placement(&addr[n]).unwrap().rack.clone()).collect();
        assert_eq!(racks.len(), 1, "a batch is one rack: {batch:?} {racks:?}");
        let members: Vec<String> = batch.iter().map(|n| addr[n].clone()).collect();
        check_batch(&topo, &members).expect("every rack is provably safe");
    }
    for pass in ["optional", "enforce"] {
        for (k, batch) in list.iter().enumerate() {
            // The nodes of a batch restart together: every restart of the batch is done
            // before the first of them is back UN (each is down for 1 s).
            let last_restart = batch.iter().map(|n| seq_of(&evs, n, pass, "restart", EventKind::Ok).unwrap()).max().unwrap();
            let first_un = batch.iter().map(|n| seq_of(&evs, n, pass, "await_un", EventKind::Ok).unwrap()).min().unwrap();
            assert!(last_restart < first_un, "{pass} batch {k}: restarts {last_restart} before first UN {first_un}");
            // ... and the next batch starts only after every node of this one verified.
            let done = batch.iter().map(|n| seq_of(&evs, n, pass, "verify_log", EventKind::Ok).unwrap()).max().unwrap();
            if let Some(next) = list.get(k + 1) {
                let next_start = next.iter().map(|n| seq_of(&evs, n, pass, "pending", EventKind::Ok).unwrap()).min().unwrap();
                assert!(done < next_start, "{pass}: batch {} starts after batch {k} is verified", k + 1);
            }
        }
    }
}

#[test]
fn simple_strategy_makes_rack_unsafe_and_auto_builds_only_safe_batches() {
    // Two vnodes per node: with 16, SimpleStrategy RF 3 makes nearly every pair of nodes
    // share a range, and `auto` rightly falls back to one node at a time.
    let sandbox = racked(12, "0s", &["--tokens", "2", "--keyspace", "legacy:SimpleStrategy:3"]);
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "--batch", "rack", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(3), "refused as a preflight blocker");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not provably safe") && stderr.contains("`legacy`"), "names the keyspace: {stderr}");
    assert!(stderr.contains("--batch auto"), "says what to do: {stderr}");
    assert_eq!(sandbox.read_configs(), originals, "nothing was touched");
    assert!(!sandbox.journal().exists() || events(&sandbox.journal()).iter().all(|e| e.node.is_none()));

    let out = run(sandbox.cmd(&["run", "--yes", "--batch", "auto", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
    let evs = events(&sandbox.journal());
    let topo = topology(&evs);
    assert!(topo.keyspaces.iter().any(|k| k.keyspace == "legacy" && k.class.ends_with("SimpleStrategy")));
    let addr = addresses(&sandbox);
    let list = batches(&evs);
    // Rack-mates never share an NTS range (one replica per rack); with two tokens each, all
    // six pairs of a rack's four nodes are SimpleStrategy neighbours with a chance of about
    // 2%, in all three racks about 1e-5, so some batch holds two nodes; none holds a rack.
    assert!(list.iter().any(|b| b.len() > 1), "auto found a multi-node batch: {list:?}");
    assert!(list.len() > 3, "smaller batches than racks: {list:?}");
    let mut seen: Vec<String> = list.iter().flatten().cloned().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12, "every node in exactly one batch");
    for batch in &list {
        let members: Vec<String> = batch.iter().map(|n| addr[n].clone()).collect();
        check_batch(&topo, &members).unwrap_or_else(|u| panic!("auto built an unsafe batch: {u}"));
    }
}

#[test]
fn a_failure_in_a_batch_rolls_that_node_back_lets_the_batch_finish_and_starts_no_more() {
    let sandbox = racked(12, "1s", &[]);
    let plan = run(sandbox.cmd(&["plan", "--json", "--batch", "rack", "-i"]).arg(sandbox.inventory()));
    assert!(plan.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let list: Vec<Vec<String>> = doc["batches"]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["nodes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .collect();
    assert_eq!(list.len(), 3);
    let (first, second, third) = (&list[0], &list[1], &list[2]);
    let victim = second[1].clone();
    let mut child = sandbox
        .cmd(&["run", "--yes", "--batch", "rack", "-i"])
        .arg(sandbox.inventory())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the first batch restarts, the victim's keystore stops opening.
    wait_for(&sandbox.journal(), "first batch restart", std::time::Duration::from_secs(120), |evs| {
        has(evs, &first[0], "optional", "restart", EventKind::Enter)
    });
    let keystore = sandbox.keystore(&victim);
    std::fs::write(&keystore, b"not a keystore").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let evs = events(&sandbox.journal());
    let state = sandbox.status_json();
    let pass_state = |node: &str| {
        state["nodes"].as_array().unwrap().iter().find(|n| n["node"] == node).map(|n| n["passes"]["optional"].clone()).unwrap()
    };
    assert_eq!(pass_state(&victim), "rolled_back", "{state:#}");
    for n in second.iter().filter(|n| **n != victim) {
        assert_eq!(pass_state(n), "done", "{n}, restarted with the victim, finished: {state:#}");
    }
    for n in third {
        assert!(!evs.iter().any(|e| e.node.as_deref() == Some(n.as_str())), "{n} in the next batch was never touched");
        assert!(!sandbox.backup(n).exists());
    }
}

#[test]
fn a_batched_run_killed_mid_batch_resumes_with_the_same_batches() {
    if !crate::support::crash_hooks("a_batched_run_killed_mid_batch_resumes_with_the_same_batches") {
        return;
    }
    let sandbox = racked(12, "0s", &[]);
    let originals = sandbox.read_configs();
    let plan = run(sandbox.cmd(&["plan", "--json", "--batch", "rack", "-i"]).arg(sandbox.inventory()));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let second = doc["batches"]["batches"][1]["nodes"][2].as_str().unwrap().to_string();
    let label = format!("after journaling {second} optional restart enter");
    let out = run(sandbox.cmd(&["run", "--yes", "--batch", "rack", "-i"]).arg(sandbox.inventory()).env("RINGMASTER_TEST_CRASH_AT", &label));
    assert_eq!(out.status.code(), None, "killed at `{label}`");
    let before = batches(&events(&sandbox.journal()));
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
    let evs = events(&sandbox.journal());
    assert_eq!(batches(&evs), before);
    assert_eq!(evs.iter().filter(|e| e.node.is_none() && e.detail["event"] == "batches").count(), 1, "planned once");
    assert_no_phase_skipped(&sandbox);
}

#[test]
fn fallback_splits_an_unsafe_rack_into_safe_batches_of_that_rack() {
    let sandbox = racked(12, "0s", &["--tokens", "2", "--keyspace", "legacy:SimpleStrategy:3"]);
    let refused = run(sandbox.cmd(&["plan", "--json", "--batch", "rack", "-i"]).arg(sandbox.inventory()));
    assert_eq!(refused.status.code(), Some(3), "without --fallback an unsafe rack is refused");
    let out = run(sandbox.cmd(&["plan", "--json", "--batch", "rack", "--fallback", "-i"]).arg(sandbox.inventory()));
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["batches"]["fallback"], true);
    let addr = addresses(&sandbox);
    // The topology the plan was made on, to check its batches independently.
    let topo: Topology = serde_json::from_value(doc["topology"].clone()).expect("plan --json shows the topology");
    let mut seen = 0;
    for b in doc["batches"]["batches"].as_array().unwrap() {
        let names: Vec<String> = b["nodes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
        seen += names.len();
        let racks: std::collections::BTreeSet<_> = names.iter().map(|n| topo.placement(&addr[n]).unwrap().rack.clone()).collect();
        assert_eq!(racks.len(), 1, "a split rack stays within its rack: {names:?}");
        let members: Vec<String> = names.iter().map(|n| addr[n].clone()).collect();
        check_batch(&topo, &members).unwrap_or_else(|u| panic!("unsafe batch after fallback: {u}"));
    }
    assert_eq!(seen, 12);
}

#[test]
fn stop_after_with_batches_counts_batches_and_resume_walks_the_same_ones() {
    let sandbox = racked(6, "0s", &[]);
    let originals = sandbox.read_configs();
    let out = run(sandbox.cmd(&["run", "--yes", "--batch", "rack", "--stop-after", "1", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let evs = events(&sandbox.journal());
    let list = batches(&evs);
    assert_eq!(list.len(), 3, "{list:?}");
    let paused = run_event(&evs, "paused");
    let done: Vec<String> = evs
        .iter()
        .filter(|e| e.seq < paused.seq && e.phase == "verify_log" && e.kind == EventKind::Ok)
        .map(|e| e.node.clone().unwrap())
        .collect();
    let mut first = list[0].clone();
    first.sort();
    let mut done_sorted = done.clone();
    done_sorted.sort();
    assert_eq!(done_sorted, first, "exactly the first batch (one rack) completed before the pause");
    let status = sandbox.status_json();
    assert_eq!(status["state"], "paused");
    assert_eq!(status["paused"]["next"]["batch"], serde_json::json!(list[1]), "resume starts with the second batch");
    assert_eq!(status["paused"]["next"]["batch_number"], 2);
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    assert_completed(&sandbox, &originals);
    assert_no_phase_skipped(&sandbox);
    assert_eq!(batches(&events(&sandbox.journal())), list, "the same batches after the pause");
}
