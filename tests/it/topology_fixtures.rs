//! `nodetool describecluster` / `describering` fixtures (tests/data/topology) through the
//! parsers, and the planner on the topology they describe: NTS 3+3 over three racks plans
//! rack by rack, a SimpleStrategy keyspace makes racks unsafe and `auto` splits them.

use ringmaster::cassandra::ring::{ClusterDescription, RingError, TokenRange, parse_describecluster, parse_describering};
use ringmaster::topology::{Batch, BatchMode, KeyspaceRing, Placement, PlanError, PlanOptions, Topology, check_batch, plan_batches};
use std::collections::{BTreeSet, HashMap};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/topology/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ring(name: &str) -> Vec<TokenRange> {
    parse_describering(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every range's end is exactly one other range's start: the ranges close the ring.
fn assert_ring_closes(ranges: &[TokenRange]) {
    let starts: BTreeSet<&str> = ranges.iter().map(|r| r.start.as_str()).collect();
    let ends: BTreeSet<&str> = ranges.iter().map(|r| r.end.as_str()).collect();
    assert_eq!(starts.len(), ranges.len(), "duplicate start tokens");
    assert_eq!(starts, ends);
}

#[test]
fn describecluster_1dc_reads_name_schema_and_every_keyspace() {
    let cluster = parse_describecluster(&fixture("describecluster-5.0-1dc-3nodes.txt")).unwrap();
    assert_eq!(cluster.name, "Test Cluster");
    assert_eq!(cluster.schema_versions, ["b5c4b0de-0a4d-3e2b-9c5f-6f0d1c7e8a21"]);
    assert!(cluster.schema_agreed());
    let names: Vec<&str> = cluster.keyspaces.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["system_auth", "system_schema", "app", "system_distributed", "system", "system_traces"]);
    let local: Vec<&str> = cluster.keyspaces.iter().filter(|k| k.is_local()).map(|k| k.name.as_str()).collect();
    assert_eq!(local, ["system_schema", "system"]);
    let app = cluster.keyspace("app").unwrap();
    assert_eq!(app.class, "NetworkTopologyStrategy");
    assert_eq!(app.options.get("datacenter1").map(String::as_str), Some("3"));
    let traces = cluster.keyspace("system_traces").unwrap();
    assert_eq!((traces.class.as_str(), traces.options.get("replication_factor").map(String::as_str)), ("SimpleStrategy", Some("2")));
}

#[test]
fn describecluster_2dc_tolerates_the_effective_ownership_note() {
    let cluster = parse_describecluster(&fixture("describecluster-5.0-2dc-3racks.txt")).unwrap();
    assert_eq!(cluster.name, "Prod Cluster");
    assert_eq!(cluster.keyspaces.len(), 7);
    let app = cluster.keyspace("app").unwrap();
    assert_eq!(app.options.keys().collect::<Vec<_>>(), ["dc1", "dc2"]);
    assert_eq!(cluster.keyspace("legacy").unwrap().class, "SimpleStrategy");
}

#[test]
fn describecluster_disagreement_and_unreachable_are_visible() {
    let text = fixture("describecluster-5.0-1dc-3nodes.txt").replace(
        "\t\tb5c4b0de-0a4d-3e2b-9c5f-6f0d1c7e8a21: [127.0.0.1, 127.0.0.2, 127.0.0.3]\n",
        "\t\tb5c4b0de-0a4d-3e2b-9c5f-6f0d1c7e8a21: [127.0.0.1, 127.0.0.2]\n\n\t\tUNREACHABLE: [127.0.0.3]\n",
    );
    let cluster = parse_describecluster(&text).unwrap();
    assert_eq!(cluster.schema_versions, ["b5c4b0de-0a4d-3e2b-9c5f-6f0d1c7e8a21", "UNREACHABLE"]);
    assert!(!cluster.schema_agreed());
}

#[test]
fn describecluster_truncated_or_failed_is_an_error() {
    let full = fixture("describecluster-5.0-1dc-3nodes.txt");
    let cut = &full[..full.find("Keyspaces:").unwrap()];
    assert!(matches!(parse_describecluster(cut), Err(RingError::Missing { what: "`Keyspaces:` section", .. })));
    let refused = "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.\n";
    assert!(matches!(parse_describecluster(refused), Err(RingError::NodetoolFailed { line_no: 1, .. })));
    assert!(matches!(parse_describecluster(" \n"), Err(RingError::Empty { .. })));
    let garbled = full.replace("\tapp -> Replication class: ", "\tapp -> Replication: ");
    let err = parse_describecluster(&garbled).unwrap_err();
    let line_no = full.lines().position(|l| l.starts_with("\tapp ->")).unwrap() + 1;
    assert!(matches!(&err, RingError::Line { line_no: n, .. } if *n == line_no), "{err}");
    assert!(err.to_string().contains(&format!("line {line_no}")), "{err}");
}

#[test]
fn describering_1dc_has_48_ranges_of_all_three_nodes() {
    let ranges = ring("describering-5.0-1dc-3nodes-app.txt");
    assert_eq!(ranges.len(), 48);
    assert_ring_closes(&ranges);
    for range in &ranges {
        let hosts: BTreeSet<&str> = range.endpoints.iter().map(|e| e.address.as_str()).collect();
        assert_eq!(hosts, BTreeSet::from(["127.0.0.1", "127.0.0.2", "127.0.0.3"]));
        assert!(range.endpoints.iter().all(|e| e.datacenter == "datacenter1" && e.rack == "rack1"));
    }
}

#[test]
fn describering_2dc_nts_puts_one_replica_per_rack_per_dc() {
    let ranges = ring("describering-5.0-2dc-3racks-app.txt");
    assert_eq!(ranges.len(), 48);
    assert_ring_closes(&ranges);
    for range in &ranges {
        for dc in ["dc1", "dc2"] {
            let racks: BTreeSet<&str> = range.endpoints.iter().filter(|e| e.datacenter == dc).map(|e| e.rack.as_str()).collect();
            assert_eq!(racks, BTreeSet::from(["rack1", "rack2", "rack3"]), "{range:?}");
        }
    }
}

#[test]
fn describering_with_ports_and_ipv6_keeps_bare_addresses() {
    let ranges = ring("describering-5.0-pp-ipv6-app.txt");
    assert_eq!(ranges.len(), 6);
    let hosts: BTreeSet<&str> = ranges.iter().flat_map(|r| r.endpoints.iter().map(|e| e.address.as_str())).collect();
    assert_eq!(hosts, BTreeSet::from(["2001:db8:0:0:0:0:0:11", "2001:db8:0:0:0:0:0:12", "2001:db8:0:0:0:0:0:13"]));
}

#[test]
fn describering_failures_name_nodetools_line() {
    for (name, message) in [
        ("describering-5.0-no-such-keyspace.txt", "error: No such keyspace: nope"),
        ("describering-5.0-local-keyspace.txt", "error: There is no ring for the keyspace: system"),
    ] {
        match parse_describering(&fixture(name)) {
            Err(RingError::NodetoolFailed { line_no: 3, line, .. }) => assert_eq!(line, message),
            other => panic!("{name}: {other:?}"),
        }
    }
    // stdout alone (stderr lost): the two headers and no range is still refused.
    let stdout = "Schema Version:b5c4b0de-0a4d-3e2b-9c5f-6f0d1c7e8a21\nTokenRange: \n";
    assert!(matches!(parse_describering(stdout), Err(RingError::Missing { what: "token range", .. })));
    assert!(matches!(parse_describering(""), Err(RingError::Empty { .. })));
}

#[test]
fn describering_garbled_range_is_an_error_naming_its_line() {
    let full = fixture("describering-5.0-2dc-3racks-app.txt");
    let mut lines: Vec<String> = full.lines().map(str::to_owned).collect();
    // Line 17: cut in the middle of the endpoint details (a truncated read).
    let cut = lines[16].find("EndpointDetails(host:10.0.2").unwrap();
    lines[16].truncate(cut + 10);
    let err = parse_describering(&lines.join("\n")).unwrap_err();
    assert!(matches!(err, RingError::Line { line_no: 17, .. }), "{err}");
    assert!(err.to_string().starts_with("`nodetool describering` output, line 17: "), "{err}");
    // A foreign line among the ranges is not skipped either.
    lines[16] = "\tWARN  Unexpected JMX notification".into();
    assert!(matches!(parse_describering(&lines.join("\n")), Err(RingError::Line { line_no: 17, .. })));
}

/// The 2-DC cluster as preflight would assemble it from the fixtures.
fn two_dc_topology(with_legacy: bool) -> (Topology, Vec<String>) {
    let cluster: ClusterDescription = parse_describecluster(&fixture("describecluster-5.0-2dc-3racks.txt")).unwrap();
    let mut rings: HashMap<&str, Vec<TokenRange>> =
        HashMap::from([("app", ring("describering-5.0-2dc-3racks-app.txt")), ("legacy", ring("describering-5.0-2dc-3racks-legacy.txt"))]);
    let keyspaces: Vec<KeyspaceRing> = cluster
        .keyspaces
        .iter()
        .filter(|k| with_legacy || k.name != "legacy")
        .filter_map(|k| Some(KeyspaceRing::new(k, rings.remove(k.name.as_str())?)))
        .collect();
    let mut nodes: Vec<Placement> = Vec::new();
    for replica in keyspaces.iter().flat_map(|k| &k.ranges).flat_map(|r| &r.endpoints) {
        if !nodes.iter().any(|p| p.address == replica.address) {
            nodes.push(Placement { address: replica.address.clone(), datacenter: replica.datacenter.clone(), rack: replica.rack.clone() });
        }
    }
    nodes.sort_by_key(|p| (p.datacenter.clone(), p.address.clone()));
    let order = nodes.iter().map(|p| p.address.clone()).collect();
    (Topology { nodes, keyspaces }, order)
}

fn options(mode: BatchMode) -> PlanOptions {
    PlanOptions { mode, ..PlanOptions::default() }
}

#[test]
fn fixture_cluster_restarts_rack_by_rack_and_in_parallel_across_dcs() {
    let (topology, order) = two_dc_topology(false);
    let racks = plan_batches(&topology, &order, &options(BatchMode::Rack)).unwrap();
    let shape: Vec<Vec<&str>> = racks.iter().map(|b| b.nodes.iter().map(String::as_str).collect()).collect();
    assert_eq!(
        shape,
        [
            ["10.0.1.1", "10.0.1.4"],
            ["10.0.1.2", "10.0.1.5"],
            ["10.0.1.3", "10.0.1.6"],
            ["10.0.2.1", "10.0.2.4"],
            ["10.0.2.2", "10.0.2.5"],
            ["10.0.2.3", "10.0.2.6"],
        ]
    );
    // Auto proves the same racks safe on its own.
    let auto = plan_batches(&topology, &order, &options(BatchMode::Auto)).unwrap();
    let nodes_of = |plan: &[Batch]| plan.iter().map(|b| b.nodes.clone()).collect::<Vec<_>>();
    assert_eq!(nodes_of(&auto), nodes_of(&racks));
    for mode in [BatchMode::Rack, BatchMode::Auto] {
        let parallel = PlanOptions { dc_parallel: true, ..options(mode) };
        let batches = plan_batches(&topology, &order, &parallel).unwrap();
        assert_eq!(batches.len(), 3, "{mode:?}: {batches:?}");
        for b in &batches {
            assert_eq!(b.nodes.len(), 4);
            check_batch(&topology, &b.nodes).unwrap();
        }
    }
}

#[test]
fn fixture_cluster_with_simple_strategy_refuses_racks_and_auto_stays_safe() {
    let (topology, order) = two_dc_topology(true);
    let err = plan_batches(&topology, &order, &options(BatchMode::Rack)).unwrap_err();
    let PlanError::Unsafe(unsafe_) = &err else { panic!("{err}") };
    assert_eq!(unsafe_.keyspace, "legacy");
    assert!(unsafe_.replicas_in_batch.len() > unsafe_.allowed, "{err}");
    let auto = plan_batches(&topology, &order, &options(BatchMode::Auto)).unwrap();
    assert!(auto.len() > 6);
    assert_eq!(auto.iter().map(|b| b.nodes.len()).sum::<usize>(), 12);
    for b in auto.iter().filter(|b| b.nodes.len() > 1) {
        check_batch(&topology, &b.nodes).unwrap();
    }
}
