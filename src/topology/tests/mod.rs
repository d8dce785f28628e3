//! Scenario tests of the planner on rings built by the reference placement.

mod reference;

use super::*;
pub(super) use crate::cassandra::ring::{Replica, TokenRange};
use reference::{Strategy, layout, place, random_tokens};
use std::collections::HashSet;

fn ring(keyspace: &str, nodes: &[Placement], strategy: Strategy, seed: u64, vnodes: usize) -> KeyspaceRing {
    let tokens = random_tokens(nodes.len(), vnodes, seed);
    let (class, options) = match &strategy {
        Strategy::Simple(rf) => ("SimpleStrategy", [("replication_factor".to_owned(), rf.to_string())].into()),
        Strategy::Nts(dcs) => ("NetworkTopologyStrategy", dcs.iter().map(|(dc, rf)| (dc.clone(), rf.to_string())).collect()),
    };
    KeyspaceRing { keyspace: keyspace.into(), class: class.into(), options, ranges: place(nodes, &tokens, &strategy) }
}

fn nts(dcs: &[(&str, usize)]) -> Strategy {
    Strategy::Nts(dcs.iter().map(|(d, r)| (d.to_string(), *r)).collect())
}

fn order(nodes: &[Placement]) -> Vec<String> {
    nodes.iter().map(|p| p.address.clone()).collect()
}

fn opts(mode: BatchMode) -> PlanOptions {
    PlanOptions { mode, ..PlanOptions::default() }
}

/// 3 racks x 4 nodes, one DC, with the given keyspaces.
fn three_racks(keyspaces: Vec<KeyspaceRing>) -> Topology {
    Topology { nodes: layout(1, 3, 12), keyspaces }
}

fn rack_of(topology: &Topology, address: &str) -> String {
    topology.placement(address).unwrap().rack.clone()
}

/// Three safe batches of 4 nodes, batch k holding exactly the nodes of rack `r{k+1}`.
fn assert_rack_k_batches(topology: &Topology, batches: &[Batch]) {
    assert_eq!(batches.len(), 3, "{batches:?}");
    for (k, batch) in batches.iter().enumerate() {
        assert_eq!(batch.nodes.len(), 4);
        let rack = format!("r{}", k + 1);
        assert!(batch.nodes.iter().all(|a| rack_of(topology, a) == rack), "{batch:?}");
        check_batch(topology, &batch.nodes).unwrap();
    }
}

#[test]
fn allowed_in_batch_keeps_local_quorum() {
    let allowed: Vec<usize> = (0..=7).map(allowed_in_batch).collect();
    assert_eq!(allowed, [0, 0, 0, 1, 1, 2, 2, 3]);
}

#[test]
fn nts_rf3_over_three_racks_restarts_rack_by_rack() {
    let nodes = layout(1, 3, 12);
    let topology = three_racks(vec![ring("app", &nodes, nts(&[("dc1", 3)]), 7, 16)]);
    let batches = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Rack)).unwrap();
    assert_rack_k_batches(&topology, &batches);
    for (k, batch) in batches.iter().enumerate() {
        assert!(batch.why.contains(&format!("rack dc1/r{}", k + 1)), "{}", batch.why);
        assert!(batch.why.contains("`app` (NetworkTopologyStrategy dc1=3) has at most 1 of its 3 `dc1` replicas"), "{}", batch.why);
    }
    // Auto finds the same racks on this layout.
    let auto = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Auto)).unwrap();
    let nodes_of = |plan: &[Batch]| plan.iter().map(|b| b.nodes.clone()).collect::<Vec<_>>();
    assert_eq!(nodes_of(&auto), nodes_of(&batches));
}

#[test]
fn simple_rf3_makes_rack_unsafe_and_auto_finds_smaller_safe_batches() {
    let nodes = layout(1, 3, 12);
    // num_tokens 4: with 16 every pair of 12 nodes shares a SimpleStrategy range.
    let topology = three_racks(vec![ring("app", &nodes, nts(&[("dc1", 3)]), 7, 4), ring("legacy", &nodes, Strategy::Simple(3), 7, 4)]);
    let err = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Rack)).unwrap_err();
    let PlanError::Unsafe(unsafe_) = &err else { panic!("expected Unsafe, got {err}") };
    assert_eq!(unsafe_.keyspace, "legacy");
    assert_eq!((unsafe_.rf, unsafe_.allowed), (3, 1));
    assert!(unsafe_.replicas_in_batch.len() >= 2);
    assert!(unsafe_.replicas_in_batch.iter().all(|a| unsafe_.batch.contains(a)));
    // The named range really has those replicas.
    let legacy = &topology.keyspaces[1];
    let range = legacy.ranges.iter().find(|r| (r.start.clone(), r.end.clone()) == unsafe_.range).unwrap();
    assert!(unsafe_.replicas_in_batch.iter().all(|a| range.endpoints.iter().any(|e| &e.address == a)));
    let text = err.to_string();
    assert!(text.contains("keyspace `legacy`") && text.contains("RF 3 in `dc1` allows 1"), "{text}");

    let auto = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Auto)).unwrap();
    assert!(auto.len() > 3, "{auto:?}");
    let mut all: Vec<String> = auto.iter().flat_map(|b| b.nodes.clone()).collect();
    all.sort();
    let mut expected = order(&nodes);
    expected.sort();
    assert_eq!(all, expected);
    for batch in &auto {
        check_batch(&topology, &batch.nodes).unwrap();
    }
    assert!(auto.iter().any(|b| b.nodes.len() > 1), "{auto:?}");
}

#[test]
fn rack_fallback_splits_only_the_unsafe_racks_and_says_why() {
    let nodes = layout(1, 3, 12);
    let topology = three_racks(vec![ring("legacy", &nodes, Strategy::Simple(3), 7, 4)]);
    let plan = PlanOptions { fallback: true, ..opts(BatchMode::Rack) };
    let batches = plan_batches(&topology, &order(&nodes), &plan).unwrap();
    assert!(batches.len() > 3);
    for batch in &batches {
        if batch.nodes.len() > 1 {
            check_batch(&topology, &batch.nodes).unwrap();
        }
        let racks: HashSet<String> = batch.nodes.iter().map(|a| rack_of(&topology, a)).collect();
        assert_eq!(racks.len(), 1, "a split rack batch stays inside its rack: {batch:?}");
    }
    assert!(batches.iter().any(|b| b.why.starts_with("split from rack dc1/")), "{batches:?}");
}

#[test]
fn node_mode_notes_keyspaces_a_single_restart_already_degrades() {
    let nodes = layout(1, 3, 6);
    let topology = Topology {
        nodes: nodes.clone(),
        keyspaces: vec![ring("app", &nodes, nts(&[("dc1", 3)]), 3, 4), ring("thin", &nodes, Strategy::Simple(2), 3, 4)],
    };
    let batches = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Node)).unwrap();
    assert_eq!(batches.iter().map(|b| b.nodes.clone()).collect::<Vec<_>>(), order(&nodes).into_iter().map(|a| vec![a]).collect::<Vec<_>>());
    for b in &batches {
        assert!(b.why.contains("always allowed"), "{}", b.why);
        assert!(b.why.contains("below LOCAL_QUORUM for `thin` (RF 2 in `dc1`)"), "{}", b.why);
        assert!(!b.why.contains("`app`"), "{}", b.why);
    }
    // Auto cannot put any of them together: every node holds RF 2 ranges.
    let auto = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Auto)).unwrap();
    assert!(auto.iter().all(|b| b.nodes.len() == 1));
}

#[test]
fn local_keyspaces_are_never_counted() {
    let nodes = layout(1, 3, 6);
    let mut local = ring("system", &nodes, Strategy::Simple(1), 5, 4);
    local.class = "LocalStrategy".into();
    local.options.clear();
    let topology = Topology { nodes: nodes.clone(), keyspaces: vec![local] };
    check_batch(&topology, &order(&nodes)).unwrap();
    let auto = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Auto)).unwrap();
    assert_eq!(auto.len(), 1);
    assert!(auto[0].why.contains("no replicated keyspace"), "{}", auto[0].why);
}

#[test]
fn max_batch_caps_rack_and_auto_batches() {
    let nodes = layout(1, 3, 12);
    let topology = three_racks(vec![ring("app", &nodes, nts(&[("dc1", 3)]), 7, 16)]);
    for mode in [BatchMode::Rack, BatchMode::Auto] {
        let plan = PlanOptions { max_batch: Some(3), ..opts(mode) };
        let batches = plan_batches(&topology, &order(&nodes), &plan).unwrap();
        let sizes: Vec<usize> = batches.iter().map(|b| b.nodes.len()).collect();
        // Rack: each rack of 4 split in order; auto: first fit fills three rack batches to
        // the cap, and the leftover node of each rack conflicts with the other racks.
        let expected = match mode {
            BatchMode::Rack => [3, 1, 3, 1, 3, 1],
            _ => [3, 3, 3, 1, 1, 1],
        };
        assert_eq!(sizes, expected, "{mode:?}");
    }
    let zero = PlanOptions { max_batch: Some(0), ..opts(BatchMode::Auto) };
    assert_eq!(plan_batches(&topology, &order(&nodes), &zero), Err(PlanError::ZeroMaxBatch));
}

#[test]
fn dc_parallel_pairs_rack_k_of_every_datacenter() {
    let nodes = layout(2, 3, 6);
    let strategy = nts(&[("dc1", 3), ("dc2", 3)]);
    let topology = Topology { nodes: nodes.clone(), keyspaces: vec![ring("app", &nodes, strategy, 11, 8)] };
    let serial = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Rack)).unwrap();
    assert_eq!(serial.len(), 6);
    let parallel = PlanOptions { dc_parallel: true, ..opts(BatchMode::Rack) };
    let batches = plan_batches(&topology, &order(&nodes), &parallel).unwrap();
    assert_rack_k_batches(&topology, &batches);
    for (k, batch) in batches.iter().enumerate() {
        assert!(batch.why.starts_with(&format!("racks dc1/r{0} + dc2/r{0}: 4 nodes across dc1, dc2", k + 1)), "{}", batch.why);
    }
    let auto = plan_batches(&topology, &order(&nodes), &PlanOptions { dc_parallel: true, ..opts(BatchMode::Auto) }).unwrap();
    assert_eq!(auto.len(), 3, "{auto:?}");
    let auto_serial = plan_batches(&topology, &order(&nodes), &opts(BatchMode::Auto)).unwrap();
    assert_eq!(auto_serial.len(), 6, "{auto_serial:?}");
}

#[test]
fn unknown_and_duplicate_nodes_are_refused() {
    let nodes = layout(1, 3, 6);
    let topology = Topology { nodes: nodes.clone(), keyspaces: vec![ring("app", &nodes, nts(&[("dc1", 3)]), 1, 4)] };
    let mut unknown = order(&nodes);
    unknown.push("10.9.9.9".into());
    assert_eq!(plan_batches(&topology, &unknown, &opts(BatchMode::Node)), Err(PlanError::UnknownNode("10.9.9.9".into())));
    let mut twice = order(&nodes);
    twice.push(twice[0].clone());
    assert_eq!(plan_batches(&topology, &twice, &opts(BatchMode::Auto)), Err(PlanError::DuplicateNode(twice[0].clone())));
}

#[test]
fn plans_300_nodes_with_16_vnodes_and_several_keyspaces() {
    // NTS only: SimpleStrategy over two DCs leaves RF_dc 1 or 2 and forbids any batch.
    let nodes = layout(2, 3, 150);
    let keyspaces = vec![
        ring("app", &nodes, nts(&[("dc1", 3), ("dc2", 3)]), 21, 16),
        ring("events", &nodes, nts(&[("dc1", 5), ("dc2", 3)]), 21, 16),
        ring("users", &nodes, nts(&[("dc1", 3), ("dc2", 5)]), 21, 16),
    ];
    let topology = Topology { nodes: nodes.clone(), keyspaces };
    for mode in [BatchMode::Auto, BatchMode::Rack] {
        let plan = PlanOptions { fallback: true, ..opts(mode) };
        let batches = plan_batches(&topology, &order(&nodes), &plan).unwrap();
        assert_eq!(batches.iter().map(|b| b.nodes.len()).sum::<usize>(), 300);
        assert!(batches.len() < 300, "{mode:?} found no batch bigger than one node");
        for batch in batches.iter().filter(|b| b.nodes.len() > 1) {
            check_batch(&topology, &batch.nodes).unwrap();
        }
    }
}

#[test]
fn replicas_the_node_list_does_not_know_are_refused() {
    let nodes = layout(1, 3, 6);
    let mut topology = Topology { nodes: nodes.clone(), keyspaces: vec![ring("app", &nodes, nts(&[("dc1", 3)]), 1, 4)] };
    // `nodetool status -r` printed host names while describering printed addresses.
    topology.nodes[2].address = "cass-3.example".into();
    let mut order = order(&nodes);
    order[2] = "cass-3.example".into();
    let err = plan_batches(&topology, &order, &opts(BatchMode::Auto)).unwrap_err();
    assert_eq!(err, PlanError::UnknownReplica { keyspace: "app".into(), address: nodes[2].address.clone() });
}
